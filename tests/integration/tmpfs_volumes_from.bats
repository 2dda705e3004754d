#!/usr/bin/env bats
# tmpfs mounts (--tmpfs and --mount type=tmpfs: size, mode, noexec and
# nosuid by default, exec, read-only, refusals) and --volumes-from (the
# volumes and binds of another container at the same paths, :ro and :rw,
# chains, a flag's own target winning, stopped and never-started sources,
# an unknown source refused with nothing made), and the Mounts that
# inspect shows, as root and rootless.

load ../lib/helpers

# A wedged moat must fail its test, not hang the suite.
MOAT_WRAP=${MOAT_WRAP:-timeout 120}

# ---- helpers ----

voldir() { echo "$MOAT_STATE/root/volumes"; }
vol_data() { echo "$MOAT_STATE/root/volumes/$1/_data"; }
vol_entries() {
	find "$(voldir)" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort
}
vol_exists() { [[ -f $MOAT_STATE/root/volumes/$1/volume.json ]]; }
vname() { echo "t${BATS_TEST_NUMBER}-$1"; }

vol_rm() {
	run --separate-stderr moat_as volume rm "$@"
	[[ $status -eq 0 ]] || fail "volume rm $*: exit $status: $stderr"
}

no_containers() {
	run moat_as ps -a -q
	assert_success
	[[ -z $output ]] || fail "containers left: $output"
}

# refused WHY ARGS...: `moat run --rm ARGS` fails with 125, one line
# holding WHY, and no container is left.
refused() {
	local why=$1 vols
	shift
	vols=$(vol_entries)
	run --separate-stderr moat_as run --rm "$@"
	[[ $status -eq 125 ]] || fail "run $*: exit $status, stderr: $stderr"
	assert_one_error_line
	[[ $stderr == *"$why"* ]] || fail "run $*: want '$why', got: $stderr"
	no_containers
	[[ $(vol_entries) == "$vols" ]] || fail "run $*: volumes made: $(vol_entries)"
}

# mounts CONTAINER: inspect's Mounts, one line per mount, sorted:
# "Destination Type Name Source RW Propagation".
mounts() {
	moat_as inspect -f '{{json .Mounts}}' "$1" | python3 -c '
import json, sys
for m in sorted(json.load(sys.stdin), key=lambda m: m["Destination"]):
    print(m["Destination"], m["Type"], m.get("Name", "-") or "-", m["Source"] or "-",
          str(m["RW"]).lower(), m.get("Propagation") or "-")'
}

# mount_of CONTAINER DEST FIELD ("MISSING" when there is no such mount).
mount_of() {
	moat_as inspect -f '{{json .Mounts}}' "$1" | python3 -c '
import json, sys
ms = [m for m in json.load(sys.stdin) if m["Destination"] == sys.argv[1]]
v = ms[0].get(sys.argv[2], "MISSING") if ms else "MISSING"
print(json.dumps(v) if isinstance(v, bool) else v)' "$2" "$3"
}

# The /proc/mounts options of the mount on $1, from $output.
mount_opts() { awk -v t="$1" '$2 == t {print $4}' <<<"$output"; }
has_opt() { [[ ,$1, == *",$2,"* ]]; }

# A bind source the container may write to.
hostdir() {
	install -d -m 0755 -o "$(host_uid_of_container_root)" -g "$(host_uid_of_container_root)" "$1"
}

# ---- tmpfs ----

@test "tmpfs: --tmpfs size and mode show in /proc/mounts; nosuid, nodev, noexec by default" {
	run --separate-stderr mrun --tmpfs /mnt/t:size=1m,mode=0700 "$IMG" sh -c 'cat /proc/mounts; stat -c "mode=%a" /mnt/t; df -k /mnt/t | tail -1'
	assert_success
	local o
	o=$(mount_opts /mnt/t)
	[[ -n $o ]] || fail "no tmpfs on /mnt/t: $output"
	[[ $(awk '$2 == "/mnt/t" {print $3}' <<<"$output") == tmpfs ]] || fail "not a tmpfs"
	for opt in rw nosuid nodev noexec size=1024k mode=700; do
		has_opt "$o" "$opt" || fail "/mnt/t lacks $opt: $o"
	done
	assert_line mode=700
	[[ $(tail -1 <<<"$output") =~ ^tmpfs[[:space:]]+1024[[:space:]] ]] || fail "df: $(tail -1 <<<"$output")"
	# without options: Docker's mode 1777 (tmpfs does not print it) and
	# the same safe flags
	run --separate-stderr mrun --tmpfs /mnt/t "$IMG" sh -c 'cat /proc/mounts; stat -c "mode=%a" /mnt/t'
	assert_success
	o=$(mount_opts /mnt/t)
	for opt in rw nosuid nodev noexec; do
		has_opt "$o" "$opt" || fail "default /mnt/t lacks $opt: $o"
	done
	assert_line mode=1777
	# 1g, 512k: the units
	run --separate-stderr mrun --tmpfs /mnt/t:size=512k "$IMG" sh -c 'cat /proc/mounts'
	has_opt "$(mount_opts /mnt/t)" size=512k || fail "$(mount_opts /mnt/t)"
}

