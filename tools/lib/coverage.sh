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
runs), and prints the .gcda data of both objects to the console, each with
its md5sum. gcov reads them back; an inline function of
include/linux/mmap_lock.h counts in every object that inlines it. A second
boot, the same without the module, gives the baseline: the lines the
guest's own processes run (their page faults take lock_vma_under_rcu()'s
common path). Those lines are listed apart and left out of the bound.

Prints, for each function of tools/vmalock.conf's VMALOCK_COVERAGE_FUNCS_<series>,
the lines and branches run and the lines never run; writes functions.txt,
lcov.info and (with lcov's genhtml) an HTML report under the results.
Fails if the suite fails or the console shows a splat, if a function has
no lines in the data, or if fewer than VMALOCK_COVERAGE_MIN percent of
those functions' lines not run by the baseline ran.
U
}

# The initramfs /init: reset the counters, load the suite (unless booted
# with vmalock.baseline), quiet the kernel's messages, print the data.
coverage_init_script() {
	cat <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
echo 1 >/sys/kernel/debug/gcov/reset
if grep -q vmalock.baseline /proc/cmdline; then
	echo "vmalock-init: baseline, no module"
else
	echo "vmalock-init: insmod /vma_lock_kunit.ko"
	insmod /vma_lock_kunit.ko || echo "vmalock-init: insmod failed"
fi
sleep 1
dmesg -n 1
find /sys/kernel/debug/gcov -name 'mmap_lock.gcda' -o -name 'vma_lock_kunit.gcda' |
while read -r f; do
	# A snapshot: the counters go on changing while the guest runs.
	cat "$f" >/gcda.tmp
	set -- $(md5sum /gcda.tmp)
	echo "vmalock-gcda-begin $1 ${f#/sys/kernel/debug/gcov}"
	base64 /gcda.tmp
	echo "vmalock-gcda-end"
done
echo "vmalock-gcda-done"
sleep 1
reboot -f
INIT
}

# coverage_gcda CONSOLE BUILD OUT NAME...: decode the .gcda files printed
# on CONSOLE into OUT (by their path under BUILD), each checked against its
# md5sum; print their paths. Fails unless the end marker is there and the
# files are exactly NAME... (base names).
coverage_gcda() {
	python3 - "$@" <<'PY'
import base64, binascii, hashlib, os, re, sys
console, build, out = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
want = sorted(sys.argv[4:])
path, data, done, got = None, [], False, []
for line in open(console, errors='replace'):
    line = line.strip('\r\n')
    if line.startswith('vmalock-gcda-begin '):
        _, md5, name = line.split(' ', 2)
        path, data = os.path.realpath(name), []
    elif line == 'vmalock-gcda-end' and path:
        try:
            blob = base64.b64decode(''.join(data), validate=True)
        except binascii.Error:
            sys.exit('%s: the data on the console is damaged' % path)
        if hashlib.md5(blob).hexdigest() != md5:
            sys.exit('%s: md5sum differs from the guest\'s' % path)
        if path.startswith(build + '/'):
            dest = os.path.join(out, os.path.relpath(path, build))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            open(dest, 'wb').write(blob)
            got.append(dest)
        path = None
    elif line == 'vmalock-gcda-done':
        done = True
    elif path:
        if not re.fullmatch(r'[A-Za-z0-9+/=]*', line):
            sys.exit('%s: a line on the console is not base64: %r' % (path, line[:60]))
        data.append(line)
names = sorted(os.path.basename(g) for g in got)
if not done:
    sys.exit('the guest did not finish printing its data')
if names != want:
    sys.exit('want %s, got: %s' % (' '.join(want), ' '.join(names) or 'none'))
print('\n'.join(got))
PY
}

# coverage_gcov BUILD DATA-DIR: gcov's JSON for each .gcda under DATA-DIR,
# read with the .gcno beside the object in BUILD, one document a line;
# gcov's messages in DATA-DIR/gcov.log. Fails on any gcov error, or if
# there is no .gcda.
coverage_gcov() {
	local build=$1 data=$2 gcov g rel n=0
	gcov=gcov-$(gcc -dumpversion | cut -d. -f1)
	command -v "$gcov" >/dev/null || gcov=gcov
	: >"$data/gcov.log"
	while read -r g; do
		rel=${g#"$data"/}
		cp "$build/${rel%.gcda}.gcno" "${g%.gcda}.gcno" || return 1
		(cd "$build" && "$gcov" -b --json-format --stdout -o "$(dirname "$g")" "$g") 2>>"$data/gcov.log" ||
			return 1
		n=$((n + 1))
	done < <(find "$data" -type f -name '*.gcda')
	! grep -q -i 'mismatch\|corrupt\|cannot open' "$data/gcov.log" || return 1
	[ "$n" -gt 0 ]
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
	GIT_AUTHOR_DATE=$VMALOCK_GIT_DATE vgit -C "$cwt" commit -q -a \
		--author="$VMALOCK_GIT_NAME <$VMALOCK_GIT_EMAIL>" \
		-m "coverage: profile mm/mmap_lock.o and the suite" ||
		die "$E_FAIL" "cannot commit the profiling lines in $cwt"
	c=$(git -C "$cwt" rev-parse HEAD)
	build_commit "$cwt" "$c" || exit "$E_FAIL"
	results_dir coverage
	local console=$RES/kunit.console rc build label splat
	build=$(build_dir "$cwt")
	local want
	for label in baseline kunit; do
		want=(mmap_lock.gcda)
		[ "$label" = baseline ] || want+=("$(basename "${VMALOCK_KUNIT_FILE%.c}").gcda")
		module_boot "$label" "$ARTIFACTS" "$cwt" coverage_init_script \
			"$([ "$label" = kunit ] || echo vmalock.baseline)"
		splat=$(splat_lines "$RES/$label.console")
		if [ "$BOOT_RC" -ne 0 ] || [ -n "$splat" ]; then
			[ -z "$splat" ] || printf '%s\n' "$splat" >&2
			die "$E_FAIL" "the $label boot failed (exit $BOOT_RC) or showed a splat: see $RES/$label.console"
		fi
		mkdir -p "$RES/$label.gcda"
		coverage_gcda "$RES/$label.console" "$build" "$RES/$label.gcda" "${want[@]}" >"$RES/$label.gcda.list" ||
			die "$E_FAIL" "no usable .gcda data on the console ($RES/$label.console)"
		coverage_gcov "$build" "$RES/$label.gcda" >"$RES/$label.gcov.json" ||
			die "$E_FAIL" "gcov could not read the $label data: see $RES/$label.gcda/gcov.log"
	done
	rc=0
	if grep -a -q 'vmalock-init: insmod .* failed' "$console"; then
		log "the module did not load: see $console"
		rc=1
	fi
	local p f s
	read -r p f s < <(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" counts "$RES/kunit.json")
	log "the suite: $p passed, $f failed, $s skipped"
	# shellcheck disable=SC2086 # a list of function names
	python3 "$VMALOCK_TOP/tools/lib/coverage.py" "$cwt" "$RES" "$VMALOCK_COVERAGE_MIN" \
		"$RES/baseline.gcov.json" $funcs <"$RES/kunit.gcov.json" || rc=1
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
