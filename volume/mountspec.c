/*
 * volume/mountspec.c - parsers for `-v`, `--mount` and `--tmpfs` (see
 * mountspec.h for the grammar).
 *
 * Runs in: any process (the CLI, before anything is opened). PURE: no
 * system calls, no global mutable state; the only side effects are heap
 * allocations, which are all released on every error path. This is the
 * first code that untrusted mount text meets, so:
 *  - a specification is length-checked (MOUNTSPEC_MAX_LEN) before it is
 *    copied, and every path (MOUNTSPEC_PATH_LIMIT) before it is used;
 *  - the text is parsed in one private copy; the request is built apart
 *    and handed to the caller only when it is complete and valid, so a
 *    refusal always leaves *out zeroed (mount_req_free on it is a no-op);
 *  - every target is absolute, normalised, free of "..", not "/" and not
 *    at or under /proc, /sys or /dev (component-wise), so later code can
 *    compare targets as strings; a bind source is absolute, normalised and
 *    free of "..". Symlinks are not this file's business: the engine
 *    opens the source without following them (unless follow_symlink) and
 *    resolves the target beneath the container root.
 * Messages are Docker's where Docker has one (the CLI adds the flag, as
 * Docker's does); the others name the flag themselves.
 *
 * Deliberate differences from Docker (all refusals of what Docker would
 * take, except the last two):
 *  - an empty -v field ("/a:/b:") and an empty --tmpfs option list;
 *  - a --mount line break outside quotes (Go's csv would silently drop
 *    the rest of the text);
 *  - duplicate or conflicting --tmpfs options (the kernel takes the last);
 *  - --tmpfs options other than size, mode, ro/rw, exec/noexec,
 *    suid/nosuid and nodev, and fractional sizes ("1.5g");
 *  - a relative --mount bind source ("./data"): Docker makes it absolute
 *    against the working directory, which a pure parser cannot know;
 *  - accepted: bind-recursive=enabled|disabled (current Docker's spelling
 *    of bind-nonrecursive) and Docker's consistency modes in -v options
 *    (cached, delegated, consistent), ignored as Docker on Linux does.
 */
#include "volume/mountspec.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

/* A path must fit the kernel's PATH_MAX (4096 with its NUL). */
#define MOUNTSPEC_PATH_LIMIT 4096
/* volume-opt and volume-label entries each (distinct keys). */
#define MOUNTSPEC_MAX_KV 64
/* User text quoted in a message is cut here: messages are 1 KiB. */
#define QUOTE_MAX 200

#define QFMT "%.*s%s"
#define QARG(s) qlen(s), (s), qmore(s)

static int qlen(const char *s)
{
	size_t n = strnlen(s, QUOTE_MAX + 1);

	return n > QUOTE_MAX ? QUOTE_MAX : (int)n;
}

static const char *qmore(const char *s)
{
	return strnlen(s, QUOTE_MAX + 1) > QUOTE_MAX ? "..." : "";
}

/* ASCII only: the parsers must not depend on the process's locale. */
static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does the token S[0..N) equal WORD? */
static bool tok_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static const char *const type_names[] = {
    [MOUNT_VOLUME] = "volume",
    [MOUNT_BIND] = "bind",
    [MOUNT_TMPFS] = "tmpfs",
};

static const char *const prop_names[] = {
    [MOUNT_PROP_RPRIVATE] = "rprivate", [MOUNT_PROP_PRIVATE] = "private",
    [MOUNT_PROP_RSLAVE] = "rslave",	[MOUNT_PROP_SLAVE] = "slave",
    [MOUNT_PROP_RSHARED] = "rshared",	[MOUNT_PROP_SHARED] = "shared",
};

const char *mount_type_name(enum mount_type t)
{
	if ((unsigned)t < ARRAY_SIZE(type_names))
		return type_names[t];
	return "unknown";
}

const char *mount_propagation_name(enum mount_propagation p)
{
	if ((unsigned)p < ARRAY_SIZE(prop_names))
		return prop_names[p];
	return "unknown";
}

static int lookup_n(const char *const *names, size_t count, const char *s, size_t n)
{
	for (size_t i = 0; i < count; i++)
		if (tok_is(s, n, names[i]))
			return (int)i;
	return -EINVAL;
}

int mount_type_from_name(const char *s, enum mount_type *out)
{
	int i = s ? lookup_n(type_names, ARRAY_SIZE(type_names), s, strlen(s)) : -EINVAL;

	if (i < 0)
		return -EINVAL;
	*out = (enum mount_type)i;
	return 0;
}

int mount_propagation_from_name(const char *s, enum mount_propagation *out)
{
	int i = s ? lookup_n(prop_names, ARRAY_SIZE(prop_names), s, strlen(s)) : -EINVAL;

	if (i < 0)
		return -EINVAL;
	*out = (enum mount_propagation)i;
	return 0;
}

