#!/usr/bin/env bats
# Each test runs in a subshell of its own: exports there are meant to stay there.
# shellcheck disable=SC2030,SC2031
# Command line, bad input and resuming: each a clear error, nothing changed.

load helpers

setup_file() { setup_real_tree; }

setup() {
	export VMALOCK_CACHE=$BATS_TEST_TMPDIR/cache
	mkdir -p "$VMALOCK_CACHE"
}

@test "--help of the tool and of every subcommand" {
	run "$VMALOCK" --help
	[ "$status" -eq 0 ]
	[[ $output == *"Exit codes"* ]]
	for s in fetch base apply check build kunit boot accel nfc mutants coverage lava send report; do
		run "$VMALOCK" "$s" --help
		[ "$status" -eq 0 ]
		[[ $output == *"usage: tools/vmalock $s"* ]]
	done
}

@test "report: the latest summary of each job run, not of a usage error" {
	run "$VMALOCK" report
	[ "$status" -eq 1 ]
	[[ $output == *"no summaries yet"* ]]
	run "$VMALOCK" kunit --nope
	[ "$status" -eq 2 ]
	run "$VMALOCK" kunit --tree "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 6 ]
	run "$VMALOCK" kunit --tree "$BATS_TEST_TMPDIR/none"
	run "$VMALOCK" report
	[ "$status" -eq 0 ]
	[ "$(grep -c '^\$ tools/vmalock kunit --tree' <<<"$output")" -eq 1 ]
	[[ $output == *"; exit 6; at "* ]]
	[[ $output != *"--nope"* ]]
	run "$VMALOCK" report boot
	[ "$status" -eq 1 ]
	[[ $output == *'no summary of a command with "boot"'* ]]
}

