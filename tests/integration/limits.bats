#!/usr/bin/env bats
# Resource limits (Docker's --memory, --memory-swap, --memory-reservation,
# --cpus, --cpu-shares, --cpuset-cpus, --pids-limit, --ulimit,
# --oom-score-adj, --shm-size): refused like Docker refuses them, recorded,
# shown by inspect and the audit log, and enforced - by the container's
# cgroup as root, by rlimits and oom_score_adj for both identities. A
# rootless container on cgroup v1 has no cgroup: the flags that need one
# are announced as not enforced, never silently dropped.

load ../lib/helpers

CG=/sys/fs/cgroup

field() { # field JSON KEY -> value (strings bare, others as JSON)
	python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print(v if isinstance(v,str) else json.dumps(v))' "$1" "$2"
}

# inspect_get NAME EXPR: EXPR over the inspect object c (python).
inspect_get() {
	moat_as inspect "$1" | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]; v='"$2"'; print(v if isinstance(v,str) else json.dumps(v))'
}

full_id() { moat_as inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])'; }

need_root_cgroup() {
	is_root_identity || skip "cgroup limits: root only (no cgroup for rootless containers on cgroup v1)"
	[[ -d $CG/$1 ]] || skip "no cgroup v1 $1 hierarchy on this host"
}

# ---- refusals: exit 125, one line, nothing created ----

@test "limits: bad values are refused with 125, one line, and nothing is created" {
	local before after
	before=$(moat_as ps -a -q | sort)
	local -a bad=(
		"--memory 1k|Minimum memory limit allowed is 6MB"
		"--memory 5m|Minimum memory limit allowed is 6MB"
		"--memory 1x|invalid suffix"
		"--memory -1|invalid size"
		"--memory-swap 64m|You should always set the Memory limit when using Memoryswap limit"
		"--memory 64m --memory-swap 32m|Minimum memoryswap limit should be larger than memory limit"
		"--memory 64m --memory-reservation 128m|can not be less than memory reservation"
		"--memory-reservation 1k|Minimum memory reservation allowed is 6MB"
		"--cpus 0|above 0"
		"--cpus abc|failed to parse abc as a rational number"
		"--cpus 1000|Range of CPUs is from 0.01 to"
		"--cpus 0.001|Range of CPUs is from 0.01 to"
		"--cpus 0.0000000001|value is too precise"
		"--ulimit bogus=1|invalid ulimit type: bogus"
		"--ulimit nofile=20:10|soft limit must be less than or equal to hard limit"
		"--ulimit nofile|invalid ulimit argument"
		"--pids-limit x|strconv.ParseInt: parsing \"x\": invalid syntax"
		"--cpuset-cpus 3-1|invalid range format: 3-1"
		"--cpuset-cpus 4095|Requested CPUs are not available"
		"--cpuset-cpus a|invalid format"
		"--oom-score-adj 1001|range for oom score adj is [-1000, 1000]"
		"-c x|strconv.ParseInt"
		"--shm-size 1q|invalid suffix"
	)
	local b flags msg
	for b in "${bad[@]}"; do
		flags=${b%%|*}
		msg=${b#*|}
		# shellcheck disable=SC2086
		run --separate-stderr moat_as run --rm $flags "$IMG" true
		[[ $status -eq 125 ]] || fail "$flags: exit $status (stderr: $stderr)"
		assert_one_error_line
		[[ $stderr == *"$msg"* ]] || fail "$flags: want '$msg', got: $stderr"
		# shellcheck disable=SC2086
		run --separate-stderr moat_as create $flags "$IMG" true
		[[ $status -eq 125 ]] || fail "create $flags: exit $status (stderr: $stderr)"
		[[ $stderr == *"$msg"* ]] || fail "create $flags: want '$msg', got: $stderr"
	done
	after=$(moat_as ps -a -q | sort)
	[[ $before == "$after" ]] || fail "containers appeared: $after"
}

@test "limits: flag syntax errors name the flag as Docker does" {
	run --separate-stderr moat_as run --rm --memory 12q "$IMG" true
	assert_failure 125
	[[ $stderr == 'moat: invalid argument "12q" for "-m, --memory" flag: invalid suffix: '"'q'" ]] ||
		fail "stderr: $stderr"
}

# ---- record and inspect ----

@test "limits: inspect shows the HostConfig fields (and the defaults)" {
	run --separate-stderr moat_as create --name lim-insp --memory 64m --memory-swap 128m \
		--memory-reservation 32m --cpus 1.5 --cpu-shares 512 --cpuset-cpus 1,0 \
		--pids-limit 100 --ulimit nofile=64:128 --ulimit core=-1 --oom-score-adj 300 \
		--shm-size 8m "$IMG" true
	assert_success
	local hc
	hc=$(moat_as inspect lim-insp | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["HostConfig"]))')
	[[ $(field "$hc" Memory) == 67108864 ]] || fail "$hc"
	[[ $(field "$hc" MemorySwap) == 134217728 ]] || fail "$hc"
	[[ $(field "$hc" MemoryReservation) == 33554432 ]] || fail "$hc"
	[[ $(field "$hc" NanoCpus) == 1500000000 ]] || fail "$hc"
	[[ $(field "$hc" CpuShares) == 512 ]] || fail "$hc"
	[[ $(field "$hc" CpusetCpus) == "0-1" ]] || fail "$hc"
	[[ $(field "$hc" PidsLimit) == 100 ]] || fail "$hc"
	[[ $(field "$hc" Ulimits) == '[{"Name": "nofile", "Soft": 64, "Hard": 128}, {"Name": "core", "Soft": -1, "Hard": -1}]' ]] || fail "$hc"
	[[ $(field "$hc" OomScoreAdj) == 300 ]] || fail "$hc"
	[[ $(field "$hc" ShmSize) == 8388608 ]] || fail "$hc"
	moat_as rm lim-insp

	# Without flags: moat's default pids limit, Docker's 64m /dev/shm, no
	# memory limit, no ulimits.
	moat_as create --name lim-def "$IMG" true
	hc=$(moat_as inspect lim-def | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]["HostConfig"]))')
	[[ $(field "$hc" PidsLimit) == 4096 ]] || fail "$hc"
	[[ $(field "$hc" ShmSize) == 67108864 ]] || fail "$hc"
	[[ $(field "$hc" Memory) == 0 ]] || fail "$hc"
	[[ $(field "$hc" Ulimits) == null ]] || fail "$hc"
	moat_as rm lim-def

	# --pids-limit -1 and 0 (Docker's "unlimited") remove it; --memory
	# alone gets Docker's swap of the same size again.
	moat_as create --name lim-unl --pids-limit -1 --memory 32m "$IMG" true
	[[ $(inspect_get lim-unl 'c["HostConfig"]["PidsLimit"]') == null ]] || fail "-1"
	[[ $(inspect_get lim-unl 'c["HostConfig"]["MemorySwap"]') == 67108864 ]] || fail "swap"
	moat_as rm lim-unl
	moat_as create --name lim-zero --pids-limit 0 "$IMG" true
	[[ $(inspect_get lim-zero 'c["HostConfig"]["PidsLimit"]') == null ]] || fail "0"
	moat_as rm lim-zero
	# --memory-swap -1 (unlimited swap) needs no --memory (Docker)
	moat_as create --name lim-swapu --memory-swap -1 "$IMG" true 2>/dev/null
	[[ $(inspect_get lim-swapu 'c["HostConfig"]["MemorySwap"]') == -1 ]] || fail "swap -1"
	moat_as rm lim-swapu
}

