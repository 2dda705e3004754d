#!/bin/sh
# Builds every fuzz/*_fuzz.c with libFuzzer + ASan + UBSan and runs each
# briefly over its seed corpus (FUZZ_SECONDS, default 20).
set -u
secs=${FUZZ_SECONDS:-15}
out=build-fuzz
mkdir -p "$out"
PKGS="libseccomp libcap-ng libarchive jansson libcurl libmnl"
SRC=$(ls common/*.c policy/*.c image/*.c sandbox/*.c audit/*.c volume/*.c net/*.c engine/*.c 2>/dev/null)
pass=0 fail=0
make -s build/gen/default_profile.c >/dev/null
# The tree is compiled once (instrumented for coverage and sanitizers) into
# one archive; each harness is compiled alone and linked against it.
CFL="-std=gnu17 -D_GNU_SOURCE -I. -g -O1 -fno-sanitize-recover=undefined $(pkg-config --cflags $PKGS)"
mkdir -p "$out/obj"
objs=""
for c in $SRC build/gen/default_profile.c; do
	o="$out/obj/$(echo "$c" | tr / _).o"
	objs="$objs $o"
	if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find common image sandbox audit volume net engine policy -name '*.h' -newer "$o" 2>/dev/null | head -n 1)" ]; then
		# shellcheck disable=SC2086
		clang $CFL -fsanitize=fuzzer-no-link,address,undefined -c "$c" -o "$o" 2>>"$out/lib.build.log" || {
			tail -20 "$out/lib.build.log"
			echo "fuzz: the tree FAILED to build for fuzzing"
			exit 1
		}
	fi
done
rm -f "$out/libmoat-fuzz.a"
# shellcheck disable=SC2086
ar rcs "$out/libmoat-fuzz.a" $objs
# FUZZ_ONLY=NAME runs one harness (fuzz/NAME_fuzz.c).
for h in fuzz/${FUZZ_ONLY:-*}_fuzz.c; do
	[ -f "$h" ] || continue
	name=$(basename "$h" .c)
	bin=$out/$name
	# shellcheck disable=SC2086
	if ! clang $CFL -fsanitize=fuzzer,address,undefined "$h" "$out/libmoat-fuzz.a" \
		$(pkg-config --libs $PKGS) -o "$bin" 2>"$out/$name.build.log"; then
		cat "$out/$name.build.log" | tail -20
		echo "fuzz: $name FAILED to build"
		fail=$((fail + 1))
		continue
	fi
	corpus=fuzz/corpus/${name%_fuzz}
	work=$out/$name.corpus
	rm -rf "$work"
	mkdir -p "$work"
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "fuzz: $name has no seed corpus in $corpus"
		fail=$((fail + 1))
		continue
	fi
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		"$work" "$corpus" >"$out/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
		echo "fuzz: $name ok (${runs:-?} runs in ${secs}s)"
		pass=$((pass + 1))
	else
		tail -30 "$out/$name.log"
		echo "fuzz: $name FAILED (crash or leak; see $out/$name.log)"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
