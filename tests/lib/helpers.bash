# tests/lib/helpers.bash - shared setup for the integration and escape suites.
#
# Every .bats file does `load ../lib/helpers`.  What that gives it:
#
#  - MOAT_TEST_IDENTITY=root|rootless (run-bats.sh runs both): `moat_as`
#    runs moat as root, or as the unprivileged user moattest through
#    runuser, each with its own state directories (MOAT_ROOT/MOAT_RUNROOT
#    under one mktemp dir per file);
#  - the binaries under test, build/moat and build/probe, are COPIED into
#    that dir, owned by root and mode 0755: the test user can reach them
#    even when /work is not traversable, cannot overwrite them, and an
#    escape test that corrupts "the host binary" corrupts a copy whose
#    hash the test checks, never the build tree;
#  - the test image "probe" (moat demo-image + /probe) once per file;
#  - after every test, a check that nothing was left behind: no mount that
#    mentions the state dir, no moat or container process, no container
#    state.  A leak fails the test that caused it, then is cleaned up so
#    the next test starts clean.

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

MOAT_REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
MOAT_BUILD=${MOAT_BUILD:-$MOAT_REPO/build/moat}
PROBE_BUILD=${PROBE_BUILD:-$MOAT_REPO/build/probe}
MKIMAGE=$MOAT_REPO/tests/lib/mkimage.py
MOAT_TEST_IDENTITY=${MOAT_TEST_IDENTITY:-root}
MOAT_TEST_USER=${MOAT_TEST_USER:-moattest}
MOAT_TEST_USER2=${MOAT_TEST_USER2:-moattest2}
MOAT_ENV_EXTRA=${MOAT_ENV_EXTRA:-}
MOAT_WRAP=${MOAT_WRAP:-}
IMG=probe

# The contract's numbers.
ROOT_ID_BASE=2147418112 # 0x7fff0000: container 0 as seen on the host, as root
ID_RANGE=65536
# CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
# NET_BIND_SERVICE SYS_CHROOT SETFCAP = bits 0 1 3 4 5 6 7 8 10 18 31
CAPS_DEFAULT=00000000800405fb
CAPS_NONE=0000000000000000

is_root_identity() { [[ $MOAT_TEST_IDENTITY == root ]]; }
is_rootless() { [[ $MOAT_TEST_IDENTITY == rootless ]]; }

# ---- running things as the identity under test ----

user_uid() { id -u "$1"; }
user_home() { getent passwd "$1" | cut -d: -f6; }

# moat_as_user USER STATE ARGS...: moat as USER with state under STATE.
# MOAT_ENV_EXTRA ("K=V ...") adds environment, MOAT_WRAP ("timeout 60")
# a command in front of moat (both split on spaces).
moat_as_user() {
	local user=$1 state=$2
	shift 2
	if [[ $user == root ]]; then
		env MOAT_ROOT="$state/root" MOAT_RUNROOT="$state/run" \
			MOAT_AUDIT_LOG="${MOAT_AUDIT_LOG_OVERRIDE:-$state/audit/audit.log}" \
			${MOAT_AUDIT_FAIL_OPEN:+MOAT_AUDIT_FAIL_OPEN="$MOAT_AUDIT_FAIL_OPEN"} \
			${MOAT_AUDIT_KEY:+MOAT_AUDIT_KEY="$MOAT_AUDIT_KEY"} \
			${MOAT_OVERLAY:+MOAT_OVERLAY="$MOAT_OVERLAY"} \
			${MOAT_NO_OPENAT2:+MOAT_NO_OPENAT2="$MOAT_NO_OPENAT2"} \
			${DOCKER_CONFIG:+DOCKER_CONFIG="$DOCKER_CONFIG"} \
			${MOAT_REGISTRIES_CONF:+MOAT_REGISTRIES_CONF="$MOAT_REGISTRIES_CONF"} \
			${MOAT_REGISTRY_TIMEOUT:+MOAT_REGISTRY_TIMEOUT="$MOAT_REGISTRY_TIMEOUT"} \
			${MOAT_TRUST_POLICY:+MOAT_TRUST_POLICY="$MOAT_TRUST_POLICY"} \
			$MOAT_ENV_EXTRA $MOAT_WRAP "$MOAT" "$@"
	else
		runuser -u "$user" -- env -i \
			PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
			HOME="$(user_home "$user")" USER="$user" LOGNAME="$user" \
			${TERM:+TERM="$TERM"} \
			${MOAT_NO_OPENAT2:+MOAT_NO_OPENAT2="$MOAT_NO_OPENAT2"} \
			${MOAT_OVERLAY:+MOAT_OVERLAY="$MOAT_OVERLAY"} \
			XDG_RUNTIME_DIR="$state/xdg" \
			MOAT_ROOT="$state/root" MOAT_RUNROOT="$state/run" \
			MOAT_AUDIT_LOG="${MOAT_AUDIT_LOG_OVERRIDE:-$state/audit/audit.log}" \
			${MOAT_AUDIT_FAIL_OPEN:+MOAT_AUDIT_FAIL_OPEN="$MOAT_AUDIT_FAIL_OPEN"} \
			${MOAT_AUDIT_KEY:+MOAT_AUDIT_KEY="$MOAT_AUDIT_KEY"} \
			${DOCKER_CONFIG:+DOCKER_CONFIG="$DOCKER_CONFIG"} \
			${MOAT_REGISTRIES_CONF:+MOAT_REGISTRIES_CONF="$MOAT_REGISTRIES_CONF"} \
			${MOAT_REGISTRY_TIMEOUT:+MOAT_REGISTRY_TIMEOUT="$MOAT_REGISTRY_TIMEOUT"} \
			${MOAT_TRUST_POLICY:+MOAT_TRUST_POLICY="$MOAT_TRUST_POLICY"} \
			$MOAT_ENV_EXTRA $MOAT_WRAP "$MOAT" "$@"
	fi
}

