/*
 * policy/trust.c - decoding, merging and evaluation of the image trust
 * policy (see trust.h).
 *
 * Runs in: any process, unprivileged. Pure: no system calls, no file I/O;
 * the input is untrusted bytes (a user's policy file) and the signatures'
 * docker-references are attacker-chosen strings, so this file is what
 * fuzz/trust_policy_fuzz.c exercises.
 *
 * Invariants:
 *  - the size cap is checked before jansson sees the bytes, and every count
 *    (scopes, requirements, keys) before anything is allocated for it;
 *  - every string copied out was checked for embedded NULs; strings quoted
 *    in errors and reasons go through policy_quote(), so a policy or a signature
 *    cannot put terminal escapes on the user's screen;
 *  - decode either returns a complete policy or frees everything it built;
 *  - scopes are kept sorted by (transport, scope) with no duplicates, so a
 *    lookup is a bsearch and "the" scope for a string is unambiguous;
 *  - evaluation fails closed: a requirement it cannot satisfy or cannot
 *    decide rejects, and the reason says which scope and which rule.
 *
 * Identity semantics follow containers/image signature/policy_reference_match.go:
 * a signature's docker-reference is compared with the image's reference
 * after both are normalised (busybox = docker.io/library/busybox,
 * index.docker.io = docker.io).
 */
#include "policy/trust.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "policy/decode.h"
#include "common/json.h"

const char trust_scope_default[] = "default";

#define NAME_MAX_LEN 255 /* distribution/reference NameTotalLengthMax */
#define TAG_MAX_LEN 128
#define DIGEST_MAX_LEN 135 /* "sha512:" + 128 hex */
#define REF_BUF 528	   /* name + ':' tag + '@' digest + NUL */
#define SCOPE_MAX_LEN 520
#define KEY_PATH_MAX 4096
#define KEY_DATA_MAX (256 * 1024)

/* ---- small helpers ---------------------------------------------------- */

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A domain name without port: labels [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?
 * separated by single dots. */
static bool domain_name_valid(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_alnum(c) || c == '-') {
			if (label == 0 && c == '-')
				return false;
			label++;
		} else {
			return false;
		}
	}
	return label > 0 && s[len - 1] != '-';
}

/* host[:port] or [ipv6][:port], as distribution/reference's domain. */
static bool host_valid(const char *s, size_t len)
{
	size_t hl = len;

	if (len == 0)
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (!close || close == s + 1)
			return false;
		for (const char *c = s + 1; c < close; c++)
			if (!is_hex(*c) && !(*c >= 'A' && *c <= 'F') && *c != ':')
				return false;
		hl = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', len);

		if (colon)
			hl = (size_t)(colon - s);
		if (!domain_name_valid(s, hl))
			return false;
	}
	if (hl == len)
		return true;
	if (s[hl] != ':' || hl + 1 == len || len - hl - 1 > 5)
		return false;
	for (size_t i = hl + 1; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One path component: [a-z0-9]+ joined by '.', '_', "__" or runs of '-'. */
static bool component_valid(const char *s, size_t len)
{
	if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (is_lower_alnum(c))
			continue;
		if (c == '.' || c == '_') {
			if (c == '_' && s[i - 1] == '_' && (i < 2 || s[i - 2] != '_'))
				continue; /* the second '_' of "__" */
			if (!is_lower_alnum(s[i - 1]))
				return false;
			continue;
		}
		if (c == '-') {
			if (!is_lower_alnum(s[i - 1]) && s[i - 1] != '-')
				return false;
			continue;
		}
		return false;
	}
	return true;
}

