/*
 * cli/images.c - `moat load`, `moat images`, `moat rmi`, `moat demo-image`,
 * `moat tag`, `moat save`, `moat image history|prune|inspect` and the
 * `moat image` group: Docker's flags and output over the image store.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/trust.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/inspect.h"
#include "engine/prune.h"
#include "image/gc.h"
#include "image/image.h"

static void store_closep(struct image_store **s)
{
	image_store_close(*s);
}
#define _cleanup_store_ __attribute__((cleanup(store_closep)))

int cmd_load(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"input", required_argument, NULL, 'i'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"trust-local", no_argument, NULL, 'L'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct audit_log *alog = NULL;
	_cleanup_strv_ char **names = NULL;
	_cleanup_close_ int fd = -1;
	struct engine_trust_admit adm = {.root = ctx->root};
	struct image_admit ia = {.fn = engine_trust_admit, .arg = &adm};
	struct trust_policy *policy = NULL;
	struct err *err = NULL;
	const char *input = NULL;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:q", opts, NULL)) != -1) {
		switch (c) {
		case 'L':
			adm.trust_local = true;
			break;
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
	if (engine_trust_policy_load(ctx->trust_policy, &policy, NULL, &err) < 0)
		return cli_fail(&err);
	adm.p = policy;
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		trust_policy_free(policy);
		return cli_fail(&err);
	}
	r = cli_store_open(ctx, &s, &err);
	if (r == 0) {
		image_store_set_admit(s, &ia);
		r = image_store_load(s, fd, &names, &err);
	}
	trust_policy_free(policy);
	if (cli_audit_admissions(alog, "load", adm.decisions) != 0 && r == 0)
		r = err_set(&err, EIO, "the audit log refused a trust decision");
	strvfree(adm.decisions);
	if (r < 0) {
		cli_audit_outcome(alog, "image.load", "names", NULL, NULL, NULL, err);
		return cli_fail(&err);
	}
	for (char **n = names; n && *n; n++) {
		if (!strncmp(*n, "sha256:", 7))
			printf("Loaded image ID: %s\n", *n);
		else
			printf("Loaded image: %s\n", *n);
	}
	return cli_audit_outcome(alog, "image.load", "names", names, NULL, NULL, NULL);
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
	char *repo, *tag, *digest, id[80], created[64], size[32];
};

/* A row REPO TAG DIGEST for IMG. */
static int add_row(struct row **rows, size_t *n, const char *repo, size_t repo_len, const char *tag,
		   const char *digest, const struct image *img, bool no_trunc)
{
	struct row *nr = realloc(*rows, (*n + 1) * sizeof(*nr));
	struct row *r;

	if (!nr)
		return -ENOMEM;
	*rows = nr;
	r = &nr[*n];
	memset(r, 0, sizeof(*r));
	(*n)++;
	r->repo = strndup(repo, repo_len);
	r->tag = strdup(tag);
	r->digest = strdup(digest);
	if (!r->repo || !r->tag || !r->digest)
		return -ENOMEM;
	snprintf(r->id, sizeof(r->id), "%.*s", no_trunc ? 71 : 12,
		 no_trunc ? img->id : img->id + 7);
	human_ago(img->created, r->created, sizeof(r->created));
	human_size(img->size, r->size, sizeof(r->size));
	return 0;
}

/* The repository of a stored "name:tag" (its length); TAG points at the tag. */
static size_t name_repo(const char *name, const char **tag)
{
	const char *slash = strrchr(name, '/');
	const char *colon = strrchr(slash ? slash : name, ':');

	*tag = colon ? colon + 1 : "<none>";
	return colon ? (size_t)(colon - name) : strlen(name);
}

