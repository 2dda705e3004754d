#!/usr/bin/env bats
# `moat pull` under stress: several processes pulling into ONE store at
# once, `moat rmi` racing `moat pull`, and a store (or an audit log) on a
# filesystem that runs out of space.
#
# The registry is Debian's docker-registry on 127.0.0.1 over plain HTTP
# (listed insecure; transport is registry.bats's business). The images are
# OCI layouts made by tests/lib/registry.bash's builder, with extra layers
# of random bytes added here (add_layers), pushed byte for byte with curl.
# Every check reads the store's files or the registry's access log, or runs
# the image and hashes its files: nothing takes moat's word for it.
#
# What the images issue asks, and where it is tested:
#  - "concurrent pulls of the same image from several processes produce
#    one copy and no corruption": 6 pulls of one image, 6 pulls of 3
#    images sharing their lower layers, rmi racing pull;
#  - "disk full during extraction: a clear message naming the image, exit
#    125, store unchanged": a tmpfs store too small for the download, one
#    too small for the extraction only, and an audit log on a full tmpfs
#    (fail-closed; tests/integration/audit.bats covers `run` only).
#
# Mounts made here are listed in $MOAT_T/stress-mounts and undone in
# teardown, whether the test passed or not.

load ../lib/helpers
load ../lib/registry

setup_file() {
	reg_require docker-registry python3 curl || return 1
	moat_setup_file || return 1
	local w=$MOAT_T/stress
	install -d -m 0700 "$w" "$MOAT_T/reg/pki"
	export REG_HTTP_DIR=$MOAT_T/reg/http
	REG_HTTP=$(reg_start "$REG_HTTP_DIR" http "$MOAT_T/reg/pki") || return 1
	export REG_HTTP
	reg_client_setup "" "$REG_HTTP"
	reg_write_ocibuild "$w/ocibuild.py"
	write_add_layers "$w/addlayers.py"
	export STRESS=$w
	# one image of several layers of random bytes (the pulls overlap)
	build_push multi --file "$PROBE:/probe" -- 4 3 || return 1
	# three images sharing their two lower layers (busybox, /probe)
	build_push sib-a --file "$PROBE:/probe" -- 2 2 || return 1
	build_push sib-b --file "$PROBE:/probe" -- 2 2 || return 1
	build_push sib-c --file "$PROBE:/probe" -- 2 2 || return 1
	# what the small stores hold before a pull runs out of space
	build_push small --gzip -- 0 0 || return 1
	# 16 MiB of random bytes: more than the small stores can take
	build_push big --file "$PROBE:/probe" --random-mib 16 -- 0 0 || return 1
}

teardown_file() {
	stress_unmount_all
	reg_stop "${REG_HTTP_DIR:-}"
	moat_teardown_file
}

teardown() {
	# mounts first: moat_check_clean counts any mount under MOAT_T as a leak
	stress_unmount_all
	moat_check_clean
}

# ---- images ----

