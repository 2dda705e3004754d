/*
 * cli/exec.c - `moat exec [-d] [-i] [-t] [-e K=V] [-w DIR] [-u USER]
 * CONTAINER COMMAND [ARG...]`.
 *
 * Runs as: the invoking user or root. Flag parsing stops at the
 * container, so the command's own flags pass through.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/exec.h"

int cmd_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"detach", no_argument, NULL, 'd'},
	    {"interactive", no_argument, NULL, 'i'},
	    {"tty", no_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"workdir", required_argument, NULL, 'w'},
	    {"user", required_argument, NULL, 'u'},
	    {"privileged", no_argument, NULL, 'P'},
	    {"detach-keys", required_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	struct engine_exec_opts o = {0};
	struct engine_ctx ec;
	struct err *err = NULL;
	_cleanup_free_ char **env = NULL;
	size_t ne = 0;
	char id[65];
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+dite:w:u:", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.detach = true;
			break;
		case 'i':
			o.interactive = true;
			break;
		case 't':
			o.tty = true;
			break;
		case 'e': {
			char **nv = realloc(env, (ne + 2) * sizeof(char *));
			if (!nv) {
				err_errno(&err, ENOMEM, "flags");
				return cli_fail(&err);
			}
			env = nv;
			env[ne++] = optarg;
			env[ne] = NULL;
			break;
		}
		case 'w':
			o.workdir = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'P':
			err_set(&err, EPERM,
				"--privileged: an exec is never less confined than its container");
			return cli_fail(&err);
		case 'K':
			break; /* detach keys apply to `moat attach` */
		case 'H':
			printf("Usage: moat exec [OPTIONS] CONTAINER COMMAND [ARG...]\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind < 2) {
		err_set(&err, EINVAL, "\"moat exec\" requires at least 2 arguments");
		return cli_fail(&err);
	}
	if (cli_resolve(ctx, argv[optind], id, &err) < 0)
		return cli_fail(&err);
	o.argv = argv + optind + 1;
	o.env = env;
	cli_engine_ctx(ctx, &ec);
	r = engine_exec(&ec, id, &o, &err);
	return r < 0 ? cli_fail(&err) : r;
}