/* The repository of a repo digest "name@sha256:..." (its length). */
static size_t digest_repo(const char *rd)
{
	const char *at = strchr(rd, '@');

	return at ? (size_t)(at - rd) : strlen(rd);
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

/*
 * IMG's rows as Docker's image formatter makes them: one per name, with
 * (DIGESTS) one per repo digest of that name's repository; then, for a
 * repository known only by digest, "<none>" as its tag (one row per
 * digest with DIGESTS, else one). An image with neither is "<none>".
 */
static int image_rows(struct row **rows, size_t *nrows, const struct image *img, const char *filter,
		      bool digests, bool quiet, bool no_trunc)
{
	size_t before = *nrows;
	int r = 0;

	if (!(img->names && img->names[0]) && !(img->repo_digests && img->repo_digests[0]))
		return filter
			   ? 0
			   : add_row(rows, nrows, "<none>", 6, "<none>", "<none>", img, no_trunc);
	for (char **nm = img->names; r == 0 && nm && *nm; nm++) {
		const char *tag;
		size_t rl = name_repo(*nm, &tag);
		bool any = false;

		if (!matches(filter, *nm) || (quiet && *nrows > before))
			continue;
		for (char **d = img->repo_digests; r == 0 && digests && d && *d; d++) {
			if (digest_repo(*d) != rl || strncmp(*d, *nm, rl))
				continue;
			any = true;
			r = add_row(rows, nrows, *nm, rl, tag, *d + rl + 1, img, no_trunc);
		}
		if (r == 0 && !any)
			r = add_row(rows, nrows, *nm, rl, tag, "<none>", img, no_trunc);
	}
	for (char **d = img->repo_digests; r == 0 && d && *d; d++) {
		size_t rl = digest_repo(*d);
		bool shown = false;
		_cleanup_free_ char *repo = strndup(*d, rl);

		if (!repo)
			return -ENOMEM;
		for (char **nm = img->names; nm && *nm && !shown; nm++) {
			const char *tag;
			shown = name_repo(*nm, &tag) == rl && !strncmp(*nm, *d, rl);
		}
		/* without DIGESTS, one row per repository */
		for (char **e = img->repo_digests; !digests && e < d && !shown; e++)
			shown = digest_repo(*e) == rl && !strncmp(*e, *d, rl);
		if (shown || !matches(filter, repo) || (quiet && *nrows > before))
			continue;
		r = add_row(rows, nrows, *d, rl, "<none>", digests ? *d + rl + 1 : "<none>", img,
			    no_trunc);
	}
	return r;
}

int cmd_images(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"quiet", no_argument, NULL, 'q'},
	    {"no-trunc", no_argument, NULL, 'T'},
	    {"all", no_argument, NULL, 'a'},
	    {"digests", no_argument, NULL, 'D'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct image **imgs = NULL;
	struct row *rows = NULL;
	struct err *err = NULL;
	size_t n = 0, nrows = 0;
	bool quiet = false, no_trunc = false, digests = false;
	const char *filter = NULL;
	int c, ret = 0;
	int w[5] = {10, 3, 6, 8, 7};

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
		case 'D':
			digests = true;
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
	if (cli_store_open(ctx, &s, &err) < 0 || image_store_list(s, &imgs, &n, &err) < 0)
		return cli_fail(&err);
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = image_rows(&rows, &nrows, imgs[i], filter, digests, quiet, no_trunc);
	if (ret < 0) {
		err_errno(&err, -ret, "images");
		ret = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < nrows; i++) {
		int l[5] = {(int)strlen(rows[i].repo), (int)strlen(rows[i].tag),
			    (int)strlen(rows[i].digest), (int)strlen(rows[i].id),
			    (int)strlen(rows[i].created)};
		for (int k = 0; k < 5; k++)
			w[k] = l[k] > w[k] ? l[k] : w[k];
	}
	if (!quiet && digests)
		printf("%-*s   %-*s   %-*s   %-*s   %-*s   %s\n", w[0], "REPOSITORY", w[1], "TAG",
		       w[2], "DIGEST", w[3], "IMAGE ID", w[4], "CREATED", "SIZE");
	else if (!quiet)
		printf("%-*s   %-*s   %-*s   %-*s   %s\n", w[0], "REPOSITORY", w[1], "TAG", w[3],
		       "IMAGE ID", w[4], "CREATED", "SIZE");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		if (quiet)
			printf("%s\n", r->id);
		else if (digests)
			printf("%-*s   %-*s   %-*s   %-*s   %-*s   %s\n", w[0], r->repo, w[1],
			       r->tag, w[2], r->digest, w[3], r->id, w[4], r->created, r->size);
		else
			printf("%-*s   %-*s   %-*s   %-*s   %s\n", w[0], r->repo, w[1], r->tag,
			       w[3], r->id, w[4], r->created, r->size);
	}
out:
	for (size_t i = 0; i < nrows; i++) {
		free(rows[i].repo);
		free(rows[i].tag);
		free(rows[i].digest);
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
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	if (cli_store_open(ctx, &s, &err) < 0) {
		cli_audit_outcome(alog, "image.remove", NULL, NULL, NULL, NULL, err);
		return cli_fail(&err);
	}
	for (int i = optind; i < argc; i++) {
		_cleanup_strv_ char **untagged = NULL, **deleted = NULL;
		struct audit_log *one = NULL;
		struct err *ae = NULL;

		/* One record per image named, each on its own handle. */
		if (i > optind && cli_audit_begin(ctx, &one, &ae) < 0) {
			ret = cli_fail(&ae);
			break;
		}
		if (i == optind)
			one = steal_ptr(alog);
		if (image_store_remove_report(s, argv[i], force, &untagged, &deleted, &err) < 0) {
			cli_audit_outcome(one, "image.remove", "untagged",
					  (char *[]){argv[i], NULL}, NULL, NULL, err);
			/* Docker goes on with the other images. */
			ret = cli_fail(&err);
			continue;
		}
		for (char **u = untagged; u && *u; u++)
			printf("Untagged: %s\n", *u);
		for (char **d = deleted; d && *d; d++)
			printf("Deleted: %s\n", *d);
		if (cli_audit_outcome(one, "image.remove", "untagged", untagged, "deleted", deleted,
				      NULL))
			ret = 125;
	}
	return ret;
}

int cmd_demo_image(struct cli_ctx *ctx, int argc, char **argv)
{
	struct engine_trust_admit adm = {0};
	struct image_admit ia = {.fn = engine_trust_admit, .arg = &adm};
	int r;
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
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	/* Built here: signed with the local key, whatever the policy says. */
	adm.root = ctx->root;
	adm.always_local = true;
	r = cli_store_open(ctx, &s, &err);
	if (r == 0) {
		image_store_set_admit(s, &ia);
		r = image_demo_create(s, tag, busybox, adds, &err);
	}
	if (cli_audit_admissions(alog, "build", adm.decisions) != 0 && r == 0)
		r = err_set(&err, EIO, "the audit log refused a trust decision");
	strvfree(adm.decisions);
	if (r < 0 || image_store_lookup(s, tag, &id, &err) < 0) {
		cli_audit_outcome(alog, "image.build", "names", (char *[]){(char *)tag, NULL}, NULL,
				  NULL, err);
		return cli_fail(&err);
	}
	printf("%s\n", id);
	return cli_audit_outcome(alog, "image.build", "names", (char *[]){(char *)tag, NULL}, "ids",
				 (char *[]){id, NULL}, NULL);
}

/* ---- tag, save, history, prune, and the `image` group ---- */

int cmd_tag(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct audit_log *alog = NULL;
	struct err *err = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("Usage: moat tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n\n"
			       "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 2) {
		err_set(&err, EINVAL, "\"tag\" requires exactly 2 arguments");
		return cli_fail(&err);
	}
	if (cli_audit_begin(ctx, &alog, &err) < 0)
		return cli_fail(&err);
	if (cli_store_open(ctx, &s, &err) < 0 ||
	    image_store_tag(s, argv[optind], argv[optind + 1], &err) < 0) {
		cli_audit_outcome(alog, "image.tag", "source", (char *[]){argv[optind], NULL},
				  "target", (char *[]){argv[optind + 1], NULL}, err);
		return cli_fail(&err);
	}
	return cli_audit_outcome(alog, "image.tag", "source", (char *[]){argv[optind], NULL},
				 "target", (char *[]){argv[optind + 1], NULL}, NULL);
}

/* FILE written in full or not at all: a temporary beside it, renamed. */
static int save_to_file(struct image_store *s, char **refs, const char *file, struct err **err)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	mode_t mask;
	int r;

	if (asprintf(&tmp, "%s.moat-XXXXXX", file) < 0) {
		tmp = NULL;
		return err_errno(err, ENOMEM, "save");
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "open \"%s\"", file);
	mask = umask(0);
	umask(mask);
	r = fchmod(fd, 0666 & ~mask) < 0 ? err_errno(err, errno, "chmod \"%s\"", tmp) : 0;
	if (r == 0)
		r = image_store_save(s, refs, fd, err);
	if (r == 0 && fsync(fd) < 0)
		r = err_errno(err, errno, "write \"%s\"", file);
	if (r == 0 && rename(tmp, file) < 0)
		r = err_errno(err, errno, "rename to \"%s\"", file);
	if (r < 0)
		unlink(tmp);
	return r;
}

