/*
 * engine/format_exec.c - `--format`'s evaluator: walks a parsed template over a jansson
 * value and renders it (fmt_template_render). While rendering, a value is an owned json_t
 * reference; NULL stands for Go's invalid value, "no value" (a missing map key).
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: no file, process or network
 * state; the only output is the FILE * a caller passes.
 *
 * Invariants:
 *  - a render is bounded: FMT_MAX_STEPS evaluation steps (range iterations included),
 *    FMT_MAX_OUTPUT bytes of output; the walk recurses only as deep as the tree, which the
 *    parser capped at FMT_MAX_DEPTH;
 *  - the caller's data is only read: shared by reference count, never modified;
 *  - a render writes all of its output or none of it: it is built in memory first.
 */
#include "engine/format_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"

#define WALK_BREAK 1
#define WALK_CONTINUE 2

/* ---- evaluation -------------------------------------------------------------------- */

__attribute__((format(printf, 4, 0))) static int
vrerr(struct state *st, int code, const struct span *sp, const char *fmt, va_list ap)
{
	char msg[640];
	int line, col;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fmt_linecol(st->t->src, sp->off, &line, &col);
	return err_set(st->err, code, "template: :%d:%d: executing \"\" at <%.*s%s>: %s", line, col,
		       (int)(sp->len > 20 ? 20 : sp->len), st->t->src + sp->off,
		       sp->len > 20 ? "..." : "", msg);
}

/* A runtime error at SP: "template: :L:C: executing "" at <source>: what". */
int fmt_rerr(struct state *st, const struct span *sp, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrerr(st, EINVAL, sp, fmt, ap);
	va_end(ap);
	return r;
}

/* The same for a limit (-E2BIG). */
__attribute__((format(printf, 3, 4))) static int rerr_big(struct state *st, const struct span *sp,
							  const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vrerr(st, E2BIG, sp, fmt, ap);
	va_end(ap);
	return r;
}

int fmt_buf_err(struct state *st, const struct span *sp, int e)
{
	if (e == -ENOMEM)
		return err_set(st->err, ENOMEM, "template: out of memory");
	if (e == -ELOOP)
		return fmt_rerr(st, sp, "value nested deeper than %d levels", FMT_MAX_DEPTH);
	return rerr_big(st, sp, "output larger than %lu bytes", FMT_MAX_OUTPUT);
}

static int step(struct state *st, const struct span *sp)
{
	if (--st->steps >= 0)
		return 0;
	return rerr_big(st, sp, "more than %ld evaluation steps", FMT_MAX_STEPS);
}

static int push_var(struct state *st, const char *name, json_t *v)
{
	if (st->nvars == st->cap) {
		size_t nc = st->cap ? st->cap * 2 : 16;
		struct var *nv = realloc(st->vars, nc * sizeof(*nv));

		if (!nv)
			return err_set(st->err, ENOMEM, "template: out of memory");
		st->vars = nv;
		st->cap = nc;
	}
	st->vars[st->nvars++] = (struct var){name, json_incref(v)};
	return 0;
}

static void pop_vars(struct state *st, size_t mark)
{
	while (st->nvars > mark)
		json_decref(st->vars[--st->nvars].v);
}

static struct var *find_var(struct state *st, const char *name)
{
	for (size_t i = st->nvars; i-- > 0;)
		if (!strcmp(st->vars[i].name, name))
			return &st->vars[i];
	return NULL;
}

static int set_var(struct state *st, const struct span *sp, const char *name, json_t *v)
{
	struct var *var = find_var(st, name);

	if (!var)
		return fmt_rerr(st, sp, "undefined variable: %s", name);
	json_decref(var->v);
	var->v = json_incref(v);
	return 0;
}

/* "." applied to V: an object member; nothing from nothing (Go's map semantics). ARGS: the
 * field is being given arguments, which only methods take. */
static int field(struct state *st, const struct span *sp, json_t *v, const char *name, bool args,
		 json_t **out)
{
	*out = NULL;
	if (!v)
		return 0;
	if (json_is_object(v)) {
		if (args)
			return fmt_rerr(st, sp, "%s is not a method but has arguments", name);
		*out = json_incref(json_object_get(v, name));
		return 0;
	}
	if (json_is_null(v))
		return fmt_rerr(st, sp, "nil pointer evaluating interface {}.%s", name);
	return fmt_rerr(st, sp, "can't evaluate field %s in type %s", name, fmt_tname(v));
}

static int chain(struct state *st, const struct span *sp, json_t *recv, const char *const *names,
		 size_t n, bool args, json_t **out)
{
	json_t *v = json_incref(recv);

	for (size_t i = 0; i < n; i++) {
		json_t *nv = NULL;
		int r = field(st, sp, v, names[i], args && i + 1 == n, &nv);

		json_decref(v);
		if (r < 0)
			return r;
		v = nv;
	}
	*out = v;
	return 0;
}

