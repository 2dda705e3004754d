#!/usr/bin/env bats
# The lifecycle under concurrency: 50 `moat run -d` at once, then 50
# `moat rm -f` at once, while `moat ps -a` runs in a loop. Every command
# must succeed, every listing must parse (a record read half-written, a
# name reserved twice or a lock taken by the wrong process shows up here),
# and nothing may be left behind. The wall time of each phase and the
# monitors' memory are printed as TAP comments (bats --tap shows them).

load ../lib/helpers

N=50

teardown() {
	local ids
	ids=$(moat_as ps -aq --no-trunc 2>/dev/null) || true
	# shellcheck disable=SC2086
	[[ -z $ids ]] || moat_as rm -f $ids >/dev/null 2>&1 || true
	moat_check_clean
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# One line of `ps -a` for a container of this test, or its header.
PS_HEADER='^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$'
PS_LINE='^[0-9a-f]{12} +probe +"sleep 1000" +(Less than a second|About an? [a-z]+|[0-9]+ [a-z]+) ago +(Created|Up .+|Exited \(([0-9]+|unknown)\).*|Restarting \([0-9]+\).*|Removal In Progress|Dead) +s[0-9]+$'

# ps_loop DIR: `moat ps -a` until DIR/stop exists; every failure or line
# that does not parse goes to DIR/ps-bad, the number of runs to DIR/ps-runs.
ps_loop() {
	local dir=$1 runs=0 out rc line
	while [[ ! -e $dir/stop ]]; do
		rc=0
		out=$(moat_as ps -a 2>&1) || rc=$?
		runs=$((runs + 1))
		if [[ $rc -ne 0 ]]; then
			printf 'exit %s: %s\n' "$rc" "$out" >>"$dir/ps-bad"
			continue
		fi
		while IFS= read -r line; do
			[[ $line =~ $PS_HEADER || $line =~ $PS_LINE ]] ||
				printf 'line: %s\n' "$line" >>"$dir/ps-bad"
		done <<<"$out"
	done
	echo "$runs" >"$dir/ps-runs"
}

# monitors DIR: "PID ID" for every moat process holding a container lock
# of this state dir (one pass over /proc).
monitors() {
	local p f l a0 pre="$MOAT_STATE/run/containers/"
	for p in /proc/[0-9]*; do
		a0=
		IFS= read -r -d '' a0 2>/dev/null <"$p/cmdline"
		[[ $a0 == "$MOAT" ]] || continue
		for f in "$p"/fd/*; do
			l=$(readlink "$f" 2>/dev/null) || continue
			if [[ $l == "$pre"*/lock ]]; then
				l=${l#"$pre"}
				echo "${p#/proc/} ${l%/lock}"
			fi
		done
	done
}

