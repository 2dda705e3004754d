#!/usr/bin/env bats
# The verbs that look at a container from outside: top (the host's ps,
# filtered to the container's processes), stats (cgroup figures, or "--"
# and a reason where the host has none to give), diff (its writable layer
# against its image) and port (no published ports yet). Each is checked
# against Docker's output, messages and exit codes, as root and rootless.
#
# Containers here outlive one moat invocation: every test removes what it
# made, and teardown removes whatever a failing test left before the leak
# check runs.

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
	moat_check_clean
}

# start NAME MARKER [RUN OPTIONS...]: a detached container whose process
# (/probe sleep) carries MARKER; prints its host pid.
start() {
	local name=$1 mk=$2
	shift 2
	moat_as run -d --name "$name" "$@" "$IMG" /probe sleep 300 "$mk" >/dev/null ||
		fail "run -d $name failed"
	wait_for_pid /probe "$mk" 10 || fail "$name never started"
}

# The PID column of `top`'s rows (after `run moat_as top ...`).
top_pids() { sed -n '2,$p' <<<"$output" | awk '{print $2}'; }

# ---- top ----

@test "top: Docker's ps -ef table with exactly the container's processes" {
	local mk pid pid2
	mk=$(marker)
	pid=$(start tp "$mk")
	run --separate-stderr moat_as top tp
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	# Docker's tabwriter: columns of at least 20, padding 3
	[[ ${lines[0]} =~ ^UID\ {17}PID\ {17}PPID\ {16}C\ {19}STIME\ {15}TTY\ {17}TIME\ {16}CMD$ ]] ||
		fail "header: '${lines[0]}'"
	[[ ${#lines[@]} -eq 2 ]] || fail "expected one process:"$'\n'"$output"
	[[ $(top_pids) == "$pid" ]] || fail "pid $(top_pids), expected $pid"
	[[ ${lines[1]} == *"/probe sleep 300 $mk" ]] || fail "row: ${lines[1]}"
	# a process exec'd into it shows up too; the host's (this shell, init) do not
	moat_as exec -d tp /probe sleep 301 "$mk-2" >/dev/null
	pid2=$(wait_for_pid /probe "$mk-2" 10) || fail "exec'd process never started"
	run moat_as top tp
	assert_success
	[[ $(top_pids | sort -n | tr '\n' ' ') == "$(printf '%s\n' "$pid" "$pid2" | sort -n | tr '\n' ' ')" ]] ||
		fail "pids: $(top_pids | tr '\n' ' '), expected $pid $pid2"
	refute_line --regexp "^[^ ]+ +1 "
	refute_line --regexp "^[^ ]+ +$$ "
	moat_as rm -f tp >/dev/null
}

@test "top: ps options pass through one argument each (-o pid,comm; aux)" {
	local mk pid
	mk=$(marker)
	pid=$(start tpo "$mk")
	run --separate-stderr moat_as top tpo -o pid,comm
	assert_success
	assert_equal "${lines[0]}" "PID                 COMMAND"
	[[ ${lines[1]} =~ ^$pid\ +probe$ ]] || fail "row: ${lines[1]}"
	[[ ${#lines[@]} -eq 2 ]] || fail "$output"
	run moat_as top tpo aux
	assert_success
	[[ ${lines[0]} =~ ^USER\ +PID\ +%CPU\ +%MEM ]] || fail "header: ${lines[0]}"
	[[ $(top_pids) == "$pid" ]] || fail "$output"
	moat_as rm -f tpo >/dev/null
}

@test "top: no PID column, a bad ps option, a disguised PID column: 1 and one line" {
	local mk
	mk=$(marker)
	start tpe "$mk" >/dev/null
	run --separate-stderr moat_as top tpe -o comm
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: Couldn't find PID field in ps output"
	assert_output ""
	run --separate-stderr moat_as top tpe --no-such-ps-option
	assert_failure 1
	assert_one_error_line
	assert_output ""
	run --separate-stderr moat_as top tpe -o user=PID
	assert_failure 1
	assert_equal "$stderr" "moat: specifying \"user=PID\" is not allowed"
	moat_as rm -f tpe >/dev/null
}

@test "top: a stopped or unknown container is 1 with Docker's message; no container is 125" {
	moat_as create --name tps "$IMG" true >/dev/null
	run --separate-stderr moat_as top tps
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: container tps is not running"
	run --separate-stderr moat_as top no-such-ctr
	assert_failure 1
	assert_equal "$stderr" "moat: No such container: no-such-ctr"
	run --separate-stderr moat_as top
	assert_failure 125
	assert_one_error_line
	moat_as rm tps >/dev/null
}

@test "top, stats: a paused container is still shown (root: the cgroup freezer)" {
	is_root_identity || skip "pause needs the cgroup freezer: root only on this host"
	local mk pid
	mk=$(marker)
	pid=$(start tpp "$mk")
	moat_as pause tpp >/dev/null
	run --separate-stderr moat_as top tpp -o pid,comm
	assert_success
	[[ ${lines[1]} =~ ^$pid\ +probe$ ]] || fail "$output"
	run --separate-stderr moat_as stats --no-stream --format '{{.Name}} {{.PIDs}}' tpp
	assert_success
	assert_output "tpp 1"
	moat_as unpause tpp >/dev/null
	moat_as rm -f tpp >/dev/null
}

# ---- stats ----

STATS_HEADER_RE='^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$'

@test "stats --no-stream: Docker's columns, one row per running container, PIDS counted" {
	local mk id
	mk=$(marker)
	start st1 "$mk" >/dev/null
	moat_as exec -d st1 /probe sleep 301 "$mk-2" >/dev/null
	wait_for_pid /probe "$mk-2" 10 >/dev/null || fail "exec'd process never started"
	id=$(moat_as ps -q)
	run --separate-stderr moat_as stats --no-stream
	assert_success
	[[ ${lines[0]} =~ $STATS_HEADER_RE ]] || fail "header: ${lines[0]}"
	[[ ${#lines[@]} -eq 2 ]] || fail "$output"
	if is_root_identity; then
		# CPU %, "usage / limit" with Docker's binary units, MEM %, --, --, 2 processes
		[[ ${lines[1]} =~ ^$id\ +st1\ +[0-9]+\.[0-9]{2}%\ +([0-9.]+)(B|KiB|MiB|GiB)\ /\ [0-9.]+(KiB|MiB|GiB|TiB)\ +[0-9]+\.[0-9]{2}%\ +--\ +--\ +2$ ]] ||
			fail "row: ${lines[1]}"
		[[ ${BASH_REMATCH[1]} != 0 ]] || fail "no memory use: ${lines[1]}"
		[[ -z $stderr ]] || fail "stderr: $stderr"
	else
		# no cgroup: what the host cannot give is "--", processes still counted
		[[ ${lines[1]} =~ ^$id\ +st1\ +--\ +--\ /\ --\ +--\ +--\ +--\ +2$ ]] ||
			fail "row: ${lines[1]}"
		assert_equal "$(grep -c . <<<"$stderr")" 1
		[[ $stderr == "moat: cgroup statistics are not available: "* ]] || fail "stderr: $stderr"
	fi
	moat_as rm -f st1 >/dev/null
}

@test "stats: -a adds stopped containers (zeros), names select, --format and --no-trunc" {
	local mk id
	mk=$(marker)
	start st2 "$mk" >/dev/null
	moat_as create --name st2stopped "$IMG" true >/dev/null
	id=$(moat_as ps -q --no-trunc)
	run --separate-stderr moat_as stats --no-stream -a
	assert_success
	[[ ${#lines[@]} -eq 3 ]] || fail "$output"
	assert_line --regexp '^[0-9a-f]{12} +st2stopped +0\.00% +0B / 0B +0\.00% +-- +-- +0$'
	run --separate-stderr moat_as stats --no-stream --format '{{.Name}}:{{.PIDs}}:{{.ID}}' \
		--no-trunc st2 st2stopped
	assert_success
	assert_equal "${lines[0]}" "st2:1:$id"
	[[ ${lines[1]} =~ ^st2stopped:0:[0-9a-f]{64}$ ]] || fail "${lines[1]}"
	run --separate-stderr moat_as stats --no-stream --format 'table {{.Container}}\t{{.PIDs}}' st2
	assert_success
	assert_equal "${lines[0]}" "CONTAINER   PIDS"
	assert_equal "${lines[1]}" "st2         1"
	moat_as rm -f st2 st2stopped >/dev/null
}

@test "stats: a busy container's CPU % is above zero (root: cgroup accounting)" {
	is_root_identity || skip "rootless containers have no cgroup on this host (CPU % is --)"
	moat_as run -d --name busy "$IMG" sh -c 'while :; do :; done' >/dev/null
	run --separate-stderr moat_as stats --no-stream --format '{{.CPUPerc}}' busy
	assert_success
	[[ $output =~ ^([0-9]+)\.([0-9]{2})%$ ]] || fail "CPU: $output"
	# 500 ms of a spinning shell: at least 1% even on a loaded host
	((10#${BASH_REMATCH[1]} >= 1)) || fail "CPU: $output"
	moat_as rm -f busy >/dev/null
}

@test "stats: an unknown container or template is an error and prints no table" {
	run --separate-stderr moat_as stats --no-stream no-such-ctr
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: No such container: no-such-ctr"
	assert_output ""
	run --separate-stderr moat_as stats --no-stream --format '{{.Name'
	assert_failure 125
	assert_one_error_line
	[[ $stderr == "moat: template: "* ]] || fail "$stderr"
	assert_output ""
	run --separate-stderr moat_as stats --no-stream --bogus
	assert_failure 125
	assert_one_error_line
}

# ---- diff ----

@test "diff: A, C and D in Docker's order; moat's own mount files are not changes" {
	local mk
	mk=$(marker)
	start df "$mk" >/dev/null
	# a fresh container: its /etc/hosts, hostname, resolv.conf are moat's
	run --separate-stderr moat_as diff df
	assert_success
	assert_output ""
	[[ -z $stderr ]] || fail "stderr: $stderr"
	moat_as exec df sh -c 'echo x >>/etc/passwd && rm /etc/group && echo hi >/tmp/new &&
		mkdir -p /tmp/d/e && touch /tmp/d/e/f && ln -s / /tmp/rootlink'
	run --separate-stderr moat_as diff df
	assert_success
	assert_output "C /etc
D /etc/group
C /etc/passwd
C /tmp
A /tmp/d
A /tmp/d/e
A /tmp/d/e/f
A /tmp/new
A /tmp/rootlink"
	# the same once it is stopped
	moat_as stop -t 0 df >/dev/null
	run moat_as diff df
	assert_success
	assert_line --index 0 "C /etc"
	assert_line --index 8 "A /tmp/rootlink"
	[[ ${#lines[@]} -eq 9 ]] || fail "$output"
	moat_as rm -f df >/dev/null
}

@test "diff: a directory removed and made again is C, what it held below is D" {
	# landlock off: moat's Landlock rules keep "/" itself read-only
	moat_as run --name dfo --security-opt landlock=off "$IMG" \
		sh -c 'rm -rf /home && mkdir /home && touch /home/new'
	run --separate-stderr moat_as diff dfo
	assert_success
	assert_output "C /home
D /home/moat
A /home/new"
	moat_as rm dfo >/dev/null
}

@test "diff: a directory the invoker cannot read is reported without its contents, once on stderr" {
	moat_as run --name dfu "$IMG" sh -c 'mkdir /tmp/priv && touch /tmp/priv/f &&
		chown -R 1000:1000 /tmp/priv && chmod 700 /tmp/priv'
	run --separate-stderr moat_as diff dfu
	assert_success
	if is_rootless && [[ $(moat_as info) == *subordinate* ]]; then
		# subuid mode: container uid 1000 is not the invoker
		assert_output "C /tmp
A /tmp/priv"
		assert_equal "$(grep -c . <<<"$stderr")" 1
		[[ $stderr == *'"/tmp/priv"'*"Permission denied"* ]] || fail "stderr: $stderr"
	else
		assert_output "C /tmp
A /tmp/priv
A /tmp/priv/f"
		[[ -z $stderr ]] || fail "stderr: $stderr"
	fi
	moat_as rm dfu >/dev/null
}

@test "diff: unknown container is 1, a wrong number of arguments 125" {
	run --separate-stderr moat_as diff no-such-ctr
	assert_failure 1
	assert_equal "$stderr" "moat: No such container: no-such-ctr"
	run --separate-stderr moat_as diff
	assert_failure 125
	assert_one_error_line
	run --separate-stderr moat_as diff a b
	assert_failure 125
	assert_one_error_line
}

# ---- port ----

@test "port: no ports published: nothing listed, any one asked for is Docker's error (1)" {
	moat_as create --name pt "$IMG" true >/dev/null
	run --separate-stderr moat_as port pt
	assert_success
	assert_output ""
	[[ -z $stderr ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as port pt 80
	assert_failure 1
	assert_equal "$stderr" "moat: No public port '80/tcp' published for pt"
	run --separate-stderr moat_as port pt 53/udp
	assert_failure 1
	assert_equal "$stderr" "moat: No public port '53/udp' published for pt"
	moat_as rm pt >/dev/null
}

@test "port: a bad port spec or unknown container is 1 with one line; bad usage 125" {
	moat_as create --name pt2 "$IMG" true >/dev/null
	local spec
	for spec in abc 65536 -1 80/xyz "" 8080/; do
		run --separate-stderr moat_as port pt2 "$spec"
		assert_failure 1
		assert_one_error_line
		[[ $stderr == *"invalid p"* ]] || fail "'$spec': $stderr"
	done
	run --separate-stderr moat_as port no-such-ctr 80
	assert_failure 1
	assert_equal "$stderr" "moat: No such container: no-such-ctr"
	run --separate-stderr moat_as port
	assert_failure 125
	assert_one_error_line
	run --separate-stderr moat_as port pt2 80 81
	assert_failure 125
	assert_one_error_line
	moat_as rm pt2 >/dev/null
}
