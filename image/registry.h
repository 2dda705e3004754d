/*
 * image/registry.h - an OCI distribution client (libcurl): one
 * repository on one registry, with its auth, TLS and retry rules.
 *
 * Runs in: the moat process (pull, push, login), as the invoking user.
 */
#ifndef MOAT_IMAGE_REGISTRY_H
#define MOAT_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

struct registry_creds {
	char *username;
	char *password;
	char *identity_token; /* OAuth refresh token (Docker's identitytoken) */
};

struct registry_opts {
	bool tls_verify; /* false only for an insecure registry / --tls-verify=false */
	bool plain_http; /* insecure registries: try https, fall back to http */
	const char *certs_dirs
	    [4]; /* NULL-terminated list of certs.d roots: <dir>/<host[:port]>/{*.crt CAs, client.cert, client.key} */
	const struct registry_creds *creds; /* NULL: anonymous */
	long timeout_s;			    /* per request (connect + low-speed limit); 0: 30 */
	int max_retries;		    /* on 429/5xx/transport errors; 0: 3 */
};

struct registry;

/* HOST ("localhost:5000", "registry-1.docker.io"), REPO ("library/busybox"),
 * ACTIONS ("pull" or "pull,push") for the token scope. Does not connect. */
int registry_open(const char *host, const char *repo, const char *actions,
		  const struct registry_opts *o, struct registry **out, struct err **err);
void registry_close(struct registry *r);

/* GET /v2/ (login): 0 when the credentials are accepted (or none needed). */
int registry_ping(struct registry *r, struct err **err);

/* The manifest or index REF (tag or "sha256:..." digest) names, with one
 * Accept list (OCI index, OCI manifest, Docker list, Docker v2). BODY is
 * capped at 4 MiB; MEDIA_TYPE is the Content-Type; DIGEST the sha256 of
 * the body, checked against Docker-Content-Digest and against REF when REF
 * is a digest. Schema1 is refused with a clear message. */
int registry_get_manifest(struct registry *r, const char *ref, char **body, size_t *len,
			  char **media_type, char digest[72], struct err **err);
/* HEAD: 0 and *SIZE when present, -ENOENT when not. */
int registry_blob_exists(struct registry *r, const char *digest, int64_t *size, struct err **err);
/* GET the blob into FD (a regular file, appended to: when FD already holds
 * N bytes the download resumes with Range: bytes=N-), then checks that the
 * whole file hashes to DIGEST and is SIZE bytes (SIZE < 0: unknown).
 * Redirects are followed by hand: Authorization never goes to another
 * host. Retries with back-off on 429 (Retry-After), 5xx and transport
 * errors. PROGRESS (may be NULL) is called with bytes so far. */
int registry_get_blob(struct registry *r, const char *digest, int64_t size, int fd,
		      void (*progress)(void *arg, uint64_t done), void *arg, struct err **err);
/* Uploads FD (from offset 0, SIZE bytes) as DIGEST unless the registry has
 * it (HEAD first); with MOUNT_FROM ("ns/other") tries a cross-repository
 * mount first. Monolithic PUT; chunked PATCHes when the registry demands
 * (OCI-Chunk-Min-Length). */
int registry_put_blob(struct registry *r, const char *digest, int fd, int64_t size,
		      const char *mount_from, struct err **err);
/* PUT the manifest BODY as REF (tag or digest) with Content-Type
 * MEDIA_TYPE; DIGEST gets the registry's Docker-Content-Digest (checked
 * against our own sha256 of BODY). */
int registry_put_manifest(struct registry *r, const char *ref, const char *media_type,
			  const char *body, size_t len, char digest[72], struct err **err);
/* GET /v2/<repo>/referrers/<DIGEST> (OCI 1.1): the index body (capped at
 * CAP bytes). -ENOENT when the registry has no such API (404/405/400). */
int registry_get_referrers(struct registry *r, const char *digest, size_t cap, char **body,
			   size_t *len, struct err **err);
/* GET /v2/<repo>/tags/list, following Link pagination. */
int registry_list_tags(struct registry *r, char ***tags, struct err **err);

/* ---- PURE, fuzzed (fuzz/registry_auth_fuzz.c) ---- */
struct registry_challenge {
	char *scheme; /* "Bearer" or "Basic" (as given, compared case-insensitively) */
	char *realm;
	char *service; /* Bearer */
	char *scope;   /* Bearer, optional */
	char *error;   /* optional: error="insufficient_scope" */
};
/* One WWW-Authenticate header value (RFC 7235 auth-param list, quoted
 * strings with backslash escapes; capped at 8 KiB). */
int registry_challenge_parse(const char *header, struct registry_challenge *out, struct err **err);
void registry_challenge_clear(struct registry_challenge *c);
/* A token endpoint's JSON reply: token or access_token, expires_in (default
 * 60), refresh_token (optional). */
int registry_token_decode(const char *buf, size_t len, char **token, long *expires_in,
			  char **refresh_token, struct err **err);
/* A distribution error body {"errors":[{"code","message","detail"}]} into
 * "CODE: message" (first error), for messages. Docker's form: the code
 * lower-cased with spaces ("manifest unknown: manifest unknown"); token
 * endpoints' {"details"} and OAuth2 {"error_description"|"error"} give
 * their text. Terminal controls replaced, at most 512 bytes. */
int registry_error_decode(const char *buf, size_t len, char **text, struct err **err);

/* Added with the client (PURE, fuzzed too): the "next" target of a Link
 * header (tags pagination), NULL when there is none. */
int registry_link_next(const char *header, char **url, struct err **err);
/* Retry-After: delta-seconds or an IMF-fixdate, as seconds after NOW (>= 0,
 * uncapped: the caller caps). */
int registry_retry_after_parse(const char *value, time_t now, long *secs, struct err **err);
/* One tags/list page {"name","tags":[...]} into a NULL-terminated strv
 * (empty for "tags": null); every tag must match the tag grammar. */
int registry_tags_decode(const char *buf, size_t len, char ***tags, struct err **err);

#endif
