/*
 * cli/volume.c - `moat volume create|ls|inspect|rm|prune`: Docker's volume
 * commands (flags, output, exit statuses) over engine/volumes.h.
 *
 * Runs as: the invoking user or root, in the CLI process. A new local
 * volume's data belongs to the container root of the caller's default
 * identity (engine_identity_select without --userns), the identity a later
 * `run` by the same caller gets, so its containers can write there.
 *
 * Invariants:
 *  - create, rm and prune open the audit log before they touch anything
 *    (fail-closed: no log, no change) and record what happened, or why
 *    nothing did: "volume.create", "volume.remove" (one record per name)
 *    and "volume.prune", with the names and drivers;
 *  - the flags are all checked (labels, options, filters, templates)
 *    before the log is opened or anything is listed, so a refused
 *    invocation changes nothing and records nothing;
 *  - without -f, prune removes nothing unless stdin answers "y" (read
 *    even when it is not a terminal, as Docker does);
 *  - a volume's name reaches the engine as given; the engine checks it
 *    (volume_name_valid) before it names a path. Names that come back
 *    from the engine passed that check, so the table prints them raw;
 *    labels go into JSON through jansson, which escapes them.
 *
 * Exit statuses, as Docker's CLI gives them: 125 for what its flag parser
 * refuses (unknown flag, a --filter or --label without a key, extra
 * arguments) and when moat itself cannot work (audit log, state); 1 for
 * what Docker's daemon refuses (an invalid name, an unknown driver, a
 * name taken by another driver, a volume in use or missing, an unknown
 * `ls` filter, a template that fails).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/format.h"
#include "engine/inspect.h"
#include "engine/lifecycle.h"
#include "engine/prune.h"
#include "engine/volumes.h"
#include "volume/mountspec.h"
#include "volume/volume.h"

#define LS_DEFAULT "table {{.Driver}}\t{{.Name}}"
#define LS_QUIET "{{.Name}}"

/* ---- small helpers ---- */

/* Unix ns as RFC 3339 to the second in UTC, as Docker's daemon formats a
 * volume's CreatedAt (time.RFC3339). */
