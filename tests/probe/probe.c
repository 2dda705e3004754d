/*
 * tests/probe/probe.c - the in-container probe.
 *
 * Runs in: a moat container (copied into the test image at /probe), and on
 * the host as the attacker or as a control.  Built static (-static -O2
 * -Wall -Wextra -Werror) so it runs in a busybox rootfs with no libc.
 *
 * What it is for: the bats suites ask it what the sandbox really did, the
 * way amicontained and runtime-tools' runtimetest do.  Every forbidden
 * operation is tried for real and reported as one line
 *
 *     NAME expected=ERRNO[|ERRNO...] actual=ERRNO|OK ok|FAIL
 *
 * so a test can show both that the protection holds (default run) and that
 * the same operation works without it (seccomp=unconfined, landlock=off, on
 * the host): a probe that could not fail would prove nothing.
 *
 * Invariants:
 *  - every operation runs in a forked child, so namespaces it unshares,
 *    keyrings it touches or a seccomp kill stay in that child;
 *  - the child's result pipe lives at a high fd (PIPE_FD), so the fd scans
 *    (3..64) see only what the sandbox leaked, never the probe's own pipe;
 *  - nothing here writes to a host file unless a test asks for it by name
 *    (`write`, `exe-write`); "success" of a dangerous operation is detected
 *    and reported, never exploited further (e.g. release_agent is never
 *    written, TIOCSTI only targets a pty the probe itself created).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>

/* Syscall numbers glibc 2.36 may lack; the new ones are the same on every
 * architecture since 5.1 (the unified table starting at 424). */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef TIOCLINUX
#define TIOCLINUX 0x541C
#endif
#define OPEN_TREE_CLOEXEC_ O_CLOEXEC
#define FSOPEN_CLOEXEC_ 0x1
#define UFFD_USER_MODE_ONLY_ 1
#define KEYCTL_GET_KEYRING_ID_ 0
#define KEY_SPEC_SESSION_KEYRING_ (-3)
#define LANDLOCK_CREATE_RULESET_VERSION_ (1U << 0)
/* A number no architecture assigns (the tables end below 470). */
#define UNKNOWN_SYSCALL 1000

/* Where an operation's child keeps its result pipe: above the 3..64 scan. */
#define PIPE_FD 1000

#define RES_MAX 128

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static void res_set(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void res_set(char *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, RES_MAX, fmt, ap);
	va_end(ap);
}

/* "OK" for rc >= 0 (closing a returned fd), else the errno's name. */
static void res_rc(char *out, long rc, bool is_fd)
{
	int e = errno;
	if (rc >= 0) {
		if (is_fd)
			close((int)rc);
		res_set(out, "OK");
	} else {
		res_set(out, "%s", ename(e));
	}
}

static char *read_small(const char *path, size_t *len)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* The value of "Field:" in /proc/self/status, whitespace-trimmed. */
static bool status_field(const char *field, char *out, size_t outlen)
{
	char *s = read_small("/proc/self/status", NULL);
	size_t fl = strlen(field);
	if (!s)
		return false;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			char *v = line + fl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			snprintf(out, outlen, "%s", v);
			return true;
		}
	}
	return false;
}

/* ---- process helpers ---- */

/* Reaps a raw clone/clone3 child that only _exit()s. */
static void reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
		;
}

/*
 * A pty the probe owns, made its controlling terminal in a new session.
 * TIOCSTI needs the target to be the caller's ctty (or CAP_SYS_ADMIN in the
 * initial namespace), so this is the only place an injection can succeed
 * when nothing else stops it; it injects into nothing but itself.
 * Returns the slave fd, or -1 (callers then ioctl fd -1: a seccomp filter
 * still answers EPERM before the kernel's EBADF).
 */
static int own_ctty(void)
{
	char name[64];
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
		return -1;
	setsid();
	int s = open(name, O_RDWR | O_CLOEXEC);
	if (s < 0)
		return -1;
	ioctl(s, TIOCSCTTY, 0);
	/* keep m open: closing the master hangs the slave up */
	return s;
}

/* ---- the operations ---- */

typedef void (*op_fn)(char *out, const char *arg);

static void op_socket(char *out, const char *arg)
{
	int fam = atoi(arg);
	int type = fam == AF_PACKET ? SOCK_RAW : fam == AF_ALG ? SOCK_SEQPACKET : SOCK_STREAM;
	if (fam == AF_NETLINK)
		type = SOCK_RAW;
	res_rc(out, socket(fam, type | SOCK_CLOEXEC, 0), true);
}

#ifdef __x86_64__
/* A 32-bit system call through the compat entry (int $0x80): a filter that
 * only checks the native syscall numbers lets these through. */
static long int80(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "0"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret;
}

static void int80_res(char *out, long ret)
{
	int r = (int)ret;
	if (r >= 0) {
		close(r);
		res_set(out, "OK");
	} else {
		res_set(out, "%s", ename(-r));
	}
}

