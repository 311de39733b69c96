#!/usr/bin/env bats
# The b4 messages for v4: numbering, recipients, checkpatch, sign-offs, and
# that git am of them rebuilds the series head exactly.

load helpers

setup_file() {
	setup_real_tree
	export OUT=$BATS_FILE_TMPDIR/out OUT_SIGNED=$BATS_FILE_TMPDIR/signed
	"$VMALOCK" send --out "$OUT" >/dev/null 2>&1
	"$VMALOCK" send --out "$OUT_SIGNED" --signoff "Jane Submitter <jane@example.org>" >/dev/null 2>&1
}

patches() { ls "$1"/000[1-9]*.eml; }
header() { sed -n "/^$2:/,/^[^ ]/p" "$1" | sed '$d' | tr -d '\n'; }
addrs() { header "$1" To; echo; header "$1" Cc; echo; }

@test "subjects: [PATCH v4 0/3] cover and [PATCH v4 k/3] patches, in series order" {
	n=$(grep -cvE '^(#|$)' "$TOP/series")
	[ "$(find "$OUT" -name '*.eml' | wc -l)" -eq $((n + 1)) ]
	[[ $(header "$OUT"/0000-*.eml Subject) == "Subject: [PATCH v4 0/$n] "* ]]
	k=0
	grep -vE '^(#|$)' "$TOP/series" >"$BATS_TEST_TMPDIR/names"
	while read -r p; do
		k=$((k + 1))
		subj=$(header "$TOP/patches/$p" Subject | sed 's/^Subject: \[PATCH[^]]*\] //')
		got=$(header "$(ls "$OUT"/000"$k"-*.eml)" Subject)
		[ "$got" = "Subject: [PATCH v4 $k/$n] $subj" ] || { echo "$got != $subj"; return 1; }
	done <"$BATS_TEST_TMPDIR/names"
}

@test "recipients: the MEMORY MAPPING - LOCKING people, linux-mm and linux-kernel, nobody unrelated" {
	for f in "$OUT"/*.eml; do
		a=$(addrs "$f")
		for who in akpm@linux-foundation.org surenb@google.com liam@infradead.org \
			ljs@kernel.org vbabka@kernel.org shakeel.butt@linux.dev \
			linux-mm@kvack.org linux-kernel@vger.kernel.org; do
			[[ $a == *"$who"* ]] || { echo "$f lacks $who"; return 1; }
		done
	done
	# Everyone else must be named by get_maintainer.pl for the patches, or
	# be an author or signer of them.
	cd "$REAL_TREE"
	allowed=$( (perl scripts/get_maintainer.pl --no-git --no-git-fallback --no-rolestats \
		"$TOP"/patches/*.patch; grep -h -E '^(From|Signed-off-by):' "$TOP"/patches/*.patch) |
		grep -oE '[^<> ,]+@[^<> ,]+' | sort -u)
	for f in "$OUT"/*.eml; do
		for a in $(addrs "$f" | grep -oE '[^<> ,"]+@[^<> ,"]+' | sort -u); do
			m=$(git check-mailmap "<$a>" | grep -oE '[^<>]+@[^<>]+')
			grep -qxF "$a" <<<"$allowed" || grep -qxF "$m" <<<"$allowed" ||
				{ echo "$f: $a is not named by MAINTAINERS for these files"; return 1; }
		done
	done
}

@test "every patch message passes checkpatch --strict" {
	cd "$REAL_TREE"
	for f in $(patches "$OUT"); do
		run perl scripts/checkpatch.pl --strict "$f"
		[[ $output == *"total: 0 errors, 0 warnings, 0 checks"* ]] || { echo "$f: $output"; return 1; }
	done
}

@test "From and Signed-off-by: the author signs; a submitter signs last" {
	for dir in "$OUT" "$OUT_SIGNED"; do
		for f in $(patches "$dir"); do
			author=$(sed -n '/^$/,$p' "$f" | sed -n 's/^From: //p' | head -n 1)
			[ -n "$author" ] || author=$(sed -n 's/^From: //p' "$f" | head -n 1)
			sob=$(sed -n 's/^Signed-off-by: //p' "$f")
			grep -qxF "$author" <<<"$sob" || { echo "$f: $author has no Signed-off-by"; return 1; }
			if [ "$dir" = "$OUT_SIGNED" ]; then
				[ "$(tail -n 1 <<<"$sob")" = "Jane Submitter <jane@example.org>" ]
			fi
		done
	done
	grep -q '^From: Jane Submitter <jane@example.org>' "$OUT_SIGNED"/0000-*.eml
}

@test "git am of the messages onto the base rebuilds the series head exactly" {
	wt=$BATS_TEST_TMPDIR/am
	git -C "$REAL_TREE" worktree add -q --detach "$wt" vmalock/base
	mapfile -t msgs < <(patches "$OUT")
	git -C "$wt" -c user.name=t -c user.email=t@t am -q "${msgs[@]}"
	[ "$(git -C "$wt" rev-parse 'HEAD^{tree}')" = "$(git -C "$REAL_TREE" rev-parse 'vmalock/v4^{tree}')" ]
	git -C "$REAL_TREE" worktree remove --force "$wt"
}

@test "base-commit: b4's own trailer names the prepared base" {
	grep -qx "base-commit: $(git -C "$REAL_TREE" rev-parse vmalock/base)" "$OUT"/0000-*.eml
}
