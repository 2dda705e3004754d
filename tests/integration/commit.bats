#!/usr/bin/env bats
# moat commit: a container's changes as a new image (its image's layers +
# one layer), Docker's --change instructions, signed with the local key so
# that it runs under the default trust policy; run as root and rootless.

load ../lib/helpers

teardown() {
	local ids
	ids=$(moat_as ps -aq --no-trunc 2>/dev/null) || true
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086
		moat_as unpause $ids >/dev/null 2>&1 || true
		# shellcheck disable=SC2086
		moat_as rm -f $ids >/dev/null 2>&1 || true
	fi
	moat_check_clean
}

# The config blob of image $1 (as root: the store is readable).
config_of() {
	local id
	id=$(moat_as image inspect -f '{{.Id}}' "$1") || return 1
	cat "$MOAT_STATE/root/blobs/sha256/${id#sha256:}"
}

# json_get FILTER: a Python expression over `c` (the JSON on stdin).
json_get() {
	python3 -c "import json,sys; c=json.load(sys.stdin); print($1)"
}

# The names in the tar of the last layer of image $1.
last_layer_names() {
	local d
	d=$(moat_as image inspect -f '{{json .RootFS.Layers}}' "$1" | json_get 'c[-1]') || return 1
	tar -tf "$MOAT_STATE/root/blobs/sha256/${d#sha256:}"
}

@test "commit: added, changed and deleted files and a replaced directory, exactly" {
	moat_as run --name cm1 "$IMG" sh -c 'echo new >/etc/newfile; echo changed >>/etc/passwd;
		rm /etc/group; mkdir -p /home/data/sub; echo a >/home/data/a; echo b >/home/data/sub/b'
	run --separate-stderr moat_as commit cm1 step1:v1
	assert_success
	[[ $output =~ ^sha256:[0-9a-f]{64}$ ]] || fail "not an image id: $output"
	[[ -z $stderr ]] || fail "stderr: $stderr"
	run moat_as run --rm step1:v1 sh -c 'cat /etc/newfile; tail -n 1 /etc/passwd;
		test -e /etc/group && echo group-still-there; cat /home/data/a /home/data/sub/b'
	assert_success
	assert_output $'new\nchanged\na\nb'
	# the deletion is an OCI whiteout in the layer, not a missing entry
	run last_layer_names step1:v1
	assert_success
	assert_line --regexp '^(\./)?etc/\.wh\.group$'
	assert_line --regexp '^(\./)?etc/newfile$'
	refute_line --regexp 'hosts|resolv\.conf|hostname'

	# a second generation: /data replaced by a new directory (opaque)
	moat_as run --name cm2 step1:v1 sh -c 'rm -rf /home/data; mkdir /home/data; echo c >/home/data/c'
	run moat_as commit cm2 step2:v1
	assert_success
	run moat_as run --rm step2:v1 sh -c 'ls -A /home/data; cat /etc/newfile'
	assert_success
	assert_output $'c\nnew'
	run last_layer_names step2:v1
	assert_success
	assert_line --regexp '^(\./)?home/data/\.wh\.\.wh\.\.opq$'
	run moat_as image inspect -f '{{len .RootFS.Layers}}' step2:v1
	assert_output 3
	moat_as rm cm1 cm2 >/dev/null
}

@test "commit: history, author, comment and the new DiffID" {
	local base_layers id
	base_layers=$(moat_as image inspect -f '{{json .RootFS.Layers}}' "$IMG")
	moat_as run --name ch1 "$IMG" sh -c 'echo x >/etc/x'
	id=$(moat_as commit -a 'Ann Author <ann@example.com>' -m 'the message' ch1 hist:1)
	run moat_as image inspect -f '{{json .RootFS.Layers}}' hist:1
	assert_success
	# the base's layers, in order, then exactly one more
	python3 - "$base_layers" "$output" <<'PY' || fail "layers: $base_layers -> $output"
import json, sys
base, new = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert new[:-1] == base and len(new) == len(base) + 1 and new[-1].startswith("sha256:")
PY
	run moat_as history --no-trunc hist:1
	assert_success
	assert_line --index 1 --regexp "^$id +.* moat commit +.* the message$"
	run config_of hist:1
	assert_success
	local cfg=$output
	run json_get 'c["author"], c["history"][-1]["author"], c["history"][-1]["comment"], c["history"][-1]["created_by"], len(c["rootfs"]["diff_ids"])' <<<"$cfg"
	assert_output "Ann Author <ann@example.com> Ann Author <ann@example.com> the message moat commit $(($(json_get 'len(c)' <<<"$base_layers") + 1))"
	# Docker's inspect fields
	run moat_as image inspect -f '{{.Author}}|{{.Comment}}' hist:1
	assert_success
	assert_output "Ann Author <ann@example.com>|the message"
	moat_as rm ch1 >/dev/null
}