static void op_socketcall32(char *out, const char *arg)
{
	(void)arg;
	/* socketcall(SYS_SOCKET, args) with the args array below 4 GiB */
	uint32_t *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	if (a == MAP_FAILED) {
		res_set(out, "MMAP-%s", ename(errno));
		return;
	}
	a[0] = AF_ALG;
	a[1] = SOCK_SEQPACKET;
	a[2] = 0;
	int80_res(out, int80(102 /* i386 socketcall */, 1 /* SYS_SOCKET */, (long)(uintptr_t)a, 0));
}

static void op_socket32(char *out, const char *arg)
{
	(void)arg;
	int80_res(out, int80(359 /* i386 socket */, AF_ALG, SOCK_SEQPACKET, 0));
}
#endif

static void op_tiocsti(char *out, const char *arg)
{
	int fd = own_ctty();
	char c = '#';
	unsigned long cmd = TIOCSTI;
	if (arg && strcmp(arg, "highbit") == 0)
		cmd |= 1UL << 32; /* the kernel truncates cmd to 32 bits */
	res_rc(out, syscall(SYS_ioctl, fd, cmd, &c), false);
}

static void op_tioclinux(char *out, const char *arg)
{
	(void)arg;
	int fd = own_ctty();
	char sub = 6; /* TIOCL_GETSHIFTSTATE: read-only even where it works */
	res_rc(out, ioctl(fd, TIOCLINUX, &sub), false);
}

static void op_keyctl(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID_, KEY_SPEC_SESSION_KEYRING_, 0),
	       false);
}

static void op_add_key(char *out, const char *arg)
{
	(void)arg;
	/* NULL type: EFAULT from the kernel, so nothing is ever added */
	res_rc(out, syscall(SYS_add_key, NULL, NULL, NULL, 0, KEY_SPEC_SESSION_KEYRING_), false);
}

static void op_request_key(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_request_key, NULL, NULL, NULL, 0), false);
}

static void op_bpf(char *out, const char *arg)
{
	(void)arg;
	char attr[128] = {0}; /* BPF_MAP_CREATE with a zero attr: EINVAL when allowed */
	res_rc(out, syscall(SYS_bpf, 0, attr, sizeof(attr)), true);
}

static void op_userfaultfd(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY_), true);
}

static void op_io_uring(char *out, const char *arg)
{
	(void)arg;
	struct io_uring_params p;
	memset(&p, 0, sizeof(p));
	res_rc(out, syscall(SYS_io_uring_setup, 1, &p), true);
}

static void op_perf(char *out, const char *arg)
{
	(void)arg;
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	res_rc(out, syscall(SYS_perf_event_open, &a, 0, -1, -1, 0), true);
}

static void op_open_by_handle_at(char *out, const char *arg)
{
	(void)arg;
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[8];
	} fh = {8, 1, {0}};
	int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	res_rc(out, syscall(SYS_open_by_handle_at, dfd, &fh, O_RDONLY), true);
}

static void op_kexec_load(char *out, const char *arg)
{
	(void)arg;
	/* An undefined flag bit: EINVAL right after the permission check, so
	 * even as host root nothing is loaded or unloaded. */
	res_rc(out, syscall(SYS_kexec_load, 0, 0, NULL, 0x4000UL), false);
}

static void op_init_module(char *out, const char *arg)
{
	(void)arg;
	/* zero-length image: ENOEXEC after the permission check */
	res_rc(out, syscall(SYS_init_module, NULL, 0, ""), false);
}

static void op_unshare(char *out, const char *arg)
{
	res_rc(out, unshare((int)strtol(arg, NULL, 0)), false);
}

static void op_clone_flags(char *out, const char *arg)
{
	long flags = strtol(arg, NULL, 0) | SIGCHLD;
	long r = syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
	if (r == 0)
		_exit(0);
	if (r > 0)
		reap((pid_t)r);
	res_rc(out, r, false);
}

static void op_clone3(char *out, const char *arg)
{
	(void)arg;
	struct {
		uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	} ca;
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	long r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0)
		_exit(0);
	if (r > 0)
		reap((pid_t)r);
	res_rc(out, r, false);
}

static const char *mount_target(void)
{
	struct stat st;
	if (stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode))
		return "/tmp";
	return "/";
}

static void op_mount(char *out, const char *arg)
{
	(void)arg;
	/* A private mount namespace first when we may make one (on the host),
	 * so that a mount which succeeds dies with this child. */
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	res_rc(out, mount("probe", mount_target(), "tmpfs", 0, NULL), false);
}

/*
 * CVE-2022-0492: `unshare -UrmC; mount -t cgroup -o rdma cgroup /mnt`, then
 * write release_agent.  Verdict on the first step that fails; the agent is
 * never written.  Mounts made in a less privileged namespace do not
 * propagate back (mount_namespaces(7)), so a success stays here.
 */
static void op_cgroup_v1(char *out, const char *arg)
{
	(void)arg;
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP) < 0) {
		res_set(out, "%s", ename(errno));
		return;
	}
	res_rc(out, mount("cgroup", mount_target(), "cgroup", 0, "rdma"), false);
}

