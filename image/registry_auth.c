/*
 * image/registry_auth.c - the PURE half of the registry client: the
 * WWW-Authenticate challenge, the token endpoint's reply, the registry's
 * error body, the Link and Retry-After headers and a tags/list page.
 *
 * Runs in: the moat process (pull, push, login), as the invoking user; it
 * only turns bytes a registry sent into typed values (no I/O). Every input
 * here is hostile: fuzz/registry_auth_fuzz.c runs all of it.
 *
 * Invariants:
 *  - sizes are capped before anything is parsed or allocated;
 *  - every string handed back that ends up in a request (realm, service,
 *    scope, tokens, next links) is printable ASCII without spaces where
 *    the grammar has none: nothing a registry sends can add a header line
 *    to a later request (CR/LF injection) or a byte the URL parser would
 *    read differently from us;
 *  - text meant for messages (error bodies) has C0/C1 controls and DEL
 *    replaced and is length-capped, so a registry cannot drive the
 *    user's terminal through an error message.
 */
#include "image/registry.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/json.h"

#define CHALLENGE_MAX 8192
#define REPLY_MAX (1u << 20)  /* token reply, error body */
#define TOKEN_MAX (64u << 10) /* one token */
#define TEXT_MAX 512	      /* error text kept for a message */
#define TAGS_PAGE_MAX (4u << 20)
#define TAG_MAX 128

/* ---- RFC 7230/7235 lexing ---- */

struct lex {
	const char *s;
	size_t i, n;
};

static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool t68char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("-._~+/", c));
}

static void ows(struct lex *l)
{
	while (l->i < l->n && (l->s[l->i] == ' ' || l->s[l->i] == '\t'))
		l->i++;
}

static bool at(const struct lex *l, char c)
{
	return l->i < l->n && l->s[l->i] == c;
}

/* 1*tchar; returns its length (0: none). */
static size_t token(struct lex *l)
{
	size_t st = l->i;

	while (l->i < l->n && tchar((unsigned char)l->s[l->i]))
		l->i++;
	return l->i - st;
}

/* A quoted-string starting at the '"', unescaped into a new string.
 * Only printable ASCII survives: a control character, DEL or a byte above
 * 0x7f (obs-text, never needed by a registry) is refused. */
static int quoted(struct lex *l, char **out, struct err **err)
{
	_cleanup_free_ char *v = malloc(l->n - l->i + 1);
	size_t k = 0;

	if (!v)
		return err_errno(err, ENOMEM, "WWW-Authenticate");
	l->i++; /* '"' */
	for (;;) {
		unsigned char c;

		if (l->i >= l->n)
			return err_set(err, EINVAL, "WWW-Authenticate: unterminated quoted string");
		c = (unsigned char)l->s[l->i++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (l->i >= l->n)
				return err_set(err, EINVAL,
					       "WWW-Authenticate: unterminated quoted string");
			c = (unsigned char)l->s[l->i++];
		}
		if (c < 0x20 || c >= 0x7f)
			return err_set(
			    err, EINVAL,
			    "WWW-Authenticate: control or non-ASCII byte 0x%02x at offset %zu", c,
			    l->i - 1);
		v[k++] = (char)c;
	}
	v[k] = 0;
	*out = steal_ptr(v);
	return 0;
}

/* ---- WWW-Authenticate ---- */

void registry_challenge_clear(struct registry_challenge *c)
{
	if (!c)
		return;
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

static int set_param(struct registry_challenge *c, const char *name, size_t nlen, char *value,
		     struct err **err)
{
	static const char *const names[] = {"realm", "service", "scope", "error"};
	char **slots[] = {&c->realm, &c->service, &c->scope, &c->error};

	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		if (nlen != strlen(names[k]) || strncasecmp(name, names[k], nlen))
			continue;
		if (*slots[k]) {
			free(value);
			return err_set(err, EINVAL, "WWW-Authenticate: parameter \"%s\" repeated",
				       names[k]);
		}
		*slots[k] = value;
		return 0;
	}
	free(value); /* parameters we do not use are allowed and ignored */
	return 0;
}

/* One challenge starting at the scheme; stops at the end or at the
 * scheme of the next challenge (", Scheme ..."). */