@test "tmpfs: a binary copied into a tmpfs does not run (noexec); :exec lets it" {
	run --separate-stderr mrun --tmpfs /mnt/t "$IMG" sh -c 'cp /bin/busybox /mnt/t/busybox && chmod 755 /mnt/t/busybox && /mnt/t/busybox echo ran'
	assert_failure
	refute_output --partial ran
	[[ $stderr == *"Permission denied"* ]] || fail "$stderr"
	run --separate-stderr mrun --tmpfs /mnt/t:exec "$IMG" sh -c 'cp /bin/busybox /mnt/t/busybox && chmod 755 /mnt/t/busybox && /mnt/t/busybox echo ran; grep " /mnt/t " /proc/mounts'
	assert_success
	assert_line --index 0 ran
	! has_opt "$(mount_opts /mnt/t)" noexec || fail "still noexec: $(mount_opts /mnt/t)"
	has_opt "$(mount_opts /mnt/t)" nosuid || fail "exec dropped nosuid: $(mount_opts /mnt/t)"
}

@test "tmpfs: :ro and --mount readonly make it read-only" {
	run --separate-stderr mrun --tmpfs /mnt/t:ro "$IMG" sh -c 'cat /proc/mounts; touch /mnt/t/x'
	assert_failure
	has_opt "$(mount_opts /mnt/t)" ro || fail "$(mount_opts /mnt/t)"
	[[ $stderr == *"Read-only file system"* ]] || fail "$stderr"
	run --separate-stderr mrun --mount type=tmpfs,target=/mnt/t,readonly "$IMG" sh -c 'cat /proc/mounts; touch /mnt/t/x'
	assert_failure
	has_opt "$(mount_opts /mnt/t)" ro || fail "$(mount_opts /mnt/t)"
	[[ $stderr == *"Read-only file system"* ]] || fail "$stderr"
}

@test "tmpfs: --mount type=tmpfs with tmpfs-size and tmpfs-mode" {
	run --separate-stderr mrun --mount type=tmpfs,destination=/mnt/m,tmpfs-size=2m,tmpfs-mode=1770 "$IMG" \
		sh -c 'cat /proc/mounts; stat -c "mode=%a" /mnt/m; echo data >/mnt/m/f && cat /mnt/m/f'
	assert_success
	local o
	o=$(mount_opts /mnt/m)
	for opt in rw nosuid nodev noexec size=2048k mode=1770; do
		has_opt "$o" "$opt" || fail "/mnt/m lacks $opt: $o"
	done
	assert_line mode=1770
	assert_line data
	# bytes without a unit
	run --separate-stderr mrun --mount type=tmpfs,dst=/mnt/m,tmpfs-size=1048576 "$IMG" cat /proc/mounts
	has_opt "$(mount_opts /mnt/m)" size=1024k || fail "$(mount_opts /mnt/m)"
}

@test "tmpfs: a full tmpfs says No space left; its content is gone at the next start" {
	moat_as create --name tmp-again --tmpfs /mnt/t:size=64k "$IMG" sh -c \
		'ls -A /mnt/t; dd if=/dev/zero of=/mnt/t/big bs=1024 count=128 2>&1 | grep -o "No space left on device"; true' >/dev/null
	run --separate-stderr moat_as start -a tmp-again
	assert_success
	assert_output "No space left on device"
	run --separate-stderr moat_as start -a tmp-again
	assert_success
	assert_output "No space left on device" # ls printed nothing: empty again
	moat_as rm tmp-again >/dev/null
}

