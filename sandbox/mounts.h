/*
 * sandbox/mounts.h - the container's filesystem: rootfs overlay, /proc with
 * masks, a minimal /dev, read-only /sys, generated /etc files, pivot_root.
 * Every function runs in the setup child, inside its user and mount
 * namespaces; none allocates after the spec was built.
 */
#ifndef MOAT_SANDBOX_MOUNTS_H
#define MOAT_SANDBOX_MOUNTS_H

#include "common/err.h"
#include "sandbox/spec.h"

/* Host fds the child needs before pivot_root, opened and checked early. */
struct host_fds {
	int lowers[128]; /* O_PATH dirs of the image layers, top first */
	size_t n_lowers;
	int upper, work;		/* O_PATH dirs */
	int rootdir;			/* O_PATH dir the overlay is mounted on */
	int devnull;			/* O_PATH, verified char 1:3 */
	int dev[6];			/* null zero full random urandom tty, O_PATH, verified */
	int files[3];			/* hosts hostname resolv.conf, O_PATH */
	int mounts[SANDBOX_MAX_MOUNTS]; /* each bind's source, re-found and
					 * checked (see spec.h); -1 for tmpfs */
	size_t n_mounts;
};

/* Opens and checks every host path in SPEC (in the monitor, before clone). */
int sandbox_host_fds_open(const struct sandbox_spec *spec, struct host_fds *h, struct err **err);
void sandbox_host_fds_close(struct host_fds *h);

/* Mounts the overlay rootfs; returns an O_PATH fd of the new root. */
int sandbox_rootfs_mount(const struct sandbox_spec *spec, const struct host_fds *h,
			 struct err **err);
/* Refuses an image whose /proc, /sys or /dev is not a directory. */
int sandbox_rootfs_check(int rootfd, struct err **err);
int sandbox_mount_proc(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		       struct err **err);
int sandbox_mount_dev(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		      struct err **err);
int sandbox_mount_sys(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		      struct err **err);
int sandbox_mount_etc(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		      struct err **err);
/* The user's mounts (binds, volumes, tmpfs), in SPEC's order (parents
 * before children), each target resolved beneath ROOTFD: seeded first when
 * asked, read-only and propagation set on the detached mount, then
 * attached. */
int sandbox_mount_user(int rootfd, const struct sandbox_spec *spec, const struct host_fds *h,
		       struct err **err);
/* Docker's copy-up (sandbox/seed.c): copies the image's content at TARGET
 * (beneath ROOTFD) into VOLFD (an O_PATH fd of an empty directory). */
int sandbox_seed_volume(int rootfd, const char *target, int volfd, struct err **err);
/* Opens the pty pair in the container's devpts; binds the slave on
 * /dev/console. Returns the master fd; *slave gets the slave. */
int sandbox_pty_open(int rootfd, bool console, int *slave, struct err **err);
/* Makes the root read-only (only the root mount, not /dev, /proc...). */
int sandbox_rootfs_readonly(int rootfd, struct err **err);
/* Creates the working directory if missing (Docker does). */
int sandbox_workdir_prepare(int rootfd, const char *cwd, struct err **err);
int sandbox_pivot(int rootfd, struct err **err);

#endif