# ---- rlimits, oom_score_adj, /dev/shm: both identities ----

@test "limits: --ulimit nofile=64:64 -> ulimit -n is 64 (soft and hard)" {
	run --separate-stderr mrun --ulimit nofile=64:64 "$IMG" sh -c 'ulimit -n; ulimit -Hn'
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	[[ $output == $'64\n64' ]] || fail "output: $output stderr: $stderr"
	run --separate-stderr mrun --ulimit nofile=32:100 "$IMG" sh -c 'ulimit -n; ulimit -Hn'
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	[[ $output == $'32\n100' ]] || fail "output: $output"
}

@test "limits: exec gets the container's rlimits, not the caller's (--ulimit, and rootless pids as RLIMIT_NPROC)" {
	moat_as run -d --name lim-exec --ulimit nofile=48:96 --pids-limit 40 "$IMG" sleep 60
	run --separate-stderr moat_as exec lim-exec sh -c 'ulimit -n; ulimit -Hn'
	assert_success
	[[ $output == $'48\n96' ]] || fail "exec nofile: $output (stderr: $stderr)"
	if is_rootless; then
		run --separate-stderr moat_as exec lim-exec sh -c 'ulimit -u'
		assert_success
		assert_output "40"
	fi
	moat_as rm -f lim-exec
}

