#!/usr/bin/env bats
# Read-only storage stays read-only, and storage names cannot walk out of
# moat's state.
#
# moat sets MOUNT_ATTR_RDONLY on the detached mount tree before it is
# attached (sandbox/mounts.c), and the container cannot change mounts:
# seccomp answers mount/umount with EPERM and the new mount API with
# ENOSYS, Landlock forbids mount changes, and CAP_SYS_ADMIN is not in the
# default set.  Each case runs the helper tests/escape/helpers/storage-
# attack.c ("sa ro-attack DIR") in the container: a write, a mkdir, a
# remount read-write (bind and plain), a bind over it, umount (plain and
# detached), mount_setattr clearing RDONLY, a writable open_tree clone
# written through, moving a clone elsewhere, fspick + reconfigure rw, and
# a last write.  Every one must fail, and the host side of the mount must
# be unchanged afterwards.
#
# Controls show that the helper does see a writable mount, and that with
# every confinement switched off (SYS_ADMIN, seccomp=unconfined,
# landlock=off) it does see mount changes succeed: so its "all failed" is
# worth something.
#
# Names: a volume name is a name, never a path ("../../etc", "a/b", "..",
# "." refused by -v, --mount and `volume create`), and a bind source must
# be absolute ("-v ../x:/y" is a volume name, refused).

load ../lib/helpers
load ../lib/storage

setup_file() {
	moat_setup_file || return 1
	storage_helper_build || return 1
}

setup() {
	# world-writable: only the mount's read-only flag can stop a write
	HOSTDIR=$MOAT_T/victim/ro$BATS_TEST_NUMBER
	install -d -m 0777 "$HOSTDIR"
	echo keep >"$HOSTDIR/existing"
	chmod 0666 "$HOSTDIR/existing"
}

teardown() {
	local id v
	for id in $(moat_as ps -aq --no-trunc 2>/dev/null); do
		MOAT_WRAP="timeout 60" moat_as rm -f "$id" >/dev/null 2>&1 || true
	done
	for v in $(moat_as volume ls -q 2>/dev/null); do
		MOAT_WRAP="timeout 60" moat_as volume rm -f "$v" >/dev/null 2>&1 || true
	done
	rm -rf -- "$HOSTDIR"
	moat_check_clean
}

vol_dir() { echo "$MOAT_STATE/root/volumes/$1/_data"; }

listing() { find "$1" -printf '%y %m %s %P\n' | sort; }

ATTACKS="write mkdir remount-rw-bind remount-rw bind-over umount umount-detach
mount-setattr-clear-ro open-tree-clone-rw-write open-tree-clone-move fspick-reconfigure-rw
write-after"

# After `run` of `sa ro-attack`: every attack was tried and none worked;
# the writes failed with EROFS.
assert_all_attacks_failed() {
	local a line
	for a in $ATTACKS; do
		line=$(grep -E "^$a actual=" <<<"$output" | head -n 1)
		[[ -n $line ]] || fail "the helper printed no line for $a:"$'\n'"$output"
		[[ $line != *"actual=OK" ]] || fail "$1: $line"$'\n'"$output"
	done
	assert_line "write actual=EROFS"
	assert_line "mkdir actual=EROFS"
	assert_line "write-after actual=EROFS"
}

# attack_ro ARGS...: the attack in a container started with ARGS (mounts
# included), checked.
attack_ro() {
	run --separate-stderr mrun "$@" sa /sa ro-attack /d
	assert_success
	assert_all_attacks_failed "$*"
}

@test "ro: control: on a writable volume and bind the helper's writes work" {
	run --separate-stderr mrun -v rwvol:/d sa /sa ro-attack /d
	assert_success
	assert_line "write actual=OK"
	assert_line "mkdir actual=OK"
	run --separate-stderr mrun -v "$HOSTDIR:/d" sa /sa ro-attack /d
	assert_success
	assert_line "write actual=OK"
}

@test "ro: -v NAME:/d:ro and --mount type=volume,readonly: every write and mount change fails" {
	local before
	moat_as run --rm -v rovol:/d sa sh -c 'echo data >/d/f'
	before=$(listing "$(vol_dir rovol)")
	attack_ro -v rovol:/d:ro
	attack_ro --mount type=volume,src=rovol,dst=/d,readonly
	attack_ro --mount type=volume,src=rovol,dst=/d,ro=true
	run mrun -v rovol:/d:ro sa grep " /d " /proc/self/mountinfo
	assert_success
	[[ $output == *" /d ro,"* ]] || fail "/d is not mounted read-only: $output"
	assert_equal "$(listing "$(vol_dir rovol)")" "$before"
}

@test "ro: -v /host:/d:ro and --mount type=bind,readonly: every write and mount change fails" {
	local before
	before=$(listing "$HOSTDIR")
	attack_ro -v "$HOSTDIR:/d:ro"
	attack_ro --mount "type=bind,src=$HOSTDIR,dst=/d,readonly"
	assert_equal "$(listing "$HOSTDIR")" "$before"
}

