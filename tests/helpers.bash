# shellcheck shell=bash
# Shared by the bats files: the repo, a scratch cache, and small fake
# kernel trees made of real files from the cached pristine Debian tree.

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
VMALOCK=$TOP/tools/vmalock
REAL_CACHE=${VMALOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmalock}
KVER=$(. "$TOP/tools/vmalock.conf" && echo "$VMALOCK_DEFAULT_KERNEL")
REAL_TREE=$REAL_CACHE/trees/$KVER

# The files the base fixture and the series touch.
TOUCHED='Makefile MAINTAINERS include/linux/mmap_lock.h mm/internal.h mm/mmap_lock.c mm/Kconfig mm/Makefile'

# fake_tree DIR: a git repo holding the touched files of the pristine tree.
fake_tree() {
	local f
	mkdir -p "$1"
	for f in $TOUCHED; do
		mkdir -p "$1/$(dirname "$f")"
		git -C "$REAL_TREE" show "vmalock/pristine:$f" >"$1/$f"
	done
	git -C "$1" init -q
	git -C "$1" add -A
	git -C "$1" -c user.name=t -c user.email=t@t commit -q -m pristine
}

# fake_kernel DIR: a git tree that passes for a kernel tree with the tests
# in it (for kunit --as-is): a Makefile, mmap_lock.h, the test file, and
# tests/fakes/kunit.py as tools/testing/kunit/kunit.py. Needs no real tree.
fake_kernel() {
	mkdir -p "$1/include/linux" "$1/mm/tests" "$1/tools/testing/kunit"
	echo 'VERSION = 7' >"$1/Makefile"
	echo '/* fake */' >"$1/include/linux/mmap_lock.h"
	echo '/* fake */' >"$1/mm/tests/vma_lock_kunit.c"
	printf 'CONFIG_KUNIT=y\n' >"$1/mm/tests/.kunitconfig"
	cp "$TOP/tests/fakes/kunit.py" "$1/tools/testing/kunit/kunit.py"
	git -C "$1" init -q
	git -C "$1" add -A -f
	git -C "$1" -c user.name=t -c user.email=t@t commit -q -m fake
}

# conf_with FIELD VALUE: a copy of the conf with one field of the default
# kernel's line replaced; prints its path.
conf_with() {
	local conf=$BATS_TEST_TMPDIR/vmalock.conf
	awk -v k="$KVER" -v n="$1" -v v="$2" \
		'$1 == k && NF == 6 { $n = v } { print }' "$TOP/tools/vmalock.conf" >"$conf"
	printf '%s\n' "$conf"
}

# The .deb the real cache holds for the default kernel.
real_deb() {
	ls "$REAL_CACHE"/debs/linux-source-"$KVER"_*_all.deb
}

# setup_real_tree: make what the tests that read the real tree need, on
# whatever cache they run with (an empty one included): the base and both
# series' branches. Reused in a few seconds when they are there.
setup_real_tree() {
	VMALOCK_CACHE=$REAL_CACHE "$VMALOCK" apply >/dev/null
	VMALOCK_CACHE=$REAL_CACHE "$VMALOCK" apply --series mainline >/dev/null
}