static int eval_pipeline(struct state *st, json_t *dot, const struct pipe *pp, json_t **out);

static int var_value(struct state *st, const struct arg *a, json_t **out)
{
	struct var *v = find_var(st, a->var);

	if (!v)
		return fmt_rerr(st, &a->sp, "undefined variable: %s", a->var);
	*out = v->v;
	return 0;
}

/* An argument's value (a new reference, or NULL for no value). */
int fmt_eval_arg(struct state *st, json_t *dot, const struct arg *a, json_t **out)
{
	json_t *b = NULL;
	int r;

	*out = NULL;
	switch (a->kind) {
	case A_DOT:
		*out = json_incref(dot);
		return 0;
	case A_NIL:
		*out = json_null();
		return 0;
	case A_CONST:
		*out = json_incref(a->value);
		return 0;
	case A_FIELD:
		return chain(st, &a->sp, dot, a->fields, a->nfields, false, out);
	case A_VAR:
		if ((r = var_value(st, a, &b)) < 0)
			return r;
		return chain(st, &a->sp, b, a->fields, a->nfields, false, out);
	case A_PIPE:
		return eval_pipeline(st, dot, a->pipe, out);
	case A_FUNC:
		return fmt_call_fn(st, dot, &a->sp, a->fn, NULL, 0, false, NULL, out);
	case A_CHAIN:
		if ((r = fmt_eval_arg(st, dot, a->base, &b)) < 0)
			return r;
		r = chain(st, &a->sp, b, a->fields, a->nfields, false, out);
		json_decref(b);
		return r;
	default:
		return fmt_rerr(st, &a->sp, "internal error: bad argument");
	}
}

/* One command of a pipeline; FINAL (when HAVE_FINAL) is the previous command's value,
 * passed as the last argument. */
static int eval_command(struct state *st, json_t *dot, const struct cmd *c, bool have_final,
			json_t *final, json_t **out)
{
	const struct arg *a = c->args[0];
	bool extra = c->nargs > 1 || have_final;
	json_t *b = NULL;
	int r;

	*out = NULL;
	if ((r = step(st, &c->sp)) < 0)
		return r;
	switch (a->kind) {
	case A_FIELD:
		return chain(st, &a->sp, dot, a->fields, a->nfields, extra, out);
	case A_CHAIN:
		if ((r = fmt_eval_arg(st, dot, a->base, &b)) < 0)
			return r;
		r = chain(st, &a->sp, b, a->fields, a->nfields, extra, out);
		json_decref(b);
		return r;
	case A_VAR:
		if (!a->nfields)
			break;
		if ((r = var_value(st, a, &b)) < 0)
			return r;
		return chain(st, &a->sp, b, a->fields, a->nfields, extra, out);
	case A_FUNC:
		return fmt_call_fn(st, dot, &c->sp, a->fn, c->args + 1, c->nargs - 1, have_final,
				   final, out);
	case A_NIL:
		return fmt_rerr(st, &a->sp, "nil is not a command");
	default:
		break;
	}
	if (extra)
		return fmt_rerr(st, &a->sp, "can't give argument to non-function %.*s",
				(int)a->sp.len, st->t->src + a->sp.off);
	return fmt_eval_arg(st, dot, a, out);
}

static int eval_pipeline(struct state *st, json_t *dot, const struct pipe *pp, json_t **out)
{
	json_t *v = NULL;
	int r;

	*out = NULL;
	for (size_t i = 0; i < pp->ncmds; i++) {
		json_t *nv = NULL;

		r = eval_command(st, dot, pp->cmds[i], i > 0, v, &nv);
		json_decref(v);
		if (r < 0)
			return r;
		v = nv;
	}
	for (size_t i = 0; i < pp->ndecl; i++) {
		r = pp->assign ? set_var(st, &pp->sp, pp->decl[i], v)
			       : push_var(st, pp->decl[i], v);
		if (r < 0) {
			json_decref(v);
			return r;
		}
	}
	*out = v;
	return 0;
}

static int walk(struct state *st, json_t *dot, const struct list *l);

static int walk_if(struct state *st, json_t *dot, const struct node *n)
{
	size_t mark = st->nvars;
	json_t *v = NULL;
	int r = eval_pipeline(st, dot, n->pipe, &v);

	if (r >= 0) {
		if (fmt_truth(v))
			r = walk(st, n->kind == N_WITH ? v : dot, n->list);
		else if (n->elist)
			r = walk(st, dot, n->elist);
	}
	json_decref(v);
	pop_vars(st, mark);
	return r;
}

