#!/usr/bin/env bats
# `moat network create|ls|inspect|rm|prune` (cli/network.c over
# engine/networks.c), as root and rootless: Docker's output and exit
# statuses, the predefined networks (none and host always, bridge once
# used) that cannot be created or removed, every refusal leaving the
# networks as they were, a network a container refers to never removed,
# one network per name even when two creates race, and one audit record
# per change (none without a log).
#
# Where: as root, moat runs in a network namespace this file makes
# (tests/lib/net.bash, "moattest-host-PID", entered with nsenter through
# MOAT_WRAP), so the bridges, the nft table and the routes `network
# create` looks at are that namespace's, never the machine's; it dies in
# teardown_file whatever a test did.  Rootless, bridge networks are
# refused (one test checks the reason); the tests that need one skip
# with that reason.  Everything the two identities share (the predefined
# networks, what is refused before any driver runs, the audit) runs as
# both.
#
# Every moat call runs under `timeout`: a verb that blocks (a lock taken
# twice) fails its test instead of hanging the suite.  Each test gets its
# own audit log; what it made is removed after it.

load ../lib/helpers
load ../lib/net

# shellcheck disable=SC2034 # read by moat_as_user (helpers.bash)
MOAT_WRAP=${MOAT_WRAP:-timeout -k 5 60}

NONE_ID=f53660ec74719918e8e584d8fa6c1dbe57c769d927a330f9ad08062082b84781
HOST_ID=190fc9bd6b60ec2346ad595cf26472aa0bf4120e0746c4942e4dee1842cb52ca

setup_file() {
	net_setup_file || return 1
	moat_setup_file || {
		net_teardown_file
		return 1
	}
}

teardown_file() {
	moat_teardown_file
	net_teardown_file
}

setup() {
	if ! is_root_identity && [[ $BATS_TEST_DESCRIPTION == bridge:* ]]; then
		skip "bridge networks need root for now (the rootless refusal has its own test)"
	fi
	if is_root_identity && [[ $BATS_TEST_DESCRIPTION == rootless:* ]]; then
		skip "checks the rootless refusal"
	fi
	local dir=$MOAT_T/audit-$BATS_TEST_NUMBER
	install -d -m 0700 "$dir"
	if is_rootless; then chown "$MOAT_TEST_USER" "$dir"; fi
	export MOAT_AUDIT_LOG_OVERRIDE=$dir/audit.log
}

# After each test: its containers and networks go, through moat first;
# a bridge that outlives its network fails the test, then goes too.
teardown() {
	local bad="" id n left
	for id in $(moat_as ps -aq --no-trunc 2>/dev/null); do
		moat_as rm -f "$id" >/dev/null 2>&1 || bad+="rm -f $id failed; "
	done
	for n in $(user_networks); do
		moat_as network rm "$n" >/dev/null 2>&1 || bad+="network rm $n failed; "
	done
	if is_root_identity; then
		left=$(net_bridges | grep -v '^moat0$' || true)
		if [[ -n $left ]]; then
			bad+="bridges left after network rm: $(tr '\n' ' ' <<<"$left") "
			for n in $left; do ip -n "$NET_HOST_NS" link del "$n" 2>/dev/null || true; done
		fi
		ip -n "$NET_HOST_NS" link del mtdummy 2>/dev/null || true
	fi
	moat_check_clean || bad+="moat_check_clean failed; "
	rm -rf -- "$MOAT_STATE/root/networks"
	if [[ -n $bad ]]; then
		echo "# teardown: $bad" >&2
		return 1
	fi
}

# ---- helpers ----

# Names unique to the test.
tn() { echo "t${BATS_TEST_NUMBER}$1"; }

ndir() { echo "$MOAT_STATE/root/networks"; }

user_networks() {
	moat_as network ls --format '{{.Name}}' 2>/dev/null | grep -vxE 'none|host|bridge' || true
}

# The names `network ls` prints, in its order, on one line.
names() { moat_as network ls --format '{{.Name}}' | tr '\n' ' '; }

net_id() { moat_as network inspect -f '{{.Id}}' "$1"; }

# What "nothing changed" compares: the files under ROOT/networks (not the
# lock) and, as root, the bridges of the test namespace.
snapshot() {
	find "$(ndir)" -mindepth 1 ! -name .lock -printf '%P %s %m\n' 2>/dev/null | sort
	if is_root_identity; then net_bridges | sed 's/^/bridge /'; fi
}

# refused CODE ARGS...: exit CODE, one "moat: ..." line on stderr, nothing
# on stdout, the networks unchanged.
refused() {
	local code=$1 before
	shift
	before=$(snapshot)
	run --separate-stderr moat_as "$@"
	assert_failure "$code"
	assert_one_error_line
	[[ -z $output ]] || fail "stdout: $output"
	[[ $(snapshot) == "$before" ]] || fail "networks changed by: $*"
}

