/*
 * tests/unit/test_seccomp.c - seccomp profile decoding, compilation, the
 * BPF cache, and the default profile's behaviour under a loaded filter.
 *
 * Runs as: the unit-test user (root on CI). Behaviour tests fork a child
 * per probe, set no_new_privs, load the filter and report the errno of one
 * system call; nothing is loaded into the test process itself.
 *
 * Invariants of the suite:
 *  - a probe states what the filtered call must return; the control test
 *    runs the same probes without a filter and requires a different result
 *    (as root), so a probe that would pass without seccomp fails the suite;
 *  - probes whose unfiltered form would change the host are written with
 *    arguments that fail harmlessly (mount of "" on ""), or run in the
 *    throwaway child (unshare, clone with namespace flags).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <linux/filter.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "common/fs.h"
#include "policy/seccomp_profile.h"
#include "sandbox/seccomp.h"

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* moat's default capability set (podman's 11), without CAP_SYS_ADMIN. */
#define BIT(n) (UINT64_C(1) << (n))
static const uint64_t default_caps = BIT(CAP_CHOWN) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_FOWNER) |
				     BIT(CAP_FSETID) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE) |
				     BIT(CAP_SETFCAP) | BIT(CAP_SETGID) | BIT(CAP_SETPCAP) |
				     BIT(CAP_SETUID) | BIT(CAP_SYS_CHROOT);

static struct sandbox_bpf default_bpf;

/* ---------------------------------------------------------------- helpers */

static int decode(const char *json, struct seccomp_profile **p, struct err **err)
{
	return policy_seccomp_decode(json, strlen(json), "t.json", p, err);
}

/* Decodes JSON, which must fail; returns the message. */
static void expect_decode_error(const char *json, const char *needle)
{
	_cleanup_err_ struct err *err = NULL;
	struct seccomp_profile *p = NULL;
	int r = decode(json, &p, &err);

	assert_true(r < 0);
	assert_null(p);
	assert_non_null(err);
	if (!strstr(err->msg, needle))
		fail_msg("error \"%s\" lacks \"%s\"", err->msg, needle);
}

#define CRASHED(sig) (-100 - (sig))
#define LOAD_FAILED (-1)

/*
 * Runs FN in a child under B (NULL: no filter). Returns 0 when FN
 * succeeded, the errno it failed with, LOAD_FAILED, or CRASHED(signal).
 */
static int run_probe(const struct sandbox_bpf *b, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (b) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
			    sandbox_seccomp_load(b) < 0)
				_exit(254);
		}
		_exit(fn() & 0xff);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		return CRASHED(WTERMSIG(status));
	if (WEXITSTATUS(status) == 254)
		return LOAD_FAILED;
	return WEXITSTATUS(status);
}

static int res(long r)
{
	return r < 0 ? errno : 0;
}

/* ----------------------------------------------------------------- probes */

static int p_getpid(void)
{
	return syscall(SYS_getpid) > 0 ? 0 : errno;
}

static int p_fork(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(7);
	if (waitpid(pid, &status, 0) != pid)
		return errno;
	return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : EIO;
}

static void *thread_fn(void *arg)
{
	return arg;
}

/* glibc tries clone3 first and falls back to clone on ENOSYS. */
static int p_pthread(void)
{
	static int marker;
	pthread_t t;
	void *ret = NULL;
	int r = pthread_create(&t, NULL, thread_fn, &marker);

	if (r)
		return r;
	pthread_join(t, &ret);
	return ret == &marker ? 0 : EIO;
}

/* A raw clone that behaves like fork when the kernel accepts it. */
static int raw_clone(unsigned long flags)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid < 0)
		return errno;
	if (pid == 0)
		_exit(0);
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int p_clone_newuser(void)
{
	return raw_clone(CLONE_NEWUSER);
}

static int p_clone_newns(void)
{
	return raw_clone(CLONE_NEWNS);
}

static int p_clone_newnet_newpid(void)
{
	return raw_clone(CLONE_NEWNET | CLONE_NEWPID);
}

/* NULL args: EINVAL from a kernel that runs it, ENOSYS from the filter. */
static int p_clone3(void)
{
	return res(syscall(SYS_clone3, NULL, 0));
}

static int p_unshare_newuser(void)
{
	return res(unshare(CLONE_NEWUSER));
}

static int p_setns(void)
{
	return res(setns(-1, 0));
}

static int p_mount(void)
{
	return res(mount("", "", "", 0, NULL));
}

static int p_umount2(void)
{
	return res(umount2("", 0));
}

static int p_pivot_root(void)
{
	return res(syscall(SYS_pivot_root, "", ""));
}

static int p_chroot(void)
{
	return res(chroot("/nonexistent-moat-test"));
}

static int p_keyctl(void)
{
	return res(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0));
}

static int p_add_key(void)
{
	return res(syscall(SYS_add_key, "user", "moat-test", "x", 1, KEY_SPEC_PROCESS_KEYRING));
}

static int p_bpf(void)
{
	return res(syscall(SYS_bpf, 0, NULL, 0));
}

static int p_userfaultfd(void)
{
	return res(syscall(SYS_userfaultfd, O_CLOEXEC));
}

static int p_io_uring_setup(void)
{
	return res(syscall(SYS_io_uring_setup, 0, NULL));
}

static int p_io_uring_enter(void)
{
	return res(syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0));
}

