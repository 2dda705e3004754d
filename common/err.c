/*
 * common/err.c - the error contract (see err.h).
 *
 * Runs in: any process. Allocation failure while building an error falls
 * back to a static message so that an error is never lost.
 */
#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct err oom_err = {ENOMEM, 0, "out of memory while reporting an error"};

static struct err *get(struct err **err)
{
	if (!err)
		return NULL;
	if (!*err) {
		*err = calloc(1, sizeof(**err));
		if (!*err)
			*err = &oom_err;
	}
	return *err;
}

__attribute__((format(printf, 4, 0))) static int vset(struct err **err, int code, int with_errno,
						      const char *fmt, va_list ap)
{
	struct err *e = get(err);
	int ret = code > 0 ? -code : -EINVAL;

	if (!e || e == &oom_err)
		return ret;
	e->code = code > 0 ? code : EINVAL;
	e->exit = 0;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (with_errno && code > 0) {
		size_t n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(code));
	}
	return ret;
}

int err_set(struct err **err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vset(err, code, 0, fmt, ap);
	va_end(ap);
	return r;
}

int err_errno(struct err **err, int code, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vset(err, code, 1, fmt, ap);
	va_end(ap);
	return r;
}

int err_prefix(struct err **err, const char *fmt, ...)
{
	char prefix[512], old[sizeof(((struct err *)0)->msg)];
	char joined[sizeof(prefix) + sizeof(old) + 2];
	struct err *e = err ? *err : NULL;
	va_list ap;
	size_t n;

	if (!e)
		return -EINVAL;
	if (e == &oom_err)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(joined, sizeof(joined), "%s: %s", prefix, old);
	n = strlen(joined);
	if (n >= sizeof(e->msg))
		n = sizeof(e->msg) - 1;
	memcpy(e->msg, joined, n);
	e->msg[n] = 0;
	return -e->code;
}

int err_ret(const struct err *err)
{
	return err && err->code > 0 ? -err->code : -EINVAL;
}

void err_free(struct err **err)
{
	if (err && *err) {
		if (*err != &oom_err)
			free(*err);
		*err = NULL;
	}
}
