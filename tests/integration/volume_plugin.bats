#!/usr/bin/env bats
# Volume plugins (volume/plugin.c, engine/volumes.c, engine/mounts.c) end to
# end: the real CLI against the suite's own plugin, tests/lib/volplugin.py,
# as root and rootless.
#
# The plugin runs as the identity under test (rootless: as the test user,
# through setpriv, so its socket, state and mountpoints are that user's),
# one per test, with its own discovery directory named by
# MOAT_PLUGIN_PATH, its state under $PDIR/state and every request it got
# in $PLOG (one JSON line each). It is started by the test in the mode the
# test wants and stopped in teardown. What the tests read from the log is
# the protocol as the plugin saw it: which calls, with which Name, Opts
# and mount ID, in which order.
#
# Every test removes the containers it made; a container left behind
# fails the test in teardown (after removing it), like a leaked mount or
# process does in the leak check, and so does an Unmount still pending
# (RUNROOT/plugin-unmounts): every test ends with the plugin holding no
# mount moat owes it.

# Each @test is a subshell: what a test sets (MOAT_ENV_EXTRA, PLUG) is
# meant to stay in it.
# shellcheck disable=SC2030,SC2031
load ../lib/helpers

# shellcheck disable=SC2034 # read by moat_as_user (helpers.bash)
MOAT_WRAP="timeout -k 5 90"

PY=/usr/bin/python3
PLUG=volp

setup_file() {
	moat_setup_file || return 1
	# a copy the test user can read (/work need not be traversable)
	install -m 0644 -o root -g root "$MOAT_REPO/tests/lib/volplugin.py" "$MOAT_T/bin/volplugin.py"
}

setup() {
	PDIR=$MOAT_T/p$BATS_TEST_NUMBER
	mkdir_as "$PDIR" "$PDIR/plugins" "$PDIR/sock" "$PDIR/state" "$PDIR/state/mnt"
	PLOG=$PDIR/plugin.log
	PSOCK=$PDIR/plugins/$PLUG.sock
	PLUGIN_PID=
	# shellcheck disable=SC2034 # read by moat_as_user (helpers.bash)
	MOAT_ENV_EXTRA="MOAT_PLUGIN_PATH=$PDIR/plugins"
}

teardown() {
	local rc=0 ids left
	ids=$(moat_as ps -aq --no-trunc 2>/dev/null) || true
	if [[ -n $ids ]]; then
		echo "# containers left behind: $ids" >&2
		# shellcheck disable=SC2086
		moat_as rm -f $ids >/dev/null 2>&1 || true
		rc=1
	fi
	stop_plugin
	moat_check_clean || rc=1
	left=$(pending_files)
	if [[ -n $left ]]; then
		echo "# Unmounts left pending: $left" >&2
		rm -rf -- "$MOAT_STATE/run/plugin-unmounts"
		rc=1
	fi
	# the volume records, whatever the test left (not through moat: a test
	# may have failed because removal does not work)
	rm -rf -- "$MOAT_STATE/root/volumes"
	return $rc
}

# ---- helpers ----

