#!/usr/bin/env bats
# Bind mounts of host paths, as root and rootless: read-write and read-only
# (and that read-only cannot be undone from inside), file binds, the
# creation of a missing source by -v and its refusal by --mount, the
# grammar's refusals (relative or empty parts, targets at or under /proc,
# /sys, /dev or "/", ".." anywhere), symlinks as a source and as a target
# in the image, propagation (shared refused; rslave against rprivate, as
# root), --read-only with a writable bind, and the tenant policy's
# bindMounts rules at create and again at start.
#
# Host paths live under $MOAT_T/binds (0755 on the way down, so the test
# user reaches them). A directory the container must write to is given to
# the host uid of container root for the identity under test.

load ../lib/helpers

# A wedged moat must fail its test, not hang the suite.
MOAT_WRAP=${MOAT_WRAP:-timeout 120}

B=

setup() {
	B=$MOAT_T/binds/t$BATS_TEST_NUMBER
	install -d -m 0755 "$MOAT_T/binds" "$B"
}

# Host mounts this file's tests made (rslave), if a test failed before
# removing them: they are under $MOAT_T, so the leak check reports them.
teardown() {
	local m
	grep -F -- " $MOAT_T/binds/" /proc/self/mountinfo | awk '{print $5}' | sort -r |
		while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	moat_check_clean
}

# ---- helpers ----

# hostdir PATH: a directory container root may write to.
hostdir() {
	install -d -m 0755 -o "$(host_uid_of_container_root)" -g "$(host_uid_of_container_root)" "$1"
}

# Every directory under ROOT/volumes (records and debris): "no new volume".
vol_entries() {
	find "$MOAT_STATE/root/volumes" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort
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
	[[ $status -eq 125 ]] || fail "run $*: exit $status, stderr: $stderr, output: $output"
	assert_one_error_line
	[[ $stderr == *"$why"* ]] || fail "run $*: want '$why', got: $stderr"
	no_containers
	[[ $(vol_entries) == "$vols" ]] || fail "run $*: volumes made: $(vol_entries)"
}

# pfile NAME JSON: a policy file readable by the identity under test.
pfile() {
	local f=$MOAT_T/scratch/$1
	printf '%s\n' "$2" >"$f"
	chmod 0644 "$f"
	echo "$f"
}

# denied POLICY RULE ARGS...: refused by RULE (one line, 125, nothing
# created).
denied() {
	local pol=$1 rule=$2 vols
	shift 2
	vols=$(vol_entries)
	run --separate-stderr moat_as --policy "$pol" run --rm "$@"
	[[ $status -eq 125 ]] || fail "run $*: exit $status, stderr: $stderr"
	assert_one_error_line
	[[ $stderr == "moat: policy: $rule: "* ]] || fail "want rule $rule, got: $stderr"
	no_containers
	[[ $(vol_entries) == "$vols" ]] || fail "run $*: volumes made: $(vol_entries)"
}

# The host's mount table, for "nothing was mounted on the host".
host_mounts() { awk '{print $5}' /proc/self/mountinfo | sort; }

# ---- read-write, read-only, files ----

@test "binds: a rw bind: writes reach the host, owned by container root's host id" {
	hostdir "$B/rw"
	echo host >"$B/rw/from-host"
	run --separate-stderr mrun -v "$B/rw:/mnt/b" "$IMG" sh -c 'cat /mnt/b/from-host; echo ctr >/mnt/b/from-ctr; grep " /mnt/b " /proc/mounts'
	assert_success
	assert_line --index 0 host
	[[ ${lines[1]} == *" /mnt/b "*" rw,"* ]] || fail "mount: ${lines[1]}"
	[[ $(cat "$B/rw/from-ctr") == ctr ]] || fail "the write did not reach the host"
	[[ $(stat -c %u "$B/rw/from-ctr") == "$(host_uid_of_container_root)" ]] || fail "owner $(stat -c %u "$B/rw/from-ctr")"
	# --mount type=bind is the same mount
	run --separate-stderr mrun --mount "type=bind,source=$B/rw,target=/mnt/m" "$IMG" sh -c 'echo m >/mnt/m/by-mount'
	assert_success
	[[ -f $B/rw/by-mount ]] || fail "--mount bind: no write"
}

