/*
 * cli/lifecycle.c - the verbs that move a container through its states:
 * start, stop, restart, kill, wait, rename, pause, unpause, rm.
 *
 * Runs as: the invoking user or root. Each verb takes one or more
 * containers (id, unique id prefix, or name); like Docker it goes on past
 * a failing one, prints what it did, and exits 1 when any failed.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/ctl.h"
#include "engine/lifecycle.h"
#include "engine/options.h"

int cli_resolve(struct cli_ctx *ctx, const char *ref, char id[65], struct err **err)
{
	return engine_container_resolve(ctx->root, ref, id, err);
}

static void rdir_of(struct cli_ctx *ctx, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/containers/%s", ctx->runroot, id);
}

/* Each of ARGV[optind..] through FN; Docker's "print the ref on success,
 * the error on failure, exit 1 if any failed". */
static int each(struct cli_ctx *ctx, int argc, char **argv, const char *verb,
		int (*fn)(struct cli_ctx *, const char *id, void *arg, struct err **), void *arg)
{
	int status = 0;

	if (optind >= argc) {
		struct err *err = NULL;
		err_set(&err, EINVAL, "\"moat %s\" requires at least 1 argument", verb);
		return cli_fail(&err);
	}
	for (int i = optind; i < argc; i++) {
		struct err *err = NULL;
		char id[65];

		if (cli_resolve(ctx, argv[i], id, &err) < 0 || fn(ctx, id, arg, &err) < 0) {
			fprintf(stderr, "moat: %s\n", err ? err->msg : "failed");
			err_free(&err);
			status = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	fflush(stdout);
	return status;
}

static int simple_flags(int argc, char **argv, const char *usage, const char *shortopts,
			const struct option *longopts, int (*opt)(int c, void *arg), void *arg)
{
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 1000) {
			printf("Usage: %s\n", usage);
			return 1;
		}
		if (c == '?' || c == ':')
			return -cli_bad_flag(argv, c);
		if (opt && opt(c, arg) < 0)
			return -125;
	}
	return 0;
}

#define HELP_OPT                                \
	{                                       \
		"help", no_argument, NULL, 1000 \
	}

/* ---- start ---- */

struct start_args {
	bool attach, interactive;
};

static int start_opt(int c, void *arg)
{
	struct start_args *a = arg;

	if (c == 'a')
		a->attach = true;
	else if (c == 'i')
		a->interactive = true;
	return 0;
}

int cmd_start(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {{"attach", no_argument, NULL, 'a'},
					   {"interactive", no_argument, NULL, 'i'},
					   HELP_OPT,
					   {NULL, 0, NULL, 0}};
	struct start_args a = {0};
	struct engine_ctx ec;
	struct err *err = NULL;
	char id[65];
	int r, status = 0;

	r = simple_flags(argc, argv, "moat start [OPTIONS] CONTAINER [CONTAINER...]", "+ai", lo,
			 start_opt, &a);
	if (r)
		return r < 0 ? -r : 0;
	cli_engine_ctx(ctx, &ec);
	if (a.attach || a.interactive) {
		/* Attached: this process is the monitor (Docker's start -a). */
		if (argc - optind != 1) {
			err_set(&err, EINVAL,
				"you cannot start and attach multiple containers at once");
			return cli_fail(&err);
		}
		if (cli_resolve(ctx, argv[optind], id, &err) < 0)
			return cli_fail(&err);
		r = engine_start(&ec, id, ENGINE_START_FOREGROUND, &err);
		return r < 0 ? cli_fail(&err) : r;
	}
	for (int i = optind; i < argc; i++) {
		if (optind >= argc)
			break;
		if (cli_resolve(ctx, argv[i], id, &err) < 0 ||
		    engine_start(&ec, id, ENGINE_START_DETACHED, &err) < 0) {
			fprintf(stderr, "moat: %s\n", err->msg);
			status = err->exit > 1 ? err->exit : 1;
			err_free(&err);
			continue;
		}
		printf("%s\n", argv[i]);
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"moat start\" requires at least 1 argument");
		return cli_fail(&err);
	}
	fflush(stdout);
	return status;
}

/* ---- stop, restart, kill ---- */

struct stop_args {
	int timeout;
	int sig;
	bool bad;
};

