#!/usr/bin/env bats
# `moat run`: output, exit codes, and the Docker flags the contract lists.

load ../lib/helpers

# ---- output and exit codes ----

@test "run: echo reaches stdout, nothing else is printed" {
	run --separate-stderr mrun "$IMG" echo hello
	assert_success
	assert_output "hello"
	[[ -z $stderr ]] || fail "unexpected stderr: $stderr"
}

@test "run: the image's Cmd (/bin/sh) runs when no command is given" {
	run --separate-stderr moat_as run --rm -i "$IMG" <<<"echo from-default-cmd"
	assert_success
	assert_output "from-default-cmd"
}

@test "run: exit status 0 and 3 pass through" {
	run mrun "$IMG" /probe exit 0
	assert_success
	run mrun "$IMG" sh -c 'exit 3'
	assert_failure 3
}

@test "run: a command killed by a signal gives 128+N (--init: sh is not PID 1)" {
	# PID 1 ignores signals it has no handler for, so the shell must not
	# be PID 1 for its own SIGTERM to kill it.
	run mrun --init "$IMG" sh -c 'kill -TERM $$; sleep 5'
	assert_failure 143
}

@test "run: the container killed from the host (SIGKILL) gives 137" {
	local mk pid
	mk=$(marker)
	mrun "$IMG" /probe sleep 30 "$mk" 3>&- &
	local bg=$!
	pid=$(wait_for_pid /probe "$mk" 10) || { kill "$bg"; fail "container process never appeared"; }
	kill -KILL "$pid"
	local rc=0
	wait "$bg" || rc=$?
	[[ $rc -eq 137 ]] || fail "moat exited $rc, expected 137"
}

@test "run: unknown image: 125 and one line naming it" {
	run --separate-stderr mrun no-such-image-xyz true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"no such image"* ]] || fail "stderr: $stderr"
}

@test "run: unknown flag: 125 and one line" {
	run --separate-stderr moat_as run --rm --no-such-flag "$IMG" true
	assert_failure 125
	assert_one_error_line
}

@test "run: command not found: 127 (absolute path and PATH lookup)" {
	run -127 mrun "$IMG" /no/such/command
	assert_failure 127
	run -127 mrun "$IMG" no-such-command-xyz
	assert_failure 127
}

@test "run: not executable: 126 (plain file and directory)" {
	run mrun "$IMG" /etc/passwd
	assert_failure 126
	run mrun "$IMG" /etc
	assert_failure 126
}

# ---- environment ----

@test "run: the image Env is set (PATH)" {
	run mrun "$IMG" /bin/sh -c 'echo "$PATH"'
	assert_success
	assert_output --partial "/bin"
}

@test "run: -e adds variables and overrides image Env per key, once" {
	run mrun -e FOO=bar -e PATH=/bin:/custom "$IMG" /bin/env
	assert_success
	assert_line "FOO=bar"
	assert_line "PATH=/bin:/custom"
	[[ $(grep -c '^PATH=' <<<"$output") -eq 1 ]] || fail "PATH twice: $output"
}

@test "run: no host environment leaks in" {
	MOAT_LEAK_CHECK=host-secret run mrun "$IMG" /bin/env
	assert_success
	refute_output --partial "host-secret"
	refute_output --partial "MOAT_ROOT"
}

# ---- working directory ----

@test "run: -w sets the working directory" {
	run mrun -w /etc "$IMG" pwd
	assert_success
	assert_output "/etc"
}

@test "run: -w creates a missing directory (Docker behaviour)" {
	run mrun -w /new/work/dir "$IMG" pwd
	assert_success
	assert_output "/new/work/dir"
}

# ---- users ----

@test "run: -u root" {
	run mrun -u root "$IMG" id -u
	assert_success
	assert_output "0"
}

@test "run: -u 1000, -u moat, -u nobody, -u 1000:100 in a mapped range" {
	# the default identity maps 65,536 ids (root: 0x7fff0000.., rootless
	# with subuid: the caller + /etc/subuid); single mode is tested below
	run mrun -u 1000 "$IMG" id -u
	assert_success
	assert_output "1000"
	run mrun -u moat "$IMG" sh -c 'id -u; id -g'
	assert_success
	assert_output $'1000\n1000'
	run mrun -u nobody "$IMG" id -u
	assert_success
	assert_output "65534"
	run mrun -u 1000:100 "$IMG" sh -c 'id -u; id -g'
	assert_success
	assert_output $'1000\n100'
}

@test "run: a non-root user has no effective capabilities, same bounding set" {
	run mrun -u 1000 "$IMG" /probe status
	assert_success
	[[ $(status_value CapEff) == "$CAPS_NONE" ]] || fail "CapEff $(status_value CapEff)"
	[[ $(status_value CapPrm) == "$CAPS_NONE" ]] || fail "CapPrm $(status_value CapPrm)"
	[[ $(status_value CapBnd) == "$CAPS_DEFAULT" ]] || fail "CapBnd $(status_value CapBnd)"
}

