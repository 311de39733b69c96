# shellcheck shell=bash
# Logging, errors, timed steps and the tool's one EXIT trap.
# Sets for others: EXIT_RC (the exit code, read by on_exit commands).
# Sourced by tools/lib/common.sh only.

log() { printf 'vmalock %(%H:%M:%S)T: %s\n' -1 "$*" >&2; }
die() {
	local code=$1
	shift
	printf 'vmalock: error: %s\n' "$*" >&2
	exit "$code"
}

# to_log FILE CMD...: run CMD with its output (both streams) into FILE; for
# `step NAME to_log FILE CMD`, which keeps step's own lines on the terminal.
to_log() {
	local f=$1
	shift
	"$@" >"$f" 2>&1
}

# step NAME CMD...: run CMD, print NAME, a start and an end line with the
# time it took.
step() {
	local name=$1 t0 rc=0
	shift
	t0=$(date +%s)
	log "$name ..."
	"$@" || rc=$?
	log "$name: $(($(date +%s) - t0)) s$([ "$rc" -eq 0 ] || echo ", FAILED ($rc)")"
	return "$rc"
}

# on_exit CMD: have the tool run CMD (a string) when it exits, before the
# commands given earlier (one EXIT trap for all); EXIT_RC is its exit code.
EXIT_CMDS=()
EXIT_RC=0
on_exit() {
	EXIT_CMDS+=("$1")
	trap exit_cmds EXIT
}
exit_cmds() {
	# shellcheck disable=SC2034 # read by the on_exit commands
	EXIT_RC=$?
	local i
	for ((i = ${#EXIT_CMDS[@]} - 1; i >= 0; i--)); do
		eval "${EXIT_CMDS[i]}" || true
	done
}
