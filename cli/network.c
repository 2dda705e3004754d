/*
 * cli/network.c - `moat network create|ls|inspect|rm|prune`: Docker's
 * network commands (flags, output, exit statuses) over engine/networks.h.
 *
 * Runs as: the invoking user or root, in the CLI process. Which drivers a
 * caller may use is the engine's and the driver's business (a root_only
 * driver is refused to a rootless caller with the reason).
 *
 * Invariants:
 *  - create, rm and prune open the audit log before they touch anything
 *    (fail-closed: no log, no change) and record what happened, or why
 *    nothing did: "network.create", "network.remove" (one record per
 *    name) and "network.prune", with the names, ids and drivers;
 *  - the flags are all checked (labels, options, filters, templates)
 *    before the log is opened or anything is listed, so a refused
 *    invocation changes nothing and records nothing;
 *  - without -f, prune removes nothing unless stdin answers "y" (read
 *    even when it is not a terminal, as Docker does);
 *  - names and refs reach the engine as given; the engine checks them
 *    before they name anything. What comes back from the engine passed
 *    the record decoder, so the table prints it raw; labels go into JSON
 *    through jansson, which escapes them.
 *
 * Exit statuses, as Docker's CLI gives them: 125 for what its flag parser
 * refuses (unknown flag, a --filter or --label without a key, the wrong
 * number of arguments) and when moat itself cannot work (audit log); 1
 * for what Docker's daemon refuses (an invalid or taken name, an unknown
 * driver or option, an overlapping pool, a network in use or missing, an
 * unknown `ls` filter, a template that fails).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "engine/format.h"
#include "engine/inspect.h"
#include "engine/lifecycle.h"
#include "engine/networks.h"
#include "engine/prune.h"

#define LS_DEFAULT "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
#define LS_QUIET "{{.ID}}"
#define SHORT_ID 12

/* ---- small helpers ---- */

static bool builtin(const struct net_network *n)
{
	return !strcmp(n->name, "none") || !strcmp(n->name, "host") ||
	       !strcmp(n->name, ENGINE_NETWORK_DEFAULT);
}

/* An audit record of EVENT for network NAME (ID and DRIVER may be NULL). */
static struct audit_event *net_event(const char *event, const char *name, const char *id,
				     const char *driver)
{
	struct audit_event *e = audit_event_new(event);

	if (e && name)
		audit_event_str(e, "name", name);
	if (e && id && *id)
		audit_event_str(e, "id", id);
	if (e && driver && *driver)
		audit_event_str(e, "driver", driver);
	return e;
}

