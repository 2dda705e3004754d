#!/usr/bin/env bats
# `moat ps` with Docker's flags, `moat inspect` (containers and images) and
# `moat container SUBCOMMAND`, checked against what Docker prints: columns
# and their alignment, filters, --format (Go templates, table, json), the
# inspect JSON fields a script reads, and the exit statuses of mistakes.
#
# Containers here live across several moat invocations, so `teardown`
# removes whatever a test left (rm -f) before the leak check runs; tests
# that end cleanly remove their own containers too.

load ../lib/helpers

teardown() {
	local ids
	ids=$(moat_as ps -aq --no-trunc 2>/dev/null) || true
	if [[ -n $ids ]]; then
		# shellcheck disable=SC2086
		moat_as rm -f $ids >/dev/null 2>&1 || true
	fi
	moat_check_clean
}

# Three containers, oldest first: "web" (running, labels a=1 b=2), "done"
# (exited 3, label a=2), "fresh" (created, never started).
three() {
	WEB=$(moat_as run -d --name web -l a=1 -l b=2 "$IMG" sleep 100) || fail "run -d web"
	moat_as run --name done -l a=2 "$IMG" sh -c 'exit 3' && fail "done exited 0"
	FRESH=$(moat_as create --name fresh "$IMG" echo "hello world") || fail "create fresh"
	DONE=$(moat_as ps -aq --no-trunc --filter name=^done$)
	[[ $WEB =~ ^[0-9a-f]{64}$ && $DONE =~ ^[0-9a-f]{64}$ && $FRESH =~ ^[0-9a-f]{64}$ ]] ||
		fail "ids: '$WEB' '$DONE' '$FRESH'"
}

rm_all() {
	local ids
	ids=$(moat_as ps -aq --no-trunc)
	# shellcheck disable=SC2086
	[[ -z $ids ]] || moat_as rm -f $ids >/dev/null
	run moat_as ps -aq
	assert_output ""
}

# offset LINE WORD: the 0-based column where WORD starts in LINE.
offset() {
	awk -v l="$1" -v w="$2" 'BEGIN { i = index(l, w); print (i ? i - 1 : -1) }'
}

# ---- ps: the table ----