# moat as the identity under test.
moat_as() {
	if is_root_identity; then
		moat_as_user root "$MOAT_STATE" "$@"
	else
		moat_as_user "$MOAT_TEST_USER" "$MOAT_STATE" "$@"
	fi
}

# `moat run --rm ...`: every test container is removed (there is no `rm`
# verb yet), so a leftover is always a leak.
mrun() { moat_as run --rm "$@"; }

# The same moat invocation as one shell-quoted string (for `script -c`).
moat_cmdline() {
	local -a cmd
	if is_root_identity; then
		cmd=(env MOAT_ROOT="$MOAT_STATE/root" MOAT_RUNROOT="$MOAT_STATE/run"
			MOAT_AUDIT_LOG="${MOAT_AUDIT_LOG_OVERRIDE:-$MOAT_STATE/audit/audit.log}" "$MOAT" "$@")
	else
		cmd=(runuser -u "$MOAT_TEST_USER" -- env -i
			PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
			HOME="$(user_home "$MOAT_TEST_USER")" TERM="${TERM:-xterm}"
			XDG_RUNTIME_DIR="$MOAT_STATE/xdg"
			MOAT_ROOT="$MOAT_STATE/root" MOAT_RUNROOT="$MOAT_STATE/run"
			MOAT_AUDIT_LOG="${MOAT_AUDIT_LOG_OVERRIDE:-$MOAT_STATE/audit/audit.log}" "$MOAT" "$@")
	fi
	printf '%q ' "${cmd[@]}"
}

# Any host command as the identity under test (the "attacker next door").
as_identity() {
	if is_root_identity; then
		"$@"
	else
		runuser -u "$MOAT_TEST_USER" -- "$@"
	fi
}

# The host uid that container uid 0 runs as.
host_uid_of_container_root() {
	if is_root_identity; then
		echo "$ROOT_ID_BASE"
	else
		user_uid "$MOAT_TEST_USER"
	fi
}

# ---- reading probe output ----

