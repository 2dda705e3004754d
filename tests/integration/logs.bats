#!/usr/bin/env bats
# `moat logs`: a container's output from its json-file log, with Docker's
# flags (-f, -n/--tail, --since, --until, -t, --details), stdout and
# stderr kept apart, rotated files read in order, and Docker's errors.

load ../lib/helpers

# Every container a test made goes, whatever the test did; then the
# per-test leak check.
teardown() {
	local id
	for id in $(moat_as ps -aq --no-trunc 2>/dev/null); do
		moat_as rm -f "$id" >/dev/null 2>&1 || true
	done
	moat_check_clean
}

# wait_file_has FILE TEXT: up to 10 s for TEXT to appear in FILE.
wait_file_has() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The full id of the only container there is.
only_id() {
	local ids
	ids=$(moat_as ps -aq --no-trunc)
	[[ $ids =~ ^[0-9a-f]{64}$ ]] || fail "expected one container, ps -aq printed: $ids"
	echo "$ids"
}

@test "logs: stdout and stderr lines, each on its own stream, in order" {
	moat_as run -d --name lg "$IMG" sh -c 'echo out1; echo err1 >&2; echo out2' >/dev/null
	moat_as wait lg >/dev/null
	run --separate-stderr moat_as logs lg
	assert_success
	assert_output $'out1\nout2'
	[[ $stderr == "err1" ]] || fail "stderr: $stderr"
	# 2>/dev/null hides exactly the stderr lines
	run bash -c "$(moat_cmdline logs lg) 2>/dev/null"
	assert_success
	assert_output $'out1\nout2'
	run bash -c "$(moat_cmdline logs lg) 2>&1 >/dev/null"
	assert_output "err1"
	# --details is accepted (nothing extra to show for json-file)
	run --separate-stderr moat_as logs --details lg
	assert_success
	assert_output $'out1\nout2'
	run moat_as rm lg
	assert_success
}

@test "logs: -t prefixes each line with an RFC3339Nano UTC time" {
	moat_as run -d --name lt "$IMG" sh -c 'echo one; echo two >&2' >/dev/null
	moat_as wait lt >/dev/null
	run --separate-stderr moat_as logs -t lt
	assert_success
	assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z one$'
	[[ $stderr =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}Z\ two$ ]] ||
		fail "stderr: $stderr"
	# the same time the log file holds, to the nanosecond
	local id ts
	id=$(only_id)
	ts=$(sed -n 's/.*"log":"one\\n".*"time":"\([^"]*\)".*/\1/p' "$MOAT_STATE/root/containers/$id/json.log")
	[[ -n $ts ]] || fail "no entry for 'one' in json.log"
	assert_output "$ts one"
}

@test "logs: --tail N shows the last N lines, -n too, 0 none, all every one" {
	moat_as run -d --name tl "$IMG" sh -c 'for i in 1 2 3 4 5; do echo line$i; done' >/dev/null
	moat_as wait tl >/dev/null
	run moat_as logs --tail 2 tl
	assert_success
	assert_output $'line4\nline5'
	run moat_as logs -n 1 tl
	assert_output "line5"
	run moat_as logs --tail=0 tl
	assert_success
	assert_output ""
	run moat_as logs --tail 9 tl
	assert_output $'line1\nline2\nline3\nline4\nline5'
	run moat_as logs --tail all tl
	assert_output $'line1\nline2\nline3\nline4\nline5'
	# Docker reads a negative count as all
	run moat_as logs --tail -1 tl
	assert_output $'line1\nline2\nline3\nline4\nline5'
}

@test "logs: --since and --until select by time (until is inclusive)" {
	moat_as run -d --name su "$IMG" sh -c 'echo one; sleep 0.2; echo two; sleep 0.2; echo three' >/dev/null
	moat_as wait su >/dev/null
	local t2
	t2=$(moat_as logs -t su | sed -n 's/ two$//p')
	[[ -n $t2 ]] || fail "no timestamp for 'two'"
	run moat_as logs --since "$t2" su
	assert_success
	assert_output $'two\nthree'
	run moat_as logs --until "$t2" su
	assert_success
	assert_output $'one\ntwo'
	run moat_as logs --since "$t2" --until "$t2" su
	assert_output "two"
	# a time in the future: nothing; a relative one an hour back: all
	run --separate-stderr moat_as logs --since 2099-01-01T00:00:00Z su
	assert_success
	assert_output ""
	[[ -z $stderr ]] || fail "stderr: $stderr"
	run moat_as logs --since 1h su
	assert_output $'one\ntwo\nthree'
	run moat_as logs --until 1h su
	assert_output ""
	# --tail counts what passes the time filter
	run moat_as logs --since "$t2" --tail 1 su
	assert_output "three"
}

