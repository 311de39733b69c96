# shellcheck shell=bash
# vmalock boot: boot a kernel under QEMU with the vma_stress workload.

usage_boot() {
	cat <<'U'
usage: tools/vmalock boot [--target base|head|both] [--seconds N | --soak MINUTES]
                          [--bench] [--bench-runs N] [--bench-faults N]
                          [--image BZIMAGE] [--timeout SECONDS]
                          [--cc gcc|clang] [--config debug|default]
                          [--kernel 7.3|7.2] [--tree DIR]

Boot x86_64 kernels under QEMU (TCG, -smp 4 -m 2G) with an initramfs of
busybox-static and tools/stress/vma_stress.c, which faults pages while
other threads munmap/mmap/mprotect/mremap/madvise the same region for N
seconds (default 30) and checks the data it reads back.
  base   the first commit of the v4 branch with the test: the base plus the
         test patch (its test does not run: kunit.enable=0)
  head   the series head
  both   base, then head (the default)
The kernels are the builds `tools/vmalock kunit` keeps (kunit-configs/ has
the boot options), built here if missing. A boot passes only when the
workload prints PASS, the per-VMA lock counters show faults handled under
the VMA lock, and the console has no warning, BUG, oops, panic, lockdep
report, RCU stall, soft lockup or hung task. Consoles are kept under
$VMALOCK_CACHE/results/boot/.
  --soak MINUTES    run the workload for MINUTES instead
  --bench           instead of the stress run: boot each kernel on one vCPU
                    with QEMU -icount (guest time counts instructions) and
                    time --bench-faults (default 50000) write faults; prints
                    ns per fault for base and head and head/base, for each
                    of --bench-runs (default 3) rounds, and the spread
  --image BZIMAGE   boot this image instead (its .config, if beside it, is
                    checked for the boot options)
  --timeout S       hard limit for one boot (default: run time + 150 s)
Exit codes: 0 pass, 1 workload failed (or no per-VMA lock faults), 8 did
not boot, 9 kernel splat, 10 timeout; 2, 3, 6, 7 as for every subcommand.
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
reboot -f
INIT
}

