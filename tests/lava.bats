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

# write JOB ARCH: the job and device files in $BATS_TEST_TMPDIR/JOB-ARCH.
write() {
	local out=$BATS_TEST_TMPDIR/$1-$2
	mkdir -p "$out"
	python3 "$LAVA_PY" write --job "$1" --arch "$2" --url "file://$BATS_TEST_TMPDIR/files" \
		--timeout 600 --suite vma_lock --name "vmalock $1 test" --templates "$TEMPLATES" --out "$out" \
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
	grep -q -F -- "-append \"$STRESS_CMDLINE\"" "$BATS_TEST_TMPDIR/stress-x86_64/job.yaml"
	grep -q 'vmalock.args=-d,30,-t,4,-w,2,-r vmalock.selftest=1' <<<"$STRESS_CMDLINE"
	# A stress job without the boot's command line is refused.
	run python3 "$LAVA_PY" write --job stress --arch x86_64 --url file:///x --suite vma_lock \
		--name t --templates "$TEMPLATES" --out "$BATS_TEST_TMPDIR/nocmd"
	[ "$status" -ne 0 ]
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
	[[ $output == *"LAVA recorded 2 cases (and 1 skips), the console names 4"* ]]
	{ grep -v '"case": "job"' "$BATS_TEST_TMPDIR/lava.log"; result writer_waits_for_last_reader pass; job_result fail; } >"$BATS_TEST_TMPDIR/l"
	mv "$BATS_TEST_TMPDIR/l" "$BATS_TEST_TMPDIR/lava.log"
	verdict
	[ "$status" -eq 1 ]
	[[ $output == *"job FAILED"* ]]
}
