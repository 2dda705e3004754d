#!/usr/bin/env bats
# Layer extraction runs in a confined child (design.md principle 4;
# image/layer_confine.c): while `moat load` extracts a large layer, the
# child is found by its comm ("moat-extract", among the load's
# descendants) and checked from outside
# through /proc:
#  - Seccomp: 2 (a filter) and NoNewPrivs: 1;
#  - another network namespace than the host's (no network at all);
#  - capabilities cut to CHOWN DAC_OVERRIDE FOWNER FSETID SETFCAP, the
#    bounding set too;
#  - stdin/stdout on /dev/null and no fds but the blob, the layer tree,
#    stderr and its result pipe;
#  - rootless: another user namespace as well.
# Landlock is not visible in /proc/<pid>/status on 6.x kernels and a
# domain cannot be inspected from outside, so the Landlock walls are
# checked from inside the child by tests/unit/test_image.c
# (test_confine_walls: /etc/passwd unreadable, no file created outside
# the layer, "/" not listable), which also checks socket/execve/fork/
# ptrace are refused.
#
# The layer is tens of thousands of empty files (gzip: small to store,
# slow enough to extract that the child is there to be looked at).

load ../lib/helpers

# CHOWN(0) DAC_OVERRIDE(1) FOWNER(3) FSETID(4) SETFCAP(31)
CAPS_EXTRACT=000000008000001b
NFILES=${EXTRACT_TEST_FILES:-60000}

# A loadable image whose second layer holds NFILES empty files.
big_image() {
	local out=$MOAT_T/scratch/$1
	python3 - "$out" "$NFILES" <<-'EOF' >"$out.id" || return 1
		import sys
		out, n = sys.argv[1], int(sys.argv[2])
		import os
		sys.path.insert(0, os.environ["MKIMAGE_DIR"])
		import mkimage
		orig = mkimage.base_layer
		def base(*a):
		    entries = orig(*a)
		    for d in range(100):
		        entries.append((mkimage.ti_dir("many/%d" % d), None))
		    for i in range(n):
		        entries.append(mkimage.ti_file("many/%d/f%d" % (i % 100, i), b""))
		    return entries
		mkimage.base_layer = base
		sys.argv = ["mkimage.py", out, "--name", "bigload", "--tag", "v1", "--gzip"]
		mkimage.main()
	EOF
	chmod 0644 "$out"
	echo "$out"
}

# Whether pid $1 descends from pid $2 (other suites may be extracting
# layers on this machine at the same time).
descends_from() {
	local p=$1
	while [[ -n $p && $p -gt 1 ]]; do
		[[ $p == "$2" ]] && return 0
		p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
	done
	return 1
}

# The pid of our load's extraction child (the load is pid $1), waiting up
# to ~60 s for one to appear. The child takes its name just before its
# last confinement step.
find_extractor() {
	local i pid
	for ((i = 0; i < 6000; i++)); do
		for pid in $(pgrep -x moat-extract); do
			if descends_from "$pid" "$1"; then
				echo "$pid"
				return 0
			fi
		done
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.01
	done
	return 1
}

@test "extract-confined: the extraction child is seccomp'd, no_new_privs, in its own netns, with few caps and fds" {
	local tar loadpid pid status netns hostns userns hostuserns fds
	tar=$(MKIMAGE_DIR=$MOAT_REPO/tests/lib big_image big.tar)
	moat_as load --trust-local -i "$tar" >"$MOAT_T/scratch/load.out" 2>&1 &
	loadpid=$!
	pid=$(find_extractor "$loadpid") || {
		wait "$loadpid"
		fail "no moat-extract process appeared: $(cat "$MOAT_T/scratch/load.out")"
	}
	# Read everything in one go: the child may finish at any moment. Its
	# name is set microseconds before the seccomp filter is loaded: a
	# status caught in between is read again once.
	status=$(cat "/proc/$pid/status" 2>/dev/null) || true
	if ! grep -q '^Seccomp:[[:space:]]*2$' <<<"$status"; then
		sleep 0.05
		status=$(cat "/proc/$pid/status" 2>/dev/null) || status=
	fi
	netns=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || true
	userns=$(readlink "/proc/$pid/ns/user" 2>/dev/null) || true
	fds=$(ls -l "/proc/$pid/fd/" 2>/dev/null) || true
	hostns=$(readlink /proc/self/ns/net)
	hostuserns=$(readlink /proc/self/ns/user)
	wait "$loadpid" || fail "load failed: $(cat "$MOAT_T/scratch/load.out")"
	[[ -n $status && -n $netns ]] || skip "the child exited before it could be read (raise EXTRACT_TEST_FILES)"

	grep -q '^Name:[[:space:]]*moat-extract$' <<<"$status" || fail "not the child: $status"
	grep -q '^Seccomp:[[:space:]]*2$' <<<"$status" || fail "no seccomp filter: $(grep ^Seccomp <<<"$status")"
	grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$status" || fail "no_new_privs not set"
	[[ $netns != "$hostns" ]] || fail "extraction shares the host network namespace ($netns)"
	grep -q "^CapEff:[[:space:]]*$CAPS_EXTRACT$" <<<"$status" ||
		fail "effective caps: $(grep ^CapEff <<<"$status")"
	grep -q "^CapBnd:[[:space:]]*$CAPS_EXTRACT$" <<<"$status" ||
		fail "bounding set: $(grep ^CapBnd <<<"$status")"
	if is_rootless; then
		[[ $userns != "$hostuserns" ]] || fail "rootless extraction in the host user namespace"
	fi
	# 0 and 1 are /dev/null; besides stderr and the result pipe only the
	# blob and the layer tree (a staging dir of the store) are open:
	# nothing the parent had (the store lock, the audit log, sockets).
	[[ $(grep -c ' 0 -> /dev/null$' <<<"$fds") -eq 1 && $(grep -c ' 1 -> /dev/null$' <<<"$fds") -eq 1 ]] ||
		fail "stdin/stdout not /dev/null: $fds"
	while read -r line; do
		case ${line##* -> } in
		/dev/null | pipe:* | "$MOAT_T/scratch/load.out" | "$MOAT_STATE"/*/tmp/txn-*) ;;
		*) fail "the child holds an fd it should not: $line" ;;
		esac
	done < <(grep -- ' -> ' <<<"$fds")

	run moat_as images
	assert_output --partial bigload
	moat_as rmi bigload:v1
}

@test "extract-confined: the layer still extracts whole (all files, in both modes)" {
	local tar
	NFILES=300
	tar=$(MKIMAGE_DIR=$MOAT_REPO/tests/lib big_image small.tar)
	moat_as load --trust-local -i "$tar"
	run mrun bigload:v1 sh -c 'ls /many/7 | wc -l; ls /many | wc -l'
	assert_success
	assert_output "3
100"
	moat_as rmi bigload:v1
}