/*
 * Docker's local driver: at least two characters (one character is what a
 * Windows drive letter looks like, so Docker refuses it), the first
 * alphanumeric, the rest [a-zA-Z0-9_.-]. The 128-byte cap is moat's: the
 * name becomes a directory name under ROOT/volumes.
 */
bool volume_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, VOLUME_NAME_MAX + 1);
	if (n < 2 || n > VOLUME_NAME_MAX || !is_alnum(name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
			return false;
	return true;
}

static int check_volume_name(const char *name, struct err **err)
{
	if (volume_name_valid(name))
		return 0;
	if (strnlen(name, VOLUME_NAME_MAX + 1) > VOLUME_NAME_MAX)
		return err_set(err, EINVAL, "volume name \"%.40s...\" is longer than %d bytes",
			       name, VOLUME_NAME_MAX);
	if (strlen(name) == 1)
		return err_set(err, EINVAL,
			       "volume name \"%s\" is too short, names should be at least two "
			       "alphanumeric characters",
			       name);
	return err_set(err, EINVAL,
		       "\"" QFMT "\" includes invalid characters for a local volume name, only "
		       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
		       "directory, use absolute path",
		       QARG(name));
}

/* Is the normalised path P equal to or beneath "/DIR"? */
static bool at_or_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return p[0] == '/' && strncmp(p + 1, dir, n) == 0 && (p[n + 1] == '\0' || p[n + 1] == '/');
}

/*
 * Normalises the absolute path P into *OUT (malloc'd): "//" and "/./"
 * collapsed, a trailing "/" or "/." dropped. ".." is refused rather than
 * resolved: resolving it lexically would be wrong once a component is a
 * symlink, and nobody needs it in a path meant literally. A TARGET may not
 * be "/" nor be at or under /proc, /sys or /dev: the runtime builds those
 * itself, and a volume over them is the CVE-2019-16884 class of escape.
 * FLAG names the flag in moat's own messages (NULL: none).
 */
static int normalise(const char *flag, const char *p, bool target, char **out, struct err **err)
{
	static const char *const reserved[] = {"proc", "sys", "dev"};
	const char *pre = flag ? flag : "", *sep = flag ? ": " : "";
	const char *what = target ? "container path" : "host path";
	_cleanup_free_ char *buf = NULL;
	size_t len = strnlen(p, MOUNTSPEC_PATH_LIMIT), i = 0, n = 0;

	*out = NULL;
	if (len >= MOUNTSPEC_PATH_LIMIT)
		return err_set(err, ENAMETOOLONG, "%s%s%s \"%.64s...\" is longer than %d bytes",
			       pre, sep, what, p, MOUNTSPEC_PATH_LIMIT - 1);
	if (p[0] != '/')
		return err_set(err, EINVAL,
			       "invalid mount path: '" QFMT "' mount path must be absolute",
			       QARG(p));
	buf = malloc(len + 2);
	if (!buf)
		return err_errno(err, ENOMEM, "%s%snormalising \"" QFMT "\"", pre, sep, QARG(p));
	while (p[i]) {
		size_t start, clen;

		while (p[i] == '/')
			i++;
		if (!p[i])
			break;
		start = i;
		while (p[i] && p[i] != '/')
			i++;
		clen = i - start;
		if (clen == 1 && p[start] == '.')
			continue;
		if (clen == 2 && p[start] == '.' && p[start + 1] == '.')
			return err_set(err, EINVAL,
				       "%s%s%s \"" QFMT "\" has a \"..\" component (not allowed)",
				       pre, sep, what, QARG(p));
		buf[n++] = '/';
		memcpy(buf + n, p + start, clen);
		n += clen;
	}
	if (n == 0) {
		if (target)
			return err_set(err, EINVAL,
				       "invalid specification: destination can't be '/'");
		buf[n++] = '/';
	}
	buf[n] = '\0';
	for (size_t k = 0; target && k < ARRAY_SIZE(reserved); k++)
		if (at_or_under(buf, reserved[k]))
			return err_set(err, EINVAL,
				       "%s%smount target \"" QFMT "\" is at or under /%s "
				       "(/proc, /sys and /dev belong to the runtime)",
				       pre, sep, QARG(buf), reserved[k]);
	*out = steal_ptr(buf);
	return 0;
}

int mountspec_target_normalise(const char *target, char **out, struct err **err)
{
	if (!out)
		return err_set(err, EINVAL, "mountspec_target_normalise: no output");
	*out = NULL;
	if (!target)
		return err_set(err, EINVAL, "target is required");
	return normalise(NULL, target, true, out, err);
}

static void mount_req_freep(struct mount_req *m)
{
	mount_req_free(m);
}
#define _cleanup_mount_req_ __attribute__((cleanup(mount_req_freep)))