static void op_open_tree(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLOEXEC_), true);
}

static void op_fsopen(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC_), true);
}

static void op_fsmount(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_fsmount, -1, 0, 0), true);
}

static void op_move_mount(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_move_mount, -1, "", -1, "", 0), false);
}

static void op_mount_setattr(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(SYS_mount_setattr, -1, "", 0, NULL, 0), false);
}

static void op_unknown_syscall(char *out, const char *arg)
{
	(void)arg;
	res_rc(out, syscall(UNKNOWN_SYSCALL, 0, 0, 0, 0, 0), false);
}

/* CVE-2024-21626: a cwd through a leaked fd must never be possible. */
static void op_cwd_fd(char *out, const char *arg)
{
	for (int n = 3; n <= 64; n++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%s/fd/%d", arg ? arg : "self", n);
		if (chdir(p) == 0) {
			res_set(out, "OK@%d", n);
			return;
		}
		if (errno == EACCES) { /* /proc/PID/fd out of reach: as good */
			res_set(out, "EACCES");
			return;
		}
		if (errno != ENOENT && errno != EBADF) {
			res_set(out, "%s@%d", ename(errno), n);
			return;
		}
	}
	res_set(out, "ENOENT");
}

/* A masked path reads empty: a file gives 0 bytes, a directory no entries. */
static void op_masked(char *out, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		res_set(out, "%s", ename(errno));
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		int n = 0;
		if (!d) {
			res_set(out, "%s", ename(errno));
			return;
		}
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				n++;
		closedir(d);
		if (n)
			res_set(out, "ENTRIES:%d", n);
		else
			res_set(out, "EMPTY");
		return;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[4096];
	if (fd < 0) {
		res_set(out, "%s", ename(errno));
		return;
	}
	ssize_t r = read(fd, buf, sizeof(buf));
	if (r < 0)
		res_set(out, "%s", ename(errno));
	else if (r == 0)
		res_set(out, "EMPTY");
	else
		res_set(out, "DATA:%zd", r);
	close(fd);
}

/* A read-only path: the mount holding it carries ST_RDONLY. */
static void op_ro_mount(char *out, const char *path)
{
	struct statvfs sv;
	if (statvfs(path, &sv) < 0)
		res_set(out, "%s", ename(errno));
	else if (sv.f_flag & ST_RDONLY)
		res_set(out, "EROFS");
	else
		res_set(out, "OK");
}

/*
 * Opening for write with O_TRUNC: for a regular file the kernel asks the
 * mount for write access before the permission check, so a read-only bind
 * answers EROFS where a merely unprivileged caller would see EACCES.
 * Nothing is ever written, and truncation of a proc/sysfs attribute is a
 * no-op.
 */
static void op_open_trunc(char *out, const char *path)
{
	res_rc(out, open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), true);
}

static void op_sys_kernel_write(char *out, const char *arg)
{
	(void)arg;
	static const char *const cands[] = {"/sys/kernel/uevent_helper",
					    "/sys/kernel/mm/transparent_hugepage/enabled",
					    "/sys/kernel/profiling", NULL};
	for (int i = 0; cands[i]; i++) {
		if (access(cands[i], F_OK) == 0) {
			op_open_trunc(out, cands[i]);
			return;
		}
	}
	res_set(out, "NOFILE");
}

static void op_cap_zero(char *out, const char *field)
{
	char v[64];
	if (!status_field(field, v, sizeof(v)))
		res_set(out, "NOFIELD");
	else if (strtoull(v, NULL, 16) == 0)
		res_set(out, "0");
	else
		res_set(out, "%s", v);
}

/* Landlock: a new file directly in /dev (a tmpfs the sandbox made). */
static void op_create(char *out, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink(path);
		res_set(out, "OK");
	} else {
		res_set(out, "%s", ename(errno));
	}
}

static void op_ioctl_tcgets(char *out, const char *arg)
{
	(void)arg;
	struct termios t;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	res_rc(out, ioctl(fd, TCGETS, &t), false);
}

static void op_fork(char *out, const char *arg)
{
	(void)arg;
	pid_t p = fork();
	if (p == 0)
		_exit(0);
	if (p > 0)
		reap(p);
	res_rc(out, p, false);
}

static void op_landlock_abi(char *out, const char *arg)
{
	(void)arg;
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION_);
	if (v < 0)
		res_set(out, "%s", ename(errno));
	else
		res_set(out, "%ld", v);
}

enum group { G_DENY, G_ALLOW, G_EXTRA };

struct op {
	const char *name;
	const char *expected; /* accepted results, '|'-separated */
	op_fn fn;
	const char *arg;
	enum group group;
};

#define STR_(x) #x
#define STR(x) STR_(x)