@test "report --import: another machine's report kept, a newer summary here kept too" {
	run "$VMALOCK" kunit --tree "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 6 ]
	cat >"$BATS_TEST_TMPDIR/EVIDENCE" <<E
vmalock report, 2026-01-02 10:00 UTC, HEAD 1234567

$ tools/vmalock boot
2026-01-02 09:00 UTC; 97 s; exit 0; at 1234567; 2 CPUs
(patches changed since 1234567)
boot head: PASS in 46 s

$ tests/run --quick
2026-01-02 09:00 UTC; 12 s; exit 0; at 1234567; 2 CPUs
1 passed, 0 failed, 0 skipped

$ tools/vmalock kunit --tree $BATS_TEST_TMPDIR/none
2026-01-02 09:30 UTC; 1 s; exit 0; at 1234567; 2 CPUs
an older run of this command line
E
	run "$VMALOCK" report --import "$BATS_TEST_TMPDIR/EVIDENCE"
	[ "$status" -eq 0 ]
	[[ $output == *"2 summaries taken"* ]]
	run "$VMALOCK" report
	[ "$status" -eq 0 ]
	# Oldest first, in the imported order within a minute; this machine's
	# own run of the same command line wins; the stale mark is recomputed.
	[ "$(grep '^\$ ' <<<"$output" | head -n 2 | tr '\n' ,)" = '$ tools/vmalock boot,$ tests/run --quick,' ]
	[[ $output == *"boot head: PASS in 46 s"* ]]
	[[ $output != *"an older run"* ]]
	[ "$(grep -c "^(patches changed since" <<<"$output")" -eq 2 ]
	run "$VMALOCK" report --import "$BATS_TEST_TMPDIR/nothing"
	[ "$status" -eq 2 ]
}

@test "report: a summary is judged stale by the patches of the series its command ran" {
	# lib FUNCTION ARGS...: a function of the libraries, called alone.
	lib() {
		bash -c 'VMALOCK_TOP=$1; . "$1/tools/lib/common.sh"; . "$1/tools/lib/report.sh"; shift; "$@"' _ "$TOP" "$@"
	}
	paths() { lib report_paths "$1"; }
	[ "$(paths '$ tools/vmalock kunit --target mainline' | head -n 1)" = series.mainline ]
	[[ $(paths '$ tools/vmalock kunit --target mainline') != *patches/refcount/* ]]
	[[ $(paths '$ tools/vmalock kunit --target mainline') != *patches/v4/* ]]
	[ "$(paths '$ tools/vmalock check' | head -n 1)" = series ]
	[[ $(paths '$ tools/vmalock check') == *patches/v4/* ]]
	[ "$(paths '$ tools/vmalock send --series refcount' | head -n 1)" = series.refcount ]
	[ "$(paths '$ tests/run' | grep -c '^series')" -eq 3 ]
	# A long command line still gets a summary of its own.
	key() { lib summary_key "$@"; }
	long=$(printf 'mutant-name-%02d,' $(seq 30))
	[ "$(key mutants --only "$long" | wc -c)" -le 120 ]
	[ "$(key mutants --only "$long")" != "$(key mutants --only "${long}x")" ]
	[ "$(key kunit --target head)" = kunit_--target_head ]
}

@test "unknown subcommand, option or kernel: usage error" {
	run "$VMALOCK" frobnicate
	[ "$status" -eq 2 ]
	run "$VMALOCK" fetch --kernel 9.9
	[ "$status" -eq 2 ]
	[[ $output == *"unknown kernel '9.9'"* ]]
	run "$VMALOCK" apply --series nope
	[ "$status" -eq 2 ]
	run "$VMALOCK" kunit --target nope
	[ "$status" -eq 2 ]
}

@test "fetch: package not reachable" {
	VMALOCK_MIRROR=http://127.0.0.1:9/debian run "$VMALOCK" fetch
	[ "$status" -eq 4 ]
	[[ $output == *"cannot reach suite"* ]]
	[ -z "$(find "$VMALOCK_CACHE/debs" "$VMALOCK_CACHE/src" -type f)" ]
}

@test "fetch: .deb checksum mismatch caches nothing" {
	VMALOCK_CONF=$(conf_with 5 0000000000000000000000000000000000000000000000000000000000000000) \
		run "$VMALOCK" fetch
	[ "$status" -eq 5 ]
	[[ $output == *"is not 0000"*"nothing was cached"* ]]
	[ -z "$(find "$VMALOCK_CACHE/debs" "$VMALOCK_CACHE/src" -type f)" ]
}

@test "fetch: tarball checksum mismatch caches nothing" {
	mkdir -p "$VMALOCK_CACHE/debs"
	ln "$(real_deb)" "$VMALOCK_CACHE/debs/" 2>/dev/null || cp "$(real_deb)" "$VMALOCK_CACHE/debs/"
	VMALOCK_CONF=$(conf_with 6 1111111111111111111111111111111111111111111111111111111111111111) \
		run "$VMALOCK" fetch
	[ "$status" -eq 5 ]
	[[ $output == *"tarball in"*"nothing was cached"* ]]
	[ -z "$(ls -A "$VMALOCK_CACHE/src")" ]
}

@test "fetch: an interrupted extraction is redone, then reused" {
	mkdir -p "$VMALOCK_CACHE/debs" "$VMALOCK_CACHE/src"
	ln "$(real_deb)" "$VMALOCK_CACHE/debs/" 2>/dev/null || cp "$(real_deb)" "$VMALOCK_CACHE/debs/"
	tarball=$VMALOCK_CACHE/src/$(basename "$(real_deb)" | sed 's/_\(.*\)_all\.deb$/-\1.tar.xz/; s/_/-/')
	head -c 1000 /dev/urandom >"$tarball"
	run "$VMALOCK" fetch
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$tarball" ]
	[[ $output == *"sha256 verified"* ]]
	run "$VMALOCK" fetch
	[ "$status" -eq 0 ]
	[[ $output == *"using cached"* ]]
}

@test "missing tool: named, exit 3" {
	bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	for t in bash env dirname readlink cat awk sed cut sha256sum mkdir head tail grep; do
		ln -s "$(command -v "$t")" "$bin/$t"
	done
	PATH=$bin run "$VMALOCK" fetch
	[ "$status" -eq 3 ]
	[[ $output == *"'apt-get' is not installed"* ]]
}

@test "--tree: not a directory, not a git tree, not a kernel tree" {
	run "$VMALOCK" base --tree "$BATS_TEST_TMPDIR/none"
	[ "$status" -eq 6 ]
	mkdir "$BATS_TEST_TMPDIR/plain"
	run "$VMALOCK" base --tree "$BATS_TEST_TMPDIR/plain"
	[ "$status" -eq 6 ]
	[[ $output == *"is not a kernel git tree"* ]]
	git init -q "$BATS_TEST_TMPDIR/repo"
	run "$VMALOCK" base --tree "$BATS_TEST_TMPDIR/repo"
	[ "$status" -eq 6 ]
	[[ $output == *"is not a kernel git tree: it has no Makefile"* ]]
	[ -z "$(ls -A "$VMALOCK_CACHE")" ] || [ -z "$(ls -A "$VMALOCK_CACHE/trees" 2>/dev/null)" ]
}

@test "--tree: a dirty tree is refused and left as it was" {
	fake_tree "$BATS_TEST_TMPDIR/k"
	echo '/* local edit */' >>"$BATS_TEST_TMPDIR/k/mm/mmap_lock.c"
	before=$(git -C "$BATS_TEST_TMPDIR/k" status --porcelain; git -C "$BATS_TEST_TMPDIR/k" rev-parse HEAD)
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 6 ]
	[[ $output == *"uncommitted changes"* ]]
	[ "$before" = "$(git -C "$BATS_TEST_TMPDIR/k" status --porcelain; git -C "$BATS_TEST_TMPDIR/k" rev-parse HEAD)" ]
}

@test "--tree: a pristine 7.x tree gets the fixture and the series; the user's tree is untouched" {
	fake_tree "$BATS_TEST_TMPDIR/k"
	refs=$(git -C "$BATS_TEST_TMPDIR/k" for-each-ref; git -C "$BATS_TEST_TMPDIR/k" rev-parse HEAD)
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 0 ]
	wt=${lines[-1]}
	[ "$(git -C "$wt" rev-list --count vmalock/base..HEAD)" -eq "$(grep -cvE '^(#|$)' "$TOP/series")" ]
	[ "$(git -C "$wt" rev-list --count vmalock/pristine..vmalock/base)" -eq 1 ]
	[ "$refs" = "$(git -C "$BATS_TEST_TMPDIR/k" for-each-ref; git -C "$BATS_TEST_TMPDIR/k" rev-parse HEAD)" ]
	[ -z "$(git -C "$BATS_TEST_TMPDIR/k" status --porcelain)" ]
	# Same files as the series on the real tree.
	for f in include/linux/mmap_lock.h mm/mmap_lock.c; do
		diff <(git -C "$wt" show "HEAD:$f") <(git -C "$REAL_TREE" show "vmalock/v4:$f")
	done
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 0 ]
	[[ $output == *"reusing vmalock/v4"* ]]
}

