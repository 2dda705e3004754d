/*
 * image/regconf.c - moat's registry configuration (registries.json):
 * registries allowed without verified TLS, extra certs.d roots.
 *
 * Runs in: the moat process (pull, push, login), as the invoking user.
 * Reads /etc/moat (root's) and the user's own config directory; writes
 * nothing.
 *
 * Invariants:
 *  - regconf_decode is pure and fuzzed: input is capped at 1 MiB before
 *    parsing, the top level must be an object with only the known keys,
 *    and every error names FILE:line:column (jansson's position for syntax
 *    errors, the member's own for schema errors);
 *  - nothing is insecure unless a file lists it: no implicit loopback
 *    exemption (Docker's 127.0.0.0/8 rule is deliberately not copied);
 *  - insecure entries are valid registry hosts, certs_dirs are absolute
 *    paths, so a typo is an error rather than a silently ignored line.
 */
#include "image/regconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/json.h"
#include "image/reference.h"

#define REGCONF_MAX (1u << 20)
#define REGCONF_ENTRIES_MAX 1024
#define SYSTEM_FILE "/etc/moat/registries.json"
#define DOCKER_CERTS_DIR "/etc/docker/certs.d"

static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* End of the JSON string starting at BUF[I] (a '"'): index after it. */
static size_t skip_string(const char *buf, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (buf[i] == '\\')
			i++;
		else if (buf[i] == '"')
			return i + 1;
	}
	return len;
}

static size_t skip_value(const char *buf, size_t len, size_t i)
{
	int depth = 0;

	while (i < len) {
		char c = buf[i];

		if (c == '"') {
			i = skip_string(buf, len, i);
			if (depth == 0)
				return i;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || ws(c))) {
			return i;
		}
		i++;
	}
	return len;
}

/* Line and column (1-based, bytes) of top-level member KEY in BUF, which
 * jansson has already accepted as an object. 0:0 when not found. */
