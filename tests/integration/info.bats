#!/usr/bin/env bats
# `moat info`: state locations, identity mode, kernel features.

load ../lib/helpers

# info_line REGEX: the first line of $output matching REGEX (case-insensitive).
info_line() { grep -iE -m 1 -- "$1" <<<"$output" || true; }

@test "info: exits 0 and names the state locations" {
	run --separate-stderr moat_as info
	assert_success
	assert_output --partial "$MOAT_STATE/root"
	assert_output --partial "$MOAT_STATE/run"
}

@test "info: --root and --runroot before the verb win over the environment" {
	local r=$MOAT_T/scratch/alt-root r2=$MOAT_T/scratch/alt-run
	run moat_as --root "$r" --runroot "$r2" info
	assert_success
	assert_output --partial "$r"
	assert_output --partial "$r2"
	refute_output --partial "$MOAT_STATE/root"
	rm -rf "$r" "$r2"
}

@test "info: the identity mode" {
	run moat_as info
	assert_success
	local l
	l=$(info_line 'identity|userns|user namespace')
	[[ -n $l ]] || fail "no identity line: $output"
	if is_root_identity; then
		[[ ${l,,} == *root* ]] || fail "root identity not reported: $l"
	else
		# moattest has an /etc/subuid entry and newuidmap is installed
		[[ ${l,,} == *subuid* || ${l,,} == *subordinate* ]] || fail "subuid mode not reported: $l"
	fi
}

@test "info: the Landlock ABI the kernel reports" {
	local abi
	abi=$("$PROBE" try landlock-abi | sed -n 's/.* actual=\([0-9]*\) .*/\1/p')
	[[ -n $abi ]] || skip "the kernel has no Landlock"
	run moat_as info
	assert_success
	local l
	l=$(info_line landlock)
	[[ $l =~ (^|[^0-9])$abi([^0-9]|$) ]] || fail "Landlock line does not say ABI $abi: '$l'"
}

@test "info: seccomp and overlay are reported" {
	run moat_as info
	assert_success
	[[ -n $(info_line seccomp) ]] || fail "no seccomp line"
	[[ -n $(info_line overlay) ]] || fail "no overlay line"
}

@test "info: AppArmor and SELinux say 'not active' on this host" {
	local lsm=""
	[[ -r /sys/kernel/security/lsm ]] && lsm=$(cat /sys/kernel/security/lsm)
	if [[ $lsm == *apparmor* || $lsm == *selinux* ]]; then
		skip "an LSM is active here ($lsm); this checks the inactive case"
	fi
	run moat_as info
	assert_success
	[[ $(info_line apparmor) == *"not active"* ]] || fail "AppArmor: '$(info_line apparmor)'"
	[[ $(info_line selinux) == *"not active"* ]] || fail "SELinux: '$(info_line selinux)'"
}

@test "info: the cgroup layout (v1, v2 or hybrid) as the host has it" {
	local want
	if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
		want=v2
	elif grep -q ' - cgroup2 ' /proc/self/mountinfo; then
		want=hybrid
	else
		want=v1
	fi
	run moat_as info
	assert_success
	local l
	l=$(info_line cgroup)
	[[ ${l,,} == *"$want"* ]] || fail "cgroup line does not say $want: '$l'"
}

@test "an unknown verb: 125 and one line" {
	run --separate-stderr moat_as no-such-verb
	assert_failure 125
	assert_one_error_line
}