@test "commit: a file chowned to 1000:1000 keeps the container's ids" {
	moat_as run --name co1 "$IMG" sh -c 'echo f >/home/moat/f; chown 1000:1000 /home/moat/f;
		echo r >/etc/rootfile'
	moat_as commit co1 owned:1 >/dev/null
	run moat_as run --rm owned:1 stat -c '%u:%g %n' /home/moat/f /etc/rootfile
	assert_success
	assert_output $'1000:1000 /home/moat/f\n0:0 /etc/rootfile'
	# and so in the tar: container ids, never the host's
	run moat_as image inspect -f '{{json .RootFS.Layers}}' owned:1
	local d
	d=$(json_get 'c[-1]' <<<"$output")
	run tar -tvf "$MOAT_STATE/root/blobs/sha256/${d#sha256:}" --numeric-owner
	assert_line --regexp '^-rw-r--r-- 1000/1000 .* (\./)?home/moat/f$'
	assert_line --regexp '^-rw-r--r-- 0/0 .* (\./)?etc/rootfile$'
	moat_as rm co1 >/dev/null
}

@test "commit: rootless single-id containers have only container root to give" {
	is_rootless || skip "rootless only"
	moat_as run --userns=single --name cs1 "$IMG" sh -c 'echo s >/home/moat/s;
		chown 1000:1000 /home/moat/s 2>/dev/null; true'
	moat_as commit cs1 single:1 >/dev/null
	run moat_as run --rm single:1 stat -c '%u:%g' /home/moat/s
	assert_success
	assert_output 0:0
	moat_as rm cs1 >/dev/null
}

@test "commit: --change CMD ENV WORKDIR USER LABEL EXPOSE ENTRYPOINT take effect" {
	moat_as create --name cc1 "$IMG" true >/dev/null
	run moat_as commit \
		-c 'ENV GREETING="hello there" OTHER=x' \
		-c 'ENV COMBINED=$GREETING-${OTHER}' \
		-c 'WORKDIR /home' -c 'WORKDIR moat' \
		-c 'USER 1000:1000' \
		-c 'LABEL org.example.a=1 "b c"=two' \
		-c 'EXPOSE 8080 53/udp' \
		-c 'VOLUME ["/data"]' \
		-c 'STOPSIGNAL SIGINT' \
		-c 'CMD echo "$GREETING" from $(pwd) as $(id -u):$(id -g) $COMBINED' \
		cc1 changed:1
	assert_success
	run moat_as run --rm changed:1
	assert_success
	assert_output 'hello there from /home/moat as 1000:1000 hello there-x'
	run moat_as image inspect -f '{{json .Config}}' changed:1
	assert_success
	run json_get 'c["Labels"]["org.example.a"], c["Labels"]["b c"], c["Cmd"][:2], c["User"], c["WorkingDir"]' <<<"$output"
	assert_output "1 two ['/bin/sh', '-c'] 1000:1000 /home/moat"
	run config_of changed:1
	run json_get 'sorted(c["config"]["ExposedPorts"]), sorted(c["config"]["Volumes"]), c["config"]["StopSignal"]' <<<"$output"
	assert_output "['53/udp', '8080/tcp'] ['/data'] SIGINT"

	# ENTRYPOINT (JSON form) resets the image's Cmd, as in Docker
	run moat_as commit -c 'ENTRYPOINT ["/bin/echo", "ep"]' cc1 ep:1
	assert_success
	run moat_as run --rm ep:1 more
	assert_success
	assert_output 'ep more'
	run moat_as run --rm ep:1
	assert_output 'ep'
	moat_as rm cc1 >/dev/null
}

@test "commit: a bad --change fails with Docker's message and adds nothing" {
	moat_as create --name cb1 "$IMG" true >/dev/null
	local before
	before=$(store_files)
	local -a bad=('ONBUILD RUN true' 'FROM busybox' 'RUN true' 'CMD [1, 2]'
		'EXPOSE notaport' 'STOPSIGNAL SIGNOPE' 'ENV' 'LABEL novalue' 'USER')
	local -a msg=('onbuild is not a valid change command' 'from is not a valid change command'
		'run is not a valid change command'
		'when using JSON array syntax, arrays must be comprised of strings only'
		'invalid containerPort: notaport' 'Invalid signal: SIGNOPE'
		'ENV requires at least one argument' 'LABEL must have two arguments'
		'USER requires exactly one argument')
	local n b
	# (not "i": bats' run uses that name)
	for n in "${!bad[@]}"; do
		b=${bad[$n]}
		run --separate-stderr moat_as commit -c "$b" cb1 bad:1
		[[ $status -eq 125 ]] || fail "$b: status $status"
		assert_one_error_line
		[[ $stderr == "moat: ${msg[$n]}" ]] || fail "$b: $stderr"
		[[ -z $output ]] || fail "$b: stdout: $output"
	done
	[[ $(store_files) == "$before" ]] || fail "the store changed"
	run moat_as image inspect bad:1
	assert_failure
	# a shell-form CMD that only looks like JSON is a shell command (Docker)
	run moat_as commit -c 'CMD [echo' cb1 shellish:1
	assert_success
	run moat_as image inspect -f '{{json .Config.Cmd}}' shellish:1
	assert_output '["/bin/sh","-c","[echo"]'
	moat_as rm cb1 >/dev/null
}