static int one_challenge(struct lex *l, struct registry_challenge *c, struct err **err)
{
	size_t st = l->i, n = token(l);
	bool first = true;

	if (!n)
		return err_set(err, EINVAL,
			       "WWW-Authenticate: expected an authentication scheme at offset %zu",
			       st);
	c->scheme = strndup(l->s + st, n);
	if (!c->scheme)
		return err_errno(err, ENOMEM, "WWW-Authenticate");
	if (l->i >= l->n || at(l, ','))
		return 0; /* a scheme without parameters */
	if (!at(l, ' '))
		return err_set(err, EINVAL, "WWW-Authenticate: unexpected '%c' at offset %zu",
			       l->s[l->i], l->i);
	while (at(l, ' '))
		l->i++;
	for (;;) {
		size_t save = l->i, nst = l->i, nlen;
		char *value = NULL;

		if (l->i >= l->n)
			return 0;
		if (first) {
			/* token68 ("Basic dXNlcg=="): only as the whole content. */
			while (l->i < l->n && t68char((unsigned char)l->s[l->i]))
				l->i++;
			while (l->i > save && at(l, '='))
				l->i++;
			ows(l);
			if (l->i > save && (l->i >= l->n || at(l, ',')))
				goto next;
			l->i = save;
		}
		nlen = token(l);
		if (!nlen)
			return err_set(err, EINVAL,
				       "WWW-Authenticate: expected a parameter at offset %zu", nst);
		ows(l);
		if (!at(l, '=')) {
			/* Not "name=": after a comma, the next challenge's scheme. */
			if (first)
				return err_set(err, EINVAL,
					       "WWW-Authenticate: expected '=' at offset %zu",
					       l->i);
			l->i = save;
			return 0;
		}
		l->i++;
		ows(l);
		if (at(l, '"')) {
			if (quoted(l, &value, err) < 0)
				return err_ret(*err);
		} else {
			size_t vst = l->i, vlen = token(l);

			if (!vlen)
				return err_set(err, EINVAL,
					       "WWW-Authenticate: expected a value at offset %zu",
					       vst);
			value = strndup(l->s + vst, vlen);
			if (!value)
				return err_errno(err, ENOMEM, "WWW-Authenticate");
		}
		if (set_param(c, l->s + nst, nlen, value, err) < 0)
			return err_ret(*err);
	next:
		first = false;
		ows(l);
		if (l->i >= l->n)
			return 0;
		if (!at(l, ','))
			return err_set(err, EINVAL, "WWW-Authenticate: expected ',' at offset %zu",
				       l->i);
		while (at(l, ',') || at(l, ' ') || at(l, '\t'))
			l->i++;
	}
}

static bool url_like(const char *s)
{
	return !strncasecmp(s, "https://", 8) || !strncasecmp(s, "http://", 7);
}

int registry_challenge_parse(const char *header, struct registry_challenge *out, struct err **err)
{
	struct registry_challenge bearer = {0}, basic = {0}, other = {0};
	struct lex l = {header, 0, 0};
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!header)
		return err_set(err, EINVAL, "WWW-Authenticate: missing");
	l.n = strnlen(header, CHALLENGE_MAX + 1);
	if (l.n > CHALLENGE_MAX)
		return err_set(err, EINVAL, "WWW-Authenticate: longer than %d bytes",
			       CHALLENGE_MAX);
	for (;;) {
		struct registry_challenge c = {0};

		while (at(&l, ',') || at(&l, ' ') || at(&l, '\t'))
			l.i++;
		if (l.i >= l.n)
			break;
		r = one_challenge(&l, &c, err);
		if (r < 0) {
			registry_challenge_clear(&c);
			goto out;
		}
		/* The first Bearer wins over the first Basic, like Docker. */
		if (!strcasecmp(c.scheme, "bearer") && !bearer.scheme)
			bearer = c;
		else if (!strcasecmp(c.scheme, "basic") && !basic.scheme)
			basic = c;
		else if (!other.scheme)
			other = c;
		else
			registry_challenge_clear(&c);
	}
	if (bearer.scheme) {
		if (!bearer.realm || !*bearer.realm) {
			r = err_set(err, EINVAL,
				    "WWW-Authenticate: Bearer challenge without realm");
			goto out;
		}
		if (!url_like(bearer.realm)) {
			r = err_set(err, EINVAL,
				    "WWW-Authenticate: Bearer realm \"%s\" is not an http(s) URL",
				    bearer.realm);
			goto out;
		}
		*out = bearer;
		memset(&bearer, 0, sizeof(bearer));
		r = 0;
	} else if (basic.scheme) {
		*out = basic;
		memset(&basic, 0, sizeof(basic));
		r = 0;
	} else if (other.scheme) {
		r = err_set(err, ENOTSUP, "unsupported authentication scheme \"%.64s\"",
			    other.scheme);
	} else {
		r = err_set(err, EINVAL, "WWW-Authenticate: empty");
	}
