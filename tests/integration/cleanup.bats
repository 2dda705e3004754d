#!/usr/bin/env bats
# Nothing is left behind, whatever way a run ends.  Every test here also
# passes through the teardown check (helpers.bash: mounts mentioning the
# state dir, moat and container processes, container state); the explicit
# check in the body makes the test about exactly that.

load ../lib/helpers

@test "cleanup: after exit 0, 3, 126, 127" {
	mrun "$IMG" true
	moat_check_clean
	mrun "$IMG" sh -c 'exit 3' || true
	moat_check_clean
	mrun "$IMG" /etc/passwd || true
	moat_check_clean
	mrun "$IMG" /no/such/command || true
	moat_check_clean
}

@test "cleanup: after moat's own errors (125)" {
	mrun no-such-image-xyz true || true
	moat_check_clean
	moat_as run --rm --no-such-flag "$IMG" true || true
	moat_check_clean
	mrun -u no-such-user "$IMG" true || true
	moat_check_clean
	mrun --security-opt seccomp="$MOAT_T/scratch/no-such-profile.json" "$IMG" true || true
	moat_check_clean
}

@test "cleanup: a refused image (/proc is a symlink) leaves nothing" {
	local tar
	tar=$(mkimage procsym.tar --name procsym --tag v1 --symlink proc=/x)
	moat_as load --trust-local -i "$tar" || true
	run mrun procsym:v1 true
	assert_failure 125
	moat_check_clean
}

@test "cleanup: after the container is SIGKILLed from the host" {
	local mk pid
	mk=$(marker)
	mrun "$IMG" /probe sleep 30 "$mk" 3>&- &
	local bg=$!
	pid=$(wait_for_pid /probe "$mk" 10) || fail "container never started"
	kill -KILL "$pid"
	wait "$bg" || true
	moat_check_clean
}

@test "cleanup: with --init, after the child is killed inside" {
	mrun --init "$IMG" sh -c 'kill -KILL $$' || true
	moat_check_clean
}

@test "cleanup: -t run that fails" {
	script -qec "$(moat_cmdline run --rm -t "$IMG" sh -c 'exit 9')" /dev/null || true
	moat_check_clean
}

@test "cleanup: three containers at once" {
	local i pids=()
	for i in 1 2 3; do
		mrun "$IMG" /probe sleep 1 3>&- &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "a concurrent run failed"
	done
	moat_check_clean
}

@test "cleanup: the monitor SIGKILLed: the container dies with it, the next run reconciles" {
	# A monitor that dies must not leave an unsupervised container running;
	# its state is reconciled by the next moat command (design: "every
	# command reconciles state left by a crashed one").
	local mk mon i
	mk=$(marker)
	mrun "$IMG" /probe sleep 60 "$mk" 3>&- &
	local bg=$!
	wait_for_pid /probe "$mk" 10 >/dev/null || fail "container never started"
	mon=$(pids_with_arg "$MOAT" "$mk" | head -n 1)
	[[ -n $mon ]] || fail "no monitor process found"
	kill -KILL "$mon"
	wait "$bg" || true
	for ((i = 0; i < 50; i++)); do
		[[ -z $(pids_with_arg /probe "$mk") ]] && break
		sleep 0.1
	done
	[[ -z $(pids_with_arg /probe "$mk") ]] || fail "the container outlived its monitor"
	mrun "$IMG" true
	moat_check_clean
}
