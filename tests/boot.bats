#!/usr/bin/env bats
# The stress workload on this machine, and tools/vmalock boot against a
# fake QEMU: each way a boot can end gets its own exit code and message.

load helpers

setup() {
	export VMALOCK_CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -p "$VMALOCK_CACHE"
	# A fake emulator: logs its arguments, then acts out $FAKE_QEMU.
	FAKE=$BATS_TEST_TMPDIR/qemu-system-x86_64
	cat >"$FAKE" <<'Q'
#!/bin/bash
printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/qemu.args"
# As a kernel does: the command line first (it names hung_task_timeout_secs).
while [ $# -gt 0 ]; do [ "$1" = -append ] && echo "[    0.0] Command line: $2"; shift; done
up() { echo "[    1.0] Run /init as init process"; echo "vmalock-init: userspace up after 1.00 s"; }
case "$FAKE_QEMU" in
pass) up; echo "per-VMA lock: 7 faults handled under the VMA lock"; echo PASS ;;
crlf) up; printf 'PASS\r\n' ;;
fail) up; echo "error: faulter 0: page 3 holds 0x1, wrote 0x2 last"; echo FAIL ;;
splat) up; echo "[    2.0] WARNING: CPU: 1 PID: 40 at mm/mmap_lock.c:90 vma_refcount_put+0x1/0x2"; echo PASS ;;
lockdep) up; echo "[    2.0] ======================================================"
	echo "[    2.0] WARNING: possible circular locking dependency detected"; echo PASS ;;
hungtask) up; echo "[  128.5] INFO: task vma_stress:66 blocked for more than 61 seconds."
	echo "[  128.5] Call Trace:"; sleep 60 ;;
noboot) echo "[    0.5] Kernel panic - not syncing: VFS: Unable to mount root fs" ;;
hang) up; sleep 60 ;;
bench) up; echo "bench: 1000 write faults timed (1000 minor faults counted)"
	echo "bench: 2500000 ns, 2500.0 ns per fault"; echo PASS ;;
esac
Q
	chmod +x "$FAKE"
	export VMALOCK_QEMU=$FAKE
	# The accelerator's choice has tests of its own (accel.bats).
	export VMALOCK_ACCEL=tcg
	IMG=$BATS_TEST_TMPDIR/kernel/vmlinuz-test
	mkdir -p "$(dirname "$IMG")"
	: >"$IMG"
}

