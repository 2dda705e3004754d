/*
 * image/layer_confine.c - the child that layer extraction runs in: its own
 * network namespace, Landlock rules, capabilities and seccomp filter, and
 * the fixed-size message it reports back through.
 *
 * Runs in: the caller of image_layer_extract (root for IMAGE_IDS_SHIFT,
 * the invoking user otherwise), which forks; and in that child, which
 * confines itself (confine(), one step per line) and then parses the
 * untrusted blob.
 *
 * What a hostile blob that takes over the child (a bug in libarchive,
 * zlib, libzstd or image/layer.c) is left with:
 *  - writes, creations and removals beneath the layer directory only: the
 *    tree it is building, which it controls anyway (Landlock). Nothing
 *    may be read, listed or executed elsewhere; blob and directory were
 *    opened by the parent and are used through their fds;
 *  - no network: a new network namespace holds only a down loopback, and
 *    socket(2) is refused (seccomp) as are TCP bind/connect (Landlock ABI
 *    >= 4);
 *  - no execve, no new processes or threads, no ptrace, no signals to
 *    others (seccomp; Landlock scopes from ABI 6), no executable mappings,
 *    no device nodes but the 0/0 whiteout (mknodat dev must be 0);
 *  - capabilities CHOWN, DAC_OVERRIDE, FOWNER, FSETID and SETFCAP only
 *    (what SHIFT-mode extraction as root needs), bounding set to match;
 *  - fds: only the blob, the layer dir, stderr and its result pipe; stdin
 *    and stdout are /dev/null. Inherited fds (other threads' sockets, the
 *    store lock, the audit log) are closed before the blob is read;
 *  - its one message to the parent: a fixed-size struct whose code must be
 *    an errno and whose strings are cut at their size; the DiffID it
 *    reports is checked again by image_layer_extract.
 * Not covered: the child is a copy of the parent's memory (fork without
 * exec), so whatever the parent held (e.g. registry credentials) is
 * readable by a compromised child, which could write it into the layer
 * tree. Re-executing moat for the child would close that (see the report
 * in layer.c's history).
 *
 * Why fork() without exec is safe although pull's download threads may be
 * running: the child is single-threaded and runs only moat's code,
 * libarchive, zlib/libzstd and glibc. glibc's fork() takes malloc's arena
 * locks and the stdio list lock around the fork and resets them (and every
 * FILE lock) in the child, so malloc and stdio work there. The locks the
 * other threads do use (libcurl's, OpenSSL's, the pull pool's mutex) are
 * never touched by the child. libarchive is loaded (dlopen) by the parent
 * before the fork, so the child never takes the loader's locks, and
 * SHA-256 is moat's own (common/digest.c), not OpenSSL's. This is the
 * approach userns_run() already took for rootless extraction.
 */
