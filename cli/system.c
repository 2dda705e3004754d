/*
 * cli/system.c - `moat system prune [-a] [-f] [--filter K=V]...`, Docker's
 * "Remove unused data": stopped containers, then dangling images (every
 * image no container uses, with -a), then the image store's garbage,
 * then "Total reclaimed space". moat has no networks, volumes or build
 * cache, so those lines of Docker's warning are not printed.
 *
 * Runs as: the invoking user or root, in the CLI process. Containers are
 * removed through engine_remove (audited "container.remove", refused
 * when one was started again meanwhile); images through
 * cli_image_prune_run (cli/images.c, audited "image.prune").
 *
 * Invariants:
 *  - the filters are checked for both kinds before the prompt, so a bad
 *    filter removes nothing;
 *  - without -f nothing is removed unless stdin answers "y" (read even
 *    when it is not a terminal, as Docker does);
 *  - containers go first, so that the images only they used are unused
 *    when the image part looks; a running or paused container keeps its
 *    image.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/inspect.h"
#include "engine/lifecycle.h"
#include "engine/prune.h"

void cli_prune_clock(struct prune_clock *clk)
{
	struct timespec now;
	struct tm tm;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &now);
	t = now.tv_sec;
	clk->now_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	/* Docker parses zone-less times in the zone's offset now. */
	clk->utc_offset = localtime_r(&t, &tm) ? (int32_t)tm.tm_gmtoff : 0;
}

/* Docker's warning of what `system prune` removes, filters included,
 * then its prompt. */
static bool confirmed(bool all, bool volumes, const struct prune_filter *f)
{
	printf("WARNING! This will remove:\n  - all stopped containers\n  - %s\n",
	       all ? "all images without at least one container associated to them"
		   : "all dangling images");
	if (volumes)
		printf("  - all anonymous volumes not used by at least one container\n");
	if (f->n_shown) {
		printf("\n  Items to be pruned will be filtered with:\n");
		for (size_t i = 0; i < f->n_shown; i++)
			printf("  - %s\n", f->shown[i]);
	}
	printf("\n");
	return cli_confirm();
}

static bool keep_container(const struct container_record *r, void *arg)
{
	return prune_filter_match(arg, r->created, r->labels);
}

static int cmd_system_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_prune_flags pf;
	struct prune_filter fc = {0}, fi = {0}, fv = {0};
	struct prune_clock clk;
	struct err *err = NULL;
	uint64_t rc = 0, ri = 0, rv = 0;
	char size[32];
	int sc, si, sv = 0;

	if (!cli_prune_flags(argc, argv, "system prune", CLI_PRUNE_ALL | CLI_PRUNE_VOLUMES,
			     "Usage: moat system prune [OPTIONS]\n\nRemove unused data\n\n"
			     "Options:\n"
			     "  -a, --all             Remove all unused images not just dangling "
			     "ones\n"
			     "      --filter filter   Provide filter values (e.g. "
			     "\"label=<key>=<value>\")\n"
			     "  -f, --force           Do not prompt for confirmation\n"
			     "      --volumes         Prune anonymous volumes\n",
			     &pf, &sc))
		return sc;
	/* One "now" for both kinds, as the user gave it once. */
	cli_prune_clock(&clk);
	if (prune_filter_parse(pf.specs, pf.nspecs, PRUNE_CONTAINERS, pf.all, &clk, &fc, &err) <
		0 ||
	    prune_filter_parse(pf.specs, pf.nspecs, PRUNE_IMAGES, pf.all, &clk, &fi, &err) < 0 ||
	    (pf.volumes &&
	     prune_filter_parse(pf.specs, pf.nspecs, PRUNE_VOLUMES, false, &clk, &fv, &err) < 0)) {
		prune_filter_clear(&fc);
		prune_filter_clear(&fi);
		free(pf.specs);
		return cli_fail(&err);
	}
	free(pf.specs);
	if (!pf.force && !confirmed(pf.all, pf.volumes, &fc)) {
		/* Docker: cancelled, nothing removed, nothing more said. */
		prune_filter_clear(&fc);
		prune_filter_clear(&fi);
		prune_filter_clear(&fv);
		return 0;
	}
	sc = cli_prune_stopped(ctx, keep_container, &fc, &rc);
	si = sc == 125 ? 125 : cli_image_prune_run(ctx, &fi, &ri);
	/* Volumes after containers: those only removed containers used are
	 * unused now. */
	if (pf.volumes && sc != 125 && si != 125)
		sv = cli_volume_prune_run(ctx, false, &fv, &rv);
	prune_filter_clear(&fc);
	prune_filter_clear(&fi);
	prune_filter_clear(&fv);
	if (sc == 125 || si == 125 || sv == 125)
		return 125;
	engine_inspect_human_size(rc + ri + rv, 4, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	fflush(stdout);
	return sc ? sc : si ? si : sv;
}

int cmd_system(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		printf("Usage: moat system COMMAND\n\nManage moat\n\nCommands:\n"
		       "  prune       Remove unused data\n");
		return 0;
	}
	if (!strcmp(argv[1], "prune"))
		return cmd_system_prune(ctx, argc - 1, argv + 1);
	err_set(&err, EINVAL, "'system %s' is not a moat command (see 'moat system --help')",
		argv[1]);
	err->exit = 1;
	return cli_fail(&err);
}
