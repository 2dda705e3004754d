#!/usr/bin/env bats
# `moat volume create|ls|inspect|rm|prune` (cli/volume.c), as root and
# rootless: Docker's output and exit statuses, every refusal leaving the
# volumes as they were, a volume a container refers to (running or not)
# never removed, and one audit record per change (none without a log).
#
# Every moat call runs under `timeout`: a verb that blocks (a lock taken
# twice) fails its test instead of hanging the suite. Each test gets its
# own audit log, and its volumes are removed after it.

load ../lib/helpers

# shellcheck disable=SC2034 # read by moat_as_user (helpers.bash)
MOAT_WRAP="timeout -k 5 60"

setup() {
	local dir=$MOAT_T/audit-$BATS_TEST_NUMBER
	install -d -m 0700 "$dir"
	if is_rootless; then chown "$MOAT_TEST_USER" "$dir"; fi
	export MOAT_AUDIT_LOG_OVERRIDE=$dir/audit.log
}

teardown() {
	local rc=0
	moat_check_clean || rc=$?
	# what a test made, gone whatever it left (not through moat: a test
	# may have failed because removal does not work)
	rm -rf -- "$MOAT_STATE/root/volumes"
	return $rc
}

vdir() { echo "$MOAT_STATE/root/volumes/$1"; }

# The names `volume ls -q` prints, sorted, on one line.
names() { moat_as volume ls -q | sort | tr '\n' ' '; }

# What is on disk under ROOT/volumes: what "nothing changed" compares.
snapshot() { find "$MOAT_STATE/root/volumes" -mindepth 1 -printf '%P %s\n' 2>/dev/null | sort; }

# refused CODE ARGS...: exit CODE, one "moat: ..." line on stderr, nothing
# on stdout, the volumes unchanged.
refused() {
	local code=$1 before
	shift
	before=$(snapshot)
	run --separate-stderr moat_as "$@"
	assert_failure "$code"
	assert_one_error_line
	[[ -z $output ]] || fail "stdout: $output"
	[[ $(snapshot) == "$before" ]] || fail "volumes changed by: $*"
}

# The audit records of EVENT, one JSON object a line.
records() { moat_as audit show --format json --event "$1"; }

# A stopped container whose volume VOL is mounted at /data; prints its id.
user_of() { moat_as create -v "$1:/data" "$IMG" true; }

# A shell command as the identity under test (what its containers would
# write into a volume: the invoker's own files, which it can remove).
as_sh() { as_identity sh -c "$1"; }

# `echo ANSWER | moat ARGS...` (prompts read stdin).
answer() {
	local a=$1
	shift
	bash -c "echo $a | timeout -k 5 60 $(moat_cmdline "$@")"
}

# ---- the group ----

@test "volume: usage alone and with --help lists the verbs; an unknown verb is exit 1" {
	local v
	for v in "" --help -h; do
		run moat_as volume $v
		assert_success
		assert_line --index 0 "Usage: moat volume COMMAND"
		for verb in create inspect ls prune rm; do
			assert_line --regexp "^  $verb +[A-Z]"
		done
	done
	run --separate-stderr moat_as volume frobnicate
	assert_failure 1
	[[ $stderr == "moat: 'volume frobnicate' is not a moat command (see 'moat volume --help')" ]] ||
		fail "$stderr"
	for v in create ls list inspect rm remove prune; do
		run moat_as volume "$v" --help
		assert_success
		assert_line --index 0 --regexp "^Usage: moat volume (create|ls|inspect|rm|prune) "
	done
}

# ---- create ----

@test "volume create: prints the name, makes the data directory for the container root; idempotent" {
	run --separate-stderr moat_as volume create data1
	assert_success
	assert_output "data1"
	[[ -z $stderr ]] || fail "stderr: $stderr"
	[[ -d $(vdir data1)/_data ]] || fail "no _data"
	[[ $(stat -c %u "$(vdir data1)/_data") == "$(host_uid_of_container_root)" ]] ||
		fail "_data owned by $(stat -c %u "$(vdir data1)/_data"), not container root"
	# the same name and driver again: the same volume, its data kept
	as_sh "echo kept > '$(vdir data1)/_data/f'"
	run moat_as volume create data1
	assert_success
	assert_output "data1"
	run moat_as volume create -d local data1
	assert_success
	assert_output "data1"
	[[ $(cat "$(vdir data1)/_data/f") == kept ]] || fail "data lost by a second create"
	# no name: a generated 64-hex one, each time another
	local a b
	a=$(moat_as volume create)
	b=$(moat_as volume create)
	[[ $a =~ ^[0-9a-f]{64}$ ]] || fail "generated name '$a'"
	[[ $b =~ ^[0-9a-f]{64}$ && $a != "$b" ]] || fail "second name '$b'"
	[[ $(names) == "$(printf '%s\n' data1 "$a" "$b" | sort | tr '\n' ' ')" ]] || fail "ls: $(names)"
}

