#!/usr/bin/env bats
# CVE-2022-24769 (moby) / CVE-2022-27649 (podman) / CVE-2022-27650 (crun) /
# CVE-2022-29162 (runc): non-empty inheritable capabilities let a file with
# inheritable file caps gain them across execve, even for a non-root user.
# CapInh = CapAmb = 0 always: by default, with --cap-add, as another user.
#
# The probe's detection of a non-zero set is shown on the host with setpriv
# (a process given an inheritable capability there fails the check).

load ../lib/helpers

assert_inh_amb_zero() {
	assert_success
	[[ $(status_value CapInh) == "$CAPS_NONE" ]] || fail "CapInh=$(status_value CapInh)"
	[[ $(status_value CapAmb) == "$CAPS_NONE" ]] || fail "CapAmb=$(status_value CapAmb)"
}

@test "caps: CapInh and CapAmb are 0 by default" {
	run mrun "$IMG" /probe status
	assert_inh_amb_zero
}

@test "caps: ... with --cap-add NET_RAW and SYS_PTRACE" {
	run mrun --cap-add NET_RAW --cap-add SYS_PTRACE "$IMG" /probe status
	assert_inh_amb_zero
}

@test "caps: ... as -u 1000 and -u nobody" {
	run mrun -u 1000 "$IMG" /probe status
	assert_inh_amb_zero
	run mrun -u nobody "$IMG" /probe status
	assert_inh_amb_zero
}

@test "caps: ... under --init, for the command and after exec chains" {
	run mrun --init "$IMG" sh -c 'exec /probe status'
	assert_inh_amb_zero
}

@test "caps: a non-root user gains nothing from execve" {
	run mrun -u 1000 "$IMG" sh -c '/probe status'
	assert_success
	[[ $(status_value CapEff) == "$CAPS_NONE" ]] || fail "CapEff=$(status_value CapEff)"
	[[ $(status_value CapPrm) == "$CAPS_NONE" ]] || fail "CapPrm=$(status_value CapPrm)"
}

@test "caps: control: the probe flags a non-zero inheritable set" {
	run setpriv --inh-caps=+net_raw -- "$PROBE" try cap-inh
	assert_output --regexp 'cap-inh expected=0 actual=0*2000 FAIL'
}

@test "caps: the bounding set has no SYS_ADMIN, NET_RAW, MKNOD, SYS_PTRACE, SYS_MODULE" {
	run mrun "$IMG" /probe status
	assert_success
	local bnd=$((16#$(status_value CapBnd)))
	local c
	for c in 21 13 27 19 16; do
		(((bnd >> c) & 1)) && fail "capability $c in the bounding set"
	done
	return 0
}
