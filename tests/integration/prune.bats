#!/usr/bin/env bats
# `moat image prune --filter`, `moat system prune` and the store's garbage
# collection, as root and rootless. Images with chosen labels and creation
# times are mkimage.py images whose config is rewritten here (reconf).
# Everything a test makes it removes, so that the store is as it was.

load ../lib/helpers

image_id() { moat_as image inspect -f '{{.Id}}' "$1"; }
has_image() { moat_as image inspect -f '{{.Id}}' "$1" >/dev/null 2>&1; }

# unique_image TAR ARGS...: mkimage with a file no other image has.
unique_image() {
	local out=$1 f
	shift
	f=$MOAT_T/scratch/$out.unique
	echo "$out $BATS_TEST_NUMBER $RANDOM$RANDOM" >"$f"
	mkimage "$out" --file "$f:/unique" "$@"
}

# reconf IN OUT CODE: the image tar IN written to OUT with its config
# changed by the Python CODE (which edits the dict c), the config and
# manifest digests recomputed; prints the new image id.
reconf() {
	python3 - "$@" <<'PY'
import hashlib, io, json, sys, tarfile
src, dst, code = sys.argv[1:4]
with tarfile.open(src) as t:
    order = t.getmembers()
    data = {m.name: t.extractfile(m).read() if m.isfile() else None for m in order}
idx = json.loads(data["index.json"])
desc = idx["manifests"][0]
old_man = "blobs/sha256/" + desc["digest"].split(":")[1]
man = json.loads(data[old_man])
old_cfg = "blobs/sha256/" + man["config"]["digest"].split(":")[1]
c = json.loads(data[old_cfg])
exec(code)
cfg = json.dumps(c).encode()
ch = hashlib.sha256(cfg).hexdigest()
man["config"].update(digest="sha256:" + ch, size=len(cfg))
mb = json.dumps(man).encode()
mh = hashlib.sha256(mb).hexdigest()
desc.update(digest="sha256:" + mh, size=len(mb))
data["index.json"] = json.dumps(idx).encode()
if "manifest.json" in data:
    legacy = json.loads(data["manifest.json"])
    legacy[0]["Config"] = "blobs/sha256/" + ch
    data["manifest.json"] = json.dumps(legacy).encode()
renamed = {old_cfg: ("blobs/sha256/" + ch, cfg), old_man: ("blobs/sha256/" + mh, mb)}
with tarfile.open(dst, "w") as out:
    for m in order:
        if m.name in renamed:
            m.name, data[m.name] = renamed[m.name][0], renamed[m.name][1]
            body = data[m.name]
        else:
            body = data[m.name]
        if body is not None:
            m.size = len(body)
        out.addfile(m, io.BytesIO(body) if body is not None else None)
print("sha256:" + ch)
PY
	chmod 0644 "$2"
}

