/*
 * engine/format_print.c - `--format`'s values as Go prints them: byte buffers with a sticky
 * error, UTF-8, strconv's quoting and floats, encoding/json's output, fmt's %v and Sprintf,
 * and Go's truth.
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: no file, process or network
 * state; output goes only to a struct buf.
 *
 * Invariants:
 *  - a struct buf never grows past its max: an append that would is dropped and leaves
 *    -E2BIG (or -ENOMEM) in b->err, and every later append is dropped too;
 *  - values are printed at most FMT_MAX_DEPTH deep (deeper sets -ELOOP), and printf widths
 *    and precisions are capped at FMT_MAX_WIDTH, so no input makes printing recurse or
 *    allocate without bound;
 *  - values are only read, never modified.
 */
#include "engine/format_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define FMT_MAX_WIDTH 1000000 /* printf width and precision, as Go's fmt */

/* ---- byte buffers with a sticky error ---------------------------------------------- */

void fmt_bput(struct buf *b, const void *s, size_t n)
{
	if (b->err || !n)
		return;
	if (n > b->max - b->len) {
		b->err = -E2BIG;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

void fmt_bputs(struct buf *b, const char *s)
{
	fmt_bput(b, s, strlen(s));
}

void fmt_bputc(struct buf *b, char c)
{
	fmt_bput(b, &c, 1);
}

void fmt_bpad(struct buf *b, char c, size_t n)
{
	char fill[64];

	memset(fill, c, sizeof(fill));
	while (n && !b->err) {
		size_t k = n < sizeof(fill) ? n : sizeof(fill);

		fmt_bput(b, fill, k);
		n -= k;
	}
}

__attribute__((format(printf, 2, 3))) static void bprintf(struct buf *b, const char *fmt, ...)
{
	char small[128];
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(small)) {
		fmt_bput(b, small, (size_t)n);
	} else if (n >= 0 && (size_t)n <= b->max) {
		_cleanup_free_ char *big = malloc((size_t)n + 1);

		if (big) {
			vsnprintf(big, (size_t)n + 1, fmt, ap2);
			fmt_bput(b, big, (size_t)n);
		} else if (!b->err) {
			b->err = -ENOMEM;
		}
	} else if (!b->err) {
		b->err = n < 0 ? -ENOMEM : -E2BIG;
	}
	va_end(ap2);
}

void fmt_bfree(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* ---- UTF-8 ------------------------------------------------------------------------- */

/* One sequence at S (N > 0 bytes left): its length, and the code point or U8_BAD. An
 * invalid byte is a sequence of one, as Go's utf8.DecodeRune has it. */
size_t fmt_u8dec(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		goto bad;
	}
	if (n < len)
		goto bad;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			goto bad;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10FFFF)))
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = U8_BAD;
	return 1;
}

size_t fmt_u8enc(uint32_t c, char *out)
{
	if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		c = 0xFFFD;
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xC0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xE0 | c >> 12);
		out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		out[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | c >> 18);
	out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	out[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

size_t fmt_u8count(const char *s, size_t n)
{
	size_t runes = 0;
	uint32_t c;

	for (size_t i = 0; i < n; runes++)
		i += fmt_u8dec(s + i, n - i, &c);
	return runes;
}

/* Bytes taken by the first K code points of S. */
size_t fmt_u8prefix(const char *s, size_t n, size_t k)
{
	size_t i = 0;
	uint32_t c;

	while (i < n && k--)
		i += fmt_u8dec(s + i, n - i, &c);
	return i;
}

/* Go's strconv.Quote (Q '"') and QuoteRune (Q '\''). */
void fmt_go_quote(struct buf *b, const char *s, size_t n, char q)
{
	fmt_bputc(b, q);
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t k = fmt_u8dec(s + i, n - i, &c);

		if (c == U8_BAD) {
			bprintf(b, "\\x%02x", (unsigned char)s[i]);
		} else if (c == (uint32_t)q || c == '\\') {
			fmt_bputc(b, '\\');
			fmt_bputc(b, (char)c);
		} else if (c >= 0x20 && c < 0x7F) {
			fmt_bputc(b, (char)c);
		} else if (c < 0x80) {
			const char *e = strchr("\a\b\f\n\r\t\v", (int)c);

			if (c && e)
				fmt_bput(b, &"\\a\\b\\f\\n\\r\\t\\v"[(e - "\a\b\f\n\r\t\v") * 2],
					 2);
			else
				bprintf(b, "\\x%02x", (unsigned)c);
		} else if (c < 0xA0 || c == 0xAD || c == 0x2028 || c == 0x2029 || c == 0xFEFF) {
			bprintf(b, "\\u%04x", (unsigned)c);
		} else {
			fmt_bput(b, s + i, k);
		}
		i += k;
	}
	fmt_bputc(b, q);
}

