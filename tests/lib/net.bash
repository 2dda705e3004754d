# tests/lib/net.bash - private network namespaces, a "world" to route to,
# and small servers, for the bridge-network suites.
#
# Loaded after ../lib/helpers:
#
#   load ../lib/helpers
#   load ../lib/net
#
# Where the tests run.  Bridge networks change the network namespace moat
# runs in: a bridge per network, veths, the nftables table `inet moat`,
# sysctls (ip_forward, route_localnet).  The suites never let moat do that
# to the machine's own namespace: net_setup_file makes two namespaces,
#
#   moattest-host-TAG    moat's "host": moat, its monitors, the bridges,
#                        the nft table and every published port live here
#                        (each moat call is started through nsenter --net,
#                        MOAT_WRAP, so only its network namespace differs);
#   moattest-world-TAG   "the rest of the world": one veth from the host
#                        namespace, NET_HOST_IP (10.250.K.1/30) on the host
#                        end and NET_WORLD_IP (10.250.K.2/30) on the world
#                        end, no other route, so that anything reaching it
#                        from a container went through the host's masquerade.
#
# So the traffic of these tests never leaves namespaces the tests made: the
# host namespace has no route but loopback, its bridges and that veth (a
# container's query for a name moat forwards to the machine's resolvers
# fails at once: no route), and a leak of moat's (a bridge, a rule, a veth)
# dies with the namespace in net_teardown_file whatever the test did.  Two
# runs of a suite at once do not see each other either (each has its own
# 10.89.x, moat0, nft table).  The rootless identity gets no namespace:
# nsenter needs root, and rootless bridge networks are refused anyway.
#
# What it gives:
#  - hostns CMD / worldns CMD: CMD in that namespace (nsenter --net: the
#    mount namespace stays the test's, so files under $MOAT_T are shared);
#  - net_server NS KIND ADDR PORT NAME [ARG]: a Python server (tcp: sends
#    "BANNER peer=IP" and closes, logs every peer; udp: logs every datagram;
#    dns: a fake DNS server that logs every query and answers A queries for
#    *.moattest with ARG, NXDOMAIN otherwise) bound before it returns; its
#    log is net_log NAME; it is killed by its pid in net_servers_stop;
#  - net_tcp NS ADDR PORT: connects (3 s), prints what the peer sent;
#  - net_http NS URL: curl (no proxy, 5 s), prints the body;
#  - net_craft NETNSPATH ...: one hand-made Ethernet frame (AF_PACKET) from
#    a container's namespace, for the escape tests (see the function);
#  - net_links / net_veths / net_nft / net_bridges: the host namespace as
#    the kernel sees it, to check what moat left;
#  - for the .bats files (they use moat_as, run, fail): tn (names unique to
#    the test), net_id / net_gateway / net_bridge_mac of a network,
#    web_run / wait_web (a busybox httpd container answering
#    "hello-NAME"), ctr_ip (eth0's address read inside), get_cmd (an HTTP
#    GET with busybox nc, as a shell snippet: busybox wget segfaults in
#    Debian's static build), net_snapshot / assert_same_snapshot (what a
#    refused command must not change), net_leftovers (what removing every
#    container must leave nothing of) and net_teardown_test (a test's
#    teardown: removes every container and network, fails the test on
#    leftovers, cleans them).
#
# Nothing here touches the machine's own network namespace: every `ip`
# below is `ip -n NAMESPACE` or runs under nsenter.

NET_SUBNET_K=${NET_SUBNET_K:-1}

# The real interpreter (pyenv's shim is a script; its pid would not be the
# server's once it execs, which is what kill needs to be sure of).
net_python() {
	python3 -c 'import sys; print(sys.executable)'
}

net_setup_file() {
	export NET_TAG=$$
	export NET_HOST_NS=moattest-host-$NET_TAG NET_WORLD_NS=moattest-world-$NET_TAG
	export NET_HOST_NSPATH=/run/netns/$NET_HOST_NS NET_WORLD_NSPATH=/run/netns/$NET_WORLD_NS
	export NET_HOST_IF=mth$NET_TAG NET_WORLD_IF=mtw$NET_TAG
	export NET_HOST_IP=10.250.$NET_SUBNET_K.1 NET_WORLD_IP=10.250.$NET_SUBNET_K.2
	export NET_PY
	NET_PY=$(net_python) || {
		echo "# python3 is missing" >&3
		return 1
	}
	if ! command -v nsenter >/dev/null || ! command -v ip >/dev/null ||
		! command -v nft >/dev/null; then
		echo "# nsenter, ip (iproute2) and nft (nftables) are needed" >&3
		return 1
	fi
	if ! is_root_identity; then
		return 0
	fi
	export NET_MADE=1 # net_teardown_file removes only what this file made
	if ! net_make_namespaces; then
		echo "# could not make the test namespaces" >&3
		net_teardown_file
		return 1
	fi
	# moat and its monitors in the host namespace; a wedged moat fails
	# its test instead of hanging the suite
	export MOAT_WRAP="nsenter --net=$NET_HOST_NSPATH timeout 120"
}

