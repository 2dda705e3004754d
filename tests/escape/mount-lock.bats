#!/usr/bin/env bats
# The container's mount flags are locked by the kernel, not only set.
#
# moat sets read-only, nosuid, nodev, noexec and the masks over /proc and
# /sys while it owns the container's mount namespace.  A container that
# keeps CAP_SYS_ADMIN with seccomp and Landlock switched off
# (--cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt
# landlock=off) is root of that namespace too, and used to be able to
# `mount -o remount,rw,bind` a read-only bind and write to the host
# directory, unmount a mask, or mount a fresh procfs without masks.  Now
# the setup child, after its last mount, moves into a nested user
# namespace (identity id maps) with a copy of its mount namespace: the
# kernel locks every flag of the copy (MNT_LOCK_READONLY, _NOSUID, ...)
# and pins every mount to its parent (MNT_LOCKED).  The nested namespace
# owns the container's network, uts and ipc namespaces (its root keeps
# its capabilities there), not its pid and cgroup ones: no proc or
# cgroup2 to mount afresh (sandbox/sandbox.c, nest_begin, lock_mounts).
#
# Every attack runs with that confinement switched off, so only the lock
# can stop it; the controls show that the same container does have
# SYS_ADMIN and working mount calls (on mounts it made itself, on a
# writable bind), so a refusal is the lock's doing.  The attacker's
# errnos come from tests/escape/helpers/storage-attack.c ("sa ro-attack
# DIR"), busybox's mount and umount show the everyday form.

load ../lib/helpers
load ../lib/storage

UNCONF=(--cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt landlock=off)

setup_file() {
	moat_setup_file || return 1
	storage_helper_build || return 1
}

