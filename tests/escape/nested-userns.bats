#!/usr/bin/env bats
# CVE-2022-0185 / CVE-2023-0386 / CVE-2021-22555 (kernel): bugs reached
# through a nested user namespace, where an unprivileged process becomes
# "root" of a new namespace and gets at filesystem and netfilter code.
# unshare(CLONE_NEWUSER) and clone(CLONE_NEWUSER) are EPERM in the
# container.
#
# Without the filter nested user namespaces may or may not be creatable
# (kernel limits, user.max_user_namespaces), so "works unconfined" is
# printed, not asserted; the probe's detection of a successful unshare is
# shown on the host, where it succeeds.

load ../lib/helpers

@test "nested-userns: unshare(CLONE_NEWUSER) is EPERM" {
	run mrun "$IMG" /probe try unshare-user
	assert_failure
	assert_output "unshare-user expected=EPERM actual=EPERM ok"
}

@test "nested-userns: clone(CLONE_NEWUSER) is EPERM" {
	run mrun "$IMG" /probe try clone-newuser
	assert_failure
	assert_output "clone-newuser expected=EPERM actual=EPERM ok"
}

@test "nested-userns: also as a non-root container user" {
	run mrun -u 1000 "$IMG" /probe try unshare-user
	assert_failure
	assert_output "unshare-user expected=EPERM actual=EPERM ok"
	run mrun -u 1000 "$IMG" /probe try clone-newuser
	assert_failure
	assert_output "clone-newuser expected=EPERM actual=EPERM ok"
}

@test "nested-userns: control: on the host as the same identity both succeed" {
	[[ $(cat /proc/sys/user/max_user_namespaces) -gt 0 ]] || skip "user namespaces are off on this host"
	run as_identity "$PROBE" try unshare-user
	assert_success
	run as_identity "$PROBE" try clone-newuser
	assert_success
}