# The two namespaces and the veth between them.
net_make_namespaces() {
	ip netns add "$NET_HOST_NS" && ip netns add "$NET_WORLD_NS" &&
		ip -n "$NET_HOST_NS" link set lo up &&
		ip -n "$NET_WORLD_NS" link set lo up &&
		ip -n "$NET_HOST_NS" link add "$NET_HOST_IF" type veth peer name "$NET_WORLD_IF" \
			netns "$NET_WORLD_NS" &&
		ip -n "$NET_HOST_NS" addr add "$NET_HOST_IP/30" dev "$NET_HOST_IF" &&
		ip -n "$NET_WORLD_NS" addr add "$NET_WORLD_IP/30" dev "$NET_WORLD_IF" &&
		ip -n "$NET_HOST_NS" link set "$NET_HOST_IF" up &&
		ip -n "$NET_WORLD_NS" link set "$NET_WORLD_IF" up
}

net_teardown_file() {
	net_servers_stop
	if [[ -n ${NET_MADE:-} ]]; then
		ip netns del "$NET_HOST_NS" 2>/dev/null || true
		ip netns del "$NET_WORLD_NS" 2>/dev/null || true
	fi
	return 0
}

hostns() { nsenter --net="$NET_HOST_NSPATH" "$@"; }
worldns() { nsenter --net="$NET_WORLD_NSPATH" "$@"; }

# ---- what the host namespace holds ----

net_links() { ip -n "$NET_HOST_NS" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//'; }
net_veths() { net_links | grep '^veth' || true; }
net_bridges() { ip -n "$NET_HOST_NS" -o link show type bridge | awk -F': ' '{print $2}'; }
# The table as nft prints it ("" when there is none).
net_nft() { hostns nft list table inet moat 2>/dev/null || true; }

# ---- servers ----

net_log() { echo "$MOAT_T/net-$1.log"; }

# The server program: written once per file.
net_server_script() {
	local f=$MOAT_T/netsrv.py
	[[ -f $f ]] && {
		echo "$f"
		return 0
	}
	cat >"$f" <<'EOF'
# netsrv.py KIND ADDR PORT LOG [ARG] - a test server (see tests/lib/net.bash).
import os, socket, struct, sys

kind, addr, port, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
arg = sys.argv[5] if len(sys.argv) > 5 else ""

def note(line):
    with open(log, "a") as f:
        f.write(line + "\n")

def ready():
    open(log + ".ready", "w").close()

if kind == "tcp":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    ready()
    while True:
        c, peer = s.accept()
        note("peer %s" % peer[0])
        try:
            c.sendall(("%s peer=%s\n" % (arg or "hello", peer[0])).encode())
        except OSError:
            pass
        c.close()
elif kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    ready()
    while True:
        data, peer = s.recvfrom(4096)
        note("from %s %s" % (peer[0], data.decode("ascii", "replace").strip()))
elif kind == "dns":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    ready()
    while True:
        q, peer = s.recvfrom(4096)
        if len(q) < 12:
            continue
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        i, labels = 12, []
        while i < len(q) and q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
            i += 1 + q[i]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
        name = ".".join(labels).lower()
        note("query %s type=%d from %s" % (name, qtype, peer[0]))
        question = q[12:i + 5]
        ours = name.endswith(".moattest") and arg
        rcode = 0 if ours else 3
        ans = b""
        if ours and qtype == 1:
            ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + socket.inet_aton(arg)
        hdr = struct.pack("!HHHHHH", qid, 0x8080 | (flags & 0x0100) | rcode, 1,
                          1 if ans else 0, 0, 0)
        s.sendto(hdr + question + ans, peer)
EOF
	echo "$f"
}

# net_server NS KIND ADDR PORT NAME [ARG]: NS is "host" or "world".
net_server() {
	local ns=$1 kind=$2 addr=$3 port=$4 name=$5 arg=${6:-} script log path pid i
	script=$(net_server_script)
	log=$(net_log "$name")
	rm -f -- "$log" "$log.ready"
	: >"$log"
	case $ns in
	host) path=$NET_HOST_NSPATH ;;
	world) path=$NET_WORLD_NSPATH ;;
	*) path=$ns ;;
	esac
	nsenter --net="$path" "$NET_PY" "$script" "$kind" "$addr" "$port" "$log" ${arg:+"$arg"} \
		</dev/null >>"$log.err" 2>&1 &
	pid=$!
	disown "$pid" # killed by its pid in net_servers_stop, without a job notice
	echo "$pid" >>"$MOAT_T/net-servers"
	for ((i = 0; i < 50; i++)); do
		[[ -e $log.ready ]] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "server $kind $addr:$port did not start: $(cat "$log.err" 2>/dev/null)" >&2
	return 1
}

