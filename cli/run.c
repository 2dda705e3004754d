/*
 * cli/run.c - `moat run` and `moat create`: Docker's flags into a create
 * request (and, for run, a start in the foreground or detached).
 *
 * Runs as: the invoking user or root; in the foreground this process
 * becomes the container's monitor. Flag parsing stops at the image name,
 * so the command's own flags pass through untouched.
 */
#include <ctype.h>
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
	/* resource limits (limit_flag) */
	OPT_MEMORY_SWAP,
	OPT_MEMORY_RESERVATION,
	OPT_CPUS,
	OPT_CPUSET_CPUS,
	OPT_PIDS_LIMIT,
	OPT_ULIMIT,
	OPT_OOM_SCORE_ADJ,
	OPT_SHM_SIZE,
	/* storage (mount_flag) */
	OPT_MOUNT,
	OPT_TMPFS,
	OPT_VOLUMES_FROM,
	OPT_IP,
	OPT_NETWORK_ALIAS,
	OPT_DNS,
	OPT_DNS_SEARCH,
	OPT_DNS_OPTION,
	OPT_ADD_HOST,
};

/* -v, --mount, --tmpfs: parsed at once (a bad spec fails before the image
 * is even looked at), kept in flag order. */
static int mount_flag(int c, const char *arg, struct engine_mount_opts *m, size_t *n_from,
		      struct err **err)
{
	struct mount_req r = {0}, *v;
	int ret;

	if (c == OPT_VOLUMES_FROM) {
		char **nv = realloc(m->volumes_from, (*n_from + 2) * sizeof(char *));
		if (!nv)
			return err_errno(err, ENOMEM, "--volumes-from");
		m->volumes_from = nv;
		if (!(nv[*n_from] = strdup(arg)))
			return err_errno(err, ENOMEM, "--volumes-from");
		nv[++*n_from] = NULL;
		return 0;
	}
	if (m->n_reqs >= ENGINE_MAX_MOUNTS)
		return err_set(err, E2BIG, "too many mounts (at most %d)", ENGINE_MAX_MOUNTS);
	ret = c == 'v'	       ? mountspec_parse_volume(arg, &r, err)
	      : c == OPT_MOUNT ? mountspec_parse_mount(arg, &r, err)
			       : mountspec_parse_tmpfs(arg, &r, err);
	if (ret < 0)
		return err_prefix(err, "invalid argument \"%.200s\" for \"%s\" flag", arg,
				  c == 'v'	   ? "-v, --volume"
				  : c == OPT_MOUNT ? "--mount"
						   : "--tmpfs");
	v = realloc(m->reqs, (m->n_reqs + 1) * sizeof(*v));
	if (!v) {
		mount_req_free(&r);
		return err_errno(err, ENOMEM, "mounts");
	}
	m->reqs = v;
	v[m->n_reqs++] = r;
	return 0;
}

static void mount_opts_free(struct engine_mount_opts *m)
{
	for (size_t i = 0; i < m->n_reqs; i++)
		mount_req_free(&m->reqs[i]);
	free(m->reqs);
	strvfree(m->volumes_from);
	memset(m, 0, sizeof(*m));
}

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
		/* "unconfined" is kept as asked (the tenant policy may forbid
		 * it); create records no profile for it. */
		o->apparmor = v + 9;
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

/* Go's strconv.ParseInt(s, 10, 64) with its message. */
static int parse_int64(const char *s, int64_t *out, struct err **err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || isspace((unsigned char)*s))
		return err_set(err, EINVAL, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
	if (errno == ERANGE)
		return err_set(err, ERANGE, "strconv.ParseInt: parsing \"%s\": value out of range",
			       s);
	*out = v;
	return 0;
}

/*
 * Docker's resource flags (syntax only: the daemon-side checks, such as
 * the 6MB minimum, are engine_create's). A bad value is refused as Docker's
 * CLI refuses it: invalid argument "V" for "--flag" flag: why.
 */