out:
	registry_challenge_clear(&bearer);
	registry_challenge_clear(&basic);
	registry_challenge_clear(&other);
	return r;
}

/* ---- token reply ---- */

/* A credential that goes into "Authorization: Bearer <t>": visible ASCII,
 * nothing that could end the header line. */
static bool header_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int registry_token_decode(const char *buf, size_t len, char **token_out, long *expires_in,
			  char **refresh_token, struct err **err)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *tok = NULL, *acc = NULL, *ref = NULL;
	json_t *e;
	long exp = 60;

	*token_out = NULL;
	*expires_in = 0;
	if (refresh_token)
		*refresh_token = NULL;
	if (len > REPLY_MAX)
		return err_set(err, EFBIG, "token reply: larger than %u bytes", REPLY_MAX);
	j = json_parse_strict(buf, len, "token reply", err);
	if (!j)
		return err_ret(*err);
	if (!json_is_object(j))
		return err_set(err, EINVAL, "token reply: not a JSON object");
	if (json_get_str(j, "token", &tok, "token reply", err) < 0 ||
	    json_get_str(j, "access_token", &acc, "token reply", err) < 0 ||
	    json_get_str(j, "refresh_token", &ref, "token reply", err) < 0)
		return err_ret(*err);
	/* Docker's order: access_token (the OAuth2 name) over token. */
	if (acc && *acc) {
		free(tok);
		tok = steal_ptr(acc);
	}
	if (!tok || !*tok)
		return err_set(err, EINVAL, "token reply: no token");
	if (strlen(tok) > TOKEN_MAX || !header_safe(tok))
		return err_set(err, EINVAL, "token reply: the token is not a valid header value");
	if (ref && (strlen(ref) > TOKEN_MAX || !header_safe(ref)))
		return err_set(err, EINVAL, "token reply: the refresh_token is malformed");
	e = json_object_get(j, "expires_in");
	if (e && !json_is_null(e)) {
		if (json_is_integer(e)) {
			json_int_t v = json_integer_value(e);
			exp = v > 86400 * 366 ? 86400 * 366 : v < 0 ? 0 : (long)v;
		} else if (json_is_real(e)) {
			double v = json_real_value(e);
			exp = v >= 86400 * 366 ? 86400 * 366 : v >= 0 ? (long)v : 0;
		} else {
			return err_set(err, EINVAL, "token reply: \"expires_in\" must be a number");
		}
	}
	/* Docker's floor: a token lives at least a minute. */
	if (exp < 60)
		exp = 60;
	*expires_in = exp;
	*token_out = steal_ptr(tok);
	if (refresh_token && ref && *ref)
		*refresh_token = steal_ptr(ref);
	return 0;
}

/* ---- error body ---- */

/* Copies at most TEXT_MAX bytes of S (valid UTF-8: jansson checked it),
 * replacing C0 controls, DEL and C1 controls (U+0080..U+009F, which some
 * terminals obey) with '?', and cutting only on a character boundary. */
static void put_text(char *dst, size_t *k, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t clen = *p < 0x80 ? 1 : *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
		bool bad = *p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);

		for (size_t q = 1; q < clen; q++)
			if (!p[q]) {
				clen = q;
				bad = true;
			}
		if (*k + (bad ? 1 : clen) >= cap)
			break;
		if (bad) {
			dst[(*k)++] = '?';
		} else {
			memcpy(dst + *k, p, clen);
			*k += clen;
		}
		p += clen;
	}
	dst[*k] = 0;
}

