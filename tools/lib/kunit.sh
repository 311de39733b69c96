# shellcheck shell=bash
# vmalock kunit: the vma_lock KUnit suite under QEMU, with kunit.py.

usage_kunit() {
	cat <<'U'
usage: tools/vmalock kunit [--target T] [--cc gcc|clang] [--config debug|default]
                           [--runs N] [--kernel 7.3|7.2] [--tree DIR]

Build an x86_64 kernel with kunit-configs/ and run the vma_lock suite in
QEMU (tools/testing/kunit/kunit.py run --arch=x86_64), for target T:
  series    every commit of the v4 branch that has the test (default)
  base      the first of them: the base plus the test patch
  head      the last: the whole series
  mainline  the pristine tree plus series.mainline
  all       series and mainline
--config debug (the default) adds kunit-configs/debug.config (lockdep,
DEBUG_VM, atomic-sleep checks). --runs N repeats each multi-thread case N
times in one boot. Results (kunit.py JSON and JUnit XML, and the console)
go to $VMALOCK_CACHE/results/; each run prints a line
"kunit <tree> <commit>: N passed, N failed, N skipped". Exits 1 if any
case failed or a kernel did not build or boot.
U
}

# kunit_counts JSON: "P F S" leaf counts of a kunit.py JSON result.
kunit_counts() {
	python3 - "$1" <<'PY'
import json, sys
n = {"PASS": 0, "FAIL": 0, "SKIP": 0}
def walk(g):
    for c in g.get("test_cases", []):
        s = c.get("status", "FAIL")
        n[s if s in n else "FAIL"] += 1
    for s in g.get("sub_groups", []):
        walk(s)
try:
    walk(json.load(open(sys.argv[1])))
except (OSError, ValueError):
    pass
print(n["PASS"], n["FAIL"], n["SKIP"])
PY
}

# kunit_one WT COMMIT [LABEL]: build COMMIT of worktree WT and run the
# suite. With LABEL (a modified tree), results are named after it and the
# vmlinux is not kept as COMMIT's.
kunit_one() {
	local wt=$1 commit=$2 build res label rc=0 t0 p f s
	build=$(build_dir "$wt")
	res="$VMALOCK_CACHE/results/$(basename "$wt")/$OPT_CC-$OPT_CONFIG"
	label=${3:-$(git -C "$wt" log -1 --format=%h "$commit")}
	mkdir -p "$res" "$(dirname "$build")"
	vgit -C "$wt" checkout -q --detach "$commit"
	log "kunit $(basename "$wt") $(git -C "$wt" log -1 --format='%h %s' "$commit")"
	log "  build $build (about 9 minutes from scratch on 2 cores; log: $res/$label.log)"
	local args
	mapfile -t args < <(kunit_args run "$wt")
	args+=(--qemu_args=-smp\ 2 --timeout=600
		--json="$res/$label.json" --junit="$res/$label.xml")
	[ "${OPT_RUNS:-1}" -le 1 ] || args+=(--kernel_args="vma_lock_kunit.stress_runs=$OPT_RUNS")
	rm -f "$res/$label.json" "$res/$label.xml"
	t0=$(date +%s)
	kunit_py "$wt" "${args[@]}" "$VMALOCK_KUNIT_SUITE" >"$res/$label.log" 2>&1 || rc=$?
	read -r p f s < <(kunit_counts "$res/$label.json")
	printf 'kunit %s %s: %d passed, %d failed, %d skipped (%d s; %s)\n' \
		"$(basename "$wt")" "$label" "$p" "$f" "$s" "$(($(date +%s) - t0))" \
		"$(grep -m1 -o 'Elapsed time: .*' "$res/$label.log" || echo 'no timing')"
	# kunit.py starts the kernel only after a good build: keep that build
	# (a failed one leaves the previous commit's files in place).
	if [ -z "${3:-}" ] && grep -q 'Starting KUnit Kernel' "$res/$label.log"; then
		keep_artifacts "$wt" "$commit"
	fi
	# KUnit passes a case even when lockdep or a WARN fires beside it.
	local splat=''
	if [ -f "$build/test.log" ]; then
		cp "$build/test.log" "$res/$label.console"
		splat=$(splat_lines "$res/$label.console")
	fi
	if [ -n "$splat" ]; then
		log "kernel splat in the console of $label ($res/$label.console):"
		printf '%s\n' "$splat" >&2
		rc=1
	fi
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ "$p" -eq 0 ]; then
		log "kunit failed on $label (kunit.py exit $rc): see $res/$label.log"
		grep -E 'FAILED|ERROR|error:|Expected|not ok' "$res/$label.log" | head -n 20 >&2 || true
		return 1
	fi
}

# commits_with_test WT BASE: commits after BASE up to HEAD of WT's branch
# that contain the test file, oldest first.
commits_with_test() {
	local c
	for c in $(git -C "$1" rev-list --reverse "$2..$3"); do
		git -C "$1" cat-file -e "$c:mm/tests/vma_lock_kunit.c" 2>/dev/null && echo "$c"
	done
}

cmd_kunit() {
	parse_common "$@"
	local target=series wt failed=0 commits=() c
	OPT_RUNS=1
	set -- "${REST[@]}"
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || die "$E_USAGE" "$1 needs a value"
		case "$1" in
		--target) target=$2 ;;
		--runs) OPT_RUNS=$2
			[[ $OPT_RUNS =~ ^[0-9]+$ ]] || die "$E_USAGE" "--runs: a number" ;;
		*) parse_build_opt "$1" "$2" || die "$E_USAGE" "unexpected argument '$1'" ;;
		esac
		shift 2
	done
	need_cc
	need qemu-system-x86_64
	local targs=(--kernel "$OPT_KERNEL")
	[ -z "$OPT_TREE" ] || targs+=(--tree "$OPT_TREE")

	case "$target" in
	series | base | head | all)
		wt=$(run_sub apply --series v4 "${targs[@]}" | tail -n 1)
		mapfile -t commits < <(commits_with_test "$wt" vmalock/base vmalock/v4)
		[ ${#commits[@]} -gt 0 ] || die "$E_FAIL" "no commit of vmalock/v4 adds the test"
		case "$target" in
		base) commits=("${commits[0]}") ;;
		head) commits=("${commits[-1]}") ;;
		esac
		for c in "${commits[@]}"; do kunit_one "$wt" "$c" || failed=1; done
		vgit -C "$wt" checkout -q vmalock/v4
		;;
	mainline) ;;
	*) die "$E_USAGE" "--target: series, base, head, mainline or all" ;;
	esac
	case "$target" in
	mainline | all)
		wt=$(run_sub apply --series mainline "${targs[@]}" | tail -n 1)
		kunit_one "$wt" "$(git -C "$wt" rev-parse vmalock/mainline)" || failed=1
		vgit -C "$wt" checkout -q vmalock/mainline
		;;
	esac
	[ "$failed" -eq 0 ] || exit "$E_FAIL"
}