static int p_perf_event_open(void)
{
	return res(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
}

static int p_open_by_handle_at(void)
{
	return res(syscall(SYS_open_by_handle_at, -1, NULL, 0));
}

static int p_vmsplice(void)
{
	return res(syscall(SYS_vmsplice, -1, NULL, 0, 0));
}

/* More segments than KEXEC_SEGMENT_MAX: refused before anything loads or
 * unloads, should the filter let it through. */
static int p_kexec_load(void)
{
	return res(syscall(SYS_kexec_load, 0, 1000, NULL, 0));
}

static int p_init_module(void)
{
	return res(syscall(SYS_init_module, NULL, 0, ""));
}

static int p_syslog(void)
{
	return res(syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
}

static int p_open_tree(void)
{
	return res(syscall(SYS_open_tree, -1, "", 0));
}

static int p_fsopen(void)
{
	return res(syscall(SYS_fsopen, NULL, 0));
}

static int p_move_mount(void)
{
	return res(syscall(SYS_move_mount, -1, "", -1, "", 0));
}

static int p_mount_setattr(void)
{
	return res(syscall(SYS_mount_setattr, -1, "", 0, NULL, 0));
}

static int p_syscall_1000(void)
{
	return res(syscall(1000));
}

/* Not in the allowlist and gated on CAP_SYS_NICE, which the set lacks. */
static int p_mbind(void)
{
	return res(syscall(SYS_mbind, 0, 0, 0 /* MPOL_DEFAULT */, NULL, 0, 0));
}

static int p_personality_query(void)
{
	return res(personality(0xffffffff));
}

static int p_personality_norandom(void)
{
	return res(syscall(SYS_personality, ADDR_NO_RANDOMIZE));
}

static int sock(long family, int type)
{
	long fd = syscall(SYS_socket, family, type, 0);

	if (fd < 0)
		return errno;
	close((int)fd);
	return 0;
}

static int p_socket_alg(void)
{
	return sock(AF_ALG, SOCK_SEQPACKET);
}

static int p_socket_packet(void)
{
	return sock(AF_PACKET, SOCK_RAW);
}

static int p_socket_vsock(void)
{
	return sock(AF_VSOCK, SOCK_STREAM);
}

static int p_socket_unix(void)
{
	return sock(AF_UNIX, SOCK_STREAM);
}

static int p_socket_inet(void)
{
	return sock(AF_INET, SOCK_DGRAM);
}

/* IPv6 may be disabled on the host; only the filter's EPERM counts. */
static int p_socket_inet6(void)
{
	int r = sock(AF_INET6, SOCK_DGRAM);

	return r == EAFNOSUPPORT ? 0 : r;
}

static int p_socket_netlink(void)
{
	return sock(AF_NETLINK, SOCK_RAW);
}

/* The kernel reads the family as an int: this is AF_UNIX to it. */
static int p_socket_unix_highbits(void)
{
	return sock((1L << 32) | AF_UNIX, SOCK_STREAM);
}

static int p_socketpair_unix(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return errno;
	close(sv[0]);
	close(sv[1]);
	return 0;
}

static int p_socketpair_inet(void)
{
	int sv[2];

	return res(socketpair(AF_INET, SOCK_STREAM, 0, sv));
}

/* A pty slave; the filter sees only the ioctl, so the pty is opened
 * before and after the load alike. */
static int open_pty(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	char *name;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m)))
		return -1;
	return open(name, O_RDWR | O_NOCTTY);
}

static int p_tiocsti(void)
{
	int fd = open_pty();
	char c = 'x';

	if (fd < 0)
		return EIO;
	return res(syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI, &c));
}

static int p_tiocsti_highbit(void)
{
	int fd = open_pty();
	char c = 'x';

	if (fd < 0)
		return EIO;
	return res(syscall(SYS_ioctl, fd, (unsigned long)TIOCSTI | (1UL << 32), &c));
}

static int p_tioclinux(void)
{
	int fd = open_pty();
	char sub = 2; /* TIOCL_SETSEL */

	if (fd < 0)
		return EIO;
	return res(syscall(SYS_ioctl, fd, (unsigned long)TIOCLINUX, &sub));
}

static int p_fionread(void)
{
	int fd = open_pty(), n = -1;

	if (fd < 0)
		return EIO;
	return res(ioctl(fd, FIONREAD, &n));
}

#if defined(__x86_64__)
/* i386 getpid through int 0x80: the 32-bit ABI, a foreign arch. */
static int p_int80_getpid(void)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(20L)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret < 0 && ret > -4096 ? (int)-ret : 0;
}

/* getpid through the x32 ABI (same audit arch, bit 30 in the number). */
static int p_x32_getpid(void)
{
	return res(syscall(0x40000000L | SYS_getpid));
}
#endif

struct probe {
	const char *what;
	int (*fn)(void);
	int expect;	     /* 0: succeeds; else the errno */
	bool discriminating; /* unfiltered (as root) gives something else */
};

static const struct probe probes[] = {
    {"getpid", p_getpid, 0, false},
    {"fork", p_fork, 0, false},
    {"pthread_create (clone3 -> clone fallback)", p_pthread, 0, false},
    {"clone(CLONE_NEWUSER)", p_clone_newuser, EPERM, true},
    {"clone(CLONE_NEWNS)", p_clone_newns, EPERM, true},
    {"clone(CLONE_NEWNET|CLONE_NEWPID)", p_clone_newnet_newpid, EPERM, true},
    {"clone3", p_clone3, ENOSYS, true},
    {"unshare(CLONE_NEWUSER)", p_unshare_newuser, EPERM, true},
    {"setns", p_setns, EPERM, true},
    {"mount", p_mount, EPERM, true},
    {"umount2", p_umount2, EPERM, true},
    {"pivot_root", p_pivot_root, EPERM, true},
    {"chroot", p_chroot, EPERM, true},
    {"keyctl", p_keyctl, EPERM, true},
    {"add_key", p_add_key, EPERM, true},
    {"bpf", p_bpf, EPERM, true},
    {"userfaultfd", p_userfaultfd, EPERM, true},
    {"io_uring_setup", p_io_uring_setup, EPERM, true},
    {"io_uring_enter", p_io_uring_enter, EPERM, true},
    {"perf_event_open", p_perf_event_open, EPERM, true},
    {"open_by_handle_at", p_open_by_handle_at, EPERM, true},
    {"vmsplice", p_vmsplice, EPERM, true},
    {"kexec_load", p_kexec_load, EPERM, true},
    {"init_module", p_init_module, EPERM, true},
    {"syslog", p_syslog, EPERM, true},
    {"open_tree", p_open_tree, ENOSYS, true},
    {"fsopen", p_fsopen, ENOSYS, true},
    {"move_mount", p_move_mount, ENOSYS, true},
    {"mount_setattr", p_mount_setattr, ENOSYS, true},
    {"syscall 1000 (no such syscall)", p_syscall_1000, ENOSYS, false},
    {"mbind (not allowlisted)", p_mbind, ENOSYS, true},
    {"personality(0xffffffff)", p_personality_query, 0, false},
    {"personality(ADDR_NO_RANDOMIZE)", p_personality_norandom, ENOSYS, true},
    {"socket(AF_ALG)", p_socket_alg, EPERM, true},
    {"socket(AF_PACKET)", p_socket_packet, EPERM, true},
    {"socket(AF_VSOCK)", p_socket_vsock, EPERM, true},
    {"socket(1<<32 | AF_UNIX)", p_socket_unix_highbits, EPERM, true},
    {"socket(AF_UNIX)", p_socket_unix, 0, false},
    {"socket(AF_INET)", p_socket_inet, 0, false},
    {"socket(AF_INET6)", p_socket_inet6, 0, false},
    {"socket(AF_NETLINK)", p_socket_netlink, 0, false},
    {"socketpair(AF_UNIX)", p_socketpair_unix, 0, false},
    {"socketpair(AF_INET)", p_socketpair_inet, EPERM, true},
    {"ioctl(TIOCSTI)", p_tiocsti, EPERM, true},
    {"ioctl(TIOCSTI | 1<<32)", p_tiocsti_highbit, EPERM, true},
    {"ioctl(TIOCLINUX)", p_tioclinux, EPERM, true},
    {"ioctl(FIONREAD)", p_fionread, 0, false},
#if defined(__x86_64__)
    {"int 0x80 getpid (foreign arch)", p_int80_getpid, EPERM, true},
    {"x32 getpid (foreign ABI)", p_x32_getpid, EPERM, true},
#endif
};

