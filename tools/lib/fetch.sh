# shellcheck shell=bash
# vmalock fetch: download, verify and cache a Debian linux-source tarball.

usage_fetch() {
	cat <<'U'
usage: tools/vmalock fetch [--kernel 7.3|7.2]

Download Debian's linux-source-<kernel> package from the mirror that this
machine's own apt sources use (through a private apt state under the cache,
leaving the system's apt configuration alone), check the package and the
tarball inside it against tools/vmalock.conf, and cache the tarball.
Prints the tarball's path as the last line. A verified tarball in the cache
is reused without network access.

Environment: VMALOCK_CACHE (default ~/.cache/vmalock), VMALOCK_KERNEL
(default kernel), VMALOCK_MIRROR (override the mirror read from /etc/apt).
U
}

# The first non-security Debian URI in the machine's apt sources.
apt_mirror() {
	if [ -n "${VMALOCK_MIRROR:-}" ]; then
		printf '%s\n' "$VMALOCK_MIRROR"
		return
	fi
	local f uri=''
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '
			/^[ \t]*$/ { if (u != "" && s !~ /-security/) { print u; exit } u = ""; s = "" }
			/^URIs:/ { u = $2 }
			/^Suites:/ { s = $0 }
			END { if (u != "" && s !~ /-security/) print u }' "$f" | head -n 1)
		[ -z "$uri" ] || break
	done
	if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $0 !~ /-security/ {
			for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
			/etc/apt/sources.list)
	fi
	[ -n "$uri" ] || die "$E_FETCH" "no Debian mirror found in /etc/apt sources (set VMALOCK_MIRROR)"
	printf '%s\n' "$uri"
}

# apt_private ARGS...: apt-get with a private sources list and state.
apt_private() {
	local d="$VMALOCK_CACHE/apt"
	apt-get -q -o Dir::Etc::SourceList="$d/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
		-o Dir::State::Status=/dev/null -o APT::Sandbox::User=root \
		-o Debug::NoLocking=true "$@"
}

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

cmd_fetch() {
	parse_opts '' "$@"
	common_opts
	local pkg ver suite deb_sha tar_sha deb tarball tmp mirror
	pkg=$(kernel_field "$OPT_KERNEL" 2)
	ver=$(kernel_field "$OPT_KERNEL" 3)
	suite=$(kernel_field "$OPT_KERNEL" 4)
	deb_sha=$(kernel_field "$OPT_KERNEL" 5)
	tar_sha=$(kernel_field "$OPT_KERNEL" 6)
	tarball="$VMALOCK_CACHE/src/$pkg-$ver.tar.xz"
	deb="$VMALOCK_CACHE/debs/${pkg}_${ver/:/%3a}_all.deb"

	# The package's maintainer is kept beside the tarball: the author of
	# the tree's import commit.
	if sha_ok "$tarball" "$tar_sha" && [ -s "$tarball.maintainer" ]; then
		log "using cached $tarball"
		emit_path "$tarball"
		return
	fi
	need apt-get dpkg-deb sha256sum
	mkdir -p "$VMALOCK_CACHE"/{apt/lists/partial,apt/cache/archives/partial,debs,src}
	tmp=$(mktemp -d "$VMALOCK_CACHE/tmp.XXXXXX")
	on_exit "rm -rf '$tmp'"

	if ! sha_ok "$deb" "$deb_sha"; then
		mirror=$(apt_mirror)
		[ -r "$VMALOCK_KEYRING" ] || die "$E_TOOL" "$VMALOCK_KEYRING missing (apt-get install debian-archive-keyring)"
		printf 'deb [signed-by=%s] %s %s main\n' "$VMALOCK_KEYRING" "$mirror" "$suite" \
			>"$VMALOCK_CACHE/apt/sources.list"
		# apt-get update only warns about a mirror it cannot reach.
		if ! step "apt-get update ($suite)" to_log "$tmp/update.log" \
			apt_private -o APT::Update::Error-Mode=any update || grep -qE '^(Err:|E:|W: Failed)' "$tmp/update.log"; then
			die "$E_FETCH" "cannot reach suite $suite at $mirror (see: apt-get update output below)
$(grep -m 3 -E '^(Err:|E:|W:)' "$tmp/update.log")"
		fi
		(cd "$tmp" && step "download $pkg=$ver" to_log "$tmp/download.log" \
			apt_private download "$pkg=$ver") ||
			die "$E_FETCH" "cannot download $pkg=$ver from $suite: $(grep -m1 -E '^E:' "$tmp/download.log" || tail -n 1 "$tmp/download.log")"
		local got
		got=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
		[ -n "$got" ] || die "$E_FETCH" "apt-get download produced no .deb"
		sha_ok "$got" "$deb_sha" ||
			die "$E_CHECKSUM" "$(basename "$got"): sha256 $(sha256sum "$got" | cut -d' ' -f1) is not $deb_sha from tools/vmalock.conf; nothing was cached"
		mv "$got" "$deb"
	fi
	log "$(basename "$deb"): sha256 verified"
	dpkg-deb -f "$deb" Maintainer >"$tmp/maintainer" || true
	[ -s "$tmp/maintainer" ] || die "$E_FETCH" "$(basename "$deb") names no Maintainer"

	# shellcheck disable=SC2016 # expanded by the inner sh
	step "extract $(basename "$tarball")" sh -c \
		'dpkg-deb --fsys-tarfile "$1" | tar -xO "./usr/src/$2.tar.xz" > "$3"' \
		sh "$deb" "$pkg" "$tmp/t.tar.xz" ||
		die "$E_FETCH" "$deb holds no usr/src/$pkg.tar.xz"
	sha_ok "$tmp/t.tar.xz" "$tar_sha" ||
		die "$E_CHECKSUM" "tarball in $(basename "$deb") has sha256 $(sha256sum "$tmp/t.tar.xz" | cut -d' ' -f1), not $tar_sha from tools/vmalock.conf; nothing was cached"
	mv "$tmp/maintainer" "$tarball.maintainer"
	mv "$tmp/t.tar.xz" "$tarball"
	log "$(basename "$tarball"): sha256 verified"
	emit_path "$tarball"
}