# Kills the servers this file started, by the pids it recorded (each is
# checked to still be our netsrv.py first).
net_servers_stop() {
	local pid
	[[ -n ${MOAT_T:-} && -f $MOAT_T/net-servers ]] || return 0
	while read -r pid; do
		[[ -n $pid ]] || continue
		if grep -qF netsrv.py "/proc/$pid/cmdline" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$MOAT_T/net-servers"
	rm -f -- "$MOAT_T/net-servers"
	return 0
}

# ---- clients on the host's side ----

# net_tcp NS ADDR PORT: what a TCP peer sends (3 s to connect and read).
net_tcp() {
	local path
	case $1 in
	host) path=$NET_HOST_NSPATH ;;
	world) path=$NET_WORLD_NSPATH ;;
	*) path=$1 ;;
	esac
	nsenter --net="$path" "$NET_PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.settimeout(3)
out = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("ascii", "replace"))' "$2" "$3"
}

# net_http NS URL: the body (curl, no proxy, 5 s).
net_http() {
	local path
	case $1 in
	host) path=$NET_HOST_NSPATH ;;
	world) path=$NET_WORLD_NSPATH ;;
	*) path=$1 ;;
	esac
	nsenter --net="$path" curl -sS --noproxy '*' --max-time 5 "$2"
}

# ---- hand-made frames (escape tests) ----

# net_craft NETNSPATH IFNAME DSTMAC DSTIP PROTO DPORT [PAYLOAD]
#
# From the network namespace NETNSPATH (a container's /proc/PID/ns/net),
# sends one Ethernet frame out of IFNAME to DSTMAC: IPv4 from IFNAME's own
# address and MAC to DSTIP, UDP (with PAYLOAD) or a TCP SYN, to DPORT.  The
# kernel's routing is not asked: this is what a process with CAP_NET_RAW
# in the container could send, whatever its routes say.  For tcp it then
# waits 2 s for the SYN-ACK and prints "synack" or "noreply"; for udp it
# prints "sent".
net_craft() {
	nsenter --net="$1" "$NET_PY" - "${@:2}" <<'EOF'
import fcntl, os, random, select, socket, struct, sys, time

ifname, dmac, dip, proto, dport = sys.argv[1:6]
payload = (sys.argv[6] if len(sys.argv) > 6 else "crafted").encode()
dport = int(dport)

def ioctl_addr(req):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return fcntl.ioctl(s.fileno(), req, struct.pack("256s", ifname.encode()[:15]))

smac = ioctl_addr(0x8927)[18:24]          # SIOCGIFHWADDR
sip = ioctl_addr(0x8915)[20:24]           # SIOCGIFADDR
dmac_b = bytes(int(x, 16) for x in dmac.split(":"))
dip_b = socket.inet_aton(dip)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return (~t) & 0xffff

sport = random.randint(20000, 60000)
if proto == "udp":
    l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pn = 17
else:
    seq = random.randint(1, 2**31)
    l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pn = 6
pseudo = sip + dip_b + struct.pack("!BBH", 0, pn, len(l4))
c = csum(pseudo + l4)
if proto == "udp":
    l4 = l4[:6] + struct.pack("!H", c or 0xffff) + l4[8:]
else:
    l4 = l4[:16] + struct.pack("!H", c) + l4[18:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), random.randint(0, 65535), 0x4000,
                 64, pn, 0, sip, dip_b)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
frame = dmac_b + smac + b"\x08\x00" + ip + l4

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
s.bind((ifname, 0))
s.send(frame)
if proto == "udp":
    print("sent")
    sys.exit(0)
end = time.time() + 2
while time.time() < end:
    r, _, _ = select.select([s], [], [], max(0, end - time.time()))
    if not r:
        break
    f = s.recv(65535)
    if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6:
        continue
    ihl = (f[14] & 0xf) * 4
    t = f[14 + ihl:]
    if len(t) < 14:
        continue
    tsport, tdport = struct.unpack("!HH", t[:4])
    if f[26:30] == dip_b and tsport == dport and tdport == sport and t[13] & 0x12 == 0x12:
        print("synack")
        sys.exit(0)
print("noreply")
EOF
}

# ---- moat on bridge networks (bats only below: moat_as, run, fail) ----

# Names unique to the test.
tn() { echo "t${BATS_TEST_NUMBER}$1"; }

