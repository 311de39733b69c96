# shellcheck shell=bash
# Helpers shared by every vmalock subcommand. Sourced, never run.
#
# Two rules keep failures from being lost here:
# - nothing that can fail runs inside $(...) or <(...) and relies on die:
#   a die there ends only the subshell. Helpers that can fail fill a global
#   array (PATCHES, COMMITS) or print a value whose emptiness is checked;
# - functions that callers run as `f || x` (where bash ignores set -e)
#   check each step themselves (`|| return 1`).

# Exit codes, the same for every subcommand (used by the sourcing files).
# shellcheck disable=SC2034
readonly E_FAIL=1      # a check, build or test ran and failed
readonly E_USAGE=2     # bad command line
readonly E_TOOL=3      # a required program, or the kernel to run, is missing
readonly E_FETCH=4     # a package could not be fetched
readonly E_CHECKSUM=5  # a download does not match tools/vmalock.conf
readonly E_TREE=6      # not a kernel git tree, or a dirty one
readonly E_APPLY=7     # a patch does not apply
readonly E_NOBOOT=8    # boot: the kernel did not reach userspace
readonly E_SPLAT=9     # warning, BUG, oops, lockdep report... on the console
readonly E_TIMEOUT=10  # boot: the guest did not finish in time
readonly E_BUSY=11     # another vmalock run holds the tree (VMALOCK_NO_WAIT=1)

VMALOCK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# VMALOCK_CONF lets the tests substitute a conf with deliberate errors.
# shellcheck source=tools/vmalock.conf
. "${VMALOCK_CONF:-$VMALOCK_TOP/tools/vmalock.conf}"

VMALOCK_CACHE=${VMALOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmalock}

# Results of helpers, read by the sourcing files (set here so that every
# file sees them declared).
# shellcheck disable=SC2034
PATCHES=() COMMITS=() FRAGMENTS=() KARGS=() TARGS=() PASS=() WT='' ARTIFACTS='' RES='' BG_PID=''

log() { printf 'vmalock %(%H:%M:%S)T: %s\n' -1 "$*" >&2; }
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

# step NAME CMD...: run CMD, print NAME, a start and an end line with the
# time it took.
step() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "$name ..."
	"$@" || rc=$?
	log "$name: $(($(date +%s) - t0)) s$([ "$rc" -eq 0 ] || echo ", FAILED ($rc)")"
	return "$rc"
}

