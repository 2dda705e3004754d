/*
 * sandbox/sandbox.c - starts one container (sandbox_start: the setup
 * child's recipe and the monitor's side of it) and runs further processes
 * in a running one (sandbox_exec).
 *
 * Runs in: the container's monitor (engine/monitor.c) and `moat exec`, as
 * the invoking user (rootless) or root. The monitor stays in the host's
 * namespaces; the child is cloned into new user, mount and pid
 * namespaces, and unshares its cgroup namespace once the monitor has put it
 * in its cgroup. Its uts, ipc and (unless host networking) net namespaces
 * belong to a nested user namespace it makes next, and once its mounts
 * are made it moves into that one with its own copy of the mount
 * namespace (nest_begin, lock_mounts): the container's root owns those,
 * but neither its mounts' flags nor its pid and cgroup namespaces. With
 * --userns=host the clone makes the uts, ipc and net namespaces and
 * nothing is nested.
 *
 * Threats handled here (the rest sit with the code named):
 *  - CVE-2019-5736 / CVE-2016-9962: the monitor, the child, the exec
 *    helper and the exec'd process are non-dumpable until execve, so nothing in the container (or another
 *    process of the same user) can ptrace them or open /proc/<pid>/exe;
 *    the moat binary is never mounted into the container.
 *  - CVE-2024-21626: every fd but 0, 1, 2 and the CLOEXEC sync socket is
 *    closed before execve, and the cwd is set after pivot_root.
 *  - TIOCSTI: the container runs in its own session (setsid), so the
 *    invoker's terminal is never its controlling terminal; seccomp also
 *    denies TIOCSTI/TIOCLINUX.
 *  - Mount flags undone from inside (a read-only bind remounted
 *    read-write, a mask over /proc unmounted, a fresh unmasked procfs) by
 *    a container that keeps CAP_SYS_ADMIN with seccomp and Landlock off:
 *    the kernel locks the flags and the mounts (lock_mounts).
 *  - A monitor that dies takes the container with it (PDEATHSIG), and the
 *    mount namespace - with every mount the container had - dies with the
 *    last process in it: nothing is mounted on the host.
 */
#include "sandbox/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/fuse.h"
#include "sandbox/landlock.h"
#include "sandbox/lsm.h"
#include "sandbox/mounts.h"
#include "sandbox/seccomp.h"

enum { MSG_MAPS = 1, MSG_PTY, MSG_ERROR, MSG_FUSE, MSG_RLIMITS, MSG_NET, MSG_DNS };

struct msg {
	int type;
	int exit; /* for MSG_ERROR: 125, 126 or 127 */
	int code; /* errno */
	char text[1024];
};

static int send_msg(int sock, const struct msg *m, int fd)
{
	struct iovec iov = {(void *)m, sizeof(*m)};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* Returns bytes read (0 = EOF) and the passed fd in *fd (or -1). */
static ssize_t recv_msg(int sock, struct msg *m, int *fd)
{
	struct iovec iov = {m, sizeof(*m)};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
				memcpy(fd, CMSG_DATA(c), sizeof(int));
	}
	return n;
}

/*
 * The container dies with its monitor: PDEATHSIG, re-armed after every
 * credential change (the kernel clears it then), and a check that the
 * monitor did not die before it was armed (its end of SYNC would be
 * closed). no_new_privs keeps a setuid binary inside from clearing it.
 */
static void tie_to_monitor(int sync)
{
	struct pollfd p = {.fd = sync, .events = 0};

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
		_exit(125);
}

/* In the child: report ERR to the monitor and exit. Never returns. */
__attribute__((noreturn)) static void child_fail(int sync, int exit_code, struct err *e)
{
	struct msg m = {.type = MSG_ERROR, .exit = exit_code, .code = e ? e->code : EIO};

	snprintf(m.text, sizeof(m.text), "%s", e ? e->msg : "container setup failed");
	send_msg(sync, &m, -1);
	_exit(exit_code);
}

static int loopback_up(struct err **err)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};

	if (s < 0)
		return err_errno(err, errno, "socket for loopback");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return err_errno(err, errno, "loopback flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return err_errno(err, errno, "bring loopback up");
	return 0;
}

static int setup_stdio(const struct sandbox_spec *spec, int slave, struct err **err)
{
	if (setsid() < 0)
		return err_errno(err, errno, "setsid");
	if (slave < 0) {
		for (int i = 0; i < 3; i++)
			if (spec->stdio[i] >= 0 && dup2(spec->stdio[i], i) < 0)
				return err_errno(err, errno, "dup stdio");
	}
	if (slave >= 0) {
		if (ioctl(slave, TIOCSCTTY, 0) < 0)
			return err_errno(err, errno, "set controlling terminal");
		for (int i = 0; i < 3; i++)
			if (dup2(slave, i) < 0)
				return err_errno(err, errno, "dup pty");
		close(slave);
		return 0;
	}
	if (!spec->stdin_open && spec->stdio[0] < 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0)
			return err_errno(err, errno, "stdin from /dev/null");
		close(null);
	}
	return 0;
}

static int close_fds(int keep, struct err **err)
{
	/* Everything above stdio except the sync socket (CLOEXEC). */
	if (keep > 3 && syscall(SYS_close_range, 3, keep - 1, 0) < 0)
		return err_errno(err, errno, "close_range");
	if (syscall(SYS_close_range, keep + 1, ~0U, 0) < 0)
		return err_errno(err, errno, "close_range");
	return 0;
}

