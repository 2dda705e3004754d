/*
 * cli/policy.c - `moat policy show` and `moat policy check -- run|create
 * [ARGS...]`: the tenant policy in force, and what it would decide about an
 * invocation, without creating anything.
 *
 * Runs as: the invoking user or root. `check` goes through exactly the
 * path `run` takes (cli/run.c's parser, engine_create up to and including
 * the policy decision: image resolved, trust checked, process built,
 * capabilities and seccomp settled) and stops before the first thing it
 * would create, so what it prints is what `run` would do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/lifecycle.h"
#include "engine/tenant_files.h"
#include "policy/tenant.h"

static void sources_print(const struct engine_tenant_sources *src)
{
	if (src->override) {
		printf("Policy: %s (--policy)\n", src->override);
		return;
	}
	if (src->is_empty) {
		printf("Policy: none (no file in %s, no user file): no restrictions beyond "
		       "moat's defaults\n",
		       ENGINE_TENANT_SYSTEM_DIR);
		return;
	}
	for (char **f = src->system; f && *f; f++)
		printf("Policy: %s\n", *f);
	if (src->user_path)
		printf("User policy: %s (%s)\n", src->user_path,
		       src->user_present ? "present, may only tighten" : "absent");
}

static int policy_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct engine_tenant_sources src = {0};
	struct tenant_policy *p = NULL;
	_cleanup_free_ char *text = NULL;
	struct engine_ctx ec;
	struct err *err = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: moat policy show [--json]\n\nShow the tenant policy in "
			       "force and where it came from.\n");
			return 0;
		} else {
			err_set(&err, EINVAL, "\"policy show\": unknown argument \"%s\"", argv[i]);
			return cli_fail(&err);
		}
	}
	cli_engine_ctx(ctx, &ec);
	if (engine_tenant_policy_load(&ec, &p, &src, &err) < 0) {
		engine_tenant_sources_clear(&src);
		return cli_fail(&err);
	}
	if (p && tenant_policy_encode(p, &text, &err) < 0) {
		tenant_policy_free(p);
		engine_tenant_sources_clear(&src);
		return cli_fail(&err);
	}
	if (!json)
		sources_print(&src);
	printf("%s", text ? text : "{}\n");
	if (text && text[0] && text[strlen(text) - 1] != '\n')
		putchar('\n');
	tenant_policy_free(p);
	engine_tenant_sources_clear(&src);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: moat policy COMMAND\n\n"
		   "The tenant policy: what an invocation may ask for\n\n"
		   "Commands:\n"
		   "  show [--json]                 the policy in force and where it came from\n"
		   "  check -- run|create ARGS...   what the policy decides about that "
		   "invocation,\n"
		   "                                without running it (exit 0 allowed, 1 "
		   "denied)\n");
}

int cmd_policy(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc >= 2 && !strcmp(argv[1], "show"))
		return policy_show(ctx, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "check")) {
		int i = 2;

		if (i < argc && !strcmp(argv[i], "--"))
			i++;
		if (i >= argc || (strcmp(argv[i], "run") && strcmp(argv[i], "create"))) {
			err_set(&err, EINVAL,
				"usage: moat policy check -- run|create [OPTIONS] "
				"IMAGE [COMMAND] [ARG...]");
			return cli_fail(&err);
		}
		return cli_run_check(ctx, argc - i, argv + i);
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 125;
}
