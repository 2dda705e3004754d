#!/bin/sh
# Runs every unit test binary in DIR; prints "LABEL: N passed, N failed".
set -u
dir=$1 label=$2
pass=0 fail=0
for t in "$dir"/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or a sanitizer stopped it
	fi
	if [ "$rc" -ne 0 ]; then
		printf '%s\n' "$out" | tail -40
		echo "$label: $(basename "$t") FAILED (exit $rc)"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