/* set_new takes V even when it fails; a NULL V is an allocation failure. */
static int put(json_t *o, const char *key, json_t *v)
{
	return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *ipam_json(const struct net_network *n)
{
	_cleanup_json_ json_t *o = json_object(), *cfg = json_array(), *pool = NULL;
	char s[NET_CIDR_TEXT_MAX], a[NET_ADDR_TEXT_MAX];

	if (!o || !cfg || put(o, "Driver", json_string("default")) < 0 ||
	    put(o, "Options", json_object()) < 0)
		return NULL;
	if (n->has_pool) {
		bool whole = n->pool.range.bits == n->pool.subnet.bits &&
			     net_addr_equal(&n->pool.range.addr, &n->pool.subnet.addr);

		if (!(pool = json_object()))
			return NULL;
		net_cidr_format(&n->pool.subnet, s);
		if (put(pool, "Subnet", json_string(s)) < 0)
			return NULL;
		net_cidr_format(&n->pool.range, s);
		if (!whole && put(pool, "IPRange", json_string(s)) < 0)
			return NULL;
		net_addr_format(&n->pool.gateway, a);
		if (n->pool.has_gateway && put(pool, "Gateway", json_string(a)) < 0)
			return NULL;
		if (json_array_append_new(cfg, steal_ptr(pool)) < 0)
			return NULL;
	}
	if (put(o, "Config", steal_ptr(cfg)) < 0)
		return NULL;
	return steal_ptr(o);
}

/* Docker's `network inspect` object, its keys in the API type's order.
 * Containers is left empty here: the endpoints are the runtime's. */
static int network_json(const struct net_network *n, json_t **out, struct err **err)
{
	_cleanup_json_ json_t *o = json_object(), *from = json_object();
	char created[INSPECT_TIME_MAX];

	engine_inspect_time(n->created, created);
	if (!o || !from || put(from, "Network", json_string("")) < 0 ||
	    put(o, "Name", json_string(n->name)) < 0 || put(o, "Id", json_string(n->id)) < 0 ||
	    put(o, "Created", json_string(created)) < 0 ||
	    put(o, "Scope", json_string("local")) < 0 ||
	    put(o, "Driver", json_string(n->driver)) < 0 ||
	    put(o, "EnableIPv6", json_false()) < 0 || put(o, "IPAM", ipam_json(n)) < 0 ||
	    put(o, "Internal", json_boolean(n->internal)) < 0 ||
	    put(o, "Attachable", json_false()) < 0 || put(o, "Ingress", json_false()) < 0 ||
	    put(o, "ConfigFrom", steal_ptr(from)) < 0 || put(o, "ConfigOnly", json_false()) < 0 ||
	    put(o, "Containers", json_object()) < 0 ||
	    put(o, "Options", cli_kv_json(n->options)) < 0 ||
	    put(o, "Labels", cli_kv_json(n->labels)) < 0)
		return err_errno(err, ENOMEM, "network %s", n->name);
	*out = steal_ptr(o);
	return 0;
}

/* ---- create ---- */

static int cmd_network_create(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_SUBNET = 256, OPT_GATEWAY, OPT_IP_RANGE, OPT_INTERNAL, OPT_LABEL };
	static const struct option opts[] = {
	    {"driver", required_argument, NULL, 'd'},
	    {"opt", required_argument, NULL, 'o'},
	    {"subnet", required_argument, NULL, OPT_SUBNET},
	    {"gateway", required_argument, NULL, OPT_GATEWAY},
	    {"ip-range", required_argument, NULL, OPT_IP_RANGE},
	    {"internal", no_argument, NULL, OPT_INTERNAL},
	    {"label", required_argument, NULL, OPT_LABEL},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_strv_ char **labels = NULL, **options = NULL;
	struct engine_network_create_opts o = {0};
	struct engine_ctx ec;
	struct audit_log *alog = NULL;
	struct audit_event *ev;
	struct net_network n = {0};
	struct err *err = NULL;
	const char *subnet = NULL, *gateway = NULL, *range = NULL;
	size_t nl = 0, no = 0;
	int c, ret, nsub = 0, ngw = 0, nrange = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.driver = optarg;
			break;
		case 'o':
			if (cli_kv_put(&options, &no, "-o, --opt", optarg, &err) < 0)
				return cli_fail(&err);
			break;
		case OPT_LABEL:
			if (cli_kv_put(&labels, &nl, "--label", optarg, &err) < 0)
				return cli_fail(&err);
			break;
		case OPT_SUBNET:
			subnet = optarg;
			nsub++;
			break;
		case OPT_GATEWAY:
			gateway = optarg;
			ngw++;
			break;
		case OPT_IP_RANGE:
			range = optarg;
			nrange++;
			break;
		case OPT_INTERNAL:
			o.internal = true;
			break;
		case 'h':
			printf(
			    "Usage: moat network create [OPTIONS] NETWORK\n\nCreate a network\n\n"
			    "Options:\n"
			    "  -d, --driver string    Driver to manage the Network (default "
			    "\"bridge\")\n"
			    "      --gateway string   IPv4 Gateway for the master subnet\n"
			    "      --internal         Restrict external access to the network\n"
			    "      --ip-range string  Allocate container ip from a sub-range\n"
			    "      --label list       Set metadata on a network\n"
			    "  -o, --opt map          Set driver specific options (default "
			    "map[])\n"
			    "      --subnet string    Subnet in CIDR format that represents a "
			    "network segment\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 1) {
		err_set(&err, EINVAL, "\"network create\" requires exactly 1 argument");
		return cli_fail(&err);
	}
	/* Docker takes several pools; moat's networks have one. */
	if (nsub > 1 || ngw > 1 || nrange > 1) {
		err_set(&err, EINVAL,
			"a moat network has one subnet: --subnet, --gateway and --ip-range may "
			"each be given once");
		err->exit = 1;
		return cli_fail(&err);
	}
	o.name = argv[optind];
	o.subnet = subnet;
	o.gateway = gateway;
	o.ip_range = range;
	o.labels = labels;
	o.options = options;
	cli_engine_ctx(ctx, &ec);
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	if (engine_network_create(&ec, NULL, &o, &n, &err) < 0) {
		cli_audit_finish(alog,
				 net_event("network.create", o.name, NULL,
					   o.driver && *o.driver ? o.driver : "bridge"),
				 err);
		return cli_fail_daemon(&err);
	}
	printf("%s\n", n.id);
	fflush(stdout);
	ev = net_event("network.create", n.name, n.id, n.driver);
	if (ev && n.has_pool) {
		char s[NET_CIDR_TEXT_MAX];

		net_cidr_format(&n.pool.subnet, s);
		audit_event_str(ev, "subnet", s);
	}
	if (ev)
		audit_event_bool(ev, "internal", n.internal);
	ret = cli_audit_finish(alog, ev, NULL);
	net_network_clear(&n);
	return ret;
}

/* ---- ls ---- */

/* `network ls --filter`: Docker's network list filters. */
struct ls_filter {
	char **names;	       /* any of them (a part of the name) */
	char **ids;	       /* any of them (a part of the id) */
	char **drivers;	       /* any of them (exact) */
	int type;	       /* -1: any; 0: custom; 1: builtin */
	int scope;	       /* -1: any; 0: local (anything else matches nothing) */
	struct prune_filter l; /* label=K, label=K=V: all of them */
	bool has_labels;
};

static void ls_filter_clear(struct ls_filter *f)
{
	strvfree(f->names);
	strvfree(f->ids);
	strvfree(f->drivers);
	prune_filter_clear(&f->l);
}

/*
 * The N SPECS ("KEY=VALUE", '=' checked by the flag parser) as docker/cli
 * splits them (key lower-cased, both trimmed) and as the daemon checks
 * them: every key known first ("invalid filter 'KEY'"), then the values.
 * name and id match a part (Docker matches them as regular expressions;
 * a plain word is the same); type is custom or builtin; label goes
 * through engine/prune.h's label matcher.
 */
static int ls_filter_parse(char **specs, size_t n, struct ls_filter *f, struct err **err)
{
	static const char *const known[] = {"name", "id", "driver", "label", "type", "scope", NULL};
	_cleanup_strv_ char **keys = NULL, **vals = NULL, **labels = NULL;
	size_t nn = 0, ni = 0, nd = 0, nl = 0;
	int ret;

	memset(f, 0, sizeof(*f));
	f->type = f->scope = -1;
	if ((ret = cli_filter_split(specs, n, known, &keys, &vals, err)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		int r = 0;

		if (!strcmp(keys[i], "name")) {
			r = cli_strv_push_dup(&f->names, &nn, vals[i]);
		} else if (!strcmp(keys[i], "id")) {
			r = cli_strv_push_dup(&f->ids, &ni, vals[i]);
		} else if (!strcmp(keys[i], "driver")) {
			r = cli_strv_push_dup(&f->drivers, &nd, vals[i]);
		} else if (!strcmp(keys[i], "type")) {
			int t = !strcmp(vals[i], "custom")    ? 0
				: !strcmp(vals[i], "builtin") ? 1
							      : -1;

			if (t < 0 || (f->type >= 0 && f->type != t)) {
				ls_filter_clear(f);
				return err_set(err, EINVAL, "invalid filter: 'type'='%s'", vals[i]);
			}
			f->type = t;
		} else if (!strcmp(keys[i], "scope")) {
			if (strcmp(vals[i], "local") && strcmp(vals[i], "swarm") &&
			    strcmp(vals[i], "global")) {
				ls_filter_clear(f);
				return err_set(err, EINVAL, "invalid filter: 'scope'='%s'",
					       vals[i]);
			}
			/* moat's networks are all local: swarm or global match none */
			f->scope = f->scope == 1 || strcmp(vals[i], "local") ? 1 : 0;
		} else {
			_cleanup_free_ char *spec = NULL;

			if (asprintf(&spec, "label=%s", vals[i]) < 0 ||
			    cli_strv_push_dup(&labels, &nl, spec) < 0)
				r = -ENOMEM;
		}
		if (r < 0) {
			ls_filter_clear(f);
			return err_errno(err, ENOMEM, "filter");
		}
	}
	if (nl) {
		struct prune_clock clk = {0}; /* label filters read no clock */

		if (prune_filter_parse(labels, nl, PRUNE_CONTAINERS, false, &clk, &f->l, err) < 0) {
			ls_filter_clear(f);
			return err_ret(*err);
		}
		f->has_labels = true;
	}
	return 0;
}

static bool any_part(char *const *v, const char *s)
{
	for (; *v; v++)
		if (strstr(s, *v))
			return true;
	return false;
}

static bool ls_filter_match(const struct ls_filter *f, const struct net_network *n)
{
	bool any = false;

	if (f->names && !any_part(f->names, n->name))
		return false;
	if (f->ids && !any_part(f->ids, n->id))
		return false;
	if (f->drivers) {
		for (char **d = f->drivers; *d && !any; d++)
			any = !strcmp(*d, n->driver);
		if (!any)
			return false;
	}
	if (f->type >= 0 && builtin(n) != (f->type == 1))
		return false;
	if (f->scope == 1)
		return false;
	return !f->has_labels || prune_filter_match(&f->l, n->created, n->labels);
}

static int by_name(const void *x, const void *y)
{
	const struct net_network *a = x, *b = y;
	int c = prune_natural_cmp(a->name, b->name);

	return c ? c : strcmp(a->name, b->name);
}

/* The row `network ls --format` renders (Docker's network context, keys in
 * the order its `{{json .}}` prints them). */
static int ls_row(const struct net_network *n, bool trunc, json_t **out, struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	_cleanup_free_ char *lbl = NULL;
	char created[80], id[NET_ID_HEX + 1];
	size_t len = 0, off = 0;

	for (char **l = n->labels; l && *l; l++)
		len += strlen(*l) + 1;
	if (!o || !(lbl = calloc(len + 1, 1)))
		return err_errno(err, ENOMEM, "network ls");
	for (char **l = n->labels; l && *l; l++)
		off += (size_t)sprintf(lbl + off, "%s%s", off ? "," : "", *l);
	/* Go's time.Time.String() of the creation, as Docker's CreatedAt */
	engine_inspect_time_local(n->created / 1000000000LL, created, sizeof(created));
	snprintf(id, sizeof(id), "%.*s", trunc ? SHORT_ID : NET_ID_HEX, n->id);
	if (put(o, "CreatedAt", json_string(created)) < 0 ||
	    put(o, "Driver", json_string(n->driver)) < 0 || put(o, "ID", json_string(id)) < 0 ||
	    put(o, "IPv6", json_string("false")) < 0 ||
	    put(o, "Internal", json_string(n->internal ? "true" : "false")) < 0 ||
	    put(o, "Labels", json_string(lbl)) < 0 || put(o, "Name", json_string(n->name)) < 0 ||
	    put(o, "Scope", json_string("local")) < 0)
		return err_errno(err, ENOMEM, "network ls");
	*out = steal_ptr(o);
	return 0;
}

/* Docker's column headers of the network fields. */
static const char *ls_header(const char *field)
{
	static const char *const h[][2] = {
	    {"ID", "NETWORK ID"}, {"Name", "NAME"},
	    {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
	    {"IPv6", "IPV6"},	  {"Internal", "INTERNAL"},
	    {"Labels", "LABELS"}, {"CreatedAt", "CREATED AT"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(h); i++)
		if (!strcmp(field, h[i][0]))
			return h[i][1];
	return NULL;
}

static int ls_print(struct cli_ctx *ctx, const struct fmt_template *t, const struct ls_filter *f,
		    bool trunc, struct err **err)
{
	struct engine_ctx ec;
	struct net_network *v = NULL;
	char **lines = NULL;
	size_t n = 0, k = 0;
	bool table = fmt_template_is_table(t);
	int r;

	cli_engine_ctx(ctx, &ec);
	if ((r = engine_network_list(&ec, &v, &n, err)) < 0)
		return r;
	if (n > 1)
		qsort(v, n, sizeof(*v), by_name);
	if (!(lines = calloc(n + 2, sizeof(*lines)))) {
		r = err_errno(err, ENOMEM, "network ls");
		goto out;
	}
	if (table && (r = fmt_template_to_string(t, NULL, ls_header, &lines[k++], err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *row = NULL;

		if (!ls_filter_match(f, &v[i]))
			continue;
		if ((r = ls_row(&v[i], trunc, &row, err)) < 0 ||
		    (r = cli_ls_row(t, row, &lines[k], err)) < 0)
			goto out;
		k++;
	}
	r = cli_ls_write(t, lines, k, err);
out:
	for (size_t i = 0; lines && i < n + 2; i++)
		free(lines[i]);
	free(lines);
	net_network_list_free(v, n);
	return r;
}

static int cmd_network_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_NO_TRUNC = 256, OPT_FORMAT };
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"filter", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ char **specs = calloc((size_t)argc + 1, sizeof(char *));
	struct fmt_template *t = NULL;
	struct ls_filter f;
	struct err *err = NULL;
	const char *format = NULL;
	size_t nspecs = 0;
	bool quiet = false, trunc = true;
	int c, r;

	if (!specs) {
		err_errno(&err, ENOMEM, "network ls");
		return cli_fail(&err);
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qf:", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
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
			specs[nspecs++] = optarg;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_NO_TRUNC:
			trunc = false;
			break;
		case 'h':
			printf("Usage: moat network ls [OPTIONS]\n\nList networks\n\nAliases:\n"
			       "  ls, list\n\nOptions:\n"
			       "  -f, --filter filter   Provide filter values (e.g. "
			       "\"driver=bridge\")\n"
			       "      --format string   Format output using a custom template\n"
			       "      --no-trunc        Do not truncate the output\n"
			       "  -q, --quiet           Only display network IDs\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"network ls\" accepts no arguments");
		return cli_fail(&err);
	}
	if (ls_filter_parse(specs, nspecs, &f, &err) < 0)
		return cli_fail_daemon(&err);
	if (cli_ls_template(format, quiet, LS_DEFAULT, LS_QUIET, &t, &err) < 0) {
		ls_filter_clear(&f);
		return cli_fail(&err);
	}
	r = ls_print(ctx, t, &f, trunc, &err);
	fmt_template_free(t);
	ls_filter_clear(&f);
	return r < 0 ? cli_fail(&err) : 0;
}

/* ---- inspect ---- */

/*
 * Like `moat volume inspect`: the networks found are printed ("[]" when
 * none), then one "No such network: X" line per missing name, and the
 * status is 1. A template is rendered for every object before anything
 * is printed, so one that fails prints nothing.
 */
static int cmd_network_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_json_ json_t *all = json_array();
	_cleanup_free_ char **missing = calloc((size_t)argc + 1, sizeof(char *));
	struct fmt_template *t = NULL;
	struct engine_ctx ec;
	struct err *err = NULL;
	const char *format = NULL;
	size_t nmissing = 0;
	int c, r = 0, status = 0;

	if (!all || !missing) {
		err_errno(&err, ENOMEM, "network inspect");
		return cli_fail(&err);
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'h':
			printf("Usage: moat network inspect [OPTIONS] NETWORK [NETWORK...]\n\n"
			       "Display detailed information on one or more networks\n\nOptions:\n"
			       "  -f, --format string   Format output using a custom template\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"network inspect\" requires at least 1 argument");
		return cli_fail(&err);
	}
	if (cli_inspect_template(format, &t, &err) < 0)
		return cli_fail(&err);
	cli_engine_ctx(ctx, &ec);
	for (int i = optind; i < argc; i++) {
		struct net_network n = {0};
		json_t *obj = NULL;

		r = engine_network_inspect(&ec, argv[i], &n, &err);
		if (r == -ENOENT) {
			err_free(&err);
			missing[nmissing++] = argv[i];
			continue;
		}
		if (r == 0) {
			r = network_json(&n, &obj, &err);
			net_network_clear(&n);
		}
		if (r == 0 && json_array_append_new(all, obj) < 0)
			r = err_errno(&err, ENOMEM, "network inspect");
		if (r < 0) {
			/* an ambiguous prefix, a state that cannot be read */
			fprintf(stderr, "moat: %s\n", err ? err->msg : "network inspect failed");
			err_free(&err);
			status = 1;
		}
	}
	if (cli_inspect_print(t, all, "network inspect", &err) < 0) {
		r = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < nmissing; i++)
		fprintf(stderr, "moat: No such network: %s\n", missing[i]);
	r = nmissing || status ? 1 : 0;
out:
	fmt_template_free(t);
	return r;
}

/* ---- rm ---- */

static int cmd_network_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct engine_ctx ec;
	struct err *err = NULL;
	bool force = false;
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			printf("Usage: moat network rm NETWORK [NETWORK...]\n\n"
			       "Remove one or more networks\n\nAliases:\n  rm, remove\n\nOptions:\n"
			       "  -f, --force   Do not error if the network does not exist\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"network rm\" requires at least 1 argument");
		return cli_fail(&err);
	}
	cli_engine_ctx(ctx, &ec);
	/* Docker goes on past a network it cannot remove; each name is one
	 * record, on its own handle, opened before that name is touched. */
	for (int i = optind; i < argc; i++) {
		struct audit_log *alog = NULL;
		struct net_network n = {0}, known = {0};

		if (cli_audit_begin(ctx, &alog, &err) < 0)
			return cli_fail(&err);
		/* what the name is now, for the record of a refusal */
		if (engine_network_inspect(&ec, argv[i], &known, NULL) < 0)
			memset(&known, 0, sizeof(known));
		if (engine_network_remove(&ec, NULL, argv[i], force, &n, &err) < 0) {
			cli_audit_finish(
			    alog, net_event("network.remove", argv[i], known.id, known.driver),
			    err);
			fprintf(stderr, "moat: %s\n", err->msg);
			err_free(&err);
			net_network_clear(&known);
			ret = ret ? ret : 1;
			continue;
		}
		net_network_clear(&known);
		/* -f and nothing there: nothing said (Docker), but recorded */
		if (n.id[0]) {
			printf("%s\n", argv[i]);
			fflush(stdout);
		}
		if (cli_audit_finish(alog, net_event("network.remove", argv[i], n.id, n.driver),
				     NULL))
			ret = 125;
		net_network_clear(&n);
	}
	return ret;
}

/* ---- prune ---- */

static int cmd_network_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_strv_ char **removed = NULL;
	struct cli_prune_flags pf;
	struct audit_log *alog = NULL;
	struct audit_event *ev;
	struct engine_ctx ec;
	struct prune_filter f;
	struct prune_clock clk;
	struct err *err = NULL;
	int ret;

	if (!cli_prune_flags(argc, argv, "network prune", 0,
			     "Usage: moat network prune [OPTIONS]\n\nRemove all unused networks\n\n"
			     "Options:\n"
			     "      --filter filter   Provide filter values (e.g. "
			     "\"until=<timestamp>\")\n"
			     "  -f, --force           Do not prompt for confirmation\n",
			     &pf, &ret))
		return ret;
	/* Networks take the containers' filters: until, label, label!. */
	cli_prune_clock(&clk);
	ret = prune_filter_parse(pf.specs, pf.nspecs, PRUNE_CONTAINERS, false, &clk, &f, &err);
	free(pf.specs);
	if (ret < 0)
		return cli_fail(&err);
	if (!pf.force) {
		printf("WARNING! This will remove all custom networks not used by at least one "
		       "container.\n");
		if (!cli_confirm()) {
			prune_filter_clear(&f);
			return 0;
		}
	}
	cli_engine_ctx(ctx, &ec);
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		prune_filter_clear(&f);
		return cli_fail(&err);
	}
	ret = engine_network_prune(&ec, NULL, &f, &removed, &err);
	prune_filter_clear(&f);
	if (ret < 0) {
		cli_audit_outcome(alog, "network.prune", "names", NULL, NULL, NULL, err);
		return cli_fail(&err);
	}
	cli_print_deleted("Networks", removed);
	fflush(stdout);
	ev = audit_event_new("network.prune");
	if (ev)
		audit_event_strv(ev, "names", removed);
	return cli_audit_finish(alog, ev, NULL);
}

