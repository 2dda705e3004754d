#!/usr/bin/env bats
# The audit log: every run, load, build and removal leaves a record with the
# confinement actually applied; the chain and its checkpoint make edits,
# deletions, reordering and truncation detectable from the CLI; and a log
# that cannot be written stops the action (fail-closed) unless the operator
# chose fail-open, which is then marked in the log.

load ../lib/helpers

# Each test has a log of its own, so a tampered one never leaks into the next.
setup() {
	local dir=$MOAT_T/audit-$BATS_TEST_NUMBER
	install -d -m 0700 "$dir"
	is_rootless && chown "$MOAT_TEST_USER" "$dir"
	export MOAT_AUDIT_LOG_OVERRIDE=$dir/audit.log
}

log() { echo "$MOAT_AUDIT_LOG_OVERRIDE"; }

# The JSON records of one event, one per line (python: no jq on the host).
records() {
	moat_as audit show --format json --event "$1"
}

field() { # field JSON KEY -> value (strings bare, others as JSON)
	python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print(v if isinstance(v,str) else json.dumps(v))' "$1" "$2"
}

@test "audit: a run records its start (with the confinement) and its exit" {
	run mrun --read-only "$IMG" sh -c 'exit 3'
	assert_failure 3
	run records container.start
	assert_success
	local start=${lines[-1]}
	[[ $(field "$start" image) == "$IMG" ]] || fail "$start"
	[[ $(field "$start" read_only) == true ]] || fail "$start"
	[[ $(field "$start" landlock) == "enforced (ABI "* ]] || fail "$start"
	[[ $(field "$start" selinux) == "not active" ]] || fail "$start"
	[[ $(field "$start" caps) == *CHOWN* && $(field "$start" caps) != *SYS_ADMIN* ]] || fail "$start"
	[[ $(field "$start" seccomp) == *'"profile": "default"'* ]] || fail "$start"
	local want=0
	is_root_identity || want=$(id -u "$MOAT_TEST_USER")
	[[ $(field "$start" uid) == "$want" ]] || fail "uid: $start"
	local id
	id=$(field "$start" container)
	run records container.exit
	local exit=${lines[-1]}
	[[ $(field "$exit" container) == "$id" ]] || fail "$exit"
	[[ $(field "$exit" exit_code) == 3 ]] || fail "$exit"
	[[ $(field "$exit" removed) == true ]] || fail "$exit"
}

@test "audit: a refused run is recorded with the reason" {
	run mrun no-such-image-audit true
	assert_failure 125
	run records container.refused
	[[ ${lines[-1]} == *"no such image: no-such-image-audit"* ]] || fail "${lines[-1]}"
}

@test "audit: seccomp=unconfined and landlock=off are visible in the record" {
	run mrun --security-opt seccomp=unconfined --security-opt landlock=off "$IMG" true
	assert_success
	run records container.start
	[[ $(field "${lines[-1]}" landlock) == off ]] || fail "${lines[-1]}"
	[[ $(field "${lines[-1]}" seccomp) == *unconfined* ]] || fail "${lines[-1]}"
}

@test "audit: image build, load and removal are recorded" {
	moat_as demo-image --tag audit-demo >/dev/null
	mkimage audit-load.tar --name auditload --tag v1 >/dev/null
	moat_as load --trust-local -i "$MOAT_T/scratch/audit-load.tar" >/dev/null
	moat_as rmi audit-demo auditload:v1 >/dev/null
	run records 'image.*'
	assert_success
	assert_output --partial '"event":"image.build"'
	assert_output --partial '"event":"image.load"'
	assert_output --partial 'auditload:v1'
	assert_output --partial '"event":"image.remove"'
}

@test "audit verify: an untouched log verifies (exit 0)" {
	mrun "$IMG" true
	run moat_as audit verify
	assert_success
	assert_output --partial "chain intact"
}

# Tampering: each edit below must make `moat audit verify` exit 1.
tamper() {
	mrun "$IMG" true
	mrun "$IMG" true
	python3 - "$(log)" "$1" <<'PY'
import sys
path, how = sys.argv[1], sys.argv[2]
lines = open(path).read().splitlines(keepends=True)
if how == "edit":
    lines[1] = lines[1].replace('"exit_code":0', '"exit_code":1')
elif how == "delete":
    del lines[1]
elif how == "reorder":
    lines[1], lines[2] = lines[2], lines[1]
elif how == "truncate":
    lines = lines[:-1]
open(path, "w").writelines(lines)
PY
	run moat_as audit verify
	assert_failure 1
}

@test "audit verify: an edited field is detected" {
	tamper edit
	assert_output --partial "hash mismatch"
}

@test "audit verify: a deleted record is detected" {
	tamper delete
	assert_output --partial "missing"
}

@test "audit verify: two swapped records are detected" {
	tamper reorder
	assert_output --partial "out of order"
}

@test "audit verify: a truncated tail is detected (checkpoint)" {
	tamper truncate
	assert_output --partial "truncated"
}

@test "audit: a log that contradicts its checkpoint is not written onto (runs refuse)" {
	tamper truncate
	run --separate-stderr mrun "$IMG" true
	assert_failure 125
	[[ $stderr == *audit* ]] || fail "stderr: $stderr"
}

@test "audit: 20 concurrent runs keep one intact chain" {
	local pids=() i
	for i in $(seq 20); do
		mrun "$IMG" true &
		pids+=($!)
	done
	local failed=0
	for i in "${pids[@]}"; do wait "$i" || failed=$((failed + 1)); done
	[[ $failed -eq 0 ]] || fail "$failed of 20 runs failed"
	run moat_as audit verify
	assert_success
	assert_output --partial "chain intact"
}

