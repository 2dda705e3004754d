#!/bin/bash
# bench/net.sh - network start latency and TCP throughput: moat against
# podman on the same machine, in one run. Not a test: nothing here fails on
# the numbers.
#
#   sudo bench/net.sh                          # uses build/moat
#   sudo MOAT_BUILD=build-x/moat bench/net.sh  # another binary
#
# What it measures (medians; moat's ratios to podman):
#  1. start latency of `run --rm ipf true` with --network none and with
#     --network bridge, and the extra cost of bridge over none:
#       root:     moat's default bridge against podman's default network
#                 (netavark); hyperfine, RUNS runs each (default 30);
#       rootless: as $BENCH_USER (default moattest): moat has only none
#                 and host today (a bridge is tried once and reported
#                 "n/a: rootless bridge not built" while moat refuses it);
#                 podman --network none against slirp4netns and pasta
#                 (each tried once first, left out with its reason: Debian's
#                 podman 4.3 has no pasta mode);
#  2. TCP throughput with iperf3, IPERF_SECONDS per test (default 5),
#     IPERF_REPS tests each (default 5), engines interleaved:
#       container -> container on one user-defined bridge network (the
#       client finds the server by name, through the engine's DNS);
#       host -> container and container -> host (iperf3 -R) through a
#       published port, 127.0.0.1:15201 -> 5201 (the host's client on its
#       loopback, the server in a container).
#
# The image ("ipf"): moat demo-image plus /usr/bin/iperf3 and the
# libraries ldd names (the same paths inside); podman gets the same image
# through `moat save` and `podman load`.
#
# What it leaves alone: nothing runs in the machine's own network
# namespace. Each engine gets a network namespace of its own, made here
# with only loopback in it (moatbench-{m,p,u}-PID; every engine command is
# started through nsenter --net), so the bridges, veths, nft/iptables
# rules, sysctls (ip_forward, route_localnet) and published ports die with
# them; no traffic leaves loopback and those namespaces. State is under
# one mktemp directory: moat's --root/--runroot/audit log; podman's
# --root/--runroot/--tmpdir and a containers.conf of our own
# (CONTAINERS_CONF) whose network_config_dir is there too, so podman's
# network create writes nothing to /etc/containers. Everything is removed
# at exit (containers, networks, images, storage, namespaces, podman's
# rootless pause process and aardvark-dns, by pid).
#
# Where this machine needs help, and what is done about it (printed):
#  - podman as root asks runc for RLIMIT_NOFILE 1048576 by default, which
#    fails without CAP_SYS_RESOURCE (runc: "error setting rlimits"): our
#    containers.conf sets default_ulimits to values that can be set;
#  - rootless slirp4netns needs /dev/net/tun open to the user: when it is
#    not (mode 0600 here), the rootless phase runs in a private mount
#    namespace where /dev/net/tun is a 0666 node of our own over the
#    host's (the host's /dev is unchanged); that is said in the output.
#
# Needs: hyperfine, iperf3, podman (optional: left out when missing),
# iproute2 (ip, ss), util-linux (nsenter, unshare, runuser), python3.
set -euo pipefail

# ---- the phases run in other namespaces/identities (see the end) ----
phase=${1:-}

here=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-30}
IPERF_SECONDS=${IPERF_SECONDS:-5}
IPERF_REPS=${IPERF_REPS:-5}
PORT=15201
user=${BENCH_USER:-moattest}

say() { echo "bench: $*" >&2; }

# The first try of a command: on failure, its last line of output.
try_once() { # VAR CMD...
	local var=$1 out
	shift
	if out=$("$@" 2>&1); then
		printf -v "$var" '%s' ""
		return 0
	fi
	printf -v "$var" '%s' "$(printf '%s' "$out" | grep -v '^WARNING\|level=warning' | tail -n 1)"
	return 1
}

