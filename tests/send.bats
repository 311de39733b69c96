#!/usr/bin/env bats
# Sending: the sender's identity on every message, the postings complete
# (numbering, recipients, checkpatch, base), the same change-id on every
# run, and a real send through an SMTP server on loopback whose mailbox,
# taken as a subscriber would, rebuilds the series head.

load helpers

ADA="Ada Lovelace <ada@kernel-dev.test>"
LORENZO="Lorenzo Stoakes <lorenzo.stoakes@oracle.com>"

setup_file() {
	setup_real_tree
	export VMALOCK_CACHE=$REAL_CACHE
	export V4=$BATS_FILE_TMPDIR/v4 MAINLINE=$BATS_FILE_TMPDIR/mainline
	export REFCOUNT=$BATS_FILE_TMPDIR/refcount
	"$VMALOCK" send --from "$ADA" --out "$V4" >/dev/null 2>&1
	"$VMALOCK" send --series mainline --from "$ADA" --out "$MAINLINE" >/dev/null 2>&1
	"$VMALOCK" send --series refcount --from "$ADA" --out "$REFCOUNT" >/dev/null 2>&1
}

setup() { export VMALOCK_CACHE=$REAL_CACHE; }

patches() { ls "$1"/000[1-9]*.eml; }
# npatches SERIES-FILE: how many patches it lists.
npatches() { grep -cvE '^(#|$)' "$TOP/$1"; }
# lorenzo DIR: the message of Lorenzo Stoakes' patch (the refactor).
lorenzo() { grep -l '^Subject: .*rename is_vma_writer_only' "$1"/000[1-9]*.eml; }
header() { sed -n "/^$2:/,/^[^ ]/p" "$1" | sed '$d' | tr -d '\n'; }
addrs() { header "$1" To; echo; header "$1" Cc; echo; }
# smtp_start: a local SMTP server for this test; sets PORT and MBOX.
smtp_start() {
	MBOX=$BATS_TEST_TMPDIR/mbox
	FAKE_SMTP_LIFETIME=120 timeout 150 "$TOP/tests/fakes/smtp.py" "$MBOX" "$BATS_TEST_TMPDIR/port" 3>&- &
	for _ in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
	PORT=$(cat "$BATS_TEST_TMPDIR/port")
}
teardown() { pkill -f "$TOP/tests/fakes/smtp.py" || true; }

@test "identity: --from, else git identity; none, or a placeholder, is refused with nothing written" {
	out=$BATS_TEST_TMPDIR/none
	HOME=$BATS_TEST_TMPDIR GIT_CONFIG_GLOBAL=/dev/null run "$VMALOCK" send --out "$out"
	[ "$status" -eq 2 ]
	[[ $output == *"no sender: give --from"* ]]
	[ ! -e "$out" ]
	run "$VMALOCK" send --from "vmalock <vmalock@localhost>" --out "$out"
	[ "$status" -eq 2 ]
	run "$VMALOCK" send --from "Someone <someone@example.org>" --out "$out"
	[ "$status" -eq 2 ]
	[[ $output == *"is a placeholder, not a person"* ]]
	run "$VMALOCK" send --from "nobody" --out "$out"
	[ "$status" -eq 2 ]
	[ ! -e "$out" ]
	# The git identity is used when there is no --from.
	home=$BATS_TEST_TMPDIR/home
	mkdir -p "$home"
	HOME=$home git config --global user.name "Grace Hopper"
	HOME=$home git config --global user.email "grace@kernel-dev.test"
	HOME=$home run "$VMALOCK" send --out "$out"
	[ "$status" -eq 0 ]
	grep -q '^From: Grace Hopper <grace@kernel-dev.test>' "$out"/0001-*.eml
	grep -q '^Signed-off-by: Grace Hopper <grace@kernel-dev.test>' "$out"/0002-*.eml
}

