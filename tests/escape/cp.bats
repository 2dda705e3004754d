#!/usr/bin/env bats
# `moat cp` against a hostile container (security-bar.md):
#  - CVE-2019-10152 (podman): cp resolved the container's symlinks on the
#    host, so `ln -s /tmp /test; cp f ctr:/test/x` wrote the HOST's /tmp.
#  - CVE-2018-15664 (moby): a symlink swapped between docker cp's check and
#    its use sent the copy to host paths.
# moat resolves every container path inside the container (openat2
# RESOLVE_IN_ROOT in a helper whose "/" is the container's root): each
# test plants canaries on the host that a host-side resolution would read
# or write, and fails if one is ever touched.  The attacking containers run
# with Landlock off so that they may plant links anywhere in their root.

load ../lib/helpers

setup() {
	W=$(as_identity mktemp -d "$MOAT_T/scratch/cp.XXXXXX")
	# a host directory the container cannot see, world-writable so that a
	# broken engine could write there whatever its identity, and a canary
	# file in it, world-readable for the same reason
	HOSTDIR=$(mktemp -d "$MOAT_T/victim/hd.XXXXXX")
	chmod 0777 "$HOSTDIR"
	CANARY="moat-canary-$RANDOM$RANDOM$RANDOM"
	echo "$CANARY" >"$HOSTDIR/secret"
	chmod 0666 "$HOSTDIR/secret"
	PLANT="moat-planted-$$-$RANDOM"
}

teardown() {
	local id
	for id in $(moat_as ps -aq --no-trunc 2>/dev/null); do
		moat_as rm -f "$id" >/dev/null 2>&1 || true
	done
	rm -rf -- "$W" "$HOSTDIR"
	rm -f -- /tmp/"$PLANT"* /etc/"$PLANT"* /"$PLANT"* 2>/dev/null || true
	moat_check_clean
}

# attacker NAME SCRIPT: a running container that ran SCRIPT (then sleeps);
# waits until SCRIPT is done.
attacker() {
	moat_as run -d --name "$1" --security-opt landlock=off "$IMG" \
		sh -c "$2"' && touch /.ready && exec sleep 600' >/dev/null
	local i
	for ((i = 0; i < 100; i++)); do
		moat_as exec "$1" test -e /.ready 2>/dev/null && return 0
		sleep 0.1
	done
	fail "the attacking container never got ready"
}

# Nothing named $PLANT* anywhere a host-side resolution could have put it.
assert_host_untouched() {
	local hits
	hits=$(find /tmp /etc / "$MOAT_T/victim" -maxdepth 1 -name "$PLANT*" 2>/dev/null)
	[[ -z $hits ]] || fail "planted on the host: $hits"
	assert_equal "$(ls -A "$HOSTDIR")" "secret"
	assert_equal "$(cat "$HOSTDIR/secret")" "$CANARY"
	if grep -rqF -- "$CANARY" "$W"; then
		fail "the host canary was read: $(grep -rlF -- "$CANARY" "$W")"
	fi
}

# both_states NAME FN: FN while NAME runs, then again once it is stopped.
both_states() {
	"$2" "$1" running
	moat_as stop -t 0 "$1" >/dev/null
	"$2" "$1" stopped
}

