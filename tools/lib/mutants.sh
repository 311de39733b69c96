# shellcheck shell=bash
# vmalock mutants: break the code on purpose, check that the tests see it.

# shellcheck source=tools/lib/kunit.sh
. "$VMALOCK_TOP/tools/lib/kunit.sh"

usage_mutants() {
	cat <<'U'
usage: tools/vmalock mutants [--series v4|mainline] [--only NAME[,NAME...]]
                             [--boot] [--seconds N]
                             [--config debug|default|kcsan|kasan] [--accel auto|kvm|tcg]
                             [--kernel 7.3|7.2] [--tree DIR]

For each deliberate bug in tests/mutations/, apply it on top of the head of
the series (v4, the default: the January 2026 form of the code; mainline:
the pristine tree's) in a worktree of its own, build, run the vma_lock
suite, and judge the run as `tools/vmalock kunit` judges one: it fails if a
case failed or the console shows a splat. tests/mutations/NAME.patch is a
bug as written against the v4 head; tests/mutations/mainline/NAME.patch,
where it exists, is the same bug in the mainline form of the code. Header
lines of a mutation: "Expect-red:" the cases that must catch it,
"Expect-splat:" a report the console must show (an extended regular
expression), "Config:" the configuration it needs (e.g. kcsan), "Runtime:"
how long each race case runs, in ms.

Verdicts: caught (the run fails, the expected cases are red and the
expected report is there), WRONG (the run fails, but not as expected),
MISSED (the run passes), HUNG (kunit.py reached its timeout, a case went
unreported, or the console shows a hung task, whatever else happened).
--boot also boots each mutated kernel with the vma_stress workload
(--seconds N, default 30) and says which net caught the bug: the suite,
the workload, both or neither (caught if either did). The worktree is
restored after each mutation, also when the run is interrupted. A header
mutation rebuilds almost everything (4-9 minutes), a .c one is
incremental. Prints one line per mutation and a table; exits 1 unless
every mutation was caught.
U
}

# Put the mutant worktree WT back at the series head REF, nothing else in it.
restore_mutant_worktree() {
	vgit -C "$1" reset -q --hard "$2" && git -C "$1" clean -q -fdx
}

# The cases the suite reports, from the head's source: KUNIT_CASE lines.
suite_cases() {
	sed -n 's/^[[:space:]]*KUNIT_CASE[_A-Z]*(\([a-z0-9_]*\).*/\1/p' "$1"
}

# mutation_file SERIES NAME: the patch of mutation NAME for SERIES.
mutation_file() {
	local d=$VMALOCK_TOP/tests/mutations
	if [ -f "$d/$1/$2.patch" ]; then
		printf '%s\n' "$d/$1/$2.patch"
	else
		printf '%s\n' "$d/$2.patch"
	fi
}

cmd_mutants() {
	parse_opts 'series= only= boot seconds= config= accel=' "$@"
	common_opts
	# shellcheck disable=SC2034 # read by build_opts and the build helpers
	OPT_CC=gcc
	build_opts
	accel_opt
	local config=$OPT_CONFIG seconds=${OPT_SECONDS:-30} series=${OPT_SERIES:-v4} f m expect red missing caught=0 total=0 t0
	series_file "$series" >/dev/null
	positive --seconds "$seconds"
	[ -z "${OPT_SECONDS:-}" ] || [ -n "${OPT_BOOT:-}" ] || die "$E_USAGE" "--seconds is the length of the boots: it needs --boot"
	local only=",${OPT_ONLY:-},"
	if [ -n "${OPT_ONLY+x}" ]; then
		[ -n "${OPT_ONLY//,/}" ] || die "$E_USAGE" "--only: no mutation named"
		for m in ${OPT_ONLY//,/ }; do
			[ -f "$VMALOCK_TOP/tests/mutations/$m.patch" ] ||
				die "$E_USAGE" "--only: no tests/mutations/$m.patch"
		done
	fi
	need_cc
	need "$VMALOCK_QEMU" flock
	OPT_TIMEOUT=$VMALOCK_KUNIT_TIMEOUT
	KUNIT_PASS=("$VMALOCK_KUNIT_SUITE")
	lock_tree
	tree_args
	local wt mwt head=vmalock/$series
	wt=$(sub_path apply "${TARGS[@]}" --series "$series")
	worktree_at "$(main_tree "$wt")" "$series-mutant" "$head"
	mwt=$WT
	# Whatever happens, the worktree goes back to the series head.
	on_exit "restore_mutant_worktree '$mwt' '$head' >/dev/null 2>&1"
	results_dir mutants
	local cases ncases
	mapfile -t cases < <(suite_cases "$mwt/$VMALOCK_KUNIT_FILE")
	ncases=${#cases[@]}
	local table=$RES/table.txt
	printf '# %s: %s\n%-22s %-8s %6s %6s  %s\n' "$series" "$(git -C "$mwt" log -1 --format='%h %s' "$head")" \
		mutation verdict 'wall s' 'suite s' 'what caught it' >"$table"

	# Header mutations last: each rebuilds almost everything, and so would
	# the first .c mutation after one.
	local -a order names=()
	for f in "$VMALOCK_TOP"/tests/mutations/*.patch; do names+=("$(basename "$f" .patch)"); done
	mapfile -t order < <(for m in "${names[@]}"; do
		grep -q '^diff --git a/include/' "$(mutation_file "$series" "$m")" && echo "1 $m" || echo "0 $m"
	done | sort -s -k1,1n | cut -d' ' -f2)
	for m in "${order[@]}"; do
		f=$(mutation_file "$series" "$m")
		[ "$only" = ",," ] || [[ $only == *",$m,"* ]] || continue
		total=$((total + 1))
		t0=$(date +%s)
		expect=$(sed -n 's/^Expect-red: //p' "$f")
		local esplat mconf
		esplat=$(sed -n 's/^Expect-splat: //p' "$f")
		mconf=$(sed -n 's/^Config: //p' "$f")
		OPT_CONFIG=${mconf:-$config}
		OPT_RUNTIME=$(sed -n 's/^Runtime: //p' "$f")
		[ -z "$OPT_RUNTIME" ] || positive "$m: Runtime" "$OPT_RUNTIME"
		clean_worktree "$mwt"
		checkout "$mwt" "$head" || exit "$E_FAIL"
		git -C "$mwt" apply "$f" || die "$E_APPLY" "${f#"$VMALOCK_TOP"/} does not apply to the $series head"
		log "mutant $m: $(sed -n 's/^Mutation: //p' "$f")"
		local kdir=$RES/$m.kernel suite_ok=0 boot_r=none why='' hung='' krc splat suite_s=0
		if build_tree "$mwt" "mutant $m"; then
			keep_artifacts "$mwt" "$kdir"
			krc=0
			KUNIT_WT=$mwt kunit_exec "mutant-$m" "$kdir" "$VMALOCK_KUNIT_SUITE" \
				>"$RES/mutant-$m.summary" 2>&1 || krc=$?
			suite_s=$(sed -n 's/.* (\([0-9]*\) s, [a-z]*)$/\1/p' "$RES/mutant-$m.summary" | tail -n 1)
			red=$(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" failed "$RES/mutant-$m.json" "$VMALOCK_KUNIT_SUITE" | sort -u | tr '\n' ' ')
			red=${red% }
			splat=''
			[ ! -f "$RES/mutant-$m.console" ] || splat=$(splat_lines "$RES/mutant-$m.console" 2>/dev/null | head -n 1)
			local reported
			reported=$(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" reported "$RES/mutant-$m.json" "$VMALOCK_KUNIT_SUITE")
			missing=''
			for c in $expect; do
				case " $red " in *" $c "*) ;; *) missing="$missing $c" ;; esac
			done
			[ -z "$missing" ] || why="$why expected red but passed:$missing;"
			if [ -n "$esplat" ] &&
				! tr -d '\r' <"$RES/mutant-$m.console" 2>/dev/null | grep -a -q -E "$esplat"; then
				why="$why no '$esplat' on the console;"
			fi
			[ "$reported" -eq "$ncases" ] || hung="$hung $reported of $ncases cases reported;"
			# kunit.py prints the TimeoutExpired it stopped QEMU for.
			! grep -a -q -E 'timed out after [0-9]+ seconds' "$RES/mutant-$m.log" ||
				hung="$hung kunit.py timed out;"
			! grep -a -q -E 'blocked for more than' "$RES/mutant-$m.console" 2>/dev/null || hung="$hung hung task on the console;"
			[ "$krc" -eq 0 ] || [ -n "$hung" ] || [ -n "$why" ] || suite_ok=1
			red="${red:+red: $red}${splat:+${red:+; }console: ${splat:0:70}}"
		else
			red='(did not build)'
			why=' did not build;'
			krc=1
		fi
		if [ -n "${OPT_BOOT:-}" ] && [ -f "$kdir/bzImage" ]; then
			local r=0
			run_sub boot --image "$kdir/bzImage" --seconds "$seconds" --accel "$OPT_ACCEL" \
				--config "$OPT_CONFIG" --cc "$OPT_CC" \
				>"$RES/mutant-$m.boot.log" 2>&1 || r=$?
			boot_r=$([ "$r" -eq 0 ] && echo passed || echo "red (exit $r)")
		fi
		restore_mutant_worktree "$mwt" "$head" || die "$E_FAIL" "cannot restore $mwt"
		local verdict net
		if [ -n "$hung" ]; then
			verdict=HUNG
			why="$hung$why"
		elif [ "$suite_ok" -eq 1 ] || [[ $boot_r == red* ]]; then
			caught=$((caught + 1))
			verdict=caught
		elif [ "$krc" -ne 0 ]; then
			verdict=WRONG
		else
			verdict=MISSED
		fi
		net=suite
		if [ -n "${OPT_BOOT:-}" ]; then
			case "$suite_ok${boot_r%% *}" in
			1red) net=both ;; 1*) net=suite ;; 0red) net=workload ;; *) net=neither ;;
			esac
		fi
		printf 'mutant %s (%s): %s in %d s (suite %s s); %s%s%s\n' "$m" "$series" "$verdict" \
			"$(($(date +%s) - t0))" "${suite_s:-?}" "${red:-nothing red}" \
			"$([ -z "${OPT_BOOT:-}" ] || echo "; workload $boot_r; caught by: $net")" \
			"$([ -z "$why" ] || echo ";$why")"
		printf '%-22s %-8s %6d %6s  %s%s\n' "$m" "$verdict" "$(($(date +%s) - t0))" "${suite_s:-?}" \
			"${red:-nothing red}" "$([ -z "${OPT_BOOT:-}" ] || echo "; workload $boot_r")" >>"$table"
	done
	[ "$total" -gt 0 ] || die "$E_USAGE" "no mutation selected"
	printf 'mutants (%s): %d of %d caught (table: %s)\n' "$series" "$caught" "$total" "$table"
	[ "$caught" -eq "$total" ] || exit "$E_FAIL"
}
