/*
 * engine/options.c - parsers for the lifecycle flags (see options.h).
 *
 * Runs in: the moat CLI process (and the restart decision in a container's
 * monitor), as the invoking user or root. PURE: file text, the
 * environment and times come from the caller; regcomp/regexec are the only
 * library calls beyond string handling.
 *
 * Invariants:
 *  - input sizes are capped before anything is allocated (1 MiB per file,
 *    64 KiB per line, 4 KiB per filter, 256 filters);
 *  - a parser that fails leaves the caller's list as it was;
 *  - text from the input echoed in a message is cut and stripped of
 *    control characters;
 *  - a name filter is compiled only if it cannot make regcomp blow up
 *    (repetitions copy their operand, so the expanded size is estimated
 *    and capped) or regexec backtrack exponentially (back-references are
 *    refused).
 */
#include "engine/options.h"

#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

#define FILTER_MAX 4096	   /* bytes in one --filter */
#define FILTERS_MAX 256	   /* --filter flags in one ps */
#define NAME_REGEX_MAX 512 /* bytes in a name pattern */

/* S[0..N) fit for a message: at most ~120 bytes, control bytes as '?'. */
static const char *shown(const char *s, size_t n, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 4 < len && i < 120; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (i < n) {
		/* Do not leave half a UTF-8 sequence before the ellipsis. */
		while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
			o--;
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = 0;
	return buf;
}

static size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* Moves the N strings of ADD to the end of *V (they are owned by *V after
 * success; on failure nothing changes). */
static int strv_extend(char ***v, char **add, size_t n, struct err **err)
{
	size_t have = strv_len(*v);
	char **nv;

	if (n > SIZE_MAX / sizeof(*nv) - have - 1)
		return err_errno(err, ENOMEM, "string list");
	nv = realloc(*v, (have + n + 1) * sizeof(*nv));
	if (!nv)
		return err_errno(err, ENOMEM, "string list");
	if (n)
		memcpy(nv + have, add, n * sizeof(*add));
	nv[have + n] = NULL;
	*v = nv;
	return 0;
}

/* Appends S (owned) to the growing list *V of *N entries, capacity *CAP,
 * kept NULL-terminated so that it can be freed with strvfree. */
static int push(char ***v, size_t *n, size_t *cap, char *s, struct err **err)
{
	if (!s)
		return err_errno(err, ENOMEM, "string list");
	if (*n + 1 >= *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		char **nv = realloc(*v, nc * sizeof(*nv));

		if (!nv) {
			free(s);
			return err_errno(err, ENOMEM, "string list");
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return 0;
}

/* Go's utf8.Valid: no overlong forms, no surrogates, nothing past
 * U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return false;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (n - i <= k)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t j = 2; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k + 1;
	}
	return true;
}

/* Bytes of the Unicode white space (Go's unicode.IsSpace) at S, or 0. */
static size_t space_len(const unsigned char *s, size_t n)
{
	if (n >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if (s[0] == 0xe1 && s[1] == 0x9a && s[2] == 0x80) /* U+1680 */
		return 3;
	if (s[0] == 0xe2 && s[1] == 0x80 &&
	    ((s[2] >= 0x80 && s[2] <= 0x8a) || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
		return 3;				  /* U+2000..200A, U+2028, U+2029, U+202F */
	if (s[0] == 0xe2 && s[1] == 0x81 && s[2] == 0x9f) /* U+205F */
		return 3;
	if (s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x80) /* U+3000 */
		return 3;
	return 0;
}

static const char *env_lookup(char *const *environ_, const char *key, size_t klen)
{
	for (size_t i = 0; environ_ && environ_[i]; i++)
		if (!strncmp(environ_[i], key, klen) && environ_[i][klen] == '=')
			return environ_[i] + klen + 1;
	return NULL;
}

enum kv_kind { KV_ENV, KV_LABEL };

static int parse_kv(const char *file, const char *text, size_t len, enum kv_kind kind,
		    char *const *environ_, char ***out, struct err **err)
{
	_cleanup_strv_ char **got = NULL;
	size_t ngot = 0, cap = 0, lineno = 0;
	const char *p = text, *end;
	int r;
	char fb[128], lb[128];

	file = shown(file ? file : "-", strlen(file ? file : "-"), fb, sizeof(fb));
	if (len > OPTIONS_FILE_MAX)
		return err_set(err, EFBIG, "%s: larger than %u bytes", file, OPTIONS_FILE_MAX);
	if (!text)
		return len ? err_set(err, EINVAL, "%s: no text", file) : 0;
	end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p, *eq;
		size_t ll = (size_t)((nl ? nl : end) - p), sp, klen;
		char *entry;

		p = nl ? nl + 1 : end;
		lineno++;
		if (ll > OPTIONS_LINE_MAX)
			return err_set(err, E2BIG, "%s:%zu: line longer than %u bytes", file,
				       lineno, OPTIONS_LINE_MAX);
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (memchr(line, 0, ll) || !utf8_valid((const unsigned char *)line, ll))
			return err_set(err, EILSEQ, "%s:%zu: contains invalid utf8 bytes", file,
				       lineno);
		if (lineno == 1 && ll >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
			line += 3;
			ll -= 3;
		}
		while ((sp = space_len((const unsigned char *)line, ll))) {
			line += sp;
			ll -= sp;
		}
		if (!ll || line[0] == '#')
			continue;
		eq = memchr(line, '=', ll);
		klen = eq ? (size_t)(eq - line) : ll;
		if (memchr(line, ' ', klen) || memchr(line, '\t', klen))
			return err_set(err, EINVAL, "%s:%zu: variable '%s' contains whitespaces",
				       file, lineno, shown(line, klen, lb, sizeof(lb)));
		if (!klen)
			return err_set(err, EINVAL, "%s:%zu: invalid %s: %s", file, lineno,
				       kind == KV_ENV ? "environment variable" : "label",
				       shown(line, ll, lb, sizeof(lb)));
		if (eq) {
			entry = strndup(line, ll);
		} else if (kind == KV_LABEL) {
			if (asprintf(&entry, "%.*s=", (int)klen, line) < 0)
				entry = NULL;
		} else {
			const char *val = env_lookup(environ_, line, klen);

			if (!val)
				continue; /* Docker: unset in the caller's environment */
			if (asprintf(&entry, "%.*s=%s", (int)klen, line, val) < 0)
				entry = NULL;
		}
		if (push(&got, &ngot, &cap, entry, err) < 0) {
			err_prefix(err, "%s:%zu", file, lineno);
			return -ENOMEM;
		}
	}
	if (!ngot)
		return 0;
	r = strv_extend(out, got, ngot, err);
	if (r < 0)
		return r;
	free(steal_ptr(got)); /* the strings now belong to *OUT */
	return 0;
}

int options_env_file_parse(const char *file, const char *text, size_t len, char **environ_,
			   char ***env, struct err **err)
{
	return parse_kv(file, text, len, KV_ENV, environ_, env, err);
}

int options_label_file_parse(const char *file, const char *text, size_t len, char ***labels,
			     struct err **err)
{
	return parse_kv(file, text, len, KV_LABEL, NULL, labels, err);
}

int options_label_add(char ***labels, const char *arg, struct err **err)
{
	_cleanup_free_ char *entry = NULL;
	char buf[160];
	size_t klen, i;
	int r;

	if (!arg)
		return err_set(err, EINVAL, "invalid label: none given");
	klen = strcspn(arg, "=");
	for (i = 0; i < klen && (arg[i] == ' ' || arg[i] == '\t'); i++)
		;
	if (i == klen)
		return err_set(err, EINVAL, "invalid label '%s': empty name",
			       shown(arg, strlen(arg), buf, sizeof(buf)));
	if (memchr(arg, ' ', klen) || memchr(arg, '\t', klen))
		return err_set(err, EINVAL, "label '%s' contains whitespaces",
			       shown(arg, klen, buf, sizeof(buf)));
	if (arg[klen] == '=')
		entry = strdup(arg);
	else if (asprintf(&entry, "%s=", arg) < 0)
		entry = NULL;
	if (!entry)
		return err_errno(err, ENOMEM, "label");
	r = strv_extend(labels, &entry, 1, err);
	if (r < 0)
		return r;
	entry = NULL; /* now in *LABELS */
	return 0;
}

static const char *const restart_names[] = {
    [RESTART_NO] = "no",
    [RESTART_ON_FAILURE] = "on-failure",
    [RESTART_ALWAYS] = "always",
    [RESTART_UNLESS_STOPPED] = "unless-stopped",
};

const char *options_restart_name(enum restart_policy p)
{
	if ((unsigned)p >= ARRAY_SIZE(restart_names))
		return "unknown";
	return restart_names[p];
}

int options_restart_parse(const char *s, struct restart_spec *out, struct err **err)
{
	char buf[160];
	const char *colon, *q;
	size_t nl;
	long long count = 0;
	int pol = -1;

	if (!s)
		return err_set(err, EINVAL, "invalid restart policy \"\"");
	colon = strchr(s, ':');
	nl = colon ? (size_t)(colon - s) : strlen(s);
	if (!nl && !colon)
		pol = RESTART_NO; /* Docker: an empty policy is "no" */
	for (size_t i = 0; nl && i < ARRAY_SIZE(restart_names); i++)
		if (strlen(restart_names[i]) == nl && !strncmp(s, restart_names[i], nl))
			pol = (int)i;
	if (pol < 0)
		return err_set(err, EINVAL, "invalid restart policy \"%s\"",
			       shown(s, strlen(s), buf, sizeof(buf)));
	if (colon) {
		if (pol != RESTART_ON_FAILURE)
			return err_set(
			    err, EINVAL,
			    "maximum retry count cannot be used with restart policy '%s'",
			    restart_names[pol]);
		for (q = colon + 1; *q >= '0' && *q <= '9' && count <= INT_MAX; q++)
			count = count * 10 + (*q - '0');
		if (q == colon + 1 || *q || count > INT_MAX)
			return err_set(err, EINVAL,
				       "invalid restart policy \"%s\": maximum retry count must be "
				       "a non-negative integer",
				       shown(s, strlen(s), buf, sizeof(buf)));
	}
	out->policy = (enum restart_policy)pol;
	out->max_retries = (int)count;
	return 0;
}

bool options_restart_should(const struct restart_spec *r, int exit_code, int restarts, bool manual)
{
	if (!r || manual)
		return false;
	switch (r->policy) {
	case RESTART_ALWAYS:
	case RESTART_UNLESS_STOPPED:
		return true;
	case RESTART_ON_FAILURE:
		return exit_code != 0 && (r->max_retries <= 0 || restarts < r->max_retries);
	case RESTART_NO:
	default:
		return false;
	}
}

#define RESTART_DELAY_MIN 100u
#define RESTART_DELAY_MAX 60000u
#define RESTART_RESET_MS 10000u

unsigned options_restart_delay(unsigned prev_ms, uint64_t ran_ms)
{
	/* A run of 10 s or more counts as healthy: back-off starts over. */
	if (ran_ms >= RESTART_RESET_MS || prev_ms == 0)
		return RESTART_DELAY_MIN;
	if (prev_ms >= RESTART_DELAY_MAX / 2)
		return RESTART_DELAY_MAX;
	return prev_ms * 2;
}

/* The standard signals by name, aliases included (Docker's map for Linux);
 * numbers come from <signal.h> so that they are right for the arch. */
static const struct {
	const char *name;
	int num;
} sig_table[] = {
    {"HUP", SIGHUP},	   {"INT", SIGINT},	{"QUIT", SIGQUIT}, {"ILL", SIGILL},
    {"TRAP", SIGTRAP},	   {"ABRT", SIGABRT},	{"IOT", SIGIOT},   {"BUS", SIGBUS},
    {"FPE", SIGFPE},	   {"KILL", SIGKILL},	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},	   {"PIPE", SIGPIPE},	{"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},	{"CLD", SIGCHLD},  {"CONT", SIGCONT},
    {"STOP", SIGSTOP},	   {"TSTP", SIGTSTP},	{"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
    {"URG", SIGURG},	   {"XCPU", SIGXCPU},	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF},	   {"WINCH", SIGWINCH}, {"IO", SIGIO},	   {"POLL", SIGPOLL},
    {"PWR", SIGPWR},	   {"SYS", SIGSYS},
};

#define SIG_RTMIN 34 /* glibc keeps 32 and 33 for itself; Docker uses 34 */
#define SIG_RTMAX 64

/* One name per number (no aliases), as kill -l prints them. */
static const char *const sig_names[SIG_RTMAX + 1] = {
    [SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",
    [SIGQUIT] = "SIGQUIT", [SIGILL] = "SIGILL",
    [SIGTRAP] = "SIGTRAP", [SIGABRT] = "SIGABRT",
    [SIGBUS] = "SIGBUS",   [SIGFPE] = "SIGFPE",
    [SIGKILL] = "SIGKILL", [SIGUSR1] = "SIGUSR1",
    [SIGSEGV] = "SIGSEGV", [SIGUSR2] = "SIGUSR2",
    [SIGPIPE] = "SIGPIPE", [SIGALRM] = "SIGALRM",
    [SIGTERM] = "SIGTERM", [SIGSTKFLT] = "SIGSTKFLT",
    [SIGCHLD] = "SIGCHLD", [SIGCONT] = "SIGCONT",
    [SIGSTOP] = "SIGSTOP", [SIGTSTP] = "SIGTSTP",
    [SIGTTIN] = "SIGTTIN", [SIGTTOU] = "SIGTTOU",
    [SIGURG] = "SIGURG",   [SIGXCPU] = "SIGXCPU",
    [SIGXFSZ] = "SIGXFSZ", [SIGVTALRM] = "SIGVTALRM",
    [SIGPROF] = "SIGPROF", [SIGWINCH] = "SIGWINCH",
    [SIGIO] = "SIGIO",	   [SIGPWR] = "SIGPWR",
    [SIGSYS] = "SIGSYS",   [32] = "SIG32",
    [33] = "SIG33",	   [34] = "SIGRTMIN",
    [35] = "SIGRTMIN+1",   [36] = "SIGRTMIN+2",
    [37] = "SIGRTMIN+3",   [38] = "SIGRTMIN+4",
    [39] = "SIGRTMIN+5",   [40] = "SIGRTMIN+6",
    [41] = "SIGRTMIN+7",   [42] = "SIGRTMIN+8",
    [43] = "SIGRTMIN+9",   [44] = "SIGRTMIN+10",
    [45] = "SIGRTMIN+11",  [46] = "SIGRTMIN+12",
    [47] = "SIGRTMIN+13",  [48] = "SIGRTMIN+14",
    [49] = "SIGRTMIN+15",  [50] = "SIGRTMAX-14",
    [51] = "SIGRTMAX-13",  [52] = "SIGRTMAX-12",
    [53] = "SIGRTMAX-11",  [54] = "SIGRTMAX-10",
    [55] = "SIGRTMAX-9",   [56] = "SIGRTMAX-8",
    [57] = "SIGRTMAX-7",   [58] = "SIGRTMAX-6",
    [59] = "SIGRTMAX-5",   [60] = "SIGRTMAX-4",
    [61] = "SIGRTMAX-3",   [62] = "SIGRTMAX-2",
    [63] = "SIGRTMAX-1",   [64] = "SIGRTMAX",
};

const char *options_signal_name(int sig)
{
	if (sig < 1 || sig > SIG_RTMAX)
		return NULL;
	return sig_names[sig];
}

/* Decimal S (all of it, at least one digit) into *OUT if <= MAX. */
static bool small_number(const char *s, int max, int *out)
{
	int v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

int options_signal_parse(const char *s, struct err **err)
{
	char up[32], buf[160];
	const char *p;
	size_t i, n;
	int v;

	if (!s)
		return err_set(err, EINVAL, "invalid signal: ");
	n = strlen(s);
	if (n >= sizeof(up))
		goto bad;
	for (i = 0; i <= n; i++)
		up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
	p = up;
	if (!small_number(p, SIG_RTMAX, &v)) {
		if (!strncmp(p, "SIG", 3))
			p += 3;
		/* "SIG32": the name options_signal_name gives glibc's own two. */
		if (small_number(p, SIG_RTMAX, &v))
			goto number;
		for (i = 0; i < ARRAY_SIZE(sig_table); i++)
			if (!strcmp(p, sig_table[i].name))
				return sig_table[i].num;
		if (!strcmp(p, "RTMIN"))
			return SIG_RTMIN;
		if (!strcmp(p, "RTMAX"))
			return SIG_RTMAX;
		if (!strncmp(p, "RTMIN+", 6) && small_number(p + 6, SIG_RTMAX - SIG_RTMIN, &v))
			return SIG_RTMIN + v;
		if (!strncmp(p, "RTMAX-", 6) && small_number(p + 6, SIG_RTMAX - SIG_RTMIN, &v))
			return SIG_RTMAX - v;
		goto bad;
	}
number:
	if (v >= 1)
		return v;
bad:
	return err_set(err, EINVAL, "invalid signal: %s", shown(s, strlen(s), buf, sizeof(buf)));
}

int options_size_parse(const char *s, uint64_t *out, struct err **err)
{
	static const char units[] = "kmgtp";
	char buf[160];
	const char *p = s, *u;
	unsigned __int128 ip = 0, frac = 0, scale = 1, mul = 1, v;
	size_t digits = 0, sl;

	if (!s)
		return err_set(err, EINVAL, "invalid size: ''");
	for (; *p >= '0' && *p <= '9'; p++, digits++) {
		ip = ip * 10 + (unsigned)(*p - '0');
		if (ip > INT64_MAX)
			goto big;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			/* 18 digits are exact to well under a byte even in petabytes */
			if (scale < 1000000000000000000ull) {
				frac = frac * 10 + (unsigned)(*p - '0');
				scale *= 10;
			}
		}
	}
	if (!digits)
		goto bad;
	if (*p == ' ')
		p++;
	sl = strlen(p);
	if (sl > 3)
		goto bad;
	if (sl && (p[0] | 0x20) != 'b') {
		u = (p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')
			? strchr(units, p[0] | 0x20)
			: NULL;
		if (!u)
			goto bad;
		for (int i = 0; i <= u - units; i++)
			mul <<= 10;
		if (sl == 2 && (p[1] | 0x20) != 'b')
			goto bad;
		if (sl == 3 && ((p[1] | 0x20) != 'i' || (p[2] | 0x20) != 'b'))
			goto bad;
	} else if (sl > 1) {
		goto bad; /* nothing after "b" */
	}
	v = ip * mul + frac * mul / scale;
	if (v > INT64_MAX)
		goto big;
	if (v == 0)
		return err_set(err, EINVAL, "invalid size: '%s' (must be positive)",
			       shown(s, strlen(s), buf, sizeof(buf)));
	*out = (uint64_t)v;
	return 0;
big:
	return err_set(err, ERANGE, "invalid size: '%s' (too large)",
		       shown(s, strlen(s), buf, sizeof(buf)));
bad:
	return err_set(err, EINVAL, "invalid size: '%s'", shown(s, strlen(s), buf, sizeof(buf)));
}

struct ps_filter {
	char **ids;
	size_t nids, capids;
	regex_t *names;
	size_t nnames;
	char **labels;
	size_t nlabels, caplabels;
	unsigned status; /* 1 << state; 0: no status filter */
	char **ancestors;
	size_t nancestors, capancestors;
	unsigned char exited[256 / 8];
	bool has_exited;
};

void ps_filter_free(struct ps_filter *f)
{
	if (!f)
		return;
	strvfree(f->ids);
	for (size_t i = 0; i < f->nnames; i++)
		regfree(&f->names[i]);
	free(f->names);
	strvfree(f->labels);
	strvfree(f->ancestors);
	free(f);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * glibc's regcomp copies a repeated subexpression: x{n,m} becomes m copies
 * of x and x+ becomes two, so nesting multiplies ("((a{99}){99}){99}", or
 * "a++++++++..." doubling at each '+') and a short pattern can take
 * gigabytes. This walks the pattern the way regcomp will build it and
 * estimates the number of nodes, refusing more than NAME_REGEX_NODES.
 * Back-references, which Docker's RE2 does not have either, make regexec
 * exponential and are refused outright.
 */
#define NAME_REGEX_NODES 2000
#define NAME_REGEX_DEPTH 32

struct rx_level {
	unsigned long sum;  /* nodes of this group so far */
	unsigned long last; /* nodes of its last atom: what a repetition copies */
};

static unsigned long rx_cap(unsigned long v)
{
	return v > NAME_REGEX_NODES ? NAME_REGEX_NODES + 1 : v;
}

/* The last atom of L becomes NODES big (a repetition of it). */
static void rx_repeat(struct rx_level *l, unsigned long nodes)
{
	l->sum = rx_cap(l->sum - l->last + rx_cap(nodes));
	l->last = rx_cap(nodes);
}

static void rx_atom(struct rx_level *l, unsigned long nodes)
{
	l->sum = rx_cap(l->sum + nodes);
	l->last = nodes;
}

/* At P just after '{': a bound "n}", "n,}", "n,m}" or ",m}" sets *COUNT
 * to the copies regcomp makes and *END to its '}' and returns 1; 0 if it
 * is no bound (regcomp refuses it), -1 if a count is too large. */
static int rx_bound(const char *p, unsigned long *count, const char **end)
{
	unsigned long n = 0, m = 0;
	bool comma = false, digits = false;

	for (; is_digit(*p) || *p == ','; p++) {
		if (*p == ',') {
			if (comma)
				return 0;
			comma = true;
			continue;
		}
		digits = true;
		if (comma)
			m = m * 10 + (unsigned long)(*p - '0');
		else
			n = n * 10 + (unsigned long)(*p - '0');
		if (n > NAME_REGEX_NODES || m > NAME_REGEX_NODES)
			return -1;
	}
	if (*p != '}' || !digits)
		return 0;
	*count = comma && m == 0 ? n + 1 : (m > n ? m : n);
	*end = p;
	return 1;
}

/* NULL when RE is safe to compile, else what is wrong with it. */
static const char *regex_tame(const char *re)
{
	struct rx_level st[NAME_REGEX_DEPTH + 1] = {{0, 0}};
	size_t depth = 0;
	unsigned long count;
	const char *end;
	bool repeated = false; /* the last token was a repetition */

	for (const char *p = re; *p; p++) {
		struct rx_level *l = &st[depth];
		bool rep = *p == '*' || *p == '?' || *p == '+' ||
			   (*p == '{' && rx_bound(p + 1, &count, &end) != 0);

		/* "a**", "a+{3}": glibc nests them and its closure computation
		 * goes exponential; Go's RE2, which Docker uses, refuses them. */
		if (rep && repeated)
			return "invalid nested repetition operator";
		repeated = rep;
		switch (*p) {
		case '\\':
			if (is_digit(p[1]))
				return "back-references are not supported";
			if (p[1])
				p++;
			rx_atom(l, 1);
			break;
		case '[':
			/* a bracket expression is one node; "]" first is literal */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					const char *close = p + 2;

					while (*close && !(close[0] == p[1] && close[1] == ']'))
						close++;
					if (!*close)
						return NULL; /* regcomp: REG_EBRACK */
					p = close + 1;
				}
				p++;
			}
			/* Unterminated, all the rest is in it: regcomp refuses it. */
			if (!*p)
				return NULL;
			rx_atom(l, 1);
			break;
		case '(':
			if (depth == NAME_REGEX_DEPTH)
				return "pattern too complex";
			st[++depth] = (struct rx_level){0, 0};
			break;
		case ')':
			if (!depth) {
				rx_atom(l, 1);
				break;
			}
			depth--;
			rx_atom(&st[depth], rx_cap(l->sum + 1));
			break;
		case '|':
			l->sum = rx_cap(l->sum + 1);
			l->last = 0;
			break;
		case '*':
		case '?':
			rx_repeat(l, l->last + 1);
			break;
		case '+':
			rx_repeat(l, 2 * l->last + 1);
			break;
		case '{':
			switch (rx_bound(p + 1, &count, &end)) {
			case 1:
				rx_repeat(l, count * l->last + 1);
				p = end;
				break;
			case 0:
				rx_atom(l, 1);
				break;
			default:
				return "pattern too complex";
			}
			break;
		default:
			rx_atom(l, 1);
			break;
		}
		for (size_t i = 0; i <= depth; i++)
			if (st[i].sum > NAME_REGEX_NODES)
				return "pattern too complex";
	}
	return NULL;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

static bool lower_hex(const char *s, size_t min, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= max || !(is_digit(s[i]) || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i >= min;
}

static int filter_add(struct ps_filter *f, const char *spec, struct err **err)
{
	_cleanup_free_ char *val = NULL;
	const char *eq, *k, *v;
	size_t kl, vl, i;
	char key[16], sb[160];
	enum ctr_state st;
	const char *why;
	int code, r;

	if (!spec || !(eq = strchr(spec, '=')))
		return err_set(err, EINVAL, "bad format of filter (expected name=value)");
	if (strlen(spec) > FILTER_MAX)
		return err_set(err, E2BIG, "invalid filter '%s': longer than %u bytes",
			       shown(spec, strlen(spec), sb, sizeof(sb)), FILTER_MAX);
	k = spec;
	kl = (size_t)(eq - spec);
	v = eq + 1;
	vl = strlen(v);
	trim(&k, &kl);
	trim(&v, &vl);
	if (kl >= sizeof(key))
		goto bad_key;
	for (i = 0; i < kl; i++)
		key[i] = (k[i] >= 'A' && k[i] <= 'Z') ? (char)(k[i] - 'A' + 'a') : k[i];
	key[kl] = 0;
	val = strndup(v, vl);
	if (!val)
		return err_errno(err, ENOMEM, "filter");

	if (!strcmp(key, "id"))
		return push(&f->ids, &f->nids, &f->capids, steal_ptr(val), err);
	if (!strcmp(key, "name")) {
		regex_t *nv;

		why = strlen(val) > NAME_REGEX_MAX ? "pattern too long" : regex_tame(val);
		if (why)
			return err_set(err, EINVAL, "invalid filter 'name=%s': %s",
				       shown(val, strlen(val), sb, sizeof(sb)), why);
		nv = realloc(f->names, (f->nnames + 1) * sizeof(*nv));
		if (!nv)
			return err_errno(err, ENOMEM, "filter");
		f->names = nv;
		r = regcomp(&f->names[f->nnames], val, REG_EXTENDED | REG_NOSUB);
		if (r) {
			char msg[128];

			regerror(r, NULL, msg, sizeof(msg));
			return err_set(err, EINVAL, "invalid filter 'name=%s': %s",
				       shown(val, strlen(val), sb, sizeof(sb)), msg);
		}
		f->nnames++;
		return 0;
	}
	if (!strcmp(key, "label")) {
		if (!*val || *val == '=')
			goto bad_value;
		return push(&f->labels, &f->nlabels, &f->caplabels, steal_ptr(val), err);
	}
	if (!strcmp(key, "status")) {
		if (ctr_state_parse(val, &st) < 0)
			goto bad_value;
		f->status |= 1u << st;
		return 0;
	}
	if (!strcmp(key, "ancestor")) {
		if (!*val)
			goto bad_value;
		return push(&f->ancestors, &f->nancestors, &f->capancestors, steal_ptr(val), err);
	}
	if (!strcmp(key, "exited")) {
		if (!small_number(val, 255, &code))
			goto bad_value;
		f->exited[code / 8] |= (unsigned char)(1u << (code % 8));
		f->has_exited = true;
		return 0;
	}
bad_key:
	return err_set(err, EINVAL, "invalid filter '%s'", shown(k, kl, sb, sizeof(sb)));
bad_value:
	return err_set(err, EINVAL, "invalid filter '%s=%s'", key,
		       shown(val, strlen(val), sb, sizeof(sb)));
}

int ps_filter_parse(char *const *specs, size_t n, struct ps_filter **out, struct err **err)
{
	struct ps_filter *f;

	*out = NULL;
	if (n > FILTERS_MAX)
		return err_set(err, E2BIG, "more than %u filters", FILTERS_MAX);
	if (n && !specs)
		return err_set(err, EINVAL, "bad format of filter (expected name=value)");
	f = calloc(1, sizeof(*f));
	if (!f)
		return err_errno(err, ENOMEM, "filter");
	for (size_t i = 0; i < n; i++) {
		int r = filter_add(f, specs[i], err);

		if (r < 0) {
			ps_filter_free(f);
			return r;
		}
	}
	*out = f;
	return 0;
}

/* The value of label KEY in LABELS (the last one wins, as in a map), or
 * NULL. A label without '=' has the value "". */
static const char *label_get(char *const *labels, const char *key, size_t kl)
{
	const char *found = NULL;

	for (size_t i = 0; labels && labels[i]; i++) {
		if (strncmp(labels[i], key, kl))
			continue;
		if (labels[i][kl] == '=')
			found = labels[i] + kl + 1;
		else if (!labels[i][kl])
			found = "";
	}
	return found;
}

/* An image reference the way Docker compares them: without the default
 * registry and "library/", with ":latest" when it has no tag or digest.
 * False when it does not fit OUT. */
static bool ref_norm(const char *ref, char *out, size_t len)
{
	const char *p = ref, *last;
	bool tagged;

	if (!strncmp(p, "docker.io/", 10))
		p += 10;
	else if (!strncmp(p, "index.docker.io/", 16))
		p += 16;
	if (!strncmp(p, "library/", 8) && !strchr(p + 8, '/'))
		p += 8;
	last = strrchr(p, '/');
	tagged = strchr(last ? last : p, ':') || strchr(p, '@');
	return (size_t)snprintf(out, len, "%s%s", p, tagged ? "" : ":latest") < len;
}

static bool ancestor_match(const char *want, const struct ps_item *it)
{
	char a[1024], b[1024];

	if (it->image) {
		if (!strcmp(want, it->image))
			return true;
		if (ref_norm(want, a, sizeof(a)) && ref_norm(it->image, b, sizeof(b)) &&
		    !strcmp(a, b))
			return true;
	}
	if (!it->image_id || strncmp(it->image_id, "sha256:", 7))
		return false;
	if (!strncmp(want, "sha256:", 7) && lower_hex(want + 7, 1, 64))
		return !strncmp(it->image_id, want, strlen(want));
	if (lower_hex(want, 1, 64))
		return !strncmp(it->image_id + 7, want, strlen(want));
	return false;
}

static bool name_match(const regex_t *re, const char *name)
{
	char slashed[CTR_NAME_MAX + 2];
	const char *n = names_normalize(name);

	if (!regexec(re, n, 0, NULL, 0))
		return true;
	if (strlen(n) > CTR_NAME_MAX)
		return false;
	snprintf(slashed, sizeof(slashed), "/%s", n);
	return !regexec(re, slashed, 0, NULL, 0);
}

bool ps_filter_match(const struct ps_filter *f, const struct ps_item *it)
{
	bool any;

	if (!f)
		return true;
	if (!it)
		return false;
	if (f->nids) {
		any = false;
		for (size_t i = 0; it->id && !any && i < f->nids; i++)
			any = !strncmp(it->id, f->ids[i], strlen(f->ids[i]));
		if (!any)
			return false;
	}
	if (f->nnames) {
		any = false;
		for (size_t i = 0; it->name && !any && i < f->nnames; i++)
			any = name_match(&f->names[i], it->name);
		if (!any)
			return false;
	}
	/* Every label filter must hold (Docker's MatchKVList). */
	for (size_t i = 0; i < f->nlabels; i++) {
		const char *want = f->labels[i], *eq = strchr(want, '=');
		const char *have =
		    label_get(it->labels, want, eq ? (size_t)(eq - want) : strlen(want));

		if (!have || (eq && strcmp(have, eq + 1)))
			return false;
	}
	if (f->status &&
	    ((unsigned)it->state >= CTR_STATE_COUNT || !(f->status & (1u << it->state))))
		return false;
	if (f->nancestors) {
		any = false;
		for (size_t i = 0; !any && i < f->nancestors; i++)
			any = ancestor_match(f->ancestors[i], it);
		if (!any)
			return false;
	}
	if (f->has_exited) {
		/* Docker: only containers that ran and stopped have an exit code */
		if (it->state != CTR_EXITED || it->exit_code < 0 || it->exit_code > 255 ||
		    !(f->exited[it->exit_code / 8] & (1u << (it->exit_code % 8))))
			return false;
	}
	return true;
}