# After `run script ...`: drop the pty's carriage returns from $output and
# $lines (bats-assert's assert_line reads $lines).
strip_cr() {
	output=${output//$'\r'/}
	mapfile -t lines <<<"$output"
}

# status_value FIELD: the value of "FIELD: value" in $output.
status_value() {
	sed -n "s/^$1: //p" <<<"$output" | head -n 1
}

# assert_probe_line NAME ACTUAL: the probe's line for NAME has actual=ACTUAL.
assert_probe_line() {
	local line
	line=$(grep -E "^$1 expected=" <<<"$output" | head -n 1)
	[[ -n $line ]] || fail "probe printed no line for $1"$'\n'"$output"
	[[ $line == *" actual=$2 "* ]] || fail "$1: expected actual=$2, got: $line"
}

# assert_probe_ok NAME: the probe's own verdict for NAME is ok.
assert_probe_ok() {
	local line
	line=$(grep -E "^$1 expected=" <<<"$output" | head -n 1)
	[[ -n $line ]] || fail "probe printed no line for $1"$'\n'"$output"
	[[ $line == *" ok" ]] || fail "$line"
}

# probe_actual NAME: the actual= value of NAME's line in $output.
probe_actual() {
	grep -E "^$1 expected=" <<<"$output" | head -n 1 | sed -n 's/.* actual=\([^ ]*\) .*/\1/p'
}

# assert_error_line: moat failed with exactly one "moat: ..." line on
# stderr (use with `run --separate-stderr`).
assert_one_error_line() {
	local n
	n=$(grep -c . <<<"$stderr" || true)
	[[ $n -eq 1 ]] || fail "expected one line on stderr, got $n:"$'\n'"$stderr"
	[[ $stderr == "moat: "* ]] || fail "stderr does not start with 'moat: ': $stderr"
}

# ---- processes ----

# pids_with_arg ARGV0 WORD: host pids whose argv[0] is ARGV0 and whose
# command line contains WORD.
pids_with_arg() {
	local p a
	local -a args
	for p in /proc/[0-9]*; do
		args=()
		mapfile -d '' -t args 2>/dev/null <"$p/cmdline" || continue
		[[ ${#args[@]} -gt 0 && ${args[0]} == "$1" ]] || continue
		for a in "${args[@]:1}"; do
			if [[ $a == "$2" ]]; then
				echo "${p#/proc/}"
				break
			fi
		done
	done
	return 0
}

# wait_for_pid ARGV0 WORD [SECONDS]: waits until such a process exists and
# prints its pid (the first one).
wait_for_pid() {
	local i pids
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		pids=$(pids_with_arg "$1" "$2")
		if [[ -n $pids ]]; then
			head -n 1 <<<"$pids"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# kill_marker MK: SIGKILL the container processes (argv[0] /probe) that
# carry marker MK.
kill_marker() {
	local p
	for p in $(pids_with_arg /probe "$1"); do
		kill -KILL "$p" 2>/dev/null || true
	done
}

# A unique word to find a test's processes by.
marker() { echo "mk$$x$RANDOM$RANDOM"; }

# ---- leak checks ----

# Prints one line per thing left behind.  Processes count as ours only when
# that is certain, because other people's containers may run on the same
# host as the same users: argv[0] is this file's private copy of moat, or
# the process lives in another mount namespace whose mount table names this
# file's state dir (moat bind-mounts /etc/hosts from RUNROOT/containers/ID).
moat_leaks() {
	local p pid a0
	grep -F -- "$MOAT_T/" /proc/self/mountinfo | sed 's/^/mount: /'
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		a0=
		IFS= read -r -d '' a0 2>/dev/null <"$p/cmdline"
		if [[ -n $a0 && $a0 == "$MOAT" ]]; then
			echo "process: $pid $a0"
			continue
		fi
		# -ef compares the namespaces' inodes without forking
		[[ -e $p/ns/mnt && ! $p/ns/mnt -ef /proc/self/ns/mnt ]] || continue
		if grep -qF -- "$MOAT_T/" "$p/mountinfo" 2>/dev/null; then
			echo "process: $pid ${a0:-?} (container)"
		fi
	done
	if [[ -d $MOAT_STATE/root/containers ]]; then
		find "$MOAT_STATE/root/containers" -mindepth 1 -maxdepth 1 | sed 's/^/state: /'
	fi
	if [[ -d $MOAT_STATE/run ]]; then
		find "$MOAT_STATE/run" -mindepth 1 -regextype posix-extended \
			-regex '.*/[0-9a-f]{12,}[^/]*' | sed 's/^/state: /'
	fi
	return 0
}

# Removes what moat_leaks found (processes by their pid, and only those
# moat_leaks proved to be this file's).
moat_clean_leaks() {
	local kind rest pid
	while read -r kind rest; do
		case $kind in
		process:)
			pid=${rest%% *}
			kill -KILL "$pid" 2>/dev/null || true
			;;
		esac
	done <<<"$1"
	sleep 0.3
	grep -F -- "$MOAT_T/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	while read -r kind rest; do
		[[ $kind == state: ]] && rm -rf -- "$rest"
	done <<<"$1"
	return 0
}

# After each test: fail it if it left anything behind.
moat_check_clean() {
	local leaks
	leaks=$(moat_leaks)
	if [[ -n $leaks ]]; then
		moat_clean_leaks "$leaks"
		echo "# left behind after '$BATS_TEST_DESCRIPTION':" >&2
		sed 's/^/#   /' <<<"$leaks" >&2
		return 1
	fi
}

# ---- per-file setup ----

moat_setup_file() {
	if [[ ! -x $MOAT_BUILD ]]; then
		echo "# $MOAT_BUILD is missing: run make" >&3
		return 1
	fi
	if [[ ! -x $PROBE_BUILD ]]; then
		echo "# $PROBE_BUILD is missing: run make probe" >&3
		return 1
	fi
	if [[ $(id -u) != 0 ]]; then
		echo "# the suites run as root (rootless runs switch user with runuser)" >&3
		return 1
	fi
	MOAT_T=$(mktemp -d /tmp/moat-bats.XXXXXX)
	chmod 0755 "$MOAT_T"
	install -d -m 0755 -o root -g root "$MOAT_T/bin"
	install -m 0755 -o root -g root "$MOAT_BUILD" "$MOAT_T/bin/moat"
	install -m 0755 -o root -g root "$PROBE_BUILD" "$MOAT_T/bin/probe"
	# files tests hand to moat (image tars), readable by the test user
	install -d -m 1777 "$MOAT_T/scratch"
	# host paths an attack would reach: world-writable, so that a broken
	# engine really could write there whatever its identity
	install -d -m 0777 "$MOAT_T/victim"
	MOAT_STATE=$MOAT_T/state
	if is_rootless; then
		if ! id "$MOAT_TEST_USER" >/dev/null 2>&1; then
			echo "# user $MOAT_TEST_USER missing: run tests/lib/setup-user.sh" >&3
			return 1
		fi
		install -d -m 0700 -o "$MOAT_TEST_USER" -g "$(id -g "$MOAT_TEST_USER")" \
			"$MOAT_STATE" "$MOAT_STATE/xdg"
	else
		install -d -m 0700 "$MOAT_STATE"
	fi
	export MOAT_T MOAT_STATE
	export MOAT=$MOAT_T/bin/moat PROBE=$MOAT_T/bin/probe
	export MOAT_TEST_IDENTITY

	local out
	if ! out=$(moat_as demo-image --tag "$IMG" --add "$PROBE:/probe" 2>&1); then
		echo "# moat demo-image failed: $out" >&3
		return 1
	fi
}

moat_teardown_file() {
	[[ -n ${MOAT_T:-} && -d $MOAT_T ]] || return 0
	local leaks
	leaks=$(moat_leaks)
	[[ -z $leaks ]] || moat_clean_leaks "$leaks"
	grep -F -- "$MOAT_T/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf -- "$MOAT_T"
}

# A second user's own state (for moattest2).
make_user_state() {
	local user=$1 dir=$MOAT_T/state-$1
	install -d -m 0700 -o "$user" -g "$(id -g "$user")" "$dir" "$dir/xdg"
	echo "$dir"
}

# mkimage ARGS...: builds an image tar in scratch (readable by the test
# user); prints its path.  The config digest goes to $MOAT_T/scratch/NAME.id.
mkimage() {
	local out=$1
	shift
	python3 "$MKIMAGE" "$MOAT_T/scratch/$out" "$@" >"$MOAT_T/scratch/$out.id" || return 1
	chmod 0644 "$MOAT_T/scratch/$out"
	echo "$MOAT_T/scratch/$out"
}

# A listing of the files moat keeps under ROOT (not directories, not
# locks): what "nothing left behind" compares.
store_files() {
	find "$MOAT_STATE/root" \( -type f -o -type l \) ! -name '*.lock' ! -name 'lock' \
		-printf '%P\n' 2>/dev/null | sort
}

# Defaults; a file that needs more defines its own and calls these.
setup_file() { moat_setup_file; }
teardown_file() { moat_teardown_file; }
teardown() { moat_check_clean; }