void mount_req_free(struct mount_req *m)
{
	if (!m)
		return;
	free(m->source);
	free(m->target);
	free(m->driver);
	strvfree(m->driver_opts);
	strvfree(m->labels);
	*m = (struct mount_req){0};
}

static int strv_dup(char *const *in, char ***out)
{
	_cleanup_strv_ char **v = NULL;
	size_t n = 0;

	*out = NULL;
	if (!in)
		return 0;
	while (in[n])
		n++;
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(in[i])))
			return -ENOMEM;
	*out = steal_ptr(v);
	return 0;
}

static int dup_or_null(const char *s, char **out)
{
	*out = NULL;
	if (s && !(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

int mount_req_copy(const struct mount_req *in, struct mount_req *out, struct err **err)
{
	_cleanup_mount_req_ struct mount_req m = {0};

	if (!out)
		return err_set(err, EINVAL, "mount_req_copy: no output");
	*out = (struct mount_req){0};
	if (!in)
		return err_set(err, EINVAL, "mount_req_copy: no input");
	m = *in;
	/* Nothing of IN may be freed through M, so clear its pointers first. */
	m.source = m.target = m.driver = NULL;
	m.driver_opts = m.labels = NULL;
	if (dup_or_null(in->source, &m.source) < 0 || dup_or_null(in->target, &m.target) < 0 ||
	    dup_or_null(in->driver, &m.driver) < 0 ||
	    strv_dup(in->driver_opts, &m.driver_opts) < 0 || strv_dup(in->labels, &m.labels) < 0)
		return err_errno(err, ENOMEM, "copy of the mount on \"%s\"",
				 in->target ? in->target : "?");
	*out = m;
	m = (struct mount_req){0};
	return 0;
}

/* Hands the request to the caller: *OUT takes M's pointers, M is cleared. */
static void deliver(struct mount_req *m, struct mount_req *out)
{
	*out = *m;
	*m = (struct mount_req){0};
}

/* A private copy of SPEC, refused past MOUNTSPEC_MAX_LEN before copying. */
static int copy_spec(const char *flag, const char *spec, char **out, struct err **err)
{
	size_t n;

	*out = NULL;
	if (!spec)
		return err_set(err, EINVAL, "%s: no specification", flag);
	n = strnlen(spec, MOUNTSPEC_MAX_LEN + 1);
	if (n > MOUNTSPEC_MAX_LEN)
		return err_set(err, E2BIG, "%s: specification is longer than %d bytes", flag,
			       MOUNTSPEC_MAX_LEN);
	*out = malloc(n + 1);
	if (!*out)
		return err_errno(err, ENOMEM, "%s", flag);
	memcpy(*out, spec, n + 1);
	return 0;
}

/* ---- -v ---------------------------------------------------------------- */

struct vmode {
	bool ro, nocopy, follow, has_prop;
	char relabel;
	enum mount_propagation prop;
};

/*
 * Docker's mode rule (linuxValidMountMode), plus moat's follow-symlink:
 * every option known, at most one of each class. Returns false with *WHY.
 */
static bool parse_vmode(const char *mode, struct vmode *vm, const char **why)
{
	int rw = 0, label = 0, prop = 0, copy = 0, consistency = 0, follow = 0;
	const char *s = mode;

	*vm = (struct vmode){0};
	*why = NULL;
	for (;;) {
		size_t n = strcspn(s, ",");
		int p;

		if (n == 0) {
			*why = "empty option";
			return false;
		}
		if (tok_is(s, n, "ro") || tok_is(s, n, "rw")) {
			vm->ro = tok_is(s, n, "ro");
			rw++;
		} else if (tok_is(s, n, "z") || tok_is(s, n, "Z")) {
			vm->relabel = s[0];
			label++;
		} else if ((p = lookup_n(prop_names, ARRAY_SIZE(prop_names), s, n)) >= 0) {
			vm->prop = (enum mount_propagation)p;
			vm->has_prop = true;
			prop++;
		} else if (tok_is(s, n, "nocopy")) {
			vm->nocopy = true;
			copy++;
		} else if (tok_is(s, n, "consistent") || tok_is(s, n, "cached") ||
			   tok_is(s, n, "delegated")) {
			consistency++;
		} else if (tok_is(s, n, "follow-symlink")) {
			vm->follow = true;
			follow++;
		} else {
			*why = "unknown option";
			return false;
		}
		if (s[n] == '\0')
			break;
		s += n + 1;
	}
	if (rw > 1)
		*why = "ro and rw: only one may be given, once";
	else if (label > 1)
		*why = "z and Z: only one may be given, once";
	else if (prop > 1)
		*why = "more than one propagation mode";
	else if (copy > 1 || consistency > 1 || follow > 1)
		*why = "an option given twice";
	return *why == NULL;
}

int mountspec_parse_volume(const char *spec, struct mount_req *out, struct err **err)
{
	_cleanup_mount_req_ struct mount_req m = {0};
	_cleanup_free_ char *buf = NULL;
	char *f[3] = {NULL, NULL, NULL}, *src = NULL, *dst, *mode = NULL;
	struct vmode vm = {0};
	const char *why;
	size_t nf = 0;
	int r;

	if (!out)
		return err_set(err, EINVAL, "-v: no output");
	*out = (struct mount_req){0};
	if ((r = copy_spec("-v", spec, &buf, err)) < 0)
		return r;
	/* Docker: more than two colons, or an empty first field, is not a spec. */
	for (char *p = buf;; p++) {
		char *c = strchr(p, ':');

		if (nf == 3)
			return err_set(err, EINVAL, "invalid volume specification: '" QFMT "'",
				       QARG(spec));
		f[nf++] = p;
		if (!c)
			break;
		*c = '\0';
		p = c;
	}
	for (size_t i = 0; i < nf; i++)
		if (f[i][0] == '\0')
			return err_set(err, EINVAL, "invalid volume specification: '" QFMT "'",
				       QARG(spec));
	if (nf == 1) {
		dst = f[0];
	} else {
		src = f[0];
		dst = f[1];
		/* "/foo:rw" is a target with a mode, not SRC:DST: Docker refuses it. */
		if (nf == 2 && parse_vmode(f[1], &vm, &why))
			return err_set(err, EINVAL, "invalid volume specification: '" QFMT "'",
				       QARG(spec));
		vm = (struct vmode){0};
		if (nf == 3) {
			mode = f[2];
			if (!parse_vmode(mode, &vm, &why))
				return err_set(err, EINVAL, "invalid mode: " QFMT " (%s)",
					       QARG(mode), why);
		}
	}

	if ((r = normalise("-v", dst, true, &m.target, err)) < 0)
		return r;
	m.readonly = vm.ro;
	m.relabel = vm.relabel;
	if (src && src[0] == '/') {
		m.type = MOUNT_BIND;
		if (vm.nocopy)
			return err_set(
			    err, EINVAL,
			    "invalid volume specification: '" QFMT "': invalid mount config "
			    "for type \"bind\": field VolumeOptions must not be specified",
			    QARG(spec));
		if ((r = normalise("-v", src, false, &m.source, err)) < 0)
			return r;
		m.create_src = true; /* -v creates a missing host directory, as Docker's */
		m.follow_symlink = vm.follow;
		m.propagation = vm.has_prop ? vm.prop : MOUNT_PROP_RPRIVATE;
	} else {
		m.type = MOUNT_VOLUME;
		if (vm.has_prop)
			return err_set(
			    err, EINVAL,
			    "invalid volume specification: '" QFMT "': invalid mount config "
			    "for type \"volume\": field BindOptions must not be specified",
			    QARG(spec));
		if (vm.follow)
			return err_set(
			    err, EINVAL,
			    "-v: follow-symlink applies to bind mounts only, not to volume "
			    "\"" QFMT "\"",
			    QARG(src));
		if (src) {
			if ((r = check_volume_name(src, err)) < 0)
				return r;
			if (!(m.source = strdup(src)))
				return err_errno(err, ENOMEM, "-v");
		}
		m.nocopy = vm.nocopy;
	}
	deliver(&m, out);
	return 0;
}

/* ---- --mount ----------------------------------------------------------- */

/*
 * One record of Go's encoding/csv with its defaults (which Docker uses): a
 * field that starts with '"' runs to the closing quote, "" inside is one
 * quote, and the closing quote must end the field; a quote anywhere else
 * is an error. Fields are unquoted in place (the text only shrinks).
 */
struct csv {
	char *base, *p;
	bool done;
};

static int csv_error(const struct csv *c, const char *at, const char *what, struct err **err)
{
	return err_set(err, EINVAL, "parse error on line 1, column %zu: %s",
		       (size_t)(at - c->base) + 1, what);
}

/* 1 with *FIELD, 0 after the last field, or a negative errno. */
static int csv_next(struct csv *c, char **field, struct err **err)
{
	char *r = c->p, *w = c->p, sep;

	if (c->done)
		return 0;
	*field = w;
	if (*r == '"') {
		for (r++;; r++) {
			if (*r == '\0')
				return csv_error(c, r, "extraneous or missing \" in quoted-field",
						 err);
			if (*r == '"') {
				if (r[1] != '"')
					break;
				r++;
			}
			*w++ = *r;
		}
		r++;
		if (*r != ',' && *r != '\0')
			return csv_error(c, r, "extraneous or missing \" in quoted-field", err);
	} else {
		for (; *r && *r != ','; r++, w++) {
			if (*r == '"')
				return csv_error(c, r, "bare \" in non-quoted-field", err);
			/* Go would end the record here and drop the rest. */
			if (*r == '\n' || *r == '\r')
				return err_set(err, EINVAL,
					       "--mount: line break in the specification (outside "
					       "quotes)");
		}
	}
	sep = *r;
	*w = '\0';
	if (sep == '\0')
		c->done = true;
	else
		c->p = r + 1;
	return 1;
}

/* Go's strconv-free bool of current Docker (parseBoolValue). */
static int parse_bool(const char *key, const char *val, bool *out, struct err **err)
{
	if (!val || !strcmp(val, "true") || !strcmp(val, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(val, "false") || !strcmp(val, "0")) {
		*out = false;
		return 0;
	}
	return err_set(err, EINVAL,
		       "invalid value for '%s': invalid boolean value (\"" QFMT
		       "\"): must be one of "
		       "\"true\", \"1\", \"false\", or \"0\" (default \"true\")",
		       key, QARG(val));
}

/*
 * SIZE: decimal bytes, or with k, m, g, t or p (any case; "kb", "kib"
 * too), 1024-based like Docker's RAMInBytes. 0 and -1 for the caller's
 * message.
 */
static int parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "kmgtp";
	uint64_t v = 0;
	unsigned shift = 0;
	const char *u;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s && (u = strchr(units, lower(*s)))) {
		shift = 10 * (unsigned)(u - units + 1);
		s++;
		if (lower(*s) == 'i')
			s++;
	}
	if (lower(*s) == 'b')
		s++;
	if (*s)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* MODE: octal digits (a leading 0 optional), at most 07777. */
static int parse_mode(const char *s, uint32_t *out)
{
	uint32_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -1;
		v = v * 8 + (uint32_t)(*s - '0');
		if (v > 07777)
			return -1;
	}
	*out = v;
	return 0;
}

/* volume-driver: the rule volume.h gives for records, and no "..". */
static bool driver_name_valid(const char *s)
{
	size_t n = strnlen(s, 256);

	if (n == 0 || n > 255 || !is_alnum(s[0]) || strstr(s, ".."))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && !strchr("_.:/-", s[i]))
			return false;
	return true;
}

struct kvlist {
	const char *v[MOUNTSPEC_MAX_KV];
	size_t n;
};

/*
 * volume-opt / volume-label: VAL is "k=v" with a non-empty k. A repeated
 * key replaces the earlier entry (Docker keeps them in a map).
 */
static int kv_add(struct kvlist *l, const char *key, const char *val, struct err **err)
{
	const char *eq = strchr(val, '=');
	size_t klen = eq ? (size_t)(eq - val) : 0;

	if (klen == 0)
		return err_set(err, EINVAL,
			       "--mount: invalid %s '" QFMT
			       "': expected KEY=VALUE with a non-empty KEY",
			       key, QARG(val));
	for (size_t i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], val, klen + 1)) {
			l->v[i] = val;
			return 0;
		}
	if (l->n == MOUNTSPEC_MAX_KV)
		return err_set(err, E2BIG, "--mount: more than %d %s entries", MOUNTSPEC_MAX_KV,
			       key);
	l->v[l->n++] = val;
	return 0;
}

