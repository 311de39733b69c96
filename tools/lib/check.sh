# shellcheck shell=bash
# vmalock check: per-patch checkpatch, kernel-doc, W=1 and sparse builds.

usage_check() {
	cat <<'U'
usage: tools/vmalock check [--series v4|mainline|refcount] [--cc gcc|clang]
                           [--config debug|default|kcsan|kasan] [--no-build]
                           [--kernel 7.3|7.2] [--tree DIR]

For each patch of the series, in its own worktree (so KUnit builds are not
disturbed):
  - scripts/checkpatch.pl --strict on the patch: 0 errors, warnings, checks;
  - scripts/kernel-doc -none -Wall on the .c/.h files it touches;
  - a bisect build after it: the objects in VMALOCK_CHECK_OBJECTS
    (tools/vmalock.conf) and the object of every .c it touches, with W=1
    and with sparse (C=2), compared with the same objects on the base.
    Warnings already on the base are shown once and not counted. The
    configuration is the KUnit one (--config, default debug).
Prints a count line per check and exits 1 if any count is not 0.
U
}

# check_objs WT BUILD OUT OBJ...: build OBJs with W=1 then sparse, warnings
# (file, message; no line numbers) into OUT.w1 and OUT.sparse.
check_objs() {
	local wt=$1 build=$2 out=$3 o
	shift 3
	mapfile -t mk < <(cc_make_opts)
	: >"$out.w1.raw"
	: >"$out.sparse.raw"
	# The suite's option, as the last commit's config has it: the build of
	# a commit before the one that adds the option has dropped it.
	"$wt/scripts/config" --file "$build/.config" --enable "$VMALOCK_KUNIT_OPTION" ||
		{ echo "vmalock: cannot set CONFIG_$VMALOCK_KUNIT_OPTION in $build/.config" >&2; return 1; }
	for o in "$@"; do
		rm -f "$build/$o"
		make -C "$wt" O="$build" ARCH=x86_64 "${mk[@]}" -j"$(nproc)" W=1 "$o" \
			>>"$out.w1.raw" 2>&1 || { cat "$out.w1.raw" >&2; return 1; }
		make -C "$wt" O="$build" ARCH=x86_64 "${mk[@]}" -j"$(nproc)" C=2 "$o" \
			>>"$out.sparse.raw" 2>&1 || { cat "$out.sparse.raw" >&2; return 1; }
	done
	normalise_warnings "$out.w1.raw" >"$out.w1"
	normalise_warnings "$out.sparse.raw" >"$out.sparse"
}

# normalise_warnings RAW: the compiler or sparse warnings and errors in the
# build output RAW, without line and column numbers (which a patch above
# them shifts), sorted and unique: what comm compares with the base's.
normalise_warnings() {
	{ grep -E '(warning|error):' "$1" || true; } |
		sed -E 's/:[0-9]+:[0-9]+:/:/; s/:[0-9]+:/:/' | LC_ALL=C sort -u
}

