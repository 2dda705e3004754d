/*
 * image/registry_token.c - the registry client's auth flow: a request is
 * sent anonymously (or with what we have), a 401's WWW-Authenticate is
 * answered with Basic credentials or a Bearer token from the challenge's
 * realm (with a password, an identity token, or anonymously), and the
 * request is sent once more. Tokens are cached per scope set and renewed
 * before they expire.
 *
 * Runs in: the moat process (pull, push, login), as the invoking user,
 * before any container exists. The challenge and the token reply are
 * parsed by image/registry_auth.c (pure, fuzzed).
 *
 * Invariants:
 *  - credentials never go to another host: the registry's Authorization
 *    line is added by registry_follow() for the registry's own origin
 *    only; the token request carries no_auth (our Bearer never goes to
 *    the realm) and its Basic line only to the realm's own origin;
 *  - credentials are never sent in clear to a token realm over http when
 *    the registry itself is https;
 *  - passwords, identity and refresh tokens, and every Authorization
 *    line built from them are wiped before they are freed
 *    (registry_secret_free(), explicit_bzero());
 *  - a 401 is answered once per request: a second one is the caller's
 *    "unauthorized", never a loop;
 *  - a token fetch is retried on 429, 5xx and transient transport errors
 *    with the same back-off as every other request (registry_request());
 *    once those retries are spent, the caller's own retry loop does not
 *    start them over.
 */
#include "image/registry_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/base64.h"
#include "common/cleanup.h"

#define REPLY_MAX (1u << 20) /* token reply */
#define TOKEN_MARGIN 10	     /* seconds: a token is renewed this long before it expires */

void registry_secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int scopes_string(struct registry *r, char **out)
{
	*out = NULL;
	if (*r->repo && r->extra_scope)
		return asprintf(out, "repository:%s:%s %s", r->repo, r->actions, r->extra_scope) < 0
			   ? -ENOMEM
			   : 0;
	if (*r->repo)
		return asprintf(out, "repository:%s:%s", r->repo, r->actions) < 0 ? -ENOMEM : 0;
	*out = strdup("");
	return *out ? 0 : -ENOMEM;
}

/* GET (or, with an identity token, POST) the realm for a Bearer token. */
static int fetch_token(struct registry *r, struct err **err)
{
	_cleanup_free_ char *scopes = NULL, *url = NULL, *q = NULL, *basic = NULL, *b64 = NULL,
			    *up = NULL, *tok = NULL, *refresh = NULL;
	struct resp p = {.content_length = -1};
	struct req rq = {.method = "GET", .body_fd = -1, .no_auth = true, .mem_cap = REPLY_MAX};
	struct err *e = NULL;
	long exp = 0;
	size_t qn = 0;
	int rc;

	if (scopes_string(r, &scopes) < 0)
		return err_errno(err, ENOMEM, "token request");
	/* The query (or form): service, one scope= per scope, account. */
	q = calloc(1, 1);
	if (!q)
		return err_errno(err, ENOMEM, "token request");
#define APPEND(key, val)                                                                 \
	do {                                                                             \
		_cleanup_free_ char *ev_ = registry_urlenc(val);                         \
		char *nq_ = NULL;                                                        \
		if (!ev_ || asprintf(&nq_, "%s%s%s=%s", q, qn ? "&" : "", key, ev_) < 0) \
			return err_errno(err, ENOMEM, "token request");                  \
		free(q);                                                                 \
		q = nq_;                                                                 \
		qn++;                                                                    \
	} while (0)
	if (r->ch.service)
		APPEND("service", r->ch.service);
	for (char *sv = NULL, *s = strtok_r(scopes, " ", &sv); s; s = strtok_r(NULL, " ", &sv))
		APPEND("scope", s);
	if (!strncasecmp(r->ch.realm, "http://", 7) && !strncmp(r->base, "https://", 8) &&
	    (r->user || r->idtoken))
		return err_set(
		    err, EACCES,
		    "\"%s\": refusing to send credentials to the token realm \"%s\" over "
		    "plain http",
		    r->name, r->ch.realm);
	if (r->idtoken) {
		/* Docker's OAuth2 flow with an identity token. */
		APPEND("grant_type", "refresh_token");
		APPEND("refresh_token", r->idtoken);
		APPEND("client_id", "moat");
		rq.method = "POST";
		rq.url = r->ch.realm;
		rq.body = q;
		rq.body_len = strlen(q);
		rq.content_type = "application/x-www-form-urlencoded";
	} else {
		if (r->user)
			APPEND("account", r->user);
		if (asprintf(&url, "%s%s%s", r->ch.realm, strchr(r->ch.realm, '?') ? "&" : "?", q) <
		    0)
			return err_errno(err, ENOMEM, "token request");
		rq.url = url;
		if (r->user && r->pass) {
			if (asprintf(&up, "%s:%s", r->user, r->pass) < 0 ||
			    !(b64 = base64_encode(up, strlen(up))) ||
			    asprintf(&basic, "Authorization: Basic %s", b64) < 0)
				return err_errno(err, ENOMEM, "token request");
			rq.authz = basic;
		}
	}
#undef APPEND
	/* Retried like every other request (429, 5xx, transient transport
	 * errors; the same back-off). RQ is no_auth, so registry_exchange()
	 * neither adds our Authorization nor answers a 401 from the realm
	 * with another token fetch: no recursion. */
	rc = registry_request(r, &rq, &p, "token", err);
	if (up)
		explicit_bzero(up, strlen(up));
	if (b64)
		explicit_bzero(b64, strlen(b64));
	if (basic)
		explicit_bzero(basic, strlen(basic));
	if (rq.body)
		explicit_bzero(q, strlen(q));
	if (rc < 0) {
		/* The retries are spent. The caller's own retry loop (request,
		 * blob download, upload) looks at last_curl: it must not start
		 * them over, or a realm that is down would be tried
		 * (1 + max_retries)^2 times. */
		r->last_curl = CURLE_OK;
		registry_resp_clear(&p);
		return err_prefix(err, "token from \"%s\"", r->ch.realm);
	}
	if (p.status != 200) {
		rc = registry_http_error(r, &p, "token", err);
		registry_resp_clear(&p);
		return rc;
	}
	rc = registry_token_decode(p.body ? p.body : "", p.len, &tok, &exp, &refresh, &e);
	registry_resp_clear(&p);
	if (rc < 0) {
		rc =
		    err_set(err, e ? e->code : EINVAL, "\"%s\": %s", r->name, e ? e->msg : "token");
		err_free(&e);
		return rc;
	}
	registry_secret_free(r->authz);
	r->authz = NULL;
	if (asprintf(&r->authz, "Authorization: Bearer %s", tok) < 0) {
		r->authz = NULL;
		registry_secret_free(steal_ptr(tok));
		registry_secret_free(steal_ptr(refresh));
		return err_errno(err, ENOMEM, "token");
	}
	registry_secret_free(steal_ptr(tok));
	registry_secret_free(steal_ptr(refresh));
	r->auth = AUTH_BEARER;
	r->token_until = mono_now() + (exp > 2 * TOKEN_MARGIN ? exp - TOKEN_MARGIN : exp / 2);
	free(r->token_scopes);
	if (scopes_string(r, &r->token_scopes) < 0)
		return err_errno(err, ENOMEM, "token");
	return 0;
}