/* PATH lookup in the container's own PATH; errno as execve would leave it. */
static int exec_command(const struct sandbox_spec *spec)
{
	const char *file = spec->argv[0],
		   *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[4096];
	int saved = ENOENT;

	if (strchr(file, '/')) {
		execve(file, spec->argv, spec->env);
		return errno;
	}
	for (char *const *e = spec->env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			path = *e + 5;
	while (*path) {
		const char *colon = strchrnul(path, ':');
		int len = (int)(colon - path);

		if (snprintf(buf, sizeof(buf), "%.*s%s%s", len, path, len ? "/" : "", file) <
		    (int)sizeof(buf)) {
			execve(buf, spec->argv, spec->env);
			if (errno != ENOENT && errno != ENOTDIR)
				saved = errno;
		}
		path = *colon ? colon + 1 : colon;
	}
	return saved;
}

static volatile pid_t init_child;

static void init_forward(int sig)
{
	if (init_child > 0)
		kill(init_child, sig);
}

/* --init: PID 1 stays moat's code (no binary from the host or the image),
 * forwards signals to the command and reaps every orphan. */
__attribute__((noreturn)) static void run_init(const struct sandbox_spec *spec, int sync,
					       const sigset_t *mask)
{
	struct sigaction sa = {.sa_handler = init_forward};
	pid_t pid;
	int status;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD)
			sigaction(s, &sa, NULL);
	pid = fork();
	if (pid < 0) {
		struct err e = {.code = errno, .msg = "fork the command under --init"};
		child_fail(sync, 125, &e);
	}
	if (pid == 0) {
		struct sigaction dfl = {.sa_handler = SIG_DFL};
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaction(s, &dfl, NULL);
		sigprocmask(SIG_SETMASK, mask, NULL);
		int e = exec_command(spec);
		struct err er = {.code = e};
		snprintf(er.msg, sizeof(er.msg), "exec \"%s\": %s", spec->argv[0], strerror(e));
		child_fail(sync, e == ENOENT ? 127 : 126, &er);
	}
	close(sync);
	init_child = pid;
	sigprocmask(SIG_SETMASK, mask, NULL);
	for (;;) {
		pid_t w = waitpid(-1, &status, 0);
		if (w < 0 && errno == ECHILD)
			_exit(0);
		if (w == pid)
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
}

/* The pty, from the container's own devpts: its master goes to the
 * monitor (or the exec client), its size is set before exec so the command
 * sees it from the start. Returns the slave. */
static int pty_to_monitor(const struct sandbox_spec *spec, int rootfd, bool console, int sync)
{
	struct msg m = {.type = MSG_PTY};
	struct err *e = NULL;
	int slave = -1, master = sandbox_pty_open(rootfd, console, &slave, &e);

	if (master < 0)
		child_fail(sync, 125, e);
	if (spec->tty_rows && spec->tty_cols) {
		struct winsize ws = {.ws_row = spec->tty_rows, .ws_col = spec->tty_cols};
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (send_msg(sync, &m, master) < 0)
		_exit(125);
	close(master);
	return slave;
}

/*
 * The rootfs: the kernel's overlayfs, attached on moat's staging dir
 * (pivot_root wants it attached; it is visible only in this mount
 * namespace). Where the kernel refuses it in a user namespace, and for
 * rootless containers only, the monitor runs fuse-overlayfs for us.
 */
static int rootfs(const struct sandbox_spec *spec, const struct host_fds *h, int sync,
		  struct err **e)
{
	struct msg m = {.type = MSG_FUSE};
	int fd = -1, rootfd = -1;
	bool rootless =
	    spec->userns == SANDBOX_USERNS_SINGLE || spec->userns == SANDBOX_USERNS_SUBUID;

	if (spec->overlay != SANDBOX_OVERLAY_FUSE) {
		rootfd = sandbox_rootfs_mount(spec, h, e);
		if (rootfd >= 0) {
			if (move_mount(rootfd, "", h->rootdir, "",
				       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
				close(rootfd);
				return err_errno(e, errno, "attach rootfs on \"%s\"",
						 spec->mountpoint);
			}
			return rootfd;
		}
		if (spec->overlay == SANDBOX_OVERLAY_KERNEL || !rootless)
			return err_ret(*e);
		if (!spec->fuse_overlayfs)
			return err_prefix(
			    e, "the kernel refused overlayfs in this user namespace and "
			       "fuse-overlayfs is not installed (Debian package fuse-overlayfs)");
		err_free(e);
	}
	if (!rootless)
		return err_set(e, EPERM, "fuse-overlayfs is for rootless containers only");
	/* The monitor starts the daemon outside our pid namespace. */
	if (send_msg(sync, &m, -1) < 0 || recv_msg(sync, &m, &fd) <= 0)
		return err_set(e, EIO, "lost the monitor while starting fuse-overlayfs");
	if (m.type != MSG_FUSE || m.code)
		return err_set(e, m.code ? m.code : EIO, "fuse-overlayfs did not start");
	return sandbox_fuse_wait(spec, sync, e);
}

/*
 * The nested user namespace's id maps: every range of the outer map
 * (SPEC's, which the monitor wrote) to itself, so the container sees the
 * ids it had ("0 1001 1" + "1 100000 65535" outside become "0 0 1" + "1 1
 * 65535" inside). One line per outer range, never merged: the kernel wants
 * each range inside one range of the parent's map. It checks again that
 * every id is mapped in the outer namespace.
 */
static void identity_map(const struct idmap *m, size_t n, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = 0;
	for (size_t i = 0; i < n && i < SANDBOX_MAX_IDMAPS && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%u %u %u\n", m[i].container,
					m[i].container, m[i].size);
}

/* Writes the identity map of M into FILE of the process whose /proc
 * directory is PROCDIR. */
static int write_map(int procdir, const char *file, const struct idmap *m, size_t n,
		     struct err **err)
{
	char buf[40 * SANDBOX_MAX_IDMAPS];
	_cleanup_close_ int fd = -1;
	int r;

	identity_map(m, n, buf, sizeof(buf));
	fd = openat(procdir, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "nested user namespace: open %s", file);
	if ((r = fs_write_all(fd, buf, strlen(buf))) < 0)
		return err_errno(err, -r, "nested user namespace: write %s \"%s\"", file, buf);
	return 0;
}

/*
 * The holder: forked by the child, it makes the nested user namespace (a
 * child of the container's) together with the container's uts, ipc and
 * (FLAGS) net namespaces, which the nested namespace therefore owns, and
 * keeps them alive until the child has joined them. It must be dumpable
 * (its /proc files belong to root of the host's user namespace otherwise,
 * and nobody here could write its maps). So it holds no fd but its socket,
 * and what it has, the container's new namespaces, is what the same host
 * uid could reach anyway (rootless: the invoker, who owns them all; root:
 * the container range, which nothing outside a container runs as, and no
 * other container can name a process here). It ends when the child closes
 * its end, or dies.
 */
__attribute__((noreturn)) static void ns_holder(int sock, int flags)
{
	struct msg m = {.type = MSG_MAPS};
	int dir = -1;
	char c;

	if (sock > 0)
		syscall(SYS_close_range, 0, sock - 1, 0);
	syscall(SYS_close_range, sock + 1, ~0U, 0);
	/* CLONE_NEWUSER first: the others belong to it. */
	if (unshare(CLONE_NEWUSER | flags) < 0)
		m.code = errno;
	/* After the unshare: a credential change may reset it. */
	else if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		m.code = errno;
	/* Our /proc directory, for the child: before pivot_root its /proc is
	 * the host's, where our pid is not the one fork gave it. */
	else if ((dir = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		m.code = errno;
	if (send_msg(sock, &m, dir) == 0)
		while (read(sock, &c, 1) < 0 && errno == EINTR)
			;
	_exit(m.code ? 1 : 0);
}

/* Joins the namespace NS of the holder whose /proc directory is PROCDIR. */
static int join_ns(int procdir, const char *ns, int type, struct err **err)
{
	_cleanup_close_ int fd = -1;
	char path[32];

	snprintf(path, sizeof(path), "ns/%s", ns);
	fd = openat(procdir, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "nested user namespace: open %s", path);
	if (setns(fd, type) < 0)
		return err_errno(err, errno, "join the container's %s namespace", ns);
	return 0;
}

/*
 * The container's mounts are locked in the kernel (lock_mounts) by a
 * nested user namespace; this makes it, and the namespaces it must own.
 *
 * Why locking: every flag set on a mount (read-only binds and paths, the
 * masks, nosuid/nodev/noexec) is only a setting as long as the container's
 * root owns the mount namespace: with CAP_SYS_ADMIN (--cap-add SYS_ADMIN
 * with seccomp and Landlock switched off) it could remount a read-only
 * bind read-write, unmount a mask, or mount a fresh procfs without masks.
 * The kernel locks the flags (MNT_LOCK_READONLY, _NOSUID, _NODEV,
 * _NOEXEC, _ATIME) and pins every mount to its parent (MNT_LOCKED) when it
 * copies a mount tree into a mount namespace owned by a less privileged
 * user namespace: the container runs in such a copy, as root of the
 * nested namespace (identity maps: the same ids), not of the container's.
 *
 * What the nested namespace owns: the mount namespace copy, and the uts,
 * ipc and net namespaces made with it here, before the first mount. The
 * child stays in the container's user namespace, from which it has every
 * capability in the nested one too (its parent, and the same owner): it
 * still mounts sysfs and mqueue for them, sets the hostname and brings
 * loopback up. So the container's root keeps what its capabilities give
 * it there (CAP_NET_BIND_SERVICE, NET_RAW, NET_ADMIN, sethostname with
 * SYS_ADMIN, IPC_OWNER), as without the nesting. The pid and cgroup
 * namespaces stay the container's namespace's: the pid one is the clone's
 * (the child is its PID 1), and the container's root must not mount proc
 * (no masks) or cgroup2 (read-write) afresh.
 *
 * The holder, not the child, makes the namespaces: the process whose maps
 * are written must be dumpable for an unprivileged writer (see ns_holder),
 * and the child stays non-dumpable throughout. The child writes the maps:
 * that takes CAP_SETUID, CAP_SETGID (so no setgroups "deny" is needed: the
 * nested namespace inherits the container's setgroups setting) and
 * CAP_SETFCAP (it maps id 0) in the parent, which it has.
 *
 * Returns an fd of the nested user namespace, for lock_mounts.
 */
static int nest_begin(const struct sandbox_spec *spec, struct err **err)
{
	_cleanup_close_ int userfd = -1, dir = -1;
	int flags =
	    CLONE_NEWUTS | CLONE_NEWIPC | (spec->net != SANDBOX_NET_HOST ? CLONE_NEWNET : 0);
	int sv[2], status, ret = 0;
	struct msg m;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_errno(err, errno, "nested user namespace: socketpair");
	pid = fork();
	if (pid < 0) {
		ret = err_errno(err, errno, "nested user namespace: fork");
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (pid == 0)
		ns_holder(sv[1], flags);
	close(sv[1]);
	if (recv_msg(sv[0], &m, &dir) <= 0 || m.type != MSG_MAPS)
		ret = err_set(err, EIO, "nested user namespace: its holder ended early");
	else if (m.code)
		ret = err_errno(err, m.code, "create the nested user namespace");
	else if (dir < 0)
		ret =
		    err_set(err, EIO, "nested user namespace: no /proc directory from its holder");
	if (ret == 0 && (userfd = openat(dir, "ns/user", O_RDONLY | O_CLOEXEC)) < 0)
		ret = err_errno(err, errno, "nested user namespace: open ns/user");
	if (ret == 0)
		ret = write_map(dir, "uid_map", spec->uidmap, spec->n_uidmap, err);
	if (ret == 0)
		ret = write_map(dir, "gid_map", spec->gidmap, spec->n_gidmap, err);
	if (ret == 0)
		ret = join_ns(dir, "uts", CLONE_NEWUTS, err);
	if (ret == 0)
		ret = join_ns(dir, "ipc", CLONE_NEWIPC, err);
	if (ret == 0 && (flags & CLONE_NEWNET))
		ret = join_ns(dir, "net", CLONE_NEWNET, err);
	close(sv[0]); /* the holder's cue to exit: USERFD keeps the namespace */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ret < 0 ? ret : steal_fd(userfd);
}

/* The child into the nested user namespace USERFD, and the copy of its
 * mount namespace made from there: the locked one (see nest_begin). Root
 * and cwd move to it. */
static int lock_mounts(int userfd, struct err **err)
{
	if (setns(userfd, CLONE_NEWUSER) < 0)
		return err_errno(err, errno, "join the nested user namespace");
	if (unshare(CLONE_NEWNS) < 0)
		return err_errno(err, errno, "mount namespace of the nested user namespace");
	return 0;
}

/*
 * The container's network, in the child, inside its network namespace with
 * loopback up: hands the namespace to the monitor, which has the driver
 * create the links in it (MSG_NET), then configures them (the child owns
 * the namespace; the monitor, in the host's, could not). Then the
 * embedded DNS server's socket, bound here because 127.0.0.11 is only
 * this namespace's, handed over too (MSG_DNS).
 */
static int child_network(const struct sandbox_spec *spec, int sync, struct err **err)
{
	struct msg m = {.type = MSG_NET};
	int fd = -1, r;

	if (spec->net_hooks) {
		_cleanup_close_ int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

		if (ns < 0)
			return err_errno(err, errno, "open the container's network namespace");
		if (send_msg(sync, &m, ns) < 0 || recv_msg(sync, &m, &fd) <= 0)
			return err_set(err, EIO, "lost the monitor while attaching the network");
		if (fd >= 0)
			close(fd);
		/* The monitor's own error, more precise, is what the user sees. */
		if (m.type != MSG_NET || m.code)
			return err_set(err, m.code ? m.code : EIO, "network attach failed");
		if ((r = spec->net_hooks->configure(spec->net_hooks->data, err)) < 0)
			return r;
	}
	if (spec->dns_listener) {
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(53)};
		_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		struct msg d = {.type = MSG_DNS};

		sin.sin_addr.s_addr = htonl(0x7f00000b); /* 127.0.0.11 */
		if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return err_errno(err, errno,
					 "the embedded DNS server's socket (127.0.0.11:53)");
		if (send_msg(sync, &d, s) < 0)
			return err_set(err, EIO,
				       "lost the monitor while handing over the DNS socket");
	}
	return 0;
}

/* Asks the monitor for the rlimits and waits until they are set. */
static int child_rlimits(int sync)
{
	struct msg m = {.type = MSG_RLIMITS};
	int fd = -1;

	if (send_msg(sync, &m, -1) < 0 || recv_msg(sync, &m, &fd) <= 0)
		return -EIO;
	if (fd >= 0)
		close(fd);
	return m.type == MSG_RLIMITS && m.code == 0 ? 0 : -EPERM;
}

/*
 * The recipe, in the order the design gives. Ordering rules:
 *  - host fds are opened before setresuid(0): only then is the child's host
 *    uid still the caller's (root's 0700 state dir stays reachable);
 *  - propagation is made private before any mount, so nothing leaks back;
 *  - /proc, /dev, /sys are mounted after the rootfs check (no symlinked
 *    /proc can redirect them), after the user's mounts (none can then be
 *    placed over them) and before pivot_root;
 *  - the pty comes from the container's own devpts, so its master is
 *    passed to the monitor before the fds are closed;
 *  - the nested user namespace and the uts, ipc and net namespaces it
 *    owns (nest_begin) before the first mount (sysfs and mqueue are those
 *    namespaces'), and after the monitor wrote our maps (we write the
 *    nested ones as root of ours); the cgroup namespace is ours, not the
 *    nested one's (so the container's root cannot mount cgroup2);
 *  - the locked copy of the mount namespace (lock_mounts) after the last
 *    mount and pivot_root: it locks the tree as it is then, and they need
 *    capabilities in the container's own user namespace, which owns the
 *    mount namespace they change (and the pid namespace of /proc). From
 *    there on the child is root of the nested namespace only, which is
 *    enough for all that follows (the hostname and loopback are the
 *    nested namespace's);
 *  - Landlock after pivot_root (rules bind to the final tree), while
 *    CAP_SYS_ADMIN in the (nested) namespace still allows it;
 *  - rlimits (set by the monitor on request) after the setup, which needs
 *    fds, and before the init forks or drops its capabilities;
 *  - no_new_privs before capabilities are dropped; seccomp last, so every
 *    earlier step may use the calls it forbids.
 */
__attribute__((noreturn)) static void child_main(const struct sandbox_spec *spec, int sync,
						 const sigset_t *mask)
{
	struct host_fds h;
	struct err *e = NULL;
	struct msg m;
	_cleanup_close_ int rootfd = -1, nested = -1;
	int slave = -1, fd, r;
	bool landlock_on = false;

	tie_to_monitor(sync);
	if (sandbox_host_fds_open(spec, &h, &e) < 0)
		child_fail(sync, 125, e);
	/* Wait until the monitor has written our id maps. */
	if (recv_msg(sync, &m, &fd) <= 0 || m.type != MSG_MAPS)
		_exit(125);
	/* Non-dumpable until execve (which resets it for the command). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (spec->userns != SANDBOX_USERNS_HOST &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		err_errno(&e, errno, "become root in the user namespace");
		child_fail(sync, 125, e);
	}
	tie_to_monitor(sync);
	/* The monitor has put us in our cgroup: that is the root we see. */
	if (unshare(CLONE_NEWCGROUP) < 0) {
		err_errno(&e, errno, "cgroup namespace");
		child_fail(sync, 125, e);
	}
	/* With --userns=host there is no user namespace to nest in (the
	 * clone made the uts, ipc and net namespaces then). */
	if (spec->userns != SANDBOX_USERNS_HOST && (nested = nest_begin(spec, &e)) < 0)
		child_fail(sync, 125, e);
	/* Slave, not shared: nothing mounted here reaches the host, while a
	 * bind asked to be rslave still sees the host's later mounts (each
	 * bind sets its own propagation; the default is rprivate). */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		err_errno(&e, errno, "make mounts private");
		child_fail(sync, 125, e);
	}
	if ((rootfd = rootfs(spec, &h, sync, &e)) < 0)
		child_fail(sync, 125, e);
	/* The user's mounts before /proc, /dev and /sys: one that a symlink
	 * leads into them is refused, and they are mounted over it anyway. */
	if (sandbox_rootfs_check(rootfd, &e) < 0 || sandbox_mount_user(rootfd, spec, &h, &e) < 0 ||
	    sandbox_mount_proc(rootfd, spec, &h, &e) < 0 ||
	    sandbox_mount_dev(rootfd, spec, &h, &e) < 0 ||
	    sandbox_mount_sys(rootfd, spec, &h, &e) < 0 ||
	    sandbox_mount_etc(rootfd, spec, &h, &e) < 0 ||
	    sandbox_workdir_prepare(rootfd, spec->cwd, &e) < 0)
		child_fail(sync, 125, e);
	if (spec->tty) {
		slave = pty_to_monitor(spec, rootfd, true, sync);
	}
	if (spec->readonly_root && sandbox_rootfs_readonly(rootfd, &e) < 0)
		child_fail(sync, 125, e);
	sandbox_host_fds_close(&h);
	if (sandbox_pivot(rootfd, &e) < 0)
		child_fail(sync, 125, e);
	if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0) {
		err_errno(&e, errno, "sethostname");
		child_fail(sync, 125, e);
	}
	if (spec->net == SANDBOX_NET_NONE && loopback_up(&e) < 0)
		child_fail(sync, 125, e);
	if (spec->net == SANDBOX_NET_NONE && child_network(spec, sync, &e) < 0)
		child_fail(sync, 125, e);
	if (nested >= 0 && lock_mounts(nested, &e) < 0)
		child_fail(sync, 125, e);
	closep(&nested);
	/* New credentials: the kernel may have reset both. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	tie_to_monitor(sync);
	if (setup_stdio(spec, slave, &e) < 0)
		child_fail(sync, 125, e);
	if (spec->cwd && chdir(spec->cwd) < 0) {
		err_errno(&e, errno, "working directory \"%s\"", spec->cwd);
		child_fail(sync, 125, e);
	}
	if (spec->landlock && (r = sandbox_landlock_apply(!spec->readonly_root, spec->mounts,
							  spec->n_mounts, &landlock_on)) < 0) {
		err_errno(&e, -r, "Landlock");
		child_fail(sync, 125, e);
	}
	if (sandbox_lsm_apply(spec->apparmor_profile, &e) < 0)
		child_fail(sync, 125, e);
	if (close_fds(sync, &e) < 0)
		child_fail(sync, 125, e);
	/* Rlimits once the setup is done (it needs fds) and before the init
	 * forks anything; the monitor sets them (see apply_rlimits). */
	if (spec->n_rlimits && child_rlimits(sync) < 0)
		_exit(125); /* the monitor has the error */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err_errno(&e, errno, "no_new_privs");
		child_fail(sync, 125, e);
	}
	if (sandbox_caps_apply(spec, &e) < 0)
		child_fail(sync, 125, e);
	tie_to_monitor(sync);
	if ((r = sandbox_seccomp_load(&spec->bpf)) < 0) {
		err_errno(&e, -r, "load seccomp filter");
		child_fail(sync, 125, e);
	}
	if (spec->init)
		run_init(spec, sync, mask);
	sigprocmask(SIG_SETMASK, mask, NULL);
	r = exec_command(spec);
	err_set(&e, r, "exec \"%s\": %s", spec->argv[0], strerror(r));
	child_fail(sync, r == ENOENT ? 127 : 126, e);
}

/* ---- the monitor's side of the start ---- */

/* The namespaces a fuse-overlayfs helper may have to join, opened while the
 * child is still dumpable (its /proc entries are ours to open). */
static void open_ns(pid_t pid, int nsfd[2])
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)pid);
	nsfd[0] = open(p, O_RDONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
	nsfd[1] = open(p, O_RDONLY | O_CLOEXEC);
}

