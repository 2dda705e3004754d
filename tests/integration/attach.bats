#!/usr/bin/env bats
# `moat attach`: joining a running container's stdio through its monitor:
# input (only with -i, not with --no-stdin), output while attached, the
# container's exit status, detach keys (the container keeps running, the
# terminal is restored), window size, signal proxying, Docker's errors.
#
# No test needs a real terminal: tty cases run attach on a pty that
# ptyrun.py (written by setup_file) drives step by step.

load ../lib/helpers

setup_file() {
	moat_setup_file || return 1
	# ptyrun.py CMD STEP...: runs `sh -c CMD` as the session leader of a
	# fresh 24x80 pty. Steps: send:TEXT (Python escapes: \n, \x10),
	# expect:TEXT (waits up to 20 s for it, past the previous match),
	# resize:ROWS,COLS, wait (up to 20 s for CMD to end). Prints what the
	# pty showed (without \r), then "exit=N" and "restored=yes|no" (the
	# pty's termios after CMD equal those before). Exit 3 if a step failed.
	cat >"$MOAT_T/ptyrun.py" <<'PY'
import fcntl, os, select, struct, subprocess, sys, termios, time

def winsz(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

cmd, steps = sys.argv[1], sys.argv[2:]
m, s = os.openpty()
winsz(s, 24, 80)
before = termios.tcgetattr(s)

def child():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)

p = subprocess.Popen(["sh", "-c", cmd], stdin=s, stdout=s, stderr=s,
                     preexec_fn=child, close_fds=True)
buf = bytearray()
pos = 0

def pump(t):
    if select.select([m], [], [], t)[0]:
        try:
            buf.extend(os.read(m, 65536))
        except OSError:
            time.sleep(t)

def show():
    sys.stdout.write(buf.decode("utf-8", "replace").replace("\r", ""))

def fail(why):
    show()
    print("\nptyrun: " + why)
    if p.poll() is None:
        p.kill()
    p.wait()
    sys.exit(3)

for st in steps:
    kind, _, arg = st.partition(":")
    if kind == "expect":
        want, end = arg.encode(), time.time() + 20
        while buf.find(want, pos) < 0:
            if time.time() > end:
                fail("never saw %r" % arg)
            pump(0.1)
        pos = buf.find(want, pos) + len(want)
    elif kind == "send":
        os.write(m, arg.encode().decode("unicode_escape").encode("latin-1"))
    elif kind == "resize":
        rows, cols = arg.split(",")
        winsz(m, int(rows), int(cols))
    elif kind == "wait":
        end = time.time() + 20
        while p.poll() is None:
            if time.time() > end:
                fail("still running after 20 s")
            pump(0.05)
        pump(0.2)
    else:
        fail("bad step " + st)
if p.poll() is None:
    fail("the command still runs after the last step")
show()
print("\nexit=%d" % p.returncode)
print("restored=%s" % ("yes" if termios.tcgetattr(s) == before else "no"))
PY
}

teardown() {
	local id
	for id in $(moat_as ps -aq --no-trunc 2>/dev/null); do
		moat_as rm -f "$id" >/dev/null 2>&1 || true
	done
	moat_check_clean
}

# ptyrun "ATTACH ARGS" STEP...: `moat attach ARGS` (as the identity under
# test) on a pty.
ptyrun() {
	local args=$1
	shift
	# shellcheck disable=SC2086 # ARGS are words
	python3 "$MOAT_T/ptyrun.py" "$(moat_cmdline attach $args)" "$@"
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

# wait_logs_have NAME TEXT: up to 10 s for the container's log to hold TEXT.
wait_logs_have() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(moat_as logs "$1" 2>&1) == *"$2"* ]] && return 0
		sleep 0.1
	done
	return 1
}

