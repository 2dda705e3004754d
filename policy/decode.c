/*
 * policy/decode.c - see decode.h.
 */
#include "policy/decode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int policy_dec_fail(struct policy_dec *d, const char *path, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(d->err, EINVAL, "%s: %s%s%s", d->file, path, path[0] ? ": " : "", msg);
}

bool policy_in_list(const char *k, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(k, *list))
			return true;
	return false;
}

const char *policy_quote(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	if (!s)
		s = "(null)";
	for (; *s && o + 8 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (o >= 80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		}
	}
	buf[o] = '\0';
	return buf;
}

int policy_check_keys(struct policy_dec *d, const char *path, json_t *obj,
		      const char *const *allowed, const char *const *unsupported)
{
	const char *k;
	size_t klen;
	json_t *v;
	char q[128];

	json_object_keylen_foreach(obj, k, klen, v)
	{
		if (strlen(k) != klen)
			return policy_dec_fail(d, path, "a key contains a NUL byte");
		if (policy_in_list(k, allowed))
			continue;
		if (unsupported && policy_in_list(k, unsupported))
			return policy_dec_fail(d, path, "\"%s\" is not supported by moat", k);
		return policy_dec_fail(d, path, "unknown key \"%s\"",
				       policy_quote(k, q, sizeof(q)));
	}
	return 0;
}
