/*
 * image/commit.h - `moat commit`, the store's half: Docker's --change
 * instructions applied to an image config (PURE), the tar of a
 * container's upper directory with overlay whiteouts turned into OCI
 * ones, and the one store transaction that adds the new image.
 *
 * Runs in: the moat CLI process, as the invoking user or root; the tar is
 * written in a child inside the container's user namespace (see
 * image_store_commit). engine/commit.c finds the container and decides
 * the identity, the pause and the admission.
 */
#ifndef MOAT_IMAGE_COMMIT_H
#define MOAT_IMAGE_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "image/image.h"
#include "sandbox/spec.h"

#define IMAGE_COMMIT_CHANGES_MAX 256	    /* --change flags per commit */
#define IMAGE_COMMIT_CHANGE_MAX (64u << 10) /* bytes of one --change */
#define IMAGE_COMMIT_TEXT_MAX (64u << 10)   /* bytes of -m and -a each */
#define IMAGE_COMMIT_MAX_DEPTH 512	    /* directory nesting in the tar */

/* What the new history entry and config say besides the changes. */
struct image_commit_meta {
	const char *author;	/* -a; NULL or "": none */
	const char *comment;	/* -m; NULL or "": none */
	const char *created_by; /* the history entry's created_by */
	const char *container;	/* the container's id (Docker's "container") */
	int64_t created;	/* unix seconds */
	const char *diff_id;	/* the new layer, or NULL when the layer is empty */
};

/*
 * PURE. The config CFG[0..LEN) of the parent image, with the Dockerfile
 * instructions CHANGES (NULL-terminated; each may hold several lines)
 * applied in order as Docker's commit applies them: CMD, ENTRYPOINT (JSON
 * or shell form; an ENTRYPOINT resets Cmd unless a CMD came before it),
 * ENV, LABEL (name=value pairs or the legacy "name value"), EXPOSE,
 * VOLUME, USER, WORKDIR (relative to the previous one), STOPSIGNAL, with
 * $VAR expansion from the config's Env where Docker does it. Any other
 * instruction (ONBUILD, HEALTHCHECK, RUN, ...) is Docker's "<instr> is not
 * a valid change command"; malformed arguments are Docker's parse errors.
 * Then: "created" = META's time, "author", "container", one history entry
 * (placeholders first when the parent's history covers fewer layers than
 * its rootfs has), and META->diff_id appended to rootfs.diff_ids.
 * *OUT is the new config, compact JSON (malloc'd).
 */
int image_commit_config(const char *cfg, size_t len, char *const *changes,
			const struct image_commit_meta *meta, char **out, size_t *outlen,
			struct err **err);

/* PURE: CHANGES checked on an empty config, so that a bad --change fails
 * before a container is paused or anything is written. */
int image_commit_changes_check(char *const *changes, struct err **err);

/*
 * Writes the tree under DIRFD (an overlay upper directory) to OUTFD as a
 * tar (pax): every entry with the owner and mode stat() shows the calling
 * process, sorted by name, directories before their contents; a 0/0
 * character device becomes ".wh.NAME", a directory marked opaque
 * (user.overlay.opaque, trusted.overlay.opaque or
 * user.fuseoverlayfs.opaque = "y") gets "DIR/.wh..wh..opq" right after it;
 * ".wh.*" files fuse-overlayfs left stay as they are; hard links within
 * the tree are kept; user.* xattrs but the overlay's go along; sockets and
 * other device nodes are skipped. SKIP (NULL-terminated relative paths,
 * may be NULL) are left out with everything below them. *ENTRIES: how many
 * entries were written (0: an empty layer). Does not enter a namespace:
 * image_store_commit runs it in one.
 */
int image_commit_tar(int dirfd, int outfd, const char *const *skip, uint64_t *entries,
		     struct err **err);

/*
 * Adds to the store the image PARENT (an image id) + one layer holding the
 * tree UPPERFD, with CHANGES and META applied (image_commit_config), named
 * NAME (a normalised reference, or NULL: dangling), in one transaction
 * that goes through the store's admission hook. The tar is written by a
 * child in a user namespace with the maps of IDS (USERNS; none for
 * SANDBOX_USERNS_HOST), so that owners are the container's ids and every
 * file is readable as its root. An empty tree adds no layer (Docker: the
 * history entry is then empty_layer). ID: the new image id.
 */
struct image_commit_src {
	const char *parent;		/* "sha256:<hex>" */
	int upperfd;			/* the container's upper directory */
	enum sandbox_userns userns;	/* how to enter the container's ids */
	const struct image_idmode *ids; /* their maps */
	const char *const *skip;	/* passed to image_commit_tar */
};
int image_store_commit(struct image_store *s, const struct image_commit_src *src,
		       char *const *changes, const struct image_commit_meta *meta, const char *name,
		       char id[72], struct err **err);

#endif
