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

# check POLICY RUN-ARGS...: `policy check -- run RUN-ARGS...` under POLICY
# (no container is made, so no bridge or port is needed).
check() {
	local pol=$1
	shift
	run --separate-stderr moat_as --policy "$pol" policy check -- run "$@"
}

# check_denied POLICY RULE RUN-ARGS...: the decision is a denial by RULE.
check_denied() {
	local pol=$1 rule=$2
	shift 2
	check "$pol" "$@"
	assert_failure 1
	[[ $output == "denied: policy: $rule: "* ]] || fail "want rule $rule, got: $output $stderr"
}

# check_allowed POLICY RUN-ARGS...
check_allowed() {
	local pol=$1
	shift
	check "$pol" "$@"
	assert_success
	assert_output "allowed"
}

@test "policy: networks: drivers, names and globs, the host network forbidden" {
	local p
	p=$(pfile netdrv.json '{"default": {"networks": {"drivers": ["bridge", "none"]}}}')
	check_allowed "$p" --network none "$IMG" true
	check_allowed "$p" --network bridge "$IMG" true
	check_allowed "$p" "$IMG" true # the default is none
	check_denied "$p" default.networks.drivers --network host "$IMG" true
	[[ $output == *'network "host" has the driver "host", which is not allowed' ]] || fail "$output"
	# a later flag wins, as for every rule
	check_denied "$p" default.networks.drivers --network none --network host "$IMG" true
	check_allowed "$p" --network host --network none "$IMG" true
	# run itself: one line naming the rule, 125, nothing created
	denied "$p" default.networks.drivers --network host "$IMG" true

	# names: the network's own name, matched by globs; deny wins
	p=$(pfile netname.json '{"default": {"networks": {"allow": ["n?ne", "br*"],
		"deny": ["bridge"]}}}')
	check_allowed "$p" --network none "$IMG" true
	check_denied "$p" default.networks.deny --network bridge "$IMG" true
	check_denied "$p" default.networks.allow --network host "$IMG" true

	# forbidHostNetwork with the network rules: host is refused by it first
	p=$(pfile nethost.json '{"default": {"forbidHostNetwork": true,
		"networks": {"drivers": ["bridge", "none", "host"]}}}')
	check_denied "$p" default.forbidHostNetwork --network host "$IMG" true
	check_allowed "$p" --network bridge "$IMG" true
}

@test "policy: networks: a user-defined network by name, id or prefix is judged by its name and driver" {
	is_root_identity || skip "bridge networks need root (moat cannot create them rootless yet)"
	local p id
	id=$(moat_as network create ci-frontend)
	p=$(pfile netci.json '{"default": {"networks": {"allow": ["ci-*", "none"],
		"drivers": ["bridge", "none"]}}}')
	check_allowed "$p" --network ci-frontend "$IMG" true
	check_allowed "$p" --network "$id" "$IMG" true
	check_allowed "$p" --network "${id:0:12}" "$IMG" true
	check_denied "$p" default.networks.allow --network bridge "$IMG" true
	p=$(pfile netci2.json '{"default": {"networks": {"drivers": ["none"]}}}')
	check_denied "$p" default.networks.drivers --network "${id:0:12}" "$IMG" true
	[[ $output == *'network "ci-frontend" has the driver "bridge"'* ]] || fail "$output"
	run moat_as network rm ci-frontend
	assert_success
}

@test "policy: publish: host port ranges, host addresses, ephemeral ports, -P" {
	local p
	p=$(pfile pub.json '{"default": {"publish": {"hostPorts": ["8000-8999", 443],
		"hostIPs": ["127.0.0.1"]}}}')
	check_allowed "$p" --network bridge -p 127.0.0.1:8080:80 "$IMG" true
	check_allowed "$p" --network bridge -p 127.0.0.1:443:443 -p 127.0.0.1:8000-8010:80 "$IMG" true
	check_allowed "$p" --network bridge "$IMG" true
	check_denied "$p" default.publish.hostPorts --network bridge -p 127.0.0.1:9000:80 "$IMG" true
	check_denied "$p" default.publish.hostPorts --network bridge -p 127.0.0.1:80:80 "$IMG" true
	# a range binding may take any port of it: all of it must be allowed
	check_denied "$p" default.publish.hostPorts --network bridge -p 127.0.0.1:8990-9010:80 "$IMG" true
	# every binding counts, not only the first
	check_denied "$p" default.publish.hostPorts --network bridge -p 127.0.0.1:8080:80 \
		-p 127.0.0.1:22:22 "$IMG" true
	# no address binds 0.0.0.0, which is not listed
	check_denied "$p" default.publish.hostIPs --network bridge -p 8080:80 "$IMG" true
	[[ $output == *'binds host address 0.0.0.0, which is not allowed' ]] || fail "$output"
	check_denied "$p" default.publish.hostIPs --network bridge -p 0.0.0.0:8080:80 "$IMG" true
	# "-p 80" is any free port: not within a hostPorts rule...
	check_denied "$p" default.publish.hostPorts --network bridge -p 127.0.0.1::80 "$IMG" true
	# ... unless the policy allows ephemeral ports
	p=$(pfile pubeph.json '{"default": {"publish": {"hostPorts": ["8000-8999"],
		"allowEphemeral": true}}}')
	check_allowed "$p" --network bridge -p 80 "$IMG" true
	check_denied "$p" default.publish.hostPorts --network bridge -p 80:80 "$IMG" true
	# and with no port rule at all any port goes
	p=$(pfile pubany.json '{"default": {"publish": {"hostIPs": ["0.0.0.0"]}}}')
	check_allowed "$p" --network bridge -p 80 -p 80:80 "$IMG" true
	# run itself: one line naming the rule, 125, nothing created
	p=$(pfile pub.json '{"default": {"publish": {"hostPorts": ["8000-8999"]}}}')
	denied "$p" default.publish.hostPorts --network bridge -p 9000:80 "$IMG" true
}