/* ---- numbers as Go prints them ----------------------------------------------------- */

static bool sign_bit(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u >> 63;
}

/* The shortest digits that read back as D (finite, > 0): DIG gets them (no dot), *EXP the
 * power of ten of the first one. */
static void shortest(double d, char dig[32], int *e10)
{
	char tmp[48];
	const char *s;
	size_t k = 0;

	for (int prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	for (s = tmp; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && k < 31)
			dig[k++] = *s;
	while (k > 1 && dig[k - 1] == '0')
		k--;
	dig[k] = 0;
	*e10 = *s ? atoi(s + 1) : 0;
}

static void put_fixed(struct buf *b, const char *dig, int e10)
{
	int nd = (int)strlen(dig);

	if (e10 < 0) {
		fmt_bputs(b, "0.");
		fmt_bpad(b, '0', (size_t)(-e10 - 1));
		fmt_bputs(b, dig);
		return;
	}
	fmt_bput(b, dig, (size_t)(nd < e10 + 1 ? nd : e10 + 1));
	if (nd < e10 + 1)
		fmt_bpad(b, '0', (size_t)(e10 + 1 - nd));
	if (nd > e10 + 1) {
		fmt_bputc(b, '.');
		fmt_bputs(b, dig + e10 + 1);
	}
}

static void put_exp(struct buf *b, const char *dig, int e10, bool json)
{
	fmt_bputc(b, dig[0]);
	if (dig[1]) {
		fmt_bputc(b, '.');
		fmt_bputs(b, dig + 1);
	}
	/* strconv writes at least two exponent digits; encoding/json then drops "e-0"'s 0 */
	if (json && e10 < 0 && e10 > -10)
		bprintf(b, "e-%d", -e10);
	else
		bprintf(b, "e%c%02d", e10 < 0 ? '-' : '+', e10 < 0 ? -e10 : e10);
}

/* fmt's %v of a float64 (strconv 'g', shortest): 1, 1.5, 1e+06, 1e-05. */
static void go_float(struct buf *b, double d)
{
	char dig[32];
	int e10;

	if (sign_bit(d))
		fmt_bputc(b, '-');
	if (d == 0) {
		fmt_bputc(b, '0');
		return;
	}
	shortest(d < 0 ? -d : d, dig, &e10);
	if (e10 < -4 || e10 >= 6)
		put_exp(b, dig, e10, false);
	else
		put_fixed(b, dig, e10);
}

/* encoding/json's float64: fixed unless tiny or huge, then e-notation. */
static void json_float(struct buf *b, double d)
{
	double a = d < 0 ? -d : d;
	char dig[32];
	int e10;

	if (sign_bit(d))
		fmt_bputc(b, '-');
	if (d == 0) {
		fmt_bputc(b, '0');
		return;
	}
	shortest(a, dig, &e10);
	if (a < 1e-6 || a >= 1e21)
		put_exp(b, dig, e10, true);
	else
		put_fixed(b, dig, e10);
}

/* ---- JSON as Go's encoding/json writes it (SetEscapeHTML(false), stored key order) ---- */

static void json_str(struct buf *b, const char *s, size_t n)
{
	fmt_bputc(b, '"');
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t k = fmt_u8dec(s + i, n - i, &c);
		const char *e;

		if (c == U8_BAD)
			fmt_bputs(b, "\\ufffd");
		else if (c == '"' || c == '\\')
			fmt_bput(b, (const char[]){'\\', (char)c}, 2);
		else if (c < 0x20 && (e = strchr("\b\f\n\r\t", (int)c)) && c)
			fmt_bput(b, &"\\b\\f\\n\\r\\t"[(e - "\b\f\n\r\t") * 2], 2);
		else if (c < 0x20 || c == 0x2028 || c == 0x2029)
			bprintf(b, "\\u%04x", (unsigned)c);
		else
			fmt_bput(b, s + i, k);
		i += k;
	}
	fmt_bputc(b, '"');
}

