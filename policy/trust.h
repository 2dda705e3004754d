/*
 * policy/trust.h - the image trust policy: containers-policy.json's format
 * (containers/image docs/containers-policy.json.5.md), decoded into typed
 * structs, merged so that a user's file may only tighten the system's, and
 * evaluated against signatures that the caller has already verified.
 *
 * Runs in: any process. Pure: no system calls. The caller reads the files
 * (/etc/moat/trust-policy.json, $XDG_CONFIG_HOME/moat/trust-policy.json),
 * passes the bytes, loads the keys a requirement names (trust_req_keys),
 * verifies the signatures, and passes what verified to
 * trust_policy_evaluate.
 *
 * Invariants:
 *  - decode is strict: an unknown key, requirement type or identity type is
 *    an error naming the file and JSON path, never ignored (a typo must not
 *    turn "sigstoreSigned" into something weaker);
 *  - every requirement list holds 1..TRUST_POLICY_MAX_REQS entries, every
 *    scope is valid for its transport, and references stored in the
 *    policy are normalised (docker.io/library/busybox:latest);
 *  - evaluation fails closed: any requirement it cannot decide (signedBy,
 *    a reference it cannot parse) rejects, with a reason.
 */
#ifndef MOAT_POLICY_TRUST_H
#define MOAT_POLICY_TRUST_H

#include <stddef.h>

#include "common/err.h"

#define TRUST_POLICY_MAX_BYTES (1024 * 1024)
#define TRUST_POLICY_MAX_SCOPES 1000
#define TRUST_POLICY_MAX_REQS 100
#define TRUST_POLICY_MAX_KEYS 100

enum trust_transport {
	TRUST_TRANSPORT_DOCKER,
	TRUST_TRANSPORT_DOCKER_DAEMON,
};

enum trust_req_type {
	TRUST_REQ_REJECT,
	TRUST_REQ_INSECURE_ACCEPT_ANYTHING,
	TRUST_REQ_SIGSTORE_SIGNED,
	TRUST_REQ_SIGNED_BY, /* GPG: decoded, but evaluation rejects it */
};

enum trust_ident_type {
	TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT, /* the default */
	TRUST_IDENT_MATCH_EXACT,
	TRUST_IDENT_MATCH_REPOSITORY,
	TRUST_IDENT_EXACT_REFERENCE,
	TRUST_IDENT_EXACT_REPOSITORY,
	TRUST_IDENT_REMAP_IDENTITY,
};

struct trust_ident {
	enum trust_ident_type type;
	char *reference;     /* exactReference / exactRepository, normalised */
	char *prefix;	     /* remapIdentity */
	char *signed_prefix; /* remapIdentity */
};

struct trust_req {
	enum trust_req_type type;
	/* sigstoreSigned / signedBy: exactly one of the two lists is non-NULL
	 * (NULL-terminated); keyPath and keyData land here as one-entry lists. */
	char **key_paths;
	char **key_datas; /* base64, checked for syntax only */
	size_t n_keys;
	char *key_type; /* signedBy's "keyType" */
	struct trust_ident ident;
};

struct trust_scope {
	enum trust_transport transport;
	char *scope; /* "" is the transport's default */
	struct trust_req *reqs;
	size_t n_reqs;
};

struct trust_policy {
	struct trust_req *def; /* "default": 1..n requirements */
	size_t n_def;
	struct trust_scope *scopes;
	size_t n_scopes;
};

/* trust_policy_scope_for's answer when no scope matched and the top-level
 * "default" applies (compare the pointer: "default" is also a valid host). */
extern const char trust_scope_default[];

/* Decodes a containers-policy.json text. FILE names it in errors:
 * "FILE:LINE:COL: what" for syntax, "FILE: JSON.path: what" otherwise.
 * keyPath(s) must be absolute. Caps: TRUST_POLICY_MAX_BYTES of text,
 * TRUST_POLICY_MAX_SCOPES scopes, TRUST_POLICY_MAX_REQS requirements per
 * list, TRUST_POLICY_MAX_KEYS keys per requirement. */
int trust_policy_decode(const char *buf, size_t len, const char *file, struct trust_policy **out,
			struct err **err);
void trust_policy_free(struct trust_policy *p);

