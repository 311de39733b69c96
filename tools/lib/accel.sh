# shellcheck shell=bash
# Which accelerator every QEMU of the tools runs with: KVM or TCG.
#
# kunit.py (7.x) starts QEMU with "-accel kvm -accel hvf -accel tcg", hard-
# coded in kunit_kernel.py, so neither --qemu_config nor --qemu_args can take
# KVM out. A /dev/kvm that initialises but cannot run this guest (seen: an
# emulation failure at a cmpxchg16b, or no output at all) then costs the
# whole kunit.py timeout. So the tools choose: VMALOCK_ACCEL or --accel
# (auto, kvm, tcg; default auto). auto uses KVM only when a bounded probe has
# shown that it boots one of the tools' own kernels; the verdict is kept under
# $VMALOCK_CACHE/accel/, keyed by what can change it (host kernel, QEMU
# version, CPU model and flags, the /dev/kvm device). kunit.py gets the
# choice through tools/lib/qemu/, put first on its PATH.

VMALOCK_QEMU=${VMALOCK_QEMU:-qemu-system-x86_64}
# The KVM device (the tests point it at a file of their own).
VMALOCK_KVM_DEV=${VMALOCK_KVM_DEV:-/dev/kvm}

# accel_opt: check OPT_ACCEL (after parse_opts), default from VMALOCK_ACCEL.
# ACCEL_FROM names where the choice came from, for the messages.
accel_opt() {
	ACCEL_FROM=--accel
	if [ -z "${OPT_ACCEL:-}" ]; then
		ACCEL_FROM=VMALOCK_ACCEL
		OPT_ACCEL=${VMALOCK_ACCEL:-auto}
	fi
	case "$OPT_ACCEL" in auto | kvm | tcg) ;;
	*) die "$E_USAGE" "$ACCEL_FROM: auto, kvm or tcg, not '$OPT_ACCEL'" ;;
	esac
}

# accel_key: one hash of what the KVM verdict depends on.
accel_key() {
	{
		uname -r
		"$VMALOCK_QEMU" --version 2>&1 | head -n 1
		awk '/^(model name|flags)/ { print } /^$/ { exit }' /proc/cpuinfo
		stat -L -c '%t:%T %i' "$VMALOCK_KVM_DEV" 2>/dev/null
		echo "probe v1"
	} | sha256sum | cut -c1-16
}

# kvm_probe IMAGE: boot IMAGE under KVM with no test to run, for at most
# VMALOCK_KVM_PROBE_TIMEOUT seconds (30). Succeeds when QEMU ends by itself
# with status 0 after the kernel started its test runner (KTAP) or
# rebooted; otherwise sets PROBE_WHY.
kvm_probe() {
	local image=$1 out pid t0 limit=${VMALOCK_KVM_PROBE_TIMEOUT:-30} rc=0 now
	out=$(mktemp "${TMPDIR:-/tmp}/vmalock-probe.XXXXXX")
	local qemu=(-nodefaults -m 1024 -smp 2 -kernel "$image" -no-reboot -nographic
		-serial stdio -accel kvm
		-append "console=ttyS0 kunit.enable=1 kunit.filter_glob=vmalock-kvm-probe kunit_shutdown=reboot panic=-1")
	[ ! -f /usr/share/qemu/qboot.rom ] || qemu+=(-bios qboot.rom)
	t0=$(date +%s)
	bg_start to_log "$out" "$VMALOCK_QEMU" "${qemu[@]}" </dev/null
	pid=$BG_PID
	PROBE_WHY=''
	while kill -0 "$pid" 2>/dev/null; do
		now=$(($(date +%s) - t0))
		if grep -a -q -E 'KVM internal error|emulation failure|failed to initialize' "$out"; then
			PROBE_WHY="$(grep -a -m 1 -E 'KVM internal error|emulation failure|failed to initialize' "$out" | tr -d '\r') after $now s"
			break
		fi
		if [ "$now" -ge "$limit" ]; then
			PROBE_WHY="no result in $limit s ($(grep -a -c . "$out") console lines)"
			break
		fi
		sleep 0.5
	done
	if [ -n "$PROBE_WHY" ]; then
		bg_kill
		wait "$pid" 2>/dev/null || true
		bg_end
		rm -f "$out"
		return 1
	fi
	wait "$pid" || rc=$?
	bg_end
	if [ "$rc" -ne 0 ]; then
		PROBE_WHY="QEMU exited with $rc: $(grep -a -v '^$' "$out" | tail -n 1 | tr -d '\r' | cut -c1-100)"
	elif ! grep -a -q -E 'KTAP version|reboot: Restarting system' "$out"; then
		PROBE_WHY="the guest ended without reaching its test runner"
	fi
	PROBE_SECONDS=$(($(date +%s) - t0))
	rm -f "$out"
	[ -z "$PROBE_WHY" ]
}

