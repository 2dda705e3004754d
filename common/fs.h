/*
 * common/fs.h - fd-relative path and file helpers.
 *
 * Paths that came from an image, a user or a policy are resolved beneath an
 * open root with path_open_beneath(); they never reach a system call as a
 * string relative to "/". The fs_* helpers are for moat's own state paths.
 */
#ifndef MOAT_FS_H
#define MOAT_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/err.h"

/*
 * Opens PATH beneath ROOTFD as if ROOTFD were "/": absolute symlinks and ".."
 * stay inside, magic links are refused. Uses openat2(RESOLVE_IN_ROOT) and
 * falls back to a checked component walk where openat2 is unavailable.
 * FLAGS may include O_CREAT (final component only), O_PATH, O_DIRECTORY,
 * O_NOFOLLOW (final component is not followed).
 */
int path_open_beneath(int rootfd, const char *path, int flags, mode_t mode, struct err **err);
/* Creates every missing directory of PATH beneath ROOTFD; returns an
 * O_DIRECTORY fd of the last one. */
int path_mkdir_beneath(int rootfd, const char *path, mode_t mode, struct err **err);
/* Forces the fallback walk (tests; set by MOAT_NO_OPENAT2=1 too). */
void path_force_fallback(bool on);

/* mkdir -p for moat's own state directories. */
int fs_mkdir_p(const char *path, mode_t mode, struct err **err);
/* Writes NAME in DIRFD atomically: temp file, fsync, rename. */
int fs_write_atomic(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		    struct err **err);
/* Likewise; without DURABLE no fsync (state a crash makes moot anyway). */
int fs_write_atomic_ex(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
		       bool durable, struct err **err);
/* Reads all of FD, failing with EFBIG past CAP bytes. *out is NUL-terminated. */
int fs_read_fd(int fd, size_t cap, char **out, size_t *len, struct err **err);
int fs_read_at(int dirfd, const char *name, size_t cap, char **out, size_t *len, struct err **err);
/* rm -rf NAME in DIRFD, never following symlinks; makes unreadable
 * directories readable first (overlay work dirs are mode 000). ENOENT is
 * success. */
int fs_rm_rf_at(int dirfd, const char *name, struct err **err);
/* Writes a whole buffer, retrying on EINTR and short writes. */
int fs_write_all(int fd, const void *buf, size_t len);

#endif
