#!/usr/bin/env bats
# Identity modes: which host ids a container's ids are (contract "Identity").

load ../lib/helpers

# uid_map lines of a `probe status` run in $output, as "inside outside count".
maps_of() { sed -n "s/^$1: //p" <<<"$output"; }

# Sum of the counts in the uid_map lines.
map_total() { maps_of "$1" | awk '{ n += $3 } END { print n + 0 }'; }

# The container's id maps as the host sees them (/proc/PID/uid_map read
# from the initial user namespace shows host ids), as "inside outside
# count" lines, for the container process running marker MK: FILE is
# uid_map or gid_map.
host_map_of() {
	local pid
	pid=$(wait_for_pid /probe "$1" 10) || return 1
	awk '{ print $1, $2, $3 }' "/proc/$pid/$2"
}

# Runs a marked sleeper with ARGS and prints its FILE (uid_map, gid_map)
# as the host sees it.
host_map() {
	local file=$1 mk out
	shift
	mk=$(marker)
	mrun "$@" "$IMG" /probe sleep 20 "$mk" 3>&- &
	local bg=$!
	out=$(host_map_of "$mk" "$file") || true
	kill_marker "$mk"
	wait "$bg" || true
	printf '%s\n' "$out"
}

# The host uid of the (first) container process running marker MK.
host_uid_of() {
	local pid
	pid=$(wait_for_pid /probe "$1" 10) || return 1
	awk '/^Uid:/ { print $2 }' "/proc/$pid/status"
}

@test "root: container ids 0..65535 are host 2147418112.." {
	is_root_identity || skip "root identity only"
	run host_map uid_map
	assert_output "0 $ROOT_ID_BASE $ID_RANGE"
	run host_map gid_map
	assert_output "0 $ROOT_ID_BASE $ID_RANGE"
	# Inside: the nested user namespace that locks the mounts maps the
	# same ids to themselves.
	run mrun "$IMG" /probe status
	assert_success
	assert_line "uid_map: 0 0 $ID_RANGE"
	assert_line "gid_map: 0 0 $ID_RANGE"
}

@test "root: the container's root is host uid 2147418112, not 0" {
	is_root_identity || skip "root identity only"
	local mk uid
	mk=$(marker)
	mrun "$IMG" /probe sleep 20 "$mk" 3>&- &
	local bg=$!
	uid=$(host_uid_of "$mk") || true
	kill_marker "$mk"
	wait "$bg" || true
	[[ $uid == "$ROOT_ID_BASE" ]] || fail "container root runs as host uid '$uid'"
}

@test "root: -u 1000 is host uid 2147418112+1000" {
	is_root_identity || skip "root identity only"
	local mk uid
	mk=$(marker)
	mrun -u 1000 "$IMG" /probe sleep 20 "$mk" 3>&- &
	local bg=$!
	uid=$(host_uid_of "$mk") || true
	kill_marker "$mk"
	wait "$bg" || true
	[[ $uid == "$((ROOT_ID_BASE + 1000))" ]] || fail "uid 1000 runs as host uid '$uid'"
}

@test "root: --userns=host has no user namespace (uid_map 0 0 4294967295)" {
	is_root_identity || skip "--userns=host is asked of root; rootless has no host ids to give"
	run mrun --userns host "$IMG" /probe status
	assert_success
	assert_line "uid_map: 0 0 4294967295"
	[[ $(status_value ns.user) == "$(readlink /proc/self/ns/user)" ]] || fail "own user ns"
	# still confined otherwise
	[[ $(status_value Seccomp) == 2 ]] || fail "Seccomp=$(status_value Seccomp)"
	[[ $(status_value NoNewPrivs) == 1 ]] || fail "NoNewPrivs=$(status_value NoNewPrivs)"
	[[ $(status_value CapBnd) == "$CAPS_DEFAULT" ]] || fail "CapBnd=$(status_value CapBnd)"
}

