/*
 * cli/containers.c - `moat ps` with Docker's flags (-a, -q, -n, -l,
 * --no-trunc, -s, --filter, --format) and `moat container SUBCOMMAND`: the
 * management group (ls, inspect, prune, and the lifecycle verbs as
 * aliases).
 *
 * Runs as: the invoking user or root. Container fields come from records
 * under ROOT, written by moat itself; what a user typed (command, labels,
 * names) is rendered through engine/inspect.c, which quotes or escapes it.
 *
 * Exit statuses, as Docker's CLI gives them: 125 for what the flag parser
 * refuses (unknown flag, -n that is not a number, a --filter without "=");
 * 1 for what Docker's daemon or template engine refuses (an unknown filter
 * key or a bad value, a template that does not parse or fails to render).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "engine/format.h"
#include "engine/inspect.h"
#include "engine/netrun.h"
#include "engine/lifecycle.h"
#include "engine/options.h"
#include "image/image.h"

#define PS_DEFAULT                                                                            \
	"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t" \
	"{{.Names}}"

static void store_closep(struct image_store **s)
{
	image_store_close(*s);
}
#define _cleanup_store_ __attribute__((cleanup(store_closep)))

/* Every image the store has (for sizes); none when it cannot be read. */
static void images_list(struct cli_ctx *ctx, struct image ***v, size_t *n)
{
	_cleanup_store_ struct image_store *s = NULL;
	struct err *e = NULL;

	*v = NULL;
	*n = 0;
	if (engine_store_open(ctx->root, ctx->rootless, ctx->uid, ctx->gid, NULL, &s, &e) < 0 ||
	    image_store_list(s, v, n, &e) < 0)
		err_free(&e);
}

static void images_free(struct image **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		image_free(v[i]);
	free(v);
}

/* Docker's column headers of the ps fields. */
static const char *ps_header(const char *field)
{
	static const char *const h[][2] = {
	    {"ID", "CONTAINER ID"},    {"Image", "IMAGE"},
	    {"Command", "COMMAND"},    {"CreatedAt", "CREATED AT"},
	    {"RunningFor", "CREATED"}, {"Ports", "PORTS"},
	    {"State", "STATE"},	       {"Status", "STATUS"},
	    {"Size", "SIZE"},	       {"Names", "NAMES"},
	    {"Labels", "LABELS"},      {"Mounts", "MOUNTS"},
	    {"Networks", "NETWORKS"},  {"LocalVolumes", "LOCAL VOLUMES"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(h); i++)
		if (!strcmp(field, h[i][0]))
			return h[i][1];
	return NULL;
}

struct ps_opts {
	bool all, quiet, trunc, size;
	long last; /* <= 0: no limit */
	char **filters;
	size_t nfilters;
	const char *format;
};

/* The template: -q wins over --format (Docker's NewContainerFormat), but a
 * --format is parsed anyway so a broken one is always reported. */
static int ps_template(const struct ps_opts *o, struct fmt_template **t, struct err **err)
{
	_cleanup_free_ char *un = NULL;
	struct fmt_template *user = NULL;
	const char *def = o->size ? PS_DEFAULT "\t{{.Size}}" : PS_DEFAULT;
	int r;

	*t = NULL;
	if (o->format && !fmt_template_default_table(o->format) && strcmp(o->format, "json")) {
		un = fmt_unescape(o->format);
		if (!un)
			return err_errno(err, ENOMEM, "--format");
		if ((r = fmt_template_parse(un, &user, err)) < 0) {
			err_prefix(err, "failed to parse template");
			(*err)->exit = 1;
			return r;
		}
	}
	if (o->quiet) {
		fmt_template_free(user);
		return fmt_template_parse("{{.ID}}", t, err);
	}
	if (user) {
		*t = user;
		return 0;
	}
	if (o->format && !strcmp(o->format, "json"))
		return fmt_template_parse("{{json .}}", t, err);
	/* nothing, "table", or a format that parsed to "use the default" */
	return fmt_template_parse(def, t, err);
}

/* Does any --filter name the status key? (Docker's daemon then lists
 * stopped containers too, as -a does.) */
static bool has_status_filter(const struct ps_opts *o)
{
	for (size_t i = 0; i < o->nfilters; i++) {
		const char *s = o->filters[i], *eq = strchr(s, '=');
		size_t n;

		while (*s == ' ' || *s == '\t')
			s++;
		n = eq ? (size_t)(eq - s) : 0;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == 6 && !strncasecmp(s, "status", 6))
			return true;
	}
	return false;
}