static int limit_flag(struct engine_limits *l, int opt, const char *v, struct err **err)
{
	const char *flag;
	int64_t n;
	int r = 0;

	switch (opt) {
	case 'm':
		flag = "-m, --memory";
		r = engine_limits_size_parse(v, &l->memory, err);
		break;
	case OPT_MEMORY_SWAP:
		flag = "--memory-swap";
		if (!strcmp(v, "-1"))
			l->memory_swap = -1;
		else
			r = engine_limits_size_parse(v, &l->memory_swap, err);
		break;
	case OPT_MEMORY_RESERVATION:
		flag = "--memory-reservation";
		r = engine_limits_size_parse(v, &l->memory_reservation, err);
		break;
	case OPT_SHM_SIZE:
		flag = "--shm-size";
		r = engine_limits_size_parse(v, &l->shm_size, err);
		break;
	case OPT_CPUS:
		flag = "--cpus";
		r = engine_limits_cpus_parse(v, &l->nano_cpus, err);
		break;
	case OPT_CPUSET_CPUS:
		flag = "--cpuset-cpus";
		r = engine_limits_cpuset_parse(v, l->cpuset_cpus, err);
		break;
	case 'c':
		flag = "-c, --cpu-shares";
		if ((r = parse_int64(v, &n, err)) == 0 && n < 0)
			r = err_set(err, EINVAL, "CPU shares cannot be negative");
		if (r == 0 && n > 0 && n < 2) {
			fprintf(stderr,
				"moat: warning: Changing requested CPUShares of %lld to minimum "
				"allowed of 2\n",
				(long long)n);
			n = 2;
		} else if (r == 0 && n > 262144) {
			fprintf(stderr,
				"moat: warning: Changing requested CPUShares of %lld to maximum "
				"allowed of 262144\n",
				(long long)n);
			n = 262144;
		}
		if (r == 0)
			l->cpu_shares = n;
		break;
	case OPT_PIDS_LIMIT:
		flag = "--pids-limit";
		/* 0 and -1 are Docker's "unlimited"; moat records -1, since 0
		 * means "moat's default" (ENGINE_DEFAULT_PIDS_LIMIT). */
		if ((r = parse_int64(v, &n, err)) == 0)
			l->pids_limit = n <= 0 ? -1 : n;
		break;
	case OPT_OOM_SCORE_ADJ:
		flag = "--oom-score-adj";
		if ((r = parse_int64(v, &n, err)) == 0 && (n < -1000 || n > 1000))
			r = err_set(err, EINVAL,
				    "Invalid value %lld, range for oom score adj is [-1000, 1000]",
				    (long long)n);
		if (r == 0) {
			l->oom_score_adj = (int)n;
			l->has_oom_score_adj = true;
		}
		break;
	case OPT_ULIMIT: {
		struct engine_ulimit u;
		size_t i = 0;

		flag = "--ulimit";
		if ((r = engine_limits_ulimit_parse(v, &u, err)) < 0)
			break;
		/* A repeated name replaces the earlier one (Docker keeps one
		 * per name). */
		while (i < l->n_ulimits && l->ulimits[i].resource != u.resource)
			i++;
		if (i == ENGINE_MAX_ULIMITS)
			r = err_set(err, E2BIG, "at most %d ulimits", ENGINE_MAX_ULIMITS);
		else {
			l->ulimits[i] = u;
			if (i == l->n_ulimits)
				l->n_ulimits++;
		}
		break;
	}
	default:
		return err_set(err, EINVAL, "unknown limit flag");
	}
	if (r < 0)
		return err_prefix(err, "invalid argument \"%s\" for \"%s\" flag", v, flag);
	return 0;
}

/* Docker: --log-opt max-file needs max-size. */
static int log_check(const struct engine_create_opts *o, struct err **err)
{
	if (o->log_max_file > 1 && !o->log_max_size)
		return err_set(err, EINVAL, "max-file cannot be set without max-size");
	return 0;
}

/* What do_create does with the request it parsed. */
enum create_mode { MODE_CREATE, MODE_RUN, MODE_CHECK };

