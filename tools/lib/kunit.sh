# shellcheck shell=bash
# vmalock kunit: the vma_lock KUnit suite under QEMU, with kunit.py.

# shellcheck source=tools/lib/accel.sh
. "$VMALOCK_TOP/tools/lib/accel.sh"

usage_kunit() {
	cat <<U
usage: tools/vmalock kunit [--target T] [--cc gcc|clang] [--arch x86_64|arm64]
                           [--config debug|default|kcsan|kasan]
                           [--runtime MS] [--accel auto|kvm|tcg] [--timeout S]
                           [--kernel 7.3|7.2] [--tree DIR] [--as-is] [--module]
                           [-- KUNIT.PY-ARGS...]

Build kernels with the suite's mm/tests/.kunitconfig and kunit-configs/,
and run the vma_lock suite under QEMU (kunit.py build, then kunit.py exec
on the kept image), for target T:
  series    every commit of the v4 branch that has the test (default)
  base      the first of them: the base plus the test patch
  head      the last: the whole series
  mainline  the pristine tree plus series.mainline
  all       series and mainline
--as-is (with --tree DIR) runs the suite on DIR's HEAD as it is: no
fixture, no series; DIR must already hold $VMALOCK_KUNIT_FILE. DIR is
cloned under the cache and never written to.

--config debug (the default) adds kunit-configs/debug.config (lockdep,
DEBUG_VM, atomic-sleep checks, hang detectors); kcsan and kasan add KCSAN
or generic KASAN to that (kunit-configs/kcsan.config, kasan.config): every
sanitizer report on the console fails the run, and KCSAN's reports are
printed with both stacks. --arch arm64 cross-builds with Debian's
aarch64-linux-gnu-gcc and runs qemu-system-aarch64 (TCG). --runtime MS runs
each race case for MS milliseconds (vma_lock_kunit.runtime_ms=MS; the
suite's default is 1000).
--accel chooses QEMU's accelerator (default: auto, or \$VMALOCK_ACCEL):
auto uses KVM only if a probe (at most \$VMALOCK_KVM_PROBE_TIMEOUT s, 30
by default; once per host, kernel, CPU and QEMU; verdict kept under
\$VMALOCK_CACHE/accel/) shows that KVM boots this kind of guest, and TCG
otherwise, saying why; kvm or tcg force it.
--timeout S bounds each QEMU run (default $VMALOCK_KUNIT_TIMEOUT s).
--module builds the suite as a module (CONFIG_$VMALOCK_KUNIT_OPTION=m) and,
instead of kunit.py exec, boots the kernel with an initramfs that loads the
module with insmod and removes it again, as a lab that runs KUnit tests as
modules does; kunit.py parse reads the results from the console.
Arguments after -- go to kunit.py exec: a filter glob in place of
"$VMALOCK_KUNIT_SUITE", --raw_output, --run_isolated=suite (options in
the --option=value form).

Each kernel prints a line "kunit <tree> <commit>: N passed, N failed,
N skipped (...)". A run fails (exit 1) if a case failed, none passed, a
kernel did not build or boot, or the console shows a warning, BUG, lockdep
report, hung task... (tools/lib/badness). Results (kunit.py JSON and JUnit
XML, the console, the logs) go to a new directory under
\$VMALOCK_CACHE/results/ for each run; results/latest-kunit is the last.
U
}

# kunit_exec LABEL KERNEL-DIR [ARG...]: run the suite on the kept kernel in
# KERNEL-DIR (bzImage, .config) with kunit.py exec, results in RES/LABEL.*;
# print the summary line. Fails if a case failed, none passed, or the
# console shows a splat.
kunit_exec() {
	local label=$1 kdir=$2 exe rc=0 t0 p f s splat wt=$KUNIT_WT
	shift 2
	# kunit.py exec runs <build_dir>/arch/x86/boot/bzImage and writes the
	# console to <build_dir>/test.log: give it a directory of its own.
	exe=$RES/$label.exec
	rm -rf "$exe"
	mkdir -p "$exe/$(dirname "$(kernel_image)")"
	ln -s "$kdir/bzImage" "$exe/$(kernel_image)"
	cp "$kdir/.config" "$exe/.config"
	if [ "$OPT_ARCH" = x86_64 ]; then
		choose_accel "$kdir/bzImage"
		kunit_qemu_env
	else
		QEMU_ACCEL=tcg
		QEMU_ENV=(env)
		log "accelerator: tcg (an $OPT_ARCH guest on an $(uname -m) host)"
	fi
	kunit_args exec "$wt"
	KARGS=("${KARGS[@]/--build_dir=*/--build_dir=$exe}")
	KARGS+=(--qemu_args=-smp\ 2 "--timeout=$OPT_TIMEOUT"
		"--json=$RES/$label.json" "--junit=$RES/$label.xml")
	[ -z "${OPT_RUNTIME:-}" ] || KARGS+=("--kernel_args=vma_lock_kunit.runtime_ms=$OPT_RUNTIME")
	KARGS+=("$@")
	t0=$(date +%s)
	log "run the suite on $label under QEMU ($QEMU_ACCEL; at most $OPT_TIMEOUT s; log $RES/$label.log)"
	"${QEMU_ENV[@]}" python3 "$wt/tools/testing/kunit/kunit.py" "${KARGS[@]}" \
		>"$RES/$label.log" 2>&1 || rc=$?
	read -r p f s < <(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" counts "$RES/$label.json")
	[ -f "$exe/test.log" ] && mv "$exe/test.log" "$RES/$label.console"
	rm -rf "$exe"
	printf 'kunit %s %s: %d passed, %d failed, %d skipped (%d s, %s)\n' \
		"$(basename "$wt")" "$label" "$p" "$f" "$s" "$(($(date +%s) - t0))" "$QEMU_ACCEL"
	# KUnit passes a case even when lockdep or a WARN fires beside it.
	splat=''
	if [ -f "$RES/$label.console" ]; then
		splat=$(splat_lines "$RES/$label.console")
		kcsan_reports "$RES/$label.console"
	fi
	if [ -n "$splat" ]; then
		log "kernel splat in the console of $label ($RES/$label.console):"
		printf '%s\n' "$splat" >&2
		rc=1
	fi
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ "$p" -eq 0 ]; then
		log "kunit failed on $label (kunit.py exit $rc): see $RES/$label.log"
		grep -a -E '\[FAILED\]|ERROR|error:|Expected|not ok|timed out' "$RES/$label.log" | head -n 20 >&2 || true
		return 1
	fi
}

# The initramfs /init of a module run: load the suite's module (KUnit runs
# its suite during insmod), remove it, reboot (QEMU runs with -no-reboot).
module_init_script() {
	cat <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys
mount -t proc proc /proc
mount -t sysfs sysfs /sys
for ko in /*.ko; do
	echo "vmalock-init: insmod $ko"
	insmod "$ko" || echo "vmalock-init: insmod $ko failed"
	m=${ko#/}
	rmmod "${m%.ko}" && echo "vmalock-init: rmmod $ko done" || echo "vmalock-init: rmmod $ko failed"
done
reboot -f
INIT
}

# module_boot LABEL KERNEL-DIR WT INIT-FUNCTION [KERNEL-ARGS]: boot the kept
# kernel in KERNEL-DIR with an initramfs of busybox-static, the suite's
# module and the /init that INIT-FUNCTION prints (it logs
# "vmalock-init: insmod ..." before loading the module). The console goes
# to RES/LABEL.console, what the module printed to RES/LABEL.ktap, and
# that, parsed by WT's kunit.py, to RES/LABEL.json. QEMU's exit code is
# left in BOOT_RC (124: timed out).
BOOT_RC=0
module_boot() {
	local label=$1 kdir=$2 wt=$3 init=$4 args=${5:-} root cpio bb
	bb=$(command -v busybox) || die "$E_TOOL" "'busybox' is not installed (on Debian: bash .ci/install-deps, package busybox-static)"
	need cpio
	root=$RES/$label.initramfs
	rm -rf "$root"
	mkdir -p "$root/bin"
	cp "$bb" "$root/bin/busybox"
	cp "$kdir"/*.ko "$root/"
	"$init" >"$root/init"
	chmod 755 "$root/init"
	cpio=$RES/$label.cpio
	(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$cpio"
	rm -rf "$root"
	choose_accel "$kdir/bzImage"
	local qemu=(-nographic -no-reboot -smp 2 -m 1G -accel "$QEMU_ACCEL" -kernel "$kdir/bzImage"
		-initrd "$cpio" -append "console=ttyS0 panic=-1${args:+ $args}")
	[ ! -f /usr/share/qemu/qboot.rom ] || qemu+=(-bios qboot.rom)
	log "boot $label and load the suite as a module (QEMU $QEMU_ACCEL, at most $OPT_TIMEOUT s; console $RES/$label.console)"
	BOOT_RC=0
	timeout "$OPT_TIMEOUT" "$VMALOCK_QEMU" "${qemu[@]}" </dev/null >"$RES/$label.console" 2>&1 || BOOT_RC=$?
	# The built-in executor prints its own empty KTAP run ("1..0") at
	# boot; what the module printed starts at the insmod.
	sed -n '/^vmalock-init: insmod/,$p' "$RES/$label.console" | tr -d '\r' >"$RES/$label.ktap"
	python3 "$wt/tools/testing/kunit/kunit.py" parse "--json=$RES/$label.json" "$RES/$label.ktap" \
		>"$RES/$label.log" 2>&1 || true
}

# module_exec LABEL KERNEL-DIR: boot the kept kernel in KERNEL-DIR with the
# suite as a module (module_boot); print the summary line. Fails as
# kunit_exec does, and if the module did not load or unload.
module_exec() {
	local label=$1 kdir=$2 wt=$KUNIT_WT rc t0 p f s splat
	t0=$(date +%s)
	module_boot "$label" "$kdir" "$wt" module_init_script \
		"${OPT_RUNTIME:+vma_lock_kunit.runtime_ms=$OPT_RUNTIME}"
	rc=$BOOT_RC
	read -r p f s < <(python3 "$VMALOCK_TOP/tools/lib/kunit_json.py" counts "$RES/$label.json")
	printf 'kunit %s %s (module): %d passed, %d failed, %d skipped (%d s, %s)\n' \
		"$(basename "$wt")" "$label" "$p" "$f" "$s" "$(($(date +%s) - t0))" "$QEMU_ACCEL"
	splat=$(splat_lines "$RES/$label.console")
	kcsan_reports "$RES/$label.console"
	if [ -n "$splat" ]; then
		log "kernel splat in the console of $label ($RES/$label.console):"
		printf '%s\n' "$splat" >&2
		rc=1
	fi
	if grep -a -q 'vmalock-init: \(insmod\|rmmod\) .* failed' "$RES/$label.console" ||
		! grep -a -q 'vmalock-init: rmmod .* done' "$RES/$label.console"; then
		log "the module did not load and unload: see $RES/$label.console"
		rc=1
	fi
	if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ "$p" -eq 0 ]; then
		log "kunit failed on $label as a module (exit $rc): see $RES/$label.console"
		return 1
	fi
}

# kcsan_reports CONSOLE: each KCSAN report of CONSOLE (at most three, whole:
# the race and both stacks) on stderr, and how many there were.
kcsan_reports() {
	local n
	n=$(grep -a -c 'BUG: KCSAN:' "$1" || true)
	[ "$n" -gt 0 ] || return 0
	log "$n KCSAN reports in $1; the first ones:"
	tr -d '\r' <"$1" | awk '
		/BUG: KCSAN:/ { if (++n > 3) exit; p = 1 }
		p { print "  " $0 }
		p && /={20,}$/ && !/BUG/ { p = 0 }' >&2
}

# kunit_commit WT COMMIT: build COMMIT of WT (or take its kept build) and
# run the suite on it. For callers in ||: every step is checked here.
kunit_commit() {
	local wt=$1 c=$2 label
	label=$(git -C "$wt" log -1 --format=%h "$c") || return 1
	log "kunit $(basename "$wt") $(git -C "$wt" log -1 --format='%h %s' "$c")${OPT_MODULE:+ (as a module)}"
	build_commit "$wt" "$c" || return 1
	if [ -n "${OPT_MODULE:-}" ]; then
		KUNIT_WT=$wt module_exec "$label" "$ARTIFACTS"
		return
	fi
	KUNIT_WT=$wt kunit_exec "$label" "$ARTIFACTS" "${KUNIT_PASS[@]}"
}

cmd_kunit() {
	parse_opts 'target= cc= arch= config= runtime= accel= timeout= as-is module --' "$@"
	common_opts
	build_opts
	accel_opt
	local target=${OPT_TARGET:-series} wt failed=0 c a
	OPT_TIMEOUT=${OPT_TIMEOUT:-$VMALOCK_KUNIT_TIMEOUT}
	[ -z "${OPT_RUNTIME+x}" ] || positive --runtime "$OPT_RUNTIME"
	[[ $OPT_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "--timeout: seconds, not '$OPT_TIMEOUT'"
	case "$target" in series | base | head | mainline | all) ;;
	*) die "$E_USAGE" "--target: series, base, head, mainline or all, not '$target'" ;;
	esac
	# The suite, unless the arguments for kunit.py name a filter glob.
	# (options for kunit.py must be given as --option=value).
	KUNIT_PASS=("${PASS[@]}")
	local glob=0
	for a in "${PASS[@]}"; do [[ $a == -* ]] || glob=1; done
	[ "$glob" -eq 1 ] || KUNIT_PASS+=("$VMALOCK_KUNIT_SUITE")
	[ -z "${OPT_MODULE:-}" ] || [ "$OPT_ARCH" = x86_64 ] || die "$E_USAGE" "--module boots x86_64 kernels only"
	if [ -n "${OPT_AS_IS:-}" ]; then
		[ -n "$OPT_TREE" ] || die "$E_USAGE" "--as-is runs the suite on your tree: give it with --tree DIR"
		[ -z "${OPT_TARGET:-}" ] || die "$E_USAGE" "--as-is and --target exclude each other"
	fi
	need_cc
	need "$VMALOCK_QEMU" flock
	lock_tree
	tree_args
	results_dir kunit

	if [ -n "${OPT_AS_IS:-}" ]; then
		local dir
		# shellcheck disable=SC2153 # TARGS: set by tree_args
		dir=$(sub_path base "${TARGS[@]}" --as-is)
		c=$(git -C "$dir" rev-parse vmalock/pristine)
		git -C "$dir" cat-file -e "$c:$VMALOCK_KUNIT_FILE" 2>/dev/null ||
			die "$E_TREE" "$OPT_TREE (HEAD $(git -C "$dir" log -1 --format=%h "$c")) has no $VMALOCK_KUNIT_FILE: apply the tests first (series.mainline), or run without --as-is"
		worktree_at "$dir" as-is "$c"
		kunit_commit "$WT" "$c" || failed=1
		log "results: $RES"
		[ "$failed" -eq 0 ] || exit "$E_FAIL"
		return
	fi

	case "$target" in
	series | base | head | all)
		wt=$(sub_path apply "${TARGS[@]}" --series v4)
		commits_with_test "$wt" vmalock/base vmalock/v4
		[ ${#COMMITS[@]} -gt 0 ] || die "$E_FAIL" "no commit of vmalock/v4 adds $VMALOCK_KUNIT_FILE"
		case "$target" in
		base) COMMITS=("${COMMITS[0]}") ;;
		head) COMMITS=("${COMMITS[-1]}") ;;
		esac
		for c in "${COMMITS[@]}"; do kunit_commit "$wt" "$c" || failed=1; done
		;;
	esac
	case "$target" in
	mainline | all)
		wt=$(sub_path apply "${TARGS[@]}" --series mainline)
		kunit_commit "$wt" "$(git -C "$wt" rev-parse vmalock/mainline)" || failed=1
		;;
	esac
	log "results: $RES"
	[ "$failed" -eq 0 ] || exit "$E_FAIL"
}
