# shellcheck shell=bash
# vmalock apply: the series on its own branch, in a worktree of the base.

usage_apply() {
	cat <<'U'
usage: tools/vmalock apply [--series v4|mainline|refcount] [--kernel 7.3|7.2]
                           [--tree DIR]

Run `tools/vmalock base`, then apply a series with git am on a branch of
its own, in a worktree under the cache:
  v4        `series` onto the base (tag vmalock/base), branch vmalock/v4;
  mainline  `series.mainline` (the tests only) onto the pristine tree
            (tag vmalock/pristine), branch vmalock/mainline;
  refcount  `series.refcount` (vma_refcount_put()) onto the pristine tree,
            branch vmalock/refcount.
The test patches in patches/ are authored and signed off by this project's
maintainers (tools/vmalock.conf); when git knows who you are (user.name and
user.email), the branch has you as their author and signer instead, and
your sign-off after Lorenzo Stoakes' on his patch (the refactor).
A patch that does not apply stops the run with the patch and hunk named,
and the branch is left at its start point. A re-run with unchanged patches
reuses the branch, after checking that the worktree holds exactly a commit
of it (an interrupted run's leftovers are reset). Prints the worktree's
path as the last line.
U
}

# user_ident: "Name <email>" of the user as git knows them, if they are
# someone other than the project (and not a placeholder); else nothing.
user_ident() {
	local name email
	name=$(git -C "$VMALOCK_TOP" config user.name || true)
	email=$(git -C "$VMALOCK_TOP" config user.email || true)
	[ -n "$name" ] && [ -n "$email" ] || return 0
	case "$email" in "$VMALOCK_GIT_EMAIL" | *@example.* | *.example) return 0 ;; esac
	printf '%s <%s>\n' "$name" "$email"
}

# make_mine WT START BRANCH ME: rewrite the commits START..BRANCH (checked
# out in WT) so that the project's become ME's (author and sign-off) and
# the others get ME's sign-off after theirs. Trees stay the same.
make_mine() {
	local wt=$1 start=$2 branch=$3 me=$4 proj="$VMALOCK_GIT_NAME <$VMALOCK_GIT_EMAIL>"
	local c new=$2 msg author
	for c in $(git -C "$wt" rev-list --reverse "$start..$branch"); do
		author=$(git -C "$wt" log -1 --format='%an <%ae>' "$c")
		msg=$(git -C "$wt" log -1 --format=%B "$c")
		if [ "$author" = "$proj" ]; then
			author=$me
			msg=$(printf '%s\n' "$msg" | grep -vxF "Signed-off-by: $proj")
		fi
		msg=$(printf '%s\n' "$msg" | git -C "$wt" interpret-trailers --if-exists addIfDifferent \
			--trailer "Signed-off-by: $me")
		new=$(printf '%s\n' "$msg" | GIT_AUTHOR_NAME=${author% <*} \
			GIT_AUTHOR_EMAIL=$(email_of "$author") \
			GIT_AUTHOR_DATE=$(git -C "$wt" log -1 --format=%aD "$c") \
			GIT_COMMITTER_NAME=${me% <*} GIT_COMMITTER_EMAIL=$(email_of "$me") \
			GIT_COMMITTER_DATE=$VMALOCK_GIT_DATE \
			git -C "$wt" commit-tree "$c^{tree}" -p "$new") ||
			die "$E_FAIL" "cannot rewrite $(git -C "$wt" log -1 --format=%s "$c") as yours"
	done
	vgit -C "$wt" reset -q --soft "$new" || die "$E_FAIL" "cannot move $branch to your commits"
}

cmd_apply() {
	parse_opts 'series=' "$@"
	common_opts
	local series=${OPT_SERIES:-v4} dir start sfile wt stamp branch tag
	sfile=$(series_file "$series")
	tag=$(series_base "$series")
	series_patches "$sfile" "$VMALOCK_TOP/patches"
	lock_tree
	tree_args
	# A series for the pristine tree goes onto a user's tree as it is: no
	# fixture there.
	[ "$tag" != vmalock/pristine ] || [ -z "$OPT_TREE" ] || TARGS+=(--as-is)
	dir=$(sub_path base "${TARGS[@]}")
	start=$(git -C "$dir" rev-parse "$tag")
	branch=vmalock/$series
	local me
	me=$(user_ident)
	stamp="$start-$(content_stamp "$sfile" "${PATCHES[@]}")${me:+-$(printf '%s' "$me" | sha256sum | cut -c1-12)}"

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
	[ -z "$me" ] || make_mine "$wt" "$start" "$branch" "$me"
	git -C "$dir" config "vmalock.stamp-$series" "$stamp"
	log "applied ${#PATCHES[@]} patches ($series); $branch: $(git -C "$wt" log -1 --format='%h %s')"
	emit_path "$wt"
}
