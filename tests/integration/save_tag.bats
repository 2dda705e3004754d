#!/usr/bin/env bats
# `moat tag`, `moat save`, `moat image history|prune|ls|rm|inspect` - the
# store side of the images issue, no registry needed (registry.bats has
# pull and push). As root and rootless, like every integration file.
#
# Each refusal is checked for exit 125 with one line and an unchanged
# store; a saved archive is read back by moat itself, by skopeo and by
# umoci (independent readers of the OCI layout).

load ../lib/helpers

# `moat images` without the columns that change by themselves.
images_brief() { moat_as images | awk '{ print $1, $2, $3 }'; }

image_id() { moat_as image inspect -f '{{.Id}}' "$1"; }

# refused ARGS...: exit 125, one line on stderr, store and names unchanged.
refused() {
	local before_images before_files
	before_images=$(images_brief)
	before_files=$(store_files)
	run --separate-stderr moat_as "$@"
	assert_failure 125
	assert_one_error_line
	[[ $(images_brief) == "$before_images" ]] ||
		fail "moat images changed: $(diff <(echo "$before_images") <(images_brief))"
	[[ $(store_files) == "$before_files" ]] ||
		fail "store files changed: $(diff <(echo "$before_files") <(store_files))"
}

# A scratch path the identity under test can write.
scratch() { echo "$MOAT_T/scratch/$BATS_TEST_NUMBER-$1"; }

# retar IN OUT CODE: a copy of the image tar IN, written to OUT, with its
# JSON members changed by the Python CODE, which edits j["index.json"],
# j["manifest.json"] and j["oci-layout"] (deleting a key drops the member).
retar() {
	python3 - "$@" <<'PY'
import io, json, sys, tarfile
src, dst, code = sys.argv[1:4]
meta = ("index.json", "manifest.json", "oci-layout")
with tarfile.open(src) as t:
    order = t.getmembers()
    data = {m.name: t.extractfile(m).read() if m.isfile() else None for m in order}
j = {n: json.loads(data[n]) for n in meta if n in data}
exec(code)
with tarfile.open(dst, "w") as out:
    for m in order:
        if m.name in meta:
            if m.name not in j:
                continue
            data[m.name] = json.dumps(j[m.name]).encode()
            m.size = len(data[m.name])
        out.addfile(m, io.BytesIO(data[m.name]) if data[m.name] is not None else None)
PY
	chmod 0644 "$2"
}

# The staging directories under the store's tmp/ (as root sees them).
staging() { ls -A "$MOAT_STATE/root/tmp" 2>/dev/null; }

# unique_image TAR ARGS...: mkimage with a file no other image has, so
# that its id is its own (mkimage's images differ only by content).
unique_image() {
	local out=$1 f
	shift
	f=$MOAT_T/scratch/$out.unique
	echo "$out $BATS_TEST_NUMBER $RANDOM$RANDOM" >"$f"
	mkimage "$out" --file "$f:/unique" "$@"
}

@test "tag: a second name for the same image, usable by run" {
	run moat_as tag "$IMG" tagged/app:v1
	assert_success
	assert_output ""
	[[ $(image_id tagged/app:v1) == "$(image_id "$IMG")" ]] || fail "different ids"
	run moat_as images tagged/app
	assert_output --partial "tagged/app"
	run mrun tagged/app:v1 /probe pid
	assert_success
	assert_output "pid: 1"
	# Docker's spelling of a Hub name is stored in the familiar form.
	run moat_as tag "$IMG" docker.io/library/hubname:2
	assert_success
	run moat_as images hubname
	assert_output --partial "hubname"
	refute_output --partial "docker.io/library"
	run moat_as rmi tagged/app:v1 hubname:2
	assert_success
	# the image itself is still there under its first name
	run mrun "$IMG" /probe pid
	assert_success
}

