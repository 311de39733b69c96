# shellcheck shell=bash
# Helpers shared by every vmalock subcommand. Sourced, never run.

# Exit codes, the same for every subcommand (used by the sourcing files).
# shellcheck disable=SC2034
readonly E_FAIL=1      # a check, build or test ran and failed
readonly E_USAGE=2     # bad command line
readonly E_TOOL=3      # a required program is missing
readonly E_FETCH=4     # a package could not be fetched
readonly E_CHECKSUM=5  # a download does not match tools/vmalock.conf
readonly E_TREE=6      # not a kernel git tree, dirty tree, wrong base
readonly E_APPLY=7     # a patch does not apply

VMALOCK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# VMALOCK_CONF lets the tests substitute a conf with deliberate errors.
# shellcheck source=tools/vmalock.conf
. "${VMALOCK_CONF:-$VMALOCK_TOP/tools/vmalock.conf}"

VMALOCK_CACHE=${VMALOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmalock}

log() { printf 'vmalock: %s\n' "$*" >&2; }
die() {
	local code=$1
	shift
	printf 'vmalock: error: %s\n' "$*" >&2
	exit "$code"
}

# step NAME CMD...: run CMD, print NAME and how long it took.
step() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "$name ..."
	"$@" || rc=$?
	log "$name: $(($(date +%s) - t0)) s$([ "$rc" -eq 0 ] || echo ", FAILED ($rc)")"
	return "$rc"
}

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "$E_TOOL" "'$t' is not installed (on Debian: bash .ci/install-deps)"
	done
}

# kernel_field KVER N: field N (1-based) of the kernel's line in the conf.
kernel_field() {
	local line
	line=$(printf '%s\n' "$VMALOCK_KERNELS" | awk -v k="$1" '$1 == k')
	[ -n "$line" ] ||
		die "$E_USAGE" "unknown kernel '$1' (known: $(printf '%s\n' "$VMALOCK_KERNELS" | awk 'NF {printf "%s ", $1}'))"
	printf '%s\n' "$line" | awk -v n="$2" '{print $n}'
}

# A git run with the fixed identity the tools use for their own commits
# (authors of applied patches stay theirs).
vgit() {
	GIT_COMMITTER_NAME=$VMALOCK_GIT_NAME \
		GIT_COMMITTER_EMAIL=$VMALOCK_GIT_EMAIL \
		GIT_COMMITTER_DATE=$VMALOCK_GIT_DATE \
		git -c advice.detachedHead=false -c core.autocrlf=false \
		-c gc.auto=0 "$@"
}

# series_file NAME: path of the series file for series NAME (v4, mainline).
series_file() {
	local var="VMALOCK_SERIES_$1"
	[ -n "${!var:-}" ] || die "$E_USAGE" "unknown series '$1' (v4, mainline)"
	printf '%s/%s\n' "$VMALOCK_TOP" "${!var}"
}

# series_patches FILE DIR: the patches (in DIR) a quilt series FILE lists.
series_patches() {
	local p
	while read -r p _; do
		case "$p" in '' | '#'*) continue ;; esac
		[ -f "$2/$p" ] ||
			die "$E_USAGE" "${1#"$VMALOCK_TOP"/} lists ${2#"$VMALOCK_TOP"/}/$p, which does not exist"
		printf '%s\n' "$2/$p"
	done <"$1"
}

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

# Common options: --kernel, --tree, --help. Sets OPT_KERNEL, OPT_TREE and
# leaves the other arguments in REST.
parse_common() {
	OPT_KERNEL=${VMALOCK_KERNEL:-$VMALOCK_DEFAULT_KERNEL}
	OPT_TREE=${VMALOCK_TREE:-}
	REST=()
	while [ $# -gt 0 ]; do
		case "$1" in
		-k | --kernel) [ $# -ge 2 ] || die "$E_USAGE" "$1 needs a value"
			OPT_KERNEL=$2; shift 2 ;;
		--kernel=*) OPT_KERNEL=${1#*=}; shift ;;
		-t | --tree) [ $# -ge 2 ] || die "$E_USAGE" "$1 needs a value"
			OPT_TREE=$2; shift 2 ;;
		--tree=*) OPT_TREE=${1#*=}; shift ;;
		*) REST+=("$1"); shift ;;
		esac
	done
	kernel_field "$OPT_KERNEL" 1 >/dev/null
	if [ -n "$OPT_TREE" ]; then
		OPT_TREE=$(cd "$OPT_TREE" 2>/dev/null && pwd) ||
			die "$E_TREE" "--tree: no such directory"
	fi
}

# Last line of standard output: the path other tools read.
emit_path() { printf '%s\n' "$1"; }

# The subcommand implemented by tools/lib/NAME.sh, run with ARGS.
run_sub() {
	local name=$1
	shift
	"$VMALOCK_TOP/tools/vmalock" "$name" "$@"
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
	local dir=$1 out p n failed file line
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
# COMMIT checked out, detached; created once, then moved with checkout so
# that unchanged files keep their timestamps and builds stay incremental.
worktree_at() {
	local tree=$1 wt
	wt="$VMALOCK_CACHE/worktrees/$(basename "$tree")-$2"
	mkdir -p "$(dirname "$wt")"
	git -C "$tree" worktree prune
	if [ ! -e "$wt/.git" ]; then
		rm -rf "$wt"
		step "create worktree $(basename "$wt")" \
			vgit -C "$tree" worktree add -q --detach "$wt" "$3" >&2
	else
		vgit -C "$wt" am --abort >/dev/null 2>&1 || true
		vgit -C "$wt" reset -q --hard
		vgit -C "$wt" checkout -q --detach "$3"
	fi
	printf '%s\n' "$wt"
}

# Build options shared by kunit, build and nfc: --cc and --config.
OPT_CC=gcc
OPT_CONFIG=debug
parse_build_opt() {
	case "$1" in
	--cc) OPT_CC=$2 ;;
	--config) OPT_CONFIG=$2 ;;
	*) return 1 ;;
	esac
	case "$OPT_CC" in gcc | clang) ;; *) die "$E_USAGE" "--cc: gcc or clang" ;; esac
	case "$OPT_CONFIG" in default | debug) ;; *) die "$E_USAGE" "--config: default or debug" ;; esac
}

# make options for OPT_CC, one a line.
cc_make_opts() {
	local var="VMALOCK_MAKE_$OPT_CC"
	[ -z "${!var}" ] || printf '%s\n' ${!var}
}

# kunit.py --kunitconfig arguments for OPT_CONFIG.
kunitconfig_args() {
	printf -- '--kunitconfig=%s\n' "$VMALOCK_TOP/kunit-configs/vma_lock.config"
	[ "$OPT_CONFIG" = default ] ||
		printf -- '--kunitconfig=%s\n' "$VMALOCK_TOP/kunit-configs/debug.config"
}

# The build directory for worktree WT with the current build options.
build_dir() { printf '%s/build/%s-%s-%s\n' "$VMALOCK_CACHE" "$(basename "$1")" "$OPT_CC" "$OPT_CONFIG"; }

# Where a build of COMMIT (of the repo in the current directory or WT) keeps
# its vmlinux for later comparison: keyed by the tree, so that rewording a
# commit message does not call for a rebuild.
artifact_dir() {
	printf '%s/artifacts/%s-%s/%s\n' "$VMALOCK_CACHE" "$OPT_CC" "$OPT_CONFIG" \
		"$(git -C "${2:-.}" rev-parse "$1^{tree}")"
}

need_cc() {
	need make gcc flex bison bc python3
	[ "$OPT_CC" = gcc ] || need clang-19 ld.lld-19
}