setup() {
	# world-writable: only the mount's read-only flag can stop a write
	HOSTDIR=$MOAT_T/victim/lock$BATS_TEST_NUMBER
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

listing() { find "$1" -printf '%y %m %s %P\n' | sort; }

# sa_actual NAME: the helper's "NAME actual=..." value in $output.
sa_actual() {
	local line
	line=$(grep -E "^$1 actual=" <<<"$output" | head -n 1)
	[[ -n $line ]] || fail "the helper printed no line for $1:"$'\n'"$output"
	echo "${line#*actual=}"
}

# After `run ... sa ro-attack /d` on a read-only mount: the remount is
# EPERM, the writes EROFS, and nothing else made the mount writable or
# took it away.  (open-tree-clone-move may work: the clone keeps the
# locked flags, as open-tree-clone-rw-write shows.)
assert_ro_locked() {
	local a bad=()
	assert_success
	assert_equal "$(sa_actual remount-rw-bind)" EPERM
	assert_equal "$(sa_actual write)" EROFS
	assert_equal "$(sa_actual mkdir)" EROFS
	assert_equal "$(sa_actual write-after)" EROFS
	for a in remount-rw bind-over umount umount-detach mount-setattr-clear-ro \
		open-tree-clone-rw-write fspick-reconfigure-rw; do
		[[ $(sa_actual "$a") != OK ]] || bad+=("$a")
	done
	[[ ${#bad[@]} -eq 0 ]] || fail "worked against the read-only mount: ${bad[*]}"$'\n'"$output"
}

# The masks over /proc and /sys this kernel has, from the container's own
# mountinfo: "file PATH" (/dev/null bound over it) or "dir PATH" (an empty
# read-only tmpfs).
masks_in_container() {
	local out
	out=$(mrun "${UNCONF[@]}" sa cat /proc/self/mountinfo) || return 1
	awk '{ t = ""; for (i = 7; i < NF; i++) if ($i == "-") { t = $(i + 1); break } }
	     $5 !~ "^/(proc|sys)/" { next }
	     $4 ~ "/null$" { print "file " $5; next }
	     t == "tmpfs" { print "dir " $5 }' <<<"$out"
}

@test "lock: control: unconfined, the container has SYS_ADMIN and mount calls work on its own mounts" {
	run --separate-stderr mrun "${UNCONF[@]}" sa /probe status
	assert_success
	local eff
	eff=$(status_value CapEff)
	(((16#$eff >> 21) & 1)) || fail "no CAP_SYS_ADMIN in the container: CapEff $eff"
	[[ $(status_value Seccomp) == 0 ]] || fail "seccomp is on: $(status_value Seccomp)"
	# a tmpfs it mounts itself: mount, remount ro and back, umount (as
	# binds: a plain remount would hand busybox's idea of the tmpfs's
	# uid= back to the kernel, which root mode refuses, lock or not)
	run --separate-stderr mrun "${UNCONF[@]}" sa sh -c '
		mkdir -p /mnt/own && mount -t tmpfs own /mnt/own && echo mounted &&
		mount -o remount,ro,bind /mnt/own && ! touch /mnt/own/x 2>/dev/null && echo ro &&
		mount -o remount,rw,bind /mnt/own && touch /mnt/own/x && echo rw &&
		umount /mnt/own && echo unmounted'
	assert_success
	assert_output $'mounted\nro\nrw\nunmounted'
}

@test "lock: -v HOST:/d:ro: remount,rw,bind is EPERM, writes are EROFS, the host dir is unchanged" {
	local before
	before=$(listing "$HOSTDIR")
	run --separate-stderr mrun "${UNCONF[@]}" -v "$HOSTDIR:/d:ro" sa /sa ro-attack /d
	assert_ro_locked
	run --separate-stderr mrun "${UNCONF[@]}" --mount "type=bind,src=$HOSTDIR,dst=/d,readonly" \
		sa /sa ro-attack /d
	assert_ro_locked
	# busybox's mount, as a user would type it; /d stays read-only
	run --separate-stderr mrun "${UNCONF[@]}" -v "$HOSTDIR:/d:ro" sa sh -c '
		mount -o remount,rw,bind /d && echo remount=OK || echo remount=FAIL
		mount -o remount,rw,bind,nosuid,nodev /d && echo remount2=OK || echo remount2=FAIL
		echo evil >/d/existing && echo write=OK || echo write=FAIL
		echo evil >/d/new && echo create=OK || echo create=FAIL
		grep " /d " /proc/self/mountinfo | cut -d" " -f6'
	assert_success
	assert_line remount=FAIL
	assert_line remount2=FAIL
	assert_line write=FAIL
	assert_line create=FAIL
	assert_line --regexp '^ro,'
	assert_equal "$(listing "$HOSTDIR")" "$before"
	assert_equal "$(cat "$HOSTDIR/existing")" keep
}

@test "lock: -v VOLUME:/d:ro: the same" {
	moat_as run --rm -v lockvol:/d sa sh -c 'echo data >/d/f'
	local dir=$MOAT_STATE/root/volumes/lockvol/_data before
	before=$(listing "$dir")
	run --separate-stderr mrun "${UNCONF[@]}" -v lockvol:/d:ro sa /sa ro-attack /d
	assert_ro_locked
	assert_equal "$(listing "$dir")" "$before"
}

@test "lock: control: on a writable bind the same commands behave as before" {
	run --separate-stderr mrun "${UNCONF[@]}" -v "$HOSTDIR:/d" sa /sa ro-attack /d
	assert_success
	assert_equal "$(sa_actual write)" OK
	assert_equal "$(sa_actual mkdir)" OK
	assert_equal "$(sa_actual open-tree-clone-rw-write)" OK
	assert_equal "$(sa_actual write-after)" OK
	# read-only and back: clearing RDONLY is refused only where it was
	# locked on, so the refusal above is the lock's
	run --separate-stderr mrun "${UNCONF[@]}" -v "$HOSTDIR:/d" sa sh -c '
		mount -o remount,rw,bind /d && echo remount=OK || echo remount=FAIL
		mount -o remount,ro,bind /d && echo ro=OK || echo ro=FAIL
		echo x >/d/ro-try && echo write-ro=OK || echo write-ro=FAIL
		mount -o remount,rw,bind /d && echo rw=OK || echo rw=FAIL
		echo written >/d/new && echo write=OK || echo write=FAIL'
	assert_success
	assert_line remount=OK
	assert_line ro=OK
	assert_line write-ro=FAIL
	assert_line rw=OK
	assert_line write=OK
	assert_equal "$(cat "$HOSTDIR/new")" written
	[[ ! -e $HOSTDIR/ro-try ]] || fail "written while remounted read-only"
}

@test "lock: --read-only: the root cannot be remounted read-write" {
	run --separate-stderr mrun "${UNCONF[@]}" --read-only sa sh -c '
		mount -o remount,rw / && echo remount=OK || echo remount=FAIL
		touch /lock-x && echo write=OK || echo write=FAIL
		grep " / / " /proc/self/mountinfo | cut -d" " -f6'
	assert_success
	assert_line remount=FAIL
	assert_line write=FAIL
	assert_line --regexp '^ro,'
}

@test "lock: a masked path cannot be unmounted, and still hides what it masks" {
	local masks kind p file=""
	masks=$(masks_in_container) || fail "no mountinfo"
	[[ -n $masks ]] || fail "no mask over /proc or /sys in the container"
	while read -r kind p; do
		[[ $kind == file && -z $file ]] && file=$p
		run --separate-stderr mrun "${UNCONF[@]}" sa sh -c "
			umount $p && echo umount=OK || echo umount=FAIL
			umount -l $p && echo detach=OK || echo detach=FAIL
			grep -c ' $p ' /proc/self/mountinfo"
		assert_success
		assert_line umount=FAIL
		assert_line detach=FAIL
		assert_line 1
		[[ $stderr == *"Invalid argument"* ]] || fail "$p: not EINVAL (locked): $stderr"
	done <<<"$masks"
	# a file mask still hides the file afterwards, in the same container
	[[ -n $file ]] || fail "no file mask in: $masks"
	run --separate-stderr mrun "${UNCONF[@]}" sa sh -c "umount $file 2>/dev/null; /probe read $file"
	assert_success
	assert_output "read $file bytes=0"
}

@test "lock: control: a mount the container made over a path is unmounted as before" {
	local kind p
	read -r kind p < <(masks_in_container) || fail "no mask"
	run --separate-stderr mrun "${UNCONF[@]}" sa sh -c "
		mkdir -p /mnt && mount -t tmpfs over /mnt && umount /mnt && echo own=OK
		umount $p 2>/dev/null && echo mask=OK || echo mask=FAIL"
	assert_success
	assert_line own=OK
	assert_line mask=FAIL
}

@test "lock: no fresh proc, sysfs or cgroup2 (which would show what the masks hide, or write)" {
	run --separate-stderr mrun "${UNCONF[@]}" sa sh -c '
		mkdir -p /mnt/p
		for t in proc sysfs cgroup2 tmpfs; do
			mount -t $t $t /mnt/p && umount /mnt/p && echo $t=OK || echo $t=FAIL
		done'
	assert_success
	assert_line proc=FAIL
	# sysfs: the container owns its network namespace, but the kernel
	# mounts no sysfs less masked than the locked one (see the masks test)
	assert_line sysfs=FAIL
	assert_line cgroup2=FAIL
	# the control: a filesystem a user namespace may mount
	assert_line tmpfs=OK
}

@test "lock: the container's root keeps its capabilities in its own network, uts and ipc namespaces" {
	# CAP_NET_BIND_SERVICE (a default): port 80 as root; -u 1000 is the
	# control (EACCES: the capability is what lets root bind)
	run --separate-stderr mrun sa sh -c 'timeout 1 nc -l -p 80; echo rc=$?'
	assert_success
	assert_output rc=143
	run --separate-stderr mrun -u 1000 sa sh -c 'timeout 1 nc -l -p 80; echo rc=$?'
	assert_output rc=1
	[[ $stderr == *"Permission denied"* ]] || fail "port 80 as uid 1000: $stderr"
	# CAP_NET_RAW (added, seccomp off): a packet socket
	run mrun --security-opt seccomp=unconfined --cap-add NET_RAW sa /probe try socket-af-packet
	assert_output --partial "actual=OK"
	# CAP_SYS_ADMIN: the hostname of its own uts namespace, and an mqueue
	# of its own ipc namespace
	run --separate-stderr mrun "${UNCONF[@]}" --hostname before sa sh -c '
		hostname after && hostname
		mkdir -p /mnt/q && mount -t mqueue mqueue /mnt/q && echo mqueue=OK'
	assert_success
	assert_output $'after\nmqueue=OK'
}

@test "lock: moat exec joins the locked namespaces: the same attacks fail from there" {
	local before
	before=$(listing "$HOSTDIR")
	moat_as run -d --name lockx "${UNCONF[@]}" -v "$HOSTDIR:/d:ro" sa sleep 600 >/dev/null
	run --separate-stderr moat_as exec lockx /sa ro-attack /d
	assert_ro_locked
	local kind p
	read -r kind p < <(masks_in_container) || fail "no mask"
	run --separate-stderr moat_as exec lockx sh -c "umount $p && echo mask=OK || echo mask=FAIL"
	assert_success
	assert_line mask=FAIL
	# the exec'd process is in the init's user and mount namespaces
	local run_ns exec_ns
	run_ns=$(moat_as exec lockx sh -c 'readlink /proc/1/ns/user; readlink /proc/1/ns/mnt')
	exec_ns=$(moat_as exec lockx sh -c 'readlink /proc/$$/ns/user; readlink /proc/$$/ns/mnt')
	[[ $run_ns == "user:["*"mnt:["* ]] || fail "no namespaces read: $run_ns"
	assert_equal "$exec_ns" "$run_ns"
	assert_equal "$(listing "$HOSTDIR")" "$before"
}

@test "lock: moat cp into the read-only bind is refused, beside it works" {
	local before src=$MOAT_T/scratch/lock-cp-$BATS_TEST_NUMBER
	echo copied >"$src"
	chmod 0644 "$src"
	before=$(listing "$HOSTDIR")
	moat_as run -d --name lockc "${UNCONF[@]}" -v "$HOSTDIR:/d:ro" sa sleep 600 >/dev/null
	run --separate-stderr moat_as cp "$src" lockc:/d/new
	assert_failure
	[[ $stderr == *"Read-only file system"* ]] || fail "not EROFS: $stderr"
	run --separate-stderr moat_as cp "$src" lockc:/tmp/new
	assert_success
	run moat_as exec lockc cat /tmp/new
	assert_output copied
	assert_equal "$(listing "$HOSTDIR")" "$before"
}

@test "lock: the container sees the same ids (identity maps of the outer ones)" {
	run --separate-stderr mrun sa /probe status
	assert_success
	local maps total=0 first inside count
	maps=$(sed -n 's/^uid_map: //p' <<<"$output")
	[[ -n $maps ]] || fail "no uid_map lines"
	while read -r first inside count; do
		[[ $first == "$inside" ]] || fail "not an identity map: $maps"
		total=$((total + count))
	done <<<"$maps"
	# the contract's size (root and subuid; this suite runs no single-id mode)
	[[ $total -eq $ID_RANGE ]] || fail "uid_map covers $total ids: $maps"
	[[ $(status_value Uid) == $'0\t0\t0\t0' ]] || fail "Uid: $(status_value Uid)"
	# -u 1000 is still uid 1000
	run --separate-stderr mrun -u 1000:1000 sa /probe status
	assert_success
	[[ $(status_value Uid) == $'1000\t1000\t1000\t1000' ]] || fail "Uid: $(status_value Uid)"
}
