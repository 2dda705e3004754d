/*
 * tests/escape/helpers/storage-attack.c - the attacker's half of the
 * storage escape tests (tests/escape/cve-2021-30465.bats,
 * cve-2024-45310.bats, bind-source-race.bats, volume-readonly.bats).
 *
 * Runs in: a moat container (added to the test image at /sa), or on the
 * host as the unprivileged "attacker next door".  Built static (-static
 * -O2 -Wall -Wextra -Werror) because busybox has no renameat2 and the test
 * image has no libc.
 *
 *   sa exchange DIR A B [SECONDS]
 *       Swaps the names A and B in DIR with renameat2(RENAME_EXCHANGE) in
 *       a tight loop (the CVE-2021-30465 / CVE-2024-45310 racer), until
 *       SECONDS have passed or DIR/.stop exists.  After the first 1000
 *       swaps it creates DIR/.ready; on the way out it restores the names
 *       (an even number of swaps) and prints "swaps: N".  Exit 0 only if
 *       it swapped at all: a racer that never raced proves nothing.
 *
 *   sa ro-attack DIR
 *       Every way a process in the container might make the read-only
 *       mount DIR writable or get rid of it, each in a forked child,
 *       one line each:  NAME actual=OK|ERRNO
 *       then "write-after" (a file created in DIR once all of them ran).
 *       The bats file decides which results are acceptable; the helper
 *       only reports.  A write that works is removed again.
 *
 * Invariants: nothing here follows a path outside the directory it was
 * given, and nothing is done with a success beyond reporting it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
/* The new mount API's numbers are the same on every architecture (5.2+). */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
#ifndef FSCONFIG_SET_FLAG
#define FSCONFIG_SET_FLAG 0
#endif
#ifndef FSCONFIG_CMD_RECONFIGURE
#define FSCONFIG_CMD_RECONFIGURE 7
#endif

struct attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static const char *ename(int e)
{
	switch (e) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EACCES:
		return "EACCES";
	case EBUSY:
		return "EBUSY";
	case EINVAL:
		return "EINVAL";
	case EROFS:
		return "EROFS";
	case ENOSYS:
		return "ENOSYS";
	case ENOTDIR:
		return "ENOTDIR";
	case EXDEV:
		return "EXDEV";
	case ELOOP:
		return "ELOOP";
	default: {
		static char buf[32];
		snprintf(buf, sizeof(buf), "E%d", e);
		return buf;
	}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmd_exchange(const char *dir, const char *a, const char *b, const char *secs)
{
	double end = now() + (secs ? atof(secs) : 600.0);
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	unsigned long n = 0, fails = 0, iter = 0;
	int last = 0;

	if (dfd < 0) {
		fprintf(stderr, "sa: open %s: %s\n", dir, strerror(errno));
		return 2;
	}
	for (;;) {
		if (syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE) == 0) {
			n++;
		} else {
			last = errno;
			/* The names are gone (the test tore the directory
			 * down): nothing left to race. */
			if (++fails > 100000 || (fails > 1000 && n == 0))
				break;
		}
		if (n == 1000) {
			int fd = openat(dfd, ".ready", O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
					0644);
			if (fd >= 0)
				close(fd);
		}
		if ((++iter & 255) == 0 &&
		    (faccessat(dfd, ".stop", F_OK, AT_SYMLINK_NOFOLLOW) == 0 || now() > end))
			break;
	}
	/* Leave the names as they were found. */
	if (n % 2 && syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE) == 0)
		n++;
	printf("swaps: %lu\n", n);
	if (n == 0)
		fprintf(stderr, "sa: renameat2 never worked: %s\n", ename(last));
	return n ? 0 : 1;
}