@test "volume create: labels and options as Docker's maps (k alone, last value wins)" {
	run moat_as volume create --label a=1 --label b --label a=2 --label c=x=y lab
	assert_success
	run moat_as volume inspect -f '{{json .Labels}}' lab
	assert_success
	assert_output '{"a":"2","b":"","c":"x=y"}'
}

@test "volume create: refused names, drivers, options and flags change nothing" {
	moat_as volume create taken >/dev/null
	refused 1 volume create ../x
	[[ $stderr == *'"../x"'*"invalid characters"* || $stderr == *'"../x"'*"invalid"* ]] || fail "$stderr"
	refused 1 volume create 'a/b'
	refused 1 volume create -- -x
	refused 1 volume create "$(printf 'x%.0s' {1..200})"
	# an unknown driver is the plugin lookup's error
	refused 1 volume create -d nosuchplugin pv
	[[ $stderr == "moat: volume plugin nosuchplugin not found"* ]] || fail "$stderr"
	refused 1 volume create -d 'bad/../driver' pv2
	# the local driver takes no options, new volume or existing
	refused 1 volume create -o type=tmpfs lo
	[[ $stderr == *'option "type" is not supported'* ]] || fail "$stderr"
	refused 1 volume create -o device=/etc taken
	# the name is taken by another driver (no plugin is asked)
	refused 1 volume create -d otherdrv taken
	[[ $stderr == *'"local" driver, not "otherdrv"'* ]] || fail "$stderr"
	# what the flag parser refuses is 125
	refused 125 volume create a b
	[[ $stderr == 'moat: "volume create" accepts at most one argument' ]] || fail "$stderr"
	refused 125 volume create --label =x v
	[[ $stderr == "moat: invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name" ]] ||
		fail "$stderr"
	refused 125 volume create -o =x v
	refused 125 volume create --bogus v
	refused 125 volume create -d
	[[ $(names) == "taken " ]] || fail "ls: $(names)"
}

# ---- ls ----

@test "volume ls: Docker's default table, natural name order, -q" {
	local n
	for n in v10 v2 alpha; do moat_as volume create "$n" >/dev/null; done
	run --separate-stderr moat_as volume ls
	assert_success
	assert_output "DRIVER    VOLUME NAME"$'\n'"local     alpha"$'\n'"local     v2"$'\n'"local     v10"
	run moat_as volume list -q
	assert_success
	assert_output $'alpha\nv2\nv10'
	# "table" alone is the default; -q with it is the names
	run moat_as volume ls --format table
	assert_line --index 0 "DRIVER    VOLUME NAME"
	run moat_as volume ls -q --format table
	assert_output $'alpha\nv2\nv10'
	run moat_as volume ls --format ''
	assert_line --index 0 "DRIVER    VOLUME NAME"
	run moat_as volume ls -q extra
	assert_failure 125
}

