#!/bin/bash
# bench/pull.sh - cold pulls from a loopback registry: moat pull vs podman
# pull vs skopeo copy + umoci unpack, in one run. Not a test: nothing here
# fails on timing.
#
# Run as root (it starts Debian's docker-registry on 127.0.0.1 with TLS
# and Basic auth, builds and pushes the images, then switches user):
#
#   sudo bench/pull.sh             # rootless numbers, as $BENCH_USER (moattest)
#   BENCH_AS_ROOT=1 bench/pull.sh  # numbers as root
#
# Images (built at run time from host files, pushed with skopeo so the
# benchmark does not depend on `moat push`):
#  - big:      one gzip layer of ~$BIG_MB MB unpacked (default 200), the
#              stand-in for a debootstrapped Debian minbase. With
#              BENCH_DEBOOTSTRAP=1 and debootstrap installed, a real
#              `debootstrap --variant=minbase bookworm` tree is used instead
#              (that fetches from the Debian archive: opt-in only);
#  - layers20: 20 gzip layers, ~$SMALL_MB MB unpacked in all (default 100):
#              shows whether layers download and extract in parallel.
# Each tool pulls each image RUNS times (default 5) into a fresh store
# (cold pull, warm page cache for the registry's files), timed by
# /usr/bin/time: wall, CPU (user+sys, children included) and peak RSS (the
# largest process). Prints medians and moat's ratios to each peer. The
# goal from the issue: moat's wall time at most half of podman's, CPU time
# no more than podman's.
#
# Needs: docker-registry, skopeo, umoci, podman, openssl, curl, python3,
# apache2-utils, GNU time (/usr/bin/time); a peer that is missing or fails
# its first pull is left out with its reason. MOAT_BUILD picks the binary
# (default build/moat).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
MOAT_SRC=${MOAT_BUILD:-$here/build/moat}
RUNS=${RUNS:-5}
BIG_MB=${BIG_MB:-200}
SMALL_MB=${SMALL_MB:-100}
NLAYERS=${NLAYERS:-20}
user=${BENCH_USER:-moattest}

[[ $(id -u) == 0 ]] || {
	echo "bench/pull.sh: run as root (it starts a registry, then switches to $user)" >&2
	exit 2
}
[[ -x $MOAT_SRC ]] || {
	echo "bench/pull.sh: $MOAT_SRC is missing: run make" >&2
	exit 2
}
for t in docker-registry skopeo openssl curl python3 htpasswd /usr/bin/time; do
	command -v "$t" >/dev/null || {
		echo "bench/pull.sh: $t is not installed (tools/deps.sh)" >&2
		exit 2
	}
done
if [[ -n ${BENCH_AS_ROOT:-} ]]; then
	user=root
elif ! id "$user" >/dev/null 2>&1; then
	echo "bench/pull.sh: user $user missing: run tests/lib/setup-user.sh" >&2
	exit 2
fi

REG_USER=bench
REG_PASS=bench-pass
# shellcheck source=../tests/lib/registry.bash
source "$here/tests/lib/registry.bash"

work=$(mktemp -d /tmp/moat-bench-pull.XXXXXX)
chmod 0755 "$work"
cleanup() {
	reg_stop "$work/reg/tls" 2>/dev/null || true
	# stores of rootless pulls hold files owned by subordinate ids: root
	# removes them; nothing here is mounted (pulls mount nothing)
	if grep -qF -- "$work/" /proc/self/mountinfo; then
		echo "bench: mounts left under $work; not removing it" >&2
		return
	fi
	rm -rf -- "$work"
}
trap cleanup EXIT

uid=$(id -u "$user")
gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)
install -d -m 0755 "$work/bin" "$work/runs"
install -m 0755 "$MOAT_SRC" "$work/bin/moat"
MOAT=$work/bin/moat
install -d -m 0700 -o "$uid" -g "$gid" "$work/xdg" "$work/docker"