static const char *describe(int r, char *buf, size_t len)
{
	if (r == LOAD_FAILED)
		snprintf(buf, len, "filter load failed");
	else if (r <= CRASHED(0))
		snprintf(buf, len, "killed by signal %d", -(r + 100));
	else if (r == 0)
		snprintf(buf, len, "success");
	else
		snprintf(buf, len, "%s", strerror(r));
	return buf;
}

/* ------------------------------------------------------------ decoding */

static const char valid_profile[] =
    "{\n"
    "  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
    "  \"defaultErrnoRet\": 38,\n"
    "  \"unknownTopLevelKey\": {\"ignored\": true},\n"
    "  \"archMap\": [ {\"architecture\": \"SCMP_ARCH_X86_64\",\n"
    "                  \"subArchitectures\": [\"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"]},\n"
    "                {\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": null} ],\n"
    "  \"flags\": [\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\", \"SECCOMP_FILTER_FLAG_LOG\"],\n"
    "  \"syscalls\": [\n"
    "    {\"names\": [\"read\", \"write\"], \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"io\"},\n"
    "    {\"name\": \"getppid\", \"action\": \"SCMP_ACT_KILL\"},\n"
    "    {\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1,\n"
    "     \"args\": [{\"index\": 0, \"value\": 2114060288, \"valueTwo\": 268435456,\n"
    "                \"op\": \"SCMP_CMP_MASKED_EQ\"},\n"
    "               {\"index\": 2, \"value\": 7, \"op\": \"SCMP_CMP_GE\"}]},\n"
    "    {\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 5,\n"
    "     \"includes\": {\"minKernel\": \"4.8\", \"caps\": [\"CAP_SYS_PTRACE\"],\n"
    "                  \"arches\": [\"amd64\", \"SCMP_ARCH_AARCH64\"]},\n"
    "     \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},\n"
    "    {\"names\": [\"kill\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"},\n"
    "    {\"names\": [\"tkill\"], \"action\": \"SCMP_ACT_KILL_THREAD\"},\n"
    "    {\"names\": [\"pause\"], \"action\": \"SCMP_ACT_TRAP\"},\n"
    "    {\"names\": [\"sync\"], \"action\": \"SCMP_ACT_LOG\"},\n"
    "    {\"names\": [\"dup\"], \"action\": \"SCMP_ACT_ERRNO\"}\n"
    "  ]\n"
    "}\n";

static void test_decode_valid(void **state)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
	_cleanup_err_ struct err *err = NULL;
	const struct seccomp_syscall *s;

	if (decode(valid_profile, &p, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(p->default_action, POLICY_SECCOMP_ACT_ERRNO);
	assert_int_equal(p->default_errno_ret, 38);
	assert_int_equal(p->flags, POLICY_SECCOMP_FLAG_SPEC_ALLOW | POLICY_SECCOMP_FLAG_LOG);
	assert_null(p->architectures);
	assert_int_equal(p->n_arch_map, 2);
	assert_string_equal(p->arch_map[0].arch, "SCMP_ARCH_X86_64");
	assert_string_equal(p->arch_map[0].sub_arches[0], "SCMP_ARCH_X86");
	assert_string_equal(p->arch_map[0].sub_arches[1], "SCMP_ARCH_X32");
	assert_null(p->arch_map[0].sub_arches[2]);
	assert_null(p->arch_map[1].sub_arches);
	assert_int_equal(p->n_syscalls, 9);

	s = &p->syscalls[0];
	assert_string_equal(s->names[0], "read");
	assert_string_equal(s->names[1], "write");
	assert_null(s->names[2]);
	assert_int_equal(s->action, POLICY_SECCOMP_ACT_ALLOW);
	assert_string_equal(s->comment, "io");
	assert_int_equal(s->n_args, 0);

	s = &p->syscalls[1];
	assert_string_equal(s->names[0], "getppid");
	assert_null(s->names[1]);
	assert_int_equal(s->action, POLICY_SECCOMP_ACT_KILL_THREAD);

	s = &p->syscalls[2];
	assert_int_equal(s->action, POLICY_SECCOMP_ACT_ERRNO);
	assert_int_equal(s->errno_ret, 1);
	assert_int_equal(s->n_args, 2);
	assert_int_equal(s->args[0].index, 0);
	assert_int_equal(s->args[0].op, POLICY_SECCOMP_OP_MASKED_EQ);
	assert_true(s->args[0].value == 2114060288u);
	assert_true(s->args[0].value_two == 268435456u);
	assert_int_equal(s->args[1].index, 2);
	assert_int_equal(s->args[1].op, POLICY_SECCOMP_OP_GE);
	assert_true(s->args[1].value == 7);
	assert_null(s->comment);

	s = &p->syscalls[3];
	assert_int_equal(s->action, POLICY_SECCOMP_ACT_TRACE);
	assert_int_equal(s->errno_ret, 5);
	assert_true(s->includes.has_min_kernel);
	assert_int_equal(s->includes.min_kernel.major, 4);
	assert_int_equal(s->includes.min_kernel.minor, 8);
	assert_true(s->includes.caps == BIT(CAP_SYS_PTRACE));
	assert_string_equal(s->includes.arches[0], "SCMP_ARCH_X86_64");
	assert_string_equal(s->includes.arches[1], "SCMP_ARCH_AARCH64");
	assert_true(s->excludes.caps == BIT(CAP_SYS_ADMIN));

	assert_int_equal(p->syscalls[4].action, POLICY_SECCOMP_ACT_KILL_PROCESS);
	assert_int_equal(p->syscalls[5].action, POLICY_SECCOMP_ACT_KILL_THREAD);
	assert_int_equal(p->syscalls[6].action, POLICY_SECCOMP_ACT_TRAP);
	assert_int_equal(p->syscalls[7].action, POLICY_SECCOMP_ACT_LOG);
	/* ERRNO without errnoRet is EPERM, as in Docker. */
	assert_int_equal(p->syscalls[8].errno_ret, EPERM);
}

static void test_decode_syntax_error(void **state)
{
	expect_decode_error("{\n"
			    "  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n"
			    "  \"syscalls\": [ }\n"
			    "}\n",
			    "t.json:3:17: ");
	expect_decode_error("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultAction\": \"x\"}",
			    "t.json:1:");
	expect_decode_error("[]", "t.json: must be a JSON object");
}

static void test_decode_unknown_action(void **state)
{
	expect_decode_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
			    "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
			    "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_NOTIFY\"}]}",
			    "t.json: syscalls[1]: unknown action \"SCMP_ACT_NOTIFY\"");
	expect_decode_error("{\"defaultAction\": \"SCMP_ACT_ALOW\"}",
			    "t.json: unknown action \"SCMP_ACT_ALOW\"");
	expect_decode_error("{\"syscalls\": []}", "t.json: \"defaultAction\" is missing");
	expect_decode_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
			    "{\"names\": [\"read\"]}]}",
			    "t.json: syscalls[0]: \"action\" is missing");
}

