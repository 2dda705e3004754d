#!/bin/sh
# Memory of a running container's monitor: moat's (a detached `moat run -d`)
# against podman's conmon, in one run, both rootless, both for a container
# that sleeps. Prints VmRSS (what `ps` shows), RssAnon/RssFile and Pss (the
# monitor's fair share of shared pages) of each, a few seconds after start
# (moat gives back its start-up pages one second after the container
# started; see common/trim.h). Run it as root: the containers run as
# $BENCH_USER (default moattest), and root reads the monitors' /proc files
# (both make themselves non-dumpable, which hides them from their owner).
# Needs podman for the peer. Not a test: nothing fails on the numbers.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (see the comment at the top)" >&2; exit 1; }
user=${BENCH_USER:-moattest}
settle=${SETTLE:-3}
work=$(mktemp -d /tmp/moat-bench.XXXXXX)
chmod 755 "$work"
cp "$here/build/moat" "$work/moat"
chown -R "$user" "$work"
as_user() {
	runuser -u "$user" -- env HOME="$(getent passwd "$user" | cut -d: -f6)" \
		MOAT_ROOT="$work/root" MOAT_RUNROOT="$work/run" MOAT_AUDIT_LOG="$work/audit/audit.log" \
		XDG_RUNTIME_DIR="$work/xdg" "$@"
}
P="podman --root $work/podman --runroot $work/podman-run --tmpdir $work/podman-tmp"
cleanup() {
	[ -n "${mid:-}" ] && as_user "$work/moat" rm -f "$mid" >/dev/null 2>&1
	[ -n "${conmon:-}" ] && as_user $P rm -f -t 0 bench-conmon >/dev/null 2>&1
	[ -d "$work/podman" ] && as_user podman unshare rm -rf "$work/podman" "$work/podman-run" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/xdg" && chown "$user" "$work/xdg" && chmod 700 "$work/xdg"
as_user "$work/moat" demo-image --tag demo >/dev/null

show() { # NAME PID
	st=/proc/$2/status
	printf '%-7s VmRSS %5s kB   RssAnon %5s kB   RssFile %5s kB   Pss %5s kB\n' "$1" \
		"$(awk '/^VmRSS:/{print $2}' "$st")" "$(awk '/^RssAnon:/{print $2}' "$st")" \
		"$(awk '/^RssFile:/{print $2}' "$st")" "$(awk '/^Pss:/{print $2}' /proc/"$2"/smaps_rollup)"
}

mid=$(as_user "$work/moat" run -d demo sleep 300)
init=$(as_user "$work/moat" inspect -f '{{.State.Pid}}' "$mid")
monitor=$(awk '{print $4}' /proc/"$init"/stat) # the init's parent
sleep "$settle"
show moat "$monitor"

if command -v podman >/dev/null; then
	# The demo layer as extracted for a single-id namespace (every file
	# the user's), which podman can import.
	as_user "$work/moat" run --rm --userns=single demo true
	rootfs=$(find "$work/root/layers/squash" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	tar -C "$rootfs" -cf "$work/rootfs.tar" . && chown "$user" "$work/rootfs.tar"
	if out=$(as_user $P import "$work/rootfs.tar" moat-bench-demo 2>&1) &&
		out=$(as_user $P run -d --name bench-conmon --network none --runtime runc moat-bench-demo sleep 300 2>&1); then
		conmon=$(as_user $P inspect -f '{{.State.ConmonPid}}' bench-conmon)
		sleep "$settle"
		show conmon "$conmon"
	else
		echo "bench: podman left out: $(printf '%s' "$out" | tail -n 1)" >&2
	fi
fi
