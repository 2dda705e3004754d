/*
 * engine/format_lex.c - `--format`'s lexer: turns a whole template into tokens, as Go's
 * text/template/parse lexer does, with Go's character classes for actions.
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: no file, process or network
 * state.
 *
 * Invariants:
 *  - the lexer reads only p->s[0 .. p->end) (the template, already capped at FMT_MAX_SIZE
 *    bytes) and never recurses;
 *  - a lexical error ends the token stream with one T_ERROR token, reported when the parser
 *    reaches it (where Go reports it); only running out of memory fails fmt_lex itself.
 */
#include "engine/format_internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

/* ---- Go's character classes -------------------------------------------------------- */

/* Go's white space in actions, and its letters (any non-ASCII byte counts as one). */
bool fmt_gspace(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool fmt_galnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || (unsigned char)c >= 0x80;
}

static bool gdigit(char c)
{
	return c >= '0' && c <= '9';
}

bool fmt_in_set(char c, const char *set)
{
	return c && strchr(set, c);
}

/* ---- lexer ------------------------------------------------------------------------- */

/* fmt's %#U: U+0023 '#'. */
static void rune_desc(const char *s, size_t n, char out[32])
{
	uint32_t c = 0xFFFD;
	char u[4];
	size_t k;

	if (n)
		fmt_u8dec(s, n, &c);
	if (c == U8_BAD)
		c = 0xFFFD;
	if (c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0)) {
		snprintf(out, 32, "U+%04X", (unsigned)c);
		return;
	}
	k = fmt_u8enc(c, u);
	snprintf(out, 32, "U+%04X '%.*s'", (unsigned)c, (int)k, u);
}

static int emit(struct parser *p, enum tok type, size_t off, size_t len)
{
	if (p->ntok == p->captok) {
		size_t nc = p->captok ? p->captok * 2 : 64;
		struct token *nt = realloc(p->tok, nc * sizeof(*nt));

		if (!nt)
			return fmt_oom(p);
		p->tok = nt;
		p->captok = nc;
	}
	p->tok[p->ntok++] = (struct token){type, off, len, NULL};
	return 0;
}

/* Ends lexing with an error token (reported when the parser reaches it, as Go does). */
__attribute__((format(printf, 3, 4))) static int lexerr(struct parser *p, size_t off,
							const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(p->lexmsg, sizeof(p->lexmsg), fmt, ap);
	va_end(ap);
	r = emit(p, T_ERROR, off, 0);
	if (r < 0)
		return r;
	p->tok[p->ntok - 1].msg = p->lexmsg;
	return 1;
}

static bool at_rdelim(const struct parser *p, size_t i)
{
	return i + 2 <= p->end && p->s[i] == '}' && p->s[i + 1] == '}';
}

/* " -}}": any white space, '-', then the delimiter. */
static bool at_rtrim(const struct parser *p, size_t i)
{
	return i + 4 <= p->end && fmt_gspace(p->s[i]) && p->s[i + 1] == '-' && at_rdelim(p, i + 2);
}

static bool at_term(const struct parser *p, size_t i)
{
	return i >= p->end || fmt_gspace(p->s[i]) || fmt_in_set(p->s[i], ".,|:()") ||
	       at_rdelim(p, i);
}

static int lex_comment(struct parser *p, size_t *ip)
{
	const char *s = p->s;
	size_t i = *ip + 2;
	const char *e = memmem(s + i, p->end - i, "*/", 2);

	if (!e)
		return lexerr(p, *ip, "unclosed comment");
	i = (size_t)(e - s) + 2;
	if (at_rtrim(p, i)) {
		for (i += 4; i < p->end && fmt_gspace(s[i]); i++)
			;
	} else if (at_rdelim(p, i)) {
		i += 2;
	} else {
		return lexerr(p, i, "comment ends before closing delimiter");
	}
	*ip = i;
	return 0;
}

static int lex_quote(struct parser *p, size_t i, char q, size_t *j)
{
	const char *what =
	    q == '"' ? "unterminated quoted string" : "unterminated character constant";
	size_t k = i + 1;

	for (;;) {
		if (k >= p->end || p->s[k] == '\n')
			return lexerr(p, i, "%s", what);
		if (p->s[k] == '\\') {
			if (++k >= p->end || p->s[k] == '\n')
				return lexerr(p, i, "%s", what);
		} else if (p->s[k] == q) {
			break;
		}
		k++;
	}
	*j = k + 1;
	return 0;
}

static int lex_number(struct parser *p, size_t i, size_t *j)
{
	const char *s = p->s, *digits = "0123456789_";
	size_t k = i, n = p->end;
	bool hex = false;

	if (k < n && (s[k] == '+' || s[k] == '-'))
		k++;
	if (k + 1 < n && s[k] == '0' && (s[k + 1] == 'x' || s[k + 1] == 'X')) {
		k += 2;
		digits = "0123456789abcdefABCDEF_";
		hex = true;
	}
	while (k < n && fmt_in_set(s[k], digits))
		k++;
	if (k < n && s[k] == '.')
		for (k++; k < n && fmt_in_set(s[k], digits); k++)
			;
	if (k < n && fmt_in_set(s[k], hex ? "pP" : "eE")) {
		k++;
		if (k < n && (s[k] == '+' || s[k] == '-'))
			k++;
		while (k < n && fmt_in_set(s[k], "0123456789_"))
			k++;
	}
	if (k < n && s[k] == 'i')
		k++;
	if (k < n && fmt_galnum(s[k]))
		return lexerr(p, i, "bad number syntax: \"%.*s\"", (int)(k + 1 - i), s + i);
	*j = k;
	return 0;
}

