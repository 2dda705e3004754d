#!/bin/sh
# Installs the Debian packages moat's build, tests and benchmarks need.
# Idempotent: installs only what is missing; as a normal user it prints the
# exact command instead.
set -eu
PKGS="gcc make pkg-config libseccomp-dev libcap-ng-dev libarchive-dev libjansson-dev
libcmocka-dev clang libclang-rt-14-dev busybox-static uidmap bats
bats-assert bats-support python3 util-linux iproute2 strace fuse-overlayfs procps
libcurl4-openssl-dev libssl-dev openssl curl docker-registry skopeo umoci apache2-utils
libmnl-dev libnftables-dev nftables passt iperf3 etcd-server etcd-client"
missing=""
for p in $PKGS; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
	echo "deps: all present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing"
	echo "deps: run as root: apt-get update && apt-get install -y$missing"
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages that ship a service (docker-registry) must not start it: the
# tests run their own registries on loopback, with their own ports.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	guard=1
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing </dev/null || {
	[ -z "$guard" ] || rm -f /usr/sbin/policy-rc.d
	exit 1
}
[ -z "$guard" ] || rm -f /usr/sbin/policy-rc.d
