#!/usr/bin/env bats
# `moat exec` is never less confined than its container.
#
# The same probe runs twice in one container: once as a child of the
# container's own init (what `run` set up) and once through `moat exec`;
# the lines that describe confinement must be identical: capabilities (all
# five sets), no_new_privs, seccomp mode, Landlock, uid/gid maps, every
# namespace, the open fds, and the outcome of every forbidden operation
# the probe tries (`probe deny`: the filter, mounts and masks as they
# behave, not only as they are described). The filter an exec loads is
# the one compiled at create (ROOT/containers/<id>/seccomp.bpf): editing
# the profile file afterwards changes nothing, and the audit log shows the
# same program hash for start and exec.
#
# CVE-2016-9962 (runc exec): a process in the container ptraced the runtime
# helper while it still held host fds. Here the helper joins the
# container's namespaces except its pid namespace (setns(CLONE_NEWPID)
# only moves children), so the container cannot even see it; the tests
# check that from the inside (no moat process among the visible pids,
# the helper's host pids reach nothing) and from the outside (the helper
# and the `moat exec` process are not traceable by the container's own
# user on the host, with a control that an ordinary process is).

load ../lib/helpers

teardown() {
	local ids
	ids=$(moat_as ps -aq --no-trunc 2>/dev/null) || true
	# shellcheck disable=SC2086
	[[ -z $ids ]] || moat_as rm -f $ids >/dev/null 2>&1 || true
	moat_check_clean
}

# What describes confinement in `probe status` (pid, hostname and cwd do
# not; mountinfo is compared on its own).
CONFINEMENT='^(NoNewPrivs|Seccomp|CapInh|CapPrm|CapEff|CapBnd|CapAmb|Uid|Gid|Groups|uid_map|gid_map|Landlock|fds|ns\.[a-z]+):'

# The container's output so far (its json.log), as the container wrote it.
ctr_log() { jq -rj .log "$MOAT_STATE/root/containers/$1/json.log"; }

wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

log_has_line() { ctr_log "$1" | grep -qx -- "$2"; }

# start_measured NAME RUN-FLAGS...: a container whose init runs `probe
# status` and `probe deny` (as its children) and then sleeps; prints the
# id once the output is complete.
start_measured() {
	local name=$1 id
	shift
	id=$(moat_as run -d --name "$name" "$@" "$IMG" \
		sh -c '/probe status; echo ===; /probe deny; echo ===end; exec /probe sleep 100') || return 1
	wait_until 10 log_has_line "$id" "===end" || {
		echo "the container never finished measuring: $(ctr_log "$id")" >&2
		return 1
	}
	echo "$id"
}

# compare ID NAME [EXEC-FLAGS...]: the same measurements through exec,
# compared line by line with the container's own. Unless LOOSE is set
# (a profile that allows what the probe tries), every protection must
# also hold.
compare() {
	local id=$1 name=$2 run_out exec_out
	shift 2
	run_out=$(ctr_log "$id")
	exec_out=$(moat_as exec "$@" "$name" sh -c '/probe status; echo ===; /probe deny; echo ===end') ||
		true
	[[ $exec_out == *"===end"* ]] || fail "exec did not complete: $exec_out"
	local a b
	a=$(grep -E "$CONFINEMENT" <<<"${run_out%%===*}")
	b=$(grep -E "$CONFINEMENT" <<<"${exec_out%%===*}")
	[[ -n $a ]] || fail "no status from the container: $run_out"
	[[ $a == "$b" ]] || fail "status differs (run < > exec):"$'\n'"$(diff <(echo "$a") <(echo "$b"))"
	# the mount table: the same namespace, so the same lines
	a=$(grep '^mountinfo: ' <<<"${run_out%%===*}")
	b=$(grep '^mountinfo: ' <<<"${exec_out%%===*}")
	[[ $a == "$b" ]] || fail "mounts differ (run < > exec):"$'\n'"$(diff <(echo "$a") <(echo "$b"))"
	# every forbidden operation ends the same way
	a=$(sed -n '/^===$/,/^===end$/p' <<<"$run_out" | grep ' expected=')
	b=$(sed -n '/^===$/,/^===end$/p' <<<"$exec_out" | grep ' expected=')
	if [[ -n ${LOOSE:-} ]]; then
		# With keyctl allowed, the session keyring is whatever the
		# starting process had: a detached container's came from a
		# runuser session that has since ended (revoked), the exec's
		# from one still open. That is the caller's keyring, not
		# confinement (the default profile denies these: compared).
		a=$(grep -vE '^(keyctl|add-key|request-key) ' <<<"$a")
		b=$(grep -vE '^(keyctl|add-key|request-key) ' <<<"$b")
	fi
	[[ -n $a ]] || fail "no deny results from the container"
	[[ $a == "$b" ]] || fail "deny results differ (run < > exec):"$'\n'"$(diff <(echo "$a") <(echo "$b"))"
	# and they are the protections holding, not failing the same way
	[[ -n ${LOOSE:-} ]] || ! grep -q ' FAIL$' <<<"$b" || fail "exec: $(grep ' FAIL$' <<<"$b")"
}

