# shellcheck shell=bash
# Kernel builds through kunit.py: build directories, config fragments,
# kept artifacts; and the results directory of a run.
# Sets for others: FRAGMENTS (config_fragments), KARGS (kunit_args),
# ARTIFACTS (build_commit), RES (results_dir).
# Sourced by tools/lib/common.sh only.

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

# results_dir SUB: a new directory for this run's results under
# results/, named by time, and results/latest-SUB pointing at it. Sets RES.
results_dir() {
	local name
	name=$(printf '%(%Y%m%d-%H%M%S)T' -1)-$1-$$
	RES=$VMALOCK_CACHE/results/$name
	mkdir -p "$RES"
	ln -sfn "$name" "$VMALOCK_CACHE/results/latest-$1"
}