# write_add_layers FILE: a Python script that adds layers to a layout the
# builder made.  python3 FILE LAYOUT INFO K MIB NAME appends K layers, each
# one file /data/NAME-<k> of MIB MiB random bytes, to the (single) manifest;
# rewrites config, manifest and index.json (the old config and manifest
# blobs go); prints the builder's JSON plus "diff_ids", "files" (path ->
# sha256 of its bytes) and "blob_bytes" (config, manifest and layers).
write_add_layers() {
	cat >"$1" <<'PY'
import hashlib, io, json, os, sys, tarfile

out, info_path, k, mib, name = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
info = json.load(open(info_path))
blobs = os.path.join(out, "blobs", "sha256")


def read(d):
    with open(os.path.join(blobs, d[7:]), "rb") as f:
        return f.read()


def add(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return "sha256:" + h


m0 = info["manifests"][0]
man = json.loads(read(m0["digest"]))
cfg = json.loads(read(man["config"]["digest"]))
files = {}
if info["manifests"][0].get("blob_sha256"):
    files["/data/blob"] = info["manifests"][0]["blob_sha256"]
for i in range(k):
    data = os.urandom(mib << 20)
    path = "data/%s-%d" % (name, i)
    files["/" + path] = hashlib.sha256(data).hexdigest()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo(path)
        ti.mtime = 1700000000
        ti.mode = 0o644
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    raw = buf.getvalue()
    man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                          "digest": add(raw), "size": len(raw)})
    cfg["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
    cfg["history"].append({"created_by": "addlayers " + name})
if k:
    os.unlink(os.path.join(blobs, man["config"]["digest"][7:]))
    os.unlink(os.path.join(blobs, m0["digest"][7:]))
    cb = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
    man["config"] = dict(man["config"], digest=add(cb), size=len(cb))
    mb = json.dumps(man, sort_keys=True, separators=(",", ":")).encode()
    md = add(mb)
    idx = json.load(open(os.path.join(out, "index.json")))
    idx["manifests"][0].update(digest=md, size=len(mb))
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(idx, f)
    info["top"] = md
    m0.update(digest=md, size=len(mb), config=man["config"]["digest"],
              layers=[l["digest"] for l in man["layers"]])
info["diff_ids"] = cfg["rootfs"]["diff_ids"]
info["files"] = files
info["blob_bytes"] = (sum(l["size"] for l in man["layers"]) + man["config"]["size"]
                      + len(read(info["top"])))
json.dump(info, sys.stdout)
print()
PY
}

# build_push NAME BUILDERARGS... -- K MIB: builds stress/NAME:v1 (the
# builder with BUILDERARGS, then K layers of MIB MiB), pushes it to the
# registry; its JSON is $STRESS/NAME.json.
build_push() {
	local name=$1 w=$STRESS/$1 k mib
	shift
	local -a args=()
	while [[ $1 != -- ]]; do
		args+=("$1")
		shift
	done
	k=$2 mib=$3
	rm -rf "$w"
	mkdir -p "$w"
	python3 "$STRESS/ocibuild.py" "$w/layout" --tag v1 "${args[@]}" >"$w/build.json" || return 1
	python3 "$STRESS/addlayers.py" "$w/layout" "$w/build.json" "$k" "$mib" "$name" \
		>"$STRESS/$name.json" || return 1
	reg_push_layout "http://$REG_HTTP" "stress/$name" "$w/layout" "$STRESS/$name.json" || {
		echo "# pushing stress/$name failed" >&3
		return 1
	}
	# what the registry serves is what was built
	[[ $(reg_manifest_digest "http://$REG_HTTP" "stress/$name" v1) == \
		"$(json_get "$STRESS/$name.json" 'j["top"]')" ]] || {
		echo "# the registry does not serve stress/$name as built" >&3
		return 1
	}
	rm -rf "$w"
}

ref_of() { echo "$REG_HTTP/stress/$1:v1"; }
info_get() { json_get "$STRESS/$1.json" "$2"; }

# expected_blobs NAME...: the blob hexes the images need (config, layers,
# manifest), sorted and unique.
expected_blobs() {
	local n
	for n in "$@"; do
		info_get "$n" '"\n".join([j["top"], j["manifests"][0]["config"]] + j["manifests"][0]["layers"])'
	done | sed 's/^sha256://' | sort -u
}

# expected_layers NAME...: the DiffID hexes of the images, sorted, unique.
expected_layers() {
	local n
	for n in "$@"; do
		info_get "$n" '"\n".join(j["diff_ids"])'
	done | sed 's/^sha256://' | sort -u
}

# ---- reading a store ----

blobs_of() { find "$1/root/blobs/sha256" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort; }

# layer_dirs_of STATE: every entry that is a directory in layers/<mode>/,
# as MODE/NAME (a second id mode or a stray temp dir shows up too).
layer_dirs_of() {
	find "$1/root/layers" -mindepth 2 -maxdepth 2 -type d -printf '%P\n' 2>/dev/null | sort
}