# ---- the same confinement ----

@test "exec: identical confinement to the container (default settings)" {
	local id
	id=$(start_measured same)
	compare "$id" same
	output=$(ctr_log "$id")
	[[ $(status_value CapEff) == "$CAPS_DEFAULT" ]] || fail "CapEff $(status_value CapEff)"
	[[ $(status_value NoNewPrivs) == 1 ]] || fail "NoNewPrivs $(status_value NoNewPrivs)"
	[[ $(status_value Seccomp) == 2 ]] || fail "Seccomp $(status_value Seccomp)"
	[[ $(status_value fds) == "0 1 2" ]] || fail "fds $(status_value fds)"
}

@test "exec: identical confinement with --cap-drop ALL (no capability comes back)" {
	local id
	id=$(start_measured nocaps --cap-drop ALL)
	compare "$id" nocaps
	output=$(ctr_log "$id")
	[[ $(status_value CapEff) == "$CAPS_NONE" ]] || fail "CapEff $(status_value CapEff)"
	[[ $(status_value CapBnd) == "$CAPS_NONE" ]] || fail "CapBnd $(status_value CapBnd)"
	# an exec as another user does not regain any either
	run moat_as exec -u 0 nocaps /probe status
	assert_success
	[[ $(status_value CapBnd) == "$CAPS_NONE" ]] || fail "exec -u 0: CapBnd $(status_value CapBnd)"
	[[ $(status_value CapEff) == "$CAPS_NONE" ]] || fail "exec -u 0: CapEff $(status_value CapEff)"
}

@test "exec: identical confinement in a container run as uid 1000, and exec -u 1000 matches" {
	local id
	id=$(start_measured u1000 -u 1000)
	compare "$id" u1000 -u 1000
	output=$(ctr_log "$id")
	[[ $(status_value CapEff) == "$CAPS_NONE" ]] || fail "CapEff $(status_value CapEff)"
}

@test "exec: identical confinement with --read-only and --cap-drop CHOWN --cap-add NET_RAW" {
	local id
	id=$(start_measured mixed --read-only --cap-drop CHOWN --cap-add NET_RAW)
	compare "$id" mixed
	# the read-only root holds for the exec too
	run moat_as exec mixed /probe write /etc/x
	assert_failure
	assert_output "write /etc/x EROFS"
}

