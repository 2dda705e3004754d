/*
 * engine/format_parse.c - `--format`'s parser: a recursive-descent parser over the lexer's
 * tokens (shaped after Go's text/template/parse, so that errors come out where Go reports
 * them) that builds the template's tree in an arena the template owns; and the template's
 * lifetime (fmt_template_parse, fmt_template_free).
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: no file, process or network
 * state.
 *
 * Invariants:
 *  - the template is capped at FMT_MAX_SIZE bytes before anything is allocated for it, and
 *    control structures plus parentheses nest at most FMT_MAX_DEPTH deep, checked while
 *    parsing: parsing recurses no deeper than that;
 *  - every node, array and name lives in the template's arena and every constant in its
 *    list, so fmt_template_free releases all of it, also after a failed parse;
 *  - a parsed template is not changed afterwards: renders only read it.
 */
#include "engine/format_internal.h"

#include <errno.h>
#include <float.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"

/* ---- the tree's arena -------------------------------------------------------------- */

static void *aalloc(struct fmt_template *t, size_t n)
{
	struct chunk *c = calloc(1, sizeof(*c) + n);

	if (!c)
		return NULL;
	c->next = t->arena;
	t->arena = c;
	return c->data;
}

/* V with room for one more of N elements of SIZE (a new array in the arena when full). */
static void *agrow(struct fmt_template *t, void *v, size_t n, size_t *cap, size_t size)
{
	size_t nc;
	void *nv;

	if (n < *cap)
		return v;
	nc = *cap ? *cap * 2 : 4;
	nv = aalloc(t, nc * size);
	if (!nv)
		return NULL;
	if (n)
		memcpy(nv, v, n * size);
	*cap = nc;
	return nv;
}

