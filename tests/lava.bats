#!/usr/bin/env bats
# The LAVA jobs of tools/vmalock lava: written, valid for lava-run, and
# judged from LAVA's own records. No kernel is built or booted here.

load helpers

setup() {
	export VMALOCK_CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -p "$VMALOCK_CACHE" "$BATS_TEST_TMPDIR/files"
	echo kernel >"$BATS_TEST_TMPDIR/files/kernel"
	echo ramdisk >"$BATS_TEST_TMPDIR/files/ramdisk.cpio"
	LAVA_PY=$TOP/tools/lib/lava.py
	TEMPLATES=$(bash -c '. "$1/tools/lib/common.sh"; . "$1/tools/lib/lava.sh"; lava_template_dir' _ "$TOP")
	# The stress boot's command line, as tools/vmalock lava passes it.
	STRESS_CMDLINE=$(bash -c '. "$1/tools/lib/common.sh"; . "$1/tools/lib/boot.sh"
		BOOT_SELFTEST=1 boot_cmdline ttyS0 "$(boot_wargs 30)"' _ "$TOP")
}

# write JOB ARCH [BASE]: the job and device files in $BATS_TEST_TMPDIR/JOB-ARCH.
write() {
	local out=$BATS_TEST_TMPDIR/$1-$2 files=$BATS_TEST_TMPDIR/files
	mkdir -p "$out"
	python3 "$LAVA_PY" write --job "$1" --arch "$2" --url "${3:-file://$files}" \
		--timeout 600 --suite vma_lock --name "vmalock $1 test" --templates "$TEMPLATES" --out "$out" \
		--kernel "$files/kernel" --ramdisk "$files/ramdisk.cpio" \
		--cmdline "$([ "$1" = stress ] && echo "$STRESS_CMDLINE")"
}

@test "lava: suite and stress jobs, x86_64 and arm64, pass lava-run --validate" {
	[ -f "$TEMPLATES/qemu.jinja2" ]
	for job in suite stress; do
		for arch in x86_64 arm64; do
			[ "$job/$arch" != stress/arm64 ] || continue
			write "$job" "$arch"
			out=$BATS_TEST_TMPDIR/$job-$arch
			run lava-run --validate --job-id 1 --output-dir "$out/lava" \
				--device "$out/device.yaml" "$out/job.yaml"
			[ "$status" -eq 0 ]
			grep -q '"case": "validate", "definition": "lava", "result": "pass"' <<<"$output"
		done
	done
	grep -q 'qemu-system-aarch64' "$BATS_TEST_TMPDIR/suite-arm64/device.yaml"
	grep -q 'console=ttyAMA0' "$BATS_TEST_TMPDIR/suite-arm64/job.yaml"
	grep -q 'ramdisk.cpio' "$BATS_TEST_TMPDIR/stress-x86_64/job.yaml"
	grep -q -F -- "-append \"$STRESS_CMDLINE panic_on_warn=1 hung_task_panic=1 panic=-1\"" \
		"$BATS_TEST_TMPDIR/stress-x86_64/job.yaml"
	grep -q 'kunit_shutdown=reboot panic_on_warn=1' "$BATS_TEST_TMPDIR/suite-arm64/job.yaml"
	grep -q 'vmalock.args=-d,30,-t,4,-w,2,-r vmalock.selftest=1' <<<"$STRESS_CMDLINE"
	# Each artifact with its checksum; the job's bound holds its actions'.
	grep -q "sha256sum: $(sha256sum "$BATS_TEST_TMPDIR/files/kernel" | cut -d' ' -f1)" \
		"$BATS_TEST_TMPDIR/suite-x86_64/job.yaml"
	python3 - "$BATS_TEST_TMPDIR/stress-x86_64/job.yaml" <<-'P'
		import sys, yaml
		j = yaml.safe_load(open(sys.argv[1]))
		acts = sum(a[k]['timeout']['seconds'] for a in j['actions'] for k in a)
		assert j['timeouts']['job']['seconds'] > acts, (j['timeouts'], acts)
	P
	# A lab's https job: its local twin, with file:// URLs, is what validates.
	write suite arm64 https://lab.example.org/vmalock
	out=$BATS_TEST_TMPDIR/suite-arm64
	grep -q 'url: https://lab.example.org/vmalock/kernel' "$out/job.yaml"
	grep -q "url: file://$BATS_TEST_TMPDIR/files/kernel" "$out/job-local.yaml"
	run lava-run --validate --job-id 1 --output-dir "$out/lava2" --device "$out/device.yaml" "$out/job-local.yaml"
	[ "$status" -eq 0 ]
	# A stress job without the boot's command line is refused.
	run python3 "$LAVA_PY" write --job stress --arch x86_64 --url file:///x --suite vma_lock \
		--name t --templates "$TEMPLATES" --out "$BATS_TEST_TMPDIR/nocmd" \
		--kernel "$BATS_TEST_TMPDIR/files/kernel" --ramdisk "$BATS_TEST_TMPDIR/files/ramdisk.cpio"
	[ "$status" -ne 0 ]
}

@test "lava: the monitors patterns record whole names, skips, and any exit code" {
	write suite x86_64
	write stress x86_64
	python3 - "$BATS_TEST_TMPDIR/suite-x86_64/job.yaml" "$BATS_TEST_TMPDIR/stress-x86_64/job.yaml" <<-'P'
		import re, sys, yaml
		def mon(f):
		    return yaml.safe_load(open(f))['actions'][2]['test']['monitors'][0]
		def rec(m, text):
		    return [(x.group('test_case_id'), m['fixupdict'].get(x.group('result')))
		            for x in re.finditer(m['pattern'], text)]
		s = mon(sys.argv[1])
		got = rec(s, '[ 1.0]     ok 1 read_locks_raise_refcnt\r\n'
		             '[ 1.1]     ok 2 last_reader_leaves_vma_alone # SKIP needs KASAN\r\n'
		             '[ 1.2]     not ok 3 writer_waits_for_last_reader\r\n'
		             '[ 1.3] ok 1 vma_lock\r\n')
		assert got == [('read_locks_raise_refcnt', 'pass'), ('last_reader_leaves_vma_alone', 'skip'),
		               ('writer_waits_for_last_reader', 'fail'), ('vma_lock', 'pass')], got
		# A line still arriving is not a result yet.
		assert rec(s, '    ok 2 last_reader_leaves_vma_alone # SK') == []
		assert rec(s, '    ok 1 read_locks_rai') == []
		t = mon(sys.argv[2])
		got = rec(t, 'vmalock-init: vma_stress exit 0 after 32 s\r\n'
		             'vmalock-init: proc-maps-race exit 137 after 1 s\r\n')
		assert got == [('vma_stress', 'pass'), ('proc-maps-race', 'fail')], got
	P
}

# record LVL MSG: one record as lava-run logs it.
record() { printf '{"dt": "2026-12-02T10:00:00", "lvl": "%s", "msg": %s}\n' "$1" "$2"; }
# The console as LAVA keeps it: each line with the kernel's timestamp.
target() { record target "$(python3 -c 'import json,sys; print(json.dumps("[    4.176511] " + sys.argv[1]))' "$1")"; }
result() { record results "{\"definition\": \"0_vma_lock\", \"case\": \"$1\", \"result\": \"$2\"}"; }
job_result() { record results "{\"definition\": \"lava\", \"case\": \"job\", \"result\": \"$1\"}"; }

verdict() {
	run python3 "$LAVA_PY" verdict --job suite --log "$BATS_TEST_TMPDIR/lava.log" \
		--console "$BATS_TEST_TMPDIR/console.txt" --label test --seconds 1
}

@test "lava: the verdict comes from LAVA's records, every case whole and counted" {
	{
		target '    # Subtest: vma_lock'
		target '    1..3'
		target '    ok 1 read_locks_raise_refcnt'
		result read_locks_raise_refcnt pass
		target '    ok 2 lookups_survive_vma_churn # SKIP no lookup met a VMA detached under it'
		result lookups_survive_vma_churn skip
		target '    ok 3 writer_waits_for_last_reader'
		result writer_waits_for_last_reader pass
		target 'ok 1 vma_lock'
		result vma_lock pass
		job_result pass
	} >"$BATS_TEST_TMPDIR/lava.log"
	verdict
	[ "$status" -eq 0 ]
	[[ $output == *"3 passed, 0 failed, 1 skipped"* ]]
	grep -q 'ok 1 read_locks_raise_refcnt' "$BATS_TEST_TMPDIR/console.txt"

	# A failed case, a case LAVA did not record, a job LAVA did not finish.
	sed 's/"writer_waits_for_last_reader", "result": "pass"/"writer_waits_for_last_reader", "result": "fail"/' \
		"$BATS_TEST_TMPDIR/lava.log" >"$BATS_TEST_TMPDIR/l" && mv "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/lava.log"
	verdict
	[ "$status" -eq 1 ]
	[[ $output == *"2 passed, 1 failed"* ]]
	grep -v '"case": "writer_waits_for_last_reader"' "$BATS_TEST_TMPDIR/lava.log" >"$BATS_TEST_TMPDIR/l"
	mv "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/lava.log"
	verdict
	[ "$status" -eq 1 ]
	[[ $output == *"LAVA recorded 3 cases, the console names 4"* ]]
	{ grep -v '"case": "job"' "$BATS_TEST_TMPDIR/lava.log"; result writer_waits_for_last_reader pass; job_result fail; } >"$BATS_TEST_TMPDIR/l"
	mv "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/lava.log"
	verdict
	[ "$status" -eq 1 ]
	[[ $output == *"job FAILED"* ]]
}