void sandbox_result_from_status(int status, struct sandbox_result *res)
{
	memset(res, 0, sizeof(*res));
	if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
		res->exit_code = 128 + res->signal;
	} else {
		res->exit_code = WEXITSTATUS(status);
	}
}

bool sandbox_proc_reap(struct sandbox_proc *p, int *status)
{
	if (p->fuse > 0 && waitpid(p->fuse, NULL, WNOHANG) == p->fuse)
		p->fuse = 0;
	if (!p->exited && p->pid > 0 && waitpid(p->pid, &p->status, WNOHANG) == p->pid)
		p->exited = true;
	if (p->exited && status)
		*status = p->status;
	return p->exited;
}

void sandbox_proc_release(struct sandbox_proc *p)
{
	if (p->pid > 0 && !p->exited) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->exited = true;
	}
	sandbox_fuse_stop(p->fuse);
	p->fuse = 0;
	closep(&p->pidfd);
	closep(&p->master);
	closep(&p->dnsfd);
}

/* Rlimits: when the child asks (MSG_RLIMITS), after its setup and before
 * it drops its capabilities or forks: a low nofile or nproc would
 * otherwise break the setup itself (which opens host fds, mounts, ...). */
static int apply_rlimits(const struct sandbox_spec *spec, pid_t pid, struct err **err)
{
	for (size_t i = 0; i < spec->n_rlimits && i < SANDBOX_MAX_RLIMITS; i++) {
		const struct sandbox_rlimit *r = &spec->rlimits[i];
		struct rlimit rl = {.rlim_cur = r->soft, .rlim_max = r->hard};

		if (prlimit(pid, (enum __rlimit_resource)r->resource, &rl, NULL) < 0)
			return err_errno(err, errno, "set resource limit %d (soft %llu, hard %llu)",
					 r->resource, (unsigned long long)r->soft,
					 (unsigned long long)r->hard);
	}
	return 0;
}

