/*
 * engine/diff.h - PURE: what `moat diff` reports, from a listing of a
 * container's writable (upper) overlay layer and a way to ask what its
 * image (the merged lower layers) holds at a path.
 *
 * Runs in: the moat CLI process, as the invoking user or root. Nothing
 * here touches the filesystem: the caller walks the upper layer (cli/diff.c)
 * and answers the lookups; the unit tests answer them from tables.
 *
 * Docker's semantics, as its overlay driver reports them:
 *  - an overlay whiteout (a 0/0 character device) deletes what the image
 *    had there: "D /path" (a whiteout over nothing hides nothing and is not
 *    reported);
 *  - any other entry is "C /path" when the image has the path, else
 *    "A /path" (so everything below a new directory is A);
 *  - a directory that the image has is C when something below it is
 *    reported, when it is opaque (deleted and made again: then the image's
 *    children that the upper layer does not have are D), when its contents
 *    could not be read, or when its type, permissions or owner differ;
 *    a directory that is only there because the container wrote below it
 *    is otherwise not a change;
 *  - moat's own mount targets (HIDDEN: /etc/hosts, /proc, ...) are never
 *    changes, like the files of Docker's "init" layer; a new directory
 *    that holds nothing but hidden entries is not reported either.
 * Changes come out in the order of a depth-first walk with names sorted
 * bytewise (diff_path_cmp), which is the order Docker prints.
 */
#ifndef MOAT_ENGINE_DIFF_H
#define MOAT_ENGINE_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define DIFF_MAX_ENTRIES 1000000u /* upper-layer entries examined */
#define DIFF_PATH_MAX 4096	  /* bytes of a path, with its NUL */

enum diff_entry_type {
	DIFF_ENTRY_DIR,
	DIFF_ENTRY_OTHER,    /* a file, symlink, device, fifo or socket */
	DIFF_ENTRY_WHITEOUT, /* the overlay's deletion marker */
};

/* One entry of the upper layer. */
struct diff_entry {
	const char *path; /* canonical absolute path: "/etc/passwd" (not "/") */
	enum diff_entry_type type;
	bool opaque;	   /* DIR: marked opaque (overlay.opaque = "y") */
	bool unreadable;   /* DIR: its contents could not be listed */
	uint32_t mode;	   /* permission bits (07777) */
	uint32_t uid, gid; /* as stored on the host */
};

/* What the image has at a path. */
struct diff_lower {
	bool dir;
	uint32_t mode; /* permission bits (07777) */
	uint32_t uid, gid;
};

struct diff_lower_ops {
	/* 1 with *OUT filled when the image has PATH, 0 when it has not,
	 * negative errno (and *ERR) when that cannot be told. */
	int (*lookup)(void *arg, const char *path, struct diff_lower *out, struct err **err);
	/* The names in the image's directory PATH (without "." and ".."), as a
	 * malloc'd NULL-terminated array of malloc'd strings. */
	int (*list)(void *arg, const char *path, char ***names, struct err **err);
};

enum diff_kind {
	DIFF_ADDED = 'A',
	DIFF_CHANGED = 'C',
	DIFF_DELETED = 'D',
};

struct diff_change {
	enum diff_kind kind;
	char *path;
};

/*
 * Classifies the N upper-layer entries E (in any order). HIDDEN is a
 * NULL-terminated list of paths that are never changes (with all below
 * them); NULL hides nothing. Fills *OUT (malloc'd, never NULL on success;
 * diff_changes_free it) with *NOUT changes in diff_path_cmp order.
 * Errors: -EINVAL for a path that is not canonical, too long, or repeated
 * (and -E2BIG for more than DIFF_MAX_ENTRIES entries), -ENOMEM, or what a
 * lookup returned.
 */
int diff_changes_classify(const struct diff_entry *e, size_t n, const char *const *hidden,
			  const struct diff_lower_ops *ops, void *arg, struct diff_change **out,
			  size_t *nout, struct err **err);
void diff_changes_free(struct diff_change *c, size_t n);

/* True for "/a/b" style paths: absolute, no empty, "." or ".." component,
 * no trailing '/', shorter than DIFF_PATH_MAX; "/" itself is not one. */
bool diff_path_valid(const char *path);
/* Depth-first order: like strcmp, except that '/' sorts before every other
 * byte, so "/a/b" comes right after "/a" and before "/a-b". */
int diff_path_cmp(const char *a, const char *b);

/* The paths moat mounts over in every container (NULL-terminated). */
extern const char *const diff_mount_targets[];

#endif
