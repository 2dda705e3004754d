/*
 * image/image.h - the local image store (minimal: load, list, remove,
 * resolve for run, and the demo image built from the host's busybox).
 * Registries, signatures and the rest arrive with their own issues.
 */
#ifndef MOAT_IMAGE_H
#define MOAT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "sandbox/spec.h"

/* Caps on untrusted image input, checked before anything is allocated. */
#define IMAGE_JSON_MAX (4u << 20)	    /* manifest, index, config */
#define IMAGE_LAYER_MAX_ENTRIES 1000000u    /* tar entries per layer */
#define IMAGE_LAYER_MAX_BYTES (64ull << 30) /* expanded bytes per layer */

struct image_kv {
	char *key;
	char *value;
};

/* The fields of an OCI/Docker image config a runner honours (pure). */
struct image_config {
	char *architecture;
	char *os;
	char *author;	   /* "author", or NULL */
	char *comment;	   /* Docker's "comment" (set by commit), or NULL */
	char **env;	   /* "K=V" */
	char **entrypoint; /* NULL = unset */
	char **cmd;	   /* NULL = unset */
	char *workdir;
	char *user;
	char *stop_signal;
	char **volumes;	      /* sorted keys of Volumes */
	char **exposed_ports; /* sorted keys of ExposedPorts */
	struct image_kv *labels;
	size_t n_labels;
	char **diff_ids; /* rootfs.diff_ids, "sha256:<hex>" */
	size_t n_diff_ids;
};

int image_config_decode(const char *buf, size_t len, struct image_config **out, struct err **err);
void image_config_free(struct image_config *c);

/* How extracted layers are owned on disk (one layer tree per mode). */
enum image_ids {
	IMAGE_IDS_SQUASH, /* rootless single id: everything owned by the caller */
	IMAGE_IDS_SHIFT,  /* root: id N stored as host id base+N */
	IMAGE_IDS_USERNS, /* rootless subuid: extracted inside the user namespace */
};

struct image_idmode {
	enum image_ids kind;
	enum sandbox_userns userns; /* for IMAGE_IDS_USERNS: how to write maps */
	struct idmap uid[SANDBOX_MAX_IDMAPS];
	size_t n_uid;
	struct idmap gid[SANDBOX_MAX_IDMAPS];
	size_t n_gid;
};

/*
 * Descriptors, manifests, indexes and `docker save` manifest.json, decoded
 * into typed structs (pure; image/manifest.c). Only sha256 digests are
 * accepted; sizes are >= 0.
 */
enum image_layer_comp {
	IMAGE_LAYER_TAR,
	IMAGE_LAYER_GZIP,
	IMAGE_LAYER_ZSTD,
};

struct image_platform {
	char *architecture;
	char *os;
	char *variant;
	char *os_version;
};

struct image_descriptor {
	char *media_type;
	char *digest; /* "sha256:<hex>" */
	int64_t size;
	struct image_kv *annotations;
	size_t n_annotations;
	bool has_platform;
	struct image_platform platform;
	enum image_layer_comp comp; /* meaningful for layers only */
};

struct image_manifest {
	char *media_type; /* as written; NULL when an OCI manifest omits it */
	bool docker;	  /* Docker schema2 rather than OCI */
	struct image_descriptor config;
	struct image_descriptor *layers; /* base first */
	size_t n_layers;
};

struct image_index {
	char *media_type;
	bool docker; /* Docker manifest list rather than OCI index */
	struct image_descriptor *manifests;
	size_t n_manifests;
};

/* One entry of a `docker save` manifest.json: member paths in the tar. */
struct image_save_entry {
	char *config;
	char **repo_tags; /* NULL-terminated, maybe empty */
	char **layers;	  /* NULL-terminated */
	size_t n_layers;
};

struct image_save_manifest {
	struct image_save_entry *entries;
	size_t n_entries;
};

#define IMAGE_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define IMAGE_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define IMAGE_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define IMAGE_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMAGE_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define IMAGE_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

/*
 * MEDIA_TYPE is what the referring descriptor said (NULL: any of the two
 * kinds); the document's own mediaType must agree with it (CVE-2021-41190).
 */
int image_manifest_decode(const char *buf, size_t len, const char *media_type,
			  struct image_manifest **out, struct err **err);
void image_manifest_free(struct image_manifest *m);
int image_index_decode(const char *buf, size_t len, const char *media_type,
		       struct image_index **out, struct err **err);
void image_index_free(struct image_index *ix);
int image_save_manifest_decode(const char *buf, size_t len, struct image_save_manifest **out,
			       struct err **err);