static const struct op ops[] = {
    /* seccomp: socket families nobody needs and the kernel's worst */
    {"socket-af-alg", "EPERM", op_socket, STR(AF_ALG), G_DENY},
    {"socket-af-packet", "EPERM", op_socket, STR(AF_PACKET), G_DENY},
    {"socket-af-vsock", "EPERM", op_socket, STR(AF_VSOCK), G_DENY},
#ifdef __x86_64__
    /* SIGSEGV would mean the kernel has no 32-bit entry at all */
    {"socketcall32-af-alg", "EPERM|SIGSEGV", op_socketcall32, NULL, G_DENY},
    {"socket32-af-alg", "EPERM|ENOSYS|SIGSEGV", op_socket32, NULL, G_DENY},
#endif
    /* seccomp: terminal injection, including the high-bit bypass */
    {"tiocsti", "EPERM", op_tiocsti, "", G_DENY},
    {"tiocsti-highbit", "EPERM", op_tiocsti, "highbit", G_DENY},
    {"tioclinux", "EPERM", op_tioclinux, NULL, G_DENY},
    /* seccomp: un-namespaced or LPE-prone kernel surfaces */
    {"keyctl", "EPERM", op_keyctl, NULL, G_DENY},
    {"add-key", "EPERM", op_add_key, NULL, G_DENY},
    {"request-key", "EPERM", op_request_key, NULL, G_DENY},
    {"bpf", "EPERM", op_bpf, NULL, G_DENY},
    {"userfaultfd", "EPERM", op_userfaultfd, NULL, G_DENY},
    {"io-uring-setup", "EPERM", op_io_uring, NULL, G_DENY},
    {"perf-event-open", "EPERM", op_perf, NULL, G_DENY},
    {"open-by-handle-at", "EPERM", op_open_by_handle_at, NULL, G_DENY},
    {"kexec-load", "EPERM", op_kexec_load, NULL, G_DENY},
    {"init-module", "EPERM", op_init_module, NULL, G_DENY},
    /* seccomp: nested user namespaces and mounts */
    {"unshare-user", "EPERM", op_unshare, STR(CLONE_NEWUSER), G_DENY},
    {"clone-newuser", "EPERM", op_clone_flags, STR(CLONE_NEWUSER), G_DENY},
    {"mount", "EPERM", op_mount, NULL, G_DENY},
    {"cgroup-v1-mount", "EPERM", op_cgroup_v1, NULL, G_DENY},
    /* seccomp: ENOSYS so libc falls back (clone3) or the call looks absent */
    {"clone3", "ENOSYS", op_clone3, NULL, G_DENY},
    {"open-tree", "ENOSYS", op_open_tree, NULL, G_DENY},
    {"fsopen", "ENOSYS", op_fsopen, NULL, G_DENY},
    {"fsmount", "ENOSYS", op_fsmount, NULL, G_DENY},
    {"move-mount", "ENOSYS", op_move_mount, NULL, G_DENY},
    {"mount-setattr", "ENOSYS", op_mount_setattr, NULL, G_DENY},
    {"unknown-syscall", "ENOSYS", op_unknown_syscall, NULL, G_DENY},
    /* fds */
    {"cwd-proc-self-fd", "ENOENT|EBADF", op_cwd_fd, NULL, G_DENY},
    /* masked paths (absent on this kernel is fine) */
    {"masked:/proc/acpi", "EMPTY|ENOENT", op_masked, "/proc/acpi", G_DENY},
    {"masked:/proc/asound", "EMPTY|ENOENT", op_masked, "/proc/asound", G_DENY},
    {"masked:/proc/interrupts", "EMPTY|ENOENT", op_masked, "/proc/interrupts", G_DENY},
    {"masked:/proc/kcore", "EMPTY|ENOENT", op_masked, "/proc/kcore", G_DENY},
    {"masked:/proc/keys", "EMPTY|ENOENT", op_masked, "/proc/keys", G_DENY},
    {"masked:/proc/latency_stats", "EMPTY|ENOENT", op_masked, "/proc/latency_stats", G_DENY},
    {"masked:/proc/sched_debug", "EMPTY|ENOENT", op_masked, "/proc/sched_debug", G_DENY},
    {"masked:/proc/scsi", "EMPTY|ENOENT", op_masked, "/proc/scsi", G_DENY},
    {"masked:/proc/timer_list", "EMPTY|ENOENT", op_masked, "/proc/timer_list", G_DENY},
    {"masked:/proc/timer_stats", "EMPTY|ENOENT", op_masked, "/proc/timer_stats", G_DENY},
    {"masked:/sys/firmware", "EMPTY|ENOENT", op_masked, "/sys/firmware", G_DENY},
    {"masked:/sys/devices/virtual/powercap", "EMPTY|ENOENT", op_masked,
     "/sys/devices/virtual/powercap", G_DENY},
    /* read-only paths */
    {"ro:/proc/bus", "EROFS|ENOENT", op_ro_mount, "/proc/bus", G_DENY},
    {"ro:/proc/fs", "EROFS|ENOENT", op_ro_mount, "/proc/fs", G_DENY},
    {"ro:/proc/irq", "EROFS|ENOENT", op_ro_mount, "/proc/irq", G_DENY},
    {"ro:/proc/sys", "EROFS", op_ro_mount, "/proc/sys", G_DENY},
    {"ro:/proc/sysrq-trigger", "EROFS|ENOENT", op_ro_mount, "/proc/sysrq-trigger", G_DENY},
    {"ro:/sys", "EROFS", op_ro_mount, "/sys", G_DENY},
    {"write-proc-sys-hostname", "EROFS", op_open_trunc, "/proc/sys/kernel/hostname", G_DENY},
    {"write-sysrq-trigger", "EROFS|ENOENT", op_open_trunc, "/proc/sysrq-trigger", G_DENY},
    {"write-sys-kernel", "EROFS", op_sys_kernel_write, NULL, G_DENY},
    /* capabilities that must never be inheritable */
    {"cap-inh", "0", op_cap_zero, "CapInh", G_DENY},
    {"cap-amb", "0", op_cap_zero, "CapAmb", G_DENY},

    /* what a working container needs: a filter that denies everything
	 * would pass `deny`, so `allow` keeps it honest */
    {"socket-af-unix", "OK", op_socket, STR(AF_UNIX), G_ALLOW},
    {"socket-af-inet", "OK", op_socket, STR(AF_INET), G_ALLOW},
    {"socket-af-netlink", "OK", op_socket, STR(AF_NETLINK), G_ALLOW},
    {"fork", "OK", op_fork, NULL, G_ALLOW},
    {"clone-plain", "OK", op_clone_flags, "0", G_ALLOW},
    {"ioctl-tcgets", "ENOTTY", op_ioctl_tcgets, NULL, G_ALLOW},
    {"devshm-create", "OK", op_create, "/dev/shm/.probe-shm", G_ALLOW},

    /* named by tests only */
    {"dev-create", "EACCES", op_create, "/dev/.probe-x", G_EXTRA},
    {"landlock-abi", "ANY", op_landlock_abi, NULL, G_EXTRA},
};