# mkdir_as DIR...: directories owned by the identity under test.
mkdir_as() {
	if is_rootless; then
		install -d -m 0755 -o "$MOAT_TEST_USER" -g "$(id -g "$MOAT_TEST_USER")" "$@"
	else
		install -d -m 0755 "$@"
	fi
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_until() {
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

alive() { [[ -n $1 && -e /proc/$1 ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
sock_ready() { [[ -S $PSOCK ]]; }

# start_plugin MODE [ARGS...]: volplugin.py as the identity under test on
# $PSOCK; returns once the socket is there. Its pid is $PLUGIN_PID (a child
# of this shell, so `wait` gives its exit status).
start_plugin() {
	local mode=$1
	shift
	local -a cmd=("$PY" "$MOAT_T/bin/volplugin.py" --socket "$PSOCK" --state "$PDIR/state"
		--log "$PLOG" --mode "$mode" "$@")
	rm -f -- "$PSOCK"
	if is_rootless; then
		(cd "$PDIR" && exec setpriv --reuid="$(id -u "$MOAT_TEST_USER")" \
			--regid="$(id -g "$MOAT_TEST_USER")" --init-groups \
			env -i PATH=/usr/bin:/bin HOME="$PDIR" "${cmd[@]}") \
			>>"$PDIR/plugin.out" 2>&1 3>&- &
	else
		(cd "$PDIR" && exec "${cmd[@]}") >>"$PDIR/plugin.out" 2>&1 3>&- &
	fi
	PLUGIN_PID=$!
	if ! wait_until 10 sock_ready; then
		echo "# the plugin never made $PSOCK:" >&2
		cat "$PDIR/plugin.out" >&2
		return 1
	fi
	# made by the plugin itself, so the test user's from the start
	if is_rootless && [[ $(stat -c %U "$PSOCK") != "$MOAT_TEST_USER" ]]; then
		echo "# $PSOCK is not the test user's" >&2
		return 1
	fi
}

# stop_plugin: SIGTERM (it removes its socket), SIGKILL after 5 s.
stop_plugin() {
	local pid=$PLUGIN_PID
	PLUGIN_PID=
	[[ -n $pid ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 5 eval "! alive $pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# kill_plugin: SIGKILL, reaped; its socket stays behind with nobody
# listening on it.
kill_plugin() {
	local pid=$PLUGIN_PID
	PLUGIN_PID=
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

restart_plugin() {
	stop_plugin
	start_plugin "$@"
}

# calls METHOD [NAME]: the bodies of the plugin's VolumeDriver.METHOD
# requests (for volume NAME), one compact JSON object a line, keys sorted.
calls() {
	[[ -e $PLOG ]] || return 0
	jq -cS --arg m "VolumeDriver.$1" --arg n "${2:-}" \
		'select(.method == $m and ($n == "" or .body.Name == $n)) | .body' "$PLOG"
}
ncalls() { calls "$@" | grep -c . || true; }
# ids METHOD NAME: the mount IDs of those calls, one a line, in order.
ids() { calls "$1" "$2" | jq -r .ID; }
has_unmount() { ids Unmount "$1" | grep -qx "$2"; }
# log_lines: how many requests the plugin logged so far.
log_lines() { if [[ -e $PLOG ]]; then wc -l <"$PLOG"; else echo 0; fi; }
# methods_since N: the methods of the requests after the first N.
methods_since() { [[ ! -e $PLOG ]] || tail -n "+$(($1 + 1))" "$PLOG" | jq -r .method; }

# plugin_ids NAME: the mount IDs the plugin holds for NAME (its state),
# sorted, space-separated; "none" when it has no such volume.
plugin_ids() {
	jq -r --arg n "$1" 'if has($n) then (.[$n].IDs | sort | join(" ")) else "none" end' \
		"$PDIR/state/volumes.json"
}
plugin_has() { [[ $(plugin_ids "$1") != none ]]; }
plugin_ids_empty() { [[ -z $(plugin_ids "$1") ]]; }

# mountpoint_of NAME: where the plugin mounts NAME on the host.
mountpoint_of() { echo "$PDIR/state/mnt/$1"; }

# mp_prepare NAME: NAME's mountpoint made ahead, owned by the container's
# root (as root, container root is an unprivileged host uid: a plugin
# running as root would otherwise hand it a directory it cannot write).
mp_prepare() {
	install -d -m 0755 -o "$(host_uid_of_container_root)" -g "$(host_uid_of_container_root)" \
		"$(mountpoint_of "$1")"
}

# The Unmounts moat still owes (RUNROOT/plugin-unmounts/DRIVER/VOLUME, one
# mount id a line): pending_files lists the files; pending DRIVER VOLUME
# prints the ids of one, space-separated ("" when none).
pending_files() { find "$MOAT_STATE/run/plugin-unmounts" -type f 2>/dev/null; }
pending() {
	local f=$MOAT_STATE/run/plugin-unmounts/$1/$2
	if [[ -e $f ]]; then tr '\n' ' ' <"$f" | sed 's/ $//'; fi
}

# What `volume ls` lists, "DRIVER NAME" a line, sorted, one line.
vls() { moat_as volume ls --format '{{.Driver}} {{.Name}}' | sort | tr '\n' ';'; }

# No container record, no runtime dir (so no plugin-mounts file) left.
assert_no_container() {
	local left
	left=$(moat_as ps -aq --no-trunc)
	[[ -z $left ]] || fail "containers left: $left"
	left=$(find "$MOAT_STATE/run" -name plugin-mounts 2>/dev/null)
	[[ -z $left ]] || fail "plugin-mounts left: $left"
	left=$(find "$MOAT_STATE/root/containers" "$MOAT_STATE/run/containers" -mindepth 1 \
		-maxdepth 1 2>/dev/null)
	[[ -z $left ]] || fail "container state left: $left"
}

# The last line of $stderr.
last_err() { tail -n 1 <<<"$stderr"; }

# assert_last_err TEXT: the last stderr line is "moat: TEXT".
assert_last_err() {
	[[ $(last_err) == "moat: $1" ]] || fail "expected last stderr line 'moat: $1', got:"$'\n'"$stderr"
}

# kill_monitor ID: SIGKILL the monitor of ID (its init's parent).
kill_monitor() {
	local pid ppid a0
	pid=$(jq -r .pid "$MOAT_STATE/root/containers/$1/container.json")
	[[ $pid =~ ^[0-9]+$ && $pid -gt 1 ]] || return 1
	ppid=$(awk '{print $4}' "/proc/$pid/stat") || return 1
	IFS= read -r -d '' a0 <"/proc/$ppid/cmdline" || true
	[[ $a0 == "$MOAT" ]] || {
		echo "# the parent of $pid is '$a0', not moat" >&2
		return 1
	}
	kill -KILL "$ppid"
}

no_marker() { [[ -z $(pids_with_arg /probe "$1") ]]; }

# A plugin volume made in ok mode.
make_vol() {
	run --separate-stderr moat_as volume create -d "$PLUG" "$1"
	assert_success
	assert_output "$1"
	[[ -z $stderr ]] || fail "stderr: $stderr"
}

# ---- 1. create, ls, inspect, rm ----

@test "plugin: volume create -d sends Create{Name, Opts}; ls and inspect show it; rm sends Remove" {
	# a volume the plugin already has, which moat never created
	as_identity sh -c "printf '%s' '{\"foreign\": {\"Opts\": {}, \"CreatedAt\": \"2024-01-01T00:00:00+00:00\", \"IDs\": []}}' >'$PDIR/state/volumes.json'"
	start_plugin ok

	run --separate-stderr moat_as volume create -d "$PLUG" -o k=v -o size=10m -o k=w -o flag pv1
	assert_success
	assert_output pv1
	[[ -z $stderr ]] || fail "stderr: $stderr"
	# exactly one Create, with the options as a map (the last k wins)
	[[ $(calls Create) == '{"Name":"pv1","Opts":{"flag":"","k":"w","size":"10m"}}' ]] ||
		fail "Create calls: $(calls Create)"
	plugin_has pv1 || fail "the plugin has no pv1"

	run --separate-stderr moat_as volume ls
	assert_success
	assert_line --regexp "^$PLUG +pv1\$"
	assert_line --regexp "^$PLUG +foreign\$"
	[[ -z $stderr ]] || fail "ls stderr: $stderr"
	[[ $(vls) == "$PLUG foreign;$PLUG pv1;" ]] || fail "ls: $(vls)"
	run moat_as volume ls -q --filter driver="$PLUG"
	assert_success
	[[ $(sort <<<"$output" | tr '\n' ' ') == "foreign pv1 " ]] || fail "ls -q driver=: $output"
	run moat_as volume ls -q --filter driver=local
	assert_success
	assert_output ""

	run --separate-stderr moat_as volume inspect -f '{{.Driver}} {{.Mountpoint}} {{json .Options}}' pv1
	assert_success
	assert_output "$PLUG $(mountpoint_of pv1) {\"flag\":\"\",\"k\":\"w\",\"size\":\"10m\"}"
	[[ $(ncalls Get pv1) -ge 1 ]] || fail "inspect did not ask the plugin (Get)"

	# rm: the plugin is asked, then the record goes
	run --separate-stderr moat_as volume rm pv1
	assert_success
	assert_output pv1
	[[ $(calls Remove) == '{"Name":"pv1"}' ]] || fail "Remove calls: $(calls Remove)"
	! plugin_has pv1 || fail "the plugin still has pv1"
	[[ ! -e $MOAT_STATE/root/volumes/pv1 ]] || fail "the record of pv1 is left"
	[[ $(vls) == "$PLUG foreign;" ]] || fail "ls after rm: $(vls)"
	run --separate-stderr moat_as volume inspect pv1
	assert_failure 1
	# a second rm: no such volume, and the plugin is not asked again
	run --separate-stderr moat_as volume rm pv1
	assert_failure 1
	assert_last_err "No such volume: pv1"
	[[ $(ncalls Remove) -eq 1 ]] || fail "Remove sent again"
}

@test "plugin: create of an existing plugin volume is idempotent; its data stays" {
	start_plugin ok
	make_vol same
	mp_prepare same
	as_identity sh -c "echo kept >'$(mountpoint_of same)/f'"
	make_vol same
	[[ $(vls) == "$PLUG same;" ]] || fail "ls: $(vls)"
	[[ $(cat "$(mountpoint_of same)/f") == kept ]] || fail "data lost"
	! calls Remove | grep -q . || fail "a Remove was sent: $(calls Remove)"
}

# ---- 2. containers ----

@test "plugin: run -v NAME:/data mounts it once with the container's id, data reaches the host, stop unmounts" {
	local mk id pm
	mk=$(marker)
	start_plugin ok
	make_vol pdata
	mp_prepare pdata
	id=$(moat_as run -d -v pdata:/data "$IMG" sh -c "echo $mk >/data/f; exec /probe sleep 100 $mk")
	[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "run -d printed '$id'"
	wait_until 10 test -s "$(mountpoint_of pdata)/f" || fail "the container's write never reached the mountpoint"
	[[ $(cat "$(mountpoint_of pdata)/f") == "$mk" ]] || fail "host sees: $(cat "$(mountpoint_of pdata)/f")"
	# running: one Mount with the full id, no Unmount, noted for teardown
	[[ $(ids Mount pdata) == "$id" ]] || fail "Mount IDs: $(ids Mount pdata)"
	[[ $(ncalls Unmount) -eq 0 ]] || fail "Unmount while running: $(calls Unmount)"
	pm=$MOAT_STATE/run/containers/$id/plugin-mounts
	[[ $(cat "$pm") == "$PLUG pdata" ]] || fail "plugin-mounts: $(cat "$pm" 2>&1)"
	[[ $(plugin_ids pdata) == "$id" ]] || fail "the plugin holds: $(plugin_ids pdata)"

	run moat_as stop -t 1 "$id"
	assert_success
	wait_until 10 no_marker "$mk" || fail "the container still runs"
	[[ $(ids Mount pdata) == "$id" ]] || fail "Mount IDs after stop: $(ids Mount pdata)"
	[[ $(ids Unmount pdata) == "$id" ]] || fail "Unmount IDs after stop: $(ids Unmount pdata)"
	# the Unmount came after the Mount
	[[ $(grep -n VolumeDriver.Mount "$PLOG" | cut -d: -f1) -lt $(grep -n VolumeDriver.Unmount "$PLOG" | cut -d: -f1) ]] ||
		fail "Unmount before Mount"
	plugin_ids_empty pdata || fail "the plugin still holds: $(plugin_ids pdata)"
	[[ ! -e $pm ]] || fail "plugin-mounts left after stop"

	run moat_as rm "$id"
	assert_success
	[[ ! -e $MOAT_STATE/run/containers/$id ]] || fail "runtime dir left"
	# rm of a stopped container does not unmount a second time
	[[ $(ncalls Unmount) -eq 1 && $(ncalls Mount) -eq 1 ]] || fail "calls: $(cat "$PLOG")"
	[[ $(vls) == "$PLUG pdata;" ]] || fail "ls: $(vls)"
}

@test "plugin: run --rm: Mount and Unmount with the same full id; data shared across containers; nothing left" {
	local mk a b
	mk=$(marker)
	start_plugin ok
	make_vol prm
	mp_prepare prm
	run mrun -v prm:/data "$IMG" sh -c "echo $mk >/data/f"
	assert_success
	run mrun -v prm:/in:ro "$IMG" cat /in/f
	assert_success
	assert_output "$mk"
	[[ $(ncalls Mount prm) -eq 2 && $(ncalls Unmount prm) -eq 2 ]] || fail "calls: $(cat "$PLOG")"
	mapfile -t a < <(ids Mount prm)
	mapfile -t b < <(ids Unmount prm)
	[[ ${a[0]} =~ ^[0-9a-f]{64}$ && ${a[1]} =~ ^[0-9a-f]{64}$ ]] || fail "Mount IDs: ${a[*]}"
	[[ ${a[0]} != "${a[1]}" ]] || fail "two containers, one mount ID"
	[[ "${a[*]}" == "${b[*]}" ]] || fail "Mount IDs ${a[*]} vs Unmount IDs ${b[*]}"
	plugin_ids_empty prm || fail "the plugin still holds: $(plugin_ids prm)"
	assert_no_container
}

@test "plugin: two containers at once: two Mounts with different ids; each Unmount when its container stops" {
	local mk1 mk2 id1 id2
	mk1=$(marker)
	mk2=$(marker)
	start_plugin ok
	make_vol pshare
	mp_prepare pshare
	id1=$(moat_as run -d -v pshare:/data "$IMG" /probe sleep 100 "$mk1")
	id2=$(moat_as run -d -v pshare:/data "$IMG" /probe sleep 100 "$mk2")
	[[ $id1 != "$id2" ]] || fail "same id"
	[[ $(ids Mount pshare | sort | tr '\n' ' ') == "$(printf '%s\n' "$id1" "$id2" | sort | tr '\n' ' ')" ]] ||
		fail "Mount IDs: $(ids Mount pshare)"
	[[ $(ncalls Unmount) -eq 0 ]] || fail "early Unmount: $(calls Unmount)"
	[[ $(plugin_ids pshare) == "$(printf '%s\n' "$id1" "$id2" | sort | tr '\n' ' ' | sed 's/ $//')" ]] ||
		fail "the plugin holds: $(plugin_ids pshare)"
	# the plugin refuses to remove a volume it has mounted; moat refuses first
	run --separate-stderr moat_as volume rm pshare
	assert_failure 1

	moat_as stop -t 1 "$id1" >/dev/null
	[[ $(ids Unmount pshare) == "$id1" ]] || fail "Unmount IDs after the first stop: $(ids Unmount pshare)"
	[[ $(plugin_ids pshare) == "$id2" ]] || fail "the plugin holds: $(plugin_ids pshare)"
	moat_as stop -t 1 "$id2" >/dev/null
	[[ $(ids Unmount pshare | tr '\n' ' ') == "$id1 $id2 " ]] || fail "Unmount IDs: $(ids Unmount pshare)"
	plugin_ids_empty pshare || fail "the plugin still holds: $(plugin_ids pshare)"
	moat_as rm "$id1" "$id2" >/dev/null
	assert_no_container
}

@test "plugin: volume rm of a plugin volume a container uses (running or stopped) is refused; the plugin is not asked" {
	local mk id
	mk=$(marker)
	start_plugin ok
	make_vol pbusy
	mp_prepare pbusy
	id=$(moat_as run -d -v pbusy:/data "$IMG" /probe sleep 100 "$mk")
	for f in "" -f; do
		run --separate-stderr moat_as volume rm $f pbusy
		assert_failure 1
		assert_one_error_line
		[[ $stderr == *"volume is in use"*"$id"* ]] || fail "stderr: $stderr"
	done
	moat_as stop -t 1 "$id" >/dev/null
	# stopped: still in use (Docker's rule)
	for f in "" -f; do
		run --separate-stderr moat_as volume rm $f pbusy
		assert_failure 1
		[[ $stderr == *"volume is in use"*"$id"* ]] || fail "stderr: $stderr"
	done
	[[ $(ncalls Remove) -eq 0 ]] || fail "the plugin was asked to Remove: $(calls Remove)"
	plugin_has pbusy || fail "the plugin lost pbusy"
	[[ $(vls) == "$PLUG pbusy;" ]] || fail "ls: $(vls)"
	moat_as rm "$id" >/dev/null
	run moat_as volume rm pbusy
	assert_success
	[[ $(calls Remove) == '{"Name":"pbusy"}' ]] || fail "Remove: $(calls Remove)"
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
}

# ---- 3. created through a driver by run ----

@test "plugin: run --mount type=volume,volume-driver=PLUG creates the volume through the plugin" {
	local mk
	mk=$(marker)
	start_plugin ok
	mp_prepare pnew
	run mrun --mount "type=volume,source=pnew,target=/d,volume-driver=$PLUG,volume-opt=size=1m" \
		"$IMG" sh -c "echo $mk >/d/f"
	assert_success
	[[ $(calls Create) == '{"Name":"pnew","Opts":{"size":"1m"}}' ]] || fail "Create: $(calls Create)"
	[[ $(ncalls Mount pnew) -eq 1 && $(ncalls Unmount pnew) -eq 1 ]] || fail "calls: $(cat "$PLOG")"
	# Get (has the plugin got it already?), Create, then Mount, then Unmount
	[[ $(jq -r .method "$PLOG" | grep -v Activate | tr '\n' ' ') == "VolumeDriver.Get VolumeDriver.Create VolumeDriver.Mount VolumeDriver.Unmount " ]] ||
		fail "order: $(jq -r .method "$PLOG" | tr '\n' ' ')"
	[[ $(cat "$(mountpoint_of pnew)/f") == "$mk" ]] || fail "data not in the plugin's mountpoint"
	[[ $(vls) == "$PLUG pnew;" ]] || fail "ls: $(vls)"
	run moat_as volume inspect -f '{{.Driver}} {{.Mountpoint}}' pnew
	assert_output "$PLUG $(mountpoint_of pnew)"
	# used again by name alone: the same plugin volume, no second Create
	run mrun -v pnew:/d "$IMG" cat /d/f
	assert_success
	assert_output "$mk"
	[[ $(ncalls Create) -eq 1 ]] || fail "Create sent again"
	assert_no_container
}

@test "plugin: run --mount with an unknown volume-driver: 125, named, no container, no volume" {
	start_plugin ok
	run --separate-stderr moat_as run --mount type=volume,source=pu,target=/d,volume-driver=nosuch "$IMG" true
	assert_failure 125
	assert_last_err "volume plugin nosuch not found (looked in $PDIR/plugins)"
	assert_no_container
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
	[[ ! -e $MOAT_STATE/root/volumes/pu ]] || fail "a record of pu was made"
	run --separate-stderr moat_as volume create -d nosuch pu
	assert_failure 1
	assert_one_error_line
	assert_last_err "volume plugin nosuch not found (looked in $PDIR/plugins)"
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
}

# ---- 4. faults ----

# run_refused MSG ARGS...: `moat run ARGS` exits 125 with "moat: MSG" as
# its last stderr line (MSG a glob), leaves no container and no
# plugin-mounts file, and never ran the command.
run_refused() {
	local msg=$1
	shift
	run --separate-stderr moat_as run "$@"
	assert_failure 125
	# shellcheck disable=SC2053 # MSG is a glob on purpose
	[[ $(last_err) == "moat: "$msg ]] || fail "expected 'moat: $msg', got:"$'\n'"$stderr"
	[[ $output != *RAN* ]] || fail "the container ran: $output"
	assert_no_container
}

@test "plugin fault: socket file absent: not found, naming where moat looked; volume ls still lists the record" {
	start_plugin ok
	make_vol pgone
	stop_plugin # SIGTERM: it removes its socket
	[[ ! -e $PSOCK ]] || fail "the socket is still there"
	run_refused "volume plugin $PLUG not found (looked in $PDIR/plugins)" -v pgone:/data "$IMG" echo RAN
	run --separate-stderr moat_as volume create -d "$PLUG" pother
	assert_failure 1
	assert_last_err "volume plugin $PLUG not found (looked in $PDIR/plugins)"
	# ls: the record (a plugin that cannot be found offers no names)
	run --separate-stderr moat_as volume ls --format '{{.Driver}} {{.Name}}'
	assert_success
	assert_output "$PLUG pgone"
	assert_no_container
}

@test "plugin fault: stale socket (nobody listening): connection refused after retries, bounded by MOAT_PLUGIN_TIMEOUT" {
	local t0 t1
	start_plugin ok
	make_vol pdead
	kill_plugin
	[[ -S $PSOCK ]] || fail "no stale socket to test with"
	# the timeout bounds the retries too (the retry budget is 15 s)
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_TIMEOUT=2"
	t0=$(now_ms)
	run --separate-stderr moat_as volume create -d "$PLUG" pother
	t1=$(now_ms)
	assert_failure 1
	[[ $(last_err) == "moat: volume plugin $PLUG: not reachable at unix://$PSOCK: Connection refused (retried for 2."[0-9]"s)" ]] ||
		fail "stderr: $stderr"
	# it kept trying for the whole timeout, and no longer
	((t1 - t0 >= 1500 && t1 - t0 < 8000)) || fail "gave up after $((t1 - t0)) ms (timeout 2 s)"
	t0=$(now_ms)
	run_refused "volume plugin $PLUG: not reachable at unix://$PSOCK: Connection refused (retried for 2.?s)" \
		-v pdead:/data "$IMG" echo RAN
	t1=$(now_ms)
	((t1 - t0 < 15000)) || fail "run took $((t1 - t0)) ms"
	# back in ok mode: the records and the plugin agree
	start_plugin ok
	[[ $(vls) == "$PLUG pdead;" ]] || fail "ls: $(vls)"
	plugin_ids_empty pdead || fail "the plugin holds: $(plugin_ids pdead)"
	! plugin_has pother || fail "pother reached the plugin"
}

@test "plugin fault: a plugin that comes back while moat retries is used (connection retries work)" {
	local bg rc=0
	start_plugin ok
	kill_plugin
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_TIMEOUT=10"
	moat_as volume create -d "$PLUG" plate >"$PDIR/create.out" 2>&1 3>&- &
	bg=$!
	sleep 1.5
	alive "$bg" || fail "create gave up before the plugin came back: $(cat "$PDIR/create.out")"
	start_plugin ok
	wait "$bg" || rc=$?
	[[ $rc -eq 0 ]] || fail "create exited $rc: $(cat "$PDIR/create.out")"
	[[ $(cat "$PDIR/create.out") == plate ]] || fail "output: $(cat "$PDIR/create.out")"
	plugin_has plate || fail "the plugin has no plate"
	[[ $(vls) == "$PLUG plate;" ]] || fail "ls: $(vls)"
}

@test "plugin fault: mode error: 'injected failure' verbatim for create, run (125) and rm; records stay right" {
	start_plugin ok
	make_vol perr
	mp_prepare perr
	restart_plugin error
	run --separate-stderr moat_as volume create -d "$PLUG" pnew
	assert_failure 1
	assert_one_error_line
	assert_last_err "volume plugin $PLUG: injected failure"
	[[ ! -e $MOAT_STATE/root/volumes/pnew ]] || fail "a record of the failed create"

	run_refused "volume plugin $PLUG: injected failure" -v perr:/data "$IMG" echo RAN
	[[ $(ncalls Mount perr) -eq 1 ]] || fail "Mount calls: $(calls Mount)"

	# rm: the plugin refused, so the record stays (never less than the plugin)
	run --separate-stderr moat_as volume rm perr
	assert_failure 1
	assert_last_err "volume plugin $PLUG: injected failure"
	[[ -e $MOAT_STATE/root/volumes/perr ]] || fail "the record went though the plugin refused"

	# ls while the plugin fails List: the records, and a warning naming it
	run --separate-stderr moat_as volume ls --format '{{.Driver}} {{.Name}}'
	assert_success
	assert_output "$PLUG perr"
	[[ $stderr == *"volume plugin $PLUG: injected failure"* ]] || fail "ls stderr: $stderr"

	restart_plugin ok
	[[ $(vls) == "$PLUG perr;" ]] || fail "ls: $(vls)"
	plugin_ids_empty perr || fail "the plugin holds: $(plugin_ids perr)"
	run moat_as volume rm perr
	assert_success
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
}

@test "plugin fault: a Mount the plugin refused is not followed by an Unmount, and run prints one line" {
	start_plugin ok
	make_vol pref
	restart_plugin error
	run --separate-stderr moat_as run -v pref:/data "$IMG" echo RAN
	assert_failure 125
	assert_last_err "volume plugin $PLUG: injected failure"
	assert_no_container
	# Docker sends Unmount only for a Mount that succeeded: a plugin that
	# counts mounts per volume would otherwise drop another container's
	[[ $(ncalls Mount pref) -eq 1 ]] || fail "Mount calls: $(calls Mount)"
	[[ $(ncalls Unmount pref) -eq 0 ]] || fail "Unmount sent for a refused Mount: $(calls Unmount)"
	assert_one_error_line
}

@test "plugin fault: malformed replies: create 1, run 125, naming the plugin and the call" {
	start_plugin ok
	make_vol pmal
	restart_plugin malformed
	run --separate-stderr moat_as volume create -d "$PLUG" pnew
	assert_failure 1
	assert_one_error_line
	# the Get that comes first is malformed already: nothing is created blind
	[[ $(last_err) == "moat: volume plugin $PLUG: malformed reply to VolumeDriver.Get: "?* ]] ||
		fail "stderr: $stderr"
	[[ $(ncalls Create) -eq 1 ]] || fail "Create sent after a malformed Get: $(calls Create)"
	run_refused "volume plugin $PLUG: malformed reply to VolumeDriver.Mount: ?*" -v pmal:/data "$IMG" echo RAN
	restart_plugin ok
	[[ $(vls) == "$PLUG pmal;" ]] || fail "ls: $(vls)"
}

@test "plugin fault: HTTP 500 with a text body: its first line shown, create 1, run 125" {
	start_plugin ok
	make_vol p500
	restart_plugin http500
	run --separate-stderr moat_as volume create -d "$PLUG" pnew
	assert_failure 1
	assert_one_error_line
	assert_last_err "volume plugin $PLUG: HTTP 500: internal meltdown"
	run_refused "volume plugin $PLUG: HTTP 500: internal meltdown" -v p500:/data "$IMG" echo RAN
	[[ $stderr != *"second line"* ]] || fail "more than the first line: $stderr"
	restart_plugin ok
	[[ $(vls) == "$PLUG p500;" ]] || fail "ls: $(vls)"
}

@test "plugin fault: a plugin that is no VolumeDriver is refused after Activate, naming what it implements" {
	start_plugin ok
	make_vol pnvd
	restart_plugin no-volumedriver
	local n0
	n0=$(log_lines)
	local msg="volume plugin $PLUG: does not implement VolumeDriver (implements: NetworkDriver)"
	run --separate-stderr moat_as volume create -d "$PLUG" pnew
	assert_failure 1
	assert_one_error_line
	assert_last_err "$msg"
	run_refused "$msg" -v pnvd:/data "$IMG" echo RAN
	# nothing but Activate reached it
	! methods_since "$n0" | grep -qvx Plugin.Activate ||
		fail "calls after Activate: $(methods_since "$n0" | tr '\n' ' ')"
	restart_plugin ok
	[[ $(vls) == "$PLUG pnvd;" ]] || fail "ls: $(vls)"
}

@test "plugin fault: slow plugin with MOAT_PLUGIN_TIMEOUT=1: create and run time out in bounded time" {
	local t0 t1 n0
	start_plugin ok
	make_vol pslow
	mp_prepare pslow
	restart_plugin slow --delay 3
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_TIMEOUT=1"
	t0=$(now_ms)
	run --separate-stderr moat_as volume create -d "$PLUG" pnew
	t1=$(now_ms)
	assert_failure 1
	# the Get that asks whether it exists times out: no Create is sent
	assert_last_err "volume plugin $PLUG: timed out after 1s calling VolumeDriver.Get"
	((t1 - t0 >= 900 && t1 - t0 < 2900)) || fail "create took $((t1 - t0)) ms (timeout 1 s, delay 3 s)"
	[[ ! -e $MOAT_STATE/root/volumes/pnew ]] || fail "a record of the timed-out create"

	t0=$(now_ms)
	run_refused "volume plugin $PLUG: timed out after 1s calling VolumeDriver.Mount" -v pslow:/data "$IMG" echo RAN
	t1=$(now_ms)
	((t1 - t0 < 6000)) || fail "run took $((t1 - t0)) ms (timeout 1 s per call)"
	# one Mount, and its Unmount (a reconciling command may have tried
	# that again since: it timed out too)
	[[ $(ncalls Mount pslow) -eq 1 && $(ids Unmount pslow | head -n 1) == "$(ids Mount pslow)" ]] ||
		fail "calls: $(cat "$PLOG")"
	# The Unmount timed out too: moat does not know it was done, so it
	# is still owed (by the id of the container run made, gone now).
	[[ $(pending "$PLUG" pslow) == $(ids Mount pslow) ]] || fail "pending: '$(pending "$PLUG" pslow)'"
	# The plugin carries out the late calls, each 3 s after it came: the
	# Mount (sent ~1 s before the Unmount) registers the id, the Unmount
	# moat sent after the timed-out Mount drops it. Both are done 4.5 s
	# after run returned; the plugin then holds no mount of pslow.
	sleep 4.5
	plugin_ids_empty pslow || fail "the plugin holds: $(plugin_ids pslow)"
	! plugin_has pnew || fail "a Create was sent after the Get timed out"
	restart_plugin ok
	n0=$(log_lines)
	# ls sends the owed Unmount again (harmless to a plugin that keys
	# mounts by id) and shows only pslow
	[[ $(vls) == "$PLUG pslow;" ]] || fail "ls: $(vls)"
	[[ $(methods_since "$n0" | grep -c Unmount) -eq 1 && -z $(pending_files) ]] ||
		fail "pending: $(pending_files); calls: $(calls Unmount)"
	plugin_ids_empty pslow || fail "the plugin holds: $(plugin_ids pslow)"
	[[ ! -e $MOAT_STATE/root/volumes/pnew ]] || fail "a record of the timed-out create"
}

@test "plugin fault: MOAT_PLUGIN_TIMEOUT that is not a whole number of seconds is refused, naming it" {
	start_plugin ok
	local v
	for v in 0 -1 abc 1.5 99999999; do
		MOAT_ENV_EXTRA="MOAT_PLUGIN_PATH=$PDIR/plugins MOAT_PLUGIN_TIMEOUT=$v"
		run --separate-stderr moat_as volume create -d "$PLUG" pt
		assert_failure 1
		assert_one_error_line
		[[ $stderr == *"MOAT_PLUGIN_TIMEOUT=\"$v\" is not a whole number of seconds"* ]] ||
			fail "MOAT_PLUGIN_TIMEOUT=$v: $stderr"
	done
	[[ $(ncalls Create) -eq 0 ]] || fail "the plugin was called: $(calls Create)"
}

@test "plugin fault: crash-mount: the plugin dies mid-Mount; run fails cleanly; restarted, ls is right" {
	local rc=0 pid
	start_plugin ok
	make_vol pcrash
	mp_prepare pcrash
	restart_plugin crash-mount
	pid=$PLUGIN_PID
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_TIMEOUT=3"
	run_refused "volume plugin $PLUG: no reply to VolumeDriver.Mount: ?*" -v pcrash:/data "$IMG" echo RAN
	PLUGIN_PID=
	wait "$pid" || rc=$?
	[[ $rc -eq 3 ]] || fail "the plugin did not crash in Mount (exit $rc)"
	# the Unmount after the Mount that got no reply found nobody: owed
	[[ -n $(pending "$PLUG" pcrash) ]] || fail "no Unmount pending after the crash"
	start_plugin ok
	[[ $(vls) == "$PLUG pcrash;" ]] || fail "ls: $(vls)"
	[[ -z $(pending_files) ]] || fail "still pending after ls: $(pending_files)"
	# the first Unmount never reached the crashed plugin; ls sent it
	[[ $(ids Unmount pcrash) == "$(ids Mount pcrash)" ]] || fail "Unmount: $(calls Unmount)"
	plugin_ids_empty pcrash || fail "the plugin holds: $(plugin_ids pcrash)"
	# and the volume works again
	run mrun -v pcrash:/data "$IMG" sh -c 'echo ok >/data/f'
	assert_success
	run moat_as volume rm pcrash
	assert_success
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
}

@test "plugin fault: a mountpoint of /etc is refused; the container never sees /etc; the plugin gets its Unmount" {
	start_plugin ok
	make_vol pout
	restart_plugin outside
	run_refused "volume plugin $PLUG: mountpoint \"/etc\" is in /etc, which moat does not mount from a plugin" \
		-v pout:/data "$IMG" sh -c 'cat /data/passwd; echo RAN'
	[[ $output != *root:* ]] || fail "the container read /etc/passwd: $output"
	# the Mount succeeded at the plugin: it must be released
	[[ $(ncalls Mount pout) -eq 1 ]] || fail "Mount: $(calls Mount)"
	[[ $(ids Unmount pout) == "$(ids Mount pout)" ]] || fail "Unmount: $(calls Unmount)"
	plugin_ids_empty pout || fail "the plugin holds: $(plugin_ids pout)"
	restart_plugin ok
	[[ $(vls) == "$PLUG pout;" ]] || fail "ls: $(vls)"
}

@test "plugin fault: a mountpoint that is a regular file, or a symlink, is refused and released" {
	local mode msg
	start_plugin ok
	make_vol pbad
	mp_prepare pbad
	for mode in file symlink; do
		if [[ $mode == file ]]; then
			msg="volume plugin $PLUG: mountpoint \"$PDIR/state/file-pbad\" is not a directory"
		else
			msg="volume plugin $PLUG: mountpoint \"$PDIR/state/link-pbad\" is or passes through a symlink"
		fi
		restart_plugin "$mode"
		run_refused "$msg" -v pbad:/data "$IMG" sh -c 'ls /data; echo RAN'
		plugin_ids_empty pbad || fail "$mode: the plugin holds: $(plugin_ids pbad)"
	done
	[[ $(ncalls Mount pbad) -eq 2 && $(ncalls Unmount pbad) -eq 2 ]] || fail "calls: $(cat "$PLOG")"
	restart_plugin ok
	[[ $(vls) == "$PLUG pbad;" ]] || fail "ls: $(vls)"
}

@test "plugin fault: one name, one driver: local then -d PLUG, and PLUG then local, fail naming both" {
	local taken="a volume of that name already exists with the"
	start_plugin ok
	run moat_as volume create vlocal
	assert_success
	run --separate-stderr moat_as volume create -d "$PLUG" vlocal
	assert_failure 1
	assert_one_error_line
	assert_last_err "create volume vlocal: $taken \"local\" driver, not \"$PLUG\": choose a different volume name"
	[[ $(ncalls Create) -eq 0 ]] || fail "the plugin was asked to Create: $(calls Create)"

	make_vol vplug
	run --separate-stderr moat_as volume create vplug
	assert_failure 1
	assert_one_error_line
	assert_last_err "create volume vplug: $taken \"$PLUG\" driver, not \"local\": choose a different volume name"
	run --separate-stderr moat_as volume create -d local vplug
	assert_failure 1
	assert_last_err "create volume vplug: $taken \"$PLUG\" driver, not \"local\": choose a different volume name"
	# the same through run --mount
	run_refused "volume \"vlocal\" exists with driver \"local\", not \"$PLUG\"" \
		--mount "type=volume,source=vlocal,target=/d,volume-driver=$PLUG" "$IMG" echo RAN
	run_refused "volume \"vplug\" exists with driver \"$PLUG\", not \"local\"" \
		--mount "type=volume,source=vplug,target=/d,volume-driver=local" "$IMG" echo RAN
	# nothing changed: each keeps its driver, the plugin kept its volume
	[[ $(vls) == "local vlocal;$PLUG vplug;" ]] || fail "ls: $(vls)"
	[[ $(ncalls Remove) -eq 0 ]] || fail "a Remove was sent: $(calls Remove)"
	[[ $(ncalls Create) -eq 1 ]] || fail "Create calls: $(calls Create)"
	plugin_has vplug || fail "the plugin lost vplug"
	! plugin_has vlocal || fail "the plugin has vlocal"
}

# ---- 5. the plugin dies while a container has its volume ----

@test "plugin dies between Mount and Unmount: stop still works, nothing left running or mounted" {
	local mk id t0 t1 leaks
	mk=$(marker)
	start_plugin ok
	make_vol pdie
	mp_prepare pdie
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_TIMEOUT=2"
	id=$(moat_as run -d -v pdie:/data "$IMG" /probe sleep 100 "$mk")
	[[ $(ids Mount pdie) == "$id" ]] || fail "Mount: $(calls Mount)"
	kill_plugin
	t0=$(now_ms)
	run --separate-stderr moat_as stop -t 1 "$id"
	t1=$(now_ms)
	assert_success
	((t1 - t0 < 20000)) || fail "stop took $((t1 - t0)) ms"
	[[ -z $stderr || $stderr == *"volume plugin $PLUG"* ]] || fail "stop stderr: $stderr"
	wait_until 10 no_marker "$mk" || fail "the container still runs"
	# no mount, no process, no runtime dir (its record stays: stopped)
	leaks=$(moat_leaks | grep -v "^state: $MOAT_STATE/root/containers/$id\$" || true)
	[[ -z $leaks ]] || fail "left after stop: $leaks"
	[[ ! -e $MOAT_STATE/run/containers/$id ]] || fail "runtime dir left"
	# the Unmount that found nobody is owed, outside the runtime dir
	[[ $(pending "$PLUG" pdie) == "$id" ]] || fail "pending: '$(pending "$PLUG" pdie)'"
	run moat_as rm "$id"
	assert_success
	[[ $(pending "$PLUG" pdie) == "$id" ]] || fail "rm lost the pending Unmount"
	start_plugin ok
	[[ $(vls) == "$PLUG pdie;" ]] || fail "ls: $(vls)"
	[[ $(ids Unmount pdie) == "$id" ]] || fail "Unmount after ls: $(calls Unmount)"
	plugin_ids_empty pdie || fail "the plugin holds: $(plugin_ids pdie)"
	[[ -z $(pending_files) ]] || fail "still pending: $(pending_files)"
}

# ---- 6. a killed monitor ----

# dead_monitor NAME MK: a container using plugin volume NAME whose monitor
# was SIGKILLed, its processes gone; prints its id.
dead_monitor() {
	local id
	id=$(moat_as run -d -v "$1:/data" "$IMG" /probe sleep 100 "$2") || return 1
	[[ $(ids Mount "$1") == *"$id"* ]] || return 1
	kill_monitor "$id" || return 1
	wait_until 10 no_marker "$2" || return 1
	echo "$id"
}

@test "plugin: a killed monitor's Unmount is sent by the next moat command (ps -a)" {
	local mk id
	mk=$(marker)
	start_plugin ok
	make_vol pmon
	mp_prepare pmon
	id=$(dead_monitor pmon "$mk") || fail "could not set up the dead monitor"
	[[ $(ncalls Unmount) -eq 0 ]] || fail "Unmount before any command: $(calls Unmount)"
	run moat_as ps -a
	assert_success
	wait_until 5 has_unmount pmon "$id" || fail "no Unmount for $id after ps -a; log: $(cat "$PLOG")"
	[[ ! -e $MOAT_STATE/run/containers/$id/plugin-mounts ]] || fail "plugin-mounts left"
	moat_as rm "$id" >/dev/null
	[[ $(ncalls Unmount pmon) -eq 1 ]] || fail "Unmount calls: $(calls Unmount)"
}

@test "plugin: rm of a container whose monitor was killed sends its Unmount; the volume can then go" {
	local mk id
	mk=$(marker)
	start_plugin ok
	make_vol pmon2
	mp_prepare pmon2
	id=$(dead_monitor pmon2 "$mk") || fail "could not set up the dead monitor"
	run moat_as rm "$id"
	assert_success
	has_unmount pmon2 "$id" || fail "rm sent no Unmount for $id; the plugin holds: $(plugin_ids pmon2)"
	plugin_ids_empty pmon2 || fail "the plugin holds: $(plugin_ids pmon2)"
	run --separate-stderr moat_as volume rm pmon2
	assert_success
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
}

@test "plugin: a killed monitor's Unmount is sent by the next run (reconcile at start)" {
	local mk id
	mk=$(marker)
	start_plugin ok
	make_vol pmon3
	mp_prepare pmon3
	id=$(dead_monitor pmon3 "$mk") || fail "could not set up the dead monitor"
	run mrun "$IMG" true
	assert_success
	has_unmount pmon3 "$id" || fail "no Unmount for $id after run; log: $(cat "$PLOG")"
	[[ $(ncalls Unmount pmon3) -eq 1 ]] || fail "Unmount calls: $(calls Unmount)"
	plugin_ids_empty pmon3 || fail "the plugin holds: $(plugin_ids pmon3)"
	moat_as rm "$id" >/dev/null
	[[ $(ncalls Unmount pmon3) -eq 1 ]] || fail "a second Unmount at rm: $(calls Unmount)"
}

# ---- 7. discovery ----

@test "plugin discovery: a .spec file with unix:///path finds a socket outside the search path" {
	local mk
	mk=$(marker)
	PLUG=volspec
	PSOCK=$PDIR/sock/volspec.sock
	as_identity sh -c "echo 'unix://$PSOCK' >'$PDIR/plugins/volspec.spec'"
	start_plugin ok
	make_vol pspec
	mp_prepare pspec
	run mrun -v pspec:/data "$IMG" sh -c "echo $mk >/data/f"
	assert_success
	[[ $(cat "$(mountpoint_of pspec)/f") == "$mk" ]] || fail "data not in the plugin's mountpoint"
	[[ $(ncalls Create) -eq 1 && $(ncalls Mount) -eq 1 && $(ncalls Unmount) -eq 1 ]] ||
		fail "calls: $(cat "$PLOG")"
	[[ $(vls) == "volspec pspec;" ]] || fail "ls: $(vls)"
	# a .spec naming a socket nobody listens on: refused, naming it
	as_identity sh -c "echo 'unix://$PDIR/sock/nobody.sock' >'$PDIR/plugins/volnone.spec'"
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_TIMEOUT=1"
	run --separate-stderr moat_as volume create -d volnone px
	assert_failure 1
	[[ $(last_err) == "moat: volume plugin volnone: not reachable at unix://$PDIR/sock/nobody.sock: No such file or directory (retried for 1."[0-9]"s)" ]] ||
		fail "stderr: $stderr"
	assert_no_container
}

@test "plugin discovery: a .json MountRoot: a mountpoint beneath it works, one outside it is refused" {
	local mk
	mk=$(marker)
	PLUG=voljson
	PSOCK=$PDIR/sock/voljson.sock
	start_plugin ok
	# MountRoot is where the plugin mounts: accepted
	as_identity sh -c "printf '{\"Name\": \"voljson\", \"Addr\": \"unix://%s\", \"MountRoot\": \"%s\"}' '$PSOCK' '$PDIR/state/mnt' >'$PDIR/plugins/voljson.json'"
	make_vol pjson
	mp_prepare pjson
	run mrun -v pjson:/data "$IMG" sh -c "echo $mk >/data/f"
	assert_success
	[[ $(cat "$(mountpoint_of pjson)/f") == "$mk" ]] || fail "data not in the plugin's mountpoint"
	# MountRoot elsewhere: the plugin's mountpoint is outside it
	mkdir_as "$PDIR/elsewhere"
	as_identity sh -c "printf '{\"Name\": \"voljson\", \"Addr\": \"unix://%s\", \"MountRoot\": \"%s\"}' '$PSOCK' '$PDIR/elsewhere' >'$PDIR/plugins/voljson.json'"
	run_refused "volume plugin voljson: mountpoint \"$(mountpoint_of pjson)\" is not beneath the plugin's MountRoot $PDIR/elsewhere" \
		-v pjson:/data "$IMG" sh -c 'echo RAN'
	[[ $(ncalls Mount pjson) -eq 2 && $(ncalls Unmount pjson) -eq 2 ]] || fail "calls: $(cat "$PLOG")"
	plugin_ids_empty pjson || fail "the plugin holds: $(plugin_ids pjson)"
	[[ $(vls) == "voljson pjson;" ]] || fail "ls: $(vls)"
}

# ---- 8. volumes only a plugin has ----

# seed_plugin_volume NAME...: volumes the plugin has that moat never made
# (its state file, written before it starts).
seed_plugin_volume() {
	local json='{' sep='' n
	for n in "$@"; do
		json+="$sep\"$n\": {\"Opts\": {}, \"CreatedAt\": \"2024-01-02T03:04:05+02:00\", \"IDs\": []}"
		sep=', '
	done
	json+='}'
	as_identity sh -c "printf '%s' '$json' >'$PDIR/state/volumes.json'"
}

# dead_spec NAME: a plugin NAME discovered through a .spec whose socket
# nobody listens on (sorted before $PLUG when NAME is).
dead_spec() {
	as_identity sh -c "echo 'unix://$PDIR/sock/$1.sock' >'$PDIR/plugins/$1.spec'"
}

@test "plugin-only volume: inspect finds it through the plugins (Get); a plugin that cannot answer is skipped with a warning" {
	seed_plugin_volume foreign
	start_plugin ok
	dead_spec adead
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_RETRY_SECONDS=1"

	run --separate-stderr moat_as volume inspect foreign
	assert_success
	[[ $(jq -c '.[0] | {CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope, Status}' <<<"$output") == \
		"{\"CreatedAt\":\"2024-01-02T01:04:05Z\",\"Driver\":\"$PLUG\",\"Labels\":null,\"Mountpoint\":\"$(mountpoint_of foreign)\",\"Name\":\"foreign\",\"Options\":null,\"Scope\":\"local\",\"Status\":{\"ids\":0}}" ]] ||
		fail "inspect: $output"
	# the dead plugin was asked first (name order) and skipped, said once
	[[ $stderr == "moat: warning: volume plugin adead: not reachable at unix://$PDIR/sock/adead.sock: No such file or directory (retried for 1."[0-9]"s) (volume foreign not looked up there)" ]] ||
		fail "stderr: $stderr"
	[[ $(ncalls Get foreign) -eq 1 ]] || fail "Get calls: $(calls Get)"
	# inspect took nothing over: no record, no Create
	[[ ! -e $MOAT_STATE/root/volumes/foreign ]] || fail "inspect made a record"
	[[ $(ncalls Create) -eq 0 ]] || fail "Create sent: $(calls Create)"
	run --separate-stderr moat_as volume inspect -f '{{.Driver}} {{.Status.ids}}' foreign
	assert_success
	assert_output "$PLUG 0"

	# a name no plugin has: the plugin's Err is its "no", not a warning
	rm -f -- "$PDIR/plugins/adead.spec"
	run --separate-stderr moat_as volume inspect nosuch
	assert_failure 1
	assert_output "[]"
	[[ $stderr == "moat: No such volume: nosuch" ]] || fail "stderr: $stderr"
	[[ $(ncalls Get nosuch) -eq 1 ]] || fail "Get calls: $(calls Get nosuch)"

	# a recorded plugin volume shows the plugin's Status as well, and the
	# record's labels
	run moat_as volume create -d "$PLUG" --label a=b prec
	assert_success
	run moat_as volume inspect -f '{{json .Status}} {{json .Labels}}' prec
	assert_success
	assert_output '{"ids":0} {"a":"b"}'
}

@test "plugin-only volume: volume rm removes it through its plugin (Remove); a second rm is No such volume; -f is quiet" {
	seed_plugin_volume foreign other
	start_plugin ok
	run --separate-stderr moat_as volume rm foreign
	assert_success
	assert_output foreign
	[[ -z $stderr ]] || fail "stderr: $stderr"
	[[ $(calls Remove) == '{"Name":"foreign"}' ]] || fail "Remove: $(calls Remove)"
	! plugin_has foreign || fail "the plugin still has foreign"
	plugin_has other || fail "the plugin lost other"
	[[ $(vls) == "$PLUG other;" ]] || fail "ls: $(vls)"
	# the audit record names the plugin as the driver
	run --separate-stderr moat_as audit show --format json --event volume.remove
	assert_success
	[[ $(jq -c 'select(.name == "foreign") | [.name,.driver,has("error")]' <<<"$output") == "[\"foreign\",\"$PLUG\",false]" ]] ||
		fail "records: $output"

	run --separate-stderr moat_as volume rm foreign
	assert_failure 1
	assert_last_err "No such volume: foreign"
	run --separate-stderr moat_as volume rm -f foreign
	assert_success
	[[ $(ncalls Remove) -eq 1 ]] || fail "Remove sent again: $(calls Remove)"

	# a plugin that errs on everything: its Get's Err is its "no"
	restart_plugin error
	run --separate-stderr moat_as volume rm other
	assert_failure 1
	assert_last_err "No such volume: other"
	[[ $(ncalls Remove other) -eq 0 ]] || fail "Remove sent: $(calls Remove)"
	restart_plugin ok
	plugin_has other || fail "the plugin lost other"
	run moat_as volume rm other
	assert_success
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
}

@test "plugin-only volume: run -v NAME:/x uses the plugin's volume (no Create, no local volume) and records its driver" {
	local mk
	mk=$(marker)
	seed_plugin_volume pshared
	start_plugin ok
	dead_spec adead
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_RETRY_SECONDS=0"
	mp_prepare pshared
	as_identity sh -c "echo from-plugin >'$(mountpoint_of pshared)/f'"

	run --separate-stderr mrun -v pshared:/data "$IMG" sh -c "cat /data/f; echo $mk >/data/g"
	assert_success
	assert_output from-plugin
	[[ $(cat "$(mountpoint_of pshared)/g") == "$mk" ]] || fail "the write did not reach the plugin's mountpoint"
	[[ $stderr == *"volume plugin adead: not reachable"* ]] || fail "no warning about adead: $stderr"
	[[ $(ncalls Create) -eq 0 ]] || fail "Create sent: $(calls Create)"
	[[ $(ncalls Mount pshared) -eq 1 && $(ncalls Unmount pshared) -eq 1 ]] || fail "calls: $(cat "$PLOG")"
	plugin_ids_empty pshared || fail "the plugin holds: $(plugin_ids pshared)"
	# one volume of that name, the plugin's, now recorded with its driver
	[[ $(vls) == "$PLUG pshared;" ]] || fail "ls: $(vls)"
	[[ $(jq -r .Driver "$MOAT_STATE/root/volumes/pshared/volume.json") == "$PLUG" ]] ||
		fail "record: $(cat "$MOAT_STATE/root/volumes/pshared/volume.json")"
	# the same through --mount without a driver
	seed_plugin_volume pshared pm2
	restart_plugin ok
	mp_prepare pm2
	run mrun --mount type=volume,source=pm2,target=/d "$IMG" sh -c 'echo x >/d/h'
	assert_success
	[[ -e $(mountpoint_of pm2)/h ]] || fail "pm2 was not the plugin's volume"
	# a name no plugin has is still a new local volume
	run mrun -v plocal:/d "$IMG" true
	assert_success
	[[ $(vls) == "local plocal;$PLUG pm2;$PLUG pshared;" ]] || fail "ls: $(vls)"
	[[ $(ncalls Create) -eq 0 ]] || fail "Create sent: $(calls Create)"
	assert_no_container
}

@test "plugin-only volume: a run that fails after taking it (or an explicit -d create of it) never removes the plugin's data" {
	seed_plugin_volume pkeep pkeep2
	start_plugin ok
	mp_prepare pkeep
	as_identity sh -c "echo precious >'$(mountpoint_of pkeep)/f'"
	# /a is made (the plugin's pkeep), then /b fails: the undo must not
	# Remove what the plugin had before
	run_refused "volume plugin nosuch not found (looked in $PDIR/plugins)" \
		-v pkeep:/a --mount type=volume,source=pz,target=/b,volume-driver=nosuch "$IMG" echo RAN
	[[ $(ncalls Remove) -eq 0 ]] || fail "Remove sent: $(calls Remove)"
	[[ $(cat "$(mountpoint_of pkeep)/f") == precious ]] || fail "data lost"
	plugin_has pkeep || fail "the plugin lost pkeep"
	# and the same with an explicit driver: Get finds it, no Create
	run --separate-stderr moat_as volume create -d "$PLUG" -o k=v pkeep2
	assert_success
	assert_output pkeep2
	[[ $(ncalls Create) -eq 0 ]] || fail "Create sent for a volume the plugin has: $(calls Create)"
	run moat_as volume inspect -f '{{.Driver}} {{json .Options}}' pkeep2
	assert_output "$PLUG {\"k\":\"v\"}"
	run --separate-stderr moat_as audit show --format json --event volume.create
	assert_success
	[[ $(jq -c 'select(.name == "pkeep2") | [.name,.driver,.existed]' <<<"$output") == "[\"pkeep2\",\"$PLUG\",true]" ]] ||
		fail "records: $output"
	[[ $(vls) == "$PLUG pkeep;$PLUG pkeep2;" ]] || fail "ls: $(vls)"
}

# ---- 9. an Unmount that fails is owed until the plugin takes it ----

@test "pending Unmount: refused at stop, kept through rm, sent by the next volume ls once the plugin is fixed" {
	local mk id
	mk=$(marker)
	start_plugin ok
	make_vol pu
	mp_prepare pu
	restart_plugin unmount-error
	id=$(moat_as run -d -v pu:/data "$IMG" /probe sleep 100 "$mk")
	[[ $(ids Mount pu) == "$id" ]] || fail "Mount: $(calls Mount)"
	run --separate-stderr moat_as stop -t 1 "$id"
	assert_success
	wait_until 10 no_marker "$mk" || fail "the container still runs"
	[[ $(ids Unmount pu) == "$id" ]] || fail "Unmount: $(calls Unmount)"
	[[ $(plugin_ids pu) == "$id" ]] || fail "the plugin holds: $(plugin_ids pu)"
	[[ $(pending "$PLUG" pu) == "$id" ]] || fail "pending: '$(pending "$PLUG" pu)'"
	[[ ! -e $MOAT_STATE/run/containers/$id ]] || fail "runtime dir left"

	# rm: the container goes, what it owes stays
	run moat_as rm "$id"
	assert_success
	[[ $(pending "$PLUG" pu) == "$id" ]] || fail "rm lost the pending Unmount"
	# the plugin still refuses: ls tries, warns, keeps it
	run --separate-stderr moat_as volume ls -q
	assert_success
	assert_output pu
	[[ $stderr == *"warning: the Unmount of volume pu for container ${id:0:12} is still pending: volume plugin $PLUG: injected unmount failure"* ]] ||
		fail "ls stderr: $stderr"
	[[ $(pending "$PLUG" pu) == "$id" ]] || fail "pending after a refused retry: '$(pending "$PLUG" pu)'"
	# volume rm tries it first too; the plugin then refuses the Remove
	run --separate-stderr moat_as volume rm pu
	assert_failure 1
	assert_last_err "volume plugin $PLUG: volume pu is in use"
	[[ -e $MOAT_STATE/root/volumes/pu ]] || fail "the record went though the plugin refused"

	restart_plugin ok
	run --separate-stderr moat_as volume ls -q
	assert_success
	assert_output pu
	[[ -z $stderr ]] || fail "ls stderr: $stderr"
	[[ $(ids Unmount pu | sort -u) == "$id" && $(ids Unmount pu | tail -n 1) == "$id" ]] ||
		fail "Unmount: $(calls Unmount)"
	plugin_ids_empty pu || fail "the plugin holds: $(plugin_ids pu)"
	[[ -z $(pending_files) ]] || fail "still pending: $(pending_files)"
	[[ ! -e $MOAT_STATE/run/plugin-unmounts/$PLUG ]] || fail "an empty pending directory is left"
	run moat_as volume rm pu
	assert_success
}

@test "pending Unmount: a restart sends it before the new Mount; refused while the plugin still refuses it" {
	local mk id n0
	mk=$(marker)
	start_plugin ok
	make_vol pr
	mp_prepare pr
	restart_plugin unmount-error
	id=$(moat_as run -d -v pr:/data "$IMG" /probe sleep 100 "$mk")
	moat_as stop -t 1 "$id" >/dev/null 2>&1
	wait_until 10 no_marker "$mk" || fail "the container still runs"
	[[ $(pending "$PLUG" pr) == "$id" ]] || fail "pending: '$(pending "$PLUG" pr)'"

	# still refused: no second Mount under the id the plugin still holds
	run --separate-stderr moat_as start "$id"
	assert_failure
	[[ $(last_err) == "moat: volume pr: the Unmount after this container's last run is still pending (volume plugin $PLUG: injected unmount failure); it is mounted again once the plugin has taken that" ]] ||
		fail "stderr: $stderr"
	[[ $(ncalls Mount pr) -eq 1 ]] || fail "Mount sent again: $(calls Mount)"
	[[ $(pending "$PLUG" pr) == "$id" ]] || fail "pending: '$(pending "$PLUG" pr)'"
	no_marker "$mk" || fail "it runs"

	restart_plugin ok
	n0=$(log_lines)
	run moat_as start "$id"
	assert_success
	# the owed Unmount, then the Mount, both with the container's id
	[[ $(methods_since "$n0" | grep -E 'Unmount|Mount' | tr '\n' ' ') == "VolumeDriver.Unmount VolumeDriver.Mount " ]] ||
		fail "order: $(methods_since "$n0" | tr '\n' ' ')"
	[[ $(plugin_ids pr) == "$id" ]] || fail "the plugin holds: $(plugin_ids pr)"
	[[ -z $(pending_files) ]] || fail "still pending: $(pending_files)"
	moat_as stop -t 1 "$id" >/dev/null
	plugin_ids_empty pr || fail "the plugin holds: $(plugin_ids pr)"
	moat_as rm "$id" >/dev/null
	assert_no_container
}

@test "pending Unmount: --rm and a volume mounted twice by one container owe one Unmount per Mount" {
	local n0
	start_plugin ok
	make_vol ptwo
	mp_prepare ptwo
	restart_plugin unmount-error
	run mrun -v ptwo:/a -v ptwo:/b "$IMG" true
	assert_success
	local id
	id=$(ids Mount ptwo | sort -u)
	[[ $(ncalls Mount ptwo) -eq 2 && $id =~ ^[0-9a-f]{64}$ ]] || fail "Mount: $(calls Mount)"
	[[ $(pending "$PLUG" ptwo) == "$id $id" ]] || fail "pending: '$(pending "$PLUG" ptwo)'"
	assert_no_container
	restart_plugin ok
	n0=$(log_lines)
	[[ $(vls) == "$PLUG ptwo;" ]] || fail "ls: $(vls)"
	# (the refused retries before depend on how many commands reconciled)
	[[ $(methods_since "$n0" | grep -c Unmount) -eq 2 ]] || fail "Unmount: $(calls Unmount)"
	[[ -z $(pending_files) ]] || fail "still pending: $(pending_files)"
	# removing the volume drops nothing owed (there is none) and works
	run moat_as volume rm ptwo
	assert_success
}

# ---- 10. a discovered plugin that starts late ----

@test "plugin retry: a plugin whose .spec exists but that starts 1 s after volume create -d is waited for" {
	local bg rc=0 t0 t1
	PLUG=late
	PSOCK=$PDIR/sock/late.sock
	as_identity sh -c "echo 'unix://$PSOCK' >'$PDIR/plugins/late.spec'"
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_RETRY_SECONDS=10"
	t0=$(now_ms)
	moat_as volume create -d late lv >"$PDIR/create.out" 2>&1 3>&- &
	bg=$!
	sleep 1
	alive "$bg" || fail "create gave up before the plugin started: $(cat "$PDIR/create.out")"
	start_plugin ok
	wait "$bg" || rc=$?
	t1=$(now_ms)
	[[ $rc -eq 0 ]] || fail "create exited $rc: $(cat "$PDIR/create.out")"
	[[ $(cat "$PDIR/create.out") == lv ]] || fail "output: $(cat "$PDIR/create.out")"
	((t1 - t0 >= 1000 && t1 - t0 < 10000)) || fail "took $((t1 - t0)) ms"
	plugin_has lv || fail "the plugin has no lv"
	[[ $(jq -r .method "$PLOG" | tr '\n' ' ') == "Plugin.Activate VolumeDriver.Get VolumeDriver.Create " ]] ||
		fail "calls: $(jq -r .method "$PLOG" | tr '\n' ' ')"
	[[ $(vls) == "late lv;" ]] || fail "ls: $(vls)"
}

@test "plugin retry: with the budget spent the error says how long moat waited; 0 is one attempt; an undiscovered plugin fails at once" {
	local t0 t1 v
	as_identity sh -c "echo 'unix://$PDIR/sock/late.sock' >'$PDIR/plugins/late.spec'"
	MOAT_ENV_EXTRA+=" MOAT_PLUGIN_RETRY_SECONDS=2"
	t0=$(now_ms)
	run --separate-stderr moat_as volume create -d late lx
	t1=$(now_ms)
	assert_failure 1
	assert_one_error_line
	[[ $(last_err) == "moat: volume plugin late: not reachable at unix://$PDIR/sock/late.sock: No such file or directory (retried for 2."[0-9]"s)" ]] ||
		fail "stderr: $stderr"
	((t1 - t0 >= 1900 && t1 - t0 < 6000)) || fail "gave up after $((t1 - t0)) ms (budget 2 s)"
	[[ ! -e $MOAT_STATE/root/volumes/lx ]] || fail "a record of the failed create"
	run_refused "volume plugin late: not reachable at unix://$PDIR/sock/late.sock: No such file or directory (retried for 2.?s)" \
		--mount type=volume,source=lx,target=/d,volume-driver=late "$IMG" echo RAN
	[[ ! -e $MOAT_STATE/root/volumes/lx ]] || fail "a record of the failed create"

	MOAT_ENV_EXTRA="MOAT_PLUGIN_PATH=$PDIR/plugins MOAT_PLUGIN_RETRY_SECONDS=0"
	t0=$(now_ms)
	run --separate-stderr moat_as volume create -d late lx
	t1=$(now_ms)
	assert_failure 1
	assert_last_err "volume plugin late: not reachable at unix://$PDIR/sock/late.sock: No such file or directory"
	((t1 - t0 < 1500)) || fail "one attempt took $((t1 - t0)) ms"

	# nothing discovered: not found at once, whatever the budget
	MOAT_ENV_EXTRA="MOAT_PLUGIN_PATH=$PDIR/plugins MOAT_PLUGIN_RETRY_SECONDS=30"
	t0=$(now_ms)
	run --separate-stderr moat_as volume create -d nosuch lx
	t1=$(now_ms)
	assert_failure 1
	assert_last_err "volume plugin nosuch not found (looked in $PDIR/plugins)"
	((t1 - t0 < 1500)) || fail "an unknown plugin took $((t1 - t0)) ms"

	for v in -1 abc 1.5 601; do
		MOAT_ENV_EXTRA="MOAT_PLUGIN_PATH=$PDIR/plugins MOAT_PLUGIN_RETRY_SECONDS=$v"
		run --separate-stderr moat_as volume create -d late lx
		assert_failure 1
		assert_one_error_line
		assert_last_err "volume plugin late: MOAT_PLUGIN_RETRY_SECONDS=\"$v\" is not a whole number of seconds from 0 to 600"
	done
	[[ $(vls) == "" ]] || fail "ls: $(vls)"
}
@test "pending Unmount: the next ps sends it once the plugin is fixed" {
	local mk id
	mk=$(marker)
	start_plugin ok
	make_vol pps
	mp_prepare pps
	restart_plugin unmount-error
	id=$(moat_as run -d -v pps:/data "$IMG" /probe sleep 100 "$mk")
	moat_as stop -t 1 "$id" >/dev/null 2>&1
	wait_until 10 no_marker "$mk" || fail "the container still runs"
	[[ $(pending "$PLUG" pps) == "$id" ]] || fail "pending: '$(pending "$PLUG" pps)'"
	restart_plugin ok
	run --separate-stderr moat_as ps -a -q --no-trunc
	assert_success
	assert_output "$id"
	[[ $(ids Unmount pps | tail -n 1) == "$id" && $(ncalls Unmount pps) -eq 2 ]] || fail "Unmount: $(calls Unmount)"
	plugin_ids_empty pps || fail "the plugin holds: $(plugin_ids pps)"
	[[ -z $(pending_files) ]] || fail "still pending: $(pending_files)"
	moat_as rm "$id" >/dev/null
}