static int ps_print(struct cli_ctx *ctx, const struct ps_opts *o, const struct fmt_template *t,
		    const struct ps_filter *f, struct err **err)
{
	struct container_entry *v = NULL;
	struct image **imgs = NULL;
	char **lines = NULL;
	size_t n = 0, nimgs = 0, k = 0, shown = 0;
	bool table = fmt_template_is_table(t);
	bool stopped_too = o->all || o->last > 0 || has_status_filter(o);
	int r;

	{
		/* What dead monitors left (plugin volumes still mounted, --rm
		 * containers) is cleaned before it is listed. */
		struct engine_ctx ec;

		cli_engine_ctx(ctx, &ec);
		engine_reconcile(&ec);
	}
	if ((r = engine_container_list(ctx->root, ctx->runroot, &v, &n, err)) < 0)
		return r;
	if (o->size)
		images_list(ctx, &imgs, &nimgs);
	lines = calloc(n + 1, sizeof(*lines));
	if (!lines) {
		r = err_errno(err, ENOMEM, "ps");
		goto out;
	}
	if (table && (r = fmt_template_to_string(t, NULL, ps_header, &lines[k++], err)) < 0)
		goto out;
	/* newest first; -n counts what the filters let through */
	for (size_t i = 0; i < n && (o->last <= 0 || shown < (size_t)o->last); i++) {
		struct container_record *rec = &v[i].rec;
		enum ctr_state st = v[i].state;
		bool up = st == CTR_RUNNING || st == CTR_PAUSED || st == CTR_RESTARTING;
		struct ps_item it = {
		    .id = rec->id,
		    .name = rec->name,
		    .image = rec->image,
		    .image_id = rec->image_id,
		    .labels = rec->labels ? rec->labels : (char *[]){NULL},
		    .state = st,
		    .exit_code = engine_inspect_exit_code(rec, st),
		};
		struct inspect_env env = {
		    .root = ctx->root,
		    .runroot = ctx->runroot,
		    .now = (int64_t)time(NULL),
		    .size_rw = -1,
		    .size_rootfs = -1,
		};
		json_t *row = NULL;
		struct engine_net_state net = {0};

		if ((!up && !stopped_too) || !ps_filter_match(f, &it))
			continue;
		shown++;
		if (up) {
			struct err *ne = NULL;
			char rdir[4200];

			snprintf(rdir, sizeof(rdir), "%s/containers/%s", ctx->runroot, rec->id);
			if (engine_netrun_state(rdir, &net, &ne) == 0)
				env.net = &net;
			err_free(&ne);
		}
		if (o->size)
			engine_inspect_sizes(ctx->root, rec, imgs, nimgs, &env.size_rw,
					     &env.size_rootfs);
		r = engine_inspect_ps_row(rec, st, &env, o->trunc, &row, err);
		engine_net_state_free(&net);
		if (r < 0 || (r = cli_ls_row(t, row, &lines[k], err)) < 0)
			goto out;
		k++;
	}
	r = cli_ls_write(t, lines, k, err);
out:
	for (size_t i = 0; lines && i < n + 1; i++)
		free(lines[i]);
	free(lines);
	images_free(imgs, nimgs);
	engine_container_list_free(v, n);
	return r;
}