# on_exit CMD: have the tool run CMD (a string) when it exits, before the
# commands given earlier (one EXIT trap for all); EXIT_RC is its exit code.
EXIT_CMDS=()
EXIT_RC=0
on_exit() {
	EXIT_CMDS+=("$1")
	trap exit_cmds EXIT
}
exit_cmds() {
	EXIT_RC=$?
	local i
	for ((i = ${#EXIT_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${EXIT_CMDS[i]}" || true
	done
}

# bg_start CMD...: run CMD in the background in a process group of its
# own, BG_PID its leader; if the tool is interrupted, the whole group
# (kunit.py, make and the compilers, or QEMU) is stopped with it.
bg_start() {
	set -m
	"$@" &
	BG_PID=$!
	set +m
	# shellcheck disable=SC2064 # expand now
	trap "kill -TERM -- -$BG_PID 2>/dev/null || true; wait $BG_PID 2>/dev/null || true; exit 130" INT TERM
}

# bg_kill: stop the background group now (a timeout); bg_end after it ended.
bg_kill() {
	kill -TERM -- -"$BG_PID" 2>/dev/null || true
	sleep 1
	kill -KILL -- -"$BG_PID" 2>/dev/null || true
}
bg_end() { trap - INT TERM; }

# watch_step NAME LOG CMD...: step for long jobs whose output goes to LOG:
# CMD runs in the background, and every VMALOCK_HEARTBEAT seconds (60) a
# line gives the time so far and how far it got: with WATCH_DIR set (a
# build directory), the number of objects compiled since the start;
# otherwise the last line of LOG. Interrupting the tool stops CMD too.
watch_step() {
	local name=$1 logf=$2 t0 rc=0 pid last=0 now beat=${VMALOCK_HEARTBEAT:-60} stamp
	shift 2
	t0=$(date +%s)
	# Objects newer than this file were compiled by this build.
	stamp=${WATCH_DIR:-$logf}.started
	: >"$stamp"
	log "$name ... (log: $logf)"
	bg_start to_log "$logf" "$@"
	pid=$BG_PID
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(($(date +%s) - t0))
		if [ $((now - last)) -ge "$beat" ]; then
			last=$now
			if [ -n "${WATCH_DIR:-}" ]; then
				log "$name: $now s so far, $(find "$WATCH_DIR" -name '*.o' -newer "$stamp" 2>/dev/null | wc -l) objects compiled"
			else
				log "$name: $now s so far; last: $(grep -a -v '^$' "$logf" | tail -n 1 | tr -d '\r' | cut -c1-90)"
			fi
		fi
	done
	wait "$pid" || rc=$?
	bg_end
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

# kernel_field KVER N: field N (1-based) of the kernel's line in the conf;
# empty if the kernel is unknown (check_kernel says so).
kernel_field() {
	printf '%s\n' "$VMALOCK_KERNELS" | awk -v k="$1" -v n="$2" '$1 == k { print $n }'
}

# check_kernel VERSION [SOURCE]: SOURCE (--kernel) names where it came from.
check_kernel() {
	[ -n "$(kernel_field "$1" 1)" ] ||
		die "$E_USAGE" "${2:---kernel}: unknown kernel '$1' (known: $(printf '%s\n' "$VMALOCK_KERNELS" | awk 'NF {printf "%s ", $1}'))"
}

# positive NAME VALUE [UNIT]: die, naming NAME (an option or variable),
# unless VALUE is a positive whole number.
positive() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "$1: ${3:+$3, }a positive number, not '$2'"
}

# env_checks: the environment variables that take a value the tools must
# understand, checked before any work; each error names the variable.
env_checks() {
	local v
	for v in VMALOCK_KVM_PROBE_TIMEOUT VMALOCK_HEARTBEAT; do
		[ -z "${!v:-}" ] || positive "$v" "${!v}" seconds
	done
	case "${VMALOCK_NO_WAIT:-0}" in 0 | 1) ;;
	*) die "$E_USAGE" "VMALOCK_NO_WAIT: 0 or 1, not '$VMALOCK_NO_WAIT'" ;;
	esac
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

# email_of "Name <email>": the email.
email_of() {
	printf '%s\n' "$1" | sed 's/.*<\(.*\)>/\1/'
}

# series_names: the series tools/vmalock.conf defines (VMALOCK_SERIES_NAME),
# one a line.
series_names() {
	compgen -v VMALOCK_SERIES_ | sed 's/^VMALOCK_SERIES_//'
}

# series_file NAME: path of the series file for series NAME.
series_file() {
	local var="VMALOCK_SERIES_$1"
	[ -n "${!var:-}" ] ||
		die "$E_USAGE" "--series: unknown series '$1' ($(series_names | paste -sd, - | sed 's/,/, /g'))"
	printf '%s/%s\n' "$VMALOCK_TOP" "${!var}"
}

# series_entries FILE: the patches the quilt series FILE lists, as written
# there (relative to patches/), one a line; comments and blank lines left
# out.
series_entries() {
	local p
	while read -r p _; do
		case "$p" in '' | '#'*) continue ;; esac
		printf '%s\n' "$p"
	done <"$1"
}

# series_base NAME: the tag (vmalock/base or vmalock/pristine) of the tree
# series NAME goes onto (VMALOCK_BASE_NAME).
series_base() {
	local var="VMALOCK_BASE_$1"
	case "${!var:-}" in
	base | pristine) printf 'vmalock/%s\n' "${!var}" ;;
	*) die "$E_USAGE" "tools/vmalock.conf: $var must be base or pristine" ;;
	esac
}