# The audit records of EVENT, one JSON object a line.
records() { moat_as audit show --format json --event "$1"; }

# `echo ANSWER | moat ARGS...` (prompts read stdin), in moat's namespace.
answer() {
	local a=$1 ns=""
	shift
	if is_root_identity; then ns="nsenter --net=$NET_HOST_NSPATH"; fi
	bash -c "echo $a | $ns timeout -k 5 60 $(moat_cmdline "$@")"
}

# The bridge of network NAME as the kernel has it: "BRIDGE ADDR/PREFIX"
# ("BRIDGE -" without an address), or nothing when there is none.
kernel_bridge() {
	local br addr
	br=moat-$(net_id "$1" | cut -c1-10)
	net_bridges | grep -qx -- "$br" || return 0
	addr=$(ip -n "$NET_HOST_NS" -o -4 addr show dev "$br" | awk '{print $4}' | head -n 1)
	echo "$br ${addr:--}"
}

# ---- the group ----

@test "network: usage alone and with --help lists the verbs; an unknown verb is exit 1" {
	local v
	for v in "" --help -h; do
		run moat_as network $v
		assert_success
		assert_line --index 0 "Usage: moat network COMMAND"
		for verb in create inspect ls prune rm; do
			assert_line --regexp "^  $verb +[A-Z]"
		done
		# no stubs: what is not wired is not offered
		refute_line --regexp "^  (connect|disconnect) "
	done
	run --separate-stderr moat_as network frobnicate
	assert_failure 1
	[[ $stderr == "moat: 'network frobnicate' is not a moat command (see 'moat network --help')" ]] ||
		fail "$stderr"
	for v in create ls list inspect rm remove prune; do
		run moat_as network "$v" --help
		assert_success
		assert_line --index 0 --regexp "^Usage: moat network (create|ls|inspect|rm|prune) "
	done
	run moat_as --help
	assert_line --regexp "^  network +Manage networks"
}

# ---- ls ----

@test "network ls: none and host always, Docker's table, -q, --no-trunc, stable ids" {
	run --separate-stderr moat_as network ls
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	assert_output "NETWORK ID     NAME      DRIVER    SCOPE"$'\n'"${HOST_ID:0:12}   host      host      local"$'\n'"${NONE_ID:0:12}   none      none      local"
	run moat_as network list -q
	assert_output "${HOST_ID:0:12}"$'\n'"${NONE_ID:0:12}"
	run moat_as network ls -q --no-trunc
	assert_output "$HOST_ID"$'\n'"$NONE_ID"
	run moat_as network ls --no-trunc
	assert_line --index 1 --regexp "^$HOST_ID +host +host +local$"
	run moat_as network ls --format table
	assert_line --index 0 "NETWORK ID     NAME      DRIVER    SCOPE"
	run moat_as network ls -q --format table
	assert_output "${HOST_ID:0:12}"$'\n'"${NONE_ID:0:12}"
	# reading makes nothing
	[[ ! -e $(ndir) ]] || fail "ls made $(ndir)"
	run --separate-stderr moat_as network ls extra
	assert_failure 125
	run --separate-stderr moat_as network ls --bogus
	assert_failure 125
}