# ---- the registry ----
echo "bench: starting docker-registry (TLS + Basic auth) on 127.0.0.1"
reg_pki "$work/reg/pki"
REG=$(reg_start "$work/reg/tls" tls "$work/reg/pki")
install -d -m 0755 "$work/certs" "$work/certs/$REG"
install -m 0644 "$work/reg/pki/ca.crt" "$work/certs/$REG/ca.crt"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf '%s' "$REG_USER:$REG_PASS" | base64 -w0)" \
	>"$work/docker/config.json"
chown "$uid:$gid" "$work/docker/config.json"
chmod 0600 "$work/docker/config.json"
printf '{"certs_dirs": ["%s"]}\n' "$work/certs" >"$work/registries.json"
chmod 0644 "$work/registries.json"

# ---- the images ----
cat >"$work/benchimg.py" <<'PY'
"""benchimg.py OUT TAG MB LAYERS ROOT...: an OCI layout whose LAYERS gzip
layers hold ~MB MB of the host files under ROOT..., split by size."""
import gzip, hashlib, json, os, sys, tarfile

out, tag, mb, nlayers, roots = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
cap = mb << 20
files, total = [], 0
for root in roots:
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if os.path.islink(p) or (os.path.isfile(p) and os.access(p, os.R_OK)):
                files.append((p, st.st_size if os.path.isfile(p) and not os.path.islink(p) else 0))
                total += files[-1][1]
            if total >= cap:
                break
        if total >= cap:
            break
    if total >= cap:
        break
os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)


class Hashing:
    def __init__(self, f):
        self.f, self.h, self.n = f, hashlib.sha256(), 0

    def write(self, b):
        self.h.update(b)
        self.n += len(b)
        return self.f.write(b)

    def flush(self):
        self.f.flush()


# Largest first into the lightest layer: NLAYERS layers of about equal size.
bins = [[0, []] for _ in range(nlayers)]
for p, sz in sorted(files, key=lambda f: -f[1]):
    b = min(bins, key=lambda x: x[0])
    b[0] += sz
    b[1].append(p)
chunks = [sorted(b[1]) for b in bins if b[1]]
descs, diff_ids = [], []
for chunk in chunks:
    tmp = os.path.join(out, "layer.tmp")
    with open(tmp, "wb") as raw_f:
        comp = Hashing(raw_f)
        gz = gzip.GzipFile(fileobj=comp, mode="wb", compresslevel=6, mtime=0)
        plain = Hashing(gz)
        with tarfile.open(fileobj=plain, mode="w|", format=tarfile.PAX_FORMAT) as t:
            seen = set()
            for p in chunk:
                parents = []
                d = os.path.dirname(p)
                while d not in ("/", "") and d not in seen:
                    parents.append(d)
                    seen.add(d)
                    d = os.path.dirname(d)
                for d in reversed(parents):
                    t.add(d, arcname=d.lstrip("/"), recursive=False)
                try:
                    t.add(p, arcname=p.lstrip("/"), recursive=False)
                except OSError:
                    pass
        gz.close()
    d = comp.h.hexdigest()
    os.rename(tmp, os.path.join(out, "blobs", "sha256", d))
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "digest": "sha256:" + d, "size": comp.n})
    diff_ids.append("sha256:" + plain.h.hexdigest())


def blob(b):
    d = hashlib.sha256(b).hexdigest()
    with open(os.path.join(out, "blobs", "sha256", d), "wb") as f:
        f.write(b)
    return {"digest": "sha256:" + d, "size": len(b)}


cfg = json.dumps({"architecture": "amd64", "os": "linux",
                  "config": {"Cmd": ["/bin/sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": dict(blob(cfg), mediaType="application/vnd.oci.image.config.v1+json"),
                  "layers": descs}).encode()
m = blob(man)
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [dict(m, mediaType="application/vnd.oci.image.manifest.v1+json",
              annotations={"org.opencontainers.image.ref.name": tag})]}, f)