static int kv_build(const struct kvlist *l, char ***out)
{
	_cleanup_strv_ char **v = NULL;

	*out = NULL;
	if (l->n == 0)
		return 0;
	v = calloc(l->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (!(v[i] = strdup(l->v[i])))
			return -ENOMEM;
	*out = steal_ptr(v);
	return 0;
}

/* What one --mount text said, pointing into the parser's copy. */
struct mspec {
	enum mount_type type;
	const char *source, *target, *driver;
	bool readonly, nocopy, nonrecursive, create_src, follow;
	enum mount_propagation prop;
	uint64_t size;
	uint32_t mode;
	bool vol_opts, bind_opts, tmpfs_opts, follow_given;
	struct kvlist opts, labels;
};

/* Applies one KEY=VAL (VAL NULL for a bare key) of FIELD to S. */
static int mount_field(struct mspec *s, const char *field, const char *key, const char *val,
		       struct err **err)
{
	int r = 0;

	if (!strcmp(key, "type")) {
		char low[16];
		size_t n = strlen(val);

		for (size_t i = 0; i < n && i < sizeof(low) - 1; i++)
			low[i] = lower(val[i]);
		low[n < sizeof(low) - 1 ? n : sizeof(low) - 1] = '\0';
		if (n >= sizeof(low) || mount_type_from_name(low, &s->type) < 0)
			return err_set(err, EINVAL,
				       "invalid mount config for type \"" QFMT
				       "\": mount type unknown",
				       QARG(val));
	} else if (!strcmp(key, "source") || !strcmp(key, "src")) {
		s->source = val;
	} else if (!strcmp(key, "target") || !strcmp(key, "dst") || !strcmp(key, "destination")) {
		s->target = val;
	} else if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
		r = parse_bool(key, val, &s->readonly, err);
	} else if (!strcmp(key, "consistency")) {
		/* Docker for Mac's; nothing to do on Linux. */
	} else if (!strcmp(key, "bind-propagation")) {
		char low[16];
		size_t n = strlen(val);

		for (size_t i = 0; i < n && i < sizeof(low) - 1; i++)
			low[i] = lower(val[i]);
		low[n < sizeof(low) - 1 ? n : sizeof(low) - 1] = '\0';
		if (n >= sizeof(low) || mount_propagation_from_name(low, &s->prop) < 0)
			return err_set(
			    err, EINVAL,
			    "invalid mount config for type \"bind\": invalid propagation "
			    "mode: " QFMT,
			    QARG(val));
		s->bind_opts = true;
	} else if (!strcmp(key, "bind-nonrecursive")) {
		r = parse_bool(key, val, &s->nonrecursive, err);
		s->bind_opts = true;
	} else if (!strcmp(key, "bind-recursive")) {
		if (!strcmp(val, "enabled"))
			s->nonrecursive = false;
		else if (!strcmp(val, "disabled"))
			s->nonrecursive = true;
		else if (!strcmp(val, "writable") || !strcmp(val, "readonly"))
			return err_set(err, ENOTSUP, "--mount: bind-recursive=%s is not supported",
				       val);
		else
			return err_set(err, EINVAL,
				       "invalid value for bind-recursive: " QFMT
				       " (must be \"enabled\", "
				       "\"disabled\", \"writable\", or \"readonly\")",
				       QARG(val));
		s->bind_opts = true;
	} else if (!strcmp(key, "bind-create-src")) {
		r = parse_bool(key, val, &s->create_src, err);
		s->bind_opts = true;
	} else if (!strcmp(key, "follow-symlink")) {
		r = parse_bool(key, val, &s->follow, err);
		s->follow_given = true;
	} else if (!strcmp(key, "volume-nocopy")) {
		r = parse_bool(key, val, &s->nocopy, err);
		s->vol_opts = true;
	} else if (!strcmp(key, "volume-driver")) {
		if (!driver_name_valid(val))
			return err_set(err, EINVAL, "--mount: invalid volume-driver '" QFMT "'",
				       QARG(val));
		s->driver = val;
		s->vol_opts = true;
	} else if (!strcmp(key, "volume-opt")) {
		r = kv_add(&s->opts, key, val, err);
		s->vol_opts = true;
	} else if (!strcmp(key, "volume-label")) {
		r = kv_add(&s->labels, key, val, err);
		s->vol_opts = true;
	} else if (!strcmp(key, "tmpfs-size")) {
		if (parse_size(val, &s->size) < 0)
			return err_set(err, EINVAL, "invalid value for tmpfs-size: " QFMT,
				       QARG(val));
		s->tmpfs_opts = true;
	} else if (!strcmp(key, "tmpfs-mode")) {
		if (parse_mode(val, &s->mode) < 0)
			return err_set(err, EINVAL,
				       "invalid value for tmpfs-mode: " QFMT
				       " (octal, at most 07777)",
				       QARG(val));
		s->tmpfs_opts = true;
	} else {
		return err_set(err, EINVAL, "unexpected key '%s' in '" QFMT "'", key, QARG(field));
	}
	return r;
}

