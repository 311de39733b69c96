# shellcheck shell=bash
# vmalock boot: boot a kernel under QEMU with the vma_stress workload.

# shellcheck source=tools/lib/accel.sh
. "$VMALOCK_TOP/tools/lib/accel.sh"

usage_boot() {
	cat <<U
usage: tools/vmalock boot [--target base|head|both] [--seconds N | --soak MINUTES]
                          [--bench] [--bench-runs N] [--bench-faults N]
                          [--image BZIMAGE] [--timeout SECONDS] [--accel auto|kvm|tcg]
                          [--cc gcc|clang] [--config debug|default|kcsan|kasan]
                          [--kernel 7.3|7.2] [--tree DIR]

Boot x86_64 kernels under QEMU (-smp 4 -m 2G) with an initramfs of
busybox-static and tools/stress/vma_stress.c, which faults pages while
other threads munmap/mmap/mprotect/mremap/madvise the same region for N
seconds (default 30) and checks the data it reads back.
  base   the first commit of the v4 branch with the test: the base plus the
         test patch (its test does not run: kunit.enable=0)
  head   the series head
  both   base, then head (the default)
The kernels are the builds that kunit and build keep (kunit-configs/ has
the boot options), built here if missing. After the workload, a boot of
base or head also runs the kernel's own selftest of /proc/PID/maps
readers against mmap, mremap and mprotect (tools/testing/selftests/proc/
proc-maps-race.c, built static from the tree, DURATION=2). A boot passes
only when the workload prints PASS, that selftest passes (not with
--image or --bench), the per-VMA lock counters show faults handled under
the VMA lock, and the console has no warning, BUG, oops, panic, lockdep
report, RCU stall, soft lockup or hung task (tools/lib/badness). Consoles
go to a new directory under \$VMALOCK_CACHE/results/ (latest-boot).
  --soak MINUTES    run the workload for MINUTES instead
  --bench           instead of the stress run: boot each kernel on one vCPU
                    under TCG with -icount (guest time counts instructions,
                    whatever --accel says) and time --bench-faults (default
                    50000) write faults, --bench-runs (default 3) rounds;
                    prints ns per fault, head/base and the spread, and fails
                    if a spread exceeds $VMALOCK_BENCH_MAX_SPREAD% or head/base is off 1 by more
                    than $VMALOCK_BENCH_MAX_DIFF% (tools/vmalock.conf)
  --image BZIMAGE   boot this image instead (its .config, if beside it, is
                    checked for the boot options)
  --timeout S       hard limit for one boot (default: run time + 150 s)
  --accel A         auto (default), kvm or tcg: as for tools/vmalock kunit
Exit codes: 0 pass, 1 workload failed (or no per-VMA lock faults, or the
benchmark out of bounds), 8 did not boot, 9 kernel splat, 10 timeout; the
others (2 to 7, 11) as for every subcommand (tools/vmalock --help).
U
}

# The initramfs /init: mount what the workload reads, run it with the
# arguments given as vmalock.args=a,b,c on the kernel command line, reboot
# (QEMU runs with -no-reboot, so the reboot ends it).
boot_init_script() {
	cat <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "vmalock-init: userspace up after $(cut -d' ' -f1 /proc/uptime) s"
args=$(sed -n 's/.*vmalock\.args=\([^ ]*\).*/\1/p' /proc/cmdline | tr , ' ')
t0=$(cut -d' ' -f1 /proc/uptime)
/bin/vma_stress $args
rc=$?
echo "vmalock-init: vma_stress exit $rc after $(cut -d' ' -f1 /proc/uptime) s (started at $t0 s)"
if [ -x /bin/proc-maps-race ] && grep -q 'vmalock\.selftest=1' /proc/cmdline; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	DURATION=2 /bin/proc-maps-race
	echo "vmalock-init: proc-maps-race exit $? after $(cut -d' ' -f1 /proc/uptime) s (started at $t0 s)"
fi
reboot -f
INIT
}