@test "exec: identical confinement with a custom seccomp profile; its rule holds in the exec" {
	local prof=$MOAT_T/scratch/deny-mkdir.json id
	cat >"$prof" <<'JSON'
{
  "defaultAction": "SCMP_ACT_ALLOW",
  "syscalls": [
    { "names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1 }
  ]
}
JSON
	chmod 0644 "$prof"
	id=$(start_measured custom --security-opt seccomp="$prof")
	# the profile allows what the default denies: compare, do not judge
	LOOSE=1 compare "$id" custom
	run moat_as exec custom mkdir /tmp/newdir
	assert_failure
	assert_output --partial "Operation not permitted"
	# control: the default profile lets mkdir through
	moat_as run -d --name plain "$IMG" sleep 100 >/dev/null
	run moat_as exec plain mkdir /tmp/newdir
	assert_success
}

@test "exec: a profile edited or deleted after create changes nothing: the filter is the one compiled at create" {
	local prof=$MOAT_T/scratch/edit.json id
	printf '%s\n' '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}' >"$prof"
	chmod 0644 "$prof"
	id=$(moat_as create --name frozenfilter --security-opt seccomp="$prof" "$IMG" sleep 100)
	# after create: allow everything, and deny what the exec will need
	printf '%s\n' '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}' >"$prof"
	moat_as start frozenfilter >/dev/null
	run moat_as exec frozenfilter mkdir /tmp/d1
	assert_failure
	assert_output --partial "Operation not permitted"
	run moat_as exec frozenfilter uname -s
	assert_success
	assert_output Linux
	# the file gone altogether: start and exec still have their filter
	rm -f "$prof"
	moat_as stop -t 0 frozenfilter >/dev/null
	run moat_as start frozenfilter
	assert_success
	run moat_as exec frozenfilter mkdir /tmp/d2
	assert_failure
	assert_output --partial "Operation not permitted"
	# the audit log: every exec loaded the program every start loaded
	local starts execs
	starts=$(jq -r "select(.event == \"container.start\" and .container == \"$id\") | .seccomp.bpf_sha256" \
		"$MOAT_STATE/audit/audit.log" | sort -u)
	execs=$(jq -r "select(.event == \"container.exec\" and .container == \"$id\") | .bpf_sha256" \
		"$MOAT_STATE/audit/audit.log" | sort -u)
	[[ $starts =~ ^[0-9a-f]{64}$ ]] || fail "start hashes: '$starts'"
	[[ $execs == "$starts" ]] || fail "exec hashes '$execs' != start hash '$starts'"
	# control: a container created now gets the file as it is now (gone)
	run --separate-stderr moat_as create --security-opt seccomp="$prof" "$IMG" true
	assert_failure 125
}

@test "exec: in an unconfined container (seccomp=unconfined, landlock=off) the exec matches too" {
	local id
	id=$(start_measured loose --security-opt seccomp=unconfined --security-opt landlock=off)
	# what the probe tries mostly succeeds here: compare, do not judge
	LOOSE=1 compare "$id" loose
	local run_out
	run_out=$(ctr_log "$id")
	output=$run_out
	[[ $(status_value Seccomp) == 0 ]] || fail "Seccomp $(status_value Seccomp)"
}

@test "exec --privileged is refused (125) and runs nothing" {
	moat_as run -d --name nopriv "$IMG" sleep 100 >/dev/null
	run --separate-stderr moat_as exec --privileged nopriv touch /tmp/ran
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *privileged* ]] || fail "$stderr"
	run moat_as exec nopriv ls /tmp/ran
	assert_failure
	# nothing about it reached the audit log as an exec either
	run jq -r 'select(.event == "container.exec") | .argv | join(" ")' "$MOAT_STATE/audit/audit.log"
	refute_line "touch /tmp/ran"
}

@test "exec -t leaves the container's mount table as it was (no pty bound over /dev/console)" {
	local before after
	moat_as run -d --name ttymounts "$IMG" sleep 100 >/dev/null
	before=$(moat_as exec ttymounts cat /proc/1/mountinfo)
	run script -qfec "$(moat_cmdline exec -t ttymounts true)" /dev/null
	assert_success
	after=$(moat_as exec ttymounts cat /proc/1/mountinfo)
	[[ $before == "$after" ]] || fail "exec -t changed the container's mounts:"$'\n'"$(diff <(echo "$before") <(echo "$after"))"
}

# ---- CVE-2016-9962 ----

# start_exec NAME MK: `moat exec NAME /probe sleep 8 MK` in the background;
# sets BG, EXEC (the moat exec process), HELPER (its child that joined the
# container's namespaces) and CHILD (the exec'd process, host pid).
start_exec() {
	moat_as exec "$1" /probe sleep 8 "$2" >/dev/null 2>&1 3>&- &
	BG=$!
	CHILD=$(wait_for_pid /probe "$2" 10) || fail "the exec never ran"
	HELPER=$(awk '/^PPid:/ {print $2}' "/proc/$CHILD/status")
	EXEC=$(awk '/^PPid:/ {print $2}' "/proc/$HELPER/status")
	local a0
	IFS= read -r -d '' a0 <"/proc/$HELPER/cmdline" || true
	[[ $a0 == "$MOAT" ]] || fail "the exec'd process's parent is not moat's helper: $a0"
	IFS= read -r -d '' a0 <"/proc/$EXEC/cmdline" || true
	[[ $a0 == "$MOAT" ]] || fail "the helper's parent is not moat exec: $a0"
}

stop_exec() {
	kill -KILL "$CHILD" 2>/dev/null || true
	wait "$BG" || true
}

