#!/usr/bin/env bats
# Named and anonymous volumes, as root and rootless: data that outlives its
# container, sharing, the anonymous volumes of `-v /ctr` and of an image's
# VOLUME and when they go (rm -v, run --rm, --volumes-from), Docker's
# copy-up of the image's content into a new volume (owners and modes, nocopy,
# only into an empty volume, once per container), the owners of the files
# on the host for each identity, removal refused while a container refers
# to a volume, invalid names, and a copy-up that fills the disk.
#
# Volumes are looked at where volume/volume.h keeps them
# (ROOT/volumes/<name>/_data, the record in volume.json) as well as through
# `moat volume`, so a test does not trust the verbs it checks.

load ../lib/helpers

# A wedged moat must fail its test, not hang the suite.
MOAT_WRAP=${MOAT_WRAP:-timeout 120}

# ---- images ----
#
# cimg: the probe image plus /var/data (0750, root) holding file (1000:1000,
#       0600, "img"), sub/ (1000:1000, 0710) and link -> file (owned 7:7);
# vimg: the same with VOLUME /var/data.
# (/var: the container may not create entries directly in "/", see
# sandbox/landlock.c.)
setup_file() {
	moat_setup_file || return 1
	local out
	if ! out=$(moat_as run --name img-base "$IMG" sh -c '
		mkdir -p /var/data/sub &&
		echo img >/var/data/file &&
		chown 1000:1000 /var/data/file /var/data/sub &&
		chmod 0600 /var/data/file && chmod 0710 /var/data/sub &&
		chmod 0750 /var/data &&
		ln -s file /var/data/link && chown -h 7:7 /var/data/link' 2>&1) ||
		! out=$(moat_as commit img-base cimg 2>&1) ||
		! out=$(moat_as commit --change 'VOLUME /var/data' img-base vimg 2>&1) ||
		! out=$(moat_as rm img-base 2>&1); then
		echo "# building the test images failed: $out" >&3
		return 1
	fi
}

VOLS_TMPFS=

teardown() {
	# The disk-full test's tmpfs, if that test failed before unmounting it:
	# it is under the state dir, so the leak check below reports it too.
	if [[ -n $VOLS_TMPFS ]] && grep -qF " $VOLS_TMPFS " /proc/self/mountinfo; then
		umount "$VOLS_TMPFS" 2>/dev/null || umount -l "$VOLS_TMPFS" 2>/dev/null || true
	fi
	moat_check_clean
}

# ---- helpers ----

voldir() { echo "$MOAT_STATE/root/volumes"; }
vol_data() { echo "$MOAT_STATE/root/volumes/$1/_data"; }

# Every directory under ROOT/volumes (records and debris alike): what
# "nothing created, nothing left" compares.
vol_entries() {
	find "$(voldir)" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort
}

# The volumes with a record.
vol_records() {
	local d
	for d in "$(voldir)"/*/; do
		[[ -f $d/volume.json ]] && basename "$d"
	done | sort
	return 0
}

vol_exists() { [[ -f $MOAT_STATE/root/volumes/$1/volume.json ]]; }

# vol_json NAME KEY: a field of the volume's record.
vol_json() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v) if not isinstance(v,str) else v)' \
		"$MOAT_STATE/root/volumes/$1/volume.json" "$2"
}

# A volume name unique to this test.
vname() { echo "t${BATS_TEST_NUMBER}-$1"; }

# mount_of CONTAINER DEST FIELD: FIELD of the inspect Mounts entry for DEST
# (booleans as true/false; "MISSING" when there is no such mount).
mount_of() {
	moat_as inspect -f '{{json .Mounts}}' "$1" | python3 -c '
import json, sys
ms = [m for m in json.load(sys.stdin) if m["Destination"] == sys.argv[1]]
if not ms:
    print("MISSING")
else:
    v = ms[0].get(sys.argv[2], "MISSING")
    print(json.dumps(v) if isinstance(v, bool) else v)' "$2" "$3"
}

# The host uid of container uid $1 for the identity under test: as root
# the unprivileged range at ROOT_ID_BASE; rootless with subordinate ids,
# 0 is the user and n >= 1 is the n-th id of the user's subuid range.
host_uid() {
	if is_root_identity; then
		echo $((ROOT_ID_BASE + $1))
	elif [[ $1 -eq 0 ]]; then
		user_uid "$MOAT_TEST_USER"
	else
		echo $(($(awk -F: -v u="$MOAT_TEST_USER" '$1 == u {print $2; exit}' /etc/subuid) + $1 - 1))
	fi
}

# `moat volume rm` with a bound: used to clean up, and checked.
vol_rm() {
	run --separate-stderr moat_as volume rm "$@"
	[[ $status -eq 0 ]] || fail "volume rm $*: exit $status: $stderr"
}

no_containers() {
	run moat_as ps -a -q
	assert_success
	[[ -z $output ]] || fail "containers left: $output"
}

# ---- persistence and sharing ----

@test "volumes: data in a named volume persists across rm and a new run" {
	local v
	v=$(vname keep)
	run --separate-stderr moat_as run --name keep1 -v "$v:/var/keep" "$IMG" \
		sh -c 'echo persisted >/var/keep/f'
	assert_success
	moat_as rm keep1 >/dev/null
	vol_exists "$v" || fail "the named volume went with its container"
	[[ $(cat "$(vol_data "$v")/f") == persisted ]] || fail "not on the host: $(ls -la "$(vol_data "$v")")"
	run --separate-stderr mrun -v "$v:/srv/other" "$IMG" cat /srv/other/f
	assert_success
	assert_output persisted
	# and `volume ls` knows it
	run --separate-stderr moat_as volume ls -q
	assert_success
	assert_line "$v"
	vol_rm "$v"
	! vol_exists "$v" || fail "volume rm left the record"
	[[ ! -e $(voldir)/$v ]] || fail "volume rm left $(voldir)/$v"
}

@test "volumes: two running containers share a named volume" {
	local v
	v=$(vname shared)
	# the first waits (bounded) for the second's file, then copies it
	run --separate-stderr moat_as run -d --name share1 -v "$v:/var/s" "$IMG" sh -c '
		echo one >/var/s/one
		i=0
		while [ ! -e /var/s/two ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
		cat /var/s/two >/var/s/seen'
	assert_success
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -e $(vol_data "$v")/one ]] && break
		sleep 0.1
	done
	run --separate-stderr mrun -v "$v:/mnt/s" "$IMG" sh -c 'cat /mnt/s/one; echo two >/mnt/s/two'
	assert_success
	assert_output one
	run moat_as wait share1
	assert_output 0
	[[ $(cat "$(vol_data "$v")/seen") == two ]] || fail "the first container did not see the second's write"
	moat_as rm share1 >/dev/null
	vol_rm "$v"
}

# ---- anonymous volumes ----

@test "volumes: -v /ctr is an anonymous volume; rm -v removes it and keeps the named one" {
	local v before anon
	v=$(vname named)
	before=$(vol_entries)
	run --separate-stderr moat_as run --name anon1 -v /var/anon -v "$v:/var/named" "$IMG" \
		sh -c 'echo a >/var/anon/a; echo n >/var/named/n'
	assert_success
	[[ $(mount_of anon1 /var/anon Type) == volume ]] || fail "$(moat_as inspect -f '{{json .Mounts}}' anon1)"
	anon=$(mount_of anon1 /var/anon Name)
	[[ $anon =~ ^[0-9a-f]{64}$ ]] || fail "anonymous volume name: $anon"
	[[ $(mount_of anon1 /var/anon Source) == "$(vol_data "$anon")" ]] || fail "Source: $(mount_of anon1 /var/anon Source)"
	[[ $(mount_of anon1 /var/anon RW) == true ]] || fail "RW"
	[[ $(vol_json "$anon" Anonymous) == true ]] || fail "record: $(cat "$(voldir)/$anon/volume.json")"
	[[ $(vol_json "$v" Anonymous) == false ]] || fail "named record: $(cat "$(voldir)/$v/volume.json")"
	[[ $(cat "$(vol_data "$anon")/a") == a ]] || fail "anonymous data not on the host"

	run --separate-stderr moat_as rm -v anon1
	assert_success
	[[ ! -e $(voldir)/$anon ]] || fail "rm -v left the anonymous volume: $(ls -la "$(voldir)/$anon")"
	vol_exists "$v" || fail "rm -v removed the named volume"
	[[ $(cat "$(vol_data "$v")/n") == n ]] || fail "named volume's data lost"
	vol_rm "$v"
	[[ $(vol_entries) == "$before" ]] || fail "volumes left: $(vol_entries)"
}

@test "volumes: rm without -v keeps the anonymous volume" {
	local anon
	moat_as run --name anon2 -v /var/anon "$IMG" true >/dev/null
	anon=$(mount_of anon2 /var/anon Name)
	moat_as rm anon2 >/dev/null
	vol_exists "$anon" || fail "rm (no -v) removed the anonymous volume"
	vol_rm "$anon"
}

@test "volumes: an image VOLUME gets an anonymous volume with the image's content; a flag on its target replaces it" {
	local before anon v
	before=$(vol_entries)
	run --separate-stderr moat_as run --name ivol vimg ls -A /var/data
	assert_success
	[[ $output == $'file\nlink\nsub' ]] || fail "image content: $output"
	anon=$(mount_of ivol /var/data Name)
	[[ $anon =~ ^[0-9a-f]{64}$ ]] || fail "no anonymous volume for the image's VOLUME: $(moat_as inspect -f '{{json .Mounts}}' ivol)"
	[[ $(vol_json "$anon" Anonymous) == true ]] || fail "record"
	[[ $(cat "$(vol_data "$anon")/file") == img ]] || fail "not seeded on the host"
	moat_as rm -v ivol >/dev/null
	[[ $(vol_entries) == "$before" ]] || fail "left: $(vol_entries)"

	# -v NAME on the VOLUME's path: that volume, and no anonymous one
	v=$(vname over)
	run --separate-stderr mrun -v "$v:/var/data" vimg cat /var/data/file
	assert_success
	assert_output img
	[[ $(vol_entries) == "$(sort <<<"$before"$'\n'"$v" | sed '/^$/d')" ]] || fail "volumes now: $(vol_entries)"
	vol_rm "$v"
}

@test "volumes: run --rm removes the anonymous volumes and keeps the named one" {
	local before v
	v=$(vname kept)
	before=$(vol_entries)
	# vimg adds an anonymous volume at /var/data, -v /var/anon another
	run --separate-stderr mrun -v /var/anon -v "$v:/var/named" vimg \
		sh -c 'touch /var/anon/x /var/data/y /var/named/z'
	assert_success
	[[ $(vol_entries) == "$(sort <<<"$before"$'\n'"$v" | sed '/^$/d')" ]] || fail "volumes now: $(vol_entries)"
	[[ -e $(vol_data "$v")/z ]] || fail "the named volume lost its data"
	vol_rm "$v"
}

@test "volumes: an anonymous volume shared by --volumes-from outlives the first container's rm -v" {
	local anon
	moat_as run --name vf-a -v /var/anon "$IMG" sh -c 'echo shared >/var/anon/f' >/dev/null
	anon=$(mount_of vf-a /var/anon Name)
	run --separate-stderr moat_as run --name vf-b --volumes-from vf-a "$IMG" cat /var/anon/f
	assert_success
	assert_output shared
	[[ $(mount_of vf-b /var/anon Name) == "$anon" ]] || fail "vf-b has another volume"
	run --separate-stderr moat_as rm -v vf-a
	assert_success
	vol_exists "$anon" || fail "rm -v vf-a removed a volume vf-b still uses"
	run --separate-stderr moat_as start -a vf-b
	assert_success
	assert_output shared
	run --separate-stderr moat_as rm -v vf-b
	assert_success
	[[ ! -e $(voldir)/$anon ]] || fail "the last user's rm -v left it"
}

# ---- copy-up ----

@test "volumes: copy-up: a new named volume over /etc holds the image's files" {
	local v want
	v=$(vname etc)
	want=$(moat_as run --rm "$IMG" sh -c 'cat /etc/passwd /etc/group; stat -c "%a %u:%g" /etc/passwd /etc/group')
	[[ -n $want ]] || fail "no reference"
	run --separate-stderr mrun -v "$v:/etc" "$IMG" sh -c 'cat /etc/passwd /etc/group; stat -c "%a %u:%g" /etc/passwd /etc/group'
	assert_success
	[[ $output == "$want" ]] || fail "with the volume:"$'\n'"$output"$'\n'"without:"$'\n'"$want"
	# on the host: the files, owned by container root as this identity maps it
	local d
	d=$(vol_data "$v")
	[[ -f $d/passwd && -f $d/group ]] || fail "not in the volume: $(ls -la "$d")"
	[[ $(stat -c '%u %a' "$d/passwd") == "$(host_uid 0) 644" ]] || fail "passwd on the host: $(stat -c '%u %a' "$d/passwd")"
	vol_rm "$v"
}

@test "volumes: copy-up keeps owners, modes and symlinks as the container sees them" {
	local v want
	v=$(vname own)
	want=$(moat_as run --rm cimg sh -c 'cd /var/data && stat -c "%n %a %u:%g %F" . file sub link && readlink link && cat file')
	[[ $want == *"file 600 1000:1000 regular file"* ]] || fail "reference: $want"
	run --separate-stderr mrun -v "$v:/var/data" cimg sh -c 'cd /var/data && stat -c "%n %a %u:%g %F" . file sub link && readlink link && cat file'
	assert_success
	[[ $output == "$want" ]] || fail "with the volume:"$'\n'"$output"$'\n'"image:"$'\n'"$want"
	# the host side of the same ids
	local d
	d=$(vol_data "$v")
	[[ $(stat -c '%u:%g %a' "$d") == "$(host_uid 0):$(host_uid 0) 750" ]] || fail "_data: $(stat -c '%u:%g %a' "$d")"
	[[ $(stat -c '%u:%g %a' "$d/file") == "$(host_uid 1000):$(host_uid 1000) 600" ]] || fail "file: $(stat -c '%u:%g %a' "$d/file")"
	[[ $(stat -c '%u:%g %a' "$d/sub") == "$(host_uid 1000):$(host_uid 1000) 710" ]] || fail "sub: $(stat -c '%u:%g %a' "$d/sub")"
	[[ -L $d/link && $(readlink "$d/link") == file ]] || fail "link: $(ls -la "$d")"
	[[ $(stat -c '%u' "$d/link") == "$(host_uid 7)" ]] || fail "link owner: $(stat -c '%u' "$d/link")"
	vol_rm "$v"
}

@test "volumes: nocopy keeps a new volume empty (-v :nocopy and --mount volume-nocopy)" {
	local v1 v2
	v1=$(vname nc1)
	v2=$(vname nc2)
	run --separate-stderr mrun -v "$v1:/var/data:nocopy" cimg ls -A /var/data
	assert_success
	assert_output ""
	run --separate-stderr mrun --mount "type=volume,source=$v2,target=/var/data,volume-nocopy" cimg ls -A /var/data
	assert_success
	assert_output ""
	[[ -z $(ls -A "$(vol_data "$v1")") && -z $(ls -A "$(vol_data "$v2")") ]] || fail "seeded on the host"
	# and without nocopy the same image does seed (the test can fail)
	run --separate-stderr mrun -v "$v1:/var/data" cimg ls -A /var/data
	assert_success
	[[ $output == $'file\nlink\nsub' ]] || fail "$output"
	vol_rm "$v1" "$v2"
}

@test "volumes: a volume that is not empty is not seeded" {
	local v
	v=$(vname full)
	# /mnt/x is not in the image: nothing to copy, the file is the user's
	run --separate-stderr mrun -v "$v:/mnt/x" cimg sh -c 'echo mine >/mnt/x/own'
	assert_success
	run --separate-stderr mrun -v "$v:/var/data" cimg ls -A /var/data
	assert_success
	assert_output own
	[[ ! -e $(vol_data "$v")/file ]] || fail "seeded over the user's data"
	vol_rm "$v"
}

@test "volumes: a second start of the same container does not seed again after it was emptied" {
	local v
	v=$(vname once)
	moat_as create --name seed1 -v "$v:/var/data" cimg sh -c 'ls -A /var/data; rm -rf /var/data/*; echo emptied' >/dev/null
	run --separate-stderr moat_as start -a seed1
	assert_success
	[[ $output == $'file\nlink\nsub\nemptied' ]] || fail "first start: $output"
	run --separate-stderr moat_as start -a seed1
	assert_success
	assert_output emptied
	[[ -z $(ls -A "$(vol_data "$v")") ]] || fail "seeded again: $(ls -A "$(vol_data "$v")")"
	moat_as rm seed1 >/dev/null
	vol_rm "$v"

	# the same for the anonymous volume of an image VOLUME
	moat_as create --name seed2 vimg sh -c 'ls -A /var/data; rm -rf /var/data/*; echo emptied' >/dev/null
	run --separate-stderr moat_as start -a seed2
	assert_success
	[[ $output == $'file\nlink\nsub\nemptied' ]] || fail "first start: $output"
	run --separate-stderr moat_as start -a seed2
	assert_success
	assert_output emptied
	moat_as rm -v seed2 >/dev/null
}

@test "volumes: containers started together on a new volume all see the whole copy" {
	# volume/volume.h: seeding is serialised through ROOT/volumes/.lock. A
	# container that finds a copy in progress must wait for it, not take
	# the half-filled volume for the user's data and run on it.
	moat_as run --name many-base "$IMG" sh -c \
		'mkdir -p /var/many && i=0 && while [ $i -lt 400 ]; do echo $i >/var/many/f$i; i=$((i+1)); done' >/dev/null
	moat_as commit many-base manyimg >/dev/null
	moat_as rm many-base >/dev/null
	local round i bad="" out
	for round in 1 2; do
		for i in 1 2 3 4 5 6; do
			(
				out=$(moat_as run --rm -v "$(vname r$round):/var/many" manyimg sh -c 'ls /var/many | wc -l' 2>&1)
				echo "rc=$? $out" >"$MOAT_T/scratch/race.$round.$i"
			) &
		done
		wait
		for i in 1 2 3 4 5 6; do
			out=$(tr '\n' ' ' <"$MOAT_T/scratch/race.$round.$i")
			[[ $out == "rc=0 400 " ]] || bad+="  round $round, container $i: $out"$'\n'
		done
		[[ $(find "$(vol_data "$(vname r$round)")" -type f | wc -l) -eq 400 ]] || bad+="  round $round: the volume holds $(find "$(vol_data "$(vname r$round)")" -type f | wc -l) files"$'\n'
		vol_rm "$(vname r$round)"
	done
	moat_as rmi manyimg >/dev/null
	[[ -z $bad ]] || fail "containers that did not see the image's 400 files:"$'\n'"$bad"
}

@test "volumes: the policy's volumeDrivers: [] refuses named, anonymous and image volumes; nothing created" {
	local p before
	p=$MOAT_T/scratch/novol.json
	echo '{"default": {"volumeDrivers": []}}' >"$p"
	chmod 0644 "$p"
	moat_as create --name vd-src -v /var/anon "$IMG" true >/dev/null
	before=$(vol_entries)
	local spec
	for spec in "-v $(vname x):/var/x $IMG" "-v /var/x $IMG" "--mount type=volume,dst=/var/x $IMG" "vimg" "--volumes-from vd-src $IMG"; do
		# shellcheck disable=SC2086
		run --separate-stderr moat_as --policy "$p" run --rm $spec true
		[[ $status -eq 125 ]] || fail "$spec: exit $status ($stderr)"
		assert_one_error_line
		[[ $stderr == "moat: policy: default.volumeDrivers: "* ]] || fail "$spec: $stderr"
	done
	[[ $(vol_entries) == "$before" ]] || fail "volumes made: $(vol_entries)"
	run moat_as ps -a -q
	[[ $(wc -l <<<"$output") -eq 1 ]] || fail "containers: $output"
	# ["local"] lets them through
	echo '{"default": {"volumeDrivers": ["local"]}}' >"$p"
	run --separate-stderr moat_as --policy "$p" run --rm -v /var/x vimg true
	assert_success
	[[ $(vol_entries) == "$before" ]] || fail "run --rm left: $(vol_entries)"
	moat_as rm -v vd-src >/dev/null
}

# ---- ownership on the host ----

@test "volumes: the host owner of files written in a volume (container root and uid 1000)" {
	local v d
	v=$(vname ids)
	run --separate-stderr mrun -v "$v:/var/ids" "$IMG" sh -c '
		echo r >/var/ids/byroot && mkdir /var/ids/dir &&
		echo u >/var/ids/by1000 && chown 1000:1000 /var/ids/by1000 &&
		stat -c "%u" /var/ids/byroot /var/ids/by1000'
	assert_success
	assert_output $'0\n1000'
	d=$(vol_data "$v")
	if is_root_identity; then
		# the contract's numbers: 0 -> 2147418112, 1000 -> 2147419112
		[[ $(stat -c '%u:%g' "$d/byroot") == 2147418112:2147418112 ]] || fail "$(stat -c '%u:%g' "$d/byroot")"
		[[ $(stat -c '%u:%g' "$d/dir") == 2147418112:2147418112 ]] || fail "$(stat -c '%u:%g' "$d/dir")"
		[[ $(stat -c '%u:%g' "$d/by1000") == 2147419112:2147419112 ]] || fail "$(stat -c '%u:%g' "$d/by1000")"
	else
		# the user for container root; 1000 is subuid start + 999
		# (100999 for moattest's 100000:65536)
		local me sub
		me=$(user_uid "$MOAT_TEST_USER")
		sub=$(awk -F: -v u="$MOAT_TEST_USER" '$1 == u {print $2; exit}' /etc/subuid)
		[[ -n $sub ]] || fail "$MOAT_TEST_USER has no subordinate uids (run tests/lib/setup-user.sh)"
		[[ $(stat -c '%u' "$d/byroot") == "$me" ]] || fail "$(stat -c '%u' "$d/byroot")"
		[[ $(stat -c '%u' "$d/dir") == "$me" ]] || fail "$(stat -c '%u' "$d/dir")"
		[[ $(stat -c '%u' "$d/by1000") == $((sub + 999)) ]] || fail "$(stat -c '%u' "$d/by1000")"
	fi
	vol_rm "$v"
	[[ ! -e $(voldir)/$v ]] || fail "volume rm left files owned by sub-ids: $(find "$(voldir)/$v" -printf '%u %p\n')"
}

# ---- removal ----

@test "volumes: a volume in use, even by a stopped or never-started container, is not removed" {
	local v id
	v=$(vname busy)
	id=$(moat_as create --name busy1 -v "$v:/var/b" -v /var/anon "$IMG" sh -c 'echo x >/var/b/x')
	run --separate-stderr moat_as volume rm "$v"
	assert_failure
	[[ $stderr == *"volume is in use"*"$id"* ]] || fail "created: $stderr"
	vol_exists "$v" || fail "removed while in use by a created container"
	run --separate-stderr moat_as start -a busy1
	assert_success
	run --separate-stderr moat_as volume rm -f "$v"
	assert_failure
	[[ $stderr == *"volume is in use"* ]] || fail "stopped, -f: $stderr"
	vol_exists "$v" || fail "removed while in use by a stopped container"
	[[ -e $(vol_data "$v")/x ]] || fail "its data went"
	# volume prune leaves them too, the anonymous one included
	local anon
	anon=$(mount_of busy1 /var/anon Name)
	vol_exists "$anon" || fail "no anonymous volume: $anon"
	run --separate-stderr moat_as volume prune -f
	assert_success
	vol_exists "$anon" || fail "volume prune removed an anonymous volume in use"
	run --separate-stderr moat_as volume prune -f -a
	assert_success
	vol_exists "$v" || fail "volume prune -a removed a volume in use"
	vol_exists "$anon" || fail "volume prune -a removed an anonymous volume in use"
	run --separate-stderr moat_as volume rm "$anon"
	assert_failure
	[[ $stderr == *"volume is in use"* ]] || fail "anonymous: $stderr"
	moat_as rm -v busy1 >/dev/null
	! vol_exists "$anon" || fail "rm -v left the anonymous volume"
	vol_rm "$v"
	! vol_exists "$v" || fail "not removed once unused"
}

# ---- invalid names ----

@test "volumes: names with '..' or '/' are refused: one line, exit 125, nothing created" {
	local before_v before_s spec
	before_v=$(vol_entries)
	before_s=$(store_files)
	for spec in "..:/var/data" "../x:/var/data" "a/b:/var/data" "x/../y:/var/data" "../../etc:/var/data" ".:/var/data"; do
		run --separate-stderr moat_as run --rm -v "$spec" "$IMG" true
		[[ $status -eq 125 ]] || fail "-v $spec: exit $status ($stderr)"
		assert_one_error_line
		[[ $stderr == *"includes invalid characters for a local volume name"* ||
			$stderr == *"is too short"* ]] || fail "-v $spec: $stderr"
		run --separate-stderr moat_as create -v "$spec" "$IMG" true
		[[ $status -eq 125 ]] || fail "create -v $spec: exit $status"
	done
	for spec in "source=..,target=/var/data" "source=a/b,target=/var/data" "src=../../x,dst=/var/data"; do
		run --separate-stderr moat_as run --rm --mount "$spec" "$IMG" true
		[[ $status -eq 125 ]] || fail "--mount $spec: exit $status ($stderr)"
		assert_one_error_line
		[[ $stderr == *"includes invalid characters for a local volume name"* ]] || fail "--mount $spec: $stderr"
	done
	for spec in ".." "../x" "a/b" "x/../y"; do
		run --separate-stderr moat_as volume create "$spec"
		assert_failure
		assert_one_error_line
		[[ $stderr == *"includes invalid characters"* ]] || fail "volume create $spec: $stderr"
	done
	no_containers
	[[ $(vol_entries) == "$before_v" ]] || fail "volumes now: $(vol_entries)"
	[[ $(store_files) == "$before_s" ]] || fail "the store changed"
	[[ ! -e $MOAT_STATE/root/x && ! -e $MOAT_STATE/x && ! -e $MOAT_STATE/root/etc ]] || fail "a path outside volumes/ was made"
}

# ---- a full disk while seeding ----

@test "volumes: copy-up onto a full disk: clear error, nothing left, the volume empty or gone" {
	local vd v uid gid tmpf
	v=$(vname df)
	# an image directory of 3 MiB, for a 2 MiB filesystem
	moat_as run --name big-base "$IMG" sh -c \
		'mkdir /var/big && dd if=/dev/zero of=/var/big/blob bs=1024 count=3072 2>/dev/null && echo small >/var/big/a' >/dev/null
	moat_as commit big-base bigimg >/dev/null
	moat_as rm big-base >/dev/null
	vd=$(voldir)
	if is_root_identity; then
		uid=0 gid=0
	else
		uid=$(user_uid "$MOAT_TEST_USER")
		gid=$(id -g "$MOAT_TEST_USER")
	fi
	[[ -d $vd ]] || install -d -m 0700 -o "$uid" -g "$gid" "$vd"
	[[ -z $(vol_records) ]] || fail "volumes from earlier tests would be hidden: $(vol_records)"
	# This test is root (the bats process): it mounts the small disk for
	# either identity, owned by the identity under test.
	mount -t tmpfs -o "size=2m,mode=0700,uid=$uid,gid=$gid" moat-test-full "$vd"
	VOLS_TMPFS=$vd

	run --separate-stderr moat_as run --rm -v "$v:/var/big" bigimg true
	[[ $status -ne 0 ]] || fail "the container ran on half a copy"
	[[ $stderr == *"/var/big"* && $stderr == *"No space left on device"* ]] || fail "stderr: $stderr"
	assert_one_error_line
	no_containers
	if vol_exists "$v"; then
		tmpf=$(find "$(vol_data "$v")" -mindepth 1 | head -5)
		[[ -z $tmpf ]] || fail "the failed copy-up was left in the volume: $tmpf"
	fi
	# A second try fails the same way: it must not find a half-filled
	# volume, take it for the user's data and run on it.
	run --separate-stderr moat_as run --rm -v "$v:/var/big" bigimg sh -c 'ls -l /var/big'
	[[ $status -ne 0 ]] || fail "second run succeeded on a partial copy: $output"
	[[ $stderr == *"No space left on device"* ]] || fail "second stderr: $stderr"
	no_containers

	if vol_exists "$v"; then
		vol_rm "$v"
	fi
	umount "$vd"
	VOLS_TMPFS=
	! grep -qF " $vd " /proc/self/mountinfo || fail "the tmpfs is still mounted"
	moat_as rmi bigimg >/dev/null
}
