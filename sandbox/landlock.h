/*
 * sandbox/landlock.h - Landlock confinement of the container's filesystem
 * writes, abstract unix sockets and signals.
 */
#ifndef MOAT_SANDBOX_LANDLOCK_H
#define MOAT_SANDBOX_LANDLOCK_H

#include <stdbool.h>

/* The kernel's Landlock ABI version, 0 when Landlock is unavailable. */
int sandbox_landlock_abi(void);

/*
 * Restricts the calling process (the container child, after pivot_root, with
 * no_new_privs already set). WRITABLE_ROOT: the rootfs itself may be written
 * (false with --read-only). Returns 0, or -errno; a kernel without Landlock
 * is not an error (returns 0 and *applied = false).
 */
int sandbox_landlock_apply(bool writable_root, bool *applied);

#endif
