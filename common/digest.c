/*
 * common/digest.c - sha256 (OpenSSL EVP) and random ids (getrandom).
 */
#include "common/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static void hex(const unsigned char *md, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[md[i] >> 4];
		out[2 * i + 1] = x[md[i] & 15];
	}
	out[2 * n] = 0;
}

void digest_sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	hex(md, 32, out);
}

struct digest_ctx {
	EVP_MD_CTX *md;
};

struct digest_ctx *digest_ctx_new(void)
{
	struct digest_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->md = EVP_MD_CTX_new();
	if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(c->md);
		free(c);
		return NULL;
	}
	return c;
}

void digest_ctx_update(struct digest_ctx *c, const void *buf, size_t len)
{
	EVP_DigestUpdate(c->md, buf, len);
}

void digest_ctx_final(struct digest_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(c->md, md, &n);
	hex(md, 32, out);
	EVP_MD_CTX_free(c->md);
	free(c);
}

bool digest_hex_valid(const char *h)
{
	size_t i;

	for (i = 0; h[i]; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return i == SHA256_HEX_LEN;
}

bool digest_valid(const char *d)
{
	return d && !strncmp(d, "sha256:", 7) && digest_hex_valid(d + 7);
}

int digest_random_id(char out[SHA256_HEX_LEN + 1], struct err **err)
{
	unsigned char b[32];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_errno(err, errno, "getrandom");
		}
		got += (size_t)n;
	}
	hex(b, sizeof(b), out);
	return 0;
}