static void rfc3339(int64_t ns, char *buf, size_t len)
{
	time_t t = (time_t)(ns / 1000000000LL);
	struct tm tm;

	if (ns <= 0 || !gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%s", INSPECT_ZERO_TIME);
}

/* An audit record of EVENT for volume NAME of DRIVER (either may be NULL). */
static struct audit_event *vol_event(const char *event, const char *name, const char *driver)
{
	struct audit_event *e = audit_event_new(event);

	if (e && name)
		audit_event_str(e, "name", name);
	if (e && driver)
		audit_event_str(e, "driver", driver);
	return e;
}

/* Docker's `volume inspect` object, its keys in the API type's order.
 * STATUS: the plugin's Status (JSON text) or NULL, shown only when there
 * is one (omitempty). A volume that is only a plugin's (not RECORDED)
 * has no labels or options Docker knows of: null, as Docker prints; one
 * `volume create` made has both maps, {} when empty (its CLI always
 * sends both), which a template prints as "map[]". */
static int volume_json(const struct volume *v, const char *status, bool recorded, json_t **out,
		       struct err **err)
{
	_cleanup_json_ json_t *o = json_object(),
			      *labels = recorded ? cli_kv_json(v->labels) : json_null(),
			      *opts = recorded ? cli_kv_json(v->options) : json_null(), *st = NULL;
	char created[INSPECT_TIME_MAX];

	/* Decoded by jansson from the plugin's reply and encoded again: it
	 * loads back; anything else is a bug, shown as no status. */
	if (status && !(st = json_loads(status, 0, NULL)))
		return err_set(err, EPROTO, "volume %s: its plugin's Status does not decode",
			       v->name);
	rfc3339(v->created, created, sizeof(created));
	/* set_new takes its value even when it fails: steal first */
	if (!o || !labels || !opts ||
	    json_object_set_new(o, "CreatedAt", json_string(created)) < 0 ||
	    json_object_set_new(o, "Driver", json_string(v->driver)) < 0 ||
	    json_object_set_new(o, "Labels", steal_ptr(labels)) < 0 ||
	    json_object_set_new(o, "Mountpoint", json_string(v->mountpoint ? v->mountpoint : "")) <
		0 ||
	    json_object_set_new(o, "Name", json_string(v->name)) < 0 ||
	    json_object_set_new(o, "Options", steal_ptr(opts)) < 0 ||
	    json_object_set_new(o, "Scope", json_string("local")) < 0 ||
	    (st && json_object_set_new(o, "Status", steal_ptr(st)) < 0))
		return err_errno(err, ENOMEM, "volume %s", v->name);
	*out = steal_ptr(o);
	return 0;
}

/* ---- create ---- */

static int cmd_volume_create(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"driver", required_argument, NULL, 'd'},
	    {"opt", required_argument, NULL, 'o'},
	    {"label", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_strv_ char **labels = calloc(1, sizeof(char *)),
			    **options = calloc(1, sizeof(char *));
	struct engine_identity ident;
	struct engine_ctx ec;
	struct audit_log *alog = NULL;
	struct audit_event *ev;
	struct volume v = {0};
	struct err *err = NULL;
	const char *driver = VOLUME_DRIVER_LOCAL, *name = NULL;
	size_t nl = 0, no = 0;
	bool existed = false;
	int c, ret;

	if (!labels || !options) {
		err_errno(&err, ENOMEM, "volume create");
		return cli_fail(&err);
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			driver = optarg;
			break;
		case 'o':
			if (cli_kv_put(&options, &no, "-o, --opt", optarg, &err) < 0)
				return cli_fail(&err);
			break;
		case 'l':
			if (cli_kv_put(&labels, &nl, "--label", optarg, &err) < 0)
				return cli_fail(&err);
			break;
		case 'h':
			printf("Usage: moat volume create [OPTIONS] [VOLUME]\n\nCreate a volume\n\n"
			       "Options:\n"
			       "  -d, --driver string   Specify volume driver name (default "
			       "\"local\")\n"
			       "      --label list      Set metadata for a volume\n"
			       "  -o, --opt map         Set driver specific options (default "
			       "map[])\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind > 1) {
		err_set(&err, EINVAL, "\"volume create\" accepts at most one argument");
		return cli_fail(&err);
	}
	/* Docker: an empty name is no name (a generated one). */
	if (optind < argc && argv[optind][0])
		name = argv[optind];
	if (!*driver)
		driver = VOLUME_DRIVER_LOCAL;
	if (engine_identity_select(ctx->rootless, ctx->uid, ctx->gid, NULL, &ident, &err) < 0)
		return cli_fail(&err);
	cli_engine_ctx(ctx, &ec);
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	if (engine_volume_create(&ec, &ident, name, driver, labels, options, false, &v, &existed,
				 &err) < 0) {
		cli_audit_finish(alog, vol_event("volume.create", name, driver), err);
		return cli_fail_daemon(&err);
	}
	printf("%s\n", v.name);
	fflush(stdout);
	ev = vol_event("volume.create", v.name, v.driver);
	if (ev)
		audit_event_bool(ev, "existed", existed);
	ret = cli_audit_finish(alog, ev, NULL);
	volume_free(&v);
	return ret;
}

/* ---- ls ---- */

/* `volume ls --filter`: Docker's volume list filters. */
struct ls_filter {
	int dangling;	       /* -1: not asked; 0: in use; 1: unused */
	char **drivers;	       /* any of them (exact) */
	char **names;	       /* any of them (substring) */
	struct prune_filter l; /* label=K, label=K=V: all of them */
	bool has_labels;
};

static void ls_filter_clear(struct ls_filter *f)
{
	strvfree(f->drivers);
	strvfree(f->names);
	prune_filter_clear(&f->l);
}

/*
 * The N SPECS ("KEY=VALUE", '=' checked by the flag parser) as docker/cli
 * splits them (key lower-cased, both trimmed) and as the daemon checks
 * them: every key known first ("invalid filter 'KEY'"), then the values.
 * dangling is true when any value is true or 1, false when any is false
 * or 0, else refused; label goes through engine/prune.h's label matcher.
 */
static int ls_filter_parse(char **specs, size_t n, struct ls_filter *f, struct err **err)
{
	static const char *const known[] = {"dangling", "driver", "label", "name", NULL};
	_cleanup_strv_ char **keys = NULL, **vals = NULL, **labels = NULL;
	bool d_true = false, d_false = false, d_any = false;
	size_t nd = 0, nn = 0, nl = 0;
	int ret;

	memset(f, 0, sizeof(*f));
	f->dangling = -1;
	if ((ret = cli_filter_split(specs, n, known, &keys, &vals, err)) < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		int r = 0;

		if (!strcmp(keys[i], "dangling")) {
			d_any = true;
			d_true |= !strcmp(vals[i], "true") || !strcmp(vals[i], "1");
			d_false |= !strcmp(vals[i], "false") || !strcmp(vals[i], "0");
		} else if (!strcmp(keys[i], "driver")) {
			r = cli_strv_push_dup(&f->drivers, &nd, vals[i]);
		} else if (!strcmp(keys[i], "name")) {
			r = cli_strv_push_dup(&f->names, &nn, vals[i]);
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
	if (d_any && !d_true && !d_false) {
		char list[PRUNE_FILTER_LEN_MAX + 16] = "";
		size_t o = 0;

		for (size_t i = 0; i < n && o < sizeof(list); i++)
			if (!strcmp(keys[i], "dangling"))
				o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s",
						      o ? "," : "", vals[i]);
		ls_filter_clear(f);
		return err_set(err, EINVAL, "invalid filter 'dangling=%s'", list);
	}
	if (d_any)
		f->dangling = d_true ? 1 : 0;
	if (nl) {
		struct prune_clock clk = {0}; /* label filters read no clock */

		if (prune_filter_parse(labels, nl, PRUNE_VOLUMES, false, &clk, &f->l, err) < 0) {
			ls_filter_clear(f);
			return err_ret(*err);
		}
		f->has_labels = true;
	}
	return 0;
}

static bool ls_filter_match(const struct ls_filter *f, const struct volume *v, size_t links)
{
	bool any;

	if (f->dangling >= 0 && (links == 0) != (f->dangling == 1))
		return false;
	if (f->drivers) {
		any = false;
		for (char **d = f->drivers; *d && !any; d++)
			any = !strcmp(*d, v->driver);
		if (!any)
			return false;
	}
	if (f->names) {
		any = false;
		for (char **s = f->names; *s && !any; s++)
			any = strstr(v->name, *s) != NULL;
		if (!any)
			return false;
	}
	return !f->has_labels || prune_filter_match(&f->l, v->created, v->labels);
}

static int by_name(const void *x, const void *y)
{
	const struct volume *a = x, *b = y;
	int c = prune_natural_cmp(a->name, b->name);

	return c ? c : strcmp(a->name, b->name);
}

/* How many containers (running or not) refer to each of the N volumes V. */
static int count_links(const struct cli_ctx *ctx, const struct volume *v, size_t n, size_t *links,
		       struct err **err)
{
	struct container_entry *e = NULL;
	size_t nc = 0;
	int r;

	memset(links, 0, n * sizeof(*links));
	if ((r = engine_container_list(ctx->root, ctx->runroot, &e, &nc, err)) < 0)
		return r;
	for (size_t i = 0; i < nc; i++)
		for (size_t k = 0; k < n; k++) {
			bool uses = false;

			for (size_t m = 0; m < e[i].rec.n_mounts && !uses; m++)
				uses = e[i].rec.mounts[m].type == MOUNT_VOLUME &&
				       e[i].rec.mounts[m].source &&
				       !strcmp(e[i].rec.mounts[m].source, v[k].name);
			links[k] += uses;
		}
	engine_container_list_free(e, nc);
	return 0;
}

/* The row `volume ls --format` renders (Docker's volume context, keys in
 * the order its `{{json .}}` prints them, plus CreatedAt). */
static int ls_row(const struct volume *v, size_t links, json_t **out, struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	_cleanup_free_ char *lbl = NULL;
	char created[INSPECT_TIME_MAX], nlinks[32];
	size_t len = 0, off = 0;

	for (char **l = v->labels; l && *l; l++)
		len += strlen(*l) + 1;
	if (!o || !(lbl = calloc(len + 1, 1)))
		return err_errno(err, ENOMEM, "volume ls");
	for (char **l = v->labels; l && *l; l++)
		off += (size_t)sprintf(lbl + off, "%s%s", off ? "," : "", *l);
	rfc3339(v->created, created, sizeof(created));
	snprintf(nlinks, sizeof(nlinks), "%zu", links);
	if (json_object_set_new(o, "CreatedAt", json_string(created)) < 0 ||
	    json_object_set_new(o, "Driver", json_string(v->driver)) < 0 ||
	    json_object_set_new(o, "Labels", json_string(lbl)) < 0 ||
	    json_object_set_new(o, "Links", json_string(nlinks)) < 0 ||
	    json_object_set_new(o, "Mountpoint", json_string(v->mountpoint ? v->mountpoint : "")) <
		0 ||
	    json_object_set_new(o, "Name", json_string(v->name)) < 0 ||
	    json_object_set_new(o, "Scope", json_string("local")) < 0)
		return err_errno(err, ENOMEM, "volume ls");
	*out = steal_ptr(o);
	return 0;
}

/* Docker's column headers of the volume fields. */
static const char *ls_header(const char *field)
{
	static const char *const h[][2] = {
	    {"Name", "VOLUME NAME"},	  {"Driver", "DRIVER"}, {"Scope", "SCOPE"},
	    {"Mountpoint", "MOUNTPOINT"}, {"Labels", "LABELS"}, {"Links", "LINKS"},
	    {"CreatedAt", "CREATED AT"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(h); i++)
		if (!strcmp(field, h[i][0]))
			return h[i][1];
	return NULL;
}

static int ls_print(struct cli_ctx *ctx, const struct fmt_template *t, const struct ls_filter *f,
		    struct err **err)
{
	struct engine_ctx ec;
	struct volume *v = NULL;
	_cleanup_free_ size_t *links = NULL;
	char **lines = NULL;
	size_t n = 0, k = 0;
	bool table = fmt_template_is_table(t);
	int r;

	cli_engine_ctx(ctx, &ec);
	if ((r = engine_volume_list(&ec, &v, &n, err)) < 0)
		return r;
	if (n > 1)
		qsort(v, n, sizeof(*v), by_name);
	links = calloc(n + 1, sizeof(*links));
	lines = calloc(n + 2, sizeof(*lines));
	if (!links || !lines) {
		r = err_errno(err, ENOMEM, "volume ls");
		goto out;
	}
	if ((r = count_links(ctx, v, n, links, err)) < 0)
		goto out;
	if (table && (r = fmt_template_to_string(t, NULL, ls_header, &lines[k++], err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_t *row = NULL;

		if (!ls_filter_match(f, &v[i], links[i]))
			continue;
		if ((r = ls_row(&v[i], links[i], &row, err)) < 0 ||
		    (r = cli_ls_row(t, row, &lines[k], err)) < 0)
			goto out;
		k++;
	}
	r = cli_ls_write(t, lines, k, err);
out:
	for (size_t i = 0; lines && i < n + 2; i++)
		free(lines[i]);
	free(lines);
	volume_list_free(v, n);
	return r;
}

static int cmd_volume_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"filter", required_argument, NULL, 'f'},
	    {"format", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_free_ char **specs = calloc((size_t)argc + 1, sizeof(char *));
	struct fmt_template *t = NULL;
	struct ls_filter f;
	struct err *err = NULL;
	const char *format = NULL;
	size_t nspecs = 0;
	bool quiet = false;
	int c, r;

	if (!specs) {
		err_errno(&err, ENOMEM, "volume ls");
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
		case 'F':
			format = optarg;
			break;
		case 'h':
			printf("Usage: moat volume ls [OPTIONS]\n\nList volumes\n\nAliases:\n"
			       "  ls, list\n\nOptions:\n"
			       "  -f, --filter filter   Provide filter values (e.g. "
			       "\"dangling=true\")\n"
			       "      --format string   Format output using a custom template\n"
			       "  -q, --quiet           Only display volume names\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"volume ls\" accepts no arguments");
		return cli_fail(&err);
	}
	if (ls_filter_parse(specs, nspecs, &f, &err) < 0)
		return cli_fail_daemon(&err);
	if (cli_ls_template(format, quiet, LS_DEFAULT, LS_QUIET, &t, &err) < 0) {
		ls_filter_clear(&f);
		return cli_fail(&err);
	}
	r = ls_print(ctx, t, &f, &err);
	fmt_template_free(t);
	ls_filter_clear(&f);
	return r < 0 ? cli_fail(&err) : 0;
}

/* ---- inspect ---- */

/* Is there a record of NAME? (An engine ENOENT may be about its plugin.) */
static bool recorded(const struct cli_ctx *ctx, const char *name)
{
	struct volume v = {0};

	if (!volume_name_valid(name) || volume_load(ctx->root, name, &v, NULL) < 0)
		return false;
	volume_free(&v);
	return true;
}

/*
 * Like `moat inspect` (cli/inspect.c): the objects found are printed ("[]"
 * when none), then one "No such volume: X" line per missing name, and the
 * status is 1. A template is rendered for every object before anything is
 * printed, so one that fails prints nothing.
 */
static int cmd_volume_inspect(struct cli_ctx *ctx, int argc, char **argv)
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
		err_errno(&err, ENOMEM, "volume inspect");
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
			printf("Usage: moat volume inspect [OPTIONS] VOLUME [VOLUME...]\n\n"
			       "Display detailed information on one or more volumes\n\nOptions:\n"
			       "  -f, --format string   Format output using a custom template\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"volume inspect\" requires at least 1 argument");
		return cli_fail(&err);
	}
	if (cli_inspect_template(format, &t, &err) < 0)
		return cli_fail(&err);
	cli_engine_ctx(ctx, &ec);
	for (int i = optind; i < argc; i++) {
		struct volume v = {0};
		_cleanup_free_ char *vstatus = NULL;
		bool rec = false;
		json_t *obj = NULL;

		r = engine_volume_inspect(&ec, argv[i], &v, &vstatus, &rec, &err);
		if (r == -ENOENT && !recorded(ctx, argv[i])) {
			err_free(&err);
			missing[nmissing++] = argv[i];
			continue;
		}
		if (r == 0) {
			r = volume_json(&v, vstatus, rec, &obj, &err);
			volume_free(&v);
		}
		if (r == 0 && json_array_append_new(all, obj) < 0)
			r = err_errno(&err, ENOMEM, "volume inspect");
		if (r < 0) {
			/* a plugin that fails or no longer has it, a bad record */
			fprintf(stderr, "moat: %s\n", err ? err->msg : "volume inspect failed");
			err_free(&err);
			status = 1;
		}
	}
	if (cli_inspect_print(t, all, "volume inspect", &err) < 0) {
		r = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < nmissing; i++)
		fprintf(stderr, "moat: No such volume: %s\n", missing[i]);
	r = nmissing || status ? 1 : 0;
out:
	fmt_template_free(t);
	return r;
}

/* ---- rm ---- */

static int cmd_volume_rm(struct cli_ctx *ctx, int argc, char **argv)
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
			printf("Usage: moat volume rm [OPTIONS] VOLUME [VOLUME...]\n\n"
			       "Remove one or more volumes. You cannot remove a volume that is in "
			       "use by a container.\n\nAliases:\n  rm, remove\n\nOptions:\n"
			       "  -f, --force   Force the removal of one or more volumes\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"volume rm\" requires at least 1 argument");
		return cli_fail(&err);
	}
	cli_engine_ctx(ctx, &ec);
	/* Docker goes on past a volume it cannot remove; each name is one
	 * record, on its own handle, opened before that name is touched. */
	for (int i = optind; i < argc; i++) {
		struct audit_log *alog = NULL;
		struct volume v = {0};
		_cleanup_free_ char *driver = NULL, *removed = NULL;

		if (cli_audit_begin(ctx, &alog, &err) < 0)
			return cli_fail(&err);
		/* For the refusal's record: the driver it has (a name only a
		 * plugin has is named by the engine once it is removed). */
		if (volume_name_valid(argv[i]) && volume_load(ctx->root, argv[i], &v, NULL) == 0) {
			driver = steal_ptr(v.driver);
			volume_free(&v);
		}
		if (engine_volume_remove(&ec, argv[i], force, &removed, &err) < 0) {
			cli_audit_finish(alog, vol_event("volume.remove", argv[i], driver), err);
			fprintf(stderr, "moat: %s\n", err->msg);
			err_free(&err);
			ret = ret ? ret : 1;
			continue;
		}
		printf("%s\n", argv[i]);
		fflush(stdout);
		/* -f and nothing there: said as Docker does, and recorded as
		 * such (no driver) */
		if (cli_audit_finish(alog, vol_event("volume.remove", argv[i], removed), NULL))
			ret = 125;
	}
	return ret;
}

/* ---- prune ---- */

/* The bytes of the local volumes of V (N of them) that prune may remove,
 * measured before it does (after, they are gone). */
static void prune_sizes(const struct volume *v, size_t n, bool all, const struct prune_filter *f,
			int64_t *sizes)
{
	for (size_t i = 0; i < n; i++) {
		sizes[i] = 0;
		if ((!all && !v[i].anonymous) ||
		    !prune_filter_match(f, v[i].created, v[i].labels) ||
		    strcmp(v[i].driver, VOLUME_DRIVER_LOCAL) || !v[i].mountpoint)
			continue;
		sizes[i] = engine_inspect_dir_size(v[i].mountpoint);
		if (sizes[i] < 0)
			sizes[i] = 0;
	}
}

static int cmd_volume_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_prune_flags pf;
	struct prune_filter f;
	struct prune_clock clk;
	struct err *err = NULL;
	uint64_t reclaimed = 0;
	char size[32];
	int ret;

	if (!cli_prune_flags(
		argc, argv, "volume prune", CLI_PRUNE_ALL,
		"Usage: moat volume prune [OPTIONS]\n\nRemove unused local volumes\n\n"
		"Options:\n"
		"  -a, --all             Remove all unused volumes, not just anonymous "
		"ones\n"
		"      --filter filter   Provide filter values (e.g. "
		"\"label=<label>\")\n"
		"  -f, --force           Do not prompt for confirmation\n",
		&pf, &ret))
		return ret;
	cli_prune_clock(&clk);
	ret = prune_filter_parse(pf.specs, pf.nspecs, PRUNE_VOLUMES, pf.all, &clk, &f, &err);
	free(pf.specs);
	if (ret < 0)
		return cli_fail(&err);
	if (!pf.force) {
		printf("WARNING! This will remove %s local volumes not used by at least one "
		       "container.\n",
		       pf.all ? "all" : "anonymous");
		if (!cli_confirm()) {
			prune_filter_clear(&f);
			printf("Total reclaimed space: 0B\n");
			return 0;
		}
	}
	ret = cli_volume_prune_run(ctx, pf.all, &f, &reclaimed);
	prune_filter_clear(&f);
	if (ret)
		return ret;
	engine_inspect_human_size(reclaimed, 4, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	fflush(stdout);
	return 0;
}

int cli_volume_prune_run(struct cli_ctx *ctx, bool all, const struct prune_filter *fp,
			 uint64_t *reclaimed_out)
{
	_cleanup_strv_ char **removed = NULL, **drivers = NULL;
	_cleanup_free_ int64_t *sizes = NULL;
	struct audit_log *alog = NULL;
	struct audit_event *ev;
	struct engine_ctx ec;
	struct volume *v = NULL;
	struct err *err = NULL;
	uint64_t reclaimed = 0;
	size_t n = 0, nr = 0;
	int ret;

	*reclaimed_out = 0;
	if (volume_list(ctx->root, &v, &n, &err) < 0 || !(sizes = calloc(n + 1, sizeof(*sizes)))) {
		if (!err)
			err_errno(&err, ENOMEM, "volume prune");
		volume_list_free(v, n);
		return cli_fail(&err);
	}
	prune_sizes(v, n, all, fp, sizes);
	cli_engine_ctx(ctx, &ec);
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		volume_list_free(v, n);
		return cli_fail(&err);
	}
	ret = engine_volume_prune(&ec, all, fp, &removed, &err);
	if (ret < 0) {
		volume_list_free(v, n);
		cli_audit_outcome(alog, "volume.prune", "names", NULL, "drivers", NULL, err);
		return cli_fail(&err);
	}
	/* What went, by the list taken before: its driver and its size. */
	for (size_t i = 0; removed && removed[i]; i++) {
		const char *drv = "";

		for (size_t k = 0; k < n; k++) {
			if (strcmp(v[k].name, removed[i]))
				continue;
			drv = v[k].driver;
			reclaimed += (uint64_t)sizes[k];
		}
		if (cli_strv_push_dup(&drivers, &nr, drv) < 0) {
			/* the record still names every volume removed */
			strvfree(drivers);
			drivers = NULL;
			break;
		}
	}
	volume_list_free(v, n);
	cli_print_deleted("Volumes", removed);
	fflush(stdout);
	*reclaimed_out = reclaimed;
	ev = audit_event_new("volume.prune");
	if (ev) {
		audit_event_strv(ev, "names", removed ? removed : (char *[]){NULL});
		audit_event_strv(ev, "drivers", drivers ? drivers : (char *[]){NULL});
		audit_event_bool(ev, "all", all);
		audit_event_int(ev, "reclaimed", (int64_t)reclaimed);
	}
	return cli_audit_finish(alog, ev, NULL);
}

