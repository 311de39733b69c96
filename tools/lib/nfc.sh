# shellcheck shell=bash
# vmalock nfc: machine code before and after the refactor patch.

usage_nfc() {
	cat <<'U'
usage: tools/vmalock nfc [--cc gcc|clang] [--config debug|default] [--strict]
                         [--kernel 7.3|7.2] [--tree DIR]

Compare the kernels built from the commit before the patch of the v4 series
that touches include/linux/mmap_lock.h and from that patch, with the same
configuration and compiler (the vmlinux images that `tools/vmalock kunit`
keeps; missing ones are built):
  (a) scripts/bloat-o-meter on vmlinux;
  (b) the disassembly of every function (objdump -d, addresses and
      RIP-relative displacements normalised), and by name the functions
      that call rcuwait_wake_up() (inlined vma_refcount_put()) or
      vma_mark_detached().
Prints the figures and each differing function, "layout only" (the same
instructions in another block order) or "instructions"; the full report is
under $VMALOCK_CACHE/results/. Exits 1 if the comparison cannot be made,
and with --strict also if any function differs.
U
}

# nfc_vmlinux WT COMMIT: path of a vmlinux built from COMMIT (built if needed).
nfc_vmlinux() { printf '%s/vmlinux\n' "$(build_commit "$1" "$2" | tail -n 1)"; }

cmd_nfc() {
	parse_common "$@"
	local strict=0
	set -- "${REST[@]}"
	while [ $# -gt 0 ]; do
		if [ "$1" = --strict ]; then
			strict=1
			shift
			continue
		fi
		if [ $# -lt 2 ] || ! parse_build_opt "$1" "$2"; then
			die "$E_USAGE" "unexpected argument '$1'"
		fi
		shift 2
	done
	need_cc
	need objdump python3
	local targs=(--kernel "$OPT_KERNEL")
	[ -z "$OPT_TREE" ] || targs+=(--tree "$OPT_TREE")
	local wt refactor before after out
	wt=$(run_sub apply --series v4 "${targs[@]}" | tail -n 1)
	refactor=$(git -C "$wt" log --format=%H vmalock/base..vmalock/v4 -- include/linux/mmap_lock.h | tail -n 1)
	[ -n "$refactor" ] || die "$E_FAIL" "no patch of the series touches include/linux/mmap_lock.h"
	before=$(nfc_vmlinux "$wt" "$refactor^" | tail -n 1)
	after=$(nfc_vmlinux "$wt" "$refactor" | tail -n 1)
	vgit -C "$wt" checkout -q vmalock/v4
	out="$VMALOCK_CACHE/results/nfc-$(basename "$wt")-$OPT_CC-$OPT_CONFIG"
	mkdir -p "$out"
	log "comparing $(git -C "$wt" log -1 --format='%h' "$refactor^") -> $(git -C "$wt" log -1 --format='%h %s' "$refactor") ($OPT_CC, $OPT_CONFIG config)"

	"$wt/scripts/bloat-o-meter" "$before" "$after" >"$out/bloat-o-meter.txt" || true
	sed 's/^/  bloat-o-meter: /' "$out/bloat-o-meter.txt"

	python3 "$VMALOCK_TOP/tools/lib/nfc.py" "$before" "$after" >"$out/functions.txt" ||
		die "$E_FAIL" "the comparison failed"
	grep '^  ' "$out/functions.txt" | head -n 40 || true
	[ "$(grep -c '^  ' "$out/functions.txt")" -le 40 ] ||
		log "... $(grep -c '^  ' "$out/functions.txt") lines in all: $out/functions.txt"
	printf 'nfc %s %s: %s; bloat-o-meter %s\n' "$OPT_CC" "$OPT_CONFIG" \
		"$(tail -n 1 "$out/functions.txt")" "$(tail -n 1 "$out/bloat-o-meter.txt")"
	if [ "$strict" -eq 1 ] && grep -q '^  ' "$out/functions.txt"; then
		exit "$E_FAIL"
	fi
}
