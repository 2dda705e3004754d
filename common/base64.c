/*
 * common/base64.c - see base64.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *base64_encode(const void *s, size_t n)
{
	const unsigned char *p = s;
	char *out, *w;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		return NULL;
	out = malloc((n + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	w = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*w++ = tbl[v >> 18 & 63];
		*w++ = tbl[v >> 12 & 63];
		*w++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		*w++ = i + 2 < n ? tbl[v & 63] : '=';
	}
	*w = 0;
	return out;
}

int base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	size_t o = 0, pad = 0, q = 0;
	uint32_t acc = 0;
	unsigned char *buf;

	*out = NULL;
	*outlen = 0;
	buf = malloc(n / 4 * 3 + 4);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int v;

		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		v = pad ? -1 : value(s[i]); /* nothing after padding */
		if (v < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++q == 4) {
			buf[o++] = (unsigned char)(acc >> 16);
			buf[o++] = (unsigned char)(acc >> 8);
			buf[o++] = (unsigned char)acc;
			q = 0;
			acc = 0;
		}
	}
	if (q == 1 || (pad && (q + pad) % 4 != 0) || pad > 2)
		goto bad;
	if (q == 2) {
		buf[o++] = (unsigned char)(acc >> 4);
	} else if (q == 3) {
		buf[o++] = (unsigned char)(acc >> 10);
		buf[o++] = (unsigned char)(acc >> 2);
	}
	buf[o] = 0;
	*outlen = o;
	*out = buf;
	explicit_bzero(&acc, sizeof(acc));
	return 0;
bad:
	explicit_bzero(buf, o);
	explicit_bzero(&acc, sizeof(acc));
	free(buf);
	return -EINVAL;
}

bool base64_valid(const char *s)
{
	size_t len = strlen(s), pad = 0;

	if (len == 0 || len % 4 != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad || value(s[i]) < 0)
			return false;
	}
	return pad <= 2;
}
