#!/usr/bin/env bats
# The container lifecycle, verb by verb, checked against Docker's
# behaviour: what each verb prints, its exit status and message, and the
# state it leaves (`ps -a` and the record under $MOAT_STATE/root).
#
# Containers here live across several moat invocations, so every test
# removes what it created (`rm -f` in the test, and `teardown` removes
# whatever a failing test left before the leak check runs).

load ../lib/helpers

teardown() {
	local ids
	ids=$(moat_as ps -aq --no-trunc 2>/dev/null) || true
	if [[ -n $ids ]]; then
		# a paused one first thawed: SIGKILL does not end frozen tasks
		# shellcheck disable=SC2086
		moat_as unpause $ids >/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		moat_as rm -f $ids >/dev/null 2>&1 || true
	fi
	local cg_ok=0
	cgroups_clean || cg_ok=$?
	moat_check_clean
	return "$cg_ok"
}

# The cgroups of every container this file started (the audit log names
# them) are gone once the container is: the leak check does not look at
# cgroups, so this does (root: rootless has none on this host's v1).
# A leftover is reported, removed, and fails the test.
cgroups_clean() {
	is_root_identity || return 0
	local id d bad=""
	local seen=$MOAT_T/cgroups-checked
	touch "$seen"
	for id in $(grep -o '"container":"[0-9a-f]\{64\}"' "$MOAT_STATE/audit/audit.log" 2>/dev/null |
		cut -d'"' -f4 | sort -u); do
		grep -qx "$id" "$seen" && continue
		[[ -e $MOAT_STATE/root/containers/$id ]] && continue
		echo "$id" >>"$seen"
		for d in /sys/fs/cgroup/*/moat/"$id" /sys/fs/cgroup/moat/"$id"; do
			[[ -d $d ]] || continue
			bad+=" $d"
			rmdir "$d" 2>/dev/null || true
		done
	done
	if [[ -n $bad ]]; then
		echo "# cgroups left behind:$bad" >&2
		return 1
	fi
}

# ---- helpers ----

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# The full id that NAME is reserved for.
cid() { readlink "$MOAT_STATE/root/names/$1"; }

# rec ID JQ: a field of ID's record.
rec() { jq -r "$2" "$MOAT_STATE/root/containers/$1/container.json"; }

# ps_line ID: ID's line in `ps -a`.
ps_line() { moat_as ps -a | grep -E "^${1:0:12} "; }

# ps_has ID ERE: ID's `ps -a` line matches ERE.
ps_has() { [[ $(ps_line "$1") =~ $2 ]]; }

# assert_status ID ERE: like ps_has, with the line in the failure.
assert_status() {
	local l
	l=$(ps_line "$1")
	[[ $l =~ $2 ]] || fail "ps -a line of ${1:0:12} does not match /$2/: '$l'"
}

# Docker's running status: "Up Less than a second", "Up 3 seconds", ...
UP='   Up (Less than a second|[0-9]+ seconds?|About a minute)( |$)'

# monitor_of ID: the pid of the moat process holding ID's lock.
monitor_of() {
	local lock="$MOAT_STATE/run/containers/$1/lock" p f a0
	for p in /proc/[0-9]*; do
		a0=
		IFS= read -r -d '' a0 2>/dev/null <"$p/cmdline"
		[[ $a0 == "$MOAT" ]] || continue
		for f in "$p"/fd/*; do
			if [[ $(readlink "$f" 2>/dev/null) == "$lock" ]]; then
				echo "${p#/proc/}"
				return 0
			fi
		done
	done
	return 1
}

# gone PID: PID has exited (no process, or a zombie nobody reaped yet).
gone() {
	[[ ! -e /proc/$1/status ]] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# no_marker MK: no live process carries MK in its command line.
no_marker() { [[ -z $(pids_with_arg /probe "$1") ]]; }
has_marker() { ! no_marker "$1"; }

# log_grew ID SIZE: ID's json.log is larger than SIZE bytes.
log_grew() { [[ $(stat -c %s "$MOAT_STATE/root/containers/$1/json.log") -gt $2 ]]; }

# log_has ID TEXT: the container's json.log has a line whose "log" is TEXT.
log_has() {
	grep -qF "\"log\":\"$2\\n\"" "$MOAT_STATE/root/containers/$1/json.log" 2>/dev/null
}

# restarts_ge ID N: ID's record counts N restarts or more.
restarts_ge() { [[ $(rec "$1" .restart_count) -ge $2 ]]; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The number of containers with a record.
n_records() {
	find "$MOAT_STATE/root/containers" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# ---- run -d, names ----

@test "run -d: prints the 64-hex id and returns; the container runs; ps says Up" {
	local mk
	mk=$(marker)
	run --separate-stderr moat_as run -d --name web "$IMG" /probe sleep 100 "$mk"
	assert_success
	[[ $output =~ ^[0-9a-f]{64}$ ]] || fail "run -d printed '$output'"
	[[ -z $stderr ]] || fail "stderr: $stderr"
	local id=$output
	[[ $(cid web) == "$id" ]] || fail "names/web -> $(cid web)"
	[[ $(rec "$id" .name) == web ]] || fail "record name $(rec "$id" .name)"
	[[ $(rec "$id" .state) == running ]] || fail "record state $(rec "$id" .state)"
	[[ -n $(pids_with_arg /probe "$mk") ]] || fail "the container's process is not running"
	assert_status "$id" "$UP"
	# the short id is what ps -q prints; without -a running ones are listed
	run moat_as ps -q
	assert_output "${id:0:12}"
	# the name, the full id and a prefix all reach it
	run moat_as exec web true
	assert_success
	run moat_as exec "${id:0:5}" true
	assert_success
	run moat_as exec "$id" true
	assert_success
	run moat_as rm -f "$id"
	assert_success
	assert_output "$id"
	wait_until 5 no_marker "$mk" || fail "the container's process outlived rm -f"
	[[ ! -e $MOAT_STATE/root/names/web ]] || fail "the name outlived its container"
}

@test "run -d: without --name a Docker-style name is generated and usable" {
	local id name
	id=$(moat_as run -d "$IMG" sleep 100)
	name=$(rec "$id" .name)
	[[ $name =~ ^[a-z]+_[a-z]+[0-9]*$ ]] || fail "generated name '$name'"
	[[ $(cid "$name") == "$id" ]] || fail "names/$name -> $(cid "$name")"
	local id2 name2
	id2=$(moat_as create "$IMG" true)
	name2=$(rec "$id2" .name)
	[[ $name2 != "$name" ]] || fail "two containers got the name $name"
	run moat_as rm -f "$name" "$name2"
	assert_success
	assert_output "$name"$'\n'"$name2"
	[[ $(n_records) -eq 0 ]] || fail "records left"
}

@test "run/create --name: a taken name is 125 with Docker's Conflict message; nothing is created" {
	local id
	id=$(moat_as create --name dup "$IMG" true)
	local verb
	for verb in create run; do
		run --separate-stderr moat_as "$verb" --name dup "$IMG" true
		assert_failure 125
		assert_one_error_line
		[[ $stderr == "moat: Conflict. The container name \"/dup\" is already in use by container \"$id\". You have to remove (or rename) that container to be able to reuse that name." ]] ||
			fail "$verb: $stderr"
		[[ -z $output ]] || fail "$verb printed: $output"
	done
	run moat_as run -d --name dup "$IMG" true
	assert_failure 125
	[[ $(n_records) -eq 1 ]] || fail "a container was created: $(ls "$MOAT_STATE/root/containers")"
	[[ $(cid dup) == "$id" ]] || fail "the name moved to $(cid dup)"
	# once the holder is gone the name is free again
	moat_as rm dup >/dev/null
	run moat_as create --name dup "$IMG" true
	assert_success
	moat_as rm dup >/dev/null
}

@test "run/create --name: invalid names are 125 with Docker's message; nothing is created" {
	local n long
	long=$(printf 'x%.0s' {1..200})
	for n in 'bad name' a -dash .dot 'sl/ash' 'é1' "$long"; do
		run --separate-stderr moat_as create --name "$n" "$IMG" true
		assert_failure 125
		assert_one_error_line
		[[ $stderr == "moat: Invalid container name ($n), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed" ]] ||
			fail "--name '$n': $stderr"
	done
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
	[[ -z $(ls -A "$MOAT_STATE/root/names" 2>/dev/null) ]] || fail "names: $(ls -A "$MOAT_STATE/root/names")"
	# the allowed characters are allowed
	run moat_as create --name A0_b.c-d "$IMG" true
	assert_success
	moat_as rm A0_b.c-d >/dev/null
}

@test "run --rm -d: the container is removed when it exits (and when it is stopped)" {
	local id
	id=$(moat_as run --rm -d --name gone "$IMG" sh -c 'sleep 0.3; exit 3')
	[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "run -d printed '$id'"
	wait_until 10 test ! -e "$MOAT_STATE/root/containers/$id" || fail "not removed after exit"
	[[ ! -e $MOAT_STATE/root/names/gone ]] || fail "its name stays reserved"
	wait_until 5 test ! -e "$MOAT_STATE/run/containers/$id" || fail "runtime dir left"
	run moat_as ps -aq
	assert_output ""
	id=$(moat_as run --rm -d --name gone "$IMG" sleep 100)
	run moat_as stop -t 0 gone
	assert_success
	assert_output gone
	wait_until 10 test ! -e "$MOAT_STATE/root/containers/$id" || fail "not removed after stop"
}

@test "run --restart on-failure:2: restarts twice, then stays Exited (3)" {
	local id
	id=$(moat_as run -d --restart on-failure:2 "$IMG" sh -c 'echo attempt; exit 3')
	wait_until 15 ps_has "$id" '   Exited \(3\) ' || fail "never ended: $(ps_line "$id")"
	[[ $(rec "$id" .restart_count) == 2 ]] || fail "restart_count $(rec "$id" .restart_count)"
	[[ $(rec "$id" .exit_code) == 3 ]] || fail "exit_code $(rec "$id" .exit_code)"
	[[ $(grep -c '"log":"attempt\\n"' "$MOAT_STATE/root/containers/$id/json.log") -eq 3 ]] ||
		fail "json.log: $(cat "$MOAT_STATE/root/containers/$id/json.log")"
	# ended for good: no monitor, and wait reports the last exit at once
	! monitor_of "$id" >/dev/null || fail "a monitor still runs"
	run timeout 10 "$BASH" -c "$(moat_cmdline wait "$id")"
	assert_success
	assert_output 3
	# a success is not a failure: on-failure does not restart it
	local id2
	id2=$(moat_as run -d --restart on-failure:2 "$IMG" true)
	wait_until 10 ps_has "$id2" '   Exited \(0\) ' || fail "$(ps_line "$id2")"
	[[ $(rec "$id2" .restart_count) == 0 ]] || fail "restarted after exit 0"
	moat_as rm "$id" "$id2" >/dev/null
}

@test "run --restart always: restarts after exit 0; stop keeps it stopped" {
	local id n
	id=$(moat_as run -d --restart always --name always "$IMG" sh -c 'echo tick; exit 0')
	wait_until 15 restarts_ge "$id" 2 || fail "not restarted: $(rec "$id" .restart_count)"
	run moat_as stop -t 1 always
	assert_success
	assert_output always
	wait_until 10 ps_has "$id" '   Exited \(' || fail "$(ps_line "$id")"
	n=$(rec "$id" .restart_count)
	# the policy is over: nothing starts it again
	sleep 1
	assert_status "$id" '   Exited \('
	[[ $(rec "$id" .restart_count) == "$n" ]] || fail "restarted after stop: $(rec "$id" .restart_count) > $n"
	! monitor_of "$id" >/dev/null || fail "a monitor still runs"
	# and a running one (not between restarts) too
	moat_as rm always >/dev/null
	id=$(moat_as run -d --restart always --name always "$IMG" sleep 100)
	run moat_as stop -t 0 always
	assert_success
	sleep 1
	assert_status "$id" '   Exited \(137\) '
	[[ $(rec "$id" .restart_count) == 0 ]] || fail "restarted after stop"
	moat_as rm always >/dev/null
}

@test "run --rm with --restart: refused (125, conflicting options); nothing created" {
	local p
	for p in always on-failure unless-stopped on-failure:3; do
		run --separate-stderr moat_as run --rm -d --restart "$p" "$IMG" true
		assert_failure 125
		assert_one_error_line
		[[ ${stderr,,} == *"conflicting options: --restart and --rm"* ]] || fail "$p: $stderr"
	done
	# --restart no is no restart policy at all: allowed with --rm
	run moat_as run --rm --restart no "$IMG" true
	assert_success
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
}

@test "run --restart: invalid policies are 125 with Docker's messages" {
	run --separate-stderr moat_as run -d --restart sometimes "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == 'moat: invalid restart policy "sometimes"' ]] || fail "$stderr"
	run --separate-stderr moat_as run -d --restart on-failure:x "$IMG" true
	assert_failure 125
	[[ $stderr == *'maximum retry count must be a non-negative integer'* ]] || fail "$stderr"
	run --separate-stderr moat_as run -d --restart always:2 "$IMG" true
	assert_failure 125
	[[ $stderr == *"maximum retry count cannot be used with restart policy 'always'"* ]] || fail "$stderr"
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
}

@test "run --stop-signal: stop sends it (the container's handler runs and exits 5)" {
	local id t0 t1
	id=$(moat_as run -d --stop-signal USR1 --name sig "$IMG" \
		sh -c 'trap "echo got-usr1; exit 5" USR1; echo ready; while :; do sleep 0.1; done')
	[[ $(rec "$id" .stop_signal) == 10 ]] || fail "stop_signal $(rec "$id" .stop_signal)"
	wait_until 5 log_has "$id" ready || fail "never ready"
	t0=$(now_ms)
	run moat_as stop sig
	t1=$(now_ms)
	assert_success
	assert_output sig
	# the handler, not the 10 s SIGKILL, ended it
	((t1 - t0 < 8000)) || fail "stop took $((t1 - t0)) ms"
	log_has "$id" got-usr1 || fail "json.log: $(cat "$MOAT_STATE/root/containers/$id/json.log")"
	assert_status "$id" '   Exited \(5\) '
	run --separate-stderr moat_as run -d --stop-signal NOPE "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == "moat: invalid signal: NOPE" ]] || fail "$stderr"
	moat_as rm sig >/dev/null
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
}

@test "run --stop-timeout 1: stop of a PID 1 that ignores SIGTERM takes ~1 s, then 137" {
	local id t0 t1
	id=$(moat_as run -d --stop-timeout 1 --name st "$IMG" sleep 100)
	[[ $(rec "$id" .stop_timeout) == 1 ]] || fail "stop_timeout $(rec "$id" .stop_timeout)"
	t0=$(now_ms)
	run moat_as stop st
	t1=$(now_ms)
	assert_success
	((t1 - t0 >= 900 && t1 - t0 < 6000)) || fail "stop took $((t1 - t0)) ms, expected ~1000"
	assert_status "$id" '   Exited \(137\) '
	local v
	for v in abc -2 1.5 ''; do
		run --separate-stderr moat_as create --stop-timeout "$v" "$IMG" true
		assert_failure 125
		assert_one_error_line
	done
	moat_as rm st >/dev/null
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
}

@test "run -e/--env-file: file lines, comments, -e wins, unset names dropped" {
	local f=$MOAT_T/scratch/env.list
	printf '# a comment\n\nFROM_FILE=one\nBOTH=file\nSPACES=  kept  \nNOT_SET_ANYWHERE_XYZ\nEMPTY=\n' >"$f"
	chmod 0644 "$f"
	run moat_as run --rm --env-file "$f" -e BOTH=flag "$IMG" env
	assert_success
	assert_line "FROM_FILE=one"
	assert_line "BOTH=flag"
	assert_line "SPACES=  kept  "
	assert_line "EMPTY="
	refute_line --partial "NOT_SET_ANYWHERE_XYZ"
	refute_line --partial "a comment"
	[[ $(grep -c '^BOTH=' <<<"$output") -eq 1 ]] || fail "BOTH twice: $output"
	# a name alone takes the caller's value
	if is_root_identity; then
		printf 'FROM_CALLER\n' >"$f"
		FROM_CALLER=callers run moat_as run --rm --env-file "$f" "$IMG" env
		assert_line "FROM_CALLER=callers"
	else
		printf 'USER\n' >"$f"
		run moat_as run --rm --env-file "$f" "$IMG" env
		assert_line "USER=$MOAT_TEST_USER"
	fi
	# and it is in the record: a later start has it too
	local id
	printf 'KEPT=yes\n' >"$f"
	id=$(moat_as create --env-file "$f" "$IMG" sh -c 'echo "KEPT=$KEPT"')
	rec "$id" '.env[]' | grep -qx 'KEPT=yes' || fail "env: $(rec "$id" .env)"
	run moat_as start -a "$id"
	assert_success
	assert_output "KEPT=yes"
	moat_as rm "$id" >/dev/null
}

@test "run --env-file: a malformed line is 125 naming file:line; a missing file too" {
	local f=$MOAT_T/scratch/bad.env
	printf 'GOOD=1\nbad name=2\n' >"$f"
	chmod 0644 "$f"
	run --separate-stderr moat_as run --rm --env-file "$f" "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == "moat: $f:2: variable 'bad name' contains whitespaces" ]] || fail "$stderr"
	printf '=novalue\n' >"$f"
	run --separate-stderr moat_as create --env-file "$f" "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == "moat: $f:1: "* ]] || fail "$stderr"
	run --separate-stderr moat_as create --env-file "$MOAT_T/scratch/no-such.env" "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"no-such.env"* ]] || fail "$stderr"
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
}

@test "run -l/--label: labels are in the record; a bad label is 125" {
	local id f=$MOAT_T/scratch/labels
	printf 'from.file=yes\n# comment\n' >"$f"
	chmod 0644 "$f"
	id=$(moat_as create -l a=b --label com.example.x="with space" -l flag --label-file "$f" "$IMG" true)
	run rec "$id" '.labels[]'
	assert_line "a=b"
	assert_line "com.example.x=with space"
	assert_line "flag="
	assert_line "from.file=yes"
	[[ ${#lines[@]} -eq 4 ]] || fail "labels: $output"
	run --separate-stderr moat_as create -l =nokey "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"empty name"* ]] || fail "$stderr"
	moat_as rm "$id" >/dev/null
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
}

@test "run --log-opt/--log-driver: bad values are 125 with one line; nothing is created" {
	local o
	for o in max-size=abc max-size=-1 max-size= max-file=0 max-file=x nope=1 max-size; do
		run --separate-stderr moat_as run -d --log-opt "$o" "$IMG" true
		assert_failure 125
		assert_one_error_line
	done
	run --separate-stderr moat_as run -d --log-opt max-size=abc "$IMG" true
	[[ $stderr == "moat: invalid size: 'abc'" ]] || fail "$stderr"
	run --separate-stderr moat_as run -d --log-opt nope=1 "$IMG" true
	[[ $stderr == *"unknown log opt 'nope'"* ]] || fail "$stderr"
	run --separate-stderr moat_as run -d --log-opt max-file=3 "$IMG" true
	assert_failure 125
	[[ $stderr == "moat: max-file cannot be set without max-size" ]] || fail "$stderr"
	run --separate-stderr moat_as run -d --log-driver syslog "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $(n_records) -eq 0 ]] || fail "created: $(ls "$MOAT_STATE/root/containers")"
	# good values reach the record
	local id
	id=$(moat_as create --log-opt max-size=1k --log-opt max-file=2 --log-driver json-file "$IMG" true)
	[[ $(rec "$id" .log_max_size) == 1024 ]] || fail "log_max_size $(rec "$id" .log_max_size)"
	[[ $(rec "$id" .log_max_file) == 2 ]] || fail "log_max_file $(rec "$id" .log_max_file)"
	moat_as rm "$id" >/dev/null
}

@test "run without --rm keeps a json.log of stdout and stderr; the caller still gets both" {
	run --separate-stderr moat_as run --name logged "$IMG" sh -c 'echo to-out; echo to-err >&2; exit 2'
	assert_failure 2
	assert_output "to-out"
	[[ $stderr == "to-err" ]] || fail "stderr: $stderr"
	local id
	id=$(cid logged)
	run jq -c '[.stream, .log]' "$MOAT_STATE/root/containers/$id/json.log"
	assert_line '["stdout","to-out\n"]'
	assert_line '["stderr","to-err\n"]'
	# the container's stdout is a pipe, not the caller's fd (a file here)
	local out=$MOAT_T/scratch/piped.out
	moat_as run --name piped "$IMG" sh -c 'readlink /proc/self/fd/1; readlink /proc/self/fd/2' \
		>"$out" 2>&1 || fail "run failed: $(cat "$out")"
	run cat "$out"
	[[ ${#lines[@]} -eq 2 ]] || fail "$output"
	assert_line --index 0 --regexp '^pipe:\[[0-9]+\]$'
	assert_line --index 1 --regexp '^pipe:\[[0-9]+\]$'
	moat_as rm logged piped >/dev/null
}

# ---- create, start, stop, restart, kill, wait, rename, rm ----

@test "lifecycle: create, start, start again, stop -t 1, start, restart, kill, wait, rename, rm" {
	local id pid pid2 t0 t1
	run --separate-stderr moat_as create --name life "$IMG" sleep 100
	assert_success
	[[ $output =~ ^[0-9a-f]{64}$ ]] || fail "create printed '$output'"
	id=$output
	assert_status "$id" '   Created( |$)'
	[[ $(rec "$id" .state) == created ]] || fail "state $(rec "$id" .state)"
	[[ ! -e $MOAT_STATE/run/containers/$id ]] || fail "created has a runtime dir"

	run moat_as start life
	assert_success
	assert_output life
	assert_status "$id" "$UP"
	pid=$(rec "$id" .pid)
	[[ $pid -gt 1 && -e /proc/$pid ]] || fail "no init pid: $pid"

	# start of a running container: nothing happens, exit 0
	run moat_as start life
	assert_success
	assert_output life
	[[ $(rec "$id" .pid) == "$pid" ]] || fail "start restarted it"

	# sleep as PID 1 ignores SIGTERM: -t 1 then SIGKILL
	t0=$(now_ms)
	run moat_as stop -t 1 life
	t1=$(now_ms)
	assert_success
	assert_output life
	((t1 - t0 >= 900 && t1 - t0 < 6000)) || fail "stop -t 1 took $((t1 - t0)) ms"
	assert_status "$id" '   Exited \(137\) '
	wait_until 5 gone "$pid" || fail "pid $pid survived stop"
	run moat_as wait life
	assert_success
	assert_output 137

	run moat_as start life
	assert_success
	assert_status "$id" "$UP"
	pid=$(rec "$id" .pid)

	run moat_as restart -t 0 life
	assert_success
	assert_output life
	assert_status "$id" "$UP"
	pid2=$(rec "$id" .pid)
	[[ $pid2 != "$pid" ]] || fail "restart kept pid $pid"
	wait_until 5 gone "$pid" || fail "the old init survived restart"

	# USR1: no handler, PID 1: ignored, still running
	run moat_as kill -s USR1 life
	assert_success
	assert_output life
	sleep 0.3
	assert_status "$id" "$UP"
	# default: SIGKILL
	run moat_as kill life
	assert_success
	assert_output life
	run timeout 10 "$BASH" -c "$(moat_cmdline wait life)"
	assert_success
	assert_output 137
	assert_status "$id" '   Exited \(137\) '

	run moat_as rename life life2
	assert_success
	[[ $(cid life2) == "$id" ]] || fail "names/life2 -> $(cid life2)"
	[[ ! -e $MOAT_STATE/root/names/life ]] || fail "the old name is still reserved"
	[[ $(rec "$id" .name) == life2 ]] || fail "record name $(rec "$id" .name)"
	run --separate-stderr moat_as start life
	assert_failure 1
	[[ $stderr == "moat: No such container: life" ]] || fail "$stderr"

	run moat_as rm life2
	assert_success
	assert_output life2
	[[ ! -e $MOAT_STATE/root/containers/$id ]] || fail "record left"
	[[ ! -e $MOAT_STATE/root/names/life2 ]] || fail "name left"
}

@test "wait: blocks until a running container exits and prints its code" {
	local id t0 t1
	id=$(moat_as run -d "$IMG" sh -c 'sleep 1; exit 42')
	t0=$(now_ms)
	run timeout 15 "$BASH" -c "$(moat_cmdline wait "$id")"
	t1=$(now_ms)
	assert_success
	assert_output 42
	((t1 - t0 >= 300)) || fail "wait returned after $((t1 - t0)) ms, before the exit"
	# several at once, one line each, in order
	local id2
	id2=$(moat_as run -d "$IMG" sh -c 'exit 7')
	run timeout 15 "$BASH" -c "$(moat_cmdline wait "$id" "$id2")"
	assert_success
	assert_output $'42\n7'
	moat_as rm "$id" "$id2" >/dev/null
}

@test "rm: a running container is refused with Docker's message (1) and keeps running; rm -f removes it" {
	local id mk
	mk=$(marker)
	id=$(moat_as run -d --name busy "$IMG" /probe sleep 100 "$mk")
	run --separate-stderr moat_as rm busy
	assert_failure 1
	assert_one_error_line
	[[ $stderr == 'moat: cannot remove container "busy": container is running: stop the container before removing or force remove' ]] ||
		fail "$stderr"
	[[ -z $output ]] || fail "printed: $output"
	assert_status "$id" "$UP"
	[[ -n $(pids_with_arg /probe "$mk") ]] || fail "rm stopped it"
	[[ -e $MOAT_STATE/root/containers/$id/container.json ]] || fail "record gone"
	# several: the good ones go, the bad one is reported, status 1
	local other
	other=$(moat_as create "$IMG" true)
	run --separate-stderr moat_as rm "$other" busy
	assert_failure 1
	assert_output "$other"
	[[ ! -e $MOAT_STATE/root/containers/$other ]] || fail "$other was not removed"
	run moat_as rm -f busy
	assert_success
	assert_output busy
	wait_until 5 no_marker "$mk" || fail "rm -f left the process"
	[[ ! -e $MOAT_STATE/root/containers/$id ]] || fail "record left"
	[[ ! -e $MOAT_STATE/run/containers/$id ]] || fail "runtime dir left"
}

@test "exec: a created or stopped container is refused (1, 'is not running')" {
	local id
	id=$(moat_as create --name idle "$IMG" sleep 100)
	run --separate-stderr moat_as exec idle true
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: container idle is not running" ]] || fail "$stderr"
	moat_as start idle >/dev/null
	moat_as stop -t 0 idle >/dev/null
	run --separate-stderr moat_as exec idle true
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"is not running"* ]] || fail "$stderr"
	moat_as rm idle >/dev/null
}

@test "stop/kill: of a stopped container: stop is 0 and changes nothing, kill is 1" {
	local id before
	id=$(moat_as run -d --name done "$IMG" sh -c 'exit 6')
	wait_until 10 ps_has "$id" '   Exited \(6\) ' || fail "$(ps_line "$id")"
	before=$(cat "$MOAT_STATE/root/containers/$id/container.json")
	run --separate-stderr moat_as stop done
	assert_success
	assert_output done
	[[ -z $stderr ]] || fail "stderr: $stderr"
	[[ $(cat "$MOAT_STATE/root/containers/$id/container.json") == "$before" ]] || fail "stop changed the record"
	assert_status "$id" '   Exited \(6\) '
	run --separate-stderr moat_as kill done
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: container done is not running" ]] || fail "$stderr"
	# a created one: stop is a no-op as well
	moat_as create --name fresh "$IMG" true >/dev/null
	run moat_as stop fresh
	assert_success
	assert_status "$(cid fresh)" '   Created( |$)'
	moat_as rm done fresh >/dev/null
}

@test "pause/unpause: as root the processes freeze, exec is refused; rootless: 1 naming cgroups" {
	local id size1 size2
	id=$(moat_as run -d --name frozen "$IMG" sh -c 'while :; do echo tick; sleep 0.05; done')
	wait_until 5 log_has "$id" tick || fail "never ticked"
	if is_rootless; then
		run --separate-stderr moat_as pause frozen
		assert_failure 1
		assert_one_error_line
		[[ $stderr == *cgroup* ]] || fail "$stderr"
		assert_status "$id" "$UP"
		[[ $(ps_line "$id") != *Paused* ]] || fail "$(ps_line "$id")"
		run moat_as exec frozen true
		assert_success
		moat_as rm -f frozen >/dev/null
		return 0
	fi
	run moat_as pause frozen
	assert_success
	assert_output frozen
	assert_status "$id" '   Up .*\(Paused\)'
	size1=$(stat -c %s "$MOAT_STATE/root/containers/$id/json.log")
	sleep 0.5
	size2=$(stat -c %s "$MOAT_STATE/root/containers/$id/json.log")
	[[ $size1 == "$size2" ]] || fail "paused but still writing: $size1 -> $size2"
	run --separate-stderr moat_as exec frozen true
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: container frozen is paused, unpause the container first" ]] || fail "$stderr"
	run --separate-stderr moat_as pause frozen
	assert_failure 1
	[[ $stderr == *"is already paused"* ]] || fail "$stderr"
	run --separate-stderr moat_as rm frozen
	assert_failure 1
	[[ $stderr == *"container is paused"* ]] || fail "$stderr"
	run moat_as unpause frozen
	assert_success
	assert_output frozen
	assert_status "$id" "$UP"
	[[ $(ps_line "$id") != *Paused* ]] || fail "$(ps_line "$id")"
	wait_until 5 log_grew "$id" "$size2" ||
		fail "still frozen after unpause"
	run moat_as exec frozen true
	assert_success
	run --separate-stderr moat_as unpause frozen
	assert_failure 1
	[[ $stderr == "moat: container frozen is not paused" ]] || fail "$stderr"
	# a paused container can be stopped: thawed and killed (137)
	moat_as pause frozen >/dev/null
	run moat_as stop -t 1 frozen
	assert_success
	assert_status "$id" '   Exited \(137\) '
	# and removed by force while paused (Docker thaws it)
	moat_as start frozen >/dev/null
	moat_as pause frozen >/dev/null
	run moat_as rm -f frozen
	if [[ $status -ne 0 ]]; then
		moat_as unpause frozen >/dev/null 2>&1
		moat_as rm -f frozen >/dev/null 2>&1
		fail "rm -f of a paused container: $output"
	fi
	assert_output frozen
}

@test "every verb: an unknown container is 1 with 'No such container: X'" {
	local v
	for v in start stop restart kill rm wait pause unpause; do
		run --separate-stderr moat_as "$v" nosuch
		assert_failure 1
		assert_one_error_line
		[[ $stderr == "moat: No such container: nosuch" ]] || fail "$v: $stderr"
		[[ -z $output ]] || fail "$v printed: $output"
	done
	run --separate-stderr moat_as rm -f nosuch
	assert_failure 1
	[[ $stderr == "moat: No such container: nosuch" ]] || fail "rm -f: $stderr"
	run --separate-stderr moat_as exec nosuch true
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: No such container: nosuch" ]] || fail "exec: $stderr"
	run --separate-stderr moat_as rename nosuch other
	assert_failure 1
	[[ $stderr == "moat: No such container: nosuch" ]] || fail "rename: $stderr"
	# a path is no container either
	run --separate-stderr moat_as rm ../../etc
	assert_failure 1
	[[ $stderr == "moat: No such container: ../../etc" ]] || fail "$stderr"
	# the empty ref
	run --separate-stderr moat_as stop ""
	assert_failure 1
	[[ $stderr == *"No such container"* ]] || fail "$stderr"
}

@test "every verb: an ambiguous id prefix is 1 with 'multiple containers found'; nothing happens" {
	local -A first=()
	local id c="" i
	for ((i = 0; i < 17; i++)); do
		id=$(moat_as create "$IMG" true)
		if [[ -n ${first[${id:0:1}]:-} ]]; then
			c=${id:0:1}
			break
		fi
		first[${id:0:1}]=$id
	done
	[[ -n $c ]] || fail "17 ids without a shared first character"
	local n
	n=$(n_records)
	local v
	for v in start stop kill rm wait pause; do
		run --separate-stderr moat_as "$v" "$c"
		assert_failure 1
		assert_one_error_line
		[[ $stderr == "moat: multiple containers found with provided prefix: $c" ]] || fail "$v: $stderr"
	done
	run --separate-stderr moat_as rm -f "$c"
	assert_failure 1
	[[ $stderr == *"multiple containers found"* ]] || fail "$stderr"
	run --separate-stderr moat_as exec "$c" true
	assert_failure 1
	[[ $stderr == *"multiple containers found"* ]] || fail "$stderr"
	[[ $(n_records) -eq $n ]] || fail "a container went away"
	# the longer, unique prefix works
	run moat_as rm "${id:0:10}"
	assert_success
}

@test "rename: Docker's checks (same name, taken name, invalid name); the old name is freed" {
	moat_as create --name one "$IMG" true >/dev/null
	moat_as create --name two "$IMG" true >/dev/null
	local id1
	id1=$(cid one)
	run --separate-stderr moat_as rename one one
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"Renaming a container with the same name as its current name"* ]] || fail "$stderr"
	run --separate-stderr moat_as rename one two
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"Conflict. The container name \"/two\" is already in use"* ]] || fail "$stderr"
	run --separate-stderr moat_as rename one 'bad name'
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"Invalid container name (bad name)"* ]] || fail "$stderr"
	[[ $(cid one) == "$id1" && $(rec "$id1" .name) == one ]] || fail "a failed rename changed it"
	run moat_as rename one three
	assert_success
	[[ $(cid three) == "$id1" ]] || fail "names/three"
	# the old name can be taken by another container
	run moat_as create --name one "$IMG" true
	assert_success
	moat_as rm one two three >/dev/null
}

# ---- exec ----

@test "exec: -e, -w, -u; an unmapped or unknown user is refused" {
	moat_as run -d --name ex -e BASE=container "$IMG" sleep 100 >/dev/null
	run moat_as exec -e FOO=bar -e BASE=override -w /etc -u 1000:100 ex \
		sh -c 'echo "$FOO $BASE"; pwd; id -u; id -g'
	assert_success
	assert_output $'bar override\n/etc\n1000\n100'
	run moat_as exec ex sh -c 'echo "$BASE"; pwd; id -u'
	assert_success
	assert_output $'container\n/\n0'
	run moat_as exec -u moat ex id -un
	assert_success
	assert_output moat
	run moat_as exec -u nobody ex id -u
	assert_success
	assert_output 65534
	run --separate-stderr moat_as exec -u 70000 ex id -u
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"not mapped in this container's user namespace"* ]] || fail "$stderr"
	run --separate-stderr moat_as exec -u no-such-user ex id -u
	assert_failure 125
	assert_one_error_line
	moat_as rm -f ex >/dev/null
}

@test "exec: -i forwards stdin; without -i stdin is empty" {
	moat_as run -d --name exi "$IMG" sleep 100 >/dev/null
	run bash -c "echo hi | $(moat_cmdline exec -i exi cat)"
	assert_success
	assert_output hi
	run bash -c "echo hi | $(moat_cmdline exec exi cat)"
	assert_success
	assert_output ""
	moat_as rm -f exi >/dev/null
}

@test "exec: the exit status passes through (0, 7, 126, 127, 128+signal)" {
	moat_as run -d --name exc "$IMG" sleep 100 >/dev/null
	run moat_as exec exc true
	assert_success
	run moat_as exec exc sh -c 'exit 7'
	assert_failure 7
	run moat_as exec exc /etc/passwd
	assert_failure 126
	run -127 moat_as exec exc /no/such/cmd
	assert_failure 127
	run moat_as exec exc sh -c 'kill -TERM $$'
	assert_failure 143
	moat_as rm -f exc >/dev/null
}

@test "exec -t: a pty as controlling terminal (script); the exit status passes through" {
	moat_as run -d --name ext "$IMG" sleep 100 >/dev/null
	run script -qfec "$(moat_cmdline exec -t ext /probe tty)" /dev/null
	assert_success
	strip_cr
	assert_line --regexp '^fd0: tty /dev/pts/[0-9]+$'
	assert_line --regexp '^fd1: tty /dev/pts/[0-9]+$'
	assert_line "ctty: yes"
	# a second and third exec -t into the same container work the same
	run script -qfec "$(moat_cmdline exec -t ext sh -c 'exit 9')" /dev/null
	assert_failure 9
	run script -qfec "$(moat_cmdline exec -t ext /probe tty)" /dev/null
	assert_success
	strip_cr
	assert_line "ctty: yes"
	# without -t: no tty
	run moat_as exec ext /probe tty
	refute_line "ctty: yes"
	moat_as rm -f ext >/dev/null
}

@test "exec -d: returns at once while the process runs on" {
	local mk t0 t1
	mk=$(marker)
	moat_as run -d --name exd "$IMG" sleep 100 >/dev/null
	t0=$(now_ms)
	run --separate-stderr moat_as exec -d exd sh -c "touch /tmp/started; exec /probe sleep 30 $mk"
	t1=$(now_ms)
	assert_success
	[[ -z $output ]] || fail "exec -d printed: $output"
	((t1 - t0 < 5000)) || fail "exec -d took $((t1 - t0)) ms"
	wait_until 5 has_marker "$mk" || fail "the process does not run"
	run moat_as exec exd ls /tmp/started
	assert_success
	# it belongs to the container: stopping that ends it
	moat_as stop -t 0 exd >/dev/null
	wait_until 5 no_marker "$mk" || fail "the exec'd process outlived its container"
	moat_as rm exd >/dev/null
}

# ---- the monitor dies ----

# kill_monitor ID: SIGKILL ID's monitor; prints nothing, fails if none.
kill_monitor() {
	local mon
	mon=$(monitor_of "$1") || return 1
	kill -KILL "$mon"
}

@test "monitor death right after start: the container dies, ps says Exited (unknown), rm cleans" {
	local id mk pid
	mk=$(marker)
	id=$(moat_as run -d --name orphan "$IMG" /probe sleep 100 "$mk")
	pid=$(rec "$id" .pid)
	kill_monitor "$id" || fail "no monitor holds the lock"
	wait_until 5 gone "$pid" || fail "the container's init survived its monitor"
	wait_until 5 no_marker "$mk" || fail "container processes survived"
	assert_status "$id" '   Exited \(unknown\)'
	run --separate-stderr moat_as exec orphan true
	assert_failure 1
	[[ $stderr == *"is not running"* ]] || fail "$stderr"
	# it can be started again like any exited container
	run moat_as start orphan
	assert_success
	assert_status "$id" "$UP"
	run moat_as rm -f orphan
	assert_success
	[[ ! -e $MOAT_STATE/root/containers/$id ]] || fail "record left"
	[[ ! -e $MOAT_STATE/run/containers/$id ]] || fail "runtime dir left"
}

@test "monitor death with an exec running: both processes die; rm cleans" {
	local id mk mk2
	mk=$(marker)
	mk2=$(marker)
	id=$(moat_as run -d --name orphan2 "$IMG" /probe sleep 100 "$mk")
	moat_as exec -d orphan2 /probe sleep 100 "$mk2"
	wait_until 5 has_marker "$mk2" || fail "exec never ran"
	kill_monitor "$id" || fail "no monitor"
	wait_until 5 no_marker "$mk" || fail "init survived"
	wait_until 5 no_marker "$mk2" || fail "the exec'd process survived"
	assert_status "$id" '   Exited \(unknown\)'
	run moat_as rm orphan2
	assert_success
}

@test "monitor death while a stop waits: stop returns, the container dies, rm cleans" {
	local id mk t0 t1 bg rc=0
	mk=$(marker)
	# sh as PID 1 with a TERM handler that does not exit: stop has to wait
	id=$(moat_as run -d --name orphan3 --stop-timeout 60 "$IMG" \
		sh -c "trap 'echo got-term' TERM; echo ready; while :; do /probe sleep 0.1 $mk; done")
	wait_until 5 log_has "$id" ready || fail "never ready"
	t0=$(now_ms)
	moat_as stop orphan3 >/dev/null 2>&1 3>&- &
	bg=$!
	wait_until 10 log_has "$id" got-term || fail "stop never signalled"
	kill_monitor "$id" || fail "no monitor"
	wait "$bg" || rc=$?
	t1=$(now_ms)
	((t1 - t0 < 20000)) || fail "stop waited $((t1 - t0)) ms for a dead monitor"
	wait_until 5 no_marker "$mk" || fail "container processes survived"
	assert_status "$id" '   Exited \(unknown\)'
	run moat_as rm orphan3
	assert_success
	echo "# stop exited $rc after the monitor died" >&3
}

@test "monitor death of a foreground run: the caller's moat is the monitor; rm cleans" {
	local mk mon id bg
	mk=$(marker)
	moat_as run --name fg "$IMG" /probe sleep 100 "$mk" >/dev/null 2>&1 3>&- &
	bg=$!
	wait_until 10 has_marker "$mk" || fail "never started"
	id=$(cid fg)
	mon=$(monitor_of "$id") || fail "no monitor"
	kill -KILL "$mon"
	wait "$bg" || true
	wait_until 5 no_marker "$mk" || fail "container survived"
	assert_status "$id" '   Exited \(unknown\)'
	run moat_as rm fg
	assert_success
}