/* Serves the child's setup requests until its command is exec'd (the sync
 * socket, CLOEXEC, reads EOF) or it fails. */
static int serve_setup(const struct sandbox_spec *spec, int sync, int sigfd, const int nsfd[2],
		       struct sandbox_proc *p, struct err **err)
{
	int ret = 0;

	for (;;) {
		struct pollfd pf[2] = {{.fd = sync, .events = POLLIN},
				       {.fd = sigfd, .events = POLLIN}};
		struct msg m;
		int fd;
		ssize_t got;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_errno(err, errno, "poll");
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				pid_t fuse = p->fuse;
				if (si.ssi_signo != SIGCHLD) {
					kill(p->pid, (int)si.ssi_signo);
				} else if (sandbox_proc_reap(p, NULL) || (fuse && !p->fuse)) {
					if (fuse && !p->fuse && ret == 0) {
						struct msg dead = {.type = MSG_FUSE, .code = EIO};
						char why[512];

						sandbox_fuse_last_words(spec, why, sizeof(why));
						ret = err_set(
						    err, EIO,
						    "fuse-overlayfs exited before it mounted "
						    "the rootfs: %s (is /dev/fuse usable by "
						    "this user?)",
						    why);
						(*err)->exit = 125;
						if (!p->exited)
							send_msg(sync, &dead, -1);
					}
				}
			}
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		got = recv_msg(sync, &m, &fd);
		/* ECONNRESET: the child ended with a message of ours unread;
		 * what it said before that is still queued: read on. */
		if (got < 0 && errno == ECONNRESET)
			got = recv_msg(sync, &m, &fd);
		if (got < 0 && ret == 0) {
			ret =
			    err_errno(err, errno, "the container's setup ended without saying why");
			(*err)->exit = 125;
		}
		if (got <= 0)
			return ret; /* EOF: exec'd (or ended); the socket is CLOEXEC */
		if (m.type == MSG_FUSE) {
			struct msg reply = {.type = MSG_FUSE};
			p->fuse = sandbox_fuse_start(nsfd, spec, err);
			if (p->fuse < 0) {
				ret = err_ret(*err);
				(*err)->exit = 125;
				reply.code = -ret;
				p->fuse = 0;
			}
			send_msg(sync, &reply, -1);
		} else if (m.type == MSG_RLIMITS) {
			struct msg reply = {.type = MSG_RLIMITS};

			if (ret == 0 && apply_rlimits(spec, p->pid, err) < 0) {
				ret = err_ret(*err);
				(*err)->exit = 125;
			}
			reply.code = ret < 0 ? -ret : 0;
			send_msg(sync, &reply, -1);
		} else if (m.type == MSG_NET) {
			struct msg reply = {.type = MSG_NET};

			if (ret == 0 && fd >= 0 && spec->net_hooks)
				ret = spec->net_hooks->attach(spec->net_hooks->data, fd, err);
			else if (ret == 0)
				ret = err_set(err, EIO,
					      "network attach: no namespace from the container");
			if (ret < 0)
				(*err)->exit = 125;
			closep(&fd);
			reply.code = ret < 0 ? -ret : 0;
			send_msg(sync, &reply, -1);
		} else if (m.type == MSG_DNS && fd >= 0) {
			closep(&p->dnsfd);
			p->dnsfd = fd;
		} else if (m.type == MSG_PTY && fd >= 0) {
			closep(&p->master);
			p->master = fd;
		} else if (m.type == MSG_ERROR) {
			m.text[sizeof(m.text) - 1] = 0;
			if (fd >= 0)
				close(fd);
			if (ret == 0) { /* keep the monitor's own, more precise one */
				ret = err_set(err, m.code ? m.code : EIO, "%s", m.text);
				(*err)->exit = m.exit;
			}
			return ret;
		} else if (fd >= 0) {
			close(fd);
		}
	}
}

