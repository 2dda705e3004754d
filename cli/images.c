/*
 * cli/images.c - `moat load`, `moat images`, `moat rmi`, `moat demo-image`:
 * Docker's flags and output over the image store.
 *
 * Runs as: the invoking user or root. The store is opened for the
 * identity engine_store_open() picks, so layers a load extracts are the
 * ones a later `run` by the same identity uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/events.h"
#include "common/cleanup.h"
#include "engine/engine.h"
#include "image/image.h"

static void store_closep(struct image_store **s)
{
	image_store_close(*s);
}
#define _cleanup_store_ __attribute__((cleanup(store_closep)))

static int open_store(struct cli_ctx *ctx, struct image_store **s, struct err **err)
{
	return engine_store_open(ctx->root, ctx->rootless, ctx->uid, ctx->gid, NULL, s, err);
}

/*
 * Audit: the log is opened before the store is touched (fail-closed: no
 * log, no change), and the outcome - what changed, or why nothing did - is
 * recorded after.
 */
static int audit_begin(const struct cli_ctx *ctx, struct audit_log **l, struct err **err)
{
	struct engine_audit_conf c;

	cli_audit_conf(ctx, &c);
	return engine_audit_open(&c, l, err);
}

static int audit_outcome(struct audit_log *l, const char *event, const char *key, char **vals,
			 const char *key2, char **vals2, const struct err *failure)
{
	struct audit_event *e = audit_event_new(event);
	struct err *ae = NULL;
	int r;

	if (e && key)
		audit_event_strv(e, key, vals ? vals : (char *[]){NULL});
	if (e && key2)
		audit_event_strv(e, key2, vals2 ? vals2 : (char *[]){NULL});
	if (e && failure)
		audit_event_str(e, "error", failure->msg);
	r = engine_audit(l, e, &ae);
	audit_close(l);
	if (r < 0) {
		fprintf(stderr, "moat: %s\n", ae->msg);
		err_free(&ae);
		return 125;
	}
	return 0;
}

int cmd_load(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"input", required_argument, NULL, 'i'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct audit_log *alog = NULL;
	_cleanup_strv_ char **names = NULL;
	_cleanup_close_ int fd = -1;
	struct err *err = NULL;
	const char *input = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:q", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'q':
			/* No progress output exists to silence. */
			break;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"load\" accepts no arguments");
		return cli_fail(&err);
	}
	if (input) {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err_errno(&err, errno, "open \"%s\"", input);
			return cli_fail(&err);
		}
	} else if (isatty(0)) {
		err_set(&err, EINVAL,
			"requested load from stdin, but stdin is a terminal (use -i FILE)");
		return cli_fail(&err);
	} else {
		fd = dup(0);
		if (fd < 0) {
			err_errno(&err, errno, "stdin");
			return cli_fail(&err);
		}
	}
	if (audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	if (open_store(ctx, &s, &err) < 0 || image_store_load(s, fd, &names, &err) < 0) {
		audit_outcome(alog, "image.load", "names", NULL, NULL, NULL, err);
		return cli_fail(&err);
	}
	for (char **n = names; n && *n; n++) {
		if (!strncmp(*n, "sha256:", 7))
			printf("Loaded image ID: %s\n", *n);
		else
			printf("Loaded image: %s\n", *n);
	}
	return audit_outcome(alog, "image.load", "names", names, NULL, NULL, NULL);
}