@test "binds: a ro bind: writes fail with Read-only file system, remount rw fails, the host is unchanged" {
	hostdir "$B/ro"
	echo keep >"$B/ro/f"
	local before
	before=$(ls -la --time-style=full-iso "$B/ro")
	local spec
	for spec in "-v $B/ro:/mnt/b:ro" "--mount type=bind,source=$B/ro,target=/mnt/b,readonly"; do
		# shellcheck disable=SC2086
		run --separate-stderr mrun $spec "$IMG" sh -c '
			grep " /mnt/b " /proc/mounts
			echo x >/mnt/b/new; echo "write=$?"
			echo x >>/mnt/b/f; echo "append=$?"
			rm -f /mnt/b/f; echo "rm=$?"
			mount -o remount,rw /mnt/b; echo "remount=$?"
			mount -o remount,rw,bind /mnt/b; echo "remountbind=$?"
			echo x >/mnt/b/new2; echo "after=$?"'
		assert_success
		[[ ${lines[0]} == *" /mnt/b "*" ro,"* ]] || fail "$spec: not ro in /proc/mounts: ${lines[0]}"
		assert_line "write=1"
		assert_line "append=1"
		assert_line "rm=1"
		assert_line "after=1"
		refute_line "remount=0"
		refute_line "remountbind=0"
		[[ $stderr == *"Read-only file system"* ]] || fail "$spec: $stderr"
	done
	[[ $(ls -la --time-style=full-iso "$B/ro") == "$before" ]] || fail "the host directory changed: $(ls -la "$B/ro")"
}

@test "binds: a file bind, rw and ro" {
	hostdir "$B"
	echo content >"$B/file"
	chown "$(host_uid_of_container_root)" "$B/file"
	run --separate-stderr mrun -v "$B/file:/etc/bound.conf" "$IMG" sh -c 'cat /etc/bound.conf; echo appended >>/etc/bound.conf; test -f /etc/bound.conf && echo isfile'
	assert_success
	assert_output $'content\nisfile'
	[[ $(cat "$B/file") == $'content\nappended' ]] || fail "host file: $(cat "$B/file")"
	run --separate-stderr mrun -v "$B/file:/mnt/sub/f.conf:ro" "$IMG" sh -c 'cat /mnt/sub/f.conf; echo x >>/mnt/sub/f.conf'
	assert_failure
	[[ $output == $'content\nappended' ]] || fail "$output"
	[[ $stderr == *"Read-only file system"* ]] || fail "$stderr"
	# a file onto a directory of the image is refused, not half-mounted
	run --separate-stderr mrun -v "$B/file:/etc" "$IMG" true
	assert_failure
	no_containers
}

@test "binds: a host directory the invoker's container may not read stays unreadable inside" {
	# root:root 0700 on the host: container root is an unprivileged host
	# uid for both identities, so it has no right there, bind or not.
	install -d -m 0700 -o root -g root "$B/private"
	echo secret >"$B/private/secret"
	chmod 0755 "$B"
	run --separate-stderr mrun -v "$B/private:/mnt/p" "$IMG" sh -c 'cat /mnt/p/secret; ls /mnt/p; echo x >/mnt/p/w'
	[[ $output != *secret* ]] || fail "read through the bind: $output"
	[[ $stderr == *"Permission denied"* || $status -eq 125 ]] || fail "status $status, stderr: $stderr"
	[[ ! -e $B/private/w ]] || fail "wrote into the host directory"
	no_containers
}

@test "binds: a source that is neither a directory nor a regular file is refused" {
	mkfifo "$B/fifo"
	chmod 0666 "$B/fifo"
	refused "neither a directory nor a regular file" -v "$B/fifo:/mnt/f" "$IMG" true
	refused "neither a directory nor a regular file" -v "/dev/null:/mnt/null" "$IMG" true
	refused "neither a directory nor a regular file" --mount "type=bind,src=/dev/zero,dst=/mnt/zero" "$IMG" true
}