# layer_infos_of STATE: the <diff hex>.json counts files, as MODE/NAME.
layer_infos_of() {
	find "$1/root/layers" -mindepth 2 -maxdepth 2 ! -type d -printf '%P\n' 2>/dev/null | sort
}

# image_records_of STATE: images/*.json.
image_records_of() { find "$1/root/images" -mindepth 1 -printf '%f\n' 2>/dev/null | sort; }

# check_one_copy STATE NAME...: exactly the blobs, extracted layers and
# records the images need, each once; no staging left; `moat images` lists
# each image once.
check_one_copy() {
	local st=$1 n want got mode
	shift
	want=$(expected_blobs "$@")
	got=$(blobs_of "$st")
	[[ $got == "$want" ]] ||
		fail "blobs/sha256 is not one copy of each needed blob:"$'\n'"$(diff <(echo "$want") <(echo "$got"))"
	got=$(layer_dirs_of "$st")
	mode=$(find "$st/root/layers" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
	[[ $(wc -l <<<"$mode") -eq 1 && -n $mode ]] || fail "expected one id mode in layers/, got: $mode"
	want=$(expected_layers "$@" | sed "s|^|$mode/|")
	[[ $got == "$want" ]] ||
		fail "layers/ is not one tree per DiffID:"$'\n'"$(diff <(echo "$want") <(echo "$got"))"
	[[ $(layer_infos_of "$st") == "$(sed 's/$/.json/' <<<"$want")" ]] ||
		fail "layers/ counts files: $(layer_infos_of "$st")"
	want=$(for n in "$@"; do info_get "$n" 'j["manifests"][0]["config"]'; done |
		sed 's/^sha256://; s/$/.json/' | sort -u)
	[[ $(image_records_of "$st") == "$want" ]] || fail "images/: $(image_records_of "$st")"
	[[ -z $(staging_in "$st") ]] || fail "staging left behind: $(staging_in "$st")"
	run mreg_in "$st" images
	assert_success
	for n in "$@"; do
		[[ $(grep -c "^$REG_HTTP/stress/$n  *v1 " <<<"$output") -eq 1 ]] ||
			fail "moat images does not list stress/$n once:"$'\n'"$output"
	done
}

# check_runs STATE NAME: the image runs, and every file of random bytes in
# it has the bytes that were pushed.
check_runs() {
	local st=$1 name=$2 f want paths
	paths=$(info_get "$name" '" ".join(sorted(j["files"]))')
	run mreg_in "$st" run --rm "$(ref_of "$name")" sha256sum $paths
	assert_success
	for f in $paths; do
		want=$(info_get "$name" "j[\"files\"][\"$f\"]")
		grep -qxF "$want  $f" <<<"$output" || fail "$f in stress/$name: $output"
	done
	run mreg_in "$st" run --rm "$(ref_of "$name")" /probe pid
	assert_success
	assert_output "pid: 1"
}

# ---- background jobs ----

# bg DIR TAG DELAY STATE ARGS...: moat ARGS in STATE in the background,
# started DELAY seconds after DIR/go appears; its stdout, stderr and exit
# status in DIR/TAG.{out,err,rc}.
bg() {
	local d=$1 tag=$2 delay=$3 st=$4
	shift 4
	(
		local rc=0
		while [[ ! -e $d/go ]]; do sleep 0.01; done
		sleep "$delay"
		# bats runs with errexit, inherited here: catch the status
		mreg_in "$st" "$@" >"$d/$tag.out" 2>"$d/$tag.err" || rc=$?
		echo "$rc" >"$d/$tag.rc"
	) </dev/null 3>&- &
	BG_PIDS+=($!)
}

# bg_go_wait DIR: starts the jobs and waits for all of them.
bg_go_wait() {
	local p
	touch "$1/go"
	for p in "${BG_PIDS[@]}"; do
		wait "$p" || true
	done
	BG_PIDS=()
}

# bg_rc DIR TAG: a job's exit status.
bg_rc() { cat "$1/$2.rc" 2>/dev/null || echo missing; }

# The finished GETs of a blob (200) in the registry's log since MARK.
blob_gets() {
	reg_log_since "$REG_HTTP_DIR" "$1" | grep -cE "\"GET /v2/stress/$2/blobs/$3 HTTP/[0-9.]+\" 200 " || true
}

# ---- mounts ----

# stress_mount DIR SIZE: a tmpfs of SIZE at DIR owned by the identity under
# test, mode 0700 (what moat makes its roots).
stress_mount() {
	local dir=$1 size=$2 uid gid
	IFS=: read -r uid gid <<<"$(reg_owner)"
	mkdir -p "$dir"
	mount -t tmpfs -o "size=$size,mode=0700,uid=$uid,gid=$gid" tmpfs "$dir" || return 1
	echo "$dir" >>"$MOAT_T/stress-mounts"
}

# Unmounts whatever stress_mount mounted (lazily if busy), newest first.
stress_unmount_all() {
	local m
	[[ -n ${MOAT_T:-} && -f $MOAT_T/stress-mounts ]] || return 0
	tac "$MOAT_T/stress-mounts" | while read -r m; do
		while mountpoint -q "$m"; do
			umount "$m" 2>/dev/null || umount -l "$m" || break
		done
	done
	rm -f "$MOAT_T/stress-mounts"
}

# A state dir whose store (ROOT) is a tmpfs of SIZE; prints its path.
tmpfs_state() {
	local st
	st=$(reg_state "$1") || return 1
	stress_mount "$st/root" "$2" || return 1
	echo "$st"
}

# tmpfs_free DIR: free bytes on the filesystem at DIR.
tmpfs_free() { df -B1 --output=avail "$1" | tail -n 1 | tr -d ' '; }

# ---- concurrency ----

@test "concurrency: 6 pulls of one image into one store at once: one copy, no corruption" {
	local st d=$MOAT_T/jobs-same i rc mark big
	st=$(reg_state same)
	mkdir -p "$d"
	BG_PIDS=()
	mark=$(reg_log_mark "$REG_HTTP_DIR")
	for i in 1 2 3 4 5 6; do
		bg "$d" "pull$i" 0 "$st" pull "$(ref_of multi)"
	done
	bg_go_wait "$d"
	for i in 1 2 3 4 5 6; do
		rc=$(bg_rc "$d" "pull$i")
		[[ $rc == 0 ]] || fail "pull $i exited $rc: $(cat "$d/pull$i.err")"
		grep -qF "Digest: $(info_get multi 'j["top"]')" "$d/pull$i.out" ||
			fail "pull $i printed no digest of the image: $(cat "$d/pull$i.out")"
	done
	# the test means something only if the pulls overlapped: more than
	# one of them downloaded the layers
	big=$(info_get multi 'j["manifests"][0]["layers"][-1]')
	echo "# GETs of the last 3 MiB layer: $(blob_gets "$mark" multi "$big")" >&3
	[[ $(blob_gets "$mark" multi "$big") -ge 2 ]] ||
		fail "only one pull downloaded the layers: they did not overlap"
	check_one_copy "$st" multi
	check_runs "$st" multi
	# and a pull now finds everything in place
	run --separate-stderr mreg_in "$st" pull "$(ref_of multi)"
	assert_success
	assert_output --partial "Image is up to date"
	check_one_copy "$st" multi
}

@test "concurrency: 6 pulls of 3 images sharing layers at once: each shared layer once" {
	local st d=$MOAT_T/jobs-sib i n rc shared
	st=$(reg_state sib)
	mkdir -p "$d"
	BG_PIDS=()
	# the images really share their lower layers (what this test is about)
	shared=$(comm -12 <(expected_layers sib-a) <(expected_layers sib-b) |
		comm -12 - <(expected_layers sib-c) | wc -l)
	[[ $shared -ge 2 ]] || fail "the three images share $shared layers, not 2"
	for i in 1 2; do
		for n in sib-a sib-b sib-c; do
			bg "$d" "$n.$i" 0 "$st" pull "$(ref_of "$n")"
		done
	done
	bg_go_wait "$d"
	for i in 1 2; do
		for n in sib-a sib-b sib-c; do
			rc=$(bg_rc "$d" "$n.$i")
			[[ $rc == 0 ]] || fail "pull $i of $n exited $rc: $(cat "$d/$n.$i.err")"
		done
	done
	check_one_copy "$st" sib-a sib-b sib-c
	for n in sib-a sib-b sib-c; do
		check_runs "$st" "$n"
	done
}

# rand_delay MS: a random number of seconds in [0, 2*MS ms), for sleep.
rand_delay() {
	local r=$((RANDOM % (2 * $1 + 1)))
	printf '%d.%03d' $((r / 1000)) $((r % 1000))
}

# check_consistent STATE NAME: the image is either present and whole (its
# record, its blobs, it runs with its bytes) or absent with nothing of it
# left. Prints "present" or "absent".
check_consistent() {
	local st=$1 name=$2 id
	[[ -z $(staging_in "$st") ]] || fail "staging left behind: $(staging_in "$st")"
	id=$(info_get "$name" 'j["manifests"][0]["config"]')
	run mreg_in "$st" images -q --no-trunc
	assert_success
	if [[ $output == *"$id"* ]]; then
		run mreg_in "$st" inspect -f '{{.Id}}' "$(ref_of "$name")"
		assert_success
		assert_output "$id"
		[[ $(blobs_of "$st") == "$(expected_blobs "$name")" ]] ||
			fail "present, but blobs/ differs:"$'\n'"$(diff <(expected_blobs "$name") <(blobs_of "$st"))"
		[[ $(image_records_of "$st") == "${id#sha256:}.json" ]] ||
			fail "images/: $(image_records_of "$st")"
		check_runs "$st" "$name"
		# running it extracted whatever a racing rmi had removed
		check_one_copy "$st" "$name"
		echo present
	else
		run mreg_in "$st" inspect "$(ref_of "$name")"
		assert_failure
		[[ -z $(blobs_of "$st") ]] || fail "absent, but blobs left: $(blobs_of "$st")"
		[[ -z $(layer_dirs_of "$st") ]] || fail "absent, but layers left: $(layer_dirs_of "$st")"
		[[ -z $(layer_infos_of "$st") ]] || fail "absent, but layer counts left: $(layer_infos_of "$st")"
		[[ -z $(image_records_of "$st") ]] || fail "absent, but records left: $(image_records_of "$st")"
		echo absent
	fi
}

@test "concurrency: rmi racing pull (4 of each, 3 rounds): the store stays consistent" {
	local st d round i rc outcome pulls_ok=0 pulls_failed=0 present=0 absent=0
	local ref t0 t1 ms rmis_ok=0
	ref=$(ref_of multi)
	st=$(reg_state race)
	# how long a fresh pull takes here
	t0=$(date +%s%N)
	mreg_in "$st" pull -q "$ref" >/dev/null || fail "the first pull failed"
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	echo "# a fresh pull: $ms ms" >&3
	mreg_in "$st" rmi "$ref" >/dev/null || fail "the first rmi failed"
	for round in 1 2 3; do
		d=$MOAT_T/jobs-race$round
		mkdir -p "$d"
		BG_PIDS=()
		# the image is there at the start of every round
		mreg_in "$st" pull -q "$ref" >/dev/null || fail "round $round: the first pull failed"
		# Start times spread over about two fresh pulls: some pulls find
		# the image, some race an rmi mid-download, some come after.
		for i in 1 2 3 4; do
			bg "$d" "rmi$i" "$(rand_delay "$ms")" "$st" rmi "$ref"
			bg "$d" "pull$i" "$(rand_delay "$ms")" "$st" pull -q "$ref"
		done
		bg_go_wait "$d"
		for i in 1 2 3 4; do
			rc=$(bg_rc "$d" "pull$i")
			case $rc in
			0) pulls_ok=$((pulls_ok + 1)) ;;
			125)
				# a pull may lose to an rmi, but says so in one line
				# that names the image
				pulls_failed=$((pulls_failed + 1))
				[[ $(grep -c . "$d/pull$i.err") -eq 1 ]] || fail "pull $i: $(cat "$d/pull$i.err")"
				grep -qF "stress/multi" "$d/pull$i.err" ||
					fail "pull $i: the message does not name the image: $(cat "$d/pull$i.err")"
				echo "# round $round pull $i: $(cat "$d/pull$i.err")" >&3
				;;
			*) fail "round $round: pull $i exited $rc: $(cat "$d/pull$i.err")" ;;
			esac
			rc=$(bg_rc "$d" "rmi$i")
			# 125 "no such image": another rmi was first
			[[ $rc == 0 || ($rc == 125 && $(cat "$d/rmi$i.err") == "moat: no such image: "*) ]] ||
				fail "round $round: rmi $i exited $rc: $(cat "$d/rmi$i.err")"
			[[ $rc == 0 ]] && rmis_ok=$((rmis_ok + 1))
		done
		outcome=$(check_consistent "$st" multi) || return 1
		echo "# round $round: $outcome" >&3
		[[ $outcome == present ]] && present=$((present + 1))
		[[ $outcome == absent ]] && absent=$((absent + 1))
		# either way, from here a pull works and leaves one copy
		mreg_in "$st" pull -q "$ref" >/dev/null || fail "round $round: the pull after failed"
		check_one_copy "$st" multi
	done
	echo "# pulls: $pulls_ok ok, $pulls_failed lost to rmi; rmis that removed: $rmis_ok;" \
		"stores: $present present, $absent absent" >&3
	[[ $pulls_ok -ge 1 ]] || fail "no pull succeeded in 3 rounds"
}

