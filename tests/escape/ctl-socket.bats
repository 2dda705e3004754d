#!/usr/bin/env bats
# The monitor's control socket: whoever can connect can stop, kill, attach
# to and exec into the container, so it must be reachable by its owner
# only, never from inside a container, and must survive garbage.
#
#  - a socket file (never abstract: no path-less socket any process of the
#    host network namespace could reach), mode 0600, in a 0700 directory
#    of the identity that runs the container;
#  - another unprivileged user cannot connect;
#  - a container on the host network sees no moat socket path;
#  - malformed messages from the owner only drop that client.

load ../lib/helpers

setup() {
	NAME=ctl$(marker)
	run moat_as run -d --name "$NAME" "$IMG" /probe sleep 60
	assert_success
	ID=$output
	SOCK=$MOAT_STATE/run/containers/$ID/ctl
}

teardown() {
	moat_as rm -f "$NAME" >/dev/null 2>&1 || true
}

# connect_as USER PATH [PAYLOAD_HEX]: python3 connects (and sends), prints
# what happened.
connect_as() {
	local user=$1 path=$2 payload=${3:-}
	runuser -u "$user" -- python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    # through the directory fd, as moat does: the path may be too long for sun_path
    d = os.open(os.path.dirname(sys.argv[1]), os.O_PATH)
    s.connect("/proc/self/fd/%d/%s" % (d, os.path.basename(sys.argv[1])))
except OSError as e:
    print("connect:", e.strerror); sys.exit(1)
if len(sys.argv) > 2 and sys.argv[2]:
    s.send(bytes.fromhex(sys.argv[2]))
    s.settimeout(5)
    try:
        d = s.recv(65536)
        print("reply", len(d))
    except socket.timeout:
        print("no reply")
else:
    print("connected")
' "$path" "$payload"
}

@test "ctl: a 0600 socket file in a 0700 directory of the container's owner" {
	local owner
	owner=$(is_root_identity && echo root || echo "$MOAT_TEST_USER")
	run stat -c '%F %a %U' "$SOCK"
	assert_success
	assert_output "socket 600 $owner"
	run stat -c '%a %U' "$(dirname "$SOCK")"
	assert_output "700 $owner"
	# not abstract: no @-name for this container in the host's table
	run grep -c "@.*$ID" /proc/net/unix
	assert_output 0
}

@test "ctl: the owner connects (control), another user cannot" {
	local owner
	owner=$(is_root_identity && echo root || echo "$MOAT_TEST_USER")
	run connect_as "$owner" "$SOCK"
	assert_success
	assert_output connected
	run connect_as "$MOAT_TEST_USER2" "$SOCK"
	assert_failure
	assert_output "connect: Permission denied"
	# and the container still runs
	run moat_as ps -q --no-trunc
	assert_output --partial "$ID"
}

@test "ctl: a container on the host network finds no moat socket to reach" {
	run mrun --network host "$IMG" /bin/sh -c "ls $MOAT_STATE/run/containers/$ID 2>&1; grep -c ' $MOAT_STATE' /proc/net/unix"
	assert_output --partial "No such file or directory"
}

@test "ctl: garbage from the owner drops that client; the monitor goes on" {
	local owner
	owner=$(is_root_identity && echo root || echo "$MOAT_TEST_USER")
	# bad magic; a short header; an unknown type with the right magic
	for hex in deadbeef00000000000000000000000000 4d4f 4d4f41546300000000000000000000ff; do
		run connect_as "$owner" "$SOCK" "$hex"
		assert_success
	done
	run moat_as ps --no-trunc
	assert_output --partial "$ID"
	assert_output --partial "Up "
	run moat_as stop -t 1 "$NAME"
	assert_success
	run moat_as wait "$NAME"
	assert_output 137
}
