#!/usr/bin/env bats
# The harness's own logic, without a kernel tree: the option parser,
# failures that must not be lost, the parsers of results, the splat
# patterns, locking, and interrupted runs.

load helpers

setup() {
	export VMALOCK_CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -p "$VMALOCK_CACHE"
	export VMALOCK_QEMU=$TOP/tests/fakes/qemu VMALOCK_KVM_DEV=$BATS_TEST_TMPDIR/no-kvm
}

# lib CODE: run CODE with tools/lib/common.sh sourced.
lib() { bash -c ". '$TOP/tools/lib/common.sh'; $1"; }

@test "options: --opt value and --opt=value; unknown options and missing values are usage errors" {
	run "$VMALOCK" check --series
	[ "$status" -eq 2 ]
	[[ $output == *"--series needs a value"* ]]
	# An empty value is no value: refused before any work starts.
	run "$VMALOCK" kunit --runtime=
	[ "$status" -eq 2 ]
	[[ $output == *"--runtime needs a value"* ]]
	[ ! -e "$VMALOCK_CACHE/debs" ]
	run "$VMALOCK" build --bogus
	[ "$status" -eq 2 ]
	[[ $output == *"unknown option '--bogus'"* ]]
	run "$VMALOCK" kunit --target=nope
	[ "$status" -eq 2 ]
	[[ $output == *"--target: series, base, head, mainline or all, not 'nope'"* ]]
	# --target=head is accepted: the error is about what follows.
	run "$VMALOCK" kunit --target=head --as-is
	[ "$status" -eq 2 ]
	[[ $output == *"give it with --tree"* ]]
	# A usage error leaves no results directory behind.
	[ ! -e "$VMALOCK_CACHE/results" ]
	run "$VMALOCK" boot --image ""
	[ "$status" -eq 2 ]
	[[ $output == *"--image needs a value"* ]]
	run "$VMALOCK" check --config=nope
	[ "$status" -eq 2 ]
	[[ $output == *"--config: default, debug, kcsan or kasan, not 'nope'"* ]]
	run "$VMALOCK" nfc --strict=1
	[ "$status" -eq 2 ]
	[[ $output == *"--strict takes no value"* ]]
	run "$VMALOCK" build --series bogus
	[ "$status" -eq 2 ]
	[[ $output == *"--series: unknown series 'bogus'"* ]]
	run "$VMALOCK" fetch stray
	[ "$status" -eq 2 ]
	[[ $output == *"unexpected argument 'stray'"* ]]
}

@test "options: --tree names a path that does not exist" {
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/missing"
	[ "$status" -eq 6 ]
	[[ $output == *"--tree $BATS_TEST_TMPDIR/missing: no such directory"* ]]
}

@test "a series that names a missing patch fails (exit 2), it does not apply the rest" {
	repo=$BATS_TEST_TMPDIR/repo
	mkdir -p "$repo"
	cp -r "$TOP/tools" "$TOP/patches" "$TOP/base" "$TOP/series" "$TOP/series.mainline" "$repo/"
	echo 0009-missing.patch >>"$repo/series"
	run "$repo/tools/vmalock" apply
	[ "$status" -eq 2 ]
	[[ $output == *"series lists patches/0009-missing.patch, which does not exist"* ]]
	[ ! -d "$VMALOCK_CACHE/worktrees" ]
	echo 0009-missing.patch >>"$repo/base/series"
	run "$repo/tools/vmalock" base
	[ "$status" -eq 2 ]
	[[ $output == *"base/series lists base/0009-missing.patch"* ]]
}