@test "policy: publish: -P and -p are refused when publishing is not allowed" {
	local p
	p=$(pfile nopub.json '{"default": {"publish": {"allow": false}}}')
	check_allowed "$p" --network bridge "$IMG" true
	check_denied "$p" default.publish.allow --network bridge -p 8080:80 "$IMG" true
	# -P is refused even of an image that exposes nothing
	check_denied "$p" default.publish.allow --network bridge -P "$IMG" true
	# --network host drops published ports (Docker's rule) before the
	# policy decides: nothing is published
	check_allowed "$p" --network host -p 8080:80 "$IMG" true

	# -P expanded: an image that EXPOSEs 80 publishes it on any free port
	moat_as create --name exp-base "$IMG" true >/dev/null
	moat_as commit --change 'EXPOSE 80/tcp' exp-base pexp >/dev/null
	moat_as rm exp-base >/dev/null
	p=$(pfile pubports.json '{"default": {"publish": {"hostPorts": ["8000-8999"]}}}')
	check_denied "$p" default.publish.hostPorts --network bridge -P pexp true
	[[ $output == *'"80/tcp" puts container port 80 on any free host port'* ]] || fail "$output"
	check_allowed "$p" --network bridge -p 8080:80 pexp true
	p=$(pfile pubports2.json '{"default": {"publish": {"hostPorts": ["8000-8999"],
		"allowEphemeral": true}}}')
	check_allowed "$p" --network bridge -P pexp true
	run moat_as rmi pexp
	assert_success
}

@test "policy: networks: a denial is audited; policy show prints the network rules" {
	local p
	p=$(pfile netshow.json '{"default": {"networks": {"drivers": ["none", "bridge"],
		"deny": ["prod-*"]}, "publish": {"hostPorts": ["8500-8999", "8000-8499", 443],
		"hostIPs": ["127.0.0.1"], "allowEphemeral": false}}}')
	run moat_as --policy "$p" run --rm --network host "$IMG" true
	assert_failure 125
	run grep '"event":"policy.decision"' "$MOAT_STATE/audit/audit.log"
	assert_success
	[[ $output == *'"verdict":"deny"'* && $output == *'"rule":"default.networks.drivers"'* ]] ||
		fail "$output"
	run --separate-stderr moat_as --policy "$p" policy show --json
	assert_success
	run python3 -c '
import json, sys
d = json.loads(sys.stdin.read())["default"]
print(json.dumps([d["networks"], d["publish"]], sort_keys=True))' <<<"$output"
	assert_success
	assert_output '[{"deny": ["prod-*"], "drivers": ["none", "bridge"]}, {"allowEphemeral": false, "hostIPs": ["127.0.0.1"], "hostPorts": ["443", "8000-8999"]}]'
}

@test "policy: networks: the user's own policy file applies, and --policy replaces it" {
	local x=$MOAT_STATE/xdg/moat
	if is_root_identity; then
		mkdir -p "$x"
	else
		runuser -u "$MOAT_TEST_USER" -- mkdir -p "$x"
	fi
	printf '%s\n' '{"default": {"networks": {"drivers": ["none"]}, "publish": {"allow": false}}}' >"$x/policy.json"
	chmod 0644 "$x/policy.json"
	is_root_identity || chown "$MOAT_TEST_USER" "$x/policy.json"
	MOAT_ENV_EXTRA="XDG_CONFIG_HOME=$MOAT_STATE/xdg"
	run --separate-stderr moat_as policy check -- run --network bridge "$IMG" true
	assert_failure 1
	[[ $output == "denied: policy: default.networks.drivers: "* ]] || fail "$output"
	run --separate-stderr moat_as policy check -- run --network none "$IMG" true
	assert_success
	run --separate-stderr moat_as policy show
	assert_success
	[[ $output == *"$x/policy.json"* && $output == *'"drivers": ['* ]] || fail "$output"
	# --policy is the whole policy: the user's file does not apply
	local p
	p=$(pfile open.json '{"default": {}}')
	run --separate-stderr moat_as --policy "$p" policy check -- run --network bridge -p 80 "$IMG" true
	assert_success
	unset MOAT_ENV_EXTRA
}
