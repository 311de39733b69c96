# shellcheck shell=bash
# tools/vmalock report, and the summaries it prints.
# Sets nothing for others; summary_run is called by tools/vmalock.

# The subcommands whose runs are evidence: each top-level run of one keeps
# its result lines as the latest summary of its command line.
VMALOCK_SUMMARY_SUBS='check kunit boot nfc mutants coverage'

usage_report() {
	cat <<U
usage: tools/vmalock report [TEXT]

Print the latest summary of each command line that was run (those of
TEXT only, if given): the command, when it ran and at which commit of this
repository, its time and exit code, and its result lines. tools/vmalock
${VMALOCK_SUMMARY_SUBS// /, } and tests/run keep one summary per command
line in $VMALOCK_CACHE/results/summary/. A summary taken at a commit whose
series file or patches (of the series the command ran) differ from HEAD's
is marked "patches changed since".

EVIDENCE, in the repository, is this command's output: the figures that
README, MAINTAINERS-notes and the cover letters point to.
U
}

# summary_key ARGS...: the file name of a command line's summary (a long
# one cut, with a hash of the whole, to stay a valid file name).
summary_key() {
	local key
	key=$(printf '%s' "$*" | tr -c 'A-Za-z0-9=.,+_-' '_')
	if [ "${#key}" -gt 120 ]; then
		key=${key:0:100}_$(printf '%s' "$*" | sha256sum | cut -c1-16)
	fi
	printf '%s' "$key"
}

# summary_head: the commit of this repository a run starts at.
summary_head() {
	git -C "$VMALOCK_TOP" rev-parse --short HEAD 2>/dev/null || echo '?'
}

# summary_write NAME CMDLINE SECONDS RC OUT AT: keep OUT (the run's result
# lines) as the summary of CMDLINE, run at commit AT, written whole, then
# renamed.
summary_write() {
	local dir=$VMALOCK_CACHE/results/summary tmp
	mkdir -p "$dir"
	tmp=$(mktemp "$dir/.$1.XXXXXX") || { echo "vmalock: cannot keep the summary of $2 in $dir" >&2; return 1; }
	{
		printf '$ %s\n' "$2"
		printf '%s; %s s; exit %s; at %s; %s CPUs\n' "$(date -u '+%F %H:%M UTC')" "$3" "$4" "$6" "$(nproc)"
		cat "$5"
	} >"$tmp"
	chmod 644 "$tmp"
	mv -f "$tmp" "$dir/$1"
}

# summary_start SUB ARGS...: from now on, this run's standard output (its
# result lines) is also kept; when the tool exits, it is written as the
# summary of the command line. The subcommands that this run runs keep
# none (VMALOCK_IN_SUMMARY).
SUMMARY_OUT='' SUMMARY_CMD='' SUMMARY_T0=0 SUMMARY_TEE='' SUMMARY_AT=''
summary_start() {
	export VMALOCK_IN_SUMMARY=1
	SUMMARY_AT=$(summary_head)
	SUMMARY_OUT=$(mktemp)
	SUMMARY_CMD=$*
	SUMMARY_T0=$(date +%s)
	exec > >(tee "$SUMMARY_OUT")
	SUMMARY_TEE=$!
	on_exit summary_end
}

summary_end() {
	local i
	# Let tee see the end of the output (a process left behind that still
	# holds it is not waited for more than 5 s).
	exec >/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$SUMMARY_TEE" 2>/dev/null || break
		sleep 0.1
	done
	# A usage error ran nothing, an interrupted run proved nothing.
	if [ "$EXIT_RC" -ne "$E_USAGE" ] && [ "$EXIT_RC" -lt 128 ]; then
		summary_write "vmalock_$(summary_key "$SUMMARY_CMD")" "tools/vmalock $SUMMARY_CMD" \
			"$(($(date +%s) - SUMMARY_T0))" "$EXIT_RC" "$SUMMARY_OUT" "$SUMMARY_AT"
	fi
	rm -f "$SUMMARY_OUT"
}

# report_paths COMMAND-LINE: the series files and patches a run of
# COMMAND-LINE depends on (every series for tests/run; the --series or
# --target one, else v4, for a subcommand), relative to the top.
report_paths() {
	local line=$1 names=() n var sfile
	case "$line" in
	*tests/run*) mapfile -t names < <(series_names) ;;
	*"--series refcount"* | *--series=refcount*) names=(refcount) ;;
	*"--series mainline"* | *--series=mainline* | *"--target mainline"* | *--target=mainline*) names=(mainline) ;;
	*"--target all"* | *--target=all*) names=(v4 mainline) ;;
	*) names=(v4) ;;
	esac
	for n in "${names[@]}"; do
		var=VMALOCK_SERIES_$n
		sfile=${!var:-}
		[ -n "$sfile" ] || continue
		echo "$sfile"
		[ -f "$VMALOCK_TOP/$sfile" ] || continue
		series_entries "$VMALOCK_TOP/$sfile" | sed 's|^|patches/|'
	done
}

cmd_report() {
	local want=${1:-} dir=$VMALOCK_CACHE/results/summary f at n=0 paths
	[ $# -le 1 ] || die "$E_USAGE" "report takes one TEXT at most"
	[ -d "$dir" ] || die "$E_FAIL" "no summaries yet in $dir: run a job first"
	# Oldest first, as the runs happened.
	while IFS= read -r f; do
		[ -z "$want" ] || head -n 1 "$f" | grep -q -F -- "$want" || continue
		n=$((n + 1))
		[ "$n" -gt 1 ] || printf 'vmalock report, %s, HEAD %s\n' "$(date -u '+%F %H:%M UTC')" \
			"$(git -C "$VMALOCK_TOP" rev-parse --short HEAD)"
		echo
		at=$(sed -n '2s/.*; at \([0-9a-f?]*\);.*/\1/p' "$f")
		head -n 2 "$f"
		mapfile -t paths < <(report_paths "$(head -n 1 "$f")")
		if [ "$at" != '?' ] && ! git -C "$VMALOCK_TOP" diff --quiet "$at" HEAD -- "${paths[@]}" 2>/dev/null; then
			echo "(patches changed since $at)"
		fi
		tail -n +3 "$f"
	done < <(find "$dir" -maxdepth 1 -type f ! -name '.*' -printf '%T@ %p\n' | sort -n | cut -d' ' -f2-)
	[ "$n" -gt 0 ] || die "$E_FAIL" "no summary${want:+ of a command with \"$want\"}"
}
