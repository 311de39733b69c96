# shellcheck shell=bash
# vmalock build: a full x86_64 build of the series head.

usage_build() {
	cat <<'U'
usage: tools/vmalock build [--cc gcc|clang] [--config debug|default]
                           [--series v4|mainline] [--kernel 7.3|7.2] [--tree DIR]

Build the head of the series (tools/vmalock apply) for x86_64 with the
configuration from kunit-configs/ (the one the KUnit runs use), with gcc or
with clang-19 (make LLVM=-19). The build directory is shared with
`tools/vmalock kunit`, so a later KUnit run of the head does not build
again. Prints the path of bzImage as the last line.
U
}

cmd_build() {
	parse_common "$@"
	local series=v4 wt build t0 rc=0
	set -- "${REST[@]}"
	while [ $# -gt 0 ]; do
		[ $# -ge 2 ] || die "$E_USAGE" "$1 needs a value"
		case "$1" in
		--series) series=$2 ;;
		*) parse_build_opt "$1" "$2" || die "$E_USAGE" "unexpected argument '$1'" ;;
		esac
		shift 2
	done
	need_cc
	local targs=(--kernel "$OPT_KERNEL" --series "$series")
	[ -z "$OPT_TREE" ] || targs+=(--tree "$OPT_TREE")
	wt=$(run_sub apply "${targs[@]}" | tail -n 1)
	vgit -C "$wt" checkout -q "vmalock/$series"
	build=$(build_dir "$wt")
	mapfile -t kcfg < <(kunitconfig_args)
	mapfile -t mk < <(cc_make_opts)
	local args=(build --arch=x86_64 --build_dir="$build" "${kcfg[@]}" --jobs="$(nproc)")
	for m in "${mk[@]}"; do args+=(--make_options="$m"); done
	mkdir -p "$build"
	t0=$(date +%s)
	log "build $(basename "$wt") with $OPT_CC ($OPT_CONFIG config) in $build: about 9 minutes from scratch"
	(cd "$wt" && python3 tools/testing/kunit/kunit.py "${args[@]}") >"$build.log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] || [ ! -f "$build/arch/x86/boot/bzImage" ]; then
		grep -E 'error|Error' "$build.log" | head -n 20 >&2 || true
		die "$E_FAIL" "build with $OPT_CC failed: see $build.log"
	fi
	printf 'build %s %s %s: ok (%d s, %s)\n' "$(basename "$wt")" "$OPT_CC" \
		"$(git -C "$wt" log -1 --format=%h)" "$(($(date +%s) - t0))" \
		"$(grep -E '^CONFIG_(CC|CLANG)_VERSION=' "$build/.config" | tr '\n' ' ')"
	mkdir -p "$(artifact_dir HEAD "$wt")"
	cp "$build/vmlinux" "$(artifact_dir HEAD "$wt")/vmlinux"
	emit_path "$build/arch/x86/boot/bzImage"
}
