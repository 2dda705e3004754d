/*
 * engine/trust.h - the trust policy in force for this invocation, and the
 * decisions made with it: at pull (signatures in the registry, verified
 * before any layer is fetched), at run (the verification the store
 * recorded, checked against the policy as it is now), and for images moat
 * makes itself (signed with the local key).
 *
 * Runs in: the moat process, as the invoking user.
 *
 * Files (containers-policy.json format, policy/trust.h):
 *  - ENGINE_TRUST_SYSTEM_PATH, then the user's
 *    $XDG_CONFIG_HOME/moat/trust-policy.json (~/.config/... when unset),
 *    which may only tighten (trust_policy_tighten);
 *  - or OVERRIDE alone (--trust-policy FILE / MOAT_TRUST_POLICY): for tests
 *    and tooling; it must exist;
 *  - neither file: moat's default, reject everything, except images moat
 *    created locally and signed with the local key.
 *
 * The local key: ROOT/trust/local.key (PKCS#8, unencrypted, 0600) and
 * local.pub, created on first need under the data root of the identity,
 * trusted for local images only (never for a pull).
 */
#ifndef MOAT_ENGINE_TRUST_H
#define MOAT_ENGINE_TRUST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "policy/trust.h"

#define ENGINE_TRUST_SYSTEM_PATH "/etc/moat/trust-policy.json"

/* Where the policy came from, for `moat trust show` and messages. */
struct engine_trust_sources {
	char *override;	   /* the --trust-policy file, or NULL */
	char *system_path; /* ENGINE_TRUST_SYSTEM_PATH */
	char *user_path;   /* the user's file (NULL when no home can be found) */
	bool system_present, user_present;
	bool is_default; /* no file at all: moat's default policy */
};

/* The user's file path: $XDG_CONFIG_HOME/moat/trust-policy.json, else
 * $HOME/.config/moat/..., else the passwd entry's home. -ENOENT when none. */
int engine_trust_user_path(char **out, struct err **err);

/* Reads and decodes the policy in force (see the top of this file) into
 * *OUT (never NULL on success; trust_policy_default_reject() when no file
 * exists) and, when SRC is not NULL, where it came from. A file that
 * exists but cannot be read or decoded is an error naming it (a policy
 * with a syntax error never falls back to anything). Each file is capped
 * at TRUST_POLICY_MAX_BYTES and must be a regular file. */
int engine_trust_policy_load(const char *override, struct trust_policy **out,
			     struct engine_trust_sources *src, struct err **err);
void engine_trust_sources_clear(struct engine_trust_sources *src);

/* Writes P to PATH atomically (temporary file in the same directory,
 * fsync, rename), mode 0644, creating the parent directory (0755) when
 * missing. */
int engine_trust_policy_write(const char *path, const struct trust_policy *p, struct err **err);

/* ==== Decisions (engine/trust_verify.c, engine/trust_local.c) ==== */

struct registry;
struct image;
struct image_trust;

/* One signature found for an image, as `moat verify` reports it. */
struct engine_trust_sig {
	char *where;	   /* "sha256-<hex>.sig layer 2" or "referrer sha256:... layer 1" */
	char *key;	   /* fingerprint of the policy key it verified with, or NULL */
	char *key_name;	   /* that key as the policy names it (a keyPath, "keyData") */
	char *identity;	   /* the payload's docker-reference (after verification) */
	char *digest;	   /* the payload's docker-manifest-digest */
	int64_t signed_at; /* 0: unknown */
	bool counted;	   /* satisfies the policy on its own */
	char *reason;	   /* why it counts, or why not */
};

struct engine_trust_report {
	struct engine_trust_sig *sigs;
	size_t n;
	bool accepted;
	char reason[768];
	char **keys; /* fingerprints of the keys whose signatures counted (strv) */
};
void engine_trust_report_clear(struct engine_trust_report *r);

/* Decides whether SOURCE (a full reference as trust_policy_scope_for takes
 * it), whose tag or digest resolved to TOP in REG (and, for an index, to
 * the platform manifest MANIFEST; may equal TOP), may be pulled under P:
 * loads the keys the requirements for SOURCE name, fetches the signature
 * manifests of TOP and MANIFEST (tag "sha256-<hex>.sig", and the
 * referrers API when the registry has one), verifies every signature over
 * its exact payload bytes before decoding the payload, and evaluates P.
 * REP (may be NULL) gets every signature's story. Accepted: 0 and *T / *N
 * the trust entries for the store. Rejected: -EPERM with ERR saying
 * "rejected by the trust policy: <reason>". A key the policy names that
 * cannot be loaded is an error naming it. */
int engine_trust_verify_registry(const struct trust_policy *p, struct registry *reg,
				 const char *source, const char *top, const char *manifest,
				 struct engine_trust_report *rep, struct image_trust **t, size_t *n,
				 struct err **err);

/* `run`'s check: the trust entries the store recorded for IMG, evaluated
 * against P now (keys matched by fingerprint, no libcrypto). Images moat
 * made locally pass when signed by the local key of ROOT and no explicit
 * scope of P covers their name. 0 with *HOW describing the entry that
 * passed (static text + fingerprint, malloc'd), or -EPERM with ERR: "image
 * REF is not trusted by the current policy: <reason>". */
int engine_trust_check_image(const struct trust_policy *p, const char *root, const char *ref,
			     const struct image *img, char **how, struct err **err);

/* The full reference the policy evaluates for NAME ("busybox" ->
 * "docker.io/library/busybox:latest"); "" when NAME is NULL or empty. */
int engine_trust_source(const char *name, char **out, struct err **err);

/* The local key of ROOT: loads it (0), or creates it (1: ROOT/trust/
 * local.key 0600, local.pub 0644; two racing creators end with one key). */
struct sigkey;
int engine_trust_local_key(const char *root, struct sigkey **out, struct err **err);
/* Its fingerprint from local.pub without libcrypto; -ENOENT when there is
 * no local key yet. */
int engine_trust_local_fp(const char *root, char fp[72], struct err **err);
/* A "local" trust entry: NAME's payload (identity NAME, DIGEST) signed by
 * the local key of ROOT (created on first need). */
int engine_trust_local_sign(const char *root, const char *name, const char *digest,
			    struct image_trust *out, bool *created, struct err **err);

/* The store's admission rule for `moat load` and `moat demo-image`
 * (image_store_set_admit): each name of a loaded image is accepted when
 * P accepts it unsigned (insecureAcceptAnything), else signed with the
 * local key when TRUST_LOCAL, else refused (-EPERM). ALWAYS_LOCAL (the demo
 * image) signs without asking P. Every decision is appended to DECISIONS
 * (strv of "verdict\tsource\treason") for the caller's audit record. */
struct engine_trust_admit {
	const struct trust_policy *p;
	const char *root;
	bool trust_local, always_local;
	char **decisions;
};
int engine_trust_admit(void *arg, const char *image_id, const char *manifest, char *const *names,
		       struct image_trust **t, size_t *n, struct err **err);

#endif
