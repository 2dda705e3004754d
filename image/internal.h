/*
 * image/internal.h - what store.c shares with load.c and demo.c: adding
 * images to the store as one transaction. Not for other modules.
 *
 * A transaction stages files in a private directory under ROOT/tmp; each
 * staged file is verified (hashed) by the caller before it is adopted as
 * a blob. Commit takes the store lock, renames the blobs into place,
 * writes the image records and then the names index; on any failure it
 * undoes what it added, so the store is as it was.
 */
#ifndef MOAT_IMAGE_INTERNAL_H
#define MOAT_IMAGE_INTERNAL_H

#include <stdint.h>

#include "common/err.h"
#include "image/image.h"

struct store_layer {
	char *digest;	  /* blob digest, "sha256:<hex>" */
	char *media_type; /* as the manifest says */
	char *diff_id;	  /* "sha256:<hex>" of the uncompressed tar */
	uint64_t size;	  /* uncompressed size */
};

struct store_record {
	char id[7 + 64 + 1];	   /* config digest */
	char manifest[7 + 64 + 1]; /* manifest digest */
	int64_t created;
	uint64_t size;
	struct store_layer *layers;
	size_t n_layers;
};

/* The names index and image records (image/records.c). */
struct store_names {
	struct image_kv *kv;
	size_t n, cap;
};
void store_names_clear(struct store_names *nm);
int store_names_set(struct store_names *nm, const char *name, const char *id, struct err **err);
void store_names_del(struct store_names *nm, size_t i);
const char *store_names_get(const struct store_names *nm, const char *name);
/* ROOTFD/names.json; a missing file is an empty index. */
int store_names_load(int rootfd, struct store_names *nm, struct err **err);
int store_names_save(int rootfd, const struct store_names *nm, struct err **err);
int store_record_encode(const struct store_record *r, char **out, struct err **err);
/* IMAGESFD/<HEX>.json, checked against HEX. */
int store_record_load(int imagesfd, const char *hex, struct store_record *r, struct err **err);
void store_record_clear(struct store_record *r);

struct store_txn;

int store_txn_begin(struct image_store *s, struct store_txn **out, struct err **err);
/* The staging directory: callers create their temp files in it. */
int store_txn_dirfd(const struct store_txn *t);
/* A new staging file name, unique within the transaction ("s<N>"). */
void store_txn_tmpname(struct store_txn *t, char name[32]);
/* Adopts staged file NAME, whose content the caller has verified to hash
 * to HEX, as blob HEX. */
int store_txn_add_blob(struct store_txn *t, const char *name, const char *hex, struct err **err);
/* Writes BUF as a staged file and adopts it; fills HEX. */
int store_txn_add_bytes(struct store_txn *t, const void *buf, size_t len, char hex[64 + 1],
			struct err **err);
/*
 * Extracts the staged layer blob NAME for the store's id mode into a
 * temporary tree (published under its DiffID at commit), checking that
 * its DiffID is DIFF_ID; fills SIZE with the uncompressed size. A layer
 * already present is only re-hashed. This is where a hostile layer is
 * refused at load time.
 */
int store_txn_add_layer(struct store_txn *t, const char *name, const char *diff_id, uint64_t *size,
			struct err **err);
/* REC is copied; NAMES (normalised references) may be NULL. */
int store_txn_add_image(struct store_txn *t, const struct store_record *rec, char **names,
			struct err **err);
int store_txn_commit(struct store_txn *t, struct err **err);
/* Aborts an uncommitted transaction; removes the staging directory. */
void store_txn_free(struct store_txn *t);

/* Writes all of FD from offset 0 through sha256; fills HEX and SIZE. */
int store_hash_fd(int fd, char hex[64 + 1], uint64_t *size, struct err **err);

#endif