static int lex_word(struct parser *p, size_t i, size_t *j, enum tok *type)
{
	static const struct {
		const char *word;
		enum tok type;
	} keywords[] = {
	    {"if", T_IF},
	    {"else", T_ELSE},
	    {"end", T_END},
	    {"range", T_RANGE},
	    {"with", T_WITH},
	    {"break", T_BREAK},
	    {"continue", T_CONTINUE},
	    {"define", T_DEFINE},
	    {"template", T_TEMPLATE},
	    {"block", T_BLOCK},
	    {"nil", T_NIL},
	    {"true", T_BOOL},
	    {"false", T_BOOL},
	};
	const char *s = p->s;
	size_t k = i + 1;
	char rd[32];

	if (s[i] == '.' || s[i] == '$') {
		/* ".Field", "$var"; "." and "$" alone */
		*type = s[i] == '.' ? T_FIELD : T_VAR;
		if (at_term(p, k)) {
			*type = s[i] == '.' ? T_DOT : T_VAR;
			*j = k;
			return 0;
		}
	} else {
		*type = T_IDENT;
	}
	while (k < p->end && fmt_galnum(s[k]))
		k++;
	if (!at_term(p, k)) {
		rune_desc(s + k, p->end - k, rd);
		return lexerr(p, k, "bad character %s", rd);
	}
	for (size_t w = 0; *type == T_IDENT && w < ARRAY_SIZE(keywords); w++)
		if (strlen(keywords[w].word) == k - i && !memcmp(keywords[w].word, s + i, k - i))
			*type = keywords[w].type;
	*j = k;
	return 0;
}

/* Tokens of one action, from just after "{{" (and its trim marker) through "}}". Returns 0,
 * 1 when it emitted an error token, or -ENOMEM. */
static int lex_action(struct parser *p, size_t *ip)
{
	const char *s = p->s;
	size_t i = *ip, n = p->end;
	int paren = 0, r;

	for (;;) {
		bool trim = at_rtrim(p, i);
		enum tok type;
		size_t j = i + 1;
		char c, rd[32];

		if (trim || at_rdelim(p, i)) {
			size_t d = trim ? i + 2 : i;

			if (paren > 0)
				return lexerr(p, i, "unclosed left paren");
			if ((r = emit(p, T_RDELIM, d, 2)) < 0)
				return r;
			for (i = d + 2; trim && i < n && fmt_gspace(s[i]); i++)
				;
			*ip = i;
			return 0;
		}
		if (i >= n)
			return lexerr(p, i, "unclosed action");
		c = s[i];
		if (fmt_gspace(c)) {
			while (j < n && fmt_gspace(s[j]))
				j++;
			/* leave the space of a " -}}" to be seen as the trim marker */
			if (j - 1 > i && at_rtrim(p, j - 1))
				j--;
			type = T_SPACE;
		} else if (c == '=') {
			type = T_ASSIGN;
		} else if (c == ':') {
			if (j >= n || s[j] != '=')
				return lexerr(p, i, "expected :=");
			j++;
			type = T_DECLARE;
		} else if (c == '|') {
			type = T_PIPE;
		} else if (c == '"' || c == '\'') {
			if ((r = lex_quote(p, i, c, &j)))
				return r;
			type = c == '"' ? T_STRING : T_CHARCONST;
		} else if (c == '`') {
			const char *e = memchr(s + j, '`', n - j);

			if (!e)
				return lexerr(p, i, "unterminated raw quoted string");
			j = (size_t)(e - s) + 1;
			type = T_RAWSTRING;
		} else if (c == '$' || (c == '.' && !(j < n && gdigit(s[j])))) {
			if ((r = lex_word(p, i, &j, &type)))
				return r;
		} else if (c == '.' || c == '+' || c == '-' || gdigit(c)) {
			if ((r = lex_number(p, i, &j)))
				return r;
			type = T_NUMBER;
		} else if (fmt_galnum(c)) {
			if ((r = lex_word(p, i, &j, &type)))
				return r;
		} else if (c == '(') {
			paren++;
			type = T_LPAREN;
		} else if (c == ')') {
			if (--paren < 0)
				return lexerr(p, i, "unexpected right paren");
			type = T_RPAREN;
		} else if (c >= 0x20 && c < 0x7F) {
			type = T_CHAR;
		} else {
			rune_desc(s + i, n - i, rd);
			return lexerr(p, i, "unrecognized character in action: %s", rd);
		}
		if ((r = emit(p, type, i, j - i)) < 0)
			return r;
		i = j;
	}
}

int fmt_lex(struct parser *p, size_t i)
{
	const char *s = p->s;
	size_t n = p->end;
	int r;

	while (i < n) {
		const char *ld = memmem(s + i, n - i, "{{", 2);
		size_t a = ld ? (size_t)(ld - s) : n, te = a;
		bool ltrim = ld && a + 3 < n && s[a + 2] == '-' && fmt_gspace(s[a + 3]);

		while (ltrim && te > i && fmt_gspace(s[te - 1]))
			te--;
		if (te > i && (r = emit(p, T_TEXT, i, te - i)) < 0)
			return r;
		if (!ld)
			break;
		i = a + 2 + (ltrim ? 2 : 0);
		if (n - i >= 2 && s[i] == '/' && s[i + 1] == '*') {
			if ((r = lex_comment(p, &i)) < 0)
				return r;
			if (r)
				break;
			continue;
		}
		if ((r = emit(p, T_LDELIM, a, 2)) < 0)
			return r;
		if ((r = lex_action(p, &i)) < 0)
			return r;
		if (r)
			break;
	}
	return emit(p, T_EOF, n, 0);
}
