#!/usr/bin/env bats
# Kernel surfaces a container has no business reaching (security-bar.md §1
# "keyctl, io_uring, userfaultfd, bpf, perf, open_by_handle_at"): keyrings
# are not namespaced, io_uring and userfaultfd are LPE and race helpers,
# bpf and perf are large attack surfaces, open_by_handle_at is "shocker",
# kexec and modules replace the kernel.  Each is EPERM.
#
# Without the filter (safe, and really different on this host): keyctl
# reads the session keyring id; io_uring_setup makes a 1-entry ring;
# userfaultfd(UFFD_USER_MODE_ONLY) makes an fd; each is closed at once.
# bpf, perf, open_by_handle_at, kexec_load and init_module are also denied
# by capabilities or sysctls, so unconfined they fail with another errno:
# that is checked as "not the filter's EPERM" where the kernel's answer is
# known to differ, and not at all where it could coincide.

load ../lib/helpers

@test "surfaces: keyctl, add_key, request_key, bpf, userfaultfd, io_uring, perf, open_by_handle_at, kexec_load, init_module are EPERM" {
	local op bad=""
	run mrun "$IMG" /probe deny
	for op in keyctl add-key request-key bpf userfaultfd io-uring-setup perf-event-open \
		open-by-handle-at kexec-load init-module; do
		[[ $(probe_actual "$op") == EPERM ]] || bad+=" $op=$(probe_actual "$op")"
	done
	[[ -z $bad ]] || fail "not EPERM:$bad"
}

@test "surfaces: the same for a non-root container user" {
	local op bad=""
	run mrun -u 1000 "$IMG" /probe deny
	for op in keyctl add-key request-key bpf userfaultfd io-uring-setup perf-event-open \
		open-by-handle-at; do
		[[ $(probe_actual "$op") == EPERM ]] || bad+=" $op=$(probe_actual "$op")"
	done
	[[ -z $bad ]] || fail "not EPERM:$bad"
}

@test "surfaces: unconfined, keyctl works (the filter is what stops it)" {
	run mrun --security-opt seccomp=unconfined "$IMG" /probe try keyctl
	assert_success
}

@test "surfaces: unconfined, io_uring_setup works" {
	[[ $(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0) == 0 ]] ||
		skip "kernel.io_uring_disabled is set on this host"
	run mrun --security-opt seccomp=unconfined "$IMG" /probe try io-uring-setup
	assert_success
}

@test "surfaces: unconfined, userfaultfd (user-mode only) works" {
	run mrun --security-opt seccomp=unconfined "$IMG" /probe try userfaultfd
	assert_success
}

@test "surfaces: unconfined, add_key/request_key reach the kernel (EFAULT, not EPERM)" {
	run mrun --security-opt seccomp=unconfined "$IMG" /probe try add-key
	assert_output --partial "actual=EFAULT"
	run mrun --security-opt seccomp=unconfined "$IMG" /probe try request-key
	assert_output --partial "actual=EFAULT"
}

@test "surfaces: unknown syscall numbers are ENOSYS" {
	run mrun "$IMG" /probe try unknown-syscall
	assert_output "unknown-syscall expected=ENOSYS actual=ENOSYS ok"
}
