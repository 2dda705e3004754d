/*
 * sandbox/sandbox.c - runs one container in the foreground: the monitor
 * (the calling process) and the setup child's recipe.
 *
 * Runs in: `moat run`, as the invoking user (rootless) or root. The monitor
 * stays in the host's namespaces; the child is cloned into new user, mount,
 * pid, ipc, uts, cgroup and (unless host networking) net namespaces.
 *
 * Threats handled here (the rest sit with the code named):
 *  - CVE-2019-5736 / CVE-2016-9962: the monitor and the child are
 *    non-dumpable until execve, so nothing in the container (or another
 *    process of the same user) can ptrace them or open /proc/<pid>/exe;
 *    the moat binary is never mounted into the container.
 *  - CVE-2024-21626: every fd but 0, 1, 2 and the CLOEXEC sync socket is
 *    closed before execve, and the cwd is set after pivot_root.
 *  - TIOCSTI: the container runs in its own session (setsid), so the
 *    invoker's terminal is never its controlling terminal; seccomp also
 *    denies TIOCSTI/TIOCLINUX.
 *  - A monitor that dies takes the container with it (PDEATHSIG), and the
 *    mount namespace - with every mount the container had - dies with the
 *    last process in it: nothing is mounted on the host.
 */
#include "sandbox/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "sandbox/caps.h"
#include "sandbox/fuse.h"
#include "sandbox/landlock.h"
#include "sandbox/lsm.h"
#include "sandbox/mounts.h"
#include "sandbox/seccomp.h"

enum { MSG_MAPS = 1, MSG_PTY, MSG_ERROR, MSG_FUSE };

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
	if (slave >= 0) {
		if (ioctl(slave, TIOCSCTTY, 0) < 0)
			return err_errno(err, errno, "set controlling terminal");
		for (int i = 0; i < 3; i++)
			if (dup2(slave, i) < 0)
				return err_errno(err, errno, "dup pty");
		close(slave);
		return 0;
	}
	if (!spec->stdin_open) {
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
 * The recipe, in the order the design gives. Ordering rules:
 *  - host fds are opened before setresuid(0): only then is the child's host
 *    uid still the caller's (root's 0700 state dir stays reachable);
 *  - propagation is made private before any mount, so nothing leaks back;
 *  - /proc, /dev, /sys are mounted after the rootfs check (no symlinked
 *    /proc can redirect them) and before pivot_root;
 *  - the pty comes from the container's own devpts, so its master is
 *    passed to the monitor before the fds are closed;
 *  - Landlock after pivot_root (rules bind to the final tree), while
 *    CAP_SYS_ADMIN in the namespace still allows it;
 *  - no_new_privs before capabilities are dropped; seccomp last, so every
 *    earlier step may use the calls it forbids.
 */
