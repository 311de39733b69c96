# shellcheck shell=bash
# vmalock mutants: break the code on purpose, check that the tests see it.

# shellcheck source=tools/lib/kunit.sh
. "$VMALOCK_TOP/tools/lib/kunit.sh"

usage_mutants() {
	cat <<'U'
usage: tools/vmalock mutants [--only NAME[,NAME...]] [--boot] [--seconds N]
                             [--config debug|default|kcsan|kasan] [--accel auto|kvm|tcg]
                             [--kernel 7.3|7.2] [--tree DIR]

For each tests/mutations/NAME.patch (a deliberate bug; its "Expect-red:"
line names the cases that must catch it, an "Expect-splat:" line a report
the console must show (an extended regular expression), a "Config:" line the
configuration it needs, e.g. kcsan, and a "Runs:" line how many times the
multi-thread cases run in the boot, default 1): apply it on top of the series head in
a worktree of its own (v4-mutant), build, run the vma_lock suite, and judge
the run. A mutation is caught when every expected case failed and every
expected report is on the console, every case of the suite was still
reported (nothing hung), kunit.py did not reach its timeout and the
console shows no hung task. --boot also
boots each mutated kernel with the vma_stress workload (--seconds N, default
30) and says which net caught the bug: the suite, the workload, both or
neither (a mutation is then caught if either did). The worktree is restored
after each mutation, also when the run is interrupted. A header mutation
rebuilds almost everything (4-9 minutes), a .c one is incremental. Prints
one line per mutation with its red cases and wall time; exits 1 if a
mutation was not caught.
U
}

# Put the mutant worktree WT back at the series head, nothing else in it.
restore_mutant_worktree() {
	vgit -C "$1" reset -q --hard vmalock/v4 && git -C "$1" clean -q -fdx
}

# The cases the suite reports, from the head's source: KUNIT_CASE lines.
suite_cases() {
	sed -n 's/^[[:space:]]*KUNIT_CASE[_A-Z]*(\([a-z0-9_]*\).*/\1/p' "$1"
}

