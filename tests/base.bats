#!/usr/bin/env bats
# The base is faithful to the seed's pre-image, and the series applies to
# it with git am and with quilt.

load helpers

SEED=$TOP/tests/data/v3-0003-seed.patch

setup_file() { setup_real_tree; }

# The diff of a patch: from the first "diff --git" to the signature.
diff_part() { sed -n '/^diff --git/,/^-- $/p' "$1" | sed '$d'; }
# Whitespace-insensitive form: no blank lines, no spacing at all.
squash() { tr -d ' \t' | grep -v '^$'; }

@test "the v3 patch as posted applies to the base with zero fuzz" {
	out=$BATS_TEST_TMPDIR/t
	mkdir -p "$out/include/linux" "$out/mm"
	for f in include/linux/mmap_lock.h mm/mmap_lock.c; do
		git -C "$REAL_TREE" show "vmalock/base:$f" >"$out/$f"
	done
	run patch -d "$out" -p1 -F0 --dry-run <"$SEED"
	[ "$status" -eq 0 ]
	[[ $output != *fuzz* ]]
	[[ $output != *FAILED* ]]
	cd "$REAL_TREE" && git apply --check "$SEED"
}

@test "the restored v3 patch is the posted one, whitespace aside" {
	posted=$(find "$TOP/../shared/seed" -name '*.txt' 2>/dev/null | head -n 1) || true
	[ -n "$posted" ] || skip "no copy of shared/seed beside the repository"
	# The posted copy ends its diff at the signature line "--".
	diff <(sed -n '/^diff --git/,/^--$/p' "$posted" | sed '$d' | squash) \
		<(diff_part "$SEED" | squash)
	# Same message up to the diffstat.
	diff <(sed -n '1,/^---$/p' "$posted" | squash) \
		<(sed -n '/^$/,/^---$/{p;/^---$/q}' "$SEED" | squash)
}

@test "every context and removed line of v3 is in the base, byte for byte" {
	diff_part "$SEED" | grep -E '^[- ]' | grep -vE '^--- a/' | cut -c2- | sort -u |
		while IFS= read -r line; do
			[ -z "$line" ] && continue
			git -C "$REAL_TREE" grep -qF -e "$line" vmalock/base -- include/linux/mmap_lock.h mm/mmap_lock.c ||
				{ echo "missing: $line"; return 1; }
		done
}

@test "the fixture changes only the lines around the seed: two files" {
	run git -C "$REAL_TREE" diff --name-only vmalock/pristine vmalock/base
	[ "$status" -eq 0 ]
	[ "$output" = "include/linux/mmap_lock.h
mm/mmap_lock.c" ]
	run git -C "$REAL_TREE" log -1 --format=%s vmalock/base
	[[ $output == "FIXTURE, NEVER TO BE SENT:"* ]]
}

@test "the fixture and the series also apply to Debian 7.2 (files from its tarball)" {
	other=7.2
	[ "$KVER" != 7.2 ] || other=7.3
	tarball=$(VMALOCK_CACHE=$REAL_CACHE "$VMALOCK" fetch --kernel "$other" | tail -n 1)
	k=$BATS_TEST_TMPDIR/k
	mkdir -p "$k"
	members=()
	for f in $TOUCHED; do members+=("linux-source-$other/$f"); done
	tar -xJf "$tarball" -C "$k" --strip-components=1 "${members[@]}"
	git -C "$k" init -q && git -C "$k" add -A -f &&
		git -C "$k" -c user.name=t -c user.email=t@t commit -q -m "$other"
	export VMALOCK_CACHE=$BATS_TEST_TMPDIR/cache
	run "$VMALOCK" apply --tree "$k"
	[ "$status" -eq 0 ]
	run "$VMALOCK" apply --tree "$k" --series mainline
	[ "$status" -eq 0 ]
}

@test "quilt push -a applies the series to an unpacked base" {
	command -v quilt >/dev/null || skip "quilt is not installed"
	k=$BATS_TEST_TMPDIR/q
	mkdir -p "$k"
	# shellcheck disable=SC2086 # a list of paths
	git -C "$REAL_TREE" archive vmalock/base -- $TOUCHED | tar -x -C "$k"
	cd "$k"
	QUILT_PATCHES=$TOP/patches QUILT_SERIES=$TOP/series QUILT_PC=$k/.pc \
		run quilt push -a --fuzz=0 -q
	[ "$status" -eq 0 ]
	for f in include/linux/mmap_lock.h mm/mmap_lock.c mm/Kconfig mm/Makefile MAINTAINERS; do
		diff "$k/$f" <(git -C "$REAL_TREE" show "vmalock/v4:$f")
	done
	git -C "$REAL_TREE" show vmalock/v4:mm/tests/vma_lock_kunit.c | diff "$k/mm/tests/vma_lock_kunit.c" -
}

@test "series files list existing patches; both postings carry the same test patches" {
	for s in series series.mainline; do
		grep -vE '^(#|$)' "$TOP/$s" | while read -r p; do [ -f "$TOP/patches/$p" ]; done
	done
	# Only patches/v4/ (the exports in their January 2026 form, the
	# refactor) and the mainline form of the exports differ.
	[ "$(grep -vE '^(#|$)|^v4/' "$TOP/series")" = \
		"$(grep -vE '^(#|$)' "$TOP/series.mainline" | grep -vx "$(grep -m1 -vE '^(#|$)' "$TOP/series.mainline")")" ]
	[ "$(grep -cE '^v4/' "$TOP/series")" -eq 2 ]
}