# series_patches FILE DIR: set PATCHES to the patches (in DIR) that the
# quilt series FILE lists, in order. Dies if one is missing or none is
# listed. Not for $(...) or <(...): it sets a variable.
series_patches() {
	local p
	PATCHES=()
	[ -f "$1" ] || die "$E_USAGE" "no series file ${1#"$VMALOCK_TOP"/}"
	while read -r p; do
		[ -f "$2/$p" ] ||
			die "$E_USAGE" "${1#"$VMALOCK_TOP"/} lists ${2#"$VMALOCK_TOP"/}/$p, which does not exist"
		PATCHES+=("$2/$p")
	done < <(series_entries "$1")
	[ ${#PATCHES[@]} -gt 0 ] || die "$E_USAGE" "${1#"$VMALOCK_TOP"/} lists no patch"
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

# parse_opts SPEC ARG...: the one option parser of every subcommand. SPEC
# lists long option names: "name=" takes a value ("--name V" or
# "--name=V"), a bare "name" is a flag, and "--" lets arguments after "--"
# through to PASS. Each option given sets OPT_NAME (upper case, "-" as
# "_"). Anything else is a usage error naming the argument. The common
# options kernel= and tree= are always accepted.
parse_opts() {
	local spec=" $1 kernel= tree= " a name
	shift
	PASS=()
	while [ $# -gt 0 ]; do
		a=$1
		shift
		case "$a" in
		--)
			[[ $spec == *" -- "* ]] || die "$E_USAGE" "unexpected argument '--' (see --help)"
			PASS=("$@")
			return 0 ;;
		--*=*)
			name=${a%%=*}
			name=${name#--}
			[[ $spec == *" $name= "* ]] || opt_unknown "$a" "$name" "$spec"
			[ -n "${a#*=}" ] || die "$E_USAGE" "--$name needs a value (see --help)"
			opt_set "$name" "${a#*=}" ;;
		--*)
			name=${a#--}
			if [[ $spec == *" $name= "* ]]; then
				if [ $# -eq 0 ] || [ -z "$1" ] || [[ $1 == --* ]]; then
					die "$E_USAGE" "--$name needs a value (see --help)"
				fi
				opt_set "$name" "$1"
				shift
			elif [[ $spec == *" $name "* ]]; then
				opt_set "$name" 1
			else
				opt_unknown "$a" "$name" "$spec"
			fi ;;
		*) die "$E_USAGE" "unexpected argument '$a' (see --help)" ;;
		esac
	done
}

opt_unknown() {
	if [[ $3 == *" $2 "* ]]; then
		die "$E_USAGE" "--$2 takes no value (got '$1')"
	fi
	die "$E_USAGE" "unknown option '$1' (see --help)"
}

opt_set() {
	local var
	var=OPT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')
	printf -v "$var" '%s' "$2"
}

# common_opts: defaults and checks for the options every subcommand takes,
# after parse_opts. --tree must name an existing directory.
common_opts() {
	local ksrc=--kernel tsrc=--tree
	[ -n "${OPT_KERNEL:-}" ] || ksrc=VMALOCK_KERNEL
	[ -n "${OPT_TREE:-}" ] || tsrc=VMALOCK_TREE
	OPT_KERNEL=${OPT_KERNEL:-${VMALOCK_KERNEL:-$VMALOCK_DEFAULT_KERNEL}}
	OPT_TREE=${OPT_TREE:-${VMALOCK_TREE:-}}
	check_kernel "$OPT_KERNEL" "$ksrc"
	if [ -n "$OPT_TREE" ]; then
		[ -d "$OPT_TREE" ] || die "$E_TREE" "$tsrc $OPT_TREE: no such directory"
		OPT_TREE=$(cd "$OPT_TREE" && pwd)
	fi
}

# Build options shared by kunit, build, boot, check, nfc and mutants: --cc,
# --config and --arch (after parse_opts).
#   --config default  the suite and the options to boot a userspace
#            debug    and lockdep, DEBUG_VM, atomic-sleep checks, the hang
#                     detectors (the default)
#            kcsan    debug and KCSAN (data races)
#            kasan    debug and generic KASAN (use after free)
#   --arch   x86_64 (the default) or arm64 (gcc only: Debian's cross gcc)
build_opts() {
	OPT_CC=${OPT_CC:-gcc}
	OPT_CONFIG=${OPT_CONFIG:-debug}
	OPT_ARCH=${OPT_ARCH:-x86_64}
	case "$OPT_CC" in gcc | clang) ;; *) die "$E_USAGE" "--cc: gcc or clang, not '$OPT_CC'" ;; esac
	# coverage: set by tools/vmalock coverage only.
	case "$OPT_CONFIG" in default | debug | kcsan | kasan) ;;
	coverage) [ "${VMALOCK_SUB:-}" = coverage ] || die "$E_USAGE" "--config: default, debug, kcsan or kasan, not '$OPT_CONFIG'" ;;
	*) die "$E_USAGE" "--config: default, debug, kcsan or kasan, not '$OPT_CONFIG'" ;;
	esac
	case "$OPT_ARCH" in x86_64 | arm64) ;; *) die "$E_USAGE" "--arch: x86_64 or arm64, not '$OPT_ARCH'" ;; esac
	[ "$OPT_ARCH" = x86_64 ] || [ "$OPT_CC" = gcc ] || die "$E_USAGE" "--arch arm64 builds with gcc only"
}

