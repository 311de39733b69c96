#!/usr/bin/env bats
# The accelerator every QEMU of the tools runs with, against a fake QEMU
# whose KVM behaves as a machine's can: works, reports an emulation
# failure and hangs, hangs without a word, or does not initialise.

load helpers

setup() {
	export VMALOCK_CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -p "$VMALOCK_CACHE"
	export VMALOCK_QEMU=$TOP/tests/fakes/qemu FAKE_QEMU_LOG=$BATS_TEST_TMPDIR/qemu.log
	export VMALOCK_KVM_DEV=$BATS_TEST_TMPDIR/kvm VMALOCK_KVM_PROBE_TIMEOUT=4
	unset VMALOCK_ACCEL
	: >"$VMALOCK_KVM_DEV"
	IMG=$BATS_TEST_TMPDIR/bzImage
	echo fake >"$IMG"
}

teardown() { pkill -f "$TOP/tests/fakes/qemu" || true; pkill -f vmalock-fake-qemu-hang || true; }

@test "accel: no KVM device: TCG at once, no probe" {
	rm "$VMALOCK_KVM_DEV"
	run "$VMALOCK" accel --image "$IMG"
	[ "$status" -eq 0 ]
	[[ $output == *"accelerator: tcg (no $VMALOCK_KVM_DEV)"* ]]
	[ "${lines[-1]}" = "accel: tcg" ]
	[ ! -e "$FAKE_QEMU_LOG" ]
}

@test "accel: KVM that reports an emulation failure: TCG, decided as soon as it shows, verdict kept" {
	SECONDS=0
	FAKE_KVM=broken run "$VMALOCK" accel --image "$IMG"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -lt 4 ]
	[[ $output == *"probing KVM"*"at most 4 s"* ]]
	[[ $output == *"accelerator: tcg (/dev/kvm is present but KVM failed the probe: KVM internal error"* ]]
	[ "${lines[-1]}" = "accel: tcg" ]
	[ "$(grep -c -- '-accel kvm' "$FAKE_QEMU_LOG")" -eq 1 ]
	# Kept: the next run does not probe again, and says where the verdict is.
	FAKE_KVM=ok run "$VMALOCK" accel --image "$IMG"
	[ "${lines[-1]}" = "accel: tcg" ]
	[[ $output == *"kept in $VMALOCK_CACHE/accel/kvm-"* ]]
	[ "$(grep -c -- '-accel kvm' "$FAKE_QEMU_LOG")" -eq 1 ]
	# --reprobe forgets it.
	FAKE_KVM=ok run "$VMALOCK" accel --image "$IMG" --reprobe
	[ "${lines[-1]}" = "accel: kvm" ]
}

@test "accel: KVM that prints nothing: the probe stops at its bound and leaves no QEMU behind" {
	SECONDS=0
	FAKE_KVM=silent run "$VMALOCK" accel --image "$IMG"
	[ "$status" -eq 0 ]
	[ "$SECONDS" -ge 4 ]
	[ "$SECONDS" -lt 10 ]
	[[ $output == *"KVM failed the probe: no result in 4 s"* ]]
	[ "${lines[-1]}" = "accel: tcg" ]
	[ -z "$(pgrep -f "$TOP/tests/fakes/qemu" || true)" ]
}

@test "accel: KVM that does not initialise: TCG" {
	FAKE_KVM=noinit run "$VMALOCK" accel --image "$IMG"
	[ "$status" -eq 0 ]
	[[ $output == *"failed to initialize kvm"* ]]
	[ "${lines[-1]}" = "accel: tcg" ]
}

@test "accel: a KVM that boots the kernel is used" {
	FAKE_KVM=ok run "$VMALOCK" accel --image "$IMG"
	[ "$status" -eq 0 ]
	[[ $output == *"accelerator: kvm (the probe kernel booted and ended in"* ]]
	[ "${lines[-1]}" = "accel: kvm" ]
}

@test "accel on an empty cache: a forced choice needs no kernel; auto says what it needs" {
	run "$VMALOCK" accel --accel tcg
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "accel: tcg" ]
	# Not a usage error: what is missing is a kernel (exit 3).
	run "$VMALOCK" accel
	[ "$status" -eq 3 ]
	[[ $output == *"no kernel to probe KVM with"* ]]
}

@test "accel: a kernel only when a probe is due; a missing --image refused; an arm64 kernel never probed" {
	run "$VMALOCK" accel --accel tcg --image "$BATS_TEST_TMPDIR/nope"
	[ "$status" -eq 2 ]
	[[ $output == *"--image: no kernel image at"* ]]
	# The x86_64 kernel built last, not a newer arm64 one.
	a=$VMALOCK_CACHE/artifacts
	mkdir -p "$a/gcc-debug-1/t1" "$a/arm64-gcc-debug-1/t2"
	echo x86 >"$a/gcc-debug-1/t1/bzImage"
	sleep 1
	echo arm64 >"$a/arm64-gcc-debug-1/t2/bzImage"
	FAKE_KVM=ok run "$VMALOCK" accel
	[ "${lines[-1]}" = "accel: kvm" ]
	grep -q -- "-kernel $a/gcc-debug-1/t1/bzImage" "$FAKE_QEMU_LOG"
	# With the verdict kept, no kernel is needed.
	rm -rf "$a"
	run "$VMALOCK" accel
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "accel: kvm" ]
	# Nor with a device that is not usable (no probe).
	chmod 000 "$VMALOCK_KVM_DEV"
	if [ "$(id -u)" -ne 0 ]; then
		run "$VMALOCK" accel --reprobe
		[ "$status" -eq 0 ]
		[ "${lines[-1]}" = "accel: tcg" ]
	fi
}