/* Docker's units.HumanDuration, with " ago". */
static void human_ago(int64_t then, char *out, size_t len)
{
	int64_t d = (int64_t)time(NULL) - then;
	int64_t h = d / 3600;

	if (d < 1)
		snprintf(out, len, "Less than a second ago");
	else if (d == 1)
		snprintf(out, len, "1 second ago");
	else if (d < 60)
		snprintf(out, len, "%lld seconds ago", (long long)d);
	else if (d / 60 == 1)
		snprintf(out, len, "About a minute ago");
	else if (d / 60 < 60)
		snprintf(out, len, "%lld minutes ago", (long long)(d / 60));
	else if (h == 1)
		snprintf(out, len, "About an hour ago");
	else if (h < 48)
		snprintf(out, len, "%lld hours ago", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(out, len, "%lld days ago", (long long)(h / 24));
	else if (h < 24 * 30 * 2)
		snprintf(out, len, "%lld weeks ago", (long long)(h / 24 / 7));
	else if (h < 24 * 365 * 2)
		snprintf(out, len, "%lld months ago", (long long)(h / 24 / 30));
	else
		snprintf(out, len, "%lld years ago", (long long)(h / 24 / 365));
}

/* Docker's units.HumanSizeWithPrecision(size, 3): decimal units. */
static void human_size(uint64_t size, char *out, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
	double v = (double)size;
	size_t u = 0;

	while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	snprintf(out, len, "%.3g%s", v, units[u]);
}

struct row {
	char *repo, *tag, id[80], created[64], size[32];
};

static int add_row(struct row **rows, size_t *n, const char *name, const struct image *img,
		   bool no_trunc)
{
	struct row *nr = realloc(*rows, (*n + 1) * sizeof(*nr));
	struct row *r;
	const char *slash, *colon;

	if (!nr)
		return -ENOMEM;
	*rows = nr;
	r = &nr[*n];
	memset(r, 0, sizeof(*r));
	if (name) {
		slash = strrchr(name, '/');
		colon = strrchr(slash ? slash : name, ':');
		r->repo = colon ? strndup(name, (size_t)(colon - name)) : strdup(name);
		r->tag = strdup(colon ? colon + 1 : "<none>");
	} else {
		r->repo = strdup("<none>");
		r->tag = strdup("<none>");
	}
	(*n)++;
	if (!r->repo || !r->tag)
		return -ENOMEM;
	snprintf(r->id, sizeof(r->id), "%.*s", no_trunc ? 71 : 12,
		 no_trunc ? img->id : img->id + 7);
	human_ago(img->created, r->created, sizeof(r->created));
	human_size(img->size, r->size, sizeof(r->size));
	return 0;
}

/* REPOSITORY[:TAG] filter of `docker images`. */
static bool matches(const char *filter, const char *name)
{
	size_t n;

	if (!filter)
		return true;
	if (!name)
		return false;
	if (!strcmp(filter, name))
		return true;
	n = strlen(filter);
	return !strncmp(name, filter, n) && name[n] == ':' && !strchr(name + n + 1, '/');
}

int cmd_images(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"no-trunc", no_argument, NULL, 'T'},
	    {"all", no_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct image **imgs = NULL;
	struct row *rows = NULL;
	struct err *err = NULL;
	size_t n = 0, nrows = 0;
	bool quiet = false, no_trunc = false;
	const char *filter = NULL;
	int c, ret = 0;
	int w[4] = {10, 3, 8, 7};

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qa", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'T':
			no_trunc = true;
			break;
		case 'a':
			break;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind > 1) {
		err_set(&err, EINVAL, "\"images\" accepts at most one argument");
		return cli_fail(&err);
	}
	if (optind < argc)
		filter = argv[optind];
	if (open_store(ctx, &s, &err) < 0 || image_store_list(s, &imgs, &n, &err) < 0)
		return cli_fail(&err);
	for (size_t i = 0; i < n && ret == 0; i++) {
		bool any = false;
		for (char **nm = imgs[i]->names; nm && *nm && ret == 0; nm++) {
			if (!matches(filter, *nm))
				continue;
			any = true;
			ret = add_row(&rows, &nrows, *nm, imgs[i], no_trunc);
			if (quiet)
				break;
		}
		if (!any && !filter && ret == 0)
			ret = add_row(&rows, &nrows, NULL, imgs[i], no_trunc);
	}
	if (ret < 0) {
		err_errno(&err, -ret, "images");
		ret = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < nrows; i++) {
		int l[4] = {(int)strlen(rows[i].repo), (int)strlen(rows[i].tag),
			    (int)strlen(rows[i].id), (int)strlen(rows[i].created)};
		for (int k = 0; k < 4; k++)
			w[k] = l[k] > w[k] ? l[k] : w[k];
	}
	if (!quiet)
		printf("%-*s   %-*s   %-*s   %-*s   %s\n", w[0], "REPOSITORY", w[1], "TAG", w[2],
		       "IMAGE ID", w[3], "CREATED", "SIZE");
	for (size_t i = 0; i < nrows; i++) {
		if (quiet)
			printf("%s\n", rows[i].id);
		else
			printf("%-*s   %-*s   %-*s   %-*s   %s\n", w[0], rows[i].repo, w[1],
			       rows[i].tag, w[2], rows[i].id, w[3], rows[i].created, rows[i].size);
	}
out:
	for (size_t i = 0; i < nrows; i++) {
		free(rows[i].repo);
		free(rows[i].tag);
	}
	free(rows);
	for (size_t i = 0; i < n; i++)
		image_free(imgs[i]);
	free(imgs);
	return ret;
}

