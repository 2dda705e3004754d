#!/usr/bin/env bats
# The rootfs through fuse-overlayfs, the fallback for kernels that refuse
# overlayfs in a user namespace (this kernel accepts it, so MOAT_OVERLAY=fuse
# forces the fallback). Rootless only: root always has the kernel's.
#
# /dev/fuse is 0600 on this machine; the setup (root) opens it to everyone
# for the duration of this file and restores its mode afterwards, as a
# distribution's default (0666) would have it.

load ../lib/helpers

setup_file() {
	moat_setup_file
	FUSE_MODE=$(stat -c %a /dev/fuse 2>/dev/null || echo none)
	export FUSE_MODE
	[[ $FUSE_MODE == none ]] || chmod 0666 /dev/fuse
}

teardown_file() {
	[[ $FUSE_MODE == none ]] || chmod "$FUSE_MODE" /dev/fuse
	moat_teardown_file
}

setup() {
	is_rootless || skip "fuse-overlayfs is the rootless fallback; root always has the kernel's overlayfs"
	command -v fuse-overlayfs >/dev/null || skip "fuse-overlayfs is not installed"
	[[ $FUSE_MODE != none ]] || skip "no /dev/fuse on this host"
}

teardown() {
	moat_check_clean
	if pgrep -u "$MOAT_TEST_USER" -f "fuse-overlayfs -f" >/dev/null; then
		pkill -9 -u "$MOAT_TEST_USER" -f "fuse-overlayfs -f"
		fail "a fuse-overlayfs helper outlived its container"
	fi
}

@test "fuse: MOAT_OVERLAY=fuse mounts the rootfs with fuse-overlayfs" {
	MOAT_OVERLAY=fuse run mrun "$IMG" sh -c 'grep " / " /proc/self/mountinfo; echo data >/etc/new; cat /etc/new'
	assert_success
	assert_line --partial "fuse.fuse-overlayfs"
	assert_line "data"
	# control: the default is the kernel's overlayfs
	run mrun "$IMG" grep " / " /proc/self/mountinfo
	assert_success
	assert_output --partial " - overlay "
}

@test "fuse: the confinement is the same" {
	MOAT_OVERLAY=fuse run mrun "$IMG" /probe status
	assert_success
	[[ $(status_value NoNewPrivs) == 1 ]] || fail "NoNewPrivs=$(status_value NoNewPrivs)"
	[[ $(status_value Seccomp) == 2 ]] || fail "Seccomp=$(status_value Seccomp)"
	[[ $(status_value Landlock) == enforced ]] || fail "Landlock=$(status_value Landlock)"
}

@test "fuse: the daemon is outside the container's pid namespace" {
	MOAT_OVERLAY=fuse run mrun "$IMG" sh -c 'for p in /proc/[0-9]*; do cat $p/comm; done'
	assert_success
	refute_output --partial "fuse-overlayfs"
}

@test "fuse: image layers and the container's changes are both visible" {
	MOAT_OVERLAY=fuse run mrun "$IMG" sh -c 'test -x /bin/busybox && rm /bin/true && ! test -e /bin/true && echo ok'
	assert_success
	assert_output "ok"
	# the image itself is unchanged
	run mrun "$IMG" test -e /bin/true
	assert_success
}

@test "fuse: /dev/fuse unusable: 125, one line, nothing left" {
	chmod 0600 /dev/fuse
	MOAT_OVERLAY=fuse run --separate-stderr mrun "$IMG" true
	chmod 0666 /dev/fuse
	assert_failure 125
	[[ $stderr == *"moat: fuse-overlayfs"* ]] || fail "stderr: $stderr"
}
