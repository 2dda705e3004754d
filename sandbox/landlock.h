/*
 * sandbox/landlock.h - Landlock confinement of the container's filesystem
 * writes, abstract unix sockets and signals.
 */
#ifndef MOAT_SANDBOX_LANDLOCK_H
#define MOAT_SANDBOX_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "sandbox/spec.h"

/* The kernel's Landlock ABI version, 0 when Landlock is unavailable. */
int sandbox_landlock_abi(void);

/*
 * Restricts the calling process (the container child, after pivot_root, with
 * no_new_privs already set). WRITABLE_ROOT: the rootfs itself may be written
 * (false with --read-only). MOUNTS (the user's): each one not read-only
 * stays writable even on a read-only root. Returns 0, or -errno; a kernel
 * without Landlock is not an error (returns 0 and *applied = false).
 */
int sandbox_landlock_apply(bool writable_root, const struct sandbox_mount *mounts, size_t n_mounts,
			   bool *applied);

#endif