# ---- disk full ----

# refused_full STATE NAME: a pull of NAME into STATE fails with exit 125,
# one line naming the image and saying ENOSPC; the store's files, dirs and
# images are as before, no staging is left.
refused_full() {
	local st=$1 name=$2 before_images before_files before_dirs
	before_images=$(images_in "$st")
	before_files=$(store_files_in "$st")
	before_dirs=$(store_dirs_in "$st")
	run --separate-stderr mreg_in "$st" pull "$(ref_of "$name")"
	echo "# $stderr" >&3
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"stress/$name"* ]] || fail "the message does not name the image: $stderr"
	[[ $stderr == *"No space left on device"* ]] || fail "the message does not say ENOSPC: $stderr"
	[[ -z $(staging_in "$st") ]] || fail "staging left behind: $(staging_in "$st")"
	[[ $(store_dirs_in "$st") == "$before_dirs" ]] ||
		fail "directories left in the store: $(diff <(echo "$before_dirs") <(store_dirs_in "$st"))"
	[[ $(store_files_in "$st") == "$before_files" ]] ||
		fail "files left in the store: $(diff <(echo "$before_files") <(store_files_in "$st"))"
	[[ $(images_in "$st") == "$before_images" ]] ||
		fail "moat images changed: $(diff <(echo "$before_images") <(images_in "$st"))"
}

