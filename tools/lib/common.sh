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
readonly E_NOBOOT=8    # boot: the kernel did not reach userspace
readonly E_SPLAT=9     # boot: warning, BUG, oops, lockdep report... on the console
readonly E_TIMEOUT=10  # boot: the guest did not finish in time

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

# to_log FILE CMD...: run CMD with its output (both streams) into FILE; for
# `step NAME to_log FILE CMD`, which keeps step's own lines on the terminal.
to_log() {
	local f=$1
	shift
	"$@" >"$f" 2>&1
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

# What a kernel console must never show: warnings, BUGs (KASAN, soft
# lockups), oopses, panics, lockdep reports, RCU stalls, hung tasks.
SPLAT_RE='WARNING:|BUG:|Oops|Call Trace:|Kernel panic|INFO: (possible|task .* blocked)|circular locking|recursive locking|inconsistent lock state|rcu_.*detected stall|soft lockup'

# splat_lines CONSOLE: the first lines of CONSOLE that report a splat.
splat_lines() { grep -m 5 -E "$SPLAT_RE" "$1" || true; }

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

# The kunit-configs/ fragments for OPT_CONFIG, one path a line: the suite,
# the options that let the same kernel boot a userspace (tools/vmalock boot),
# and for "debug" the debug options.
config_fragments() {
	printf '%s\n' "$VMALOCK_TOP/kunit-configs/vma_lock.config" \
		"$VMALOCK_TOP/kunit-configs/boot.config"
	[ "$OPT_CONFIG" = default ] ||
		printf '%s\n' "$VMALOCK_TOP/kunit-configs/debug.config"
}

# The build directory for worktree WT with the current build options.
build_dir() { printf '%s/build/%s-%s-%s\n' "$VMALOCK_CACHE" "$(basename "$1")" "$OPT_CC" "$OPT_CONFIG"; }

# kunit_args VERB WT: the kunit.py arguments, one a line, for VERB (config,
# build or run) in the build directory of worktree WT with the current
# --cc and --config. Every kernel build of the tools goes through here.
kunit_args() {
	local f m
	printf '%s\n' "$1" --arch=x86_64 "--build_dir=$(build_dir "$2")"
	while read -r f; do printf -- '--kunitconfig=%s\n' "$f"; done < <(config_fragments)
	[ "$1" = config ] || printf -- '--jobs=%s\n' "$(nproc)"
	while read -r m; do printf -- '--make_options=%s\n' "$m"; done < <(cc_make_opts)
}

# kunit_py WT ARG...: tools/testing/kunit/kunit.py ARG... run in WT.
kunit_py() {
	local wt=$1
	shift
	(cd "$wt" && python3 tools/testing/kunit/kunit.py "$@")
}

# build_failed LOG: die with what went wrong in the kunit.py log LOG,
# naming the config options that did not stick.
build_failed() {
	local missing
	missing=$(sed -n 's/.*Missing: //p' "$1" | head -n 1)
	if [ -n "$missing" ]; then
		die "$E_FAIL" "config options from kunit-configs/ did not stick (unmet dependencies?): $missing; see $1"
	fi
	grep -E 'error|Error' "$1" | head -n 20 >&2 || true
	die "$E_FAIL" "build with $OPT_CC failed: see $1"
}

# Where a build of COMMIT (of the repo in the current directory or WT) keeps
# its vmlinux, bzImage and .config: keyed by the tree and the contents of the
# config fragments, so that rewording a commit message does not call for a
# rebuild and changing a fragment does.
artifact_dir() {
	local frags
	mapfile -t frags < <(config_fragments)
	printf '%s/artifacts/%s-%s-%s/%s\n' "$VMALOCK_CACHE" "$OPT_CC" "$OPT_CONFIG" \
		"$(content_stamp "${frags[@]}")" "$(git -C "${2:-.}" rev-parse "$1^{tree}")"
}

# keep_artifacts WT COMMIT: keep the last build in WT's build directory as
# COMMIT's.
keep_artifacts() {
	local b a
	b=$(build_dir "$1")
	a=$(artifact_dir "$2" "$1")
	mkdir -p "$a"
	cp "$b/vmlinux" "$b/arch/x86/boot/bzImage" "$b/.config" "$a/"
}

# build_commit WT COMMIT: build COMMIT in WT with kunit.py, unless a build of
# it is kept already; print the directory that keeps it.
build_commit() {
	local wt=$1 c=$2 a build args
	a=$(artifact_dir "$c" "$wt")
	if [ ! -f "$a/vmlinux" ] || [ ! -f "$a/bzImage" ] || [ ! -f "$a/.config" ]; then
		build=$(build_dir "$wt")
		mkdir -p "$(dirname "$build")"
		vgit -C "$wt" checkout -q --detach "$c"
		mapfile -t args < <(kunit_args build "$wt")
		step "build $(git -C "$wt" log -1 --format='%h %s' "$c") with $OPT_CC, $OPT_CONFIG config (about 9 min from scratch; log $build.log)" \
			to_log "$build.log" kunit_py "$wt" "${args[@]}" || build_failed "$build.log"
		keep_artifacts "$wt" "$c"
	fi
	printf '%s\n' "$a"
}

need_cc() {
	need make gcc flex bison bc python3
	[ "$OPT_CC" = gcc ] || need clang-19 ld.lld-19
}
