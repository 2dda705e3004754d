/*
 * fuzz/registry_auth_fuzz.c - libFuzzer target for the registry client's
 * pure parsers (image/registry_auth.c): WWW-Authenticate challenges,
 * token replies, error bodies, and the Link / Retry-After headers and
 * tags/list pages that come with them.
 *
 * Each input goes through all of them. What they hand back must keep the
 * promises the client relies on, so a violation aborts: challenge and
 * token strings are printable ASCII (no CR/LF can reach a later request
 * header), a Bearer realm is an http(s) URL, a token lives at least 60 s,
 * error text has no terminal controls and is at most 512 bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "image/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void printable_or_abort(const char *s, bool allow_space)
{
	if (!s)
		return;
	for (; *s; s++)
		if ((unsigned char)*s < (allow_space ? 0x20 : 0x21) || (unsigned char)*s > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct registry_challenge c;
	struct err *err = NULL;
	char *s, *tok = NULL, *refresh = NULL, *text = NULL, *url = NULL, **tags = NULL;
	long exp = 0, secs = 0;

	s = strndup((const char *)data, size);
	if (!s)
		return 0;

	if (registry_challenge_parse(s, &c, &err) == 0) {
		if (!c.scheme || !*c.scheme)
			abort();
		printable_or_abort(c.scheme, false);
		printable_or_abort(c.realm, true);
		printable_or_abort(c.service, true);
		printable_or_abort(c.scope, true);
		printable_or_abort(c.error, true);
		if (!strcasecmp(c.scheme, "bearer") &&
		    (!c.realm ||
		     (strncasecmp(c.realm, "https://", 8) && strncasecmp(c.realm, "http://", 7))))
			abort();
		if (strcasecmp(c.scheme, "bearer") && strcasecmp(c.scheme, "basic"))
			abort();
		registry_challenge_clear(&c);
	} else if (c.scheme || c.realm) {
		abort(); /* nothing is handed back on error */
	}
	err_free(&err);

	if (registry_token_decode((const char *)data, size, &tok, &exp, &refresh, &err) == 0) {
		if (!tok || !*tok || exp < 60)
			abort();
		printable_or_abort(tok, false);
		printable_or_abort(refresh, false);
	} else if (tok || refresh) {
		abort();
	}
	free(tok);
	free(refresh);
	err_free(&err);

	if (registry_error_decode((const char *)data, size, &text, &err) == 0) {
		if (!text || strlen(text) > 512)
			abort();
		for (const unsigned char *p = (const unsigned char *)text; *p; p++)
			if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
				abort();
	}
	free(text);
	err_free(&err);

	if (registry_link_next(s, &url, &err) == 0 && url) {
		if (!*url)
			abort();
		printable_or_abort(url, false);
	}
	free(url);
	err_free(&err);

	if (registry_retry_after_parse(s, 784111777, &secs, &err) == 0 &&
	    (secs < 0 || secs > 1000000000L))
		abort();
	err_free(&err);

	if (registry_tags_decode((const char *)data, size, &tags, &err) == 0) {
		if (!tags)
			abort();
		for (char **t = tags; *t; t++)
			printable_or_abort(*t, false);
	}
	strvfree(tags);
	err_free(&err);

	free(s);
	return 0;
}