static char *astrndup(struct fmt_template *t, const char *s, size_t n)
{
	char *d = aalloc(t, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

void fmt_template_free(struct fmt_template *t)
{
	if (!t)
		return;
	for (struct cref *c = t->consts; c; c = c->next)
		json_decref(c->v);
	while (t->arena) {
		struct chunk *c = t->arena;

		t->arena = c->next;
		free(c);
	}
	free(t);
}

void fmt_linecol(const char *s, size_t off, int *line, int *col)
{
	size_t start = 0;
	int l = 1;

	for (size_t i = 0; i < off && s[i]; i++)
		if (s[i] == '\n') {
			l++;
			start = i + 1;
		}
	*line = l;
	*col = (int)(off - start) + 1;
}

/* ---- parser ------------------------------------------------------------------------ */

int fmt_oom(struct parser *p)
{
	return err_set(p->err, ENOMEM, "template: out of memory");
}

__attribute__((format(printf, 3, 4))) static int perr(struct parser *p, size_t off, const char *fmt,
						      ...)
{
	char msg[640];
	int line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fmt_linecol(p->s, off, &line, &col);
	return err_set(p->err, EINVAL, "template: :%d:%d: %s", line, col, msg);
}

static struct token *peek(struct parser *p)
{
	return &p->tok[p->pos < p->ntok ? p->pos : p->ntok - 1];
}

static struct token *next(struct parser *p)
{
	struct token *t = peek(p);

	p->pos++;
	return t;
}

static void backup(struct parser *p)
{
	p->pos--;
}

static struct token *next_ns(struct parser *p)
{
	struct token *t;

	do
		t = next(p);
	while (t->type == T_SPACE);
	return t;
}

static struct token *peek_ns(struct parser *p)
{
	struct token *t = next_ns(p);

	backup(p);
	return t;
}

static size_t last_end(const struct parser *p)
{
	const struct token *t = &p->tok[p->pos ? p->pos - 1 : 0];

	return t->off + t->len;
}

/* Go's item.String(): "EOF", <keyword>, or the text quoted (10 code points at most). */
static void tok_desc(const struct parser *p, const struct token *tk, char *out, size_t n)
{
	struct buf b = {.max = n - 1};
	size_t len = fmt_u8prefix(p->s + tk->off, tk->len, 10);

	if (tk->type == T_EOF) {
		snprintf(out, n, "EOF");
		return;
	}
	if (tk->type > T_KEYWORD) {
		snprintf(out, n, "<%.*s>", (int)tk->len, p->s + tk->off);
		return;
	}
	fmt_go_quote(&b, p->s + tk->off, len, '"');
	if (len < tk->len)
		fmt_bputs(&b, "...");
	snprintf(out, n, "%s", b.err || !b.p ? "?" : b.p);
	fmt_bfree(&b);
}

static int unexpected(struct parser *p, const struct token *tk, const char *ctx)
{
	char d[160];

	if (tk->type == T_ERROR)
		return perr(p, tk->off, "%s", tk->msg);
	tok_desc(p, tk, d, sizeof(d));
	return perr(p, tk->off, "unexpected %s in %s", d, ctx);
}

static bool var_defined(const struct parser *p, const char *name, size_t n)
{
	for (size_t i = p->nvars; i-- > 0;)
		if (strlen(p->vars[i]) == n && !memcmp(p->vars[i], name, n))
			return true;
	return false;
}

static int push_name(struct parser *p, const char *name)
{
	if (p->nvars == p->capvars) {
		size_t nc = p->capvars ? p->capvars * 2 : 16;
		const char **nv = realloc(p->vars, nc * sizeof(*nv));

		if (!nv)
			return fmt_oom(p);
		p->vars = nv;
		p->capvars = nc;
	}
	p->vars[p->nvars++] = name;
	return 0;
}

static struct node *new_node(struct parser *p, enum node_kind kind, size_t off)
{
	struct node *n = aalloc(p->t, sizeof(*n));

	if (n) {
		n->kind = kind;
		n->sp.off = off;
	}
	return n;
}

static int list_add(struct parser *p, struct list *l, struct node *n)
{
	struct node **v = agrow(p->t, l->v, l->n, &l->cap, sizeof(*v));

	if (!v)
		return fmt_oom(p);
	l->v = v;
	l->v[l->n++] = n;
	return 0;
}

static int add_field(struct parser *p, struct arg *a, const struct token *tk)
{
	const char **v = agrow(p->t, a->fields, a->nfields, &a->capfields, sizeof(*v));
	const char *name = astrndup(p->t, p->s + tk->off + 1, tk->len - 1);

	if (!v || !name)
		return fmt_oom(p);
	a->fields = v;
	a->fields[a->nfields++] = name;
	return 0;
}

static int keep(struct parser *p, struct arg *a, json_t *v)
{
	struct cref *c = v ? aalloc(p->t, sizeof(*c)) : NULL;

	if (!c) {
		json_decref(v);
		return fmt_oom(p);
	}
	c->v = v;
	c->next = p->t->consts;
	p->t->consts = c;
	a->kind = A_CONST;
	a->value = v;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after a backslash at S[*I] in a Q-quoted literal, as strconv.UnquoteChar: *V
 * gets the value, *BYTE says whether it is a raw byte (\x, octal) rather than a code point. */
static int unescape(const char *s, size_t n, size_t *i, char q, uint32_t *v, bool *byte)
{
	static const char from[] = "abfnrtv\\", to[] = "\a\b\f\n\r\t\v\\";
	size_t k = *i, digits;
	const char *e;
	char c;

	*byte = false;
	if (k >= n)
		return -1;
	c = s[k++];
	if ((e = strchr(from, c)) && c) {
		*v = (unsigned char)to[e - from];
	} else if (c == q) {
		*v = (unsigned char)c;
	} else if (c == 'x' || c == 'u' || c == 'U') {
		digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
		*v = 0;
		for (size_t d = 0; d < digits; d++) {
			if (k >= n || hexval(s[k]) < 0)
				return -1;
			*v = *v << 4 | (uint32_t)hexval(s[k++]);
		}
		*byte = c == 'x';
		if (!*byte && (*v > 0x10FFFF || (*v >= 0xD800 && *v <= 0xDFFF)))
			return -1;
	} else if (c >= '0' && c <= '7') {
		*v = (uint32_t)(c - '0');
		for (int d = 0; d < 2; d++) {
			if (k >= n || s[k] < '0' || s[k] > '7')
				return -1;
			*v = *v * 8 + (uint32_t)(s[k++] - '0');
		}
		if (*v > 255)
			return -1;
		*byte = true;
	} else {
		return -1;
	}
	*i = k;
	return 0;
}

static int parse_string(struct parser *p, const struct token *tk, struct arg *a)
{
	const char *s = p->s + tk->off + 1;
	size_t n = tk->len - 2, len = 0;
	_cleanup_free_ char *out = malloc(n + 1);

	if (!out)
		return fmt_oom(p);
	for (size_t i = 0; i < n;) {
		uint32_t v;
		bool byte;

		if (tk->type == T_RAWSTRING) {
			/* Go drops carriage returns from raw strings */
			if (s[i] != '\r')
				out[len++] = s[i];
			i++;
		} else if (s[i] == '\\') {
			i++;
			if (unescape(s, n, &i, '"', &v, &byte) < 0)
				return perr(p, tk->off, "invalid syntax in quoted string %.*s",
					    (int)tk->len, p->s + tk->off);
			if (byte)
				out[len++] = (char)v;
			else
				len += fmt_u8enc(v, out + len);
		} else {
			out[len++] = s[i++];
		}
	}
	return keep(p, a, json_stringn_nocheck(out, len));
}

static int parse_number(struct parser *p, const struct token *tk, struct arg *a)
{
	const char *s = p->s + tk->off;
	char text[80], *end;
	bool hex, isfloat;
	uint32_t c = 0;

	if (tk->type == T_CHARCONST) {
		size_t i = 1, n = tk->len - 1;
		bool byte;

		if (n > 1 && s[1] == '\\') {
			i = 2;
			if (unescape(s, n, &i, '\'', &c, &byte) < 0)
				i = 0;
		} else if (n > 1) {
			i += fmt_u8dec(s + 1, n - 1, &c);
		}
		if (n <= 1 || i != n || c == U8_BAD)
			return perr(p, tk->off, "malformed character constant: %.*s", (int)tk->len,
				    s);
		return keep(p, a, json_integer(c));
	}
	if (tk->len >= sizeof(text))
		return perr(p, tk->off, "illegal number syntax: \"%.20s...\"", s);
	memcpy(text, s, tk->len);
	text[tk->len] = 0;
	end = text + (text[0] == '+' || text[0] == '-');
	hex = end[0] == '0' && (end[1] == 'x' || end[1] == 'X');
	isfloat = !hex && strpbrk(text, ".eE");
	errno = 0;
	if (!isfloat) {
		long long v = strtoll(text, &end, 0);

		if (end != text && !*end && errno == ERANGE)
			return perr(p, tk->off, "%s overflows int", text);
		if (end != text && !*end && !strchr(text, '_'))
			return keep(p, a, json_integer(v));
	} else {
		double d = strtod(text, &end);

		if (end != text && !*end && d <= DBL_MAX && d >= -DBL_MAX)
			return keep(p, a, json_real(d));
	}
	return perr(p, tk->off, "illegal number syntax: \"%s\"", text);
}

static int parse_pipeline(struct parser *p, const char *ctx, enum tok end, struct pipe **out);

static int parse_term(struct parser *p, struct arg **out)
{
	struct token *tk = next_ns(p);
	const char *s = p->s + tk->off;
	struct arg *a;
	int r = 0;

	*out = NULL;
	switch (tk->type) {
	case T_IDENT:
	case T_DOT:
	case T_NIL:
	case T_VAR:
	case T_FIELD:
	case T_BOOL:
	case T_CHARCONST:
	case T_NUMBER:
	case T_LPAREN:
	case T_STRING:
	case T_RAWSTRING:
		break;
	default:
		backup(p);
		return 0;
	}
	a = aalloc(p->t, sizeof(*a));
	if (!a)
		return fmt_oom(p);
	a->sp.off = tk->off;
	switch (tk->type) {
	case T_IDENT:
		a->kind = A_FUNC;
		a->fn = fmt_builtin_find(s, tk->len);
		if (!a->fn)
			return perr(p, tk->off, "function \"%.*s\" not defined", (int)tk->len, s);
		break;
	case T_DOT:
		a->kind = A_DOT;
		break;
	case T_NIL:
		a->kind = A_NIL;
		break;
	case T_VAR:
		a->kind = A_VAR;
		if (!var_defined(p, s, tk->len))
			return perr(p, tk->off, "undefined variable \"%.*s\"", (int)tk->len, s);
		a->var = astrndup(p->t, s, tk->len);
		if (!a->var)
			return fmt_oom(p);
		break;
	case T_FIELD:
		a->kind = A_FIELD;
		r = add_field(p, a, tk);
		break;
	case T_BOOL:
		r = keep(p, a, json_boolean(tk->len == 4));
		break;
	case T_CHARCONST:
	case T_NUMBER:
		r = parse_number(p, tk, a);
		break;
	case T_STRING:
	case T_RAWSTRING:
		r = parse_string(p, tk, a);
		break;
	case T_LPAREN:
		if (++p->depth > FMT_MAX_DEPTH)
			return perr(p, tk->off, "nested deeper than %d levels", FMT_MAX_DEPTH);
		a->kind = A_PIPE;
		r = parse_pipeline(p, "parenthesized pipeline", T_RPAREN, &a->pipe);
		p->depth--;
		break;
	default:
		break;
	}
	if (r < 0)
		return r;
	a->sp.len = last_end(p) - a->sp.off;
	*out = a;
	return 0;
}

static int parse_operand(struct parser *p, struct arg **out)
{
	struct arg *a, *c;
	int r;

	if ((r = parse_term(p, &a)) < 0 || !a) {
		*out = NULL;
		return r;
	}
	if (peek(p)->type == T_FIELD) {
		if (a->kind == A_CONST || a->kind == A_NIL || a->kind == A_DOT) {
			struct buf q = {.max = 256};

			fmt_go_quote(&q, p->s + a->sp.off, a->sp.len, '"');
			r = perr(p, peek(p)->off, "unexpected . after term %s",
				 q.err || !q.p ? "(long)" : q.p);
			fmt_bfree(&q);
			return r;
		}
		if (a->kind == A_PIPE || a->kind == A_FUNC) {
			c = aalloc(p->t, sizeof(*c));
			if (!c)
				return fmt_oom(p);
			c->kind = A_CHAIN;
			c->sp.off = a->sp.off;
			c->base = a;
			a = c;
		}
		while (peek(p)->type == T_FIELD)
			if ((r = add_field(p, a, next(p))) < 0)
				return r;
		a->sp.len = last_end(p) - a->sp.off;
	}
	*out = a;
	return 0;
}

/* *PIPED: the command ended with '|', so another must follow. */
static int parse_command(struct parser *p, struct cmd **out, bool *piped)
{
	struct cmd *c = aalloc(p->t, sizeof(*c));
	struct arg *a = NULL, *last = NULL;
	struct token *tk;
	int r;

	if (!c)
		return fmt_oom(p);
	c->sp.off = peek_ns(p)->off;
	for (;;) {
		if ((r = parse_operand(p, &a)) < 0)
			return r;
		if (a) {
			struct arg **v = agrow(p->t, c->args, c->nargs, &c->cap, sizeof(*v));

			if (!v)
				return fmt_oom(p);
			c->args = v;
			c->args[c->nargs++] = last = a;
		}
		tk = next(p);
		if (tk->type == T_SPACE)
			continue;
		if (tk->type == T_RDELIM || tk->type == T_RPAREN)
			backup(p);
		else if (tk->type != T_PIPE)
			return unexpected(p, tk, "operand");
		*piped = tk->type == T_PIPE;
		break;
	}
	if (!last)
		return perr(p, c->sp.off, "empty command");
	c->sp.len = last->sp.off + last->sp.len - c->sp.off;
	*out = c;
	return 0;
}

static int parse_pipeline(struct parser *p, const char *ctx, enum tok end, struct pipe **out)
{
	struct pipe *pp = aalloc(p->t, sizeof(*pp));
	bool range = !strcmp(ctx, "range"), piped = false;
	struct token *tk;
	int r;

	if (!pp)
		return fmt_oom(p);
	pp->sp.off = peek_ns(p)->off;
decls:
	if (peek_ns(p)->type == T_VAR) {
		size_t at = p->pos;
		struct token *v = next(p), *nx = peek_ns(p);
		const char *name = p->s + v->off;
		bool comma = nx->type == T_CHAR && p->s[nx->off] == ',';

		if (nx->type == T_ASSIGN || nx->type == T_DECLARE || comma) {
			next_ns(p);
			pp->assign = nx->type == T_ASSIGN;
			if (pp->assign && !var_defined(p, name, v->len))
				return perr(p, v->off, "undefined variable \"%.*s\"", (int)v->len,
					    name);
			pp->decl[pp->ndecl] = astrndup(p->t, name, v->len);
			if (!pp->decl[pp->ndecl])
				return fmt_oom(p);
			if (!pp->assign && (r = push_name(p, pp->decl[pp->ndecl])) < 0)
				return r;
			pp->ndecl++;
			if (comma) {
				if (range && pp->ndecl < 2) {
					enum tok t2 = peek_ns(p)->type;

					if (t2 == T_VAR || t2 == T_RDELIM || t2 == T_RPAREN)
						goto decls;
					return perr(p, peek_ns(p)->off,
						    "range can only initialize variables");
				}
				return perr(p, v->off, "too many declarations in %s", ctx);
			}
		} else {
			p->pos = at;
		}
	}
	for (;;) {
		tk = next_ns(p);
		/* Go takes "{{.A | }}" for "{{.A}}"; a dangling '|' is refused here */
		if (tk->type == end && piped)
			return unexpected(p, tk, ctx);
		if (tk->type == end)
			break;
		switch (tk->type) {
		case T_BOOL:
		case T_CHARCONST:
		case T_DOT:
		case T_FIELD:
		case T_IDENT:
		case T_NUMBER:
		case T_NIL:
		case T_RAWSTRING:
		case T_STRING:
		case T_VAR:
		case T_LPAREN: {
			struct cmd **v = agrow(p->t, pp->cmds, pp->ncmds, &pp->cap, sizeof(*v));

			if (!v)
				return fmt_oom(p);
			pp->cmds = v;
			backup(p);
			if ((r = parse_command(p, &pp->cmds[pp->ncmds], &piped)) < 0)
				return r;
			pp->ncmds++;
			break;
		}
		default:
			return unexpected(p, tk, ctx);
		}
	}
	pp->sp.len = tk->off - pp->sp.off;
	if (!pp->ncmds)
		return perr(p, tk->off, "missing value for %s", ctx);
	for (size_t i = 1; i < pp->ncmds; i++) {
		enum arg_kind k = pp->cmds[i]->args[0]->kind;

		if (k == A_CONST || k == A_DOT || k == A_NIL)
			return perr(p, pp->cmds[i]->sp.off,
				    "non executable command in pipeline stage %zu", i + 1);
	}
	*out = pp;
	return 0;
}

static int parse_node(struct parser *p, struct node **out);

/* Nodes up to an {{end}} or {{else}}, which *STOP gets. */
static int parse_list(struct parser *p, struct list **out, struct node **stop)
{
	struct list *l = aalloc(p->t, sizeof(*l));
	struct node *n;
	int r;

	if (!l)
		return fmt_oom(p);
	*out = l;
	for (;;) {
		if (peek_ns(p)->type == T_EOF)
			return perr(p, peek_ns(p)->off, "unexpected EOF");
		if ((r = parse_node(p, &n)) < 0)
			return r;
		if (n->kind == N_END || n->kind == N_ELSE) {
			*stop = n;
			return 0;
		}
		if ((r = list_add(p, l, n)) < 0)
			return r;
	}
}

/* if, range, with: KW is the keyword's token. Variables declared anywhere inside go out
 * of scope at its {{end}}. "else if"/"else with" nest another control in the else list. */
static int parse_control(struct parser *p, enum node_kind kind, const struct token *kw,
			 struct node **out)
{
	const char *ctx = kind == N_IF ? "if" : kind == N_RANGE ? "range" : "with";
	struct node *n = new_node(p, kind, kw->off), *stop = NULL, *sub;
	size_t mark = p->nvars;
	int r;

	if (!n)
		return fmt_oom(p);
	if (++p->depth > FMT_MAX_DEPTH)
		return perr(p, kw->off, "nested deeper than %d levels", FMT_MAX_DEPTH);
	if ((r = parse_pipeline(p, ctx, T_RDELIM, &n->pipe)) < 0)
		return r;
	n->sp = n->pipe->sp;
	p->range_depth += kind == N_RANGE;
	r = parse_list(p, &n->list, &stop);
	p->range_depth -= kind == N_RANGE;
	if (r < 0)
		return r;
	if (stop->kind == N_ELSE) {
		enum tok again = kind == N_IF ? T_IF : kind == N_WITH ? T_WITH : T_EOF;

		if (again != T_EOF && peek(p)->type == again) {
			n->elist = aalloc(p->t, sizeof(*n->elist));
			if (!n->elist)
				return fmt_oom(p);
			if ((r = parse_control(p, kind, next(p), &sub)) < 0 ||
			    (r = list_add(p, n->elist, sub)) < 0)
				return r;
		} else {
			if ((r = parse_list(p, &n->elist, &stop)) < 0)
				return r;
			if (stop->kind != N_END)
				return perr(p, stop->sp.off, "expected end; found {{else}}");
		}
	}
	p->nvars = mark;
	p->depth--;
	*out = n;
	return 0;
}

/* After "{{": one action, or a marker node for {{else}} / {{end}}. */
static int parse_action(struct parser *p, struct node **out)
{
	struct token *tk = next_ns(p), *t2;
	const char *word = p->s + tk->off;
	struct node *n;
	int r;

	switch (tk->type) {
	case T_BLOCK:
	case T_DEFINE:
	case T_TEMPLATE:
		return perr(p, tk->off, "{{%.*s}} is not supported", (int)tk->len, word);
	case T_BREAK:
	case T_CONTINUE:
		t2 = next_ns(p);
		if (t2->type != T_RDELIM)
			return unexpected(p, t2,
					  tk->type == T_BREAK ? "{{break}}" : "{{continue}}");
		if (!p->range_depth)
			return perr(p, tk->off, "{{%.*s}} outside {{range}}", (int)tk->len, word);
		n = new_node(p, tk->type == T_BREAK ? N_BREAK : N_CONTINUE, tk->off);
		break;
	case T_ELSE:
		/* "else if"/"else with": leave the keyword for parse_control */
		t2 = peek_ns(p);
		if (t2->type != T_IF && t2->type != T_WITH && (t2 = next_ns(p))->type != T_RDELIM)
			return unexpected(p, t2, "else");
		n = new_node(p, N_ELSE, tk->off);
		break;
	case T_END:
		t2 = next_ns(p);
		if (t2->type != T_RDELIM)
			return unexpected(p, t2, "end");
		n = new_node(p, N_END, tk->off);
		break;
	case T_IF:
		return parse_control(p, N_IF, tk, out);
	case T_RANGE:
		return parse_control(p, N_RANGE, tk, out);
	case T_WITH:
		return parse_control(p, N_WITH, tk, out);
	default:
		backup(p);
		n = new_node(p, N_ACTION, tk->off);
		if (n && (r = parse_pipeline(p, "command", T_RDELIM, &n->pipe)) < 0)
			return r;
		if (n)
			n->sp = n->pipe->sp;
		break;
	}
	if (!n)
		return fmt_oom(p);
	*out = n;
	return 0;
}

static int parse_node(struct parser *p, struct node **out)
{
	struct token *tk = next_ns(p);

	switch (tk->type) {
	case T_TEXT:
		*out = new_node(p, N_TEXT, tk->off);
		if (!*out)
			return fmt_oom(p);
		(*out)->sp.len = tk->len;
		return 0;
	case T_LDELIM:
		return parse_action(p, out);
	default:
		return unexpected(p, tk, "input");
	}
}

static int parse_top(struct parser *p, struct list **out)
{
	struct list *l = aalloc(p->t, sizeof(*l));
	struct node *n;
	int r;

	if (!l)
		return fmt_oom(p);
	while (peek(p)->type != T_EOF) {
		if ((r = parse_node(p, &n)) < 0)
			return r;
		if (n->kind == N_END || n->kind == N_ELSE)
			return perr(p, n->sp.off, "unexpected {{%s}}",
				    n->kind == N_END ? "end" : "else");
		if ((r = list_add(p, l, n)) < 0)
			return r;
	}
	*out = l;
	return 0;
}

bool fmt_template_default_table(const char *src)
{
	size_t n;

	if (!src)
		return false;
	while (fmt_gspace(*src))
		src++;
	n = strlen(src);
	while (n && fmt_gspace(src[n - 1]))
		n--;
	return n == 5 && !memcmp(src, "table", 5);
}

int fmt_template_parse(const char *src, struct fmt_template **out, struct err **err)
{
	struct parser p = {.err = err};
	size_t n, i = 0, end;
	bool table = false;
	int r;

	*out = NULL;
	if (!src)
		return err_set(err, EINVAL, "template: no template given");
	n = strnlen(src, FMT_MAX_SIZE + 1);
	if (n > FMT_MAX_SIZE)
		return err_set(err, E2BIG, "template: longer than %d bytes", FMT_MAX_SIZE);
	if (fmt_template_default_table(src))
		return 0;
	while (fmt_gspace(src[i]))
		i++;
	end = n;
	if (!strncmp(src + i, "table", 5) &&
	    (fmt_gspace(src[i + 5]) || !strncmp(src + i + 5, "{{", 2))) {
		/* Docker drops "table" and the spaces around the rest */
		table = true;
		for (i += 5; src[i] == ' '; i++)
			;
		while (end > i && src[end - 1] == ' ')
			end--;
	} else {
		i = 0;
	}
	p.t = calloc(1, sizeof(*p.t));
	if (!p.t)
		return err_set(err, ENOMEM, "template: out of memory");
	p.t->table = table;
	p.t->src = p.s = astrndup(p.t, src, n);
	p.end = end;
	r = p.s ? push_name(&p, "$") : fmt_oom(&p);
	if (r >= 0)
		r = fmt_lex(&p, i);
	if (r >= 0)
		r = parse_top(&p, &p.t->root);
	free(p.tok);
	free(p.vars);
	if (r < 0) {
		fmt_template_free(p.t);
		return r;
	}
	*out = p.t;
	return 0;
}

bool fmt_template_is_table(const struct fmt_template *t)
{
	return t && t->table;
}