# A full disk: a 64 KiB tmpfs holds the log; it is filled, then a run must
# not start (fail-closed), and with fail-open it runs and the gap is marked.
@test "audit: a full log filesystem stops the run (fail-closed), fail-open marks the gap" {
	local dir=$MOAT_T/auditfs
	mkdir -p "$dir"
	mount -t tmpfs -o size=64k,mode=0755 tmpfs "$dir"
	if is_rootless; then chown "$MOAT_TEST_USER" "$dir"; fi
	export MOAT_AUDIT_LOG_OVERRIDE=$dir/audit.log
	mrun "$IMG" true
	as_identity dd if=/dev/zero of="$dir/fill" bs=4k count=64 2>/dev/null || true
	run --separate-stderr mrun "$IMG" /probe write /etc/ran
	local rc=$status err=$stderr
	# free the space and keep the log for the checks below
	rm -f "$dir/fill"
	[[ $rc -eq 125 ]] || { umount "$dir"; fail "run exited $rc with a full audit log"; }
	[[ $err == *"audit"*"No space left on device"* ]] || { umount "$dir"; fail "stderr: $err"; }
	# fail-open: fill again, run, then free and run once more
	as_identity dd if=/dev/zero of="$dir/fill" bs=4k count=64 2>/dev/null || true
	MOAT_AUDIT_FAIL_OPEN=1 run --separate-stderr mrun "$IMG" true
	local rc2=$status err2=$stderr
	rm -f "$dir/fill"
	mrun "$IMG" true
	run moat_as audit show --format json
	local shown=$output
	run moat_as audit verify
	local vrc=$status
	umount "$dir"
	[[ $rc2 -eq 0 ]] || fail "fail-open run exited $rc2: $err2"
	[[ $err2 == *"fail-open"* ]] || fail "no fail-open warning: $err2"
	[[ $shown == *'"audit_gap":true'* ]] || fail "no gap marked: $shown"
	[[ $vrc -eq 0 ]] || fail "the log does not verify after the gap"
}

@test "audit: --audit-rotate keeps the chain across files, --audit-keep bounds them" {
	local i n
	for i in $(seq 1 30); do
		moat_as --audit-rotate 4k --audit-keep 3 tag "$IMG" "rot:$i" >/dev/null
	done
	n=$(find "$(dirname "$(log)")" -name 'audit.log.[0-9]*' | wc -l)
	((n >= 1 && n <= 3)) || fail "expected 1-3 rotated files, found $n: $(ls -la "$(dirname "$(log)")")"
	[[ $(stat -c %s "$(log)") -le 8192 ]] || fail "the live file grew past the rotation size"
	run moat_as audit verify
	assert_success
	assert_output --partial "chain intact"
	# An edit in a rotated file is still caught.
	sed -i '1s/"event":"image.tag"/"event":"image.tog"/' "$(log).1"
	run moat_as audit verify
	assert_failure 1
	# Bad values are refused before anything is done.
	run --separate-stderr moat_as --audit-rotate 1k tag "$IMG" rot:x
	assert_failure 125
	run --separate-stderr moat_as --audit-keep 0 tag "$IMG" rot:y
	assert_failure 125
	run moat_as images -q rot:x
	assert_output ""
}

@test "audit: --audit-syslog sends each record to syslog (/dev/log)" {
	[[ ! -e /dev/log ]] || skip "this host has a syslog socket of its own; not replacing it"
	local got=$MOAT_T/syslog-$BATS_TEST_NUMBER.txt
	# A stand-in syslog daemon on /dev/log (root creates it for the test;
	# mode 0666 like journald's, so the rootless identity can send too).
	python3 - "$got" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
PY
	local pid=$!
	for _ in $(seq 50); do [[ -e $got.ready ]] && break; sleep 0.1; done
	moat_as --audit-syslog tag "$IMG" syslog:1
	moat_as tag "$IMG" syslog:2 # without the switch: nothing sent
	sleep 0.3
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	rm -f /dev/log "$got.ready"
	grep -q '"event":"image.tag"' "$got" || fail "no record reached syslog: $(cat "$got")"
	grep -q 'syslog:1' "$got" || fail "not the tag's record: $(cat "$got")"
	! grep -q 'syslog:2' "$got" || fail "sent without --audit-syslog"
	# LOG_AUTHPRIV (10) | LOG_INFO (6) = 86
	grep -q '^<86>' "$got" || fail "not LOG_AUTHPRIV|LOG_INFO: $(head -c 200 "$got")"
}

@test "audit: new signing keys are recorded (key generate; the local key's creation)" {
	local d=$MOAT_T/keys-$BATS_TEST_NUMBER
	install -d -m 0700 "$d"
	is_rootless && chown "$MOAT_TEST_USER" "$d"
	MOAT_ENV_EXTRA="MOAT_KEY_PASSWORD=pw" moat_as key generate --out "$d/k" >/dev/null
	run records trust.key
	assert_success
	[[ $(field "${lines[-1]}" action) == generated ]] || fail "${lines[-1]}"
	[[ $(field "${lines[-1]}" path) == "$d/k.key" ]] || fail "${lines[-1]}"
	[[ $(field "${lines[-1]}" key) == sha256:* ]] || fail "${lines[-1]}"
	# A fresh data root: its first local image creates its local key.
	moat_as --root "$d/root" demo-image --tag fresh >/dev/null
	run records trust.key
	[[ $(field "${lines[-1]}" action) == created ]] || fail "${lines[-1]}"
	[[ $(field "${lines[-1]}" path) == "$d/root/trust/local.key" ]] || fail "${lines[-1]}"
	# ... once: a second image signs with the same key, no new record.
	moat_as --root "$d/root" demo-image --tag fresh2 >/dev/null
	run records trust.key
	[[ ${#lines[@]} == 2 ]] || fail "expected 2 key records: $output"
}