cmd_check() {
	parse_opts 'series= cc= config= no-build' "$@"
	common_opts
	build_opts
	local series=${OPT_SERIES:-v4} do_build=1 wt start c i=0 total=0
	[ -z "${OPT_NO_BUILD:-}" ] || do_build=0
	series_file "$series" >/dev/null
	need perl
	[ "$do_build" -eq 0 ] || { need_cc; need sparse; }
	lock_tree
	tree_args
	wt=$(sub_path apply "${TARGS[@]}" --series "$series")
	start=$(git -C "$wt" rev-parse "$(series_base "$series")")
	local branch=vmalock/$series commits
	mapfile -t commits < <(git -C "$wt" rev-list --reverse "$start..$branch")
	[ ${#commits[@]} -gt 0 ] || die "$E_FAIL" "$branch has no commit after its base"
	local cwt build out
	worktree_at "$(main_tree "$wt")" "$series-check" "$start"
	cwt=$WT
	build=$(build_dir "$cwt")
	results_dir check
	out=$RES
	mkdir -p "$(dirname "$build")"

	if [ "$do_build" -eq 1 ]; then
		# The last commit's config: it enables the test object too.
		checkout "$cwt" "${commits[-1]}" || exit "$E_FAIL"
		kunit_args config "$cwt"
		step "configure $build" to_log "$out/config.log" kunit_py "$cwt" "${KARGS[@]}" ||
			die "$E_FAIL" "kunit.py config failed: see $out/config.log"
		checkout "$cwt" "$start" || exit "$E_FAIL"
		# shellcheck disable=SC2086 # a list of objects
		step "base: W=1 and sparse on $VMALOCK_CHECK_OBJECTS" \
			check_objs "$cwt" "$build" "$out/base" $VMALOCK_CHECK_OBJECTS ||
			die "$E_FAIL" "the base does not build"
		log "warnings already on the base (not counted): W=1 $(wc -l <"$out/base.w1"), sparse $(wc -l <"$out/base.sparse")"
		sed 's/^/  base: /' "$out/base.w1" "$out/base.sparse" >&2
	fi

	for c in "${commits[@]}"; do
		i=$((i + 1))
		local subj cp kd objs=() n_w1=0 n_sp=0 files
		subj=$(git -C "$cwt" log -1 --format=%s "$c")
		checkout "$cwt" "$c" || exit "$E_FAIL"
		cp=$(git -C "$cwt" format-patch -1 --stdout "$c" |
			(cd "$cwt" && perl scripts/checkpatch.pl --strict --show-types - 2>&1) || true)
		local ce cw cc
		ce='' cw=0 cc=0
		read -r ce cw cc < <(printf '%s\n' "$cp" | sed -n 's/^total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p') || true
		mapfile -t files < <(git -C "$cwt" diff-tree --no-commit-id --name-only --diff-filter=AM -r "$c" -- '*.c' '*.h')
		kd=''
		[ ${#files[@]} -eq 0 ] ||
			kd=$(cd "$cwt" && { scripts/kernel-doc -none -Wall "${files[@]}" 2>&1 || true; })
		if [ "$do_build" -eq 1 ]; then
			# shellcheck disable=SC2086 # a list of objects
			mapfile -t objs < <(printf '%s\n' $VMALOCK_CHECK_OBJECTS \
				"${files[@]}" | sed -n 's/\.[co]$/.o/p' | sort -u)
			check_objs "$cwt" "$build" "$out/$i" "${objs[@]}" ||
				{ log "patch $i does not build"; total=$((total + 1)); continue; }
			n_w1=$(comm -13 "$out/base.w1" "$out/$i.w1" | wc -l)
			n_sp=$(comm -13 "$out/base.sparse" "$out/$i.sparse" | wc -l)
			comm -13 "$out/base.w1" "$out/$i.w1" | sed 's/^/  new W=1: /' >&2
			comm -13 "$out/base.sparse" "$out/$i.sparse" | sed 's/^/  new sparse: /' >&2
		fi
		[ -n "$ce" ] || { ce=1; printf '%s\n' "$cp" >&2; }
		[ -z "$kd" ] || printf '%s\n' "$kd" | sed 's/^/  kernel-doc: /' >&2
		[ "$ce$cw$cc" = 000 ] || printf '%s\n' "$cp" | grep -E '^(ERROR|WARNING|CHECK)' | sed 's/^/  checkpatch: /' >&2
		local nkd
		nkd=$(printf '%s' "$kd" | grep -c . || true)
		printf 'check %d/%d %s: checkpatch %d errors, %d warnings, %d checks; kernel-doc %d; W=1 new %s; sparse new %s\n' \
			"$i" "${#commits[@]}" "$subj" "$ce" "$cw" "$cc" "$nkd" \
			"$([ "$do_build" -eq 1 ] && echo "$n_w1" || echo -)" "$([ "$do_build" -eq 1 ] && echo "$n_sp" || echo -)"
		total=$((total + ce + cw + cc + nkd + n_w1 + n_sp))
	done
	log "results: $out"
	[ "$total" -eq 0 ] || exit "$E_FAIL"
}