#include "image/layer_confine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "image/archive.h"
#include "policy/seccomp_profile.h"
#include "sandbox/landlock.h"
#include "sandbox/seccomp.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/*
 * The child's seccomp profile, in Docker's format so that the decoder and
 * compiler the containers use (policy/seccomp_profile.c, sandbox/seccomp.c)
 * build it. The list is what `strace -f` shows image/layer.c (and fs.c's
 * rm_tree, for entries that replace directories) calling on tar, gzip and
 * zstd layers in every id mode with glibc 2.36, plus fchmodat2 (newer
 * glibc's fchmodat with AT_SYMLINK_NOFOLLOW) and sigaltstack (ASan's
 * runtime aborts without it, so `make unit-asan` needs it; it only moves
 * the thread's signal stack). Calls not listed fail with
 * ENOSYS, as under the container profile, so a newer libc falls back to an
 * older call instead of failing; the calls an attacker wants first fail
 * with EPERM by name. mmap/mprotect may not ask for PROT_EXEC (4);
 * mknodat only for device 0 (FIFOs and the 0/0 whiteout).
 */
static const char profile[] =
    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,"
    " \"syscalls\": ["
    "  {\"action\": \"SCMP_ACT_ALLOW\", \"names\": ["
    "   \"read\", \"write\", \"pread64\", \"pwrite64\", \"lseek\", \"close\", \"fcntl\","
    "   \"fstat\", \"newfstatat\", \"statx\", \"openat\", \"getdents64\", \"mkdirat\","
    "   \"symlinkat\", \"linkat\", \"unlinkat\", \"fchown\", \"fchownat\", \"fchmod\","
    "   \"fchmodat\", \"fchmodat2\", \"chmod\", \"utimensat\", \"ftruncate\", \"fsetxattr\","
    "   \"munmap\", \"mremap\", \"brk\", \"madvise\", \"futex\", \"getrandom\","
    "   \"rt_sigreturn\", \"rt_sigprocmask\", \"exit\", \"exit_group\", \"getpid\","
    "   \"gettid\", \"clock_gettime\", \"sched_yield\", \"sigaltstack\"]},"
    "  {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"mmap\", \"mprotect\"],"
    "   \"args\": [{\"index\": 2, \"value\": 4, \"valueTwo\": 0,"
    "              \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
    "  {\"action\": \"SCMP_ACT_ALLOW\", \"names\": [\"mknodat\"],"
    "   \"args\": [{\"index\": 3, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]},"
    "  {\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1, \"names\": ["
    "   \"execve\", \"execveat\", \"socket\", \"socketpair\", \"connect\", \"bind\","
    "   \"listen\", \"sendto\", \"sendmsg\", \"ptrace\", \"process_vm_readv\","
    "   \"process_vm_writev\", \"clone\", \"clone3\", \"fork\", \"vfork\", \"unshare\","
    "   \"setns\", \"mount\", \"umount2\", \"open_tree\", \"move_mount\", \"fsopen\","
    "   \"fsmount\", \"kill\", \"tkill\", \"tgkill\", \"ioctl\", \"prctl\", \"bpf\","
    "   \"perf_event_open\", \"io_uring_setup\", \"userfaultfd\", \"keyctl\","
    "   \"add_key\", \"request_key\", \"memfd_create\", \"open\", \"openat2\"]}"
    " ]}";

/* Compiled in the parent (it allocates and may print); loaded by the
 * child with one system call. */
static int compile_filter(struct sandbox_bpf *out, struct err **err)
{
	_cleanup_seccomp_profile_ struct seccomp_profile *p = NULL;

	if (policy_seccomp_decode(profile, sizeof(profile) - 1, "extraction profile", &p, err) <
		0 ||
	    sandbox_seccomp_compile(p, 0, out, err) < 0)
		return err_prefix(err, "layer extraction: seccomp");
	return 0;
}

struct child {
	const struct image_idmode *mode;
	bool userns; /* a new user namespace first (see image_confine_run) */
	int blobfd, dirfd, wfd, syncfd;
	pid_t parent;
	const struct sandbox_bpf *bpf;
	image_confine_fn fn;
	void *arg;
};

static bool kept(const int *keep, size_t n, int fd)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* Closes [LO, HI] (HI ~0U: to the end). */
static int close_span(unsigned int lo, unsigned int hi)
{
	struct rlimit rl;

	if (lo > hi || close_range(lo, hi, 0) == 0)
		return 0;
	/* Before Linux 5.9: one by one, up to the fd limit. */
	if (errno != ENOSYS || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	for (unsigned int fd = lo; fd <= hi && fd < rl.rlim_cur; fd++)
		close((int)fd);
	return 0;
}

/* Closes every fd from 3 up but those in KEEP (N entries, -1 ignored),
 * and points 0 and 1 at /dev/null unless they are kept. */
static int close_others(const int *keep, size_t n)
{
	unsigned int lo = 3;
	int r, null;

	for (;;) {
		int next = -1;

		/* The smallest kept fd at or above LO. */
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0)
			break;
		if (next > (int)lo && (r = close_span(lo, (unsigned int)next - 1)) < 0)
			return r;
		lo = (unsigned int)next + 1;
	}
	if ((r = close_span(lo, ~0U)) < 0)
		return r;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	for (int fd = 0; fd < 2; fd++) {
		if (!kept(keep, n, fd) && fd != null && dup2(null, fd) < 0) {
			r = -errno;
			close(null);
			return r;
		}
	}
	/* NULL landed on a free 0, 1 or 2, or above every kept fd. */
	if (null > 2)
		close(null);
	return 0;
}

/* Landlock: write and list beneath DIRFD; nothing else anywhere. */
static int landlock_beneath(int dirfd, struct err **err)
{
	struct {
		uint64_t fs, net, scoped;
	} attr = {0};
	struct landlock_path_beneath_attr pb = {0};
	int abi = sandbox_landlock_abi(), ruleset, r = 0;
	size_t size = sizeof(uint64_t);

	/* ABI 1 refuses every cross-directory hard link, which layers use;
	 * such kernels (5.13-5.18) rely on seccomp and the namespace. */
	if (abi < 2)
		return 0;
	attr.fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
		  LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
		  LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		  LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
		  LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
		  LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		  LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		attr.fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		attr.fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	if (abi >= 4) {
		attr.net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		size = 3 * sizeof(uint64_t);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return err_errno(err, errno, "Landlock ruleset");
	/* Not READ_FILE: extraction opens files write-only; MAKE_CHAR is
	 * for whiteouts (seccomp limits mknodat to device 0). */
	pb.allowed_access = attr.fs & (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
				       LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
				       LANDLOCK_ACCESS_FS_REMOVE_FILE |
				       LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
				       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_FIFO |
				       LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER);
	pb.parent_fd = dirfd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		r = err_errno(err, errno, "Landlock rule for the layer directory");
	else if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		r = err_errno(err, errno, "Landlock restrict");
	close(ruleset);
	return r;
}

/* Keeps only what extraction uses, in every set (the raw capset call:
 * libcap-ng's process-wide state may carry the parent's pid). */
static int keep_caps(struct err **err)
{
	static const int keep[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID,
				   CAP_SETFCAP};
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[2] = {0}, want[2] = {0};

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		want[keep[i] / 32].permitted |= 1u << (keep[i] % 32);
	/* Past CAP_LAST_CAP too: a newer kernel's capabilities. */
	for (int c = 0; c < 64; c++) {
		if (!(want[c / 32].permitted & (1u << (c % 32))) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return err_errno(err, errno, "drop capability %d from the bounding set", c);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return err_errno(err, errno, "clear ambient capabilities");
	if (syscall(SYS_capget, &h, d) < 0)
		return err_errno(err, errno, "capget");
	for (int i = 0; i < 2; i++) {
		d[i].permitted &= want[i].permitted;
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d) < 0)
		return err_errno(err, errno, "capset");
	return 0;
}

/* Handlers are the parent's (a test framework's, a signal-reporting
 * CLI's): a fault in the parser must kill the child, not run them. */
static void default_signals(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old;
	sigset_t none;

	for (int s = 1; s < NSIG; s++) {
		if (sigaction(s, NULL, &old) == 0 && old.sa_handler != SIG_DFL &&
		    old.sa_handler != SIG_IGN)
			sigaction(s, &dfl, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The whole confinement, in order. Each step is needed by the next or
 * forbidden after it; see the comments.
 */
static int confine(struct child *c, struct err **err)
{
	int keep[] = {c->blobfd, c->dirfd, c->wfd, c->syncfd};
	char b = 0;
	int r;

	/* Dies with the thread that forked it; if that already happened
	 * (the parent's pid changed), stop now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != c->parent)
		return err_set(err, ESRCH, "the parent went away");
	default_signals();
	/* 1. fds: before anything reads the blob, drop what other threads had
	 * open (sockets, locks, logs). /dev/null is opened while we still may. */
	if ((r = close_others(keep, sizeof(keep) / sizeof(keep[0]))) < 0)
		return err_errno(err, -r, "close inherited fds");
	/* 2. A user namespace, when we are not root (the network namespace
	 * needs CAP_SYS_ADMIN over it) or the layer is extracted in the
	 * subuid range. The parent writes the maps (newuidmap is setuid; we
	 * may not exec), then releases us. */
	if (c->userns) {
		if (unshare(CLONE_NEWUSER) < 0)
			return err_errno(err, errno, "new user namespace");
		if (write(c->syncfd, &b, 1) != 1 || read(c->syncfd, &b, 1) != 1 || b != 1)
			return err_set(err, EPERM, "the user namespace maps were not written");
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return err_errno(err, errno, "become root in the user namespace");
	}
	if (c->syncfd >= 0)
		close(c->syncfd);
	/* 3. No network: a namespace with only a loopback that is down. */
	if (unshare(CLONE_NEWNET) < 0)
		return err_errno(err, errno, "new network namespace");
	/* 4. Capabilities: CAP_SYS_ADMIN was needed up to here. */
	if (keep_caps(err) < 0)
		return err_ret(*err);
	/* 5. no_new_privs: Landlock and seccomp require it of a process
	 * without CAP_SYS_ADMIN, which we no longer have. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return err_errno(err, errno, "no_new_privs");
	/* 6. Landlock: its own system calls are not in the seccomp list. */
	if (landlock_beneath(c->dirfd, err) < 0)
		return err_ret(*err);
	/* 7. The name says "confined" (ps, the escape test): set last but
	 * for seccomp, which forbids prctl. */
	prctl(PR_SET_NAME, IMAGE_CONFINE_COMM, 0, 0, 0);
	/* 8. seccomp last. */
	if ((r = sandbox_seccomp_load(c->bpf)) < 0)
		return err_errno(err, -r, "load the seccomp filter");
	return 0;
}

static _Noreturn void child_main(struct child *c)
{
	struct image_confine_msg m = {.magic = IMAGE_CONFINE_MAGIC};
	struct err *err = NULL;
	int r = confine(c, &err);

	if (r < 0)
		err_prefix(&err, "layer extraction: confine");
	else
		r = c->fn(c->arg, &m.st, &err);
	if (r < 0) {
		m.code = err && err->code > 0 ? err->code : EIO;
		snprintf(m.msg, sizeof(m.msg), "%s", err ? err->msg : "layer extraction failed");
		memset(&m.st, 0, sizeof(m.st));
	}
	/* No cleanup: _exit, and the address space goes. */
	_exit(fs_write_all(c->wfd, &m, sizeof(m)) < 0 ? 1 : 0);
}

/* The parent's side of the user namespace hand-shake. 0 also when the
 * child stopped before it (its own message then says why). */
static int write_maps(pid_t pid, const struct image_idmode *mode, int syncfd, struct err **err)
{
	struct idmap u = {0, geteuid(), 1}, g = {0, getegid(), 1};
	char b = 0;
	ssize_t n;
	int r;

	while ((n = read(syncfd, &b, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return 0;
	if (mode->kind == IMAGE_IDS_USERNS)
		r = userns_write_maps(pid, mode->userns, mode->uid, mode->n_uid, mode->gid,
				      mode->n_gid, err);
	else
		r = userns_write_maps(pid, SANDBOX_USERNS_SINGLE, &u, 1, &g, 1, err);
	if (r < 0)
		return err_prefix(err, "layer extraction: user namespace");
	b = 1;
	if (write(syncfd, &b, 1) != 1)
		return err_errno(err, errno, "layer extraction: release the child");
	return 0;
}

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int image_confine_run(const struct image_idmode *mode, int blobfd, int dirfd, image_confine_fn fn,
		      void *arg, struct image_layer_stats *st, struct err **err)
{
	struct sandbox_bpf bpf = {0};
	struct child c = {.mode = mode, .blobfd = blobfd, .dirfd = dirfd, .fn = fn, .arg = arg};
	int pfd[2] = {-1, -1}, sv[2] = {-1, -1};
	pid_t pid;
	int r = 0;

	/* Loaded here, never in the child: no dlopen once confined. */
	if (image_archive_load(err) < 0)
		return err_ret(*err);
	if (compile_filter(&bpf, err) < 0)
		return err_ret(*err);
	c.bpf = &bpf;
	c.userns = mode->kind == IMAGE_IDS_USERNS || geteuid() != 0;
	c.parent = getpid();
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = err_errno(err, errno, "layer extraction: pipe");
		goto out;
	}
	if (c.userns && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		r = err_errno(err, errno, "layer extraction: socketpair");
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = err_errno(err, errno, "layer extraction: fork");
		goto out;
	}
	if (pid == 0) {
		c.wfd = pfd[1];
		c.syncfd = sv[1];
		child_main(&c);
	}
	close(pfd[1]);
	pfd[1] = -1;
	if (sv[1] >= 0)
		close(sv[1]);
	sv[1] = -1;
	if (c.userns && write_maps(pid, mode, sv[0], err) < 0) {
		r = err_ret(*err);
		kill(pid, SIGKILL);
		reap(pid);
		goto out;
	}
	r = image_confine_collect(pid, pfd[0], st, err);
	pfd[0] = -1;
out:
	for (int i = 0; i < 2; i++) {
		if (pfd[i] >= 0)
			close(pfd[i]);
		if (sv[i] >= 0)
			close(sv[i]);
	}
	sandbox_bpf_free(&bpf);
	return r;
}

int image_confine_collect(pid_t pid, int rfd, struct image_layer_stats *st, struct err **err)
{
	_cleanup_close_ int fd = rfd;
	struct image_confine_msg m;
	size_t got = 0;
	bool more = false;
	int rerr = 0, status;
	const char *sig;

	/* To end of file first: the child exits only after its write. */
	while (!more) {
		char extra;
		ssize_t n = got < sizeof(m) ? read(fd, (char *)&m + got, sizeof(m) - got)
					    : read(fd, &extra, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rerr = errno;
		if (n <= 0)
			break;
		if (got < sizeof(m))
			got += (size_t)n;
		else
			more = true;
	}
	/* A child that keeps writing would block forever: stop it. */
	if (more || rerr)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "layer extraction: wait for the child");
	if (more)
		return err_set(err, EIO,
			       "layer extraction failed: the child sent more than its result");
	if (rerr)
		return err_errno(err, rerr, "layer extraction failed: read the child's result");
	if (WIFSIGNALED(status)) {
		sig = sigabbrev_np(WTERMSIG(status));
		return sig ? err_set(err, EIO, "layer extraction failed: killed by SIG%s", sig)
			   : err_set(err, EIO, "layer extraction failed: killed by signal %d",
				     WTERMSIG(status));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return err_set(err, EIO, "layer extraction failed: the child exited with status %d",
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (got != sizeof(m))
		return err_set(err, EIO,
			       "layer extraction failed: the child's result is %zu bytes, not %zu",
			       got, sizeof(m));
	if (m.magic != IMAGE_CONFINE_MAGIC || m.code < 0 || m.code > 4095)
		return err_set(err, EIO,
			       "layer extraction failed: malformed result from the child");
	m.msg[sizeof(m.msg) - 1] = 0;
	m.st.diff_id[sizeof(m.st.diff_id) - 1] = 0;
	if (m.code)
		return err_set(err, m.code, "%s", m.msg[0] ? m.msg : "layer extraction failed");
	*st = m.st;
	return 0;
}
