# shellcheck shell=bash
# The one option parser, and the options every subcommand shares.
# Sets for others: OPT_* (one per option given; common_opts and build_opts
# fill OPT_KERNEL, OPT_TREE, OPT_CC, OPT_CONFIG, OPT_ARCH), PASS (the
# arguments after --), TARGS (tree_args).
# Sourced by tools/lib/common.sh only.

# parse_opts SPEC ARG...: the one option parser of every subcommand. SPEC
# lists long option names: "name=" takes a value ("--name V" or
# "--name=V"), a bare "name" is a flag, and "--" lets arguments after "--"
# through to PASS. Each option given sets OPT_NAME (upper case, "-" as
# "_"). Anything else is a usage error naming the argument. The common
# options kernel= and tree= are always accepted.
parse_opts() {
	local spec=" $1 kernel= tree= " a name
	shift
	PASS=()
	while [ $# -gt 0 ]; do
		a=$1
		shift
		case "$a" in
		--)
			[[ $spec == *" -- "* ]] || die "$E_USAGE" "unexpected argument '--' (see --help)"
			# shellcheck disable=SC2034 # read by the subcommands
			PASS=("$@")
			return 0 ;;
		--*=*)
			name=${a%%=*}
			name=${name#--}
			[[ $spec == *" $name= "* ]] || opt_unknown "$a" "$name" "$spec"
			[ -n "${a#*=}" ] || die "$E_USAGE" "--$name needs a value (see --help)"
			opt_set "$name" "${a#*=}" ;;
		--*)
			name=${a#--}
			if [[ $spec == *" $name= "* ]]; then
				if [ $# -eq 0 ] || [ -z "$1" ] || [[ $1 == --* ]]; then
					die "$E_USAGE" "--$name needs a value (see --help)"
				fi
				opt_set "$name" "$1"
				shift
			elif [[ $spec == *" $name "* ]]; then
				opt_set "$name" 1
			else
				opt_unknown "$a" "$name" "$spec"
			fi ;;
		*) die "$E_USAGE" "unexpected argument '$a' (see --help)" ;;
		esac
	done
}

opt_unknown() {
	if [[ $3 == *" $2 "* ]]; then
		die "$E_USAGE" "--$2 takes no value (got '$1')"
	fi
	die "$E_USAGE" "unknown option '$1' (see --help)"
}

opt_set() {
	local var
	var=OPT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')
	printf -v "$var" '%s' "$2"
}

# common_opts: defaults and checks for the options every subcommand takes,
# after parse_opts. --tree must name an existing directory.
common_opts() {
	local ksrc=--kernel tsrc=--tree
	[ -n "${OPT_KERNEL:-}" ] || ksrc=VMALOCK_KERNEL
	[ -n "${OPT_TREE:-}" ] || tsrc=VMALOCK_TREE
	OPT_KERNEL=${OPT_KERNEL:-${VMALOCK_KERNEL:-$VMALOCK_DEFAULT_KERNEL}}
	OPT_TREE=${OPT_TREE:-${VMALOCK_TREE:-}}
	check_kernel "$OPT_KERNEL" "$ksrc"
	if [ -n "$OPT_TREE" ]; then
		[ -d "$OPT_TREE" ] || die "$E_TREE" "$tsrc $OPT_TREE: no such directory"
		OPT_TREE=$(cd "$OPT_TREE" && pwd)
	fi
}

# Build options shared by kunit, build, boot, check, nfc and mutants: --cc,
# --config and --arch (after parse_opts).
#   --config default  the suite and the options to boot a userspace
#            debug    and lockdep, DEBUG_VM, atomic-sleep checks, the hang
#                     detectors (the default)
#            kcsan    debug and KCSAN (data races)
#            kasan    debug and generic KASAN (use after free)
#   --arch   x86_64 (the default) or arm64 (gcc only: Debian's cross gcc)
build_opts() {
	OPT_CC=${OPT_CC:-gcc}
	OPT_CONFIG=${OPT_CONFIG:-debug}
	OPT_ARCH=${OPT_ARCH:-x86_64}
	case "$OPT_CC" in gcc | clang) ;; *) die "$E_USAGE" "--cc: gcc or clang, not '$OPT_CC'" ;; esac
	# coverage: set by tools/vmalock coverage only.
	case "$OPT_CONFIG" in default | debug | kcsan | kasan) ;;
	coverage) [ "${VMALOCK_SUB:-}" = coverage ] || die "$E_USAGE" "--config: default, debug, kcsan or kasan, not '$OPT_CONFIG'" ;;
	*) die "$E_USAGE" "--config: default, debug, kcsan or kasan, not '$OPT_CONFIG'" ;;
	esac
	case "$OPT_ARCH" in x86_64 | arm64) ;; *) die "$E_USAGE" "--arch: x86_64 or arm64, not '$OPT_ARCH'" ;; esac
	[ "$OPT_ARCH" = x86_64 ] || [ "$OPT_CC" = gcc ] || die "$E_USAGE" "--arch arm64 builds with gcc only"
}

# kernel_image: where a build of OPT_ARCH leaves the image QEMU boots.
kernel_image() {
	case "$OPT_ARCH" in
	arm64) echo arch/arm64/boot/Image.gz ;;
	*) echo arch/x86/boot/bzImage ;;
	esac
}

# tree_args: the --kernel/--tree options to pass on to a nested subcommand.
tree_args() {
	TARGS=(--kernel "$OPT_KERNEL")
	[ -z "$OPT_TREE" ] || TARGS+=(--tree "$OPT_TREE")
}
