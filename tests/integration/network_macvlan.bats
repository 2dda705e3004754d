#!/usr/bin/env bats
# Macvlan networks as root (`moat network create -d macvlan -o parent=IF`):
# a container is a host of its own on the parent's LAN (it reaches a LAN
# host, the LAN host reaches a server in it, by its IPAM address or its
# --ip, and sees its 02:42 MAC), containers of one network reach each
# other in bridge mode and not in private mode, resolve each other's names
# through 127.0.0.11, --internal gives no default route, passthru takes its
# parent alone; the bad inputs (no parent, a missing parent, loopback or a
# moat bridge as parent, unknown mode or option, --ip outside the subnet,
# -p); cleanup after rm -f and after the monitor is SIGKILLed.
#
# Where: moat runs in the private "host" namespace tests/lib/net.bash makes
# (moattest-host-PID, never the machine's own). This file adds a "LAN":
# the namespace moattest-lan-PID and a veth pair whose host end (mvpPID,
# no address: the macvlans' parent) is in the host namespace and whose
# other end (mvlPID, LAN_IP in the macvlan subnet, the networks' gateway
# address as a LAN router would have) is in the LAN namespace. Every
# address contacted is inside these namespaces or a container's; all of it
# dies with them in teardown_file.
#
# What is checked does not trust moat: addresses and links are read from
# the kernel in the container's namespace, reachability is a connection
# with a reply, and "no macvlan is left" is asked of the parent itself: a
# passthru macvlan can be made on a parent only when it has no other
# macvlan in any namespace (the kernel's rule).
#
# Rootless: macvlan networks are refused (one test); the others skip.

load ../lib/helpers
load ../lib/net

MOAT_WRAP=${MOAT_WRAP:-timeout 120}

setup_file() {
	net_setup_file || return 1
	moat_setup_file || {
		net_teardown_file
		return 1
	}
	is_root_identity || return 0
	export LAN_NS=moattest-lan-$NET_TAG
	export LAN_NSPATH=/run/netns/$LAN_NS
	export PARENT=mvp$NET_TAG LAN_IF=mvl$NET_TAG
	export SUB=10.252.$NET_SUBNET_K LAN_IP=10.252.$NET_SUBNET_K.1
	export SUB2=10.253.$NET_SUBNET_K
	if ! ip netns add "$LAN_NS" ||
		! ip -n "$LAN_NS" link set lo up ||
		! ip -n "$NET_HOST_NS" link add "$PARENT" type veth peer name "$LAN_IF" netns "$LAN_NS" ||
		! ip -n "$LAN_NS" addr add "$LAN_IP/24" dev "$LAN_IF" ||
		! ip -n "$LAN_NS" addr add "$SUB2.1/24" dev "$LAN_IF" ||
		! ip -n "$NET_HOST_NS" link set "$PARENT" up ||
		! ip -n "$LAN_NS" link set "$LAN_IF" up; then
		echo "# could not make the LAN namespace" >&3
		ip netns del "$LAN_NS" 2>/dev/null || true
		moat_teardown_file
		net_teardown_file
		return 1
	fi
}

teardown_file() {
	moat_teardown_file
	net_teardown_file
	[[ -z ${LAN_NS:-} ]] || ip netns del "$LAN_NS" 2>/dev/null || true
}

setup() {
	if ! is_root_identity && [[ $BATS_TEST_DESCRIPTION != rootless:* ]]; then
		skip "macvlan networks need root for now (the rootless refusal has its own test)"
	fi
	if is_root_identity && [[ $BATS_TEST_DESCRIPTION == rootless:* ]]; then
		skip "checks the rootless refusal"
	fi
}

# After each test: every container and network goes (net_teardown_test),
# then the parent must carry no macvlan and the host namespace hold none.
teardown() {
	local bad=""
	net_teardown_test || bad+="net_teardown_test failed; "
	if is_root_identity; then
		parent_free || bad+="a macvlan is still on $PARENT; "
		[[ -z $(host_macvlans) ]] || bad+="macvlans in the host namespace: $(host_macvlans); "
		ip -n "$NET_HOST_NS" link del "$(tn gone)" 2>/dev/null || true
		ip -n "$NET_HOST_NS" link del "$(tn tmp)" 2>/dev/null || true
	fi
	if [[ -n $bad ]]; then
		echo "# teardown: $bad" >&2
		return 1
	fi
}

