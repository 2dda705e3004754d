/*
 * image/reference.c - Docker's image reference grammar and normalisation,
 * as distribution/reference's ParseNormalizedNamed + TagNameOnly do it.
 *
 * Runs in: any moat process. Pure: a string in, a struct out; nothing here
 * touches the filesystem, the network or process state (fuzzed by
 * fuzz/reference_fuzz.c).
 *
 * The grammar (distribution/reference regexp.go), matched by hand rather
 * than with a regex engine so that every branch is visible and bounded:
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] path
 *   domain     := host [ ":" [0-9]+ ]
 *   host       := dcomp ( "." dcomp )* | "[" [a-fA-F0-9:]+ "]"
 *   dcomp      := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 *   path       := pcomp ( "/" pcomp )*
 *   pcomp      := [a-z0-9]+ ( ( [._] | "__" | "-"+ ) [a-z0-9]+ )*
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := alg ":" [0-9a-fA-F]{32,}, then go-digest's check
 *                 (sha256 with exactly 64 lower-case hex is the only one
 *                 moat accepts)
 *
 * Invariants of a parsed reference:
 *  - domain is never empty and is a valid domain ("docker.io" for Hub,
 *    "index.docker.io" is folded into it, one-component Hub names get
 *    "library/");
 *  - path matches the path rule and is at most 255 bytes;
 *  - tag is "latest" when neither tag nor digest was given;
 *  - image_reference_string() of it parses back to the same four fields.
 *
 * Deliberate differences from Go: an input longer than REF_MAX is refused;
 * a name whose first component has a "." but is not a valid domain
 * ("foo_bar.com/x") is refused where Go returns a name without a domain
 * that no registry call can use.
 */
#include "image/reference.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define PATH_MAX_LEN 255
#define TAG_MAX_LEN 128
#define REF_MAX 4096

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool is_xdigit_c(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* pcomp over S[0..N). */
static bool path_component_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	while (i < n) {
		size_t j = i;

		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		while (j < n && (s[j] == '.' || s[j] == '_' || s[j] == '-'))
			j++;
		/* A separator: ".", "_", "__" or any run of "-". */
		if (j == i)
			return false; /* a character outside the alphabet */
		if (!((j - i == 1 && (s[i] == '.' || s[i] == '_')) ||
		      (j - i == 2 && s[i] == '_' && s[i + 1] == '_') ||
		      strspn(s + i, "-") >= j - i))
			return false;
		i = j;
	}
	return true;
}