__attribute__((noreturn)) static void child_main(const struct sandbox_spec *spec, int sync,
						 const sigset_t *mask)
{
	struct host_fds h;
	struct err *e = NULL;
	struct msg m;
	_cleanup_close_ int rootfd = -1;
	int master = -1, slave = -1, fd, r;
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
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		err_errno(&e, errno, "make mounts private");
		child_fail(sync, 125, e);
	}
	if ((rootfd = rootfs(spec, &h, sync, &e)) < 0)
		child_fail(sync, 125, e);
	if (sandbox_rootfs_check(rootfd, &e) < 0 || sandbox_mount_proc(rootfd, spec, &h, &e) < 0 ||
	    sandbox_mount_dev(rootfd, spec, &h, &e) < 0 ||
	    sandbox_mount_sys(rootfd, spec, &h, &e) < 0 ||
	    sandbox_mount_etc(rootfd, spec, &h, &e) < 0 ||
	    sandbox_workdir_prepare(rootfd, spec->cwd, &e) < 0)
		child_fail(sync, 125, e);
	if (spec->tty) {
		master = sandbox_pty_open(rootfd, &slave, &e);
		if (master < 0)
			child_fail(sync, 125, e);
		m = (struct msg){.type = MSG_PTY};
		if (send_msg(sync, &m, master) < 0)
			_exit(125);
		close(master);
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
	if (setup_stdio(spec, slave, &e) < 0)
		child_fail(sync, 125, e);
	if (spec->cwd && chdir(spec->cwd) < 0) {
		err_errno(&e, errno, "working directory \"%s\"", spec->cwd);
		child_fail(sync, 125, e);
	}
	if (spec->landlock &&
	    (r = sandbox_landlock_apply(!spec->readonly_root, &landlock_on)) < 0) {
		err_errno(&e, -r, "Landlock");
		child_fail(sync, 125, e);
	}
	if (sandbox_lsm_apply(spec->apparmor_profile, &e) < 0)
		child_fail(sync, 125, e);
	if (close_fds(sync, &e) < 0)
		child_fail(sync, 125, e);
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

/* ---- the monitor ---- */

struct relay {
	int master;
	bool stdin_open;
	bool raw;
	struct termios saved;
};

static void winsize_copy(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static void relay_start(struct relay *r, const struct sandbox_spec *spec)
{
	struct termios t;

	r->stdin_open = spec->stdin_open;
	r->raw = false;
	if (isatty(0)) {
		winsize_copy(0, r->master);
		if (spec->stdin_open && tcgetattr(0, &r->saved) == 0) {
			t = r->saved;
			cfmakeraw(&t);
			t.c_oflag |= OPOST; /* keep our own output readable */
			if (tcsetattr(0, TCSANOW, &t) == 0)
				r->raw = true;
		}
	} else if (isatty(1)) {
		winsize_copy(1, r->master);
	}
}

static void relay_stop(struct relay *r)
{
	if (r->raw)
		tcsetattr(0, TCSANOW, &r->saved);
	r->raw = false;
}

/* Copies what is readable from FROM to TO; returns false at EOF/error. */
static bool pump(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	return fs_write_all(to, buf, (size_t)n) == 0;
}

static int monitor(pid_t pid, int sync, int sfd, const struct sandbox_spec *spec,
		   struct sandbox_result *res, const int nsfd[2], pid_t *fuse, struct err **err)
{
	struct relay rl = {.master = -1};
	bool sync_open = true;
	struct msg m;
	int status = 0, ret = 0;
	bool exited = false;

	while (!exited || (rl.master >= 0)) {
		struct pollfd p[4];
		int n = 0, i_sig, i_sync = -1, i_in = -1, i_master = -1;

		i_sig = n;
		p[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		if (sync_open) {
			i_sync = n;
			p[n++] = (struct pollfd){.fd = sync, .events = POLLIN};
		}
		if (rl.master >= 0) {
			i_master = n;
			p[n++] = (struct pollfd){.fd = rl.master, .events = POLLIN};
			if (rl.stdin_open && !exited) {
				i_in = n;
				p[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
			}
		}
		if (exited && rl.master >= 0) {
			/* Drain what the container wrote before it exited. */
			while (pump(rl.master, 1)) {
				struct pollfd q = {.fd = rl.master, .events = POLLIN};
				if (poll(&q, 1, 0) <= 0)
					break;
			}
			closep(&rl.master);
			break;
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = err_errno(err, errno, "poll");
			break;
		}
		if (p[i_sig].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					if (waitpid(pid, &status, WNOHANG) == pid)
						exited = true;
					if (*fuse > 0 && waitpid(*fuse, NULL, WNOHANG) == *fuse) {
						struct msg dead = {.type = MSG_FUSE, .code = EIO};
						char why[512];

						*fuse = 0;
						if (sync_open && ret == 0) {
							sandbox_fuse_last_words(spec, why,
										sizeof(why));
							ret = err_set(
							    err, EIO,
							    "fuse-overlayfs exited before it "
							    "mounted the rootfs: %s (is /dev/fuse "
							    "usable by this user?)",
							    why);
							(*err)->exit = 125;
						}
						if (!exited)
							send_msg(sync, &dead, -1);
					}
				} else if (si.ssi_signo == SIGWINCH) {
					if (rl.master >= 0)
						winsize_copy(0, rl.master);
				} else {
					kill(pid, (int)si.ssi_signo);
				}
			}
		}
		if (i_sync >= 0 && (p[i_sync].revents & (POLLIN | POLLHUP | POLLERR))) {
			int fd;
			ssize_t got = recv_msg(sync, &m, &fd);

			if (got <= 0) {
				/* EOF: execve succeeded (the socket is CLOEXEC). */
				sync_open = false;
			} else if (m.type == MSG_FUSE) {
				struct msg reply = {.type = MSG_FUSE};
				*fuse = sandbox_fuse_start(nsfd, spec, err);
				if (*fuse < 0) {
					ret = err_ret(*err);
					(*err)->exit = 125;
					reply.code = -ret;
					*fuse = 0;
				}
				send_msg(sync, &reply, -1);
			} else if (m.type == MSG_PTY && fd >= 0) {
				rl.master = fd;
				relay_start(&rl, spec);
			} else if (m.type == MSG_ERROR) {
				m.text[sizeof(m.text) - 1] = 0;
				if (ret == 0) { /* keep the monitor's own, more precise one */
					ret = err_set(err, m.code ? m.code : EIO, "%s", m.text);
					(*err)->exit = m.exit;
				}
				sync_open = false;
				if (fd >= 0)
					close(fd);
			}
		}
		if (i_master >= 0 && (p[i_master].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!pump(rl.master, 1)) {
				relay_stop(&rl);
				closep(&rl.master);
			}
		}
		if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!pump(0, rl.master)) {
				/* Our stdin ended: send EOF to the container. */
				char eot = 4;
				rl.stdin_open = false;
				if (write(rl.master, &eot, 1) < 0) {
					/* the container side is gone: its exit follows */
				}
			}
		}
	}
	relay_stop(&rl);
	if (sync_open && ret == 0) {
		/* The child is gone: a failure report may still be queued. */
		int fd;
		if (recv_msg(sync, &m, &fd) > 0 && m.type == MSG_ERROR) {
			m.text[sizeof(m.text) - 1] = 0;
			ret = err_set(err, m.code ? m.code : EIO, "%s", m.text);
			(*err)->exit = m.exit;
		}
		if (fd >= 0)
			close(fd);
	}
	if (!exited) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (ret < 0)
		return ret;
	if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
		res->exit_code = 128 + res->signal;
	} else {
		res->exit_code = WEXITSTATUS(status);
	}
	return 0;
}

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

