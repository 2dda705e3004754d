/*
 * engine/format_funcs.c - `--format`'s built-in functions: Go's (and or not len index print
 * printf println eq ne lt le gt ge) and Docker's (json split join title lower upper pad
 * truncate), and how a call evaluates its arguments.
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: no file, process or network
 * state.
 *
 * Invariants:
 *  - a function's arguments are only read; its result is a new reference;
 *  - a string a function builds is at most FMT_MAX_OUTPUT bytes, and the bytes of every
 *    string it builds (split's pieces included) count towards FMT_MAX_WORK per render, so a
 *    template cannot grow memory without bound by calling functions in a range;
 *  - and/or evaluate their arguments lazily, as Go's do.
 */
#include "engine/format_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"

#define FMT_MAX_WORK (64ul << 20) /* bytes of strings built by functions, per render */

/* ---- functions --------------------------------------------------------------------- */

struct call {
	struct state *st;
	const struct builtin *fn;
	const struct span *sp;
};

/* An argument of the wrong type, as Go's template reports it. */
__attribute__((format(printf, 2, 3))) static int bad(struct call *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fmt_rerr(c->st, c->sp, "%s", msg);
}

/* An error the function itself returns. */
__attribute__((format(printf, 2, 3))) static int fail(struct call *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fmt_rerr(c->st, c->sp, "error calling %s: %s", c->fn->name, msg);
}

static int want_str(struct call *c, json_t *v, const char **s, size_t *n)
{
	if (!v)
		return bad(c, "invalid value; expected string");
	if (!json_is_string(v))
		return bad(c, "wrong type for value; expected string; got %s", fmt_tname(v));
	*s = json_string_value(v);
	*n = json_string_length(v);
	return 0;
}

static int want_int(struct call *c, json_t *v, long long *x)
{
	if (!v)
		return bad(c, "invalid value; expected int");
	if (!json_is_integer(v))
		return bad(c, "wrong type for value; expected int; got %s", fmt_tname(v));
	*x = (long long)json_integer_value(v);
	return 0;
}

/* B's text as the function's string result (and B freed). */
static int take(struct call *c, struct buf *b, json_t **out)
{
	int r = 0;

	if (b->err)
		r = fmt_buf_err(c->st, c->sp, b->err);
	else if ((c->st->work += b->len) > FMT_MAX_WORK)
		r = fmt_buf_err(c->st, c->sp, -E2BIG);
	else if (!(*out = json_stringn_nocheck(b->p ? b->p : "", b->len)))
		r = err_set(c->st->err, ENOMEM, "template: out of memory");
	fmt_bfree(b);
	return r;
}

static int f_not(struct call *c, json_t **a, size_t n, json_t **out)
{
	*out = json_boolean(!fmt_truth(a[0]));
	return 0;
}

static int f_len(struct call *c, json_t **a, size_t n, json_t **out)
{
	size_t len;

	switch (a[0] ? json_typeof(a[0]) : JSON_NULL) {
	case JSON_STRING:
		len = json_string_length(a[0]);
		break;
	case JSON_ARRAY:
		len = json_array_size(a[0]);
		break;
	case JSON_OBJECT:
		len = json_object_size(a[0]);
		break;
	case JSON_NULL:
		return fail(c, "len of nil pointer");
	default:
		return fail(c, "len of type %s", fmt_tname(a[0]));
	}
	*out = json_integer((json_int_t)len);
	return *out ? 0 : err_set(c->st->err, ENOMEM, "template: out of memory");
}

static int index1(struct call *c, json_t *item, json_t *key, json_t **out)
{
	long long x;
	size_t len;

	*out = NULL;
	if (!item || json_is_null(item))
		return fail(c, "index of nil pointer");
	if (json_is_object(item)) {
		if (!key || json_is_null(key))
			return fail(c, "value is nil; should be of type string");
		if (!json_is_string(key))
			return fail(c, "value has type %s; should be string", fmt_tname(key));
		*out = json_incref(json_object_get(item, json_string_value(key)));
		return 0;
	}
	if (!json_is_array(item) && !json_is_string(item))
		return fail(c, "can't index item of type %s", fmt_tname(item));
	if (!key || json_is_null(key))
		return fail(c, "cannot index slice/array with nil");
	if (!json_is_integer(key))
		return fail(c, "cannot index slice/array with type %s", fmt_tname(key));
	x = (long long)json_integer_value(key);
	len = json_is_array(item) ? json_array_size(item) : json_string_length(item);
	if (x < 0 || (unsigned long long)x >= len)
		return fail(c, "index out of range: %lld", x);
	if (json_is_array(item))
		*out = json_incref(json_array_get(item, (size_t)x));
	else if (!(*out = json_integer((unsigned char)json_string_value(item)[x])))
		return err_set(c->st->err, ENOMEM, "template: out of memory");
	return 0;
}