@test "tag: moving a name to another image" {
	local tar
	tar=$(unique_image other.tar --name moved --tag v1)
	moat_as load --trust-local -i "$tar"
	run moat_as tag "$IMG" moved:v1
	assert_success
	[[ $(image_id moved:v1) == "$(image_id "$IMG")" ]] || fail "moved:v1 was not moved"
	moat_as rmi moved:v1
	# the image moved:v1 named before is dangling now; prune takes it
	run moat_as image prune -f
	assert_success
	assert_output --partial "deleted: $(cat "$MOAT_T/scratch/other.tar.id")"
}

@test "tag refuses: unknown source, bad target, digest target" {
	refused tag no-such-image x:1
	[[ $stderr == *"no such image"* ]] || fail "$stderr"
	refused tag "$IMG" UPPER:1
	refused tag "$IMG" "a:b:c"
	refused tag "$IMG" "x@sha256:$(printf '%064d' 0)"
	[[ $stderr == *"digest"* ]] || fail "$stderr"
	refused tag "$IMG"
}

@test "tag: recorded in the audit log" {
	moat_as tag "$IMG" audited:1
	run grep -c '"event":"image.tag"' "$MOAT_STATE/audit/audit.log"
	assert_success
	run bash -c "grep '\"event\":\"image.tag\"' '$MOAT_STATE/audit/audit.log' | tail -n 1"
	assert_output --partial '"target":["audited:1"]'
	moat_as rmi audited:1
}

@test "save -o, rmi, load: the same image comes back and runs" {
	local out id
	out=$(scratch save.tar)
	id=$(image_id "$IMG")
	moat_as tag "$IMG" saved/img:3
	run moat_as save -o "$out" saved/img:3
	assert_success
	assert_output ""
	run tar tf "$out"
	assert_line "oci-layout"
	assert_line "index.json"
	assert_line "manifest.json"
	assert_line "blobs/sha256/${id#sha256:}"
	run tar xOf "$out" manifest.json
	assert_output --partial '"RepoTags":["saved/img:3"]'
	run tar xOf "$out" index.json
	assert_output --partial '"org.opencontainers.image.ref.name":"3"'
	assert_output --partial '"io.containerd.image.name":"docker.io/saved/img:3"'
	moat_as rmi saved/img:3
	run moat_as load --trust-local -i "$out"
	assert_success
	assert_output "Loaded image: saved/img:3"
	[[ $(image_id saved/img:3) == "$id" ]] || fail "a different image came back"
	run moat_as image inspect -f '{{json .RepoTags}}' saved/img:3
	assert_output --partial '"saved/img:3"'
	refute_output --partial "docker.io"
	run mrun saved/img:3 /probe pid
	assert_success
	moat_as rmi saved/img:3
}

@test "save, rmi, load: a Hub name comes back familiar (x:1, not docker.io/library/x:1)" {
	local out
	out=$(scratch hub.tar)
	moat_as tag "$IMG" famx:1
	moat_as save -o "$out" famx:1
	# the archive spells it Docker's long way; the store does not
	run tar xOf "$out" index.json
	assert_output --partial '"io.containerd.image.name":"docker.io/library/famx:1"'
	moat_as rmi famx:1
	run moat_as load --trust-local -i "$out"
	assert_success
	assert_output "Loaded image: famx:1"
	run moat_as image inspect -f '{{json .RepoTags}}' famx:1
	assert_output --partial '"famx:1"'
	refute_output --partial "docker.io"
	run moat_as images famx
	assert_line --index 1 --regexp '^famx +1 '
	refute_output --partial "docker.io"
	moat_as rmi famx:1
}

