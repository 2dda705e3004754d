#!/usr/bin/env bats
# The tenant policy on `moat run` / `moat create`: every rule denied with
# one line naming the rule, exit 125 and nothing created; spellings that
# must evaluate the same (capability names, repeated flags, --env-file vs
# -e); the policy's limit defaults in the record; tenant selection; and
# policy file errors. Policy files live under $MOAT_T and are passed with
# --policy (never /etc/moat/policy.d).

load ../lib/helpers

# pfile NAME JSON: a policy file readable by the identity under test.
pfile() {
	local f=$MOAT_T/scratch/$1
	printf '%s\n' "$2" >"$f"
	chmod 0644 "$f"
	echo "$f"
}

# denied POLICY RULE RUN-ARGS...: run is refused by RULE, one line, 125,
# no container left.
denied() {
	local pol=$1 rule=$2
	shift 2
	run --separate-stderr moat_as --policy "$pol" run --rm "$@"
	assert_failure 125
	# Rootless, create warns about limits it cannot enforce before the
	# policy decides (engine/create.c's limits_settle): not the denial.
	stderr=$(grep -v '^moat: warning: ' <<<"$stderr" || true)
	assert_one_error_line
	[[ $stderr == "moat: policy: $rule: "* ]] || fail "want rule $rule, got: $stderr"
	run moat_as ps -a -q
	assert_success
	assert_output ""
}

uid_under_test() {
	if is_root_identity; then echo 0; else user_uid "$MOAT_TEST_USER"; fi
}

@test "policy: each rule denies with one line naming it, exit 125, nothing created" {
	local p
	p=$(pfile strict.json '{"default": {
		"forbidHostNetwork": true, "forbidHostUserns": true,
		"forbidUnconfinedSeccomp": true, "forbidLandlockOff": true,
		"capabilities": ["CHOWN","DAC_OVERRIDE","FOWNER","FSETID","KILL","NET_BIND_SERVICE",
		                 "SETFCAP","SETGID","SETPCAP","SETUID","SYS_CHROOT"],
		"maxArgs": 3, "maxEnvBytes": 400,
		"limits": {"pidsLimit": {"max": 512}, "memory": {"max": "1g"}}}}')
	denied "$p" default.forbidHostNetwork --network host "$IMG" true
	denied "$p" default.forbidUnconfinedSeccomp --security-opt seccomp=unconfined "$IMG" true
	denied "$p" default.forbidLandlockOff --security-opt landlock=off "$IMG" true
	denied "$p" default.capabilities --cap-add SYS_ADMIN "$IMG" true
	denied "$p" default.maxArgs "$IMG" /probe a b c
	denied "$p" default.limits.pidsLimit.max --pids-limit 513 "$IMG" true
	denied "$p" default.limits.pidsLimit.max --pids-limit -1 "$IMG" true
	denied "$p" default.limits.memory.max --memory 2g "$IMG" true
	if is_root_identity; then
		denied "$p" default.forbidHostUserns --userns=host "$IMG" true
	fi
	# and what the policy allows still runs
	run moat_as --policy "$p" run --rm "$IMG" true
	assert_success
}

@test "policy: spellings evaluate the same (cap names, repeated flags, env file vs -e)" {
	local p envf
	p=$(pfile caps.json '{"default": {"capabilities": ["CHOWN","DAC_OVERRIDE","FOWNER","FSETID",
		"KILL","NET_BIND_SERVICE","SETFCAP","SETGID","SETPCAP","SETUID","SYS_CHROOT"],
		"forbidHostNetwork": true, "maxEnvBytes": 200}}')
	denied "$p" default.capabilities --cap-add CAP_SYS_ADMIN "$IMG" true
	denied "$p" default.capabilities --cap-add sys_admin "$IMG" true
	denied "$p" default.capabilities --cap-add ALL "$IMG" true
	# a later flag wins: none then host is host; host then none is none
	denied "$p" default.forbidHostNetwork --network none --network host "$IMG" true
	run moat_as --policy "$p" run --rm --network host --network none "$IMG" true
	assert_success
	# dropping then adding back is the final set that counts
	run moat_as --policy "$p" run --rm --cap-add SYS_ADMIN --cap-drop SYS_ADMIN "$IMG" true
	assert_success
	# the env bound counts the final environment, from -e or --env-file
	local big
	big=$(head -c 300 /dev/zero | tr '\0' x)
	denied "$p" default.maxEnvBytes -e "BIG=$big" "$IMG" true
	envf=$MOAT_T/scratch/big.env
	echo "BIG=$big" >"$envf"
	chmod 0644 "$envf"
	denied "$p" default.maxEnvBytes --env-file "$envf" "$IMG" true
}

@test "policy: defaults are written into the record, explicit values kept" {
	local p id
	p=$(pfile defaults.json '{"default": {"limits": {
		"pidsLimit": {"max": 512, "default": 256}, "memory": {"max": "2g", "default": "512m"}}}}')
	id=$(moat_as --policy "$p" create "$IMG" true)
	run moat_as inspect --format '{{.HostConfig.PidsLimit}} {{.HostConfig.Memory}}' "$id"
	moat_as rm "$id" >/dev/null
	assert_success
	assert_output "256 536870912"
	id=$(moat_as --policy "$p" create --pids-limit 100 "$IMG" true)
	run moat_as inspect --format '{{.HostConfig.PidsLimit}}' "$id"
	moat_as rm "$id" >/dev/null
	assert_output "100"
	# without a policy the engine's own default stays
	id=$(moat_as create "$IMG" true)
	run moat_as inspect --format '{{.HostConfig.PidsLimit}}' "$id"
	moat_as rm "$id" >/dev/null
	assert_output "4096"
}

