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
reuses the branch, after checking that the worktree holds exactly a commit
of it (an interrupted run's leftovers are reset). Prints the worktree's
path as the last line.
U
}

cmd_apply() {
	parse_opts 'series=' "$@"
	common_opts
	local series=${OPT_SERIES:-v4} dir start sfile wt stamp branch
	sfile=$(series_file "$series")
	series_patches "$sfile" "$VMALOCK_TOP/patches"
	lock_tree
	tree_args
	# The tests alone go onto a user's tree as it is: no fixture there.
	[ "$series" != mainline ] || [ -z "$OPT_TREE" ] || TARGS+=(--as-is)
	dir=$(sub_path base "${TARGS[@]}")
	case "$series" in
	mainline) start=$(git -C "$dir" rev-parse vmalock/pristine) ;;
	*) start=$(git -C "$dir" rev-parse vmalock/base) ;;
	esac
	branch=vmalock/$series
	stamp="$start-$(content_stamp "$sfile" "${PATCHES[@]}")"

	wt="$VMALOCK_CACHE/worktrees/$(basename "$dir")-$series"
	if [ "$(git -C "$dir" config "vmalock.stamp-$series" || true)" = "$stamp" ] &&
		[ -e "$wt/.git" ] && git -C "$dir" rev-parse -q --verify "$branch" >/dev/null; then
		clean_worktree "$wt"
		# A worktree on a commit of the series stays there (builds are
		# incremental); anything else goes back to the branch head.
		if ! git -C "$wt" merge-base --is-ancestor HEAD "$branch" ||
			git -C "$wt" merge-base --is-ancestor HEAD "$start"; then
			vgit -C "$wt" checkout -q "$branch" || die "$E_FAIL" "cannot check out $branch in $wt"
		fi
		log "reusing $branch: $(git -C "$wt" rev-list --count "$start..$branch") patches on $(git -C "$wt" log -1 --format=%h "$start")"
		emit_path "$wt"
		return
	fi
	git -C "$dir" config --unset "vmalock.stamp-$series" || true
	worktree_at "$dir" "$series" "$start"
	wt=$WT
	vgit -C "$wt" checkout -q -B "$branch" "$start" || die "$E_FAIL" "cannot create $branch"
	am_series "$wt" "${PATCHES[@]}"
	git -C "$dir" config "vmalock.stamp-$series" "$stamp"
	log "applied ${#PATCHES[@]} patches ($series); $branch: $(git -C "$wt" log -1 --format='%h %s')"
	emit_path "$wt"
}
