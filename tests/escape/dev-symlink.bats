#!/usr/bin/env bats
# CVE-2026-41579 / CVE-2026-47766 (runc / crun): an image whose /dev is a
# symlink redirects ptmx and device-node setup to the host.  With
# /dev -> /tmp/victim (an absolute host path, world-writable so that any
# uid could be made to write there), moat refuses the image (125) and the
# host directory stays empty.

load ../lib/helpers

setup() {
	VICTIM=$MOAT_T/victim/dev-$BATS_TEST_NUMBER
	install -d -m 0777 "$VICTIM"
}

try_image() {
	local name=$1
	shift
	mkimage "$name.tar" --name "$name" --tag v1 "$@" >/dev/null
	if moat_as load --trust-local -i "$MOAT_T/scratch/$name.tar"; then
		run --separate-stderr mrun "$name:v1" true
		assert_failure 125
		assert_one_error_line
		# -t exercises ptmx and console setup, the paths this CVE abused
		run script -qec "$(moat_cmdline run --rm -t "$name:v1" true)" /dev/null
		assert_failure 125
	else
		run --separate-stderr moat_as load --trust-local -i "$MOAT_T/scratch/$name.tar"
		assert_failure 125
	fi
	[[ -z $(ls -A "$VICTIM") ]] || fail "host dir gained: $(ls -A "$VICTIM")"
}

@test "dev-symlink: /dev -> host dir: refused, host untouched" {
	try_image devhost --symlink dev="$VICTIM"
}

@test "dev-symlink: /dev -> ../../host dir (relative): refused, host untouched" {
	try_image devrel --symlink dev="../../../../../../..$VICTIM"
}

@test "dev-symlink: /dev -> /tmp inside the image: refused" {
	try_image devtmp --symlink dev=/tmp
}

@test "dev-symlink: control: the victim dir really is writable by container uids" {
	# otherwise "host untouched" above would prove nothing
	local u
	u=$(host_uid_of_container_root)
	run setpriv --reuid="$u" --regid="$u" --clear-groups "$PROBE" write "$VICTIM/probe"
	assert_success
	rm -f "$VICTIM/probe"
}