# boot_initramfs: build (once per content) the cpio archive; print its path.
boot_initramfs() {
	local bb src dir stamp cpio
	bb=$(command -v busybox) || die "$E_TOOL" "'busybox' is not installed (on Debian: bash .ci/install-deps, package busybox-static)"
	if readelf -l "$bb" 2>/dev/null | grep -q 'INTERP'; then
		die "$E_TOOL" "$bb is linked dynamically; the initramfs needs busybox-static"
	fi
	src=$VMALOCK_TOP/tools/stress/vma_stress.c
	dir=$VMALOCK_CACHE/boot
	mkdir -p "$dir"
	stamp=$( (boot_init_script; cat "$src" "$bb") | sha256sum | cut -c1-16)
	cpio=$dir/initramfs-$stamp.cpio
	if [ ! -f "$cpio" ]; then
		local root=$dir/root-$stamp
		rm -rf "$root"
		mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
		gcc -static -O2 -Wall -Wextra -Werror -pthread -o "$root/bin/vma_stress" "$src" ||
			die "$E_FAIL" "tools/stress/vma_stress.c does not build (gcc -static; libc6-dev installed?)"
		cp "$bb" "$root/bin/busybox"
		boot_init_script >"$root/init"
		chmod 755 "$root/init"
		(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$cpio.tmp"
		mv "$cpio.tmp" "$cpio"
		rm -rf "$root"
		log "initramfs $cpio ($(wc -c <"$cpio") bytes: busybox-static, vma_stress, init)"
	fi
	printf '%s\n' "$cpio"
}

# boot_config_check CONFIG: die naming the first option of the fragments
# that the kernel's CONFIG does not have as the fragment sets it.
boot_config_check() {
	local f line want
	while read -r f; do
		mapfile -t want < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$f")
		for line in "${want[@]}"; do
			grep -qxF "$line" "$1" ||
				die "$E_FAIL" "the kernel config $1 lacks $line from kunit-configs/$(basename "$f") (it did not stick: unmet dependency?)"
		done
	done < <(config_fragments)
}

# boot_one LABEL IMAGE CONSOLE SMP ARGS [QEMU-OPTION...]: boot IMAGE and the
# initramfs BOOT_CPIO with the workload arguments ARGS (comma separated);
# console into CONSOLE.
# Hung tasks are reported after 60 s (not 120), so that a task stuck early
# in a 30 s run shows on the console before the timeout ends the guest.
# Returns 0 or one of the boot exit codes.
boot_one() {
	local label=$1 image=$2 console=$3 smp=$4 wargs=$5 pid t0 now last=0
	shift 5
	local qemu=(-nographic -no-reboot -accel tcg -smp "$smp" -m 2G
		-kernel "$image" -initrd "$BOOT_CPIO"
		-append "console=ttyS0 kunit.enable=0 panic=-1 sysctl.kernel.hung_task_timeout_secs=60 vmalock.args=$wargs" "$@")
	[ ! -f /usr/share/qemu/qboot.rom ] || qemu+=(-bios qboot.rom)
	mkdir -p "$(dirname "$console")"
	log "boot $label: QEMU -smp $smp${*:+ $*}, workload '${wargs//,/ }', timeout $OPT_TIMEOUT s; console $console"
	t0=$(date +%s)
	"$VMALOCK_QEMU" "${qemu[@]}" </dev/null >"$console" 2>&1 &
	pid=$!
	local timed_out=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(($(date +%s) - t0))
		if [ "$now" -ge "$OPT_TIMEOUT" ]; then
			timed_out=1
			kill "$pid" 2>/dev/null || true
			sleep 2
			kill -9 "$pid" 2>/dev/null || true
			break
		fi
		if [ $((now - last)) -ge 60 ]; then
			last=$now
			log "boot $label: $now s: $(tail -n 1 "$console" | tr -d '\r' | cut -c1-100)"
		fi
	done
	wait "$pid" 2>/dev/null || true
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
	return 0
}

# boot_kernel_dir TARGET: the directory that keeps TARGET's bzImage and .config.
boot_kernel_dir() {
	local c
	case "$1" in
	base) c=${BOOT_COMMITS[0]} ;;
	head) c=${BOOT_COMMITS[-1]} ;;
	esac
	build_commit "$BOOT_WT" "$c" | tail -n 1
}

# boot_field CONSOLE REGEX: the first console line matching REGEX, no CR.
boot_field() { tr -d '\r' <"$1" | grep -m 1 -E "$2" || true; }

