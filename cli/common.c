/*
 * cli/common.c - what every verb shares: one-line errors with Docker's
 * exit status, getopt failures, the invocation's audit configuration and
 * the audit record of a verb that changes the image store.
 *
 * Runs as: the invoking user or root.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "engine/events.h"
#include "engine/engine.h"
#include "engine/lifecycle.h"

void cli_audit_conf(const struct cli_ctx *ctx, struct engine_audit_conf *out)
{
	out->root = ctx->root;
	out->log = ctx->audit_log;
	out->hmac_key = ctx->audit_key;
	out->fail_open = ctx->audit_fail_open;
}

void cli_engine_ctx(const struct cli_ctx *ctx, struct engine_ctx *out)
{
	out->root = ctx->root;
	out->runroot = ctx->runroot;
	out->rootless = ctx->rootless;
	out->uid = ctx->uid;
	out->gid = ctx->gid;
	cli_audit_conf(ctx, &out->audit);
}

int cli_audit_begin(const struct cli_ctx *ctx, struct audit_log **l, struct err **err)
{
	struct engine_audit_conf c;

	cli_audit_conf(ctx, &c);
	return engine_audit_open(&c, l, err);
}

int cli_audit_finish(struct audit_log *l, struct audit_event *e, const struct err *failure)
{
	struct err *ae = NULL;
	int r;

	if (e && failure)
		audit_event_str(e, "error", failure->msg);
	r = engine_audit(l, e, &ae);
	audit_close(l);
	if (r < 0) {
		fprintf(stderr, "moat: %s\n", ae ? ae->msg : "audit log");
		err_free(&ae);
		return 125;
	}
	return 0;
}

int cli_audit_outcome(struct audit_log *l, const char *event, const char *key, char **vals,
		      const char *key2, char **vals2, const struct err *failure)
{
	struct audit_event *e = audit_event_new(event);

	if (e && key)
		audit_event_strv(e, key, vals ? vals : (char *[]){NULL});
	if (e && key2)
		audit_event_strv(e, key2, vals2 ? vals2 : (char *[]){NULL});
	return cli_audit_finish(l, e, failure);
}

int cli_store_open(const struct cli_ctx *ctx, struct image_store **s, struct err **err)
{
	return engine_store_open(ctx->root, ctx->rootless, ctx->uid, ctx->gid, NULL, s, err);
}

int cli_bad_flag(char **argv, int c)
{
	struct err *err = NULL;
	const char *arg = argv[optind - 1];

	if (c == ':')
		err_set(&err, EINVAL, "flag needs an argument: %s", arg);
	else if (optopt)
		err_set(&err, EINVAL, "unknown shorthand flag: '%c' in %s", optopt, arg);
	else
		err_set(&err, EINVAL, "unknown flag: %s", arg);
	return cli_fail(&err);
}

int cli_fail(struct err **err)
{
	int code = 125;

	if (err && *err) {
		fprintf(stderr, "moat: %s\n", (*err)->msg);
		if ((*err)->exit)
			code = (*err)->exit;
		err_free(err);
	} else {
		fprintf(stderr, "moat: unknown error\n");
	}
	return code;
}
