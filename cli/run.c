/*
 * cli/run.c - `moat run`: Docker's flags into an engine run request.
 *
 * Runs as: the invoking user or root; this process becomes the container's
 * monitor. Flag parsing stops at the image name, so the command's own flags
 * pass through untouched.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/events.h"
#include "engine/run.h"

enum {
	OPT_RM = 1000,
	OPT_ENTRYPOINT,
	OPT_HOSTNAME,
	OPT_READ_ONLY,
	OPT_INIT,
	OPT_CAP_ADD,
	OPT_CAP_DROP,
	OPT_SECURITY_OPT,
	OPT_NETWORK,
	OPT_USERNS,
};

static int strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(char *));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = (char *)s;
	nv[*n] = NULL;
	return 0;
}

static int security_opt(struct engine_run_opts *o, const char *v, struct err **err)
{
	if (!strncmp(v, "seccomp=", 8) || !strncmp(v, "seccomp:", 8)) {
		if (!v[8])
			return err_set(err, EINVAL,
				       "--security-opt seccomp needs a file or \"unconfined\"");
		o->seccomp = v + 8;
		return 0;
	}
	if (!strcmp(v, "landlock=off") || !strcmp(v, "landlock=unconfined")) {
		o->landlock_off = true;
		return 0;
	}
	if (!strcmp(v, "landlock=on")) {
		o->landlock_off = false;
		return 0;
	}
	if (!strncmp(v, "apparmor=", 9)) {
		o->apparmor = strcmp(v + 9, "unconfined") ? v + 9 : NULL;
		return 0;
	}
	if (!strcmp(v, "no-new-privileges") || !strcmp(v, "no-new-privileges=true") ||
	    !strcmp(v, "no-new-privileges:true"))
		return 0; /* always on */
	if (!strncmp(v, "no-new-privileges", 17))
		return err_set(err, EINVAL, "--security-opt %s: moat always sets no_new_privs", v);
	return err_set(err, EINVAL, "unknown --security-opt \"%s\"", v);
}

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"rm", no_argument, NULL, OPT_RM},
	    {"interactive", no_argument, NULL, 'i'},
	    {"tty", no_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"workdir", required_argument, NULL, 'w'},
	    {"user", required_argument, NULL, 'u'},
	    {"entrypoint", required_argument, NULL, OPT_ENTRYPOINT},
	    {"hostname", required_argument, NULL, OPT_HOSTNAME},
	    {"read-only", no_argument, NULL, OPT_READ_ONLY},
	    {"init", no_argument, NULL, OPT_INIT},
	    {"cap-add", required_argument, NULL, OPT_CAP_ADD},
	    {"cap-drop", required_argument, NULL, OPT_CAP_DROP},
	    {"security-opt", required_argument, NULL, OPT_SECURITY_OPT},
	    {"network", required_argument, NULL, OPT_NETWORK},
	    {"net", required_argument, NULL, OPT_NETWORK},
	    {"userns", required_argument, NULL, OPT_USERNS},
	    {"help", no_argument, NULL, 1},
	    {NULL, 0, NULL, 0},
	};
	struct engine_run_opts o = {0};
	struct err *err = NULL;
	_cleanup_free_ char **env = NULL, **cap_add = NULL, **cap_drop = NULL;
	size_t ne = 0, na = 0, nd = 0;
	int c, r;

	o.root = ctx->root;
	o.runroot = ctx->runroot;
	o.rootless = ctx->rootless;
	o.uid = ctx->uid;
	o.gid = ctx->gid;
	o.net = SANDBOX_NET_NONE;
	cli_audit_conf(ctx, &o.audit);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ite:w:u:h:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RM:
			o.rm = true;
			break;
		case 'i':
			o.interactive = true;
			break;
		case 't':
			o.req.tty = true;
			break;
		case 'e':
			if (strv_push(&env, &ne, optarg) < 0)
				goto oom;
			break;
		case 'w':
			o.req.workdir = optarg;
			break;
		case 'u':
			o.req.user = optarg;
			break;
		case OPT_ENTRYPOINT:
			o.req.entrypoint = optarg;
			break;
		case 'h':
		case OPT_HOSTNAME:
			o.req.hostname = optarg;
			break;
		case OPT_READ_ONLY:
			o.read_only = true;
			break;
		case OPT_INIT:
			o.init = true;
			break;
		case OPT_CAP_ADD:
			if (strv_push(&cap_add, &na, optarg) < 0)
				goto oom;
			break;
		case OPT_CAP_DROP:
			if (strv_push(&cap_drop, &nd, optarg) < 0)
				goto oom;
			break;
		case OPT_SECURITY_OPT:
			if (security_opt(&o, optarg, &err) < 0)
				return cli_fail(&err);
			break;
		case OPT_NETWORK:
			if (!strcmp(optarg, "none"))
				o.net = SANDBOX_NET_NONE;
			else if (!strcmp(optarg, "host"))
				o.net = SANDBOX_NET_HOST;
			else {
				err_set(&err, EINVAL,
					"network \"%s\": only none and host are available in this "
					"version",
					optarg);
				return cli_fail(&err);
			}
			break;
		case OPT_USERNS:
			o.userns = optarg;
			break;
		case 1:
			printf("Usage: moat run [OPTIONS] IMAGE [COMMAND] [ARG...]\n");
			return 0;
		case '?':
		case ':':
			return cli_bad_flag(argv, c);
		default:
			err_set(&err, EINVAL, "unknown flag: %s", argv[optind - 1]);
			return cli_fail(&err);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL,
			"\"moat run\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]");
		return cli_fail(&err);
	}
	o.image = argv[optind];
	o.req.cmd = argv + optind + 1;
	o.req.env = env;
	o.cap_add = cap_add;
	o.cap_drop = cap_drop;
	r = engine_run(&o, &err);
	if (r < 0)
		return cli_fail(&err);
	return r;
oom:
	err_errno(&err, ENOMEM, "parse flags");
	return cli_fail(&err);
}