@test "binds: mounts below the source come along by default; bind-nonrecursive never uncovers what they hide" {
	# The test (root) mounts below the source before the container starts,
	# for either identity (an administrator's mount under a user's tree).
	hostdir "$B/src"
	hostdir "$B/src/sub"
	echo hidden-underneath >"$B/src/sub/under"
	mount -t tmpfs -o size=1m,mode=0755 moat-test-sub "$B/src/sub"
	echo on-top >"$B/src/sub/top"
	run --separate-stderr mrun -v "$B/src:/mnt/n" "$IMG" ls /mnt/n/sub
	local rec=$status rec_out=$output
	run --separate-stderr mrun --mount "type=bind,src=$B/src,dst=/mnt/n,bind-nonrecursive" "$IMG" ls /mnt/n/sub
	local nr=$status nr_out=$output nr_err=$stderr
	umount "$B/src/sub"
	[[ $rec -eq 0 && $rec_out == top ]] || fail "recursive: status $rec, output $rec_out"
	# In a user namespace the host's mounts are locked to what is under
	# them: non-recursive must be refused (125, one line) or show the
	# plain directory's content... which here would reveal "under".
	[[ $nr_out != *hidden-underneath* && $nr_out != *under* ]] || fail "nonrecursive uncovered the hidden file: $nr_out"
	[[ $nr -eq 125 || $nr_out == "" ]] || fail "nonrecursive: status $nr, output $nr_out, stderr $nr_err"
	no_containers
}

# ---- a missing source ----

@test "binds: -v creates a missing host directory; --mount refuses it and creates nothing" {
	local me
	me=$(is_root_identity && echo 0 || user_uid "$MOAT_TEST_USER")
	chmod 0777 "$B" # the test user creates below it
	run --separate-stderr mrun -v "$B/made/by/v:/mnt/n" "$IMG" sh -c 'ls -A /mnt/n; echo ok'
	assert_success
	assert_output ok
	[[ -d $B/made/by/v ]] || fail "-v did not create the source"
	[[ $(stat -c %u "$B/made/by/v") == "$me" ]] || fail "created as $(stat -c %u "$B/made/by/v"), not the invoker"
	refused "bind source path does not exist" --mount "type=bind,source=$B/missing/dir,target=/mnt/n" "$IMG" true
	[[ ! -e $B/missing ]] || fail "--mount created the source"
	run --separate-stderr moat_as create --mount "type=bind,src=$B/missing2,dst=/mnt/n" "$IMG" true
	assert_failure 125
	[[ $stderr == *"bind source path does not exist: $B/missing2"* ]] || fail "$stderr"
	[[ ! -e $B/missing2 ]] || fail "create --mount created the source"
	no_containers
}

# ---- the grammar's refusals ----

@test "binds: a relative source and empty parts are refused, nothing created" {
	cd "$B"
	chmod 0777 "$B"
	refused "use absolute path" -v ./x:/mnt/y "$IMG" true
	refused "use absolute path" -v x/y:/mnt/y "$IMG" true
	refused "must be absolute" --mount type=bind,source=./x,target=/mnt/y "$IMG" true
	refused "must be absolute" --mount type=bind,source=x,target=/mnt/y "$IMG" true
	refused "field Source must not be empty" --mount type=bind,target=/mnt/y "$IMG" true
	refused "value is empty" --mount type=bind,source=,target=/mnt/y "$IMG" true
	refused "target is required" --mount "type=bind,source=$B" "$IMG" true
	local spec
	for spec in ":/mnt/y" "$B:" "$B::ro" "::" ":" "$B:/mnt/y:" "$B:/mnt/y:ro:rw"; do
		refused "invalid volume specification" -v "$spec" "$IMG" true
	done
	refused "invalid volume specification: ''" -v "" "$IMG" true
	[[ -z $(ls -A "$B") ]] || fail "created in the working directory: $(ls -A "$B")"
}

