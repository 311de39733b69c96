# shellcheck shell=bash
# Helpers shared by every vmalock subcommand. Sourced, never run: the
# facts of tools/vmalock.conf, the exit codes and the globals, then the
# helpers by concern, one file each (each names the globals it sets).
#
# Two rules keep failures from being lost here:
# - nothing that can fail runs inside $(...) or <(...) and relies on die:
#   a die there ends only the subshell. Helpers that can fail fill a global
#   array (PATCHES, COMMITS) or print a value whose emptiness is checked;
# - functions that callers run as `f || x` (where bash ignores set -e)
#   check each step themselves (`|| return 1`).

# Exit codes, the same for every subcommand (used by the sourcing files).
# shellcheck disable=SC2034
readonly E_FAIL=1      # a check, build or test ran and failed
readonly E_USAGE=2     # bad command line
readonly E_TOOL=3      # a required program, or the kernel to run, is missing
readonly E_FETCH=4     # a package could not be fetched
readonly E_CHECKSUM=5  # a download does not match tools/vmalock.conf
readonly E_TREE=6      # not a kernel git tree, or a dirty one
readonly E_APPLY=7     # a patch does not apply
readonly E_NOBOOT=8    # boot: the kernel did not reach userspace
readonly E_SPLAT=9     # warning, BUG, oops, lockdep report... on the console
readonly E_TIMEOUT=10  # boot: the guest did not finish in time
readonly E_BUSY=11     # another vmalock run holds the tree (VMALOCK_NO_WAIT=1)

VMALOCK_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# VMALOCK_CONF lets the tests substitute a conf with deliberate errors.
# shellcheck source=tools/vmalock.conf
. "${VMALOCK_CONF:-$VMALOCK_TOP/tools/vmalock.conf}"

VMALOCK_CACHE=${VMALOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmalock}

# Results of helpers, read by the sourcing files (set here so that every
# file sees them declared).
# shellcheck disable=SC2034
PATCHES=() COMMITS=() FRAGMENTS=() KARGS=() TARGS=() PASS=() WT='' ARTIFACTS='' RES='' BG_PID=''

# shellcheck source=tools/lib/log.sh
. "$VMALOCK_TOP/tools/lib/log.sh"
# shellcheck source=tools/lib/jobs.sh
. "$VMALOCK_TOP/tools/lib/jobs.sh"
# shellcheck source=tools/lib/env.sh
. "$VMALOCK_TOP/tools/lib/env.sh"
# shellcheck source=tools/lib/series.sh
. "$VMALOCK_TOP/tools/lib/series.sh"
# shellcheck source=tools/lib/opts.sh
. "$VMALOCK_TOP/tools/lib/opts.sh"
# shellcheck source=tools/lib/trees.sh
. "$VMALOCK_TOP/tools/lib/trees.sh"
# shellcheck source=tools/lib/console.sh
. "$VMALOCK_TOP/tools/lib/console.sh"
# shellcheck source=tools/lib/kbuild.sh
. "$VMALOCK_TOP/tools/lib/kbuild.sh"
