#!/usr/bin/env bats
# CVE-2026-31431 "Copy Fail" (AF_ALG + splice writes the page cache of any
# readable file) and CVE-2020-14386 (AF_PACKET with the CAP_NET_RAW a user
# namespace's root has).  moat's filter refuses these socket families,
# including through the 32-bit socketcall(2) entry (int $0x80), which a
# filter keyed on native syscall numbers alone would let through.
#
# Without the protection (all safe: a socket is created and closed, nothing
# is sent or spliced):
#  - AF_ALG: unconfined, the answer is the kernel's (OK where the kernel has
#    AF_ALG, EAFNOSUPPORT where it does not), never the filter's EPERM;
#  - AF_PACKET needs CAP_NET_RAW as well: it works only with seccomp off
#    AND --cap-add NET_RAW (in the container's own network namespace), so
#    both layers are shown to matter.

load ../lib/helpers

@test "alg: socket(AF_ALG) is EPERM" {
	run mrun "$IMG" /probe try socket-af-alg
	assert_failure
	assert_output "socket-af-alg expected=EPERM actual=EPERM ok"
}

@test "alg: 32-bit socketcall(SYS_SOCKET, AF_ALG) via int 0x80 is EPERM" {
	[[ $(uname -m) == x86_64 ]] || skip "the int 0x80 route is an x86_64 case"
	run mrun "$IMG" /probe try socketcall32-af-alg
	assert_failure
	assert_output "socketcall32-af-alg expected=EPERM|SIGSEGV actual=EPERM ok"
}

@test "alg: 32-bit socket(AF_ALG) via int 0x80 is refused" {
	[[ $(uname -m) == x86_64 ]] || skip "the int 0x80 route is an x86_64 case"
	run mrun "$IMG" /probe try socket32-af-alg
	assert_failure
	assert_output --regexp 'actual=(EPERM|ENOSYS) ok$'
}

@test "alg: unconfined, the kernel answers instead of the filter" {
	run mrun --security-opt seccomp=unconfined "$IMG" /probe try socket-af-alg
	refute_output --partial "actual=EPERM"
	assert_output --regexp 'actual=(OK|EAFNOSUPPORT) '
	if [[ $(uname -m) == x86_64 ]]; then
		run mrun --security-opt seccomp=unconfined "$IMG" /probe try socketcall32-af-alg
		refute_output --partial "actual=EPERM"
	fi
}

@test "packet: socket(AF_PACKET) is EPERM, also with --cap-add NET_RAW" {
	run mrun "$IMG" /probe try socket-af-packet
	assert_failure
	assert_output "socket-af-packet expected=EPERM actual=EPERM ok"
	run mrun --cap-add NET_RAW "$IMG" /probe try socket-af-packet
	assert_failure
	assert_output "socket-af-packet expected=EPERM actual=EPERM ok"
}

@test "packet: only seccomp off + NET_RAW lets it through (both layers matter)" {
	run mrun --security-opt seccomp=unconfined "$IMG" /probe try socket-af-packet
	assert_failure
	assert_output --partial "actual=EPERM"
	run mrun --security-opt seccomp=unconfined --cap-add NET_RAW "$IMG" /probe try socket-af-packet
	assert_success
}

@test "vsock: socket(AF_VSOCK) is EPERM" {
	run mrun "$IMG" /probe try socket-af-vsock
	assert_failure
	assert_output "socket-af-vsock expected=EPERM actual=EPERM ok"
}

@test "alg: control: ordinary sockets still work" {
	run mrun "$IMG" /probe allow
	assert_success
	assert_line "socket-af-unix expected=OK actual=OK ok"
	assert_line "socket-af-inet expected=OK actual=OK ok"
}