static int f_index(struct call *c, json_t **a, size_t n, json_t **out)
{
	json_t *v;
	int r;

	if (!a[0] || json_is_null(a[0]))
		return fail(c, "index of untyped nil");
	v = json_incref(a[0]);
	for (size_t i = 1; i < n; i++) {
		json_t *nv;

		r = index1(c, v, a[i], &nv);
		json_decref(v);
		if (r < 0)
			return r;
		v = nv;
	}
	*out = v;
	return 0;
}

static int f_print(struct call *c, json_t **a, size_t n, json_t **out)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};
	bool ln = !strcmp(c->fn->name, "println"), prev = false;

	for (size_t i = 0; i < n; i++) {
		bool str = json_is_string(a[i]);

		/* Sprint spaces operands when neither is a string; Sprintln always */
		if (i && (ln || (!str && !prev)))
			fmt_bputc(&b, ' ');
		fmt_print_v(&b, a[i]);
		prev = str;
	}
	if (ln)
		fmt_bputc(&b, '\n');
	return take(c, &b, out);
}

static int f_printf(struct call *c, json_t **a, size_t n, json_t **out)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};
	const char *f;
	size_t len;
	int r;

	if ((r = want_str(c, a[0], &f, &len)) < 0)
		return r;
	fmt_go_printf(&b, f, len, a + 1, n - 1);
	return take(c, &b, out);
}

enum kind { K_NIL, K_BOOL, K_INT, K_REAL, K_STRING, K_OTHER };

static enum kind kindof(json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_TRUE:
	case JSON_FALSE:
		return K_BOOL;
	case JSON_INTEGER:
		return K_INT;
	case JSON_REAL:
		return K_REAL;
	case JSON_STRING:
		return K_STRING;
	case JSON_NULL:
		return K_NIL;
	default:
		return K_OTHER;
	}
}

/* Compares two values of one basic kind (integers and reals compare by value). */
static int cmp(json_t *a, json_t *b)
{
	if (json_is_string(a)) {
		size_t la = json_string_length(a), lb = json_string_length(b);
		int r = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);

		return r ? r : (la > lb) - (la < lb);
	}
	if (json_is_integer(a) && json_is_integer(b))
		return (json_integer_value(a) > json_integer_value(b)) -
		       (json_integer_value(a) < json_integer_value(b));
	return (json_number_value(a) > json_number_value(b)) -
	       (json_number_value(a) < json_number_value(b));
}

static bool numeric(enum kind k)
{
	return k == K_INT || k == K_REAL;
}

static int eq1(struct call *c, json_t *a, json_t *b, bool *res)
{
	enum kind ka = kindof(a), kb = kindof(b);

	if (ka == K_NIL || kb == K_NIL) {
		*res = ka == kb;
		return 0;
	}
	if (numeric(ka) && numeric(kb)) {
		*res = !cmp(a, b);
		return 0;
	}
	if (ka != kb)
		return fail(c, "incompatible types for comparison");
	if (ka == K_OTHER)
		return fail(c, "non-comparable type %s", fmt_tname(a));
	*res = ka == K_BOOL ? json_is_true(a) == json_is_true(b) : !cmp(a, b);
	return 0;
}

static int lt1(struct call *c, json_t *a, json_t *b, bool *res)
{
	enum kind ka = kindof(a), kb = kindof(b);

	if (ka == K_NIL || ka == K_OTHER || ka == K_BOOL || kb == K_NIL || kb == K_OTHER ||
	    kb == K_BOOL)
		return fail(c, "invalid type for comparison");
	if (ka != kb && !(numeric(ka) && numeric(kb)))
		return fail(c, "incompatible types for comparison");
	*res = cmp(a, b) < 0;
	return 0;
}