@test "stress: $N parallel run -d, then $N parallel rm -f, while ps -a loops; nothing leaks" {
	local dir=$MOAT_T/scratch/stress i t0 t1 t2 t3 psbg
	local -a pids=()
	mkdir -p "$dir"

	ps_loop "$dir" 3>&- &
	psbg=$!

	# ---- 50 x run -d ----
	t0=$(now_ms)
	for ((i = 0; i < N; i++)); do
		(
			rc=0
			moat_as run -d --name "s$i" "$IMG" sleep 1000 >"$dir/run.$i.out" 2>"$dir/run.$i.err" || rc=$?
			echo "$rc" >"$dir/run.$i.rc"
		) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
	t1=$(now_ms)
	echo "# $N x run -d in parallel: $((t1 - t0)) ms" >&3

	local bad="" ids=()
	for ((i = 0; i < N; i++)); do
		if [[ $(cat "$dir/run.$i.rc") != 0 ]] || ! grep -qxE '[0-9a-f]{64}' "$dir/run.$i.out"; then
			bad+="run s$i: exit $(cat "$dir/run.$i.rc"): $(cat "$dir/run.$i.out" "$dir/run.$i.err")"$'\n'
			continue
		fi
		ids+=("$(cat "$dir/run.$i.out")")
		[[ $(readlink "$MOAT_STATE/root/names/s$i") == "${ids[-1]}" ]] ||
			bad+="names/s$i does not point at ${ids[-1]}"$'\n'
	done
	[[ -z $bad ]] || { touch "$dir/stop"; wait "$psbg"; fail "$bad"; }
	[[ $(printf '%s\n' "${ids[@]}" | sort -u | wc -l) -eq $N ]] || fail "duplicate ids"

	# all of them run, each with its own monitor
	run moat_as ps -q
	[[ ${#lines[@]} -eq $N ]] || { touch "$dir/stop"; wait "$psbg"; fail "ps -q listed ${#lines[@]}: $output"; }
	local mons rss=0 kb n=0 pid id
	mons=$(monitors)
	while read -r pid id; do
		[[ -n $pid ]] || continue
		kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
		rss=$((rss + ${kb:-0}))
		n=$((n + 1))
	done <<<"$mons"
	[[ $n -eq $N ]] || { touch "$dir/stop"; wait "$psbg"; fail "$n monitors hold a lock, expected $N: $mons"; }
	echo "# monitor RSS: $((rss / n)) kB average over $n monitors ($rss kB in all)" >&3

	# ---- 50 x rm -f ----
	pids=()
	t2=$(now_ms)
	for ((i = 0; i < N; i++)); do
		(
			rc=0
			moat_as rm -f "s$i" >"$dir/rm.$i.out" 2>"$dir/rm.$i.err" || rc=$?
			echo "$rc" >"$dir/rm.$i.rc"
		) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
	t3=$(now_ms)
	echo "# $N x rm -f in parallel: $((t3 - t2)) ms" >&3

	touch "$dir/stop"
	wait "$psbg"
	echo "# ps -a ran $(cat "$dir/ps-runs") times meanwhile" >&3

	for ((i = 0; i < N; i++)); do
		if [[ $(cat "$dir/rm.$i.rc") != 0 || $(cat "$dir/rm.$i.out") != "s$i" ]]; then
			bad+="rm -f s$i: exit $(cat "$dir/rm.$i.rc"): $(cat "$dir/rm.$i.out" "$dir/rm.$i.err")"$'\n'
		fi
	done
	[[ -z $bad ]] || fail "$bad"
	[[ ! -s $dir/ps-bad ]] || fail "ps -a failed or printed a corrupt line:"$'\n'"$(head -n 20 "$dir/ps-bad")"
	[[ $(cat "$dir/ps-runs") -gt 0 ]] || fail "ps -a never ran"

	run moat_as ps -aq
	assert_output ""
	[[ -z $(ls -A "$MOAT_STATE/root/containers") ]] || fail "records left: $(ls -A "$MOAT_STATE/root/containers")"
	[[ -z $(ls -A "$MOAT_STATE/root/names") ]] || fail "names left: $(ls -A "$MOAT_STATE/root/names")"
	[[ -z $(monitors) ]] || fail "monitors left: $(monitors)"
	if is_root_identity; then
		local left=""
		for id in "${ids[@]}"; do
			for d in /sys/fs/cgroup/*/moat/"$id" /sys/fs/cgroup/moat/"$id"; do
				[[ -d $d ]] && left+=" $d" && rmdir "$d" 2>/dev/null
			done
		done
		[[ -z $left ]] || fail "cgroups left:$left"
	fi
}

@test "stress: 20 parallel create --name of one name: exactly one wins, the rest are 125 Conflict" {
	local dir=$MOAT_T/scratch/race i ok=0 conflict=0 other=""
	local -a pids=()
	mkdir -p "$dir"
	for ((i = 0; i < 20; i++)); do
		(
			rc=0
			moat_as create --name same "$IMG" true >"$dir/$i.out" 2>"$dir/$i.err" || rc=$?
			echo "$rc" >"$dir/$i.rc"
		) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
	local winner=""
	for ((i = 0; i < 20; i++)); do
		case $(cat "$dir/$i.rc") in
		0)
			ok=$((ok + 1))
			winner=$(cat "$dir/$i.out")
			;;
		125)
			if grep -q '^moat: Conflict. The container name "/same" is already in use' "$dir/$i.err"; then
				conflict=$((conflict + 1))
			else
				other+="$(cat "$dir/$i.err")"$'\n'
			fi
			;;
		*) other+="exit $(cat "$dir/$i.rc"): $(cat "$dir/$i.err")"$'\n' ;;
		esac
	done
	[[ -z $other ]] || fail "unexpected failures:"$'\n'"$other"
	[[ $ok -eq 1 && $conflict -eq 19 ]] || fail "$ok created, $conflict conflicts"
	[[ $(readlink "$MOAT_STATE/root/names/same") == "$winner" ]] || fail "the name points elsewhere"
	# the losers left no record behind
	[[ $(ls -A "$MOAT_STATE/root/containers") == "$winner" ]] ||
		fail "records: $(ls -A "$MOAT_STATE/root/containers")"
	moat_as rm same >/dev/null
}

@test "stress: 10 parallel start of one container: one monitor, every start exits 0" {
	local dir=$MOAT_T/scratch/starts i id bad=""
	local -a pids=()
	mkdir -p "$dir"
	id=$(moat_as create --name once "$IMG" sleep 1000)
	for ((i = 0; i < 10; i++)); do
		(
			rc=0
			moat_as start once >"$dir/$i.out" 2>"$dir/$i.err" || rc=$?
			echo "$rc" >"$dir/$i.rc"
		) 3>&- &
		pids+=($!)
	done
	wait "${pids[@]}"
	local mons
	mons=$(monitors)
	[[ $(grep -c . <<<"$mons") -eq 1 && $mons == *" $id" ]] || fail "monitors: $mons"
	# one container process, not ten
	local n=0 p
	for p in $(pgrep -x sleep); do
		[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) == "sleep 1000 " ]] || continue
		grep -qF -- "$MOAT_T/" "/proc/$p/mountinfo" 2>/dev/null && n=$((n + 1))
	done
	[[ $n -eq 1 ]] || fail "$n container processes"
	# Docker: a start that finds it running is a success (the daemon
	# serialises them); so is every start here, whoever won the race
	for ((i = 0; i < 10; i++)); do
		[[ $(cat "$dir/$i.rc") == 0 && $(cat "$dir/$i.out") == once ]] ||
			bad+="start $i: exit $(cat "$dir/$i.rc"): $(cat "$dir/$i.out" "$dir/$i.err")"$'\n'
	done
	[[ -z $bad ]] || fail "$bad"
	moat_as rm -f once >/dev/null
}