void fmt_go_json(struct buf *b, json_t *v, int depth)
{
	if (depth > FMT_MAX_DEPTH) {
		if (!b->err)
			b->err = -ELOOP;
		return;
	}
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: {
		const char *key;
		json_t *m;
		bool first = true;

		fmt_bputc(b, '{');
		json_object_foreach (v, key, m) {
			if (!first)
				fmt_bputc(b, ',');
			first = false;
			json_str(b, key, strlen(key));
			fmt_bputc(b, ':');
			fmt_go_json(b, m, depth + 1);
		}
		fmt_bputc(b, '}');
		break;
	}
	case JSON_ARRAY:
		fmt_bputc(b, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				fmt_bputc(b, ',');
			fmt_go_json(b, json_array_get(v, i), depth + 1);
		}
		fmt_bputc(b, ']');
		break;
	case JSON_STRING:
		json_str(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		bprintf(b, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		json_float(b, json_real_value(v));
		break;
	case JSON_TRUE:
		fmt_bputs(b, "true");
		break;
	case JSON_FALSE:
		fmt_bputs(b, "false");
		break;
	case JSON_NULL:
	default:
		fmt_bputs(b, "null");
		break;
	}
}

/* ---- values as Go's fmt prints them ------------------------------------------------ */

struct spec {
	bool minus, plus, zero, sharp, space;
	int width, prec; /* -1 when absent */
	uint32_t verb;
};

static const struct spec spec_v = {.width = -1, .prec = -1, .verb = 'v'};

const char *fmt_tname(json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		return "map[string]interface {}";
	case JSON_ARRAY:
		return "[]interface {}";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "float64";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	case JSON_NULL:
	default:
		return "<nil>";
	}
}

static int keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of O in Go's map order (sorted); NULL when out of memory. */
const char **fmt_sorted_keys(json_t *o)
{
	const char **keys = calloc(json_object_size(o) + 1, sizeof(*keys));
	const char *key;
	json_t *m;
	size_t n = 0;

	if (!keys)
		return NULL;
	json_object_foreach (o, key, m) {
		keys[n++] = key;
	}
	qsort(keys, n, sizeof(*keys), keycmp);
	return keys;
}

/* S padded to the spec's width, counted in code points as fmt does. */
static void pad_str(struct buf *b, const struct spec *sp, const char *s, size_t n)
{
	size_t w = fmt_u8count(s, n);
	size_t fill = sp->width > 0 && (size_t)sp->width > w ? (size_t)sp->width - w : 0;

	if (!sp->minus)
		fmt_bpad(b, sp->zero ? '0' : ' ', fill);
	fmt_bput(b, s, n);
	if (sp->minus)
		fmt_bpad(b, ' ', fill);
}

