#!/bin/sh
# Start latency of `moat run --rm demo /bin/true` against peers, in one run:
#   bwrap --unshare-all over the same rootfs, crun run and runc run over an
#   equivalent bundle, podman run --rm --network none on the same content.
# Run it as a normal user for rootless numbers (as root it re-runs itself as
# $BENCH_USER, default moattest). Needs: hyperfine, bubblewrap, crun, runc,
# podman (Debian packages). Prints hyperfine's table and the median ratios.
# Not a test: nothing here fails on timing.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -eq 0 ] && [ -z "${BENCH_AS_ROOT:-}" ]; then
	user=${BENCH_USER:-moattest}
	tmpbin=$(mktemp -d /tmp/moat-bench-bin.XXXXXX)
	cp "$here/build/moat" "$tmpbin/moat"
	cp "$0" "$tmpbin/start.sh"
	chmod 755 "$tmpbin" "$tmpbin/moat" "$tmpbin/start.sh"
	runuser -u "$user" -- env MOAT_BIN="$tmpbin/moat" HOME="$(getent passwd "$user" | cut -d: -f6)" \
		sh "$tmpbin/start.sh" "$@"
	rc=$?
	rm -rf "$tmpbin"
	exit $rc
fi
MOAT=${MOAT_BIN:-$here/build/moat}
runs=${RUNS:-30}
work=$(mktemp -d /tmp/moat-bench.XXXXXX)
cleanup() {
	[ -d "$work/podman" ] && podman unshare rm -rf "$work/podman" "$work/podman-run" 2>/dev/null
	"$MOAT" rmi demo >/dev/null 2>&1
	chmod -R u+rwX "$work" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
export MOAT_ROOT="$work/root" MOAT_RUNROOT="$work/run" MOAT_AUDIT_LOG="$work/audit/audit.log"
"$MOAT" demo-image --tag demo >/dev/null

# The same rootfs for the peers: the demo image's one layer, as extracted
# for a single-id user namespace (every file owned by the caller).
"$MOAT" run --rm --userns=single demo true
rootfs=$(find "$work/root/layers/squash" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -x "$rootfs/bin/busybox" ] || { echo "bench: no extracted demo layer under $work/root/layers" >&2; exit 1; }

set -- "$MOAT run --rm demo /bin/true"
names="moat"
# Each peer is tried once first; one that cannot run on this host is left
# out with its reason (crun 1.8 refuses cgroup v1 with a hybrid v2 mount).
try() {
	name=$1
	cmd=$2
	if out=$($cmd 2>&1); then
		set_peer=1
	else
		echo "bench: $name left out: $(printf '%s' "$out" | tail -n 1)" >&2
		set_peer=0
	fi
}
peers=""
add() {
	try "$1" "$2"
	if [ "$set_peer" = 1 ]; then
		peers="$peers$1|$2
"
	fi
}
add moat-single "$MOAT run --rm --userns=single demo /bin/true"
command -v bwrap >/dev/null &&
	add bwrap "bwrap --unshare-all --die-with-parent --ro-bind $rootfs / --proc /proc --dev /dev --tmpfs /tmp /bin/true"
mkbundle() { # DIR TOOL
	mkdir -p "$1"
	(cd "$1" && $2 spec --rootless >/dev/null 2>&1 || $2 spec >/dev/null)
	sed -i "s|\"path\": \"rootfs\"|\"path\": \"$rootfs\"|; s|\"sh\"|\"/bin/true\"|; s|\"terminal\": true|\"terminal\": false|" "$1/config.json"
}
if command -v crun >/dev/null; then
	mkbundle "$work/crun-bundle" crun
	add crun "crun --cgroup-manager=disabled --root $work/crun run --bundle $work/crun-bundle bench-crun"
fi
if command -v runc >/dev/null; then
	mkbundle "$work/runc-bundle" runc
	add runc "runc --root $work/runc run --bundle $work/runc-bundle bench-runc"
fi
if command -v podman >/dev/null; then
	tar -C "$rootfs" -cf "$work/rootfs.tar" .
	P="podman --root $work/podman --runroot $work/podman-run --tmpdir $work/podman-tmp"
	if $P import "$work/rootfs.tar" moat-bench-demo >/dev/null 2>&1; then
		add podman "$P run --rm --network none --runtime runc moat-bench-demo /bin/true"
	else
		echo "bench: podman left out: import failed" >&2
	fi
fi
OLDIFS=$IFS
IFS='
'
for line in $peers; do
	names="$names ${line%%|*}"
	set -- "$@" "${line#*|}"
done
IFS=$OLDIFS
echo "bench: $names ($runs runs each, $(id -un))"
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/out.json" "$@"
python3 - "$work/out.json" $names <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
names = sys.argv[2:]
med = {n: r["median"] for n, r in zip(names, res)}
mine = [n for n in names if n.startswith("moat")]
for n in names:
    ratios = "   ".join(f"{m}/{n} = {med[m]/med[n]:.2f}" for m in mine if m != n)
    print(f"median {n:12s} {med[n]*1000:8.2f} ms   {ratios}")
PY
[ -n "${P:-}" ] && $P rmi -af >/dev/null 2>&1 || true