@test "ro: --volumes-from SRC:ro: the shared volume is read-only in the new container" {
	local before
	moat_as create --name rosrc -v shvol:/d sa true >/dev/null
	moat_as run --rm -v shvol:/d sa sh -c 'echo data >/d/f'
	before=$(listing "$(vol_dir shvol)")
	run --separate-stderr mrun --volumes-from rosrc:ro sa /sa ro-attack /d
	assert_success
	assert_all_attacks_failed "--volumes-from rosrc:ro"
	assert_equal "$(listing "$(vol_dir shvol)")" "$before"
}

@test "ro: the same with --cap-add SYS_ADMIN (refused, or granted and still read-only)" {
	local before
	before=$(listing "$HOSTDIR")
	run --separate-stderr mrun --cap-add SYS_ADMIN -v "$HOSTDIR:/d:ro" sa /probe status
	if [[ $status -ne 0 ]]; then
		assert_failure 125
		assert_one_error_line
		return 0
	fi
	# granted: bit 21 is in the effective set
	local eff
	eff=$(status_value CapEff)
	(((16#$eff >> 21) & 1)) || fail "--cap-add SYS_ADMIN ran without SYS_ADMIN: CapEff $eff"
	attack_ro --cap-add SYS_ADMIN -v "$HOSTDIR:/d:ro"
	attack_ro --cap-add SYS_ADMIN -v rovol2:/d:ro
	attack_ro --cap-add ALL -v "$HOSTDIR:/d:ro"
	assert_equal "$(listing "$HOSTDIR")" "$before"
}

@test "ro: control: with SYS_ADMIN, seccomp=unconfined and landlock=off the helper sees mount changes work" {
	run --separate-stderr mrun --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
		--security-opt landlock=off -v rwvol2:/d sa /sa ro-attack /d
	if [[ $status -eq 125 ]]; then
		skip "moat refuses this combination for $MOAT_TEST_IDENTITY: $stderr"
	fi
	assert_success
	assert_line "open-tree-clone-move actual=OK"
}

@test "ro: a policy's bindMounts.readOnly holds even with SYS_ADMIN, seccomp=unconfined, landlock=off" {
	local before pol=$MOAT_T/scratch/ro-policy.json
	printf '{"default": {"bindMounts": {"allow": ["%s"], "readOnly": true}}}\n' \
		"$(realpath "$HOSTDIR")" >"$pol"
	chmod 0644 "$pol"
	before=$(listing "$HOSTDIR")
	# the policy's own rule works
	run --separate-stderr moat_as --policy "$pol" run --rm -v "$HOSTDIR:/d" sa true
	assert_failure 125
	[[ $stderr == *"bindMounts.readOnly"* ]] || fail "not refused by readOnly: $stderr"
	# a tenant switching confinement off: refused, or the bind stays
	# read-only
	run --separate-stderr moat_as --policy "$pol" run --rm --cap-add SYS_ADMIN \
		--security-opt seccomp=unconfined --security-opt landlock=off \
		-v "$HOSTDIR:/d:ro" sa /sa ro-attack /d
	if [[ $status -ne 0 ]]; then
		assert_failure 125
		assert_one_error_line
	else
		local line bad=()
		for line in remount-rw-bind open-tree-clone-rw-write; do
			grep -qx "$line actual=OK" <<<"$output" && bad+=("$line")
		done
		[[ ${#bad[@]} -eq 0 ]] ||
			fail "the read-only bind the policy requires was made writable: ${bad[*]}"$'\n'"$output"
	fi
	assert_equal "$(listing "$HOSTDIR")" "$before"
}

@test "ro: volume names that are paths are refused (-v, --mount, volume create); nothing created" {
	local n ref=$MOAT_T/scratch/ref-$BATS_TEST_NUMBER
	touch "$ref"
	sleep 0.01
	for n in ../../etc a/b .. . ../x ./x "a/../../etc" "x/.."; do
		run --separate-stderr mrun -v "$n:/y" sa true
		assert_failure 125
		assert_one_error_line
		run --separate-stderr mrun --mount "type=volume,src=$n,dst=/y" sa true
		assert_failure 125
		assert_one_error_line
		run --separate-stderr moat_as volume create "$n"
		assert_failure
		assert_one_error_line
	done
	# a relative bind source is refused the same way
	run --separate-stderr mrun --mount "type=bind,src=../x,dst=/y" sa true
	assert_failure 125
	assert_one_error_line
	run moat_as volume ls -q
	assert_output ""
	run moat_as ps -aq
	assert_output ""
	# nothing by those names appeared anywhere in moat's state or next to it
	run find "$MOAT_T" -newer "$ref" \( -name etc -o -name a -o -name b -o -name x \) -print
	assert_output ""
}
