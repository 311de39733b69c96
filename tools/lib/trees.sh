# shellcheck shell=bash
# Trees under the cache, their worktrees and their lock; nested
# subcommands; git am of a series.
# Sets for others: WT (worktree_at), COMMITS (commits_with_test),
# VMALOCK_LOCK_HELD (exported by lock_tree, for nested runs).
# Sourced by tools/lib/common.sh only.

# tree_dir: the directory under which the tree of the current options is cached.
# With --tree, a user tree is keyed by its path; otherwise by kernel version.
tree_dir() {
	if [ -n "${OPT_TREE:-}" ]; then
		printf '%s/trees/user-%s\n' "$VMALOCK_CACHE" \
			"$(printf '%s' "$OPT_TREE" | sha256sum | cut -c1-12)"
	else
		printf '%s/trees/%s\n' "$VMALOCK_CACHE" "$OPT_KERNEL"
	fi
}

# lock_tree: hold the lock of the tree of the current options (and so of
# its worktrees and build directories) until the tool exits; nested runs
# inherit it. Waits for another run with a message, or with
# VMALOCK_NO_WAIT=1 refuses.
lock_tree() {
	local name fd
	name=$(basename "$(tree_dir)")
	[ "${VMALOCK_LOCK_HELD:-}" != "$name" ] || return 0
	mkdir -p "$VMALOCK_CACHE/locks"
	exec {fd}>>"$VMALOCK_CACHE/locks/$name.lock"
	if ! flock -n "$fd"; then
		local holder
		holder=$(cat "$VMALOCK_CACHE/locks/$name.holder" 2>/dev/null || echo unknown)
		[ "${VMALOCK_NO_WAIT:-0}" != 1 ] ||
			die "$E_BUSY" "tree $name is in use by another vmalock run ($holder); not waiting (VMALOCK_NO_WAIT=1)"
		log "waiting for another vmalock run that uses tree $name ($holder)"
		flock "$fd"
	fi
	printf 'pid %s: tools/vmalock %s, since %(%H:%M:%S)T\n' "$$" "${VMALOCK_SUB:-?}" -1 \
		>"$VMALOCK_CACHE/locks/$name.holder"
	export VMALOCK_LOCK_HELD=$name
}

# Last line of standard output: the path other tools read.
emit_path() { printf '%s\n' "$1"; }

# run_sub NAME ARG...: another subcommand, as a separate process.
run_sub() {
	local name=$1
	shift
	"$VMALOCK_TOP/tools/vmalock" "$name" "$@"
}

# sub_path NAME ARG...: run subcommand NAME and print the path it printed
# last; exit with its code if it failed (the caller checks for emptiness:
# `x=$(sub_path ...) || exit`).
sub_path() {
	local out rc=0
	out=$(run_sub "$@") || rc=$?
	[ "$rc" -eq 0 ] || exit "$rc"
	printf '%s\n' "$out" | tail -n 1
}

# hunk_of PATCH FILE LINE: "hunk #N of FILE (@@ header @@)" for the hunk of
# PATCH in FILE whose pre-image starts at LINE.
hunk_of() {
	awk -v f="$2" -v l="$3" '
		/^diff --git / { cur = ($3 == "a/" f); n = 0; next }
		cur && /^@@ / {
			n++
			split($2, a, ",")
			if (-a[1] == l) { printf "hunk #%d of %s (%s %s %s %s)\n", n, f, $1, $2, $3, $4; exit }
		}' "$1"
}

# am_series DIR PATCH...: git am the patches in DIR. On failure, restore
# DIR as it was and die naming the patch and the hunk.
am_series() {
	local dir=$1 out n failed file line
	shift
	if out=$(vgit -C "$dir" am --keep-cr "$@" 2>&1); then
		return 0
	fi
	vgit -C "$dir" am --abort >/dev/null 2>&1 || true
	n=$(printf '%s\n' "$out" | sed -n 's/^Patch failed at \([0-9]*\) .*/\1/p' | head -n 1)
	failed=${*:$((10#${n:-1})):1}
	file=$(printf '%s\n' "$out" | sed -n 's/^error: patch failed: \(.*\):[0-9]*$/\1/p' | head -n 1)
	line=$(printf '%s\n' "$out" | sed -n 's/^error: patch failed: .*:\([0-9]*\)$/\1/p' | head -n 1)
	if [ -n "$file" ]; then
		die "$E_APPLY" "${failed#"$VMALOCK_TOP"/} does not apply: $(hunk_of "$failed" "$file" "$line")"
	fi
	die "$E_APPLY" "${failed#"$VMALOCK_TOP"/} does not apply: $(printf '%s\n' "$out" | grep -m1 -E '^error:' || printf '%s\n' "$out" | tail -n 1)"
}

# content_stamp FILE...: one hash over the contents of FILEs.
content_stamp() { cat "$@" | sha256sum | cut -c1-16; }

# main_tree WT: the tree (under the cache) that worktree WT belongs to.
main_tree() {
	dirname "$(git -C "$1" rev-parse --path-format=absolute --git-common-dir)"
}

# worktree_at TREE NAME COMMIT: a worktree of TREE (under the cache) with
# COMMIT checked out, detached and clean; created once, then moved with
# checkout so that unchanged files keep their timestamps and builds stay
# incremental. Sets WT.
worktree_at() {
	local tree=$1
	WT="$VMALOCK_CACHE/worktrees/$(basename "$tree")-$2"
	mkdir -p "$(dirname "$WT")"
	git -C "$tree" worktree prune
	# A worktree whose repository was replaced (a re-cloned user tree) is
	# made again.
	if [ -e "$WT/.git" ] && ! git -C "$WT" rev-parse -q --git-dir >/dev/null 2>&1; then
		rm -rf "$WT"
	fi
	if [ ! -e "$WT/.git" ]; then
		rm -rf "$WT"
		step "create worktree $(basename "$WT")" \
			vgit -C "$tree" worktree add -q --detach "$WT" "$3" >&2 ||
			die "$E_FAIL" "cannot create worktree $WT"
	else
		clean_worktree "$WT"
		vgit -C "$WT" checkout -q --detach "$3" || die "$E_FAIL" "cannot check out $3 in $WT"
	fi
}

# clean_worktree WT: undo whatever an interrupted run left in WT: an
# unfinished git am, changed or added files (a mutation).
clean_worktree() {
	vgit -C "$1" am --abort >/dev/null 2>&1 || true
	if [ -n "$(git -C "$1" status --porcelain --ignored)" ]; then
		log "worktree $(basename "$1") had changes left by an interrupted run: reset"
		vgit -C "$1" reset -q --hard || die "$E_FAIL" "cannot reset $1"
		git -C "$1" clean -q -fdx || die "$E_FAIL" "cannot clean $1"
	fi
}

# checkout WT COMMIT: check COMMIT out in WT, or fail (for callers in ||).
checkout() {
	vgit -C "$1" checkout -q --detach "$2" || { log "cannot check out $2 in $1"; return 1; }
	[ "$(git -C "$1" rev-parse HEAD)" = "$(git -C "$1" rev-parse "$2^{commit}")" ] ||
		{ log "$1 is not at $2 after checkout"; return 1; }
}

# commits_with_test WT BASE HEAD: set COMMITS to the commits after BASE up
# to HEAD that contain the test file, oldest first.
commits_with_test() {
	local c
	COMMITS=()
	for c in $(git -C "$1" rev-list --reverse "$2..$3"); do
		git -C "$1" cat-file -e "$c:$VMALOCK_KUNIT_FILE" 2>/dev/null && COMMITS+=("$c")
	done
	return 0
}