static int do_create(struct cli_ctx *ctx, int argc, char **argv, enum create_mode mode)
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
	    {"memory", required_argument, NULL, 'm'},
	    {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
	    {"memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION},
	    {"cpus", required_argument, NULL, OPT_CPUS},
	    {"cpu-shares", required_argument, NULL, 'c'},
	    {"cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS},
	    {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
	    {"ulimit", required_argument, NULL, OPT_ULIMIT},
	    {"oom-score-adj", required_argument, NULL, OPT_OOM_SCORE_ADJ},
	    {"shm-size", required_argument, NULL, OPT_SHM_SIZE},
	    {"volume", required_argument, NULL, 'v'},
	    {"mount", required_argument, NULL, OPT_MOUNT},
	    {"tmpfs", required_argument, NULL, OPT_TMPFS},
	    {"volumes-from", required_argument, NULL, OPT_VOLUMES_FROM},
	    {"ip", required_argument, NULL, OPT_IP},
	    {"network-alias", required_argument, NULL, OPT_NETWORK_ALIAS},
	    {"alias", required_argument, NULL, OPT_NETWORK_ALIAS},
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"dns-search", required_argument, NULL, OPT_DNS_SEARCH},
	    {"dns-option", required_argument, NULL, OPT_DNS_OPTION},
	    {"dns-opt", required_argument, NULL, OPT_DNS_OPTION},
	    {"add-host", required_argument, NULL, OPT_ADD_HOST},
	    {"publish", required_argument, NULL, 'p'},
	    {"publish-all", no_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0},
	};
	struct engine_create_opts o = {.stop_timeout = -1};
	__attribute__((cleanup(engine_netreq_free))) struct engine_netreq nq = {0};
	size_t n_alias = 0, n_dns = 0, n_search = 0, n_dnsopt = 0, n_hosts = 0, n_pub = 0;
	const bool run = mode != MODE_CREATE;
	struct engine_ctx ec;
	struct err *err = NULL;
	_cleanup_free_ char **env = NULL, **cap_add = NULL, **cap_drop = NULL;
	_cleanup_strv_ char **file_env = NULL, **labels = NULL;
	char **all_env = NULL;
	size_t ne = 0, na = 0, nd = 0;
	bool detach = false;
	char id[SHA256_HEX_LEN + 1];
	size_t n_from = 0;
	__attribute__((cleanup(mount_opts_free))) struct engine_mount_opts mounts = {0};
	int c, r;

	cli_engine_ctx(ctx, &ec);
	opterr = 0;
	optind = 1;
	while (
	    (c = getopt_long(argc, argv, run ? "+dite:w:u:h:l:m:c:v:p:P" : "+ite:w:u:h:l:m:c:v:p:P",
			     longopts, NULL)) != -1) {
		switch (c) {
		case OPT_IP:
			free(nq.ip);
			if (!(nq.ip = strdup(optarg)))
				goto oom;
			break;
		case OPT_NETWORK_ALIAS:
			if (cli_strv_push_dup(&nq.aliases, &n_alias, optarg) < 0)
				goto oom;
			break;
		case OPT_DNS:
			if (cli_strv_push_dup(&nq.dns, &n_dns, optarg) < 0)
				goto oom;
			break;
		case OPT_DNS_SEARCH:
			if (cli_strv_push_dup(&nq.dns_search, &n_search, optarg) < 0)
				goto oom;
			break;
		case OPT_DNS_OPTION:
			if (cli_strv_push_dup(&nq.dns_options, &n_dnsopt, optarg) < 0)
				goto oom;
			break;
		case OPT_ADD_HOST:
			if (cli_strv_push_dup(&nq.add_hosts, &n_hosts, optarg) < 0)
				goto oom;
			break;
		case 'p':
			if (cli_strv_push_dup(&nq.publish, &n_pub, optarg) < 0)
				goto oom;
			break;
		case 'P':
			nq.publish_all = true;
			break;
		case 'v':
		case OPT_MOUNT:
		case OPT_TMPFS:
		case OPT_VOLUMES_FROM:
			if (mount_flag(c, optarg, &mounts, &n_from, &err) < 0)
				return cli_fail(&err);
			break;
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
			if (!optarg[0]) {
				err_set(&err, EINVAL, "invalid --network \"\"");
				return cli_fail(&err);
			}
			o.network = optarg;
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
		case 'm':
		case 'c':
		case OPT_MEMORY_SWAP:
		case OPT_MEMORY_RESERVATION:
		case OPT_CPUS:
		case OPT_CPUSET_CPUS:
		case OPT_PIDS_LIMIT:
		case OPT_ULIMIT:
		case OPT_OOM_SCORE_ADJ:
		case OPT_SHM_SIZE:
			if (limit_flag(&o.limits, c, optarg, &err) < 0)
				return cli_fail(&err);
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
	o.mounts = mounts;
	o.netreq = nq;
	if (mode == MODE_CHECK) {
		/* `moat policy check`: everything create decides, nothing made. */
		o.dry_run = true;
		r = engine_create(&ec, &o, id, &err);
		free(all_env);
		if (r == -EPERM) {
			printf("denied: %s\n", err->msg);
			err_free(&err);
			return 1;
		}
		if (r < 0)
			return cli_fail(&err);
		printf("allowed\n");
		return 0;
	}
	if (mode == MODE_RUN)
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
	return do_create(ctx, argc, argv, MODE_RUN);
}

int cmd_create(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_create(ctx, argc, argv, MODE_CREATE);
}

int cli_run_check(struct cli_ctx *ctx, int argc, char **argv)
{
	return do_create(ctx, argc, argv, MODE_CHECK);
}
