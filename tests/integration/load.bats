#!/usr/bin/env bats
# `moat load -i`: a good image tar, and the tar/whiteout/manifest attacks of
# security-bar.md §1 (tar/whiteout class, CVE-2021-29136, CVE-2021-21285):
# each is refused with exit 125 and one line, the store is unchanged and
# the host path the attack aims at is untouched.
#
# The "victim" is a world-writable host dir, so that a broken extractor
# really could write there whichever uid it runs as: the tests can fail.

load ../lib/helpers

setup() {
	VICTIM=$MOAT_T/victim/$BATS_TEST_NUMBER
	install -d -m 0777 "$VICTIM"
	echo "host secret" >"$VICTIM/secret"
	echo "keep me" >"$VICTIM/target"
	chmod 0666 "$VICTIM/secret" "$VICTIM/target"
}

# The host side of the victim dir is exactly what setup() made.
assert_victim_untouched() {
	local listing
	listing=$(cd "$VICTIM" && find . -mindepth 1 | sort | tr '\n' ' ')
	[[ $listing == "./secret ./target " ]] || fail "victim dir changed: $listing"
	[[ $(cat "$VICTIM/secret") == "host secret" ]] || fail "secret modified"
	[[ $(stat -c %h "$VICTIM/secret") -eq 1 ]] || fail "secret gained a hard link"
	[[ $(cat "$VICTIM/target") == "keep me" ]] || fail "target modified"
	[[ ! -e $MOAT_T/victim/x && ! -e $MOAT_T/x ]] || fail "a ../x landed on the host"
}

# `moat images` without columns that change by themselves ("2 seconds ago").
images_brief() { moat_as images | awk '{ print $1, $2, $3 }'; }

# load_refused TAR: exit 125, one line on stderr, store and images unchanged.
load_refused() {
	local before_images before_files
	before_images=$(images_brief)
	before_files=$(store_files)
	run --separate-stderr moat_as load --trust-local -i "$1"
	assert_failure 125
	assert_one_error_line
	[[ $(images_brief) == "$before_images" ]] ||
		fail "moat images changed: $(diff <(echo "$before_images") <(images_brief))"
	[[ $(store_files) == "$before_files" ]] ||
		fail "files left in the store: $(diff <(echo "$before_files") <(store_files))"
	assert_victim_untouched
}

@test "load: a docker-save style OCI tar loads, lists and runs" {
	local tar
	tar=$(mkimage good.tar --name loadtest --tag v1 --file "$PROBE:/probe")
	run moat_as load --trust-local -i "$tar"
	assert_success
	run moat_as images
	assert_success
	assert_output --partial loadtest
	run mrun loadtest:v1 /probe pid
	assert_success
	assert_output "pid: 1"
	run mrun loadtest:v1 sh -c 'echo from-loaded-image'
	assert_success
	assert_output "from-loaded-image"
}

@test "load: gzip layers load too" {
	local tar
	tar=$(mkimage gz.tar --name loadgz --tag v1 --gzip)
	run moat_as load --trust-local -i "$tar"
	assert_success
	run mrun loadgz:v1 echo ok
	assert_success
	assert_output "ok"
}

@test "rmi: removes the image; running it is then 'no such image'" {
	local tar
	tar=$(mkimage rm.tar --name loadrm --tag v1)
	moat_as load --trust-local -i "$tar"
	run moat_as rmi loadrm:v1
	assert_success
	run moat_as images
	refute_output --partial loadrm
	run --separate-stderr mrun loadrm:v1 true
	assert_failure 125
	[[ $stderr == *"no such image"* ]] || fail "$stderr"
}

@test "load refuses: a layer entry ../../..victim (dotdot)" {
	load_refused "$(mkimage e.tar --evil dotdot --victim "$VICTIM")"
}

@test "load refuses: a layer entry ../x" {
	load_refused "$(mkimage e.tar --evil dotdot-plain --victim "$VICTIM")"
}

@test "load refuses: an absolute path in a layer" {
	load_refused "$(mkimage e.tar --evil absolute --victim "$VICTIM")"
}

@test "load refuses: a hard link to ../../host/file" {
	load_refused "$(mkimage e.tar --evil hardlink-out --victim "$VICTIM")"
}

@test "load refuses: a hard link to an absolute host path" {
	load_refused "$(mkimage e.tar --evil hardlink-abs --victim "$VICTIM")"
}

@test "load refuses: a whiteout through a symlink (wh -> host dir, wh/.wh.target)" {
	load_refused "$(mkimage e.tar --evil whiteout-symlink --victim "$VICTIM")"
}

@test "load refuses: an entry '.' that is a symlink (CVE-2021-29136)" {
	load_refused "$(mkimage e.tar --evil symlink-dot --victim "$VICTIM")"
}

@test "load: a file written through an absolute symlink stays inside the image" {
	# lnk -> /host/victim in layer 1, lnk/planted in layer 2.  Resolved
	# inside the root this is either refused or lands in the image; the
	# one wrong outcome is a file on the host.
	run moat_as load --trust-local -i "$(mkimage e.tar --evil symlink-write --victim "$VICTIM" --file "$PROBE:/probe")"
	[[ $status -eq 0 || $status -eq 125 ]] || fail "exit $status: $output"
	assert_victim_untouched
	if [[ $status -eq 0 ]]; then
		run mrun loadtest:latest /probe read "$VICTIM/secret"
		assert_failure
	fi
}

@test "load refuses: a blob whose bytes do not match its digest" {
	load_refused "$(mkimage e.tar --evil bad-digest --victim "$VICTIM")"
}

@test "load refuses: malformed index.json" {
	load_refused "$(mkimage e.tar --evil bad-json --victim "$VICTIM")"
}

@test "load refuses: a truncated manifest stored under its own digest" {
	load_refused "$(mkimage e.tar --evil bad-manifest-json --victim "$VICTIM")"
}

@test "load refuses: a 16 MiB config" {
	load_refused "$(mkimage e.tar --evil big-config --victim "$VICTIM")"
}

@test "load refuses: a file that is not a tar at all" {
	head -c 4096 /dev/urandom >"$MOAT_T/scratch/garbage.tar"
	chmod 0644 "$MOAT_T/scratch/garbage.tar"
	load_refused "$MOAT_T/scratch/garbage.tar"
}

@test "load: a missing input file is 125 with one line" {
	run --separate-stderr moat_as load --trust-local -i "$MOAT_T/scratch/does-not-exist.tar"
	assert_failure 125
	assert_one_error_line
}
