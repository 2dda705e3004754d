#!/usr/bin/env bats
# Path resolution beneath the container root has two implementations:
# openat2(RESOLVE_IN_ROOT) and, where the kernel or a filter lacks it, a
# component walk that resolves symlinks itself (common/fs.c). Every mount
# target inside the container goes through it. These tests run the same
# attacks with the walk forced (MOAT_NO_OPENAT2=1); the unit tests in
# tests/unit/test_common.c hold both implementations to the same cases.

load ../lib/helpers

setup() {
	VICTIM=$MOAT_T/victim/fb-$BATS_TEST_NUMBER
	install -d -m 0777 "$VICTIM"
}

@test "fallback: walk: the whole confinement is still in place" {
	MOAT_NO_OPENAT2=1 run mrun "$IMG" /probe status
	assert_success
	[[ $(status_value NoNewPrivs) == 1 ]] || fail "NoNewPrivs=$(status_value NoNewPrivs)"
	[[ $(status_value Seccomp) == 2 ]] || fail "Seccomp=$(status_value Seccomp)"
	[[ $(status_value Landlock) == enforced ]] || fail "Landlock=$(status_value Landlock)"
}

@test "fallback: walk: a symlinked /proc is still refused" {
	mkimage procln.tar --name procln --tag v1 --symlink proc="$VICTIM" >/dev/null
	moat_as load --trust-local -i "$MOAT_T/scratch/procln.tar" >/dev/null
	MOAT_NO_OPENAT2=1 run --separate-stderr mrun procln:v1 true
	assert_failure 125
	[[ $stderr == *"/proc is a symlink"* ]] || fail "stderr: $stderr"
	[[ -z $(ls -A "$VICTIM") ]] || fail "host dir gained: $(ls -A "$VICTIM")"
}

@test "fallback: control: the victim dir really is writable by container root" {
	local u
	u=$(host_uid_of_container_root)
	run setpriv --reuid="$u" --regid="$u" --clear-groups "$PROBE" write "$VICTIM/probe"
	assert_success
	rm -f "$VICTIM/probe"
}