# boot_initramfs [TREE]: build (once per content) the cpio archive; print its
# path. With TREE, it also holds the kernel's own selftest of per-VMA lock
# readers, tools/testing/selftests/proc/proc-maps-race.c, built static with
# TREE's uapi headers: /proc/PID/maps readers (lock_next_vma()) against
# mmap, mremap and mprotect.
boot_initramfs() {
	local bb src dir stamp cpio tree=${1:-} pmr=
	bb=$(command -v busybox) || die "$E_TOOL" "'busybox' is not installed (on Debian: bash .ci/install-deps, package busybox-static)"
	if readelf -l "$bb" 2>/dev/null | grep -q 'INTERP'; then
		die "$E_TOOL" "$bb is linked dynamically; the initramfs needs busybox-static"
	fi
	src=$VMALOCK_TOP/tools/stress/vma_stress.c
	dir=$VMALOCK_CACHE/boot
	mkdir -p "$dir"
	if [ -n "$tree" ]; then
		pmr=$tree/tools/testing/selftests/proc/proc-maps-race.c
		[ -f "$pmr" ] || die "$E_TREE" "$tree has no $pmr"
	fi
	stamp=$( (boot_init_script; cat "$src" "$bb" ${pmr:+"$pmr"}) | sha256sum | cut -c1-16)
	cpio=$dir/initramfs-$stamp.cpio
	if [ ! -f "$cpio" ]; then
		local root=$dir/root-$stamp
		rm -rf "$root"
		mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
		gcc -static -O2 -Wall -Wextra -Werror -pthread -o "$root/bin/vma_stress" "$src" ||
			die "$E_FAIL" "tools/stress/vma_stress.c does not build (gcc -static; libc6-dev installed?)"
		if [ -n "$pmr" ]; then
			gcc -static -O2 -pthread -I "$tree/tools/testing/selftests" -isystem "$tree/include/uapi" \
				-isystem "$tree/arch/x86/include/uapi" -o "$root/bin/proc-maps-race" "$pmr" ||
				die "$E_FAIL" "$pmr does not build (gcc -static)"
		fi
		cp "$bb" "$root/bin/busybox"
		boot_init_script >"$root/init"
		chmod 755 "$root/init"
		(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$cpio.tmp"
		mv "$cpio.tmp" "$cpio"
		rm -rf "$root"
		log "initramfs $cpio ($(wc -c <"$cpio") bytes: busybox-static, vma_stress,${pmr:+ proc-maps-race,} init)"
	fi
	printf '%s\n' "$cpio"
}

# boot_config_check CONFIG: die naming the first option of the fragments
# that the kernel's CONFIG does not have as the fragment sets it.
boot_config_check() {
	local f line want
	config_fragments
	for f in "${FRAGMENTS[@]}"; do
		mapfile -t want < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$f")
		for line in "${want[@]}"; do
			grep -qxF "$line" "$1" ||
				die "$E_FAIL" "the kernel config $1 lacks $line from kunit-configs/$(basename "$f") (it did not stick: unmet dependency?)"
		done
	done
}

# boot_wargs SECONDS: the workload arguments of a stress boot (comma
# separated): SECONDS long, 4 threads, 2 of them writers, and /proc reads.
boot_wargs() {
	printf -- '-d,%s,-t,4,-w,2,-r' "$1"
}

# boot_cmdline CONSOLE ARGS: the kernel command line of a stress boot with
# the workload arguments ARGS; with BOOT_SELFTEST set, the initramfs also
# runs the proc-maps-race selftest. Hung tasks are reported after 60 s (not
# 120), so that a task stuck early in a 30 s run shows on the console
# before the timeout ends the guest. The LAVA stress job boots with it too.
boot_cmdline() {
	printf 'console=%s kunit.enable=0 panic=-1 sysctl.kernel.hung_task_timeout_secs=60 vmalock.args=%s%s' \
		"$1" "$2" "${BOOT_SELFTEST:+ vmalock.selftest=1}"
}

# boot_one LABEL IMAGE CONSOLE SMP ARGS QEMU-OPTION...: boot IMAGE and the
# initramfs BOOT_CPIO with the workload arguments ARGS (comma separated);
# console into CONSOLE. The QEMU options include the accelerator.
# Returns 0 or one of the boot exit codes.
boot_one() {
	local label=$1 image=$2 console=$3 smp=$4 wargs=$5 pid t0 now last=0
	shift 5
	local qemu=(-nographic -no-reboot -smp "$smp" -m 2G
		-kernel "$image" -initrd "$BOOT_CPIO"
		-append "$(boot_cmdline ttyS0 "$wargs")" "$@")
	[ ! -f /usr/share/qemu/qboot.rom ] || qemu+=(-bios qboot.rom)
	mkdir -p "$(dirname "$console")"
	log "boot $label: QEMU -smp $smp${*:+ $*}, workload '${wargs//,/ }', timeout $OPT_TIMEOUT s; console $console"
	t0=$(date +%s)
	bg_start to_log "$console" "$VMALOCK_QEMU" "${qemu[@]}" </dev/null
	pid=$BG_PID
	local timed_out=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(($(date +%s) - t0))
		if [ "$now" -ge "$OPT_TIMEOUT" ]; then
			timed_out=1
			bg_kill
			break
		fi
		if [ $((now - last)) -ge 60 ]; then
			last=$now
			log "boot $label: $now s: $(tail -n 1 "$console" | tr -d '\r' | cut -c1-100)"
		fi
	done
	wait "$pid" 2>/dev/null || true
	bg_end
	BOOT_SECONDS=$(($(date +%s) - t0))
	local splat
	splat=$(splat_lines "$console")
	if [ "$timed_out" -eq 1 ]; then
		log "boot $label: no end after $OPT_TIMEOUT s (guest hung?); last console lines:"
		tail -n 15 "$console" | tr -d '\r' >&2
		[ -z "$splat" ] || printf 'splat: %s\n' "$splat" >&2
		return "$E_TIMEOUT"
	fi
	if ! grep -q '^vmalock-init: userspace up' "$console"; then
		log "boot $label: the kernel did not reach userspace; last console lines:"
		tail -n 15 "$console" | tr -d '\r' >&2
		return "$E_NOBOOT"
	fi
	if [ -n "$splat" ]; then
		log "boot $label: kernel splat in $console:"
		printf '%s\n' "$splat" | tr -d '\r' >&2
		return "$E_SPLAT"
	fi
	if ! tr -d '\r' <"$console" | grep -qx 'PASS'; then
		log "boot $label: the workload did not pass:"
		tr -d '\r' <"$console" | grep -E '^(error|FAIL|vmalock-init)' >&2 || true
		return "$E_FAIL"
	fi
	if [ -n "${BOOT_SELFTEST:-}" ]; then
		if ! tr -d '\r' <"$console" | grep -q '^vmalock-init: proc-maps-race exit 0 '; then
			log "boot $label: the proc-maps-race selftest did not pass:"
			tr -d '\r' <"$console" | grep -E '^(not ok|# FAIL|vmalock-init: proc-maps-race)' >&2 || true
			return "$E_FAIL"
		fi
	fi
	return 0
}

# boot_field CONSOLE REGEX: the first console line matching REGEX, no CR.
boot_field() { tr -d '\r' <"$1" | grep -m 1 -E "$2" || true; }

cmd_boot() {
	parse_opts 'target= seconds= soak= bench bench-runs= bench-faults= image= timeout= accel= cc= config=' "$@"
	common_opts
	build_opts
	accel_opt
	local target=${OPT_TARGET:-both} seconds=${OPT_SECONDS:-30} bench=${OPT_BENCH:-0}
	local runs=${OPT_BENCH_RUNS:-3} faults=${OPT_BENCH_FAULTS:-50000} image=${OPT_IMAGE:-} timeout=${OPT_TIMEOUT:-}
	if [ -n "${OPT_SOAK:-}" ]; then
		[ -z "${OPT_SECONDS:-}" ] || die "$E_USAGE" "--soak and --seconds exclude each other"
		positive --soak "$OPT_SOAK" minutes
		seconds=$((OPT_SOAK * 60))
	fi
	positive --seconds "$seconds"
	positive --bench-runs "$runs"
	positive --bench-faults "$faults"
	[ -z "$timeout" ] || positive --timeout "$timeout"
	case "$target" in base | head | both) ;; *) die "$E_USAGE" "--target: base, head or both, not '$target'" ;; esac
	OPT_TIMEOUT=${timeout:-$((seconds + 150))}
	[ "$bench" -eq 0 ] || OPT_TIMEOUT=${timeout:-600}
	[ -z "$image" ] || [ -f "$image" ] || die "$E_USAGE" "--image: no kernel image at '$image'"
	need "$VMALOCK_QEMU" cpio gcc readelf flock

	local labels=() images=() t d
	if [ -n "$image" ]; then
		labels=(image)
		images=("$(cd "$(dirname "$image")" && pwd)/$(basename "$image")")
		d=$(dirname "${images[0]}")
		if [ -f "$d/.config" ]; then
			boot_config_check "$d/.config"
		else
			log "no .config beside $image: the boot options are not checked"
		fi
	else
		need_cc
		lock_tree
		tree_args
		local wt
		wt=$(sub_path apply "${TARGS[@]}" --series v4)
		commits_with_test "$wt" vmalock/base vmalock/v4
		[ ${#COMMITS[@]} -gt 0 ] || die "$E_FAIL" "no commit of vmalock/v4 adds $VMALOCK_KUNIT_FILE"
		case "$target" in both) labels=(base head) ;; *) labels=("$target") ;; esac
		for t in "${labels[@]}"; do
			case "$t" in
			base) build_commit "$wt" "${COMMITS[0]}" || exit "$E_FAIL" ;;
			head) build_commit "$wt" "${COMMITS[-1]}" || exit "$E_FAIL" ;;
			esac
			boot_config_check "$ARTIFACTS/.config"
			images+=("$ARTIFACTS/bzImage")
		done
	fi

	# One initramfs for every boot of this run; with the tree, it also
	# holds the kernel's proc-maps-race selftest, which the boots (not the
	# benchmark) run after the workload.
	local tree_src=${wt:-}
	BOOT_CPIO=$(boot_initramfs ${tree_src:+"$tree_src"}) || exit "$E_FAIL"
	[ -z "$tree_src" ] || [ "$bench" -ne 0 ] || BOOT_SELFTEST=1
	results_dir boot
	local rc=0 r i console
	if [ "$bench" -eq 0 ]; then
		choose_accel "${images[0]}"
		for i in "${!labels[@]}"; do
			console=$RES/${labels[$i]}-$OPT_CC-$OPT_CONFIG.console
			r=0
			boot_one "${labels[$i]}" "${images[$i]}" "$console" 4 \
				"$(boot_wargs "$seconds")" -accel "$QEMU_ACCEL" || r=$?
			printf 'boot %s (%s, %s, %s): %s in %d s\n' "${labels[$i]}" "$OPT_CC" "$OPT_CONFIG" \
				"$QEMU_ACCEL" "$([ "$r" -eq 0 ] && echo PASS || echo "FAILED (exit $r)")" "$BOOT_SECONDS"
			tr -d '\r' <"$console" |
				grep -a -E '^(vmalock-init|counts|vma ops|per-VMA lock):' | sed 's/^/  /' || true
			[ "$r" -eq 0 ] || [ "$rc" -ne 0 ] || rc=$r
		done
		log "consoles: $RES"
		exit "$rc"
	fi

	# Benchmark: one vCPU, TCG with -icount (whatever --accel says: guest
	# time must count instructions), the same fault count on every kernel.
	local round ns=() line
	log "benchmark: TCG with -icount, whatever --accel says (guest time counts instructions)"
	for ((round = 1; round <= runs; round++)); do
		line="bench round $round:"
		for i in "${!labels[@]}"; do
			console=$RES/bench-${labels[$i]}-$OPT_CC-$OPT_CONFIG-$round.console
			r=0
			boot_one "${labels[$i]}" "${images[$i]}" "$console" 1 \
				"-b,$faults,-p,256,-r" -accel tcg -icount shift=0,sleep=off || r=$?
			if [ "$r" -ne 0 ]; then
				[ "$rc" -ne 0 ] || rc=$r
				continue
			fi
			t=$(boot_field "$console" '^bench: .* ns per fault' | sed 's/.*, \([0-9.]*\) ns per fault/\1/')
			ns+=("${labels[$i]} $round $t")
			line="$line ${labels[$i]} $t ns/fault"
		done
		printf '%s\n' "$line"
	done
	[ "$rc" -eq 0 ] || exit "$rc"
	printf '%s\n' "${ns[@]}" | bench_summary "$faults" "$VMALOCK_BENCH_MAX_DIFF" "$VMALOCK_BENCH_MAX_SPREAD"
}