int cmd_save(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	_cleanup_store_ struct image_store *s = NULL;
	struct err *err = NULL;
	const char *out = NULL;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			printf("Usage: moat save [OPTIONS] IMAGE [IMAGE...]\n\n"
			       "Save one or more images to a tar archive (streamed to STDOUT by "
			       "default)\n\nOptions:\n"
			       "  -o, --output string   Write to a file, instead of STDOUT\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (optind >= argc) {
		err_set(&err, EINVAL, "\"save\" requires at least 1 argument");
		return cli_fail(&err);
	}
	if (!out && isatty(1)) {
		err_set(&err, EINVAL,
			"cowardly refusing to save to a terminal. Use the -o flag or redirect");
		return cli_fail(&err);
	}
	if (cli_store_open(ctx, &s, &err) < 0)
		return cli_fail(&err);
	if (out ? save_to_file(s, argv + optind, out, &err) < 0
		: image_store_save(s, argv + optind, 1, &err) < 0)
		return cli_fail(&err);
	return 0;
}

/* Docker's formatter.Ellipsis: at most N characters, "…" as the last. */
static void ellipsis(const char *in, size_t n, char *out, size_t len)
{
	size_t chars = 0, o = 0;
	const char *p;

	for (p = in; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80;
	if (chars <= n) {
		snprintf(out, len, "%s", in);
		return;
	}
	chars = 0;
	for (p = in; *p && o + 4 < len; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && ++chars > n - 1)
			break;
		out[o++] = *p;
	}
	snprintf(out + o, len - o, "\xe2\x80\xa6");
}