/* A Bearer token that expired (or was asked for other scopes) is renewed
 * before the request rather than after its 401. */
static int ensure_token(struct registry *r, struct err **err)
{
	_cleanup_free_ char *scopes = NULL;

	if (r->auth != AUTH_BEARER || !r->ch.realm)
		return 0;
	if (scopes_string(r, &scopes) < 0)
		return err_errno(err, ENOMEM, "token");
	if (r->authz && mono_now() < r->token_until && r->token_scopes &&
	    !strcmp(scopes, r->token_scopes))
		return 0;
	return fetch_token(r, err);
}

static int on_401(struct registry *r, const struct resp *p, const char *what, struct err **err)
{
	struct registry_challenge ch = {0};
	struct err *e = NULL;

	if (!p->www_auth)
		return registry_http_error(r, p, what, err);
	if (registry_challenge_parse(p->www_auth, &ch, &e) < 0) {
		int rc = err_set(err, e ? e->code : EINVAL, "\"%s\": %s: %s", r->name, what,
				 e ? e->msg : "bad challenge");
		err_free(&e);
		return rc;
	}
	if (!strcasecmp(ch.scheme, "basic")) {
		_cleanup_free_ char *up = NULL, *b64 = NULL;

		registry_challenge_clear(&ch);
		if (!r->user || !r->pass)
			return registry_http_error(r, p, what, err);
		if (asprintf(&up, "%s:%s", r->user, r->pass) < 0 ||
		    !(b64 = base64_encode(up, strlen(up))))
			return err_errno(err, ENOMEM, "credentials");
		explicit_bzero(up, strlen(up));
		registry_secret_free(r->authz);
		if (asprintf(&r->authz, "Authorization: Basic %s", b64) < 0) {
			r->authz = NULL;
			return err_errno(err, ENOMEM, "credentials");
		}
		explicit_bzero(b64, strlen(b64));
		r->auth = AUTH_BASIC;
		return 0;
	}
	registry_challenge_clear(&r->ch);
	r->ch = ch;
	r->auth = AUTH_BEARER;
	return fetch_token(r, err);
}

/* A request with auth: anonymous (or with what we have) first; on a 401,
 * answer the challenge and retry once. A second 401 is the caller's
 * "unauthorized". */
int registry_exchange(struct registry *r, const struct req *q, struct resp *p, const char *what,
		      struct err **err)
{
	int rc;

	if (!q->no_auth) {
		rc = ensure_token(r, err);
		if (rc < 0)
			return rc;
	}
	rc = registry_follow(r, q, p, err);
	if (rc < 0 || p->status != 401 || q->no_auth)
		return rc;
	rc = on_401(r, p, what, err);
	if (rc < 0)
		return rc;
	return registry_follow(r, q, p, err);
}