@test "run: -u of an unmapped user in single mode: 125 naming the user namespace" {
	is_rootless || skip "single mode is a rootless identity"
	run mrun --userns single -u root "$IMG" id -u
	assert_success
	assert_output "0"
	local u
	for u in 1000 nobody; do
		run --separate-stderr mrun --userns single -u "$u" "$IMG" id -u
		assert_failure 125
		assert_one_error_line
		[[ $stderr == *"user namespace"* ]] || fail "-u $u: $stderr"
	done
}

@test "run: -u of a user the image does not have: 125" {
	run --separate-stderr mrun -u no-such-user "$IMG" id -u
	assert_failure 125
	assert_one_error_line
}

# ---- entrypoint, hostname ----

@test "run: --entrypoint replaces the entrypoint and drops the image Cmd" {
	run mrun --entrypoint /probe "$IMG" pid
	assert_success
	assert_output "pid: 1"
	# image Cmd is ["/bin/sh"]: kept, echo would print it
	run mrun --entrypoint /bin/echo "$IMG"
	assert_success
	assert_output ""
}

@test "run: --hostname sets the UTS name and /etc/hostname" {
	run mrun --hostname box1 "$IMG" sh -c 'hostname; cat /etc/hostname'
	assert_success
	assert_output $'box1\nbox1'
}

@test "run: the default hostname is not the host's" {
	run mrun "$IMG" hostname
	assert_success
	refute_output "$(hostname)"
	[[ -n $output ]] || fail "empty hostname"
}

@test "run: /etc/hosts, /etc/hostname and /etc/resolv.conf are generated" {
	run mrun --hostname box2 "$IMG" sh -c 'cat /etc/hosts; echo ---; cat /etc/resolv.conf'
	assert_success
	assert_output --partial "127.0.0.1"
	assert_output --partial "box2"
	assert_output --partial "---"
}

# ---- rootfs ----

@test "run: the rootfs is writable by default and changes do not persist" {
	run mrun "$IMG" /probe write /etc/written
	assert_success
	run mrun "$IMG" /probe read /etc/written
	assert_failure
	assert_output --partial "ENOENT"
}

@test "run: --read-only makes the rootfs EROFS; /dev/shm stays writable" {
	run mrun --read-only "$IMG" /probe write /etc/x
	assert_failure
	assert_output "write /etc/x EROFS"
	run mrun --read-only "$IMG" /probe write /dev/shm/x
	assert_success
	# and the control: without --read-only the same write works
	run mrun "$IMG" /probe write /etc/x
	assert_success
}

# ---- init ----

@test "run: --init runs an init as PID 1 that reaps orphans" {
	run mrun --init "$IMG" /probe pid
	assert_success
	refute_output "pid: 1"
	run mrun --init "$IMG" /probe zombies
	assert_success
	assert_output "zombies: 0"
}

@test "run: without --init, the command is PID 1 and orphans stay zombies" {
	# the control for the test above: the probe can see a zombie
	run mrun "$IMG" /probe zombies
	assert_failure
	assert_output "zombies: 1"
}

# ---- stdio ----

@test "run: -i forwards stdin" {
	run bash -c "echo hi | $(moat_cmdline run --rm -i "$IMG" cat)"
	assert_success
	assert_output "hi"
}

@test "run: without -i the container's stdin is empty" {
	run bash -c "echo hi | $(moat_cmdline run --rm "$IMG" cat)"
	assert_success
	assert_output ""
}

@test "run: -t gives the container its own pty as controlling terminal" {
	run script -qec "$(moat_cmdline run --rm -t "$IMG" /probe tty)" /dev/null
	assert_success
	strip_cr
	assert_line --regexp '^fd0: tty /dev/pts/[0-9]+$'
	assert_line --regexp '^fd1: tty /dev/pts/[0-9]+$'
	assert_line "ctty: yes"
}

@test "run: -t: the caller's window size reaches the container's pty" {
	run script -qec "stty rows 33 cols 111; $(moat_cmdline run --rm -t "$IMG" stty size)" /dev/null
	assert_success
	strip_cr
	assert_line "33 111"
}

@test "run: -it: the caller's terminal settings are restored on exit" {
	run script -qec "stty -g >\"$MOAT_T/scratch/before\"; $(moat_cmdline run --rm -it "$IMG" true); stty -g >\"$MOAT_T/scratch/after\"" /dev/null </dev/null
	assert_success
	[[ -s $MOAT_T/scratch/before ]] || fail "no terminal settings recorded"
	# moat puts the terminal in raw mode for -it on a tty (stdin here is
	# script's pty), so a missing restore shows up as a difference.
	diff "$MOAT_T/scratch/before" "$MOAT_T/scratch/after" || fail "terminal settings changed"
}

@test "run: -t exit status still passes through" {
	run script -qec "$(moat_cmdline run --rm -t "$IMG" sh -c 'exit 7')" /dev/null
	assert_failure 7
}

@test "run: --security-opt apparmor=PROFILE where AppArmor is not active: 125, says so" {
	if grep -qs apparmor /sys/kernel/security/lsm; then
		skip "AppArmor is active on this host"
	fi
	run --separate-stderr mrun --security-opt apparmor=moat-default "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"AppArmor is not active"* ]] || fail "stderr: $stderr"
	# apparmor=unconfined is no request at all
	run mrun --security-opt apparmor=unconfined "$IMG" true
	assert_success
}