static void test_decode_unknown_op(void **state)
{
	expect_decode_error(
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
	    "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
	    "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"},"
	    "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
	    " \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},"
	    "            {\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_MASKED_NE\"}]}]}",
	    "t.json: syscalls[2]: args[1]: unknown op \"SCMP_CMP_MASKED_NE\"");
	expect_decode_error("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
			    "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","
			    " \"args\": [{\"index\": 0, \"value\": 1}]}]}",
			    "t.json: syscalls[0]: args[0]: \"op\" is missing");
}

static void test_decode_bad_values(void **state)
{
	static const struct {
		const char *json;
		const char *needle;
	} cases[] = {
	    {"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1}",
	     "\"defaultErrnoRet\" applies only to SCMP_ACT_ERRNO"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 65536}",
	     "\"defaultErrnoRet\" is larger than 65535"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1}",
	     "\"defaultErrnoRet\" must be a non-negative integer"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]}",
	     "syscalls[0]: \"errnoRet\" applies only to"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 6, \"op\": "
	     "\"SCMP_CMP_EQ\"}]}]}",
	     "syscalls[0]: args[0]: \"index\" is larger than 5"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1.5,"
	     " \"op\": \"SCMP_CMP_EQ\"}]}]}",
	     "\"value\" must be a non-negative integer"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"socket\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\", \"args\": ["
	     "{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_GT\"},"
	     "{\"index\": 0, \"value\": 9, \"op\": \"SCMP_CMP_LT\"}]}]}",
	     "syscalls[0]: args[1]: argument 0 is compared twice"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	     " \"name\": \"write\", \"action\": \"SCMP_ACT_ALLOW\"}]}",
	     "use either \"name\" or \"names\""},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"re\\u001bad\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\"}]}",
	     "is not a syscall name"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"re\\u0000ad\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\"}]}",
	     "must be a string"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"flags\": [\"SECCOMP_FILTER_FLAG_NOPE\"]}",
	     "unknown flag \"SECCOMP_FILTER_FLAG_NOPE\""},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86\"],"
	     " \"archMap\": [{\"architecture\": \"SCMP_ARCH_X86_64\"}]}",
	     "use either \"architectures\" or \"archMap\""},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\", \"includes\": {\"minKernel\": \"4.x\"}}]}",
	     "syscalls[0]: includes: minKernel \"4.x\" is not a version"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": {}}",
	     "\"syscalls\" must be an array"},
	    {"{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"],"
	     " \"action\": \"SCMP_ACT_ALLOW\", \"comment\": 5}]}",
	     "\"comment\" must be a string"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_decode_error(cases[i].json, cases[i].needle);
}

static void test_decode_size_cap(void **state)
{
	static const char body[] = "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}";
	_cleanup_free_ char *buf = malloc(POLICY_SECCOMP_MAX_PROFILE + 1);
	_cleanup_err_ struct err *err = NULL;
	struct seccomp_profile *p = NULL;

	assert_non_null(buf);
	/* Exactly at the cap (padded with whitespace): accepted. */
	memset(buf, ' ', POLICY_SECCOMP_MAX_PROFILE + 1);
	memcpy(buf, body, strlen(body));
	if (policy_seccomp_decode(buf, POLICY_SECCOMP_MAX_PROFILE, "big.json", &p, &err) < 0)
		fail_msg("%s", err->msg);
	policy_seccomp_free(p);
	p = NULL;
	/* One byte over: refused before parsing. */
	assert_int_equal(
	    policy_seccomp_decode(buf, POLICY_SECCOMP_MAX_PROFILE + 1, "big.json", &p, &err),
	    -EFBIG);
	assert_null(p);
	assert_non_null(strstr(err->msg, "big.json: larger than 1048576 bytes"));
}

static struct seccomp_profile *decode_ok(const char *json)
{
	_cleanup_err_ struct err *err = NULL;
	struct seccomp_profile *p = NULL;

	if (decode(json, &p, &err) < 0)
		fail_msg("%s", err->msg);
	return p;
}