int cmd_ps(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},	      {"quiet", no_argument, NULL, 'q'},
	    {"last", required_argument, NULL, 'n'},   {"latest", no_argument, NULL, 'l'},
	    {"no-trunc", no_argument, NULL, 'T'},     {"size", no_argument, NULL, 's'},
	    {"filter", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct ps_opts o = {.trunc = true};
	_cleanup_free_ char **filters = calloc((size_t)argc + 1, sizeof(char *));
	struct fmt_template *t = NULL;
	struct ps_filter *f = NULL;
	struct err *err = NULL;
	bool latest = false;
	char *end;
	int c, r;

	if (!filters) {
		err_errno(&err, ENOMEM, "ps");
		return cli_fail(&err);
	}
	o.filters = filters;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":aqn:lsf:", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.all = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'n':
			errno = 0;
			o.last = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end) {
				err_set(
				    &err, EINVAL,
				    "invalid argument \"%s\" for \"-n, --last\" flag: not a number",
				    optarg);
				return cli_fail(&err);
			}
			break;
		case 'l':
			latest = true;
			break;
		case 'T':
			o.trunc = false;
			break;
		case 's':
			o.size = true;
			break;
		case 'f':
			if (!strchr(optarg, '=')) {
				err_set(
				    &err, EINVAL,
				    "invalid argument \"%s\" for \"-f, --filter\" flag: bad format "
				    "of filter (expected name=value)",
				    optarg);
				return cli_fail(&err);
			}
			o.filters[o.nfilters++] = optarg;
			break;
		case 'F':
			o.format = optarg;
			break;
		case 'h':
			printf(
			    "Usage: moat ps [OPTIONS]\n\nList containers\n\nOptions:\n"
			    "  -a, --all             Show all containers (default shows just "
			    "running)\n"
			    "  -f, --filter filter   Filter output based on conditions provided\n"
			    "      --format string   Format output using a custom template\n"
			    "  -n, --last int        Show n last created containers (includes all "
			    "states)\n"
			    "  -l, --latest          Show the latest created container (includes "
			    "all states)\n"
			    "      --no-trunc        Don't truncate output\n"
			    "  -q, --quiet           Only display container IDs\n"
			    "  -s, --size            Display total file sizes\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"ps\" accepts no arguments");
		return cli_fail(&err);
	}
	if (latest && o.last <= 0)
		o.last = 1;
	if (o.format && !*o.format)
		o.format = NULL; /* Docker: an empty --format is the default */
	/* Docker computes sizes when asked, or when the template shows them. */
	if (o.format && strstr(o.format, ".Size"))
		o.size = true;
	if ((r = ps_filter_parse(o.filters, o.nfilters, &f, &err)) < 0) {
		err->exit = 1;
		return cli_fail(&err);
	}
	if ((r = ps_template(&o, &t, &err)) < 0) {
		ps_filter_free(f);
		return cli_fail(&err);
	}
	r = ps_print(ctx, &o, t, f, &err);
	fmt_template_free(t);
	ps_filter_free(f);
	return r < 0 ? cli_fail(&err) : 0;
}

/* ---- container prune ---- */

struct prune_filter {
	bool has_until;
	int64_t until; /* unix ns: containers created after it stay */
	char **labels, **not_labels;
	size_t nlabels, nnot;
};

/* Go's time.ParseDuration: [-+]?(number unit)+, units ns us µs ms s m h;
 * "0" alone. Returns -EINVAL when S is not one. */
static int parse_duration(const char *s, int64_t *ns)
{
	static const struct {
		const char *u;
		double mult;
	} units[] = {{"ns", 1},	  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
		     {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},	   {"h", 3600e9}};
	bool neg = false;
	double total = 0;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		char *end;
		double v;
		size_t best = 0, bl = 0;

		if (!isdigit((unsigned char)*s) && *s != '.')
			return -EINVAL;
		v = strtod(s, &end);
		if (end == s)
			return -EINVAL;
		s = end;
		for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
			size_t l = strlen(units[i].u);
			if (!strncmp(s, units[i].u, l) && l > bl) {
				best = i;
				bl = l;
			}
		}
		if (!bl)
			return -EINVAL;
		total += v * units[best].mult;
		s += bl;
	}
	if (total > 9.2e18)
		return -ERANGE;
	*ns = (int64_t)(neg ? -total : total);
	return 0;
}

