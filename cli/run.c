/*
 * cli/run.c - `moat run` and `moat create`: Docker's flags into a create
 * request (and, for run, a start in the foreground or detached).
 *
 * Runs as: the invoking user or root; in the foreground this process
 * becomes the container's monitor. Flag parsing stops at the image name,
 * so the command's own flags pass through untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "engine/lifecycle.h"
#include "engine/options.h"

extern char **environ;

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
	OPT_NAME,
	OPT_ENV_FILE,
	OPT_LABEL_FILE,
	OPT_STOP_SIGNAL,
	OPT_STOP_TIMEOUT,
	OPT_RESTART,
	OPT_LOG_OPT,
	OPT_LOG_DRIVER,
	OPT_HELP,
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

static int security_opt(struct engine_create_opts *o, const char *v, struct err **err)
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

static int read_file(const char *path, char **text, size_t *len, struct err **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return err_errno(err, errno, "open %s", path);
	if (fs_read_fd(fd, 1 << 20, text, len, err) < 0)
		return err_prefix(err, "%s", path);
	return 0;
}

static int log_opt(struct engine_create_opts *o, const char *v, struct err **err)
{
	const char *eq = strchr(v, '=');
	char *end;
	long n;

	if (!eq)
		return err_set(err, EINVAL, "invalid log opt '%s': expected key=value", v);
	if (!strncmp(v, "max-size=", 9))
		return options_size_parse(eq + 1, &o->log_max_size, err);
	if (!strncmp(v, "max-file=", 9)) {
		errno = 0;
		n = strtol(eq + 1, &end, 10);
		if (errno || *end || !eq[1] || n < 1 || n > 1000)
			return err_set(err, EINVAL, "invalid value for max-file: %s", eq + 1);
		o->log_max_file = (unsigned)n;
		return 0;
	}
	return err_set(err, EINVAL, "unknown log opt '%.*s' for json-file log driver",
		       (int)(eq - v), v);
}

/* Docker: --log-opt max-file needs max-size. */
static int log_check(const struct engine_create_opts *o, struct err **err)
{
	if (o->log_max_file > 1 && !o->log_max_size)
		return err_set(err, EINVAL, "max-file cannot be set without max-size");
	return 0;
}

static int do_create(struct cli_ctx *ctx, int argc, char **argv, bool run)
{
	static const struct option longopts[] = {
	    {"detach", no_argument, NULL, 'd'},
	    {"rm", no_argument, NULL, OPT_RM},
	    {"interactive", no_argument, NULL, 'i'},
	    {"tty", no_argument, NULL, 't'},
	    {"env", required_argument, NULL, 'e'},
	    {"env-file", required_argument, NULL, OPT_ENV_FILE},
	    {"label", required_argument, NULL, 'l'},
	    {"label-file", required_argument, NULL, OPT_LABEL_FILE},
	    {"name", required_argument, NULL, OPT_NAME},
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
	    {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
	    {"stop-timeout", required_argument, NULL, OPT_STOP_TIMEOUT},
	    {"restart", required_argument, NULL, OPT_RESTART},
	    {"log-opt", required_argument, NULL, OPT_LOG_OPT},
	    {"log-driver", required_argument, NULL, OPT_LOG_DRIVER},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct engine_create_opts o = {.stop_timeout = -1, .net = SANDBOX_NET_NONE};
	struct engine_ctx ec;
	struct err *err = NULL;
	_cleanup_free_ char **env = NULL, **cap_add = NULL, **cap_drop = NULL;
	_cleanup_strv_ char **file_env = NULL, **labels = NULL;
	char **all_env = NULL;
	size_t ne = 0, na = 0, nd = 0;
	bool detach = false;
	char id[SHA256_HEX_LEN + 1];
	int c, r;

	cli_engine_ctx(ctx, &ec);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, run ? "+dite:w:u:h:l:" : "+ite:w:u:h:l:", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!run)
				return cli_bad_flag(argv, '?');
			detach = true;
			break;
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
		case OPT_ENV_FILE: {
			_cleanup_free_ char *text = NULL;
			size_t len;
			if (read_file(optarg, &text, &len, &err) < 0 ||
			    options_env_file_parse(optarg, text, len, environ, &file_env, &err) < 0)
				return cli_fail(&err);
			break;
		}
		case 'l':
			if (options_label_add(&labels, optarg, &err) < 0)
				return cli_fail(&err);
			break;
		case OPT_LABEL_FILE: {
			_cleanup_free_ char *text = NULL;
			size_t len;
			if (read_file(optarg, &text, &len, &err) < 0 ||
			    options_label_file_parse(optarg, text, len, &labels, &err) < 0)
				return cli_fail(&err);
			break;
		}
		case OPT_NAME:
			o.name = optarg;
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
		case OPT_STOP_SIGNAL:
			if ((o.stop_signal = options_signal_parse(optarg, &err)) < 0)
				return cli_fail(&err);
			break;
		case OPT_STOP_TIMEOUT: {
			char *end;
			long t;
			errno = 0;
			t = strtol(optarg, &end, 10);
			if (errno || *end || !*optarg || t < -1 || t > 86400 * 365) {
				err_set(&err, EINVAL, "invalid --stop-timeout \"%s\"", optarg);
				return cli_fail(&err);
			}
			o.stop_timeout = (int)t;
			break;
		}
		case OPT_RESTART: {
			struct restart_spec rs;
			if (options_restart_parse(optarg, &rs, &err) < 0)
				return cli_fail(&err);
			o.restart = optarg;
			break;
		}
		case OPT_LOG_OPT:
			if (log_opt(&o, optarg, &err) < 0)
				return cli_fail(&err);
			break;
		case OPT_LOG_DRIVER:
			if (strcmp(optarg, "json-file") != 0) {
				err_set(&err, EINVAL,
					"log driver \"%s\": only json-file is available", optarg);
				return cli_fail(&err);
			}
			break;
		case OPT_HELP:
			printf("Usage: moat %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n",
			       run ? "run" : "create");
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
			"\"moat %s\" requires at least 1 argument: IMAGE [COMMAND] [ARG...]",
			run ? "run" : "create");
		return cli_fail(&err);
	}
	if (log_check(&o, &err) < 0)
		return cli_fail(&err);
	/* --env-file first, -e after it: -e wins (Docker). */
	{
		size_t n = 0;
		for (size_t i = 0; file_env && file_env[i]; i++)
			if (strv_push(&all_env, &n, file_env[i]) < 0)
				goto oom;
		for (size_t i = 0; i < ne; i++)
			if (strv_push(&all_env, &n, env[i]) < 0)
				goto oom;
	}
	o.image = argv[optind];
	o.req.cmd = argv + optind + 1;
	o.req.env = all_env;
	o.cap_add = cap_add;
	o.cap_drop = cap_drop;
	o.labels = labels;
	if (run)
		r = engine_run(&ec, &o, detach, &err);
	else if ((r = engine_create(&ec, &o, id, &err)) == 0)
		printf("%s\n", id);
	free(all_env);
	if (r < 0)
		return cli_fail(&err);
	return r;
oom:
	free(all_env);
	err_errno(&err, ENOMEM, "parse flags");
	return cli_fail(&err);
}

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_create(ctx, argc, argv, true);
}

int cmd_create(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_create(ctx, argc, argv, false);
}