/* Bare keys Docker takes as "=true". */
static bool bare_ok(const char *key)
{
	static const char *const bools[] = {"readonly",	       "ro",
					    "volume-nocopy",   "bind-nonrecursive",
					    "bind-create-src", "follow-symlink"};

	for (size_t i = 0; i < ARRAY_SIZE(bools); i++)
		if (!strcmp(key, bools[i]))
			return true;
	return false;
}

/* Splits FIELD into a lower-cased KEY (its own buffer) and VAL (in FIELD). */
static int split_field(char *field, char *key, size_t keysz, const char **val, struct err **err)
{
	char *eq = strchr(field, '=');
	size_t klen = eq ? (size_t)(eq - field) : strlen(field);
	const char *v;
	size_t vlen;

	if (klen > 0 && (is_space(field[0]) || is_space(field[klen - 1]))) {
		size_t a = 0, b = klen;

		while (a < b && is_space(field[a]))
			a++;
		while (b > a && is_space(field[b - 1]))
			b--;
		return err_set(
		    err, EINVAL,
		    "invalid option '%.*s' in '" QFMT "': option should not have whitespace",
		    (int)(b - a < QUOTE_MAX ? b - a : QUOTE_MAX), field + a, QARG(field));
	}
	*val = NULL;
	if (klen >= keysz) { /* longer than any key there is */
		if (!eq)
			return err_set(err, EINVAL,
				       "invalid field '" QFMT "' must be a key=value pair",
				       QARG(field));
		return err_set(err, EINVAL, "unexpected key '%.*s%s' in '" QFMT "'", QUOTE_MAX / 2,
			       field, klen > QUOTE_MAX / 2 ? "..." : "", QARG(field));
	}
	for (size_t i = 0; i < keysz; i++)
		key[i] = i < klen ? lower(field[i]) : '\0';
	if (!eq) {
		if (!bare_ok(key))
			return err_set(err, EINVAL,
				       "invalid field '" QFMT "' must be a key=value pair",
				       QARG(field));
		return 0;
	}
	v = eq + 1;
	vlen = strlen(v);
	while (vlen > 0 && is_space(*v)) {
		v++;
		vlen--;
	}
	while (vlen > 0 && is_space(v[vlen - 1]))
		vlen--;
	*eq = '\0'; /* FIELD is now the key, for messages */
	if (vlen == 0)
		return err_set(err, EINVAL, "invalid value for '" QFMT "': value is empty",
			       QARG(field));
	if (v != eq + 1 || v[vlen] != '\0') {
		*eq = '=';
		return err_set(err, EINVAL,
			       "invalid value for '%.*s' in '" QFMT
			       "': value should not have whitespace",
			       (int)(klen < QUOTE_MAX ? klen : QUOTE_MAX), field, QARG(field));
	}
	*eq = '=';
	*val = v;
	return 0;
}

