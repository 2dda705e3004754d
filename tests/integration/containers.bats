#!/usr/bin/env bats
# Containers kept after `moat run` without --rm (Docker's default): listed
# by `moat ps`, removed by `moat rm`, with nothing left behind.

load ../lib/helpers

@test "ps/rm: a run without --rm is kept, listed with its exit code, and removed" {
	run moat_as run "$IMG" sh -c 'exit 4'
	assert_failure 4
	run moat_as ps -a
	assert_success
	assert_line --regexp "^[0-9a-f]{12} +$IMG +\"sh -c 'exit 4'\" .*   Exited \(4\) (Less than a second|[0-9]+ seconds?) ago"
	# without -a only running containers are listed
	run moat_as ps -q
	assert_output ""
	local id
	id=$(moat_as ps -aq)
	[[ $id =~ ^[0-9a-f]{12}$ ]] || fail "ps -q printed '$id'"
	run moat_as rm "${id:0:6}"
	assert_success
	assert_output "${id:0:6}"
	run moat_as ps -aq
	assert_output ""
	[[ -z $(ls -A "$MOAT_STATE/root/containers") ]] || fail "left: $(ls -A "$MOAT_STATE/root/containers")"
}

@test "ps/rm: the container's own changes go with it (also files of other container users)" {
	run moat_as run "$IMG" sh -c 'touch /etc/by-root && mkdir /tmp/d && touch /tmp/d/f'
	assert_success
	if ! is_rootless || [[ $(moat_as info) == *subordinate* ]]; then
		run moat_as run -u 1000 "$IMG" touch /tmp/by-1000
		assert_success
	fi
	local id
	for id in $(moat_as ps -aq --no-trunc); do
		run moat_as rm "$id"
		assert_success
	done
	[[ -z $(ls -A "$MOAT_STATE/root/containers") ]] || fail "left: $(ls -A "$MOAT_STATE/root/containers")"
}

@test "ps/rm: a running container is listed as Up and cannot be removed without -f" {
	local mk pid id name
	mk=$(marker)
	moat_as run "$IMG" /probe sleep 30 "$mk" 3>&- &
	local bg=$!
	pid=$(wait_for_pid /probe "$mk" 10) || { kill "$bg"; fail "container never started"; }
	run moat_as ps
	assert_line --regexp "   Up (Less than a second|[0-9]+ seconds?)"
	id=$(moat_as ps -q)
	name=$(jq -r .name "$MOAT_STATE"/root/containers/"$id"*/container.json)
	run --separate-stderr moat_as rm "$id"
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: cannot remove container \"$name\": container is running: stop the container before removing or force remove" ]] ||
		fail "stderr: $stderr"
	[[ -e /proc/$pid ]] || fail "the refused rm stopped it"
	kill -KILL "$pid"
	wait "$bg" || true
	run moat_as ps -a
	assert_line --regexp "   Exited \(137\) (Less than a second|[0-9]+ seconds?) ago"
	moat_as rm "$id" >/dev/null
}

@test "ps/rm: a container whose monitor was killed shows Exited (unknown) and can be removed" {
	local mk mon id
	mk=$(marker)
	moat_as run "$IMG" /probe sleep 30 "$mk" 3>&- &
	local bg=$!
	wait_for_pid /probe "$mk" 10 >/dev/null || { kill "$bg"; fail "container never started"; }
	mon=$(pids_with_arg "$MOAT" "$mk" | head -n 1)
	[[ -n $mon ]] || fail "no monitor found"
	kill -KILL "$mon"
	wait "$bg" || true
	run moat_as ps -a
	assert_line --regexp "Exited \(unknown\) .* +[^ ]+$"
	id=$(moat_as ps -aq)
	run moat_as rm "$id"
	assert_success
	[[ -z $(ls -A "$MOAT_STATE/root/containers") ]] || fail "left: $(ls -A "$MOAT_STATE/root/containers")"
}

@test "rm: an unknown container is 1 with one line (Docker's 'No such container')" {
	run --separate-stderr moat_as rm 0123456789ab
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: No such container: 0123456789ab" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as rm ../../etc
	assert_failure 1
	[[ $stderr == "moat: No such container: ../../etc" ]] || fail "stderr: $stderr"
}

@test "rm: the removal is in the audit log" {
	moat_as run "$IMG" true
	local id
	id=$(moat_as ps -aq --no-trunc)
	moat_as rm "$id" >/dev/null
	run moat_as audit show --event container.remove --format json
	assert_output --partial "\"container\":\"$id\""
}
