# shellcheck shell=bash
# vmalock apply: the series on its own branch, in a worktree of the base.

usage_apply() {
	cat <<'U'
usage: tools/vmalock apply [--series v4|mainline] [--kernel 7.3|7.2] [--tree DIR]

Run `tools/vmalock base`, then apply a series with git am on a branch of
its own, in a worktree under the cache:
  v4        `series` onto the base (tag vmalock/base), branch vmalock/v4;
  mainline  `series.mainline` (the tests only) onto the pristine tree
            (tag vmalock/pristine), branch vmalock/mainline.
A patch that does not apply stops the run with the patch and hunk named,
and the branch is left at its start point. A re-run with unchanged patches
reuses the branch. Prints the worktree's path as the last line.
U
}

cmd_apply() {
	parse_common "$@"
	local series=v4 dir start sfile wt stamp branch
	set -- "${REST[@]}"
	while [ $# -gt 0 ]; do
		case "$1" in
		-s | --series) [ $# -ge 2 ] || die "$E_USAGE" "$1 needs a value"
			series=$2; shift 2 ;;
		--series=*) series=${1#*=}; shift ;;
		*) die "$E_USAGE" "unexpected argument '$1'" ;;
		esac
	done
	sfile=$(series_file "$series")
	mapfile -t patches < <(series_patches "$sfile" "$VMALOCK_TOP/patches")
	[ ${#patches[@]} -gt 0 ] || die "$E_USAGE" "$sfile lists no patch"

	local base_args=(--kernel "$OPT_KERNEL")
	[ -z "$OPT_TREE" ] || base_args+=(--tree "$OPT_TREE")
	dir=$(run_sub base "${base_args[@]}" | tail -n 1)
	case "$series" in
	mainline) start=$(git -C "$dir" rev-parse vmalock/pristine) ;;
	*) start=$(git -C "$dir" rev-parse vmalock/base) ;;
	esac
	branch=vmalock/$series
	stamp="$start-$(content_stamp "$sfile" "${patches[@]}")"

	wt="$VMALOCK_CACHE/worktrees/$(basename "$dir")-$series"
	if [ "$(git -C "$dir" config "vmalock.stamp-$series" || true)" = "$stamp" ] &&
		[ -e "$wt/.git" ] && git -C "$dir" rev-parse -q --verify "$branch" >/dev/null; then
		# Leave a worktree that is on a commit of the series where it is:
		# another run may be building that commit.
		if ! git -C "$wt" merge-base --is-ancestor HEAD "$branch" ||
			git -C "$wt" merge-base --is-ancestor HEAD "$start"; then
			vgit -C "$wt" checkout -q "$branch"
		fi
		log "reusing $branch: $(git -C "$wt" rev-list --count "$start..$branch") patches on $(git -C "$wt" log -1 --format=%h "$start")"
		emit_path "$wt"
		return
	fi
	git -C "$dir" config --unset "vmalock.stamp-$series" || true
	wt=$(worktree_at "$dir" "$series" "$start")
	vgit -C "$wt" checkout -q -B "$branch" "$start"
	step "git am ${#patches[@]} patches ($series)" am_series "$wt" "${patches[@]}"
	git -C "$dir" config "vmalock.stamp-$series" "$stamp"
	log "$branch: $(git -C "$wt" log -1 --format='%h %s')"
	emit_path "$wt"
}