# bench_summary FAULTS MAX-DIFF MAX-SPREAD: read "label round ns" lines,
# print each kernel's median and spread and head/base of the medians (one
# odd round does not move a median of three); fail (exit 1) if a spread is
# above MAX-SPREAD % or head/base is off 1 by more than MAX-DIFF %, or a
# kernel has no figure.
bench_summary() {
	awk -v faults="$1" -v maxdiff="$2" -v maxspread="$3" '
		$3 == "" { bad = bad " " $1 " round " $2 " gave no figure;"; next }
		{ v[$1, $2] = $3; k[$1] = 1; n[$1]++; x[$1, n[$1]] = $3 + 0 }
		function median(l,   i, j, t, a) {
			for (i = 1; i <= n[l]; i++) a[i] = x[l, i]
			for (i = 2; i <= n[l]; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
				}
			lo[l] = a[1]; hi[l] = a[n[l]]
			return n[l] % 2 ? a[(n[l] + 1) / 2] : (a[n[l] / 2] + a[n[l] / 2 + 1]) / 2
		}
		END {
			for (l in k) {
				md[l] = median(l)
				sp = 100 * (hi[l] - lo[l]) / md[l]
				printf "bench %s: %d runs of %d faults, median %.1f ns/fault, min %.1f, max %.1f, spread %.3f%%\n",
					l, n[l], faults, md[l], lo[l], hi[l], sp
				if (sp > maxspread)
					bad = bad sprintf(" spread of %s %.3f%% > %s%%;", l, sp, maxspread)
			}
			if (("base" in k) && ("head" in k)) {
				r = md["head"] / md["base"]
				d = 100 * (r - 1)
				printf "bench head/base: %.5f (%+.3f%%; bound +-%s%%)\n", r, d, maxdiff
				for (i = 1; i <= n["base"]; i++)
					if ((("base", i) in v) && (("head", i) in v))
						printf "bench round %d head/base: %.5f\n", i, v["head", i] / v["base", i]
				if (d > maxdiff || -d > maxdiff)
					bad = bad sprintf(" head/base %+.3f%% beyond +-%s%%;", d, maxdiff)
			}
			if (bad != "") { printf "bench: FAILED:%s\n", bad; exit 1 }
			print "bench: ok"
		}'
}
