# shellcheck shell=bash
# vmalock build: a build of the series head with the KUnit configuration.

usage_build() {
	cat <<'U'
usage: tools/vmalock build [--cc gcc|clang] [--arch x86_64|arm64]
                           [--config debug|default|kcsan|kasan]
                           [--series v4|mainline] [--kernel 7.3|7.2] [--tree DIR]

Build the head of the series (tools/vmalock apply) with the
configuration the KUnit runs use (the suite's mm/tests/.kunitconfig and
kunit-configs/), with gcc or with clang-19 (make LLVM=-19). The build is
kept (vmlinux, bzImage, .config) under $VMALOCK_CACHE/artifacts/, keyed by
the source tree and the configuration, so later kunit, boot and nfc runs
of the same tree reuse it. Prints the path of bzImage as the last line.
U
}

cmd_build() {
	parse_opts 'series= cc= arch= config=' "$@"
	common_opts
	build_opts
	local series=${OPT_SERIES:-v4} wt c
	series_file "$series" >/dev/null
	need_cc
	lock_tree
	tree_args
	wt=$(sub_path apply "${TARGS[@]}" --series "$series")
	c=$(git -C "$wt" rev-parse "vmalock/$series")
	build_commit "$wt" "$c" || exit "$E_FAIL"
	printf 'build %s %s %s: ok (%s)\n' "$(basename "$wt")" "$OPT_CC" \
		"$(git -C "$wt" log -1 --format=%h "$c")" \
		"$(grep -E '^CONFIG_(CC|CLANG)_VERSION=' "$ARTIFACTS/.config" | tr '\n' ' ')"
	emit_path "$ARTIFACTS/bzImage"
}
