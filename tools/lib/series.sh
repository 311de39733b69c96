# shellcheck shell=bash
# The series files tools/vmalock.conf names (VMALOCK_SERIES_*) and the tree
# each goes onto (VMALOCK_BASE_*).
# Sets for others: PATCHES (series_patches).
# Sourced by tools/lib/common.sh only.

# series_names: the series tools/vmalock.conf defines (VMALOCK_SERIES_NAME),
# one a line.
series_names() {
	compgen -v VMALOCK_SERIES_ | sed 's/^VMALOCK_SERIES_//'
}

# series_file NAME: path of the series file for series NAME.
series_file() {
	local var="VMALOCK_SERIES_$1"
	[ -n "${!var:-}" ] ||
		die "$E_USAGE" "--series: unknown series '$1' ($(series_names | paste -sd, - | sed 's/,/, /g'))"
	printf '%s/%s\n' "$VMALOCK_TOP" "${!var}"
}

# series_entries FILE: the patches the quilt series FILE lists, as written
# there (relative to patches/), one a line; comments and blank lines left
# out.
series_entries() {
	local p
	while read -r p _; do
		case "$p" in '' | '#'*) continue ;; esac
		printf '%s\n' "$p"
	done <"$1"
}

# series_base NAME: the tag (vmalock/base or vmalock/pristine) of the tree
# series NAME goes onto (VMALOCK_BASE_NAME).
series_base() {
	local var="VMALOCK_BASE_$1"
	case "${!var:-}" in
	base | pristine) printf 'vmalock/%s\n' "${!var}" ;;
	*) die "$E_USAGE" "tools/vmalock.conf: $var must be base or pristine" ;;
	esac
}

# series_patches FILE DIR: set PATCHES to the patches (in DIR) that the
# quilt series FILE lists, in order. Dies if one is missing or none is
# listed. Not for $(...) or <(...): it sets a variable.
series_patches() {
	local p
	PATCHES=()
	[ -f "$1" ] || die "$E_USAGE" "no series file ${1#"$VMALOCK_TOP"/}"
	while read -r p; do
		[ -f "$2/$p" ] ||
			die "$E_USAGE" "${1#"$VMALOCK_TOP"/} lists ${2#"$VMALOCK_TOP"/}/$p, which does not exist"
		PATCHES+=("$2/$p")
	done < <(series_entries "$1")
	[ ${#PATCHES[@]} -gt 0 ] || die "$E_USAGE" "${1#"$VMALOCK_TOP"/} lists no patch"
}
