# shellcheck shell=bash
# vmalock send: the messages of a posting, with b4, as the sender.

usage_send() {
	cat <<'U'
usage: tools/vmalock send [--series v4|mainline|refcount] [--from "Name <email>"]
                          [--revision N] [--out DIR] [--smtp HOST:PORT]
                          [--kernel 7.3|7.2] [--tree DIR]
       tools/vmalock send --report NAME [--from "Name <email>"] [--out DIR]

--report NAME writes one message, a report of a finding outside the
series, from b4/report-NAME: its Subject, the file whose maintainers and
lists get it (To: the maintainers, Cc: reviewers and lists, by
get_maintainer.pl over today's MAINTAINERS), its text, and the evidence
files it names (console reports, with both stacks) appended.

--out DIR takes the messages (default: a directory under the results);
it must be new, empty, or hold only the .eml files of an earlier send,
which are replaced; its logs go beside it (DIR.log, DIR.prep.log).

Prepare a posting with b4 in a worktree of its own (branch
vmalock/SERIES-send) and write its messages with `b4 send -o`:
  v4        the series in `series` on its base (the January 2026 tree, or
            the fixture's reconstruction of it): cover b4/cover-letter
  mainline  the tests alone (series.mainline) on the pristine tree, a new
            series for today's mainline: cover b4/cover-letter.mainline,
            the KUnit lists copied
  refcount  vma_refcount_put()'s comment and a redundant test
            (series.refcount) on the pristine tree: cover
            b4/cover-letter.refcount
The revision and b4 change-id of each posting are in tools/vmalock.conf
(VMALOCK_POSTINGS), so every run writes the same change-id and the same
stable part of each Message-ID (b4 adds a random part on purpose);
--revision N prepares another revision under the same change-id and, when
the previous one was sent from this tree, shows the range-diff against it.

The sender is --from, or your git identity (user.name, user.email); with
neither, nothing is written (exit 2). The test patches (in patches/ under
this project's maintainers' identity, tools/vmalock.conf) take the sender
as author and Signed-off-by; a patch by someone else keeps its author, and
a sender who is not that author signs off after the existing
Signed-off-by lines, saying the patch was revised. To/Cc come
from `b4 prep --auto-to-cc` (scripts/get_maintainer.pl over the tree's
MAINTAINERS) and the posting's extra Cc.

Nothing is sent to anyone by this tool. --smtp HOST:PORT sends for real
through an SMTP server on this machine's loopback (127.0.0.0/8 or ::1; any
other host is refused), for testing; if a message is refused, the ones
before it stay sent and the failed one is named. To send to the list, run
`b4 send` yourself in the worktree printed at the end.

On the Debian trees the base-commit trailer names the local fixture commit
(v4) or the local import of the tarball (the others), which exist nowhere
else; with --tree at a public commit it names that commit. Prints the
directory of the written messages as the last line.
U
}

# posting_field SERIES N: field N of SERIES' line in VMALOCK_POSTINGS.
posting_field() {
	printf '%s\n' "$VMALOCK_POSTINGS" | awk -v s="$1" -v n="$2" '$1 == s { print $n }'
}

# sender_identity: set SENDER ("Name <email>") from --from or git config.
sender_identity() {
	local name email
	if [ -n "${OPT_FROM:-}" ]; then
		SENDER=$OPT_FROM
	else
		name=$(git -C "$VMALOCK_TOP" config user.name || true)
		email=$(git -C "$VMALOCK_TOP" config user.email || true)
		if [ -z "$name" ] || [ -z "$email" ]; then
			die "$E_USAGE" "no sender: give --from \"Name <email>\" or set git config user.name and user.email (nothing was written)"
		fi
		SENDER="$name <$email>"
	fi
	[[ $SENDER =~ ^[^\<\>@]+\ \<[^\<\>@\ ]+@[^\<\>\ ]+\.[^\<\>\ ]+\>$ ]] ||
		die "$E_USAGE" "the sender must be 'Name <user@domain>', not '$SENDER'"
	case "$SENDER" in
	*"<$VMALOCK_GIT_EMAIL>" | *@example.* | *.example\>)
		die "$E_USAGE" "'$SENDER' is a placeholder, not a person: send as yourself" ;;
	esac
}

