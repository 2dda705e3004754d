#!/usr/bin/env bats
# A bind source swapped while the container starts (the bind-source half
# of the CVE-2021-30465 / CVE-2018-15664 class): the host-side attacker
# (the identity under test itself, in a directory it owns) swaps the
# source of `-v SRC:/x` between a real directory and a symlink to /etc,
# or renames other directories over it, in a loop, while containers start
# again and again.
#
# moat opens the source O_PATH|O_NOFOLLOW, reads its real path back from
# the fd, checks the tenant policy on that path, and the container's setup
# child re-opens the real path with RESOLVE_NO_SYMLINKS and refuses any
# other inode (engine/mounts.c, sandbox/mounts.c).  So every start either
# is refused (exit 125, nothing runs) or the container sees the directory
# that was at SRC, whole; never the host's /etc, never a directory outside
# the tree a tenant policy allows.  The last test asks more of a refusal:
# one "moat: " line that names the cause (a symlink, a replaced source).
#
# The racer is tests/escape/helpers/storage-attack.c (renameat2
# RENAME_EXCHANGE), run on the host as the identity under test.

load ../lib/helpers
load ../lib/storage

N=200      # starts per race
N_DIAG=100 # starts for the error-message check

setup_file() {
	moat_setup_file || return 1
	storage_helper_build || return 1
}

setup() {
	W=$(as_identity mktemp -d "$MOAT_T/scratch/bsr.XXXXXX")
	chmod 0755 "$W"
	TOK=$RANDOM$RANDOM
	as_identity mkdir "$W/src" "$W/fake" "$W/p" "$W/p/src"
	as_identity sh -c "echo REAL-$TOK >'$W/src/marker'; echo REAL-$TOK >'$W/p/src/marker'"
	as_identity sh -c "echo FAKE-$TOK >'$W/fake/marker'; echo 'root:x:0:0:fake:/:/bin/sh' >'$W/fake/passwd'"
	as_identity ln -s /etc "$W/lnk"
	# a host directory outside the allowed tree, and a link to it
	OUT=$MOAT_T/victim/out$BATS_TEST_NUMBER
	install -d -m 0755 "$OUT" "$OUT/src"
	echo "SECRET-$TOK" >"$OUT/src/marker"
	chmod 0644 "$OUT/src/marker"
	as_identity ln -s "$OUT" "$W/plink"
	POLICY=$MOAT_T/scratch/policy$BATS_TEST_NUMBER.json
	printf '{"default": {"bindMounts": {"allow": ["%s"]}}}\n' "$(realpath "$W")" >"$POLICY"
	chmod 0644 "$POLICY"
	RACER_PID=
}

teardown() {
	if [[ -n $RACER_PID ]]; then
		touch "$W/.stop"
		wait "$RACER_PID" 2>/dev/null || true
	fi
	rm -rf -- "$W" "$OUT" "$POLICY"
	moat_check_clean
}

# What a container prints about /x: its marker and its listing.
SHOW='cat /x/marker 2>&1; ls -A /x | tr "\n" " "'

# What the host's /etc looks like from there (for the detector).
looks_like_host_etc() {
	[[ $1 == *os-release* || $1 == *debian_version* || $1 == *hostname\ * || $1 == *passwd\ *group* ]]
}

# racer_start A B: the identity under test swaps W/A and W/B until
# racer_stop.
racer_start() {
	local k
	as_identity "$MOAT_T/bin/sa" exchange "$W" "$1" "$2" 900 >"$W/.racer.out" 2>&1 3>&- &
	RACER_PID=$!
	for ((k = 0; k < 100; k++)); do
		[[ -e $W/.ready ]] && return 0
		sleep 0.05
	done
	fail "the racer never got going: $(cat "$W/.racer.out")"
}

# racer_stop: stops it, fails unless it swapped; sets SWAPS.
racer_stop() {
	kill -0 "$RACER_PID" 2>/dev/null || fail "the racer died: $(cat "$W/.racer.out")"
	touch "$W/.stop"
	wait "$RACER_PID" || fail "the racer failed: $(cat "$W/.racer.out")"
	RACER_PID=
	SWAPS=$(sed -n 's/^swaps: //p' "$W/.racer.out")
	rm -f "$W/.stop" "$W/.ready"
	[[ ${SWAPS:-0} -gt 0 ]] || fail "the racer never swapped"
}

