#!/bin/sh
# tests/lib/setup-user.sh - the unprivileged identities the rootless runs use.
#
# Run as root, any number of times:
#   moattest   a login user with subordinate ids moattest:100000:65536 in
#              /etc/subuid and /etc/subgid (the "subuid" identity mode);
#   moattest2  a login user with NO subordinate ids (the "subuid missing"
#              error and the "single" mode).
# Debian's useradd hands out subordinate ranges to new users by itself
# (SUB_UID_COUNT in login.defs), so moattest2's are removed explicitly.
set -eu

[ "$(id -u)" = 0 ] || { echo "setup-user.sh: must run as root" >&2; exit 1; }

ensure_user() {
	id "$1" >/dev/null 2>&1 || useradd -m -s /bin/sh "$1"
}

ensure_user moattest
ensure_user moattest2

for f in /etc/subuid /etc/subgid; do
	[ -e "$f" ] || : >"$f"
	if ! grep -q '^moattest:' "$f"; then
		echo 'moattest:100000:65536' >>"$f"
	fi
	if grep -q '^moattest2:' "$f"; then
		sed -i '/^moattest2:/d' "$f"
	fi
done

# newuidmap must be able to act for moattest (setuid root or file caps).
for h in newuidmap newgidmap; do
	p=$(command -v "$h" || true)
	if [ -z "$p" ]; then
		echo "setup-user.sh: warning: $h not installed; the subuid mode cannot work" >&2
	fi
done
exit 0