static void pad_num(struct buf *b, const struct spec *sp, const char *sign, const char *prefix,
		    const char *digits)
{
	size_t n = strlen(sign) + strlen(prefix) + strlen(digits);
	size_t fill = sp->width > 0 && (size_t)sp->width > n ? (size_t)sp->width - n : 0;

	if (!sp->minus && !sp->zero)
		fmt_bpad(b, ' ', fill);
	fmt_bputs(b, sign);
	fmt_bputs(b, prefix);
	if (!sp->minus && sp->zero)
		fmt_bpad(b, '0', fill);
	fmt_bputs(b, digits);
	if (sp->minus)
		fmt_bpad(b, ' ', fill);
}

static void fmt_value(struct buf *b, const struct spec *sp, json_t *v, int depth);

static void put_verb(struct buf *b, uint32_t verb)
{
	char u[4];

	fmt_bput(b, u, fmt_u8enc(verb, u));
}

/* fmt's "%!d(string=abc)" for a verb that does not fit the value. */
static void bad_verb(struct buf *b, const struct spec *sp, json_t *v, int depth)
{
	fmt_bputs(b, "%!");
	put_verb(b, sp->verb);
	fmt_bputc(b, '(');
	if (!v || json_is_null(v)) {
		fmt_bputs(b, "<nil>");
	} else {
		fmt_bputs(b, fmt_tname(v));
		fmt_bputc(b, '=');
		fmt_value(b, &spec_v, v, depth + 1);
	}
	fmt_bputc(b, ')');
}

