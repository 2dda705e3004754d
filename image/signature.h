/*
 * image/signature.h - cosign/sigstore "simple signing" signatures as they
 * are stored in a registry (sigstore/cosign specs/SIGNATURE_SPEC.md;
 * containers/image docs/containers-signature.5.md): the payload, the
 * signature manifest under the tag "sha256-<hex>.sig", and the OCI 1.1
 * referrers index that may point at such manifests.
 *
 * Runs in: the moat process. PURE (no system calls), fuzzed by
 * fuzz/sig_payload_fuzz.c and fuzz/sig_manifest_fuzz.c.
 *
 * Invariants:
 *  - a payload is decoded only after its signature verified over the exact
 *    bytes (the caller's job: sigkey_verify first); decoding is strict:
 *    "critical" must hold exactly "identity", "image" and "type", each
 *    exactly as specified (unknown keys anywhere under "critical" are an
 *    error), "type" must be SIG_PAYLOAD_TYPE, the digest a valid sha256
 *    digest; "optional" may be absent, null or an object whose unknown
 *    keys are ignored;
 *  - every size is capped before anything is allocated for it.
 */
#ifndef MOAT_IMAGE_SIGNATURE_H
#define MOAT_IMAGE_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SIG_MT_SIMPLESIGNING "application/vnd.dev.cosign.simplesigning.v1+json"
#define SIG_ANN_SIGNATURE "dev.cosignproject.cosign/signature"
#define SIG_PAYLOAD_TYPE "cosign container image signature"
/* What cosign's OCI 1.1 mode sets as a signature manifest's artifactType. */
#define SIG_ARTIFACT_TYPE "application/vnd.dev.cosign.artifact.sig.v1+json"
#define SIG_PAYLOAD_MAX (128 * 1024)
#define SIG_MAX_LAYERS 256
#define SIG_MANIFEST_MAX (4 * 1024 * 1024)
#define SIG_MAX_REFERRERS 64
#define SIG_TAG_LEN (7 + 64 + 4 + 1) /* "sha256-<hex>.sig" */

/* A decoded payload. */
struct sig_payload {
	char *docker_reference; /* critical.identity.docker-reference, verbatim */
	char manifest_digest[7 + 64 + 1];
	char *creator;	    /* optional.creator, or NULL */
	int64_t timestamp;  /* optional.timestamp (unix seconds) ... */
	bool has_timestamp; /* ... when present */
};

/* Decodes BUF[0..LEN) (LEN <= SIG_PAYLOAD_MAX) strictly, as above. */
int sig_payload_decode(const void *buf, size_t len, struct sig_payload *out, struct err **err);
void sig_payload_clear(struct sig_payload *p);

/* The payload moat signs, compact JSON with the keys in this order:
 * {"critical":{"identity":{"docker-reference":REF},"image":
 * {"docker-manifest-digest":DIGEST},"type":SIG_PAYLOAD_TYPE},
 * "optional":{"creator":CREATOR,"timestamp":TIMESTAMP}}; "creator" is
 * left out when CREATOR is NULL and "timestamp" when TIMESTAMP < 0.
 * DIGEST must be a valid sha256 digest. *OUT is malloc'd, *LEN bytes. */
int sig_payload_encode(const char *docker_reference, const char *manifest_digest,
		       const char *creator, int64_t timestamp, char **out, size_t *len,
		       struct err **err);

/* One layer of a signature manifest. PROBLEM is NULL for a usable entry;
 * otherwise it says why this entry cannot be a signature (the others still
 * count): a media type other than SIG_MT_SIMPLESIGNING, a size over
 * SIG_PAYLOAD_MAX, no signature annotation, an annotation that is not
 * valid base64 or decodes to more than SIGKEY_SIG_MAX (1024) bytes. */
struct sig_entry {
	char digest[7 + 64 + 1]; /* the payload blob */
	int64_t size;
	char *signature;      /* the annotation's base64 text (NULL when missing) */
	bool has_certificate; /* dev.sigstore.cosign/certificate present (keyless: not supported) */
	char *problem;
};

struct sig_manifest {
	struct sig_entry *entries;
	size_t n;
};

/* Decodes a signature manifest: an OCI image manifest (schemaVersion 2;
 * the served MEDIA_TYPE, when not NULL, and the document's mediaType, when
 * present, must be "application/vnd.oci.image.manifest.v1+json"). Whole-
 * document errors: bad JSON, LEN > SIG_MANIFEST_MAX, not a manifest, more
 * than SIG_MAX_LAYERS layers (-E2BIG, "N layers, at most 256"), a layer
 * that is not an object or lacks a valid sha256 digest or size >= 0. */
int sig_manifest_decode(const char *buf, size_t len, const char *media_type,
			struct sig_manifest **out, struct err **err);
void sig_manifest_free(struct sig_manifest *m);

/* The signature manifest with EXISTING's layers (kept as they are, with
 * all their annotations) followed by a new layer: PAYLOAD_DIGEST of
 * PAYLOAD_SIZE bytes, media type SIG_MT_SIMPLESIGNING, annotation
 * SIG_ANN_SIGNATURE = SIGNATURE_B64. EXISTING may be NULL (first
 * signature). Also builds its config, as cosign does: {"architecture":"",
 * "config":{},"created":"0001-01-01T00:00:00Z","history":[{"created":
 * "0001-01-01T00:00:00Z"}],"os":"","rootfs":{"type":"layers","diff_ids":
 * [every layer's digest]}} with media type
 * "application/vnd.oci.image.config.v1+json", and puts its digest and size
 * in the manifest. When EXISTING already holds a layer with the same
 * digest and signature, returns 1 and sets nothing (nothing to push).
 * EXISTING must decode (sig_manifest_decode), and the result must stay
 * within SIG_MAX_LAYERS (-E2BIG). */
int sig_manifest_append(const char *existing, size_t existing_len, const char *payload_digest,
			int64_t payload_size, const char *signature_b64, char **config,
			size_t *config_len, char **manifest, size_t *manifest_len,
			struct err **err);

/* "sha256-<hex>.sig" for DIGEST ("sha256:<hex>"); -EINVAL otherwise. */
int sig_tag_for(const char *digest, char out[SIG_TAG_LEN], struct err **err);

/* An OCI 1.1 referrers reply (an image index, capped at SIG_MANIFEST_MAX):
 * the digests (NULL-terminated, malloc'd) of the manifests whose
 * artifactType is SIG_ARTIFACT_TYPE, at most SIG_MAX_REFERRERS of them
 * (more are ignored). Entries with other artifact types are skipped;
 * a malformed index is an error. */
int sig_referrers_decode(const char *buf, size_t len, char ***digests, struct err **err);

#endif