#define N_OPS (sizeof(ops) / sizeof(ops[0]))

static bool result_accepted(const char *expected, const char *actual)
{
	size_t al = strlen(actual);
	if (strcmp(expected, "ANY") == 0)
		return true;
	for (const char *p = expected; *p;) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == al && strncmp(p, actual, l) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

/* Runs OP in a forked child; fills ACTUAL (a signal name if it died). */
static void run_isolated(const struct op *op, char *actual)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		res_set(actual, "PIPE-%s", ename(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		res_set(actual, "FORK-%s", ename(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0) {
		char out[RES_MAX] = "NORESULT";
		close(p[0]);
		if (fcntl(p[1], F_DUPFD_CLOEXEC, PIPE_FD) != PIPE_FD) /* lowest free >= PIPE_FD */
			_exit(99);
		close(p[1]);
		op->fn(out, op->arg);
		if (write(PIPE_FD, out, strlen(out)) < 0)
			_exit(98);
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	for (;;) {
		ssize_t r = read(p[0], actual + n, RES_MAX - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(p[0]);
	actual[n] = '\0';
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n == 0) {
		if (WIFSIGNALED(st))
			res_set(actual, "SIG%s", sigabbrev_np(WTERMSIG(st)) ?: "?");
		else
			res_set(actual, "EXIT%d", WEXITSTATUS(st));
	}
}

static bool run_line(const struct op *op)
{
	char actual[RES_MAX];
	run_isolated(op, actual);
	bool ok = result_accepted(op->expected, actual);
	printf("%s expected=%s actual=%s %s\n", op->name, op->expected, actual, ok ? "ok" : "FAIL");
	fflush(stdout);
	return ok;
}

static int cmd_group(enum group g)
{
	bool all = true;
	for (size_t i = 0; i < N_OPS; i++)
		if (ops[i].group == g && ops[i].fn)
			all &= run_line(&ops[i]);
	return all ? 0 : 1;
}

/* `probe try NAME`: exit 0 if the operation SUCCEEDED, 1 if it did not. */
static int cmd_try(const char *name)
{
	for (size_t i = 0; i < N_OPS; i++) {
		if (strcmp(ops[i].name, name) == 0 && ops[i].fn) {
			char actual[RES_MAX];
			run_isolated(&ops[i], actual);
			bool ok = result_accepted(ops[i].expected, actual);
			printf("%s expected=%s actual=%s %s\n", ops[i].name, ops[i].expected,
			       actual, ok ? "ok" : "FAIL");
			return strcmp(actual, "OK") == 0 ? 0 : 1;
		}
	}
	fprintf(stderr, "probe: no operation named %s\n", name);
	return 2;
}

static int cmd_list(void)
{
	static const char *const gname[] = {"deny", "allow", "extra"};
	for (size_t i = 0; i < N_OPS; i++)
		if (ops[i].fn)
			printf("%s %s expected=%s\n", gname[ops[i].group], ops[i].name,
			       ops[i].expected);
	return 0;
}

/* ---- status ---- */

/* Open fds of this process, without the directory stream doing the scan. */
static void print_fds(const char *label, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int fds[1024], n = 0;
	bool self = strcmp(dir, "/proc/self/fd") == 0;
	printf("%s:", label);
	if (!d) {
		printf(" %s\n", ename(errno));
		return;
	}
	while ((e = readdir(d)) && n < 1024) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		if (self && fd == dirfd(d))
			continue;
		fds[n++] = fd;
	}
	closedir(d);
	for (int i = 1; i < n; i++) /* insertion sort: readdir order is not numeric */
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	for (int i = 0; i < n; i++)
		printf(" %d", fds[i]);
	printf("\n");
}

static void print_map(const char *label, const char *path)
{
	char *s = read_small(path, NULL);
	if (!s) {
		printf("%s: %s\n", label, ename(errno));
		return;
	}
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long a, b, c;
		if (sscanf(line, "%lu %lu %lu", &a, &b, &c) == 3)
			printf("%s: %lu %lu %lu\n", label, a, b, c);
	}
}

static const char *landlock_state(void)
{
	static char buf[64];
	const char *p = "/dev/.probe-landlock";
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink(p);
		return "not-enforced";
	}
	if (errno == EACCES)
		return "enforced";
	snprintf(buf, sizeof(buf), "unknown (%s)", ename(errno));
	return buf;
}

static int cmd_status(void)
{
	static const char *const fields[] = {"NoNewPrivs", "Seccomp", "CapInh", "CapPrm",
					     "CapEff",	   "CapBnd",  "CapAmb", "Uid",
					     "Gid",	   "Groups",  NULL};
	static const char *const nss[] = {"user", "mnt",    "pid", "ipc",
					  "uts",  "cgroup", "net", NULL};
	char v[256];
	for (int i = 0; fields[i]; i++) {
		if (status_field(fields[i], v, sizeof(v)))
			printf("%s: %s\n", fields[i], v);
		else
			printf("%s: missing\n", fields[i]);
	}
	print_map("uid_map", "/proc/self/uid_map");
	print_map("gid_map", "/proc/self/gid_map");
	printf("Landlock: %s\n", landlock_state());
	print_fds("fds", "/proc/self/fd");
	printf("pid: %d\n", (int)getpid());
	if (gethostname(v, sizeof(v)) == 0)
		printf("hostname: %s\n", v);
	if (getcwd(v, sizeof(v)))
		printf("cwd: %s\n", v);
	for (int i = 0; nss[i]; i++) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/ns/%s", nss[i]);
		ssize_t l = readlink(p, v, sizeof(v) - 1);
		v[l < 0 ? 0 : l] = '\0';
		printf("ns.%s: %s\n", nss[i], l < 0 ? ename(errno) : v);
	}
	char *mi = read_small("/proc/self/mountinfo", NULL);
	if (mi)
		for (char *line = strtok(mi, "\n"); line; line = strtok(NULL, "\n"))
			printf("mountinfo: %s\n", line);
	return 0;
}

/* ---- single-purpose commands ---- */

static int cmd_fds(void)
{
	print_fds("fds", "/proc/self/fd");
	if (getpid() != 1)
		print_fds("pid1-fds", "/proc/1/fd");
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int extra = 0;
	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d))
			extra++;
	closedir(d);
	return extra ? 1 : 0;
}

