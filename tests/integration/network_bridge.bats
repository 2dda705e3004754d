#!/usr/bin/env bats
# Bridge networks as root: user-defined networks (`moat network create`),
# the default "bridge", --internal ones; what containers on them reach
# (each other by IP, name and --network-alias; nothing on another
# network; the world through the host's masquerade; nothing outside from
# an --internal network), the embedded DNS server at 127.0.0.11 (names of
# the network, a later container at once, forwarding to --dns, never from
# an --internal network), published ports (-p in its forms, -P, `moat
# port`) from the host and from the world, a port that is taken, cleanup
# after `rm -f` and after the monitor is SIGKILLed, the bad inputs, and
# /etc/hosts and /etc/resolv.conf inside.
#
# Where: moat runs in a network namespace this file makes (tests/lib/
# net.bash: "moattest-host-PID", with a veth to "moattest-world-PID"), never
# in the machine's own: the bridges, the nft table `inet moat`, the veths
# and the published ports all live there, and die with it in
# teardown_file.  Every address contacted is inside those two namespaces
# or a container's.
#
# What is checked does not trust moat's own report: addresses are read in
# the container (ip addr), connectivity is a real connection with a reply,
# forwarding is seen in the fake DNS server's log, cleanup is read from
# the kernel (ip link, nft list table inet moat) and from the files of
# ROOT/networks/<id>/{leases,endpoints}.
#
# Rootless: bridge networks are refused (one test checks the refusal); the
# others skip with that reason.

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
	# An image that EXPOSEs 80, for -P.
	local out
	if ! out=$(moat_as run --name exp-base "$IMG" true 2>&1) ||
		! out=$(moat_as commit --change 'EXPOSE 80/tcp' exp-base webexp 2>&1) ||
		! out=$(moat_as rm exp-base 2>&1); then
		echo "# building the EXPOSE image failed: $out" >&3
		return 1
	fi
}

teardown_file() {
	moat_teardown_file
	net_teardown_file
}

setup() {
	if ! is_root_identity && [[ $BATS_TEST_DESCRIPTION != rootless:* ]]; then
		skip "bridge networks need root for now (the rootless refusal has its own test)"
	fi
	if is_root_identity && [[ $BATS_TEST_DESCRIPTION == rootless:* ]]; then
		skip "checks the rootless refusal"
	fi
}

# After each test: every container and network goes, and what their
# removal must have taken along is checked (tests/lib/net.bash).
teardown() { net_teardown_test; }

# ---- helpers ----

# The pid of NAME's monitor: the moat process started with --name NAME.
monitor_pid() { pids_with_arg "$MOAT" "$1" | head -n 1; }

# ---- 1. one network: IP, name, alias, DNS, a later container ----

