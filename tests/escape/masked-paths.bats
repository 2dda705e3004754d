#!/usr/bin/env bats
# Masked and read-only paths (moby GHSA-6fw5-f8r9-fgfm, GHSA-jq35-85cj-fj4p
# and Docker's defaults): /proc files that leak host information read
# empty, masked directories list nothing, /proc/{bus,fs,irq,sys,
# sysrq-trigger} and /sys are read-only (EROFS, not merely EACCES: the
# write is stopped by the mount, whatever the capabilities).
#
# Masking cannot be switched off with a flag, so the control is the host:
# the same probe reads data there (below), so "EMPTY" is a real result.

load ../lib/helpers

MASKED="/proc/acpi /proc/asound /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats
/proc/sched_debug /proc/scsi /proc/timer_list /proc/timer_stats /sys/firmware
/sys/devices/virtual/powercap"

@test "masked: every masked path reads empty (or does not exist on this kernel)" {
	local p bad=""
	run mrun "$IMG" /probe deny
	for p in $MASKED; do
		case $(probe_actual "masked:$p") in
		EMPTY | ENOENT) ;;
		*) bad+=" $p=$(probe_actual "masked:$p")" ;;
		esac
	done
	[[ -z $bad ]] || fail "not masked:$bad"
}

@test "masked: a path that exists on the host is masked, not absent" {
	# ENOENT is accepted above only for what this kernel lacks
	local p bad=""
	run mrun "$IMG" /probe deny
	for p in $MASKED; do
		if [[ -e $p ]]; then
			[[ $(probe_actual "masked:$p") == EMPTY ]] || bad+=" $p=$(probe_actual "masked:$p")"
		fi
	done
	[[ -z $bad ]] || fail "exists on the host but not EMPTY in the container:$bad"
}

@test "masked: control: on the host the probe reads data from them" {
	run "$PROBE" try masked:/proc/interrupts
	assert_output --regexp 'actual=DATA:[0-9]+ FAIL'
}

@test "masked: masked paths cannot be unmasked (umount is EPERM)" {
	run mrun "$IMG" sh -c 'umount /proc/interrupts 2>/dev/null; echo rc=$?'
	assert_output --regexp '^rc=[1-9][0-9]*$'
	run mrun "$IMG" /probe read /proc/interrupts
	assert_output "read /proc/interrupts bytes=0"
}

@test "readonly: /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger and /sys are read-only mounts" {
	local p bad=""
	run mrun "$IMG" /probe deny
	for p in ro:/proc/bus ro:/proc/fs ro:/proc/irq ro:/proc/sys ro:/proc/sysrq-trigger ro:/sys; do
		case $(probe_actual "$p") in
		EROFS) ;;
		ENOENT) [[ -e ${p#ro:} ]] && bad+=" $p=ENOENT" ;;
		*) bad+=" $p=$(probe_actual "$p")" ;;
		esac
	done
	[[ -z $bad ]] || fail "writable:$bad"
}

@test "readonly: writing /proc/sys/kernel/hostname and a /sys/kernel file is EROFS" {
	run mrun "$IMG" /probe deny
	assert_line "write-proc-sys-hostname expected=EROFS actual=EROFS ok"
	assert_line "write-sys-kernel expected=EROFS actual=EROFS ok"
	# a shell redirect is the everyday form of the same attempt
	run mrun "$IMG" sh -c 'echo evil > /proc/sys/kernel/hostname'
	assert_failure
	assert_output --partial "Read-only file system"
}

@test "readonly: the host's hostname is unchanged" {
	local before
	before=$(cat /proc/sys/kernel/hostname)
	mrun "$IMG" sh -c 'echo evil > /proc/sys/kernel/hostname; hostname evil' || true
	[[ $(cat /proc/sys/kernel/hostname) == "$before" ]] || fail "host hostname changed"
}

@test "readonly: control: the probe detects a writable /proc/sys on the host" {
	run "$PROBE" try ro:/proc/sys
	assert_output "ro:/proc/sys expected=EROFS actual=OK FAIL"
}
