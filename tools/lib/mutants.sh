# shellcheck shell=bash
# vmalock mutants: break the code on purpose, check that the tests see it.

usage_mutants() {
	cat <<'U'
usage: tools/vmalock mutants [--only NAME] [--config debug|default]
                             [--kernel 7.3|7.2] [--tree DIR]

For each tests/mutations/NAME.patch (a deliberate bug, with the cases that
must catch it on its "Expect-red:" line): apply it on top of the series
head, build, run the vma_lock suite, and check that every expected case
fails. A mutation of .c files only is built incrementally in the head's own
worktree and restored after; a header mutation rebuilds almost everything
(about 9 minutes) in a worktree of its own. Prints one line per mutation;
exits 1 if a mutation was not caught.
U
}

# failed_cases JSON: the names of the top-level cases that did not pass.
failed_cases() {
	python3 - "$1" <<'PY'
import json, sys
def bad(g):
    return any(c.get("status") != "PASS" for c in g.get("test_cases", [])) or \
        any(bad(s) for s in g.get("sub_groups", []))
def suites(g):
    for s in g.get("sub_groups", []):
        if s.get("name") == "vma_lock":
            yield s
        else:
            yield from suites(s)
try:
    root = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
for s in suites(root):
    for c in s.get("test_cases", []):
        if c.get("status") != "PASS":
            print(c["name"])
    for g in s.get("sub_groups", []):
        if bad(g):
            print(g["name"])
PY
}

cmd_mutants() {
	parse_common "$@"
	local only='' wt mwt m f expect red missing caught=0 total=0
	set -- "${REST[@]}"
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || die "$E_USAGE" "$1 needs a value"
		case "$1" in
		--only) only=$2 ;;
		*) parse_build_opt "$1" "$2" || die "$E_USAGE" "unexpected argument '$1'" ;;
		esac
		shift 2
	done
	need_cc
	need qemu-system-x86_64
	# shellcheck source=tools/lib/kunit.sh
	. "$VMALOCK_TOP/tools/lib/kunit.sh"
	local targs=(--kernel "$OPT_KERNEL")
	[ -z "$OPT_TREE" ] || targs+=(--tree "$OPT_TREE")
	wt=$(run_sub apply --series v4 "${targs[@]}" | tail -n 1)
	for f in "$VMALOCK_TOP"/tests/mutations/*.patch; do
		m=$(basename "$f" .patch)
		[ -z "$only" ] || [ "$only" = "$m" ] || continue
		total=$((total + 1))
		expect=$(sed -n 's/^Expect-red: //p' "$f")
		if grep -q '^diff --git a/.*\.h ' "$f"; then
			mwt=$(worktree_at "$(main_tree "$wt")" v4-mutant vmalock/v4)
		else
			mwt=$wt
			vgit -C "$mwt" checkout -q vmalock/v4
		fi
		git -C "$mwt" apply "$f" || die "$E_APPLY" "$m does not apply to the series head"
		log "mutant $m: $(sed -n 's/^Mutation: //p' "$f")"
		kunit_one "$mwt" HEAD "mutant-$m" >/dev/null 2>&1 || true
		git -C "$mwt" apply -R "$f"
		red=$(failed_cases "$VMALOCK_CACHE/results/$(basename "$mwt")/$OPT_CC-$OPT_CONFIG/mutant-$m.json" |
			sort -u | tr '\n' ' ')
		missing=''
		for c in $expect; do
			case " $red " in *" $c "*) ;; *) missing="$missing $c" ;; esac
		done
		if [ -z "$missing" ] && [ -n "$red" ]; then
			caught=$((caught + 1))
			printf 'mutant %s: caught; red: %s\n' "$m" "$red"
		else
			printf 'mutant %s: NOT caught; red: %s; expected red but passed:%s\n' "$m" "${red:-none}" "$missing"
		fi
	done
	printf 'mutants: %d of %d caught\n' "$caught" "$total"
	[ "$caught" -eq "$total" ] || exit "$E_FAIL"
}