/*
 * --ulimit and --oom-score-adj are written into the init PID from here, the
 * monitor, not by the child itself: the child is already in its user
 * namespace, where raising a hard limit or lowering oom_score_adj never
 * passes (both want CAP_SYS_RESOURCE in the initial namespace), so a root
 * engine could not grant `--ulimit nofile=1048576` or `--oom-score-adj
 * -500` as Docker does. A caller without CAP_SYS_RESOURCE (rootless) can
 * only lower limits and raise the score, and gets the kernel's error
 * otherwise: an error, never a silently weaker container.
 *
 * oom_score_adj: while the init waits for MSG_MAPS and is still dumpable
 * (so a rootless caller owns its /proc files).
 */
static int apply_oom_score_adj(const struct sandbox_spec *spec, pid_t pid, struct err **err)
{
	if (spec->set_oom_score_adj) {
		char path[64], val[16];

		_cleanup_close_ int fd = -1;
		int n;

		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
		n = snprintf(val, sizeof(val), "%d", spec->oom_score_adj);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || fs_write_all(fd, val, (size_t)n) < 0)
			return err_errno(err, errno, "--oom-score-adj %d: write \"%s\"",
					 spec->oom_score_adj, path);
	}
	return 0;
}

int sandbox_start(const struct sandbox_spec *spec, int sigfd, const sigset_t *child_mask,
		  struct sandbox_proc *p, struct err **err)
{
	int sv[2], flags, ret;
	int nsfd[2] = {-1, -1};
	struct msg m = {.type = MSG_MAPS};

