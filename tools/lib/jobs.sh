# shellcheck shell=bash
# Background jobs: a build or QEMU in a process group of its own, stopped
# with the tool, and long steps with a heartbeat.
# Sets for others: BG_PID (the group's leader). Reads WATCH_DIR.
# Sourced by tools/lib/common.sh only.

# bg_start CMD...: run CMD in the background in a process group of its
# own, BG_PID its leader; if the tool is interrupted, the whole group
# (kunit.py, make and the compilers, or QEMU) is stopped with it.
bg_start() {
	set -m
	"$@" &
	BG_PID=$!
	set +m
	# shellcheck disable=SC2064 # expand now
	trap "kill -TERM -- -$BG_PID 2>/dev/null || true; wait $BG_PID 2>/dev/null || true; exit 130" INT TERM
}

# bg_kill: stop the background group now (a timeout); bg_end after it ended.
bg_kill() {
	kill -TERM -- -"$BG_PID" 2>/dev/null || true
	sleep 1
	kill -KILL -- -"$BG_PID" 2>/dev/null || true
}
# bg_end restores what the tool does on INT and TERM otherwise: exit with
# the signal's code, so that the EXIT trap sees an interrupted run as one.
bg_end() {
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# watch_step NAME LOG CMD...: step for long jobs whose output goes to LOG:
# CMD runs in the background, and every VMALOCK_HEARTBEAT seconds (60) a
# line gives the time so far and how far it got: with WATCH_DIR set (a
# build directory), the number of objects compiled since the start;
# otherwise the last line of LOG. Interrupting the tool stops CMD too.
watch_step() {
	local name=$1 logf=$2 t0 rc=0 pid last=0 now beat=${VMALOCK_HEARTBEAT:-60} stamp
	shift 2
	t0=$(date +%s)
	# Objects newer than this file were compiled by this build.
	stamp=${WATCH_DIR:-$logf}.started
	: >"$stamp"
	log "$name ... (log: $logf)"
	bg_start to_log "$logf" "$@"
	pid=$BG_PID
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(($(date +%s) - t0))
		if [ $((now - last)) -ge "$beat" ]; then
			last=$now
			if [ -n "${WATCH_DIR:-}" ]; then
				log "$name: $now s so far, $(find "$WATCH_DIR" -name '*.o' -newer "$stamp" 2>/dev/null | wc -l) objects compiled"
			else
				log "$name: $now s so far; last: $(grep -a -v '^$' "$logf" | tail -n 1 | tr -d '\r' | cut -c1-90)"
			fi
		fi
	done
	wait "$pid" || rc=$?
	bg_end
	log "$name: $(($(date +%s) - t0)) s$([ "$rc" -eq 0 ] || echo ", FAILED ($rc)")"
	return "$rc"
}