# labeled NAME:TAG CODE: a unique image named NAME:TAG, config edited by
# CODE, loaded; prints its id.
labeled() {
	local name=${1%%:*} tag=${1##*:} base out id
	base=$(unique_image "$name-$tag.base.tar" --name "$name" --tag "$tag")
	out=$MOAT_T/scratch/$name-$tag.tar
	id=$(reconf "$base" "$out" "$2") || return 1
	moat_as load --trust-local -i "$out" >/dev/null || return 1
	echo "$id"
}

OLD='c["created"] = "2001-01-01T00:00:00Z"'
NEW='import datetime; c["created"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")'

# The store as the identity's files: what "nothing removed" compares.
store_snapshot() { (moat_as images -q --no-trunc; store_files) | sort; }

# refused ARGS...: exit 125, one line on stderr, the store unchanged.
refused() {
	local before
	before=$(store_snapshot)
	run --separate-stderr moat_as "$@"
	assert_failure 125
	assert_one_error_line
	[[ $(store_snapshot) == "$before" ]] || fail "store changed: $*"
}

@test "image prune --filter: bad filters are refused before anything is removed" {
	local a
	a=$(unique_image dang1.tar --name dang --tag v1)
	moat_as load --trust-local -i "$a" >/dev/null
	a=$(unique_image dang2.tar --name dang --tag v1)
	moat_as load --trust-local -i "$a" >/dev/null # the first is dangling now
	refused image prune -f --filter foo=bar
	[[ $stderr == "moat: invalid filter 'foo'" ]] || fail "$stderr"
	refused image prune -f --filter until=1h --filter Nope=1
	[[ $stderr == "moat: invalid filter 'nope'" ]] || fail "$stderr"
	refused image prune -f --filter label
	[[ $stderr == *"bad format of filter (expected name=value)"* ]] || fail "$stderr"
	refused image prune -f --filter until=yesterday
	[[ $stderr == *"invalid filter 'until=yesterday'"* ]] || fail "$stderr"
	refused image prune -f --filter until=1h --filter until=2h
	[[ $stderr == "moat: more than one until filter specified" ]] || fail "$stderr"
	refused image prune -f --filter label=
	refused image prune -f -a --filter dangling=true
	[[ $stderr == "moat: invalid filter 'dangling=true,false'" ]] || fail "$stderr"
	refused system prune -f --filter dangling=true # containers have no dangling
	refused system prune -f --filter foo=bar
	# and the dangling one is still there, then goes
	run moat_as image prune -f
	assert_success
	assert_output --partial "deleted: $(cat "$MOAT_T/scratch/dang1.tar.id")"
	moat_as rmi dang:v1 >/dev/null
}

@test "image prune --filter until: the config's Created decides; old goes, new stays" {
	local old new
	old=$(labeled old:v1 "$OLD")
	new=$(labeled new:v1 "$NEW")
	# a duration: created before 24 hours ago
	run moat_as image prune -a -f --filter until=24h
	assert_success
	assert_output --partial "untagged: old:v1"
	assert_output --partial "deleted: $old"
	refute_output --partial "$new"
	has_image new:v1 || fail "new:v1 was removed"
	has_image "$IMG" || fail "$IMG was removed"
	# an RFC 3339 time and unix seconds: both before new
	old=$(labeled old:v2 "$OLD")
	run moat_as image prune -a -f --filter until=2002-01-01T00:00:00Z
	assert_success
	assert_output --partial "deleted: $old"
	refute_output --partial "$new"
	old=$(labeled old:v3 "$OLD")
	run moat_as image prune -a -f --filter until=1000000000
	assert_success
	assert_output --partial "deleted: $old"
	has_image new:v1 || fail "new:v1 was removed"
	# without -a a tagged image is not a candidate, however old
	old=$(labeled old:v4 "$OLD")
	run moat_as image prune -f --filter until=24h
	assert_success
	assert_output "Total reclaimed space: 0B"
	has_image old:v4 || fail "old:v4 was removed without -a"
	moat_as rmi old:v4 new:v1 >/dev/null
}

@test "image prune --filter label / label!: every label= must match, label!= excludes" {
	local prod dev both none
	prod=$(labeled lp:v1 'c["config"]["Labels"] = {"env": "prod"}')
	dev=$(labeled ld:v1 'c["config"]["Labels"] = {"env": "dev", "tier": "db"}')
	both=$(labeled lb:v1 'c["config"]["Labels"] = {"env": "prod", "tier": "web"}')
	none=$(labeled ln:v1 'pass')
	run moat_as image prune -a -f --filter label=env=prod --filter label=tier
	assert_success
	assert_output --partial "deleted: $both"
	refute_output --partial "$prod"
	refute_output --partial "$dev"
	run moat_as image prune -a -f --filter label=env=prod
	assert_output --partial "deleted: $prod"
	refute_output --partial "$dev"
	# label!=env: those without an env label (ln, and the probe image is
	# spared only by label=... below)
	run moat_as image prune -a -f --filter label!=env --filter label=tier
	assert_output "Total reclaimed space: 0B"
	run moat_as image prune -a -f --filter label!=tier=web --filter label=env
	assert_output --partial "deleted: $dev"
	has_image ln:v1 || fail "ln:v1 has no label and was removed"
	moat_as rmi ln:v1 >/dev/null
	run grep -c '"event":"image.prune"' "$MOAT_STATE/audit/audit.log"
	assert_success
}

@test "system prune: asks first; 'n' removes nothing; Docker's warning text" {
	local cid before
	cid=$(moat_as create "$IMG" true)
	before=$(store_snapshot)
	run --separate-stderr bash -c "echo n | $(moat_cmdline system prune)"
	assert_success
	want="WARNING! This will remove:"$'\n'"  - all stopped containers"$'\n'"  - all dangling images"$'\n\n'"Are you sure you want to continue? [y/N] "
	[[ $output == "$want" ]] || fail "output: $output"
	[[ $(store_snapshot) == "$before" ]] || fail "store changed"
	moat_as inspect "$cid" >/dev/null || fail "the container was removed"
	# no answer at all (stdin closed) is a no as well
	run bash -c "$(moat_cmdline system prune) </dev/null"
	assert_success
	moat_as inspect "$cid" >/dev/null || fail "the container was removed"
	# -a and filters change the text
	run --separate-stderr bash -c "echo n | $(moat_cmdline system prune -a --filter until=24h --filter label=a=1)"
	want="WARNING! This will remove:"$'\n'"  - all stopped containers"$'\n'"  - all images without at least one container associated to them"$'\n\n'"  Items to be pruned will be filtered with:"$'\n'"  - label=a=1"$'\n'"  - until=24h"$'\n\n'"Are you sure you want to continue? [y/N] "
	[[ $output == "$want" ]] || fail "output: $output"
	# "y" goes ahead
	run bash -c "echo y | $(moat_cmdline system prune)"
	assert_success
	assert_output --partial "Deleted Containers:"$'\n'"$cid"$'\n\n'
	assert_output --partial "Total reclaimed space:"
	run moat_as inspect "$cid"
	assert_failure
}

@test "system prune: stopped containers and dangling images go; running ones and their images stay; -a" {
	local run_id stop_id keep_id dang tagged live
	live=$(labeled live:v1 'pass')
	run_id=$(moat_as run -d live:v1 sleep 1000)
	stop_id=$(moat_as create "$IMG" true)
	keep_id=$(moat_as create -l keep=yes "$IMG" true)
	dang=$(unique_image sd1.tar --name sdang --tag v1)
	moat_as load --trust-local -i "$dang" >/dev/null
	dang=$(cat "$MOAT_T/scratch/sd1.tar.id")
	tagged=$(unique_image sd2.tar --name sdang --tag v1)
	moat_as load --trust-local -i "$tagged" >/dev/null
	tagged=$(cat "$MOAT_T/scratch/sd2.tar.id")

	# a filter applies to containers too: keep=yes is spared
	run moat_as system prune -f --filter label!=keep
	assert_success
	assert_line --index 0 "Deleted Containers:"
	assert_line --index 1 "$stop_id"
	assert_output --partial "Deleted Images:"$'\n'"deleted: $dang"
	assert_output --regexp $'\n\n''Total reclaimed space: [0-9.]+[kMG]?B$'
	refute_output --partial "$run_id"
	refute_output --partial "$keep_id"
	refute_output --partial "$tagged"
	moat_as inspect "$keep_id" >/dev/null || fail "keep=yes was removed"
	has_image sdang:v1 || fail "the tagged image went without -a"
	run moat_as system prune -f
	assert_output --partial "$keep_id"
	# -a: every image no container uses; live:v1 runs, so it stays
	run moat_as system prune -a -f
	assert_success
	assert_output --partial "untagged: sdang:v1"
	assert_output --partial "deleted: $tagged"
	assert_output --partial "untagged: $IMG:latest"
	refute_output --partial "live:v1"
	refute_output --partial "$run_id"
	has_image live:v1 || fail "the running container's image was removed"
	# its layers are still there: the container keeps working
	run moat_as exec "$run_id" echo still-here
	assert_output "still-here"
	moat_as rm -f "$run_id" >/dev/null
	# the probe image is needed by the next tests
	moat_as demo-image --tag "$IMG" --add "$PROBE:/probe" >/dev/null
	run moat_as image prune -a -f
	assert_output --partial "deleted: $live"
	moat_as demo-image --tag "$IMG" --add "$PROBE:/probe" >/dev/null
}

# The identity's layer directory (one id mode per store, as tests use it).
mode_dir() { ls -d "$MOAT_STATE/root/layers"/*/ | head -n 1; }

@test "system prune collects what nothing references: planted blob and layer, counted exactly" {
	local blobs=$MOAT_STATE/root/blobs/sha256 mode hex1 hex2
	mode=$(mode_dir)
	hex1=$(echo "planted blob $RANDOM" | sha256sum | cut -d' ' -f1)
	hex2=$(echo "planted layer $RANDOM" | sha256sum | cut -d' ' -f1)
	as_identity sh -c "head -c 5000 /dev/zero > '$blobs/$hex1'"
	as_identity mkdir -p "$mode/$hex2/a/b"
	as_identity sh -c "head -c 7000 /dev/zero > '$mode/$hex2/a/b/f'"
	run moat_as system prune -f
	assert_success
	assert_output "Total reclaimed space: 12kB"
	[[ ! -e $blobs/$hex1 ]] || fail "blob left"
	[[ ! -e $mode/$hex2 ]] || fail "layer left"
	# what images reference is all there: the probe image still runs
	run mrun "$IMG" /probe pid
	assert_success
	run moat_as system prune -f
	assert_output "Total reclaimed space: 0B"
}

@test "system prune collects a crashed removal's leftovers (record gone, blobs and layers not)" {
	local tar id hex mode before_blobs
	tar=$(unique_image crash.tar --name crash --tag v1)
	moat_as load --trust-local -i "$tar" >/dev/null
	id=$(cat "$MOAT_T/scratch/crash.tar.id")
	hex=${id#sha256:}
	mode=$(mode_dir)
	before_blobs=$(ls "$MOAT_STATE/root/blobs/sha256" | wc -l)
	# the record and the name go, as an rmi killed after its first step
	rm "$MOAT_STATE/root/images/$hex.json"
	python3 - "$MOAT_STATE/root/names.json" <<'PY'
import json, sys
p = sys.argv[1]
j = json.load(open(p))
j = {k: v for k, v in j.items() if not k.startswith("crash")}
json.dump(j, open(p, "w"))
PY
	[[ $(ls "$mode" | wc -l) -gt 2 ]] || fail "no extracted layer to leave behind"
	run moat_as system prune -f
	assert_success
	refute_output "Total reclaimed space: 0B"
	[[ ! -e $MOAT_STATE/root/blobs/sha256/$hex ]] || fail "config blob left"
	# config, manifest and the layer blob went; the probe image's stayed
	[[ $(ls "$MOAT_STATE/root/blobs/sha256" | wc -l) -eq $((before_blobs - 3)) ]] ||
		fail "blobs: $(ls "$MOAT_STATE/root/blobs/sha256")"
	# only the probe image's layer (and its counts) are left, in any mode
	[[ $(find "$MOAT_STATE/root/layers" -mindepth 2 -maxdepth 2 | wc -l) -eq 2 ]] ||
		fail "layers: $(find "$MOAT_STATE/root/layers" -mindepth 2 -maxdepth 2)"
	run mrun "$IMG" /probe pid
	assert_success
}

@test "system prune --volumes: unused anonymous volumes go; named and in-use ones stay; without it none" {
	local gone kept used vols
	moat_as run -v /anon1 "$IMG" true
	gone=$(moat_as inspect -f '{{range .Mounts}}{{.Name}}{{end}}' "$(moat_as ps -aq | head -n 1)")
	[[ $gone =~ ^[0-9a-f]{64}$ ]] || fail "no anonymous volume: $gone"
	moat_as volume create kept-named >/dev/null
	moat_as run -d --name sp-live -v /anon2 "$IMG" sleep 60
	used=$(moat_as inspect -f '{{range .Mounts}}{{.Name}}{{end}}' sp-live)
	# without --volumes, volumes are not touched
	run moat_as system prune -f
	assert_success
	vols=$(moat_as volume ls -q)
	[[ $vols == *"$gone"* && $vols == *kept-named* && $vols == *"$used"* ]] || fail "volumes: $vols"
	# the prompt says it
	run --separate-stderr bash -c "echo n | $(moat_cmdline system prune --volumes)"
	assert_output --partial "  - all anonymous volumes not used by at least one container"
	# with it, the stopped container went above, so its volume is unused now
	run moat_as system prune -f --volumes
	assert_success
	assert_output --partial "Deleted Volumes:"$'\n'"$gone"
	vols=$(moat_as volume ls -q)
	[[ $vols != *"$gone"* ]] || fail "the unused anonymous volume stayed: $vols"
	[[ $vols == *kept-named* && $vols == *"$used"* ]] || fail "a named or used volume went: $vols"
	# Docker's volume prune knows no until
	run moat_as system prune -f --volumes --filter until=1h
	assert_failure
	assert_output --partial "invalid filter 'until'"
	moat_as rm -fv sp-live
	moat_as volume rm kept-named
}

@test "system: unknown subcommand is exit 1; help; arguments refused" {
	run --separate-stderr moat_as system df
	assert_failure 1
	[[ $stderr == "moat: 'system df' is not a moat command (see 'moat system --help')" ]] ||
		fail "$stderr"
	run moat_as system --help
	assert_success
	assert_output --partial "prune"
	run moat_as system prune --help
	assert_success
	assert_output --partial "--filter"
	refused system prune -f extra
}
