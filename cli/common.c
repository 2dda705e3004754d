/*
 * cli/common.c - what every verb shares: one-line errors with Docker's
 * exit status, getopt failures, and the invocation's audit configuration.
 *
 * Runs as: the invoking user or root.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "engine/events.h"
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