@test "binds: targets at or under /proc, /sys, /dev or at / are refused (-v, --mount, --tmpfs)" {
	hostdir "$B/src"
	local t
	for t in /proc /proc/sys /proc/1/root /sys /sys/fs/cgroup /dev /dev/shm /dev/pts/x //proc /./sys/ /dev/; do
		refused "(/proc, /sys and /dev belong to the runtime)" -v "$B/src:$t" "$IMG" true
		refused "(/proc, /sys and /dev belong to the runtime)" --mount "type=bind,source=$B/src,target=$t" "$IMG" true
		refused "(/proc, /sys and /dev belong to the runtime)" --mount "type=volume,target=$t" "$IMG" true
		refused "(/proc, /sys and /dev belong to the runtime)" --tmpfs "$t" "$IMG" true
	done
	for t in / // /. /./; do
		refused "destination can't be '/'" -v "$B/src:$t" "$IMG" true
		refused "destination can't be '/'" --mount "type=bind,source=$B/src,target=$t" "$IMG" true
		refused "destination can't be '/'" --tmpfs "$t" "$IMG" true
	done
	# a name that only starts like one is fine
	run --separate-stderr mrun -v "$B/src:/devices" "$IMG" true
	assert_success
	run --separate-stderr mrun -v "$B/src:/mnt/proc" "$IMG" true
	assert_success
}

@test "binds: '..' in a target or a source is refused" {
	hostdir "$B/src"
	refused 'has a ".." component' -v "$B/src:/mnt/../etc" "$IMG" true
	refused 'has a ".." component' -v "$B/src:/.." "$IMG" true
	refused 'has a ".." component' --mount "type=bind,source=$B/src,target=/a/../../x" "$IMG" true
	refused 'has a ".." component' --tmpfs "/tmp/../etc" "$IMG" true
	refused 'has a ".." component' -v "$B/src/..:/mnt/x" "$IMG" true
	refused 'has a ".." component' -v "$B/../t$BATS_TEST_NUMBER/src:/mnt/x" "$IMG" true
	refused 'has a ".." component' --mount "type=bind,source=$B/src/../src,target=/mnt/x" "$IMG" true
}

# ---- symlinks ----

@test "binds: a source that is a symlink is refused unless follow-symlink" {
	hostdir "$B/real"
	echo real >"$B/real/f"
	ln -s "$B/real" "$B/link"
	refused "is a symlink" -v "$B/link:/mnt/l" "$IMG" true
	refused "is a symlink" --mount "type=bind,source=$B/link,target=/mnt/l" "$IMG" true
	run --separate-stderr mrun -v "$B/link:/mnt/l:follow-symlink" "$IMG" cat /mnt/l/f
	assert_success
	assert_output real
	run --separate-stderr mrun --mount "type=bind,source=$B/link,target=/mnt/l,follow-symlink" "$IMG" cat /mnt/l/f
	assert_success
	assert_output real
	# inspect shows the path as given; the policy sees the real one (below)
	# a dangling symlink is not created through by -v
	ln -s "$B/nowhere" "$B/dangling"
	run --separate-stderr mrun -v "$B/dangling:/mnt/d" "$IMG" true
	assert_failure 125
	[[ ! -e $B/nowhere ]] || fail "-v created the target of a dangling symlink"
	no_containers
}

# /var/toroot -> /, /var/abs -> $MOAT_T/victim (a host path), /var/rel ->
# ../../../../$MOAT_T/victim (climbs out), /var/lnk -> /tmp (absolute,
# inside), /var/lnk2 -> /var/real.
symlink_image() {
	moat_as run --name symimg-base "$IMG" sh -c "
		ln -s / /var/toroot && ln -s $MOAT_T/victim /var/abs &&
		ln -s ../../../../../../..$MOAT_T/victim /var/rel &&
		ln -s /tmp /var/lnk && mkdir /var/real && ln -s /var/real /var/lnk2" >/dev/null || return 1
	moat_as commit symimg-base symimg >/dev/null || return 1
	moat_as rm symimg-base >/dev/null
}