static void member_pos(const char *buf, size_t len, const char *key, int *line, int *col)
{
	size_t i = 0, at = len;

	*line = *col = 0;
	while (i < len && buf[i] != '{')
		i++;
	i++;
	while (i < len) {
		size_t start, end;
		json_t *k;

		while (i < len && (ws(buf[i]) || buf[i] == ','))
			i++;
		if (i >= len || buf[i] != '"')
			break;
		start = i;
		end = skip_string(buf, len, i);
		k = json_loadb(buf + start, end - start, JSON_DECODE_ANY, NULL);
		if (k && json_is_string(k) && !strcmp(json_string_value(k), key)) {
			json_decref(k);
			at = start;
			break;
		}
		json_decref(k);
		i = end;
		while (i < len && (ws(buf[i]) || buf[i] == ':'))
			i++;
		i = skip_value(buf, len, i);
	}
	if (at == len)
		return;
	*line = 1;
	*col = 1;
	for (size_t j = 0; j < at; j++) {
		if (buf[j] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int member_err(const char *buf, size_t len, const char *file, const char *key,
		      struct err **err, const char *fmt, const char *detail)
{
	int line, col;

	member_pos(buf, len, key, &line, &col);
	return err_set(err, EINVAL, "%s:%d:%d: \"%s\": %s%s", file, line, col, key, fmt,
		       detail ? detail : "");
}

static bool blank(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!ws(buf[i]))
			return false;
	return true;
}

/* Moves the N_ADD strings of ADD to the end of *V (NULL-terminated, *N long). */
static int append(char ***v, size_t *n, char **add, size_t n_add)
{
	char **nv;

	if (n_add == 0)
		return 0;
	nv = realloc(*v, (*n + n_add + 1) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	memcpy(nv + *n, add, n_add * sizeof(char *));
	*n += n_add;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int regconf_decode(const char *buf, size_t len, const char *file, struct regconf *out,
		   struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_strv_ char **insecure = NULL, **certs = NULL;
	size_t ni, nc;
	const char *k;
	json_t *v;

	if (len > REGCONF_MAX)
		return err_set(err, EFBIG, "%s: larger than %u bytes", file, REGCONF_MAX);
	if (blank(buf, len))
		return 0;
	root = json_parse_strict(buf, len, file, err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "%s:1:1: the top level must be an object", file);
	json_object_foreach (root, k, v) {
		if (strcmp(k, "insecure") != 0 && strcmp(k, "certs_dirs") != 0)
			return member_err(buf, len, file, k, err,
					  "unknown key (known: \"insecure\", \"certs_dirs\")",
					  NULL);
		if (!json_is_array(v))
			return member_err(buf, len, file, k, err, "must be an array of strings",
					  NULL);
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *e = json_array_get(v, i);

			if (!json_is_string(e) ||
			    strlen(json_string_value(e)) != json_string_length(e))
				return member_err(buf, len, file, k, err,
						  "must be an array of strings (without NUL bytes)",
						  NULL);
		}
	}
	if (json_get_strv(root, "insecure", &insecure, file, err) < 0 ||
	    json_get_strv(root, "certs_dirs", &certs, file, err) < 0)
		return err_ret(*err);
	ni = strv_len(insecure);
	nc = strv_len(certs);
	if (out->n_insecure + ni > REGCONF_ENTRIES_MAX)
		return member_err(buf, len, file, "insecure", err, "more than 1024 entries", NULL);
	for (size_t i = 0; i < ni; i++)
		if (!image_reference_domain_valid(insecure[i]))
			return member_err(buf, len, file, "insecure", err,
					  "not a registry host or host:port: ", insecure[i]);
	for (size_t i = 0; i < nc; i++) {
		if (certs[i][0] != '/')
			return member_err(buf, len, file, "certs_dirs", err,
					  "not an absolute path: ", certs[i]);
		if (strlen(certs[i]) >= PATH_MAX)
			return member_err(buf, len, file, "certs_dirs", err, "path too long", NULL);
	}
	if (out->n_certs_dirs + nc > REGCONF_CERTS_DIRS_MAX)
		return member_err(buf, len, file, "certs_dirs", err,
				  "moat supports one certs.d directory beside /etc/docker/certs.d "
				  "and the user's; "
				  "found another",
				  NULL);
	if (append(&out->insecure, &out->n_insecure, insecure, ni) < 0)
		return err_errno(err, ENOMEM, "%s", file);
	/* The strings now belong to OUT; only the arrays are freed here. */
	if (ni) {
		free(insecure);
		insecure = NULL;
	}
	if (append(&out->certs_dirs, &out->n_certs_dirs, certs, nc) < 0)
		return err_errno(err, ENOMEM, "%s", file);
	if (nc) {
		free(certs);
		certs = NULL;
	}
	return 0;
}

/* Reads FILE into C; a missing file is empty unless REQUIRED. */
static int load_file(const char *file, bool required, struct regconf *c, struct err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !required)
			return 0;
		return err_errno(err, errno, "open \"%s\"", file);
	}
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "stat \"%s\"", file);
	/* /dev/null reads as an empty file: "no configuration". */
	if (!S_ISREG(st.st_mode) && !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
		return err_set(err, EINVAL, "\"%s\" is not a regular file", file);
	if (fs_read_fd(fd, REGCONF_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "read \"%s\"", file);
	return regconf_decode(buf, len, file, c, err);
}

/* $XDG_CONFIG_HOME (absolute) or ~/.config; NULL when neither is known. */
static char *user_config_dir(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *s = NULL;

	if (x && x[0] == '/')
		return strdup(x);
	if (!home || home[0] != '/') {
		struct passwd *pw = getpwuid(getuid());

		home = pw && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
	}
	if (!home || asprintf(&s, "%s/.config", home) < 0)
		return NULL;
	return s;
}

int regconf_load(struct regconf **out, struct err **err)
{
	_cleanup_free_ struct regconf *c = calloc(1, sizeof(*c));
	_cleanup_free_ char *cfg = NULL, *user_file = NULL;
	const char *only = getenv("MOAT_REGISTRIES_CONF");
	int r;

	*out = NULL;
	if (!c)
		return err_errno(err, ENOMEM, "registry configuration");
	cfg = user_config_dir();
	if (cfg && asprintf(&c->user_certs_dir, "%s/moat/certs.d", cfg) < 0)
		c->user_certs_dir = NULL;
	if (only && *only) {
		r = load_file(only, true, c, err);
	} else {
		r = load_file(SYSTEM_FILE, false, c, err);
		if (r == 0 && cfg && asprintf(&user_file, "%s/moat/registries.json", cfg) >= 0)
			r = load_file(user_file, false, c, err);
	}
	if (r < 0) {
		regconf_clear(c);
		return r;
	}
	*out = steal_ptr(c);
	return 0;
}

bool regconf_insecure(const struct regconf *c, const char *host)
{
	if (!c || !host)
		return false;
	for (size_t i = 0; i < c->n_insecure; i++)
		if (!strcasecmp(c->insecure[i], host))
			return true;
	return false;
}

void regconf_certs_dirs(const struct regconf *c, const char *out[4])
{
	size_t n = 0;

	out[n++] = DOCKER_CERTS_DIR;
	if (c && c->n_certs_dirs)
		out[n++] = c->certs_dirs[0];
	if (c && c->user_certs_dir)
		out[n++] = c->user_certs_dir;
	while (n < 4)
		out[n++] = NULL;
}

void regconf_clear(struct regconf *c)
{
	if (!c)
		return;
	strvfree(c->insecure);
	strvfree(c->certs_dirs);
	free(c->user_certs_dir);
	memset(c, 0, sizeof(*c));
}

void regconf_free(struct regconf *c)
{
	regconf_clear(c);
	free(c);
}
