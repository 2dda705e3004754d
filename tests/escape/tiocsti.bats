#!/usr/bin/env bats
# CVE-2017-5226 (bubblewrap) / CVE-2023-28100 (flatpak) / CVE-2019-10063
# (snapd): TIOCSTI pushes bytes into a terminal's input queue, so a sandbox
# that shares the user's terminal can type commands into the user's shell;
# TIOCLINUX does the same on a VT; snapd's filter missed TIOCSTI with bit
# 32 set (the kernel truncates the command to 32 bits).
#
# moat: the seccomp filter answers EPERM to TIOCSTI (masked to 32 bits) and
# TIOCLINUX, and the container never holds the caller's terminal as its
# controlling tty (-t gives it its own pty; without -t stdin is not a tty or
# is in another session).  legacy_tiocsti=1 on this host, so the kernel
# itself would allow the injection: the tests are real.
#
# The "works without the protection" cases inject only into a pty the
# container owns (the probe's own, or moat's -t pty), which is safe.

load ../lib/helpers

legacy_tiocsti() {
	[[ $(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null || echo 1) == 1 ]]
}

@test "tiocsti: TIOCSTI on the container's own ctty is EPERM" {
	run mrun "$IMG" /probe try tiocsti
	assert_failure
	assert_output "tiocsti expected=EPERM actual=EPERM ok"
}

@test "tiocsti: TIOCSTI|1<<32 (the high-bit bypass) is EPERM" {
	run mrun "$IMG" /probe try tiocsti-highbit
	assert_failure
	assert_output "tiocsti-highbit expected=EPERM actual=EPERM ok"
}

@test "tiocsti: TIOCLINUX is EPERM" {
	run mrun "$IMG" /probe try tioclinux
	assert_failure
	assert_output "tioclinux expected=EPERM actual=EPERM ok"
}

@test "tiocsti: without seccomp and Landlock the injection works (both forms)" {
	legacy_tiocsti || skip "legacy_tiocsti=0: the kernel refuses TIOCSTI itself"
	run mrun --security-opt seccomp=unconfined --security-opt landlock=off "$IMG" /probe try tiocsti
	assert_success
	assert_output --partial "actual=OK"
	run mrun --security-opt seccomp=unconfined --security-opt landlock=off "$IMG" /probe try tiocsti-highbit
	assert_success
	assert_output --partial "actual=OK"
}

@test "tiocsti: -t: TIOCSTI on the container's pty is EPERM" {
	run script -qec "$(moat_cmdline run --rm -t "$IMG" /probe tiocsti)" /dev/null
	strip_cr
	assert_output --partial "tiocsti-fd0 expected=EPERM actual=EPERM ok"
}

@test "tiocsti: -t without seccomp and Landlock: it works on the container's own pty" {
	legacy_tiocsti || skip "legacy_tiocsti=0: the kernel refuses TIOCSTI itself"
	run script -qec "$(moat_cmdline run --rm -t --security-opt seccomp=unconfined \
		--security-opt landlock=off "$IMG" /probe tiocsti)" /dev/null
	strip_cr
	assert_output --partial "actual=OK"
}

@test "tiocsti: the caller's terminal is out of reach even unconfined (-i, no -t)" {
	# moat runs on a terminal (script's pty); the container must not be
	# able to type into it, even with seccomp and Landlock off: its stdin
	# is a pipe, or the terminal is not its controlling tty.
	local mode
	for mode in "-i" ""; do
		run script -qec "$(moat_cmdline run --rm $mode --security-opt seccomp=unconfined \
			--security-opt landlock=off "$IMG" /probe tiocsti)" /dev/null
		strip_cr
		assert_output --partial "tiocsti-fd0"
		refute_output --partial "actual=OK"
	done
}