	*p = (struct sandbox_proc){.pidfd = -1, .master = -1, .dnsfd = -1};
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_errno(err, errno, "socketpair");
	/* The cgroup namespace is unshared by the child once it sits in its
	 * own cgroup, so the container sees that one as its root. With a user
	 * namespace, the uts, ipc and net namespaces are made by the child
	 * with the nested user namespace that owns them (nest_begin); until
	 * then it is in ours, with no capability over them. */
	flags = CLONE_NEWNS | CLONE_NEWPID;
	if (spec->userns != SANDBOX_USERNS_HOST)
		flags |= CLONE_NEWUSER;
	else
		flags |= CLONE_NEWIPC | CLONE_NEWUTS |
			 (spec->net != SANDBOX_NET_HOST ? CLONE_NEWNET : 0);
	p->pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (p->pid < 0) {
		ret = err_errno(err, errno, "create the container's namespaces");
		p->pid = 0;
		close(sv[0]);
		close(sv[1]);
		return ret;
	}
	if (p->pid == 0) {
		close(sv[0]);
		child_main(spec, sv[1], child_mask);
	}
	close(sv[1]);
	/* Not reaped before we wait: the pid cannot have been reused. */
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd < 0) {
		ret = err_errno(err, errno, "pidfd_open");
		goto fail;
	}
	if (spec->fuse_overlayfs && spec->overlay != SANDBOX_OVERLAY_KERNEL)
		open_ns(p->pid, nsfd);
	ret = userns_write_maps(p->pid, spec->userns, spec->uidmap, spec->n_uidmap, spec->gidmap,
				spec->n_gidmap, err);
	if (ret == 0 && spec->cgroup)
		ret = sandbox_cgroup_attach(spec->cgroup, p->pid, err);
	if (ret == 0)
		ret = apply_oom_score_adj(spec, p->pid, err);
	/* Non-dumpable from here on (the child turns itself the same way on
	 * MSG_MAPS): no ptrace, no /proc/<pid>/exe, environ or fd for anyone
	 * without CAP_SYS_PTRACE on the host. Not earlier: an unprivileged
	 * caller must own the child's /proc files to write its id maps. */
	if (ret == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		ret = err_errno(err, errno, "PR_SET_DUMPABLE");
	if (ret == 0 && send_msg(sv[0], &m, -1) < 0) {
		int e = errno, fd = -1;
		struct msg why;

		/* The child failed before it read this: its reason is queued. */
		if (recv_msg(sv[0], &why, &fd) > 0 && why.type == MSG_ERROR) {
			why.text[sizeof(why.text) - 1] = 0;
			ret = err_set(err, why.code ? why.code : EIO, "%s", why.text);
			(*err)->exit = why.exit;
		} else {
			ret = err_errno(err, e, "sync with container");
		}
		if (fd >= 0)
			close(fd);
	}
	if (ret == 0)
		ret = serve_setup(spec, sv[0], sigfd, nsfd, p, err);
fail:
	closep(&nsfd[0]);
	closep(&nsfd[1]);
	close(sv[0]);
	if (ret < 0)
		sandbox_proc_release(p);
	return ret;
}

