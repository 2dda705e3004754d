/*
 * image/commit_config.c - `moat commit`'s config half (PURE): Docker's
 * --change instructions (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER,
 * VOLUME, WORKDIR, STOPSIGNAL; JSON and shell forms, Docker's expansion)
 * applied to an image config, and the committed image's config with its
 * history entry and new DiffID (image/commit.h). Fuzzed by
 * fuzz/commit_change_fuzz.c.
 *
 * Runs in: the moat CLI process. No system calls: bytes in, bytes out;
 * every input is capped before anything is allocated for it.
 */
#include "image/commit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/json.h"

#define WORDS_MAX 4096 /* words of one instruction */

/* ==== --change: Docker's Dockerfile instructions (PURE) ==== */

struct words {
	char **v;
	size_t n;
};

static void words_clear(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static int words_add(struct words *w, const char *s, size_t len, struct err **err)
{
	char **nv;

	if (w->n >= WORDS_MAX)
		return err_set(err, E2BIG, "too many arguments");
	nv = realloc(w->v, (w->n + 2) * sizeof(char *));
	if (!nv)
		return err_errno(err, ENOMEM, "change");
	w->v = nv;
	if (!(nv[w->n] = strndup(s, len)))
		return err_errno(err, ENOMEM, "change");
	nv[++w->n] = NULL;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Growing output buffer for the lexer. */
struct buf {
	char *p;
	size_t n, cap;
};

static int buf_put(struct buf *b, const char *s, size_t len)
{
	if (b->n + len + 1 > b->cap) {
		size_t cap = (b->n + len + 1) * 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = 0;
	return 0;
}

/* The value of NAME (LEN bytes) in ENV ("K=V" strings), or NULL. */
static const char *env_get(json_t *env, const char *name, size_t len)
{
	size_t i;
	json_t *v;

	json_array_foreach (env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, name, len) && s[len] == '=')
			return s + len + 1;
	}
	return NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static int process(const char *s, size_t *i, json_t *env, struct buf *b, char stop,
		   struct err **err);

/* After '$' at S[*I]: $NAME, ${NAME}, ${NAME:-w}, ${NAME-w}, ${NAME:+w},
 * ${NAME+w}; a '$' followed by nothing it can expand stays a '$'. */
static int expand(const char *s, size_t *i, json_t *env, struct buf *b, struct err **err)
{
	size_t start, nlen;
	const char *val;
	bool brace = s[*i] == '{';

	if (!brace && !name_char(s[*i]))
		return buf_put(b, "$", 1);
	if (brace)
		(*i)++;
	start = *i;
	while (name_char(s[*i]))
		(*i)++;
	nlen = *i - start;
	val = env_get(env, s + start, nlen);
	if (!brace)
		return val ? buf_put(b, val, strlen(val)) : 0;
	if (!nlen)
		return err_set(err, EINVAL, "missing ':' in substitution");
	if (s[*i] == '}') {
		(*i)++;
		return val ? buf_put(b, val, strlen(val)) : 0;
	}
	{
		bool colon = s[*i] == ':';
		char op;
		struct buf w = {0};
		int r;

		if (colon)
			(*i)++;
		op = s[*i];
		if (!op)
			return err_set(err, EINVAL, "syntax error: missing '}'");
		if (op != '-' && op != '+')
			return err_set(err, EINVAL, "unsupported modifier (%c) in substitution",
				       op ? op : '}');
		(*i)++;
		r = process(s, i, env, &w, '}', err);
		if (r == 0 && s[*i] != '}')
			r = err_set(err, EINVAL, "syntax error: missing '}'");
		if (r < 0) {
			free(w.p);
			return r;
		}
		(*i)++;
		bool set = val && (!colon || *val);
		if (op == '-')
			r = set ? buf_put(b, val, strlen(val)) : buf_put(b, w.p ? w.p : "", w.n);
		else
			r = set ? buf_put(b, w.p ? w.p : "", w.n) : 0;
		free(w.p);
		return r < 0 ? err_errno(err, ENOMEM, "change") : 0;
	}
}

/* Docker's ShellLex.ProcessWord from S[*I] to the end (or STOP outside
 * quotes): quotes removed, backslash escapes, $ expansion from ENV. */
static int process(const char *s, size_t *i, json_t *env, struct buf *b, char stop,
		   struct err **err)
{
	int r = 0;

	while (r == 0 && s[*i] && s[*i] != stop) {
		char c = s[(*i)++];

		if (c == '\\') {
			if (s[*i])
				r = buf_put(b, s + (*i)++, 1);
		} else if (c == '\'') {
			size_t st = *i;
			while (s[*i] && s[*i] != '\'')
				(*i)++;
			if (!s[*i])
				return err_set(err, EINVAL,
					       "unexpected end of statement while "
					       "looking for matching single-quote");
			r = buf_put(b, s + st, *i - st);
			(*i)++;
		} else if (c == '"') {
			while (r == 0 && s[*i] && s[*i] != '"') {
				c = s[(*i)++];
				if (c == '\\' && (s[*i] == '"' || s[*i] == '$' || s[*i] == '\\'))
					r = buf_put(b, s + (*i)++, 1);
				else if (c == '$')
					r = expand(s, i, env, b, err);
				else
					r = buf_put(b, &c, 1);
			}
			if (r == 0 && !s[*i])
				return err_set(err, EINVAL,
					       "unexpected end of statement while "
					       "looking for matching double-quote");
			(*i)++;
		} else if (c == '$') {
			r = expand(s, i, env, b, err);
		} else {
			r = buf_put(b, &c, 1);
		}
	}
	if (r == -ENOMEM && !(err && *err))
		return err_errno(err, ENOMEM, "change");
	return r;
}

static int process_word(const char *s, json_t *env, char **out, struct err **err)
{
	struct buf b = {0};
	size_t i = 0;

	if (process(s, &i, env, &b, 0, err) < 0) {
		free(b.p);
		return err_ret(*err);
	}
	*out = b.p ? b.p : strdup("");
	return *out ? 0 : err_errno(err, ENOMEM, "change");
}

/* Docker's parseWords: split on blanks outside quotes; quotes and
 * backslashes are kept for process_word. */
static int split_words(const char *s, struct words *w, struct err **err)
{
	size_t i = 0;

	for (;;) {
		size_t st;
		char q = 0;

		while (is_space(s[i]))
			i++;
		if (!s[i])
			return 0;
		st = i;
		while (s[i] && (q || !is_space(s[i]))) {
			if (s[i] == '\\' && s[i + 1] && q != '\'') {
				i += 2;
				continue;
			}
			if (q && s[i] == q)
				q = 0;
			else if (!q && (s[i] == '\'' || s[i] == '"'))
				q = s[i];
			i++;
		}
		if (words_add(w, s + st, i - st, err) < 0)
			return err_ret(*err);
	}
}

/* Plain whitespace split (parseStringsWhitespaceDelimited). */
static int split_blanks(const char *s, struct words *w, struct err **err)
{
	for (size_t i = 0;;) {
		size_t st;
		while (is_space(s[i]))
			i++;
		if (!s[i])
			return 0;
		for (st = i; s[i] && !is_space(s[i]); i++)
			;
		if (words_add(w, s + st, i - st, err) < 0)
			return err_ret(*err);
	}
}

/*
 * Docker's parseJSON: 1 when REST is a JSON array of strings (its first
 * value; what follows is ignored, as Go's json.Decoder does), 0 when it is
 * no JSON array at all (the caller falls back to the shell form), or
 * -EINVAL for an array holding something else than strings.
 */
static int json_array_words(const char *rest, struct words *w, struct err **err)
{
	_cleanup_json_ json_t *j = NULL;
	json_error_t je;
	json_t *v;
	size_t i;

	if (rest[0] != '[')
		return 0;
	j = json_loads(rest, JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
	if (!j || !json_is_array(j))
		return 0;
	json_array_foreach (j, i, v) {
		if (!json_is_string(v)) {
			words_clear(w);
			return err_set(err, EINVAL,
				       "when using JSON array syntax, arrays must be comprised "
				       "of strings only");
		}
		if (words_add(w, json_string_value(v), json_string_length(v), err) < 0)
			return err_ret(*err);
	}
	return 1;
}

static const char *const signals[] = {
    "ABRT",   "ALRM",	"BUS",	"CHLD", "CLD",	  "CONT",  "FPE",  "HUP",  "ILL",
    "INT",    "IO",	"IOT",	"KILL", "PIPE",	  "POLL",  "PROF", "PWR",  "QUIT",
    "SEGV",   "STKFLT", "STOP", "SYS",	"TERM",	  "TRAP",  "TSTP", "TTIN", "TTOU",
    "UNUSED", "URG",	"USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ",
};

/* Docker's signal.ParseSignal: a number 1..64, a name with or without
 * "SIG" (any case), or RTMIN[+N] / RTMAX[-N]. */
static bool signal_valid(const char *s)
{
	char up[32];
	size_t n = 0;
	char *end;
	long v;

	if (*s >= '0' && *s <= '9') {
		v = strtol(s, &end, 10);
		return !*end && v >= 1 && v <= 64;
	}
	for (; s[n] && n < sizeof(up) - 1; n++)
		up[n] = (char)(s[n] >= 'a' && s[n] <= 'z' ? s[n] - 32 : s[n]);
	if (s[n])
		return false;
	up[n] = 0;
	s = !strncmp(up, "SIG", 3) ? up + 3 : up;
	for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
		if (!strcmp(s, signals[i]))
			return true;
	if (!strncmp(s, "RTMIN", 5) || !strncmp(s, "RTMAX", 5)) {
		if (!s[5])
			return true;
		v = strtol(s + 6, &end, 10);
		return s[5] == (s[3] == 'I' ? '+' : '-') && !*end && v >= 1 && v <= 15;
	}
	return false;
}

/* Go's nat.ParsePortSpec for EXPOSE: PORT[-END][/PROTO] -> "N/proto"
 * keys added to PORTS. */
static int expose(json_t *ports, const char *spec, struct err **err)
{
	char buf[128], *proto, *dash, *end;
	unsigned long lo, hi;

	if (strlen(spec) >= sizeof(buf))
		return err_set(err, EINVAL, "invalid containerPort: %.64s", spec);
	snprintf(buf, sizeof(buf), "%s", spec);
	proto = strchr(buf, '/');
	if (proto)
		*proto++ = 0;
	else
		proto = (char *)"tcp";
	for (char *p = proto; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
		return err_set(err, EINVAL, "invalid proto: %s", proto);
	if (strchr(buf, ':'))
		return err_set(err, EINVAL, "invalid containerPort: %s", buf);
	dash = strchr(buf, '-');
	if (dash)
		*dash++ = 0;
	if (!*buf || *buf < '0' || *buf > '9')
		return err_set(err, EINVAL, "invalid containerPort: %s", spec);
	lo = strtoul(buf, &end, 10);
	if (*end || lo > 65535)
		return err_set(err, EINVAL, "invalid containerPort: %s", spec);
	hi = lo;
	if (dash) {
		if (!*dash || *dash < '0' || *dash > '9')
			return err_set(err, EINVAL, "invalid containerPort: %s", spec);
		hi = strtoul(dash, &end, 10);
		if (*end || hi > 65535 || hi < lo)
			return err_set(err, EINVAL, "invalid range specified for containerPort: %s",
				       spec);
	}
	for (unsigned long p = lo; p <= hi; p++) {
		char key[32];
		snprintf(key, sizeof(key), "%lu/%s", p, proto);
		if (json_object_set_new(ports, key, json_object()) < 0)
			return err_errno(err, ENOMEM, "change");
	}
	return 0;
}

/* The "config" object's member KEY as an object, created when missing or
 * null. */
static json_t *member_obj(json_t *cc, const char *key)
{
	json_t *o = json_object_get(cc, key);

	if (json_is_object(o))
		return o;
	o = json_object();
	if (!o || json_object_set_new(cc, key, o) < 0)
		return NULL;
	return o;
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* CMD/ENTRYPOINT: the JSON form as is, else the shell form with the
 * config's Shell (default /bin/sh -c). */
static json_t *cmdline(json_t *cc, const char *rest, struct err **err)
{
	struct words w = {0};
	json_t *a, *shell;
	int r = json_array_words(rest, &w, err);

	if (r < 0)
		return NULL;
	if (r == 1) {
		a = strv_json(w.v, w.n);
		words_clear(&w);
		if (!a)
			err_errno(err, ENOMEM, "change");
		return a;
	}
	shell = json_object_get(cc, "Shell");
	if (json_is_array(shell) && json_array_size(shell) > 0)
		a = json_deep_copy(shell);
	else
		a = json_pack("[ss]", "/bin/sh", "-c");
	if (!a || json_array_append_new(a, json_string(rest)) < 0) {
		json_decref(a);
		err_errno(err, ENOMEM, "change");
		return NULL;
	}
	return a;
}

/* ENV and LABEL (Docker's parseNameVal): "k=v k2=v2" (quote-aware), or the
 * legacy "k v w" (one pair, the value the rest of the line). Fills the
 * processed keys and values. */
static int name_vals(const char *instr, const char *rest, json_t *env, struct words *keys,
		     struct words *vals, struct err **err)
{
	struct words w = {0};
	int r = split_words(rest, &w, err);

	if (r < 0)
		return r;
	if (w.n == 0) {
		words_clear(&w);
		return err_set(err, EINVAL, "%s requires at least one argument", instr);
	}
	if (!strchr(w.v[0], '=')) {
		/* Legacy form: NAME, whitespace, then the whole rest. */
		const char *p = rest, *ks;
		_cleanup_free_ char *k0 = NULL, *k = NULL, *v = NULL;
		size_t kl;

		words_clear(&w);
		while (is_space(*p))
			p++;
		ks = p;
		kl = strcspn(p, " \t\r\n\v\f");
		p += kl;
		while (is_space(*p))
			p++;
		if (!*p)
			return err_set(err, EINVAL, "%s must have two arguments", instr);
		k0 = strndup(ks, kl);
		if (!k0)
			return err_errno(err, ENOMEM, "change");
		if (process_word(k0, env, &k, err) < 0)
			return err_ret(*err);
		if (process_word(p, env, &v, err) < 0)
			return err_ret(*err);
		if (words_add(keys, k, strlen(k), err) < 0 ||
		    words_add(vals, v, strlen(v), err) < 0)
			return err_ret(*err);
		return 0;
	}
	for (size_t i = 0; i < w.n; i++) {
		_cleanup_free_ char *pw = NULL;
		char *eq;

		if (!strchr(w.v[i], '=')) {
			r = err_set(err, EINVAL,
				    "Syntax error - can't find = in \"%s\". Must be of the form: "
				    "name=value",
				    w.v[i]);
			break;
		}
		if ((r = process_word(w.v[i], env, &pw, err)) < 0)
			break;
		eq = strchr(pw, '=');
		if (!eq || eq == pw) {
			r = err_set(err, EINVAL, "%s names can not be blank", instr);
			break;
		}
		if ((r = words_add(keys, pw, (size_t)(eq - pw), err)) < 0 ||
		    (r = words_add(vals, eq + 1, strlen(eq + 1), err)) < 0)
			break;
	}
	words_clear(&w);
	return r;
}

static int set_env(json_t *cc, json_t **env, const char *k, const char *v, struct err **err)
{
	_cleanup_free_ char *kv = NULL;
	size_t i, kl = strlen(k);
	json_t *e;

	if (!json_is_array(*env)) {
		*env = json_array();
		if (!*env || json_object_set_new(cc, "Env", *env) < 0)
			return err_errno(err, ENOMEM, "change");
	}
	if (asprintf(&kv, "%s=%s", k, v) < 0)
		return err_errno(err, ENOMEM, "change");
	json_array_foreach (*env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, k, kl) && s[kl] == '=')
			return json_array_set_new(*env, i, json_string(kv)) < 0
				   ? err_errno(err, ENOMEM, "change")
				   : 0;
	}
	return json_array_append_new(*env, json_string(kv)) < 0 ? err_errno(err, ENOMEM, "change")
								: 0;
}

/* WORKDIR: relative to the current one, cleaned like Go's path.Join. */
static char *workdir_join(const char *cur, const char *path)
{
	_cleanup_free_ char *joined = NULL;
	char *out, *o;

	if (path[0] != '/' && asprintf(&joined, "%s/%s", cur && *cur ? cur : "/", path) < 0)
		return NULL;
	if (!joined && !(joined = strdup(path)))
		return NULL;
	out = malloc(strlen(joined) + 2);
	if (!out)
		return NULL;
	o = out;
	for (char *p = joined; *p;) {
		size_t n;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 1 && p[0] == '.') {
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > out && *--o != '/')
				;
		} else {
			*o++ = '/';
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	if (o == out)
		*o++ = '/';
	*o = 0;
	return out;
}

struct apply {
	json_t *cc;  /* the "config" object */
	json_t *env; /* its Env (may be NULL) */
	bool cmd_set;
};

/* One instruction LINE (no newline) applied to A. */
static int apply_line(struct apply *a, const char *line, struct err **err)
{
	char instr[16];
	const char *rest;
	size_t n;
	struct words w = {0}, k = {0}, v = {0};
	int r = 0;

	while (is_space(*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	n = strcspn(line, " \t\r\n\v\f");
	rest = line + n;
	while (is_space(*rest))
		rest++;
	if (n >= sizeof(instr))
		return err_set(err, EINVAL, "%.*s is not a valid change command",
			       (int)(n > 64 ? 64 : n), line);
	for (size_t i = 0; i < n; i++)
		instr[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
	instr[n] = 0;
	/* A trailing blank is no argument. */
	_cleanup_free_ char *arg = strdup(rest);
	if (!arg)
		return err_errno(err, ENOMEM, "change");
	for (size_t l = strlen(arg); l && is_space(arg[l - 1]);)
		arg[--l] = 0;

	if (!strcmp(instr, "cmd") || !strcmp(instr, "entrypoint")) {
		bool is_cmd = instr[0] == 'c';
		json_t *c;

		if (!*arg)
			return err_set(err, EINVAL, "%s requires at least one argument",
				       is_cmd ? "CMD" : "ENTRYPOINT");
		c = cmdline(a->cc, arg, err);
		if (!c)
			return err_ret(*err);
		if (json_object_set_new(a->cc, is_cmd ? "Cmd" : "Entrypoint", c) < 0)
			return err_errno(err, ENOMEM, "change");
		if (is_cmd)
			a->cmd_set = true;
		else if (!a->cmd_set && json_object_set_new(a->cc, "Cmd", json_null()) < 0)
			return err_errno(err, ENOMEM, "change");
		return 0;
	}
	if (!strcmp(instr, "env") || !strcmp(instr, "label")) {
		bool is_env = instr[0] == 'e';
		json_t *labels = NULL;

		r = name_vals(is_env ? "ENV" : "LABEL", arg, a->env, &k, &v, err);
		if (r == 0 && !is_env && !(labels = member_obj(a->cc, "Labels")))
			r = err_errno(err, ENOMEM, "change");
		for (size_t i = 0; r == 0 && i < k.n; i++) {
			if (is_env)
				r = set_env(a->cc, &a->env, k.v[i], v.v[i], err);
			else if (json_object_set_new(labels, k.v[i], json_string(v.v[i])) < 0)
				r = err_errno(err, ENOMEM, "change");
		}
		words_clear(&k);
		words_clear(&v);
		return r;
	}
	if (!strcmp(instr, "expose") || !strcmp(instr, "volume")) {
		bool is_expose = instr[0] == 'e';
		json_t *o;

		r = is_expose ? 0 : json_array_words(arg, &w, err);
		if (r == 0)
			r = split_blanks(arg, &w, err);
		if (r < 0)
			return r;
		r = 0;
		if (w.n == 0) {
			words_clear(&w);
			return err_set(err, EINVAL, "%s requires at least one argument",
				       is_expose ? "EXPOSE" : "VOLUME");
		}
		o = member_obj(a->cc, is_expose ? "ExposedPorts" : "Volumes");
		if (!o)
			r = err_errno(err, ENOMEM, "change");
		for (size_t i = 0; r == 0 && i < w.n; i++) {
			_cleanup_free_ char *p = NULL;

			if ((r = process_word(w.v[i], a->env, &p, err)) < 0)
				break;
			if (is_expose)
				r = expose(o, p, err);
			else if (!*p)
				r = err_set(err, EINVAL,
					    "VOLUME specified can not be an empty string");
			else if (json_object_set_new(o, p, json_object()) < 0)
				r = err_errno(err, ENOMEM, "change");
		}
		words_clear(&w);
		return r;
	}
	if (!strcmp(instr, "user") || !strcmp(instr, "workdir") || !strcmp(instr, "stopsignal")) {
		const char *key = instr[0] == 'u'   ? "User"
				  : instr[0] == 'w' ? "WorkingDir"
						    : "StopSignal";
		_cleanup_free_ char *p = NULL, *wd = NULL;

		if (!*arg)
			return err_set(err, EINVAL, "%s requires exactly one argument",
				       instr[0] == 'u'	 ? "USER"
				       : instr[0] == 'w' ? "WORKDIR"
							 : "STOPSIGNAL");
		if (process_word(arg, a->env, &p, err) < 0)
			return err_ret(*err);
		if (instr[0] == 's' && !signal_valid(p))
			return err_set(err, EINVAL, "Invalid signal: %s", p);
		if (instr[0] == 'w') {
			wd = workdir_join(json_string_value(json_object_get(a->cc, "WorkingDir")),
					  p);
			if (!wd)
				return err_errno(err, ENOMEM, "change");
		}
		if (json_object_set_new(a->cc, key, json_string(wd ? wd : p)) < 0)
			return err_errno(err, ENOMEM, "change");
		return 0;
	}
	return err_set(err, EINVAL, "%s is not a valid change command", instr);
}

/* Each change is split into lines (a trailing backslash continues one). */
static int apply_changes(json_t *cc, char *const *changes, struct err **err)
{
	struct apply a = {.cc = cc, .env = json_object_get(cc, "Env")};
	size_t count = 0;

	if (a.env && !json_is_array(a.env))
		return err_set(err, EINVAL, "the image config's Env is not a list");
	for (char *const *c = changes; c && *c; c++) {
		_cleanup_free_ char *copy = NULL;
		char *line;

		if (++count > IMAGE_COMMIT_CHANGES_MAX)
			return err_set(err, E2BIG, "more than %d --change",
				       IMAGE_COMMIT_CHANGES_MAX);
		if (strlen(*c) > IMAGE_COMMIT_CHANGE_MAX)
			return err_set(err, E2BIG, "--change longer than %u bytes",
				       IMAGE_COMMIT_CHANGE_MAX);
		copy = strdup(*c);
		if (!copy)
			return err_errno(err, ENOMEM, "change");
		line = copy;
		while (line) {
			char *nl = strchr(line, '\n');
			while (nl && nl > line && nl[-1] == '\\') {
				/* Continuation: drop the backslash and newline. */
				memmove(nl - 1, nl + 1, strlen(nl + 1) + 1);
				nl = strchr(nl - 1, '\n');
			}
			if (nl)
				*nl = 0;
			if (apply_line(&a, line, err) < 0)
				return err_ret(*err);
			line = nl ? nl + 1 : NULL;
		}
	}
	return 0;
}

int image_commit_changes_check(char *const *changes, struct err **err)
{
	_cleanup_json_ json_t *cc = json_object();

	if (!cc)
		return err_errno(err, ENOMEM, "change");
	return apply_changes(cc, changes, err);
}

/* "2024-01-02T03:04:05Z" */
static void rfc3339(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int set_str(json_t *o, const char *key, const char *v)
{
	return json_object_set_new(o, key, json_string(v));
}

int image_commit_config(const char *cfg, size_t len, char *const *changes,
			const struct image_commit_meta *meta, char **out, size_t *outlen,
			struct err **err)
{
	_cleanup_json_ json_t *j = NULL;
	json_t *cc, *hist, *rootfs, *ids, *h, *v;
	size_t nonempty = 0, i;
	char when[32];

	*out = NULL;
	if (len > IMAGE_JSON_MAX)
		return err_set(err, E2BIG, "image config larger than %u bytes", IMAGE_JSON_MAX);
	if ((meta->author && strlen(meta->author) > IMAGE_COMMIT_TEXT_MAX) ||
	    (meta->comment && strlen(meta->comment) > IMAGE_COMMIT_TEXT_MAX))
		return err_set(err, E2BIG, "author or message longer than %u bytes",
			       IMAGE_COMMIT_TEXT_MAX);
	j = json_parse_strict(cfg, len, "image config", err);
	if (!j)
		return err_ret(*err);
	if (!json_is_object(j))
		return err_set(err, EINVAL, "image config: not an object");
	cc = json_object_get(j, "config");
	if (!json_is_object(cc)) {
		cc = json_object();
		if (!cc || json_object_set_new(j, "config", cc) < 0)
			return err_errno(err, ENOMEM, "config");
	}
	if (apply_changes(cc, changes, err) < 0)
		return err_ret(*err);

	rootfs = json_object_get(j, "rootfs");
	if (!json_is_object(rootfs)) {
		rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
		if (!rootfs || json_object_set_new(j, "rootfs", rootfs) < 0)
			return err_errno(err, ENOMEM, "config");
	}
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids)) {
		ids = json_array();
		if (!ids || json_object_set_new(rootfs, "diff_ids", ids) < 0)
			return err_errno(err, ENOMEM, "config");
	}
	hist = json_object_get(j, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		if (!hist || json_object_set_new(j, "history", hist) < 0)
			return err_errno(err, ENOMEM, "config");
	}
	json_array_foreach (hist, i, v) {
		if (!json_is_object(v))
			return err_set(err, EINVAL,
				       "image config: history entry %zu is not an object", i);
		if (!json_is_true(json_object_get(v, "empty_layer")))
			nonempty++;
	}
	/* One history entry per layer, so that `history` pairs the new entry
	 * with the new layer even when the parent had no history. */
	while (nonempty < json_array_size(ids)) {
		if (json_array_append_new(hist, json_pack("{s:s}", "created_by", "")) < 0)
			return err_errno(err, ENOMEM, "config");
		nonempty++;
	}
	rfc3339(meta->created, when);
	h = json_object();
	if (!h || json_array_append_new(hist, h) < 0 || set_str(h, "created", when) < 0 ||
	    set_str(h, "created_by", meta->created_by ? meta->created_by : "") < 0 ||
	    (meta->author && *meta->author && set_str(h, "author", meta->author) < 0) ||
	    (meta->comment && *meta->comment && set_str(h, "comment", meta->comment) < 0) ||
	    (!meta->diff_id && json_object_set_new(h, "empty_layer", json_true()) < 0))
		return err_errno(err, ENOMEM, "config");
	if (meta->diff_id) {
		if (!digest_valid(meta->diff_id))
			return err_set(err, EINVAL, "config: bad DiffID");
		if (json_array_append_new(ids, json_string(meta->diff_id)) < 0)
			return err_errno(err, ENOMEM, "config");
	}
	if (set_str(j, "created", when) < 0 ||
	    (meta->container && set_str(j, "container", meta->container) < 0))
		return err_errno(err, ENOMEM, "config");
	if (meta->author && *meta->author) {
		if (set_str(j, "author", meta->author) < 0)
			return err_errno(err, ENOMEM, "config");
	} else {
		json_object_del(j, "author");
	}
	/* Docker's image "comment" (what inspect shows as Comment). */
	if (meta->comment && *meta->comment) {
		if (set_str(j, "comment", meta->comment) < 0)
			return err_errno(err, ENOMEM, "config");
	} else {
		json_object_del(j, "comment");
	}
	*out = json_dumps(j, JSON_COMPACT);
	if (!*out)
		return err_errno(err, ENOMEM, "config");
	*outlen = strlen(*out);
	return 0;
}