/* Sets the range variables for one iteration: "$v" gets ELEM, or "$k, $v" KEY and ELEM. */
static int range_vars(struct state *st, const struct pipe *pp, size_t mark, json_t *key,
		      json_t *elem)
{
	json_t *vals[2] = {pp->ndecl == 2 ? key : elem, elem};
	int r = 0;

	for (size_t i = 0; i < pp->ndecl && r >= 0; i++) {
		if (pp->assign) {
			r = set_var(st, &pp->sp, pp->decl[i], vals[i]);
		} else {
			struct var *var = &st->vars[mark - pp->ndecl + i];

			json_decref(var->v);
			var->v = json_incref(vals[i]);
		}
	}
	return r;
}

static int range_one(struct state *st, const struct node *n, size_t mark, json_t *key, json_t *elem)
{
	int r;

	if (!key && n->pipe->ndecl == 2)
		return err_set(st->err, ENOMEM, "template: out of memory");
	/* an iteration is a step even with an empty body: nested ranges multiply */
	if ((r = step(st, &n->sp)) < 0) {
		json_decref(key);
		return r;
	}
	r = range_vars(st, n->pipe, mark, key, elem);
	json_decref(key);
	if (r >= 0)
		r = walk(st, elem, n->list);
	pop_vars(st, mark);
	return r;
}

static int walk_range(struct state *st, json_t *dot, const struct node *n)
{
	const struct pipe *pp = n->pipe;
	size_t mark0 = st->nvars, mark, i;
	_cleanup_free_ const char **keys = NULL;
	bool two = pp->ndecl == 2;
	struct buf what = {.max = 60};
	json_t *v = NULL;
	int r = eval_pipeline(st, dot, pp, &v);

	mark = st->nvars;
	if (r >= 0 && json_is_array(v) && json_array_size(v)) {
		for (i = 0; i < json_array_size(v) && r != WALK_BREAK; i++) {
			r = range_one(st, n, mark, two ? json_integer((json_int_t)i) : NULL,
				      json_array_get(v, i));
			if (r < 0)
				break;
		}
		r = r < 0 ? r : 0;
	} else if (r >= 0 && json_is_object(v) && json_object_size(v)) {
		keys = fmt_sorted_keys(v);
		if (!keys)
			r = err_set(st->err, ENOMEM, "template: out of memory");
		for (i = 0; keys && keys[i] && r >= 0 && r != WALK_BREAK; i++)
			r = range_one(st, n, mark,
				      two ? json_stringn_nocheck(keys[i], strlen(keys[i])) : NULL,
				      json_object_get(v, keys[i]));
		r = r < 0 ? r : 0;
	} else if (r >= 0 && (!v || json_is_null(v) || json_is_array(v) || json_is_object(v))) {
		/* nothing to iterate over is not an error; a break here is the outer range's */
		if (n->elist)
			r = walk(st, dot, n->elist);
	} else if (r >= 0) {
		fmt_print_v(&what, v);
		r = fmt_rerr(st, &pp->sp, "range can't iterate over %.*s%s", (int)what.len,
			     what.p ? what.p : "", what.err ? "..." : "");
	}
	fmt_bfree(&what);
	json_decref(v);
	pop_vars(st, mark0);
	return r;
}

static int walk(struct state *st, json_t *dot, const struct list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct node *n = l->v[i];
		json_t *v = NULL;
		int r = step(st, &n->sp);

		if (r < 0)
			return r;
		switch (n->kind) {
		case N_TEXT:
			fmt_bput(&st->out, st->t->src + n->sp.off, n->sp.len);
			break;
		case N_ACTION:
			if ((r = eval_pipeline(st, dot, n->pipe, &v)) < 0)
				return r;
			if (!n->pipe->ndecl) {
				if (v)
					fmt_print_v(&st->out, v);
				else
					fmt_bputs(&st->out, "<no value>");
			}
			json_decref(v);
			break;
		case N_IF:
		case N_WITH:
			r = walk_if(st, dot, n);
			break;
		case N_RANGE:
			r = walk_range(st, dot, n);
			break;
		case N_BREAK:
			return WALK_BREAK;
		case N_CONTINUE:
			return WALK_CONTINUE;
		default:
			return fmt_rerr(st, &n->sp, "internal error: bad node");
		}
		if (r)
			return r;
		if (st->out.err)
			return fmt_buf_err(st, &n->sp, st->out.err);
	}
	return 0;
}

int fmt_template_render(const struct fmt_template *t, json_t *data, FILE *out, struct err **err)
{
	struct state st = {.t = t, .steps = FMT_MAX_STEPS, .err = err};
	int r;

	if (!t || !t->root)
		return err_set(err, EINVAL, "template: nothing to render");
	st.out.max = FMT_MAX_OUTPUT;
	r = push_var(&st, "$", data);
	if (r >= 0)
		r = walk(&st, data, t->root);
	pop_vars(&st, 0);
	free(st.vars);
	if (r >= 0 && st.out.len && fwrite(st.out.p, 1, st.out.len, out) != st.out.len)
		r = err_errno(err, EIO, "template: writing the output");
	fmt_bfree(&st.out);
	return r < 0 ? r : 0;
}
