# shellcheck shell=bash
# vmalock send: the v4 messages, ready for b4 send, written, never sent.

usage_send() {
	cat <<'U'
usage: tools/vmalock send [--out DIR] [--signoff "Name <email>"]
                          [--kernel 7.3|7.2] [--tree DIR]

In a worktree of its own (branch vmalock/v4-send, rebuilt from patches/
with each patch's notes below its "---" kept), enrol the series with
`b4 prep -e vmalock/base`, set the cover letter from b4/cover-letter, force
revision 4, fill To/Cc with `b4 prep --auto-to-cc` (get_maintainer.pl over
the tree's MAINTAINERS), and write the messages with `b4 send -o DIR`.
Nothing is sent: to send for real, run `b4 send` in that worktree.
--signoff adds a Signed-off-by for a submitter who is not the patch's
author, after the existing ones. Prints DIR as the last line.
U
}

# patch_notes FILE: the text between a patch's first "---" and its diffstat.
patch_notes() {
	awk '/^---$/ && !s { s = 1; next }
		s && /^ [^ ].* \| +[0-9]+/ { exit }
		s && /^ [0-9]+ files? changed/ { exit }
		s { print }' "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

cmd_send() {
	parse_opts 'out= signoff=' "$@"
	common_opts
	local out=${OPT_OUT:-} signoff=${OPT_SIGNOFF:-} wt tree swt p n=0 notes msg ident
	[ -z "$signoff" ] || [[ $signoff =~ ^[^\<\>]+\ \<[^\<\>@\ ]+@[^\<\>\ ]+\>$ ]] ||
		die "$E_USAGE" "--signoff: give 'Name <email>'"
	need b4 git perl flock
	lock_tree
	tree_args
	wt=$(sub_path apply "${TARGS[@]}" --series v4)
	tree=$(main_tree "$wt")
	out=${out:-$VMALOCK_CACHE/results/send-$(basename "$tree")}
	worktree_at "$tree" v4-send vmalock/base
	swt=$WT

	# The sender's identity: the submitter, or the tools' own.
	ident=${signoff:-$VMALOCK_GIT_NAME <$VMALOCK_GIT_EMAIL>}
	git -C "$swt" config user.name "${ident% <*}"
	git -C "$swt" config user.email "$(printf '%s' "$ident" | sed 's/.*<\(.*\)>/\1/')"

	# A fresh branch from patches/, notes below "---" kept in the messages.
	vgit -C "$swt" checkout -q -B vmalock/v4-send vmalock/base
	git -C "$swt" config --unset-all branch.vmalock/v4-send.b4-tracking >/dev/null 2>&1 || true
	series_patches "$(series_file v4)" "$VMALOCK_TOP/patches"
	for p in "${PATCHES[@]}"; do
		n=$((n + 1))
		am_series "$swt" "$p"
		msg=$(git -C "$swt" log -1 --format=%B)
		[ -z "$signoff" ] || msg=$(printf '%s\n' "$msg" |
			git -C "$swt" interpret-trailers --if-exists addIfDifferent \
				--trailer "Signed-off-by: $signoff")
		notes=$(patch_notes "$p")
		[ -z "$notes" ] || msg=$(printf '%s\n---\n%s\n' "$msg" "$notes")
		vgit -C "$swt" commit -q --amend --cleanup=verbatim -m "$msg"
	done

	(
		cd "$swt"
		# b4 keeps its state in the branch: start from a clean enrolment.
		step "b4 prep: enrol on vmalock/base" b4 prep -e vmalock/base >/dev/null 2>&1
		EDITOR="cp $VMALOCK_TOP/b4/cover-letter" step "b4 prep: cover letter" \
			b4 prep --edit-cover >/dev/null 2>&1
		step "b4 prep: revision 4" b4 prep --force-revision 4 >/dev/null 2>&1
		step "b4 prep: To/Cc from MAINTAINERS" b4 prep --auto-to-cc >/dev/null 2>&1
		rm -rf "$out"
		mkdir -p "$out"
		# With no SMTP setting b4 would pick its web endpoint, which wants a
		# signing key; -o sends nothing either way. No mailmap: each patch
		# keeps the author it is signed off with (To/Cc above used today's
		# addresses). Environment only: no git config file is changed.
		GIT_CONFIG_COUNT=2 GIT_CONFIG_KEY_0=sendemail.smtpserver \
			GIT_CONFIG_VALUE_0=/usr/sbin/sendmail \
			GIT_CONFIG_KEY_1=log.mailmap GIT_CONFIG_VALUE_1=false \
			step "b4 send -o (writes, sends nothing)" b4 send --no-sign -o "$out" \
			>"$out.log" 2>&1
	) || die "$E_FAIL" "b4 failed in $swt: see $out.log"
	log "messages: $(find "$out" -type f | wc -l) in $out; to send for real: cd $swt && b4 send"
	emit_path "$out"
}
