#!/bin/sh
# `make demo`: builds the demo image from the host's busybox-static if it is
# missing, then runs a container from it. Root runs it with container ids
# mapped to an unprivileged range; a normal user runs it rootless.
set -eu
MOAT=${MOAT:-build/moat}
# Always (it takes a moment): an image left by an older moat has no local
# signature, and building it again adds one.
echo "demo: building the demo image from /bin/busybox (signed with the local key)"
"$MOAT" demo-image --tag demo
echo "demo: moat run --rm demo echo hello from moat"
"$MOAT" run --rm demo echo hello from moat