/* ---- the group ---- */

static const struct {
	const char *name;
	int (*fn)(struct cli_ctx *, int, char **);
	const char *help;
} network_verbs[] = {
    {"create", cmd_network_create, "Create a network"},
    {"inspect", cmd_network_inspect, "Display detailed information on one or more networks"},
    {"ls", cmd_network_ls, "List networks"},
    {"list", cmd_network_ls, NULL},
    {"prune", cmd_network_prune, "Remove all unused networks"},
    {"rm", cmd_network_rm, "Remove one or more networks"},
    {"remove", cmd_network_rm, NULL},
};

int cmd_network(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		printf("Usage: moat network COMMAND\n\nManage networks\n\nCommands:\n");
		for (size_t i = 0; i < ARRAY_SIZE(network_verbs); i++)
			if (network_verbs[i].help)
				printf("  %-11s %s\n", network_verbs[i].name,
				       network_verbs[i].help);
		printf("\nRun 'moat network COMMAND --help' for more information on a command.\n");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(network_verbs); i++)
		if (!strcmp(argv[1], network_verbs[i].name))
			return network_verbs[i].fn(ctx, argc - 1, argv + 1);
	err_set(&err, EINVAL, "'network %s' is not a moat command (see 'moat network --help')",
		argv[1]);
	err->exit = 1;
	return cli_fail(&err);
}