# The pid of `moat attach ... NAME` (the moat process itself, also when
# the identity under test runs it through runuser).
attach_pid() {
	local p
	for p in $(pids_with_arg "$MOAT" "$1"); do
		if tr '\0' ' ' <"/proc/$p/cmdline" | grep -q " attach "; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# ps_line NAME: the container's line of `moat ps -a` (by its id: the
# names link is how a name is reserved).
ps_line() {
	local id
	id=$(readlink "$MOAT_STATE/root/names/$1") || return 1
	moat_as ps -a | grep "^${id:0:12} "
}

# status_is NAME REGEX: its ps line matches REGEX ("  Up ", "Exited \(3\)").
status_is() {
	local line
	line=$(ps_line "$1")
	[[ $line =~ $2 ]] || fail "$1: status does not match /$2/: $line"
}

@test "attach: -i without tty: our stdin reaches the container, its output and exit status come back" {
	moat_as run -d -i --name cat1 "$IMG" cat >/dev/null
	run --separate-stderr moat_as attach cat1 <<<"hi there"
	assert_success
	assert_output "hi there"
	[[ -z $stderr ]] || fail "stderr: $stderr"
	# end of our input ended cat: the container exited 0
	status_is cat1 "  Exited \(0\) "
	run moat_as logs cat1
	assert_output "hi there"
	run moat_as rm cat1
	assert_success
}

@test "attach: output from before the attach is not replayed; what follows is, with the exit code" {
	moat_as run -d -i --name late "$IMG" sh -c 'echo early; read x; echo "late:$x"; echo "err:$x" >&2; exit 7' >/dev/null
	wait_logs_have late early || fail "the container never printed early"
	run --separate-stderr moat_as attach late <<<"word"
	assert_failure 7
	assert_output "late:word"
	[[ $stderr == "err:word" ]] || fail "stderr: $stderr"
	# logs has all of it
	run --separate-stderr moat_as logs late
	assert_output $'early\nlate:word'
}

@test "attach: --no-stdin leaves the container's input alone; a stop ends the attach with its status" {
	moat_as run -d -i --name ns "$IMG" sh -c 'while :; do if read -t 1 x; then echo "in:$x"; fi; echo tick; done' >/dev/null
	local out=$MOAT_T/scratch/ns.out
	echo "must-not-arrive" | moat_as attach --no-stdin ns >"$out" 2>&1 3>&- &
	local bg=$!
	wait_file_has "$out" tick || { kill "$bg"; fail "attach printed nothing: $(cat "$out")"; }
	# time for the input to arrive, had it been sent (read -t returns at once)
	sleep 0.5
	run moat_as stop -t 1 ns
	assert_success
	local rc=0
	wait "$bg" || rc=$?
	[[ $rc -eq 137 ]] || fail "attach exited $rc, expected 137 (the container's SIGKILL)"
	! grep -q "in:" "$out" || fail "input reached the container: $(cat "$out")"
	status_is ns "  Exited \(137\) "
}

@test "attach: without -i our end of input changes nothing; output and exit status still come" {
	moat_as run -d --name noi "$IMG" sh -c 'trap "echo bye; exit 4" TERM; while :; do echo tick; sleep 0.2; done' >/dev/null
	local out=$MOAT_T/scratch/noi.out
	moat_as attach noi </dev/null >"$out" 2>&1 3>&- &
	local bg=$!
	wait_file_has "$out" tick || { kill "$bg"; fail "attach printed nothing: $(cat "$out")"; }
	status_is noi "  Up "
	run moat_as stop noi
	assert_success
	local rc=0
	wait "$bg" || rc=$?
	[[ $rc -eq 4 ]] || fail "attach exited $rc, expected 4: $(cat "$out")"
	[[ $(tail -n 1 "$out") == bye ]] || fail "output: $(cat "$out")"
}

@test "attach: tty: typed input, window size at attach and on resize, default detach keys" {
	moat_as run -d -it --name tty1 "$IMG" sh >/dev/null
	# shellcheck disable=SC2016
	run ptyrun "tty1" \
		'send:echo "mar""ker"\n' expect:marker \
		'send:stty size\n' 'expect:24 80' \
		resize:33,111 'send:stty size\n' 'expect:33 111' \
		'send:\x10\x11' wait
	assert_success
	assert_line "exit=0"
	assert_line "restored=yes"
	# detached: nothing more printed, the container still runs
	status_is tty1 "  Up "
	# and can be attached again
	run ptyrun "tty1" 'send:echo "again""2"\n' expect:again2 'send:\x10\x11' wait
	assert_success
	assert_line "exit=0"
	status_is tty1 "  Up "
	run moat_as rm -f tty1
	assert_success
}

@test "attach: tty: the container's exit ends the attach with its code and restores the terminal" {
	moat_as run -d -it --name tty2 "$IMG" sh >/dev/null
	run ptyrun "tty2" 'send:echo "up""now"\n' expect:upnow 'send:exit 5\n' wait
	assert_success
	assert_line "exit=5"
	assert_line "restored=yes"
	status_is tty2 "  Exited \(5\) "
}

@test "attach: --detach-keys: a partial sequence is passed on, the full one detaches" {
	moat_as run -d -it --name dk "$IMG" sh >/dev/null
	# keys q then z: "q1q2" holds each q back and must still deliver it
	run ptyrun "--detach-keys=q,z dk" \
		'send:echo "st""art"\n' expect:start \
		'send:echo q1qq2 | tr q Q\n' expect:Q1QQ2 \
		'send:qz' wait
	assert_success
	assert_line "exit=0"
	assert_line "restored=yes"
	status_is dk "  Up "
	# control keys in Docker's syntax
	run ptyrun "--detach-keys ctrl-a,ctrl-\\ dk" 'send:echo "b""c"\n' expect:bc 'send:\x01\x1c' wait
	assert_success
	assert_line "exit=0"
	status_is dk "  Up "
}

@test "attach: the default detach keys work without a tty too" {
	moat_as run -d -i --name dn "$IMG" cat >/dev/null
	run --separate-stderr moat_as attach dn < <(printf 'before\n\x10\x11after\n')
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	# what came before the keys reached cat; what came after did not,
	# and no end of input either: cat still runs
	wait_logs_have dn before || fail "before never reached the container"
	status_is dn "  Up "
	run moat_as logs dn
	assert_output "before"
}

@test "attach: a tty container needs a terminal on stdin (Docker's message), unless --no-stdin" {
	moat_as run -d -it --name nt "$IMG" sh -c 'while :; do echo tock; sleep 0.2; done' >/dev/null
	run --separate-stderr moat_as attach nt </dev/null
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: the input device is not a TTY" ]] || fail "stderr: $stderr"
	status_is nt "  Up "
	local out=$MOAT_T/scratch/nt.out
	moat_as attach --no-stdin nt </dev/null >"$out" 2>&1 3>&- &
	local bg=$!
	wait_file_has "$out" tock || { kill "$bg"; fail "attach printed nothing: $(cat "$out")"; }
	run moat_as stop -t 1 nt
	assert_success
	local rc=0
	wait "$bg" || rc=$?
	[[ $rc -eq 137 ]] || fail "attach exited $rc, expected 137"
}

@test "attach: --sig-proxy (default, no tty) forwards SIGTERM to the container" {
	moat_as run -d --name sp "$IMG" sh -c 'trap "echo got-term; exit 3" TERM; while :; do echo tick; sleep 0.2; done' >/dev/null
	local out=$MOAT_T/scratch/sp.out pid
	moat_as attach --no-stdin sp >"$out" 2>&1 3>&- &
	local bg=$!
	wait_file_has "$out" tick || { kill "$bg"; fail "attach printed nothing"; }
	pid=$(attach_pid sp) || { kill "$bg"; fail "no attach process"; }
	kill -TERM "$pid"
	local rc=0
	wait "$bg" || rc=$?
	[[ $rc -eq 3 ]] || fail "attach exited $rc, expected the container's 3: $(cat "$out")"
	grep -q got-term "$out" || fail "the container never saw SIGTERM: $(cat "$out")"
	status_is sp "  Exited \(3\) "
}

@test "attach: --sig-proxy=false: SIGTERM ends the attach, not the container" {
	moat_as run -d --name np "$IMG" sh -c 'trap "echo got-term; exit 3" TERM; while :; do echo tick; sleep 0.2; done' >/dev/null
	local out=$MOAT_T/scratch/np.out pid
	moat_as attach --sig-proxy=false --no-stdin np >"$out" 2>&1 3>&- &
	local bg=$!
	wait_file_has "$out" tick || { kill "$bg"; fail "attach printed nothing"; }
	pid=$(attach_pid np) || { kill "$bg"; fail "no attach process"; }
	kill -TERM "$pid"
	wait "$bg" || true
	# ended by the signal itself (no handler left it half-done)
	[[ ! -e /proc/$pid ]] || fail "attach still runs"
	! grep -q got-term "$out" || fail "the signal reached the container"
	status_is np "  Up "
}

@test "attach: its monitor killed: the attach ends with 1 (exit code unknown)" {
	moat_as run -d --name mk "$IMG" sh -c 'while :; do echo tick; sleep 0.2; done' >/dev/null
	local out=$MOAT_T/scratch/mk.out p mon=
	moat_as attach --no-stdin mk >"$out" 2>&1 3>&- &
	local bg=$!
	wait_file_has "$out" tick || { kill "$bg"; fail "attach printed nothing"; }
	for p in $(pids_with_arg "$MOAT" mk); do
		tr '\0' ' ' <"/proc/$p/cmdline" | grep -q " run " && mon=$p
	done
	[[ -n $mon ]] || { kill "$bg"; fail "no monitor found"; }
	kill -KILL "$mon"
	local rc=0
	wait "$bg" || rc=$?
	[[ $rc -eq 1 ]] || fail "attach exited $rc: $(cat "$out")"
}

@test "attach: refused for a stopped, a created or an unknown container (exit 1, Docker's words)" {
	moat_as run -d --name st "$IMG" true >/dev/null
	moat_as wait st >/dev/null
	run --separate-stderr moat_as attach st
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: You cannot attach to a stopped container, start it first" ]] ||
		fail "stderr: $stderr"
	moat_as create --name cr "$IMG" true >/dev/null
	run --separate-stderr moat_as attach cr
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: You cannot attach to a stopped container, start it first" ]] ||
		fail "stderr: $stderr"
	run --separate-stderr moat_as attach no-such-ctr
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: No such container: no-such-ctr" ]] || fail "stderr: $stderr"
	# nothing changed: both still there, in their states
	status_is st "  Exited \(0\) "
	status_is cr "  Created"
}

@test "attach: refused for a paused container (Docker's words)" {
	moat_as run -d --name pz "$IMG" sleep 60 >/dev/null
	if ! out=$(moat_as pause pz 2>&1); then
		skip "pause is not available here: $out"
	fi
	run --separate-stderr moat_as attach pz
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: You cannot attach to a paused container, unpause it first" ]] ||
		fail "stderr: $stderr"
	moat_as unpause pz >/dev/null
}

@test "attach: bad flags and arguments" {
	moat_as run -d --name bf "$IMG" sleep 60 >/dev/null
	run --separate-stderr moat_as attach --detach-keys ctrl-shift-x bf
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: Invalid detach keys (ctrl-shift-x) provided" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as attach --detach-keys "ctrl-p,," bf
	assert_failure 1
	assert_one_error_line
	run --separate-stderr moat_as attach --sig-proxy=maybe bf
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *'invalid argument "maybe" for "--sig-proxy" flag'* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as attach --no-such-flag bf
	assert_failure 125
	assert_one_error_line
	run --separate-stderr moat_as attach
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"requires exactly 1 argument"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as attach bf bf
	assert_failure 125
	assert_one_error_line
	# none of that touched the container
	status_is bf "  Up "
}