@test "--tree: a base that does not match names the fixture patch and hunk" {
	fake_tree "$BATS_TEST_TMPDIR/k"
	sed -i 's/^static inline bool __vma_are_readers_excluded(int refcnt)$/static inline bool renamed(int refcnt)/' \
		"$BATS_TEST_TMPDIR/k/include/linux/mmap_lock.h"
	git -C "$BATS_TEST_TMPDIR/k" -c user.name=t -c user.email=t@t commit -qam moved
	run "$VMALOCK" base --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 7 ]
	[[ $output == *"base/0001-FIXTURE"*"does not apply: hunk #1 of include/linux/mmap_lock.h (@@ -159,22"* ]]
}

@test "apply: a failing series patch is named with its hunk, nothing half-applied" {
	fake_tree "$BATS_TEST_TMPDIR/k"
	repo=$BATS_TEST_TMPDIR/repo
	git clone -q "$TOP" "$repo"
	cp -r "$TOP/tools" "$TOP/patches" "$TOP/series" "$TOP/series.mainline" "$TOP/base" "$repo/"
	sed -i 's/^-\tif (!__refcount_dec_and_test(&vma->vm_refcnt, &oldcnt)) {$/-\tif (!__refcount_dec_and_test(\&vma->vm_refcnt, \&old)) {/' \
		"$repo"/patches/v4/mm-vma-rename-*.patch
	run "$repo/tools/vmalock" apply --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 7 ]
	[[ $output == *"patches/v4/mm-vma-rename"*"does not apply: hunk #2 of include/linux/mmap_lock.h (@@ -175,18"* ]]
	wt=$VMALOCK_CACHE/worktrees/$(basename "$(ls -d "$VMALOCK_CACHE"/trees/user-*)")-v4
	[ "$(git -C "$wt" rev-parse HEAD)" = "$(git -C "$wt" rev-parse vmalock/base)" ]
	[ ! -d "$(git -C "$wt" rev-parse --git-dir)/rebase-apply" ]
	[ -z "$(git -C "$wt" status --porcelain --untracked-files=no)" ]
}

@test "apply: an interrupted git am is cleaned up by the next run" {
	fake_tree "$BATS_TEST_TMPDIR/k"
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 0 ]
	wt=${lines[-1]}
	tree=$(ls -d "$VMALOCK_CACHE"/trees/user-*)
	# Leave an am stopped half way, as a killed run would.
	git -C "$wt" checkout -q --detach vmalock/base
	p=$TOP/patches/mm-tests-add-KUnit-tests-for-per-VMA-locks.patch
	git -C "$wt" -c user.name=t -c user.email=t@t am "$p" "$p" >/dev/null 2>&1 || true
	[ -d "$(git -C "$wt" rev-parse --git-dir)/rebase-apply" ]
	git -C "$tree" config --unset vmalock.stamp-v4
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 0 ]
	[ "$(git -C "$wt" rev-list --count vmalock/base..HEAD)" -eq "$(grep -cvE '^(#|$)' "$TOP/series")" ]
	[ ! -d "$(git -C "$wt" rev-parse --git-dir)/rebase-apply" ]
}

@test "base: an interrupted clone (.partial) is restarted" {
	fake_tree "$BATS_TEST_TMPDIR/k"
	run "$VMALOCK" base --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 0 ]
	tree=${lines[-1]}
	rm -rf "$tree"
	mkdir -p "$tree.partial/junk"
	run "$VMALOCK" base --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 0 ]
	[ ! -e "$tree.partial" ]
	git -C "$tree" rev-parse -q --verify vmalock/base
}