/* Runs FN(DIR) in a child; prints NAME actual=OK|ERRNO. */
static void attempt(const char *name, int (*fn)(const char *), const char *dir)
{
	int st = 0, p[2];
	pid_t pid;
	int r = 0;

	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		r = fn(dir);
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	if (pid < 0 || read(p[0], &r, sizeof(r)) != sizeof(r)) {
		waitpid(pid, &st, 0);
		printf("%s actual=%s\n", name,
		       WIFSIGNALED(st) ? "SIGNAL" : (pid < 0 ? "FORKFAIL" : "NORESULT"));
		close(p[0]);
		return;
	}
	close(p[0]);
	waitpid(pid, &st, 0);
	printf("%s actual=%s\n", name, r == 0 ? "OK" : ename(r));
}

static int write_file(const char *dir)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/.sa-write-%d", dir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	unlink(path);
	return 0;
}

static int make_dir(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/.sa-dir-%d", dir, (int)getpid());
	if (mkdir(path, 0755) < 0)
		return errno;
	rmdir(path);
	return 0;
}

static int remount_rw_bind(const char *dir)
{
	return mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND, NULL) < 0 ? errno : 0;
}

static int remount_rw(const char *dir)
{
	return mount(NULL, dir, NULL, MS_REMOUNT, NULL) < 0 ? errno : 0;
}

static int bind_over(const char *dir)
{
	return mount("/", dir, NULL, MS_BIND, NULL) < 0 ? errno : 0;
}

static int do_umount(const char *dir)
{
	return umount2(dir, 0) < 0 ? errno : 0;
}

static int do_umount_detach(const char *dir)
{
	return umount2(dir, MNT_DETACH) < 0 ? errno : 0;
}

static int setattr_clear_ro(const char *dir)
{
	struct attr a = {.attr_clr = MOUNT_ATTR_RDONLY};

	return syscall(SYS_mount_setattr, AT_FDCWD, dir, 0, &a, sizeof(a)) < 0 ? errno : 0;
}

/* A writable clone of the read-only mount: the data under it is the
 * same, so a write through it would land in the volume. */
static int clone_clear_ro_write(const char *dir)
{
	struct attr a = {.attr_clr = MOUNT_ATTR_RDONLY};
	int t = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | O_CLOEXEC);
	int fd;

	if (t < 0)
		return errno;
	if (syscall(SYS_mount_setattr, t, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		return errno;
	fd = openat(t, ".sa-clone", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	unlinkat(t, ".sa-clone", 0);
	return 0;
}

/* The clone moved somewhere else in the container's tree. */
static int clone_move(const char *dir)
{
	int t = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | O_CLOEXEC);

	if (t < 0)
		return errno;
	if (syscall(SYS_move_mount, t, "", AT_FDCWD, "/tmp", MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return errno;
	return 0;
}

/* The superblock reconfigured read-write. */
static int fspick_rw(const char *dir)
{
	int fs = (int)syscall(SYS_fspick, AT_FDCWD, dir, 0);

	if (fs < 0)
		return errno;
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FLAG, "rw", NULL, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_RECONFIGURE, NULL, NULL, 0) < 0)
		return errno;
	return 0;
}

static int cmd_ro_attack(const char *dir)
{
	static const struct {
		const char *name;
		int (*fn)(const char *);
	} ops[] = {
	    {"write", write_file},
	    {"mkdir", make_dir},
	    {"remount-rw-bind", remount_rw_bind},
	    {"remount-rw", remount_rw},
	    {"bind-over", bind_over},
	    {"umount", do_umount},
	    {"umount-detach", do_umount_detach},
	    {"mount-setattr-clear-ro", setattr_clear_ro},
	    {"open-tree-clone-rw-write", clone_clear_ro_write},
	    {"open-tree-clone-move", clone_move},
	    {"fspick-reconfigure-rw", fspick_rw},
	    {"write-after", write_file},
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		attempt(ops[i].name, ops[i].fn, dir);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && !strcmp(argv[1], "exchange"))
		return cmd_exchange(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
	if (argc == 3 && !strcmp(argv[1], "ro-attack"))
		return cmd_ro_attack(argv[2]);
	fputs("usage: sa exchange DIR A B [SECONDS] | ro-attack DIR\n", stderr);
	return 2;
}
