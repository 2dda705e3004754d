/*
 * image/gc.h - garbage collection of the image store, and what prune
 * filters read of an image (its config's creation time and labels).
 *
 * Runs in: the moat CLI process (`image prune`, `system prune`), as root
 * or as the invoking user; a USERNS layer tree is removed from inside the
 * user namespace, as image/store.c removes one.
 */
#ifndef MOAT_IMAGE_GC_H
#define MOAT_IMAGE_GC_H

#include <stdint.h>

#include "common/err.h"
#include "image/image.h"

struct image_gc_report {
	uint64_t blobs;	 /* blobs (and blob temp files) removed */
	uint64_t layers; /* layer trees (and leftovers of extractions) removed */
	uint64_t bytes;	 /* their size: file sizes (regular files and symlinks) */
};

/*
 * Removes, under the store's exclusive lock, what no image record
 * references: blobs in ROOT/blobs/sha256 other than the records' configs,
 * manifests and layer blobs; layer trees (and their counts files) in
 * ROOT/layers/<every id mode>/ whose DiffID no record lists; the
 * ".tmp-*" leftovers of older moats in both. Staging directories
 * (ROOT/tmp) are not touched: a pull or load in progress keeps everything
 * it holds there (a blob it reuses is hard-linked into its staging
 * directory), and publishes under the same exclusive lock. When a record
 * cannot be read nothing is collected (-EIO): its blobs may be in use.
 * MODE is the id mode the store was opened with (for USERNS trees).
 * Trees of another identity that cannot be removed are skipped.
 * REP is filled with what went (also on error: what went before it).
 */
int image_store_gc(struct image_store *s, const struct image_idmode *mode,
		   struct image_gc_report *rep, struct err **err);

/*
 * What a prune filter looks at for image ID ("sha256:<hex>"): its
 * config's "created" in unix ns (-1 when absent or unreadable) and its
 * config Labels as "K=V" (NULL-terminated, maybe empty). The config blob
 * is read under the shared lock and checked against ID. ENOENT: no such
 * image (removed meanwhile).
 */
int image_store_prune_meta(struct image_store *s, const char *id, int64_t *created_ns,
			   char ***labels, struct err **err);

#endif
