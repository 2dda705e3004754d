/*
 * cli/logs.c - `moat logs [-f] [-n|--tail N|all] [--since T] [--until T]
 * [-t] [--details] CONTAINER`: a container's output as its monitor wrote
 * it to ROOT/containers/<id>/json.log (and the rotated json.log.1 ...).
 *
 * Runs as: the invoking user or root; reads only files of the caller's own
 * state (the log is 0600, owned by whoever ran the container), never talks
 * to the monitor and changes nothing.
 *
 * Invariants:
 *  - stdout entries go to our fd 1 and stderr entries to fd 2, as Docker
 *    does for a container without a tty;
 *  - flag values are checked before anything is looked up, so a bad flag
 *    never depends on which containers exist;
 *  - --follow ends once no monitor holds the container's lock (it exited,
 *    for good or between restarts being stopped) and everything it wrote
 *    has been shown; a container that is not running is not followed,
 *    like Docker's `Follow && IsRunning()`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "engine/containers.h"
#include "engine/logfile.h"

struct follow_arg {
	const char *runroot;
	const char *id;
};

static bool container_gone(void *arg)
{
	const struct follow_arg *f = arg;

	return !engine_container_monitored(f->runroot, f->id);
}

/* Docker's --tail: "all", or a count; a negative count means all (Docker
 * reads "-1" that way). Anything else is refused: Docker silently shows
 * everything for a value it cannot parse, which hides a typo. */
static int tail_parse(const char *s, long *out, struct err **err)
{
	char *end;
	long n;

	if (!strcmp(s, "all")) {
		*out = -1;
		return 0;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end) {
		err_set(err, EINVAL,
			"invalid argument \"%s\" for \"-n, --tail\" flag: want a number of lines "
			"or \"all\"",
			s);
		(*err)->exit = 125;
		return -EINVAL;
	}
	*out = n < 0 ? -1 : n;
	return 0;
}

/* --since/--until: errors as Docker's client words them (exit 1). */
static int time_parse(const char *what, const char *s, const struct timespec *now,
		      struct timespec *out, struct err **err)
{
	int r = logs_parse_time(s, now, out, err);

	if (r < 0) {
		err_prefix(err, "invalid value for \"%s\"", what);
		(*err)->exit = 1;
	}
	return r;
}

int cmd_logs(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"follow", no_argument, NULL, 'f'},	     {"timestamps", no_argument, NULL, 't'},
	    {"tail", required_argument, NULL, 'n'},  {"since", required_argument, NULL, 'S'},
	    {"until", required_argument, NULL, 'U'}, {"details", no_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'H'},	     {NULL, 0, NULL, 0},
	};
	struct logs_opts o = {.tail = -1};
	const char *since = NULL, *until = NULL;
	struct container_record rec;
	struct follow_arg fa;
	struct err *err = NULL;
	struct timespec now;
	char id[65], path[4200];
	enum ctr_state st;
	int c, r;

	opterr = 0;
	optind = 1;
	/* Flags may follow the container, as Docker's parser allows. */
	while ((c = getopt_long(argc, argv, "ftn:", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.follow = true;
			break;
		case 't':
			o.timestamps = true;
			break;
		case 'n':
			if (tail_parse(optarg, &o.tail, &err) < 0)
				return cli_fail(&err);
			break;
		case 'S':
			since = optarg;
			break;
		case 'U':
			until = optarg;
			break;
		case 'D':
			break; /* json-file without labels/env attrs: nothing extra to show */
		case 'H':
			printf("Usage: moat logs [OPTIONS] CONTAINER\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 1) {
		err_set(&err, EINVAL, "\"moat logs\" requires exactly 1 argument");
		return cli_fail(&err);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (since) {
		if (time_parse("since", since, &now, &o.since, &err) < 0)
			return cli_fail(&err);
		o.has_since = true;
	}
	if (until) {
		if (time_parse("until", until, &now, &o.until, &err) < 0)
			return cli_fail(&err);
		o.has_until = true;
	}

	if (cli_resolve(ctx, argv[optind], id, &err) < 0 ||
	    engine_container_load(ctx->root, id, &rec, &err) < 0)
		return cli_fail(&err);
	st = engine_container_state(ctx->runroot, &rec);
	r = ctr_transition_check(st, CTR_VERB_LOGS, rec.name, &err);
	if (r < 0) {
		engine_container_record_free(&rec);
		return cli_fail(&err);
	}
	snprintf(path, sizeof(path), "%s/containers/%s/json.log", ctx->root, id);
	fa = (struct follow_arg){.runroot = ctx->runroot, .id = id};
	o.follow = o.follow && engine_container_monitored(ctx->runroot, id);
	r = logfile_read(path, rec.log_max_file ? rec.log_max_file : 1, &o, 1, 2, container_gone,
			 &fa, &err);
	engine_container_record_free(&rec);
	return r < 0 ? cli_fail(&err) : 0;
}
