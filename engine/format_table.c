/*
 * engine/format_table.c - `--format table`: the header row of a table template, Docker's
 * table writer (text/tabwriter with minwidth 10, tabwidth 1, padding 3, padchar ' ',
 * flags 0), and Docker's command-line escapes.
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: no file, process or network
 * state; the only output is the FILE * a caller passes.
 *
 * Invariants:
 *  - the header and the table are built in memory and written at once: all or nothing;
 *  - column widths are computed without recursion, in passes over runs of rows, so any
 *    number of rows and columns is handled in bounded stack;
 *  - the caller's rows are only read.
 */
#include "engine/format_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define TAB_MINWIDTH 10
#define TAB_PADDING 3

/* ---- table header ------------------------------------------------------------------ */

static const struct arg *first_field(const struct pipe *pp);

static const struct arg *arg_field(const struct arg *a)
{
	switch (a->kind) {
	case A_FIELD:
		return a;
	case A_VAR:
		return a->nfields && !strcmp(a->var, "$") ? a : NULL;
	case A_PIPE:
		return first_field(a->pipe);
	case A_CHAIN:
		return a->base->kind == A_PIPE ? first_field(a->base->pipe) : NULL;
	default:
		return NULL;
	}
}

/* The field a column shows: the first one in the pipeline, looking into parentheses. */
static const struct arg *first_field(const struct pipe *pp)
{
	for (size_t i = 0; i < pp->ncmds; i++)
		for (size_t j = 0; j < pp->cmds[i]->nargs; j++) {
			const struct arg *f = arg_field(pp->cmds[i]->args[j]);

			if (f)
				return f;
		}
	return NULL;
}

static void put_header(struct buf *b, const struct pipe *pp, bool action,
		       const char *(*header)(const char *field))
{
	const struct arg *f = pp->ndecl ? NULL : first_field(pp);
	const struct cmd *c = pp->cmds[0];
	struct buf name = {.max = FMT_MAX_SIZE}, text = {.max = FMT_MAX_OUTPUT};
	long long left = 0, right = 0;
	const char *h;

	if (!f)
		return;
	for (size_t i = 0; i < f->nfields; i++) {
		if (i)
			fmt_bputc(&name, '.');
		fmt_bputs(&name, f->fields[i]);
	}
	if (name.err) {
		b->err = name.err;
		fmt_bfree(&name);
		return;
	}
	h = header && name.p ? header(name.p) : NULL;
	if (h) {
		fmt_bputs(&text, h);
	} else {
		fmt_bput(&text, name.p, name.len);
		for (size_t i = 0; i < text.len; i++)
			if (text.p[i] >= 'a' && text.p[i] <= 'z')
				text.p[i] = (char)(text.p[i] - 'a' + 'A');
	}
	/* Docker keeps pad in headers, so that they line up with padded cells */
	if (action && c->nargs == 4 && c->args[0]->kind == A_FUNC &&
	    !strcmp(c->args[0]->fn->name, "pad") && c->args[2]->kind == A_CONST &&
	    json_is_integer(c->args[2]->value) && c->args[3]->kind == A_CONST &&
	    json_is_integer(c->args[3]->value) && text.len) {
		left = (long long)json_integer_value(c->args[2]->value);
		right = (long long)json_integer_value(c->args[3]->value);
	}
	if (left > 0 && (size_t)left <= FMT_MAX_OUTPUT)
		fmt_bpad(b, ' ', (size_t)left);
	fmt_bput(b, text.p, text.len);
	if (right > 0 && (size_t)right <= FMT_MAX_OUTPUT)
		fmt_bpad(b, ' ', (size_t)right);
	if (text.err && !b->err)
		b->err = text.err;
	fmt_bfree(&name);
	fmt_bfree(&text);
}

int fmt_template_header(const struct fmt_template *t, const char *(*header)(const char *field),
			FILE *out, struct err **err)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};
	int r = 0;

	if (!t || !t->root)
		return err_set(err, EINVAL, "template: no header to render");
	for (size_t i = 0; i < t->root->n; i++) {
		const struct node *n = t->root->v[i];

		if (n->kind == N_TEXT)
			fmt_bput(&b, t->src + n->sp.off, n->sp.len);
		else if (n->kind == N_ACTION || n->kind == N_IF || n->kind == N_WITH ||
			 n->kind == N_RANGE)
			put_header(&b, n->pipe, n->kind == N_ACTION, header);
	}
	if (b.err)
		r = err_set(err, -b.err, "template header: %s",
			    b.err == -ENOMEM ? "out of memory" : "too large");
	else if (b.len && fwrite(b.p, 1, b.len, out) != b.len)
		r = err_errno(err, EIO, "template header: writing the output");
	fmt_bfree(&b);
	return r;
}

/* ---- table writer ------------------------------------------------------------------ */

struct twcell {
	const char *s;
	size_t len, width, colw;
};

struct twline {
	size_t first, ncells; /* cells[first .. first + ncells) */
	unsigned block;	      /* '\f' starts a new one */
};

struct table {
	struct twcell *cells;
	size_t ncells, capcells;
	struct twline *lines;
	size_t nlines, caplines;
};