cmd_boot() {
	parse_common "$@"
	local target=both seconds=30 bench=0 runs=3 faults=50000 image='' timeout=''
	set -- "${REST[@]}"
	while [ $# -gt 0 ]; do
		if [ "$1" = --bench ]; then
			bench=1
			shift
			continue
		fi
		[ $# -ge 2 ] || die "$E_USAGE" "$1 needs a value"
		case "$1" in
		--target) target=$2 ;;
		--seconds) seconds=$2 ;;
		--soak) [[ $2 =~ ^[0-9]+$ ]] || die "$E_USAGE" "--soak: minutes, a number"
			seconds=$(($2 * 60)) ;;
		--bench-runs) runs=$2 ;;
		--bench-faults) faults=$2 ;;
		--image) image=$2 ;;
		--timeout) timeout=$2 ;;
		*) parse_build_opt "$1" "$2" || die "$E_USAGE" "unexpected argument '$1'" ;;
		esac
		shift 2
	done
	local n
	for n in "$seconds" "$runs" "$faults" ${timeout:+"$timeout"}; do
		[[ $n =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "'$n': a positive number expected"
	done
	case "$target" in base | head | both) ;; *) die "$E_USAGE" "--target: base, head or both" ;; esac
	OPT_TIMEOUT=${timeout:-$((seconds + 150))}
	[ "$bench" -eq 0 ] || OPT_TIMEOUT=${timeout:-600}
	need "$VMALOCK_QEMU" cpio gcc readelf

	local labels=() images=() t d
	if [ -n "$image" ]; then
		[ -f "$image" ] || die "$E_USAGE" "--image: no kernel image at '$image'"
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
		local targs=(--kernel "$OPT_KERNEL")
		[ -z "$OPT_TREE" ] || targs+=(--tree "$OPT_TREE")
		# shellcheck source=tools/lib/kunit.sh
		. "$VMALOCK_TOP/tools/lib/kunit.sh"
		BOOT_WT=$(run_sub apply --series v4 "${targs[@]}" | tail -n 1)
		mapfile -t BOOT_COMMITS < <(commits_with_test "$BOOT_WT" vmalock/base vmalock/v4)
		[ ${#BOOT_COMMITS[@]} -gt 0 ] || die "$E_FAIL" "no commit of vmalock/v4 adds the test"
		case "$target" in both) labels=(base head) ;; *) labels=("$target") ;; esac
		local was
		was=$(git -C "$BOOT_WT" rev-parse HEAD)
		for t in "${labels[@]}"; do
			d=$(boot_kernel_dir "$t")
			boot_config_check "$d/.config"
			images+=("$d/bzImage")
		done
		# Move the worktree back only if a build moved it.
		[ "$(git -C "$BOOT_WT" rev-parse HEAD)" = "$was" ] ||
			vgit -C "$BOOT_WT" checkout -q vmalock/v4
	fi

	# One initramfs for every boot of this run.
	BOOT_CPIO=$(boot_initramfs)
	local res=$VMALOCK_CACHE/results/boot rc=0 r i console
	mkdir -p "$res"
	if [ "$bench" -eq 0 ]; then
		for i in "${!labels[@]}"; do
			console=$res/${labels[$i]}-$OPT_CC-$OPT_CONFIG.console
			r=0
			boot_one "${labels[$i]}" "${images[$i]}" "$console" 4 \
				"-d,$seconds,-t,4,-w,2,-r" || r=$?
			printf 'boot %s (%s, %s): %s in %d s\n' "${labels[$i]}" "$OPT_CC" "$OPT_CONFIG" \
				"$([ "$r" -eq 0 ] && echo PASS || echo "FAILED (exit $r)")" "$BOOT_SECONDS"
			tr -d '\r' <"$console" |
				grep -E '^(vmalock-init|counts|vma ops|per-VMA lock):' | sed 's/^/  /' || true
			[ "$r" -eq 0 ] || [ "$rc" -ne 0 ] || rc=$r
		done
		exit "$rc"
	fi

	# Benchmark: one vCPU, -icount, the same fault count on every kernel.
	local round ns=() line
	for ((round = 1; round <= runs; round++)); do
		line="bench round $round:"
		for i in "${!labels[@]}"; do
			console=$res/bench-${labels[$i]}-$OPT_CC-$OPT_CONFIG-$round.console
			r=0
			boot_one "${labels[$i]}" "${images[$i]}" "$console" 1 \
				"-b,$faults,-p,256,-r" -icount shift=0,sleep=off || r=$?
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
	printf '%s\n' "${ns[@]}" | awk -v faults="$faults" '
		{ v[$1, $2] = $3; k[$1] = 1; n[$1]++
		  if (!($1 in lo) || $3 < lo[$1]) lo[$1] = $3
		  if (!($1 in hi) || $3 > hi[$1]) hi[$1] = $3; s[$1] += $3 }
		END {
			for (l in k)
				printf "bench %s: %d runs of %d faults, mean %.1f ns/fault, min %.1f, max %.1f, spread %.2f%%\n",
					l, n[l], faults, s[l] / n[l], lo[l], hi[l], 100 * (hi[l] - lo[l]) / (s[l] / n[l])
			if (("base" in k) && ("head" in k)) {
				r = (s["head"] / n["head"]) / (s["base"] / n["base"])
				printf "bench head/base: %.4f (%+.2f%%)\n", r, 100 * (r - 1)
				for (i = 1; i <= n["base"]; i++)
					if ((("base", i) in v) && (("head", i) in v))
						printf "bench round %d head/base: %.4f\n", i, v["head", i] / v["base", i]
			}
		}'
}
