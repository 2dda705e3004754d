#!/bin/sh
# `make check`: build, unit tests, the same under ASan+UBSan, integration and
# escape suites (as root and as an unprivileged user), a format check, and a
# short run of every fuzz harness. One summary line per suite; fails if any
# suite fails or runs no test.
set -u
cd "$(dirname "$0")/.."
status=0
summary=""
total_pass=0 total_fail=0 total_skip=0
run() {
	name=$1
	shift
	log=build/check-$name.log
	mkdir -p build
	echo "=== $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -E '^[a-z/ -]*: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 20)
	p=$(printf '%s\n' "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p' | awk '{s+=$1} END {print s+0}')
	k=$(printf '%s\n' "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p' | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ]; then
		status=1
		[ "$f" -eq 0 ] && f=1
		summary="$summary\n$name: FAILED ($p passed, $f failed)"
	else
		summary="$summary\n$name: ok ($p passed, $f failed, $k skipped)"
	fi
	total_skip=$((total_skip + k))
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}
run build make -j2 all probe
run build-clang make -j2 CC=clang B=build-clang build-clang/moat
run unit make -j2 unit
run unit-asan make -j2 unit-asan
run integration make integration
run escape make escape
run format make format-check
run fuzz make fuzz
printf "\n=== summary%b\n" "$summary"
# Skipped tests are not counted as passed; run-bats.sh lists each reason.
echo "check: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $status