# good_config DIR: a .config in DIR with every option of kunit-configs/.
good_config() {
	cat "$TOP"/kunit-configs/*.config | grep -E '^CONFIG_' >"$1/.config"
}

@test "vma_stress: builds -Wall -Wextra clean, passes on this machine" {
	gcc -static -O2 -Wall -Wextra -Werror -pthread -o "$BATS_TEST_TMPDIR/vma_stress" \
		"$TOP/tools/stress/vma_stress.c"
	run "$BATS_TEST_TMPDIR/vma_stress" -d 2 -t 3 -w 2
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = PASS ]
	[[ $output =~ counts:\ [1-9][0-9]*\ accesses ]]
	[[ $output =~ counts:\ [1-9][0-9]*\ verifications ]]
	[[ $output =~ counts:\ [1-9][0-9]*\ VMA\ operations ]]
}

@test "vma_stress: its checks catch a corrupted slot (-X)" {
	gcc -static -O2 -pthread -o "$BATS_TEST_TMPDIR/vma_stress" "$TOP/tools/stress/vma_stress.c"
	run "$BATS_TEST_TMPDIR/vma_stress" -d 3 -X
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = FAIL ]
	[[ $output == *"error: faulter 0: page "*" holds 0x5ca1ab1e"* ]]
}

@test "vma_stress: bench mode and bad arguments" {
	gcc -static -O2 -pthread -o "$BATS_TEST_TMPDIR/vma_stress" "$TOP/tools/stress/vma_stress.c"
	run "$BATS_TEST_TMPDIR/vma_stress" -b 2000 -p 64
	[ "$status" -eq 0 ]
	[[ $output == *"bench: 2000 write faults timed"* ]]
	[[ $output =~ ns\ per\ fault ]]
	run "$BATS_TEST_TMPDIR/vma_stress" -t 0
	[ "$status" -eq 2 ]
	[[ $output == *"bad value for -t: 0"* ]]
	run "$BATS_TEST_TMPDIR/vma_stress" extra
	[ "$status" -eq 2 ]
	# -r asks for the per-VMA lock counters; without them the run fails.
	if ! grep -q '^vma_lock_success' /proc/vmstat; then
		run "$BATS_TEST_TMPDIR/vma_stress" -d 1 -r
		[ "$status" -eq 1 ]
		[[ $output == *"-r needs the per-VMA lock counters"* ]]
	fi
}

@test "boot: the initramfs holds init, busybox-static and vma_stress" {
	FAKE_QEMU=pass run "$VMALOCK" boot --image "$IMG" --seconds 5
	[ "$status" -eq 0 ]
	cpio=$(ls "$VMALOCK_CACHE"/boot/initramfs-*.cpio)
	run cpio -it --quiet <"$cpio"
	[[ $output == *"init"* ]]
	[[ $output == *"bin/busybox"* ]]
	[[ $output == *"bin/vma_stress"* ]]
	# The arguments QEMU got: TCG, 4 vCPUs, 2G, the image, the workload.
	args=$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/qemu.args")
	[[ $args == *"-accel tcg"* ]]
	[[ $args == *"-no-reboot"* ]]
	[[ $args == *"-smp 4 -m 2G"* ]]
	[[ $args == *"-kernel $IMG -initrd $cpio"* ]]
	[[ $args == *"kunit.enable=0"*"hung_task_timeout_secs=60"*"vmalock.args=-d,5,-t,4,-w,2,-r"* ]]
}

@test "boot: pass, workload failure, splat, lockdep report, no boot" {
	FAKE_QEMU=pass run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 0 ]
	[[ $output == *"boot image (gcc, debug, tcg): PASS"* ]]
	FAKE_QEMU=crlf run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 0 ]
	FAKE_QEMU=fail run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 1 ]
	[[ $output == *"the workload did not pass"* ]]
	[[ $output == *"error: faulter 0: page 3"* ]]
	FAKE_QEMU=splat run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 9 ]
	[[ $output == *"kernel splat"*"WARNING: CPU: 1 PID: 40 at mm/mmap_lock.c:90"* ]]
	FAKE_QEMU=lockdep run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 9 ]
	[[ $output == *"possible circular locking dependency"* ]]
	FAKE_QEMU=noboot run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 8 ]
	[[ $output == *"did not reach userspace"*"Kernel panic"* ]]
}

@test "boot: a guest that hangs is stopped at the timeout" {
	SECONDS=0
	FAKE_QEMU=hang run "$VMALOCK" boot --image "$IMG" --timeout 3
	[ "$status" -eq 10 ]
	[[ $output == *"no end after 3 s"* ]]
	[ "$SECONDS" -lt 20 ]
	[ -z "$(pgrep -f "$FAKE" || true)" ]
	# A hung task reported before the end is shown with the timeout.
	FAKE_QEMU=hungtask run "$VMALOCK" boot --image "$IMG" --timeout 3
	[ "$status" -eq 10 ]
	[[ $output == *"splat: "*"INFO: task vma_stress:66 blocked for more than 61 seconds"* ]]
}

@test "boot: missing image, missing QEMU, bad numbers" {
	run "$VMALOCK" boot --image "$BATS_TEST_TMPDIR/nope/bzImage"
	[ "$status" -eq 2 ]
	[[ $output == *"no kernel image at"* ]]
	VMALOCK_QEMU=/nonexistent/qemu-system-x86_64 run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 3 ]
	[[ $output == *"'/nonexistent/qemu-system-x86_64' is not installed"* ]]
	# Each bad number names its option.
	run "$VMALOCK" boot --image "$IMG" --seconds 0
	[ "$status" -eq 2 ]
	[[ $output == *"--seconds: a positive number, not '0'"* ]]
	run "$VMALOCK" boot --image "$IMG" --bench-runs x
	[ "$status" -eq 2 ]
	[[ $output == *"--bench-runs: a positive number, not 'x'"* ]]
	run "$VMALOCK" boot --image "$IMG" --bench-faults -3
	[ "$status" -eq 2 ]
	[[ $output == *"--bench-faults: a positive number, not '-3'"* ]]
	run "$VMALOCK" boot --image "$IMG" --timeout 1.5
	[ "$status" -eq 2 ]
	[[ $output == *"--timeout: a positive number, not '1.5'"* ]]
	run "$VMALOCK" boot --soak x
	[ "$status" -eq 2 ]
	run "$VMALOCK" boot --image "$IMG" --soak 1 --seconds 5
	[ "$status" -eq 2 ]
	[[ $output == *"--soak and --seconds exclude each other"* ]]
	run "$VMALOCK" mutants --seconds 5
	[ "$status" -eq 2 ]
	[[ $output == *"--seconds is the length of the boots: it needs --boot"* ]]
	run "$VMALOCK" boot --target middle
	[ "$status" -eq 2 ]
}

@test "boot: a config option that did not stick is named" {
	good_config "$(dirname "$IMG")"
	FAKE_QEMU=pass run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 0 ]
	sed -i '/^CONFIG_PER_VMA_LOCK_STATS=y/d' "$(dirname "$IMG")/.config"
	echo '# CONFIG_PER_VMA_LOCK_STATS is not set' >>"$(dirname "$IMG")/.config"
	FAKE_QEMU=pass run "$VMALOCK" boot --image "$IMG"
	[ "$status" -eq 1 ]
	[[ $output == *"lacks CONFIG_PER_VMA_LOCK_STATS=y from kunit-configs/boot.config"* ]]
	# The same for a kunit.py build that drops an option.
	printf '%s\n' "[10:00:00] Configuring KUnit Kernel ..." \
		"ERROR:root:Not all Kconfig options selected in kunitconfig were in the generated .config." \
		"This is probably due to unsatisfied dependencies." \
		"Missing: CONFIG_SOFTLOCKUP_DETECTOR=y" >"$BATS_TEST_TMPDIR/kunit.log"
	run bash -c '. "$1/tools/lib/common.sh"; build_failed "$2"' sh "$TOP" "$BATS_TEST_TMPDIR/kunit.log"
	[[ $output == *"did not stick"*"CONFIG_SOFTLOCKUP_DETECTOR=y"* ]]
}

@test "boot --bench: -icount on one vCPU, ns per fault per round and spread" {
	FAKE_QEMU=bench run "$VMALOCK" boot --image "$IMG" --bench --bench-runs 2 --bench-faults 1000
	[ "$status" -eq 0 ]
	args=$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/qemu.args")
	[[ $args == *"-smp 1 "* ]]
	[[ $args == *"-icount shift=0,sleep=off"* ]]
	[[ $args == *"vmalock.args=-b,1000,-p,256,-r"* ]]
	[[ $output == *"bench round 1: image 2500.0 ns/fault"* ]]
	[[ $output == *"bench image: 2 runs of 1000 faults, median 2500.0 ns/fault"*"spread 0.000%"* ]]
	[ "${lines[-1]}" = "bench: ok" ]
}