# ---- rootless phase, as $user (run by the mount-namespace phase) ----
#
# Builds its own images (moat: demo-image; podman: load of the saved tar),
# measures, writes $W/u/lat.json and $W/u/names, $W/u/notes. W, user's
# HOME, XDG_RUNTIME_DIR, CONTAINERS_CONF come from the caller.
if [[ $phase == __user ]]; then
	MOAT=$W/bin/moat
	export MOAT_ROOT=$W/u/moat-root MOAT_RUNROOT=$W/u/moat-run MOAT_AUDIT_LOG=$W/u/audit.log
	P="podman --root $W/u/p/storage --runroot $W/u/p/run --tmpdir $W/u/p/tmp"
	notes=$W/u/notes
	: >"$notes"
	cleanup_user() {
		"$MOAT" rmi ipf >/dev/null 2>&1 || true
		if [[ -d $W/u/p/storage ]]; then
			$P rm -af -t 0 >/dev/null 2>&1 || true
			$P rmi -af >/dev/null 2>&1 || true
			# files owned by subordinate ids: removed from the user
			# namespace (with our --tmpdir: the same pause process)
			$P unshare rm -rf "$W/u/p/storage" "$W/u/p/run" 2>/dev/null || true
		fi
	}
	trap cleanup_user EXIT
	"$MOAT" demo-image --tag ipf $IPF_ADDS >/dev/null
	cmds=() names=()
	add() { # NAME CMD
		local why
		if try_once why $2; then
			names+=("$1")
			cmds+=("$2")
		else
			echo "rootless-$1|$why" >>"$notes"
		fi
	}
	add moat-none "$MOAT run --rm --network none ipf true"
	# Refused today (rootless has none and host only); measured if it
	# ever works.
	add moat-bridge "$MOAT run --rm --network bridge ipf true"
	if command -v podman >/dev/null; then
		if try_once why $P load -i "$W/ipf.tar"; then
			add podman-none "$P run --rm --network none ipf true"
			add podman-slirp4netns "$P run --rm --network slirp4netns ipf true"
			# pasta came in podman 4.4: 4.3 takes it for a network name
			add podman-pasta "$P run --rm --network pasta ipf true"
		else
			echo "rootless-podman-none|podman load failed: $why" >>"$notes"
		fi
	fi
	printf '%s\n' "${names[@]}" >"$W/u/names"
	say "rootless start latency as $(id -un): ${names[*]} ($RUNS runs each)"
	hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$W/u/lat.json" "${cmds[@]}" >&2
	exit 0
fi

# ---- mount-namespace phase, root, in the rootless network namespace ----
#
# A private mount namespace: when /dev/net/tun is closed to the user, a
# 0666 node of our own is bound over it here only. Then the user phase.
if [[ $phase == __mntns ]]; then
	if ! runuser -u "$user" -- test -r /dev/net/tun -a -w /dev/net/tun; then
		mode=$(stat -c '%A %U' /dev/net/tun)
		mkdir -p "$W/u/dev"
		mount -t tmpfs -o mode=0755,size=64k moatbench "$W/u/dev"
		mknod -m 0666 "$W/u/dev/tun" c 10 200
		mount --bind "$W/u/dev/tun" /dev/net/tun
		echo "tun|/dev/net/tun is closed to $user on this host ($mode): a 0666 node in a private mount namespace was used for slirp4netns/pasta" >>"$W/u/notes-root"
	fi
	# rootless podman wants "/" shared; shared inside this namespace only
	# (it was made private above, so nothing propagates back)
	mount --make-rshared /
	home=$(getent passwd "$user" | cut -d: -f6)
	exec runuser -u "$user" -- env W="$W" HOME="$home" XDG_RUNTIME_DIR="$W/u/xdg" \
		CONTAINERS_CONF="$W/u/containers.conf" IPF_ADDS="$IPF_ADDS" RUNS="$RUNS" \
		PATH="$PATH" bash "$W/net.sh" __user
fi

# ---- main phase, root ----
MOAT_SRC=${MOAT_BUILD:-$here/build/moat}
[[ $(id -u) == 0 ]] || {
	echo "bench/net.sh: run as root (bridge networks need it; the rootless part switches to $user)" >&2
	exit 2
}
[[ -x $MOAT_SRC ]] || {
	echo "bench/net.sh: $MOAT_SRC is missing: run make" >&2
	exit 2
}
for t in hyperfine iperf3 nsenter unshare runuser ip ss python3 ldd mknod; do
	command -v "$t" >/dev/null || {
		echo "bench/net.sh: $t is not installed (tools/deps.sh)" >&2
		exit 2
	}
done
id "$user" >/dev/null 2>&1 || {
	echo "bench/net.sh: user $user missing: run tests/lib/setup-user.sh" >&2
	exit 2
}
have_podman=""
command -v podman >/dev/null && have_podman=1 || say "podman left out: not installed"

