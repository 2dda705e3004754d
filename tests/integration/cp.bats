#!/usr/bin/env bats
# `moat cp`: files and directories between the host and a running, created
# or exited container, with Docker's path rules (existing dir -> into it,
# "dir/." -> its contents, missing parent -> error), modes and mtimes
# kept, ownership 0:0 inside (or the source's with -a) and the invoker's
# outside, "-" as a tar stream, and Docker's messages and exit codes.

load ../lib/helpers

setup() {
	# the host side: a directory the identity under test owns
	W=$(as_identity mktemp -d "$MOAT_T/scratch/cp.XXXXXX")
}

teardown() {
	local id
	for id in $(moat_as ps -aq --no-trunc 2>/dev/null); do
		moat_as rm -f "$id" >/dev/null 2>&1 || true
	done
	rm -rf -- "$W"
	moat_check_clean
}

# The invoker's ids, as host files copied out must show them.
invoker_ids() {
	if is_root_identity; then echo "0:0"; else echo "$(id -u "$MOAT_TEST_USER"):$(id -g "$MOAT_TEST_USER")"; fi
}

running() { moat_as run -d --name "$1" "$IMG" sleep 600 >/dev/null; }
created() { moat_as create --name "$1" "$IMG" sleep 600 >/dev/null; }
exited() {
	moat_as run -d --name "$1" "$IMG" sleep 600 >/dev/null
	moat_as stop -t 0 "$1" >/dev/null
}

# in NAME CMD...: a shell command in running container NAME.
in_ctr() {
	local name=$1
	shift
	moat_as exec "$name" sh -c "$*"
}

# A small tree with a file, a subdirectory, a symlink and odd modes.
make_tree() {
	as_identity mkdir -p "$1/sub"
	as_identity sh -c "printf 'file a\n' >'$1/a'; printf 'deep b\n' >'$1/sub/b'; ln -s a '$1/link'"
	chmod 0640 "$1/a"
	chmod 0751 "$1/sub"
	touch -h -d '2001-02-03 04:05:06' "$1/a" "$1/sub/b" "$1/sub" "$1"
}

@test "cp: a file into and out of a running container (content, mode, mtime, owners)" {
	running web
	as_identity sh -c "printf 'hello\n' >'$W/f'"
	chmod 0604 "$W/f"
	touch -d '2001-02-03 04:05:06' "$W/f"
	run --separate-stderr moat_as cp "$W/f" web:/tmp/f
	assert_success
	assert_output ""
	run in_ctr web 'cat /tmp/f; stat -c "%a %u:%g %Y" /tmp/f'
	assert_success
	assert_output "hello
604 0:0 981173106"
	in_ctr web 'printf "inside\n" >/tmp/g; chmod 0611 /tmp/g; touch -d "2002-03-04 05:06:07" /tmp/g; chown 7:8 /tmp/g'
	run moat_as cp web:/tmp/g "$W/g"
	assert_success
	assert_equal "$(cat "$W/g")" "inside"
	assert_equal "$(stat -c '%a %u:%g %Y' "$W/g")" "611 $(invoker_ids) 1015218367"
}

@test "cp: a directory, recursively, both ways (modes, mtimes and symlinks kept)" {
	running web
	make_tree "$W/t"
	run moat_as cp "$W/t" web:/tmp/t
	assert_success
	run in_ctr web 'cd /tmp/t && stat -c "%n %a %u:%g %Y" a sub sub/b . && readlink link && cat sub/b'
	assert_success
	assert_output "a 640 0:0 981173106
sub 751 0:0 981173106
sub/b 644 0:0 981173106
. 755 0:0 981173106
a
deep b"
	run moat_as cp web:/tmp/t "$W/back"
	assert_success
	run stat -c '%n %a %u:%g %Y' "$W/back/a" "$W/back/sub" "$W/back/sub/b"
	assert_output "$W/back/a 640 $(invoker_ids) 981173106
$W/back/sub 751 $(invoker_ids) 981173106
$W/back/sub/b 644 $(invoker_ids) 981173106"
	assert_equal "$(readlink "$W/back/link")" "a"
	assert_equal "$(cat "$W/back/sub/b")" "deep b"
}