static bool tag_valid(const char *s, size_t len)
{
	if (len == 0 || len > TAG_MAX_LEN || !(is_alnum(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static bool digest_valid(const char *s)
{
	size_t hex;

	if (!strncmp(s, "sha256:", 7))
		hex = 64;
	else if (!strncmp(s, "sha512:", 7))
		hex = 128;
	else
		return false;
	for (size_t i = 0; i < hex; i++)
		if (!is_hex(s[7 + i]))
			return false;
	return s[7 + hex] == '\0';
}

/* ---- docker references ------------------------------------------------ */

struct dref {
	char name[NAME_MAX_LEN + 1]; /* host/path, normalised */
	size_t host_len;
	char tag[TAG_MAX_LEN + 1];	 /* "" when absent */
	char digest[DIGEST_MAX_LEN + 1]; /* "" when absent */
};

static bool dref_name_only(const struct dref *r)
{
	return !r->tag[0] && !r->digest[0];
}

static const char *dref_string(const struct dref *r, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", r->name, r->tag[0] ? ":" : "", r->tag,
		 r->digest[0] ? "@" : "", r->digest);
	return buf;
}

/* Parses S as Docker does (distribution/reference ParseNormalizedNamed):
 * "name[:tag][@digest]", where a first component without '.' or ':' (and
 * not "localhost") is a path on docker.io, and docker.io's single-component
 * names live under library/. Returns false with *WHY set. */
static bool dref_parse_mode(const char *s, struct dref *r, bool normalise, const char **why)
{
	const char *at, *end, *slash, *colon, *path;
	char host[NAME_MAX_LEN + 1];
	size_t hlen, plen;
	bool lib = false;
	int n;

	memset(r, 0, sizeof(*r));
	*why = "is not a valid docker reference";
	if (!s || strlen(s) > REF_BUF)
		return false;
	at = strchr(s, '@');
	end = at ? at : s + strlen(s);
	if (at) {
		if (!digest_valid(at + 1)) {
			*why = "has an invalid digest";
			return false;
		}
		snprintf(r->digest, sizeof(r->digest), "%s", at + 1);
	}
	slash = memrchr(s, '/', (size_t)(end - s));
	colon = memrchr(s, ':', (size_t)(end - s));
	if (colon && (!slash || colon > slash)) {
		if (!tag_valid(colon + 1, (size_t)(end - colon - 1))) {
			*why = "has an invalid tag";
			return false;
		}
		memcpy(r->tag, colon + 1, (size_t)(end - colon - 1));
		end = colon;
	}
	if (end == s)
		return false;
	slash = memchr(s, '/', (size_t)(end - s));
	hlen = slash ? (size_t)(slash - s) : 0;
	if (slash && (memchr(s, '.', hlen) || memchr(s, ':', hlen) || memchr(s, '[', hlen) ||
		      (hlen == 9 && !memcmp(s, "localhost", 9)))) {
		if (!host_valid(s, hlen) || hlen > NAME_MAX_LEN) {
			*why = "has an invalid registry host";
			return false;
		}
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		path = slash + 1;
	} else {
		if (!normalise) {
			*why = "is not fully qualified (it needs a registry host)";
			return false;
		}
		strcpy(host, "docker.io");
		path = s;
	}
	if (normalise && !strcmp(host, "index.docker.io"))
		strcpy(host, "docker.io");
	plen = (size_t)(end - path);
	if (plen == 0 || path[plen - 1] == '/') {
		*why = "has an invalid repository name";
		return false;
	}
	for (const char *c = path, *e; c < end; c = e + 1) {
		e = memchr(c, '/', (size_t)(end - c));
		if (!e)
			e = end;
		if (!component_valid(c, (size_t)(e - c))) {
			*why = "has an invalid repository name";
			return false;
		}
	}
	if (normalise && !strcmp(host, "docker.io") && !memchr(path, '/', plen))
		lib = true;
	n = snprintf(r->name, sizeof(r->name), "%s/%s%.*s", host, lib ? "library/" : "", (int)plen,
		     path);
	if (n < 0 || (size_t)n > NAME_MAX_LEN) {
		*why = "is too long";
		return false;
	}
	r->host_len = strlen(host);
	return true;
}

static bool dref_parse(const char *s, struct dref *r, const char **why)
{
	return dref_parse_mode(s, r, true, why);
}

/* ---- scopes ------------------------------------------------------------ */

/* Whether S is a scope for transport T: "", "*.domain" (docker only),
 * host[:port], or a fully-qualified repository, namespace or reference
 * (name, name:tag or name@digest, never both). */
static bool scope_valid(enum trust_transport t, const char *s, const char **why)
{
	struct dref r, n;
	char full[REF_BUF];
	size_t len = strlen(s);

	*why = "is not a valid scope";
	if (len == 0)
		return true;
	if (len > SCOPE_MAX_LEN)
		return false;
	if (!strncmp(s, "*.", 2)) {
		*why = "is not a valid wildcard scope (\"*.example.com\")";
		return t == TRUST_TRANSPORT_DOCKER && domain_name_valid(s + 2, len - 2);
	}
	if (!strchr(s, '/')) {
		*why = "is not a valid registry host";
		return !strchr(s, '@') && host_valid(s, len);
	}
	/* Namespaces are scopes too ("docker.io/library", "quay.io/org"), so
	 * the name is taken literally; only a reference that Docker would
	 * rewrite is refused, since it could never match. */
	if (!dref_parse_mode(s, &r, false, why))
		return false;
	if (r.tag[0] && r.digest[0]) {
		*why = "has both a tag and a digest";
		return false;
	}
	if (!dref_parse(s, &n, why) ||
	    (!dref_name_only(&r) && strcmp(dref_string(&n, full, sizeof(full)), s)) ||
	    strncmp(n.name, s, n.host_len)) {
		*why = "is not fully qualified (write it as docker.io/library/NAME)";
		return false;
	}
	return true;
}

static int scope_cmp(const void *a, const void *b)
{
	const struct trust_scope *x = a, *y = b;

	if (x->transport != y->transport)
		return x->transport < y->transport ? -1 : 1;
	return strcmp(x->scope, y->scope);
}

static const struct trust_scope *find(const struct trust_policy *p, enum trust_transport t,
				      const char *s)
{
	struct trust_scope key = {.transport = t, .scope = (char *)s};

	if (!p->n_scopes)
		return NULL;
	return bsearch(&key, p->scopes, p->n_scopes, sizeof(*p->scopes), scope_cmp);
}

/* The host's scopes, most specific first: host[:port], then *.wildcards of
 * its name without the port, longest first (as containers/image's
 * PolicyConfigurationNamespaces), then "". */
static const struct trust_scope *walk_host(const struct trust_policy *p, enum trust_transport t,
					   const char *host, size_t len)
{
	const struct trust_scope *sc;
	char buf[SCOPE_MAX_LEN + 3];
	const char *colon, *dot;

	if (len > SCOPE_MAX_LEN)
		return find(p, t, "");
	memcpy(buf, host, len);
	buf[len] = '\0';
	if ((sc = find(p, t, buf)))
		return sc;
	if (host[0] != '[') {
		colon = memchr(host, ':', len);
		if (colon)
			len = (size_t)(colon - host);
		for (dot = memchr(host, '.', len); dot;
		     dot = memchr(dot + 1, '.', len - (size_t)(dot + 1 - host))) {
			size_t rest = len - (size_t)(dot + 1 - host);

			snprintf(buf, sizeof(buf), "*.%.*s", (int)rest, dot + 1);
			if ((sc = find(p, t, buf)))
				return sc;
		}
	}
	return find(p, t, "");
}

/* REF's scopes, most specific first: the exact reference, the repository,
 * each enclosing namespace, then the host's. */
static const struct trust_scope *walk_ref(const struct trust_policy *p, enum trust_transport t,
					  const struct dref *r)
{
	const struct trust_scope *sc;
	char buf[REF_BUF];
	size_t len;

	if (r->digest[0] || r->tag[0]) {
		/* A digest names content; a tag beside it is only a label. */
		snprintf(buf, sizeof(buf), "%s%s%s", r->name, r->digest[0] ? "@" : ":",
			 r->digest[0] ? r->digest : r->tag);
		if ((sc = find(p, t, buf)))
			return sc;
	}
	len = strlen(r->name);
	memcpy(buf, r->name, len + 1);
	while (len > r->host_len) {
		char *slash;

		buf[len] = '\0';
		if ((sc = find(p, t, buf)))
			return sc;
		slash = memrchr(buf, '/', len);
		len = (size_t)(slash - buf);
	}
	return walk_host(p, t, r->name, r->host_len);
}

/* The scope P chooses for S, itself a valid scope of transport T: the
 * first of S's chain that P has (NULL: P's top-level default). */
static const struct trust_scope *walk_scope(const struct trust_policy *p, enum trust_transport t,
					    const char *s)
{
	const struct trust_scope *sc;
	const char *why;
	struct dref r;

	if (!s[0])
		return find(p, t, "");
	if (!strncmp(s, "*.", 2)) {
		for (const char *d = s + 2;;) {
			char buf[SCOPE_MAX_LEN + 3];

			snprintf(buf, sizeof(buf), "*.%s", d);
			if ((sc = find(p, t, buf)))
				return sc;
			d = strchr(d, '.');
			if (!d)
				break;
			d++;
		}
		return find(p, t, "");
	}
	if (!strchr(s, '/'))
		return walk_host(p, t, s, strlen(s));
	if (!dref_parse_mode(s, &r, false, &why))
		return find(p, t, "");
	return walk_ref(p, t, &r);
}

/* ---- freeing and copying ---------------------------------------------- */

static void ident_clear(struct trust_ident *id)
{
	free(id->reference);
	free(id->prefix);
	free(id->signed_prefix);
	memset(id, 0, sizeof(*id));
}

static void req_clear(struct trust_req *r)
{
	strvfree(r->key_paths);
	strvfree(r->key_datas);
	free(r->key_type);
	ident_clear(&r->ident);
	memset(r, 0, sizeof(*r));
}

static void reqs_free(struct trust_req *reqs, size_t n)
{
	for (size_t i = 0; reqs && i < n; i++)
		req_clear(&reqs[i]);
	free(reqs);
}

void trust_policy_free(struct trust_policy *p)
{
	if (!p)
		return;
	reqs_free(p->def, p->n_def);
	for (size_t i = 0; i < p->n_scopes; i++) {
		free(p->scopes[i].scope);
		reqs_free(p->scopes[i].reqs, p->scopes[i].n_reqs);
	}
	free(p->scopes);
	free(p);
}

static void policy_freep(struct trust_policy **p)
{
	trust_policy_free(*p);
}
#define _cleanup_policy_ __attribute__((cleanup(policy_freep)))

static int dup_str(const char *s, char **out)
{
	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int dup_strv(char **v, char ***out)
{
	size_t n = 0;
	char **r;

	*out = NULL;
	if (!v)
		return 0;
	while (v[n])
		n++;
	r = calloc(n + 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(r[i] = strdup(v[i]))) {
			strvfree(r);
			return -ENOMEM;
		}
	*out = r;
	return 0;
}

static int req_copy(const struct trust_req *src, struct trust_req *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->n_keys = src->n_keys;
	dst->ident.type = src->ident.type;
	if (dup_strv(src->key_paths, &dst->key_paths) < 0 ||
	    dup_strv(src->key_datas, &dst->key_datas) < 0 ||
	    dup_str(src->key_type, &dst->key_type) < 0 ||
	    dup_str(src->ident.reference, &dst->ident.reference) < 0 ||
	    dup_str(src->ident.prefix, &dst->ident.prefix) < 0 ||
	    dup_str(src->ident.signed_prefix, &dst->ident.signed_prefix) < 0) {
		req_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

/* Appends copies of A then B into a new array. */
static int reqs_concat(const struct trust_req *a, size_t na, const struct trust_req *b, size_t nb,
		       struct trust_req **out, size_t *n)
{
	struct trust_req *r;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (na + nb == 0)
		return 0;
	r = calloc(na + nb, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < na + nb; i++, k++)
		if (req_copy(i < na ? &a[i] : &b[i - na], &r[k]) < 0) {
			reqs_free(r, k);
			return -ENOMEM;
		}
	*out = r;
	*n = k;
	return 0;
}

/* ---- decoding ---------------------------------------------------------- */

/* A string member: NULL when absent, error when not a string or with NUL
 * bytes or longer than MAX. */
static int get_str(struct policy_dec *d, const char *path, json_t *obj, const char *key, size_t max,
		   const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return policy_dec_fail(d, path, "\"%s\" must be a string", key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return policy_dec_fail(d, path, "\"%s\" contains a NUL byte", key);
	if (json_string_length(v) > max)
		return policy_dec_fail(d, path, "\"%s\" is longer than %zu bytes", key, max);
	*out = json_string_value(v);
	return 0;
}

static int ident_ref(struct policy_dec *d, const char *path, json_t *obj, const char *key,
		     bool repo, char **out)
{
	const char *s, *why;
	char full[REF_BUF], q[128];
	struct dref r;
	int ret;

	if ((ret = get_str(d, path, obj, key, SCOPE_MAX_LEN, &s)) < 0)
		return ret;
	if (!s)
		return policy_dec_fail(d, path, "\"%s\" is required", key);
	if (!dref_parse(s, &r, &why))
		return policy_dec_fail(d, path, "\"%s\" \"%s\" %s", key,
				       policy_quote(s, q, sizeof(q)), why);
	if (repo && !dref_name_only(&r))
		return policy_dec_fail(d, path,
				       "\"%s\" \"%s\" must be a repository, without tag or digest",
				       key, policy_quote(s, q, sizeof(q)));
	if (!repo && dref_name_only(&r))
		return policy_dec_fail(d, path, "\"%s\" \"%s\" contains neither a tag nor a digest",
				       key, policy_quote(s, q, sizeof(q)));
	*out = strdup(repo ? r.name : dref_string(&r, full, sizeof(full)));
	return *out ? 0 : err_errno(d->err, ENOMEM, "%s", d->file);
}

/* remapIdentity's prefix: a host[:port], namespace or repository, fully
 * qualified, matched at '/' boundaries. */
static int ident_prefix(struct policy_dec *d, const char *path, json_t *obj, const char *key,
			char **out)
{
	const char *s, *why = "";
	char q[128];
	struct dref r;
	bool ok;
	int ret;

	if ((ret = get_str(d, path, obj, key, SCOPE_MAX_LEN, &s)) < 0)
		return ret;
	if (!s)
		return policy_dec_fail(d, path, "\"%s\" is required", key);
	if (!strchr(s, '/'))
		ok = host_valid(s, strlen(s));
	else
		ok = scope_valid(TRUST_TRANSPORT_DOCKER, s, &why) &&
		     dref_parse_mode(s, &r, false, &why) && dref_name_only(&r);
	if (!ok)
		return policy_dec_fail(
		    d, path,
		    "\"%s\" \"%s\" must be a fully-qualified host, namespace or repository", key,
		    policy_quote(s, q, sizeof(q)));
	*out = strdup(s);
	return *out ? 0 : err_errno(d->err, ENOMEM, "%s", d->file);
}

static int decode_ident(struct policy_dec *d, const char *parent, json_t *j, struct trust_ident *id)
{
	static const char *const k_type[] = {"type", NULL};
	static const char *const k_ref[] = {"type", "dockerReference", NULL};
	static const char *const k_repo[] = {"type", "dockerRepository", NULL};
	static const char *const k_remap[] = {"type", "prefix", "signedPrefix", NULL};
	static const struct {
		const char *name;
		enum trust_ident_type type;
		const char *const *keys;
	} types[] = {
	    {"matchRepoDigestOrExact", TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT, k_type},
	    {"matchExact", TRUST_IDENT_MATCH_EXACT, k_type},
	    {"matchRepository", TRUST_IDENT_MATCH_REPOSITORY, k_type},
	    {"exactReference", TRUST_IDENT_EXACT_REFERENCE, k_ref},
	    {"exactRepository", TRUST_IDENT_EXACT_REPOSITORY, k_repo},
	    {"remapIdentity", TRUST_IDENT_REMAP_IDENTITY, k_remap},
	};
	char path[640], q[128];
	const char *t;
	size_t i;
	int ret;

	snprintf(path, sizeof(path), "%s.signedIdentity", parent);
	if (!json_is_object(j))
		return policy_dec_fail(d, path, "must be an object");
	if ((ret = get_str(d, path, j, "type", 64, &t)) < 0)
		return ret;
	if (!t)
		return policy_dec_fail(d, path, "\"type\" is required");
	for (i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(t, types[i].name))
			break;
	if (i == ARRAY_SIZE(types))
		return policy_dec_fail(d, path, "unknown signedIdentity type \"%s\"",
				       policy_quote(t, q, sizeof(q)));
	if ((ret = policy_check_keys(d, path, j, types[i].keys, NULL)) < 0)
		return ret;
	id->type = types[i].type;
	switch (id->type) {
	case TRUST_IDENT_EXACT_REFERENCE:
		return ident_ref(d, path, j, "dockerReference", false, &id->reference);
	case TRUST_IDENT_EXACT_REPOSITORY:
		return ident_ref(d, path, j, "dockerRepository", true, &id->reference);
	case TRUST_IDENT_REMAP_IDENTITY:
		if ((ret = ident_prefix(d, path, j, "prefix", &id->prefix)) < 0)
			return ret;
		return ident_prefix(d, path, j, "signedPrefix", &id->signed_prefix);
	case TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT:
	case TRUST_IDENT_MATCH_EXACT:
	case TRUST_IDENT_MATCH_REPOSITORY:
	default:
		return 0;
	}
}

/* keyPath | keyPaths | keyData | keyDatas: exactly one. */
static int decode_keys(struct policy_dec *d, const char *path, json_t *j, struct trust_req *r)
{
	static const char *const names[] = {"keyPath", "keyPaths", "keyData", "keyDatas"};
	const char *which = NULL;
	char q[128];
	size_t n = 0;
	char **v;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!json_object_get(j, names[i]))
			continue;
		if (which)
			return policy_dec_fail(d, path, "\"%s\" and \"%s\" are mutually exclusive",
					       which, names[i]);
		which = names[i];
	}
	if (!which)
		return policy_dec_fail(
		    d, path,
		    "one of \"keyPath\", \"keyPaths\", \"keyData\" or \"keyDatas\" "
		    "is required");
	bool data = strstr(which, "Data") != NULL;
	json_t *v_j = json_object_get(j, which);
	size_t count = json_is_array(v_j) ? json_array_size(v_j) : 1;

	if (which[strlen(which) - 1] == 's') {
		if (!json_is_array(v_j))
			return policy_dec_fail(d, path, "\"%s\" must be an array of strings",
					       which);
		if (count == 0)
			return policy_dec_fail(d, path, "\"%s\" is empty", which);
		if (count > TRUST_POLICY_MAX_KEYS)
			return policy_dec_fail(d, path, "\"%s\" has more than %d keys", which,
					       TRUST_POLICY_MAX_KEYS);
	} else if (!json_is_string(v_j)) {
		return policy_dec_fail(d, path, "\"%s\" must be a string", which);
	}
	v = calloc(count + 1, sizeof(*v));
	if (!v)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	if (data)
		r->key_datas = v;
	else
		r->key_paths = v;
	for (n = 0; n < count; n++) {
		json_t *e = json_is_array(v_j) ? json_array_get(v_j, n) : v_j;
		const char *s;

		if (!json_is_string(e))
			return policy_dec_fail(d, path, "\"%s\"[%zu] must be a string", which, n);
		s = json_string_value(e);
		if (strlen(s) != json_string_length(e))
			return policy_dec_fail(d, path, "\"%s\" contains a NUL byte", which);
		if (data && (strlen(s) > KEY_DATA_MAX || !base64_valid(s)))
			return policy_dec_fail(d, path, "\"%s\" is not valid base64", which);
		if (!data && (s[0] != '/' || strlen(s) > KEY_PATH_MAX))
			return policy_dec_fail(d, path, "\"%s\" \"%s\" must be an absolute path",
					       which, policy_quote(s, q, sizeof(q)));
		if (!(v[n] = strdup(s)))
			return err_errno(d->err, ENOMEM, "%s", d->file);
	}
	r->n_keys = count;
	return 0;
}

static int decode_req(struct policy_dec *d, const char *path, json_t *j, struct trust_req *r)
{
	static const char *const k_type[] = {"type", NULL};
	static const char *const k_sigstore[] = {
	    "type", "keyPath", "keyPaths", "keyData", "keyDatas", "signedIdentity", NULL};
	static const char *const k_sigstore_unsup[] = {"fulcio",
						       "pki",
						       "rekorPublicKeyPath",
						       "rekorPublicKeyPaths",
						       "rekorPublicKeyData",
						       "rekorPublicKeyDatas",
						       NULL};
	static const char *const k_signedby[] = {"type",    "keyType",	      "keyPath", "keyPaths",
						 "keyData", "signedIdentity", NULL};
	const char *t, *kt;
	char q[128];
	json_t *id;
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, path, "a requirement must be an object");
	if ((ret = get_str(d, path, j, "type", 64, &t)) < 0)
		return ret;
	if (!t)
		return policy_dec_fail(d, path, "\"type\" is required");
	if (!strcmp(t, "reject") || !strcmp(t, "insecureAcceptAnything")) {
		r->type = t[0] == 'r' ? TRUST_REQ_REJECT : TRUST_REQ_INSECURE_ACCEPT_ANYTHING;
		return policy_check_keys(d, path, j, k_type, NULL);
	}
	if (!strcmp(t, "sigstoreSigned")) {
		r->type = TRUST_REQ_SIGSTORE_SIGNED;
		if ((ret = policy_check_keys(d, path, j, k_sigstore, k_sigstore_unsup)) < 0)
			return ret;
	} else if (!strcmp(t, "signedBy")) {
		r->type = TRUST_REQ_SIGNED_BY;
		if ((ret = policy_check_keys(d, path, j, k_signedby, NULL)) < 0 ||
		    (ret = get_str(d, path, j, "keyType", 64, &kt)) < 0)
			return ret;
		if (!kt)
			return policy_dec_fail(d, path, "\"keyType\" is required");
		if (strcmp(kt, "GPGKeys"))
			return policy_dec_fail(d, path, "unknown keyType \"%s\"",
					       policy_quote(kt, q, sizeof(q)));
		if (!(r->key_type = strdup(kt)))
			return err_errno(d->err, ENOMEM, "%s", d->file);
	} else {
		return policy_dec_fail(d, path, "unknown requirement type \"%s\"",
				       policy_quote(t, q, sizeof(q)));
	}
	if ((ret = decode_keys(d, path, j, r)) < 0)
		return ret;
	id = json_object_get(j, "signedIdentity");
	if (id)
		return decode_ident(d, path, id, &r->ident);
	r->ident.type = TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT;
	return 0;
}

static int decode_reqs(struct policy_dec *d, const char *path, json_t *j, struct trust_req **out,
		       size_t *n)
{
	struct trust_req *r;
	size_t count, i;
	int ret = 0;

	if (!json_is_array(j))
		return policy_dec_fail(d, path, "must be an array of requirements");
	count = json_array_size(j);
	if (count == 0)
		return policy_dec_fail(
		    d, path, "no requirements (write [{\"type\": \"reject\"}] to reject)");
	if (count > TRUST_POLICY_MAX_REQS)
		return policy_dec_fail(d, path, "more than %d requirements", TRUST_POLICY_MAX_REQS);
	r = calloc(count, sizeof(*r));
	if (!r)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	for (i = 0; i < count; i++) {
		char p[600];

		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if ((ret = decode_req(d, p, json_array_get(j, i), &r[i])) < 0)
			break;
	}
	if (ret < 0) {
		reqs_free(r, count);
		return ret;
	}
	*out = r;
	*n = count;
	return 0;
}

static int decode_transports(struct policy_dec *d, json_t *j, struct trust_policy *p)
{
	static const char *const known[] = {"docker", "docker-daemon", NULL};
	size_t total = 0, klen;
	const char *tname, *scope, *why;
	json_t *tv, *sv;
	char q[128];
	int ret;

	if (!json_is_object(j))
		return policy_dec_fail(d, "transports", "must be an object");
	json_object_foreach (j, tname, tv) {
		if (!policy_in_list(tname, known))
			return policy_dec_fail(d, "transports", "unknown transport \"%s\"",
					       policy_quote(tname, q, sizeof(q)));
		if (!json_is_object(tv))
			return policy_dec_fail(d, "transports", "\"%s\" must be an object", tname);
		total += json_object_size(tv);
	}
	if (total > TRUST_POLICY_MAX_SCOPES)
		return policy_dec_fail(d, "transports", "more than %d scopes",
				       TRUST_POLICY_MAX_SCOPES);
	if (total == 0)
		return 0;
	p->scopes = calloc(total, sizeof(*p->scopes));
	if (!p->scopes)
		return err_errno(d->err, ENOMEM, "%s", d->file);
	json_object_foreach (j, tname, tv) {
		enum trust_transport t = strcmp(tname, "docker") ? TRUST_TRANSPORT_DOCKER_DAEMON
								 : TRUST_TRANSPORT_DOCKER;

		json_object_keylen_foreach(tv, scope, klen, sv)
		{
			struct trust_scope *s = &p->scopes[p->n_scopes];
			char path[256];

			snprintf(path, sizeof(path), "transports.%s.\"%s\"", tname,
				 policy_quote(scope, q, sizeof(q)));
			if (strlen(scope) != klen)
				return policy_dec_fail(d, path, "scope contains a NUL byte");
			if (!scope_valid(t, scope, &why))
				return policy_dec_fail(d, path, "scope %s", why);
			s->transport = t;
			if (!(s->scope = strdup(scope)))
				return err_errno(d->err, ENOMEM, "%s", d->file);
			p->n_scopes++;
			if ((ret = decode_reqs(d, path, sv, &s->reqs, &s->n_reqs)) < 0)
				return ret;
		}
	}
	/* Keys are unique per object (JSON_REJECT_DUPLICATES), transports
	 * apart, so the sorted array has no duplicates. */
	qsort(p->scopes, p->n_scopes, sizeof(*p->scopes), scope_cmp);
	return 0;
}

int trust_policy_decode(const char *buf, size_t len, const char *file, struct trust_policy **out,
			struct err **err)
{
	static const char *const k_top[] = {"default", "transports", NULL};
	_cleanup_policy_ struct trust_policy *p = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct policy_dec d = {file ? file : "trust policy", err};
	json_t *def, *tr;
	int ret;

	*out = NULL;
	if (len > TRUST_POLICY_MAX_BYTES)
		return err_set(err, EFBIG, "%s: larger than %d bytes", d.file,
			       TRUST_POLICY_MAX_BYTES);
	j = json_parse_strict(buf, len, d.file, err);
	if (!j)
		return err_ret(*err);
	if (!json_is_object(j))
		return policy_dec_fail(&d, "", "must be a JSON object");
	if ((ret = policy_check_keys(&d, "", j, k_top, NULL)) < 0)
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return err_errno(err, ENOMEM, "%s", d.file);
	def = json_object_get(j, "default");
	if (!def)
		return policy_dec_fail(&d, "", "\"default\" is required");
	if ((ret = decode_reqs(&d, "default", def, &p->def, &p->n_def)) < 0)
		return ret;
	tr = json_object_get(j, "transports");
	if (tr && !json_is_null(tr) && (ret = decode_transports(&d, tr, p)) < 0)
		return ret;
	*out = steal_ptr(p);
	return 0;
}

struct trust_policy *trust_policy_default_reject(void)
{
	struct trust_policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->def = calloc(1, sizeof(*p->def));
	if (!p->def) {
		free(p);
		return NULL;
	}
	p->def[0].type = TRUST_REQ_REJECT;
	p->n_def = 1;
	return p;
}

/* ---- tightening -------------------------------------------------------- */

static void choice(const struct trust_policy *p, const struct trust_scope *key,
		   const struct trust_req **reqs, size_t *n)
{
	const struct trust_scope *sc = walk_scope(p, key->transport, key->scope);

	*reqs = sc ? sc->reqs : p->def;
	*n = sc ? sc->n_reqs : p->n_def;
}

int trust_policy_tighten(const struct trust_policy *sys, const struct trust_policy *user,
			 struct trust_policy **out, struct err **err)
{
	static const struct trust_policy empty;
	_cleanup_policy_ struct trust_policy *m = NULL;
	size_t i = 0, k = 0, cap;

	*out = NULL;
	if (!user)
		user = &empty;
	cap = sys->n_scopes + user->n_scopes;
	m = calloc(1, sizeof(*m));
	if (!m || (cap && !(m->scopes = calloc(cap, sizeof(*m->scopes)))))
		return err_errno(err, ENOMEM, "merging trust policies");
	if (reqs_concat(sys->def, sys->n_def, user->def, user->n_def, &m->def, &m->n_def) < 0)
		return err_errno(err, ENOMEM, "merging trust policies");
	/* Both scope arrays are sorted: walk their union once. */
	while (i < sys->n_scopes || k < user->n_scopes) {
		const struct trust_scope *key;
		struct trust_scope *s = &m->scopes[m->n_scopes];
		const struct trust_req *a, *b;
		size_t na, nb;
		int c;

		if (i == sys->n_scopes)
			c = 1;
		else if (k == user->n_scopes)
			c = -1;
		else
			c = scope_cmp(&sys->scopes[i], &user->scopes[k]);
		key = c <= 0 ? &sys->scopes[i] : &user->scopes[k];
		if (c <= 0)
			i++;
		if (c >= 0)
			k++;
		choice(sys, key, &a, &na);
		choice(user, key, &b, &nb);
		s->transport = key->transport;
		if (!(s->scope = strdup(key->scope)))
			return err_errno(err, ENOMEM, "merging trust policies");
		m->n_scopes++;
		if (reqs_concat(a, na, b, nb, &s->reqs, &s->n_reqs) < 0)
			return err_errno(err, ENOMEM, "merging trust policies");
	}
	*out = steal_ptr(m);
	return 0;
}

/* ---- selection and evaluation ------------------------------------------ */

static const char *select_ref(const struct trust_policy *p, const struct dref *r,
			      const struct trust_req **reqs, size_t *n)
{
	const struct trust_scope *sc = r ? walk_ref(p, TRUST_TRANSPORT_DOCKER, r) : NULL;

	*reqs = sc ? sc->reqs : p->def;
	*n = sc ? sc->n_reqs : p->n_def;
	return sc ? sc->scope : trust_scope_default;
}

const char *trust_policy_scope_for(const struct trust_policy *p, const char *ref,
				   const struct trust_req **reqs, size_t *n)
{
	const char *why;
	struct dref r;

	return select_ref(p, dref_parse(ref, &r, &why) ? &r : NULL, reqs, n);
}

const char *trust_req_type_name(enum trust_req_type t)
{
	switch (t) {
	case TRUST_REQ_REJECT:
		return "reject";
	case TRUST_REQ_INSECURE_ACCEPT_ANYTHING:
		return "insecureAcceptAnything";
	case TRUST_REQ_SIGSTORE_SIGNED:
		return "sigstoreSigned";
	case TRUST_REQ_SIGNED_BY:
		return "signedBy";
	default:
		return "?";
	}
}

const char *trust_ident_type_name(enum trust_ident_type t)
{
	switch (t) {
	case TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT:
		return "matchRepoDigestOrExact";
	case TRUST_IDENT_MATCH_EXACT:
		return "matchExact";
	case TRUST_IDENT_MATCH_REPOSITORY:
		return "matchRepository";
	case TRUST_IDENT_EXACT_REFERENCE:
		return "exactReference";
	case TRUST_IDENT_EXACT_REPOSITORY:
		return "exactRepository";
	case TRUST_IDENT_REMAP_IDENTITY:
		return "remapIdentity";
	default:
		return "?";
	}
}

size_t trust_req_keys(const struct trust_req *r, const char ***paths, const char ***datas)
{
	*paths = (const char **)r->key_paths;
	*datas = (const char **)r->key_datas;
	if (r->type != TRUST_REQ_SIGSTORE_SIGNED && r->type != TRUST_REQ_SIGNED_BY)
		return 0;
	return r->n_keys;
}

static bool key_named(const struct trust_req *r, const char *id)
{
	if (!id)
		return false;
	for (char **k = r->key_paths; k && *k; k++)
		if (!strcmp(*k, id))
			return true;
	for (char **k = r->key_datas; k && *k; k++)
		if (!strcmp(*k, id))
			return true;
	return false;
}

static bool same_string(const struct dref *a, const struct dref *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->tag, b->tag) &&
	       !strcmp(a->digest, b->digest);
}

/* containers/image matchRepoDigestOrExact: a tagged image needs the exact
 * reference; a digested one, only the repository (the digest itself is
 * checked against the signature's manifest digest); a bare name, nothing
 * can match. */
static bool repo_digest_or_exact(const struct dref *img, const struct dref *sig)
{
	if (img->tag[0])
		return same_string(img, sig);
	if (img->digest[0])
		return !strcmp(img->name, sig->name);
	return false;
}

/* remapIdentity: IMG with PREFIX (matched at a '/' boundary) replaced by
 * SIGNED_PREFIX. False when it does not apply. */
static bool remap(const struct trust_ident *id, const struct dref *img, struct dref *out)
{
	size_t pl = strlen(id->prefix), nl = strlen(img->name);
	char buf[REF_BUF * 2];
	const char *why;

	if (nl < pl || memcmp(img->name, id->prefix, pl) || (nl > pl && img->name[pl] != '/'))
		return false;
	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s", id->signed_prefix, img->name + pl,
		 img->tag[0] ? ":" : "", img->tag, img->digest[0] ? "@" : "", img->digest);
	return dref_parse(buf, out, &why);
}

/* The repository whose name the signature must carry, when the rule ties it
 * to the image's (for the "another repository" reason). */
static const char *expected_repo(const struct trust_ident *id, const struct dref *img,
				 struct dref *tmp)
{
	switch (id->type) {
	case TRUST_IDENT_REMAP_IDENTITY:
		return remap(id, img, tmp) ? tmp->name : img->name;
	case TRUST_IDENT_EXACT_REFERENCE:
	case TRUST_IDENT_EXACT_REPOSITORY:
		return NULL;
	case TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT:
	case TRUST_IDENT_MATCH_EXACT:
	case TRUST_IDENT_MATCH_REPOSITORY:
	default:
		return img->name;
	}
}

static bool ident_match(const struct trust_ident *id, const struct dref *img,
			const struct dref *sig)
{
	char buf[REF_BUF];
	struct dref m;

	switch (id->type) {
	case TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT:
		return repo_digest_or_exact(img, sig);
	case TRUST_IDENT_MATCH_EXACT:
		return !dref_name_only(img) && !dref_name_only(sig) && same_string(img, sig);
	case TRUST_IDENT_MATCH_REPOSITORY:
		return !strcmp(img->name, sig->name);
	case TRUST_IDENT_EXACT_REFERENCE:
		return id->reference && !strcmp(dref_string(sig, buf, sizeof(buf)), id->reference);
	case TRUST_IDENT_EXACT_REPOSITORY:
		return id->reference && !strcmp(sig->name, id->reference);
	case TRUST_IDENT_REMAP_IDENTITY:
		if (!id->prefix || !id->signed_prefix)
			return false;
		if (remap(id, img, &m))
			return repo_digest_or_exact(&m, sig);
		return repo_digest_or_exact(img, sig);
	default:
		return false;
	}
}

/* One sigstoreSigned requirement: some signature by a key it names, over
 * DIGEST, whose identity passes. On failure WHY says what came closest. */
static bool sigstore_ok(const struct trust_req *r, const struct dref *img, const char *digest,
			const struct trust_sig *sigs, size_t n, char *why, size_t why_len)
{
	char q[128], q2[128], s1[REF_BUF];
	const char *ident = trust_ident_type_name(r->ident.type);
	int best = 0;

	snprintf(why, why_len, "no signature by a trusted key");
	for (size_t i = 0; sigs && i < n; i++) {
		const struct trust_sig *s = &sigs[i];
		const char *bad, *exp;
		struct dref sr, tmp;

		if (!key_named(r, s->key_id))
			continue;
		if (!s->manifest_digest || strcmp(s->manifest_digest, digest)) {
			if (best < 1)
				snprintf(why, why_len,
					 "the signature by a trusted key is over another manifest "
					 "(%s), not %s",
					 policy_quote(s->manifest_digest, q, sizeof(q)), digest);
			best = best < 1 ? 1 : best;
			continue;
		}
		if (!dref_parse(s->docker_reference, &sr, &bad)) {
			if (best < 2)
				snprintf(why, why_len, "the signature's docker-reference \"%s\" %s",
					 policy_quote(s->docker_reference, q, sizeof(q)), bad);
			best = best < 2 ? 2 : best;
			continue;
		}
		if (ident_match(&r->ident, img, &sr)) {
			snprintf(why, why_len, "signed by trusted key %s as %s (%s)",
				 policy_quote(s->key_id, q, sizeof(q)),
				 policy_quote(dref_string(&sr, s1, sizeof(s1)), q2, sizeof(q2)),
				 ident);
			return true;
		}
		exp = expected_repo(&r->ident, img, &tmp);
		if (exp && strcmp(exp, sr.name)) {
			if (best < 3)
				snprintf(
				    why, why_len,
				    "signature for another repository (docker-reference %s) "
				    "does not count",
				    policy_quote(dref_string(&sr, s1, sizeof(s1)), q, sizeof(q)));
			best = best < 3 ? 3 : best;
		} else if (best < 4) {
			best = 4;
			if (exp && dref_name_only(img))
				snprintf(why, why_len,
					 "the image reference has neither tag nor digest, which "
					 "signedIdentity %s needs",
					 ident);
			else
				snprintf(
				    why, why_len,
				    "the signature's docker-reference %s does not satisfy "
				    "signedIdentity %s%s%s",
				    policy_quote(dref_string(&sr, s1, sizeof(s1)), q, sizeof(q)),
				    ident, r->ident.reference ? " " : "",
				    r->ident.reference ? r->ident.reference : "");
		}
	}
	return false;
}

__attribute__((format(printf, 4, 5))) static int verdict(char *reason, size_t len, int v,
							 const char *fmt, ...)
{
	va_list ap;

	if (reason && len) {
		va_start(ap, fmt);
		vsnprintf(reason, len, fmt, ap);
		va_end(ap);
	}
	return v;
}

int trust_policy_evaluate(const struct trust_policy *p, const char *ref,
			  const char *manifest_digest, const struct trust_sig *sigs, size_t n,
			  char *reason, size_t reason_len)
{
	char q[128], sc[160], why[512], first[512] = "";
	const struct trust_req *reqs;
	const char *scope, *bad;
	struct dref img;
	size_t nr;

	if (!p)
		return verdict(reason, reason_len, TRUST_REJECT, "no trust policy");
	if (!dref_parse(ref, &img, &bad))
		return verdict(reason, reason_len, TRUST_REJECT, "reference \"%s\" %s",
			       policy_quote(ref, q, sizeof(q)), bad);
	if (!manifest_digest || !digest_valid(manifest_digest))
		return verdict(reason, reason_len, TRUST_REJECT,
			       "%s: no valid manifest digest to check signatures against",
			       policy_quote(ref, q, sizeof(q)));
	if (img.digest[0] && strcmp(img.digest, manifest_digest))
		return verdict(reason, reason_len, TRUST_REJECT,
			       "%s: the manifest's digest is %s, not the reference's",
			       policy_quote(ref, q, sizeof(q)), manifest_digest);
	scope = select_ref(p, &img, &reqs, &nr);
	if (scope == trust_scope_default)
		snprintf(sc, sizeof(sc), "the default policy");
	else
		snprintf(sc, sizeof(sc), "scope \"%s\"", policy_quote(scope, q, sizeof(q)));
	for (size_t i = 0; i < nr; i++) {
		const struct trust_req *r = &reqs[i];

		switch (r->type) {
		case TRUST_REQ_REJECT:
			return verdict(reason, reason_len, TRUST_REJECT,
				       "rejected by policy for %s (requirement %zu: reject)", sc,
				       i);
		case TRUST_REQ_INSECURE_ACCEPT_ANYTHING:
			if (!first[0])
				snprintf(first, sizeof(first), "no signature required");
			break;
		case TRUST_REQ_SIGNED_BY:
			return verdict(reason, reason_len, TRUST_REJECT,
				       "rejected by policy for %s (requirement %zu: signedBy): GPG "
				       "signatures are not supported; use sigstoreSigned",
				       sc, i);
		case TRUST_REQ_SIGSTORE_SIGNED:
			if (!sigstore_ok(r, &img, manifest_digest, sigs, n, why, sizeof(why)))
				return verdict(reason, reason_len, TRUST_REJECT,
					       "rejected by policy for %s (requirement %zu: "
					       "sigstoreSigned, %s): %s",
					       sc, i, trust_ident_type_name(r->ident.type), why);
			if (!first[0] || !strcmp(first, "no signature required"))
				snprintf(first, sizeof(first), "%s", why);
			break;
		default:
			return verdict(reason, reason_len, TRUST_REJECT,
				       "rejected by policy for %s (requirement %zu: unknown)", sc,
				       i);
		}
	}
	return verdict(reason, reason_len, TRUST_ACCEPT, "accepted by policy for %s: %s", sc,
		       first[0] ? first : "no requirements");
}

/* ---- encoding and editing ---------------------------------------------- */

/* The encoder renders a struct as it is, extras included (a reject that
 * carries keys gets them); decode_req is the one validator, so
 * trust_policy_set_scope checks a caller's requirements by encoding and
 * decoding them, which also normalises their references. */

/* A JSON string for S: -EILSEQ when S is not UTF-8 (jansson refuses it,
 * and says so no differently from ENOMEM: only one is the caller's
 * mistake), -ENOMEM otherwise. */
static int jstr(const char *s, json_t **out)
{
	json_t *probe;

	*out = json_string(s);
	if (*out)
		return 0;
	probe = json_string_nocheck(s);
	if (!probe)
		return -ENOMEM;
	json_decref(probe);
	return -EILSEQ;
}

static int set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v;
	int ret;

	if ((ret = jstr(s, &v)) < 0)
		return ret;
	return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

/* ONE "v" when V has a single entry, else MANY ["v", ...]. */
static int keys_json(json_t *obj, const char *one, const char *many, char **v)
{
	size_t n = 0;
	json_t *a;

	if (!v)
		return 0;
	while (v[n])
		n++;
	if (n == 1)
		return set_str(obj, one, v[0]);
	a = json_array();
	if (!a || json_object_set_new(obj, many, a) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *s;
		int ret;

		if ((ret = jstr(v[i], &s)) < 0)
			return ret;
		if (json_array_append_new(a, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* signedIdentity, omitted when it is the default (decode restores it). */
static int ident_json(json_t *obj, const struct trust_ident *id)
{
	json_t *o;
	int ret;

	if (id->type == TRUST_IDENT_MATCH_REPO_DIGEST_OR_EXACT && !id->reference && !id->prefix &&
	    !id->signed_prefix)
		return 0;
	o = json_object();
	if (!o || json_object_set_new(obj, "signedIdentity", o) < 0)
		return -ENOMEM;
	if ((ret = set_str(o, "type", trust_ident_type_name(id->type))) < 0)
		return ret;
	if (id->reference &&
	    (ret = set_str(o,
			   id->type == TRUST_IDENT_EXACT_REPOSITORY ? "dockerRepository"
								    : "dockerReference",
			   id->reference)) < 0)
		return ret;
	if (id->prefix && (ret = set_str(o, "prefix", id->prefix)) < 0)
		return ret;
	if (id->signed_prefix && (ret = set_str(o, "signedPrefix", id->signed_prefix)) < 0)
		return ret;
	return 0;
}

static int req_json(const struct trust_req *r, json_t **out)
{
	_cleanup_json_ json_t *o = json_object();
	int ret;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	if ((ret = set_str(o, "type", trust_req_type_name(r->type))) < 0 ||
	    (r->key_type && (ret = set_str(o, "keyType", r->key_type)) < 0) ||
	    (ret = keys_json(o, "keyPath", "keyPaths", r->key_paths)) < 0 ||
	    (ret = keys_json(o, "keyData", "keyDatas", r->key_datas)) < 0 ||
	    (ret = ident_json(o, &r->ident)) < 0)
		return ret;
	*out = steal_ptr(o);
	return 0;
}

static int reqs_json(const struct trust_req *reqs, size_t n, json_t **out)
{
	_cleanup_json_ json_t *a = json_array();
	int ret;

	*out = NULL;
	if (!a)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *o;

		if ((ret = req_json(&reqs[i], &o)) < 0)
			return ret;
		if (json_array_append_new(a, o) < 0)
			return -ENOMEM;
	}
	*out = steal_ptr(a);
	return 0;
}

static const char *transport_name(enum trust_transport t)
{
	return t == TRUST_TRANSPORT_DOCKER_DAEMON ? "docker-daemon" : "docker";
}

static int encode_fail(int ret, const char *what, struct err **err)
{
	if (ret == -EILSEQ)
		return err_set(err, EINVAL, "encoding the trust policy: %s: a string is not UTF-8",
			       what);
	return err_errno(err, ENOMEM, "encoding the trust policy");
}

int trust_policy_encode(const struct trust_policy *p, char **out, struct err **err)
{
	_cleanup_json_ json_t *root = json_object();
	_cleanup_free_ char *text = NULL;
	json_t *v, *tr = NULL;
	char q[128];
	size_t len;
	int ret;

	*out = NULL;
	if (!root)
		return encode_fail(-ENOMEM, "", err);
	if ((ret = reqs_json(p->def, p->n_def, &v)) < 0)
		return encode_fail(ret, "default", err);
	if (json_object_set_new(root, "default", v) < 0)
		return encode_fail(-ENOMEM, "", err);
	for (size_t i = 0; i < p->n_scopes; i++) {
		const struct trust_scope *s = &p->scopes[i];
		const char *tname = transport_name(s->transport);
		json_t *t;

		if (!tr &&
		    (!(tr = json_object()) || json_object_set_new(root, "transports", tr) < 0))
			return encode_fail(-ENOMEM, "", err);
		t = json_object_get(tr, tname);
		if (!t && (!(t = json_object()) || json_object_set_new(tr, tname, t) < 0))
			return encode_fail(-ENOMEM, "", err);
		if ((ret = reqs_json(s->reqs, s->n_reqs, &v)) < 0)
			return encode_fail(ret, policy_quote(s->scope, q, sizeof(q)), err);
		/* Scopes are validated ASCII; set (not _nocheck) all the same. */
		if (json_object_set_new(t, s->scope, v) < 0)
			return encode_fail(-EILSEQ, policy_quote(s->scope, q, sizeof(q)), err);
	}
	/* jansson keeps insertion order: "default", then "transports", and
	 * the scopes in the policy's sorted order, so the output is stable. */
	text = json_dumps(root, JSON_INDENT(4));
	if (!text)
		return encode_fail(-ENOMEM, "", err);
	len = strlen(text);
	*out = malloc(len + 2);
	if (!*out)
		return encode_fail(-ENOMEM, "", err);
	memcpy(*out, text, len);
	memcpy(*out + len, "\n", 2);
	return 0;
}

/* Checked, normalised copies of REQS[0..N): each is encoded and decoded
 * again, so the rules are exactly the decoder's. WHAT names the scope in
 * errors. */
static int reqs_validate(const char *what, const struct trust_req *reqs, size_t n,
			 struct trust_req **out, struct err **err)
{
	struct policy_dec d = {what, err};
	struct trust_req *r;
	int ret = 0;

	*out = NULL;
	r = calloc(n, sizeof(*r));
	if (!r)
		return err_errno(err, ENOMEM, "%s", what);
	for (size_t i = 0; i < n && ret == 0; i++) {
		_cleanup_json_ json_t *j = NULL;
		char path[32];

		snprintf(path, sizeof(path), "requirement %zu", i);
		if ((ret = req_json(&reqs[i], &j)) < 0) {
			if (ret == -EILSEQ)
				ret = policy_dec_fail(&d, path, "a string is not UTF-8");
			else
				ret = err_errno(err, ENOMEM, "%s", what);
			break;
		}
		ret = decode_req(&d, path, j, &r[i]);
	}
	if (ret < 0) {
		reqs_free(r, n);
		return ret;
	}
	*out = r;
	return 0;
}

int trust_policy_set_scope(struct trust_policy *p, const char *scope, const struct trust_req *reqs,
			   size_t n, struct err **err)
{
	struct trust_scope key = {.transport = TRUST_TRANSPORT_DOCKER, .scope = (char *)scope};
	struct trust_req *copy = NULL;
	struct trust_scope *sc, *grown;
	char q[128], what[160];
	const char *why;
	bool is_def;
	size_t pos;
	int ret;

	if (!scope)
		return err_set(err, EINVAL, "no scope given");
	/* The pointer or the word: "default" is also a valid registry host,
	 * but a host scope of that name is not what anyone means here. */
	is_def = scope == trust_scope_default || !strcmp(scope, "default");

	if (is_def)
		snprintf(what, sizeof(what), "the default");
	else
		snprintf(what, sizeof(what), "scope \"%s\"", policy_quote(scope, q, sizeof(q)));
	if (n == 0 || n > TRUST_POLICY_MAX_REQS || !reqs)
		return err_set(err, EINVAL, "%s: %zu requirements (it needs 1 to %d)", what,
			       reqs ? n : 0, TRUST_POLICY_MAX_REQS);
	if (!is_def && !scope_valid(TRUST_TRANSPORT_DOCKER, scope, &why))
		return err_set(err, EINVAL, "%s %s", what, why);
	if ((ret = reqs_validate(what, reqs, n, &copy, err)) < 0)
		return ret;
	if (is_def) {
		reqs_free(p->def, p->n_def);
		p->def = copy;
		p->n_def = n;
		return 0;
	}
	sc = (struct trust_scope *)find(p, TRUST_TRANSPORT_DOCKER, scope);
	if (sc) {
		reqs_free(sc->reqs, sc->n_reqs);
		sc->reqs = copy;
		sc->n_reqs = n;
		return 0;
	}
	if (p->n_scopes >= TRUST_POLICY_MAX_SCOPES) {
		reqs_free(copy, n);
		return err_set(err, E2BIG, "%s: the policy has %d scopes already", what,
			       TRUST_POLICY_MAX_SCOPES);
	}
	/* Allocate everything before touching P, so a failure leaves it as
	 * it was. */
	key.scope = strdup(scope);
	grown = key.scope ? realloc(p->scopes, (p->n_scopes + 1) * sizeof(*p->scopes)) : NULL;
	if (!grown) {
		free(key.scope);
		reqs_free(copy, n);
		return err_errno(err, ENOMEM, "%s", what);
	}
	p->scopes = grown;
	/* Keep the array sorted (find() is a bsearch). */
	for (pos = 0; pos < p->n_scopes && scope_cmp(&p->scopes[pos], &key) < 0; pos++)
		;
	memmove(&p->scopes[pos + 1], &p->scopes[pos], (p->n_scopes - pos) * sizeof(*p->scopes));
	key.reqs = copy;
	key.n_reqs = n;
	p->scopes[pos] = key;
	p->n_scopes++;
	return 0;
}