static int stop_opt(int c, void *arg)
{
	struct stop_args *a = arg;
	struct err *err = NULL;
	char *end;
	long t;

	if (c == 't') {
		errno = 0;
		t = strtol(optarg, &end, 10);
		if (errno || *end || !*optarg || t < -1 || t > 86400 * 365) {
			err_set(&err, EINVAL, "invalid --time \"%s\"", optarg);
			return -cli_fail(&err);
		}
		a->timeout = (int)t;
	} else if (c == 's') {
		a->sig = options_signal_parse(optarg, &err);
		if (a->sig < 0)
			return -cli_fail(&err);
	}
	return 0;
}

static int do_stop(struct cli_ctx *ctx, const char *id, void *arg, struct err **err)
{
	struct stop_args *a = arg;
	struct engine_ctx ec;

	cli_engine_ctx(ctx, &ec);
	return engine_stop(&ec, id, a->sig, a->timeout, err);
}

/* stop and restart share Docker's flags: -t/--time/--timeout, -s/--signal. */
static int stop_like(struct cli_ctx *ctx, int argc, char **argv, const char *verb,
		     int (*fn)(struct cli_ctx *, const char *, void *, struct err **))
{
	static const struct option lo[] = {{"time", required_argument, NULL, 't'},
					   {"timeout", required_argument, NULL, 't'},
					   {"signal", required_argument, NULL, 's'},
					   HELP_OPT,
					   {NULL, 0, NULL, 0}};
	struct stop_args a = {.timeout = -1};
	char usage[128];
	int r;

	snprintf(usage, sizeof(usage), "moat %s [OPTIONS] CONTAINER [CONTAINER...]", verb);
	r = simple_flags(argc, argv, usage, "+t:s:", lo, stop_opt, &a);
	if (r)
		return r < 0 ? -r : 0;
	return each(ctx, argc, argv, verb, fn, &a);
}

int cmd_stop(struct cli_ctx *ctx, int argc, char **argv)
{
	return stop_like(ctx, argc, argv, "stop", do_stop);
}

static int do_restart(struct cli_ctx *ctx, const char *id, void *arg, struct err **err)
{
	struct engine_ctx ec;
	int r;

	if ((r = do_stop(ctx, id, arg, err)) < 0)
		return r;
	cli_engine_ctx(ctx, &ec);
	return engine_start(&ec, id, ENGINE_START_DETACHED, err);
}

int cmd_restart(struct cli_ctx *ctx, int argc, char **argv)
{
	return stop_like(ctx, argc, argv, "restart", do_restart);
}

static int do_kill(struct cli_ctx *ctx, const char *id, void *arg, struct err **err)
{
	struct stop_args *a = arg;
	struct engine_ctx ec;

	cli_engine_ctx(ctx, &ec);
	return engine_kill(&ec, id, a->sig ? a->sig : SIGKILL, err);
}

int cmd_kill(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"signal", required_argument, NULL, 's'}, HELP_OPT, {NULL, 0, NULL, 0}};
	struct stop_args a = {.timeout = -1};
	int r = simple_flags(argc, argv, "moat kill [OPTIONS] CONTAINER [CONTAINER...]", "+s:", lo,
			     stop_opt, &a);

	if (r)
		return r < 0 ? -r : 0;
	return each(ctx, argc, argv, "kill", do_kill, &a);
}

/* ---- wait ---- */

int cmd_wait(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {HELP_OPT, {NULL, 0, NULL, 0}};
	int r = simple_flags(argc, argv, "moat wait CONTAINER [CONTAINER...]", "+", lo, NULL, NULL);
	int status = 0;

	if (r)
		return r < 0 ? -r : 0;
	if (optind >= argc) {
		struct err *err = NULL;
		err_set(&err, EINVAL, "\"moat wait\" requires at least 1 argument");
		return cli_fail(&err);
	}
	for (int i = optind; i < argc; i++) {
		struct container_record rec;
		struct err *err = NULL;
		char id[65], rdir[4200];
		int32_t code = -1;

		if (cli_resolve(ctx, argv[i], id, &err) < 0) {
			fprintf(stderr, "moat: %s\n", err->msg);
			err_free(&err);
			status = 1;
			continue;
		}
		rdir_of(ctx, id, rdir, sizeof(rdir));
		/* Docker's "not-running" condition: the next exit, or the last
		 * one when it is not running. */
		if (ctl_call(rdir, CTL_WAIT, 0, 0, &code, NULL, &err) < 0) {
			err_free(&err);
			engine_container_wait_unlocked(ctx->runroot, id, -1);
			code = -1;
		}
		if (code < 0 && engine_container_load(ctx->root, id, &rec, &err) == 0) {
			code = rec.exit_code;
			engine_container_record_free(&rec);
		}
		err_free(&err);
		printf("%d\n", code);
		fflush(stdout);
	}
	return status;
}

