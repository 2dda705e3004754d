/*
 * cli/commit.c - `moat commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`:
 * Docker's commit. The new image (the container's image plus one layer of
 * its changes) is signed with the local key as it is added, like the demo
 * image, so it runs under the default trust policy; prints its id.
 *
 * Runs as: the invoking user or root. The audit log is opened before the
 * store is touched (fail-closed); the admission's trust decisions and an
 * "image.commit" record (container, image id, names) follow the outcome.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/commit.h"
#include "engine/trust.h"

static int audit_commit(struct audit_log *l, const struct engine_commit_result *res,
			const struct err *failure)
{
	struct audit_event *e = audit_event_new("image.commit");

	if (e) {
		audit_event_str(e, "container", res->container_id[0] ? res->container_id : "");
		audit_event_strv(e, "names",
				 res->name ? (char *[]){res->name, NULL} : (char *[]){NULL});
		audit_event_strv(e, "ids",
				 res->image_id[0] ? (char *[]){(char *)res->image_id, NULL}
						  : (char *[]){NULL});
	}
	return cli_audit_finish(l, e, failure);
}

int cmd_commit(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"author", required_argument, NULL, 'a'}, {"message", required_argument, NULL, 'm'},
	    {"change", required_argument, NULL, 'c'}, {"pause", optional_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 1000},	      {NULL, 0, NULL, 0},
	};
	struct engine_trust_admit adm = {.root = ctx->root, .always_local = true};
	struct engine_commit_opts o = {.pause = true, .trust = &adm};
	struct engine_commit_result res = {0};
	_cleanup_free_ char **changes = NULL;
	struct audit_log *alog = NULL;
	struct engine_ctx ec;
	struct err *err = NULL;
	size_t n = 0;
	int c, r;

	changes = calloc((size_t)argc + 1, sizeof(char *));
	if (!changes) {
		err_errno(&err, ENOMEM, "commit");
		return cli_fail(&err);
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:a:m:c:p::", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.author = optarg;
			break;
		case 'm':
			o.message = optarg;
			break;
		case 'c':
			changes[n++] = optarg;
			break;
		case 'p':
			/* pflag's "-p=false" reaches us as "=false". */
			if (optarg &&
			    cli_parse_bool("-p, --pause", optarg[0] == '=' ? optarg + 1 : optarg,
					   &o.pause, &err) < 0)
				return cli_fail(&err);
			if (!optarg)
				o.pause = true;
			break;
		case 1000:
			printf("Usage: moat commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]\n\n"
			       "Create a new image from a container's changes\n\n"
			       "Options:\n"
			       "  -a, --author string    Author (e.g., \"John Hannibal Smith "
			       "<hannibal@a-team.com>\")\n"
			       "  -c, --change list      Apply Dockerfile instruction to the "
			       "created image\n"
			       "  -m, --message string   Commit message\n"
			       "  -p, --pause            Pause container during commit "
			       "(default true)\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind < 1 || argc - optind > 2) {
		err_set(&err, EINVAL,
			"\"moat commit\" requires at least 1 and at most 2 arguments");
		return cli_fail(&err);
	}
	o.container = argv[optind];
	o.repo = argc - optind == 2 ? argv[optind + 1] : NULL;
	o.changes = changes;
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	cli_engine_ctx(ctx, &ec);
	r = engine_commit(&ec, &o, &res, &err);
	if (res.not_paused)
		fprintf(stderr, "moat: warning: %s is not paused during the commit (%s)\n",
			res.container_name, res.not_paused);
	if (res.unpause_error)
		fprintf(stderr, "moat: warning: %s could not be unpaused: %s\n", res.container_name,
			res.unpause_error);
	if (cli_audit_admissions(alog, "commit", adm.decisions) != 0 && r == 0)
		r = err_set(&err, EIO, "the audit log refused a trust decision");
	strvfree(adm.decisions);
	if (r < 0) {
		audit_commit(alog, &res, err);
		engine_commit_result_clear(&res);
		return cli_fail(&err);
	}
	printf("%s\n", res.image_id);
	fflush(stdout);
	r = audit_commit(alog, &res, NULL);
	engine_commit_result_clear(&res);
	return r;
}
