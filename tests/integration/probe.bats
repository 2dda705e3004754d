#!/usr/bin/env bats
# The default confinement, line by line, as the probe sees it from inside.

load ../lib/helpers

setup_file() {
	moat_setup_file || return 1
	# One run for the per-field tests; each test still checks its own lines.
	moat_as run --rm "$IMG" /probe status >"$MOAT_T/status.out" 2>&1 || true
}

load_status() {
	output=$(cat "$MOAT_T/status.out")
	mapfile -t lines <<<"$output"
	[[ -n $output ]] || fail "probe status printed nothing"
}

@test "probe status: NoNewPrivs 1 and Seccomp 2 (filter)" {
	load_status
	[[ $(status_value NoNewPrivs) == 1 ]] || fail "NoNewPrivs=$(status_value NoNewPrivs)"
	[[ $(status_value Seccomp) == 2 ]] || fail "Seccomp=$(status_value Seccomp)"
}

@test "probe status: capability sets are exactly the default eleven for root" {
	load_status
	local f
	for f in CapPrm CapEff CapBnd; do
		[[ $(status_value $f) == "$CAPS_DEFAULT" ]] ||
			fail "$f=$(status_value $f), expected $CAPS_DEFAULT"
	done
}

@test "probe status: CapInh and CapAmb are 0" {
	load_status
	[[ $(status_value CapInh) == "$CAPS_NONE" ]] || fail "CapInh=$(status_value CapInh)"
	[[ $(status_value CapAmb) == "$CAPS_NONE" ]] || fail "CapAmb=$(status_value CapAmb)"
}

@test "probe status: uid_map and gid_map match the identity" {
	load_status
	# The container runs in a nested user namespace (it locks the mount
	# flags) that maps its ids to themselves; the host ids behind them are
	# checked from outside in identity.bats.
	if is_root_identity; then
		assert_line "uid_map: 0 0 $ID_RANGE"
		assert_line "gid_map: 0 0 $ID_RANGE"
		[[ $(grep -c '^uid_map:' <<<"$output") -eq 1 ]] || fail "extra uid_map lines"
	else
		# rootless with an /etc/subuid entry: container 0 = the caller,
		# 1..65535 = the subordinate range: one line per outer range
		assert_line "uid_map: 0 0 1"
		assert_line "uid_map: 1 1 65535"
		assert_line "gid_map: 1 1 65535"
	fi
}

@test "probe status: Landlock enforced" {
	load_status
	assert_line "Landlock: enforced"
}

@test "probe status: only fds 0 1 2 are open" {
	load_status
	assert_line "fds: 0 1 2"
}

@test "probe status: own namespaces (user, mnt, pid, ipc, uts, cgroup, net)" {
	load_status
	local ns mine theirs
	for ns in user mnt pid ipc uts cgroup net; do
		mine=$(readlink /proc/self/ns/$ns)
		theirs=$(status_value ns.$ns)
		[[ -n $theirs && $theirs != "$mine" ]] || fail "$ns namespace is the host's ($theirs)"
	done
	assert_line "pid: 1"
}

@test "probe status: the rootfs is an overlay; /dev has its own devpts" {
	load_status
	assert_line --regexp '^mountinfo: [0-9]+ [0-9]+ [^ ]+ [^ ]+ / [^ ]+ (.* )?- overlay '
	assert_line --regexp '^mountinfo: .* /dev/pts [^ ]+ (.* )?- devpts '
	assert_line --regexp '^mountinfo: .* /sys ro(,[^ ]*)? (.* )?- sysfs '
	assert_line --regexp '^mountinfo: .* /proc [^ ]+ (.* )?- proc '
}

@test "probe deny: every forbidden operation fails as the contract says" {
	run mrun "$IMG" /probe deny
	echo "$output"
	assert_success
	refute_output --partial " FAIL"
}

@test "probe deny: the same probe FAILS on the host (it can detect an unconfined process)" {
	run "$PROBE" deny
	assert_failure
	assert_output --partial " FAIL"
}

@test "probe allow: a working container can still do what it needs" {
	run mrun "$IMG" /probe allow
	echo "$output"
	assert_success
}

@test "network none: only loopback, and it is up" {
	run mrun --network none "$IMG" cat /proc/net/dev
	assert_success
	local ifs
	ifs=$(sed -n 's/^ *\([^ :]*\):.*/\1/p' <<<"$output" | sort | tr '\n' ' ')
	[[ $ifs == "lo " ]] || fail "interfaces: $ifs"
	run mrun --network none "$IMG" cat /sys/class/net/lo/operstate /sys/class/net/lo/flags
	assert_success
	# IFF_UP is bit 0 of the flags
	local flags
	flags=$(tail -n 1 <<<"$output")
	(((flags & 1) == 1)) || fail "lo is down (flags $flags)"
}

@test "network host: the host's network namespace" {
	run mrun --network host "$IMG" /probe status
	assert_success
	[[ $(status_value ns.net) == "$(readlink /proc/self/ns/net)" ]] || fail "not the host netns"
}