struct hrow {
	char *col[5];
};

/* Characters on screen (UTF-8 continuation bytes take no column). */
static size_t width(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* S left-aligned in W columns. */
static void cell(const char *s, size_t w)
{
	size_t n = width(s);

	fputs(s, stdout);
	for (; n < w; n++)
		putchar(' ');
}

int cmd_history(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"human", optional_argument, NULL, 'H'},
	    {"no-trunc", no_argument, NULL, 'T'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const head[5] = {"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"};
	_cleanup_store_ struct image_store *s = NULL;
	struct image_history_entry *h = NULL;
	struct hrow *rows = NULL;
	struct err *err = NULL;
	bool human = true, no_trunc = false, quiet = false;
	size_t n = 0, w[5];
	char id[72];
	int c, ret = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":H::q", opts, NULL)) != -1) {
		switch (c) {
		case 'H': {
			/* -H=false, -Hfalse and --human=false, like Go's flag package */
			const char *v = optarg && *optarg == '=' ? optarg + 1 : optarg;
			if (v && strcmp(v, "true") && strcmp(v, "1") && strcmp(v, "false") &&
			    strcmp(v, "0")) {
				err_set(&err, EINVAL,
					"invalid argument \"%s\" for \"-H, --human\" flag: "
					"strconv.ParseBool: parsing \"%s\": invalid syntax",
					v, v);
				return cli_fail(&err);
			}
			human = !v || !strcmp(v, "true") || !strcmp(v, "1");
			break;
		}
		case 'T':
			no_trunc = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			printf("Usage: moat image history [OPTIONS] IMAGE\n\n"
			       "Show the history of an image\n\nOptions:\n"
			       "  -H, --human      Print sizes and dates in human readable format "
			       "(default true)\n"
			       "      --no-trunc   Don't truncate output\n"
			       "  -q, --quiet      Only show image IDs\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 1) {
		err_set(&err, EINVAL, "\"history\" requires exactly 1 argument");
		return cli_fail(&err);
	}
	if (cli_store_open(ctx, &s, &err) < 0 ||
	    image_store_history(s, argv[optind], id, &h, &n, &err) < 0)
		return cli_fail(&err);
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows) {
		image_history_free(h, n);
		err_errno(&err, ENOMEM, "history");
		return cli_fail(&err);
	}
	for (size_t k = 0; k < 5; k++)
		w[k] = strlen(head[k]);
	/* Newest first; only the newest has an id of its own. */
	for (size_t i = 0; i < n && ret == 0; i++) {
		const struct image_history_entry *e = &h[n - 1 - i];
		char created[64], size[32], by[4096], *tabs;

		if (e->created <= 0)
			snprintf(created, sizeof(created), "N/A");
		else if (human)
			human_ago(e->created, created, sizeof(created));
		else {
			time_t t = (time_t)e->created;
			struct tm tm;
			strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
		}
		if (human)
			human_size(e->size, size, sizeof(size));
		else
			snprintf(size, sizeof(size), "%llu", (unsigned long long)e->size);
		snprintf(by, sizeof(by), "%s", e->created_by ? e->created_by : "");
		while ((tabs = strchr(by, '\t')))
			*tabs = ' ';
		if (!no_trunc) {
			char t[4096];
			ellipsis(by, 45, t, sizeof(t));
			snprintf(by, sizeof(by), "%s", t);
		}
		if (i > 0)
			rows[i].col[0] = strdup("<missing>");
		else if (asprintf(&rows[i].col[0], "%.*s", no_trunc ? 71 : 12,
				  no_trunc ? id : id + 7) < 0)
			rows[i].col[0] = NULL;
		rows[i].col[1] = strdup(created);
		rows[i].col[2] = strdup(by);
		rows[i].col[3] = strdup(size);
		rows[i].col[4] = strdup(e->comment ? e->comment : "");
		for (size_t k = 0; k < 5; k++) {
			if (!rows[i].col[k]) {
				ret = -ENOMEM;
				break;
			}
			if (width(rows[i].col[k]) > w[k])
				w[k] = width(rows[i].col[k]);
		}
	}
	image_history_free(h, n);
	if (ret < 0) {
		err_errno(&err, ENOMEM, "history");
		ret = cli_fail(&err);
		goto out;
	}
	/* Docker's tabwriter: cells padded by 3, at least 10 wide. */
	for (size_t k = 0; k < 5; k++)
		w[k] = w[k] + 3 < 10 ? 10 : w[k] + 3;
	for (size_t i = 0; i <= n; i++) {
		const char *const *col = i ? (const char *const *)rows[i - 1].col : head;
		if (quiet) {
			if (i)
				printf("%s\n", col[0]);
			continue;
		}
		for (size_t k = 0; k < 4; k++)
			cell(col[k], w[k]);
		printf("%s\n", col[4]);
	}
out:
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < 5; k++)
			free(rows[i].col[k]);
	free(rows);
	return ret;
}

