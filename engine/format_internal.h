/*
 * engine/format_internal.h - what the pieces of `--format` share. Private: only
 * engine/format_*.c include it; everyone else uses engine/format.h.
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: nothing here touches file,
 * process or network state.
 *
 * Layout: format_lex.c turns the whole template into tokens; format_parse.c (shaped after
 * Go's text/template/parse, so that errors come out where Go reports them) builds a tree in
 * an arena owned by the template; format_exec.c walks the tree over a jansson value, calling
 * the built-in functions of format_funcs.c; format_print.c prints values as Go's fmt and
 * encoding/json do, into byte buffers; format_table.c renders table headers and aligns
 * table rows.
 *
 * Invariants:
 *  - a struct buf's error is sticky: once set, appends are dropped, and the owner reports it;
 *  - the tree (struct fmt_template and all it points to) is immutable after parsing;
 *  - while rendering, a value is an owned json_t reference; NULL stands for Go's invalid
 *    value, "no value" (a missing map key).
 */
#ifndef MOAT_ENGINE_FORMAT_INTERNAL_H
#define MOAT_ENGINE_FORMAT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/format.h"

#define U8_BAD 0xFFFFFFFFu /* what fmt_u8dec gives for an invalid byte */

/* ---- format_lex.c: Go's character classes ---- */

bool fmt_gspace(char c);
bool fmt_galnum(char c);
bool fmt_in_set(char c, const char *set);

/* ---- format_print.c: byte buffers, UTF-8, values as Go prints them ---- */

struct buf {
	char *p;
	size_t len, cap, max;
	int err; /* 0, -ENOMEM, -E2BIG or -ELOOP: once set, appends are dropped */
};

void fmt_bput(struct buf *b, const void *s, size_t n);
void fmt_bputs(struct buf *b, const char *s);
void fmt_bputc(struct buf *b, char c);
void fmt_bpad(struct buf *b, char c, size_t n);
void fmt_bfree(struct buf *b);

size_t fmt_u8dec(const char *str, size_t n, uint32_t *cp);
size_t fmt_u8enc(uint32_t c, char *out);
size_t fmt_u8count(const char *s, size_t n);
size_t fmt_u8prefix(const char *s, size_t n, size_t k);

void fmt_go_quote(struct buf *b, const char *s, size_t n, char q);
void fmt_go_json(struct buf *b, json_t *v, int depth);
const char *fmt_tname(json_t *v);
const char **fmt_sorted_keys(json_t *o);
void fmt_print_v(struct buf *b, json_t *v);
void fmt_go_printf(struct buf *b, const char *f, size_t n, json_t **args, size_t nargs);
bool fmt_truth(json_t *v);

/* ---- the tree, built by format_parse.c ---- */

struct span {
	size_t off, len; /* into the template's text, for messages */
};

struct call;
struct builtin {
	const char *name;
	int min, max; /* arguments; max -1: any number */
	/* NULL for and/or, which evaluate their arguments lazily */
	int (*fn)(struct call *c, json_t **a, size_t n, json_t **out);
};

struct pipe;
enum arg_kind { A_DOT, A_NIL, A_CONST, A_FIELD, A_VAR, A_FUNC, A_PIPE, A_CHAIN };

struct arg {
	enum arg_kind kind;
	struct span sp;
	const struct builtin *fn; /* A_FUNC */
	const char *var;	  /* A_VAR: "$x" */
	const char **fields;	  /* A_FIELD, A_VAR, A_CHAIN: member names */
	size_t nfields, capfields;
	json_t *value;	   /* A_CONST: owned by the template */
	struct pipe *pipe; /* A_PIPE */
	struct arg *base;  /* A_CHAIN: what the fields apply to */
};

struct cmd {
	struct span sp;
	struct arg **args;
	size_t nargs, cap;
};