@test "policy: tenants: selected by uid, --tenant checked against the uid" {
	local p me
	me=$(uid_under_test)
	p=$(pfile tenants.json "{\"default\": {\"forbidHostNetwork\": false},
		\"tenants\": {\"ci\": {\"uids\": [$me], \"maxArgs\": 1},
		              \"ops\": {\"uids\": [4242]}}}")
	# uid $me is tenant ci: its rules apply without asking
	denied "$p" tenants.ci.maxArgs "$IMG" /probe x
	run moat_as --policy "$p" run --rm "$IMG" true
	assert_success
	# a tenant this uid may not use, and one that does not exist
	run --separate-stderr moat_as --policy "$p" --tenant ops run --rm "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"policy: tenants.ops: uid $me "*"may not use tenant \"ops\""* ]] || fail "$stderr"
	run --separate-stderr moat_as --policy "$p" --tenant nope run --rm "$IMG" true
	assert_failure 125
	[[ $stderr == *'policy: tenants: no tenant "nope"'* ]] || fail "$stderr"
	run moat_as ps -a -q
	assert_output ""
}

@test "policy: a denial is audited (policy.decision: verdict, rule, tenant)" {
	local p
	p=$(pfile audit.json '{"default": {"forbidHostNetwork": true}}')
	run moat_as --policy "$p" run --rm --network host "$IMG" true
	assert_failure 125
	run grep '"event":"policy.decision"' "$MOAT_STATE/audit/audit.log"
	assert_success
	[[ $output == *'"verdict":"deny"'* && $output == *'"rule":"default.forbidHostNetwork"'* &&
		$output == *'"tenant":""'* ]] || fail "$output"
}

@test "policy: file errors: syntax file:line:column, unknown key, bad unit, missing file" {
	local p
	p=$(pfile syntax.json $'{"default": {\n  "forbidHostNetwork": true,,\n}}')
	run --separate-stderr moat_as --policy "$p" run --rm "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == "moat: $p:2:"* ]] || fail "$stderr"
	p=$(pfile typo.json '{"default": {"forbidHostNetwrok": true}}')
	run --separate-stderr moat_as --policy "$p" run --rm "$IMG" true
	assert_failure 125
	[[ $stderr == "moat: $p: default: unknown key \"forbidHostNetwrok\"" ]] || fail "$stderr"
	p=$(pfile unit.json '{"default": {"limits": {"memory": {"max": "5x"}}}}')
	run --separate-stderr moat_as --policy "$p" run --rm "$IMG" true
	assert_failure 125
	[[ $stderr == *"default.limits.memory.max: \"5x\" is not a size"* ]] || fail "$stderr"
	run --separate-stderr moat_as --policy "$MOAT_T/scratch/nonexistent.json" run --rm "$IMG" true
	assert_failure 125
	[[ $stderr == *"nonexistent.json: No such file or directory"* ]] || fail "$stderr"
	run moat_as ps -a -q
	assert_output ""
}

@test "policy: as root, a policy file writable by others or not owned by root is refused" {
	local p
	p=$(pfile loose.json '{"default": {}}')
	chmod 0666 "$p"
	run --separate-stderr moat_as --policy "$p" run --rm "$IMG" true
	if is_root_identity; then
		assert_failure 125
		[[ $stderr == *"writable by group or others (mode 0666): refused when running as root"* ]] ||
			fail "$stderr"
		chmod 0644 "$p"
		chown "$MOAT_TEST_USER" "$p"
		run --separate-stderr moat_as --policy "$p" run --rm "$IMG" true
		assert_failure 125
		[[ $stderr == *"not owned by root"* ]] || fail "$stderr"
	else
		# Rootless, the caller could pass any --policy anyway: the
		# file is its own choice, and it is read.
		assert_success
	fi
}

@test "policy show: where the policy comes from and its rules; check: the decision, nothing created" {
	local p
	p=$(pfile show.json '{"default": {"forbidHostNetwork": true,
		"limits": {"pidsLimit": {"max": 512, "default": 256}}}}')
	run --separate-stderr moat_as --policy "$p" policy show
	assert_success
	assert_line --index 0 "Policy: $p (--policy)"
	[[ $output == *'"forbidHostNetwork": true'* ]] || fail "$output"
	run --separate-stderr moat_as --policy "$p" policy show --json
	assert_success
	python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$output" || fail "not JSON: $output"
	# check: the same parser and decisions as run, exit 1 when denied
	run --separate-stderr moat_as --policy "$p" policy check -- run --network host "$IMG" true
	assert_failure 1
	assert_output "denied: policy: default.forbidHostNetwork: --network host is forbidden"
	run --separate-stderr moat_as --policy "$p" policy check -- run --pids-limit 600 "$IMG" true
	assert_failure 1
	[[ $output == "denied: policy: default.limits.pidsLimit.max: "* ]] || fail "$output"
	run --separate-stderr moat_as --policy "$p" policy check -- create --name chk "$IMG" true
	assert_success
	assert_output "allowed"
	run moat_as ps -a -q
	assert_output ""
	run moat_as inspect chk
	assert_failure
	# usage errors and what is not a decision (no such image) stay 125
	run --separate-stderr moat_as --policy "$p" policy check -- exec x true
	assert_failure 125
	run --separate-stderr moat_as --policy "$p" policy check -- run no-such-image-chk true
	assert_failure 125
	run --separate-stderr moat_as policy
	assert_failure 125
}
