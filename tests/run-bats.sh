#!/bin/sh
# tests/run-bats.sh SUITE - runs tests/SUITE/*.bats once as root and once
# rootless (as the user tests/lib/setup-user.sh creates), and prints one
# summary line per run:
#
#   SUITE/root: N passed, N failed, N skipped
#
# Exit status is non-zero if any test failed, if a run executed no test, or
# if bats did not report every test its plan announced (a crash mid-file).
# Skips print their reason and never count as passed.
#
# MOAT_TEST_IDENTITIES="root rootless" (the default) picks the runs.
set -u

suite=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)

case "$suite" in
integration | escape) ;;
*)
	echo "usage: $0 integration|escape" >&2
	exit 2
	;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "run-bats.sh: must run as root (the rootless run switches to the test user with runuser)" >&2
	exit 2
fi
command -v bats >/dev/null || {
	echo "run-bats.sh: bats is not installed" >&2
	exit 2
}
for f in "$repo/build/moat" "$repo/build/probe"; do
	[ -x "$f" ] || {
		echo "run-bats.sh: $f is missing: run make && make probe" >&2
		exit 2
	}
done
ls "$repo/tests/$suite"/*.bats >/dev/null 2>&1 || {
	echo "run-bats.sh: no tests in tests/$suite" >&2
	exit 2
}

logdir=$(mktemp -d /tmp/moat-bats-log.XXXXXX)
trap 'rm -rf "$logdir"' EXIT
status=0
summary=""

for ident in ${MOAT_TEST_IDENTITIES:-root rootless}; do
	if [ "$ident" = rootless ]; then
		sh "$here/lib/setup-user.sh" || {
			echo "run-bats.sh: setup-user.sh failed" >&2
			status=1
			summary="$summary$suite/$ident: setup failed
"
			continue
		}
	fi
	log="$logdir/$ident.tap"
	echo "# ---- $suite as $ident ----"
	(cd "$repo" && MOAT_TEST_IDENTITY=$ident bats --tap "tests/$suite") 2>&1 | tee "$log"

	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$log" | head -n 1)
	skipped=$(grep -c '^ok [0-9][0-9]* .* # skip' "$log")
	okall=$(grep -c '^ok [0-9]' "$log")
	failed=$(grep -c '^not ok [0-9]' "$log")
	passed=$((okall - skipped))
	line="$suite/$ident: $passed passed, $failed failed, $skipped skipped"
	total=$((okall + failed))
	if [ "$failed" -gt 0 ]; then
		status=1
	fi
	if [ "$passed" -eq 0 ]; then
		line="$line (no test ran)"
		status=1
	fi
	if [ -z "$plan" ] || [ "$plan" -ne "$total" ]; then
		line="$line (bats planned ${plan:-?} tests but reported $total)"
		status=1
	fi
	reasons=$(sed -n 's/^ok [0-9][0-9]* \(.*\) # skip\(.*\)$/    skipped: \1:\2/p' "$log")
	summary="$summary$line
"
	if [ -n "$reasons" ]; then
		summary="$summary$reasons
"
	fi
done

echo "# ---- summary ----"
printf '%s' "$summary"
exit $status