@test "tmpfs: bad tmpfs options are refused, nothing created" {
	refused "size" --tmpfs /mnt/t:size=abc "$IMG" true
	refused "mode" --tmpfs /mnt/t:mode=999 "$IMG" true
	refused "--tmpfs" --tmpfs /mnt/t:bogus "$IMG" true
	refused "empty option" --tmpfs /mnt/t:size=1m,,mode=0700 "$IMG" true
	refused "must be absolute" --tmpfs mnt/t "$IMG" true
	refused "source is not supported for tmpfs mounts" --mount type=tmpfs,source=x,target=/mnt/t "$IMG" true
	refused "invalid value for tmpfs-size" --mount type=tmpfs,target=/mnt/t,tmpfs-size=-1 "$IMG" true
	refused "tmpfs-mode" --mount type=tmpfs,target=/mnt/t,tmpfs-mode=abc "$IMG" true
	refused "cannot mix 'tmpfs-*' options with mount type 'bind'" --mount "type=bind,source=/tmp,target=/mnt/t,tmpfs-size=1m" "$IMG" true
	refused "Duplicate mount point" --tmpfs /mnt/t --tmpfs /mnt/t/ "$IMG" true
}

@test "tmpfs: the policy's forbidTmpfs refuses --tmpfs and --mount type=tmpfs" {
	local p=$MOAT_T/scratch/notmpfs.json
	echo '{"default": {"forbidTmpfs": true}}' >"$p"
	chmod 0644 "$p"
	local spec
	for spec in "--tmpfs /mnt/t" "--mount type=tmpfs,dst=/mnt/t"; do
		# shellcheck disable=SC2086
		run --separate-stderr moat_as --policy "$p" run --rm $spec "$IMG" true
		[[ $status -eq 125 ]] || fail "$spec: exit $status"
		assert_one_error_line
		[[ $stderr == "moat: policy: default.forbidTmpfs: "* ]] || fail "$spec: $stderr"
	done
	no_containers
	run --separate-stderr moat_as --policy "$p" run --rm "$IMG" true
	assert_success
}

# ---- --volumes-from ----

# vf_source NAME VOL BINDDIR: a stopped container with a named volume on
# /var/n, an anonymous one on /var/anon, a bind on /mnt/b (rslave) and a
# tmpfs on /mnt/t, each holding a file it wrote.
vf_source() {
	moat_as run --name "$1" -v "$2:/var/n" -v /var/anon -v "$3:/mnt/b:rslave" --tmpfs /mnt/t "$IMG" \
		sh -c 'echo n >/var/n/f; echo a >/var/anon/f; echo b >/mnt/b/f; echo t >/mnt/t/f' >/dev/null
}

@test "volumes-from: the volumes and binds of a stopped container at the same paths, not its tmpfs" {
	local v anon
	v=$(vname n)
	hostdir "$MOAT_T/vf-bind$BATS_TEST_NUMBER"
	vf_source vf-a "$v" "$MOAT_T/vf-bind$BATS_TEST_NUMBER"
	anon=$(mount_of vf-a /var/anon Name)
	[[ $(moat_as inspect -f '{{.State.Status}}' vf-a) == exited ]] || fail "vf-a is not stopped"
	run --separate-stderr moat_as run --name vf-b --volumes-from vf-a "$IMG" sh -c '
		cat /var/n/f /var/anon/f /mnt/b/f; ls -A /mnt/t 2>&1 | head -1; grep -c " /mnt/t " /proc/mounts
		echo fromb >/var/n/g; echo fromb >/mnt/b/g'
	assert_success
	[[ ${lines[0]} == n && ${lines[1]} == a && ${lines[2]} == b ]] || fail "$output"
	[[ ${lines[4]} == 0 ]] || fail "the tmpfs was shared: $output"
	[[ $(cat "$(vol_data "$v")/g") == fromb ]] || fail "not the same volume"
	[[ $(cat "$MOAT_T/vf-bind$BATS_TEST_NUMBER/g") == fromb ]] || fail "not the same bind"
	# inspect: the same mounts, the tmpfs excepted
	local want
	want=$(mounts vf-a | grep -v '^/mnt/t ')
	[[ $(mounts vf-b) == "$want" ]] || fail "vf-b:"$'\n'"$(mounts vf-b)"$'\n'"vf-a without its tmpfs:"$'\n'"$want"
	[[ $(mount_of vf-b /var/anon Name) == "$anon" ]] || fail "another anonymous volume"
	[[ $(mount_of vf-b /mnt/b Propagation) == rslave ]] || fail "bind options lost: $(mounts vf-b)"
	moat_as rm -v vf-b vf-a >/dev/null
	! vol_exists "$anon" || fail "the anonymous volume outlived both"
	vol_rm "$v"
}

@test "volumes-from: works from a container that never started" {
	local v before
	v=$(vname c)
	moat_as create --name vf-created -v "$v:/var/c" -v /var/anon "$IMG" true >/dev/null
	before=$(vol_entries)
	run --separate-stderr mrun --volumes-from vf-created "$IMG" sh -c 'grep -c -e " /var/c " -e " /var/anon " /proc/mounts; echo hi >/var/c/x'
	assert_success
	assert_output 2
	[[ -f $(vol_data "$v")/x ]] || fail "not the created container's volume"
	[[ $(vol_entries) == "$before" ]] || fail "a new volume was made: $(vol_entries)"
	moat_as rm -v vf-created >/dev/null
	vol_rm "$v"
}

