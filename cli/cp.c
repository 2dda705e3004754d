/*
 * cli/cp.c - `moat cp [-a] [-L] CONTAINER:SRC_PATH DEST_PATH|-` and
 * `moat cp [-a] [-L] SRC_PATH|- CONTAINER:DEST_PATH`.
 *
 * Runs as: the invoking user or root. Only argument syntax lives here
 * (Docker's rules for which side is the container); paths are resolved
 * by engine/cp.c, a container's only ever inside it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/cp.h"

#define CP_USAGE                                                                       \
	"Usage:  moat cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n"                   \
	"        moat cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH\n\n"                 \
	"Copy files/folders between a container and the local filesystem\n\n"          \
	"Use '-' as the source to read a tar archive from stdin and extract it to a\n" \
	"directory destination in a container. Use '-' as the destination to stream\n" \
	"a tar archive of a container source to stdout.\n\n"                           \
	"Options:\n"                                                                   \
	"  -a, --archive       Archive mode (copy all uid/gid information)\n"          \
	"  -L, --follow-link   Always follow symbol link in SRC_PATH\n"                \
	"  -q, --quiet         Suppress progress output during copy\n"

/* A syntax error: Docker prints it and exits 1. */
static int usage_error(const char *msg)
{
	struct err *err = NULL;

	err_set(&err, EINVAL, "%s", msg);
	err->exit = 1;
	return cli_fail(&err);
}

int cmd_cp(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"archive", no_argument, NULL, 'a'},
	    {"follow-link", no_argument, NULL, 'L'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	struct engine_cp_opts o = {0};
	struct engine_ctx ec;
	struct err *err = NULL;
	_cleanup_free_ char *src_ctr = NULL, *dst_ctr = NULL;
	const char *src_path, *dst_path, *ref;
	char id[65];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+aLq", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.archive = true;
			break;
		case 'L':
			o.follow_link = true;
			break;
		case 'q':
			break; /* there is no progress output to suppress */
		case 'H':
			printf("%s", CP_USAGE);
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 2)
		return usage_error("\"moat cp\" requires exactly 2 arguments");
	if (!argv[optind][0])
		return usage_error("source can not be empty");
	if (!argv[optind + 1][0])
		return usage_error("destination can not be empty");
	if (engine_cp_split_arg(argv[optind], &src_ctr, &src_path, &err) < 0 ||
	    engine_cp_split_arg(argv[optind + 1], &dst_ctr, &dst_path, &err) < 0)
		return cli_fail(&err);
	if (src_ctr && dst_ctr)
		return usage_error("copying between containers is not supported");
	if (!src_ctr && !dst_ctr)
		return usage_error("must specify at least one container source");
	o.to_container = dst_ctr != NULL;
	o.ctr_path = o.to_container ? dst_path : src_path;
	o.host_path = o.to_container ? src_path : dst_path;
	ref = o.to_container ? dst_ctr : src_ctr;
	if (cli_resolve(ctx, ref, id, &err) < 0)
		return cli_fail(&err);
	cli_engine_ctx(ctx, &ec);
	if (engine_cp(&ec, id, &o, &err) < 0)
		return cli_fail(&err);
	return 0;
}