work=$(mktemp -d /tmp/moat-bench-net.XXXXXX)
chmod 0755 "$work"
tag=$$
NS_M=moatbench-m-$tag NS_P=moatbench-p-$tag NS_U=moatbench-u-$tag
made_ns=()

mm() { nsenter --net="/run/netns/$NS_M" "$MOAT" "$@"; }
P="podman --root $work/p/storage --runroot $work/p/run --tmpdir $work/p/tmp"
pp() { nsenter --net="/run/netns/$NS_P" $P "$@"; }

# Processes still running from this run (aardvark-dns, conmon, the
# rootless pause process, whose command line names nothing but whose
# XDG_RUNTIME_DIR is ours): killed by pid. The path is ours alone
# (mktemp), so nothing else matches.
kill_ours() {
	local d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		if { tr '\0' '\n' <"$d/cmdline" && tr '\0' '\n' <"$d/environ"; } 2>/dev/null |
			grep -qF -- "$work/"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

cleanup() {
	set +e
	if [[ -n ${MOAT:-} ]]; then
		mm rm -f bench-srv >/dev/null 2>&1
		mm network rm benchnet >/dev/null 2>&1
		mm rmi ipf >/dev/null 2>&1
	fi
	if [[ -n $have_podman && -d $work/p/storage ]]; then
		pp rm -af -t 0 >/dev/null 2>&1
		pp network rm -f benchnet >/dev/null 2>&1
		pp rmi -af >/dev/null 2>&1
	fi
	# the rootless pause process (catatonit), by its pid file
	local pid f
	for f in "$work/u/p/tmp/pause.pid" "$work/u/xdg/libpod/tmp/pause.pid"; do
		pid=$(cat "$f" 2>/dev/null) || pid=""
		if [[ -n $pid ]] && grep -q catatonit "/proc/$pid/comm" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	kill_ours
	local ns
	for ns in "${made_ns[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	# podman's overlay driver bind-mounts its own directory: unmounted,
	# deepest first, before anything is removed
	local m
	for m in $(awk -v w="$work/" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	if grep -qF -- "$work/" /proc/self/mountinfo; then
		say "mounts left under $work; not removing it"
		return
	fi
	rm -rf -- "$work"
}
trap cleanup EXIT

install -d -m 0755 "$work/bin" "$work/m" "$work/p" "$work/u" "$work/u/p"
install -m 0755 "$MOAT_SRC" "$work/bin/moat"
cp "$0" "$work/net.sh"
chmod 0644 "$work/net.sh"
MOAT=$work/bin/moat
export MOAT_ROOT=$work/m/root MOAT_RUNROOT=$work/m/run MOAT_AUDIT_LOG=$work/m/audit.log

for ns in "$NS_M" "$NS_P" "$NS_U"; do
	ip netns add "$ns"
	made_ns+=("$ns")
	ip -n "$ns" link set lo up
done

# ---- the image ----
IPF_ADDS=""
for f in /usr/bin/iperf3 $(ldd /usr/bin/iperf3 | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
	IPF_ADDS+=" --add $f:$f"
done
export IPF_ADDS
mm demo-image --tag ipf $IPF_ADDS >/dev/null
mm run --rm --network none ipf iperf3 --version >/dev/null || {
	say "iperf3 does not run in the image built from: $IPF_ADDS"
	exit 1
}
mm save -o "$work/ipf.tar" ipf
chmod 0644 "$work/ipf.tar"

notes=$work/notes
: >"$notes"

# podman's configuration: ours only (see the header)
if [[ -n $have_podman ]]; then
	install -d -m 0755 "$work/p/netconf"
	cat >"$work/p/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[network]
network_backend = "netavark"
network_config_dir = "$work/p/netconf"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "runc"
EOF
	export CONTAINERS_CONF=$work/p/containers.conf
	if ! try_once why pp load -i "$work/ipf.tar"; then
		say "podman left out: load failed: $why"
		have_podman=""
	fi
fi

# ---- 1a. root start latency ----
lat_cmds=() lat_names=()
lat_add() { # NAME CMD
	local why
	if try_once why $2; then
		lat_names+=("$1")
		lat_cmds+=("$2")
	else
		echo "$1|$why" >>"$notes"
		say "$1 left out: $why"
	fi
}
lat_add moat-none "nsenter --net=/run/netns/$NS_M $MOAT run --rm --network none ipf true"
lat_add moat-bridge "nsenter --net=/run/netns/$NS_M $MOAT run --rm --network bridge ipf true"
if [[ -n $have_podman ]]; then
	lat_add podman-none "nsenter --net=/run/netns/$NS_P $P run --rm --network none ipf true"
	lat_add podman-bridge "nsenter --net=/run/netns/$NS_P $P run --rm --network bridge ipf true"
fi
printf '%s\n' "${lat_names[@]}" >"$work/names"
say "root start latency: ${lat_names[*]} ($RUNS runs each)"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/lat.json" "${lat_cmds[@]}" >&2

# ---- 1b. rootless start latency (its own network and mount namespaces) ----
install -d -m 0700 "$work/u/xdg"
install -d -m 0755 "$work/u/p/netconf"
cat >"$work/u/containers.conf" <<EOF
[network]
network_config_dir = "$work/u/p/netconf"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "runc"
EOF
chown -R "$user" "$work/u"
if ! nsenter --net="/run/netns/$NS_U" unshare -m --propagation private \
	env W="$work" IPF_ADDS="$IPF_ADDS" RUNS="$RUNS" BENCH_USER="$user" bash "$work/net.sh" __mntns; then
	say "the rootless phase failed (see above)"
fi

# ---- 2. throughput ----
tput=$work/tput.tsv
: >"$tput"

# Waits until PID's network namespace listens on 5201 (5 s).
wait_listen() {
	local i
	for ((i = 0; i < 50; i++)); do
		nsenter --net="/proc/$1/ns/net" ss -Hltn 'sport = :5201' | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# Receiver's bits/s from iperf3 -J on stdin.
bps() { python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])'; }

engines=()
start_srv() { # ENGINE RUNFN NS
	local e=$1 run=$2 why pid
	if ! try_once why $run network create benchnet; then
		echo "tput-$e|network create: $why" >>"$notes"
		return 0
	fi
	if ! try_once why $run run -d --name bench-srv --network benchnet -p "127.0.0.1:$PORT:5201" ipf iperf3 -s; then
		echo "tput-$e|iperf3 server: $why" >>"$notes"
		return 0
	fi
	pid=$($run inspect -f '{{.State.Pid}}' bench-srv)
	if ! wait_listen "$pid"; then
		echo "tput-$e|iperf3 server does not listen" >>"$notes"
		return 0
	fi
	engines+=("$e")
}
start_srv moat mm "$NS_M"
[[ -n $have_podman ]] && start_srv podman pp "$NS_P"

one() { # ENGINE PATHNAME CMD...
	local e=$1 path=$2 out
	shift 2
	if out=$("$@" 2>/dev/null | bps 2>/dev/null); then
		printf '%s\t%s\t%s\n' "$e" "$path" "$out" >>"$tput"
	else
		say "$e $path: a test failed"
		echo "tput-$e-$path|a test failed" >>"$notes"
	fi
}
say "throughput: ${engines[*]}: iperf3 -t $IPERF_SECONDS, $IPERF_REPS tests each, interleaved"
for ((rep = 1; rep <= IPERF_REPS; rep++)); do
	for e in "${engines[@]}"; do
		if [[ $e == moat ]]; then run=mm ns=$NS_M; else run=pp ns=$NS_P; fi
		one "$e" c2c $run run --rm --network benchnet ipf iperf3 -c bench-srv -t "$IPERF_SECONDS" -J
		one "$e" h2c nsenter --net="/run/netns/$ns" iperf3 -c 127.0.0.1 -p "$PORT" -t "$IPERF_SECONDS" -J
		one "$e" c2h nsenter --net="/run/netns/$ns" iperf3 -c 127.0.0.1 -p "$PORT" -t "$IPERF_SECONDS" -J -R
	done
done

# ---- the report ----
[[ -f $work/u/notes-root ]] && cat "$work/u/notes-root" >>"$notes"
[[ -f $work/u/notes ]] && cat "$work/u/notes" >>"$notes"
echo
echo "$("$MOAT" --version 2>/dev/null || echo "moat ($MOAT_SRC)"), $(podman --version 2>/dev/null || echo "no podman"), $(iperf3 --version | head -n 1), kernel $(uname -r), $(nproc) CPUs"
python3 - "$work" "$RUNS" "$IPERF_SECONDS" "$IPERF_REPS" <<'PY'
import json, os, statistics, sys

work, runs, secs, reps = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
notes = {}
for line in open(os.path.join(work, "notes")):
    k, _, v = line.rstrip("\n").partition("|")
    notes.setdefault(k, v)

def load(d):
    """{name: median ms}, {name: min ms} of the hyperfine run in D."""
    try:
        res = json.load(open(os.path.join(d, "lat.json")))["results"]
        names = open(os.path.join(d, "names")).read().split()
    except (OSError, ValueError):
        return {}, {}
    return ({n: r["median"] * 1000 for n, r in zip(names, res)},
            {n: r["min"] * 1000 for n, r in zip(names, res)})

# The minimum beside the median: on a busy machine it is the run that
# waited least for a CPU.
def cell(med, lo, name, prefix=""):
    if name in med:
        return f"{med[name]:8.1f} ms (min {lo[name]:.1f})"
    return "n/a: " + notes.get(prefix + name, "not measured")

def extra(med, base, net):
    if base in med and net in med:
        return med[net] - med[base]
    return None

print(f"\n== start latency: `run --rm ipf true`, median of {runs} runs (hyperfine)")
root, root_lo = load(work)
print("root:")
for eng in ("moat", "podman"):
    print(f"  {eng:7s} none   {cell(root, root_lo, eng + '-none')}")
    print(f"  {eng:7s} bridge {cell(root, root_lo, eng + '-bridge')}")
    x = extra(root, eng + "-none", eng + "-bridge")
    if x is not None:
        print(f"  {eng:7s} extra for bridge over none: {x:+.1f} ms")
xm = extra(root, "moat-none", "moat-bridge")
xp = extra(root, "podman-none", "podman-bridge")
if xm is not None and xp is not None and xp > 0:
    print(f"  ratio moat/podman: extra {xm / xp:.2f}, bridge start {root['moat-bridge'] / root['podman-bridge']:.2f},"
          f" none start {root['moat-none'] / root['podman-none']:.2f}")

user, user_lo = load(os.path.join(work, "u"))
print("rootless:")
print(f"  moat    none   {cell(user, user_lo, 'moat-none', 'rootless-')}")
if "moat-bridge" in user:
    print(f"  moat    bridge {cell(user, user_lo, 'moat-bridge')}")
else:
    print(f"  moat    bridge n/a: rootless bridge not built (moat says: {notes.get('rootless-moat-bridge', '?')})")
print(f"  podman  none   {cell(user, user_lo, 'podman-none', 'rootless-')}")
for mode in ("slirp4netns", "pasta"):
    n = "podman-" + mode
    c = cell(user, user_lo, n, "rootless-")
    if mode == "pasta" and "network not found" in c:
        c = "n/a: this podman has no pasta mode (it says: " + c[5:] + ")"
    print(f"  podman  {mode:11s} {c}")
    x = extra(user, "podman-none", n)
    if x is not None:
        print(f"  podman  extra for {mode} over none: {x:+.1f} ms")
if "moat-none" in user and "podman-none" in user:
    print(f"  ratio moat/podman: none start {user['moat-none'] / user['podman-none']:.2f}")
if "tun" in notes:
    print("  note: " + notes["tun"])

paths = [("c2c", "container -> container, one bridge network"),
         ("h2c", f"host 127.0.0.1 -> published port -> container"),
         ("c2h", f"container -> published port -> host 127.0.0.1 (-R)")]
vals = {}
for line in open(os.path.join(work, "tput.tsv")):
    e, p, b = line.split("\t")
    vals.setdefault((e, p), []).append(float(b) / 1e9)
print(f"\n== TCP throughput, iperf3 -t {secs}, median of {reps} tests (Gbit/s; min-max)")
print(f"  {'path':50s} {'moat':>18s} {'podman':>18s} {'moat/podman':>12s}")
for p, label in paths:
    row = []
    for e in ("moat", "podman"):
        v = vals.get((e, p))
        row.append(f"{statistics.median(v):6.2f} ({min(v):.1f}-{max(v):.1f})" if v else "n/a")
    m, q = vals.get(("moat", p)), vals.get(("podman", p))
    ratio = f"{statistics.median(m) / statistics.median(q):.2f}" if m and q else "n/a"
    print(f"  {label:50s} {row[0]:>18s} {row[1]:>18s} {ratio:>12s}")
for k, v in notes.items():
    if k.startswith("tput"):
        print(f"  note: {k}: {v}")
PY
