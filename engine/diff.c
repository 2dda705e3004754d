/*
 * engine/diff.c - PURE: classifies a container's upper-layer entries into
 * Docker's A/C/D changes (the rules are in engine/diff.h).
 *
 * Runs in: the moat CLI process, as the invoking user or root; touches no
 * file, process or clock. What the image holds is asked through the
 * caller's lookup and list callbacks, which may fail: their error ends the
 * classification and nothing is returned.
 *
 * Invariants:
 *  - every path is checked (canonical, absolute, < DIFF_PATH_MAX) and the
 *    entry count capped before anything is allocated for it;
 *  - a path is reported at most once, and the output is sorted with
 *    diff_path_cmp, whatever order the entries came in.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "engine/diff.h"

const char *const diff_mount_targets[] = {
    "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/dev", "/proc", "/sys", NULL,
};

bool diff_path_valid(const char *path)
{
	size_t len;

	if (!path || path[0] != '/')
		return false;
	len = strlen(path);
	if (len < 2 || len >= DIFF_PATH_MAX || path[len - 1] == '/')
		return false;
	for (const char *p = path; *p;) {
		const char *c = p + 1, *end = strchr(c, '/');
		size_t n = end ? (size_t)(end - c) : strlen(c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		p = c + n;
	}
	return true;
}

int diff_path_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;

	while (*x && *x == *y)
		x++, y++;
	if (*x == *y)
		return 0;
	if (!*x)
		return -1;
	if (!*y)
		return 1;
	if (*x == '/')
		return -1;
	if (*y == '/')
		return 1;
	return *x < *y ? -1 : 1;
}

/* True when PATH is ANC or lies below it. */
static bool at_or_below(const char *path, const char *anc)
{
	size_t n = strlen(anc);

	return !strncmp(path, anc, n) && (path[n] == 0 || path[n] == '/');
}

static bool is_hidden(const char *path, const char *const *hidden)
{
	for (size_t i = 0; hidden && hidden[i]; i++)
		if (at_or_below(path, hidden[i]))
			return true;
	return false;
}

/* Per entry, in sorted order. */
struct node {
	const struct diff_entry *e;
	long parent; /* index of the nearest ancestor entry, -1: none */
	bool hidden;
	bool holds_hidden; /* a hidden entry lies below it */
	bool below;	   /* the image has this path */
	bool has_desc;	   /* a change is reported below it */
	struct diff_lower lower;
};

static int node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return diff_path_cmp(x->e->path, y->e->path);
}

static int change_cmp(const void *a, const void *b)
{
	const struct diff_change *x = a, *y = b;

	return diff_path_cmp(x->path, y->path);
}

/* Is PATH among the sorted nodes? */
static bool in_upper(const struct node *v, size_t n, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = diff_path_cmp(path, v[mid].e->path);

		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

struct changes {
	struct diff_change *v;
	size_t n, cap;
};

static int add(struct changes *c, enum diff_kind kind, const char *path, char *owned,
	       struct err **err)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct diff_change *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv) {
			free(owned);
			return err_errno(err, ENOMEM, "diff");
		}
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n].kind = kind;
	c->v[c->n].path = owned ? owned : strdup(path);
	if (!c->v[c->n].path)
		return err_errno(err, ENOMEM, "diff");
	c->n++;
	return 0;
}

/* The D entries of opaque directory V[K]: what the image has there that
 * the upper layer does not. */
static int opaque_deletions(const struct node *v, size_t n, size_t k, const char *const *hidden,
			    const struct diff_lower_ops *ops, void *arg, struct changes *c,
			    struct err **err)
{
	_cleanup_strv_ char **names = NULL;
	const char *dir = v[k].e->path;
	int r;

	if ((r = ops->list(arg, dir, &names, err)) < 0)
		return r;
	for (size_t i = 0; names && names[i]; i++) {
		size_t dl = strlen(dir), nl = strlen(names[i]);
		char *p;

		if (!names[i][0] || strchr(names[i], '/') || !strcmp(names[i], ".") ||
		    !strcmp(names[i], ".."))
			return err_set(err, EINVAL, "the image lists a bad name in \"%s\"", dir);
		if (dl + 1 + nl >= DIFF_PATH_MAX)
			continue; /* cannot be in the upper layer either */
		p = malloc(dl + 1 + nl + 1);
		if (!p)
			return err_errno(err, ENOMEM, "diff");
		memcpy(p, dir, dl);
		p[dl] = '/';
		memcpy(p + dl + 1, names[i], nl + 1);
		if (in_upper(v, n, p) || is_hidden(p, hidden)) {
			free(p);
			continue;
		}
		if ((r = add(c, DIFF_DELETED, NULL, p, err)) < 0)
			return r;
	}
	return 0;
}