@test "rootless auto with an /etc/subuid entry: 65,536 ids, 0 = the caller" {
	is_rootless || skip "rootless identity only"
	local uid
	uid=$(user_uid "$MOAT_TEST_USER")
	run host_map uid_map
	assert_line "0 $uid 1"
	assert_line "1 100000 65535"
	[[ ${#lines[@]} -eq 2 ]] || fail "uid_map: $output"
	run host_map gid_map
	assert_line "1 100000 65535"
	run mrun "$IMG" /probe status
	assert_success
	[[ $(map_total uid_map) -eq $ID_RANGE ]] || fail "uid_map: $(maps_of uid_map)"
	[[ $(map_total gid_map) -eq $ID_RANGE ]] || fail "gid_map: $(maps_of gid_map)"
	assert_line "uid_map: 0 0 1"
	assert_line "uid_map: 1 1 65535"
}

@test "rootless --userns=subuid is the same as auto here" {
	is_rootless || skip "rootless identity only"
	run host_map uid_map --userns subuid
	assert_line "1 100000 65535"
	run mrun --userns subuid "$IMG" /probe status
	assert_success
	[[ $(map_total uid_map) -eq $ID_RANGE ]] || fail "uid_map: $(maps_of uid_map)"
}

@test "rootless subuid: -u 1000 is host uid 100000+999" {
	is_rootless || skip "rootless identity only"
	local mk uid
	mk=$(marker)
	mrun -u 1000 "$IMG" /probe sleep 20 "$mk" 3>&- &
	local bg=$!
	uid=$(host_uid_of "$mk") || true
	kill_marker "$mk"
	wait "$bg" || true
	[[ $uid == 100999 ]] || fail "uid 1000 runs as host uid '$uid'"
}

@test "rootless --userns=single: only the caller's uid, as 0" {
	is_rootless || skip "rootless identity only"
	local uid gid
	uid=$(user_uid "$MOAT_TEST_USER")
	gid=$(id -g "$MOAT_TEST_USER")
	run host_map uid_map --userns single
	assert_output "0 $uid 1"
	run host_map gid_map --userns single
	assert_output "0 $gid 1"
	run mrun --userns single "$IMG" /probe status
	assert_success
	[[ $(maps_of uid_map) == "0 0 1" ]] || fail "uid_map: $(maps_of uid_map)"
	[[ $(maps_of gid_map) == "0 0 1" ]] || fail "gid_map: $(maps_of gid_map)"
	[[ $(status_value CapEff) == "$CAPS_DEFAULT" ]] || fail "CapEff=$(status_value CapEff)"
}

@test "rootless without an /etc/subuid entry: auto is single" {
	is_rootless || skip "rootless identity only"
	local st uid
	st=$(make_user_state "$MOAT_TEST_USER2")
	uid=$(user_uid "$MOAT_TEST_USER2")
	moat_as_user "$MOAT_TEST_USER2" "$st" demo-image --tag "$IMG" --add "$PROBE:/probe"
	run moat_as_user "$MOAT_TEST_USER2" "$st" run --rm "$IMG" /probe status
	assert_success
	# one id only (inside, the nested namespace maps it to itself)
	[[ $(maps_of uid_map) == "0 0 1" ]] || fail "uid_map: $(maps_of uid_map)"
}

@test "rootless --userns=subuid without an /etc/subuid entry: 125, clear message" {
	is_rootless || skip "rootless identity only"
	grep -q "^$MOAT_TEST_USER2:" /etc/subuid && fail "$MOAT_TEST_USER2 has a subuid entry (setup-user.sh)"
	local st
	st=$(make_user_state "$MOAT_TEST_USER2")
	moat_as_user "$MOAT_TEST_USER2" "$st" demo-image --tag "$IMG" --add "$PROBE:/probe" || true
	run --separate-stderr moat_as_user "$MOAT_TEST_USER2" "$st" run --rm --userns subuid "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *subuid* ]] || fail "message does not name /etc/subuid: $stderr"
}

@test "rootless --userns=host is refused or gives no more than the caller" {
	is_rootless || skip "rootless identity only"
	run mrun --userns host "$IMG" /probe status
	if [[ $status -eq 0 ]]; then
		# without a user namespace a rootless caller has no capabilities
		[[ $(status_value CapEff) == "$CAPS_NONE" ]] || fail "CapEff=$(status_value CapEff)"
	else
		[[ $status -eq 125 ]] || fail "exit $status"
	fi
}

@test "--userns with an unknown mode: 125" {
	run --separate-stderr mrun --userns bogus "$IMG" true
	assert_failure 125
	assert_one_error_line
}