@test "disk full while downloading: exit 125, ENOSPC, image named, store unchanged; bigger: it pulls" {
	local st
	st=$(tmpfs_state fulldl 8m) || fail "mounting the tmpfs failed"
	# something in the store already, so that "unchanged" means something
	run --separate-stderr mreg_in "$st" pull "$(ref_of small)"
	assert_success
	refused_full "$st" big
	# the small image is intact
	run mreg_in "$st" run --rm "$(ref_of small)" cat /arch
	assert_success
	assert_output "linux/amd64"
	# room again: the same pull succeeds and the image is whole
	mount -o remount,size=96m "$st/root" || fail "remount failed"
	run --separate-stderr mreg_in "$st" pull "$(ref_of big)"
	assert_success
	check_one_copy "$st" small big
	check_runs "$st" big
}

@test "disk full while extracting (the blobs fit): exit 125, ENOSPC, store unchanged; freed: it pulls" {
	local st blobs need filler free
	st=$(tmpfs_state fullx 128m) || fail "mounting the tmpfs failed"
	run --separate-stderr mreg_in "$st" pull "$(ref_of small)"
	assert_success
	# Room for the downloads and the small layers' trees, not for the
	# 16 MiB tree: a filler takes the rest (it is in the before and after
	# listings alike).
	blobs=$(info_get big 'j["blob_bytes"]')
	need=$((blobs + (6 << 20)))
	free=$(tmpfs_free "$st/root")
	filler=$((free - need))
	[[ $filler -gt 0 ]] || fail "the tmpfs is too small for the filler ($free free, $need needed)"
	as_identity fallocate -l "$filler" "$st/root/filler" || fail "fallocate failed"
	echo "# free for the pull: $(tmpfs_free "$st/root") bytes; the blobs: $blobs" >&3
	refused_full "$st" big
	# it got past the downloads: the big layer's download completed
	local big
	big=$(info_get big 'j["manifests"][0]["layers"][-1]')
	[[ $output == *"${big:7:12}: Download complete"* ]] ||
		fail "the pull did not fail in the extraction:"$'\n'"$output"
	[[ $output != *"${big:7:12}: Pull complete"* ]] || fail "the big layer was extracted: $output"
	# freed: the same pull succeeds
	rm -f "$st/root/filler"
	run --separate-stderr mreg_in "$st" pull "$(ref_of big)"
	assert_success
	check_one_copy "$st" small big
	check_runs "$st" big
}