/* ---- the group ---- */

static const struct {
	const char *name;
	int (*fn)(struct cli_ctx *, int, char **);
	const char *help;
} volume_verbs[] = {
    {"create", cmd_volume_create, "Create a volume"},
    {"inspect", cmd_volume_inspect, "Display detailed information on one or more volumes"},
    {"ls", cmd_volume_ls, "List volumes"},
    {"list", cmd_volume_ls, NULL},
    {"prune", cmd_volume_prune, "Remove unused local volumes"},
    {"rm", cmd_volume_rm, "Remove one or more volumes"},
    {"remove", cmd_volume_rm, NULL},
};

int cmd_volume(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		printf("Usage: moat volume COMMAND\n\nManage volumes\n\nCommands:\n");
		for (size_t i = 0; i < ARRAY_SIZE(volume_verbs); i++)
			if (volume_verbs[i].help)
				printf("  %-11s %s\n", volume_verbs[i].name, volume_verbs[i].help);
		printf("\nRun 'moat volume COMMAND --help' for more information on a command.\n");
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(volume_verbs); i++)
		if (!strcmp(argv[1], volume_verbs[i].name))
			return volume_verbs[i].fn(ctx, argc - 1, argv + 1);
	err_set(&err, EINVAL, "'volume %s' is not a moat command (see 'moat volume --help')",
		argv[1]);
	err->exit = 1;
	return cli_fail(&err);
}