/* ---- rename ---- */

/* Docker's CLI exits 1 for every failed rename (usage errors aside). */
static int rename_fail(struct err **err)
{
	if (err && *err)
		(*err)->exit = 1;
	return cli_fail(err);
}

int cmd_rename(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {HELP_OPT, {NULL, 0, NULL, 0}};
	struct container_record rec;
	struct err *err = NULL;
	_cleanup_free_ char *old = NULL;
	char id[65];
	int r = simple_flags(argc, argv, "moat rename CONTAINER NEW_NAME", "+", lo, NULL, NULL);

	if (r)
		return r < 0 ? -r : 0;
	if (argc - optind != 2) {
		err_set(&err, EINVAL, "\"moat rename\" requires exactly 2 arguments");
		return cli_fail(&err);
	}
	if (cli_resolve(ctx, argv[optind], id, &err) < 0 ||
	    engine_container_load(ctx->root, id, &rec, &err) < 0)
		return rename_fail(&err);
	if (!strcmp(rec.name, argv[optind + 1])) {
		err_set(&err, EINVAL,
			"Renaming a container with the same name as its current name");
		engine_container_record_free(&rec);
		return rename_fail(&err);
	}
	if (engine_name_reserve(ctx->root, argv[optind + 1], id, &err) < 0) {
		engine_container_record_free(&rec);
		return rename_fail(&err);
	}
	old = rec.name;
	rec.name = strdup(argv[optind + 1]);
	if (!rec.name || engine_container_save(ctx->root, &rec, true, &err) < 0) {
		engine_name_release(ctx->root, argv[optind + 1], id);
		if (!err)
			err_errno(&err, ENOMEM, "rename");
		engine_container_record_free(&rec);
		return rename_fail(&err);
	}
	engine_name_release(ctx->root, old, id);
	engine_container_record_free(&rec);
	return 0;
}

/* ---- pause, unpause ---- */

static int do_pause(struct cli_ctx *ctx, const char *id, void *arg, struct err **err)
{
	struct engine_ctx ec;
	char rdir[4200];
	int r, verb = *(int *)arg;

	cli_engine_ctx(ctx, &ec);
	r = engine_verb_check(&ec, id, verb == CTL_PAUSE ? CTR_VERB_PAUSE : CTR_VERB_UNPAUSE, err);
	if (r < 0)
		return r;
	rdir_of(ctx, id, rdir, sizeof(rdir));
	return ctl_call(rdir, (uint32_t)verb, 0, 0, NULL, NULL, err);
}

int cmd_pause(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {HELP_OPT, {NULL, 0, NULL, 0}};
	int verb = CTL_PAUSE;
	int r =
	    simple_flags(argc, argv, "moat pause CONTAINER [CONTAINER...]", "+", lo, NULL, NULL);

	if (r)
		return r < 0 ? -r : 0;
	return each(ctx, argc, argv, "pause", do_pause, &verb);
}

int cmd_unpause(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {HELP_OPT, {NULL, 0, NULL, 0}};
	int verb = CTL_UNPAUSE;
	int r =
	    simple_flags(argc, argv, "moat unpause CONTAINER [CONTAINER...]", "+", lo, NULL, NULL);

	if (r)
		return r < 0 ? -r : 0;
	return each(ctx, argc, argv, "unpause", do_pause, &verb);
}

/* ---- rm ---- */

struct rm_args {
	bool force, volumes;
};

static int rm_opt(int c, void *arg)
{
	struct rm_args *a = arg;

	if (c == 'f')
		a->force = true;
	else if (c == 'v')
		a->volumes = true; /* its anonymous volumes go too */
	return 0;
}

static int do_rm(struct cli_ctx *ctx, const char *id, void *arg, struct err **err)
{
	struct rm_args *a = arg;
	struct engine_ctx ec;

	cli_engine_ctx(ctx, &ec);
	return engine_remove(&ec, id, a->force, false, a->volumes, err);
}

int cmd_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {{"force", no_argument, NULL, 'f'},
					   {"volumes", no_argument, NULL, 'v'},
					   HELP_OPT,
					   {NULL, 0, NULL, 0}};
	struct rm_args a = {0};
	int r = simple_flags(argc, argv, "moat rm [OPTIONS] CONTAINER [CONTAINER...]", "+fv", lo,
			     rm_opt, &a);

	if (r)
		return r < 0 ? -r : 0;
	return each(ctx, argc, argv, "rm", do_rm, &a);
}
