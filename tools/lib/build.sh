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
	local series=v4 wt
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
	local a
	a=$(build_commit "$wt" "$(git -C "$wt" rev-parse HEAD)" | tail -n 1)
	printf 'build %s %s %s: ok (%s)\n' "$(basename "$wt")" "$OPT_CC" \
		"$(git -C "$wt" log -1 --format=%h)" \
		"$(grep -E '^CONFIG_(CC|CLANG)_VERSION=' "$a/.config" | tr '\n' ' ')"
	emit_path "$a/bzImage"
}