static int f_compare(struct call *c, json_t **a, size_t n, json_t **out)
{
	const char *op = c->fn->name;
	bool res = false, lt = false, eq = false;
	int r = 0;

	if (!strcmp(op, "eq")) {
		if (n < 2)
			return fail(c, "missing argument for comparison");
		for (size_t i = 1; i < n && !res && r >= 0; i++)
			r = eq1(c, a[0], a[i], &res);
	} else if (!strcmp(op, "ne")) {
		r = eq1(c, a[0], a[1], &eq);
		res = !eq;
	} else {
		r = lt1(c, a[0], a[1], &lt);
		if (r >= 0 && (op[1] == 'e') != (op[0] == 'g'))
			r = eq1(c, a[0], a[1], &eq);
		/* lt, le = lt || eq, gt = !(lt || eq), ge = !lt */
		res = op[0] == 'l' ? lt || eq : !(lt || eq);
	}
	if (r < 0)
		return r;
	*out = json_boolean(res);
	return 0;
}

static int f_json(struct call *c, json_t **a, size_t n, json_t **out)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};

	fmt_go_json(&b, a[0], 0);
	return take(c, &b, out);
}

static int append_str(struct call *c, json_t *arr, const char *s, size_t n)
{
	if ((c->st->work += n) > FMT_MAX_WORK)
		return fmt_buf_err(c->st, c->sp, -E2BIG);
	if (json_array_append_new(arr, json_stringn_nocheck(s, n)) < 0)
		return err_set(c->st->err, ENOMEM, "template: out of memory");
	return 0;
}

static int f_split(struct call *c, json_t **a, size_t n, json_t **out)
{
	const char *s, *sep;
	size_t len, seplen, i = 0;
	json_t *arr;
	int r;

	if ((r = want_str(c, a[0], &s, &len)) < 0 || (r = want_str(c, a[1], &sep, &seplen)) < 0)
		return r;
	if (!(arr = json_array()))
		return err_set(c->st->err, ENOMEM, "template: out of memory");
	/* strings.Split: an empty separator splits after each UTF-8 sequence */
	while (r >= 0 && (i < len || (seplen && i == len))) {
		const char *f = seplen ? memmem(s + i, len - i, sep, seplen) : NULL;
		uint32_t cp;
		size_t k =
		    seplen ? (f ? (size_t)(f - s) - i : len - i) : fmt_u8dec(s + i, len - i, &cp);

		r = append_str(c, arr, s + i, k);
		i += k + (f ? seplen : 0);
		if (seplen && !f)
			break;
	}
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return 0;
}

static int f_join(struct call *c, json_t **a, size_t n, json_t **out)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};
	const char *sep;
	size_t seplen;
	int r;

	if (!a[0])
		return bad(c, "invalid value; expected []string");
	if (!json_is_array(a[0]))
		return bad(c, "wrong type for value; expected []string; got %s", fmt_tname(a[0]));
	if ((r = want_str(c, a[1], &sep, &seplen)) < 0)
		return r;
	for (size_t i = 0; i < json_array_size(a[0]); i++) {
		if (i)
			fmt_bput(&b, sep, seplen);
		fmt_print_v(&b, json_array_get(a[0], i));
	}
	return take(c, &b, out);
}

/* lower, upper, title: ASCII letters only. */
static int f_case(struct call *c, json_t **a, size_t n, json_t **out)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};
	char mode = c->fn->name[0];
	bool sep = true;
	const char *s;
	size_t len;
	int r;

	if ((r = want_str(c, a[0], &s, &len)) < 0)
		return r;
	fmt_bput(&b, s, len);
	for (size_t i = 0; !b.err && i < b.len; i++) {
		char *ch = &b.p[i];
		bool lower = *ch >= 'a' && *ch <= 'z', upper = *ch >= 'A' && *ch <= 'Z';

		if (lower && (mode == 'u' || (mode == 't' && sep)))
			*ch = (char)(*ch - 'a' + 'A');
		else if (upper && mode == 'l')
			*ch = (char)(*ch - 'A' + 'a');
		/* strings.Title: a word starts after anything but a letter, digit or '_' */
		sep = !(fmt_galnum(*ch) || ((unsigned char)*ch >= 0x80));
	}
	return take(c, &b, out);
}

