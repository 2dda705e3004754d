/*
 * fuzz/credentials_fuzz.c - libFuzzer target for the config.json
 * credentials decoder and the credential-helper reply decoder
 * (image/credentials.c, the pure half).
 *
 * Input: an optional first line naming the key to look up (else Hub's),
 * then the document. Properties: a failure leaves nothing behind; a
 * helper, when chosen, is a plain name and comes with no inline
 * credentials; decoded strings are NUL-free C strings (strlen is safe).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *nl = memchr(buf, '\n', size < 256 ? size : 256);
	char *key = nl ? strndup(buf, (size_t)(nl - buf)) : strdup("https://index.docker.io/v1/");
	const char *doc = nl ? nl + 1 : buf;
	size_t len = nl ? size - (size_t)(nl + 1 - buf) : size;
	struct registry_creds c;
	struct err *err = NULL;
	char *helper = NULL;

	if (!key)
		return 0;
	(void)credentials_key(key);
	if (credentials_decode(doc, len, key, &c, &helper, &err) < 0) {
		if (c.username || c.password || c.identity_token || helper || !err)
			abort();
		err_free(&err);
	} else {
		if (helper && (c.username || c.password || c.identity_token ||
			       strchr(helper, '/') || helper[0] == '.' || !*helper))
			abort();
		if (c.username)
			(void)strlen(c.username);
		if (c.password)
			(void)strlen(c.password);
		registry_creds_clear(&c);
		free(helper);
	}
	if (credentials_helper_decode(buf, size, &c, &err) < 0) {
		if (c.username || c.password || c.identity_token)
			abort();
		err_free(&err);
	} else {
		if (c.identity_token && c.username)
			abort();
		registry_creds_clear(&c);
	}
	free(key);
	return 0;
}