@test "cp: destination rules: into an existing dir, dir/. copies contents, a new name, overwrite" {
	running web
	make_tree "$W/t"
	in_ctr web 'mkdir -p /tmp/exists /tmp/exists2; echo old >/tmp/file'
	# an existing directory: the source goes into it under its own name
	moat_as cp "$W/t" web:/tmp/exists
	run in_ctr web 'ls /tmp/exists; ls /tmp/exists/t'
	assert_output "t
a
link
sub"
	# dir/. into an existing directory: its contents, not itself
	moat_as cp "$W/t/." web:/tmp/exists2
	run in_ctr web 'ls /tmp/exists2'
	assert_output "a
link
sub"
	# a missing destination (its parent exists) takes the destination's name
	moat_as cp "$W/t" web:/tmp/newname
	moat_as cp "$W/t/." web:/tmp/newname2
	run in_ctr web 'ls /tmp/newname; ls /tmp/newname2'
	assert_output "a
link
sub
a
link
sub"
	# a file onto an existing file replaces it
	moat_as cp "$W/t/a" web:/tmp/file
	run in_ctr web 'cat /tmp/file'
	assert_output "file a"
	# the same rules on the host side
	as_identity mkdir "$W/hostdir"
	moat_as cp web:/tmp/exists/t "$W/hostdir"
	moat_as cp web:/tmp/exists/t/. "$W/hostdir2"
	moat_as cp web:/tmp/file "$W/hostdir/t/a"
	run ls "$W/hostdir" "$W/hostdir2"
	assert_output "$W/hostdir:
t

$W/hostdir2:
a
link
sub"
	assert_equal "$(cat "$W/hostdir/t/a")" "file a"
	# relative container paths are relative to its root
	moat_as cp web:tmp/file "$W/rel"
	assert_equal "$(cat "$W/rel")" "file a"
}

@test "cp: a created (never started) container: in, out, and it starts with the file" {
	created box
	make_tree "$W/t"
	run moat_as cp "$W/t" box:/tmp/t
	assert_success
	run moat_as cp box:/tmp/t/sub/b "$W/b"
	assert_success
	assert_equal "$(cat "$W/b")" "deep b"
	run moat_as cp box:/etc/passwd "$W/passwd"
	assert_success
	grep -q '^root:x:0:0:' "$W/passwd"
	# nothing of the copy is left in the runtime state
	[[ -z $(ls -A "$MOAT_STATE/run/containers" 2>/dev/null) ]] || fail "left: $(ls -A "$MOAT_STATE/run/containers")"
	run moat_as ps -a
	assert_line --regexp " Created +.*box$"
	moat_as start box >/dev/null
	run in_ctr box 'stat -c "%a %u:%g %Y" /tmp/t/a; cat /tmp/t/a'
	assert_output "640 0:0 981173106
file a"
}

@test "cp: an exited container: in and out, and it restarts with the file" {
	exited gone
	as_identity sh -c "printf 'x\n' >'$W/x'"
	run moat_as cp "$W/x" gone:/tmp/x
	assert_success
	run moat_as cp gone:/tmp/x "$W/y"
	assert_success
	assert_equal "$(cat "$W/y")" "x"
	run moat_as ps -a
	assert_line --regexp "Exited \(137\)"
	moat_as start gone >/dev/null
	run in_ctr gone 'cat /tmp/x'
	assert_output "x"
}

@test "cp -a keeps the source's uid/gid inside; without it the container's root owns the copy" {
	running web
	local ids
	as_identity sh -c "printf 'o\n' >'$W/owned'"
	if is_root_identity; then
		chown 1234:5678 "$W/owned"
		ids=1234:5678
	else
		[[ $(moat_as info) == *subordinate* ]] || skip "the test user has no subordinate ids"
		ids=$(invoker_ids)
	fi
	run moat_as cp -a "$W/owned" web:/tmp/owned-a
	assert_success
	run moat_as cp "$W/owned" web:/tmp/owned
	assert_success
	run in_ctr web 'stat -c "%u:%g" /tmp/owned-a /tmp/owned'
	assert_output "$ids
0:0"
	# --archive is the long spelling
	run moat_as cp --archive "$W/owned" web:/tmp/owned-b
	assert_success
	run in_ctr web 'stat -c "%u:%g" /tmp/owned-b'
	assert_output "$ids"
}

@test "cp out: setuid and setgid bits are dropped unless -a; the invoker owns the copy" {
	running web
	in_ctr web 'echo s >/tmp/suid; chown 7:8 /tmp/suid; chmod 6755 /tmp/suid'
	moat_as cp web:/tmp/suid "$W/plain"
	assert_equal "$(stat -c '%a %u:%g' "$W/plain")" "755 $(invoker_ids)"
	moat_as cp -a web:/tmp/suid "$W/kept"
	# -a keeps the container's owner where that is ours to set (root);
	# rootless, like cp -a, it silently stays the invoker's
	assert_equal "$(stat -c '%a' "$W/kept")" "6755"
	if is_root_identity; then
		assert_equal "$(stat -c '%u:%g' "$W/kept")" "7:8"
	else
		assert_equal "$(stat -c '%u:%g' "$W/kept")" "$(invoker_ids)"
	fi
}