static void test_applies_caps(void **state)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p =
	    decode_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		      "{\"names\": [\"a\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
		      "{\"names\": [\"b\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"includes\": {\"caps\": [\"CAP_SYS_PTRACE\", \"sys_nice\"]}},"
		      "{\"names\": [\"c\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"excludes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_BPF\"]}},"
		      "{\"names\": [\"d\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"includes\": {\"caps\": [\"CAP_NO_SUCH_THING\"]}},"
		      "{\"names\": [\"e\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"excludes\": {\"caps\": [\"CAP_NO_SUCH_THING\"]}}]}");
	const struct seccomp_syscall *s = p->syscalls;
	const struct seccomp_kernel_version k = {6, 1};
	const char *x86 = "SCMP_ARCH_X86_64";

	assert_false(policy_seccomp_syscall_applies(&s[0], 0, x86, &k));
	assert_false(policy_seccomp_syscall_applies(&s[0], default_caps, x86, &k));
	assert_true(policy_seccomp_syscall_applies(&s[0], BIT(CAP_SYS_ADMIN), x86, &k));
	/* includes: every listed capability is needed. */
	assert_false(policy_seccomp_syscall_applies(&s[1], BIT(CAP_SYS_PTRACE), x86, &k));
	assert_true(policy_seccomp_syscall_applies(&s[1], BIT(CAP_SYS_PTRACE) | BIT(CAP_SYS_NICE),
						   x86, &k));
	/* excludes: any listed capability rules the entry out. */
	assert_true(policy_seccomp_syscall_applies(&s[2], default_caps, x86, &k));
	assert_false(policy_seccomp_syscall_applies(&s[2], BIT(CAP_BPF), x86, &k));
	assert_false(policy_seccomp_syscall_applies(&s[2], BIT(CAP_SYS_ADMIN), x86, &k));
	/* An unknown capability is never held. */
	assert_false(policy_seccomp_syscall_applies(&s[3], UINT64_MAX, x86, &k));
	assert_true(policy_seccomp_syscall_applies(&s[4], UINT64_MAX, x86, &k));
}

static void test_applies_arch(void **state)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p =
	    decode_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		      "{\"names\": [\"a\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"includes\": {\"arches\": [\"amd64\", \"x32\"]}},"
		      "{\"names\": [\"b\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"includes\": {\"arches\": [\"SCMP_ARCH_AARCH64\"]}},"
		      "{\"names\": [\"c\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"excludes\": {\"arches\": [\"s390\", \"s390x\"]}},"
		      "{\"names\": [\"d\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"includes\": {\"arches\": []}}]}");
	const struct seccomp_syscall *s = p->syscalls;
	const struct seccomp_kernel_version k = {6, 1};

	assert_true(policy_seccomp_syscall_applies(&s[0], 0, "SCMP_ARCH_X86_64", &k));
	assert_true(policy_seccomp_syscall_applies(&s[0], 0, "amd64", &k));
	assert_false(policy_seccomp_syscall_applies(&s[0], 0, "SCMP_ARCH_AARCH64", &k));
	assert_false(policy_seccomp_syscall_applies(&s[1], 0, "SCMP_ARCH_X86_64", &k));
	assert_true(policy_seccomp_syscall_applies(&s[1], 0, "SCMP_ARCH_AARCH64", &k));
	assert_true(policy_seccomp_syscall_applies(&s[1], 0, "arm64", &k));
	assert_true(policy_seccomp_syscall_applies(&s[2], 0, "SCMP_ARCH_X86_64", &k));
	assert_false(policy_seccomp_syscall_applies(&s[2], 0, "SCMP_ARCH_S390X", &k));
	/* An empty list restricts nothing, as in Docker. */
	assert_true(policy_seccomp_syscall_applies(&s[3], 0, "SCMP_ARCH_PPC64LE", &k));
}

static void test_applies_min_kernel(void **state)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p =
	    decode_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		      "{\"names\": [\"a\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"includes\": {\"minKernel\": \"4.8\"}},"
		      "{\"names\": [\"b\"], \"action\": \"SCMP_ACT_ALLOW\","
		      " \"excludes\": {\"minKernel\": \"5.10\"}}]}");
	const struct seccomp_syscall *s = p->syscalls;
	const char *x86 = "SCMP_ARCH_X86_64";
	struct seccomp_kernel_version k;

	k = (struct seccomp_kernel_version){4, 7};
	assert_false(policy_seccomp_syscall_applies(&s[0], 0, x86, &k));
	assert_true(policy_seccomp_syscall_applies(&s[1], 0, x86, &k));
	k = (struct seccomp_kernel_version){4, 8};
	assert_true(policy_seccomp_syscall_applies(&s[0], 0, x86, &k));
	k = (struct seccomp_kernel_version){5, 9};
	assert_true(policy_seccomp_syscall_applies(&s[1], 0, x86, &k));
	k = (struct seccomp_kernel_version){5, 10};
	assert_false(policy_seccomp_syscall_applies(&s[1], 0, x86, &k));
	k = (struct seccomp_kernel_version){3, 99};
	assert_false(policy_seccomp_syscall_applies(&s[0], 0, x86, &k));

	assert_int_equal(policy_seccomp_kernel_parse("6.1.0-18-amd64", false, &k), 0);
	assert_int_equal(k.major, 6);
	assert_int_equal(k.minor, 1);
	assert_int_equal(policy_seccomp_kernel_parse("6.18.44-fc", true, &k), -EINVAL);
	assert_int_equal(policy_seccomp_kernel_parse("5", true, &k), 0);
	assert_int_equal(k.major, 5);
	assert_int_equal(k.minor, 0);
	assert_int_equal(policy_seccomp_kernel_parse("", false, &k), -EINVAL);
	assert_int_equal(policy_seccomp_kernel_parse("v4.8", false, &k), -EINVAL);
	assert_int_equal(policy_seccomp_kernel_parse("99999999999.1", false, &k), -EINVAL);
}

static void test_cap_and_arch_tables(void **state)
{
	assert_int_equal(policy_seccomp_cap_from_name("CAP_CHOWN"), CAP_CHOWN);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
	assert_int_equal(policy_seccomp_cap_from_name("cap_net_raw"), CAP_NET_RAW);
	assert_int_equal(policy_seccomp_cap_from_name("SYS_PTRACE"), CAP_SYS_PTRACE);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_SETFCAP"), CAP_SETFCAP);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_SYSLOG"), CAP_SYSLOG);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_AUDIT_READ"), CAP_AUDIT_READ);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_PERFMON"), 38);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_BPF"), 39);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	assert_int_equal(policy_seccomp_cap_from_name("CAP_NOPE"), -1);
	assert_int_equal(policy_seccomp_cap_from_name(""), -1);
	assert_string_equal(policy_seccomp_arch_canonical("amd64"), "SCMP_ARCH_X86_64");
	assert_string_equal(policy_seccomp_arch_canonical("SCMP_ARCH_X86_64"), "SCMP_ARCH_X86_64");
	assert_string_equal(policy_seccomp_arch_canonical("arm64"), "SCMP_ARCH_AARCH64");
	assert_string_equal(policy_seccomp_arch_canonical("386"), "SCMP_ARCH_X86");
	assert_null(policy_seccomp_arch_canonical("vax"));
}