static bool prune_confirmed(bool all)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	const char *s;

	printf("WARNING! This will remove all %s.\nAre you sure you want to continue? [y/N] ",
	       all ? "images without at least one container associated to them"
		   : "dangling images");
	fflush(stdout);
	if (getline(&line, &cap, stdin) <= 0)
		return false;
	for (s = line; *s == ' ' || *s == '\t'; s++)
		;
	return (s[0] == 'y' || s[0] == 'Y') && (!s[1] || s[1] == '\n' || s[1] == '\r');
}

/* Appends copies of the strings of ADD to the strv *V of *N. */
static int strv_add(char ***v, size_t *n, char *const *add)
{
	for (; add && *add; add++)
		if (cli_strv_push_dup(v, n, *add) < 0)
			return -ENOMEM;
	return 0;
}

/* Does image IMG pass F (its config's created time, else when the store
 * got it, and its config labels)? Filters without until or label read
 * no config. */
static int prune_passes(struct image_store *s, const struct image *img,
			const struct prune_filter *f, bool *pass, struct err **err)
{
	_cleanup_strv_ char **labels = NULL;
	int64_t created;

	*pass = true;
	if (!f->has_until && !f->n_labels && !f->n_not)
		return 0;
	if (image_store_prune_meta(s, img->id, &created, &labels, err) < 0)
		return err_ret(*err);
	if (created < 0)
		created = img->created * 1000000000LL;
	*pass = prune_filter_match(f, created, labels);
	return 0;
}

