/*
 * image/internal.h - what store.c shares with the rest of image/ (load.c,
 * demo.c, pull.c, push.c, save.c): the store's directories and lock,
 * image records and the names index, and adding images to the store as
 * one transaction. Not for other modules.
 *
 * A transaction stages files in a private directory under ROOT/tmp, which
 * it holds flocked for its whole life; each staged file is verified
 * (hashed) by the caller before it is adopted as a blob, and layers are
 * extracted into trees inside that directory. Commit takes the store
 * lock, renames the blobs and layer trees into place, writes the image
 * records (or adds repo digests to those already there) and then the
 * names index; on any failure it undoes what it did, so the store is as
 * it was. A staging directory whose lock can be
 * taken belongs to a process that is gone: the next transaction (or
 * image_store_open) removes it.
 */
#ifndef MOAT_IMAGE_INTERNAL_H
#define MOAT_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "image/image.h"

/* ---- the store's directories and lock (image/store.c) ---- */

enum store_dir {
	STORE_DIR_ROOT,	  /* ROOT: names.json, store.lock */
	STORE_DIR_BLOBS,  /* ROOT/blobs/sha256 */
	STORE_DIR_IMAGES, /* ROOT/images */
	STORE_DIR_LAYERS, /* ROOT/layers (one directory per id mode beneath) */
};
/* An O_DIRECTORY fd owned by the store: not to be closed by the caller. */
int store_dirfd(const struct image_store *s, enum store_dir which);
/* flock ROOT/store.lock with OP (LOCK_SH to read, LOCK_EX to change
 * records or names; | LOCK_NB to try); returns the fd that holds it. */
int store_lock_take(struct image_store *s, int op, struct err **err);

/* ---- image records and the names index (image/records.c) ---- */

struct store_layer {
	char *digest;	  /* blob digest, "sha256:<hex>" */
	char *media_type; /* as the manifest says */
	char *diff_id;	  /* "sha256:<hex>" of the uncompressed tar */
	uint64_t size;	  /* uncompressed size */
};

#define STORE_REPO_DIGESTS_MAX 256 /* per record */

struct store_record {
	char id[7 + 64 + 1];	   /* config digest */
	char manifest[7 + 64 + 1]; /* manifest digest */
	int64_t created;
	uint64_t size;
	struct store_layer *layers;
	size_t n_layers;
	/* Docker's RepoDigests: "name@sha256:<hex>", the familiar name of a
	 * repository and the digest the image was pulled by or pushed as
	 * (an index's, for a multi-platform pull). NULL-terminated; NULL or
	 * empty when there is none (records written before they existed). */
	char **repo_digests;
	/* Why the image is trusted (image.h); at most IMAGE_TRUST_MAX. */
	struct image_trust *trust;
	size_t n_trust;
};

/* NAME@DIGEST as a record keeps it: REF (any spelling Docker accepts,
 * with or without tag or digest) in familiar form, "@", then DIGEST, or
 * REF's own digest when DIGEST is NULL. EINVAL when REF is not a
 * reference or there is no digest (PURE). */
int store_repo_digest_make(const char *ref, const char *digest, char **out, struct err **err);

struct store_names {
	struct image_kv *kv;
	size_t n, cap;
};
void store_names_clear(struct store_names *nm);
int store_names_set(struct store_names *nm, const char *name, const char *id, struct err **err);
/* Sets the familiar NAME ("x:1") and drops the longer spellings of the
 * same reference ("docker.io/library/x:1") that older stores hold. */
int store_names_set_familiar(struct store_names *nm, const char *name, const char *id,
			     struct err **err);
void store_names_del(struct store_names *nm, size_t i);
const char *store_names_get(const struct store_names *nm, const char *name);
/* ROOTFD/names.json; a missing file is an empty index. */
int store_names_load(int rootfd, struct store_names *nm, struct err **err);
int store_names_save(int rootfd, const struct store_names *nm, struct err **err);
/* Adds the trust entries T[0..N) to R: an entry already there (same
 * source, rule, key, identity, digest) only gets the newer verified_at;
 * beyond IMAGE_TRUST_MAX the oldest go. 1 when R changed, 0, or < 0. */
int store_record_add_trust(struct store_record *r, const struct image_trust *t, size_t n,
			   struct err **err);
/* Adds T[0..N) to the stored record of image ID (under the store lock, a
 * rewrite RW can undo). */
struct store_rewrites;
int store_trust_claim(int imagesfd, const char *id, const struct image_trust *t, size_t n,
		      struct store_rewrites *rw, struct err **err);