@test "accel: --kernel and --tree do not apply to it and are refused" {
	run "$VMALOCK" accel --accel tcg --kernel 7.3
	[ "$status" -eq 2 ]
	[[ $output == *"accel: --kernel and --tree do not apply"* ]]
	run "$VMALOCK" accel --accel tcg --tree "$BATS_TEST_TMPDIR"
	[ "$status" -eq 2 ]
	[[ $output == *"accel: --kernel and --tree do not apply"* ]]
}

@test "accel: --accel and VMALOCK_ACCEL force the choice without a probe; bad values refused" {
	FAKE_KVM=broken run "$VMALOCK" accel --image "$IMG" --accel kvm
	[ "${lines[-1]}" = "accel: kvm" ]
	[[ $output == *"forced"* ]]
	FAKE_KVM=ok VMALOCK_ACCEL=tcg run "$VMALOCK" accel --image "$IMG"
	[ "${lines[-1]}" = "accel: tcg" ]
	[ ! -e "$FAKE_QEMU_LOG" ]
	run "$VMALOCK" accel --accel warp
	[ "$status" -eq 2 ]
	[[ $output == *"--accel: auto, kvm or tcg, not 'warp'"* ]]
	# A bad value from the environment is named as coming from there.
	VMALOCK_ACCEL=warp run "$VMALOCK" accel
	[ "$status" -eq 2 ]
	[[ $output == *"VMALOCK_ACCEL: auto, kvm or tcg, not 'warp'"* ]]
	FAKE_KVM=ok VMALOCK_ACCEL=tcg run "$VMALOCK" accel --image "$IMG"
	[[ $output == *"accelerator: tcg (forced by VMALOCK_ACCEL)"* ]]
	FAKE_KVM=ok VMALOCK_ACCEL=kvm run "$VMALOCK" accel --image "$IMG" --accel tcg
	[[ $output == *"accelerator: tcg (forced by --accel)"* ]]
	# A read-only device is not usable.
	chmod 444 "$VMALOCK_KVM_DEV"
	if [ "$(id -u)" -ne 0 ]; then
		run "$VMALOCK" accel --image "$IMG"
		[[ $output == *"not readable and writable"* ]]
	fi
}

@test "boot under a KVM that hangs: TCG, and the boot ends as soon as the guest does" {
	SECONDS=0
	FAKE_KVM=broken run "$VMALOCK" boot --image "$IMG" --seconds 1 --timeout 120
	[ "$status" -eq 0 ]
	[ "$SECONDS" -lt 60 ]
	[[ $output == *"boot image (gcc, debug, tcg): PASS"* ]]
	tail -n 1 "$FAKE_QEMU_LOG" | grep -q -- '-accel tcg'
	# With a KVM that works, boots use it.
	rm -rf "$VMALOCK_CACHE/accel"
	FAKE_KVM=ok run "$VMALOCK" boot --image "$IMG" --seconds 1
	[ "$status" -eq 0 ]
	tail -n 1 "$FAKE_QEMU_LOG" | grep -q -- '-accel kvm'
}

@test "boot --bench: TCG with -icount whatever --accel says" {
	FAKE_KVM=ok run "$VMALOCK" boot --image "$IMG" --bench --bench-runs 1 --bench-faults 10 --accel kvm
	grep -- '-icount' "$FAKE_QEMU_LOG" | grep -q -- '-accel tcg'
	[ -z "$(grep -- '-icount' "$FAKE_QEMU_LOG" | grep -- '-accel kvm' || true)" ]
}

@test "kunit under a KVM that hangs: TCG, no wait for kunit.py's timeout" {
	k=$BATS_TEST_TMPDIR/k
	fake_kernel "$k"
	SECONDS=0
	FAKE_KVM=broken run "$VMALOCK" kunit --tree "$k" --as-is --timeout 300
	[ "$status" -eq 0 ]
	[ "$SECONDS" -lt 60 ]
	[[ $output == *"accelerator: tcg (/dev/kvm is present but KVM failed the probe"* ]]
	[[ $output == *": 1 passed, 0 failed, 0 skipped ("*"tcg)"* ]]
	# kunit.py asked for kvm, hvf, tcg; the emulator got tcg alone.
	tail -n 1 "$FAKE_QEMU_LOG" | grep -q -- '^-accel tcg '
	[ -z "$(tail -n 1 "$FAKE_QEMU_LOG" | grep -- '-accel kvm' || true)" ]
}

@test "the stand-in for kunit.py's QEMU: one accelerator, the chosen one; never itself" {
	stand=$TOP/tools/lib/qemu/qemu-system-x86_64
	VMALOCK_QEMU_REAL=$VMALOCK_QEMU VMALOCK_QEMU_ACCEL=tcg run "$stand" -nodefaults \
		-accel kvm -accel hvf -accel tcg -serial stdio -kernel x
	[ "$status" -eq 0 ]
	[ "$(tail -n 1 "$FAKE_QEMU_LOG")" = "-accel tcg -nodefaults -serial stdio -kernel x" ]
	VMALOCK_QEMU_REAL=$stand VMALOCK_QEMU_ACCEL=tcg run "$stand" -accel kvm
	[ "$status" -eq 2 ]
	[[ $output == *"names this stand-in"* ]]
	run "$stand" -accel kvm
	[ "$status" -eq 2 ]
	[[ $output == *"run by tools/vmalock only"* ]]
}