int cli_image_prune_run(struct cli_ctx *ctx, const struct prune_filter *f, uint64_t *reclaimed)
{
	_cleanup_store_ struct image_store *s = NULL;
	_cleanup_strv_ char **all_untagged = NULL, **all_deleted = NULL, **lines = NULL;
	struct container_entry *ctrs = NULL;
	struct audit_log *alog = NULL;
	struct image **imgs = NULL;
	struct err *err = NULL, *first = NULL;
	struct engine_identity ident;
	struct image_gc_report gc = {0};
	size_t n = 0, nc = 0, nu = 0, nd = 0, nl = 0;
	int ret = 0;

	*reclaimed = 0;
	if (engine_identity_select(ctx->rootless, ctx->uid, ctx->gid, NULL, &ident, &err) < 0 ||
	    engine_container_list(ctx->root, ctx->runroot, &ctrs, &nc, &err) < 0)
		return cli_fail(&err);
	if (cli_audit_begin(ctx, &alog, &err) < 0) {
		engine_container_list_free(ctrs, nc);
		return cli_fail(&err);
	}
	if (cli_store_open(ctx, &s, &err) < 0 || image_store_list(s, &imgs, &n, &err) < 0) {
		engine_container_list_free(ctrs, nc);
		cli_audit_outcome(alog, "image.prune", NULL, NULL, NULL, NULL, err);
		return cli_fail(&err);
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		_cleanup_strv_ char **untagged = NULL, **deleted = NULL;
		bool used = false, pass;

		if (f->dangling && imgs[i]->names && imgs[i]->names[0])
			continue;
		for (size_t k = 0; k < nc && !used; k++)
			used = ctrs[k].rec.image_id && !strcmp(ctrs[k].rec.image_id, imgs[i]->id);
		if (used)
			continue;
		/* By id: every name goes (-a removes named images whole). A
		 * failure (removed or re-tagged meanwhile) is said and the
		 * others go on. */
		if (prune_passes(s, imgs[i], f, &pass, &err) < 0 ||
		    (pass && image_store_remove_report(s, imgs[i]->id, true, &untagged, &deleted,
						       &err) < 0)) {
			fprintf(stderr, "moat: %s\n", err->msg);
			if (!first)
				first = steal_ptr(err);
			err_free(&err);
			continue;
		}
		if (!pass)
			continue;
		if (strv_add(&all_untagged, &nu, untagged) < 0 ||
		    strv_add(&all_deleted, &nd, deleted) < 0)
			ret = -ENOMEM;
		/* Docker's listing: each image's names, then its id. */
		for (char **u = untagged; ret == 0 && u && *u; u++) {
			_cleanup_free_ char *l = NULL;
			if (asprintf(&l, "untagged: %s", *u) < 0)
				l = NULL;
			if (!l || strv_add(&lines, &nl, (char *[]){l, NULL}) < 0)
				ret = -ENOMEM;
		}
		for (char **d = deleted; ret == 0 && d && *d; d++) {
			_cleanup_free_ char *l = NULL;
			if (asprintf(&l, "deleted: %s", *d) < 0)
				l = NULL;
			if (!l || strv_add(&lines, &nl, (char *[]){l, NULL}) < 0)
				ret = -ENOMEM;
		}
		if (deleted && deleted[0])
			*reclaimed += imgs[i]->size;
	}
	engine_container_list_free(ctrs, nc);
	for (size_t i = 0; i < n; i++)
		image_free(imgs[i]);
	free(imgs);
	if (ret < 0)
		err_errno(&first, ENOMEM, "image prune");
	/* Then what nothing references any more: leftovers of crashes and
	 * older moats (removing an image already took its own). */
	if (ret == 0 && image_store_gc(s, &ident.ids, &gc, &err) < 0) {
		fprintf(stderr, "moat: %s\n", err->msg);
		if (!first)
			first = steal_ptr(err);
		err_free(&err);
	}
	*reclaimed += gc.bytes;
	cli_print_deleted("Images", lines);
	fflush(stdout);
	if (cli_audit_outcome(alog, "image.prune", "untagged", all_untagged, "deleted", all_deleted,
			      first))
		ret = 125;
	if (first) {
		err_free(&first);
		return ret ? ret : 1;
	}
	return ret;
}