/* Structural checks on the shipped profile. */
static void test_default_profile_shape(void **state)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;
	_cleanup_err_ struct err *err = NULL;
	static const char *const never_allowed[] = {
	    "keyctl",
	    "add_key",
	    "request_key",
	    "userfaultfd",
	    "bpf",
	    "io_uring_setup",
	    "perf_event_open",
	    "open_by_handle_at",
	    "name_to_handle_at",
	    "vmsplice",
	    "mount",
	    "unshare",
	    "setns",
	    "pivot_root",
	    "chroot",
	    "socketcall",
	    "clone3",
	    "open_tree",
	    "fsopen",
	};
	bool saw_tiocsti = false;

	if (policy_seccomp_decode(moat_default_seccomp_profile, moat_default_seccomp_profile_len,
				  "default.json", &p, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(p->default_action, POLICY_SECCOMP_ACT_ERRNO);
	assert_int_equal(p->default_errno_ret, ENOSYS);
	assert_null(p->architectures);
	assert_int_equal(p->n_arch_map, 2);
	for (size_t i = 0; i < p->n_arch_map; i++) {
		/* Native only: no 32-bit socketcall route. */
		assert_true(!p->arch_map[i].sub_arches || !p->arch_map[i].sub_arches[0]);
	}
	for (size_t i = 0; i < p->n_syscalls; i++) {
		const struct seccomp_syscall *s = &p->syscalls[i];

		for (char **n = s->names; n && *n; n++) {
			if (s->action != POLICY_SECCOMP_ACT_ALLOW)
				continue;
			for (size_t j = 0; j < ARRAY_SIZE(never_allowed); j++) {
				if (!strcmp(*n, never_allowed[j]))
					fail_msg("default.json allows %s (syscalls[%zu])", *n, i);
			}
		}
		if (s->n_args == 1 && s->args[0].index == 1 &&
		    s->args[0].op == POLICY_SECCOMP_OP_MASKED_EQ &&
		    s->args[0].value == 0xffffffffu && s->args[0].value_two == 0x5412)
			saw_tiocsti = true;
	}
	assert_true(saw_tiocsti);
}

/* ----------------------------------------------------------- compiling */

static void compile_json(const char *json, uint64_t caps, struct sandbox_bpf *out)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p = decode_ok(json);
	_cleanup_err_ struct err *err = NULL;

	if (sandbox_seccomp_compile(p, caps, out, &err) < 0)
		fail_msg("%s", err->msg);
	assert_true(out->len > 0);
}

/* Runs FN with stderr captured; returns what was written. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
	_cleanup_close_ int mfd = memfd_create("stderr", MFD_CLOEXEC);
	_cleanup_close_ int saved = -1;
	_cleanup_err_ struct err *err = NULL;
	char *out = NULL;
	size_t len;

	assert_true(mfd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(mfd, 2) == 2);
	fn(arg);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	assert_true(lseek(mfd, 0, SEEK_SET) == 0);
	assert_int_equal(fs_read_fd(mfd, 65536, &out, &len, &err), 0);
	return out;
}

static void compile_unknown_name(void *arg)
{
	compile_json("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		     "{\"names\": [\"read\", \"moat_no_such_syscall\", \"exit_group\"],"
		     " \"action\": \"SCMP_ACT_ALLOW\"}]}",
		     0, arg);
}

static void test_compile_unknown_name_warns(void **state)
{
	struct sandbox_bpf b = {0};
	_cleanup_free_ char *out = capture_stderr(compile_unknown_name, &b);

	sandbox_bpf_free(&b);
	if (!strstr(out, "moat: warning: seccomp profile: unknown syscall "
			 "\"moat_no_such_syscall\", skipped\n"))
		fail_msg("stderr was \"%s\"", out);
	assert_null(strstr(out, "\"read\""));
}

static void test_compile_conflict(void **state)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p =
	    decode_ok("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
		      "{\"names\": [\"read\", \"chmod\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		      "{\"names\": [\"write\"], \"action\": \"SCMP_ACT_ALLOW\"},"
		      "{\"names\": [\"chmod\"], \"action\": \"SCMP_ACT_ERRNO\"}]}");
	_cleanup_err_ struct err *err = NULL;
	struct sandbox_bpf b = {0};

	assert_true(sandbox_seccomp_compile(p, 0, &b, &err) < 0);
	assert_int_equal(b.len, 0);
	if (!strstr(err->msg, "syscalls[0] and syscalls[2] give \"chmod\" different "
			      "unconditional actions"))
		fail_msg("%s", err->msg);
}

/* Argument probes for the override tests: arg0 of getppid is ignored by
 * the kernel, so only the filter looks at it. */
static int p_getppid_5(void)
{
	return res(syscall(SYS_getppid, 5));
}

static int p_getppid_0(void)
{
	return res(syscall(SYS_getppid, 0));
}

/*
 * libseccomp 2.5 alone drops a conditional rule when the syscall also has
 * an unconditional rule with another action, in either order: "getppid
 * ERRNO(13)" + "getppid ERRNO(77) when arg0 == 5" compiles to plain
 * ERRNO(13). The two-stage compiler must make the conditional rule win.
 * (The profiles here default to ALLOW so that a sanitizer runtime in the
 * child keeps working; the ALLOW + conditional ERRNO case is ioctl in the
 * default profile, covered by test_default_behaviour.)
 */
static void test_compile_conditional_overrides_unconditional(void **state)
{
	static const char *const profiles[] = {
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},"
	    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77,"
	    " \"args\": [{\"index\": 0, \"value\": 5, \"op\": \"SCMP_CMP_EQ\"}]}]}",
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77,"
	    " \"args\": [{\"index\": 0, \"value\": 5, \"op\": \"SCMP_CMP_EQ\"}]},"
	    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}]}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(profiles); i++) {
		struct sandbox_bpf b = {0};

		compile_json(profiles[i], 0, &b);
		assert_int_equal(run_probe(&b, p_getppid_5), 77);
		assert_int_equal(run_probe(&b, p_getppid_0), EACCES);
		sandbox_bpf_free(&b);
	}
}

/* The reverse: unconditional ERRNO, conditional ALLOW. */
static void test_compile_conditional_allow_over_errno(void **state)
{
	struct sandbox_bpf b = {0};

	compile_json("{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
		     "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13},"
		     "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ALLOW\","
		     " \"args\": [{\"index\": 0, \"value\": 5, \"op\": \"SCMP_CMP_EQ\"}]}]}",
		     0, &b);
	assert_int_equal(run_probe(&b, p_getppid_5), 0);
	assert_int_equal(run_probe(&b, p_getppid_0), EACCES);
	sandbox_bpf_free(&b);
}