void image_save_manifest_free(struct image_save_manifest *m);
/* The value of annotation KEY, or NULL. */
const char *image_descriptor_annotation(const struct image_descriptor *d, const char *key);
/* True for OCI/Docker index media types, and for manifest ones. */
bool image_media_type_is_index(const char *mt);
bool image_media_type_is_manifest(const char *mt);
/* GOARCH of this build ("amd64", "arm64", ...). */
const char *image_host_arch(void);
/*
 * Local name normalisation: "demo" -> "demo:latest"; "localhost/x:tag" and
 * "docker.io/library/busybox:1.36" are kept verbatim. Rejects what cannot
 * be a reference (empty, upper case repository, bad tag, digests).
 */
int image_ref_normalize(const char *ref, char **out, struct err **err);

/*
 * Layer extraction (image/layer.c). BLOBFD is a layer blob (tar, tar+gzip
 * or tar+zstd, detected from its bytes), DIRFD an empty directory that
 * becomes the layer's root. Entries are created strictly beneath DIRFD,
 * never through a symlink; whiteouts become overlayfs whiteouts (char 0/0)
 * and opaque markers user.overlay.opaque="y" (the sandbox mounts overlay
 * with "userxattr"). The work runs in a confined child (image/layer_confine.c:
 * own network namespace, Landlock beneath DIRFD, seccomp allow-list; inside
 * a user namespace for IMAGE_IDS_USERNS and when not root); ST is filled on
 * success only.
 * DIFF_ID, when not NULL, must equal the sha256 of the uncompressed tar.
 * On error DIRFD holds a partial tree the caller removes.
 */
struct image_layer_limits {
	uint64_t max_entries; /* 0: IMAGE_LAYER_MAX_ENTRIES */
	uint64_t max_bytes;   /* 0: IMAGE_LAYER_MAX_BYTES */
};

struct image_layer_stats {
	uint64_t entries;
	uint64_t tar_bytes;	  /* uncompressed size: what the DiffID covers */
	uint64_t squashed;	  /* SQUASH: entries whose uid or gid was not 0 */
	uint64_t devices_skipped; /* device nodes (and sockets) not created */
	uint64_t xattrs_skipped;  /* xattrs outside user.*, or refused */
	char diff_id[7 + 64 + 1];
};

int image_layer_extract(int blobfd, int dirfd, const struct image_idmode *mode, const char *diff_id,
			const struct image_layer_limits *lim, struct image_layer_stats *st,
			struct err **err);
/* Only hashes: the DiffID and uncompressed size of the blob at BLOBFD. */
int image_layer_digest(int blobfd, const struct image_layer_limits *lim, char diff_id[7 + 64 + 1],
		       uint64_t *size, struct err **err);

struct image_store;

/*
 * Why the store holds an image (engine/trust*.c decides; the store keeps
 * it; `run` re-checks it against the trust policy in force). One entry
 * per signature that verified at pull, or per admission without one.
 */
#define IMAGE_TRUST_MAX 64 /* entries per image; the oldest go first */
struct image_trust {
	char *source;	     /* the reference decided on: "127.0.0.1:5000/a/b:v1" as
			 * trust_policy_scope_for takes it; "" for an unnamed image */
	char *rule;	     /* "sigstoreSigned", "insecureAcceptAnything" or "local" */
	char *key;	     /* fingerprint of the key that verified ("sha256:..."),
			 * NULL for insecureAcceptAnything */
	char *identity;	     /* the payload's docker-reference (NULL without one) */
	char *digest;	     /* the manifest digest the decision covers */
	char *payload;	     /* base64 of the signed payload (local signatures), or NULL */
	char *signature;     /* base64 of the signature (local signatures), or NULL */
	int64_t signed_at;   /* the payload's timestamp, 0 when unknown */
	int64_t verified_at; /* when moat checked it */
};
void image_trust_clear(struct image_trust *t);
void image_trust_free(struct image_trust *t, size_t n);
/* Deep copy of SRC[0..N) into *OUT (NULL when N is 0). */
int image_trust_copy(const struct image_trust *src, size_t n, struct image_trust **out,
		     struct err **err);

/*
 * The store asks ADMIT about every image a load or a demo build is about
 * to add (before anything is committed): it returns 0 and may append
 * trust entries to *T / *N (realloc'd), or fails, which aborts the whole
 * transaction. IMAGE_ID and MANIFEST are the image's digests; NAMES its
 * names (NULL-terminated, may be empty).
 */
struct image_admit {
	int (*fn)(void *arg, const char *image_id, const char *manifest, char *const *names,
		  struct image_trust **t, size_t *n, struct err **err);
	void *arg;
};
void image_store_set_admit(struct image_store *s, const struct image_admit *a);