static int f_pad(struct call *c, json_t **a, size_t n, json_t **out)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};
	long long left, right;
	const char *s;
	size_t len;
	int r;

	if ((r = want_str(c, a[0], &s, &len)) < 0 || (r = want_int(c, a[1], &left)) < 0 ||
	    (r = want_int(c, a[2], &right)) < 0)
		return r;
	if (left < 0 || right < 0)
		return fail(c, "negative Repeat count");
	if (left > (long long)FMT_MAX_OUTPUT || right > (long long)FMT_MAX_OUTPUT)
		return fmt_buf_err(c->st, c->sp, -E2BIG);
	if (len) {
		fmt_bpad(&b, ' ', (size_t)left);
		fmt_bput(&b, s, len);
		fmt_bpad(&b, ' ', (size_t)right);
	}
	return take(c, &b, out);
}

static int f_truncate(struct call *c, json_t **a, size_t n, json_t **out)
{
	struct buf b = {.max = FMT_MAX_OUTPUT};
	const char *s;
	size_t len;
	long long k;
	int r;

	if ((r = want_str(c, a[0], &s, &len)) < 0 || (r = want_int(c, a[1], &k)) < 0)
		return r;
	if (k < 0)
		return fail(c, "slice bounds out of range [:%lld]", k);
	fmt_bput(&b, s, fmt_u8prefix(s, len, (size_t)k));
	return take(c, &b, out);
}

static const struct builtin builtins[] = {
    {"and", 1, -1, NULL},	    {"or", 1, -1, NULL},	 {"not", 1, 1, f_not},
    {"len", 1, 1, f_len},	    {"index", 1, -1, f_index},	 {"print", 0, -1, f_print},
    {"println", 0, -1, f_print},    {"printf", 1, -1, f_printf}, {"eq", 1, -1, f_compare},
    {"ne", 2, 2, f_compare},	    {"lt", 2, 2, f_compare},	 {"le", 2, 2, f_compare},
    {"gt", 2, 2, f_compare},	    {"ge", 2, 2, f_compare},	 {"json", 1, 1, f_json},
    {"split", 2, 2, f_split},	    {"join", 2, 2, f_join},	 {"title", 1, 1, f_case},
    {"lower", 1, 1, f_case},	    {"upper", 1, 1, f_case},	 {"pad", 3, 3, f_pad},
    {"truncate", 2, 2, f_truncate},
};

const struct builtin *fmt_builtin_find(const char *name, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
		if (strlen(builtins[i].name) == n && !memcmp(builtins[i].name, name, n))
			return &builtins[i];
	return NULL;
}

int fmt_call_fn(struct state *st, json_t *dot, const struct span *sp, const struct builtin *fn,
		struct arg *const *args, size_t nargs, bool have_final, json_t *final, json_t **out)
{
	size_t total = nargs + have_final;
	struct call c = {st, fn, sp};
	_cleanup_free_ json_t **vals = NULL;
	bool is_or = !strcmp(fn->name, "or");
	json_t *v = NULL;
	int r = 0;

	*out = NULL;
	if (total < (size_t)fn->min || (fn->max >= 0 && total > (size_t)fn->max)) {
		if (fn->min == fn->max)
			return fmt_rerr(st, sp, "wrong number of args for %s: want %d got %zu",
					fn->name, fn->min, total);
		return fmt_rerr(st, sp, "wrong number of args for %s: want at least %d got %zu",
				fn->name, fn->min, total);
	}
	if (!fn->fn) {
		/* and/or: the first deciding argument, else the last; the rest is not evaluated */
		for (size_t i = 0; i < nargs; i++) {
			json_decref(v);
			if ((r = fmt_eval_arg(st, dot, args[i], &v)) < 0)
				return r;
			if (fmt_truth(v) == is_or) {
				*out = v;
				return 0;
			}
		}
		if (have_final) {
			json_decref(v);
			v = json_incref(final);
		}
		*out = v;
		return 0;
	}
	vals = calloc(total + 1, sizeof(*vals));
	if (!vals)
		return err_set(st->err, ENOMEM, "template: out of memory");
	for (size_t i = 0; i < nargs && r >= 0; i++)
		r = fmt_eval_arg(st, dot, args[i], &vals[i]);
	if (have_final)
		vals[nargs] = json_incref(final);
	if (r >= 0)
		r = fn->fn(&c, vals, total, out);
	for (size_t i = 0; i < total; i++)
		json_decref(vals[i]);
	return r;
}