# with_fake_kunit DIR: add tests/fakes/kunit.py to the fake tree DIR.
with_fake_kunit() {
	mkdir -p "$1/tools/testing/kunit"
	cp "$TOP/tests/fakes/kunit.py" "$1/tools/testing/kunit/kunit.py"
	git -C "$1" add -f tools
	git -C "$1" -c user.name=t -c user.email=t@t commit -qm "fake kunit.py"
}

# wait_for FILE TEXT: wait (at most 60 s) until FILE holds TEXT.
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

@test "interrupted mid-build: the build stops with the tool, and a rerun builds and passes" {
	k=$BATS_TEST_TMPDIR/k
	fake_kernel "$k"
	export VMALOCK_QEMU=$TOP/tests/fakes/qemu VMALOCK_ACCEL=tcg
	FAKE_BUILD_SLEEP=120 "$VMALOCK" kunit --tree "$k" --as-is >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" "build .* with gcc"
	sleep 1
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	sleep 1
	[ -z "$(pgrep -f "$BATS_TEST_TMPDIR.*kunit.py build" || true)" ]
	run "$VMALOCK" kunit --tree "$k" --as-is
	[ "$status" -eq 0 ]
	[[ $output == *": 1 passed, 0 failed"* ]]
}

@test "interrupted mid-mutation: the worktree goes back to the series head; later runs build the head" {
	k=$BATS_TEST_TMPDIR/k
	fake_tree "$k"
	with_fake_kunit "$k"
	export VMALOCK_QEMU=$TOP/tests/fakes/qemu VMALOCK_ACCEL=tcg
	FAKE_BUILD_SLEEP=120 "$VMALOCK" mutants --tree "$k" --only no-wakeup >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	wait_for "$BATS_TEST_TMPDIR/out" "build mutant no-wakeup"
	mwt=$(ls -d "$VMALOCK_CACHE"/worktrees/*-v4-mutant)
	[ -n "$(git -C "$mwt" status --porcelain)" ]
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -ne 0 ]
	[ -z "$(git -C "$mwt" status --porcelain --ignored)" ]
	[ "$(git -C "$mwt" rev-parse HEAD)" = "$(git -C "$mwt" rev-parse vmalock/v4)" ]
	[ -z "$(pgrep -f "$BATS_TEST_TMPDIR.*kunit.py build" || true)" ]
	# A mutation left in a worktree by a run killed without a chance to
	# clean up (SIGKILL) is reset by the next run that uses it.
	echo '/* left over */' >>"$mwt/mm/mmap_lock.c"
	run "$VMALOCK" apply --tree "$k"
	[ "$status" -eq 0 ]
	wt=${lines[-1]}
	echo '/* left over */' >>"$wt/mm/mmap_lock.c"
	run "$VMALOCK" apply --tree "$k"
	[ "$status" -eq 0 ]
	[[ $output == *"had changes left by an interrupted run: reset"* ]]
	[ -z "$(git -C "$wt" status --porcelain)" ]
}

@test "mutants --boot: the boot checks the kernel against the --config it was built with" {
	k=$BATS_TEST_TMPDIR/k
	fake_tree "$k"
	with_fake_kunit "$k"
	export VMALOCK_QEMU=$TOP/tests/fakes/qemu VMALOCK_ACCEL=tcg
	run "$VMALOCK" mutants --tree "$k" --only no-wakeup --boot --seconds 1 --config default
	log=$VMALOCK_CACHE/results/latest-mutants/mutant-no-wakeup.boot.log
	[ -f "$log" ]
	[ -z "$(grep 'lacks CONFIG_' "$log" || true)" ]
	[[ $output == *"workload passed"* ]]
}

@test "--tree with the tests alone: the tree as it is, no fixture needed" {
	fake_tree "$BATS_TEST_TMPDIR/k"
	# A tree the fixture does not fit (as mainline today).
	sed -i 's/^static inline bool __vma_are_readers_excluded(int refcnt)$/static inline bool renamed(int refcnt)/' \
		"$BATS_TEST_TMPDIR/k/include/linux/mmap_lock.h"
	git -C "$BATS_TEST_TMPDIR/k" -c user.name=t -c user.email=t@t commit -qam moved
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/k"
	[ "$status" -eq 7 ]
	run "$VMALOCK" apply --tree "$BATS_TEST_TMPDIR/k" --series mainline
	[ "$status" -eq 0 ]
	[ "$(git -C "${lines[-1]}" rev-list --count vmalock/pristine..HEAD)" -eq "$(grep -cvE '^(#|$)' "$TOP/series.mainline")" ]
}