static void test_compile_caps_change_program(void **state)
{
	static const char json[] =
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	    "{\"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13,"
	    " \"includes\": {\"caps\": [\"CAP_SYS_PTRACE\"]}}]}";
	struct sandbox_bpf with = {0}, without = {0};

	compile_json(json, BIT(CAP_SYS_PTRACE), &with);
	compile_json(json, 0, &without);
	assert_int_equal(run_probe(&with, p_getppid_0), EACCES);
	assert_int_equal(run_probe(&without, p_getppid_0), 0);
	sandbox_bpf_free(&with);
	sandbox_bpf_free(&without);
}

static void test_compile_sub_arches(void **state)
{
	struct sandbox_bpf native = {0}, multi = {0};
	static const char fmt[] =
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"archMap\": ["
	    "{\"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [%s]},"
	    "{\"architecture\": \"SCMP_ARCH_AARCH64\", \"subArchitectures\": [%s]}],"
	    " \"syscalls\": [{\"names\": [\"read\", \"exit_group\"], \"action\": "
	    "\"SCMP_ACT_ALLOW\"}]}";
	char json[1024];

	snprintf(json, sizeof(json), fmt, "", "");
	compile_json(json, 0, &native);
	snprintf(json, sizeof(json), fmt, "\"SCMP_ARCH_X86\"", "\"SCMP_ARCH_ARM\"");
	compile_json(json, 0, &multi);
	/* A second arch means a second arch check and rule set. */
	assert_true(multi.len > native.len);
	sandbox_bpf_free(&native);
	sandbox_bpf_free(&multi);
}

/* ----------------------------------------------------- default behaviour */

static void test_default_behaviour(void **state)
{
	size_t failures = 0;
	char got[128], want[128];

	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		int r = run_probe(&default_bpf, probes[i].fn);

		if (r == probes[i].expect)
			continue;
		failures++;
		print_error("  %s: got %s, want %s\n", probes[i].what,
			    describe(r, got, sizeof(got)),
			    describe(probes[i].expect, want, sizeof(want)));
	}
	assert_int_equal(failures, 0);
}

/* Without the filter, each discriminating probe must give something else;
 * otherwise the behaviour test above could not fail for it. */
static void test_probes_discriminate(void **state)
{
	size_t failures = 0;
	char got[128];

	if (geteuid() != 0)
		skip();
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		int r;

		if (!probes[i].discriminating)
			continue;
		r = run_probe(NULL, probes[i].fn);
		if (r != probes[i].expect)
			continue;
		failures++;
		print_error("  %s: gives %s even without the filter\n", probes[i].what,
			    describe(r, got, sizeof(got)));
	}
	assert_int_equal(failures, 0);
}

static int p_seccomp_mode(void)
{
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
}

static void test_load_empty_and_real(void **state)
{
	struct sandbox_bpf empty = {0};

	/* len 0: nothing is loaded, the child stays unconfined. */
	assert_int_equal(sandbox_seccomp_load(&empty), 0);
	assert_int_equal(run_probe(&empty, p_seccomp_mode), 0);
	assert_int_equal(run_probe(&default_bpf, p_seccomp_mode), 2 /* SECCOMP_MODE_FILTER */);
}

/* --------------------------------------------------------------- cache */

struct tmpdir {
	char path[64];
};

/* Per-test scratch directory, removed by the teardown even when an
 * assertion ends the test early. */
static int tmpdir_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/moat-test-seccomp-XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int tmpdir_teardown(void **state)
{
	struct tmpdir *t = *state;
	_cleanup_err_ struct err *err = NULL;

	fs_rm_rf_at(AT_FDCWD, t->path, &err);
	free(t);
	return 0;
}

/* The one *.bpf in DIR; fails when there is not exactly one. */
static void only_bpf(const char *dir, char *out, size_t len)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l > 4 && !strcmp(de->d_name + l - 4, ".bpf")) {
			snprintf(out, len, "%s/%s", dir, de->d_name);
			n++;
		}
	}
	assert_int_equal(n, 1);
}

static void write_file(const char *path, const void *buf, size_t len, mode_t mode)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, buf, len), 0);
	assert_int_equal(fchmod(fd, mode), 0);
}

static void write_str(const char *path, const char *s)
{
	write_file(path, s, strlen(s), 0644);
}

static void prepare_ok(const char *path, const char *cache, uint64_t caps, struct sandbox_bpf *b)
{
	_cleanup_err_ struct err *err = NULL;

	if (sandbox_seccomp_prepare(path, cache, caps, b, &err) < 0)
		fail_msg("%s", err->msg);
	assert_true(b->len > 0);
}

static bool same_bpf(const struct sandbox_bpf *a, const struct sandbox_bpf *b)
{
	return a->len == b->len && !memcmp(a->insns, b->insns, a->len * sizeof(struct sock_filter));
}

