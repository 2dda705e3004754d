/*
 * common/err.h - the one error contract.
 *
 * A function that can fail returns 0 (or a valid fd/pointer) on success and
 * a negative errno on failure, and fills *err with a message that carries
 * context. Callers add context with err_prefix() as the error travels up.
 * The CLI prints "moat: <message>" and exits 125 (or the code in err->exit).
 */
#ifndef MOAT_ERR_H
#define MOAT_ERR_H

#include <stdarg.h>

struct err {
	int code; /* positive errno value, or 0 when none applies */
	int exit; /* exit status the CLI should use; 0 means 125 */
	char msg[1024];
};

/* Sets *err (allocating it when NULL) and returns -code (or -EINVAL). */
int err_set(struct err **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, appending ": strerror(code)". */
int err_errno(struct err **err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepends "<context>: " to an existing message; returns -err->code. */
int err_prefix(struct err **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_free(struct err **err);
/* The negative return value that goes with an error already set. */
int err_ret(const struct err *err);

static inline void err_freep(struct err **e)
{
	err_free(e);
}
#define _cleanup_err_ __attribute__((cleanup(err_freep)))

#endif