/* path over S[0..N). */
static bool path_ok(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			if (!path_component_ok(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

static bool domain_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* domain over S[0..N). */
static bool domain_ok(const char *s, size_t n)
{
	size_t hostlen = n, start = 0;

	if (n == 0)
		return false;
	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close || close == s + 1)
			return false;
		for (const char *p = s + 1; p < close; p++)
			if (!is_xdigit_c(*p) && *p != ':')
				return false;
		hostlen = (size_t)(close - s) + 1;
	} else {
		const char *colon = memchr(s, ':', n);

		if (colon)
			hostlen = (size_t)(colon - s);
		for (size_t i = 0; i <= hostlen; i++) {
			if (i == hostlen || s[i] == '.') {
				if (!domain_component_ok(s + start, i - start))
					return false;
				start = i + 1;
			}
		}
	}
	if (hostlen == n)
		return true;
	/* ":" and one or more digits, to the end. */
	if (s[hostlen] != ':' || hostlen + 1 == n)
		return false;
	for (size_t i = hostlen + 1; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool image_reference_domain_valid(const char *s)
{
	return s && domain_ok(s, strlen(s));
}

static bool tag_ok(const char *s, size_t n)
{
	if (n == 0 || n > TAG_MAX_LEN || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

/* distribution/reference's digestPat (the syntax the whole-reference
 * match needs; the algorithm check comes later). */
static bool digest_syntax_ok(const char *s)
{
	const char *colon = strchr(s, ':');
	const char *p = s;
	size_t hex;

	if (!colon)
		return false;
	/* alg := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )* */
	for (;;) {
		if (p >= colon || !isalpha((unsigned char)*p))
			return false;
		while (p < colon && isalnum((unsigned char)*p))
			p++;
		if (p == colon)
			break;
		if (!strchr("-_+.", *p))
			return false;
		p++;
	}
	hex = strlen(colon + 1);
	if (hex < 32)
		return false;
	for (const char *h = colon + 1; *h; h++)
		if (!is_xdigit_c(*h))
			return false;
	return true;
}

/* go-digest's Digest.Validate, with sha256 the one algorithm available. */
static int digest_check(const char *d, struct err **err)
{
	const char *colon = strchr(d, ':');
	size_t alglen = (size_t)(colon - d);
	bool go_syntax = true;

	if (alglen != 6 || strncmp(d, "sha256", 6) != 0) {
		/* go-digest's DigestRegexp: [a-z0-9]+([.+_-][a-z0-9]+)*:... */
		for (size_t i = 0; i < alglen; i++) {
			bool sep = strchr(".+_-", d[i]) != NULL;

			if (!is_lower_alnum(d[i]) && !sep)
				go_syntax = false;
			if (sep && (i == 0 || i + 1 == alglen || strchr(".+_-", d[i + 1])))
				go_syntax = false;
		}
		if (!go_syntax)
			return err_set(err, EINVAL, "invalid checksum digest format");
		return err_set(err, EINVAL, "unsupported digest algorithm");
	}
	if (strlen(colon + 1) != 64)
		return err_set(err, EINVAL, "invalid checksum digest length");
	for (const char *h = colon + 1; *h; h++)
		if (!is_lower_alnum(*h) || *h > 'f')
			return err_set(err, EINVAL, "invalid checksum digest format");
	return 0;
}

static bool is_identifier(const char *s)
{
	size_t n = strlen(s);

	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool has_upper(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

struct split {
	const char *name, *tag, *digest;
	size_t name_len, tag_len;
};

/* The whole-reference match (referencePat) on T: the name, tag and digest
 * spans. The split is unique: "@" occurs only before the digest, and a ":"
 * after the last "/" of the name part can only start the tag. */
static bool reference_match(const char *t, struct split *sp, const char **domain_end)
{
	const char *at = strchr(t, '@'), *end, *colon, *slash, *first_slash;

	memset(sp, 0, sizeof(*sp));
	*domain_end = NULL;
	end = at ? at : t + strlen(t);
	if (at && !digest_syntax_ok(at + 1))
		return false;
	sp->digest = at ? at + 1 : NULL;
	colon = memrchr(t, ':', (size_t)(end - t));
	slash = memrchr(t, '/', (size_t)(end - t));
	if (colon && (!slash || colon > slash)) {
		sp->tag = colon + 1;
		sp->tag_len = (size_t)(end - colon - 1);
		if (!tag_ok(sp->tag, sp->tag_len))
			return false;
		end = colon;
	}
	sp->name = t;
	sp->name_len = (size_t)(end - t);
	/* name := [domain "/"] path, preferring the domain (leftmost-first). */
	first_slash = memchr(t, '/', sp->name_len);
	if (first_slash && domain_ok(t, (size_t)(first_slash - t)) &&
	    path_ok(first_slash + 1, (size_t)(end - first_slash - 1))) {
		*domain_end = first_slash;
		return true;
	}
	return path_ok(t, sp->name_len);
}

static int set_out(struct image_reference *out, const char *domain, size_t dlen, const char *path,
		   size_t plen, const struct split *sp, struct err **err)
{
	out->domain = strndup(domain, dlen);
	out->path = strndup(path, plen);
	if (sp->tag)
		out->tag = strndup(sp->tag, sp->tag_len);
	else if (!sp->digest)
		out->tag = strdup("latest");
	if (sp->digest)
		out->digest = strdup(sp->digest);
	if (!out->domain || !out->path || ((sp->tag || !sp->digest) && !out->tag) ||
	    (sp->digest && !out->digest)) {
		image_reference_clear(out);
		return err_errno(err, ENOMEM, "parse reference");
	}
	return 0;
}

int image_reference_parse(const char *s, struct image_reference *out, struct err **err)
{
	_cleanup_free_ char *full = NULL, *lower = NULL;
	const char *slash, *domain = DEFAULT_DOMAIN, *remainder = s, *remote_end, *dend;
	size_t dlen = strlen(DEFAULT_DOMAIN), n = strlen(s);
	bool library = false;
	struct split sp;

	memset(out, 0, sizeof(*out));
	if (n > REF_MAX)
		return err_set(err, EINVAL, "invalid reference format: longer than %d bytes",
			       REF_MAX);
	if (is_identifier(s))
		return err_set(err, EINVAL,
			       "invalid repository name (%s), cannot specify 64-byte hexadecimal "
			       "strings",
			       s);

	/* splitDockerDomain */
	slash = strchr(s, '/');
	if (!slash) {
		library = true;
	} else {
		size_t flen = (size_t)(slash - s);

		if ((flen == 9 && !strncmp(s, "localhost", 9)) || memchr(s, '.', flen) ||
		    memchr(s, ':', flen) || has_upper(s, flen)) {
			domain = s;
			dlen = flen;
			remainder = slash + 1;
		}
		if (dlen == strlen(LEGACY_DOMAIN) && !strncmp(domain, LEGACY_DOMAIN, dlen)) {
			domain = DEFAULT_DOMAIN;
			dlen = strlen(DEFAULT_DOMAIN);
		}
		if (dlen == strlen(DEFAULT_DOMAIN) && !strncmp(domain, DEFAULT_DOMAIN, dlen))
			library = !strchr(remainder, '/');
	}
	if (asprintf(&full, "%.*s/%s%s", (int)dlen, domain, library ? OFFICIAL_PREFIX : "",
		     remainder) < 0)
		return err_errno(err, ENOMEM, "parse reference");

	/* The remote name (up to the first ":") must be lower-case. */
	{
		const char *rem = full + dlen + 1;

		remote_end = strchr(rem, ':');
		if (!remote_end)
			remote_end = rem + strlen(rem);
		if (has_upper(rem, (size_t)(remote_end - rem)))
			return err_set(err, EINVAL,
				       "invalid reference format: repository name (%.*s) must be "
				       "lowercase",
				       (int)(remote_end - rem), rem);
	}

	/* Parse(domain + "/" + remainder) */
	if (!reference_match(full, &sp, &dend)) {
		lower = strdup(full);
		if (!lower)
			return err_errno(err, ENOMEM, "parse reference");
		for (char *p = lower; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(lower, full) != 0 && reference_match(lower, &sp, &dend))
			return err_set(err, EINVAL, "repository name must be lowercase");
		return err_set(err, EINVAL, "invalid reference format");
	}
	if (sp.name_len - (dend ? dlen + 1 : 0) > PATH_MAX_LEN)
		return err_set(err, EINVAL, "repository name must not be more than %d characters",
			       PATH_MAX_LEN);
	if (sp.digest && digest_check(sp.digest, err) < 0)
		return err_ret(*err);
	if (!dend || (size_t)(dend - full) != dlen)
		/* Go would accept this as a name without a domain. */
		return err_set(err, EINVAL,
			       "invalid reference format: \"%.*s\" is not a valid "
			       "registry host",
			       (int)dlen, full);
	return set_out(out, full, dlen, full + dlen + 1, sp.name_len - dlen - 1, &sp, err);
}

void image_reference_clear(struct image_reference *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

static char *join(const char *domain, const char *path, const char *tag, const char *digest)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s%s%s%s%s%s", domain ? domain : "", domain ? "/" : "", path,
		     tag ? ":" : "", tag ? tag : "", digest ? "@" : "", digest ? digest : "") < 0)
		return NULL;
	return s;
}

char *image_reference_string(const struct image_reference *r)
{
	return join(r->domain, r->path, r->tag, r->digest);
}

/* familiarizeName: docker.io/ goes, and library/ when nothing nested follows. */
static void familiar_parts(const struct image_reference *r, const char **domain, const char **path)
{
	*domain = r->domain;
	*path = r->path;
	if (r->domain && !strcmp(r->domain, DEFAULT_DOMAIN)) {
		*domain = NULL;
		if (!strncmp(r->path, OFFICIAL_PREFIX, strlen(OFFICIAL_PREFIX)) &&
		    !strchr(r->path + strlen(OFFICIAL_PREFIX), '/'))
			*path = r->path + strlen(OFFICIAL_PREFIX);
	}
}

char *image_reference_familiar(const struct image_reference *r)
{
	const char *domain, *path;

	familiar_parts(r, &domain, &path);
	return join(domain, path, r->tag, r->digest);
}

char *image_reference_familiar_name(const struct image_reference *r)
{
	const char *domain, *path;

	familiar_parts(r, &domain, &path);
	return join(domain, path, NULL, NULL);
}

const char *image_reference_registry_host(const struct image_reference *r)
{
	if (!strcmp(r->domain, DEFAULT_DOMAIN))
		return "registry-1.docker.io";
	return r->domain;
}
