# shellcheck shell=bash
# The environment: programs a job needs, the kernels tools/vmalock.conf
# knows, environment variables, git with the tools' own identity.
# Sets nothing for others.
# Sourced by tools/lib/common.sh only.

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 ||
			die "$E_TOOL" "'$t' is not installed (on Debian: bash .ci/install-deps)"
	done
}

# kernel_field KVER N: field N (1-based) of the kernel's line in the conf;
# empty if the kernel is unknown (check_kernel says so).
kernel_field() {
	printf '%s\n' "$VMALOCK_KERNELS" | awk -v k="$1" -v n="$2" '$1 == k { print $n }'
}

# check_kernel VERSION [SOURCE]: SOURCE (--kernel) names where it came from.
check_kernel() {
	[ -n "$(kernel_field "$1" 1)" ] ||
		die "$E_USAGE" "${2:---kernel}: unknown kernel '$1' (known: $(printf '%s\n' "$VMALOCK_KERNELS" | awk 'NF {printf "%s ", $1}'))"
}

# positive NAME VALUE [UNIT]: die, naming NAME (an option or variable),
# unless VALUE is a positive whole number.
positive() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || die "$E_USAGE" "$1: ${3:+$3, }a positive number, not '$2'"
}

# env_checks: the environment variables that take a value the tools must
# understand, checked before any work; each error names the variable.
env_checks() {
	local v
	for v in VMALOCK_KVM_PROBE_TIMEOUT VMALOCK_HEARTBEAT; do
		[ -z "${!v:-}" ] || positive "$v" "${!v}" seconds
	done
	case "${VMALOCK_NO_WAIT:-0}" in 0 | 1) ;;
	*) die "$E_USAGE" "VMALOCK_NO_WAIT: 0 or 1, not '$VMALOCK_NO_WAIT'" ;;
	esac
}

# A git run with the fixed identity the tools use for their own commits
# (authors of applied patches stay theirs).
vgit() {
	GIT_COMMITTER_NAME=$VMALOCK_GIT_NAME \
		GIT_COMMITTER_EMAIL=$VMALOCK_GIT_EMAIL \
		GIT_COMMITTER_DATE=$VMALOCK_GIT_DATE \
		git -c advice.detachedHead=false -c core.autocrlf=false \
		-c gc.auto=0 "$@"
}

# email_of "Name <email>": the email.
email_of() {
	printf '%s\n' "$1" | sed 's/.*<\(.*\)>/\1/'
}

need_cc() {
	need make gcc flex bison bc python3
	[ "$OPT_CC" = gcc ] || need clang-19 ld.lld-19
	[ "${OPT_ARCH:-x86_64}" = x86_64 ] || need aarch64-linux-gnu-gcc qemu-system-aarch64
}