struct image {
	char *id;	 /* config digest, "sha256:<hex>" */
	char **names;	 /* "demo:latest", ... (NULL-terminated) */
	int64_t created; /* unix seconds it was added to the store */
	uint64_t size;	 /* sum of layer (uncompressed) sizes */
	struct image_config *config;
	char **layer_dirs; /* absolute, base layer first; extracted for the
			    * store's id mode */
	size_t n_layers;
	/* Docker's RepoDigests, "demo@sha256:<manifest or index digest>", ...
	 * (NULL-terminated; filled by list and resolve). */
	char **repo_digests;
	/* Filled by image_store_resolve from the layers' extraction records: */
	uint64_t ids_squashed;	  /* entries not owned by 0:0 (SQUASH mode) */
	uint64_t devices_skipped; /* device nodes never created */
	/* Filled by resolve and list: the store's trust entries. */
	struct image_trust *trust;
	size_t n_trust;
};

/* ROOT is the data root (e.g. /var/lib/moat); creates what is missing. */
int image_store_open(const char *root, const struct image_idmode *mode, struct image_store **out,
		     struct err **err);
void image_store_close(struct image_store *s);
/* REF: name[:tag] (tag defaults to latest), name@sha256:<hex> (one of
 * the image's repo digests), a full or unique-prefix id. Extracts layers
 * for the store's id mode if not yet done. ENOENT: "no such image: REF". */
int image_store_resolve(struct image_store *s, const char *ref, struct image **out,
			struct err **err);
void image_free(struct image *img);
int image_store_list(struct image_store *s, struct image ***out, size_t *n, struct err **err);
/* Removes a name (or the image by id); the image and the layers nothing
 * else uses go when no name is left. */
int image_store_remove(struct image_store *s, const char *ref, bool force, struct err **err);
/* Like image_store_remove; fills UNTAGGED with the names removed and
 * DELETED with the ids of images deleted (either may be NULL). */
int image_store_remove_report(struct image_store *s, const char *ref, bool force, char ***untagged,
			      char ***deleted, struct err **err);
/* Resolves REF to an image id ("sha256:<hex>") without extracting. */
int image_store_lookup(struct image_store *s, const char *ref, char **id, struct err **err);
/* Loads an OCI layout tar or `docker save` tar from FD; fills NAMES with
 * what was tagged (or ids for untagged images). */
int image_store_load(struct image_store *s, int fd, char ***names, struct err **err);
/* Builds the demo image from the host's static busybox (plus ADDS, each
 * "HOSTFILE:/container/path", for test helpers) and tags it NAME. */
int image_demo_create(struct image_store *s, const char *name, const char *busybox,
		      char *const *adds, struct err **err);

/* ==== Registries and export: pull, push, tag, save, history ==============
 * (image/pull.c, image/push.c, image/save.c). Appended for the images and
 * registries issue; everything above is unchanged.
 */
#include <stdio.h> /* FILE, for progress lines */

struct registry_opts; /* image/registry.h */
struct registry;

/* PURE (image/pull.c, fuzzed by fuzz/pull_fuzz.c). "os/arch[/variant]"
 * into P, normalised like containerd's platforms package: x86_64 and
 * x86-64 -> amd64, aarch64 -> arm64 (variant v8 dropped), i386 -> 386,
 * armhf -> arm/v7, armel -> arm/v6, arm -> arm/v7 by default. Lower-cased;
 * os_version stays NULL. */
int image_platform_parse(const char *s, struct image_platform *p, struct err **err);
void image_platform_clear(struct image_platform *p);
/* The platform this build runs: linux/<image_host_arch()>, arm/v7 on arm. */
int image_platform_host(struct image_platform *p, struct err **err);
/* "linux/arm/v7" (malloc'd; NULL on ENOMEM). */
char *image_platform_string(const struct image_platform *p);
/*
 * Docker's choice of a manifest from an index for WANT (normalised): os
 * and architecture equal; the variant must match exactly except that an
 * arm variant accepts lower ones (v8 > v7 > v6 > v5, best first) and a
 * wanted amd64 variant accepts lower ones; an entry without a platform
 * matches last; attestation manifests (vnd.docker.reference.type) never.
 * *PICK is the entry's index. No match: -ENOENT, the message lists the
 * platforms the index offers.
 */
int image_platform_select(const struct image_index *ix, const struct image_platform *want,
			  size_t *pick, struct err **err);