int registry_error_decode(const char *buf, size_t len, char **text, struct err **err)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *code = NULL, *msg = NULL, *out = NULL;
	json_t *errs, *e0;
	size_t k = 0;

	*text = NULL;
	if (len > REPLY_MAX)
		return err_set(err, EFBIG, "error body: larger than %u bytes", REPLY_MAX);
	j = json_parse_strict(buf, len, "error body", err);
	if (!j)
		return err_ret(*err);
	if (!json_is_object(j))
		return err_set(err, EINVAL, "error body: not a JSON object");
	errs = json_object_get(j, "errors");
	if (!errs) {
		/* Token endpoints: Docker Hub's {"details": "..."}, or OAuth2's
		 * {"error": "invalid_grant", "error_description": "..."}. */
		if (json_get_str(j, "details", &msg, "error body", err) < 0 ||
		    (!msg && json_get_str(j, "error_description", &msg, "error body", err) < 0) ||
		    (!msg && json_get_str(j, "error", &msg, "error body", err) < 0))
			return err_ret(*err);
		if (!msg || !*msg)
			return err_set(err, EINVAL, "error body: no \"errors\" array");
	} else {
		if (!json_is_array(errs) || json_array_size(errs) == 0)
			return err_set(err, EINVAL, "error body: no \"errors\" array");
		e0 = json_array_get(errs, 0);
		if (!json_is_object(e0))
			return err_set(err, EINVAL, "error body: errors[0] is not an object");
		if (json_get_str(e0, "code", &code, "error body", err) < 0 ||
		    json_get_str(e0, "message", &msg, "error body", err) < 0)
			return err_ret(*err);
	}
	if ((!code || !*code) && (!msg || !*msg))
		return err_set(err, EINVAL, "error body: errors[0] has neither code nor message");
	out = malloc(TEXT_MAX + 1);
	if (!out)
		return err_errno(err, ENOMEM, "error body");
	out[0] = 0;
	/* Docker's errcode format: "manifest unknown: manifest unknown". */
	if (code && *code) {
		for (char *c = code; *c; c++)
			*c = *c == '_'			? ' '
			     : (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a')
							: *c;
		put_text(out, &k, TEXT_MAX + 1, code);
	}
	if (msg && *msg) {
		if (k)
			put_text(out, &k, TEXT_MAX + 1, ": ");
		put_text(out, &k, TEXT_MAX + 1, msg);
	}
	*text = steal_ptr(out);
	return 0;
}

/* ---- Link: <url>; rel="next" ---- */

int registry_link_next(const char *header, char **url, struct err **err)
{
	struct lex l = {header, 0, 0};

	*url = NULL;
	if (!header)
		return 0;
	l.n = strnlen(header, CHALLENGE_MAX + 1);
	if (l.n > CHALLENGE_MAX)
		return err_set(err, EINVAL, "Link: longer than %d bytes", CHALLENGE_MAX);
	for (;;) {
		size_t ust, ulen;
		bool next = false;

		while (at(&l, ',') || at(&l, ' ') || at(&l, '\t'))
			l.i++;
		if (l.i >= l.n)
			return 0;
		if (!at(&l, '<'))
			return err_set(err, EINVAL, "Link: expected '<' at offset %zu", l.i);
		ust = ++l.i;
		while (l.i < l.n && l.s[l.i] != '>') {
			unsigned char c = (unsigned char)l.s[l.i];
			if (c <= 0x20 || c >= 0x7f)
				return err_set(err, EINVAL, "Link: bad byte in URL at offset %zu",
					       l.i);
			l.i++;
		}
		if (l.i >= l.n)
			return err_set(err, EINVAL, "Link: unterminated '<'");
		ulen = l.i++ - ust;
		for (;;) {
			size_t nst, nlen;
			_cleanup_free_ char *v = NULL;

			ows(&l);
			if (!at(&l, ';'))
				break;
			l.i++;
			ows(&l);
			nst = l.i;
			nlen = token(&l);
			if (!nlen)
				return err_set(err, EINVAL,
					       "Link: expected a parameter at offset %zu", l.i);
			ows(&l);
			if (!at(&l, '='))
				continue; /* a bare parameter */
			l.i++;
			ows(&l);
			if (at(&l, '"')) {
				if (quoted(&l, &v, err) < 0)
					return err_prefix(err, "Link");
			} else {
				size_t vst = l.i, vlen = token(&l);
				v = strndup(l.s + vst, vlen);
				if (!v)
					return err_errno(err, ENOMEM, "Link");
			}
			if (nlen == 3 && !strncasecmp(l.s + nst, "rel", 3)) {
				/* rel is a space-separated list */
				for (char *sv = NULL, *t = strtok_r(v, " ", &sv); t;
				     t = strtok_r(NULL, " ", &sv))
					if (!strcasecmp(t, "next"))
						next = true;
			}
		}
		if (next) {
			if (!ulen)
				return err_set(err, EINVAL, "Link: empty next URL");
			*url = strndup(l.s + ust, ulen);
			return *url ? 0 : err_errno(err, ENOMEM, "Link");
		}
		ows(&l);
		if (l.i < l.n && !at(&l, ','))
			return err_set(err, EINVAL, "Link: expected ',' at offset %zu", l.i);
	}
}