@test "bridge: containers on one network reach each other by IP, name and alias" {
	local net srv ip out
	net=$(tn net)
	srv=$(tn srv)
	run --separate-stderr moat_as network create "$net"
	assert_success
	web_run "$srv" "$net" --network-alias "$(tn web)"
	ip=$(ctr_ip "$srv")
	[[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "no address on eth0 in $srv: '$ip'"
	[[ $(moat_as inspect -f '{{.NetworkSettings.IPAddress}}' "$srv") == "$ip" ]] ||
		fail "inspect's IPAddress is not the address on eth0 ($ip)"

	# the embedded server, asked directly: the name and the alias
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "nslookup $srv 127.0.0.11; nslookup $(tn web) 127.0.0.11"
	assert_success
	[[ $(grep -c "^Address: $ip\$" <<<"$output") -eq 2 ]] ||
		fail "nslookup of the name and the alias should both answer $ip:"$'\n'"$output"

	# by IP
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "$(get_cmd "$ip")"
	assert_success
	assert_output --partial "hello-$srv"
	# by name and by alias, through the container's own resolver
	# (/etc/resolv.conf -> 127.0.0.11)
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "$(get_cmd "$srv")"
	[[ $status -eq 0 && $output == *"hello-$srv"* ]] ||
		fail "by name $srv: exit $status: $output $stderr"
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "$(get_cmd "$(tn web)")"
	[[ $status -eq 0 && $output == *"hello-$srv"* ]] ||
		fail "by alias $(tn web): exit $status: $output $stderr"
	run --separate-stderr mrun --network "$net" "$IMG" nslookup "$srv"
	[[ $status -eq 0 && $output == *"Address: $ip"* ]] ||
		fail "nslookup $srv (resolv.conf's server) should answer $ip: $output $stderr"
}

@test "bridge: a container that joins later is resolvable at once, and one that left is not" {
	local net srv late ip out
	net=$(tn net)
	srv=$(tn srv)
	late=$(tn late)
	run --separate-stderr moat_as network create "$net"
	assert_success
	web_run "$srv" "$net"
	# not yet there
	run --separate-stderr moat_as exec "$srv" nslookup "$late" 127.0.0.11
	assert_failure
	web_run "$late" "$net" --network-alias "$(tn latealias)"
	ip=$(ctr_ip "$late")
	# the first container, not restarted, resolves the newcomer and its alias
	run --separate-stderr moat_as exec "$srv" sh -c "nslookup $late 127.0.0.11; nslookup $(tn latealias) 127.0.0.11"
	assert_success
	[[ $(grep -c "^Address: $ip\$" <<<"$output") -eq 2 ]] ||
		fail "the first container does not resolve $late / its alias to $ip:"$'\n'"$output"
	run --separate-stderr moat_as exec "$srv" sh -c "$(get_cmd "$ip")"
	assert_success
	assert_output --partial "hello-$late"
	# and once it is gone, the name is gone
	run --separate-stderr moat_as rm -f "$late"
	assert_success
	run --separate-stderr moat_as exec "$srv" nslookup "$late" 127.0.0.11
	assert_failure
	refute_output --partial "Address: $ip"
}

# ---- 2. two networks ----

@test "bridge: containers on two networks cannot reach each other, even by IP" {
	local na nb sa sb ipa ipb
	na=$(tn neta)
	nb=$(tn netb)
	sa=$(tn srva)
	sb=$(tn srvb)
	moat_as network create "$na" >/dev/null
	moat_as network create "$nb" >/dev/null
	web_run "$sa" "$na"
	web_run "$sb" "$nb"
	ipa=$(ctr_ip "$sa")
	ipb=$(ctr_ip "$sb")
	[[ ${ipa%.*} != "${ipb%.*}" ]] || fail "two networks got the same /24: $ipa $ipb"
	# control: each is reachable from its own network
	run --separate-stderr mrun --network "$nb" "$IMG" sh -c "$(get_cmd "$ipb")"
	assert_success
	assert_output --partial "hello-$sb"
	# from network a: b's container neither by IP nor by name
	run --separate-stderr mrun --network "$na" "$IMG" sh -c "$(get_cmd "$ipb")"
	assert_failure
	refute_output --partial "hello-$sb"
	run --separate-stderr mrun --network "$na" "$IMG" nslookup "$sb" 127.0.0.11
	refute_output --partial "Address: $ipb"
	# and the other way round, from the running container itself
	run --separate-stderr moat_as exec "$sb" sh -c "$(get_cmd "$ipa")"
	assert_failure
	refute_output --partial "hello-$sa"
}

# ---- 3. --internal ----

@test "bridge: an --internal network has no egress, resolves its names, forwards no DNS" {
	local ni nn srv ip
	ni=$(tn int)
	nn=$(tn ext)
	srv=$(tn srv)
	net_server world tcp "$NET_WORLD_IP" 7000 world3 world
	net_server world dns "$NET_WORLD_IP" 53 dns3 198.51.100.7
	run --separate-stderr moat_as network create --internal "$ni"
	assert_success
	[[ $(moat_as network inspect -f '{{.Internal}}' "$ni") == true ]] || fail "not internal"
	moat_as network create "$nn" >/dev/null
	web_run "$srv" "$ni"
	ip=$(ctr_ip "$srv")

	# names on the network resolve, and the container is reachable by name
	run --separate-stderr mrun --network "$ni" "$IMG" nslookup "$srv" 127.0.0.11
	assert_success
	assert_output --partial "Address: $ip"
	run --separate-stderr mrun --network "$ni" "$IMG" sh -c "$(get_cmd "$srv")"
	[[ $status -eq 0 && $output == *"hello-$srv"* ]] ||
		fail "by name on the internal network: exit $status: $output $stderr"

	# no default route, and no way out even when asked for by address
	run --separate-stderr mrun --network "$ni" "$IMG" ip route
	assert_success
	refute_output --partial default
	run --separate-stderr mrun --network "$ni" "$IMG" sh -c "nc -w 3 $NET_WORLD_IP 7000 </dev/null"
	assert_failure
	refute_output --partial "world peer="
	[[ ! -s $(net_log world3) ]] || fail "the world saw a connection: $(cat "$(net_log world3)")"

	# external names: the container's query must not be forwarded to --dns
	run --separate-stderr mrun --network "$ni" --dns "$NET_WORLD_IP" "$IMG" nslookup internal-q.moattest
	refute_output --partial "198.51.100.7"
	# ...nor may the container ask the DNS server itself
	run --separate-stderr mrun --network "$ni" "$IMG" nslookup internal-direct.moattest "$NET_WORLD_IP"
	refute_output --partial "198.51.100.7"
	# control: from a normal network the same query is forwarded, and
	# answered (the query comes from the host's end of the veth)
	run --separate-stderr mrun --network "$nn" --dns "$NET_WORLD_IP" "$IMG" nslookup external-q.moattest
	assert_success
	assert_output --partial "198.51.100.7"
	grep -q "^query external-q.moattest type=1 from $NET_HOST_IP\$" "$(net_log dns3)" ||
		fail "the fake DNS server saw no query from the normal network: $(cat "$(net_log dns3)")"
	if grep -q "internal" "$(net_log dns3)"; then
		fail "a query from the --internal network reached the DNS server: $(cat "$(net_log dns3)")"
	fi
}

# ---- 4. egress ----

@test "bridge: a container reaches the world through the host's masquerade" {
	local net
	net=$(tn net)
	net_server world tcp "$NET_WORLD_IP" 7000 world4 world
	# the route to the world is the veth this file made, not a real link
	run hostns ip route get "$NET_WORLD_IP"
	assert_success
	assert_output --partial "dev $NET_HOST_IF"
	moat_as network create "$net" >/dev/null
	# the world has no route to 10.89.x: a reply means the source was
	# rewritten to the host's address on the veth
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "nc -w 3 $NET_WORLD_IP 7000 </dev/null"
	assert_success
	assert_output "world peer=$NET_HOST_IP"
	# the default network too
	run --separate-stderr mrun --network bridge "$IMG" sh -c "nc -w 3 $NET_WORLD_IP 7000 </dev/null"
	assert_success
	assert_output "world peer=$NET_HOST_IP"
	[[ $(grep -c "^peer $NET_HOST_IP\$" "$(net_log world4)") -eq 2 ]] ||
		fail "the world's log: $(cat "$(net_log world4)")"
	# --network none: no way out
	run --separate-stderr mrun --network none "$IMG" sh -c "nc -w 3 $NET_WORLD_IP 7000 </dev/null"
	assert_failure
	[[ $(grep -c . "$(net_log world4)") -eq 2 ]] || fail "a none container got out"
}

# ---- 5. published ports ----

@test "bridge: -p 127.0.0.1:H:80 and -p H:80 reach the container from the host and the world" {
	local net web other
	net=$(tn net)
	other=$(tn other)
	web=$(tn web)
	moat_as network create "$net" >/dev/null
	moat_as network create "$other" >/dev/null
	web_run "$web" "$net" -p 127.0.0.1:18080:80 -p 18081:80
	run --separate-stderr moat_as port "$web"
	assert_success
	assert_line "80/tcp -> 127.0.0.1:18080"
	assert_line "80/tcp -> 0.0.0.0:18081"
	[[ ${#lines[@]} -eq 2 ]] || fail "moat port: $output"

	# from the host: loopback and the veth's address
	run net_http host http://127.0.0.1:18080/
	assert_success
	assert_output "hello-$web"
	run net_http host http://127.0.0.1:18081/
	assert_success
	assert_output "hello-$web"
	run net_http host "http://$NET_HOST_IP:18081/"
	assert_success
	assert_output "hello-$web"
	# published on 127.0.0.1 only: not on the veth's address
	run net_http host "http://$NET_HOST_IP:18080/"
	assert_failure
	# from the world
	run net_http world "http://$NET_HOST_IP:18081/"
	assert_success
	assert_output "hello-$web"
	run net_http world "http://$NET_HOST_IP:18080/"
	assert_failure
	# from a container on another network, through the host's address
	run --separate-stderr mrun --network "$other" "$IMG" sh -c "$(get_cmd "$NET_HOST_IP" 18081)"
	assert_success
	assert_output --partial "hello-$web"

	# gone with the container
	moat_as rm -f "$web" >/dev/null
	run net_http host http://127.0.0.1:18081/
	assert_failure
	run net_http world "http://$NET_HOST_IP:18081/"
	assert_failure
}

@test "bridge: a container reaches its own published port through the host (hairpin)" {
	local net web
	net=$(tn net)
	web=$(tn web)
	moat_as network create "$net" >/dev/null
	web_run "$web" "$net" -p 18082:80
	# control: another container of the network does
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "$(get_cmd "$NET_HOST_IP" 18082)"
	assert_success
	assert_output --partial "hello-$web"
	# the DNAT sends the packet back out of the port it came in by: the
	# bridge port needs hairpin mode (net/nft.h)
	run --separate-stderr moat_as exec "$web" sh -c "$(get_cmd "$NET_HOST_IP" 18082)"
	assert_success
	assert_output --partial "hello-$web"
	run --separate-stderr moat_as exec "$web" sh -c "$(get_cmd "$(net_gateway "$net")" 18082)"
	assert_success
	assert_output --partial "hello-$web"
}

@test "bridge: -p 80 and -p 127.0.0.1::80 take free ports that moat port shows" {
	local net web hp lp
	net=$(tn net)
	web=$(tn web)
	moat_as network create "$net" >/dev/null
	web_run "$web" "$net" -p 80 -p 127.0.0.1::80
	run --separate-stderr moat_as port "$web"
	assert_success
	[[ ${#lines[@]} -eq 2 ]] || fail "moat port: $output"
	hp=$(sed -n 's|^80/tcp -> 0\.0\.0\.0:\([0-9]*\)$|\1|p' <<<"$output")
	lp=$(sed -n 's|^80/tcp -> 127\.0\.0\.1:\([0-9]*\)$|\1|p' <<<"$output")
	[[ $hp =~ ^[0-9]+$ && $hp -ge 1024 && $lp =~ ^[0-9]+$ && $lp -ge 1024 && $hp != "$lp" ]] ||
		fail "moat port: $output"
	# `moat port NAME 80` lists both; inspect agrees
	run --separate-stderr moat_as port "$web" 80/tcp
	assert_success
	assert_line "0.0.0.0:$hp"
	assert_line "127.0.0.1:$lp"
	run --separate-stderr moat_as inspect -f '{{json .NetworkSettings.Ports}}' "$web"
	assert_success
	assert_output --partial "\"HostPort\":\"$hp\""
	assert_output --partial "\"HostPort\":\"$lp\""
	# and they work
	run net_http host "http://127.0.0.1:$hp/"
	assert_success
	assert_output "hello-$web"
	run net_http host "http://127.0.0.1:$lp/"
	assert_success
	assert_output "hello-$web"
	run net_http world "http://$NET_HOST_IP:$hp/"
	assert_success
	assert_output "hello-$web"
	# a port that is not published, and one that is not a port
	run --separate-stderr moat_as port "$web" 81
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"No public port"* ]] || fail "$stderr"
	run --separate-stderr moat_as port "$web" 99999
	assert_failure 1
	assert_one_error_line
	run --separate-stderr moat_as port "$web" 80/xyz
	assert_failure 1
	assert_one_error_line
}

@test "bridge: -P publishes the image's ExposedPorts on free ports" {
	local net web hp
	net=$(tn net)
	web=$(tn web)
	run moat_as image inspect -f '{{json .Config.ExposedPorts}}' webexp
	assert_success
	assert_output --partial '"80/tcp"'
	moat_as network create "$net" >/dev/null
	WEB_IMG=webexp web_run "$web" "$net" -P
	run --separate-stderr moat_as port "$web"
	assert_success
	[[ ${#lines[@]} -eq 1 ]] || fail "moat port: $output"
	hp=$(sed -n 's|^80/tcp -> 0\.0\.0\.0:\([0-9]*\)$|\1|p' <<<"$output")
	[[ $hp =~ ^[0-9]+$ ]] || fail "moat port: $output"
	run net_http host "http://127.0.0.1:$hp/"
	assert_success
	assert_output "hello-$web"
	run net_http world "http://$NET_HOST_IP:$hp/"
	assert_success
	assert_output "hello-$web"
	# without -P the same image publishes nothing
	moat_as rm -f "$web" >/dev/null
	WEB_IMG=webexp web_run "$web" "$net"
	run --separate-stderr moat_as port "$web"
	assert_success
	assert_output ""
}

# ---- 6. a port that is taken ----

@test "bridge: publishing a port a host process holds fails with 125 and leaves nothing" {
	local net before name
	net=$(tn net)
	name=$(tn busy)
	moat_as network create "$net" >/dev/null
	net_server host tcp 0.0.0.0 18090 hostport6 host
	net_server host tcp 127.0.0.1 18091 hostport6b host
	before=$(net_snapshot)
	run --separate-stderr moat_as run -d --name "$name" --network "$net" -p 18090:80 "$IMG" /probe sleep 60
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *18090* ]] || fail "the message does not name the port: $stderr"
	assert_same_snapshot "$before"
	# on 127.0.0.1 only, and a run --rm
	run --separate-stderr moat_as run --rm --name "$name" --network "$net" -p 127.0.0.1:18091:80 "$IMG" /probe sleep 60
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *18091* ]] || fail "the message does not name the port: $stderr"
	assert_same_snapshot "$before"
	# the host's servers are still the ones answering
	run net_tcp host 127.0.0.1 18090
	assert_output "host peer=127.0.0.1"
	run net_tcp host 127.0.0.1 18091
	assert_output "host peer=127.0.0.1"
	# the name is free again
	run --separate-stderr moat_as run --rm --name "$name" --network "$net" "$IMG" true
	assert_success
}

@test "bridge: publishing a port another container holds fails with 125 and leaves nothing" {
	local net web before
	net=$(tn net)
	web=$(tn web)
	moat_as network create "$net" >/dev/null
	web_run "$web" "$net" -p 18092:80
	before=$(net_snapshot)
	run --separate-stderr moat_as run -d --name "$(tn second)" --network "$net" -p 18092:80 "$IMG" /probe sleep 60
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *18092* ]] || fail "the message does not name the port: $stderr"
	assert_same_snapshot "$before"
	# a second network, same port: still taken (ports are the host's)
	moat_as network create "$(tn net2)" >/dev/null
	before=$(net_snapshot)
	run --separate-stderr moat_as run -d --name "$(tn third)" --network "$(tn net2)" -p 18092:80 "$IMG" /probe sleep 60
	assert_failure 125
	assert_one_error_line
	assert_same_snapshot "$before"
	# the first one still serves it
	run net_http host http://127.0.0.1:18092/
	assert_success
	assert_output "hello-$web"
	run --separate-stderr moat_as port "$web"
	assert_output "80/tcp -> 0.0.0.0:18092"
}

# ---- 7. cleanup ----

@test "bridge: rm -f of running containers leaves no veth, rule, lease or endpoint" {
	local net id a b ida idb
	net=$(tn net)
	a=$(tn a1)
	b=$(tn b1)
	moat_as network create "$net" >/dev/null
	id=$(net_id "$net")
	web_run "$a" "$net" -p 18093:80 --network-alias "$(tn alias)"
	web_run "$b" "$net" -p 18094:80
	ida=$(moat_as inspect -f '{{.Id}}' "$a")
	idb=$(moat_as inspect -f '{{.Id}}' "$b")
	# while they run, all of it exists (so the checks below can fail)
	net_veths | grep -qx "veth${ida:0:11}" || fail "no veth${ida:0:11}: $(net_veths)"
	net_veths | grep -qx "veth${idb:0:11}" || fail "no veth${idb:0:11}: $(net_veths)"
	net_nft | grep -q "ctr:$ida" || fail "no rule for $ida"
	[[ -e $MOAT_STATE/root/networks/$id/endpoints/$ida ]] || fail "no endpoint file for $a"
	[[ $(find "$MOAT_STATE/root/networks/$id/leases" -type f ! -name '.*' | wc -l) -eq 2 ]] ||
		fail "not two leases: $(ls -A "$MOAT_STATE/root/networks/$id/leases")"

	run --separate-stderr moat_as rm -f "$a" "$b"
	assert_success
	run net_veths
	assert_output ""
	run net_nft
	refute_output --partial "$ida"
	refute_output --partial "$idb"
	run find "$MOAT_STATE/root/networks/$id/leases" "$MOAT_STATE/root/networks/$id/endpoints" -type f ! -name '.*'
	assert_output ""
	run --separate-stderr moat_as network rm "$net"
	assert_success
	[[ ! -e $MOAT_STATE/root/networks/$id ]] || fail "network rm left ROOT/networks/$id"
	run net_bridges
	refute_output --partial "moat-${id:0:10}"
	run net_nft
	refute_output --partial "moat-${id:0:10}"
}

@test "bridge: after kill -9 of the monitor, the next moat command reconciles" {
	local net id name cid mon i
	net=$(tn net)
	name=$(tn victim)
	moat_as network create "$net" >/dev/null
	id=$(net_id "$net")
	web_run "$name" "$net" -p 18095:80
	cid=$(moat_as inspect -f '{{.Id}}' "$name")
	mon=$(monitor_pid "$name")
	[[ -n $mon ]] || fail "no monitor found for $name"
	kill -KILL "$mon"
	# the container dies with its monitor, and its namespace with it
	for ((i = 0; i < 50; i++)); do
		[[ -z $(net_veths) ]] && break
		sleep 0.1
	done
	run net_veths
	assert_output ""
	# nothing else ran yet: the lease and the endpoint file are still there
	[[ -n $(find "$MOAT_STATE/root/networks/$id/leases" -type f ! -name '.*') ]] ||
		fail "the lease went before any moat command ran"
	run --separate-stderr moat_as ps -a
	assert_success
	run net_nft
	refute_output --partial "$cid"
	run find "$MOAT_STATE/root/networks/$id/leases" "$MOAT_STATE/root/networks/$id/endpoints" -type f ! -name '.*'
	assert_output ""
	run net_http host http://127.0.0.1:18095/
	assert_failure
	moat_as rm -f "$name" >/dev/null
	run --separate-stderr moat_as network rm "$net"
	assert_success
	[[ ! -e $MOAT_STATE/root/networks/$id ]] || fail "network rm left ROOT/networks/$id"
}

# ---- 8. bad input ----

# refused EXIT ARGS...: `moat ARGS` fails with EXIT and one line, and
# changes nothing (no container, no lease, no rule, no veth).
refused() {
	local want=$1 before
	shift
	before=$(net_snapshot)
	run --separate-stderr moat_as "$@"
	[[ $status -eq $want ]] || fail "moat $*: exit $status, want $want: $stderr"
	assert_one_error_line
	assert_same_snapshot "$before"
}

@test "bridge: --ip outside the subnet, or in use, is refused" {
	local net srv
	net=$(tn net)
	srv=$(tn srv)
	moat_as network create --subnet 10.251.8.0/24 "$net" >/dev/null
	refused 125 run --rm --network "$net" --ip 10.251.9.5 "$IMG" true
	[[ $stderr == *10.251.9.5* ]] || fail "$stderr"
	refused 125 run --rm --network "$net" --ip 10.251.8.0 "$IMG" true
	refused 125 run --rm --network "$net" --ip 10.251.8.255 "$IMG" true
	refused 125 run --rm --network "$net" --ip 10.251.8.1 "$IMG" true
	refused 125 run --rm --network "$net" --ip not-an-ip "$IMG" true
	refused 125 run --rm --network "$net" --ip fd00::5 "$IMG" true
	# --ip that works, then the same --ip again
	web_run "$srv" "$net" --ip 10.251.8.77
	[[ $(ctr_ip "$srv") == 10.251.8.77 ]] || fail "--ip not applied: $(ctr_ip "$srv")"
	refused 125 run --rm --network "$net" --ip 10.251.8.77 "$IMG" true
	[[ $stderr == *10.251.8.77* ]] || fail "$stderr"
	# the holder is untouched
	run --separate-stderr mrun --network "$net" "$IMG" sh -c "$(get_cmd 10.251.8.77)"
	assert_output --partial "hello-$srv"
}

@test "bridge: --ip and --network-alias only on user-defined networks" {
	local n
	for n in none host bridge; do
		refused 125 run --rm --network "$n" --ip 10.88.0.50 "$IMG" true
		refused 125 run --rm --network "$n" --network-alias "$(tn al)" "$IMG" true
	done
	# an alias that is not a name
	moat_as network create "$(tn net)" >/dev/null
	refused 125 run --rm --network "$(tn net)" --network-alias 'bad alias' "$IMG" true
	refused 125 run --rm --network "$(tn net)" --network-alias '-x.' "$IMG" true
}

@test "bridge: -p with --network none, and invalid -p specs, are refused" {
	local spec
	moat_as network create "$(tn net)" >/dev/null
	refused 125 run --rm --network none -p 18096:80 "$IMG" true
	# (":80" is valid: Docker's ephemeral host port)
	for spec in abc 70000:80 18096:0 18096: 1.2.3:80:80 80/xyz -1 '::::' \
		300.1.1.1:18096:80 18096-18090:80 80-81:90-95 '' 18096:80/tcp/udp ' 80'; do
		refused 125 run --rm --network "$(tn net)" -p "$spec" "$IMG" true
	done
}

@test "bridge: run on an unknown network is refused with 125" {
	# Docker: "docker: Error response from daemon: network X not found.",
	# exit 125 like every error of `docker run` itself
	refused 125 run --rm --network "$(tn nosuch)" "$IMG" true
	[[ $stderr == *"$(tn nosuch)"* ]] || fail "$stderr"
	refused 125 run -d --network "$(tn nosuch)" "$IMG" true
}

@test "bridge: network rm of a network in use (running or stopped) is refused" {
	local net stopped
	net=$(tn net)
	stopped=$(tn stopped)
	moat_as network create "$net" >/dev/null
	web_run "$(tn running)" "$net"
	refused 1 network rm "$net"
	[[ $stderr == *"$net"* ]] || fail "$stderr"
	moat_as rm -f "$(tn running)" >/dev/null
	# stopped (exited, not removed) still counts
	run --separate-stderr moat_as run --name "$stopped" --network "$net" "$IMG" true
	assert_success
	refused 1 network rm "$net"
	[[ -f $MOAT_STATE/root/networks/$(net_id "$net")/network.json ]] || fail "the record went"
	moat_as rm "$stopped" >/dev/null
	run --separate-stderr moat_as network rm "$net"
	assert_success
	refused 1 network rm "$net"
	refused 1 network rm bridge
}

@test "bridge: --add-host and --dns garbage are refused" {
	local v
	moat_as network create "$(tn net)" >/dev/null
	for v in nocolon ':192.0.2.1' 'host:' 'bad host:192.0.2.1' 'h:999.1.1.1' 'h:192.0.2' \
		'h:not-an-ip' '-h-.:192.0.2.1'; do
		refused 125 run --rm --network "$(tn net)" --add-host "$v" "$IMG" true
	done
	for v in notanip 1.2.3.4.5 '' '192.0.2.1:53' 'fd00::1::2'; do
		refused 125 run --rm --network "$(tn net)" --dns "$v" "$IMG" true
	done
	refused 125 run --rm --network "$(tn net)" --dns-search 'bad name' "$IMG" true
	refused 125 run --rm --network "$(tn net)" --dns-option 'two words' "$IMG" true
}

# ---- 9. /etc/hosts and /etc/resolv.conf ----

@test "bridge: /etc/hosts and /etc/resolv.conf inside a container on a bridge network" {
	local net name gw ip ipre hosts resolv
	net=$(tn net)
	name=$(tn files)
	moat_as network create --subnet 10.251.9.0/24 "$net" >/dev/null
	gw=$(net_gateway "$net")
	[[ $gw == 10.251.9.1 ]] || fail "gateway: $gw"
	run --separate-stderr mrun --name "$name" --hostname "$(tn host)" --network "$net" \
		--add-host db.example:192.0.2.10 --add-host gw.example:host-gateway \
		--dns 192.0.2.53 --dns-search example.test --dns-option ndots:3 \
		"$IMG" sh -c 'ip -o -4 addr show dev eth0; echo ---; cat /etc/hosts; echo ---; cat /etc/resolv.conf'
	assert_success
	ip=$(sed -n '1s|.* inet \([0-9.]*\)/.*|\1|p' <<<"$output")
	[[ $ip == 10.251.9.* ]] || fail "address: $output"
	hosts=$(awk '/^---$/{n++; next} n==1' <<<"$output")
	resolv=$(awk '/^---$/{n++; next} n==2' <<<"$output")
	# own address with the hostname and the name
	ipre=${ip//./\\.}
	grep -qE "^${ipre}[[:space:]]+$(tn host)([[:space:]]|\$)" <<<"$hosts" ||
		fail "no '$ip $(tn host)' line:"$'\n'"$hosts"
	grep -E "^${ipre}[[:space:]]" <<<"$hosts" | grep -qw "$name" ||
		fail "the container's name is not on its address's line:"$'\n'"$hosts"
	grep -qE '^127\.0\.0\.1[[:space:]]+localhost' <<<"$hosts" || fail "no localhost:"$'\n'"$hosts"
	grep -qE '^192\.0\.2\.10[[:space:]]+db\.example$' <<<"$hosts" || fail "no --add-host line:"$'\n'"$hosts"
	grep -qE "^${gw//./\\.}[[:space:]]+gw\.example\$" <<<"$hosts" ||
		fail "host-gateway is not the network's gateway $gw:"$'\n'"$hosts"
	# the embedded server, --dns being its upstream, not a nameserver line
	[[ $(grep '^nameserver' <<<"$resolv") == "nameserver 127.0.0.11" ]] ||
		fail "nameservers:"$'\n'"$resolv"
	grep -qx 'search example.test' <<<"$resolv" || fail "no search line:"$'\n'"$resolv"
	grep -qE '^options( .*)? ndots:3( |$)' <<<"$resolv" || fail "no ndots:3:"$'\n'"$resolv"
}

@test "bridge: /etc/hosts and /etc/resolv.conf with --network none keep --dns and --add-host" {
	run --separate-stderr mrun --network none --add-host db.example:192.0.2.10 \
		--dns 192.0.2.53 --dns 192.0.2.54 --dns-search example.test \
		"$IMG" sh -c 'cat /etc/hosts; echo ---; cat /etc/resolv.conf'
	assert_success
	grep -qE '^192\.0\.2\.10[[:space:]]+db\.example$' <<<"$output" || fail "$output"
	[[ $(grep '^nameserver' <<<"$output" | tr '\n' ' ') == "nameserver 192.0.2.53 nameserver 192.0.2.54 " ]] ||
		fail "nameservers: $output"
	grep -qx 'search example.test' <<<"$output" || fail "$output"
}

# ---- rootless ----

@test "rootless: bridge networks are refused with exit 125 and a reason that names root" {
	local before
	before=$(moat_as network ls --format '{{.Name}}' | sort)
	run --separate-stderr moat_as network create "$(tn net)"
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *root* ]] || fail "the reason does not name root: $stderr"
	run --separate-stderr moat_as network ls --format '{{.Name}}'
	refute_line "$(tn net)"
	run --separate-stderr moat_as run --rm --network bridge "$IMG" true
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *root* ]] || fail "the reason does not name root: $stderr"
	run moat_as ps -aq
	assert_output ""
	# none still works
	run --separate-stderr moat_as run --rm --network none "$IMG" true
	assert_success
}

@test "bridge: the container.start audit record names the network, the address and every published port" {
	is_root_identity || skip "bridge networks need root for now"
	local net web ip
	net=$(tn net)
	web=$(tn web)
	moat_as network create "$net" >/dev/null
	web_run "$web" "$net" -p 127.0.0.1:18190:80 -p 18191:80/udp
	ip=$(moat_as inspect -f '{{.NetworkSettings.IPAddress}}' "$web")
	[[ -n $ip ]] || fail "no address"
	run --separate-stderr moat_as audit show --format json --event container.start
	assert_success
	local rec
	rec=$(grep "\"name\":\"$web\"" <<<"$output" | tail -n 1)
	[[ -n $rec ]] || fail "no container.start record for $web: $output"
	[[ $rec == *"\"network\":\"$net\""* ]] || fail "network missing: $rec"
	[[ $rec == *"\"ip\":\"$ip\""* ]] || fail "ip missing: $rec"
	[[ $rec == *"127.0.0.1:18190->80/tcp"* ]] || fail "tcp port missing: $rec"
	[[ $rec == *"0.0.0.0:18191->80/udp"* ]] || fail "udp port missing: $rec"
	moat_as rm -f "$web" >/dev/null
}