@test "/dev: the contract's devices and nothing else of the host's" {
	run mrun "$IMG" sh -c 'ls /dev; echo ---; ls /dev/pts; echo ---; stat -c "%n %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty'
	assert_success
	local d
	for d in null zero full random urandom tty pts shm; do
		assert_line "$d"
	done
	assert_line "ptmx"
	assert_line "/dev/null 1:3"
	assert_line "/dev/zero 1:5"
	assert_line "/dev/full 1:7"
	assert_line "/dev/random 1:8"
	assert_line "/dev/urandom 1:9"
	assert_line "/dev/tty 5:0"
	refute_line "sda"
	refute_line "vda"
	refute_line "kmsg"
	refute_line "mem"
}

@test "Landlock: a new file in /dev is EACCES; with landlock=off it works" {
	run mrun "$IMG" /probe try dev-create
	assert_failure
	assert_output --partial "actual=EACCES"
	# the control: /dev is a tmpfs the container may write to otherwise
	run mrun --security-opt landlock=off "$IMG" /probe try dev-create
	assert_success
	run mrun --security-opt landlock=off "$IMG" /probe status
	assert_line "Landlock: not-enforced"
}

@test "Landlock: /dev/shm and the rootfs's directories stay writable" {
	# (a new entry directly in "/" is refused by design: sandbox/landlock.c)
	run mrun "$IMG" sh -c '/probe write /dev/shm/a && /probe write /etc/a && /probe write /bin/a'
	assert_success
}

@test "seccomp=unconfined: Seccomp 0, the rest of the confinement stays" {
	run mrun --security-opt seccomp=unconfined "$IMG" /probe status
	assert_success
	[[ $(status_value Seccomp) == 0 ]] || fail "Seccomp=$(status_value Seccomp)"
	[[ $(status_value NoNewPrivs) == 1 ]] || fail "NoNewPrivs=$(status_value NoNewPrivs)"
	[[ $(status_value CapBnd) == "$CAPS_DEFAULT" ]] || fail "CapBnd=$(status_value CapBnd)"
	assert_line "Landlock: enforced"
}

@test "--cap-add and --cap-drop change the sets by one bit" {
	run mrun --cap-add NET_RAW "$IMG" /probe status
	assert_success
	# NET_RAW is bit 13
	[[ $(status_value CapBnd) == 00000000800425fb ]] || fail "CapBnd=$(status_value CapBnd)"
	[[ $(status_value CapEff) == 00000000800425fb ]] || fail "CapEff=$(status_value CapEff)"
	run mrun --cap-drop CHOWN "$IMG" /probe status
	assert_success
	[[ $(status_value CapBnd) == 00000000800405fa ]] || fail "CapBnd=$(status_value CapBnd)"
	[[ $(status_value CapInh) == "$CAPS_NONE" ]] || fail "CapInh=$(status_value CapInh)"
	[[ $(status_value CapAmb) == "$CAPS_NONE" ]] || fail "CapAmb=$(status_value CapAmb)"
}

@test "--security-opt seccomp=FILE: a Docker-format profile is applied" {
	local prof=$MOAT_T/scratch/deny-mkdir.json
	cat >"$prof" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 }
  ]
}
JSON
	chmod 0644 "$prof"
	run mrun --security-opt seccomp="$prof" "$IMG" mkdir /etc/newdir
	assert_failure
	assert_output --partial "Operation not permitted"
	run mrun --security-opt seccomp="$prof" "$IMG" /probe status
	[[ $(status_value Seccomp) == 2 ]] || fail "Seccomp=$(status_value Seccomp)"
	# control: the default profile lets mkdir through
	run mrun "$IMG" mkdir /etc/newdir
	assert_success
}

@test "--security-opt seccomp=FILE: missing or malformed profile is 125, one line" {
	run --separate-stderr mrun --security-opt seccomp="$MOAT_T/scratch/none.json" "$IMG" true
	assert_failure 125
	assert_one_error_line
	printf '{"defaultAction": ' >"$MOAT_T/scratch/bad.json"
	chmod 0644 "$MOAT_T/scratch/bad.json"
	run --separate-stderr mrun --security-opt seccomp="$MOAT_T/scratch/bad.json" "$IMG" true
	assert_failure 125
	assert_one_error_line
}

@test "--security-opt seccomp=FILE: a syntax error names file:line:column" {
	local prof=$MOAT_T/scratch/syntax.json
	printf '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [ oops ]\n}\n' >"$prof"
	chmod 0644 "$prof"
	run --separate-stderr mrun --security-opt seccomp="$prof" "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"$prof:3:"* ]] || fail "no file:line:column in: $stderr"
}

@test "--security-opt seccomp=FILE: an unknown syscall name is a warning and skipped" {
	local prof=$MOAT_T/scratch/unknown-name.json
	cat >"$prof" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["no_such_syscall_xyz", "mkdirat", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 }
  ]
}
JSON
	chmod 0644 "$prof"
	run --separate-stderr mrun --security-opt seccomp="$prof" "$IMG" mkdir /etc/x
	assert_failure 1
	[[ $stderr == *"warning"*"no_such_syscall_xyz"* ]] || fail "stderr: $stderr"
	[[ $stderr == *"Operation not permitted"* ]] || fail "the known names were not applied: $stderr"
}

@test "--security-opt seccomp=FILE: an unknown action is an error" {
	local prof=$MOAT_T/scratch/bad-action.json
	printf '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}]}\n' >"$prof"
	chmod 0644 "$prof"
	run --separate-stderr mrun --security-opt seccomp="$prof" "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"SCMP_ACT_EXPLODE"* ]] || fail "stderr: $stderr"
}
