#!/bin/sh
# `make demo`: builds the demo image from the host's busybox-static if it is
# missing, then runs a container from it. Root runs it with container ids
# mapped to an unprivileged range; a normal user runs it rootless.
set -eu
MOAT=${MOAT:-build/moat}
if ! "$MOAT" images -q demo >/dev/null 2>&1 || [ -z "$("$MOAT" images -q demo 2>/dev/null)" ]; then
	echo "demo: building the demo image from /bin/busybox"
	"$MOAT" demo-image --tag demo
fi
echo "demo: moat run --rm demo echo hello from moat"
"$MOAT" run --rm demo echo hello from moat