/* One entry of a config's "history" (PURE, image/save.c, fuzzed). */
struct image_history_entry {
	int64_t created; /* unix seconds; 0 when absent or unreadable */
	char *created_by;
	char *comment;
	bool empty_layer;
	uint64_t size; /* filled by image_store_history: the layer's size */
};
/* "history" of the config BUF (oldest first; an absent history is 0
 * entries). Capped at IMAGE_JSON_MAX; non-string fields are refused. */
int image_history_decode(const char *buf, size_t len, struct image_history_entry **out, size_t *n,
			 struct err **err);
void image_history_free(struct image_history_entry *h, size_t n);
/* RFC 3339 ("2024-01-02T03:04:05.123Z", "+01:00") to unix seconds. */
int image_time_parse(const char *s, int64_t *out);

/*
 * Pull REF (Docker's reference grammar, image/reference.h) into the store:
 * manifest (or index, then the platform's manifest), config and layers,
 * each checked against its digest before use, every layer extracted and
 * its DiffID checked, all in one store transaction: the store changes only
 * at the commit. Layers whose blob is already in the store are not
 * downloaded. The image is named REF's familiar "name:tag" (no name when
 * REF is a digest only) and gets the repo digest "name@<what REF resolved
 * to>". *ID: the image id ("sha256:..."), malloc'd.
 */
struct image_pull_opts {
	const char *platform;		 /* "os/arch[/variant]"; NULL: image_platform_host */
	const struct registry_opts *reg; /* NULL: the registry client's defaults */
	FILE *progress;			 /* Docker's plain progress lines; NULL: none */
	int max_downloads;		 /* layers fetched in parallel; 0: 3 */
	char *digest;			 /* out, optional (72 bytes): what REF resolved to */
	bool *up_to_date;		 /* out, optional: nothing had to be downloaded */
	/* The trust decision, made once the manifest is known (TOP: what REF
	 * resolved to, an index's digest for a multi-platform image;
	 * MANIFEST: the platform manifest's) and before any blob is fetched
	 * or anything stored: a negative errno refuses the image and nothing
	 * is stored; else *T / *N are the trust entries the store records.
	 * REG is the open registry of REF's repository. NULL: no check (the
	 * store's own tests). */
	int (*verify)(void *arg, struct registry *reg, const char *top, const char *manifest,
		      struct image_trust **t, size_t *n, struct err **err);
	void *verify_arg;
};
int image_store_pull(struct image_store *s, const char *ref, const struct image_pull_opts *o,
		     char **id, struct err **err);

/*
 * Push image SRC (a local name or id) as DEST (REF grammar; NULL: SRC's
 * name): its layer blobs, its config and its manifest as stored (an OCI
 * manifest is built from the record when the store has none), blobs the
 * registry has already skipped, a cross-repository mount tried from
 * another name of the image on the same registry. DIGEST: the manifest's;
 * DEST's "name@DIGEST" becomes a repo digest of the image, as in Docker.
 */
struct image_push_opts {
	const struct registry_opts *reg;
	FILE *progress;
};
int image_store_push(struct image_store *s, const char *src, const char *dest,
		     const struct image_push_opts *o, char digest[72], struct err **err);

/* Adds the name TARGET (normalised to Docker's familiar "name:tag") to the
 * image SRC names, under the store lock. */
int image_store_tag(struct image_store *s, const char *src, const char *target, struct err **err);
/* Writes the images REFS (NULL-terminated) to FD as one OCI layout tar
 * (oci-layout, index.json with ref.name annotations, blobs/sha256/...)
 * that also carries Docker's manifest.json; `moat load`, `docker load` and
 * `skopeo copy oci-archive:` read it. */
int image_store_save(struct image_store *s, char *const *refs, int fd, struct err **err);
/* The history of image REF (oldest first), sizes from the record's layers;
 * a config without history gives one entry per layer. ID: the image's. */
int image_store_history(struct image_store *s, const char *ref, char id[72],
			struct image_history_entry **out, size_t *n, struct err **err);

/*
 * Shared by pull.c, push.c and save.c (image/save.c): an image opened for
 * copying out of the store. The blobs are opened under the store's shared
 * lock, so a concurrent `rmi` cannot take their content away. MANIFEST is
 * the stored manifest when its blob is there (checked against the record),
 * else an OCI manifest built from the record.
 */
struct image_blob {
	char digest[72];
	char *media_type;
	int64_t size;
	int fd;
};
struct image_export {
	char id[72];
	char manifest_digest[72];
	char *manifest;
	size_t manifest_len;
	char *manifest_type;
	struct image_blob config;
	struct image_blob *layers;
	size_t n_layers;
	char **names; /* every name of the image (NULL-terminated) */
};
int image_store_export_open(struct image_store *s, const char *ref, struct image_export **out,
			    struct err **err);
void image_export_free(struct image_export *x);

#endif
