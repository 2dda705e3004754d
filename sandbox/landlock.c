/*
 * sandbox/landlock.c - Landlock rules for the container.
 *
 * Runs in: the container's setup child, after pivot_root (Landlock rules
 * follow bind mounts but not overlayfs layers, so they are attached to the
 * final tree), after no_new_privs and before capabilities are dropped and
 * seccomp is loaded. No allocation.
 *
 * Rules (every right the kernel's ABI knows is handled, so anything not
 * granted below is denied). Landlock grants are inherited by everything
 * beneath a directory, so write rights are never granted on "/" itself:
 *  - "/": read, execute, list.
 *  - every top-level entry of the rootfs except /dev, /proc and /sys: every
 *    write right when the rootfs is writable (none with --read-only).
 *    Device creation (MAKE_CHAR, MAKE_BLOCK) is never granted anywhere.
 *  - "/dev": write existing files, ioctl on devices (the tty), but no new
 *    files: nothing can be planted next to the device nodes.
 *  - "/dev/shm", "/dev/mqueue": writable trees.
 *  - "/proc": write existing files only (procfs is further limited by its
 *    read-only and masked mounts); "/sys": read only.
 *  - New entries directly in "/" are refused (a tightening over Docker).
 *  - Scopes (ABI 6): abstract unix sockets and signals may not leave the
 *    container's domain (the CVE-2020-15257 class under --network host).
 */
#include "sandbox/landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* The ruleset attr as of ABI 6 (handled_access_net and scoped appended). */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define FS_READ \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE_FILES (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE)
#define FS_WRITE_TREE                                                                      \
	(FS_WRITE_FILES | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	 LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |                       \
	 LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |                     \
	 LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER)

int sandbox_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v < 0 ? 0 : (int)v;
}

static uint64_t handled_fs(int abi)
{
	uint64_t all = FS_READ | FS_WRITE_TREE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
		       LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_IOCTL_DEV;

	if (abi < 2)
		all &= ~LANDLOCK_ACCESS_FS_REFER;
	if (abi < 3)
		all &= ~LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi < 5)
		all &= ~LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

/* Adds ACCESS beneath PATH (a directory), or the file rights of ACCESS on
 * a regular file; anything else is skipped. */
static int add_rule(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = {0};
	struct stat st;
	int fd, r;

	fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
		close(fd);
		return 0;
	}
	if (S_ISREG(st.st_mode))
		access &=
		    FS_WRITE_FILES | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_EXECUTE;
	pb.allowed_access = access & handled;
	pb.parent_fd = fd;
	r = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	r = r < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Write rights on each top-level entry of the rootfs but the API trees. */
static int add_top_level(int ruleset, uint64_t handled)
{
	char buf[4096], path[300];
	int dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	long n;

	if (dfd < 0)
		return -errno;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 {
				uint64_t d_ino;
				int64_t d_off;
				unsigned short d_reclen;
				unsigned char d_type;
				char d_name[];
			} *d = (void *)(buf + off);
			const char *nm = d->d_name;

			off += d->d_reclen;
			if (!strcmp(nm, ".") || !strcmp(nm, "..") || !strcmp(nm, "dev") ||
			    !strcmp(nm, "proc") || !strcmp(nm, "sys"))
				continue;
			snprintf(path, sizeof(path), "/%s", nm);
			if ((r = add_rule(ruleset, path, FS_READ | FS_WRITE_TREE, handled)) < 0)
				goto out;
		}
	}
	if (n < 0)
		r = -errno;
out:
	close(dfd);
	return r;
}

int sandbox_landlock_apply(bool writable_root, const struct sandbox_mount *mounts, size_t n_mounts,
			   bool *applied)
{
	struct ll_ruleset_attr attr = {0};
	size_t attr_size;
	int abi = sandbox_landlock_abi(), ruleset, r = 0;
	uint64_t h;

	*applied = false;
	if (abi <= 0)
		return 0;
	h = handled_fs(abi);
	attr.handled_access_fs = h;
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	} else {
		attr_size = sizeof(uint64_t);
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0)
		return -errno;
	if ((r = add_rule(ruleset, "/", FS_READ, h)) < 0 ||
	    (r = add_rule(ruleset, "/dev", FS_WRITE_FILES | LANDLOCK_ACCESS_FS_IOCTL_DEV, h)) < 0 ||
	    (r = add_rule(ruleset, "/dev/shm", FS_WRITE_TREE, h)) < 0 ||
	    (r = add_rule(ruleset, "/dev/mqueue", FS_WRITE_TREE, h)) < 0 ||
	    (r = add_rule(ruleset, "/proc", FS_WRITE_FILES, h)) < 0)
		goto out;
	if (writable_root && (r = add_top_level(ruleset, h)) < 0)
		goto out;
	for (size_t i = 0; i < n_mounts; i++)
		if (!mounts[i].readonly &&
		    (r = add_rule(ruleset, mounts[i].target, FS_READ | FS_WRITE_TREE, h)) < 0)
			goto out;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		r = -errno;
		goto out;
	}
	*applied = true;
out:
	close(ruleset);
	return r;
}