# choose_accel IMAGE: set QEMU_ACCEL (kvm or tcg) for OPT_ACCEL, probing
# KVM with IMAGE when auto has no kept verdict, and say in one line why.
choose_accel() {
	local image=$1 f verdict
	QEMU_ACCEL=tcg
	case "$OPT_ACCEL" in
	kvm | tcg)
		QEMU_ACCEL=$OPT_ACCEL
		log "accelerator: $QEMU_ACCEL (forced by $ACCEL_FROM)"
		return 0 ;;
	esac
	if [ ! -e "$VMALOCK_KVM_DEV" ]; then
		log "accelerator: tcg (no $VMALOCK_KVM_DEV)"
		return 0
	fi
	if [ ! -r "$VMALOCK_KVM_DEV" ] || [ ! -w "$VMALOCK_KVM_DEV" ]; then
		log "accelerator: tcg ($VMALOCK_KVM_DEV is not readable and writable by $(id -un))"
		return 0
	fi
	f=$VMALOCK_CACHE/accel/kvm-$(accel_key)
	if [ ! -f "$f" ]; then
		mkdir -p "$(dirname "$f")"
		log "probing KVM: booting $(basename "$(dirname "$image")")/$(basename "$image") under KVM, at most ${VMALOCK_KVM_PROBE_TIMEOUT:-30} s (once; the verdict is kept)"
		if kvm_probe "$image"; then
			printf 'kvm: the probe kernel booted and ended in %s s (%(%F %T)T)\n' "$PROBE_SECONDS" -1 >"$f.tmp"
		else
			printf 'tcg: /dev/kvm is present but KVM failed the probe: %s (%(%F %T)T)\n' "$PROBE_WHY" -1 >"$f.tmp"
		fi
		mv "$f.tmp" "$f"
	fi
	verdict=$(cat "$f")
	QEMU_ACCEL=${verdict%%:*}
	log "accelerator: $QEMU_ACCEL (${verdict#*: }; kept in $f; --accel kvm|tcg overrides)"
}

# kunit_qemu_env: the environment under which kunit.py starts QEMU with
# QEMU_ACCEL: tools/lib/qemu/ first on PATH, and the real emulator.
kunit_qemu_env() {
	local real
	real=$(command -v "$VMALOCK_QEMU") || die "$E_TOOL" "'$VMALOCK_QEMU' is not installed (on Debian: bash .ci/install-deps)"
	# shellcheck disable=SC2034 # read by the sourcing file
	QEMU_ENV=(env "PATH=$VMALOCK_TOP/tools/lib/qemu:$PATH"
		"VMALOCK_QEMU_REAL=$real" "VMALOCK_QEMU_ACCEL=$QEMU_ACCEL")
}

usage_accel() {
	cat <<'U'
usage: tools/vmalock accel [--accel auto|kvm|tcg] [--image BZIMAGE] [--reprobe]

Say which accelerator the tools give QEMU (kunit, boot, mutants), and why:
  auto (default, or $VMALOCK_ACCEL)  KVM only if /dev/kvm is usable and a
        probe has shown that KVM boots one of the tools' kernels to its
        test runner (KUnit with no test selected) within
        $VMALOCK_KVM_PROBE_TIMEOUT seconds (30); TCG otherwise. The probe
        runs once; its verdict is kept under $VMALOCK_CACHE/accel/, keyed
        by the host kernel, the QEMU version, the CPU model and flags and
        the /dev/kvm device.
  kvm, tcg  forced.
The probe boots --image, or the kernel the tools built last. --reprobe
forgets the kept verdict first. Prints "accel: kvm" or "accel: tcg" last;
exits 3 when auto needs a probe and there is no kernel to probe with.
(boot --bench always uses TCG with -icount: it counts instructions.)
U
}

cmd_accel() {
	parse_opts 'accel= image= reprobe' "$@"
	[ -z "${OPT_KERNEL:-}${OPT_TREE:-}" ] ||
		die "$E_USAGE" "accel: --kernel and --tree do not apply (it probes with --image or the kernel built last)"
	accel_opt
	local image=${OPT_IMAGE:-}
	[ -z "$image" ] || [ -f "$image" ] || die "$E_USAGE" "--image: no kernel image at '$image'"
	need "$VMALOCK_QEMU"
	[ -z "${OPT_REPROBE:-}" ] || rm -f "$VMALOCK_CACHE/accel/kvm-$(accel_key)"
	if [ -z "$image" ]; then
		# The x86_64 kernel built last (an arm64 one cannot be probed).
		image=$( { find "$VMALOCK_CACHE/artifacts" -name bzImage ! -path '*/artifacts/arm64-*' \
			-printf '%T@ %p\n' 2>/dev/null || true; } | sort -n | tail -n 1 | cut -d' ' -f2-)
	fi
	# A kernel is needed only if auto is to probe now.
	if [ -z "$image" ] && [ "$OPT_ACCEL" = auto ] && [ -r "$VMALOCK_KVM_DEV" ] &&
		[ -w "$VMALOCK_KVM_DEV" ] && [ ! -f "$VMALOCK_CACHE/accel/kvm-$(accel_key)" ]; then
		die "$E_TOOL" "no kernel to probe KVM with: build one (tools/vmalock build) or give --image"
	fi
	choose_accel "$image"
	printf 'accel: %s\n' "$QEMU_ACCEL"
}
