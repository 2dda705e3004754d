#!/usr/bin/env bats
# Bridge networks keep containers in: the host's loopback services are not
# reachable through the bridge (the CVE-2020-8558 class: a route_localnet
# bridge accepting packets for 127.0.0.0/8, kube-proxy's bug), not even a
# port another container published on 127.0.0.1 only; one network's
# containers do not reach another's; an --internal network reaches
# nothing outside it.
#
# Two kinds of attacker.  The ordinary one connects (busybox nc) and is
# stopped by the routes the container has.  The raw one writes its own
# Ethernet frames: IPv4 to 127.0.0.1, to another network's container, or
# to the world, sent straight to the bridge's MAC whatever the routes say.
# A moat container cannot open AF_PACKET (seccomp answers EPERM even with
# --cap-add NET_RAW: checked first), but one given NET_ADMIN and NET_RAW
# could route 127.0.0.1 out of eth0 (route_localnet by netlink, a raw IP
# socket), and the host must not depend on that: the frames are written
# by tests/lib/net.bash's net_craft, from the container's own network
# namespace, with the container's address and MAC, as root on the host
# (nsenter --net).  Each negative has a control from the same namespace
# to the same bridge MAC that does get through (the gateway's address,
# or a container of the same network), so "nothing arrived" means the
# host refused it, not that the frame was malformed.
#
# Everything runs in the namespaces of tests/lib/net.bash (moat's "host"
# and a "world" behind a veth), never the machine's own.  Root only.

load ../lib/helpers
load ../lib/net

NET_SUBNET_K=2
MOAT_WRAP=${MOAT_WRAP:-timeout 120}

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
	is_root_identity || skip "bridge networks need root for now (refused rootless)"
}

teardown() { net_teardown_test; }

# attacker NAME NET [FLAGS...]: a detached container that only sleeps;
# prints the path of its network namespace.
attacker() {
	local name=$1 net=$2 mk pid
	shift 2
	mk=$(marker)
	moat_as run -d --name "$name" --network "$net" "$@" "$IMG" /probe sleep 600 "$mk" >/dev/null ||
		return 1
	pid=$(wait_for_pid /probe "$mk") || return 1
	echo "/proc/$pid/ns/net"
}