/* Docker's until=: a duration before now, a unix time ("1700000000.5"), or
 * an RFC 3339 date or time (local time when it names no zone). */
static int parse_until(const char *s, int64_t now_ns, int64_t *out)
{
	static const char *const layouts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
	int64_t d;
	char *end;

	if (parse_duration(s, &d) == 0) {
		*out = now_ns - d;
		return 0;
	}
	if (isdigit((unsigned char)*s)) {
		double v = strtod(s, &end);
		if (!*end && v < 9.2e9) {
			*out = (int64_t)(v * 1e9);
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
		struct tm tm = {0};
		const char *rest = strptime(s, layouts[i], &tm);
		long frac = 0, off = 0;
		bool utc = false;
		time_t t;

		if (!rest)
			continue;
		if (*rest == '.') {
			char digits[10] = "000000000";
			size_t k = 0;

			for (rest++; isdigit((unsigned char)*rest); rest++)
				if (k < 9)
					digits[k++] = *rest;
			if (!k)
				continue;
			frac = strtol(digits, NULL, 10);
		}
		if (*rest == 'Z' && !rest[1]) {
			utc = true;
		} else if ((*rest == '+' || *rest == '-') && strlen(rest) == 6 && rest[3] == ':' &&
			   isdigit((unsigned char)rest[1]) && isdigit((unsigned char)rest[2]) &&
			   isdigit((unsigned char)rest[4]) && isdigit((unsigned char)rest[5])) {
			off = ((rest[1] - '0') * 10 + (rest[2] - '0')) * 3600 +
			      ((rest[4] - '0') * 10 + (rest[5] - '0')) * 60;
			if (*rest == '-')
				off = -off;
			utc = true;
		} else if (*rest) {
			continue;
		}
		tm.tm_isdst = -1;
		t = utc ? timegm(&tm) - off : mktime(&tm);
		if (t == (time_t)-1)
			continue;
		*out = (int64_t)t * 1000000000 + frac;
		return 0;
	}
	return -EINVAL;
}

/* Docker's prune filters: until (once), label=K[=V], label!=K[=V]. Bad
 * keys and values are the daemon's errors: exit 1. */
static int prune_filter_parse(char **specs, size_t n, struct prune_filter *pf, struct err **err)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(specs[i], '=');
		size_t kl = (size_t)(eq - specs[i]);
		const char *val = eq + 1;

		if (kl == 5 && !strncasecmp(specs[i], "until", 5)) {
			if (pf->has_until)
				return err_set(err, EINVAL, "more than one until filter specified");
			if (parse_until(val, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec,
					&pf->until) < 0)
				return err_set(
				    err, EINVAL,
				    "invalid filter 'until=%s': failed to parse value as "
				    "time or duration",
				    val);
			pf->has_until = true;
		} else if (kl == 5 && !strncasecmp(specs[i], "label", 5)) {
			if (!*val || *val == '=')
				return err_set(err, EINVAL, "invalid filter 'label=%s'", val);
			pf->labels[pf->nlabels++] = (char *)val;
		} else if (kl == 6 && !strncasecmp(specs[i], "label!", 6)) {
			if (!*val || *val == '=')
				return err_set(err, EINVAL, "invalid filter 'label!=%s'", val);
			pf->not_labels[pf->nnot++] = (char *)val;
		} else {
			return err_set(err, EINVAL, "invalid filter '%.*s'", (int)kl, specs[i]);
		}
	}
	return 0;
}