net_id() { moat_as network inspect -f '{{.Id}}' "$1"; }
net_gateway() { moat_as network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' "$1"; }

# A detached web server NAME on network NET serving "hello-NAME" on port
# 80 (busybox httpd), with EXTRA moat flags; waits until it answers.
web_run() {
	local name=$1 net=$2
	shift 2
	run --separate-stderr moat_as run -d --name "$name" --network "$net" "$@" "${WEB_IMG:-$IMG}" \
		sh -c "mkdir -p /tmp/www && echo hello-$name >/tmp/www/index.html && exec httpd -f -p 80 -h /tmp/www"
	[[ $status -eq 0 ]] || fail "web server $name on $net: exit $status: $stderr"
	wait_web "$name"
}

# Until NAME's httpd answers inside its own namespace (5 s).
wait_web() {
	local i out
	for ((i = 0; i < 25; i++)); do
		out=$(moat_as exec "$1" sh -c 'printf "GET / HTTP/1.0\r\n\r\n" | nc -w 2 127.0.0.1 80' 2>/dev/null) || true
		[[ $out == *"hello-$1"* ]] && return 0
		sleep 0.2
	done
	fail "web server $1 does not answer: $out"
}

# The container's IPv4 address on eth0, as its own kernel has it.
ctr_ip() {
	moat_as exec "$1" ip -o -4 addr show dev eth0 | awk '{print $4}' | cut -d/ -f1
}

# get_cmd HOST [PORT]: a shell snippet for `sh -c` in a container: HTTP
# GET / of HOST:PORT (80) with busybox nc, 3 s.
get_cmd() { printf 'printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 3 %s %s' "$1" "${2:-80}"; }


user_networks() {
	moat_as network ls --format '{{.Name}}' 2>/dev/null | grep -vxE 'none|host|bridge' || true
}

# The MAC of network NET's bridge in the host namespace (NET "bridge":
# moat0), read when asked: a bridge takes the lowest MAC of its ports.
net_bridge_mac() {
	local br
	if [[ $1 == bridge ]]; then
		br=moat0
	else
		br=moat-$(net_id "$1" | cut -c1-10)
	fi
	ip -n "$NET_HOST_NS" -o link show dev "$br" | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p'
}

# What a container's removal must leave nothing of: veths in the host
# namespace, "ctr:" rules in the nft table, leases, endpoint files.
net_leftovers() {
	local f
	net_veths | sed 's/^/veth /'
	net_nft | grep -o 'comment "ctr:[0-9a-f]*"' | sed 's/comment "\(.*\)"/rule \1/' | sort -u
	for f in "$MOAT_STATE"/root/networks/*/leases/* "$MOAT_STATE"/root/networks/*/endpoints/*; do
		[[ -e $f ]] || continue
		echo "file ${f#"$MOAT_STATE"/root/networks/}"
	done
	return 0
}

net_clean_leftovers() {
	local kind rest
	while read -r kind rest; do
		case $kind in
		veth) ip -n "$NET_HOST_NS" link del "$rest" 2>/dev/null || true ;;
		rule)
			hostns nft flush chain inet moat ports-dnat 2>/dev/null || true
			hostns nft flush chain inet moat ports-fwd 2>/dev/null || true
			;;
		esac
	done <<<"$1"
}

# Everything network-related that exists, plus the containers: what a
# refused command must not change.
net_snapshot() {
	net_leftovers
	net_bridges | sed 's/^/bridge /'
	moat_as ps -aq --no-trunc | sed 's/^/container /'
}

assert_same_snapshot() {
	local now
	now=$(net_snapshot)
	[[ $now == "$1" ]] || fail "state changed:"$'\n'"before:"$'\n'"$1"$'\n'"after:"$'\n'"$now"
}

# A test's teardown: every container and network goes; what the
# containers' removal must have taken with it (veths, nft rules, leases,
# endpoint files) is checked before the networks go, so a leak fails the
# test that made it, and whatever is found is cleaned up for the next
# test. Then the servers, then helpers.bash's leak check.
net_teardown_test() {
	local bad="" id n left
	if is_root_identity; then
		for id in $(moat_as ps -aq --no-trunc 2>/dev/null); do
			moat_as rm -f "$id" >/dev/null 2>&1 || bad+="rm -f $id failed; "
		done
		left=$(net_leftovers)
		if [[ -n $left ]]; then
			bad+="left after removing every container: $(tr '\n' ';' <<<"$left") "
			net_clean_leftovers "$left"
		fi
		for n in $(user_networks); do
			moat_as network rm "$n" >/dev/null 2>&1 || bad+="network rm $n failed; "
		done
		left=$(net_bridges | grep -v '^moat0$' || true)
		if [[ -n $left ]]; then
			bad+="bridges left after network rm: $(tr '\n' ' ' <<<"$left") "
			for n in $left; do ip -n "$NET_HOST_NS" link del "$n" 2>/dev/null || true; done
		fi
	fi
	net_servers_stop
	moat_check_clean || bad+="moat_check_clean failed; "
	if [[ -n $bad ]]; then
		echo "# teardown: $bad" >&2
		return 1
	fi
}
