# shellcheck shell=bash
# vmalock nfc: machine code before and after the refactor patch.

usage_nfc() {
	cat <<'U'
usage: tools/vmalock nfc [--series v4|refcount] [--cc gcc|clang]
                         [--config debug|default|kcsan|kasan] [--strict]
                         [--kernel 7.3|7.2] [--tree DIR]

Compare the kernels built from the commit before a patch that is meant to
change no code and from that patch, with the same configuration and
compiler (the vmlinux images that `tools/vmalock kunit` keeps; missing ones
are built). The patch: in the v4 series (the default) the refactor,
Lorenzo Stoakes' patch; in the refcount series its last patch (the zero
test and the count's type; the first one changes a comment only).
  (a) scripts/bloat-o-meter on vmlinux;
  (b) the disassembly of every function (objdump -d, addresses and
      RIP-relative displacements normalised), and by name the functions
      that call rcuwait_wake_up() (inlined vma_refcount_put()) or
      vma_mark_detached().
Prints the figures and each differing function, "layout only" (the same
instructions in another block order) or "instructions"; the full report is
in a new directory under $VMALOCK_CACHE/results/ (latest-nfc). Exits 1
if the comparison cannot be made, and with --strict also if any function
differs or exists on one side only: without --strict it is a report.
U
}

cmd_nfc() {
	parse_opts 'series= cc= config= strict' "$@"
	common_opts
	build_opts
	local strict=${OPT_STRICT:-0} series=${OPT_SERIES:-v4}
	case "$series" in
	v4 | refcount) ;;
	*) die "$E_USAGE" "--series: v4 or refcount, not '$series'" ;;
	esac
	need_cc
	need objdump python3 flock
	lock_tree
	tree_args
	local wt refactor before after out
	wt=$(sub_path apply "${TARGS[@]}" --series "$series")
	if [ "$series" = v4 ]; then
		# The refactor: the patch of the series that is Lorenzo Stoakes'
		# (the others are the tests and what they need).
		refactor=$(git -C "$wt" log --no-mailmap --format=%H --author=lorenzo.stoakes vmalock/base..vmalock/v4 | tail -n 1)
		[ -n "$refactor" ] || die "$E_FAIL" "no patch of the series is Lorenzo Stoakes' (the refactor)"
	else
		refactor=$(git -C "$wt" rev-parse "vmalock/$series")
	fi
	build_commit "$wt" "$refactor^" || exit "$E_FAIL"
	before=$ARTIFACTS/vmlinux
	build_commit "$wt" "$refactor" || exit "$E_FAIL"
	after=$ARTIFACTS/vmlinux
	results_dir nfc
	out=$RES
	log "comparing $(git -C "$wt" log -1 --format='%h' "$refactor^") -> $(git -C "$wt" log -1 --format='%h %s' "$refactor") ($OPT_CC, $OPT_CONFIG config)"

	"$wt/scripts/bloat-o-meter" "$before" "$after" >"$out/bloat-o-meter.txt" ||
		die "$E_FAIL" "bloat-o-meter failed: see $out/bloat-o-meter.txt"
	sed 's/^/  bloat-o-meter: /' "$out/bloat-o-meter.txt"

	python3 "$VMALOCK_TOP/tools/lib/nfc.py" "$before" "$after" >"$out/functions.txt" ||
		die "$E_FAIL" "the comparison failed"
	local ndiff
	ndiff=$(grep -c '^  ' "$out/functions.txt" || true)
	grep '^  ' "$out/functions.txt" | head -n 40 || true
	[ "$ndiff" -le 40 ] || log "... $ndiff lines in all: $out/functions.txt"
	printf 'nfc %s%s %s: %s; bloat-o-meter %s\n' "$OPT_CC" "${OPT_SERIES:+ $series}" "$OPT_CONFIG" \
		"$(tail -n 1 "$out/functions.txt")" "$(tail -n 1 "$out/bloat-o-meter.txt")"
	if [ "$strict" -eq 1 ] && [ "$ndiff" -ne 0 ]; then
		log "--strict: $ndiff functions differ or exist on one side only"
		exit "$E_FAIL"
	fi
}