/* Does the record have label WANT ("k" or "k=v"; the last "k=" wins)? */
static bool has_label(char *const *labels, const char *want)
{
	const char *weq = strchr(want, '=');
	size_t kl = weq ? (size_t)(weq - want) : strlen(want);
	const char *val = NULL;

	for (size_t i = 0; labels && labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		size_t l = eq ? (size_t)(eq - labels[i]) : strlen(labels[i]);

		if (l == kl && !strncmp(labels[i], want, kl))
			val = eq ? eq + 1 : "";
	}
	if (!val)
		return false;
	return !weq || !strcmp(val, weq + 1);
}

static bool prune_match(const struct prune_filter *pf, const struct container_record *r)
{
	bool all_not = pf->nnot > 0;

	if (pf->has_until && r->created > pf->until)
		return false;
	for (size_t i = 0; i < pf->nlabels; i++)
		if (!has_label(r->labels, pf->labels[i]))
			return false;
	/* Docker: excluded when every label! filter matches (MatchKVList). */
	for (size_t i = 0; i < pf->nnot; i++)
		if (!has_label(r->labels, pf->not_labels[i]))
			all_not = false;
	return !all_not;
}

static bool prune_keep(const struct container_record *r, void *arg)
{
	return prune_match(arg, r);
}

int cli_prune_stopped(struct cli_ctx *ctx,
		      bool (*match)(const struct container_record *r, void *arg), void *arg,
		      uint64_t *reclaimed)
{
	struct container_entry *v = NULL;
	struct engine_ctx ec;
	struct err *err = NULL;
	size_t n = 0;
	bool any = false;
	int status = 0;

	*reclaimed = 0;
	if (engine_container_list(ctx->root, ctx->runroot, &v, &n, &err) < 0)
		return cli_fail(&err);
	cli_engine_ctx(ctx, &ec);
	for (size_t i = 0; i < n; i++) {
		struct container_record *r = &v[i].rec;
		enum ctr_state st = v[i].state;
		char upper[4200];
		int64_t sz;

		if (st != CTR_CREATED && st != CTR_EXITED && st != CTR_DEAD)
			continue;
		if (!match(r, arg))
			continue;
		snprintf(upper, sizeof(upper), "%s/containers/%s/upper", ctx->root, r->id);
		sz = engine_inspect_dir_size(upper);
		/* Audited like `moat rm`. */
		if (engine_remove(&ec, r->id, false, true, false, &err) < 0) {
			/* started again meanwhile, or the audit log refused: say so,
			 * go on with the others, and fail at the end */
			fprintf(stderr, "moat: %s\n", err ? err->msg : "prune failed");
			err_free(&err);
			status = 1;
			continue;
		}
		if (!any)
			printf("Deleted Containers:\n");
		any = true;
		printf("%s\n", r->id);
		if (sz > 0)
			*reclaimed += (uint64_t)sz;
	}
	engine_container_list_free(v, n);
	if (any)
		printf("\n");
	fflush(stdout);
	return status;
}

static bool confirmed(void)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	char *s;

	printf("WARNING! This will remove all stopped containers.\n"
	       "Are you sure you want to continue? [y/N] ");
	fflush(stdout);
	n = getline(&line, &cap, stdin);
	if (n <= 0)
		return false;
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	return (s[0] == 'y' || s[0] == 'Y') &&
	       (!s[1] || s[1] == '\n' || s[1] == '\r' || s[1] == ' ' || s[1] == '\t');
}