/* `probe cwd-fd [PID]`: /proc/PID/fd/N for N 3..64 is never a usable cwd
 * (EACCES: /proc/PID/fd itself is out of reach, which is as good). */
static int cmd_cwd_fd(const char *pid)
{
	char name[64];
	snprintf(name, sizeof(name), "cwd-proc-%s-fd", pid ? pid : "self");
	const struct op op = {name, pid ? "ENOENT|EBADF|EACCES" : "ENOENT|EBADF", op_cwd_fd, pid,
			      G_DENY};
	return run_line(&op) ? 0 : 1;
}

static int cmd_ptrace(const char *pidstr)
{
	pid_t pid = (pid_t)atoi(pidstr);
	if (ptrace(PTRACE_ATTACH, pid, NULL, NULL) < 0) {
		printf("ptrace %d %s\n", (int)pid, ename(errno));
		return 1;
	}
	int st;
	waitpid(pid, &st, __WALL);
	ptrace(PTRACE_DETACH, pid, NULL, NULL);
	printf("ptrace %d OK\n", (int)pid);
	return 0;
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	size_t l = strlen(name);
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (l > sizeof(a->sun_path) - 1)
		l = sizeof(a->sun_path) - 1;
	memcpy(a->sun_path + 1, name, l); /* sun_path[0] = '\0': abstract */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + l);
}

static int cmd_abstract_connect(const char *name)
{
	struct sockaddr_un a;
	socklen_t l = abstract_addr(&a, name);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, l) < 0) {
		printf("abstract-connect @%s %s\n", name, ename(errno));
		return 1;
	}
	char buf[64];
	ssize_t r = read(s, buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = '\0';
	printf("abstract-connect @%s OK %s\n", name, buf);
	return 0;
}