# smtp_target HOST:PORT: set SMTP_HOST and SMTP_PORT; refuse any host that
# is not on the loopback interface.
smtp_target() {
	SMTP_HOST=${1%:*}
	SMTP_PORT=${1##*:}
	SMTP_HOST=${SMTP_HOST#[}
	SMTP_HOST=${SMTP_HOST%]}
	[[ $SMTP_PORT =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "--smtp: HOST:PORT, not '$1'"
	case "$SMTP_HOST" in
	127.* | ::1) ;;
	*) die "$E_USAGE" "--smtp $1: not a loopback address; this tool sends to this machine only (run b4 send yourself to mail the list)" ;;
	esac
	[[ $SMTP_HOST == ::1 || $SMTP_HOST =~ ^127\.[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		die "$E_USAGE" "--smtp $1: not a loopback address"
}

# patch_notes FILE: the text between a patch's first "---" and its diffstat.
patch_notes() {
	awk '/^---$/ && !s { s = 1; next }
		s && /^ [^ ].* \| +[0-9]+/ { exit }
		s && /^ [0-9]+ files? changed/ { exit }
		s { print }' "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# sign_as_sender SWT PATCH: make the last commit of SWT (PATCH applied) the
# sender's where it is the tools' own, signed by the sender where it is
# someone else's; keep PATCH's notes below "---".
sign_as_sender() {
	local swt=$1 p=$2 author msg notes tool="$VMALOCK_GIT_NAME <$VMALOCK_GIT_EMAIL>"
	author=$(git -C "$swt" log -1 --format='%an <%ae>')
	msg=$(git -C "$swt" log -1 --format=%B)
	if [ "$author" = "$tool" ]; then
		msg=$(printf '%s\n' "$msg" | grep -vxF "Signed-off-by: $tool")
		msg=$(printf '%s\n' "$msg" | git -C "$swt" interpret-trailers --trailer "Signed-off-by: $SENDER")
		author=$SENDER
	elif [ "$author" != "$SENDER" ] && ! printf '%s\n' "$msg" | grep -qxF "Signed-off-by: $SENDER"; then
		# Carried and revised: say so, then sign (submitting-patches.rst).
		msg=$(printf '%s\n[%s: revised for this posting; the changes are below the ---]\nSigned-off-by: %s\n' \
			"$msg" "$(printf '%s' "$SENDER" | sed 's/.*<\(.*\)>/\1/')" "$SENDER")
	fi
	notes=$(patch_notes "$p")
	[ -z "$notes" ] || msg=$(printf '%s\n---\n%s\n' "$msg" "$notes")
	vgit -C "$swt" commit -q --amend --cleanup=verbatim --author="$author" -m "$msg" ||
		die "$E_FAIL" "cannot rewrite $(basename "$p") in $swt"
	if git -C "$swt" log -1 --format='%an <%ae>%n%B' | grep -qF "$VMALOCK_GIT_EMAIL"; then
		die "$E_FAIL" "$(basename "$p") still carries the tools' identity"
	fi
}

# b4_isolated ARG...: b4 in the current directory with only the settings
# made here: no global or system git configuration (an SMTP server, an
# identity, a sendemail profile of the user's cannot take part), no mailmap
# (each patch keeps the author it is signed off with). With no SMTP server
# set b4 would choose its web endpoint, which wants a signing key; the
# messages are only written (-o), so a local mailer is named and never run.
# To/Cc: b4's own get_maintainer.pl commands, without keyword matching
# (the words of a changelog, "clang" for one, are not what a patch touches).
b4_isolated() {
	local gm='scripts/get_maintainer.pl --nogit --nogit-fallback --nogit-chief-penguins --norolestats --nokeywords'
	GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_COUNT=4 \
		GIT_CONFIG_KEY_0=log.mailmap GIT_CONFIG_VALUE_0=false \
		GIT_CONFIG_KEY_1=sendemail.smtpserver GIT_CONFIG_VALUE_1=/usr/sbin/sendmail \
		GIT_CONFIG_KEY_2=b4.send-auto-to-cmd GIT_CONFIG_VALUE_2="$gm --nol" \
		GIT_CONFIG_KEY_3=b4.send-auto-cc-cmd GIT_CONFIG_VALUE_3="$gm --nom" \
		b4 "$@"
}

# out_dir DIR: set out to DIR made absolute, if DIR may take the messages:
# new, empty, or holding only the messages (*.eml) of an earlier send.
out_dir() {
	case "$1" in /*) out=$1 ;; *) out=$PWD/$1 ;; esac
	[ ! -e "$out" ] || [ -d "$out" ] || die "$E_USAGE" "--out $out: not a directory"
	[ ! -d "$out" ] || [ -z "$(find "$out" -mindepth 1 ! -name '*.eml' -print -quit)" ] ||
		die "$E_USAGE" "--out $out: holds more than messages of an earlier send; give a new or empty directory"
}

# send_report NAME: write the report b4/report-NAME as one message, as the
# sender, into out (default: under the results); print its directory.
send_report() {
	local t=$VMALOCK_TOP/b4/report-$1 subject file wt to cc f
	[ -f "$t" ] || die "$E_USAGE" "--report: no b4/report-$1"
	[ -z "${OPT_SERIES:-}${OPT_REVISION:-}${OPT_SMTP:-}" ] || die "$E_USAGE" "--report takes only --from and --out"
	subject=$(sed -n 's/^Subject: //p' "$t" | head -n 1)
	file=$(sed -n 's/^Maintainers-of: //p' "$t" | head -n 1)
	if [ -z "$subject" ] || [ -z "$file" ]; then
		die "$E_USAGE" "b4/report-$1 needs Subject: and Maintainers-of: lines"
	fi
	sender_identity
	local out=''
	[ -z "${OPT_OUT:-}" ] || out_dir "$OPT_OUT"
	need perl flock
	lock_tree
	tree_args
	wt=$(sub_path apply "${TARGS[@]}" --series mainline)
	local gm=(perl scripts/get_maintainer.pl --nogit --nogit-fallback --nogit-chief-penguins
		--norolestats --nokeywords -f "$file")
	# One address a line: maintainers To, reviewers and lists Cc.
	to=$(cd "$wt" && "${gm[@]}" --nol --nor) || die "$E_FAIL" "get_maintainer.pl failed for $file"
	cc=$(cd "$wt" && "${gm[@]}" --nom) || die "$E_FAIL" "get_maintainer.pl failed for $file"
	to=$(printf '%s\n' "$to" | paste -sd, - | sed 's/,/, /g')
	cc=$(printf '%s\n' "$cc" | paste -sd, - | sed 's/,/, /g')
	[ -n "$to" ] || die "$E_FAIL" "MAINTAINERS names no maintainer of $file"
	results_dir send
	out=${out:-$RES/report-$1}
	mkdir -p "$out"
	find "$out" -maxdepth 1 -name '*.eml' -delete
	{
		printf 'From: %s\nTo: %s\n' "$SENDER" "$to"
		[ -z "$cc" ] || printf 'Cc: %s\n' "$cc"
		printf 'Subject: %s\nDate: %s\nMessage-ID: <%s.report-%s@%s>\n' "$subject" \
			"$(date -R)" "$(date +%Y%m%d%H%M%S)" "$1" "$(email_of "$SENDER" | sed 's/.*@//')"
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n'
		sed -e '1,/^$/d' "$t"
		while read -r f; do
			[ -f "$VMALOCK_TOP/$f" ] || die "$E_USAGE" "b4/report-$1 names $f, which does not exist"
			grep -v '^#' "$VMALOCK_TOP/$f"
			printf '\n'
		done < <(sed -n 's/^Evidence: //p' "$t")
	} >"$out/0001-report-$1.eml"
	log "report $1: $out/0001-report-$1.eml (To: $to); sent nothing"
	emit_path "$out"
}

cmd_send() {
	parse_opts 'series= from= revision= out= smtp= report=' "$@"
	common_opts
	if [ -n "${OPT_REPORT+x}" ]; then
		send_report "$OPT_REPORT"
		return
	fi
	local series=${OPT_SERIES:-v4} revision changeid cover extra
	series_file "$series" >/dev/null
	[ -n "$(posting_field "$series" 1)" ] || die "$E_USAGE" "no posting for series '$series' in tools/vmalock.conf"
	revision=${OPT_REVISION:-$(posting_field "$series" 2)}
	positive --revision "$revision"
	changeid=$(posting_field "$series" 3)
	cover=$VMALOCK_TOP/$(posting_field "$series" 4)
	extra=$(posting_field "$series" 5)
	[ -f "$cover" ] || die "$E_USAGE" "no cover letter $cover"
	sender_identity
	[ -z "${OPT_SMTP:-}" ] || smtp_target "$OPT_SMTP"
	local out=''
	[ -z "${OPT_OUT:-}" ] || out_dir "$OPT_OUT"
	need b4 git perl flock
	lock_tree
	tree_args

	local wt tree base swt p branch=vmalock/$series-send
	wt=$(sub_path apply "${TARGS[@]}" --series "$series")
	tree=$(main_tree "$wt")
	base=$(git -C "$tree" rev-parse "$(series_base "$series")")
	results_dir send
	out=${out:-$RES/$series-v$revision}
	worktree_at "$tree" "$series-send" "$base"
	swt=$WT

	# A fresh branch, as the sender: first b4's cover letter commit, which
	# holds the cover letter and b4's tracking data (revision, change-id)
	# from tools/vmalock.conf, then the patches from patches/.
	local prev=$((revision - 1)) sent_prev=''
	git -C "$swt" rev-parse -q --verify "refs/tags/sent/$branch-v$prev" >/dev/null 2>&1 && sent_prev=v$prev
	vgit -C "$swt" checkout -q -B "$branch" "$base" || die "$E_FAIL" "cannot create $branch"
	git -C "$swt" config --remove-section "branch.$branch" >/dev/null 2>&1 || true
	git -C "$swt" config "branch.$branch.b4-prep-cover-strategy" commit
	git -C "$swt" config user.name "${SENDER% <*}"
	git -C "$swt" config user.email "$(printf '%s' "$SENDER" | sed 's/.*<\(.*\)>/\1/')"
	{
		cat "$cover"
		printf '\n--- b4-submit-tracking ---\n'
		printf '# This section is used internally by b4 prep for tracking purposes.\n'
		printf '{"series": {"revision": %s, "change-id": "%s", "base-branch": null, "prefixes": []}}\n' \
			"$revision" "$changeid"
	} | git -C "$swt" commit -q --allow-empty --cleanup=verbatim -F - ||
		die "$E_FAIL" "cannot make the cover letter commit in $swt"
	series_patches "$(series_file "$series")" "$VMALOCK_TOP/patches"
	for p in "${PATCHES[@]}"; do
		am_series "$swt" "$p"
		sign_as_sender "$swt" "$p"
	done
	[ "$(git -C "$swt" rev-parse "HEAD^{tree}")" = "$(git -C "$wt" rev-parse "vmalock/$series^{tree}")" ] ||
		die "$E_FAIL" "the branch to send does not hold the tree of vmalock/$series"

	local ccs=()
	# shellcheck disable=SC2206 # a comma-separated list of addresses
	[ "$extra" = - ] || ccs=(--cc ${extra//,/ })
	mkdir -p "$out"
	(
		cd "$swt" || exit 1
		step "b4 prep: To/Cc from MAINTAINERS" to_log "$out.prep.log" b4_isolated prep --auto-to-cc || exit 1
		if [ -n "$sent_prev" ]; then
			log "range-diff against $sent_prev, sent from this tree:"
			b4_isolated prep --compare-to "$sent_prev" 2>&1 | sed 's/^/  /' >&2 || exit 1
		fi
		find "$out" -maxdepth 1 -name '*.eml' -delete
		step "b4 send -o: write the messages" to_log "$out.log" \
			b4_isolated send --no-sign "${ccs[@]}" -o "$out" || exit 1
	) || die "$E_FAIL" "b4 failed in $swt: see $out.prep.log and $out.log"
	log "messages: $(find "$out" -name '*.eml' | wc -l) in $out; base-commit $(git -C "$swt" rev-parse --short "$base") ($(git -C "$swt" log -1 --format=%s "$base"))"
	grep -h '^Subject:' "$out"/*.eml | sed 's/^/  /' >&2

	if [ -n "${OPT_SMTP:-}" ]; then
		send_smtp "$swt" "$out" "${ccs[@]}"
	else
		log "sent nothing; to send as $SENDER: cd $swt && b4 send"
	fi
	emit_path "$out"
}

# send_smtp SWT OUT [--cc ADDR...]: b4 send for real through the loopback
# SMTP server SMTP_HOST:SMTP_PORT; name the message that failed, if any. A
# recipient the server refuses fails the message too (b4-strict-smtp/).
send_smtp() {
	local swt=$1 out=$2 rc=0 n total sent
	shift 2
	total=$(find "$out" -name '*.eml' | wc -l)
	log "sending $total messages through $SMTP_HOST:$SMTP_PORT (loopback) ..."
	(
		cd "$swt" || exit 1
		printf '\n' | PYTHONPATH=$VMALOCK_TOP/tools/lib/b4-strict-smtp \
			GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_COUNT=3 \
			GIT_CONFIG_KEY_0=log.mailmap GIT_CONFIG_VALUE_0=false \
			GIT_CONFIG_KEY_1=sendemail.smtpserver GIT_CONFIG_VALUE_1="$SMTP_HOST" \
			GIT_CONFIG_KEY_2=sendemail.smtpserverport GIT_CONFIG_VALUE_2="$SMTP_PORT" \
			b4 send --no-sign "$@"
	) >"$out.smtp.log" 2>&1 || rc=$?
	# b4 names each message just before it hands it to the server.
	n=$(sed -n '/Connecting to /,$p' "$out.smtp.log" | grep -c '^  \[' || true)
	if [ "$rc" -ne 0 ] || ! grep -q '^Sent ' "$out.smtp.log"; then
		sent=$((n > 0 ? n - 1 : 0))
		if [ "$n" -eq 0 ]; then
			log "b4 send failed (exit $rc) before the first message: $(grep -E 'Error|refused|CRITICAL' "$out.smtp.log" | tail -n 1 | sed 's/^ *//')"
		else
			log "b4 send failed (exit $rc) at message $n of $total: $(sed -n '/Connecting to /,$p' "$out.smtp.log" | grep '^  \[' | tail -n 1 | sed 's/^ *//')"
			grep -E 'CRITICAL|Error|[Rr]efused|rejected' "$out.smtp.log" | tail -n 2 | sed 's/^/  /' >&2 || true
			log "the server accepted the $sent messages before it; b4 cannot resume a series, so running send again sends all $total again (the first $sent twice)"
		fi
		exit "$E_FAIL"
	fi
	log "$(grep '^Sent ' "$out.smtp.log" | head -n 1) to $SMTP_HOST:$SMTP_PORT; log $out.smtp.log"
}