@test "binds: a target that is a symlink out of the image stays inside the container" {
	symlink_image
	hostdir "$B/src"
	echo src >"$B/src/s"
	local before_m before_v
	before_m=$(host_mounts)
	before_v=$(ls -A "$MOAT_T/victim")
	local t
	for t in /var/abs /var/abs/sub /var/rel /var/rel/sub; do
		run --separate-stderr mrun -v "$B/src:$t" symimg sh -c "echo w >$t/written 2>/dev/null; cat $t/s"
		# Either it is mounted inside the container (Docker creates the
		# missing target in the rootfs) or refused; never on the host.
		[[ $status -eq 0 || $status -eq 125 ]] || fail "$t: exit $status: $stderr"
		[[ $(host_mounts) == "$before_m" ]] || fail "$t: a host mount appeared: $(diff <(echo "$before_m") <(host_mounts))"
		[[ $(ls -A "$MOAT_T/victim") == "$before_v" ]] || fail "$t: the host path behind the symlink changed: $(ls -A "$MOAT_T/victim")"
		run --separate-stderr mrun --tmpfs "$t" symimg sh -c "echo w >$t/written 2>/dev/null; true"
		[[ $(ls -A "$MOAT_T/victim") == "$before_v" ]] || fail "--tmpfs $t: the host path changed"
		[[ $(host_mounts) == "$before_m" ]] || fail "--tmpfs $t: a host mount appeared"
	done
	[[ ! -e /mnt-moat-test ]] || fail "/mnt-moat-test on the host"
	run --separate-stderr mrun -v "$B/src:/var/toroot/mnt-moat-test" symimg true
	[[ ! -e /mnt-moat-test ]] || fail "a target through a symlink to / reached the host's /"
	[[ $(host_mounts) == "$before_m" ]] || fail "a host mount appeared"
	moat_as rmi symimg >/dev/null
}