@test "cp -L follows a symlink that SRC_PATH names; without it the link itself is copied" {
	running web
	in_ctr web 'echo target >/tmp/real; ln -s real /tmp/lnk'
	moat_as cp web:/tmp/lnk "$W/nolink"
	assert_equal "$(readlink "$W/nolink")" "real"
	moat_as cp -L web:/tmp/lnk "$W/followed"
	[[ ! -L $W/followed ]] || fail "-L copied the link"
	assert_equal "$(cat "$W/followed")" "target"
	as_identity sh -c "echo host >'$W/hreal'; ln -s hreal '$W/hlnk'"
	moat_as cp "$W/hlnk" web:/tmp/hl
	moat_as cp --follow-link "$W/hlnk" web:/tmp/hf
	run in_ctr web 'readlink /tmp/hl; cat /tmp/hf; test -L /tmp/hf || echo regular'
	assert_output "hreal
host
regular"
}

@test "cp -: a tar stream to stdout and from stdin" {
	running web
	make_tree "$W/t"
	moat_as cp "$W/t" web:/tmp/t
	bash -c "$(moat_cmdline cp web:/tmp/t -)" >"$W/out.tar"
	run bash -c "tar -tf '$W/out.tar' | LC_ALL=C sort"
	assert_success
	assert_output "t/
t/a
t/link
t/sub/
t/sub/b"
	run tar -tvf "$W/out.tar" t/a t/sub/
	assert_line --regexp '^-rw-r----- .* 2001-02-03 04:05 t/a$'
	assert_line --regexp '^drwxr-x--x .* t/sub/$'
	run tar -xOf "$W/out.tar" t/sub/b
	assert_output "deep b"
	# a tar on stdin is extracted into an existing directory
	(cd "$W/t" && tar -cf - a sub) >"$W/in.tar"
	chmod 0644 "$W/in.tar"
	in_ctr web 'mkdir /tmp/untar'
	run bash -c "$(moat_cmdline cp - web:/tmp/untar) <'$W/in.tar'"
	assert_success
	run in_ctr web 'cat /tmp/untar/a /tmp/untar/sub/b; stat -c "%a %u:%g" /tmp/untar/a'
	assert_output "file a
deep b
640 0:0"
	# ...but only into a directory
	run --separate-stderr bash -c "$(moat_cmdline cp - web:/tmp/untar/a) <'$W/in.tar'"
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"must be a directory"* ]] || fail "stderr: $stderr"
}

@test "cp: a missing source is exit 1 with Docker's message, and nothing is created" {
	running web
	run --separate-stderr moat_as cp web:/nope "$W/out"
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: Could not find the file /nope in container web"
	[[ ! -e $W/out ]] || fail "created $W/out"
	run --separate-stderr moat_as cp "$W/nope" web:/tmp/out
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: lstat $W/nope: no such file or directory"
	run in_ctr web 'test -e /tmp/out || echo absent'
	assert_output "absent"
	# the same for a stopped container
	moat_as stop -t 0 web >/dev/null
	run --separate-stderr moat_as cp web:/tmp/nope "$W/out"
	assert_failure 1
	assert_equal "$stderr" "moat: Could not find the file /tmp/nope in container web"
}

@test "cp: a missing destination directory is 'no such directory', exit 1" {
	running web
	as_identity sh -c "echo x >'$W/x'"
	run --separate-stderr moat_as cp "$W/x" web:/nodir/x
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"no such directory"*"/nodir"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as cp web:/etc/passwd "$W/nodir/x"
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"no such directory"*"$W/nodir"* ]] || fail "stderr: $stderr"
	[[ ! -e $W/nodir ]] || fail "created $W/nodir"
	# "dir/" for a file source asserts that the directory exists
	run --separate-stderr moat_as cp "$W/x" web:/tmp/newdir/
	assert_failure 1
	[[ $stderr == *"no such directory"* ]] || fail "stderr: $stderr"
	run in_ctr web 'test -e /nodir || test -e /tmp/newdir || echo clean'
	assert_output "clean"
}