@test "9962/exec: no moat process is visible from inside the container while an exec runs" {
	local mk
	mk=$(marker)
	moat_as run -d --name seen "$IMG" sleep 100 >/dev/null
	start_exec seen "$mk"
	# the exec'd process is in the container's pid namespace, its helper
	# and moat exec are not
	local ns_child ns_helper ns_exec
	ns_child=$(awk '/^NSpid:/ {print NF - 1}' "/proc/$CHILD/status")
	ns_helper=$(awk '/^NSpid:/ {print NF - 1}' "/proc/$HELPER/status")
	ns_exec=$(awk '/^NSpid:/ {print NF - 1}' "/proc/$EXEC/status")
	# what the container sees: every pid, its name and command line
	run moat_as exec seen sh -c 'for p in /proc/[0-9]*; do
		printf "%s %s %s\n" "${p#/proc/}" "$(cat $p/comm 2>/dev/null)" "$(tr "\0" " " <$p/cmdline 2>/dev/null)"
	done'
	local seen=$output
	# the helper's and moat exec's host pids reach nothing in there
	run moat_as exec seen sh -c "/probe ptrace $HELPER; /probe ptrace $EXEC; /probe read /proc/$EXEC/environ; /probe read /proc/$HELPER/environ"
	local attack=$output
	stop_exec
	[[ $ns_child -eq 2 ]] || fail "the exec'd process is not in the container's pid namespace (NSpid levels $ns_child)"
	[[ $ns_helper -eq 1 && $ns_exec -eq 1 ]] || fail "helper/moat exec in a nested pid namespace: $ns_helper/$ns_exec"
	[[ $seen == *"$mk"* ]] || fail "the container does not see the exec'd process (control): $seen"
	[[ $seen != *moat* ]] || fail "a moat process is visible in the container:"$'\n'"$seen"
	[[ $(grep -c . <<<"$seen") -le 5 ]] || fail "more processes than expected are visible:"$'\n'"$seen"
	grep -q "^ptrace $HELPER ESRCH$" <<<"$attack" || fail "$attack"
	grep -q "^ptrace $EXEC ESRCH$" <<<"$attack" || fail "$attack"
	grep -q "^read /proc/$EXEC/environ ENOENT$" <<<"$attack" || fail "$attack"
	grep -q "^read /proc/$HELPER/environ ENOENT$" <<<"$attack" || fail "$attack"
}

@test "9962/exec: the container's own processes cannot ptrace the exec'd process's helper chain (control: a child)" {
	local mk
	mk=$(marker)
	moat_as run -d --name tracer "$IMG" sleep 100 >/dev/null
	start_exec tracer "$mk"
	# from the container's side, every visible pid that is not the
	# attacker's own child is out of reach (Landlock scopes ptrace to a
	# domain's descendants; the helper is not visible at all)
	run moat_as exec tracer sh -c 'for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = "$$" ] && continue
		/probe ptrace "$p"
	done'
	local attack=$output
	# control: the same attacker can trace a process of its own
	run moat_as exec tracer sh -c '/probe sleep 3 & sleep 0.3; /probe ptrace $!'
	local control=$output control_status=$status
	stop_exec
	[[ $control_status -eq 0 && $control =~ ^ptrace\ [0-9]+\ OK$ ]] || fail "control: $control"
	[[ -n $attack ]] || fail "nothing to attack"
	! grep -q ' OK$' <<<"$attack" || fail "traced: $(grep ' OK$' <<<"$attack")"
}

# The attacker on the host: the identity's own user, as in
# cve-2016-9962.bats (root minus CAP_SYS_PTRACE, or the rootless user).
attacker_probe() {
	if is_root_identity; then
		"$PROBE" noptrace "$@"
	else
		runuser -u "$MOAT_TEST_USER" -- "$PROBE" "$@"
	fi
}

@test "9962/exec: control: the same user can ptrace an ordinary process on the host" {
	local mk pid bg
	mk=$(marker)
	as_identity "$PROBE" sleep 30 "$mk" 3>&- &
	bg=$!
	pid=$(wait_for_pid "$PROBE" "$mk" 10) || fail "control never started"
	run attacker_probe ptrace "$pid"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$bg" || true
	assert_success
	assert_output "ptrace $pid OK"
}

@test "9962/exec: the exec helper (in the container's user namespace) is not traceable by its user" {
	local mk
	mk=$(marker)
	moat_as run -d --name hostside "$IMG" sleep 100 >/dev/null
	start_exec hostside "$mk"
	run attacker_probe ptrace "$HELPER"
	stop_exec
	assert_failure
	assert_output "ptrace $HELPER EPERM"
}

@test "9962/exec: the moat exec process (it holds the container's pidfd) is not traceable by its user" {
	local mk
	mk=$(marker)
	moat_as run -d --name hostside2 "$IMG" sleep 100 >/dev/null
	start_exec hostside2 "$mk"
	run attacker_probe ptrace "$EXEC"
	stop_exec
	assert_failure
	assert_output "ptrace $EXEC EPERM"
}