/* Refuses options that belong to another mount type (Docker's order). */
static int check_mix(const struct mspec *s, struct err **err)
{
	const char *t = type_names[s->type];

	if (s->bind_opts && s->type != MOUNT_BIND)
		return err_set(err, EINVAL, "cannot mix 'bind-*' options with mount type '%s'", t);
	if (s->vol_opts && s->type != MOUNT_VOLUME)
		return err_set(err, EINVAL, "cannot mix 'volume-*' options with mount type '%s'",
			       t);
	if (s->tmpfs_opts && s->type != MOUNT_TMPFS)
		return err_set(err, EINVAL, "cannot mix 'tmpfs-*' options with mount type '%s'", t);
	if (s->follow_given && s->type != MOUNT_BIND)
		return err_set(err, EINVAL, "cannot mix 'follow-symlink' with mount type '%s'", t);
	return 0;
}

int mountspec_parse_mount(const char *spec, struct mount_req *out, struct err **err)
{
	_cleanup_mount_req_ struct mount_req m = {0};
	_cleanup_free_ char *buf = NULL;
	struct mspec s = {.type = MOUNT_VOLUME};
	struct csv c;
	char *text, *field, *end;
	int r;

	if (!out)
		return err_set(err, EINVAL, "--mount: no output");
	*out = (struct mount_req){0};
	if ((r = copy_spec("--mount", spec, &buf, err)) < 0)
		return r;
	/* Docker trims the whole value (strings.TrimSpace) before reading it. */
	for (text = buf; is_space(*text); text++)
		;
	for (end = text + strlen(text); end > text && is_space(end[-1]); end--)
		;
	*end = '\0';
	if (!*text)
		return err_set(err, EINVAL, "value is empty");
	c = (struct csv){.base = text, .p = text};
	while ((r = csv_next(&c, &field, err)) > 0) {
		char key[32];
		const char *val;

		if ((r = split_field(field, key, sizeof(key), &val, err)) < 0)
			return r;
		if ((r = mount_field(&s, field, key, val, err)) < 0)
			return r;
	}
	if (r < 0)
		return r;

	if (!s.target)
		return err_set(err, EINVAL, "target is required");
	if ((r = check_mix(&s, err)) < 0)
		return r;
	if ((r = normalise("--mount", s.target, true, &m.target, err)) < 0)
		return r;
	m.type = s.type;
	m.readonly = s.readonly;
	switch (s.type) {
	case MOUNT_VOLUME:
		if (!s.source && s.readonly)
			return err_set(err, EINVAL,
				       "invalid mount config for type \"volume\": must not set "
				       "ReadOnly mode when using anonymous volumes");
		if (s.source && (r = check_volume_name(s.source, err)) < 0)
			return r;
		m.nocopy = s.nocopy;
		if (dup_or_null(s.source, &m.source) < 0 || dup_or_null(s.driver, &m.driver) < 0 ||
		    kv_build(&s.opts, &m.driver_opts) < 0 || kv_build(&s.labels, &m.labels) < 0)
			return err_errno(err, ENOMEM, "--mount");
		break;
	case MOUNT_BIND:
		if (!s.source)
			return err_set(
			    err, EINVAL,
			    "invalid mount config for type \"bind\": field Source must not "
			    "be empty");
		if ((r = normalise("--mount", s.source, false, &m.source, err)) < 0)
			return r;
		m.propagation = s.prop;
		m.nonrecursive = s.nonrecursive;
		m.create_src = s.create_src;
		m.follow_symlink = s.follow;
		break;
	case MOUNT_TMPFS:
		if (s.source)
			return err_set(err, EINVAL, "source is not supported for tmpfs mounts");
		m.tmpfs_size = s.size;
		m.tmpfs_mode = s.mode;
		break;
	default:
		return err_set(err, EINVAL, "--mount: unknown mount type");
	}
	deliver(&m, out);
	return 0;
}

