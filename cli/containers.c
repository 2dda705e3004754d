/*
 * cli/containers.c - `moat ps` and `moat rm`: containers kept after
 * `moat run` without --rm (Docker's default).
 *
 * Runs as: the invoking user or root. Container fields come from records
 * under ROOT, written by moat itself; the command line shown may hold
 * anything a user typed, so control characters are escaped.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/events.h"

static void ago(int64_t then, char *buf, size_t size)
{
	int64_t d = (int64_t)time(NULL) - then;

	if (d < 60)
		snprintf(buf, size, "%lld seconds ago", (long long)(d < 0 ? 0 : d));
	else if (d < 3600)
		snprintf(buf, size, "%lld minutes ago", (long long)(d / 60));
	else if (d < 86400)
		snprintf(buf, size, "%lld hours ago", (long long)(d / 3600));
	else
		snprintf(buf, size, "%lld days ago", (long long)(d / 86400));
}

/* Docker's "COMMAND" column: argv joined, quoted, control chars escaped. */
static void command(char **argv, char *buf, size_t size, bool trunc)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; argv && argv[i] && o + 8 < size; i++) {
		if (i)
			buf[o++] = ' ';
		for (const unsigned char *c = (const unsigned char *)argv[i]; *c && o + 8 < size;
		     c++)
			o += (size_t)snprintf(buf + o, size - o,
					      (*c < 0x20 || *c == 0x7f) ? "\\x%02x" : "%c", *c);
	}
	if (trunc && o > 20) {
		o = 19;
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o++] = '"';
	buf[o] = 0;
}

int cmd_ps(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"no-trunc", no_argument, NULL, 'T'},
	    {NULL, 0, NULL, 0},
	};
	struct container_entry *v = NULL;
	struct err *err = NULL;
	bool all = false, quiet = false, trunc = true;
	size_t n = 0;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":aq", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'T':
			trunc = false;
			break;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"ps\" accepts no arguments");
		return cli_fail(&err);
	}
	if (engine_container_list(ctx->root, ctx->runroot, &v, &n, &err) < 0)
		return cli_fail(&err);
	if (!quiet)
		printf("%-12s   %-20s   %-22s   %-16s   %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
		       "CREATED", "STATUS");
	for (size_t i = 0; i < n; i++) {
		struct container_record *r = &v[i].rec;
		char created[32], cmd[256], status[64];

		if (!all && !v[i].running)
			continue;
		if (quiet) {
			printf("%.*s\n", trunc ? 12 : SHA256_HEX_LEN, r->id);
			continue;
		}
		ago(r->created, created, sizeof(created));
		command(r->argv, cmd, sizeof(cmd), trunc);
		if (v[i].running)
			snprintf(status, sizeof(status), "Up");
		else if (r->finished)
			snprintf(status, sizeof(status), "Exited (%d)", r->exit_code);
		else
			/* Its monitor died before it could record the exit. */
			snprintf(status, sizeof(status), "Exited (unknown)");
		printf("%-12.*s   %-20s   %-22s   %-16s   %s\n", trunc ? 12 : SHA256_HEX_LEN, r->id,
		       r->image, cmd, created, status);
	}
	engine_container_list_free(v, n);
	return 0;
}

int cmd_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct engine_audit_conf conf;
	struct err *err = NULL;
	int ret = 0, c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", (struct option[]){{NULL, 0, NULL, 0}}, NULL)) !=
	       -1)
		return cli_bad_flag(argv, c);
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"rm\" requires at least 1 argument");
		return cli_fail(&err);
	}
	cli_audit_conf(ctx, &conf);
	for (int i = optind; i < argc; i++) {
		char id[SHA256_HEX_LEN + 1] = "";
		struct audit_log *log = NULL;
		struct audit_event *e;
		int r;

		/* Fail-closed: no audit log, no removal. */
		if (engine_audit_open(&conf, &log, &err) < 0) {
			ret = cli_fail(&err);
			break;
		}
		r = engine_container_remove(ctx->root, ctx->runroot, ctx->rootless, ctx->uid,
					    ctx->gid, argv[i], id, &err);
		e = audit_event_new("container.remove");
		if (e) {
			audit_event_str(e, "container", id[0] ? id : argv[i]);
			if (r < 0)
				audit_event_str(e, "error", err->msg);
		}
		if (r < 0) {
			struct err *ae = NULL;
			engine_audit(log, e, &ae);
			err_free(&ae);
			/* Docker goes on with the others. */
			ret = cli_fail(&err);
		} else if (engine_audit(log, e, &err) < 0) {
			ret = cli_fail(&err);
		} else {
			printf("%s\n", argv[i]);
		}
		audit_close(log);
	}
	return ret;
}