@test "load: names in the familiar form from both formats; a non-name is refused" {
	local tar dk bad
	# mkimage writes docker.io/library/NAME:TAG in index.json and NAME:TAG
	# in manifest.json
	tar=$(unique_image fam.tar --name famload --tag v2)
	run moat_as load --trust-local -i "$tar"
	assert_success
	assert_output "Loaded image: famload:v2"
	# `docker save` (manifest.json only), with Docker's long spelling
	dk=$MOAT_T/scratch/dk.tar
	retar "$tar" "$dk" 'del j["index.json"]; del j["oci-layout"]
j["manifest.json"][0]["RepoTags"] = ["docker.io/library/famdocker:v3", "localhost:5000/ns/app:v4"]'
	run moat_as load --trust-local -i "$dk"
	assert_success
	assert_line "Loaded image: famdocker:v3"
	assert_line "Loaded image: localhost:5000/ns/app:v4"
	run moat_as image inspect -f '{{.RepoTags}}' famdocker:v3
	assert_output "[famdocker:v3 famload:v2 localhost:5000/ns/app:v4]"
	# what cannot be a name is refused, the store unchanged
	bad=$MOAT_T/scratch/bad-digest.tar
	retar "$tar" "$bad" 'j["index.json"]["manifests"][0]["annotations"]["io.containerd.image.name"] = "docker.io/library/x@sha256:" + "0" * 64'
	refused load --trust-local -i "$bad"
	[[ $stderr == *"digest"* ]] || fail "$stderr"
	bad=$MOAT_T/scratch/bad-upper.tar
	retar "$tar" "$bad" 'j["index.json"]["manifests"][0]["annotations"]["io.containerd.image.name"] = "Upper/Case:1"'
	refused load --trust-local -i "$bad"
	bad=$MOAT_T/scratch/bad-docker.tar
	retar "$dk" "$bad" 'j["manifest.json"][0]["RepoTags"] = ["x:1:2"]'
	refused load --trust-local -i "$bad"
	moat_as rmi -f famload:v2 famdocker:v3 localhost:5000/ns/app:v4
}

@test "images --digests: a DIGEST column; inspect: RepoDigests of an image never pulled is []" {
	run moat_as images --digests
	assert_success
	assert_line --index 0 --regexp '^REPOSITORY +TAG +DIGEST +IMAGE ID +CREATED +SIZE$'
	assert_line --regexp "^$IMG +latest +<none> +[0-9a-f]{12} "
	run moat_as images
	assert_line --index 0 --regexp '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$'
	run moat_as image inspect -f '{{.RepoDigests}}' "$IMG"
	assert_success
	assert_output "[]"
	run moat_as image inspect -f '{{json .RepoDigests}}' "$IMG"
	assert_output "[]"
	# NAME@DIGEST that no image has is "no such image", exit 125
	run --separate-stderr moat_as image inspect "$IMG@sha256:$(printf '%064d' 0)"
	assert_failure
	[[ $stderr == *"No such"* || $stderr == *"no such"* ]] || fail "$stderr"
	refused rmi "$IMG@sha256:$(printf '%064d' 0)"
	[[ $stderr == *"no such image"* ]] || fail "$stderr"
}

# start_fifo_load TAR BYTES: `moat load` reading a FIFO that has been sent
# the first BYTES of TAR and is held open (fd 3), so the load waits
# mid-way; sets LOADER (the background job), FIFO and FD (our end;
# bats keeps fd 3 for itself).
start_fifo_load() {
	FIFO=$MOAT_T/scratch/load-$BATS_TEST_NUMBER.fifo
	rm -f "$FIFO"
	mkfifo -m 0666 "$FIFO"
	moat_as load --trust-local -i "$FIFO" >"$MOAT_T/scratch/load-$BATS_TEST_NUMBER.out" 2>&1 &
	LOADER=$!
	exec {FD}<>"$FIFO"
	timeout 20 head -c "$2" "$1" >&"$FD" || fail "the load did not read the archive"
	local i
	for ((i = 0; i < 100; i++)); do
		compgen -G "$MOAT_STATE/root/tmp/txn-*/s*" >/dev/null && return 0
		sleep 0.1
	done
	fail "no staging directory while the load runs: $(staging)"
}

