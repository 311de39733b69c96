# shellcheck shell=bash
# vmalock coverage: which lines of the per-VMA lock code the suite runs.

# shellcheck source=tools/lib/kunit.sh
. "$VMALOCK_TOP/tools/lib/kunit.sh"

usage_coverage() {
	cat <<U
usage: tools/vmalock coverage [--series mainline|v4] [--accel auto|kvm|tcg]
                              [--timeout S] [--kernel 7.3|7.2] [--tree DIR]

Measure with gcov which lines of the per-VMA lock code the vma_lock suite
runs, on the head of a series (mainline, the default, or v4): in a worktree
of its own, mm/Makefile gets GCOV_PROFILE for mm/mmap_lock.o and the test;
the kernel is built with CONFIG_GCOV_KERNEL (kunit-configs/coverage.config
on top of the debug configuration) and the suite as a module, then booted
with an initramfs that resets the counters, loads the module (the suite
runs), and prints the .gcda data of both objects to the console. gcov
reads them back; an inline function of include/linux/mmap_lock.h counts in
every object that inlines it. (The process that reads the data out takes
a few page faults of its own: lock_vma_under_rcu()'s common path.)

Prints, for each function of tools/vmalock.conf's VMALOCK_COVERAGE_FUNCS_<series>,
the lines and branches run and the lines never run; writes functions.txt,
lcov.info and (with lcov's genhtml) an HTML report under the results.
Fails if the suite fails, or if fewer than VMALOCK_COVERAGE_MIN percent of
those functions' lines ran.
U
}

# The initramfs /init: reset the counters, load the suite, print the data.
coverage_init_script() {
	cat <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
echo 1 >/sys/kernel/debug/gcov/reset
echo "vmalock-init: insmod /vma_lock_kunit.ko"
insmod /vma_lock_kunit.ko || echo "vmalock-init: insmod failed"
for f in $(find /sys/kernel/debug/gcov -name 'mmap_lock.gcda' -o -name 'vma_lock_kunit.gcda'); do
	echo "vmalock-gcda-begin ${f#/sys/kernel/debug/gcov}"
	base64 "$f"
	echo "vmalock-gcda-end"
done
reboot -f
INIT
}

cmd_coverage() {
	parse_opts 'series= accel= timeout=' "$@"
	common_opts
	# shellcheck disable=SC2034 # read by the build helpers
	OPT_CC=gcc OPT_CONFIG=coverage OPT_MODULE=1
	build_opts
	accel_opt
	local series=${OPT_SERIES:-mainline} funcs var
	series_file "$series" >/dev/null
	var=VMALOCK_COVERAGE_FUNCS_$series
	funcs=${!var:-}
	[ -n "$funcs" ] || die "$E_USAGE" "tools/vmalock.conf has no $var"
	OPT_TIMEOUT=${OPT_TIMEOUT:-$VMALOCK_KUNIT_TIMEOUT}
	[[ $OPT_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "--timeout: seconds, not '$OPT_TIMEOUT'"
	need_cc
	need "$VMALOCK_QEMU" cpio gcov busybox base64 flock
	lock_tree
	tree_args
	local wt cwt c
	wt=$(sub_path apply "${TARGS[@]}" --series "$series")
	worktree_at "$(main_tree "$wt")" "$series-coverage" "vmalock/$series"
	cwt=$WT
	# The profiling lines, as a commit of this worktree only (the artifacts
	# are keyed by tree).
	printf '\n# coverage (tools/vmalock coverage only)\nGCOV_PROFILE_mmap_lock.o := y\nGCOV_PROFILE_%s := y\n' \
		"${VMALOCK_KUNIT_FILE#mm/}" | sed 's/\.c := y$/.o := y/' >>"$cwt/mm/Makefile"
	vgit -C "$cwt" commit -q -a -m "coverage: profile mm/mmap_lock.o and the suite" ||
		die "$E_FAIL" "cannot commit the profiling lines in $cwt"
	c=$(git -C "$cwt" rev-parse HEAD)
	build_commit "$cwt" "$c" || exit "$E_FAIL"
	results_dir coverage
	local console=$RES/kunit.console rc
	module_boot kunit "$ARTIFACTS" "$cwt" coverage_init_script
	rc=$BOOT_RC
	local p f s
	read -r p f s < <(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" counts "$RES/kunit.json")
	log "the suite: $p passed, $f failed, $s skipped"
	# The data, back to where gcov expects it: beside the .gcno files in the
	# build directory the kernel was built in.
	local build n=0
	build=$(build_dir "$cwt")
	python3 - "$console" "$build" >"$RES/gcda.list" <<'PY' || die "$E_FAIL" "no usable .gcda data on the console ($console)"
import base64, os, sys
console, build = sys.argv[1], os.path.realpath(sys.argv[2])
path, data, n = None, [], 0
for line in open(console, errors='replace'):
    line = line.strip('\r\n')
    if line.startswith('vmalock-gcda-begin '):
        path, data = os.path.realpath(line.split(' ', 1)[1]), []
    elif line == 'vmalock-gcda-end' and path:
        if path.startswith(build + '/'):
            open(path, 'wb').write(base64.b64decode(''.join(data)))
            print(path)
            n += 1
        path = None
    elif path:
        data.append(line)
sys.exit(0 if n else 1)
PY
	n=$(wc -l <"$RES/gcda.list")
	log "$n .gcda files from the guest"
	local g
	while read -r g; do
		(cd "$build" && gcov --json-format --stdout -o "$(dirname "$g")" "$g" 2>/dev/null) || true
	done <"$RES/gcda.list" >"$RES/gcov.json"
	# shellcheck disable=SC2086 # a list of function names
	python3 "$VMALOCK_TOP/tools/lib/coverage.py" "$cwt" "$RES" "$VMALOCK_COVERAGE_MIN" $funcs || rc=1
	if command -v genhtml >/dev/null; then
		genhtml -q --ignore-errors source -o "$RES/html" "$RES/lcov.info" >"$RES/genhtml.log" 2>&1 &&
			log "report: $RES/html/index.html"
	fi
	if [ "$f" -ne 0 ] || [ "$p" -eq 0 ]; then
		log "the suite did not pass under gcov: see $console"
		rc=1
	fi
	log "results: $RES"
	[ "$rc" -eq 0 ] || exit "$E_FAIL"
}