int cmd_rmi(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"no-prune", no_argument, NULL, 'P'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct audit_log *alog = NULL;
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
		case 'P':
			break;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"rmi\" requires at least 1 argument");
		return cli_fail(&err);
	}
	if (audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	if (open_store(ctx, &s, &err) < 0) {
		audit_outcome(alog, "image.remove", NULL, NULL, NULL, NULL, err);
		return cli_fail(&err);
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_strv_ char **untagged = NULL, **deleted = NULL;
		struct audit_log *one = NULL;
		struct err *ae = NULL;

		/* One record per image named, each on its own handle. */
		if (i > optind && audit_begin(ctx, &one, &ae) < 0) {
			ret = cli_fail(&ae);
			break;
		}
		if (i == optind)
			one = steal_ptr(alog);
		if (image_store_remove_report(s, argv[i], force, &untagged, &deleted, &err) < 0) {
			audit_outcome(one, "image.remove", "untagged", (char *[]){argv[i], NULL},
				      NULL, NULL, err);
			/* Docker goes on with the other images. */
			ret = cli_fail(&err);
			continue;
		}
		for (char **u = untagged; u && *u; u++)
			printf("Untagged: %s\n", *u);
		for (char **d = deleted; d && *d; d++)
			printf("Deleted: %s\n", *d);
		if (audit_outcome(one, "image.remove", "untagged", untagged, "deleted", deleted,
				  NULL))
			ret = 125;
	}
	return ret;
}

int cmd_demo_image(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"tag", required_argument, NULL, 't'},
	    {"busybox", required_argument, NULL, 'b'},
	    {"add", required_argument, NULL, 'a'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct audit_log *alog = NULL;
	_cleanup_free_ char **adds = NULL;
	_cleanup_free_ char *id = NULL;
	struct err *err = NULL;
	const char *tag = "demo:latest", *busybox = NULL;
	size_t n = 0;
	int c;

	adds = calloc((size_t)argc + 1, sizeof(char *));
	if (!adds) {
		err_errno(&err, ENOMEM, "demo-image");
		return cli_fail(&err);
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":t:", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			tag = optarg;
			break;
		case 'b':
			busybox = optarg;
			break;
		case 'a':
			adds[n++] = optarg;
			break;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind < argc) {
		err_set(&err, EINVAL, "\"demo-image\" accepts no arguments");
		return cli_fail(&err);
	}
	if (audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	if (open_store(ctx, &s, &err) < 0 || image_demo_create(s, tag, busybox, adds, &err) < 0 ||
	    image_store_lookup(s, tag, &id, &err) < 0) {
		audit_outcome(alog, "image.build", "names", (char *[]){(char *)tag, NULL}, NULL,
			      NULL, err);
		return cli_fail(&err);
	}
	printf("%s\n", id);
	return audit_outcome(alog, "image.build", "names", (char *[]){(char *)tag, NULL}, "ids",
			     (char *[]){id, NULL}, NULL);
}