@test "a load in progress keeps its staging directory while other commands run" {
	local tar dir
	tar=$(unique_image slow.tar --name slowload --tag v1)
	start_fifo_load "$tar" 100000
	dir=$(staging)
	[[ $dir == txn-* ]] || fail "staging: $dir"
	# other commands (one of them a transaction) sweep, but not a live one
	moat_as images >/dev/null
	moat_as load --trust-local -i "$(unique_image other2.tar --name sweeper --tag v1)" >/dev/null
	[[ -d $MOAT_STATE/root/tmp/$dir ]] || fail "the live load's $dir was swept"
	# the rest of the archive: the load completes
	tail -c +100001 "$tar" >&"$FD"
	exec {FD}>&-
	wait "$LOADER" || fail "the load failed: $(cat "$MOAT_T/scratch/load-$BATS_TEST_NUMBER.out")"
	run moat_as image inspect -f '{{.Id}}' slowload:v1
	assert_output "$(cat "$MOAT_T/scratch/slow.tar.id")"
	[[ -z $(staging) ]] || fail "left in tmp/: $(staging)"
	moat_as rmi slowload:v1 sweeper:v1
}

@test "a load killed mid-way (kill -9): the next command removes what it staged" {
	local tar pid
	tar=$(unique_image killed.tar --name killedload --tag v1)
	start_fifo_load "$tar" 100000
	pid=$(pids_with_arg "$MOAT" "$FIFO")
	[[ -n $pid ]] || fail "no moat load process"
	kill -KILL $pid
	wait "$LOADER" && fail "the killed load succeeded"
	exec {FD}>&-
	# what the kill left (else this test could not fail)
	[[ -n $(staging) ]] || fail "nothing in tmp/ after the kill"
	run moat_as images
	assert_success
	refute_output --partial killedload
	[[ -z $(staging) ]] || fail "left in tmp/ after 'moat images': $(staging)"
	# the store is as before: the same archive loads whole
	run moat_as load --trust-local -i "$tar"
	assert_success
	assert_output "Loaded image: killedload:v1"
	[[ -z $(staging) ]] || fail "left in tmp/: $(staging)"
	moat_as rmi killedload:v1
}

@test "save to a pipe; a terminal is refused" {
	local out
	out=$(scratch piped.tar)
	as_identity touch "$out"
	moat_as save "$IMG" >"$out"
	run tar tf "$out"
	assert_success
	assert_line "index.json"
	run script -qec "$(moat_cmdline save "$IMG")" /dev/null
	assert_failure
	assert_output --partial "cowardly refusing to save to a terminal"
}

@test "save refuses: an unknown image, and leaves no file behind" {
	local out
	out=$(scratch none.tar)
	refused save -o "$out" "$IMG" no-such-image
	[[ $stderr == *"no-such-image"* ]] || fail "$stderr"
	[[ ! -e $out ]] || fail "$out was created"
	run bash -c "ls '$MOAT_T/scratch' | grep -c moat-" 
	assert_output "0"
	refused save -o "$out"
}