@test "commit: REPOSITORY:TAG names the image; without it the image is dangling" {
	moat_as create --name cn1 "$IMG" true >/dev/null
	run --separate-stderr moat_as commit cn1
	assert_success
	local id=$output
	run moat_as image inspect -f '{{json .RepoTags}}' "$id"
	assert_output '[]'
	run moat_as images
	assert_line --regexp "^<none> +<none> +${id:7:12} "
	# a dangling image is signed too, and runs
	run moat_as run --rm "$id" echo dangling-runs
	assert_output dangling-runs
	run moat_as commit cn1 my/repo
	assert_success
	run moat_as image inspect -f '{{json .RepoTags}}' "$output"
	assert_output '["my/repo:latest"]'
	run --separate-stderr moat_as commit cn1 'Bad:Name'
	[[ $status -eq 125 ]] || fail "status $status"
	assert_one_error_line
	moat_as rm cn1 >/dev/null
}

@test "commit: an empty change set adds no layer (Docker's empty_layer)" {
	moat_as create --name ce1 "$IMG" true >/dev/null
	run moat_as commit ce1 empty:1
	assert_success
	run moat_as image inspect -f '{{json .RootFS.Layers}}' empty:1
	local new=$output
	run moat_as image inspect -f '{{json .RootFS.Layers}}' "$IMG"
	[[ $new == "$output" ]] || fail "layers changed: $output -> $new"
	run config_of empty:1
	run json_get 'c["history"][-1].get("empty_layer"), c["history"][-1]["created_by"]' <<<"$output"
	assert_output 'True moat commit'
	moat_as rm ce1 >/dev/null
}

@test "commit: signed with the local key, runnable, audited" {
	moat_as create --name ct1 "$IMG" true >/dev/null
	local cid
	cid=$(moat_as inspect -f '{{.Id}}' ct1)
	run moat_as commit ct1 signed:1
	assert_success
	local id=$output
	run moat_as image inspect -f '{{json .MoatTrust}}' signed:1
	assert_success
	assert_output --partial '"Rule":"local"'
	assert_output --partial '"Source":"docker.io/library/signed:1"'
	run moat_as run --rm signed:1 echo trusted
	assert_success
	assert_output trusted
	run grep '"event":"image.commit"' "$MOAT_STATE/audit/audit.log"
	assert_success
	assert_output --partial "\"container\":\"$cid\""
	assert_output --partial "\"ids\":[\"$id\"]"
	assert_output --partial '"names":["signed:1"]'
	run grep '"event":"trust.decision"' "$MOAT_STATE/audit/audit.log"
	assert_output --partial '"action":"commit"'
	moat_as audit verify >/dev/null
	moat_as rm ct1 >/dev/null
}

@test "commit: a missing container is Docker's 'No such container', exit 1" {
	run --separate-stderr moat_as commit nosuch
	[[ $status -eq 1 ]] || fail "status $status"
	assert_one_error_line
	[[ $stderr == "moat: No such container: nosuch" ]] || fail "$stderr"
	run --separate-stderr moat_as commit
	[[ $status -eq 125 ]] || fail "no arguments: status $status"
	run --separate-stderr moat_as commit a b c
	[[ $status -eq 125 ]] || fail "three arguments: status $status"
	run --separate-stderr moat_as commit --pause=maybe x
	[[ $status -eq 125 ]] || fail "--pause=maybe: status $status"
}

@test "commit: a running container is committed and left running" {
	moat_as run -d --name cr1 "$IMG" sh -c 'echo live >/etc/live; sleep 1000' >/dev/null
	run --separate-stderr moat_as commit cr1 live:1
	assert_success
	if is_rootless; then
		[[ $stderr == "moat: warning: cr1 is not paused during the commit (no freezer cgroup for rootless containers)" ]] ||
			fail "stderr: $stderr"
	else
		[[ -z $stderr ]] || fail "stderr: $stderr"
	fi
	run moat_as inspect -f '{{.State.Status}}' cr1
	assert_output running
	run moat_as run --rm live:1 cat /etc/live
	assert_output live
	# --pause=false: no pause, no warning
	run --separate-stderr moat_as commit --pause=false cr1
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	if is_root_identity; then
		# a paused container stays paused
		moat_as pause cr1 >/dev/null
		run moat_as commit cr1
		assert_success
		run moat_as inspect -f '{{.State.Status}}' cr1
		assert_output paused
		moat_as unpause cr1 >/dev/null
	fi
	moat_as rm -f cr1 >/dev/null
}