int store_record_encode(const struct store_record *r, char **out, struct err **err);
/* Decodes the record text BUF of file NAME, checked against HEX (PURE). */
int store_record_decode(const char *buf, size_t len, const char *hex, const char *name,
			struct store_record *r, struct err **err);
/* IMAGESFD/<HEX>.json, checked against HEX. */
int store_record_load(int imagesfd, const char *hex, struct store_record *r, struct err **err);
void store_record_clear(struct store_record *r);
/* A deep copy of SRC into DST (cleared by the caller on error too). */
int store_record_copy(struct store_record *dst, const struct store_record *src, struct err **err);
/* The ids (hex) of every record in IMAGESFD. */
int store_record_ids(int imagesfd, char ***out, size_t *n, struct err **err);
/* True when R lists repo digest RD. */
bool store_record_has_repo_digest(const struct store_record *r, const char *rd);
/* Adds RD (canonical, else EINVAL) to R if missing, dropping the oldest
 * when R has STORE_REPO_DIGESTS_MAX (1 when added); or removes it (1 when
 * removed). */
int store_record_add_repo_digest(struct store_record *r, const char *rd, struct err **err);
int store_record_del_repo_digest(struct store_record *r, const char *rd);

/*
 * REF -> image id ("sha256:<hex>"), in Docker's order: NAME@DIGEST among
 * the records' repo digests; a name (normalised, then the docker.io and
 * localhost spellings of a short name); a full id; a unique id prefix.
 * *MATCHED (optional) is the names.json key or the repo digest REF
 * matched, NULL for an id. Called under the store lock.
 */
int store_lookup(int imagesfd, const struct store_names *nm, const char *ref, char **id,
		 char **matched, struct err **err);

/* Records rewritten under the exclusive lock, with what they said before,
 * so that a failed change can put them back. */
struct store_rewrites {
	struct image_kv *v; /* key: "<hex>.json", value: its previous text */
	size_t n;
};
void store_rewrites_clear(struct store_rewrites *rw);
void store_rewrites_undo(int imagesfd, const struct store_rewrites *rw);
/* Writes REC over its record in IMAGESFD; the old text goes to RW (when
 * not NULL) the first time. */
int store_record_rewrite(int imagesfd, const struct store_record *rec, struct store_rewrites *rw,
			 struct err **err);
/* Gives image ID the repo digests RDS (NULL-terminated), taking each from
 * any other image that has it. ENOENT: no record of ID. */
int store_repo_digests_claim(int imagesfd, const char *id, char *const *rds,
			     struct store_rewrites *rw, struct err **err);
/*
 * The repo digests of REC (image ID) that go with a removal, in Docker's
 * way: the one MATCHED names when it is NAME@DIGEST; after the tag MATCHED
 * (already gone from NM), those of its repository if no other tag of it
 * is left in NM; by id (MATCHED NULL), all. Appended to *UNTAGGED (when
 * not NULL); *CHANGED set when REC lost any.
 */
int store_untag_repo_digests(struct store_record *rec, const struct store_names *nm, const char *id,
			     const char *matched, char ***untagged, bool *changed,
			     struct err **err);

/* Gives image ID (whose record must exist) the repo digest RD, taking it
 * from any other image that had it (a repo digest names one image, as in
 * Docker's reference store). Takes the exclusive lock. ENOENT: the image
 * is gone. */
int store_repo_digest_add(struct image_store *s, const char *id, const char *rd, struct err **err);

/* ---- transactions (image/store.c) ---- */

struct store_txn;

/* Also removes what dead transactions left behind (best effort). */
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
 * tree in the staging directory (published under its DiffID at commit),
 * checking that its DiffID is DIFF_ID; fills SIZE with the uncompressed
 * size. A layer already present is only re-hashed. This is where a
 * hostile layer is refused at load time.
 */
int store_txn_add_layer(struct store_txn *t, const char *name, const char *diff_id, uint64_t *size,
			struct err **err);
/* REC is copied; NAMES (normalised references) may be NULL. When the
 * record already exists, the commit keeps it and only adds REC's repo
 * digests to it. */
int store_txn_add_image(struct store_txn *t, const struct store_record *rec, char **names,
			struct err **err);
int store_txn_commit(struct store_txn *t, struct err **err);
/* Aborts an uncommitted transaction; removes the staging directory. */
void store_txn_free(struct store_txn *t);

/* Writes all of FD from offset 0 through sha256; fills HEX and SIZE. */
int store_hash_fd(int fd, char hex[64 + 1], uint64_t *size, struct err **err);

#endif
