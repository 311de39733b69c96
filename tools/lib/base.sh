# shellcheck shell=bash
# vmalock base: the tree the series is written against.

usage_base() {
	cat <<'U'
usage: tools/vmalock base [--kernel 7.3|7.2] [--tree DIR [--as-is]]

Lay down (or reuse) the series' base in a git tree under the cache:
  1. a pristine import of Debian's linux-source-<kernel> tarball, one
     commit, tag vmalock/pristine;
  2. the fixture in base/ (never to be sent) applied on top, tag
     vmalock/base: it restores the pre-image of the series' patch.
With --tree DIR, your kernel git tree is cloned (never modified): its HEAD
is the pristine commit; if HEAD is mainline ef4c0cea1e15 it is the base as
it is, otherwise the fixture is applied to the clone. With --as-is, the
clone is all: no fixture (tools/vmalock kunit --as-is).
Prints the tree's path as the last line. Re-runs reuse what is valid.
U
}

# vgit_import DIR MESSAGE AUTHOR: commit all of DIR as AUTHOR ("Name <email>").
vgit_import() {
	vgit -C "$1" add -A -f || return 1
	GIT_AUTHOR_DATE=$VMALOCK_GIT_DATE vgit -C "$1" commit -q --author="$3" -m "$2"
}

# import_tarball DIR: DIR becomes a git repo holding the pristine tarball.
import_tarball() {
	local dir=$1 tarball partial="$1.partial"
	tarball=$(sub_path fetch --kernel "$OPT_KERNEL")
	local author
	author=$(cat "$tarball.maintainer") || die "$E_FETCH" "no $tarball.maintainer: run tools/vmalock fetch again"
	rm -rf "$partial"
	mkdir -p "$partial"
	step "unpack $(basename "$tarball")" tar -xf "$tarball" -C "$partial" --strip-components=1 ||
		die "$E_FETCH" "cannot unpack $tarball"
	if [ ! -f "$partial/Makefile" ] || [ ! -f "$partial/include/linux/mmap_lock.h" ]; then
		die "$E_TREE" "$(basename "$tarball") does not hold a kernel tree"
	fi
	vgit -C "$partial" init -q -b vmalock-import || die "$E_FAIL" "git init failed in $partial"
	git -C "$partial" config gc.auto 0
	# Debian's top-level .gitignore ignores every top-level entry: force.
	step "git import ($(find "$partial" -type f | wc -l) files)" \
		vgit_import "$partial" \
		"Import Debian $(kernel_field "$OPT_KERNEL" 2) $(kernel_field "$OPT_KERNEL" 3)" "$author" ||
		die "$E_FAIL" "git import of $partial failed"
	vgit -C "$partial" tag vmalock/pristine
	mv "$partial" "$dir"
}

# clone_user_tree DIR: DIR becomes a clone of the user's tree at its HEAD.
clone_user_tree() {
	local dir=$1 partial="$1.partial" head
	git -C "$OPT_TREE" rev-parse --is-inside-work-tree >/dev/null 2>&1 ||
		die "$E_TREE" "$OPT_TREE is not a kernel git tree: not a git work tree"
	local f
	for f in Makefile include/linux/mmap_lock.h; do
		[ -f "$OPT_TREE/$f" ] || die "$E_TREE" "$OPT_TREE is not a kernel git tree: it has no $f"
	done
	[ -z "$(git -C "$OPT_TREE" status --porcelain --untracked-files=no)" ] ||
		die "$E_TREE" "$OPT_TREE has uncommitted changes: commit or stash them first (nothing was changed)"
	head=$(git -C "$OPT_TREE" rev-parse HEAD)
	if [ -d "$dir" ] && [ "$(git -C "$dir" rev-parse -q --verify vmalock/pristine 2>/dev/null)" = "$head" ]; then
		return
	fi
	if git -C "$dir" rev-parse -q --verify vmalock/pristine >/dev/null 2>&1; then
		# The clone is there (with worktrees of it): bring the new HEAD in.
		step "fetch $(git -C "$OPT_TREE" log -1 --format='%h %s' HEAD) from $OPT_TREE" \
			vgit -C "$dir" fetch -q "$OPT_TREE" HEAD || die "$E_TREE" "cannot fetch from $OPT_TREE"
		vgit -C "$dir" checkout -q --detach "$head" || die "$E_TREE" "cannot check out $head"
		vgit -C "$dir" tag -f vmalock/pristine "$head" >/dev/null
		return
	fi
	rm -rf "$partial" "$dir"
	step "clone $OPT_TREE" vgit clone -q --shared --no-checkout "$OPT_TREE" "$partial" ||
		die "$E_TREE" "cannot clone $OPT_TREE"
	step "check out $(git -C "$OPT_TREE" log -1 --format='%h %s' HEAD)" \
		vgit -C "$partial" checkout -q --detach "$head" || die "$E_TREE" "cannot check out $head"
	git -C "$partial" config gc.auto 0
	vgit -C "$partial" tag vmalock/pristine "$head"
	mv "$partial" "$dir"
}

cmd_base() {
	parse_opts 'as-is' "$@"
	common_opts
	[ -z "${OPT_AS_IS:-}" ] || [ -n "$OPT_TREE" ] || die "$E_USAGE" "--as-is needs --tree DIR"
	need git tar xz sha256sum flock
	lock_tree
	local dir stamp
	dir=$(tree_dir)
	mkdir -p "$(dirname "$dir")"
	if [ -n "$OPT_TREE" ]; then
		clone_user_tree "$dir"
		if [ -n "${OPT_AS_IS:-}" ]; then
			emit_path "$dir"
			return
		fi
	elif ! git -C "$dir" rev-parse -q --verify vmalock/pristine >/dev/null 2>&1; then
		rm -rf "$dir"
		import_tarball "$dir"
	fi

	series_patches "$VMALOCK_TOP/base/series" "$VMALOCK_TOP/base"
	# The base is valid for this pristine commit and these fixture patches.
	if [ "$(git -C "$dir" rev-parse vmalock/pristine)" = "$VMALOCK_PUBLIC_BASE" ]; then
		stamp=public
	else
		stamp=$(git -C "$dir" rev-parse vmalock/pristine)-$(content_stamp "${PATCHES[@]}")
	fi
	if [ "$(git -C "$dir" config vmalock.base-stamp || true)" = "$stamp" ] &&
		git -C "$dir" rev-parse -q --verify vmalock/base >/dev/null; then
		log "reusing base $(git -C "$dir" log -1 --format='%h %s' vmalock/base)"
		emit_path "$dir"
		return
	fi

	clean_worktree "$dir"
	vgit -C "$dir" checkout -q --detach vmalock/pristine || die "$E_FAIL" "cannot check out vmalock/pristine in $dir"
	vgit -C "$dir" tag -d vmalock/base >/dev/null 2>&1 || true
	if [ "$stamp" = public ]; then
		log "HEAD is mainline ${VMALOCK_PUBLIC_BASE:0:12}: the base as it is, no fixture"
	else
		am_series "$dir" "${PATCHES[@]}"
		log "applied the base fixture"
	fi
	vgit -C "$dir" tag vmalock/base HEAD
	git -C "$dir" config vmalock.base-stamp "$stamp"
	log "base: $(git -C "$dir" log -1 --format='%h %s' vmalock/base)"
	emit_path "$dir"
}