# CAP_SYS_RESOURCE in this shell's effective set (bit 24): some hosts' root
# lacks it (a container), and then the kernel refuses what needs it.
has_sys_resource() {
	local eff
	eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	(((16#$eff >> 24) & 1))
}

@test "limits: raising a hard limit needs CAP_SYS_RESOURCE: granted with it, else a 125 error" {
	local hard
	if is_root_identity && has_sys_resource; then
		hard=$(ulimit -Hn)
		run --separate-stderr mrun --ulimit nofile=$((hard + 1000)):$((hard + 1000)) "$IMG" sh -c 'ulimit -Hn'
		[[ $status -eq 0 ]] || fail "exit $status: $stderr"
		[[ $output == $((hard + 1000)) ]] || fail "output: $output stderr: $stderr"
	else
		if is_root_identity; then
			hard=$(ulimit -Hn)
		else
			hard=$(runuser -u "$MOAT_TEST_USER" -- sh -c 'ulimit -Hn')
		fi
		run --separate-stderr mrun --ulimit nofile=$((hard + 1000)):$((hard + 1000)) "$IMG" true
		assert_failure 125
		assert_one_error_line
		[[ $stderr == *"Operation not permitted"* ]] || fail "stderr: $stderr"
	fi
}

@test "limits: --oom-score-adj 500 -> /proc/self/oom_score_adj is 500" {
	run --separate-stderr mrun --oom-score-adj 500 "$IMG" cat /proc/self/oom_score_adj
	assert_success
	assert_output "500"
	# without the flag: the caller's own
	run --separate-stderr mrun "$IMG" cat /proc/self/oom_score_adj
	assert_success
	assert_output "0"
}

@test "limits: --oom-score-adj below the caller's own: applied with CAP_SYS_RESOURCE, else refused at create" {
	if is_root_identity && has_sys_resource; then
		run --separate-stderr mrun --oom-score-adj -500 "$IMG" cat /proc/self/oom_score_adj
		[[ $status -eq 0 ]] || fail "exit $status: $stderr"
		assert_output "-500"
	else
		local before
		before=$(moat_as ps -a -q | sort)
		run --separate-stderr mrun --oom-score-adj -1 "$IMG" true
		assert_failure 125
		assert_one_error_line
		[[ $stderr == *"needs CAP_SYS_RESOURCE"* ]] || fail "stderr: $stderr"
		[[ $(moat_as ps -a -q | sort) == "$before" ]] || fail "a container was created"
	fi
}

@test "limits: --shm-size 8m -> /dev/shm is 8M (default 64M)" {
	run --separate-stderr mrun --shm-size 8m "$IMG" df -k /dev/shm
	assert_success
	[[ ${lines[1]} =~ ^[a-z]+[[:space:]]+8192[[:space:]] ]] || fail "df: $output"
	run --separate-stderr mrun "$IMG" df -k /dev/shm
	assert_success
	[[ ${lines[1]} =~ ^[a-z]+[[:space:]]+65536[[:space:]] ]] || fail "df: $output"
}

# ---- rootless: no cgroup on v1 ----

@test "limits: rootless --memory prints one warning per flag and still runs" {
	is_rootless || skip "rootless only"
	run --separate-stderr mrun --memory 32m --cpus 0.5 "$IMG" echo ran
	assert_success
	assert_output "ran"
	[[ $stderr == *"moat: warning: --memory is not enforced: no cgroup for rootless containers"* ]] ||
		fail "stderr: $stderr"
	[[ $stderr == *"moat: warning: --cpus is not enforced: no cgroup for rootless containers"* ]] ||
		fail "stderr: $stderr"
	local n
	n=$(grep -c 'warning' <<<"$stderr")
	[[ $n -eq 2 ]] || fail "expected 2 warnings: $stderr"
	if grep -q '^[0-9]*:memory:' /proc/self/cgroup && [[ ! -f /sys/fs/cgroup/cgroup.controllers ]]; then
		[[ $stderr == *"on cgroup v1 (no delegation)"* ]] || fail "stderr: $stderr"
	fi
}

@test "limits: rootless: the default pids limit is RLIMIT_NPROC, and inspect says so" {
	is_rootless || skip "rootless only"
	local hard want=4096
	hard=$(runuser -u "$MOAT_TEST_USER" -- bash -c 'ulimit -Hu')
	[[ $hard != unlimited && $hard -lt 4096 ]] && want=$hard
	run --separate-stderr moat_as run --name lim-nproc "$IMG" sh -c 'ulimit -u; ulimit -Hu'
	assert_success
	[[ $output == "$want"$'\n'"$want" ]] || fail "output: $output"
	local enf
	enf=$(inspect_get lim-nproc 'c["HostConfig"]["LimitsEnforced"]')
	[[ $enf == *"pids $want as RLIMIT_NPROC (no cgroup)"* ]] || fail "LimitsEnforced: $enf"
	moat_as rm lim-nproc
	# an explicit --ulimit nproc wins
	run --separate-stderr mrun --ulimit nproc=50 "$IMG" sh -c 'ulimit -u'
	assert_success
	assert_output "50"
}

@test "limits: rootless: a fork loop under --pids-limit 20 (as RLIMIT_NPROC) is stopped, with a warning" {
	is_rootless || skip "rootless only"
	run --separate-stderr mrun --pids-limit 20 "$IMG" sh -c \
		'(i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done) 2>&1 | head -1'
	[[ $output == *"Resource temporarily unavailable"* || $stderr == *"Resource temporarily unavailable"* ]] ||
		fail "status $status output: $output stderr: $stderr"
	[[ $stderr == *"moat: warning: --pids-limit is enforced only as RLIMIT_NPROC"* ]] || fail "stderr: $stderr"
}

# ---- root: cgroup enforcement ----

@test "limits: root: default pids.max is 4096, --pids-limit 64 stops a fork loop at 64" {
	need_root_cgroup pids
	moat_as run -d --name lim-pdef "$IMG" sleep 100
	local id
	id=$(full_id lim-pdef)
	[[ $(cat "$CG/pids/moat/$id/pids.max") == 4096 ]] || fail "pids.max $(cat "$CG/pids/moat/$id/pids.max")"
	moat_as rm -f lim-pdef

	# The loop runs in a subshell, which ends at its first failed fork;
	# the shell then becomes sleep (no fork), so the cgroup stays full.
	moat_as run -d --name lim-bomb --pids-limit 64 "$IMG" sh -c \
		'(i=0; while [ $i -lt 200 ]; do sleep 100 & i=$((i+1)); done) 2>/tmp/err; exec sleep 100'
	id=$(full_id lim-bomb)
	local cur max events i
	for i in $(seq 50); do
		events=$(sed -n 's/^max //p' "$CG/pids/moat/$id/pids.events")
		[[ ${events:-0} -gt 0 ]] && break
		sleep 0.1
	done
	cur=$(cat "$CG/pids/moat/$id/pids.current")
	max=$(cat "$CG/pids/moat/$id/pids.max")
	echo "# pids.current=$cur pids.max=$max refused forks=$events" >&3
	[[ $max == 64 ]] || fail "pids.max $max"
	[[ $cur -le 64 && $cur -ge 55 ]] || fail "pids.current $cur"
	[[ ${events:-0} -gt 0 ]] || fail "no fork was refused"
	grep -q "Resource temporarily unavailable" \
		"$MOAT_STATE/root/containers/$id/upper/tmp/err" ||
		fail "err: $(cat "$MOAT_STATE/root/containers/$id/upper/tmp/err")"
	# the host is fine
	run sh -c 'for i in 1 2 3 4 5; do /bin/true || exit 1; done; echo ok'
	assert_output ok
	local rec
	rec=$(moat_as audit show --format json --event container.start | tail -1)
	[[ $(field "$rec" limits) == *'"pids_limit": 64'* ]] || fail "audit: $rec"
	[[ $(field "$rec" limits) == *'cgroup ('*'pids'* ]] || fail "audit: $rec"
	moat_as rm -f lim-bomb
}

@test "limits: root: --memory 32m: a memory hog is OOM killed (137, OOMKilled, audit)" {
	need_root_cgroup memory
	run --separate-stderr moat_as run --name lim-oom --memory 32m "$IMG" \
		dd if=/dev/zero of=/dev/null bs=200M count=1
	[[ $status -eq 137 ]] || fail "exit $status, stderr: $stderr"
	[[ $(inspect_get lim-oom 'c["State"]["OOMKilled"]') == true ]] || fail "OOMKilled not true"
	local id rec
	id=$(full_id lim-oom)
	rec=$(moat_as audit show --format json --event container.exit | tail -1)
	[[ $(field "$rec" container) == "$id" ]] || fail "audit: $rec"
	[[ $(field "$rec" oom_killed) == true ]] || fail "audit: $rec"
	rec=$(moat_as audit show --format json --event container.start | tail -1)
	[[ $(field "$rec" limits) == *'"memory": 33554432'* ]] || fail "audit: $rec"
	moat_as rm lim-oom
	# the same without the limit completes
	run --separate-stderr mrun "$IMG" dd if=/dev/zero of=/dev/null bs=200M count=1
	assert_success
}

@test "limits: root: the cgroup files hold the limits (memory, swap, reservation, cpu, shares)" {
	need_root_cgroup memory
	need_root_cgroup cpu
	moat_as run -d --name lim-files --memory 64m --memory-swap 96m --memory-reservation 16m \
		--cpus 0.5 --cpu-shares 512 "$IMG" sleep 100
	local id m
	id=$(full_id lim-files)
	m=$CG/memory/moat/$id
	[[ $(cat "$m/memory.limit_in_bytes") == 67108864 ]] || fail "memory $(cat "$m/memory.limit_in_bytes")"
	if [[ -f $m/memory.memsw.limit_in_bytes ]]; then
		[[ $(cat "$m/memory.memsw.limit_in_bytes") == 100663296 ]] || fail "memsw"
	fi
	[[ $(cat "$m/memory.soft_limit_in_bytes") == 16777216 ]] || fail "soft"
	[[ $(cat "$CG/cpu/moat/$id/cpu.cfs_quota_us") == 50000 ]] || fail "quota"
	[[ $(cat "$CG/cpu/moat/$id/cpu.cfs_period_us") == 100000 ]] || fail "period"
	[[ $(cat "$CG/cpu/moat/$id/cpu.shares") == 512 ]] || fail "shares"
	# the init is in every one of them
	local pid
	pid=$(inspect_get lim-files 'c["State"]["Pid"]')
	grep -qx "$pid" "$CG/cpu/moat/$id/cgroup.procs" || fail "init not in the cpu cgroup"
	grep -qx "$pid" "$m/cgroup.procs" || fail "init not in the memory cgroup"
	# `moat stats` reads the limit back from the cgroup
	run moat_as stats --no-stream lim-files
	assert_success
	[[ ${lines[1]} == *" / 64MiB "* ]] || fail "stats: $output"
	moat_as rm -f lim-files
	[[ ! -e $CG/cpu/moat/$id && ! -e $m ]] || fail "cgroups left behind"
}

@test "limits: root: --cpus 0.5 gives a spinner about half a CPU" {
	need_root_cgroup cpu
	[[ -d $CG/cpuacct ]] || skip "no cpuacct hierarchy"
	moat_as run -d --name lim-spin --cpus 0.5 "$IMG" sh -c 'while :; do :; done'
	local id u0 u1 used
	id=$(full_id lim-spin)
	sleep 0.5
	u0=$(cat "$CG/cpuacct/moat/$id/cpuacct.usage")
	sleep 2
	u1=$(cat "$CG/cpuacct/moat/$id/cpuacct.usage")
	moat_as rm -f lim-spin
	used=$(python3 -c "print(round(($u1 - $u0) / 2e9, 3))")
	echo "# --cpus 0.5: the spinner used $used CPU over 2 s" >&3
	python3 -c "import sys; sys.exit(0 if 0.3 <= $used <= 0.7 else 1)" ||
		fail "used $used CPU, want 0.3..0.7"
}

@test "limits: --cpuset-cpus 0 -> Cpus_allowed_list is 0" {
	is_root_identity || skip "cgroup limits: root only"
	[[ -d $CG/cpuset || -f $CG/cgroup.controllers ]] || skip "no cpuset controller"
	run --separate-stderr mrun --cpuset-cpus 0 "$IMG" grep Cpus_allowed_list /proc/self/status
	assert_success
	[[ $output =~ ^Cpus_allowed_list:[[:space:]]+0$ ]] || fail "output: $output stderr: $stderr"
	if [[ $(nproc) -gt 1 ]]; then
		run --separate-stderr mrun --cpuset-cpus 1 "$IMG" grep Cpus_allowed_list /proc/self/status
		assert_success
		[[ $output =~ ^Cpus_allowed_list:[[:space:]]+1$ ]] || fail "output: $output"
	fi
}

@test "limits: an older record without limits still loads and starts" {
	moat_as create --name lim-old "$IMG" echo old
	local id f
	id=$(full_id lim-old)
	f=$MOAT_STATE/root/containers/$id/container.json
	python3 - "$f" <<-'EOF'
		import json, sys
		p = sys.argv[1]
		r = json.load(open(p))
		r.pop("limits", None)
		r.pop("limits_enforced", None)
		json.dump(r, open(p, "w"))
	EOF
	run --separate-stderr moat_as start -a lim-old
	assert_success
	assert_output "old"
	moat_as rm lim-old
}