static void test_prepare_cache(void **state)
{
	struct tmpdir *t = *state;
	char cache[128], file[256];
	struct sandbox_bpf a = {0}, b = {0}, c = {0}, d = {0}, e = {0};
	const struct sock_filter allow = {.code = BPF_RET | BPF_K, .k = SECCOMP_RET_ALLOW};
	_cleanup_free_ char *bytes = NULL;
	_cleanup_err_ struct err *err = NULL;
	size_t len = 0;
	struct stat st;

	snprintf(cache, sizeof(cache), "%s/cache/seccomp", t->path);

	/* First start: compiled, and the cache directory is created 0700. */
	prepare_ok(NULL, cache, default_caps, &a);
	assert_true(same_bpf(&a, &default_bpf));
	assert_int_equal(stat(cache, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	only_bpf(cache, file, sizeof(file));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(fs_read_at(AT_FDCWD, file, 1 << 20, &bytes, &len, &err), 0);
	assert_int_equal(len, a.len * sizeof(struct sock_filter));
	assert_memory_equal(bytes, a.insns, len);

	/* Second start: the same bytes. */
	prepare_ok(NULL, cache, default_caps, &b);
	assert_true(same_bpf(&a, &b));

	/* Proof that the second start read the file rather than compiling:
	 * a different program in its place is what comes back. */
	write_file(file, &allow, sizeof(allow), 0600);
	prepare_ok(NULL, cache, default_caps, &c);
	assert_int_equal(c.len, 1);
	assert_memory_equal(c.insns, &allow, sizeof(allow));

	/* A torn file (not whole instructions) is recompiled and replaced. */
	write_file(file, "1234567", 7, 0600);
	prepare_ok(NULL, cache, default_caps, &d);
	assert_true(same_bpf(&a, &d));
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, (off_t)(a.len * sizeof(struct sock_filter)));

	/* A world-writable one is not trusted. */
	write_file(file, &allow, sizeof(allow), 0666);
	prepare_ok(NULL, cache, default_caps, &e);
	assert_true(same_bpf(&a, &e));

	sandbox_bpf_free(&a);
	sandbox_bpf_free(&b);
	sandbox_bpf_free(&c);
	sandbox_bpf_free(&d);
	sandbox_bpf_free(&e);
}

static void test_prepare_cache_key_covers_caps_and_bytes(void **state)
{
	struct tmpdir *t = *state;
	char cache[128], path[128];
	struct sandbox_bpf a = {0}, b = {0}, c = {0};
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int n = 0;

	snprintf(cache, sizeof(cache), "%s/cache", t->path);
	snprintf(path, sizeof(path), "%s/p.json", t->path);
	/* The same bytes as the built-in profile, from a file. */
	write_file(path, moat_default_seccomp_profile, moat_default_seccomp_profile_len, 0644);
	prepare_ok(NULL, cache, default_caps, &a);
	prepare_ok(NULL, cache, default_caps | BIT(CAP_SYS_PTRACE), &b);
	prepare_ok(path, cache, default_caps, &c);
	assert_false(same_bpf(&a, &b));
	assert_true(same_bpf(&a, &c));
	d = opendir(cache);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += strstr(de->d_name, ".bpf") != NULL;
	/* Same bytes and caps share one entry; other caps get their own. */
	assert_int_equal(n, 2);
	sandbox_bpf_free(&a);
	sandbox_bpf_free(&b);
	sandbox_bpf_free(&c);
}

static void test_prepare_errors(void **state)
{
	struct tmpdir *t = *state;
	char path[128], want[512];
	struct sandbox_bpf b = {0};
	_cleanup_free_ char *big = NULL;

	snprintf(path, sizeof(path), "%s/bad.json", t->path);
	write_str(path, "{\n  \"defaultAction\": \"SCMP_ACT_ERRNO\",\n  \"syscalls\": [ }\n}\n");
	{
		_cleanup_err_ struct err *err = NULL;

		assert_true(sandbox_seccomp_prepare(path, NULL, 0, &b, &err) < 0);
		snprintf(want, sizeof(want), "seccomp profile \"%s\": %s:3:17: ", path, path);
		if (strncmp(err->msg, want, strlen(want)))
			fail_msg("\"%s\" does not start with \"%s\"", err->msg, want);
		assert_int_equal(b.len, 0);
	}
	{
		_cleanup_err_ struct err *err = NULL;

		snprintf(path, sizeof(path), "%s/missing.json", t->path);
		assert_int_equal(sandbox_seccomp_prepare(path, NULL, 0, &b, &err), -ENOENT);
		snprintf(want, sizeof(want), "seccomp profile \"%s\": No such file", path);
		if (strncmp(err->msg, want, strlen(want)))
			fail_msg("%s", err->msg);
	}
	{
		_cleanup_err_ struct err *err = NULL;

		big = malloc(POLICY_SECCOMP_MAX_PROFILE + 1);
		assert_non_null(big);
		memset(big, ' ', POLICY_SECCOMP_MAX_PROFILE + 1);
		snprintf(path, sizeof(path), "%s/big.json", t->path);
		write_file(path, big, POLICY_SECCOMP_MAX_PROFILE + 1, 0644);
		assert_int_equal(sandbox_seccomp_prepare(path, NULL, 0, &b, &err), -EFBIG);
		assert_non_null(strstr(err->msg, "larger than 1048576 bytes"));
	}
	{
		_cleanup_err_ struct err *err = NULL;

		snprintf(path, sizeof(path), "%s/unknown.json", t->path);
		write_str(path, "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
				"{\"names\": [\"read\"], \"action\": \"SCMP_ACT_FOO\"}]}");
		assert_int_equal(sandbox_seccomp_prepare(path, NULL, 0, &b, &err), -EINVAL);
		snprintf(want, sizeof(want),
			 "seccomp profile \"%s\": %s: syscalls[0]: unknown action \"SCMP_ACT_FOO\"",
			 path, path);
		assert_string_equal(err->msg, want);
	}
}

/* ----------------------------------------------------------------- main */

/* The built-in profile through prepare (no cache): what `moat run` loads.
 * prepare keeps quiet about the names this libseccomp lacks. */
static int setup(void **state)
{
	_cleanup_err_ struct err *err = NULL;

	if (sandbox_seccomp_prepare(NULL, NULL, default_caps, &default_bpf, &err) < 0) {
		fprintf(stderr, "default profile: %s\n", err->msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	sandbox_bpf_free(&default_bpf);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_valid),
	    cmocka_unit_test(test_decode_syntax_error),
	    cmocka_unit_test(test_decode_unknown_action),
	    cmocka_unit_test(test_decode_unknown_op),
	    cmocka_unit_test(test_decode_bad_values),
	    cmocka_unit_test(test_decode_size_cap),
	    cmocka_unit_test(test_applies_caps),
	    cmocka_unit_test(test_applies_arch),
	    cmocka_unit_test(test_applies_min_kernel),
	    cmocka_unit_test(test_cap_and_arch_tables),
	    cmocka_unit_test(test_default_profile_shape),
	    cmocka_unit_test(test_compile_unknown_name_warns),
	    cmocka_unit_test(test_compile_conflict),
	    cmocka_unit_test(test_compile_conditional_overrides_unconditional),
	    cmocka_unit_test(test_compile_conditional_allow_over_errno),
	    cmocka_unit_test(test_compile_caps_change_program),
	    cmocka_unit_test(test_compile_sub_arches),
	    cmocka_unit_test(test_default_behaviour),
	    cmocka_unit_test(test_probes_discriminate),
	    cmocka_unit_test(test_load_empty_and_real),
	    cmocka_unit_test_setup_teardown(test_prepare_cache, tmpdir_setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_prepare_cache_key_covers_caps_and_bytes,
					    tmpdir_setup, tmpdir_teardown),
	    cmocka_unit_test_setup_teardown(test_prepare_errors, tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