# race_loop N ALLOWED... -- MOAT-ARGS...: N starts; each must print one
# of the ALLOWED outputs or fail cleanly.  Sets SEEN (counts per output
# kind) and FAILS (counts per message).
race_loop() {
	local n=$1 k a ok t0
	shift
	local -a allowed=()
	while [[ $1 != -- ]]; do
		allowed+=("$1")
		shift
	done
	shift
	declare -gA SEEN=() FAILS=()
	t0=$SECONDS
	for ((k = 0; k < n; k++)); do
		run --separate-stderr "$@"
		if [[ $status -ne 0 ]]; then
			# a refusal: nothing ran; whether it says why is the
			# last test's business
			[[ $status -eq 125 ]] || fail "start $k exited $status: $output $stderr"
			[[ -z $output ]] || fail "start $k failed but its container ran: $output"
			a=${stderr:-(exit 125, nothing on stderr)}
			FAILS[$a]=$((${FAILS[$a]:-0} + 1))
			continue
		fi
		looks_like_host_etc "$output" && fail "start $k: the container saw the host's /etc: $output"
		ok=
		for a in "${allowed[@]}"; do
			[[ $output == "$a" ]] && ok=$a
		done
		[[ -n $ok ]] || fail "start $k: the container saw neither of the allowed trees: $output"
		SEEN[$ok]=$((${SEEN[$ok]:-0} + 1))
	done
	echo "# $n starts in $((SECONDS - t0))s" >&3
	for a in "${!SEEN[@]}"; do
		echo "#   saw x${SEEN[$a]}: $a" >&3
	done
	for a in "${!FAILS[@]}"; do
		echo "#   failed x${FAILS[$a]}: $a" >&3
	done
}

@test "bind-source: control: real dir seen, symlink source refused, follow-symlink and policy behave" {
	run --separate-stderr mrun -v "$W/src:/x" "$IMG" sh -c "$SHOW"
	assert_success
	assert_output "REAL-$TOK"$'\n'"marker "
	# the source given as a symlink: refused, naming it
	run --separate-stderr mrun -v "$W/lnk:/x" "$IMG" sh -c "$SHOW"
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *symlink* ]] || fail "not refused as a symlink: $stderr"
	# asked for, the link is followed: the detector sees the host's /etc
	run --separate-stderr mrun -v "$W/lnk:/x:follow-symlink" "$IMG" sh -c "$SHOW"
	assert_success
	looks_like_host_etc "$output" || fail "the detector missed the host's /etc: $output"
	# a symlink in the middle of the path leads out of the allowed tree:
	# the policy, judging the real path, refuses; without it, it is seen
	run --separate-stderr moat_as --policy "$POLICY" run --rm -v "$W/plink/src:/x" "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"policy: default.bindMounts"* ]] || fail "not refused by the policy: $stderr"
	run --separate-stderr mrun -v "$W/plink/src:/x" "$IMG" sh -c "$SHOW"
	assert_success
	assert_output --partial "SECRET-$TOK"
}

@test "bind-source: src <-> symlink(/etc) race, $N starts: refused or the real dir, never /etc" {
	racer_start src lnk
	race_loop "$N" "REAL-$TOK"$'\n'"marker " -- mrun -v "$W/src:/x" "$IMG" sh -c "$SHOW"
	racer_stop
	echo "#   racer swaps: $SWAPS" >&3
	[[ ${SEEN["REAL-$TOK"$'\n'"marker "]:-0} -gt 0 ]] || fail "no start saw the real dir: the race proved nothing"
}

@test "bind-source: src <-> another dir with /etc-like content, $N starts: one whole tree or refused" {
	racer_start src fake
	race_loop "$N" "REAL-$TOK"$'\n'"marker " "FAKE-$TOK"$'\n'"marker passwd " -- \
		mrun -v "$W/src:/x" "$IMG" sh -c "$SHOW"
	racer_stop
	echo "#   racer swaps: $SWAPS" >&3
	[[ ${#SEEN[@]} -gt 0 ]] || fail "no start worked: the race proved nothing"
}

@test "bind-source: a parent directory <-> symlink out of the policy's tree, $N starts: refused or the real dir" {
	racer_start p plink
	race_loop "$N" "REAL-$TOK"$'\n'"marker " -- \
		moat_as --policy "$POLICY" run --rm -v "$W/p/src:/x" "$IMG" sh -c "$SHOW"
	racer_stop
	echo "#   racer swaps: $SWAPS" >&3
	[[ ${#SEEN[@]} -gt 0 ]] || fail "no start worked: the race proved nothing"
	[[ ${#FAILS[@]} -gt 0 ]] || fail "no start was refused: the race never hit"
}

@test "bind-source: under the race every refusal names its cause ($N_DIAG starts)" {
	local m bad=()
	racer_start src lnk
	race_loop "$N_DIAG" "REAL-$TOK"$'\n'"marker " -- mrun -v "$W/src:/x" "$IMG" sh -c "$SHOW"
	racer_stop
	for m in "${!FAILS[@]}"; do
		[[ $m == "moat: "* && $m != *$'\n'* ]] &&
			[[ $m == *symlink* || $m == *replaced* || $m == *"symbolic link"* ]] ||
			bad+=("x${FAILS[$m]}: $m")
	done
	[[ ${#bad[@]} -eq 0 ]] || fail "$(printf 'refusal without its cause %s\n' "${bad[@]}")"
}