/* Listens on @NAME for SECONDS, answering "hello" to each client. */
static int cmd_abstract_listen(const char *name, const char *secs)
{
	struct sockaddr_un a;
	socklen_t l = abstract_addr(&a, name);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, l) < 0 || listen(s, 8) < 0) {
		printf("abstract-listen @%s %s\n", name, ename(errno));
		return 1;
	}
	printf("abstract-listen @%s listening\n", name);
	fflush(stdout);
	alarm((unsigned)atoi(secs)); /* SIGALRM interrupts accept(): see main */
	for (;;) {
		int c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			break;
		ssize_t w = write(c, "hello", 5);
		(void)w; /* a client that went away is not our problem */
		close(c);
		printf("abstract-listen @%s accepted\n", name);
		fflush(stdout);
	}
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* TIOCSTI on an fd the probe was given (fd 0 by default). */
static int cmd_tiocsti(const char *fdstr)
{
	int fd = fdstr ? atoi(fdstr) : 0;
	char c = '#';
	int r = ioctl(fd, TIOCSTI, &c);
	int e = errno;
	printf("tiocsti-fd%d expected=EPERM actual=%s %s\n", fd, r == 0 ? "OK" : ename(e),
	       r == 0	    ? "FAIL"
	       : e == EPERM ? "ok"
			    : "FAIL");
	return r == 0 ? 0 : 1;
}

static int cmd_tty(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		char n[128];
		bool t = isatty(fd);
		if (t && ttyname_r(fd, n, sizeof(n)) == 0)
			printf("fd%d: tty %s\n", fd, n);
		else
			printf("fd%d: %s\n", fd, t ? "tty ?" : "not-a-tty");
	}
	pid_t tsid = 0;
	if (ioctl(0, TIOCGSID, &tsid) == 0)
		printf("ctty: %s\n", tsid == getsid(0) ? "yes" : "other-session");
	else
		printf("ctty: no (%s)\n", ename(errno));
	struct stat st;
	if (stat("/dev/console", &st) == 0)
		printf("console: %u:%u\n", major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

/*
 * CVE-2019-5736: for SECONDS, keep opening every /proc/N/exe (moat's own
 * binary shows up there if any moat process is visible) and, as the exploit
 * does, reopen it for writing through the O_PATH fd once it may have
 * exited.  On success a marker is written, so the host's hash check sees it.
 */
static int cmd_exe_write(const char *secs)
{
	time_t end = time(NULL) + (secs ? atoi(secs) : 2);
	int attempts = 0, wrote = 0;
	do {
		DIR *d = opendir("/proc");
		struct dirent *e;
		if (!d)
			break;
		while ((e = readdir(d))) {
			char p[300], q[64];
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			snprintf(p, sizeof(p), "/proc/%s/exe", e->d_name);
			int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd < 0) {
				int o = open(p, O_PATH | O_CLOEXEC);
				if (o < 0)
					continue;
				snprintf(q, sizeof(q), "/proc/self/fd/%d", o);
				fd = open(q, O_WRONLY | O_CLOEXEC);
				close(o);
			}
			attempts++;
			if (fd >= 0) {
				if (pwrite(fd, "PROBE!!!", 8, 0) == 8)
					wrote++;
				printf("exe-write %s OPENED-FOR-WRITE\n", p);
				close(fd);
			}
		}
		closedir(d);
	} while (time(NULL) < end && !wrote);
	printf("exe-write attempts=%d wrote=%d %s\n", attempts, wrote, wrote ? "FAIL" : "ok");
	return wrote ? 1 : 0;
}

/*
 * --init check: an orphaned grandchild that exits is reaped by PID 1 only
 * if PID 1 is a real init.  Prints the number of zombies left.
 */
static int cmd_zombies(void)
{
	pid_t c = fork();
	if (c == 0) {
		if (fork() == 0)
			_exit(0); /* the grandchild: reparented to PID 1 */
		_exit(0);
	}
	reap(c);
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int z = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char p[300];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", e->d_name);
		char *s = read_small(p, NULL);
		char *rp = s ? strrchr(s, ')') : NULL;
		if (rp && rp[1] == ' ' && rp[2] == 'Z')
			z++;
	}
	if (d)
		closedir(d);
	printf("zombies: %d\n", z);
	return z ? 1 : 0;
}

static int cmd_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "probe\n", 6) != 6) {
		printf("write %s %s\n", path, ename(errno));
		return 1;
	}
	close(fd);
	printf("write %s OK\n", path);
	return 0;
}

/* Opens an existing file for writing and writes nothing. */
static int cmd_open_write(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("open-write %s %s\n", path, ename(errno));
		return 1;
	}
	close(fd);
	printf("open-write %s OK\n", path);
	return 0;
}