@test "save: skopeo and umoci read the archive; digests agree" {
	command -v skopeo >/dev/null || skip "skopeo is not installed"
	local out dir id
	out=$(scratch interop.tar)
	dir=$(scratch interop-oci)
	id=$(image_id "$IMG")
	moat_as save -o "$out" "$IMG"
	chmod 0644 "$out"
	run skopeo inspect --config "oci-archive:$out"
	assert_success
	assert_output --partial '"architecture"'
	run skopeo copy "oci-archive:$out" "oci:$dir:copied"
	assert_success
	# skopeo kept the config blob: its digest is our image id
	[[ -f $dir/blobs/sha256/${id#sha256:} ]] || fail "config blob missing in the copy"
	if command -v umoci >/dev/null; then
		run umoci unpack --rootless --image "$dir:copied" "$(scratch bundle)"
		assert_success
		[[ -x $(scratch bundle)/rootfs/probe ]] || fail "probe missing in the unpacked rootfs"
	fi
	rm -rf "$dir" "$(scratch bundle)"
}

@test "history: Docker's columns, one row per layer of the demo image" {
	run moat_as history "$IMG"
	assert_success
	assert_line --index 0 --regexp '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$'
	[[ ${#lines[@]} -eq 2 ]] || fail "expected one layer row: $output"
	local id
	id=$(image_id "$IMG")
	[[ ${lines[1]} == "${id:7:12} "* ]] || fail "first row is not the image id: ${lines[1]}"
	run moat_as image history -q "$IMG"
	assert_output "${id:7:12}"
	run --separate-stderr moat_as image history no-such-image
	assert_failure 125
	assert_one_error_line
}

@test "history: the config's history is shown, its layer sized" {
	local tar
	tar=$(unique_image hist.tar --name hist --tag v1 --gzip)
	moat_as load --trust-local -i "$tar"
	run moat_as image history --no-trunc hist:v1
	assert_success
	assert_line --index 0 --regexp '^IMAGE'
	# mkimage.py writes one entry per layer, created_by only: no date
	assert_line --index 1 --regexp '^sha256:[0-9a-f]{64} +N/A +mkimage\.py +[0-9.]+[kM]B +$'
	[[ ${#lines[@]} -eq 2 ]] || fail "$output"
	run moat_as image history -H=false hist:v1
	assert_line --index 1 --regexp ' mkimage\.py +[0-9]+ +$'
	moat_as rmi hist:v1
}

@test "image prune: dangling only, and not an image a container uses" {
	local a b
	a=$(unique_image pa.tar --name prune --tag v1)
	b=$(unique_image pb.tar --name prune --tag v1)
	moat_as load --trust-local -i "$a"
	moat_as load --trust-local -i "$b"
	# "prune:v1" moved to b: a is dangling
	run moat_as images
	assert_output --partial "<none>"
	# a "no" at the prompt removes nothing
	run bash -c "echo n | $(moat_cmdline image prune)"
	assert_success
	assert_output --partial "Total reclaimed space: 0B"
	run moat_as images
	assert_output --partial "<none>"
	run moat_as image prune -f
	assert_success
	assert_output --partial "deleted: $(cat "$MOAT_T/scratch/pa.tar.id")"
	refute_output --partial "$(cat "$MOAT_T/scratch/pb.tar.id")"
	run moat_as images
	refute_output --partial "<none>"
	assert_output --partial "prune"
	# nothing left to prune
	run moat_as image prune -f
	assert_output "Total reclaimed space: 0B"

	# -a: every image no container uses; the one a container uses stays.
	local cid
	cid=$(moat_as create "$IMG" /probe pid)
	run moat_as image prune -a -f
	assert_success
	assert_output --regexp "untagged: (docker.io/library/)?prune:v1"
	run moat_as images
	refute_output --partial "prune"
	assert_output --partial "$IMG"
	moat_as rm "$cid"
	run grep -c '"event":"image.prune"' "$MOAT_STATE/audit/audit.log"
	assert_success
}

@test "image: ls, rm, inspect, load dispatch; unknown subcommand is exit 1" {
	run moat_as image ls
	assert_success
	assert_line --index 0 --partial "REPOSITORY"
	run moat_as image inspect -f '{{.Id}}' "$IMG"
	assert_success
	assert_output --regexp '^sha256:[0-9a-f]{64}$'
	moat_as tag "$IMG" viaimage:1
	run moat_as image rm viaimage:1
	assert_success
	assert_output "Untagged: viaimage:1"
	run --separate-stderr moat_as image frobnicate
	assert_failure 1
	assert_one_error_line
	run moat_as image --help
	assert_success
	assert_output --partial "prune"
}