@test "cp: a directory onto a file, or onto a device, is refused (exit 1)" {
	running web
	make_tree "$W/t"
	run --separate-stderr moat_as cp "$W/t" web:/etc/passwd
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"cannot copy a directory to a file"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as cp web:/etc "$W/t/a"
	assert_failure 1
	[[ $stderr == *"cannot copy a directory to a file"* ]] || fail "stderr: $stderr"
	assert_equal "$(cat "$W/t/a")" "file a"
	run --separate-stderr moat_as cp web:/etc/passwd /dev/null
	assert_failure 1
	[[ $stderr == *"must be a directory or a regular file"* ]] || fail "stderr: $stderr"
	[[ -c /dev/null ]] || fail "/dev/null was replaced"
}

@test "cp: an unknown container is exit 1" {
	as_identity sh -c "echo x >'$W/x'"
	run --separate-stderr moat_as cp nosuch:/etc/passwd "$W/out"
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: No such container: nosuch"
	run --separate-stderr moat_as cp "$W/x" nosuch:/tmp
	assert_failure 1
	assert_equal "$stderr" "moat: No such container: nosuch"
	[[ ! -e $W/out ]] || fail "created $W/out"
}

@test "cp: bad syntax (no container, two containers, argument count, flags)" {
	as_identity sh -c "echo x >'$W/x'"
	run --separate-stderr moat_as cp "$W/x" "$W/y"
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: must specify at least one container source"
	[[ ! -e $W/y ]] || fail "copied on the host"
	run --separate-stderr moat_as cp a:/x b:/y
	assert_failure 1
	assert_one_error_line
	assert_equal "$stderr" "moat: copying between containers is not supported"
	# "./a:b" and absolute paths with ':' are local
	run --separate-stderr moat_as cp ./a:b "$W/c:d"
	assert_failure 1
	assert_equal "$stderr" "moat: must specify at least one container source"
	run --separate-stderr moat_as cp onlyone
	assert_failure 1
	assert_equal "$stderr" "moat: \"moat cp\" requires exactly 2 arguments"
	run --separate-stderr moat_as cp --bogus a b
	assert_failure 125
	assert_one_error_line
}

@test "cp: into a --read-only container is refused; out of it works" {
	moat_as run -d --name ro --read-only "$IMG" sleep 600 >/dev/null
	as_identity sh -c "echo x >'$W/x'"
	run --separate-stderr moat_as cp "$W/x" ro:/tmp/x
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"read-only"* ]] || fail "stderr: $stderr"
	run moat_as cp ro:/etc/passwd "$W/p"
	assert_success
}

@test "cp: the copy is in the audit log" {
	running web
	as_identity sh -c "echo x >'$W/x'"
	moat_as cp "$W/x" web:/tmp/x
	local id
	id=$(moat_as ps -q --no-trunc)
	run moat_as audit show --event container.cp --format json
	assert_output --partial "\"container\":\"$id\""
	assert_output --partial "\"direction\":\"in\""
	assert_output --partial "\"host_path\":\"$W/x\""
}

@test "cp: works the same through the fallback path walk (no openat2)" {
	running web
	in_ctr web 'mkdir -p /tmp/d; echo in-d >/tmp/d/f; ln -s /tmp/d /tmp/l'
	as_identity sh -c "echo host >'$W/h'"
	MOAT_NO_OPENAT2=1 run moat_as cp web:/tmp/l/f "$W/f"
	assert_success
	assert_equal "$(cat "$W/f")" "in-d"
	MOAT_NO_OPENAT2=1 run moat_as cp "$W/h" web:/tmp/l/h
	assert_success
	run in_ctr web 'cat /tmp/d/h'
	assert_output "host"
	moat_as stop -t 0 web >/dev/null
	MOAT_NO_OPENAT2=1 run moat_as cp web:/tmp/l/h "$W/h2"
	assert_success
	assert_equal "$(cat "$W/h2")" "host"
}

@test "cp: copies into one stopped container at the same time all land" {
	created busy
	local i pids=()
	for i in 1 2 3 4; do
		as_identity sh -c "echo n$i >'$W/n$i'"
	done
	for i in 1 2 3 4; do
		moat_as cp "$W/n$i" "busy:/tmp/n$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "a concurrent copy failed"
	done
	[[ -z $(ls -A "$MOAT_STATE/run/containers" 2>/dev/null) ]] || fail "left: $(ls -A "$MOAT_STATE/run/containers")"
	moat_as start busy >/dev/null
	run in_ctr busy 'cat /tmp/n1 /tmp/n2 /tmp/n3 /tmp/n4'
	assert_output "n1
n2
n3
n4"
}