check_10152() {
	local c=$1 state=$2
	local f=$W/$PLANT-f-$state
	as_identity sh -c "echo payload-$state >'$f'"
	# /test -> /tmp: the file lands in the container's /tmp
	run moat_as cp "$f" "$c:/test/$PLANT-$state"
	assert_success
	# the destination being the link itself: into what it points at
	run moat_as cp "$f" "$c:/test"
	assert_success
	assert_host_untouched
	# /test2 -> /etc: reading through it gives the container's passwd
	run moat_as cp "$c:/test2/passwd" "$W/passwd-$state"
	assert_success
	grep -qx 'container-marker:x:4242:4242::/:/bin/false' "$W/passwd-$state" ||
		fail "not the container's /etc/passwd: $(head -c 300 "$W/passwd-$state")"
	if cmp -s "$W/passwd-$state" /etc/passwd; then
		fail "the host's /etc/passwd was copied"
	fi
	# a link to a host path only the host has leads nowhere
	run --separate-stderr moat_as cp "$c:/h/secret" "$W/leak-$state"
	assert_failure 1
	[[ $stderr == *"Could not find the file /h/secret in container $c"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as cp "$f" "$c:/h/$PLANT"
	assert_failure 1
	[[ $stderr == *"no such directory"* ]] || fail "stderr: $stderr"
	# nor does a relative link climbing past the root, or ".." in the path
	run moat_as cp -L "$c:/rel" "$W/leak2-$state"
	assert_failure 1
	run moat_as cp "$c:/../../../../../..$HOSTDIR/secret" "$W/leak3-$state"
	assert_failure 1
	# without -L a link is copied as a link, its target never read
	run moat_as cp "$c:/c" "$W/link-$state"
	assert_success
	assert_equal "$(readlink "$W/link-$state")" "$HOSTDIR/secret"
	assert_host_untouched
}

@test "10152: symlinks in a running and a stopped container resolve inside it, never on the host" {
	# (idempotent: it runs again when the container is started again)
	attacker ev "ln -sfn /tmp /test && ln -sfn /etc /test2 && ln -sfn '$HOSTDIR' /h &&
		ln -sfn '$HOSTDIR/secret' /c && ln -sfn ../../../../../../..'$HOSTDIR'/secret /rel &&
		{ grep -q container-marker /etc/passwd ||
		  echo 'container-marker:x:4242:4242::/:/bin/false' >>/etc/passwd; }"
	both_states ev check_10152
	# what was copied in is where the container's links said, inside it
	moat_as start ev >/dev/null
	run moat_as exec ev sh -c "cat /tmp/$PLANT-running /tmp/$PLANT-stopped /tmp/$PLANT-f-running /tmp/$PLANT-f-stopped"
	assert_success
	assert_output "payload-running
payload-stopped
payload-running
payload-stopped"
}

@test "15664: cp in and out while the container swaps a symlink under it never reaches the host" {
	# /w/link flips between the container's /, its /tmp/d, its /etc and a
	# host-only path (renameat over it, and unlink+symlink).
	attacker race "mkdir -p /w /tmp/d && echo ctr-root >/secret && echo ctr-d >/tmp/d/secret &&
		echo ctr-etc >/etc/secret && echo ctr-shadow >/etc/shadow && echo ctr-root >/shadow &&
		echo ctr-d >/tmp/d/shadow && ln -s /tmp/d /w/link &&
		{ while :; do
			ln -sfn / /w/n1; mv -Tf /w/n1 /w/link
			ln -sfn /tmp/d /w/n2; mv -Tf /w/n2 /w/link
			ln -sfn '$HOSTDIR' /w/n3; mv -Tf /w/n3 /w/link
			ln -sfn /etc /w/link
			ln -sfn /tmp/d /w/link
		done & }"
	as_identity sh -c "echo planted >'$W/in'; mkdir -p '$W/tree/sub'; echo deep >'$W/tree/sub/f'"
	local i out seen="" shadow
	shadow=$(cat /etc/shadow 2>/dev/null || true)
	for ((i = 0; i < 200; i++)); do
		rm -f "$W/o" "$W/s"
		if moat_as cp race:/w/link/secret "$W/o" 2>/dev/null; then
			out=$(cat "$W/o")
			case $out in
			ctr-root | ctr-d | ctr-etc) [[ $seen == *"$out"* ]] || seen="$seen $out" ;;
			*) fail "copy $i read something the container does not have: $out" ;;
			esac
		fi
		if moat_as cp race:/w/link/shadow "$W/s" 2>/dev/null; then
			out=$(cat "$W/s")
			[[ $out == ctr-* ]] || fail "copy $i read a host file: $(head -c 200 "$W/s")"
			[[ -z $shadow || $out != "$shadow" ]] || fail "copy $i read the host's /etc/shadow"
		fi
		moat_as cp "$W/in" "race:/w/link/$PLANT-$i" 2>/dev/null || true
		if ((i % 10 == 0)); then
			moat_as cp "$W/tree" "race:/w/link/$PLANT-tree-$i" 2>/dev/null || true
		fi
	done
	assert_host_untouched
	# the race was real: reads through the link found different targets
	[[ $(wc -w <<<"$seen") -ge 2 ]] || fail "the link never changed under the copies (saw:$seen)"
	# and the copies in landed inside the container
	run moat_as exec race sh -c "ls / /tmp/d /etc | grep -c '^$PLANT-'"
	assert_success
	[[ $output -ge 1 ]] || fail "no copy in succeeded"
}

@test "cp - : a crafted tar cannot climb out or write through a symlink it planted" {
	attacker tarbox "mkdir -p /tmp/dst"
	python3 - "$W/evil.tar" "$PLANT" <<'PY'
import io, sys, tarfile
out, plant = sys.argv[1], sys.argv[2]
def add(t, name, data=b"x", kind=tarfile.REGTYPE, link=""):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.linkname = link
    i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(out + ".dotdot", "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "../../../../../../tmp/" + plant + "-dotdot")
with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
    add(t, "l", kind=tarfile.SYMTYPE, link="/etc")
    add(t, "l/" + plant + "-through")
PY
	chmod 0644 "$W/evil.tar" "$W/evil.tar.dotdot"
	run --separate-stderr bash -c "$(moat_cmdline cp - tarbox:/tmp/dst) <'$W/evil.tar.dotdot'"
	assert_failure 1
	[[ $stderr == *'unsafe entry name'* ]] || fail "stderr: $stderr"
	run --separate-stderr bash -c "$(moat_cmdline cp - tarbox:/tmp/dst) <'$W/evil.tar'"
	assert_failure 1
	[[ $stderr == *'refusing to copy through it'* ]] || fail "stderr: $stderr"
	run moat_as exec tarbox sh -c "ls /etc /tmp / | grep -c '$PLANT' || true"
	assert_output "0"
	assert_host_untouched
}