@test "volumes-from: :ro makes every shared mount read-only, :rw writable again" {
	local v
	v=$(vname ro)
	hostdir "$MOAT_T/vf-ro$BATS_TEST_NUMBER"
	vf_source vf-ro "$v" "$MOAT_T/vf-ro$BATS_TEST_NUMBER"
	run --separate-stderr moat_as run --name vf-ro-b --volumes-from vf-ro:ro "$IMG" sh -c '
		cat /var/n/f
		echo x >/var/n/w; echo "n=$?"
		echo x >/var/anon/w; echo "anon=$?"
		echo x >/mnt/b/w; echo "b=$?"'
	assert_success
	assert_line n
	assert_line n=1
	assert_line anon=1
	assert_line b=1
	[[ $stderr == *"Read-only file system"* ]] || fail "$stderr"
	[[ ! -e $(vol_data "$v")/w && ! -e $MOAT_T/vf-ro$BATS_TEST_NUMBER/w ]] || fail "written through :ro"
	local d
	for d in /var/n /var/anon /mnt/b; do
		[[ $(mount_of vf-ro-b "$d" RW) == false ]] || fail "$d RW in inspect: $(mounts vf-ro-b)"
	done
	# a :ro source mount comes read-only without a mode, writable with :rw
	moat_as create --name vf-src-ro -v "$v:/var/r:ro" "$IMG" true >/dev/null
	run --separate-stderr mrun --volumes-from vf-src-ro "$IMG" sh -c 'echo x >/var/r/w'
	assert_failure
	[[ $stderr == *"Read-only file system"* ]] || fail "$stderr"
	run --separate-stderr mrun --volumes-from vf-src-ro:rw "$IMG" sh -c 'echo x >/var/r/w'
	assert_success
	[[ -f $(vol_data "$v")/w ]] || fail ":rw did not write"
	moat_as rm -v vf-ro-b vf-ro vf-src-ro >/dev/null
	vol_rm "$v"
}

@test "volumes-from: a chain c -> b -> a reaches a's mounts" {
	local v
	v=$(vname chain)
	moat_as run --name ch-a -v "$v:/var/n" "$IMG" sh -c 'echo from-a >/var/n/f' >/dev/null
	moat_as create --name ch-b --volumes-from ch-a "$IMG" true >/dev/null
	run --separate-stderr mrun --volumes-from ch-b "$IMG" cat /var/n/f
	assert_success
	assert_output from-a
	# and b added its own on top, which c sees too
	moat_as create --name ch-b2 --volumes-from ch-a -v /var/own "$IMG" true >/dev/null
	run --separate-stderr mrun --volumes-from ch-b2 "$IMG" sh -c 'grep -c -e " /var/n " -e " /var/own " /proc/mounts'
	assert_output 2
	moat_as rm -v ch-b2 ch-b ch-a >/dev/null
	vol_rm "$v"
}

@test "volumes-from: a flag's own target wins over the shared mount" {
	local v w
	v=$(vname shared)
	w=$(vname mine)
	moat_as run --name win-a -v "$v:/var/n" "$IMG" sh -c 'echo shared >/var/n/f' >/dev/null
	moat_as run --name win-m -v "$w:/var/x" "$IMG" sh -c 'echo mine >/var/x/f' >/dev/null
	run --separate-stderr moat_as run --name win-b --volumes-from win-a -v "$w:/var/n" "$IMG" cat /var/n/f
	assert_success
	assert_output mine
	[[ $(mount_of win-b /var/n Name) == "$w" ]] || fail "$(mounts win-b)"
	[[ $(moat_as inspect -f '{{json .Mounts}}' win-b | grep -o '"/var/n"' | wc -l) -eq 1 ]] || fail "two mounts on /var/n"
	# a --tmpfs on the target wins too
	run --separate-stderr mrun --volumes-from win-a --tmpfs /var/n "$IMG" ls -A /var/n
	assert_success
	assert_output ""
	moat_as rm win-a win-b win-m >/dev/null
	vol_rm "$v" "$w"
}