with open(os.path.join(out, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
print("%d files, %.0f MB unpacked, %.0f MB compressed in %d layers"
      % (len(files), total / 1e6, sum(x["size"] for x in descs) / 1e6, len(descs)))
PY

roots=(/usr/share /usr/lib)
if [[ -n ${BENCH_DEBOOTSTRAP:-} ]] && command -v debootstrap >/dev/null; then
	echo "bench: debootstrap --variant=minbase bookworm (BENCH_DEBOOTSTRAP=1)"
	debootstrap --variant=minbase bookworm "$work/minbase" >"$work/debootstrap.log" 2>&1 || {
		echo "bench: debootstrap failed (see below); using host files" >&2
		tail -n 5 "$work/debootstrap.log" >&2
	}
	[[ -x $work/minbase/bin/sh ]] && roots=("$work/minbase") && BIG_MB=100000
fi
echo -n "bench: image big: "
python3 "$work/benchimg.py" "$work/img-big" v1 "$BIG_MB" 1 "${roots[@]}"
echo -n "bench: image layers$NLAYERS: "
python3 "$work/benchimg.py" "$work/img-layers" v1 "$SMALL_MB" "$NLAYERS" /usr/lib /usr/share
for img in big layers; do
	skopeo copy -q --dest-cert-dir "$work/certs/$REG" --dest-creds "$REG_USER:$REG_PASS" \
		"oci:$work/img-$img:v1" "docker://$REG/bench/$img:v1"
done
rm -rf "$work/img-big" "$work/img-layers" "$work/minbase"
# moat pulls only what its trust policy accepts: the images are signed
# (cosign layout) with a key made for the run, and the policy requires it,
# so the numbers include fetching and verifying the signature.
MOAT_KEY_PASSWORD=bench "$MOAT" --audit-log "$work/sign-audit.log" key generate --out "$work/sign" >/dev/null
chmod 0644 "$work/sign.pub"
for img in big layers; do
	MOAT_KEY_PASSWORD=bench DOCKER_CONFIG="$work/docker" MOAT_REGISTRIES_CONF="$work/registries.json" \
		"$MOAT" --audit-log "$work/sign-audit.log" sign --key "$work/sign.key" "$REG/bench/$img:v1" >/dev/null
done
printf '{"default": [{"type": "sigstoreSigned", "keyPath": "%s"}]}\n' "$work/sign.pub" >"$work/trust.json"
chmod 0644 "$work/trust.json"

# ---- running things as the benchmark's identity ----
as_user() {
	if [[ $user == root ]]; then
		env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root \
			XDG_RUNTIME_DIR="$work/xdg" "$@"
	else
		runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
			HOME="$home" USER="$user" LOGNAME="$user" XDG_RUNTIME_DIR="$work/xdg" "$@"
	fi
}

# One cold pull by TOOL of REF into the fresh dir D.
pull_cmd() {
	local tool=$1 ref=$2 d=$3
	case $tool in
	moat)
		as_user env MOAT_ROOT="$d/root" MOAT_RUNROOT="$d/run" MOAT_AUDIT_LOG="$d/audit.log" \
			DOCKER_CONFIG="$work/docker" MOAT_REGISTRIES_CONF="$work/registries.json" \
			MOAT_TRUST_POLICY="$work/trust.json" "$MOAT" pull -q "$ref"
		;;
	podman)
		as_user podman --root "$d/root" --runroot "$d/run" --events-backend=file \
			pull -q --cert-dir "$work/certs/$REG" --creds "$REG_USER:$REG_PASS" "$ref"
		;;
	skopeo+umoci)
		as_user sh -c 'skopeo copy -q --src-cert-dir "$1" --src-creds "$2" "docker://$3" "oci:$4/layout:v1" &&
			umoci unpack --rootless --image "$4/layout:v1" "$4/bundle"' sh \
			"$work/certs/$REG" "$REG_USER:$REG_PASS" "$ref" "$d"
		;;
	*) return 2 ;;
	esac
}