/* ---- exec: a new process in a running container ---- */

/*
 * The exec'd process, after it joined the container's namespaces: the
 * same recipe as child_main from the point where the container's own
 * process stood after pivot_root, so it ends exactly as confined
 * (Landlock, LSM, no_new_privs, capabilities, seccomp), never less.
 */
__attribute__((noreturn)) static void exec_child(const struct sandbox_spec *spec, int sync)
{
	struct err *e = NULL;
	_cleanup_close_ int rootfd = -1;
	int slave = -1, r;
	bool landlock_on = false;

	if (spec->userns != SANDBOX_USERNS_HOST &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		err_errno(&e, errno, "become root in the user namespace");
		child_fail(sync, 125, e);
	}
	/* setns(CLONE_NEWNS) put our root and cwd at the container's root. */
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		err_errno(&e, errno, "open the container's root");
		child_fail(sync, 125, e);
	}
	if (spec->tty) {
		slave = pty_to_monitor(spec, rootfd, false, sync);
	}
	if (setup_stdio(spec, slave, &e) < 0)
		child_fail(sync, 125, e);
	if (spec->cwd && chdir(spec->cwd) < 0) {
		err_errno(&e, errno, "working directory \"%s\"", spec->cwd);
		child_fail(sync, 126, e);
	}
	if (spec->landlock && (r = sandbox_landlock_apply(!spec->readonly_root, spec->mounts,
							  spec->n_mounts, &landlock_on)) < 0) {
		err_errno(&e, -r, "Landlock");
		child_fail(sync, 125, e);
	}
	if (sandbox_lsm_apply(spec->apparmor_profile, &e) < 0)
		child_fail(sync, 125, e);
	closep(&rootfd);
	if (close_fds(sync, &e) < 0)
		child_fail(sync, 125, e);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err_errno(&e, errno, "no_new_privs");
		child_fail(sync, 125, e);
	}
	if (sandbox_caps_apply(spec, &e) < 0)
		child_fail(sync, 125, e);
	if ((r = sandbox_seccomp_load(&spec->bpf)) < 0) {
		err_errno(&e, -r, "load seccomp filter");
		child_fail(sync, 125, e);
	}
	r = exec_command(spec);
	err_set(&e, r, "exec \"%s\": %s", spec->argv[0], strerror(r));
	child_fail(sync, r == ENOENT ? 127 : 126, e);
}

