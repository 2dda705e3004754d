/*
 * sandbox/fuse.c - fuse-overlayfs as the rootfs when the kernel refuses
 * overlayfs in a user namespace (kernels before 5.11, or a distribution
 * that disables it).
 *
 * Runs in: the monitor (sandbox_fuse_start/stop) and the container's setup
 * child (sandbox_fuse_wait). Rootless only: root always has the kernel's
 * overlayfs.
 *
 * Invariants:
 *  - The helper joins the container's user and mount namespaces with setns
 *    but never its pid namespace: the daemon is invisible to the container,
 *    which therefore cannot ptrace, signal or starve it.
 *  - It mounts only inside the container's mount namespace; when the
 *    container exits the monitor ends the helper and the namespace, with
 *    the mount, goes away. Nothing is mounted on the host.
 *  - Paths are moat's own state paths; one with ',' or ':' (option
 *    separators for fuse-overlayfs) is refused rather than mangled.
 */
#include "sandbox/fuse.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define FUSE_WAIT_MS 10000

static bool plain(const char *p)
{
	return !strpbrk(p, ",:");
}

pid_t sandbox_fuse_start(const int nsfd[2], const struct sandbox_spec *spec, struct err **err)
{
	char opts[8192];
	size_t off;
	pid_t pid;
	int w;

	if (!spec->fuse_overlayfs)
		return err_set(err, ENOENT,
			       "fuse-overlayfs is not installed (Debian package fuse-overlayfs)");
	w = snprintf(opts, sizeof(opts), "lowerdir=");
	off = (size_t)w;
	for (size_t i = 0; spec->lowers[i]; i++) {
		if (!plain(spec->lowers[i]))
			return err_set(err, EINVAL, "layer path \"%s\" has ',' or ':'",
				       spec->lowers[i]);
		w = snprintf(opts + off, sizeof(opts) - off, "%s%s", i ? ":" : "", spec->lowers[i]);
		if (w < 0 || (size_t)w >= sizeof(opts) - off)
			return err_set(err, E2BIG, "too many layers for fuse-overlayfs");
		off += (size_t)w;
	}
	if (!spec->fuse_root || !spec->fuse_log)
		return err_set(err, EINVAL, "no directory for the fuse-overlayfs helper's root");
	if (!plain(spec->upper) || !plain(spec->work))
		return err_set(err, EINVAL, "state path \"%s\" has ',' or ':'", spec->upper);
	w = snprintf(opts + off, sizeof(opts) - off, ",upperdir=%s,workdir=%s", spec->upper,
		     spec->work);
	if (w < 0 || (size_t)w >= sizeof(opts) - off)
		return err_set(err, E2BIG, "fuse-overlayfs options too long");

	pid = fork();
	if (pid < 0)
		return err_errno(err, errno, "fork fuse-overlayfs");
	if (pid == 0) {
		static char mnt[64];
		char *argv[] = {spec->fuse_overlayfs, "-f", "-o", opts, mnt, NULL};
		char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};

		/* Die with the monitor, like the container. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* User namespace first: it grants what joining the mount
		 * namespace needs. */
		for (size_t i = 0; i < 2; i++) {
			if (setns(nsfd[i], 0) < 0) {
				fprintf(stderr, "moat: fuse-overlayfs helper: join namespace: %s\n",
					strerror(errno));
				_exit(125);
			}
		}
		/*
		 * The child will pivot_root in this mount namespace, which
		 * moves the root of every process whose root is the old one.
		 * So the daemon roots itself in a recursive bind of "/" (its
		 * own root mount, untouched by the pivot and still whole
		 * after the old root is detached) and mounts on the staging
		 * dir through an fd opened before, so the FUSE mount lands in
		 * the child's tree.
		 */
		int log = open(spec->fuse_log,
			       O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (log >= 0 && (dup2(log, 1) < 0 || dup2(log, 2) < 0))
			_exit(125);
		int target = open(spec->mountpoint, O_PATH | O_DIRECTORY);
		if (target < 0 || mount("/", spec->fuse_root, NULL, MS_BIND | MS_REC, NULL) < 0 ||
		    chroot(spec->fuse_root) < 0 || chdir("/") < 0) {
			fprintf(stderr, "moat: fuse-overlayfs helper: own root: %s\n",
				strerror(errno));
			_exit(125);
		}
		snprintf(mnt, sizeof(mnt), "/proc/self/fd/%d", target);
		execve(spec->fuse_overlayfs, argv, envp);
		fprintf(stderr, "moat: exec %s: %s\n", spec->fuse_overlayfs, strerror(errno));
		_exit(125);
	}
	return pid;
}

int sandbox_fuse_wait(const struct sandbox_spec *spec, int sync, struct err **err)
{
	struct timespec start, now;
	struct statfs s;
	struct pollfd p = {.fd = sync, .events = POLLIN};

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (statfs(spec->mountpoint, &s) == 0 &&
		    (unsigned long)s.f_type == FUSE_SUPER_MAGIC) {
			int fd = open(spec->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				return err_errno(err, errno, "open fuse-overlayfs root");
			return fd;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >
		    FUSE_WAIT_MS)
			return err_set(err, ETIMEDOUT,
				       "fuse-overlayfs did not mount the rootfs within %d s (is "
				       "/dev/fuse usable by this user?)",
				       FUSE_WAIT_MS / 1000);
		/* Anything from the monitor now means the helper died. */
		if (poll(&p, 1, 1) > 0)
			return err_set(err, EIO,
				       "fuse-overlayfs exited before it mounted the rootfs");
	}
}

void sandbox_fuse_last_words(const struct sandbox_spec *spec, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(spec->fuse_log, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char text[4096];
	ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	char *line, *save = NULL;

	snprintf(buf, size, "no message");
	if (n <= 0)
		return;
	text[n] = 0;
	/* The last line that says something (not its option warnings). */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strstr(line, "unknown argument ignored"))
			snprintf(buf, size, "%s", line);
}

void sandbox_fuse_stop(pid_t helper)
{
	if (helper <= 0)
		return;
	/* SIGKILL: on SIGTERM fuse-overlayfs tries to unmount from a mount
	 * namespace that is going away and can hang. Its writes went straight
	 * to the upper dir, so nothing is lost. */
	kill(helper, SIGKILL);
	while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
		;
}
