# shellcheck shell=bash
# vmalock nfc: machine code before and after the refactor patch.

usage_nfc() {
	cat <<'U'
usage: tools/vmalock nfc [--cc gcc|clang] [--config debug|default]
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
Prints the figures and each differing function; exits 1 if any function
differs.
U
}

# nfc_vmlinux WT COMMIT: path of a vmlinux built from COMMIT (built if needed).
nfc_vmlinux() {
	local wt=$1 c=$2 a build
	a="$(artifact_dir "$c" "$wt")/vmlinux"
	if [ ! -f "$a" ]; then
		build=$(build_dir "$wt")
		mkdir -p "$(dirname "$build")"
		vgit -C "$wt" checkout -q --detach "$c"
		mapfile -t kcfg < <(kunitconfig_args)
		mapfile -t mk < <(cc_make_opts)
		local args=(build --arch=x86_64 --build_dir="$build" "${kcfg[@]}" --jobs="$(nproc)")
		for m in "${mk[@]}"; do args+=(--make_options="$m"); done
		# shellcheck disable=SC2016 # expanded by the inner sh
		step "build $(git -C "$wt" log -1 --format='%h %s' "$c") with $OPT_CC" \
			sh -c 'cd "$1" && shift && python3 tools/testing/kunit/kunit.py "$@"' sh "$wt" "${args[@]}" \
			>"$build.log" 2>&1 || die "$E_FAIL" "build failed: see $build.log"
		mkdir -p "$(dirname "$a")"
		cp "$build/vmlinux" "$a"
	fi
	printf '%s\n' "$a"
}

cmd_nfc() {
	parse_common "$@"
	set -- "${REST[@]}"
	while [ $# -gt 0 ]; do
		if [ $# -lt 2 ] || ! parse_build_opt "$1" "$2"; then
			die "$E_USAGE" "unexpected argument '$1'"
		fi
		shift 2
	done
	need_cc
	need objdump awk
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

	local f
	for f in before after; do
		objdump -d --no-show-raw-insn -w "$([ $f = before ] && echo "$before" || echo "$after")" |
			awk -f "$VMALOCK_TOP/tools/lib/nfc.awk" | sort >"$out/$f.fn"
	done
	join -t "$(printf '\t')" -j 1 -o 0 "$out/before.fn" "$out/after.fn" >"$out/common.names" || true
	# Lines present on one side only, by function name.
	comm -3 "$out/before.fn" "$out/after.fn" | cut -f1 | sed 's/^\t//' | sort -u >"$out/changed.names"
	local n_common n_changed n_only
	n_common=$(wc -l <"$out/common.names")
	n_changed=$(comm -12 "$out/common.names" "$out/changed.names" | tee "$out/differing.names" | wc -l)
	n_only=$(comm -23 "$out/changed.names" "$out/common.names" | tee "$out/one-side.names" | wc -l)
	grep -F 'call A <rcuwait_wake_up>' "$out/after.fn" | cut -f1 >"$out/wakers.names" || true
	grep -F 'call A <vma_mark_detached>' "$out/after.fn" | cut -f1 >"$out/detachers.names" || true

	local name
	while read -r name; do
		printf '  differs: %s\n' "$name"
		diff <(grep -m1 "^$name	" "$out/before.fn" | cut -f2 | tr ';' '\n') \
			<(grep -m1 "^$name	" "$out/after.fn" | cut -f2 | tr ';' '\n') |
			head -n 12 | sed 's/^/    /'
	done <"$out/differing.names"
	sed 's/^/  only on one side: /' "$out/one-side.names"
	printf 'nfc %s %s: %d functions compared, %d identical, %d differ, %d on one side only; inlined vma_refcount_put() in %d (%s identical), vma_mark_detached() callers %d (%s identical); %s\n' \
		"$OPT_CC" "$OPT_CONFIG" "$n_common" "$((n_common - n_changed))" "$n_changed" "$n_only" \
		"$(wc -l <"$out/wakers.names")" "$(comm -23 <(sort "$out/wakers.names") "$out/differing.names" | wc -l)" \
		"$(wc -l <"$out/detachers.names")" "$(comm -23 <(sort "$out/detachers.names") "$out/differing.names" | wc -l)" \
		"$(tail -n 1 "$out/bloat-o-meter.txt")"
	[ "$n_changed" -eq 0 ] && [ "$n_only" -eq 0 ] || exit "$E_FAIL"
}
