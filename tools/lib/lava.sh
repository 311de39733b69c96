# shellcheck shell=bash
# vmalock lava: the suite and the stress boot as LAVA jobs.

# shellcheck source=tools/lib/boot.sh
. "$VMALOCK_TOP/tools/lib/boot.sh"

usage_lava() {
	cat <<U
usage: tools/vmalock lava [--series mainline|v4] [--job suite|stress]
                          [--arch x86_64|arm64] [--url BASE] [--run]
                          [--kept DIR] [--timeout S] [--kernel 7.3|7.2]
                          [--tree DIR]

Write a LAVA job definition (job.yaml) for a kernel the harness builds
(the head of the series: mainline, the default, is the pristine tree with
series.mainline; v4 the v4 head; gcc, debug configuration), with its
artifacts, and the device dictionary (device.yaml) of a QEMU device for a
local run, rendered from lava-server's qemu.jinja2 device-type template
with the job's context. The job deploys to tmpfs and boots with method
qemu:
  --job suite   (default) the kernel alone: the built-in vma_lock suite
                runs at boot; a "monitors" test records one LAVA test case
                per KUnit case (pass, fail, or skip for "# SKIP"), and
                one for the suite's own verdict; a warning or a hung task
                panics the kernel (panic_on_warn=1 hung_task_panic=1), so
                a lab without our console check fails the job too;
  --job stress  the kernel with the boot job's initramfs as a ramdisk
                (vma_stress, and proc-maps-race on a tree that has it): a
                monitors test records each program's result.
--kept DIR takes the kernel from DIR, a kernel the harness kept (its
bzImage), instead of building the head: a deliberate bug's, say
(results/<mutants run>/<mutation>.kernel); for the suite job nothing is
fetched, applied or built then (the stress job still needs the tree, for
its initramfs).
The artifacts are files/<name>-<sha256 prefix>, referenced as BASE/<file>
with their sha256 (--url; default file:// of files/). A lab needs
http(s): serve files/ (several runs' files can share one directory) and
give its address as BASE; lava-run --validate then checks job-local.yaml,
the same job with file:// URLs, since it fetches what a job names.

With --run, runs the job with lava-run (Debian's lava-dispatcher) under
QEMU TCG and takes the verdict from LAVA's own result records: it passes
only if LAVA finished the job, every recorded case passed, as many cases
were recorded as the KTAP lines name, and the console has no splat
(tools/lib/badness). Without --run, lava-run --validate checks the job.
Results: a new directory under \$VMALOCK_CACHE/results/ (latest-lava).

For a lab (nothing is sent from here): serve the results' files/ over
http(s) and write the job with --url https://HOST/PATH; then, with
Debian's lavacli and the lab's token,
  lavacli identities add --uri https://LAB/RPC2 --username U --token T lab
  lavacli -i lab device-types list         (what the lab has)
  lavacli -i lab jobs submit job.yaml      (prints the job id)
  lavacli -i lab jobs wait ID; lavacli -i lab results ID
Labs with QEMU workers take the job as it is (device_type qemu; drop
no_kvm from its context where the worker has KVM). A board (arm64
hardware shows what an x86_64 host's memory order hides) needs more than
the job: this kernel is QEMU virt's (a gzipped Image, PL011 console, no
SoC platforms, no device tree), so build one with the board's defconfig
plus mm/tests/.kunitconfig and kunit-configs/debug.config, serve it with
the board's DTB, set the lab's device_type and use that board's deploy
and boot actions (tftp with u-boot, or fastboot) and console; the test
action, its monitors pattern, stays as it is.
U
}

# lava_template_dir: lava-server's device-type templates, taken from its
# .deb (apt-get download; never installed) once into the cache; its path.
lava_template_dir() {
	local dir=$VMALOCK_CACHE/lava/device-types tmp
	if [ ! -f "$dir/qemu.jinja2" ]; then
		mkdir -p "$VMALOCK_CACHE/tmp"
		tmp=$(mktemp -d "$VMALOCK_CACHE/tmp/lava.XXXXXX") || return 1
		(cd "$tmp" && apt-get download -q lava-server >/dev/null 2>&1) ||
			{ log "apt-get download lava-server failed"; rm -rf "$tmp"; return 1; }
		dpkg-deb -x "$tmp"/lava-server_*.deb "$tmp/x" || { rm -rf "$tmp"; return 1; }
		mkdir -p "$(dirname "$dir")"
		rm -rf "$dir"
		mv "$tmp/x/usr/share/lava-server/device-types" "$dir"
		rm -rf "$tmp"
	fi
	printf '%s\n' "$dir"
}

cmd_lava() {
	parse_opts 'series= job= arch= url= run kept= timeout=' "$@"
	common_opts
	# shellcheck disable=SC2034 # read by the build helpers
	OPT_CC=gcc OPT_CONFIG=debug
	build_opts
	local series=${OPT_SERIES:-mainline} job=${OPT_JOB:-suite}
	case "$series" in mainline | v4) ;; *) die "$E_USAGE" "--series: mainline or v4, not '$series'" ;; esac
	case "$job" in suite | stress) ;; *) die "$E_USAGE" "--job: suite or stress, not '$job'" ;; esac
	OPT_TIMEOUT=${OPT_TIMEOUT:-$VMALOCK_KUNIT_TIMEOUT}
	positive --timeout "$OPT_TIMEOUT" seconds
	need_cc
	need lava-run python3 flock apt-get dpkg-deb
	[ "$job" = suite ] || need cpio busybox
	[ "$job" = suite ] || [ "$OPT_ARCH" = x86_64 ] ||
		die "$E_USAGE" "--job stress: x86_64 only (the initramfs is built for the host)"
	[ -z "${OPT_KEPT:-}" ] || [ -f "$OPT_KEPT/bzImage" ] || die "$E_USAGE" "--kept $OPT_KEPT: no bzImage there"
	local wt='' c='' tdir name label
	tdir=$(lava_template_dir) || die "$E_FETCH" "cannot get lava-server's device-type templates (apt-get download lava-server)"
	# The tree: for a kernel to build, or for the stress job's initramfs.
	if [ -z "${OPT_KEPT:-}" ] || [ "$job" = stress ]; then
		lock_tree
		tree_args
		wt=$(sub_path apply "${TARGS[@]}" --series "$series")
		c=$(git -C "$wt" rev-parse "vmalock/$series")
	fi
	if [ -n "${OPT_KEPT:-}" ]; then
		ARTIFACTS=$OPT_KEPT
		label="kept $(basename "$OPT_KEPT")"
		name="vmalock $job ($label)"
	else
		build_commit "$wt" "$c" || exit "$E_FAIL"
		label=$(basename "$wt")
		name="vmalock $job $label $(git -C "$wt" log -1 --format=%h "$c")"
	fi
	results_dir lava
	mkdir -p "$RES/files"
	local kernel ramdisk=''
	kernel=$RES/files/$OPT_ARCH-kernel-$(sha256sum "$ARTIFACTS/bzImage" | cut -c1-12)
	cp "$ARTIFACTS/bzImage" "$kernel" || die "$E_FAIL" "cannot copy $ARTIFACTS/bzImage"
	if [ "$job" = stress ]; then
		local cpio
		cpio=$(boot_initramfs "$wt") || exit "$E_FAIL"
		ramdisk=$RES/files/ramdisk-$(sha256sum "$cpio" | cut -c1-12).cpio
		cp "$cpio" "$ramdisk" || die "$E_FAIL" "cannot copy $cpio"
	fi
	local url=${OPT_URL:-file://$RES/files} cmdline=
	# The stress job boots as tools/vmalock boot does: a 30 s workload,
	# then the proc-maps-race selftest.
	[ "$job" != stress ] || cmdline=$(BOOT_SELFTEST=1 boot_cmdline ttyS0 "$(boot_wargs 30)")
	python3 "$VMALOCK_TOP/tools/lib/lava.py" write --job "$job" --arch "$OPT_ARCH" \
		--url "${url%/}" --timeout "$OPT_TIMEOUT" --suite "$VMALOCK_KUNIT_SUITE" \
		--cmdline "$cmdline" --kernel "$kernel" ${ramdisk:+--ramdisk "$ramdisk"} \
		--name "$name" --templates "$tdir" --out "$RES" ||
		die "$E_FAIL" "cannot write the LAVA job"
	log "LAVA job: $RES/job.yaml; device: $RES/device.yaml; artifacts: $RES/files (as $url)"
	if [ -z "${OPT_RUN:-}" ]; then
		local check=$RES/job.yaml
		[ ! -f "$RES/job-local.yaml" ] || check=$RES/job-local.yaml
		timeout 300 lava-run --validate --job-id 1 --output-dir "$RES/lava" --device "$RES/device.yaml" "$check" \
			>"$RES/validate.log" 2>&1 || { tail -n 20 "$RES/validate.log" >&2; die "$E_FAIL" "lava-run --validate of $(basename "$check") failed: see $RES/validate.log"; }
		printf 'lava %s %s (%s): job valid (lava-run --validate of %s)\n' "$job" "$label" "$OPT_ARCH" "$(basename "$check")"
		return 0
	fi
	local t0 rc=0
	t0=$(date +%s)
	log "lava-run (QEMU TCG, bounds in job.yaml's timeouts; log $RES/lava.log)"
	bg_start to_log "$RES/lava.log" lava-run --job-id 1 --output-dir "$RES/lava" \
		--device "$RES/device.yaml" "$RES/job.yaml"
	wait "$BG_PID" || rc=$?
	bg_end
	python3 "$VMALOCK_TOP/tools/lib/lava.py" verdict --job "$job" --log "$RES/lava.log" \
		--console "$RES/console.txt" --label "$job $label ($OPT_ARCH)" \
		--seconds "$(($(date +%s) - t0))" || rc=1
	local splat
	splat=$(splat_lines "$RES/console.txt")
	if [ -n "$splat" ]; then
		log "kernel splat on the console LAVA kept ($RES/console.txt):"
		printf '%s\n' "$splat" >&2
		rc=1
	fi
	log "results: $RES"
	[ "$rc" -eq 0 ] || exit "$E_FAIL"
}