@test "volume ls --format: every field, table headers, json" {
	local cid
	moat_as volume create --label b=2 --label a=1 fmt1 >/dev/null
	moat_as volume create fmt2 >/dev/null
	cid=$(user_of fmt1)
	run moat_as volume ls --format '{{.Name}}|{{.Driver}}|{{.Scope}}|{{.Mountpoint}}|{{.Labels}}|{{.Links}}'
	assert_success
	assert_output "fmt1|local|local|$(vdir fmt1)/_data|a=1,b=2|1"$'\n'"fmt2|local|local|$(vdir fmt2)/_data||0"
	run moat_as volume ls --format '{{.CreatedAt}}'
	assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'
	# a custom format wins over -q (docker/cli's volume NewFormat)
	run moat_as volume ls -q --format '{{.Driver}}-{{.Name}}'
	assert_output $'local-fmt1\nlocal-fmt2'
	run moat_as volume ls --format 'table {{.Name}}\t{{.Links}}\t{{.Scope}}\t{{.Labels}}'
	assert_output "VOLUME NAME   LINKS     SCOPE     LABELS"$'\n'"fmt1          1         local     a=1,b=2"$'\n'"fmt2          0         local     "
	run moat_as volume ls --format 'table {{.Mountpoint}}\t{{.CreatedAt}}\t{{.Driver}}'
	assert_line --index 0 --regexp '^MOUNTPOINT +CREATED AT +DRIVER$'
	run moat_as volume ls --format json
	assert_success
	[[ ${#lines[@]} -eq 2 ]] || fail "$output"
	[[ $(jq -r '[.Name,.Driver,.Scope,.Links,.Labels,.Mountpoint] | join("|")' <<<"${lines[0]}") == "fmt1|local|local|1|a=1,b=2|$(vdir fmt1)/_data" ]] ||
		fail "${lines[0]}"
	# a template that does not parse, or fails on a row, is exit 1
	run --separate-stderr moat_as volume ls --format '{{.Name'
	assert_failure 1
	assert_one_error_line
	run --separate-stderr moat_as volume ls --format '{{.Name.Foo}}'
	assert_failure 1
	[[ -z $output ]] || fail "printed: $output"
	moat_as rm "$cid" >/dev/null
}

@test "volume ls --filter: dangling, driver, label, name; unknown filters refused" {
	local cid
	moat_as volume create --label env=prod --label tier=web used >/dev/null
	moat_as volume create --label env=dev free1 >/dev/null
	moat_as volume create free2 >/dev/null
	cid=$(user_of used)
	run moat_as volume ls -q --filter dangling=true
	assert_output $'free1\nfree2'
	run moat_as volume ls -q -f dangling=1
	assert_output $'free1\nfree2'
	run moat_as volume ls -q --filter dangling=false
	assert_output "used"
	run moat_as volume ls -q --filter DANGLING=0
	assert_output "used"
	run moat_as volume ls -q --filter driver=local
	assert_output $'free1\nfree2\nused'
	run moat_as volume ls -q --filter driver=loc
	assert_output ""
	run moat_as volume ls -q --filter label=env
	assert_output $'free1\nused'
	run moat_as volume ls -q --filter label=env=prod
	assert_output "used"
	# every label= must match
	run moat_as volume ls -q --filter label=env --filter label=tier=web
	assert_output "used"
	run moat_as volume ls -q --filter label=env=dev --filter label=tier
	assert_output ""
	# name: a part of the name; several: any of them
	run moat_as volume ls -q --filter name=ree
	assert_output $'free1\nfree2'
	run moat_as volume ls -q --filter name=free1 --filter name=used
	assert_output $'free1\nused'
	run moat_as volume ls -q --filter 'name = free2 '
	assert_output "free2"
	# and together
	run moat_as volume ls -q --filter dangling=true --filter label=env
	assert_output "free1"
	# refusals
	run --separate-stderr moat_as volume ls --filter foo=bar
	assert_failure 1
	[[ $stderr == "moat: invalid filter 'foo'" ]] || fail "$stderr"
	run --separate-stderr moat_as volume ls --filter until=1h
	assert_failure 1
	[[ $stderr == "moat: invalid filter 'until'" ]] || fail "$stderr"
	run --separate-stderr moat_as volume ls --filter dangling=maybe
	assert_failure 1
	[[ $stderr == "moat: invalid filter 'dangling=maybe'" ]] || fail "$stderr"
	run --separate-stderr moat_as volume ls --filter label=
	assert_failure 1
	run --separate-stderr moat_as volume ls --filter dangling
	assert_failure 125
	[[ $stderr == *"bad format of filter (expected name=value)"* ]] || fail "$stderr"
	[[ -z $output ]] || fail "printed: $output"
	moat_as rm "$cid" >/dev/null
	run moat_as volume ls -q --filter dangling=false
	assert_output ""
}

# ---- inspect ----

@test "volume inspect: Docker's JSON array; --format; missing names after the found ones" {
	local t0 t1 created
	t0=$(date -u +%s)
	moat_as volume create --label k=v insp1 >/dev/null
	moat_as volume create insp2 >/dev/null
	t1=$(date -u +%s)
	run --separate-stderr moat_as volume inspect insp1 insp2
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	[[ ${lines[0]} == "[" && ${lines[1]} == "    {" ]] || fail "not Docker's indent: $output"
	[[ $(jq -c '[.[] | keys]' <<<"$output") == '[["CreatedAt","Driver","Labels","Mountpoint","Name","Options","Scope"],["CreatedAt","Driver","Labels","Mountpoint","Name","Options","Scope"]]' ]] ||
		fail "keys: $output"
	[[ $(jq -c '.[0] | [.Name,.Driver,.Scope,.Labels,.Options,.Mountpoint]' <<<"$output") == "[\"insp1\",\"local\",\"local\",{\"k\":\"v\"},{},\"$(vdir insp1)/_data\"]" ]] ||
		fail "$output"
	[[ $(jq -c '.[1] | [.Name,.Labels]' <<<"$output") == '["insp2",{}]' ]] || fail "$output"
	created=$(jq -r '.[0].CreatedAt' <<<"$output")
	[[ $created =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "CreatedAt $created"
	created=$(date -u -d "$created" +%s)
	((created >= t0 && created <= t1)) || fail "CreatedAt $created not in [$t0, $t1]"
	# --format, -f and "json"
	run moat_as volume inspect --format '{{.Name}} {{.Labels.k}} {{.Driver}}' insp1
	assert_output "insp1 v local"
	run moat_as volume inspect -f '{{.Name}}' insp2 insp1
	assert_output $'insp2\ninsp1'
	run moat_as volume inspect -f json insp1
	[[ $(jq -r '.[0].Name' <<<"$output") == insp1 ]] || fail "$output"
	# a missing name: the others printed, then the error, exit 1
	run --separate-stderr moat_as volume inspect insp1 nope insp2
	assert_failure 1
	[[ $(jq -r '[.[].Name] | join(",")' <<<"$output") == "insp1,insp2" ]] || fail "$output"
	[[ $stderr == "moat: No such volume: nope" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as volume inspect nope ../x
	assert_failure 1
	assert_output "[]"
	[[ $stderr == "moat: No such volume: nope"$'\n'"moat: No such volume: ../x" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as volume inspect -f '{{.Name}}' nope
	assert_failure 1
	assert_output ""
	# templates that fail print nothing
	run --separate-stderr moat_as volume inspect -f '{{.Name' insp1
	assert_failure 1
	[[ $stderr == "moat: template parsing error: "* ]] || fail "$stderr"
	run --separate-stderr moat_as volume inspect -f '{{.Name.Foo}}' insp1 insp2
	assert_failure 1
	assert_output ""
	refused 125 volume inspect
}

# ---- rm ----

@test "volume rm: prints each name; its data goes; a missing one is exit 1, the others still go; -f" {
	local d
	for d in r1 r2 r3; do moat_as volume create "$d" >/dev/null; done
	as_sh "echo x > '$(vdir r1)/_data/file' && mkdir -p '$(vdir r1)/_data/sub/dir'"
	run --separate-stderr moat_as volume rm r1
	assert_success
	assert_output "r1"
	[[ ! -e $(vdir r1) ]] || fail "r1 left on disk"
	run --separate-stderr moat_as volume remove r2 nope r3
	assert_failure 1
	assert_output $'r2\nr3'
	assert_one_error_line
	[[ $stderr == *"nope"* ]] || fail "$stderr"
	[[ $(names) == "" ]] || fail "left: $(names)"
	# -f: a missing volume is not an error (and is said, as Docker does)
	run --separate-stderr moat_as volume rm -f nope
	assert_success
	assert_output "nope"
	run --separate-stderr moat_as volume rm --force ../x
	assert_success
	# a bad name without -f is refused like a missing one
	refused 1 volume rm ../x
	refused 125 volume rm
	refused 125 volume rm --bogus x
}

@test "volume rm: a volume a stopped container refers to is refused (exit 1) and stays, -f or not" {
	local cid
	moat_as volume create busy >/dev/null
	moat_as volume create idle >/dev/null
	as_sh "echo mine > '$(vdir busy)/_data/f'"
	cid=$(user_of busy)
	[[ $cid =~ ^[0-9a-f]{64}$ ]] || fail "create printed '$cid'"
	run --separate-stderr moat_as volume rm busy idle
	assert_failure 1
	assert_output "idle"
	[[ $stderr == "moat: remove busy: volume is in use - [$cid]" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as volume rm -f busy
	assert_failure 1
	[[ $stderr == "moat: remove busy: volume is in use - [$cid]" ]] || fail "stderr: $stderr"
	[[ $(names) == "busy " ]] || fail "ls: $(names)"
	[[ $(cat "$(vdir busy)/_data/f") == mine ]] || fail "data touched"
	# two users: both named
	local cid2
	cid2=$(user_of busy)
	run --separate-stderr moat_as volume rm busy
	assert_failure 1
	[[ $stderr == *"$cid"* && $stderr == *"$cid2"* ]] || fail "stderr: $stderr"
	# once the containers are gone, it goes
	moat_as rm "$cid" "$cid2" >/dev/null
	run moat_as volume rm busy
	assert_success
	assert_output "busy"
	[[ ! -e $(vdir busy) ]] || fail "left on disk"
}

# ---- prune ----

@test "volume prune: Docker's prompt; 'n' or no answer removes nothing" {
	local before
	moat_as volume create >/dev/null
	moat_as volume create named >/dev/null
	before=$(snapshot)
	run answer n volume prune
	assert_success
	assert_output "WARNING! This will remove anonymous local volumes not used by at least one container."$'\n'"Are you sure you want to continue? [y/N] Total reclaimed space: 0B"
	run bash -c "timeout -k 5 60 $(moat_cmdline volume prune) </dev/null"
	assert_success
	run answer n volume prune -a
	assert_output "WARNING! This will remove all local volumes not used by at least one container."$'\n'"Are you sure you want to continue? [y/N] Total reclaimed space: 0B"
	run answer yes volume prune -a
	assert_success
	[[ $(snapshot) == "$before" ]] || fail "volumes changed"
}

@test "volume prune: anonymous unused volumes go (with their size); named and used ones stay; -a" {
	local anon used_anon cid cid2
	anon=$(moat_as volume create)
	moat_as volume create keepme >/dev/null
	moat_as volume create inuse >/dev/null
	cid=$(user_of inuse)
	# an anonymous volume a container made and uses
	cid2=$(moat_as create -v /data "$IMG" true)
	used_anon=$(moat_as volume ls -q --filter dangling=false | grep -vx inuse || true)
	[[ $used_anon =~ ^[0-9a-f]{64}$ ]] || fail "container's anonymous volume: '$used_anon'"
	as_sh "cd '$(vdir "$anon")/_data' && head -c 5000 /dev/zero >a && mkdir d && head -c 7000 /dev/zero >d/b"
	run answer y volume prune
	assert_success
	assert_output "WARNING! This will remove anonymous local volumes not used by at least one container."$'\n'"Are you sure you want to continue? [y/N] Deleted Volumes:"$'\n'"$anon"$'\n\n'"Total reclaimed space: 12kB"
	[[ ! -e $(vdir "$anon") ]] || fail "pruned volume left on disk"
	[[ $(names) == "$(printf '%s\n' inuse keepme "$used_anon" | sort | tr '\n' ' ')" ]] || fail "ls: $(names)"
	# nothing more to do
	run moat_as volume prune -f
	assert_success
	assert_output "Total reclaimed space: 0B"
	# -a: named ones too, never one in use
	run moat_as volume prune -a -f
	assert_success
	assert_output "Deleted Volumes:"$'\n'"keepme"$'\n\n'"Total reclaimed space: 0B"
	[[ $(names) == "$(printf '%s\n' inuse "$used_anon" | sort | tr '\n' ' ')" ]] || fail "ls: $(names)"
	moat_as rm "$cid" "$cid2" >/dev/null
	run moat_as volume prune --all --force
	assert_success
	assert_line "inuse"
	assert_line "$used_anon"
	[[ $(names) == "" ]] || fail "ls: $(names)"
}

@test "volume prune --filter: label and label! select; other filters refused before anything goes" {
	local before
	moat_as volume create --label keep=1 k1 >/dev/null
	moat_as volume create --label keep=0 k0 >/dev/null
	moat_as volume create --label other=x ox >/dev/null
	before=$(snapshot)
	refused 125 volume prune -a -f --filter until=1h
	[[ $stderr == "moat: invalid filter 'until'" ]] || fail "$stderr"
	refused 125 volume prune -a -f --filter dangling=true
	refused 125 volume prune -a -f --filter label
	refused 125 volume prune -a -f --filter label=
	refused 125 volume prune -f extra
	[[ $(snapshot) == "$before" ]] || fail "changed"
	# without -a named volumes are not candidates, whatever the filter
	run moat_as volume prune -f --filter label=keep
	assert_output "Total reclaimed space: 0B"
	run moat_as volume prune -a -f --filter label=keep=1
	assert_success
	assert_output "Deleted Volumes:"$'\n'"k1"$'\n\n'"Total reclaimed space: 0B"
	run moat_as volume prune -a -f --filter label!=keep
	assert_success
	assert_output "Deleted Volumes:"$'\n'"ox"$'\n\n'"Total reclaimed space: 0B"
	[[ $(names) == "k0 " ]] || fail "ls: $(names)"
}

# ---- audit ----

@test "volume audit: create, remove and prune are recorded with names, drivers and failures" {
	local cid anon
	moat_as volume create --label a=b aud1 >/dev/null
	moat_as volume create aud1 >/dev/null
	moat_as volume create -o x=y audbad 2>/dev/null && fail "created with -o"
	run records volume.create
	assert_success
	[[ ${#lines[@]} -eq 3 ]] || fail "records: $output"
	[[ $(jq -c '[.name,.driver,.existed]' <<<"${lines[0]}") == '["aud1","local",false]' ]] || fail "${lines[0]}"
	[[ $(jq -c '[.name,.driver,.existed]' <<<"${lines[1]}") == '["aud1","local",true]' ]] || fail "${lines[1]}"
	[[ $(jq -r '.name + " " + .error' <<<"${lines[2]}") == "audbad "*"not supported"* ]] || fail "${lines[2]}"
	[[ $(jq -r .uid <<<"${lines[0]}") == "$(id -u "$(is_rootless && echo "$MOAT_TEST_USER" || echo root)")" ]] ||
		fail "uid: ${lines[0]}"

	cid=$(user_of aud1)
	moat_as volume rm aud1 2>/dev/null && fail "removed in use"
	moat_as rm "$cid" >/dev/null
	moat_as volume rm aud1 >/dev/null
	run records volume.remove
	[[ ${#lines[@]} -eq 2 ]] || fail "records: $output"
	[[ $(jq -r '.name + " " + .driver + " " + .error' <<<"${lines[0]}") == "aud1 local remove aud1: volume is in use - [$cid]" ]] ||
		fail "${lines[0]}"
	[[ $(jq -c '[.name,.driver,has("error")]' <<<"${lines[1]}") == '["aud1","local",false]' ]] || fail "${lines[1]}"

	anon=$(moat_as volume create)
	moat_as volume prune -f >/dev/null
	run records volume.prune
	[[ ${#lines[@]} -eq 1 ]] || fail "records: $output"
	[[ $(jq -c '[.names,.drivers,.all]' <<<"${lines[0]}") == "[[\"$anon\"],[\"local\"],false]" ]] || fail "${lines[0]}"
	# a refusal before the log (a bad flag) and ls/inspect record nothing
	moat_as volume prune -f --filter until=1h 2>/dev/null || true
	moat_as volume ls >/dev/null
	moat_as volume inspect "$anon" >/dev/null 2>&1 || true
	run records 'volume.*'
	# 4 creates (one refused), 2 removals (one refused), 1 prune
	[[ ${#lines[@]} -eq 7 ]] || fail "records: $output"
	run moat_as audit verify
	assert_success
}

@test "volume audit: no log, no change (fail-closed) for create, rm and prune" {
	local before
	moat_as volume create stays >/dev/null
	moat_as volume create >/dev/null
	before=$(snapshot)
	# the log's path is a directory: it cannot be opened
	install -d -m 0777 "$MOAT_T/badlog-$BATS_TEST_NUMBER/audit.log"
	export MOAT_AUDIT_LOG_OVERRIDE=$MOAT_T/badlog-$BATS_TEST_NUMBER/audit.log
	refused 125 volume create newvol
	[[ $stderr == *"audit"* ]] || fail "$stderr"
	refused 125 volume create
	refused 125 volume rm stays
	refused 125 volume rm -f stays
	refused 125 volume prune -a -f
	[[ $(snapshot) == "$before" ]] || fail "volumes changed without an audit log"
	# reading needs no log
	run moat_as volume ls -q
	assert_success
	assert_line "stays"
}