@test "disk full under the audit log: the pull refuses (fail-closed), the store unchanged; freed: it pulls" {
	local st dir=$MOAT_T/auditfs before_files before_images
	st=$(reg_state auditfull)
	stress_mount "$dir" 64k || fail "mounting the tmpfs failed"
	export MOAT_AUDIT_LOG_OVERRIDE=$dir/audit.log
	# a pull with room: the log exists, with its checkpoint
	run --separate-stderr mreg_in "$st" pull "$(ref_of small)"
	assert_success
	as_identity dd if=/dev/zero of="$dir/fill" bs=4k count=64 2>/dev/null || true
	[[ $(tmpfs_free "$dir") -lt 4096 ]] || fail "the audit tmpfs is not full: $(tmpfs_free "$dir")"
	before_files=$(store_files_in "$st")
	before_images=$(images_in "$st")
	run --separate-stderr mreg_in "$st" pull "$(ref_of sib-a)"
	echo "# $stderr" >&3
	assert_failure 125
	[[ $stderr == *"audit"*"No space left on device"* ]] || fail "stderr: $stderr"
	[[ $(images_in "$st") == "$before_images" ]] ||
		fail "fail-closed, yet the image was pulled:"$'\n'"$(diff <(echo "$before_images") <(images_in "$st"))"
	[[ $(store_files_in "$st") == "$before_files" ]] ||
		fail "fail-closed, yet the store changed:"$'\n'"$(diff <(echo "$before_files") <(store_files_in "$st"))"
	assert_one_error_line
	# freed: the pull goes through and the log still verifies
	rm -f "$dir/fill"
	run --separate-stderr mreg_in "$st" pull "$(ref_of sib-a)"
	assert_success
	run mreg_in "$st" audit verify
	assert_success
	run mreg_in "$st" audit show --format json --event image.pull
	assert_success
	[[ $output == *"stress/sib-a"* ]] || fail "the pull is not in the audit log: $output"
}