@test "logs: -f follows a running container and returns once it exits" {
	# The container prints "a", then waits for its stdin; logs -f must
	# show "a", then the line written after it started following.
	moat_as run -d -i --name fw "$IMG" sh -c 'echo a; read x; echo "b:$x"' >/dev/null
	local out=$MOAT_T/scratch/follow.out
	bash -c "timeout 30 $(moat_cmdline logs -f fw)" >"$out" 2>&1 3>&- &
	local bg=$!
	wait_file_has "$out" a || { kill "$bg"; fail "logs -f never printed a: $(cat "$out")"; }
	# still following: it has not returned
	kill -0 "$bg" 2>/dev/null || fail "logs -f returned while the container runs"
	run moat_as attach fw <<<"go"
	assert_success
	local rc=0
	wait "$bg" || rc=$?
	[[ $rc -eq 0 ]] || fail "logs -f exited $rc (124: it never returned): $(cat "$out")"
	run cat "$out"
	assert_output $'a\nb:go'
}

@test "logs: -f of a stopped container prints everything and returns" {
	moat_as run -d --name fs "$IMG" sh -c 'echo done-already' >/dev/null
	moat_as wait fs >/dev/null
	run bash -c "timeout 30 $(moat_cmdline logs -f fs)"
	assert_success
	assert_output "done-already"
}

@test "logs: rotation (max-size=1k, max-file=2) keeps two files and logs shows the tail" {
	moat_as run -d --name rot --log-opt max-size=1k --log-opt max-file=2 "$IMG" \
		sh -c 'i=1; while [ $i -le 300 ]; do echo line-$i; i=$((i+1)); done' >/dev/null
	moat_as wait rot >/dev/null
	local id dir
	id=$(only_id)
	dir=$MOAT_STATE/root/containers/$id
	run bash -c "ls '$dir' | grep -c '^json\.log'"
	[[ $output -le 2 && $output -ge 1 ]] || fail "log files: $(ls "$dir")"
	[[ -e $dir/json.log.1 ]] || fail "nothing was rotated: $(ls -l "$dir")"
	[[ ! -e $dir/json.log.2 ]] || fail "a third file: $(ls "$dir")"
	local f
	for f in "$dir"/json.log*; do
		[[ $(stat -c %s "$f") -le 1024 ]] || fail "$f is $(stat -c %s "$f") bytes"
	done
	run moat_as logs rot
	assert_success
	# the newest lines, contiguous, ending with the last one
	[[ ${#lines[@]} -ge 5 && ${#lines[@]} -lt 300 ]] || fail "${#lines[@]} lines: $output"
	local first=${lines[0]#line-} i
	for ((i = 0; i < ${#lines[@]}; i++)); do
		[[ ${lines[i]} == "line-$((first + i))" ]] || fail "line $i: ${lines[i]} (after line-$first)"
	done
	[[ ${lines[-1]} == line-300 ]] || fail "last line: ${lines[-1]}"
	# --tail counts across both files
	local n=$(( ${#lines[@]} - 1 ))
	run moat_as logs --tail "$n" rot
	assert_output "$(seq -f 'line-%g' $((301 - n)) 300)"
}

@test "logs: a tty container's output is on stdout" {
	moat_as run -d -t --name tt "$IMG" sh -c 'echo via-tty; echo err-via-tty >&2' >/dev/null
	moat_as wait tt >/dev/null
	run --separate-stderr moat_as logs tt
	assert_success
	strip_cr
	assert_line "via-tty"
	assert_line "err-via-tty"
	[[ -z $stderr ]] || fail "stderr: $stderr"
}

@test "logs: a created container has no output yet; a foreground --rm one is gone" {
	moat_as create --name cr "$IMG" echo never >/dev/null
	run --separate-stderr moat_as logs cr
	assert_success
	assert_output ""
	[[ -z $stderr ]] || fail "stderr: $stderr"
	moat_as rm cr >/dev/null
	# foreground --rm: the output went to the terminal, the container away
	run mrun --name fg "$IMG" echo straight-out
	assert_output "straight-out"
	run --separate-stderr moat_as logs fg
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: No such container: fg" ]] || fail "stderr: $stderr"
}

@test "logs: errors: unknown container, bad --tail, --since, --until, flags, arguments" {
	run --separate-stderr moat_as logs no-such-ctr
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: No such container: no-such-ctr" ]] || fail "stderr: $stderr"

	moat_as run -d --name bad "$IMG" echo x >/dev/null
	moat_as wait bad >/dev/null
	run --separate-stderr moat_as logs --tail lots bad
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *'"lots"'*"--tail"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as logs --tail 5x bad
	assert_failure 125
	assert_one_error_line
	run --separate-stderr moat_as logs --since yesterday bad
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *'invalid value for "since"'*'"yesterday"'* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as logs --until 2026-13-01 bad
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *'invalid value for "until"'*'"2026-13-01"'* ]] || fail "stderr: $stderr"
	# a bad value is reported even for a container that does not exist
	run --separate-stderr moat_as logs --since nope no-such-ctr
	assert_failure 1
	[[ $stderr == *'"nope"'* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as logs --no-such-flag bad
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"unknown flag: --no-such-flag"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as logs --tail
	assert_failure 125
	assert_one_error_line
	run --separate-stderr moat_as logs
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *'requires exactly 1 argument'* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as logs bad bad
	assert_failure 125
	assert_one_error_line
	# nothing of it changed the container or its log
	run moat_as logs bad
	assert_success
	assert_output "x"
}