static int cmd_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"filter", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ char **specs = calloc((size_t)argc + 1, sizeof(char *));
	_cleanup_free_ char **labels = calloc((size_t)argc + 1, sizeof(char *));
	_cleanup_free_ char **nots = calloc((size_t)argc + 1, sizeof(char *));
	struct prune_filter pf = {0};
	struct err *err = NULL;
	size_t nspecs = 0;
	uint64_t reclaimed = 0;
	bool force = false;
	char size[32];
	int c, status = 0;

	if (!specs || !labels || !nots) {
		err_errno(&err, ENOMEM, "prune");
		return cli_fail(&err);
	}
	pf.labels = labels;
	pf.not_labels = nots;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'F':
			if (!strchr(optarg, '=')) {
				err_set(&err, EINVAL,
					"invalid argument \"%s\" for \"--filter\" flag: bad format "
					"of filter (expected name=value)",
					optarg);
				return cli_fail(&err);
			}
			specs[nspecs++] = optarg;
			break;
		case 'h':
			printf("Usage: moat container prune [OPTIONS]\n\nRemove all stopped "
			       "containers\n\nOptions:\n"
			       "      --filter filter   Provide filter values (e.g. "
			       "\"until=<timestamp>\")\n"
			       "  -f, --force           Do not prompt for confirmation\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"container prune\" accepts no arguments");
		return cli_fail(&err);
	}
	if (prune_filter_parse(specs, nspecs, &pf, &err) < 0) {
		err->exit = 1;
		return cli_fail(&err);
	}
	if (!force && !confirmed()) {
		/* Docker's answer to a "no": nothing removed, nothing reclaimed. */
		printf("Total reclaimed space: 0B\n");
		return 0;
	}
	status = cli_prune_stopped(ctx, prune_keep, &pf, &reclaimed);
	if (status == 125)
		return status;
	engine_inspect_human_size(reclaimed, 4, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	fflush(stdout);
	return status;
}

/* ---- container ---- */

static const struct {
	const char *name;
	int (*fn)(struct cli_ctx *, int, char **);
} aliases[] = {
    {"ls", cmd_ps},	  {"list", cmd_ps},	    {"ps", cmd_ps},	  {"create", cmd_create},
    {"run", cmd_run},	  {"start", cmd_start},	    {"stop", cmd_stop},	  {"restart", cmd_restart},
    {"kill", cmd_kill},	  {"rm", cmd_rm},	    {"remove", cmd_rm},	  {"exec", cmd_exec},
    {"logs", cmd_logs},	  {"attach", cmd_attach},   {"wait", cmd_wait},	  {"rename", cmd_rename},
    {"pause", cmd_pause}, {"unpause", cmd_unpause}, {"top", cmd_top},	  {"port", cmd_port},
    {"diff", cmd_diff},	  {"stats", cmd_stats},	    {"prune", cmd_prune},
};

static void container_usage(void)
{
	printf("Usage: moat container COMMAND\n\nManage containers\n\nCommands:\n"
	       "  attach      Attach to a running container's input and output\n"
	       "  create      Create a new container\n"
	       "  diff        Inspect changes to files on a container's filesystem\n"
	       "  exec        Execute a command in a running container\n"
	       "  inspect     Display detailed information on one or more containers\n"
	       "  kill        Kill one or more running containers\n"
	       "  logs        Fetch the logs of a container\n"
	       "  ls          List containers\n"
	       "  pause       Pause all processes within one or more containers\n"
	       "  port        List port mappings of a container\n"
	       "  prune       Remove all stopped containers\n"
	       "  rename      Rename a container\n"
	       "  restart     Restart one or more containers\n"
	       "  rm          Remove one or more containers\n"
	       "  run         Create and run a new container from an image\n"
	       "  start       Start one or more stopped containers\n"
	       "  stats       Display resource usage statistics of containers\n"
	       "  stop        Stop one or more running containers\n"
	       "  top         Display the running processes of a container\n"
	       "  unpause     Unpause all processes within one or more containers\n"
	       "  wait        Block until containers stop, then print their exit codes\n");
}

int cmd_container(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		container_usage();
		return 0;
	}
	if (!strcmp(argv[1], "inspect"))
		return cli_inspect_run(ctx, argc - 1, argv + 1, true);
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (!strcmp(argv[1], aliases[i].name))
			return aliases[i].fn(ctx, argc - 1, argv + 1);
	err_set(&err, EINVAL, "'container %s' is not a moat command (see 'moat container --help')",
		argv[1]);
	err->exit = 1;
	return cli_fail(&err);
}