# ---- helpers ----

lanns() { nsenter --net="$LAN_NSPATH" "$@"; }

# The macvlan links of the host namespace (moat must never make one there).
host_macvlans() { ip -n "$NET_HOST_NS" -o link show type macvlan | awk -F': ' '{print $2}'; }

# Does PARENT carry no macvlan, in any namespace? The kernel makes a
# passthru child only on a parent without children. Retried for 5 s: a
# namespace (and its macvlan) is destroyed asynchronously after its last
# process exits.
parent_free() {
	local i
	for ((i = 0; i < 50; i++)); do
		if ip -n "$NET_HOST_NS" link add mvprobe link "${1:-$PARENT}" type macvlan mode passthru 2>/dev/null; then
			ip -n "$NET_HOST_NS" link del mvprobe
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# The number of macvlan children on PARENT: how many it took to make it
# refuse a passthru child is not countable from outside, so this only
# answers "some" (1) or "none" (0), at once (no retry).
parent_busy() {
	if ip -n "$NET_HOST_NS" link add mvprobe link "$PARENT" type macvlan mode passthru 2>/dev/null; then
		ip -n "$NET_HOST_NS" link del mvprobe
		return 1
	fi
	return 0
}

ctr_pid() { moat_as inspect -f '{{.State.Pid}}' "$1"; }

# eth0 of container NAME as its namespace's kernel describes it
# (ip -d -o link, the host's iproute2).
ctr_link() {
	local pid
	pid=$(ctr_pid "$1")
	[[ $pid -gt 0 ]] || fail "no pid for $1"
	nsenter --net="/proc/$pid/ns/net" ip -d -o link show dev eth0
}

monitor_pid() { pids_with_arg "$MOAT" "$1" | head -n 1; }

# mvnet NAME [FLAGS...]: a macvlan network on PARENT in $SUB.0/24.
mvnet() {
	local name=$1
	shift
	run --separate-stderr moat_as network create -d macvlan -o parent="$PARENT" \
		--subnet "$SUB.0/24" "$@" "$name"
	[[ $status -eq 0 ]] || fail "network create $name: exit $status: $stderr"
}

# Everything a refused command must not change: net_snapshot's
# containers, leases, endpoint files, and the networks.
mv_snapshot() {
	net_snapshot
	user_networks | sed 's/^/network /'
}

# refused EXIT ARGS...: `moat ARGS` fails with EXIT and one line, and
# changes nothing (no container, lease, network, macvlan).
refused() {
	local want=$1 before now
	shift
	before=$(mv_snapshot)
	run --separate-stderr moat_as "$@"
	[[ $status -eq $want ]] || fail "moat $*: exit $status, want $want: $stderr"
	assert_one_error_line
	now=$(mv_snapshot)
	[[ $now == "$before" ]] || fail "state changed:"$'\n'"before:"$'\n'"$before"$'\n'"after:"$'\n'"$now"
	[[ -z $(host_macvlans) ]] || fail "a macvlan in the host namespace: $(host_macvlans)"
}

# ---- 1. the LAN ----

@test "macvlan: a container reaches a LAN host, and the LAN host reaches a server in it" {
	local net srv ip link mac
	net=$(tn net)
	srv=$(tn srv)
	net_server "$LAN_NSPATH" tcp "$LAN_IP" 7000 lan1 lanhost
	mvnet "$net" --gateway "$LAN_IP"
	[[ $(moat_as network inspect -f '{{.Driver}}' "$net") == macvlan ]] || fail "driver"
	web_run "$srv" "$net"
	ip=$(ctr_ip "$srv")
	[[ $ip == "$SUB".* ]] || fail "address $ip is not in $SUB.0/24"

	# eth0 is a macvlan child in bridge mode with the 02:42 MAC of its address
	link=$(ctr_link "$srv")
	[[ $link == *"macvlan mode bridge"* ]] || fail "eth0 is not a bridge-mode macvlan: $link"
	mac=$(printf '02:42:%02x:%02x:%02x:%02x' ${ip//./ })
	[[ $link == *"link/ether $mac "* ]] || fail "eth0's MAC is not $mac: $link"
	[[ -z $(host_macvlans) ]] || fail "a macvlan in the host namespace: $(host_macvlans)"
	parent_busy || fail "$PARENT carries no macvlan while $srv runs"

	# the default route goes to the gateway (the LAN host here)
	run --separate-stderr moat_as exec "$srv" ip route
	assert_success
	assert_output --partial "default via $LAN_IP dev eth0"

	# container -> LAN host, seen there from the container's address
	run --separate-stderr moat_as exec "$srv" sh -c "nc -w 3 $LAN_IP 7000 </dev/null"
	assert_success
	assert_output "lanhost peer=$ip"
	grep -qx "peer $ip" "$(net_log lan1)" || fail "the LAN server did not see $ip: $(cat "$(net_log lan1)")"

	# LAN host -> the container's server, and the LAN's neighbour entry
	# has the container's MAC
	run net_http "$LAN_NSPATH" "http://$ip/"
	assert_success
	assert_output "hello-$srv"
	run ip -n "$LAN_NS" neigh show "$ip"
	assert_output --partial "lladdr $mac"
}

@test "macvlan: --ip is the container's address and the LAN host sees it; --ip-range bounds the others" {
	local net srv other ip
	net=$(tn net)
	srv=$(tn srv)
	other=$(tn other)
	net_server "$LAN_NSPATH" tcp "$LAN_IP" 7001 lan2 lanhost
	mvnet "$net" --ip-range "$SUB.128/25"
	web_run "$srv" "$net" --ip "$SUB.177"
	[[ $(ctr_ip "$srv") == "$SUB.177" ]] || fail "--ip not applied: $(ctr_ip "$srv")"
	[[ $(moat_as inspect -f '{{.NetworkSettings.IPAddress}}' "$srv") == "$SUB.177" ]] ||
		fail "inspect does not show $SUB.177"
	run net_http "$LAN_NSPATH" "http://$SUB.177/"
	assert_success
	assert_output "hello-$srv"
	run --separate-stderr moat_as exec "$srv" sh -c "nc -w 3 $LAN_IP 7001 </dev/null"
	assert_output "lanhost peer=$SUB.177"
	run ip -n "$LAN_NS" neigh show "$SUB.177"
	assert_output --partial "lladdr 02:42:0a:fc:$(printf %02x "$NET_SUBNET_K"):b1"
	# without --ip: from the range
	web_run "$other" "$net"
	ip=$(ctr_ip "$other")
	[[ ${ip##*.} -ge 128 && ${ip%.*} == "$SUB" ]] || fail "$ip is not in $SUB.128/25"
	# the same --ip again is refused
	refused 125 run --rm --network "$net" --ip "$SUB.177" "$IMG" true
	[[ $stderr == *"$SUB.177"* ]] || fail "$stderr"
}

@test "macvlan: the usual LAN: the parent has an address in the subnet; the host cannot reach its containers through it" {
	local net srv p sub ip
	net=$(tn net)
	srv=$(tn srv)
	p=$(tn tmp)
	sub=10.251.$NET_SUBNET_K
	# a parent as a LAN host has it: an address (and so a route) in the
	# LAN's subnet, which is the macvlan network's
	ip -n "$NET_HOST_NS" link add "$p" type veth peer name "${p}p" netns "$LAN_NS"
	ip -n "$NET_HOST_NS" addr add "$sub.5/24" dev "$p"
	ip -n "$LAN_NS" addr add "$sub.1/24" dev "${p}p"
	ip -n "$NET_HOST_NS" link set "$p" up
	ip -n "$LAN_NS" link set "${p}p" up
	# control: the host reaches the LAN through it
	net_server "$LAN_NSPATH" tcp "$sub.1" 7003 lan4 lanhost
	run net_tcp host "$sub.1" 7003
	assert_output "lanhost peer=$sub.5"
	# Docker checks host routes for bridge networks only: a macvlan
	# network is meant to share the LAN's subnet
	run --separate-stderr moat_as network create -d macvlan -o parent="$p" \
		--subnet "$sub.0/24" --gateway "$sub.1" "$net"
	[[ $status -eq 0 ]] || fail "macvlan network on the parent's own subnet: exit $status: $stderr"
	web_run "$srv" "$net"
	ip=$(ctr_ip "$srv")
	run net_http "$LAN_NSPATH" "http://$ip/"
	assert_output "hello-$srv"
	# the kernel's rule: the parent's own host does not reach its
	# macvlan children through it
	run net_http host "http://$ip/"
	assert_failure
}

# ---- 2. containers of one network ----

@test "macvlan: bridge mode: two containers reach each other by IP and by name through 127.0.0.11" {
	local net a b ipa ipb
	net=$(tn net)
	a=$(tn a)
	b=$(tn b)
	mvnet "$net" -o macvlan_mode=bridge
	web_run "$a" "$net" --network-alias "$(tn alias)"
	web_run "$b" "$net"
	ipa=$(ctr_ip "$a")
	ipb=$(ctr_ip "$b")
	run --separate-stderr moat_as exec "$b" sh -c "$(get_cmd "$ipa")"
	assert_success
	assert_output --partial "hello-$a"
	run --separate-stderr moat_as exec "$a" sh -c "$(get_cmd "$ipb")"
	assert_success
	assert_output --partial "hello-$b"
	# names: the embedded server, asked directly and through resolv.conf
	run --separate-stderr moat_as exec "$b" sh -c "nslookup $a 127.0.0.11; nslookup $(tn alias) 127.0.0.11"
	assert_success
	[[ $(grep -c "^Address: $ipa\$" <<<"$output") -eq 2 ]] ||
		fail "nslookup of $a and its alias should both answer $ipa:"$'\n'"$output"
	run --separate-stderr moat_as exec "$b" cat /etc/resolv.conf
	[[ $(grep '^nameserver' <<<"$output") == "nameserver 127.0.0.11" ]] || fail "$output"
	run --separate-stderr moat_as exec "$b" sh -c "$(get_cmd "$a")"
	[[ $status -eq 0 && $output == *"hello-$a"* ]] || fail "by name $a: exit $status: $output $stderr"
	run --separate-stderr moat_as exec "$a" sh -c "$(get_cmd "$b")"
	[[ $status -eq 0 && $output == *"hello-$b"* ]] || fail "by name $b: exit $status: $output $stderr"
}

@test "macvlan: private mode (-o mode=private): containers cannot reach each other, the LAN reaches both" {
	local net a b ipa ipb id
	net=$(tn net)
	a=$(tn a)
	b=$(tn b)
	mvnet "$net" -o mode=private
	id=$(net_id "$net")
	grep -q '"MacvlanMode":"private"' "$MOAT_STATE/root/networks/$id/network.json" ||
		fail "record: $(cat "$MOAT_STATE/root/networks/$id/network.json")"
	web_run "$a" "$net"
	web_run "$b" "$net"
	ipa=$(ctr_ip "$a")
	ipb=$(ctr_ip "$b")
	[[ $(ctr_link "$a") == *"macvlan mode private"* ]] || fail "$(ctr_link "$a")"
	# control: the LAN host reaches both
	run net_http "$LAN_NSPATH" "http://$ipa/"
	assert_output "hello-$a"
	run net_http "$LAN_NSPATH" "http://$ipb/"
	assert_output "hello-$b"
	# but they do not reach each other
	run --separate-stderr moat_as exec "$b" sh -c "$(get_cmd "$ipa")"
	refute_output --partial "hello-$a"
	run --separate-stderr moat_as exec "$a" sh -c "$(get_cmd "$ipb")"
	refute_output --partial "hello-$b"
}

# ---- 3. --internal, passthru ----

@test "macvlan: --internal has no default route, the LAN on the subnet is still reached" {
	local net srv
	net=$(tn net)
	srv=$(tn srv)
	net_server "$LAN_NSPATH" tcp 0.0.0.0 7002 lan3 lanhost
	mvnet "$net" --internal
	web_run "$srv" "$net"
	run --separate-stderr moat_as exec "$srv" ip route
	assert_success
	refute_output --partial default
	assert_output --partial "$SUB.0/24 dev eth0"
	run --separate-stderr moat_as exec "$srv" sh -c "nc -w 3 $LAN_IP 7002 </dev/null"
	assert_output "lanhost peer=$(ctr_ip "$srv")"
	# nothing off the subnet (the LAN host has $SUB2.1 too, one hop away)
	run --separate-stderr moat_as exec "$srv" sh -c "nc -w 2 $SUB2.1 7002 </dev/null"
	assert_failure
}

@test "macvlan: passthru takes its parent alone: a second container, or another mode, is refused" {
	local net other srv pmac link
	net=$(tn pt)
	other=$(tn br)
	srv=$(tn srv)
	run --separate-stderr moat_as network create -d macvlan -o parent="$PARENT" \
		-o macvlan_mode=passthru --subnet "$SUB2.0/24" "$net"
	assert_success
	mvnet "$other"
	web_run "$srv" "$net"
	link=$(ctr_link "$srv")
	[[ $link == *"macvlan mode passthru"* ]] || fail "$link"
	# passthru: the child has the parent's MAC
	pmac=$(ip -n "$NET_HOST_NS" -o link show dev "$PARENT" | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')
	[[ $link == *"link/ether $pmac "* ]] || fail "not the parent's MAC $pmac: $link"
	run net_http "$LAN_NSPATH" "http://$(ctr_ip "$srv")/"
	assert_output "hello-$srv"
	refused 125 run --rm --network "$net" "$IMG" true
	[[ $stderr == *passthru* && $stderr == *"$PARENT"* ]] || fail "$stderr"
	refused 125 run --rm --network "$other" "$IMG" true
	[[ $stderr == *passthru* && $stderr == *"$PARENT"* ]] || fail "$stderr"
	# once it is gone, the other network works
	moat_as rm -f "$srv" >/dev/null
	parent_free || fail "$PARENT still carries a macvlan"
	run --separate-stderr mrun --network "$other" "$IMG" true
	assert_success
}

# ---- 4. cleanup ----

@test "macvlan: rm -f leaves no macvlan, lease or endpoint; network rm works" {
	local net id a b
	net=$(tn net)
	a=$(tn a)
	b=$(tn b)
	mvnet "$net"
	id=$(net_id "$net")
	web_run "$a" "$net"
	web_run "$b" "$net"
	parent_busy || fail "$PARENT carries no macvlan while two containers run"
	[[ $(find "$MOAT_STATE/root/networks/$id/leases" -type f ! -name '.*' | wc -l) -eq 2 ]] ||
		fail "not two leases: $(ls -A "$MOAT_STATE/root/networks/$id/leases")"
	[[ -e $MOAT_STATE/root/networks/$id/endpoints/$(moat_as inspect -f '{{.Id}}' "$a") ]] ||
		fail "no endpoint file for $a"
	run --separate-stderr moat_as rm -f "$a" "$b"
	assert_success
	parent_free || fail "$PARENT still carries a macvlan after rm -f"
	run host_macvlans
	assert_output ""
	run find "$MOAT_STATE/root/networks/$id/leases" "$MOAT_STATE/root/networks/$id/endpoints" -type f ! -name '.*'
	assert_output ""
	run --separate-stderr moat_as network rm "$net"
	assert_success
	[[ ! -e $MOAT_STATE/root/networks/$id ]] || fail "network rm left ROOT/networks/$id"
	# the parent is the host's: untouched
	ip -n "$NET_HOST_NS" -o link show dev "$PARENT" | grep -q 'state UP' || fail "$PARENT is not up"
}

@test "macvlan: after kill -9 of the monitor, the macvlan is gone and moat ps reclaims the lease" {
	local net id name mon
	net=$(tn net)
	name=$(tn victim)
	mvnet "$net"
	id=$(net_id "$net")
	web_run "$name" "$net"
	mon=$(monitor_pid "$name")
	[[ -n $mon ]] || fail "no monitor found for $name"
	parent_busy || fail "$PARENT carries no macvlan while $name runs"
	kill -KILL "$mon"
	# the container dies with its monitor, its namespace and macvlan with it
	parent_free || fail "$PARENT still carries a macvlan after the monitor died"
	run host_macvlans
	assert_output ""
	[[ -n $(find "$MOAT_STATE/root/networks/$id/leases" -type f ! -name '.*') ]] ||
		fail "the lease went before any moat command ran"
	run --separate-stderr moat_as ps -a
	assert_success
	run find "$MOAT_STATE/root/networks/$id/leases" "$MOAT_STATE/root/networks/$id/endpoints" -type f ! -name '.*'
	assert_output ""
	moat_as rm -f "$name" >/dev/null
	run --separate-stderr moat_as network rm "$net"
	assert_success
	[[ ! -e $MOAT_STATE/root/networks/$id ]] || fail "network rm left ROOT/networks/$id"
}

# ---- 5. bad input ----

@test "macvlan: create without a parent, with a missing one, or with a bad mode or option is refused" {
	local net out
	net=$(tn net)
	refused 1 network create -d macvlan --subnet "$SUB.0/24" "$net"
	[[ $stderr == *"-o parent=IF is required"* ]] || fail "$stderr"
	refused 1 network create -d macvlan -o parent=nosuch0 --subnet "$SUB.0/24" "$net"
	[[ $stderr == *nosuch0* && $stderr == *"not found"* ]] || fail "$stderr"
	refused 1 network create -d macvlan -o parent="$PARENT" -o macvlan_mode=bogus --subnet "$SUB.0/24" "$net"
	[[ $stderr == *bogus* ]] || fail "$stderr"
	refused 1 network create -d macvlan -o parent="$PARENT" -o mode=bogus --subnet "$SUB.0/24" "$net"
	[[ $stderr == *bogus* ]] || fail "$stderr"
	refused 1 network create -d macvlan -o parent="$PARENT" -o mode=bridge -o macvlan_mode=private \
		--subnet "$SUB.0/24" "$net"
	refused 1 network create -d macvlan -o parent="$PARENT" -o color=blue --subnet "$SUB.0/24" "$net"
	[[ $stderr == *color* ]] || fail "$stderr"
	refused 1 network create -d macvlan -o parent="$PARENT" \
		-o com.docker.network.bridge.name=x0 --subnet "$SUB.0/24" "$net"
	refused 1 network create -d macvlan -o parent= --subnet "$SUB.0/24" "$net"
	refused 1 network create -d macvlan -o parent=a/b --subnet "$SUB.0/24" "$net"
	refused 1 network create -d macvlan -o parent=0123456789abcdefg --subnet "$SUB.0/24" "$net"
	# loopback, and a moat bridge
	refused 1 network create -d macvlan -o parent=lo --subnet "$SUB.0/24" "$net"
	[[ $stderr == *loopback* ]] || fail "$stderr"
	moat_as network create --subnet 10.254.1.0/24 "$(tn br)" >/dev/null
	refused 1 network create -d macvlan -o parent="moat-$(net_id "$(tn br)" | cut -c1-10)" \
		--subnet "$SUB.0/24" "$net"
	[[ $stderr == *"bridge of a moat network"* ]] || fail "$stderr"
	# and the control: the same request with a good parent works
	mvnet "$net"
	out=$(moat_as network inspect -f '{{.Driver}}' "$net")
	[[ $out == macvlan ]] || fail "$out"
}

@test "macvlan: --ip outside the subnet and -p are refused at run" {
	local net
	net=$(tn net)
	mvnet "$net"
	refused 125 run --rm --network "$net" --ip 10.9.9.9 "$IMG" true
	[[ $stderr == *10.9.9.9* ]] || fail "$stderr"
	refused 125 run --rm --network "$net" --ip "$SUB.0" "$IMG" true
	refused 125 run --rm --network "$net" --ip "$SUB.1" "$IMG" true
	refused 125 run --rm --network "$net" -p 18100:80 "$IMG" true
	[[ $stderr == *macvlan* ]] || fail "$stderr"
}

@test "macvlan: a parent that went away after create is named at run; network rm still works" {
	local net gone id
	net=$(tn net)
	gone=$(tn gone)
	ip -n "$NET_HOST_NS" link add "$gone" type veth peer name "${gone}p"
	run --separate-stderr moat_as network create -d macvlan -o parent="$gone" --subnet "$SUB.0/24" "$net"
	assert_success
	id=$(net_id "$net")
	# control: it works while the parent is there
	run --separate-stderr mrun --network "$net" "$IMG" true
	assert_success
	ip -n "$NET_HOST_NS" link del "$gone"
	refused 125 run --rm --network "$net" "$IMG" true
	[[ $stderr == *"$gone"* && $stderr == *"not found"* ]] || fail "$stderr"
	refused 125 run -d --network "$net" "$IMG" sleep 5
	run find "$MOAT_STATE/root/networks/$id/leases" -type f ! -name '.*'
	assert_output ""
	run --separate-stderr moat_as network rm "$net"
	assert_success
}

# ---- rootless ----

@test "rootless: macvlan networks are refused with exit 125 and a reason that names root" {
	run --separate-stderr moat_as network create -d macvlan -o parent=eth0 --subnet 10.252.1.0/24 "$(tn net)"
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *root* && $stderr == *macvlan* ]] || fail "the reason does not name root: $stderr"
	run --separate-stderr moat_as network ls --format '{{.Name}}'
	refute_line "$(tn net)"
}