static int tw_cell(struct table *tb, const char *s, size_t n)
{
	if (tb->ncells == tb->capcells) {
		size_t nc = tb->capcells ? tb->capcells * 2 : 64;
		struct twcell *v = realloc(tb->cells, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		tb->cells = v;
		tb->capcells = nc;
	}
	tb->cells[tb->ncells++] = (struct twcell){s, n, fmt_u8count(s, n), 0};
	return 0;
}

static int tw_line(struct table *tb, size_t first, unsigned block)
{
	if (tb->nlines == tb->caplines) {
		size_t nc = tb->caplines ? tb->caplines * 2 : 64;
		struct twline *v = realloc(tb->lines, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		tb->lines = v;
		tb->caplines = nc;
	}
	tb->lines[tb->nlines++] = (struct twline){first, tb->ncells - first, block};
	return 0;
}

/* Cells of the column J of line I: a line's last cell belongs to no column. */
static bool has_col(const struct table *tb, size_t i, size_t j)
{
	return tb->lines[i].ncells > j + 1;
}

/*
 * tabwriter's widths without its recursion: the block of column J around a line is the
 * longest run of consecutive lines (in one '\f' block) that all have column J; such runs
 * nest inside the runs of column J-1, so each pass splits the previous pass's runs.
 */
static int tw_widths(struct table *tb)
{
	_cleanup_free_ size_t *runs = calloc(2 * tb->nlines + 2, sizeof(*runs));
	_cleanup_free_ size_t *nexts = calloc(2 * tb->nlines + 2, sizeof(*nexts));
	size_t nruns = 0, i = 0;

	if (!runs || !nexts)
		return -ENOMEM;
	while (i < tb->nlines) {
		size_t start = i;

		if (!has_col(tb, i, 0)) {
			i++;
			continue;
		}
		while (i < tb->nlines && has_col(tb, i, 0) &&
		       tb->lines[i].block == tb->lines[start].block)
			i++;
		runs[2 * nruns] = start;
		runs[2 * nruns++ + 1] = i;
	}
	for (size_t j = 0; nruns; j++) {
		size_t nnext = 0;
		size_t *swap;

		for (size_t r = 0; r < nruns; r++) {
			size_t a = runs[2 * r], e = runs[2 * r + 1], w = TAB_MINWIDTH;

			for (i = a; i < e; i++) {
				struct twcell *c = &tb->cells[tb->lines[i].first + j];

				if (c->width + TAB_PADDING > w)
					w = c->width + TAB_PADDING;
			}
			for (i = a; i < e; i++)
				tb->cells[tb->lines[i].first + j].colw = w;
			for (i = a; i < e;) {
				size_t start = i;

				while (i < e && has_col(tb, i, j + 1))
					i++;
				if (i > start) {
					nexts[2 * nnext] = start;
					nexts[2 * nnext++ + 1] = i;
				} else {
					i++;
				}
			}
		}
		swap = runs;
		runs = nexts;
		nexts = swap;
		nruns = nnext;
	}
	return 0;
}

int fmt_table_write(FILE *out, char *const *lines, size_t n, struct err **err)
{
	struct table tb = {0};
	struct buf b = {.max = SIZE_MAX / 2};
	unsigned block = 0;
	int r = 0;

	for (size_t l = 0; l < n && r >= 0; l++) {
		const char *s = lines[l] ? lines[l] : "";
		size_t len = strlen(s), cell = 0, first = tb.ncells;

		/* each row ends with an implied '\n' */
		for (size_t i = 0; i <= len && r >= 0; i++) {
			char ch = i < len ? s[i] : '\n';

			if (ch != '\t' && ch != '\v' && ch != '\n' && ch != '\f')
				continue;
			r = tw_cell(&tb, s + cell, i - cell);
			cell = i + 1;
			if (r >= 0 && (ch == '\n' || ch == '\f')) {
				r = tw_line(&tb, first, block);
				first = tb.ncells;
				block += ch == '\f';
			}
		}
	}
	if (r >= 0)
		r = tw_widths(&tb);
	for (size_t i = 0; i < tb.nlines && r >= 0; i++) {
		const struct twline *ln = &tb.lines[i];

		for (size_t j = 0; j < ln->ncells; j++) {
			const struct twcell *c = &tb.cells[ln->first + j];

			fmt_bput(&b, c->s, c->len);
			if (j + 1 < ln->ncells)
				fmt_bpad(&b, ' ', c->colw - c->width);
		}
		fmt_bputc(&b, '\n');
	}
	if (r >= 0 && b.err)
		r = b.err;
	if (r < 0)
		err_set(err, -r, "table: out of memory");
	else if (b.len && fwrite(b.p, 1, b.len, out) != b.len)
		r = err_errno(err, EIO, "table: writing the output");
	fmt_bfree(&b);
	free(tb.cells);
	free(tb.lines);
	return r;
}

/* ---- command-line escapes ---------------------------------------------------------- */

char *fmt_unescape(const char *src)
{
	size_t n = src ? strlen(src) : 0, k = 0;
	char *out = src ? malloc(n + 1) : NULL;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\\' && (src[i + 1] == 't' || src[i + 1] == 'n')) {
			out[k++] = src[i + 1] == 't' ? '\t' : '\n';
			i++;
		} else {
			out[k++] = src[i];
		}
	}
	out[k] = 0;
	return out;
}

int fmt_template_to_string(const struct fmt_template *t, json_t *data,
			   const char *(*header)(const char *field), char **out, struct err **err)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	int r;

	*out = NULL;
	if (!f)
		return err_errno(err, errno, "render a template");
	r = header ? fmt_template_header(t, header, f, err) : fmt_template_render(t, data, f, err);
	if (fclose(f) != 0 && r == 0)
		r = err_errno(err, ENOMEM, "render a template");
	if (r < 0) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}