@test "volumes-from: an unknown container or a bad mode: clear error, exit 125, nothing created" {
	local before_v
	before_v=$(vol_entries)
	local bad=""
	# each case checked, the failures reported together
	run --separate-stderr moat_as run --rm --volumes-from no-such-ctr -v /var/anon "$IMG" true
	[[ $status -eq 125 ]] || bad+="  run: exit $status (Docker: 125)"$'\n'
	[[ $stderr == "moat: "*"No such container: no-such-ctr" ]] || bad+="  run: stderr: $stderr"$'\n'
	run --separate-stderr moat_as create --volumes-from no-such-ctr -v vf-named-x:/var/x "$IMG" true
	[[ $status -eq 125 ]] || bad+="  create: exit $status (Docker: 125)"$'\n'
	[[ $stderr == "moat: "*"No such container: no-such-ctr" ]] || bad+="  create: stderr: $stderr"$'\n'
	run moat_as ps -a -q
	[[ -z $output ]] || bad+="  containers left: $output"$'\n'
	[[ $(vol_entries) == "$before_v" ]] || bad+="  volumes made: $(vol_entries)"$'\n'
	[[ -z $bad ]] || fail "--volumes-from no-such-ctr:"$'\n'"$bad"
	local id spec
	id=$(moat_as create --name vf-mode "$IMG" true)
	for spec in 'vf-mode:xx|the mode must be "ro" or "rw"' 'vf-mode:|the mode must be "ro" or "rw"' \
		'vf-mode:ro:rw|the mode must be "ro" or "rw"' ':ro|a container is required'; do
		run --separate-stderr moat_as run --rm --volumes-from "${spec%%|*}" "$IMG" true
		[[ $status -eq 125 ]] || fail "--volumes-from ${spec%%|*}: exit $status, stderr: $stderr"
		assert_one_error_line
		[[ $stderr == *"${spec#*|}"* ]] || fail "--volumes-from ${spec%%|*}: $stderr"
		run moat_as ps -a -q --no-trunc
		[[ $output == "$id" ]] || fail "--volumes-from ${spec%%|*}: containers now: $output"
	done
	moat_as rm vf-mode >/dev/null
	no_containers
	[[ $(vol_entries) == "$before_v" ]] || fail "volumes made: $(vol_entries)"
}

@test "volumes-from: :rw cannot get around the policy's bindMounts.readOnly" {
	local p src=$MOAT_T/vf-pol$BATS_TEST_NUMBER
	hostdir "$src"
	p=$MOAT_T/scratch/vf-ro.json
	echo '{"default": {"bindMounts": {"readOnly": true}}}' >"$p"
	chmod 0644 "$p"
	moat_as --policy "$p" create --name vf-pol -v "$src:/mnt/b:ro" "$IMG" true >/dev/null
	run --separate-stderr moat_as --policy "$p" run --rm --volumes-from vf-pol:rw "$IMG" sh -c 'echo x >/mnt/b/w'
	[[ $status -eq 125 ]] || fail "exit $status, stderr: $stderr"
	[[ $stderr == "moat: policy: default.bindMounts.readOnly: "* ]] || fail "$stderr"
	[[ ! -e $src/w ]] || fail "written through :rw"
	run --separate-stderr moat_as --policy "$p" run --rm --volumes-from vf-pol "$IMG" true
	assert_success
	moat_as rm vf-pol >/dev/null
}

# ---- inspect ----

@test "inspect: Mounts lists every mount with Type, Source, Destination, RW (and volumes' Name and Driver)" {
	local v src=$MOAT_T/insp$BATS_TEST_NUMBER
	v=$(vname insp)
	hostdir "$src"
	moat_as create --name insp -v "$v:/var/v:ro" -v "$src:/mnt/b:rslave" -v /var/anon \
		--mount type=tmpfs,dst=/mnt/t,tmpfs-size=1m "$IMG" true >/dev/null
	local anon
	anon=$(mount_of insp /var/anon Name)
	[[ $anon =~ ^[0-9a-f]{64}$ ]] || fail "anon: $anon"
	local want
	want=$(printf '%s\n' \
		"/mnt/b bind - $src true rslave" \
		"/mnt/t tmpfs - - true -" \
		"/var/anon volume $anon $(vol_data "$anon") true -" \
		"/var/v volume $v $(vol_data "$v") false -")
	[[ $(mounts insp) == "$want" ]] || fail "Mounts:"$'\n'"$(mounts insp)"$'\n'"want:"$'\n'"$want"
	[[ $(mount_of insp /var/v Driver) == local ]] || fail "Driver"
	[[ $(mount_of insp /var/v Mode) == ro ]] || fail "Mode"
	# the record survives a start: the same after running
	moat_as start -a insp >/dev/null
	[[ $(mounts insp) == "$want" ]] || fail "after start:"$'\n'"$(mounts insp)"
	moat_as rm -v insp >/dev/null
	vol_rm "$v"
}
