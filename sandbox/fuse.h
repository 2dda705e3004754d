/*
 * sandbox/fuse.h - the rootfs through fuse-overlayfs, for kernels that
 * refuse overlayfs in a user namespace.
 */
#ifndef MOAT_SANDBOX_FUSE_H
#define MOAT_SANDBOX_FUSE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"
#include "sandbox/spec.h"

/*
 * Monitor side: starts fuse-overlayfs in the foreground in a helper that
 * joins the container's user and mount namespaces (NSFD, opened by the
 * monitor right after clone, while the child was still dumpable) but stays in the host's pid
 * namespace, so nothing in the container can see or signal it. Returns the
 * helper's pid; the monitor ends it after the container exits.
 */
pid_t sandbox_fuse_start(const int nsfd[2], const struct sandbox_spec *spec, struct err **err);
/* Child side: waits (bounded) until the FUSE mount is on SPEC->mountpoint
 * and returns an O_PATH fd of its root; any message on SYNC meanwhile means
 * the helper died. */
int sandbox_fuse_wait(const struct sandbox_spec *spec, int sync, struct err **err);
/* The last meaningful line the helper logged (its stderr goes to
 * SPEC->fuse_log, so its chatter never reaches the container's output). */
void sandbox_fuse_last_words(const struct sandbox_spec *spec, char *buf, size_t size);
/* Ends the helper (the mount goes with the container's mount namespace). */
void sandbox_fuse_stop(pid_t helper);

#endif