/* `image prune [-a] [-f] [--filter K=V]...`: images no container uses
 * and, without -a, that have no name; then the store's garbage. */
static int cmd_image_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_prune_flags pf;
	struct prune_filter f;
	struct prune_clock clk;
	struct err *err = NULL;
	uint64_t reclaimed = 0;
	char size[32];
	int ret;

	if (!cli_prune_flags(argc, argv, "image prune", CLI_PRUNE_ALL,
			     "Usage: moat image prune [OPTIONS]\n\nRemove unused images\n\n"
			     "Options:\n"
			     "  -a, --all             Remove all unused images, not just dangling "
			     "ones\n"
			     "      --filter filter   Provide filter values (e.g. "
			     "\"until=<timestamp>\")\n"
			     "  -f, --force           Do not prompt for confirmation\n",
			     &pf, &ret))
		return ret;
	cli_prune_clock(&clk);
	ret = prune_filter_parse(pf.specs, pf.nspecs, PRUNE_IMAGES, pf.all, &clk, &f, &err);
	free(pf.specs);
	if (ret < 0)
		return cli_fail(&err);
	if (!pf.force && !prune_confirmed(pf.all)) {
		prune_filter_clear(&f);
		printf("Total reclaimed space: 0B\n");
		return 0;
	}
	ret = cli_image_prune_run(ctx, &f, &reclaimed);
	prune_filter_clear(&f);
	engine_inspect_human_size(reclaimed, 4, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	fflush(stdout);
	return ret;
}

/* `image inspect`: `inspect --type image`. */
static int cmd_image_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char **v = calloc((size_t)argc + 3, sizeof(char *));
	struct err *err = NULL;

	if (!v) {
		err_errno(&err, ENOMEM, "image inspect");
		return cli_fail(&err);
	}
	v[0] = argv[0];
	v[1] = (char *)"--type";
	v[2] = (char *)"image";
	for (int i = 1; i < argc; i++)
		v[i + 2] = argv[i];
	return cli_inspect_run(ctx, argc + 2, v, false);
}

static const struct {
	const char *name;
	int (*fn)(struct cli_ctx *, int, char **);
	const char *help;
} image_verbs[] = {
    {"history", cmd_history, "Show the history of an image"},
    {"inspect", cmd_image_inspect, "Display detailed information on one or more images"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"ls", cmd_images, "List images"},
    {"list", cmd_images, NULL},
    {"prune", cmd_image_prune, "Remove unused images"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"push", cmd_push, "Upload an image to a registry"},
    {"rm", cmd_rmi, "Remove one or more images"},
    {"remove", cmd_rmi, NULL},
    {"save", cmd_save, "Save one or more images to a tar archive"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
};

int cmd_image(struct cli_ctx *ctx, int argc, char **argv)
{
	struct err *err = NULL;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		printf("Usage: moat image COMMAND\n\nManage images\n\nCommands:\n");
		for (size_t i = 0; i < ARRAY_SIZE(image_verbs); i++)
			if (image_verbs[i].help)
				printf("  %-11s %s\n", image_verbs[i].name, image_verbs[i].help);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(image_verbs); i++)
		if (!strcmp(argv[1], image_verbs[i].name))
			return image_verbs[i].fn(ctx, argc - 1, argv + 1);
	err_set(&err, EINVAL, "'image %s' is not a moat command (see 'moat image --help')",
		argv[1]);
	err->exit = 1;
	return cli_fail(&err);
}