# Until LOG has a line matching RE (2 s); fails otherwise.
log_has() {
	local i
	for ((i = 0; i < 20; i++)); do
		grep -qE "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}

# LOG has no line matching RE after a while (1 s): a datagram that was
# going to arrive has.
log_lacks() {
	sleep 1
	! grep -qE "$2" "$1"
}

@test "network isolation: AF_PACKET stays closed to a container, even with NET_RAW" {
	moat_as network create "$(tn net)" >/dev/null
	run --separate-stderr mrun --network "$(tn net)" --cap-add NET_RAW "$IMG" /probe try socket-af-packet
	assert_failure 1
	assert_probe_line socket-af-packet EPERM
	# control: the probe sees the socket open once seccomp is off
	run --separate-stderr mrun --network "$(tn net)" --cap-add NET_RAW --security-opt seccomp=unconfined \
		"$IMG" /probe try socket-af-packet
	assert_probe_line socket-af-packet OK
}

@test "network isolation: the host's 127.0.0.1 services are not reachable through the gateway" {
	local net gw ns mac
	net=$(tn net)
	moat_as network create "$net" >/dev/null
	gw=$(net_gateway "$net")
	net_server host tcp 127.0.0.1 9101 lo-tcp secret
	net_server host tcp 0.0.0.0 9102 any-tcp public
	net_server host udp 127.0.0.1 9103 lo-udp
	net_server host udp 0.0.0.0 9104 any-udp
	ns=$(attacker "$(tn att)" "$net")

	# an ordinary connection: the gateway leads to the host's own
	# addresses (control), never to its loopback
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "nc -w 3 $gw 9102 </dev/null"
	assert_success
	assert_output --partial "public peer="
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "nc -w 3 $gw 9101 </dev/null"
	assert_failure
	refute_output --partial secret
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "nc -w 3 127.0.0.1 9101 </dev/null"
	assert_failure

	# raw frames to the bridge: the control reaches the host...
	mac=$(net_bridge_mac "$net")
	[[ -n $mac ]] || fail "no MAC for the bridge of $net"
	run net_craft "$ns" eth0 "$mac" "$gw" udp 9104 control-any
	assert_success
	log_has "$(net_log any-udp)" "control-any" || fail "the control datagram did not arrive: the frame is wrong"
	run net_craft "$ns" eth0 "$mac" "$gw" tcp 9102
	assert_output synack
	# ...127.0.0.1 must not (CVE-2020-8558); both checked before failing
	local bad=""
	run net_craft "$ns" eth0 "$mac" 127.0.0.1 udp 9103 to-loopback
	assert_success
	log_lacks "$(net_log lo-udp)" "to-loopback" ||
		bad+="a datagram for 127.0.0.1 sent to the bridge reached the host's 127.0.0.1:9103 ($(cat "$(net_log lo-udp)")); "
	run net_craft "$ns" eth0 "$mac" 127.0.0.1 tcp 9101
	[[ $output == noreply ]] ||
		bad+="a SYN for 127.0.0.1:9101 sent to the bridge got '$output' from the host's loopback service; "
	[[ -z $bad ]] || fail "$bad"
}

@test "network isolation: a port published on 127.0.0.1 is not reachable from another network" {
	local na nb ns mac victim
	na=$(tn neta)
	nb=$(tn netb)
	victim=$(tn victim)
	moat_as network create "$na" >/dev/null
	moat_as network create "$nb" >/dev/null
	web_run "$victim" "$nb" -p 127.0.0.1:18300:80 -p 18301:80
	# control: the host reaches it on 127.0.0.1
	run net_http host http://127.0.0.1:18300/
	assert_success
	assert_output "hello-$victim"
	ns=$(attacker "$(tn att)" "$na")
	mac=$(net_bridge_mac "$na")
	# control: the port published on every address is reachable from
	# network a through the host (Docker's rule), by the same frame
	run net_craft "$ns" eth0 "$mac" "$(net_gateway "$na")" tcp 18301
	assert_output synack
	# the 127.0.0.1 one is not
	run net_craft "$ns" eth0 "$mac" 127.0.0.1 tcp 18300
	assert_output noreply
	run --separate-stderr mrun --network "$na" "$IMG" sh -c "$(get_cmd "$(net_gateway "$na")" 18300)"
	assert_failure
	refute_output --partial "hello-$victim"
}

@test "network isolation: a container cannot reach another network's container" {
	local na nb victim ip ns nsb mac macb
	na=$(tn neta)
	nb=$(tn netb)
	victim=$(tn victim)
	moat_as network create "$na" >/dev/null
	moat_as network create "$nb" >/dev/null
	web_run "$victim" "$nb"
	ip=$(ctr_ip "$victim")
	ns=$(attacker "$(tn att)" "$na")
	nsb=$(attacker "$(tn peer)" "$nb")
	# by address, and by name
	run --separate-stderr mrun --network "$na" "$IMG" sh -c "$(get_cmd "$ip")"
	assert_failure
	refute_output --partial "hello-$victim"
	run --separate-stderr mrun --network "$na" "$IMG" nslookup "$victim" 127.0.0.11
	refute_output --partial "Address: $ip"
	# raw: control from the victim's own network, then from the other
	macb=$(net_bridge_mac "$nb")
	run net_craft "$nsb" eth0 "$macb" "$ip" tcp 80
	assert_output synack
	mac=$(net_bridge_mac "$na")
	run net_craft "$ns" eth0 "$mac" "$ip" tcp 80
	assert_output noreply
	# through the other network's gateway address: still the host
	run net_craft "$ns" eth0 "$mac" "$(net_gateway "$nb")" tcp 80
	assert_output noreply
	# the default network is a network like the others
	ns=$(attacker "$(tn defatt)" bridge)
	run net_craft "$ns" eth0 "$(net_bridge_mac bridge)" "$ip" tcp 80
	assert_output noreply
}

@test "network isolation: an --internal network reaches nothing outside" {
	local ni nn ns nsn mac macn other oip
	ni=$(tn int)
	nn=$(tn ext)
	other=$(tn other)
	moat_as network create --internal "$ni" >/dev/null
	moat_as network create "$nn" >/dev/null
	net_server world udp "$NET_WORLD_IP" 9201 world-udp
	net_server world tcp "$NET_WORLD_IP" 9202 world-tcp world
	net_server host udp 0.0.0.0 9203 host-udp
	net_server host udp 127.0.0.1 9204 host-lo-udp
	web_run "$other" "$nn"
	oip=$(ctr_ip "$other")
	ns=$(attacker "$(tn att)" "$ni")
	nsn=$(attacker "$(tn ctl)" "$nn")
	mac=$(net_bridge_mac "$ni")
	macn=$(net_bridge_mac "$nn")

	# controls, from a normal network: the world (masqueraded to the
	# host's veth address) and the host are reachable by these frames
	run net_craft "$nsn" eth0 "$macn" "$NET_WORLD_IP" udp 9201 control-world
	log_has "$(net_log world-udp)" "^from $NET_HOST_IP control-world\$" ||
		fail "control: no datagram in the world: $(cat "$(net_log world-udp)")"
	run net_craft "$nsn" eth0 "$macn" "$NET_HOST_IP" udp 9203 control-host
	log_has "$(net_log host-udp)" "control-host" || fail "control: no datagram at the host"

	# an ordinary connection
	run --separate-stderr mrun --network "$ni" "$IMG" sh -c "nc -w 3 $NET_WORLD_IP 9202 </dev/null"
	assert_failure
	refute_output --partial "world peer="
	# raw frames: the world, another network's container, the host's
	# addresses, its loopback
	run net_craft "$ns" eth0 "$mac" "$NET_WORLD_IP" udp 9201 internal-world
	run net_craft "$ns" eth0 "$mac" "$NET_WORLD_IP" tcp 9202
	assert_output noreply
	run net_craft "$ns" eth0 "$mac" "$oip" tcp 80
	assert_output noreply
	run net_craft "$ns" eth0 "$mac" "$NET_HOST_IP" udp 9203 internal-host
	run net_craft "$ns" eth0 "$mac" 127.0.0.1 udp 9204 internal-lo
	log_lacks "$(net_log world-udp)" internal ||
		fail "a datagram from the internal network reached the world: $(cat "$(net_log world-udp)")"
	[[ ! -s $(net_log world-tcp) ]] || fail "the world saw a connection: $(cat "$(net_log world-tcp)")"
	! grep -q internal "$(net_log host-lo-udp)" ||
		fail "a datagram from the internal network reached the host's loopback"
	! grep -q internal "$(net_log host-udp)" ||
		fail "a datagram from the internal network reached a host service on $NET_HOST_IP: $(cat "$(net_log host-udp)")"
}