static void fmt_string(struct buf *b, const struct spec *sp, const char *s, size_t n)
{
	struct buf t = {.max = FMT_MAX_OUTPUT};

	if (sp->prec >= 0)
		n = fmt_u8prefix(s, n, (size_t)sp->prec);
	switch (sp->verb) {
	case 's':
	case 'v':
		pad_str(b, sp, s, n);
		return;
	case 'q':
		fmt_go_quote(&t, s, n, '"');
		break;
	case 'x':
	case 'X':
		if (sp->sharp && n)
			fmt_bputs(&t, sp->verb == 'x' ? "0x" : "0X");
		for (size_t i = 0; i < n; i++)
			bprintf(&t, sp->verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
		break;
	default:
		fmt_bputs(b, "%!");
		put_verb(b, sp->verb);
		fmt_bputs(b, "(string=");
		fmt_bput(b, s, n);
		fmt_bputc(b, ')');
		return;
	}
	if (t.err && !b->err)
		b->err = t.err;
	pad_str(b, sp, t.p ? t.p : "", t.len);
	fmt_bfree(&t);
}

static void fmt_int(struct buf *b, const struct spec *sp, json_t *v, int depth)
{
	long long x = (long long)json_integer_value(v);
	unsigned long long u = x < 0 ? 0ull - (unsigned long long)x : (unsigned long long)x;
	const char *sign = x < 0 ? "-" : sp->plus ? "+" : sp->space ? " " : "", *prefix = "";
	char digits[72], rune[4];
	struct buf t = {.max = 64};
	size_t k = 0;

	switch (sp->verb) {
	case 'd':
	case 'v':
		snprintf(digits, sizeof(digits), "%llu", u);
		break;
	case 'x':
		snprintf(digits, sizeof(digits), "%llx", u);
		prefix = sp->sharp ? "0x" : "";
		break;
	case 'X':
		snprintf(digits, sizeof(digits), "%llX", u);
		prefix = sp->sharp ? "0X" : "";
		break;
	case 'o':
		snprintf(digits, sizeof(digits), "%llo", u);
		prefix = sp->sharp ? "0" : "";
		break;
	case 'b':
		do {
			digits[k++] = (char)('0' + (u & 1));
			u >>= 1;
		} while (u);
		for (size_t i = 0; i < k / 2; i++) {
			char c = digits[i];

			digits[i] = digits[k - 1 - i];
			digits[k - 1 - i] = c;
		}
		digits[k] = 0;
		break;
	case 'c':
	case 'q':
		k = fmt_u8enc(x < 0 || x > 0x10FFFF ? 0xFFFD : (uint32_t)x, rune);
		if (sp->verb == 'c') {
			pad_str(b, sp, rune, k);
		} else {
			fmt_go_quote(&t, rune, k, '\'');
			pad_str(b, sp, t.p ? t.p : "", t.len);
			fmt_bfree(&t);
		}
		return;
	case 'U':
		snprintf(digits, sizeof(digits), "U+%04llX", u);
		pad_str(b, sp, digits, strlen(digits));
		return;
	default:
		bad_verb(b, sp, v, depth);
		return;
	}
	pad_num(b, sp, sign, prefix, digits);
}

static void fmt_real(struct buf *b, const struct spec *sp, json_t *v, int depth)
{
	double d = json_real_value(v), a = sign_bit(d) ? -d : d;
	const char *sign = sign_bit(d) ? "-" : sp->plus ? "+" : sp->space ? " " : "";
	int prec = sp->prec;
	struct buf t = {.max = FMT_MAX_OUTPUT};

	switch (sp->verb) {
	case 'v':
	case 'g':
		if (prec < 0)
			go_float(&t, a);
		else
			bprintf(&t, "%.*g", prec, a);
		break;
	case 'f':
	case 'F':
		bprintf(&t, "%.*f", prec < 0 ? 6 : prec, a);
		break;
	case 'e':
		bprintf(&t, "%.*e", prec < 0 ? 6 : prec, a);
		break;
	case 'E':
		bprintf(&t, "%.*E", prec < 0 ? 6 : prec, a);
		break;
	default:
		bad_verb(b, sp, v, depth);
		return;
	}
	if (t.err && !b->err)
		b->err = t.err;
	pad_num(b, sp, sign, "", t.p ? t.p : "");
	fmt_bfree(&t);
}

static void fmt_value(struct buf *b, const struct spec *sp, json_t *v, int depth)
{
	if (depth > FMT_MAX_DEPTH) {
		if (!b->err)
			b->err = -ELOOP;
		return;
	}
	if (sp->verb == 'T') {
		pad_str(b, sp, fmt_tname(v), strlen(fmt_tname(v)));
		return;
	}
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_ARRAY:
		/* fmt applies the verb (and width) to each element */
		fmt_bputc(b, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				fmt_bputc(b, ' ');
			fmt_value(b, sp, json_array_get(v, i), depth + 1);
		}
		fmt_bputc(b, ']');
		break;
	case JSON_OBJECT: {
		_cleanup_free_ const char **keys = fmt_sorted_keys(v);

		if (!keys) {
			if (!b->err)
				b->err = -ENOMEM;
			return;
		}
		fmt_bputs(b, "map[");
		for (size_t i = 0; keys[i]; i++) {
			if (i)
				fmt_bputc(b, ' ');
			fmt_string(b, sp, keys[i], strlen(keys[i]));
			fmt_bputc(b, ':');
			fmt_value(b, sp, json_object_get(v, keys[i]), depth + 1);
		}
		fmt_bputc(b, ']');
		break;
	}
	case JSON_STRING:
		fmt_string(b, sp, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		fmt_int(b, sp, v, depth);
		break;
	case JSON_REAL:
		fmt_real(b, sp, v, depth);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		if (sp->verb == 't' || sp->verb == 'v')
			pad_str(b, sp, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5);
		else
			bad_verb(b, sp, v, depth);
		break;
	case JSON_NULL:
	default:
		if (sp->verb == 'v')
			pad_str(b, sp, "<nil>", 5);
		else
			bad_verb(b, sp, v, depth);
		break;
	}
}

/* %v; a missing value prints as fmt prints an untyped nil. */
void fmt_print_v(struct buf *b, json_t *v)
{
	fmt_value(b, &spec_v, v, 0);
}

/* A number for printf's width or precision: digits, or '*' taking an int argument. */
static int printf_num(const char *f, size_t n, size_t *i, json_t **args, size_t nargs, size_t *ai,
		      int *out, bool *neg)
{
	long v = 0;

	*neg = false;
	if (*i < n && f[*i] == '*') {
		json_t *a = *ai < nargs ? args[(*ai)++] : NULL;

		(*i)++;
		if (!json_is_integer(a) || json_integer_value(a) > FMT_MAX_WIDTH ||
		    json_integer_value(a) < -FMT_MAX_WIDTH)
			return -1;
		v = (long)json_integer_value(a);
		*neg = v < 0;
		*out = (int)(v < 0 ? -v : v);
		return 0;
	}
	while (*i < n && f[*i] >= '0' && f[*i] <= '9') {
		v = v * 10 + (f[(*i)++] - '0');
		if (v > FMT_MAX_WIDTH)
			return -1;
	}
	*out = (int)v;
	return 0;
}

/* Go's fmt.Sprintf for the verbs templates use: flags "-+# 0", width and precision (digits
 * or '*'), %v %s %q %d %x %X %o %b %c %U %t %f %e %g %T %%; and fmt's in-band errors. */
void fmt_go_printf(struct buf *b, const char *f, size_t n, json_t **args, size_t nargs)
{
	size_t i = 0, ai = 0;

	while (i < n && !b->err) {
		struct spec sp = {.width = -1, .prec = -1};
		const char *pct = memchr(f + i, '%', n - i);
		size_t j = pct ? (size_t)(pct - f) : n;
		bool neg;

		fmt_bput(b, f + i, j - i);
		if (j >= n)
			break;
		for (i = j + 1; i < n && fmt_in_set(f[i], "-+# 0"); i++) {
			sp.minus |= f[i] == '-';
			sp.plus |= f[i] == '+';
			sp.sharp |= f[i] == '#';
			sp.space |= f[i] == ' ';
			sp.zero |= f[i] == '0';
		}
		if (i < n && ((f[i] >= '1' && f[i] <= '9') || f[i] == '*')) {
			if (printf_num(f, n, &i, args, nargs, &ai, &sp.width, &neg) < 0) {
				fmt_bputs(b, "%!(BADWIDTH)");
				sp.width = -1;
			}
			sp.minus |= neg;
		}
		if (i < n && f[i] == '.') {
			i++;
			if (printf_num(f, n, &i, args, nargs, &ai, &sp.prec, &neg) < 0 || neg) {
				fmt_bputs(b, "%!(BADPREC)");
				sp.prec = -1;
			}
		}
		if (i >= n) {
			fmt_bputs(b, "%!(NOVERB)");
			break;
		}
		i += fmt_u8dec(f + i, n - i, &sp.verb);
		if (sp.verb == U8_BAD)
			sp.verb = 0xFFFD;
		if (sp.verb == '%') {
			fmt_bputc(b, '%');
		} else if (ai >= nargs) {
			fmt_bputs(b, "%!");
			put_verb(b, sp.verb);
			fmt_bputs(b, "(MISSING)");
		} else {
			if (sp.minus)
				sp.zero = false;
			fmt_value(b, &sp, args[ai++], 0);
		}
	}
	if (ai < nargs) {
		fmt_bputs(b, "%!(EXTRA ");
		for (size_t k = ai; k < nargs; k++) {
			if (k > ai)
				fmt_bputs(b, ", ");
			if (args[k] && !json_is_null(args[k])) {
				fmt_bputs(b, fmt_tname(args[k]));
				fmt_bputc(b, '=');
			}
			fmt_print_v(b, args[k]);
		}
		fmt_bputc(b, ')');
	}
}

/* Go's truth: false, 0, "", nil and empty collections are false. */
bool fmt_truth(json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return true;
	case JSON_FALSE:
	case JSON_NULL:
	default:
		return false;
	}
}