@test "kunit: a checkout that fails is a failure, not a build of another commit" {
	k=$BATS_TEST_TMPDIR/k
	fake_kernel "$k"
	run "$VMALOCK" kunit --tree "$k" --as-is --accel tcg
	[ "$status" -eq 0 ]
	wt=$(ls -d "$VMALOCK_CACHE"/worktrees/*-as-is)
	run bash -c ". '$TOP/tools/lib/common.sh'; checkout '$wt' 0123456789abcdef0123456789abcdef01234567 || echo 'caught'"
	[[ $output == *"cannot check out"*"caught"* ]]
	# A build that fails fails the run.
	echo '/* v2 */' >>"$k/mm/tests/vma_lock_kunit.c"
	git -C "$k" -c user.name=t -c user.email=t@t commit -qam v2
	FAKE_BUILD_FAIL=1 run "$VMALOCK" kunit --tree "$k" --as-is --accel tcg
	[ "$status" -eq 1 ]
	[[ $output == *"build with gcc failed"* ]]
}

@test "kunit --as-is: the suite on your tree as it is, arguments passed on to kunit.py" {
	k=$BATS_TEST_TMPDIR/k
	fake_kernel "$k"
	before=$(git -C "$k" status --porcelain; git -C "$k" for-each-ref; git -C "$k" rev-parse HEAD)
	FAKE_QEMU_LOG=$BATS_TEST_TMPDIR/qemu.log run "$VMALOCK" kunit --tree "$k" --as-is --accel tcg -- --kernel_args=foo=1 'vma_lock.*'
	[ "$status" -eq 0 ]
	[[ $output == *"kunit user-"*": 1 passed, 0 failed, 0 skipped"* ]]
	grep -q 'foo=1' "$BATS_TEST_TMPDIR/qemu.log"
	grep -q 'kunit.filter_glob=vma_lock\.\*' "$BATS_TEST_TMPDIR/qemu.log"
	[ "$before" = "$(git -C "$k" status --porcelain; git -C "$k" for-each-ref; git -C "$k" rev-parse HEAD)" ]
	# Each run keeps its results; latest-kunit is the last.
	run "$VMALOCK" kunit --tree "$k" --as-is --accel tcg
	[ "$status" -eq 0 ]
	[ "$(find "$VMALOCK_CACHE/results" -maxdepth 1 -name '*-kunit-*' | wc -l)" -eq 2 ]
	[ -f "$VMALOCK_CACHE/results/latest-kunit/$(git -C "$k" log -1 --format=%h).json" ]
	# A tree without the tests is refused, with the reason.
	git -C "$k" -c user.name=t -c user.email=t@t rm -q mm/tests/vma_lock_kunit.c
	git -C "$k" -c user.name=t -c user.email=t@t commit -qm "no test"
	run "$VMALOCK" kunit --tree "$k" --as-is --accel tcg
	[ "$status" -eq 6 ]
	[[ $output == *"has no mm/tests/vma_lock_kunit.c"* ]]
}

@test "kunit: a case that fails, or a splat beside passing cases, fails the run" {
	k=$BATS_TEST_TMPDIR/k
	fake_kernel "$k"
	fq=$BATS_TEST_TMPDIR/qemu
	sed 's/    ok 1 vma_test_fake/    not ok 1 vma_test_fake/' "$TOP/tests/fakes/qemu" >"$fq"
	chmod +x "$fq"
	VMALOCK_QEMU=$fq run "$VMALOCK" kunit --tree "$k" --as-is --accel tcg
	[ "$status" -eq 1 ]
	[[ $output == *"0 passed, 1 failed"* ]]
	sed 's/^echo "\[    1.000000\] reboot/echo "[    0.9] WARNING: CPU: 0 PID: 1 at mm\/mmap_lock.c:1 x"; &/' "$TOP/tests/fakes/qemu" >"$fq"
	VMALOCK_QEMU=$fq run "$VMALOCK" kunit --tree "$k" --as-is --accel tcg
	[ "$status" -eq 1 ]
	[[ $output == *"1 passed, 0 failed"*"kernel splat"*"WARNING: CPU: 0"* ]]
}

@test "kunit_json.py: counts, failed cases and reported cases from captured results" {
	j=$TOP/tools/lib/kunit_json.py
	run python3 "$j" counts "$TOP/tests/data/kunit-pass.json"
	[ "$output" = "8 0 0" ]
	run python3 "$j" reported "$TOP/tests/data/kunit-pass.json" vma_lock
	[ "$output" = 8 ]
	run python3 "$j" failed "$TOP/tests/data/kunit-mixed.json" vma_lock
	[ "$output" = "vma_test_b
vma_test_param" ]
	run python3 "$j" counts "$TOP/tests/data/kunit-mixed.json"
	[ "$output" = "2 3 1" ]
	run python3 "$j" counts "$BATS_TEST_TMPDIR/none.json"
	[ "$output" = "0 0 0" ]
	run python3 "$j" bogus
	[ "$status" -eq 2 ]
}

@test "check: warnings are compared without line numbers" {
	run bash -c ". '$TOP/tools/lib/common.sh'; . '$TOP/tools/lib/check.sh'; normalise_warnings '$TOP/tests/data/w1-build.txt'"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$TOP/tests/data/w1-build.expected")" ]
}

@test "nfc.py: identical objects compare equal, a changed function is named" {
	d=$BATS_TEST_TMPDIR
	printf 'int f(int x) { return x + 1; }\nint g(int x) { return x * 3; }\n' >"$d/a.c"
	printf 'int f(int x) { return x + 1; }\nint g(int x) { return x * 5 + 1; }\n' >"$d/b.c"
	gcc -O2 -c "$d/a.c" -o "$d/a.o"
	gcc -O2 -c "$d/b.c" -o "$d/b.o"
	run python3 "$TOP/tools/lib/nfc.py" "$d/a.o" "$d/a.o"
	[[ ${lines[-1]} == "2 functions compared, 2 identical, 0 differ"* ]]
	run python3 "$TOP/tools/lib/nfc.py" "$d/a.o" "$d/b.o"
	[[ $output == *"differs, instructions: g "* ]]
	[[ ${lines[-1]} == "2 functions compared, 1 identical, 1 differ"* ]]
}

@test "benchmark bounds: within them ok, a spread or a ratio of medians beyond them fails" {
	sum() { bash -c ". '$TOP/tools/lib/common.sh'; . '$TOP/tools/lib/boot.sh'; bench_summary 1000 0.1 0.1"; }
	run sum <<<"base 1 1000.0
head 1 1000.5
base 2 1000.2
head 2 1000.6"
	[ "$status" -eq 0 ]
	[[ $output == *"bench head/base: 1.00045 (+0.045%; bound +-0.1%)"* ]]
	[[ ${lines[-1]} == "bench: ok" ]]
	run sum <<<"base 1 1000.0
head 1 1002.0"
	[ "$status" -eq 1 ]
	[[ $output == *"bench: FAILED: head/base +0.200% beyond +-0.1%"* ]]
	run sum <<<"base 1 1000.0
base 2 1003.0
head 1 1001.0
head 2 1001.0"
	[ "$status" -eq 1 ]
	[[ $output == *"spread of base 0.300% > 0.1%"* ]]
	run sum <<<"base 1 
head 1 1000.0"
	[ "$status" -eq 1 ]
	[[ $output == *"base round 1 gave no figure"* ]]
	# One odd round of three (its mean would be -0.13%) leaves the median.
	run bash -c ". '$TOP/tools/lib/common.sh'; . '$TOP/tools/lib/boot.sh'; bench_summary 1000 0.1 1.0" <<<"base 1 1000.0
head 1 1000.1
base 2 1000.1
head 2 996.0
base 3 1000.0
head 3 1000.0"
	[ "$status" -eq 0 ]
	[[ $output == *"bench head: 3 runs of 1000 faults, median 1000.0 ns/fault, min 996.0, max 1000.1"* ]]
	[[ $output == *"bench head/base: 1.00000 (+0.000%; bound +-0.1%)"* ]]
}

# A positive and a negative console line for each pattern of tools/lib/badness.
@test "splat patterns: each pattern flags its line; exclusions and look-alikes do not" {
	positive=(
		"Badness at mm/x.c:1"
		"[ 1.0] WARNING: CPU: 0 PID: 1 at mm/mmap_lock.c:90 f+0x1/0x2"
		"[ 1.0] Warn: something"
		"[ 1.0] BUG: kernel NULL pointer dereference, address: 0"
		"[ 1.0] ======================================================"
		"[ 1.0] Call Trace:"
		"[ 1.0] Call trace:"
		"[ 1.0] Oops: 0000 [#1] SMP"
		"[ 1.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"
		"[ 1.0] rcu: INFO: rcu_preempt self-detected stall on CPU"
		"[ 1.0] Stall ended before state dump start"
		"[ 1.0] ??? Writer stall state 1 g42 c0 f0x0"
		"[ 1.0] rcu: rcu_preempt kthread starved for 2503 jiffies!"
		"[ 1.0] !!! something"
		"[ 1.0] INFO: task vma_stress:66 blocked for more than 61 seconds."
		"[ 1.0] Kernel panic - not syncing: Fatal exception"
		"[ 1.0] WARNING: possible circular locking dependency detected"
		"[ 1.0] BUG: KASAN: slab-use-after-free in vma_refcount_put+0x1/0x2"
		"[ 1.0] BUG: KCSAN: data-race in vma_start_read / vma_refcount_put"
		"[ 1.0] UBSAN: shift-out-of-bounds in mm/x.c:1:2"
		"[ 1.0] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!"
	)
	negative=(
		"[ 1.0] ODEBUG: object is on stack, but not annotated"
		"[ 1.0] This means that this is a DEBUG kernel and it is"
		"[ 1.0] Warning: unable to open an initial console."
		"[ 1.0] Warning: Failed to add ttynull console. No stdin, stdout, and stderr for the init process!"
		"[ 1.0] NOHZ tick-stop error: Non-RCU local softirq work is pending, handler #08!!!"
		"[ 0.0] Command line: console=ttyS0 sysctl.kernel.hung_task_timeout_secs=60"
		"[ 1.0] Run /init as init process"
		"[ 1.0]     ok 3 vma_test_writer_waits_for_reader"
	)
	for l in "${positive[@]}"; do
		printf '%s\r\n' "$l" >"$BATS_TEST_TMPDIR/c"
		run lib "splat_lines '$BATS_TEST_TMPDIR/c'"
		[ -n "$output" ] || { echo "not flagged: $l"; return 1; }
	done
	for l in "${negative[@]}"; do
		printf '%s\n' "$l" >"$BATS_TEST_TMPDIR/c"
		run lib "splat_lines '$BATS_TEST_TMPDIR/c'"
		[ -z "$output" ] || { echo "flagged: $l"; return 1; }
	done
}

@test "two runs on one tree: the second waits with a message, or refuses with VMALOCK_NO_WAIT=1" {
	mkdir -p "$VMALOCK_CACHE/locks"
	exec 9>>"$VMALOCK_CACHE/locks/7.3.lock"
	flock 9
	echo "pid 1: tools/vmalock kunit, since 10:00:00" >"$VMALOCK_CACHE/locks/7.3.holder"
	VMALOCK_NO_WAIT=1 run "$VMALOCK" base
	[ "$status" -eq 11 ]
	[[ $output == *"tree 7.3 is in use by another vmalock run (pid 1: tools/vmalock kunit"* ]]
	(sleep 3; flock -u 9) &
	SECONDS=0
	run timeout 20 bash -c ". '$TOP/tools/lib/common.sh'; OPT_KERNEL=7.3 OPT_TREE=; VMALOCK_SUB=test; lock_tree; echo got it"
	[ "$status" -eq 0 ]
	[[ $output == *"waiting for another vmalock run that uses tree 7.3"*"got it"* ]]
	[ "$SECONDS" -ge 2 ]
	exec 9>&-
}

@test "tests/run: a bats that is missing or crashes is counted as failed" {
	bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	printf '#!/bin/sh\necho "1..3"\necho "ok 1 a"\nexit 1\n' >"$bin/bats"
	chmod +x "$bin/bats"
	PATH=$bin:$PATH run "$TOP/tests/run" --bats-only
	[ "$status" -eq 1 ]
	[[ $output == *"bats: planned 3, ran 1"* ]]
	[[ ${lines[-1]} == "1 passed, 1 failed, 0 skipped" ]]
}

@test "known findings: exactly the listed sanitizer report is left out; any other report still fails" {
	c=$TOP/tests/data/kcsan-known.console
	run lib "splat_lines '$c' 2>/dev/null"
	[ -z "$output" ] || { echo "flagged: $output"; return 1; }
	run lib "splat_lines '$c' 2>&1 >/dev/null"
	[[ $output == *"known upstream finding, not counted"*"BUG: KCSAN: data-race in mas_start / mas_wr_store_entry (1 time)"* ]]
	# The same report with other functions, or another report, counts.
	sed 's/mas_start \/ mas_wr_store_entry/mas_start \/ mas_store_prealloc/' "$c" >"$BATS_TEST_TMPDIR/other"
	run lib "splat_lines '$BATS_TEST_TMPDIR/other' 2>/dev/null"
	[[ $output == *"BUG: KCSAN: data-race in mas_start / mas_store_prealloc"* ]]
	sed 's/BUG: KCSAN: data-race in mas_start/BUG: KASAN: slab-use-after-free in mas_start/' "$c" >"$BATS_TEST_TMPDIR/kasan"
	run lib "splat_lines '$BATS_TEST_TMPDIR/kasan' 2>/dev/null"
	[[ $output == *"BUG: KASAN"* ]]
	# KCSAN's start-up note names its option: not a report.
	printf '%s\n' "[    0.6] kcsan: non-strict mode configured - use CONFIG_KCSAN_STRICT=y to see all data races" >"$BATS_TEST_TMPDIR/note"
	run lib "splat_lines '$BATS_TEST_TMPDIR/note'"
	[ -z "$output" ]
}

@test "tests/run and tests/fresh: bad arguments are named, exit 2" {
	run "$TOP/tests/run" --quick --all
	[ "$status" -eq 2 ]
	[[ $output == *"tests/run: one option at most, got '--quick --all'"* ]]
	run "$TOP/tests/run" --fast
	[ "$status" -eq 2 ]
	[[ $output == *"tests/run: unknown option '--fast'"* ]]
	run "$TOP/tests/fresh" --kvm
	[ "$status" -eq 2 ]
	[[ $output == *"tests/fresh: --kvm needs a value"* ]]
	run "$TOP/tests/fresh" --kvm=sometimes
	[ "$status" -eq 2 ]
	[[ $output == *"tests/fresh: --kvm: as-is, absent or unusable, not 'sometimes'"* ]]
	run bash "$TOP/.ci/install-deps" --bogus
	[ "$status" -eq 2 ]
	[[ $output == *"unexpected argument '--bogus'"* ]]
}

@test "environment: a bad value of a variable the tools read is named, before any work" {
	VMALOCK_KVM_PROBE_TIMEOUT=abc run "$VMALOCK" accel --accel tcg
	[ "$status" -eq 2 ]
	[[ $output == *"VMALOCK_KVM_PROBE_TIMEOUT: seconds, a positive number, not 'abc'"* ]]
	VMALOCK_HEARTBEAT=0 run "$VMALOCK" fetch
	[ "$status" -eq 2 ]
	[[ $output == *"VMALOCK_HEARTBEAT: seconds, a positive number, not '0'"* ]]
	VMALOCK_NO_WAIT=yes run "$VMALOCK" fetch
	[ "$status" -eq 2 ]
	[[ $output == *"VMALOCK_NO_WAIT: 0 or 1, not 'yes'"* ]]
	VMALOCK_KERNEL=6.1 run "$VMALOCK" fetch
	[ "$status" -eq 2 ]
	[[ $output == *"VMALOCK_KERNEL: unknown kernel '6.1'"* ]]
	run "$VMALOCK" fetch --kernel 6.1
	[[ $output == *"--kernel: unknown kernel '6.1'"* ]]
	VMALOCK_TREE=/nonexistent run "$VMALOCK" apply
	[ "$status" -eq 6 ]
	[[ $output == *"VMALOCK_TREE /nonexistent: no such directory"* ]]
	[ -z "$(ls -A "$VMALOCK_CACHE")" ]
	# --help still works whatever the environment says.
	VMALOCK_NO_WAIT=yes run "$VMALOCK" fetch --help
	[ "$status" -eq 0 ]
}