cmd_mutants() {
	parse_opts 'only= boot seconds= config= accel=' "$@"
	common_opts
	# shellcheck disable=SC2034 # read by build_opts and the build helpers
	OPT_CC=gcc
	build_opts
	accel_opt
	local config=$OPT_CONFIG seconds=${OPT_SECONDS:-30} f m expect red missing caught=0 total=0 t0
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
	OPT_RUNS=1
	OPT_TIMEOUT=$VMALOCK_KUNIT_TIMEOUT
	KUNIT_PASS=("$VMALOCK_KUNIT_SUITE")
	lock_tree
	tree_args
	local wt mwt
	wt=$(sub_path apply "${TARGS[@]}" --series v4)
	worktree_at "$(main_tree "$wt")" v4-mutant vmalock/v4
	mwt=$WT
	# Whatever happens, the worktree goes back to the series head.
	# shellcheck disable=SC2064 # expand now
	trap "restore_mutant_worktree '$mwt' >/dev/null 2>&1" EXIT
	results_dir mutants
	local cases ncases
	mapfile -t cases < <(suite_cases "$mwt/$VMALOCK_KUNIT_FILE")
	ncases=${#cases[@]}
	local table=$RES/table.txt
	printf '%-22s %-8s %6s  %s\n' mutation verdict 'wall s' 'red cases (suite); workload' >"$table"

	# Header mutations last: each rebuilds almost everything, and so would
	# the first .c mutation after one.
	local -a order
	mapfile -t order < <(cd "$VMALOCK_TOP/tests/mutations" &&
		grep -L '^diff --git a/include/' -- *.patch
		grep -l '^diff --git a/include/' -- *.patch)
	for f in "${order[@]/#/$VMALOCK_TOP/tests/mutations/}"; do
		m=$(basename "$f" .patch)
		[ "$only" = ",," ] || [[ $only == *",$m,"* ]] || continue
		total=$((total + 1))
		t0=$(date +%s)
		expect=$(sed -n 's/^Expect-red: //p' "$f")
		local esplat mconf
		esplat=$(sed -n 's/^Expect-splat: //p' "$f")
		mconf=$(sed -n 's/^Config: //p' "$f")
		OPT_CONFIG=${mconf:-$config}
		OPT_RUNS=$(sed -n 's/^Runs: //p' "$f")
		OPT_RUNS=${OPT_RUNS:-1}
		positive "$m: Runs" "$OPT_RUNS"
		clean_worktree "$mwt"
		checkout "$mwt" vmalock/v4 || exit "$E_FAIL"
		git -C "$mwt" apply "$f" || die "$E_APPLY" "$m does not apply to the series head"
		log "mutant $m: $(sed -n 's/^Mutation: //p' "$f")"
		local kdir=$RES/$m.kernel suite_ok=0 boot_r=none why=''
		if build_tree "$mwt" "mutant $m"; then
			keep_artifacts "$mwt" "$kdir"
			KUNIT_WT=$mwt kunit_exec "mutant-$m" "$kdir" "$VMALOCK_KUNIT_SUITE" >/dev/null 2>&1 || true
			red=$(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" failed "$RES/mutant-$m.json" "$VMALOCK_KUNIT_SUITE" | sort -u | tr '\n' ' ')
			local reported
			reported=$(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" reported "$RES/mutant-$m.json" "$VMALOCK_KUNIT_SUITE")
			missing=''
			for c in $expect; do
				case " $red " in *" $c "*) ;; *) missing="$missing $c" ;; esac
			done
			[ -z "$missing" ] || why="$why expected red but passed:$missing;"
			if [ -n "$esplat" ]; then
				if tr -d '\r' <"$RES/mutant-$m.console" 2>/dev/null | grep -a -q -E "$esplat"; then
					red="${red}[console: ${esplat}]"
				else
					why="$why no '$esplat' on the console;"
				fi
			fi
			[ "$reported" -eq "$ncases" ] || why="$why $reported of $ncases cases reported;"
			# kunit.py prints the TimeoutExpired it stopped QEMU for.
			! grep -a -q -E 'timed out after [0-9]+ seconds' "$RES/mutant-$m.log" ||
				why="$why kunit.py timed out;"
			! grep -a -q -E 'blocked for more than' "$RES/mutant-$m.console" 2>/dev/null || why="$why hung task on the console;"
			[ -n "$why" ] || [ -z "$red" ] || suite_ok=1
		else
			red='(did not build)'
			why=' did not build;'
		fi
		if [ -n "${OPT_BOOT:-}" ] && [ -f "$kdir/bzImage" ]; then
			local r=0
			run_sub boot --image "$kdir/bzImage" --seconds "$seconds" --accel "$OPT_ACCEL" \
				--config "$OPT_CONFIG" --cc "$OPT_CC" \
				>"$RES/mutant-$m.boot.log" 2>&1 || r=$?
			boot_r=$([ "$r" -eq 0 ] && echo passed || echo "red (exit $r)")
		fi
		restore_mutant_worktree "$mwt" || die "$E_FAIL" "cannot restore $mwt"
		local verdict net
		if [ "$suite_ok" -eq 1 ] || [[ $boot_r == red* ]]; then
			caught=$((caught + 1))
			verdict=caught
		else
			verdict=MISSED
		fi
		net=suite
		if [ -n "${OPT_BOOT:-}" ]; then
			case "$suite_ok${boot_r%% *}" in
			1red) net=both ;; 1*) net=suite ;; 0red) net=workload ;; *) net=neither ;;
			esac
		fi
		printf 'mutant %s: %s in %d s; red: %s%s%s\n' "$m" "$verdict" "$(($(date +%s) - t0))" \
			"${red:-none}" "$([ -z "${OPT_BOOT:-}" ] || echo "; workload $boot_r; caught by: $net")" \
			"$([ -z "$why" ] || echo ";$why")"
		printf '%-22s %-8s %6d  %s%s\n' "$m" "$verdict" "$(($(date +%s) - t0))" "${red:-none}" \
			"$([ -z "${OPT_BOOT:-}" ] || echo "; workload $boot_r")" >>"$table"
	done
	[ "$total" -gt 0 ] || die "$E_USAGE" "no mutation selected"
	printf 'mutants: %d of %d caught (table: %s)\n' "$caught" "$total" "$table"
	[ "$caught" -eq "$total" ] || exit "$E_FAIL"
}