@test "network ls --format: every field, table headers, json; templates that fail are exit 1" {
	run moat_as network ls --format '{{.Name}}|{{.Driver}}|{{.Scope}}|{{.IPv6}}|{{.Internal}}|{{.Labels}}|{{.ID}}'
	assert_success
	assert_output "host|host|local|false|false||${HOST_ID:0:12}"$'\n'"none|none|local|false|false||${NONE_ID:0:12}"
	run moat_as network ls --no-trunc --format '{{.ID}}'
	assert_output "$HOST_ID"$'\n'"$NONE_ID"
	# a custom format wins over -q (docker/cli's network NewFormat)
	run moat_as network ls -q --format '{{.Driver}}-{{.Name}}'
	assert_output $'host-host\nnone-none'
	run moat_as network ls --format 'table {{.Name}}\t{{.Internal}}\t{{.IPv6}}\t{{.Labels}}'
	assert_line --index 0 --regexp '^NAME +INTERNAL +IPV6 +LABELS$'
	run moat_as network ls --format 'table {{.CreatedAt}}'
	assert_line --index 0 "CREATED AT"
	run moat_as network ls --format json
	assert_success
	[[ ${#lines[@]} -eq 2 ]] || fail "$output"
	[[ $(jq -c 'keys' <<<"${lines[0]}") == '["CreatedAt","Driver","ID","IPv6","Internal","Labels","Name","Scope"]' ]] ||
		fail "${lines[0]}"
	[[ $(jq -r '[.Name,.Driver,.ID,.Scope] | join("|")' <<<"${lines[1]}") == "none|none|${NONE_ID:0:12}|local" ]] ||
		fail "${lines[1]}"
	run --separate-stderr moat_as network ls --format '{{.Name'
	assert_failure 1
	assert_one_error_line
	run --separate-stderr moat_as network ls --format '{{.Name.Foo}}'
	assert_failure 1
	[[ -z $output ]] || fail "printed: $output"
}

@test "network ls --filter: name, id, driver, type, scope, label; unknown filters refused" {
	run moat_as network ls -q --no-trunc --filter driver=host
	assert_output "$HOST_ID"
	run moat_as network ls --format '{{.Name}}' --filter name=on
	assert_output "none"
	run moat_as network ls --format '{{.Name}}' --filter name=o
	assert_output $'host\nnone'
	run moat_as network ls --format '{{.Name}}' --filter name=none --filter name=host
	assert_output $'host\nnone'
	run moat_as network ls --format '{{.Name}}' --filter 'NAME = none '
	assert_output "none"
	run moat_as network ls --format '{{.Name}}' --filter "id=${NONE_ID:0:6}"
	assert_output "none"
	run moat_as network ls --format '{{.Name}}' --filter type=builtin
	assert_output $'host\nnone'
	run moat_as network ls --format '{{.Name}}' --filter type=custom
	assert_output ""
	run moat_as network ls --format '{{.Name}}' --filter scope=local --filter driver=none
	assert_output "none"
	run moat_as network ls --format '{{.Name}}' --filter scope=swarm
	assert_output ""
	run moat_as network ls --format '{{.Name}}' --filter label=x
	assert_output ""
	# and together: every key must match
	run moat_as network ls --format '{{.Name}}' --filter name=o --filter driver=none
	assert_output "none"
	# refusals
	run --separate-stderr moat_as network ls --filter foo=bar
	assert_failure 1
	[[ $stderr == "moat: invalid filter 'foo'" ]] || fail "$stderr"
	run --separate-stderr moat_as network ls --filter dangling=true
	assert_failure 1
	run --separate-stderr moat_as network ls --filter type=other
	assert_failure 1
	[[ $stderr == "moat: invalid filter: 'type'='other'" ]] || fail "$stderr"
	run --separate-stderr moat_as network ls --filter label=
	assert_failure 1
	run --separate-stderr moat_as network ls --filter name
	assert_failure 125
	[[ $stderr == *"bad format of filter (expected name=value)"* ]] || fail "$stderr"
	[[ -z $output ]] || fail "printed: $output"
}

# ---- inspect ----

@test "network inspect: the predefined networks in Docker's shape; --format; missing names after" {
	run --separate-stderr moat_as network inspect none host
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	[[ ${lines[0]} == "[" && ${lines[1]} == "    {" ]] || fail "not Docker's indent: $output"
	# Docker's keys, in its order
	[[ $(jq -c '[.[0] | keys_unsorted]' <<<"$output") == '[["Name","Id","Created","Scope","Driver","EnableIPv6","IPAM","Internal","Attachable","Ingress","ConfigFrom","ConfigOnly","Containers","Options","Labels"]]' ]] ||
		fail "keys: $output"
	[[ $(jq -c '.[0] | [.Name,.Id,.Driver,.Scope,.EnableIPv6,.Internal,.Attachable,.Ingress,.Containers,.Options,.Labels]' <<<"$output") == "[\"none\",\"$NONE_ID\",\"none\",\"local\",false,false,false,false,{},{},{}]" ]] ||
		fail "$output"
	[[ $(jq -c '.[1] | [.Name,.Id,.Driver,.IPAM]' <<<"$output") == "[\"host\",\"$HOST_ID\",\"host\",{\"Driver\":\"default\",\"Options\":{},\"Config\":[]}]" ]] ||
		fail "$output"
	# by id and by a prefix of it
	run moat_as network inspect -f '{{.Name}}' "$HOST_ID" "${NONE_ID:0:5}"
	assert_success
	assert_output $'host\nnone'
	run moat_as network inspect --format '{{.Name}} {{.Driver}} {{.Scope}}' host
	assert_output "host host local"
	run moat_as network inspect -f json none
	[[ $(jq -r '.[0].Name' <<<"$output") == none ]] || fail "$output"
	# a missing name: the others printed, then the error, exit 1
	run --separate-stderr moat_as network inspect none nope host
	assert_failure 1
	[[ $(jq -r '[.[].Name] | join(",")' <<<"$output") == "none,host" ]] || fail "$output"
	[[ $stderr == "moat: No such network: nope" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as network inspect nope ../x
	assert_failure 1
	assert_output "[]"
	[[ $stderr == "moat: No such network: nope"$'\n'"moat: No such network: ../x" ]] || fail "stderr: $stderr"
	# "bridge" exists once used (the bridge: test below), not before
	run --separate-stderr moat_as network inspect bridge
	assert_failure 1
	[[ $stderr == "moat: No such network: bridge" ]] || fail "stderr: $stderr"
	# templates that fail print nothing
	run --separate-stderr moat_as network inspect -f '{{.Name' none
	assert_failure 1
	[[ $stderr == "moat: template parsing error: "* ]] || fail "$stderr"
	run --separate-stderr moat_as network inspect -f '{{.Name.Foo}}' none host
	assert_failure 1
	assert_output ""
	refused 125 network inspect
}

# ---- the predefined networks ----

@test "network: the predefined networks cannot be created or removed; none and host drivers make no others" {
	local n
	for n in none host bridge default; do
		refused 1 network create "$n"
		[[ $stderr == "moat: operation is not permitted on predefined $n network" ]] || fail "$stderr"
	done
	for n in none host bridge; do
		refused 1 network rm "$n"
		[[ $stderr == "moat: $n is a pre-defined network and cannot be removed" ]] || fail "$stderr"
		refused 1 network rm -f "$n"
	done
	refused 1 network rm "$HOST_ID"
	[[ $stderr == "moat: host is a pre-defined network and cannot be removed" ]] || fail "$stderr"
	refused 1 network rm "${NONE_ID:0:12}"
	# one network each: Docker's words
	refused 1 network create -d none othernone
	[[ $stderr == 'moat: only one instance of "none" network is allowed' ]] || fail "$stderr"
	refused 1 network create --driver host otherhost
	[[ $stderr == 'moat: only one instance of "host" network is allowed' ]] || fail "$stderr"
	[[ $(names) == "host none " ]] || fail "ls: $(names)"
	[[ -z $(find "$(ndir)" -name network.json 2>/dev/null) ]] || fail "a record was written"
}

# ---- create: what is refused before any driver runs (both identities) ----

@test "network create: bad names, addresses, labels and drivers are refused before any driver runs" {
	local long
	long=$(printf 'n%.0s' {1..129})
	refused 1 network create ../x
	[[ $stderr == 'moat: invalid network name "../x": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at most 128 characters' ]] ||
		fail "$stderr"
	refused 1 network create 'a b'
	refused 1 network create .hidden
	refused 1 network create "$long"
	refused 1 network create ''
	# addresses: moby's messages
	refused 1 network create --subnet 10.1.0.0 n1
	[[ $stderr == "moat: invalid subnet 10.1.0.0: invalid CIDR block notation" ]] || fail "$stderr"
	refused 1 network create --subnet 10.1.2.3/16 n1
	[[ $stderr == "moat: invalid subnet 10.1.2.3/16: it should be 10.1.0.0/16" ]] || fail "$stderr"
	refused 1 network create --subnet 10.1.0.0/33 n1
	refused 1 network create --subnet 10.1.0.0/16 --gateway 10.2.0.1 n1
	[[ $stderr == "moat: invalid gateway 10.2.0.1: parent subnet 10.1.0.0/16 doesn't contain this address" ]] ||
		fail "$stderr"
	refused 1 network create --subnet 10.1.0.0/16 --gateway 10.1.0.0 n1
	refused 1 network create --subnet 10.1.0.0/16 --gateway 10.1.255.255 n1
	refused 1 network create --subnet 10.1.0.0/16 --gateway not-an-ip n1
	refused 1 network create --subnet 10.1.0.0/16 --ip-range 10.2.0.0/24 n1
	[[ $stderr == "moat: invalid ip-range 10.2.0.0/24: parent subnet 10.1.0.0/16 doesn't contain ip-range" ]] ||
		fail "$stderr"
	refused 1 network create --subnet 10.1.0.0/16 --ip-range 10.0.0.0/8 n1
	refused 1 network create --gateway 10.1.0.1 n1
	[[ $stderr == "moat: every ip-range or gateway must have a corresponding subnet" ]] || fail "$stderr"
	refused 1 network create --ip-range 10.1.0.0/24 n1
	refused 1 network create --subnet fd00::/64 n1
	[[ $stderr == *"IPv4 only for now"* ]] || fail "$stderr"
	refused 1 network create --subnet 10.1.0.0/16 --subnet 10.2.0.0/16 n1
	[[ $stderr == *"one subnet"* ]] || fail "$stderr"
	# an unknown driver is Docker's plugin lookup
	refused 1 network create -d nope n1
	[[ $stderr == 'moat: plugin "nope" not found' ]] || fail "$stderr"
	refused 1 network create -d 'a/../b' n1
	# what the flag parser refuses is 125
	refused 125 network create
	[[ $stderr == 'moat: "network create" requires exactly 1 argument' ]] || fail "$stderr"
	refused 125 network create a b
	refused 125 network create --label =x n1
	[[ $stderr == "moat: invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name" ]] ||
		fail "$stderr"
	refused 125 network create -o =x n1
	refused 125 network create --bogus n1
	refused 125 network create --subnet
	[[ $(names) == "host none " ]] || fail "ls: $(names)"
}

@test "rootless: network create is refused with the reason (bridge networks need root), exit 125" {
	refused 125 network create "$(tn net)"
	[[ $stderr == "moat: bridge networks need root for now: "* ]] || fail "$stderr"
	refused 125 network create -d bridge --subnet 10.1.0.0/16 --label a=b "$(tn net)"
	[[ $stderr == "moat: bridge networks need root for now: "* ]] || fail "$stderr"
	# the request is still checked first
	refused 1 network create --subnet 10.1.2.3/16 "$(tn net)"
	[[ $stderr == *"it should be 10.1.0.0/16"* ]] || fail "$stderr"
	[[ $(names) == "host none " ]] || fail "ls: $(names)"
	[[ ! -e $(ndir) ]] || fail "$(ndir) was made"
}

# ---- rm and prune with nothing to do (both identities) ----

@test "network rm and prune: a missing network is exit 1 (-f: nothing said); nothing to prune says nothing" {
	refused 1 network rm nope
	[[ $stderr == "moat: network nope not found" ]] || fail "$stderr"
	refused 1 network remove ../x
	run --separate-stderr moat_as network rm -f nope ../x
	assert_success
	assert_output ""
	[[ -z $stderr ]] || fail "stderr: $stderr"
	refused 125 network rm
	refused 125 network rm --bogus x
	run --separate-stderr moat_as network prune -f
	assert_success
	assert_output ""
	run answer n network prune
	assert_success
	assert_output "WARNING! This will remove all custom networks not used by at least one container."$'\n'"Are you sure you want to continue? [y/N] "
	refused 125 network prune -f extra
	refused 125 network prune -f --filter dangling=true
	[[ $stderr == "moat: invalid filter 'dangling'" ]] || fail "$stderr"
	refused 125 network prune -f --filter label=
	refused 125 network prune -f --filter until=soon
}

# ---- audit (both identities) ----

@test "network audit: refusals are recorded; reads are not; no log, no change (fail-closed)" {
	local before
	moat_as network create ../x 2>/dev/null && fail "created ../x"
	moat_as network rm none 2>/dev/null && fail "removed none"
	moat_as network create --bogus x 2>/dev/null || true # the flag parser: no record
	moat_as network ls >/dev/null
	moat_as network inspect none >/dev/null
	run records network.create
	assert_success
	[[ ${#lines[@]} -eq 1 ]] || fail "records: $output"
	[[ $(jq -r '.name + " " + .driver + " " + .error' <<<"${lines[0]}") == '../x bridge invalid network name "../x"'* ]] ||
		fail "${lines[0]}"
	run records network.remove
	[[ ${#lines[@]} -eq 1 ]] || fail "records: $output"
	[[ $(jq -r '.name + " " + .id + " " + .driver + " " + .error' <<<"${lines[0]}") == "none $NONE_ID none none is a pre-defined network and cannot be removed" ]] ||
		fail "${lines[0]}"
	run records 'network.*'
	[[ ${#lines[@]} -eq 2 ]] || fail "records: $output"
	run moat_as audit verify
	assert_success

	# the log's path is a directory: it cannot be opened
	before=$(snapshot)
	install -d -m 0777 "$MOAT_T/badlog-$BATS_TEST_NUMBER/audit.log"
	export MOAT_AUDIT_LOG_OVERRIDE=$MOAT_T/badlog-$BATS_TEST_NUMBER/audit.log
	refused 125 network create "$(tn net)"
	[[ $stderr == *"audit"* ]] || fail "$stderr"
	refused 125 network rm nope
	refused 125 network rm -f nope
	refused 125 network prune -f
	[[ $(snapshot) == "$before" ]] || fail "changed without an audit log"
	# reading needs no log
	run moat_as network ls -q
	assert_success
}

# ---- bridge networks (root) ----

@test "bridge: network create makes the record and the bridge; inspect, ls and rm show and undo it" {
	local net id t0 t1 created
	net=$(tn net)
	t0=$(date -u +%s)
	run --separate-stderr moat_as network create "$net"
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	id=$output
	[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "create printed '$id'"
	t1=$(date -u +%s)
	# on disk: a 0700 directory named by the id, a 0600 record, leases
	[[ $(stat -c %a "$(ndir)/$id") == 700 ]] || fail "dir mode $(stat -c %a "$(ndir)/$id")"
	[[ $(stat -c %a "$(ndir)/$id/network.json") == 600 ]] || fail "record mode"
	[[ -d $(ndir)/$id/leases ]] || fail "no leases directory"
	[[ $(jq -r '.Name + " " + .Id + " " + .Bridge' "$(ndir)/$id/network.json") == "$net $id moat-${id:0:10}" ]] ||
		fail "record: $(cat "$(ndir)/$id/network.json")"
	# the kernel's side: the bridge, with the gateway of the first free /24
	[[ $(kernel_bridge "$net") == "moat-${id:0:10} 10.89.0.1/24" ]] || fail "bridge: '$(kernel_bridge "$net")'"

	run --separate-stderr moat_as network inspect "$net"
	assert_success
	[[ $(jq -c '.[0] | [.Name,.Id,.Driver,.Scope,.Internal,.EnableIPv6,.Labels,.Options,.Containers]' <<<"$output") == "[\"$net\",\"$id\",\"bridge\",\"local\",false,false,{},{},{}]" ]] ||
		fail "$output"
	[[ $(jq -c '.[0].IPAM' <<<"$output") == '{"Driver":"default","Options":{},"Config":[{"Subnet":"10.89.0.0/24","Gateway":"10.89.0.1"}]}' ]] ||
		fail "$output"
	created=$(jq -r '.[0].Created' <<<"$output")
	[[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] || fail "Created $created"
	created=$(date -u -d "$created" +%s)
	((created >= t0 && created <= t1)) || fail "Created $created not in [$t0, $t1]"
	# by id and by prefix
	[[ $(moat_as network inspect -f '{{.Name}}' "$id") == "$net" ]] || fail "by id"
	[[ $(moat_as network inspect -f '{{.Name}}' "${id:0:12}") == "$net" ]] || fail "by prefix"

	run moat_as network ls
	assert_success
	assert_line --regexp "^${id:0:12} +$net +bridge +local$"
	run moat_as network ls --format '{{.Name}}' --filter type=custom
	assert_output "$net"
	run moat_as network ls --format '{{.Name}}' --filter driver=bridge
	assert_output "$net"

	run --separate-stderr moat_as network rm "$net"
	assert_success
	assert_output "$net"
	[[ ! -e $(ndir)/$id ]] || fail "the record is left"
	[[ -z $(net_bridges | grep "^moat-${id:0:10}\$") ]] || fail "the bridge is left"
	refused 1 network rm "$net"
}

@test "bridge: --subnet, --gateway, --ip-range, --internal, --label and -o as given" {
	local net id
	net=$(tn net)
	run --separate-stderr moat_as network create --subnet 172.30.0.0/16 --ip-range 172.30.5.0/24 \
		--gateway 172.30.255.254 --label b=2 --label a=1 --label a=3 --label flag \
		-o com.docker.network.bridge.name=mtbr0 "$net"
	assert_success
	id=$output
	run moat_as network inspect "$net"
	[[ $(jq -c '.[0].IPAM.Config' <<<"$output") == '[{"Subnet":"172.30.0.0/16","IPRange":"172.30.5.0/24","Gateway":"172.30.255.254"}]' ]] ||
		fail "$output"
	[[ $(jq -c '.[0].Labels' <<<"$output") == '{"a":"3","b":"2","flag":""}' ]] || fail "$output"
	[[ $(jq -c '.[0].Options' <<<"$output") == '{"com.docker.network.bridge.name":"mtbr0"}' ]] || fail "$output"
	[[ $(ip -n "$NET_HOST_NS" -o -4 addr show dev mtbr0 | awk '{print $4}') == 172.30.255.254/16 ]] ||
		fail "mtbr0: $(ip -n "$NET_HOST_NS" -o addr show dev mtbr0)"
	run moat_as network ls --format '{{.Name}} {{.Labels}}' --filter label=a=3
	assert_output "$net a=3,b=2,flag="
	run moat_as network ls --format '{{.Name}}' --filter label=a=1
	assert_output ""
	moat_as network rm "$net" >/dev/null
	[[ -z $(net_bridges | grep -x mtbr0) ]] || fail "mtbr0 left"

	# --internal: recorded, shown, and the bridge has no address
	run --separate-stderr moat_as network create --internal "$net"
	assert_success
	[[ $(moat_as network inspect -f '{{.Internal}}' "$net") == true ]] || fail "not internal"
	run moat_as network ls --format '{{.Name}} {{.Internal}}' --filter name="$net"
	assert_output "$net true"
	[[ $(kernel_bridge "$net") == *" -" ]] || fail "an internal bridge has an address: $(kernel_bridge "$net")"
}

@test "bridge: a taken name, an overlapping pool, a route of the host, an unknown -o are refused" {
	local a b
	a=$(tn a)
	b=$(tn b)
	moat_as network create --subnet 10.40.0.0/16 "$a" >/dev/null
	refused 1 network create "$a"
	[[ $stderr == "moat: network with name $a already exists" ]] || fail "$stderr"
	refused 1 network create --subnet 10.40.8.0/24 "$b"
	[[ $stderr == "moat: invalid pool request: Pool overlaps with other one on this address space (10.40.8.0/24 overlaps 10.40.0.0/16 of network $a)" ]] ||
		fail "$stderr"
	refused 1 network create --subnet 10.0.0.0/8 "$b"
	# the default network's pool, even before it exists
	refused 1 network create --subnet 10.88.1.0/24 "$b"
	[[ $stderr == *"overlaps 10.88.0.0/16 of network bridge"* ]] || fail "$stderr"
	# the driver's options: unknown ones refused, nothing made
	refused 1 network create -o mtu=1500 "$b"
	[[ $stderr == *'unknown option "mtu"'* ]] || fail "$stderr"
	# a route of the (namespace's) host: chosen pools avoid it, given ones are refused
	ip -n "$NET_HOST_NS" link add mtdummy type veth peer name mtdummyp
	ip -n "$NET_HOST_NS" addr add 10.89.0.1/24 dev mtdummy
	ip -n "$NET_HOST_NS" link set mtdummyp up
	ip -n "$NET_HOST_NS" link set mtdummy up
	refused 1 network create --subnet 10.89.0.0/16 "$b"
	[[ $stderr == "moat: invalid pool request: 10.89.0.0/16 overlaps a route of the host (dev mtdummy): choose another --subnet" ]] ||
		fail "$stderr"
	run --separate-stderr moat_as network create "$b"
	assert_success
	[[ $(moat_as network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$b") == 10.89.1.0/24 ]] ||
		fail "chose $(moat_as network inspect -f '{{range .IPAM.Config}}{{.Subnet}}{{end}}' "$b")"
	[[ $(names) == "host none $a $b " ]] || fail "ls: $(names)"
}

@test "bridge: concurrent creates of one name make one network and leave nothing else" {
	local net i ok=0 taken=0 rc
	net=$(tn same)
	for i in 1 2 3 4 5 6; do
		(
			rc=0
			moat_as network create "$net" >"$MOAT_T/race.$i.out" 2>"$MOAT_T/race.$i.err" || rc=$?
			echo "$rc" >"$MOAT_T/race.$i.rc"
		) &
	done
	wait
	for i in 1 2 3 4 5 6; do
		rc=$(cat "$MOAT_T/race.$i.rc")
		if [[ $rc == 0 ]]; then
			ok=$((ok + 1))
		elif [[ $rc == 1 && $(cat "$MOAT_T/race.$i.err") == "moat: network with name $net already exists" ]]; then
			taken=$((taken + 1))
		else
			fail "create $i: exit $rc: $(cat "$MOAT_T/race.$i.err")"
		fi
	done
	[[ $ok -eq 1 && $taken -eq 5 ]] || fail "$ok created, $taken refused"
	[[ $(find "$(ndir)" -mindepth 1 -maxdepth 1 -type d | wc -l) -eq 1 ]] ||
		fail "directories: $(ls "$(ndir)")"
	[[ $(net_bridges | grep -c '^moat-') -eq 1 ]] || fail "bridges: $(net_bridges)"
	[[ $(names) == "host none $net " ]] || fail "ls: $(names)"
}

@test "bridge: network rm is refused while a container refers to it, running or not; prune keeps it" {
	local net free cid id
	net=$(tn used)
	free=$(tn free)
	moat_as network create "$net" >/dev/null
	moat_as network create "$free" >/dev/null
	id=$(net_id "$net")
	cid=$(moat_as create --network "$net" "$IMG" true)
	[[ $cid =~ ^[0-9a-f]{64}$ ]] || fail "create printed '$cid'"
	refused 1 network rm "$net"
	[[ $stderr == "moat: error while removing network: network $net id $id has active endpoints" ]] ||
		fail "$stderr"
	refused 1 network rm -f "$net"
	# several names: the others still go, the status is 1
	run --separate-stderr moat_as network rm "$net" "$free"
	assert_failure 1
	assert_output "$free"
	assert_one_error_line
	moat_as network create "$free" >/dev/null
	run moat_as network prune -f
	assert_success
	assert_output "Deleted Networks:"$'\n'"$free"
	[[ $(names) == "host none $net " ]] || fail "ls: $(names)"
	moat_as rm "$cid" >/dev/null
	run --separate-stderr moat_as network rm "$net"
	assert_success
	assert_output "$net"
}

@test "bridge: network prune: the prompt; unused custom networks go; filters select" {
	local before
	moat_as network create --label keep=1 "$(tn k1)" >/dev/null
	moat_as network create --label keep=0 "$(tn k0)" >/dev/null
	moat_as network create "$(tn plain)" >/dev/null
	before=$(snapshot)
	run answer n network prune
	assert_success
	assert_output "WARNING! This will remove all custom networks not used by at least one container."$'\n'"Are you sure you want to continue? [y/N] "
	run answer yes network prune
	[[ $(snapshot) == "$before" ]] || fail "changed without a y"
	run moat_as network prune -f --filter until=1h
	assert_success
	assert_output ""
	run moat_as network prune -f --filter label=keep=1
	assert_output "Deleted Networks:"$'\n'"$(tn k1)"
	run moat_as network prune --force --filter 'label!=keep'
	assert_output "Deleted Networks:"$'\n'"$(tn plain)"
	run answer y network prune
	assert_success
	assert_output "WARNING! This will remove all custom networks not used by at least one container."$'\n'"Are you sure you want to continue? [y/N] Deleted Networks:"$'\n'"$(tn k0)"
	[[ $(names) == "host none " ]] || fail "ls: $(names)"
	[[ -z $(net_bridges | grep '^moat-') ]] || fail "bridges left: $(net_bridges)"
}

@test "bridge: the default network appears once a container uses it, and cannot be removed or pruned" {
	local cid id
	[[ $(names) == "host none " ]] || fail "ls before: $(names)"
	cid=$(moat_as create --network bridge "$IMG" true)
	run moat_as network inspect bridge
	assert_success
	id=$(jq -r '.[0].Id' <<<"$output")
	[[ $(jq -c '.[0] | [.Name,.Driver,.IPAM.Config]' <<<"$output") == '["bridge","bridge",[{"Subnet":"10.88.0.0/16","Gateway":"10.88.0.1"}]]' ]] ||
		fail "$output"
	[[ $(jq -r .Bridge "$(ndir)/$id/network.json") == moat0 ]] || fail "bridge name"
	[[ $(jq -r .EnableDNS "$(ndir)/$id/network.json") == false ]] || fail "EnableDNS"
	[[ $(names) == "bridge host none " ]] || fail "ls: $(names)"
	run moat_as network ls --format '{{.Name}}' --filter type=builtin
	assert_output $'bridge\nhost\nnone'
	refused 1 network rm bridge
	[[ $stderr == "moat: bridge is a pre-defined network and cannot be removed" ]] || fail "$stderr"
	refused 1 network rm "$id"
	moat_as rm "$cid" >/dev/null
	run moat_as network prune -f
	assert_output ""
	[[ $(names) == "bridge host none " ]] || fail "ls: $(names)"
	# a second user is the same network
	cid=$(moat_as create --network bridge "$IMG" true)
	[[ $(net_id bridge) == "$id" ]] || fail "a second default network"
	moat_as rm "$cid" >/dev/null
}

@test "bridge: network audit: create, rm and prune are recorded with names, ids, drivers and failures" {
	local net id
	net=$(tn net)
	id=$(moat_as network create --subnet 10.41.0.0/16 "$net")
	moat_as network create "$net" 2>/dev/null && fail "created twice"
	run records network.create
	assert_success
	[[ ${#lines[@]} -eq 2 ]] || fail "records: $output"
	[[ $(jq -c '[.name,.id,.driver,.subnet,.internal]' <<<"${lines[0]}") == "[\"$net\",\"$id\",\"bridge\",\"10.41.0.0/16\",false]" ]] ||
		fail "${lines[0]}"
	[[ $(jq -r '.name + " " + .error' <<<"${lines[1]}") == "$net network with name $net already exists" ]] ||
		fail "${lines[1]}"
	moat_as network rm "$net" >/dev/null
	run records network.remove
	[[ ${#lines[@]} -eq 1 ]] || fail "records: $output"
	[[ $(jq -c '[.name,.id,.driver,has("error")]' <<<"${lines[0]}") == "[\"$net\",\"$id\",\"bridge\",false]" ]] ||
		fail "${lines[0]}"
	moat_as network create "$net" >/dev/null
	moat_as network prune -f >/dev/null
	run records network.prune
	[[ ${#lines[@]} -eq 1 ]] || fail "records: $output"
	[[ $(jq -c '.names' <<<"${lines[0]}") == "[\"$net\"]" ]] || fail "${lines[0]}"
	run moat_as audit verify
	assert_success
}