struct pipe {
	struct span sp;
	const char *decl[2]; /* $x := ..., range $i, $v := ... */
	size_t ndecl;
	bool assign; /* "=" rather than ":=" */
	struct cmd **cmds;
	size_t ncmds, cap;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH, N_BREAK, N_CONTINUE, N_ELSE, N_END };

struct list;
struct node {
	enum node_kind kind;
	struct span sp; /* N_TEXT: the text itself */
	struct pipe *pipe;
	struct list *list, *elist;
};

struct list {
	struct node **v;
	size_t n, cap;
};

struct chunk {
	struct chunk *next;
	max_align_t data[];
};

struct cref {
	struct cref *next;
	json_t *v;
};

struct fmt_template {
	struct chunk *arena; /* every node, array and name; freed at once */
	struct cref *consts; /* constants, released at free */
	const char *src;     /* the whole text given to parse (positions count from it) */
	struct list *root;
	bool table;
};

/* 1-based line and column of byte OFF of S, for messages. */
void fmt_linecol(const char *s, size_t off, int *line, int *col);

/* ---- format_lex.c and format_parse.c: tokens and the parser's state ---- */

enum tok {
	T_EOF,
	T_ERROR,
	T_TEXT,
	T_LDELIM,
	T_RDELIM,
	T_SPACE,
	T_FIELD,
	T_VAR,
	T_IDENT,
	T_STRING,
	T_RAWSTRING,
	T_CHARCONST,
	T_NUMBER,
	T_BOOL,
	T_PIPE,
	T_LPAREN,
	T_RPAREN,
	T_DECLARE,
	T_ASSIGN,
	T_CHAR,
	T_KEYWORD, /* the kinds below print as <word> in messages */
	T_DOT,
	T_NIL,
	T_IF,
	T_ELSE,
	T_END,
	T_RANGE,
	T_WITH,
	T_BREAK,
	T_CONTINUE,
	T_DEFINE,
	T_TEMPLATE,
	T_BLOCK,
};

struct token {
	enum tok type;
	size_t off, len;
	const char *msg; /* T_ERROR */
};

struct parser {
	struct fmt_template *t;
	const char *s; /* t->src */
	size_t end;    /* end of the part being parsed */
	struct token *tok;
	size_t ntok, captok, pos;
	const char **vars; /* variables in scope, for "undefined variable" */
	size_t nvars, capvars;
	int depth, range_depth;
	char lexmsg[160];
	struct err **err;
};

/* "template: out of memory" into p->err; -ENOMEM. */
int fmt_oom(struct parser *p);
/* Tokens of P->s from I to p->end into p->tok, ending with T_EOF (or T_ERROR). */
int fmt_lex(struct parser *p, size_t i);

/* ---- format_funcs.c: built-in functions ---- */

/* The built-in function NAME (N bytes), or NULL. */
const struct builtin *fmt_builtin_find(const char *name, size_t n);

/* ---- format_exec.c: the evaluator's state ---- */

struct var {
	const char *name;
	json_t *v; /* owned; NULL: no value */
};

struct state {
	const struct fmt_template *t;
	struct buf out;
	struct var *vars;
	size_t nvars, cap;
	long steps;
	size_t work;
	struct err **err;
};

/* A runtime error at SP: "template: :L:C: executing "" at <source>: what". */
int fmt_rerr(struct state *st, const struct span *sp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The error a struct buf recorded (its err E), as a runtime error at SP. */
int fmt_buf_err(struct state *st, const struct span *sp, int e);
/* An argument's value: a new reference, or NULL for no value. */
int fmt_eval_arg(struct state *st, json_t *dot, const struct arg *a, json_t **out);
/* Calls FN with ARGS, then FINAL (the previous command's value) when HAVE_FINAL. */
int fmt_call_fn(struct state *st, json_t *dot, const struct span *sp, const struct builtin *fn,
		struct arg *const *args, size_t nargs, bool have_final, json_t *final,
		json_t **out);

#endif