/* ---- Retry-After ---- */

static int month(const char *m)
{
	static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

	for (int k = 0; k < 12; k++)
		if (!strncmp(m, names[k], 3))
			return k;
	return -1;
}

static bool digits(const char *s, size_t n, int *v)
{
	*v = 0;
	for (size_t k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return false;
		*v = *v * 10 + (s[k] - '0');
	}
	return true;
}

int registry_retry_after_parse(const char *value, time_t now, long *secs, struct err **err)
{
	size_t n;

	*secs = 0;
	if (!value)
		return err_set(err, EINVAL, "Retry-After: missing");
	while (*value == ' ' || *value == '\t')
		value++;
	n = strlen(value);
	while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if (n && value[0] >= '0' && value[0] <= '9') {
		long v = 0;

		for (size_t k = 0; k < n; k++) {
			if (value[k] < '0' || value[k] > '9')
				return err_set(err, EINVAL, "Retry-After: not a number of seconds");
			if (v < 1000000000L)
				v = v * 10 + (value[k] - '0');
		}
		*secs = v > 1000000000L ? 1000000000L : v;
		return 0;
	}
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (the only HTTP-date a
	 * server may generate). */
	if (n == 29 && value[3] == ',' && value[4] == ' ' && value[7] == ' ' && value[11] == ' ' &&
	    value[16] == ' ' && value[19] == ':' && value[22] == ':' && value[25] == ' ' &&
	    !strncmp(value + 26, "GMT", 3)) {
		struct tm tm = {0};
		int d, y, hh, mm, ss, mo = month(value + 8);
		time_t t;

		if (mo < 0 || !digits(value + 5, 2, &d) || !digits(value + 12, 4, &y) ||
		    !digits(value + 17, 2, &hh) || !digits(value + 20, 2, &mm) ||
		    !digits(value + 23, 2, &ss) || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
			return err_set(err, EINVAL, "Retry-After: malformed HTTP date");
		tm.tm_year = y - 1900;
		tm.tm_mon = mo;
		tm.tm_mday = d;
		tm.tm_hour = hh;
		tm.tm_min = mm;
		tm.tm_sec = ss;
		t = timegm(&tm);
		if (t == (time_t)-1)
			return err_set(err, EINVAL, "Retry-After: malformed HTTP date");
		*secs = t > now ? (t - now > 1000000000L ? 1000000000L : (long)(t - now)) : 0;
		return 0;
	}
	return err_set(err, EINVAL, "Retry-After: neither seconds nor an HTTP date");
}

/* ---- tags/list ---- */

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > TAG_MAX)
		return false;
	for (size_t k = 0; k < n; k++) {
		char c = t[k];
		bool w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_';
		if (!w && (k == 0 || (c != '.' && c != '-')))
			return false;
	}
	return true;
}

int registry_tags_decode(const char *buf, size_t len, char ***tags, struct err **err)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_strv_ char **v = NULL;

	*tags = NULL;
	if (len > TAGS_PAGE_MAX)
		return err_set(err, EFBIG, "tags list: larger than %u bytes", TAGS_PAGE_MAX);
	j = json_parse_strict(buf, len, "tags list", err);
	if (!j)
		return err_ret(*err);
	if (!json_is_object(j))
		return err_set(err, EINVAL, "tags list: not a JSON object");
	if (json_get_strv(j, "tags", &v, "tags list", err) < 0)
		return err_ret(*err);
	if (!v) {
		/* "tags": null is what distribution answers for an empty repository. */
		v = calloc(1, sizeof(char *));
		if (!v)
			return err_errno(err, ENOMEM, "tags list");
	}
	for (char **t = v; *t; t++)
		if (!tag_valid(*t))
			return err_set(err, EINVAL, "tags list: invalid tag \"%.*s\"", 40,
				       header_safe(*t) ? *t : "(unprintable)");
	*tags = steal_ptr(v);
	return 0;
}
