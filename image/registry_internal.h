/*
 * image/registry_internal.h - what the three files of the registry client
 * share, and nothing else includes: the client's state, one request and
 * its response, and the functions (prefixed registry_) they call across
 * files. The public API is image/registry.h.
 *
 *   image/registry.c        the distribution operations: open/close,
 *                           manifests, blobs, uploads, tags;
 *   image/registry_token.c  auth: 401 challenges, Basic, Bearer tokens;
 *   image/registry_http.c   transport: curl, TLS and certs.d, redirects
 *                           by hand, retries and back-off;
 *   image/registry_auth.c   the pure parsers (fuzzed).
 *
 * Runs in: the moat process (pull, push, login), as the invoking user,
 * before any container exists.
 *
 * Invariants:
 *  - a request goes out only through registry_follow() (which alone
 *    decides where an Authorization line and the client certificate may
 *    go), reached through registry_request() (retries) and
 *    registry_exchange() (auth);
 *  - the credentials and r->authz are secrets: freed with
 *    registry_secret_free(), which wipes them first;
 *  - every header value kept in a struct resp is capped but still the
 *    registry's text: check it (registry_printable(), the parsers of
 *    registry_auth.c) before it reaches a message or another request.
 */
#ifndef MOAT_IMAGE_REGISTRY_INTERNAL_H
#define MOAT_IMAGE_REGISTRY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/digest.h"
#include "common/err.h"
#include "common/curl.h"
#include "image/registry.h"

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct registry {
	char *host, *repo, *actions;
	char *name; /* "host/repo" (or "host"), for messages */
	char *user, *pass, *idtoken;
	bool tls_verify, plain_http;
	long timeout_s;
	int max_retries;

	CURL *h; /* reused: keep-alive across requests */
	char errbuf[CURL_ERROR_SIZE];
	CURLcode last_curl;
	char *ca_blob; /* system bundle + certs.d *.crt, NULL: curl's defaults */
	size_t ca_len;
	char *cert_path, *key_path;

	char *base; /* "https://host" or "http://host" */
	bool scheme_fixed;

	enum auth_kind auth;
	char *authz;		      /* the Authorization header line for the registry origin */
	struct registry_challenge ch; /* the last Bearer challenge */
	char *token_scopes;	      /* the scopes the current token was asked for */
	time_t token_until;	      /* CLOCK_MONOTONIC seconds */
	char *extra_scope;	      /* "repository:<from>:pull" while mounting */
};

/* What one request wants. URL is absolute; PATH (when URL is NULL) is
 * appended to the registry's base, which may still change (http fallback). */
struct blob_sink;
struct req {
	const char *method;
	const char *path;
	const char *url;
	const char *accept;	  /* a full header line */
	const char *content_type; /* value */
	const char *extra;	  /* one more full header line */
	const char *authz;	  /* Authorization line for the first origin instead of ours */
	bool no_auth;		  /* never add the registry's Authorization */
	const char *body;	  /* in-memory body */
	size_t body_len;
	int body_fd; /* >= 0: body streamed from this fd */
	uint64_t body_off, body_size;
	size_t mem_cap;		/* cap for a 2xx body kept in memory (0: ERRBODY_MAX) */
	struct blob_sink *blob; /* 200/206 bodies go there */
	uint64_t range_from;	/* > 0: Range: bytes=N- */
};

struct resp {
	long status;
	char *body;
	size_t len, cap;
	bool over; /* body cut at its cap */
	char *content_type, *location, *dcd, *www_auth, *retry_after, *content_range, *link,
	    *chunk_min;
	int64_t content_length;
	char *url;	/* the URL that answered (after redirects) */
	char *redirect; /* curl's resolution of Location on a 3xx */
	size_t hdr_total;
};

struct blob_sink {
	int fd;
	uint64_t off; /* file size == bytes hashed */
	int64_t size; /* expected, < 0: unknown */
	const char *digest;
	struct digest_ctx *dc;
	bool started; /* the first body byte of this response was seen */
	bool bad_range;
	void (*progress)(void *arg, uint64_t done);
	void *arg;
};

/* ---- image/registry_http.c: transport ---- */

/* One request (Q's method, its URL or PATH) with redirects followed by
 * hand; 0 with the final response whatever its status. No auth handling,
 * no retries: see registry_request(). */
int registry_follow(struct registry *r, const struct req *q, struct resp *p, struct err **err);
/* registry_exchange() with retries on 429/5xx and transient transport
 * errors. Returns 0 with the final response (whatever its status) or the
 * last transport error. */
int registry_request(struct registry *r, const struct req *q, struct resp *p, const char *what,
		     struct err **err);
bool registry_status_retryable(long st);
bool registry_curl_retryable(CURLcode c);
/* Back-off before retry ATTEMPT (0, 1, ...): exponential, or P's
 * Retry-After on a 429, capped. */
long registry_retry_delay_ms(const struct resp *p, int attempt);
void registry_sleep_ms(long ms);
/* Frees everything P holds and resets it for the next response. */
void registry_resp_clear(struct resp *p);
/* The registry's error text (or the bare status) as an error naming WHAT. */
int registry_http_error(struct registry *r, const struct resp *p, const char *what,
			struct err **err);
/* REL (a Location or Link target, possibly relative) against BASE; only
 * http(s) results. */
int registry_resolve(const char *base, const char *rel, char **out, struct err **err);
/* Same scheme, host and port (default ports made explicit). */
bool registry_same_origin(const char *a, const char *b);
/* Percent-encodes all but RFC 3986 unreserved characters; NULL: ENOMEM. */
char *registry_urlenc(const char *s);
/* Printable ASCII without spaces. */
bool registry_printable(const char *s);
/* certs.d (O->certs_dirs) for R's host: extra CAs into r->ca_blob, the
 * client certificate's paths into r->cert_path/key_path. */
int registry_certs_load(struct registry *r, const struct registry_opts *o, struct err **err);

/* ---- image/registry_token.c: auth ---- */

/* A request with auth: registry_follow() with the registry's
 * Authorization; a 401 is answered (Basic, or a Bearer token) and the
 * request sent once more. */
int registry_exchange(struct registry *r, const struct req *q, struct resp *p, const char *what,
		      struct err **err);
/* free() after wiping S (NULL is fine). */
void registry_secret_free(char *s);

#endif