# kernel_image: where a build of OPT_ARCH leaves the image QEMU boots.
kernel_image() {
	case "$OPT_ARCH" in
	arm64) echo arch/arm64/boot/Image.gz ;;
	*) echo arch/x86/boot/bzImage ;;
	esac
}

# tree_args: the --kernel/--tree options to pass on to a nested subcommand.
tree_args() {
	TARGS=(--kernel "$OPT_KERNEL")
	[ -z "$OPT_TREE" ] || TARGS+=(--tree "$OPT_TREE")
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

# splat_lines CONSOLE: the lines of CONSOLE that report a kernel problem
# (at most 20), by the patterns and exclusions in tools/lib/badness, once
# the known upstream findings are taken out (known_findings).
splat_lines() {
	local f=$VMALOCK_TOP/tools/lib/badness
	known_findings "$1" |
		grep -a -E -f <(sed -n 's/^match //p' "$f") |
		grep -a -v -E -f <(sed -n 's/^except //p' "$f") | head -n 20 || true
}

# known_findings CONSOLE: CONSOLE without CR, less each sanitizer report
# whose headline is, exactly, a line of kunit-configs/known-findings
# (banner to banner); each report taken out is named on stderr.
known_findings() {
	python3 - "$1" "$VMALOCK_TOP/kunit-configs/known-findings" <<'PY'
import re, sys
known = set()
try:
    for l in open(sys.argv[2]):
        l = l.strip()
        if l and not l.startswith('#'):
            known.add(l)
except OSError:
    pass
lines = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace').replace('\r', '').split('\n')
banner = re.compile(r'^(\[[ 0-9.]+\] )?={20,}$')
head = re.compile(r'^(?:\[[ 0-9.]+\] )?(BUG: (?:KCSAN|KASAN): .*)$')
out, i, seen = [], 0, {}
while i < len(lines):
    m = head.match(lines[i])
    if m and m.group(1).strip() in known and out and banner.match(out[-1]):
        j = i + 1
        while j < len(lines) and not banner.match(lines[j]):
            j += 1
        out.pop()
        seen[m.group(1).strip()] = seen.get(m.group(1).strip(), 0) + 1
        i = j + 1
        continue
    out.append(lines[i])
    i += 1
for k, n in seen.items():
    sys.stderr.write('vmalock: known upstream finding, not counted (kunit-configs/known-findings): %s (%d time%s)\n'
                     % (k, n, '' if n == 1 else 's'))
sys.stdout.write('\n'.join(out))
PY
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

# make options for OPT_CC, one a line.
cc_make_opts() {
	local var="VMALOCK_MAKE_$OPT_CC"
	# shellcheck disable=SC2086 # a list of options
	[ -z "${!var}" ] || printf '%s\n' ${!var}
}

# config_fragments: set FRAGMENTS to the kunit-configs/ fragments for
# OPT_CONFIG, which the tools add to the suite's own mm/tests/.kunitconfig:
# the options that let the same kernel boot a userspace (tools/vmalock
# boot), the debug options unless "default", and a sanitizer.
config_fragments() {
	FRAGMENTS=("$VMALOCK_TOP/kunit-configs/boot.config")
	[ "$OPT_CONFIG" = default ] ||
		FRAGMENTS+=("$VMALOCK_TOP/kunit-configs/debug.config")
	case "$OPT_CONFIG" in kcsan | kasan | coverage)
		FRAGMENTS+=("$VMALOCK_TOP/kunit-configs/$OPT_CONFIG.config") ;;
	esac
}

# The build directory for worktree WT with the current build options.
build_dir() {
	printf '%s/build/%s-%s-%s%s%s\n' "$VMALOCK_CACHE" "$(basename "$1")" "$OPT_CC" "$OPT_CONFIG" \
		"$([ "${OPT_ARCH:-x86_64}" = x86_64 ] || echo "-$OPT_ARCH")" "${OPT_MODULE:+-module}"
}

# module_kunitconfig WT: the suite's kunitconfig with the suite built as a
# module (kunit.py refuses a fragment that contradicts another); its path.
module_kunitconfig() {
	local f
	f=$(build_dir "$1").kunitconfig
	mkdir -p "$(dirname "$f")"
	{
		grep -v -x -e "CONFIG_${VMALOCK_KUNIT_OPTION}=y" "$1/$VMALOCK_KUNITCONFIG"
		printf 'CONFIG_%s=m\nCONFIG_MODULES=y\nCONFIG_MODULE_UNLOAD=y\n' "$VMALOCK_KUNIT_OPTION"
	} >"$f"
	printf '%s\n' "$f"
}

# kunit_args VERB WT: set KARGS to the kunit.py arguments for VERB
# (config, build or exec) in the build directory of worktree WT with the
# current --cc and --config. Every kernel build of the tools goes through
# here.
kunit_args() {
	local f m
	KARGS=("$1" "--arch=${OPT_ARCH:-x86_64}" "--build_dir=$(build_dir "$2")")
	[ "${OPT_ARCH:-x86_64}" != arm64 ] || KARGS+=(--cross_compile=aarch64-linux-gnu-)
	if [ -n "${OPT_MODULE:-}" ] && [ "$1" != exec ]; then
		KARGS+=("--kunitconfig=$(module_kunitconfig "$2")")
	elif [ -f "$2/$VMALOCK_KUNITCONFIG" ]; then
		KARGS+=("--kunitconfig=$2/$VMALOCK_KUNITCONFIG")
	fi
	config_fragments
	for f in "${FRAGMENTS[@]}"; do KARGS+=("--kunitconfig=$f"); done
	[ "$1" = config ] || [ "$1" = exec ] || KARGS+=("--jobs=$(nproc)")
	[ "$1" = exec ] || while read -r m; do KARGS+=("--make_options=$m"); done < <(cc_make_opts)
}

# kunit_py WT ARG...: tools/testing/kunit/kunit.py ARG... run in WT.
kunit_py() {
	local wt=$1
	shift
	(cd "$wt" && python3 tools/testing/kunit/kunit.py "$@")
}

# build_failed LOG: why the kunit.py build in LOG failed, on stderr:
# config options that did not stick, or the first errors.
build_failed() {
	local missing
	missing=$(sed -n 's/.*Missing: //p' "$1" | head -n 1)
	if [ -n "$missing" ]; then
		log "config options from kunit-configs/ did not stick (unmet dependencies?): $missing; see $1"
		return
	fi
	grep -a -E 'error|Error' "$1" | head -n 20 >&2 || true
	log "build with $OPT_CC failed: see $1"
}

# artifact_dir COMMIT WT: where a build of COMMIT (of WT's repository)
# keeps its vmlinux, bzImage and .config: keyed by the tree and the
# contents of the config fragments, so that rewording a commit message
# does not call for a rebuild and changing a fragment does.
artifact_dir() {
	config_fragments
	printf '%s/artifacts/%s%s-%s%s-%s/%s\n' "$VMALOCK_CACHE" \
		"$([ "${OPT_ARCH:-x86_64}" = x86_64 ] || echo "$OPT_ARCH-")" "$OPT_CC" "$OPT_CONFIG" \
		"${OPT_MODULE:+-module}" \
		"$(content_stamp "${FRAGMENTS[@]}")" "$(git -C "$2" rev-parse "$1^{tree}")"
}

# keep_artifacts WT DIR: keep the last build in WT's build directory in DIR
# (written whole, then renamed: never half a set). The image is kept as
# "bzImage" whatever the architecture calls it.
keep_artifacts() {
	local b a=$2
	b=$(build_dir "$1")
	mkdir -p "$(dirname "$a")"
	rm -rf "$a.partial"
	mkdir -p "$a.partial"
	cp "$b/vmlinux" "$b/.config" "$a.partial/" || return 1
	cp "$b/$(kernel_image)" "$a.partial/bzImage" || return 1
	[ -z "${OPT_MODULE:-}" ] || cp "$b/${VMALOCK_KUNIT_FILE%.c}.ko" "$a.partial/" || return 1
	rm -rf "$a"
	mv "$a.partial" "$a"
}

# build_tree WT LABEL: build what WT has checked out with kunit.py (config
# and build), with a heartbeat; log under the build directory.
build_tree() {
	local wt=$1 build
	build=$(build_dir "$wt")
	mkdir -p "$(dirname "$build")"
	kunit_args build "$wt"
	WATCH_DIR=$build watch_step "build $2 with $OPT_CC, $OPT_CONFIG config (4-9 min from scratch)" \
		"$build.log" kunit_py "$wt" "${KARGS[@]}" || { build_failed "$build.log"; return 1; }
}

# build_commit WT COMMIT: build COMMIT in WT with kunit.py, unless a build of
# it is kept already; set ARTIFACTS to the directory that keeps it.
build_commit() {
	local wt=$1 c=$2
	ARTIFACTS=$(artifact_dir "$c" "$wt")
	if [ -f "$ARTIFACTS/vmlinux" ] && [ -f "$ARTIFACTS/bzImage" ] && [ -f "$ARTIFACTS/.config" ] &&
		{ [ -z "${OPT_MODULE:-}" ] || [ -f "$ARTIFACTS/$(basename "${VMALOCK_KUNIT_FILE%.c}").ko" ]; }; then
		return 0
	fi
	checkout "$wt" "$c" || return 1
	build_tree "$wt" "$(git -C "$wt" log -1 --format='%h %s' "$c")" || return 1
	keep_artifacts "$wt" "$ARTIFACTS"
}

need_cc() {
	need make gcc flex bison bc python3
	[ "$OPT_CC" = gcc ] || need clang-19 ld.lld-19
	[ "${OPT_ARCH:-x86_64}" = x86_64 ] || need aarch64-linux-gnu-gcc qemu-system-aarch64
}

# results_dir SUB: a new directory for this run's results under
# results/, named by time, and results/latest-SUB pointing at it. Sets RES.
results_dir() {
	local name
	name=$(printf '%(%Y%m%d-%H%M%S)T' -1)-$1-$$
	RES=$VMALOCK_CACHE/results/$name
	mkdir -p "$RES"
	ln -sfn "$name" "$VMALOCK_CACHE/results/latest-$1"
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