int sandbox_run(const struct sandbox_spec *spec, struct sandbox_result *res, struct err **err)
{
	sigset_t block, old;
	_cleanup_close_ int sfd = -1;
	int sv[2], flags, ret;
	pid_t pid, fuse = 0;
	int nsfd[2] = {-1, -1};
	struct msg m = {.type = MSG_MAPS};
	static const int forwarded[] = {SIGINT,	 SIGTERM,  SIGHUP,  SIGQUIT, SIGUSR1,
					SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT};

	memset(res, 0, sizeof(*res));
	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&block, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, &block, &old) < 0)
		return err_errno(err, errno, "sigprocmask");
	sfd = signalfd(-1, &block, SFD_CLOEXEC);
	if (sfd < 0) {
		ret = err_errno(err, errno, "signalfd");
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = err_errno(err, errno, "socketpair");
		goto out;
	}
	flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
	if (spec->userns != SANDBOX_USERNS_HOST)
		flags |= CLONE_NEWUSER;
	if (spec->net != SANDBOX_NET_HOST)
		flags |= CLONE_NEWNET;
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0) {
		ret = err_errno(err, errno, "create the container's namespaces");
		close(sv[0]);
		close(sv[1]);
		goto out;
	}
	if (pid == 0) {
		close(sv[0]);
		child_main(spec, sv[1], &old);
	}
	close(sv[1]);
	if (spec->fuse_overlayfs && spec->overlay != SANDBOX_OVERLAY_KERNEL)
		open_ns(pid, nsfd);
	ret = userns_write_maps(pid, spec->userns, spec->uidmap, spec->n_uidmap, spec->gidmap,
				spec->n_gidmap, err);
	/* Non-dumpable from here on (the child turns itself the same way on
	 * MSG_MAPS): no ptrace, no /proc/<pid>/exe, environ or fd for anyone
	 * without CAP_SYS_PTRACE on the host. Not earlier: an unprivileged
	 * caller must own the child's /proc files to write its id maps. */
	if (ret == 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		ret = err_errno(err, errno, "PR_SET_DUMPABLE");
	if (ret == 0 && send_msg(sv[0], &m, -1) < 0)
		ret = err_errno(err, errno, "sync with container");
	if (ret < 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(sv[0]);
		goto out;
	}
	ret = monitor(pid, sv[0], sfd, spec, res, nsfd, &fuse, err);
	closep(&nsfd[0]);
	closep(&nsfd[1]);
	close(sv[0]);
	sandbox_fuse_stop(fuse);
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