/* ---- --tmpfs ----------------------------------------------------------- */

enum tmpfs_opt {
	TOPT_SIZE,
	TOPT_MODE,
	TOPT_RW, /* ro | rw */
	TOPT_EXEC,
	TOPT_SUID,
	TOPT_NODEV,
	TOPT_COUNT,
};

int mountspec_parse_tmpfs(const char *spec, struct mount_req *out, struct err **err)
{
	static const char *const names[] = {"size=",	   "mode=",	  "ro/rw",
					    "exec/noexec", "suid/nosuid", "nodev"};
	_cleanup_mount_req_ struct mount_req m = {0};
	_cleanup_free_ char *buf = NULL;
	const char *seen[TOPT_COUNT] = {NULL};
	char *colon, *opts, *o, *next;
	int r;

	if (!out)
		return err_set(err, EINVAL, "--tmpfs: no output");
	*out = (struct mount_req){0};
	if ((r = copy_spec("--tmpfs", spec, &buf, err)) < 0)
		return r;
	if (!buf[0])
		return err_set(err, EINVAL, "--tmpfs: empty specification");
	colon = strchr(buf, ':');
	opts = colon ? colon + 1 : NULL;
	if (colon)
		*colon = '\0';
	if (!buf[0])
		return err_set(err, EINVAL, "--tmpfs: no target in '" QFMT "'", QARG(spec));
	if ((r = normalise("--tmpfs", buf, true, &m.target, err)) < 0)
		return r;
	m.type = MOUNT_TMPFS;
	if (opts && !*opts)
		return err_set(err, EINVAL, "--tmpfs: empty option list in '" QFMT "'", QARG(spec));
	for (o = opts; o; o = next) {
		enum tmpfs_opt k;

		next = strchr(o, ',');
		if (next)
			*next++ = '\0';
		if (!*o)
			return err_set(err, EINVAL, "--tmpfs: empty option in '" QFMT "'",
				       QARG(spec));
		if (!strncmp(o, "size=", 5)) {
			k = TOPT_SIZE;
			if (parse_size(o + 5, &m.tmpfs_size) < 0)
				return err_set(err, EINVAL,
					       "--tmpfs: invalid size '" QFMT "' in '" QFMT
					       "' (bytes, or a whole number with k, m or g)",
					       QARG(o + 5), QARG(spec));
		} else if (!strncmp(o, "mode=", 5)) {
			k = TOPT_MODE;
			if (parse_mode(o + 5, &m.tmpfs_mode) < 0)
				return err_set(err, EINVAL,
					       "--tmpfs: invalid mode '" QFMT "' in '" QFMT
					       "' (octal, at most 07777)",
					       QARG(o + 5), QARG(spec));
		} else if (!strcmp(o, "ro") || !strcmp(o, "rw")) {
			k = TOPT_RW;
			m.readonly = o[1] == 'o';
		} else if (!strcmp(o, "exec") || !strcmp(o, "noexec")) {
			k = TOPT_EXEC;
			m.tmpfs_exec = o[0] == 'e';
		} else if (!strcmp(o, "suid") || !strcmp(o, "nosuid")) {
			k = TOPT_SUID;
			m.tmpfs_suid = o[0] == 's';
		} else if (!strcmp(o, "nodev")) {
			k = TOPT_NODEV;
		} else if (!strcmp(o, "dev")) {
			return err_set(
			    err, EINVAL,
			    "--tmpfs: 'dev' is not allowed: moat mounts every tmpfs nodev");
		} else {
			return err_set(
			    err, EINVAL,
			    "--tmpfs: unknown option '" QFMT "' in '" QFMT
			    "' (known: size=, mode=, ro, rw, exec, noexec, suid, nosuid, "
			    "nodev)",
			    QARG(o), QARG(spec));
		}
		if (seen[k]) {
			if (!strcmp(seen[k], o) || k == TOPT_SIZE || k == TOPT_MODE)
				return err_set(err, EINVAL, "--tmpfs: %s given twice in '" QFMT "'",
					       names[k], QARG(spec));
			return err_set(err, EINVAL,
				       "--tmpfs: '%s' conflicts with '%s' in '" QFMT "'", o,
				       seen[k], QARG(spec));
		}
		seen[k] = o;
	}
	deliver(&m, out);
	return 0;
}