/* moat's policy when no file exists: {"default": [{"type": "reject"}]}.
 * (Images moat made locally are the caller's exception.) NULL on ENOMEM. */
struct trust_policy *trust_policy_default_reject(void);

/* Merges USER over SYS so that it may only tighten. The rule: for every
 * reference R, the merged policy's requirements for R are the system's
 * requirements for R followed by the user's requirements for R, and all of
 * them must be satisfied (AND). So a user's "insecureAcceptAnything" adds
 * nothing and can never loosen a system "reject" or "sigstoreSigned"; a
 * user's "reject" or "sigstoreSigned" adds a condition. Implemented by
 * giving every scope named in either file (and "default") the concatenation
 * of what each file would choose for that scope; because the scopes that
 * match one reference form a chain, each ordered by containment, this is
 * exactly "both files' choices for R". USER may be NULL (a copy of SYS). */
int trust_policy_tighten(const struct trust_policy *sys, const struct trust_policy *user,
			 struct trust_policy **out, struct err **err);

/* The requirements that apply to REF, a docker reference
 * "host/path[:tag][@digest]" (short forms are normalised like Docker's),
 * under the docker transport, by containers-policy's most-specific-scope
 * rule: the exact reference (repo@digest when a digest is present, else
 * repo:tag) > the repository > each enclosing namespace > host[:port] >
 * *.domain wildcards, longest first > "" > the top-level default. A
 * reference with both a tag and a digest is matched by its digest. Returns
 * the scope chosen (a string owned by P, or trust_scope_default). An
 * unparsable REF gets the top-level default. */
const char *trust_policy_scope_for(const struct trust_policy *p, const char *ref,
				   const struct trust_req **reqs, size_t *n);

/* A signature that verified cryptographically (the caller did the crypto
 * over the exact payload bytes). KEY_ID names the key it verified with,
 * exactly as the policy names it: one of the strings trust_req_keys
 * returns (a keyPath, or a keyData's base64). DOCKER_REFERENCE and
 * MANIFEST_DIGEST are the payload's critical.identity.docker-reference and
 * critical.image.docker-manifest-digest. */
struct trust_sig {
	const char *key_id;
	const char *docker_reference;
	const char *manifest_digest;
};

enum trust_verdict {
	TRUST_ACCEPT,
	TRUST_REJECT,
};

/* Decides whether the image REF, whose manifest has MANIFEST_DIGEST, may be
 * used: every requirement of the scope chosen for REF must be satisfied; a
 * sigstoreSigned requirement by at least one of SIGS whose key it names,
 * whose digest is MANIFEST_DIGEST and whose docker-reference passes its
 * signedIdentity (containers/image semantics; a signature for another
 * repository never counts, even by a trusted key). Writes a one-line human
 * reason naming the scope and the rule into REASON (may be NULL). Returns
 * TRUST_ACCEPT or TRUST_REJECT. */
int trust_policy_evaluate(const struct trust_policy *p, const char *ref,
			  const char *manifest_digest, const struct trust_sig *sigs, size_t n,
			  char *reason, size_t reason_len);

/* The keys requirement R names, so the caller can load and verify them:
 * *PATHS and *DATAS are set to NULL-terminated lists (either may be NULL).
 * Returns how many keys in all (0 for reject / insecureAcceptAnything). */
size_t trust_req_keys(const struct trust_req *r, const char ***paths, const char ***datas);

/* Encodes P as containers-policy.json text (4-space indent, keys in the
 * order default, transports; a trailing newline) that trust_policy_decode
 * reads back to an equal policy. *OUT is malloc'd. */
int trust_policy_encode(const struct trust_policy *p, char **out, struct err **err);

/* Replaces the requirements of SCOPE (trust_scope_default or the string
 * "default" for the top-level default; otherwise a docker-transport scope,
 * validated like the decoder does) with REQS[0..N), which P takes over
 * (deep-copied; the caller still frees its own). N is 1..
 * TRUST_POLICY_MAX_REQS. A new scope is added. */
int trust_policy_set_scope(struct trust_policy *p, const char *scope, const struct trust_req *reqs,
			   size_t n, struct err **err);

const char *trust_req_type_name(enum trust_req_type t);
const char *trust_ident_type_name(enum trust_ident_type t);

#endif
