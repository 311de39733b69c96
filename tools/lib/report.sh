# shellcheck shell=bash
# tools/vmalock report, and the summaries it prints.
# Sets nothing for others; summary_run is called by tools/vmalock.

# The subcommands whose runs are evidence: each top-level run of one keeps
# its result lines as the latest summary of its command line.
VMALOCK_SUMMARY_SUBS='check kunit boot nfc mutants coverage lava'

usage_report() {
	cat <<U
usage: tools/vmalock report [TEXT]
       tools/vmalock report --import FILE

Print the latest summary of each command line that was run (those of
TEXT only, if given): the command, when it ran and at which commit of this
repository, its time and exit code, and its result lines. tools/vmalock
${VMALOCK_SUMMARY_SUBS// /, } and tests/run keep one summary per command
line in $VMALOCK_CACHE/results/summary/. A summary taken at a commit whose
series file or patches (of the series the command ran) differ from HEAD's
is marked "patches changed since".

EVIDENCE, in the repository, is this command's output: the figures that
README, MAINTAINERS-notes and the cover letters point to. --import FILE
takes the summaries of a report (EVIDENCE from another machine) into the
cache, each unless a summary of the same command line is newer there, so
that the next report keeps them.
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
	# A run stopped by a signal (say, while it waits for a tree's lock)
	# ends with the signal's code, not with that of its last command.
	bg_end
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

# summary_file CMDLINE: the file name under summary/ of a command line as
# report prints it ("tools/vmalock ARGS" or "tests/run ARGS").
summary_file() {
	case "$1" in
	"tools/vmalock "*) printf 'vmalock_%s' "$(summary_key "${1#tools/vmalock }")" ;;
	"tests/run --quick"*) echo tests_run_quick ;;
	"tests/run --bats-only"*) echo tests_run_bats ;;
	"tests/run --all"*) echo tests_run_all ;;
	"tests/run"*) echo tests_run_default ;;
	*) return 1 ;;
	esac
}

# report_import FILE: each summary of the report FILE into the cache, dated
# as it says, unless the cache holds a newer one of the same command line.
report_import() {
	local file=$1 dir=$VMALOCK_CACHE/results/summary tmp cmd name when n=0 old t
	[ -f "$file" ] || die "$E_USAGE" "report --import: no file '$file'"
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.import.XXXXXX") || die "$E_FAIL" "cannot write in $dir"
	# One file a summary: a "$ " line followed by a line with its date.
	awk -v d="$tmp" '
		/^\$ / { cmd = $0; next }
		cmd != "" && /^[0-9-]+ [0-9:]+ UTC; / { n++; f = d "/" n; print cmd > f; print > f; cmd = ""; next }
		{ cmd = "" }
		f != "" && /^$/ { close(f); f = ""; next }
		f != "" && !/^\(patches changed since / { print > f }
	' "$file" || die "$E_FAIL" "report --import: cannot read $file"
	for f in "$tmp"/*; do
		[ -f "$f" ] || continue
		cmd=$(head -n 1 "$f")
		cmd=${cmd#\$ }
		name=$(summary_file "$cmd") || { log "report --import: not a job's command line, left out: $cmd"; continue; }
		when=$(sed -n '2s/^\([0-9-]* [0-9:]*\) UTC;.*/\1/p' "$f")
		old=$dir/$name
		if [ -f "$old" ] && [ "$(date -u -r "$old" '+%F %H:%M')" \> "$when" ]; then
			continue
		fi
		# Runs of the same minute keep the report's order.
		t=$(($(date -u -d "$when UTC" +%s) + ${f##*/} % 60)) || die "$E_FAIL" "report --import: bad date '$when'"
		if ! touch -d "@$t" "$f" || ! chmod 644 "$f" || ! mv -f "$f" "$old"; then
			die "$E_FAIL" "report --import: cannot keep the summary of $cmd"
		fi
		n=$((n + 1))
	done
	rm -rf "$tmp"
	log "report --import: $n summaries taken from $file"
}

cmd_report() {
	if [ "${1:-}" = --import ]; then
		[ $# -eq 2 ] || die "$E_USAGE" "report --import takes one FILE"
		report_import "$2"
		return
	fi
	local want=${1:-} dir=$VMALOCK_CACHE/results/summary f at n=0 paths
	[ $# -le 1 ] || die "$E_USAGE" "report takes one TEXT at most"
	[ -d "$dir" ] || die "$E_FAIL" "no summaries yet in $dir: run a job (tools/vmalock kunit --target all), or read the committed ones: tools/vmalock report --import EVIDENCE"
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