static int cmd_read(const char *path)
{
	size_t n = 0;
	if (!read_small(path, &n)) {
		printf("read %s %s\n", path, ename(errno));
		return 1;
	}
	printf("read %s bytes=%zu\n", path, n);
	return 0;
}

static int cmd_signal(const char *pid, const char *sig)
{
	if (kill((pid_t)atoi(pid), sig ? atoi(sig) : 0) < 0) {
		printf("signal %s %s\n", pid, ename(errno));
		return 1;
	}
	printf("signal %s OK\n", pid);
	return 0;
}

static int cmd_sleep(const char *secs)
{
	double s = secs ? strtod(secs, NULL) : 1;
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

static int cmd_cwd(void)
{
	char b[PATH_MAX];
	if (!getcwd(b, sizeof(b))) {
		printf("cwd: %s\n", ename(errno));
		return 1;
	}
	printf("cwd: %s\n", b);
	/* a cwd outside the root: getcwd's "(unreachable)" prefix */
	return strncmp(b, "(unreachable)", 13) == 0 ? 1 : 0;
}

static int cmd_readlink(const char *path)
{
	char b[PATH_MAX];
	ssize_t l = readlink(path, b, sizeof(b) - 1);
	if (l < 0) {
		printf("readlink %s %s\n", path, ename(errno));
		return 1;
	}
	b[l] = '\0';
	printf("readlink %s OK %s\n", path, b);
	return 0;
}

/*
 * `probe noptrace CMD...`: CMD with CAP_SYS_PTRACE cleared from the
 * effective set only.  For root this is "the same user, minus the power to
 * override dumpability": ptrace_may_access() then refuses a non-dumpable
 * target, while a dumpable root process stays reachable (the capability
 * subset check uses the permitted set, which is left whole).  It must be
 * done in-process: execve would give root its effective set back.
 */
static void drop_ptrace_effective(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return;
	d[CAP_SYS_PTRACE / 32].effective &= ~(1U << (CAP_SYS_PTRACE % 32));
	if (syscall(SYS_capset, &h, d) < 0)
		fprintf(stderr, "probe: capset: %s\n", ename(errno));
}

static void usage(void)
{
	fputs("usage: probe status | deny | allow | list | try NAME | fds | cwd-fd | cwd\n"
	      "       | ptrace PID | abstract-connect NAME | abstract-listen NAME SECONDS\n"
	      "       | tiocsti [FD] | tty | exe-write [SECONDS] | zombies | write PATH\n"
	      "       | open-write PATH | read PATH | signal PID [SIG] | sleep SECONDS\n"
	      "       | exit N | pid | readlink PATH | noptrace CMD...\n",
	      stderr);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	const char *a2 = argc > 2 ? argv[2] : NULL;
	const char *a3 = argc > 3 ? argv[3] : NULL;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* interrupt accept() without killing us */
	sigaction(SIGALRM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!strcmp(cmd, "noptrace") && argc > 2) {
		drop_ptrace_effective();
		return main(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "status"))
		return cmd_status();
	if (!strcmp(cmd, "deny"))
		return cmd_group(G_DENY);
	if (!strcmp(cmd, "allow"))
		return cmd_group(G_ALLOW);
	if (!strcmp(cmd, "list"))
		return cmd_list();
	if (!strcmp(cmd, "try") && a2)
		return cmd_try(a2);
	if (!strcmp(cmd, "fds"))
		return cmd_fds();
	if (!strcmp(cmd, "cwd-fd"))
		return cmd_cwd_fd(a2);
	if (!strcmp(cmd, "cwd"))
		return cmd_cwd();
	if (!strcmp(cmd, "ptrace") && a2)
		return cmd_ptrace(a2);
	if (!strcmp(cmd, "abstract-connect") && a2)
		return cmd_abstract_connect(a2);
	if (!strcmp(cmd, "abstract-listen") && a2)
		return cmd_abstract_listen(a2, a3 ? a3 : "10");
	if (!strcmp(cmd, "tiocsti"))
		return cmd_tiocsti(a2);
	if (!strcmp(cmd, "tty"))
		return cmd_tty();
	if (!strcmp(cmd, "exe-write"))
		return cmd_exe_write(a2);
	if (!strcmp(cmd, "zombies"))
		return cmd_zombies();
	if (!strcmp(cmd, "write") && a2)
		return cmd_write(a2);
	if (!strcmp(cmd, "open-write") && a2)
		return cmd_open_write(a2);
	if (!strcmp(cmd, "read") && a2)
		return cmd_read(a2);
	if (!strcmp(cmd, "readlink") && a2)
		return cmd_readlink(a2);
	if (!strcmp(cmd, "signal") && a2)
		return cmd_signal(a2, a3);
	if (!strcmp(cmd, "sleep"))
		return cmd_sleep(a2);
	if (!strcmp(cmd, "exit") && a2)
		return atoi(a2);
	if (!strcmp(cmd, "pid")) {
		printf("pid: %d\n", (int)getpid());
		return 0;
	}
	usage();
	return 2;
}