static bool meta_differs(const struct diff_entry *e, const struct diff_lower *l)
{
	return !l->dir || (e->mode & 07777) != (l->mode & 07777) || e->uid != l->uid ||
	       e->gid != l->gid;
}

/* The kind of V[K] (0: not a change), once its descendants are decided. */
static int decide(const struct node *x)
{
	const struct diff_entry *e = x->e;

	if (x->hidden)
		return 0;
	switch (e->type) {
	case DIFF_ENTRY_WHITEOUT:
		return x->below ? DIFF_DELETED : 0;
	case DIFF_ENTRY_OTHER:
		return x->below ? DIFF_CHANGED : DIFF_ADDED;
	case DIFF_ENTRY_DIR:
		if (!x->below)
			return x->holds_hidden && !x->has_desc ? 0 : DIFF_ADDED;
		if (x->has_desc || e->opaque || e->unreadable || meta_differs(e, &x->lower))
			return DIFF_CHANGED;
		return 0;
	default:
		return 0;
	}
}

void diff_changes_free(struct diff_change *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++)
		free(c[i].path);
	free(c);
}

int diff_changes_classify(const struct diff_entry *e, size_t n, const char *const *hidden,
			  const struct diff_lower_ops *ops, void *arg, struct diff_change **out,
			  size_t *nout, struct err **err)
{
	_cleanup_free_ struct node *v = NULL;
	_cleanup_free_ long *stack = NULL;
	struct changes c = {0};
	size_t depth = 0;
	int r;

	if (n > DIFF_MAX_ENTRIES)
		return err_set(err, E2BIG, "more than %u changed files", DIFF_MAX_ENTRIES);
	for (size_t i = 0; i < n; i++)
		if (!diff_path_valid(e[i].path))
			return err_set(err, EINVAL, "bad path in the container's layer: \"%.200s\"",
				       e[i].path ? e[i].path : "(null)");
	v = calloc(n ? n : 1, sizeof(*v));
	stack = calloc(n ? n : 1, sizeof(*stack));
	if (!v || !stack)
		return err_errno(err, ENOMEM, "diff");
	for (size_t i = 0; i < n; i++)
		v[i].e = &e[i];
	qsort(v, n, sizeof(*v), node_cmp);

	/* Parents precede their children in this order: a stack of the open
	 * directories finds each entry's nearest ancestor. */
	for (size_t k = 0; k < n; k++) {
		const char *p = v[k].e->path;

		if (k && !diff_path_cmp(v[k - 1].e->path, p))
			return err_set(err, EINVAL, "\"%.200s\" is listed twice", p);
		while (depth && !at_or_below(p, v[stack[depth - 1]].e->path))
			depth--;
		v[k].parent = depth ? stack[depth - 1] : -1;
		v[k].hidden = is_hidden(p, hidden);
		if (v[k].hidden)
			for (long a = v[k].parent; a >= 0; a = v[a].parent)
				v[a].holds_hidden = true;
		if (v[k].e->type == DIFF_ENTRY_DIR)
			stack[depth++] = (long)k;
	}

	for (size_t k = 0; k < n; k++) {
		long p = v[k].parent;

		if (v[k].hidden)
			continue;
		/* Below a directory the image does not have (as one), the
		 * image has nothing: no need to ask. */
		if (p >= 0 && v[p].e->type == DIFF_ENTRY_DIR && !v[p].hidden &&
		    (!v[p].below || !v[p].lower.dir) && at_or_below(v[k].e->path, v[p].e->path))
			continue;
		r = ops->lookup(arg, v[k].e->path, &v[k].lower, err);
		if (r < 0)
			return r;
		v[k].below = r > 0;
	}

	/* Children come after their parents: deciding backwards sees every
	 * descendant of a directory before the directory. */
	for (size_t k = n; k-- > 0;) {
		int kind;

		if (v[k].e->type == DIFF_ENTRY_DIR && !v[k].hidden && v[k].below &&
		    v[k].e->opaque && v[k].lower.dir) {
			size_t before = c.n;

			if ((r = opaque_deletions(v, n, k, hidden, ops, arg, &c, err)) < 0)
				goto fail;
			if (c.n > before)
				v[k].has_desc = true;
		}
		kind = decide(&v[k]);
		if (!kind)
			continue;
		if ((r = add(&c, (enum diff_kind)kind, v[k].e->path, NULL, err)) < 0)
			goto fail;
		if (v[k].parent >= 0)
			v[v[k].parent].has_desc = true;
	}
	if (!c.v) {
		/* (qsort's argument is declared nonnull: not called on NULL) */
		c.v = calloc(1, sizeof(*c.v));
		if (!c.v)
			return err_errno(err, ENOMEM, "diff");
	}
	qsort(c.v, c.n, sizeof(*c.v), change_cmp);
	*out = c.v;
	*nout = c.n;
	return 0;
fail:
	diff_changes_free(c.v, c.n);
	return r;
}