@test "binds: a target below an image symlink is resolved from the container's root" {
	# The symlink is followed as the container would follow it: /var/lnk ->
	# /tmp puts /var/lnk/sub at /tmp/sub, /var/toroot -> / puts
	# /var/toroot/m at /m.
	symlink_image
	hostdir "$B/src"
	echo src >"$B/src/s"
	echo file >"$B/file"
	local bad="" spec want
	# TARGET|COMMAND|WANT: each case is tried, the failures listed together
	for spec in "$B/src:/var/lnk/sub|cat /tmp/sub/s|src" \
		"$B/src:/var/lnk2/sub|cat /var/real/sub/s|src" \
		"$B/file:/var/lnk/app.sock|cat /tmp/app.sock|file" \
		"$B/src:/var/toroot/mnt-moat-test|cat /mnt-moat-test/s|src" \
		"$B/src:/var/toroot/var/lnk/deep|cat /tmp/deep/s|src"; do
		want=${spec##*|}
		spec=${spec%|*}
		# shellcheck disable=SC2086
		run --separate-stderr mrun -v "${spec%%|*}" symimg ${spec#*|}
		[[ $status -eq 0 && $output == "$want" ]] ||
			bad+="  -v ${spec%%|*}: exit $status, output '$output', stderr: $stderr"$'\n'
	done
	# a target that resolves to the container's root itself: refused, or
	# the bind visible at /; never silently dropped
	run --separate-stderr mrun -v "$B/src:/var/toroot" symimg cat /s
	[[ $status -eq 125 || $output == src ]] ||
		bad+="  -v $B/src:/var/toroot: exit $status, output '$output' (the bind was dropped)"$'\n'
	[[ -z $bad ]] || fail "targets below image symlinks:"$'\n'"$bad"
	no_containers
	moat_as rmi symimg >/dev/null
}

# ---- propagation ----

@test "binds: bind-propagation shared and rshared are refused" {
	hostdir "$B/src"
	local p
	for p in shared rshared; do
		refused "moat never lets a container's mounts reach the host" -v "$B/src:/mnt/p:$p" "$IMG" true
		refused "moat never lets a container's mounts reach the host" \
			--mount "type=bind,source=$B/src,target=/mnt/p,bind-propagation=$p" "$IMG" true
	done
	refused "invalid" --mount "type=bind,source=$B/src,target=/mnt/p,bind-propagation=bogus" "$IMG" true
}

@test "binds: rslave sees a host mount made below the source after start; rprivate does not" {
	is_root_identity || skip "rootless: the test user cannot mount on the host, so there is no host mount of its own below a source to propagate"
	local src=$B/prop
	install -d -m 0755 "$src"
	# Propagation only flows from a shared mount: make the source one.
	mount --bind "$src" "$src"
	mount --make-shared "$src"
	moat_as run -d --name prop-slave -v "$src:/mnt/p:rslave" "$IMG" sleep 300 >/dev/null
	moat_as run -d --name prop-private -v "$src:/mnt/p" "$IMG" sleep 300 >/dev/null
	moat_as run -d --name prop-mount --mount "type=bind,source=$src,target=/mnt/p,bind-propagation=rslave" "$IMG" sleep 300 >/dev/null
	install -d -m 0755 "$src/sub"
	mount -t tmpfs -o size=1m moat-test-prop "$src/sub"
	echo marker >"$src/sub/marker"
	run --separate-stderr moat_as exec prop-slave cat /mnt/p/sub/marker
	local slave=$status slave_out=$output
	run --separate-stderr moat_as exec prop-mount cat /mnt/p/sub/marker
	local mnt=$status mnt_out=$output
	run --separate-stderr moat_as exec prop-private sh -c 'ls -A /mnt/p/sub; grep -c " /mnt/p/sub " /proc/mounts'
	local priv=$output
	umount "$src/sub"
	moat_as rm -f prop-slave prop-private prop-mount >/dev/null
	umount "$src"
	[[ $slave -eq 0 && $slave_out == marker ]] || fail "rslave (-v): the host mount is not visible: $slave_out"
	[[ $mnt -eq 0 && $mnt_out == marker ]] || fail "rslave (--mount): the host mount is not visible: $mnt_out"
	[[ $priv == 0 ]] || fail "rprivate: the host mount is visible: $priv"
}

# ---- --read-only ----

@test "binds: --read-only root with a rw bind: the bind is writable, the rest is read-only" {
	hostdir "$B/rw"
	run --separate-stderr mrun --read-only -v "$B/rw:/mnt/b" "$IMG" sh -c '
		echo ok >/mnt/b/w && echo bind=0
		mkdir /mnt/b/d && echo bindmkdir=0
		echo x >/etc/x; echo etc=$?
		echo x >/tmp/x; echo tmp=$?
		echo x >/var/x; echo var=$?
		touch /mnt/y; echo mnt=$?'
	assert_success
	assert_line bind=0
	assert_line bindmkdir=0
	assert_line etc=1
	assert_line tmp=1
	assert_line var=1
	assert_line mnt=1
	[[ $stderr == *"Read-only file system"* ]] || fail "$stderr"
	[[ -f $B/rw/w && -d $B/rw/d ]] || fail "the bind's writes did not reach the host"
	# the same with a read-only bind: nothing writable at all
	run --separate-stderr mrun --read-only -v "$B/rw:/mnt/b:ro" "$IMG" sh -c 'echo x >/mnt/b/w2'
	assert_failure
	[[ ! -e $B/rw/w2 ]] || fail "ro bind under --read-only was written"
}

# ---- the tenant policy ----

@test "binds: policy bindMounts.allow: inside allowed, outside denied naming the rule and path, nothing created" {
	hostdir "$B/allowed"
	hostdir "$B/allowed/x"
	hostdir "$B/other"
	chmod 0777 "$B/allowed" "$B/other"
	ln -s "$B/other" "$B/allowed/escape"
	local p
	p=$(pfile "allow$BATS_TEST_NUMBER.json" "{\"default\": {\"bindMounts\": {\"allow\": [\"$B/allowed\"]}}}")
	run --separate-stderr moat_as --policy "$p" run --rm -v "$B/allowed/x:/mnt/a" "$IMG" true
	assert_success
	run --separate-stderr moat_as --policy "$p" run --rm --mount "type=bind,src=$B/allowed,dst=/mnt/a,readonly" "$IMG" true
	assert_success
	denied "$p" default.bindMounts.allow -v "$B/other:/mnt/a" "$IMG" true
	[[ $stderr == *"\"$B/other\""*"not under an allowed host path"*"$B/allowed"* ]] || fail "$stderr"
	denied "$p" default.bindMounts.allow --mount "type=bind,src=$B/other,dst=/mnt/a" "$IMG" true
	# a prefix that is not a parent: $B/allowedX is not under $B/allowed
	hostdir "$B/allowedX"
	denied "$p" default.bindMounts.allow -v "$B/allowedX:/mnt/a" "$IMG" true
	# a missing source outside: denied and not created
	denied "$p" default.bindMounts.allow -v "$B/other/new:/mnt/a" "$IMG" true
	[[ ! -e $B/other/new ]] || fail "a denied -v created its source"
	# a symlink inside the allowed tree is judged by where it leads
	denied "$p" default.bindMounts.allow -v "$B/allowed/escape:/mnt/a:follow-symlink" "$IMG" true
	# an empty allow list forbids every bind, and volumes still work
	p=$(pfile "none$BATS_TEST_NUMBER.json" '{"default": {"bindMounts": {"allow": []}}}')
	denied "$p" default.bindMounts.allow -v "$B/allowed/x:/mnt/a" "$IMG" true
	[[ $stderr == *"no host path is"* ]] || fail "$stderr"
	run --separate-stderr moat_as --policy "$p" run --rm -v /mnt/anon "$IMG" true
	assert_success
}

@test "binds: policy bindMounts.deny wins over allow" {
	hostdir "$B/pub"
	hostdir "$B/secret"
	hostdir "$B/secret/deeper"
	local p
	p=$(pfile "deny$BATS_TEST_NUMBER.json" "{\"default\": {\"bindMounts\": {\"allow\": [\"$B\"], \"deny\": [\"$B/secret\"]}}}")
	run --separate-stderr moat_as --policy "$p" run --rm -v "$B/pub:/mnt/a" "$IMG" true
	assert_success
	denied "$p" default.bindMounts.deny -v "$B/secret:/mnt/a:ro" "$IMG" true
	[[ $stderr == *"\"$B/secret\""*"under the denied host path"* ]] || fail "$stderr"
	denied "$p" default.bindMounts.deny -v "$B/secret/deeper:/mnt/a" "$IMG" true
	denied "$p" default.bindMounts.deny --mount "type=bind,src=$B/secret,dst=/mnt/a,readonly" "$IMG" true
	# the parent that holds the denied path is refused too? No: only the
	# denied tree; but binding $B would expose it, so that is the policy
	# writer's business (allow lists say what may be reached).
	ln -s "$B/secret" "$B/pub-link"
	denied "$p" default.bindMounts.deny -v "$B/pub-link:/mnt/a:follow-symlink" "$IMG" true
}

@test "binds: policy bindMounts.readOnly requires :ro; forbidCreate blocks -v of a missing dir" {
	hostdir "$B/data"
	chmod 0777 "$B"
	local p
	p=$(pfile "ro$BATS_TEST_NUMBER.json" "{\"default\": {\"bindMounts\": {\"readOnly\": true}}}")
	denied "$p" default.bindMounts.readOnly -v "$B/data:/mnt/a" "$IMG" true
	[[ $stderr == *"must be read-only (add :ro)"* ]] || fail "$stderr"
	denied "$p" default.bindMounts.readOnly --mount "type=bind,src=$B/data,dst=/mnt/a" "$IMG" true
	run --separate-stderr moat_as --policy "$p" run --rm -v "$B/data:/mnt/a:ro" "$IMG" true
	assert_success
	run --separate-stderr moat_as --policy "$p" run --rm --mount "type=bind,src=$B/data,dst=/mnt/a,readonly" "$IMG" true
	assert_success

	p=$(pfile "fc$BATS_TEST_NUMBER.json" "{\"default\": {\"bindMounts\": {\"forbidCreate\": true}}}")
	denied "$p" default.bindMounts.forbidCreate -v "$B/missing/dir:/mnt/a" "$IMG" true
	[[ ! -e $B/missing ]] || fail "forbidCreate: the directory was created"
	# moat's --mount bind-create-src is the same request
	denied "$p" default.bindMounts.forbidCreate --mount "type=bind,src=$B/missing/dir,dst=/mnt/a,bind-create-src" "$IMG" true
	[[ ! -e $B/missing ]] || fail "forbidCreate (bind-create-src): the directory was created"
	run --separate-stderr moat_as --policy "$p" run --rm -v "$B/data:/mnt/a" "$IMG" true
	assert_success
	run --separate-stderr moat_as run --rm --mount "type=bind,src=$B/made,dst=/mnt/a,bind-create-src" "$IMG" true
	assert_success
	[[ -d $B/made ]] || fail "bind-create-src did not create without the policy"
	# create is judged the same way, and leaves nothing either
	run --separate-stderr moat_as --policy "$p" create -v "$B/missing/dir:/mnt/a" "$IMG" true
	assert_failure 125
	[[ ! -e $B/missing ]] || fail "create: the directory was created"
	no_containers
}

@test "binds: the policy is checked again at start against the real path (symlink retargeted, parent replaced)" {
	hostdir "$B/allowed"
	hostdir "$B/allowed/real"
	hostdir "$B/allowed/sub"
	hostdir "$B/allowed/sub/src"
	hostdir "$B/denied"
	hostdir "$B/denied/src"
	echo secret >"$B/denied/secret"
	echo secret >"$B/denied/src/secret"
	ln -s "$B/allowed/real" "$B/allowed/link"
	local p before
	p=$(pfile "recheck$BATS_TEST_NUMBER.json" "{\"default\": {\"bindMounts\": {\"allow\": [\"$B/allowed\"]}}}")
	before=$(ls -laR --time-style=full-iso "$B/denied")

	# 1. a followed symlink, pointed elsewhere after create
	moat_as --policy "$p" create --name rc1 -v "$B/allowed/link:/mnt/a:follow-symlink" "$IMG" sh -c 'ls /mnt/a; echo pwned >/mnt/a/pwned' >/dev/null
	ln -sfn "$B/denied" "$B/allowed/link"
	run --separate-stderr moat_as --policy "$p" start -a rc1
	[[ $status -ne 0 ]] || fail "start ran with the bind now outside the allowed tree: $output"
	[[ $stderr == *"policy: default.bindMounts.allow"*"$B/denied"* || $stderr == *"was replaced"* ]] || fail "rc1: $stderr"
	[[ $output != *secret* ]] || fail "the denied directory was visible: $output"

	# 2. a parent directory of the source replaced by a symlink
	moat_as --policy "$p" create --name rc2 -v "$B/allowed/sub/src:/mnt/a" "$IMG" sh -c 'ls /mnt/a; echo pwned >/mnt/a/pwned' >/dev/null
	mv "$B/allowed/sub" "$B/allowed/sub.orig"
	ln -s "$B/denied" "$B/allowed/sub"
	run --separate-stderr moat_as --policy "$p" start -a rc2
	[[ $status -ne 0 ]] || fail "start ran with the bind now outside the allowed tree: $output"
	[[ $stderr == *"policy: default.bindMounts.allow"*"$B/denied/src"* || $stderr == *"was replaced"* ]] || fail "rc2: $stderr"
	[[ $output != *secret* ]] || fail "the denied directory was visible: $output"

	# 3. the source itself replaced by a symlink (no follow-symlink): refused
	rm "$B/allowed/sub"
	mv "$B/allowed/sub.orig" "$B/allowed/sub"
	moat_as --policy "$p" create --name rc3 -v "$B/allowed/sub/src:/mnt/a" "$IMG" sh -c 'ls /mnt/a; echo pwned >/mnt/a/pwned' >/dev/null
	mv "$B/allowed/sub/src" "$B/allowed/sub/src.orig"
	ln -s "$B/denied/src" "$B/allowed/sub/src"
	run --separate-stderr moat_as --policy "$p" start -a rc3
	[[ $status -ne 0 ]] || fail "start ran through a source replaced by a symlink: $output"
	[[ $stderr == *"is a symlink"* || $stderr == *"policy: default.bindMounts"* || $stderr == *"was replaced"* ]] || fail "rc3: $stderr"

	[[ $(ls -laR --time-style=full-iso "$B/denied") == "$before" ]] || fail "the denied tree changed"
	# none of them runs, and none is left mounted (the leak check looks too)
	run moat_as ps -q
	assert_output ""
	moat_as rm rc1 rc2 rc3 >/dev/null
}