@test "ps: Docker's default table: exact header, aligned columns, running only" {
	three
	run --separate-stderr moat_as ps
	assert_success
	[[ -z $stderr ]] || fail "stderr: $stderr"
	[[ ${#lines[@]} -eq 2 ]] || fail "expected a header and one row:"$'\n'"$output"
	[[ ${lines[0]} =~ ^CONTAINER\ ID\ {3}IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]] ||
		fail "header: '${lines[0]}'"
	local h=${lines[0]} row=${lines[1]} o
	[[ $row == "${WEB:0:12}   "* ]] || fail "row: $row"
	o=$(offset "$h" IMAGE)
	[[ ${row:$o} == "$IMG "* ]] || fail "IMAGE not under its header: $row"
	o=$(offset "$h" COMMAND)
	[[ ${row:$o} == '"sleep 100"   '* ]] || fail "COMMAND not under its header: $row"
	o=$(offset "$h" CREATED)
	[[ ${row:$o} =~ ^(Less\ than\ a\ second|[0-9]+\ seconds?)\ ago ]] || fail "CREATED: $row"
	o=$(offset "$h" STATUS)
	[[ ${row:$o} =~ ^Up\ (Less\ than\ a\ second|[0-9]+\ seconds?)\  ]] || fail "STATUS: $row"
	o=$(offset "$h" NAMES)
	[[ ${row:$o} == web ]] || fail "NAMES not under its header: $row"
	# Docker's tabwriter: columns are 3 spaces apart, at least 10 wide
	o=$(offset "$h" IMAGE)
	[[ $o -eq 15 ]] || fail "IMAGE at $o, want 15 (12 + 3)"
	rm_all
}

@test "ps -a: every state, newest first, Docker's STATUS and quoted COMMAND" {
	three
	run moat_as ps -a
	assert_success
	[[ ${#lines[@]} -eq 4 ]] || fail "$output"
	[[ ${lines[1]} =~ ^${FRESH:0:12}\ .*\"echo\ \'hello\ world\'\"\ .*\ Created\ +fresh$ ]] ||
		fail "row 1: ${lines[1]}"
	[[ ${lines[2]} =~ ^${DONE:0:12}\ .*\"sh\ -c\ \'exit\ 3\'\"\ .*\ Exited\ \(3\)\ (Less\ than\ a\ second|[0-9]+\ seconds?)\ ago\ +done$ ]] ||
		fail "row 2: ${lines[2]}"
	[[ ${lines[3]} =~ ^${WEB:0:12}\ .*\ Up\ .*\ web$ ]] || fail "row 3: ${lines[3]}"
	rm_all
}

@test "ps -q, -aq, --no-trunc: ids only, 12 or 64 hex" {
	three
	run --separate-stderr moat_as ps -q
	assert_success
	assert_output "${WEB:0:12}"
	run moat_as ps -aq
	assert_output "${FRESH:0:12}"$'\n'"${DONE:0:12}"$'\n'"${WEB:0:12}"
	run moat_as ps -aq --no-trunc
	assert_output "$FRESH"$'\n'"$DONE"$'\n'"$WEB"
	# -q wins over --format, as in Docker
	run moat_as ps -q --format '{{.Names}}'
	assert_output "${WEB:0:12}"
	rm_all
}

@test "ps -n N and -l: the last created, whatever their state, after filters" {
	three
	run moat_as ps -n 1 --format '{{.Names}}'
	assert_success
	assert_output "fresh"
	run moat_as ps -n 2 --format '{{.Names}}'
	assert_output "fresh"$'\n'"done"
	run moat_as ps -l --format '{{.Names}} {{.State}}'
	assert_output "fresh created"
	run moat_as ps --last 1 --filter label=a --format '{{.Names}}'
	assert_output "done"
	run --separate-stderr moat_as ps -n many
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *'"many"'* ]] || fail "stderr: $stderr"
	rm_all
}

@test "ps --no-trunc: the whole command; truncated at 20 with … otherwise; control characters escaped" {
	local id
	id=$(moat_as create --name long "$IMG" echo abcdefghijklmnopqrstuvwxyz)
	run moat_as ps -a --format '{{.Command}}'
	assert_output '"echo abcdefghijklmn…"'
	run moat_as ps -a --no-trunc --format '{{.ID}} {{.Command}}'
	assert_output "$id \"echo abcdefghijklmnopqrstuvwxyz\""
	moat_as rm "$id" >/dev/null
	id=$(moat_as create --name ctl "$IMG" echo $'a\nb\x1b[31m')
	run moat_as ps -a
	[[ ${#lines[@]} -eq 2 ]] || fail "a newline in the command broke the table:"$'\n'"$output"
	[[ $output == *'"echo a\nb\x1b[31m"'* ]] || fail "$output"
	[[ $output != *$'\x1b'* ]] || fail "a raw escape reached the terminal"
	moat_as rm "$id" >/dev/null
}

# ---- ps: filters ----

@test "ps --filter: id, name, label, status, ancestor, exited, and combinations" {
	three
	f() { moat_as ps "$@" --format '{{.Names}}' | paste -sd, -; }
	[[ $(f -a --filter "id=${DONE:0:5}") == done ]] || fail "id"
	[[ $(f -a --filter name=^web$) == web ]] || fail "name anchored"
	[[ $(f -a --filter name=e) == fresh,done,web ]] || fail "name substring"
	[[ $(f -a --filter label=a) == done,web ]] || fail "label key"
	[[ $(f -a --filter label=a=1) == web ]] || fail "label key=value"
	[[ $(f -a --filter label=a=9) == "" ]] || fail "label no match"
	# label filters must all hold
	[[ $(f -a --filter label=a --filter label=b) == web ]] || fail "label AND"
	# status implies -a (Docker's daemon does so)
	[[ $(f --filter status=exited) == done ]] || fail "status=exited"
	[[ $(f --filter status=created) == fresh ]] || fail "status=created"
	# a repeated key other than label: any value
	[[ $(f --filter status=created --filter status=running) == fresh,web ]] || fail "status OR"
	[[ $(f -a --filter ancestor="$IMG") == fresh,done,web ]] || fail "ancestor name"
	[[ $(f -a --filter ancestor="$IMG:latest") == fresh,done,web ]] || fail "ancestor tag"
	[[ $(f -a --filter ancestor=nope) == "" ]] || fail "ancestor other"
	[[ $(f -a --filter exited=3) == done ]] || fail "exited=3"
	[[ $(f -a --filter exited=0) == "" ]] || fail "exited=0"
	# different keys: all must hold
	[[ $(f -a --filter label=a --filter status=running) == web ]] || fail "label AND status"
	[[ $(f -a --filter name=fresh --filter status=running) == "" ]] || fail "name AND status"
	# without -a stopped ones stay hidden, as in Docker
	[[ $(f --filter exited=3) == "" ]] || fail "exited without -a"
	rm_all
}

@test "ps --filter mistakes: unknown key or bad value exit 1, no '=' exits 125, one line each" {
	run --separate-stderr moat_as ps --filter color=red
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: invalid filter 'color'" ]] || fail "stderr: $stderr"
	[[ -z $output ]] || fail "stdout: $output"
	run --separate-stderr moat_as ps --filter status=sleeping
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"status=sleeping"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as ps --filter 'name=(('
	assert_failure 1
	assert_one_error_line
	run --separate-stderr moat_as ps --filter status
	assert_failure 125
	assert_one_error_line
	[[ $stderr == *"bad format of filter (expected name=value)"* ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as ps --no-such-flag
	assert_failure 125
	assert_one_error_line
}

# ---- ps: --format ----

@test "ps --format: Go templates over .ID .Names .Status .Labels .State .Image .Networks" {
	three
	run --separate-stderr moat_as ps -a --format '{{.ID}}|{{.Names}}|{{.Status}}|{{.Labels}}|{{.State}}|{{.Image}}|{{.Networks}}'
	assert_success
	[[ ${lines[0]} == "${FRESH:0:12}|fresh|Created||created|$IMG|none" ]] || fail "${lines[0]}"
	[[ ${lines[1]} =~ ^${DONE:0:12}\|done\|Exited\ \(3\)\ .*\ ago\|a=2\|exited\|$IMG\|none$ ]] ||
		fail "${lines[1]}"
	[[ ${lines[2]} =~ ^${WEB:0:12}\|web\|Up\ .*\|a=1,b=2\|running\|$IMG\|none$ ]] || fail "${lines[2]}"
	# no header without "table"; "\t" is a tab (Docker's escapes)
	run moat_as ps --format '{{.Names}}\t{{upper .State}}'
	assert_output "web"$'\t'"RUNNING"
	rm_all
}

@test "ps --format table: Docker's headers, aligned; 'table' alone is the default" {
	three
	run moat_as ps -a --format 'table {{.Names}}\t{{.State}}\t{{.Labels}}'
	assert_success
	assert_output "NAMES     STATE     LABELS
fresh     created   
done      exited    a=2
web       running   a=1,b=2"
	run moat_as ps --format table
	assert_success
	[[ ${lines[0]} =~ ^CONTAINER\ ID\ {3}IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]] ||
		fail "header: ${lines[0]}"
	# an empty list still prints the header
	run moat_as ps --filter name=nothing --format 'table {{.ID}}\t{{.RunningFor}}\t{{.CreatedAt}}'
	assert_output "CONTAINER ID   CREATED   CREATED AT"
	rm_all
}

@test "ps --format json: one JSON object per container with Docker's keys" {
	three
	run --separate-stderr moat_as ps -a --format json
	assert_success
	[[ ${#lines[@]} -eq 3 ]] || fail "$output"
	local keys
	keys=$(jq -c 'keys_unsorted' <<<"${lines[2]}") || fail "not JSON: ${lines[2]}"
	[[ $keys == '["Command","CreatedAt","ID","Image","Labels","LocalVolumes","Mounts","Names","Networks","Ports","RunningFor","Size","State","Status"]' ]] ||
		fail "keys: $keys"
	[[ $(jq -r .Names <<<"${lines[2]}") == web ]] || fail "${lines[2]}"
	[[ $(jq -r .Command <<<"${lines[2]}") == '"sleep 100"' ]] || fail "${lines[2]}"
	[[ $(jq -r .ID <<<"${lines[0]}") == "${FRESH:0:12}" ]] || fail "${lines[0]}"
	[[ $(jq -r .Labels <<<"${lines[1]}") == a=2 ]] || fail "${lines[1]}"
	[[ $(jq -r .CreatedAt <<<"${lines[1]}") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:]{8}\ [+-][0-9]{4}\ [A-Z]+$ ]] ||
		fail "${lines[1]}"
	rm_all
}

@test "ps --format mistakes: a template that does not parse or fails exits 1, prints nothing" {
	three
	run --separate-stderr moat_as ps -a --format '{{.Names'
	assert_failure 1
	assert_one_error_line
	[[ $stderr == "moat: failed to parse template: template: "* ]] || fail "stderr: $stderr"
	[[ -z $output ]] || fail "stdout: $output"
	run --separate-stderr moat_as ps -a --format '{{.Names.Nope}}'
	assert_failure 1
	assert_one_error_line
	[[ -z $output ]] || fail "stdout: $output"
	# -q does not hide a broken template either
	run --separate-stderr moat_as ps -q --format '{{if}}'
	assert_failure 1
	rm_all
}

@test "ps -s: SIZE is what the container wrote (and its image as virtual)" {
	local id
	id=$(moat_as run -d --name writer "$IMG" sh -c 'head -c 5000 /dev/zero > /tmp/five; sleep 100')
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(moat_as inspect -s -f '{{.SizeRw}}' "$id") == 5000 ]] && break
		sleep 0.1
	done
	run moat_as inspect -s -f '{{.SizeRw}} {{.SizeRootFs}}' "$id"
	local rw root
	read -r rw root <<<"$output"
	[[ $rw == 5000 ]] || fail "SizeRw: $output"
	[[ $root -gt 5000 ]] || fail "SizeRootFs: $output"
	run moat_as ps -s
	assert_success
	[[ ${lines[0]} =~ \ NAMES\ +SIZE$ ]] || fail "header: ${lines[0]}"
	[[ ${lines[1]} =~ \ writer\ +5kB\ \(virtual\ [0-9.]+[kM]B\)$ ]] || fail "row: ${lines[1]}"
	# without -s (or .Size) nothing is measured: Docker's "0B"
	run moat_as ps --format '{{.Names}}'
	assert_output writer
	run moat_as ps --format '{{.Size}}'
	[[ $output == "5kB (virtual "* ]] || fail "$output"
	moat_as rm -f "$id" >/dev/null
}

# ---- inspect ----

@test "inspect: State follows created -> running -> exited; Pid while running; ExitCode" {
	local id
	id=$(moat_as create --name life "$IMG" sleep 100)
	run --separate-stderr moat_as inspect life
	assert_success
	[[ $(jq length <<<"$output") == 1 ]] || fail "$output"
	[[ $(jq -r '.[0].State.Status' <<<"$output") == created ]] || fail "$output"
	[[ $(jq -r '.[0].State.Running' <<<"$output") == false ]] || fail "$output"
	[[ $(jq -r '.[0].State.Pid' <<<"$output") == 0 ]] || fail "$output"
	[[ $(jq -r '.[0].State.StartedAt' <<<"$output") == 0001-01-01T00:00:00Z ]] || fail "$output"
	[[ $(jq -r '.[0].Id' <<<"$output") == "$id" ]] || fail "$output"
	[[ $(jq -r '.[0].Path' <<<"$output") == sleep ]] || fail "$output"
	[[ $(jq -c '.[0].Args' <<<"$output") == '["100"]' ]] || fail "$output"
	[[ $(jq -r '.[0].Created' <<<"$output") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z$ ]] ||
		fail "$output"

	moat_as start life >/dev/null
	run moat_as inspect life
	[[ $(jq -r '.[0].State.Status' <<<"$output") == running ]] || fail "$output"
	[[ $(jq -r '.[0].State.Running' <<<"$output") == true ]] || fail "$output"
	local pid
	pid=$(jq -r '.[0].State.Pid' <<<"$output")
	[[ $pid -gt 0 && -e /proc/$pid ]] || fail "Pid $pid is not a live process"
	[[ $(jq -r '.[0].HostsPath' <<<"$output") == */containers/$id/hosts ]] || fail "$output"

	moat_as kill life >/dev/null
	moat_as wait life >/dev/null
	run moat_as inspect life
	[[ $(jq -r '.[0].State.Status' <<<"$output") == exited ]] || fail "$output"
	[[ $(jq -r '.[0].State.ExitCode' <<<"$output") == 137 ]] || fail "$output"
	[[ $(jq -r '.[0].State.Pid' <<<"$output") == 0 ]] || fail "$output"
	[[ $(jq -r '.[0].State.FinishedAt' <<<"$output") != 0001-01-01T00:00:00Z ]] || fail "$output"
	[[ $(jq -r '.[0].HostsPath' <<<"$output") == "" ]] || fail "$output"
	moat_as rm life >/dev/null
}

@test "inspect: Name with '/', Config.Labels, RestartPolicy, AutoRemove, LogConfig, Cmd" {
	local a b
	a=$(moat_as create --name cfg -l a=1 -l com.example=x=y --restart on-failure:3 \
		--log-opt max-size=10m --log-opt max-file=3 "$IMG" echo hi)
	b=$(moat_as run -d --rm --name gone "$IMG" sleep 100)
	run --separate-stderr moat_as inspect cfg gone
	assert_success
	[[ $(jq -r '.[0].Name' <<<"$output") == /cfg ]] || fail "$output"
	[[ $(jq -c '.[0].Config.Labels' <<<"$output") == '{"a":"1","com.example":"x=y"}' ]] || fail "$output"
	[[ $(jq -c '.[0].HostConfig.RestartPolicy' <<<"$output") == '{"Name":"on-failure","MaximumRetryCount":3}' ]] ||
		fail "$output"
	[[ $(jq -r '.[0].HostConfig.AutoRemove' <<<"$output") == false ]] || fail "$output"
	[[ $(jq -c '.[0].HostConfig.LogConfig' <<<"$output") == '{"Type":"json-file","Config":{"max-size":"10m","max-file":"3"}}' ]] ||
		fail "$output"
	[[ $(jq -c '.[0].Config.Cmd' <<<"$output") == '["echo","hi"]' ]] || fail "$output"
	[[ $(jq -r '.[0].Config.Image' <<<"$output") == "$IMG" ]] || fail "$output"
	[[ $(jq -r '.[1].Name' <<<"$output") == /gone ]] || fail "$output"
	[[ $(jq -r '.[1].HostConfig.AutoRemove' <<<"$output") == true ]] || fail "$output"
	[[ $(jq -c '.[1].HostConfig.RestartPolicy' <<<"$output") == '{"Name":"no","MaximumRetryCount":0}' ]] ||
		fail "$output"
	# Docker's 4-space indentation
	[[ ${lines[1]} == '    {' && ${lines[2]} == '        "Id": "'* ]] || fail "indentation: ${lines[1]} / ${lines[2]}"
	# the image is the id it was created from
	[[ $(jq -r '.[0].Image' <<<"$output") == $(moat_as inspect -f '{{.Id}}' "$IMG") ]] || fail "$output"
	moat_as rm -f "$a" "$b" >/dev/null
}

@test "inspect -f: one rendered line per object, by id prefix or name" {
	local id
	id=$(moat_as run -d --name fmt "$IMG" sleep 100)
	run --separate-stderr moat_as inspect -f '{{.State.Status}}' fmt
	assert_success
	assert_output running
	run moat_as inspect --format '{{.Name}} {{.State.Running}} {{json .Config.Cmd}}' "${id:0:7}" fmt
	assert_output "/fmt true [\"sleep\",\"100\"]"$'\n'"/fmt true [\"sleep\",\"100\"]"
	run moat_as container inspect -f '{{.Id}}' fmt
	assert_output "$id"
	# a template that fails: 1, nothing printed
	run --separate-stderr moat_as inspect -f '{{.State.Status.Nope}}' fmt
	assert_failure 1
	assert_one_error_line
	[[ -z $output ]] || fail "stdout: $output"
	run --separate-stderr moat_as inspect -f '{{.State' fmt
	assert_failure 1
	assert_one_error_line
	moat_as rm -f fmt >/dev/null
}

@test "inspect of an image: Id, RepoTags, Config, RootFS; --type picks the kind" {
	run --separate-stderr moat_as inspect "$IMG"
	assert_success
	local want
	want=$(moat_as images --no-trunc -q "$IMG")
	[[ $(jq -r '.[0].Id' <<<"$output") == "$want" ]] || fail "Id: $output"
	[[ $(jq -c '.[0].RepoTags' <<<"$output") == "[\"$IMG:latest\"]" ]] || fail "$output"
	[[ $(jq -r '.[0].RootFS.Type' <<<"$output") == layers ]] || fail "$output"
	[[ $(jq -r '.[0].RootFS.Layers | length' <<<"$output") -ge 1 ]] || fail "$output"
	[[ $(jq -c '.[0].Config.Cmd' <<<"$output") == '["/bin/sh"]' ]] || fail "$output"
	[[ $(jq -r '.[0].Os' <<<"$output") == linux ]] || fail "$output"
	[[ $(jq -r '.[0].Size' <<<"$output") -gt 0 ]] || fail "$output"
	run moat_as inspect --type image -f '{{.Id}}' "$IMG"
	assert_output "$want"
	# a container named like the image wins unless --type says otherwise
	local id
	id=$(moat_as create --name "$IMG" "$IMG" true)
	run moat_as inspect -f '{{.Id}}' "$IMG"
	assert_output "$id"
	run moat_as inspect --type image -f '{{.Id}}' "$IMG"
	assert_output "$want"
	run --separate-stderr moat_as container inspect "${want#sha256:}"
	assert_failure 1
	[[ $stderr == "moat: No such container: ${want#sha256:}" ]] || fail "stderr: $stderr"
	moat_as rm "$id" >/dev/null
	run --separate-stderr moat_as inspect --type volume x
	assert_failure 125
	assert_one_error_line
}

@test "inspect of something unknown: '[]', 'No such object', exit 1; found ones still printed" {
	run --separate-stderr moat_as inspect nope-xyz
	assert_failure 1
	assert_output "[]"
	assert_one_error_line
	[[ $stderr == "moat: No such object: nope-xyz" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as inspect ../../etc
	assert_failure 1
	[[ $stderr == "moat: No such object: ../../etc" ]] || fail "stderr: $stderr"
	local id
	id=$(moat_as create --name known "$IMG" true)
	run --separate-stderr moat_as inspect nope-xyz known
	assert_failure 1
	[[ $(jq -r '.[].Name' <<<"$output") == /known ]] || fail "$output"
	[[ $stderr == "moat: No such object: nope-xyz" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as inspect --type image known
	assert_failure 1
	[[ $stderr == "moat: No such image: known" ]] || fail "stderr: $stderr"
	run --separate-stderr moat_as inspect
	assert_failure 125
	assert_one_error_line
	moat_as rm "$id" >/dev/null
}

# ---- container ... ----

@test "container prune -f: removes only stopped containers, says which, audits each" {
	three
	run --separate-stderr moat_as container prune -f
	assert_success
	local want
	want="Deleted Containers:"$'\n'"$FRESH"$'\n'"$DONE"$'\n\n'"Total reclaimed space: 0B"
	assert_output "$want"
	run moat_as ps -aq --no-trunc
	assert_output "$WEB"
	[[ ! -e $MOAT_STATE/root/containers/$DONE && ! -e $MOAT_STATE/root/containers/$FRESH ]] ||
		fail "state left behind"
	run moat_as audit show --event container.remove --format json
	assert_output --partial "\"container\":\"$DONE\""
	assert_output --partial "\"container\":\"$FRESH\""
	# nothing stopped: nothing deleted
	run moat_as container prune -f
	assert_output "Total reclaimed space: 0B"
	rm_all
}

@test "container prune: asks first (no answer, no removal); --filter label and until" {
	three
	run --separate-stderr moat_as container prune <<<"n"
	assert_success
	[[ $output == "WARNING! This will remove all stopped containers."$'\n'"Are you sure you want to continue? [y/N] "* ]] ||
		fail "$output"
	[[ $output != *Deleted* ]] || fail "$output"
	[[ $(moat_as ps -aq | wc -l) -eq 3 ]] || fail "something was removed"
	# until: only containers created before it
	run moat_as container prune -f --filter until=1h
	assert_output "Total reclaimed space: 0B"
	# label: only those with it (done has a=2; fresh has none)
	run moat_as container prune -f --filter label=a=2
	assert_output --partial "$DONE"
	refute_output --partial "$FRESH"
	run moat_as ps -a --format '{{.Names}}'
	assert_output "fresh"$'\n'"web"
	run moat_as container prune --filter until=0s <<<"y"
	assert_output --partial "$FRESH"
	run moat_as ps -aq --no-trunc
	assert_output "$WEB"
	run --separate-stderr moat_as container prune -f --filter color=red
	assert_failure 1
	assert_one_error_line
	run --separate-stderr moat_as container prune -f --filter until=yesterday
	assert_failure 1
	assert_one_error_line
	run --separate-stderr moat_as container prune -f --filter until
	assert_failure 125
	assert_one_error_line
	rm_all
}

@test "container ls|list|ps are ps; lifecycle verbs work through container; unknown is 1" {
	three
	local a b
	a=$(moat_as ps -a --format '{{.ID}} {{.Names}}')
	for sub in ls list ps; do
		b=$(moat_as container "$sub" -a --format '{{.ID}} {{.Names}}')
		[[ $a == "$b" ]] || fail "container $sub: $b"
	done
	run moat_as container stop -t 0 web
	assert_success
	assert_output web
	run moat_as container ls -a --filter name=web --format '{{.State}}'
	assert_output exited
	run moat_as container rm fresh
	assert_output fresh
	run --separate-stderr moat_as container frobnicate
	assert_failure 1
	assert_one_error_line
	[[ $stderr == *"'container frobnicate' is not a moat command"* ]] || fail "stderr: $stderr"
	run moat_as container --help
	assert_success
	assert_output --partial "prune"
	rm_all
}