@test "no placeholder identity in any written message" {
	for f in "$V4"/*.eml "$MAINLINE"/*.eml "$REFCOUNT"/*.eml; do
		if grep -qiE 'example\.(org|com)|vmalock@localhost|vmalock developers|^From: vmalock|r-seed-55142b6b' "$f"; then
			echo "$f carries a placeholder"
			return 1
		fi
	done
}

@test "authors and sign-offs: new patches are the sender's; the refactor stays Lorenzo's, the sender signs after him" {
	[ "$(sed -n 's/^From: //p' "$V4"/0001-*.eml | head -n 1)" = "$ADA" ]
	[ "$(sed -n 's/^Signed-off-by: //p' "$V4"/0001-*.eml)" = "$ADA" ]
	# 2/3: b4 puts the author in the body when the sender is someone else.
	[ "$(sed -n '/^$/,$p' "$(lorenzo "$V4")" | sed -n 's/^From: //p' | head -n 1)" = "$LORENZO" ]
	[ "$(sed -n 's/^Signed-off-by: //p' "$(lorenzo "$V4")")" = "$LORENZO
$ADA" ]
	# The sender is the author: one sign-off, no second line.
	out=$BATS_TEST_TMPDIR/lorenzo
	run "$VMALOCK" send --from "$LORENZO" --out "$out"
	[ "$status" -eq 0 ]
	[ "$(sed -n 's/^Signed-off-by: //p' "$(lorenzo "$out")")" = "$LORENZO" ]
	[ "$(sed -n 's/^Signed-off-by: //p' "$out"/0001-*.eml)" = "$LORENZO" ]
}

@test "subjects: v4 0/N..N/N in series order; mainline and refcount new series 0/N..N/N" {
	check_subjects() {
		local dir=$1 sfile=$2 prefix=$3 n k=0 p subj got
		n=$(grep -cvE '^(#|$)' "$sfile")
		[ "$(find "$dir" -name '*.eml' | wc -l)" -eq $((n + 1)) ]
		[[ $(header "$dir"/0000-*.eml Subject) == "Subject: [$prefix 0/$n] "* ]]
		while read -r p; do
			k=$((k + 1))
			subj=$(header "$TOP/patches/$p" Subject | sed 's/^Subject: \[PATCH[^]]*\] //')
			got=$(header "$(ls "$dir"/"$(printf %04d "$k")"-*.eml)" Subject)
			[ "$got" = "Subject: [$prefix $k/$n] $subj" ] || { echo "$got != $subj"; return 1; }
		done < <(grep -vE '^(#|$)' "$sfile")
	}
	check_subjects "$V4" "$TOP/series" "PATCH v4"
	check_subjects "$MAINLINE" "$TOP/series.mainline" PATCH
	check_subjects "$REFCOUNT" "$TOP/series.refcount" PATCH
}

@test "recipients: MEMORY MAPPING - LOCKING, linux-mm, linux-kernel, the KUnit lists for the tests; nobody unrelated" {
	for f in "$V4"/*.eml "$MAINLINE"/*.eml "$REFCOUNT"/*.eml; do
		a=$(addrs "$f")
		for who in akpm@linux-foundation.org surenb@google.com liam@infradead.org \
			ljs@kernel.org vbabka@kernel.org shakeel.butt@linux.dev \
			linux-mm@kvack.org linux-kernel@vger.kernel.org; do
			[[ $a == *"$who"* ]] || { echo "$f lacks $who"; return 1; }
		done
	done
	for f in "$V4"/*.eml "$MAINLINE"/*.eml; do
		[[ $(addrs "$f") == *linux-kselftest@vger.kernel.org* ]]
		[[ $(addrs "$f") == *kunit-dev@googlegroups.com* ]]
		# A changelog's words do not add recipients (get_maintainer's K: lines).
		[[ $(addrs "$f") != *llvm@* ]]
	done
	# No test in the refcount posting: no KUnit list.
	for f in "$REFCOUNT"/*.eml; do
		[[ $(addrs "$f") != *kunit-dev@* ]]
	done
	# Everyone else is named by get_maintainer.pl for the patches, or signs them.
	cd "$REAL_TREE"
	allowed=$( (perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats --nokeywords \
		"$TOP"/patches/*.patch "$TOP"/patches/v4/*.patch "$TOP"/patches/refcount/*.patch
		grep -h -E '^(From|Signed-off-by):' "$TOP"/patches/*.patch "$TOP"/patches/v4/*.patch
		echo "$ADA linux-kselftest@vger.kernel.org kunit-dev@googlegroups.com") |
		grep -oE '[^<> ,]+@[^<> ,]+' | sort -u)
	for f in "$V4"/*.eml "$MAINLINE"/*.eml "$REFCOUNT"/*.eml; do
		for a in $(addrs "$f" | grep -oE '[^<> ,"]+@[^<> ,"]+' | sort -u); do
			m=$(git check-mailmap "<$a>" | grep -oE '[^<>]+@[^<>]+')
			grep -qxF "$a" <<<"$allowed" || grep -qxF "$m" <<<"$allowed" ||
				{ echo "$f: $a is not named by MAINTAINERS for these files"; return 1; }
		done
	done
}

@test "every patch message passes checkpatch --strict" {
	cd "$REAL_TREE"
	for f in $(patches "$V4") $(patches "$MAINLINE") $(patches "$REFCOUNT"); do
		run perl scripts/checkpatch.pl --strict "$f"
		[[ $output == *"total: 0 errors, 0 warnings, 0 checks"* ]] || { echo "$f: $output"; return 1; }
	done
}

@test "git am of each posting onto its base rebuilds the series head exactly; base-commit names that base" {
	for s in v4 mainline refcount; do
		dir=$V4 base=vmalock/base
		[ "$s" != mainline ] || { dir=$MAINLINE; base=vmalock/pristine; }
		[ "$s" != refcount ] || { dir=$REFCOUNT; base=vmalock/pristine; }
		wt=$BATS_TEST_TMPDIR/am-$s
		git -C "$REAL_TREE" worktree add -q --detach "$wt" "$base"
		mapfile -t msgs < <(patches "$dir")
		git -C "$wt" -c user.name=t -c user.email=t@t am -q "${msgs[@]}"
		[ "$(git -C "$wt" rev-parse 'HEAD^{tree}')" = "$(git -C "$REAL_TREE" rev-parse "vmalock/$s^{tree}")" ]
		git -C "$REAL_TREE" worktree remove --force "$wt"
		grep -qx "base-commit: $(git -C "$REAL_TREE" rev-parse "$base")" "$dir"/0000-*.eml
	done
}

@test "revisions: the same change-id every run; a next revision is one option away" {
	c1=$(sed -n 's/^change-id: //p' "$V4"/0000-*.eml)
	[ "$c1" = "$(. "$TOP/tools/vmalock.conf"; printf '%s\n' "$VMALOCK_POSTINGS" | awk '$1 == "v4" {print $3}')" ]
	out=$BATS_TEST_TMPDIR/again
	run "$VMALOCK" send --from "$ADA" --out "$out"
	[ "$status" -eq 0 ]
	[ "$(sed -n 's/^change-id: //p' "$out"/0000-*.eml)" = "$c1" ]
	[[ $(header "$out"/0001-*.eml Message-Id) == *"<${c1%-*}-v4-1-"* ]]
	run "$VMALOCK" send --from "$ADA" --revision 5 --out "$BATS_TEST_TMPDIR/v5"
	[ "$status" -eq 0 ]
	[[ $(header "$BATS_TEST_TMPDIR"/v5/0000-*.eml Subject) == "Subject: [PATCH v5 0/$(npatches series)]"* ]]
	[ "$(sed -n 's/^change-id: //p' "$BATS_TEST_TMPDIR"/v5/0000-*.eml)" = "$c1" ]
	run "$VMALOCK" send --revision 0 --from "$ADA"
	[ "$status" -eq 2 ]
}

@test "--smtp: only loopback; a real send of each posting, received as a subscriber would, rebuilds the head" {
	run "$VMALOCK" send --from "$ADA" --smtp 192.0.2.1:25
	[ "$status" -eq 2 ]
	[[ $output == *"not a loopback address"* ]]
	run "$VMALOCK" send --from "$ADA" --smtp mail.kernel.org:25
	[ "$status" -eq 2 ]
	for s in refcount mainline v4; do
		smtp_start
		run "$VMALOCK" send --series "$s" --from "$ADA" --smtp "127.0.0.1:$PORT"
		[ "$status" -eq 0 ]
		n=$(find "${lines[-1]}" -name '*.eml' | wc -l)
		[[ $output == *"Sent $n messages to 127.0.0.1:$PORT"* ]]
		[ "$(grep -c '^From ' "$MBOX")" -eq "$n" ]
		# As a subscriber: the patches of the thread, git am onto the base.
		base=vmalock/base
		[ "$s" = v4 ] || base=vmalock/pristine
		wt=$BATS_TEST_TMPDIR/recv-$s
		git -C "$REAL_TREE" worktree add -q --detach "$wt" "$base"
		[ "$(python3 "$TOP/tests/fakes/mbox-patches.py" "$MBOX" "$BATS_TEST_TMPDIR/p-$s.mbox")" -eq $((n - 1)) ]
		git -C "$wt" -c user.name=t -c user.email=t@t am -q "$BATS_TEST_TMPDIR/p-$s.mbox"
		[ "$(git -C "$wt" rev-parse 'HEAD^{tree}')" = "$(git -C "$REAL_TREE" rev-parse "vmalock/$s^{tree}")" ]
		echo "$wt" >>"$BATS_FILE_TMPDIR/received"
		pkill -f "$TOP/tests/fakes/smtp.py" || true
		rm -f "$BATS_TEST_TMPDIR/port" "$MBOX"
	done
	# v4 was sent from this tree (b4 tagged it): a v5 shows what changed.
	run "$VMALOCK" send --from "$ADA" --revision 5 --out "$BATS_TEST_TMPDIR/v5"
	[ "$status" -eq 0 ]
	[[ $output == *"range-diff against v4, sent from this tree:"* ]]
	[[ $output == *"  1:  "*" 1:  "*"mm/mmap_lock: export per-VMA lock internals to KUnit"* ]]
}

@test "--smtp failures: server down, a refused recipient, a message rejected mid-series: named, exit 1" {
	run "$VMALOCK" send --series mainline --from "$ADA" --smtp 127.0.0.1:9
	[ "$status" -eq 1 ]
	[[ $output == *"before the first message: [Errno 111] Connection refused"* ]]
	FAKE_SMTP_REFUSE=linux-mm@kvack.org smtp_start
	run "$VMALOCK" send --series mainline --from "$ADA" --smtp "127.0.0.1:$PORT"
	[ "$status" -eq 1 ]
	n=$(npatches series.mainline)
	[[ $output == *"at message 1 of $((n + 1)): [PATCH 0/$n]"*"linux-mm@kvack.org"*"recipient refused"* ]]
	pkill -f "$TOP/tests/fakes/smtp.py" || true
	rm -f "$BATS_TEST_TMPDIR/port" "$MBOX"
	FAKE_SMTP_REJECT=2 smtp_start
	run "$VMALOCK" send --series mainline --from "$ADA" --smtp "127.0.0.1:$PORT"
	[ "$status" -eq 1 ]
	[[ $output == *"at message 2 of $((n + 1)): [PATCH 1/$n]"*"554"* ]]
	[[ $output == *"accepted the 1 messages before it"*"sends all $((n + 1)) again"* ]]
	[ "$(grep -c '^From ' "$MBOX")" -eq 1 ]
}

@test "--out: a directory holding other files is refused and left alone; a relative one is where you are; a rerun replaces the messages" {
	mine=$BATS_TEST_TMPDIR/mine
	mkdir -p "$mine"
	echo keep >"$mine/notes"
	run "$VMALOCK" send --from "$ADA" --out "$mine"
	[ "$status" -eq 2 ]
	[[ $output == *"--out $mine: holds more than messages"* ]]
	[ "$(cat "$mine/notes")" = keep ]
	cd "$BATS_TEST_TMPDIR"
	run "$VMALOCK" send --from "$ADA" --out rel
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$BATS_TEST_TMPDIR/rel" ]
	n=$(npatches series)
	[ "$(patches rel | wc -l)" -eq "$n" ]
	run "$VMALOCK" send --from "$ADA" --out rel
	[ "$status" -eq 0 ]
	[ "$(patches rel | wc -l)" -eq "$n" ]
	[ "$(find rel -name '*.eml' | wc -l)" -eq $((n + 1)) ]
}

@test "--report: the maple tree's KCSAN finding, to the MAPLE TREE maintainers and lists, with both stacks" {
	out=$BATS_TEST_TMPDIR/report
	run "$VMALOCK" send --report maple-kcsan --from "$ADA" --out "$out"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$out" ]
	f=$(ls "$out"/*.eml)
	[ "$(find "$out" -name '*.eml' | wc -l)" -eq 1 ]
	[ "$(header "$f" From)" = "From: $ADA" ]
	[[ $(header "$f" To) == *"liam@infradead.org"* ]]
	[[ $(header "$f" Cc) == *"maple-tree@lists.infradead.org"* ]]
	[[ $(header "$f" Cc) == *"linux-mm@kvack.org"* ]]
	[[ $(header "$f" Subject) == "Subject: maple_tree: KCSAN data races"* ]]
	grep -q 'BUG: KCSAN: data-race in mas_start / mas_wr_store_entry' "$f"
	grep -q 'BUG: KCSAN: data-race in mas_wr_store_entry / mtree_range_walk' "$f"
	grep -q 'commit_merge' "$f"
	run grep -cE '^#|r-seed-55142b6b|Maintainers-of:|Evidence:' "$f"
	[ "$output" = 0 ]
	run "$VMALOCK" send --report nope --from "$ADA"
	[ "$status" -eq 2 ]
	run "$VMALOCK" send --report maple-kcsan --series v4 --from "$ADA"
	[ "$status" -eq 2 ]
}