# A fresh directory for one run, owned by the identity.
fresh() {
	local d=$work/runs/$1
	rm -rf -- "$d"
	install -d -m 0700 -o "$uid" -g "$gid" "$d"
	echo "$d"
}

# measure TOOL REF: RUNS timed cold pulls; appends "wall cpu rss_kb" lines
# to $work/times.TOOL.
measure() {
	local tool=$1 ref=$2 i d
	: >"$work/times.$tool"
	for ((i = 1; i <= RUNS; i++)); do
		d=$(fresh "$tool.$i")
		/usr/bin/time -f '%e %U %S %M' -o "$work/time.out" "$work/pull-one" "$tool" "$ref" "$d" \
			>"$work/pull.log" 2>&1 || {
			echo "bench: $tool run $i failed: $(tail -n 1 "$work/pull.log")" >&2
			return 1
		}
		awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/time.out" >>"$work/times.$tool"
		rm -rf -- "$d"
	done
}

# /usr/bin/time needs a program, not a function: pull_cmd in a script.
pull_cmd_exec() { "$work/pull-one" "$@"; }
{
	echo '#!/bin/bash'
	declare -p work user home REG REG_USER REG_PASS MOAT
	declare -f as_user pull_cmd
	echo 'pull_cmd "$@"'
} >"$work/pull-one"
chmod 0755 "$work/pull-one"

# median of column N of FILE
median() {
	sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
		if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

tools=()
for t in moat podman skopeo+umoci; do
	case $t in
	podman) command -v podman >/dev/null || {
		echo "bench: podman left out: not installed" >&2
		continue
	} ;;
	skopeo+umoci) command -v umoci >/dev/null || {
		echo "bench: skopeo+umoci left out: umoci not installed" >&2
		continue
	} ;;
	*) ;;
	esac
	d=$(fresh "try.$t")
	if out=$(pull_cmd_exec "$t" "$REG/bench/layers:v1" "$d" 2>&1); then
		tools+=("$t")
	else
		echo "bench: $t left out: $(printf '%s' "$out" | tail -n 1)" >&2
	fi
	rm -rf -- "$d"
done
[[ ${#tools[@]} -gt 0 ]] || {
	echo "bench: no tool could pull" >&2
	exit 1
}

echo "bench: $RUNS cold pulls per tool and image, as $user; medians"
for img in big layers; do
	ref=$REG/bench/$img:v1
	echo
	printf '%-14s %9s %9s %13s   (%s)\n' tool "wall s" "cpu s" "peak RSS MB" "$ref"
	declare -A W=() C=() R=()
	for t in "${tools[@]}"; do
		if ! measure "$t" "$ref"; then
			continue
		fi
		W[$t]=$(median "$work/times.$t" 1)
		C[$t]=$(median "$work/times.$t" 2)
		R[$t]=$(median "$work/times.$t" 3)
		printf '%-14s %9.2f %9.2f %13.1f\n' "$t" "${W[$t]}" "${C[$t]}" "$(awk -v k="${R[$t]}" 'BEGIN { print k / 1024 }')"
	done
	if [[ -n ${W[moat]:-} ]]; then
		for t in podman skopeo+umoci; do
			[[ -n ${W[$t]:-} ]] || continue
			awk -v t="$t" -v mw="${W[moat]}" -v pw="${W[$t]}" -v mc="${C[moat]}" -v pc="${C[$t]}" \
				-v mr="${R[moat]}" -v pr="${R[$t]}" 'BEGIN {
				printf "moat/%-12s wall %.2f  cpu %.2f  rss %.2f", t, mw / pw, (pc > 0 ? mc / pc : 0), mr / pr
				if (t == "podman") printf "   (goal: wall <= 0.50, cpu <= 1.00)"
				printf "\n" }'
		done
	fi
	unset W C R
done