/*
 * The helper: joins the container's cgroup (from the host's view) and its
 * namespaces through PIDFD, then forks the process into its pid
 * namespace. PIDFD's user, mount, uts, ipc and net namespaces are the
 * nested ones (nest_begin); setns checks the right to join each of them
 * with our own (host) credentials, which own them all, not with the
 * nested namespace's. Non-dumpable throughout (CVE-2016-9962: nothing in the
 * container may ptrace it while it holds host fds). It waits for the
 * process and exits with its status, or right away when DETACH.
 */
__attribute__((noreturn)) static void exec_helper(const struct sandbox_spec *spec, int pidfd,
						  bool detach, int sync)
{
	struct err *e = NULL;
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	int status;
	pid_t pid;

	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (spec->cgroup && sandbox_cgroup_attach(spec->cgroup, getpid(), &e) < 0)
		child_fail(sync, 125, e);
	/* The container's rlimits, set while still in the host's user
	 * namespace; the process inherits them across fork and exec. */
	if (apply_rlimits(spec, getpid(), &e) < 0)
		child_fail(sync, 125, e);
	if (spec->userns != SANDBOX_USERNS_HOST)
		flags |= CLONE_NEWUSER;
	if (spec->net != SANDBOX_NET_HOST)
		flags |= CLONE_NEWNET;
	if (setns(pidfd, flags) < 0) {
		err_errno(&e, errno, "join the container's namespaces");
		child_fail(sync, 125, e);
	}
	close(pidfd);
	pid = fork();
	if (pid < 0) {
		err_errno(&e, errno, "fork into the container");
		child_fail(sync, 125, e);
	}
	if (pid == 0)
		exec_child(spec, sync);
	close(sync);
	if (detach)
		_exit(0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(125);
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int sandbox_exec(const struct sandbox_spec *spec, int pidfd, bool detach, int *master,
		 pid_t *helper, struct err **err)
{
	int sv[2], fd, ret = 0;
	struct msg m;
	pid_t pid;

	*master = -1;
	*helper = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_errno(err, errno, "socketpair");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return err_errno(err, errno, "fork");
	}
	if (pid == 0) {
		close(sv[0]);
		exec_helper(spec, pidfd, detach, sv[1]);
	}
	close(sv[1]);
	/* Until EOF (the process exec'd: the socket is CLOEXEC) or an error. */
	while (recv_msg(sv[0], &m, &fd) > 0) {
		if (m.type == MSG_PTY && fd >= 0) {
			closep(master);
			*master = fd;
		} else if (m.type == MSG_ERROR) {
			m.text[sizeof(m.text) - 1] = 0;
			if (fd >= 0)
				close(fd);
			ret = err_set(err, m.code ? m.code : EIO, "%s", m.text);
			(*err)->exit = m.exit;
			break;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	close(sv[0]);
	if (ret < 0) {
		closep(master);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return ret;
	}
	*helper = pid;
	return 0;
}
