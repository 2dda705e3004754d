/*
 * fuzz/mountspec_fuzz.c - libFuzzer target for the -v, --mount and --tmpfs
 * parsers, mount_req_copy/free and target normalisation
 * (volume/mountspec.c).
 *
 * The first byte picks the entry point (mod 4: '0' -v, '1' --mount,
 * '2' --tmpfs, '3' normalise and names); the rest is the text, up to its
 * first NUL. Properties:
 *  - a refusal returns -err->code with a non-empty message and leaves the
 *    output zeroed;
 *  - an accepted request keeps every invariant the header promises: the
 *    target absolute, normalised (normalising it again gives it back), not
 *    "/", not at or under /proc, /sys, /dev, shorter than PATH_MAX; a bind
 *    source absolute, normalised, without ".."; a volume name valid; fields
 *    of other mount types at their defaults; at most 64 volume-opt and
 *    volume-label entries, each KEY=VALUE with a non-empty, distinct KEY;
 *    a tmpfs mode <= 07777;
 *  - a deep copy equals the original and shares no memory with it;
 *  - written back as a --mount text (every field quoted), the request
 *    parses to the same request (except what --mount cannot say: relabel,
 *    and exec/suid of a tmpfs);
 *  - normalisation is idempotent, and a valid volume name round-trips
 *    through -v.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "volume/mountspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                 \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

static bool strv_eq(char **a, char **b)
{
	size_t n = strv_len(a);

	if ((a == NULL) != (b == NULL) || n != strv_len(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static void check_zero(const struct mount_req *m)
{
	CHECK(m->type == MOUNT_VOLUME && !m->source && !m->target && !m->driver);
	CHECK(!m->driver_opts && !m->labels);
	CHECK(!m->readonly && !m->nocopy && !m->create_src && !m->follow_symlink);
	CHECK(!m->nonrecursive && m->propagation == MOUNT_PROP_RPRIVATE && !m->relabel);
	CHECK(!m->tmpfs_size && !m->tmpfs_mode && !m->tmpfs_exec && !m->tmpfs_suid);
}

/* Absolute, no empty, "." or ".." component, no trailing "/" (but "/"). */
static bool normal(const char *p)
{
	if (p[0] != '/')
		return false;
	if (!strcmp(p, "/"))
		return true;
	for (const char *c = p + 1;;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!c[n])
			return true;
		c += n + 1;
	}
}

static bool reserved(const char *p)
{
	static const char *const r[] = {"/proc", "/sys", "/dev"};

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(r[i]);

		if (!strncmp(p, r[i], n) && (p[n] == '\0' || p[n] == '/'))
			return true;
	}
	return false;
}

static void check_kv(char **v)
{
	size_t n = strv_len(v);

	CHECK(!v || n > 0);
	CHECK(n <= 64);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');

		CHECK(eq && eq > v[i]);
		for (size_t j = 0; j < i; j++)
			CHECK(strncmp(v[i], v[j], (size_t)(eq - v[i]) + 1));
	}
}

static void check_req(const struct mount_req *m)
{
	struct err *err = NULL;
	char *again = NULL;

	CHECK(m->target && normal(m->target) && strcmp(m->target, "/"));
	CHECK(!reserved(m->target) && strlen(m->target) < 4096);
	CHECK(mountspec_target_normalise(m->target, &again, &err) == 0);
	CHECK(!strcmp(again, m->target));
	free(again);
	CHECK(m->relabel == 0 || m->relabel == 'z' || m->relabel == 'Z');
	CHECK((unsigned)m->propagation <= MOUNT_PROP_SHARED);
	check_kv(m->driver_opts);
	check_kv(m->labels);
	switch (m->type) {
	case MOUNT_VOLUME:
		CHECK(!m->source || volume_name_valid(m->source));
		CHECK(m->source || !m->readonly);
		CHECK(!m->create_src && !m->follow_symlink && !m->nonrecursive);
		CHECK(m->propagation == MOUNT_PROP_RPRIVATE);
		CHECK(!m->tmpfs_size && !m->tmpfs_mode && !m->tmpfs_exec && !m->tmpfs_suid);
		break;
	case MOUNT_BIND:
		CHECK(m->source && normal(m->source) && strlen(m->source) < 4096);
		CHECK(!m->nocopy && !m->driver && !m->driver_opts && !m->labels);
		CHECK(!m->tmpfs_size && !m->tmpfs_mode && !m->tmpfs_exec && !m->tmpfs_suid);
		break;
	case MOUNT_TMPFS:
		CHECK(!m->source && !m->nocopy && !m->driver && !m->driver_opts && !m->labels);
		CHECK(!m->create_src && !m->follow_symlink && !m->nonrecursive && !m->relabel);
		CHECK(m->propagation == MOUNT_PROP_RPRIVATE && m->tmpfs_mode <= 07777);
		break;
	default:
		abort();
	}
}

/* Equal in everything --mount can say. */
static bool same(const struct mount_req *a, const struct mount_req *b, bool all)
{
	if (a->type != b->type || !str_eq(a->source, b->source) || !str_eq(a->target, b->target) ||
	    !str_eq(a->driver, b->driver) || !strv_eq(a->driver_opts, b->driver_opts) ||
	    !strv_eq(a->labels, b->labels))
		return false;
	if (a->readonly != b->readonly || a->nocopy != b->nocopy ||
	    a->create_src != b->create_src || a->follow_symlink != b->follow_symlink ||
	    a->nonrecursive != b->nonrecursive || a->propagation != b->propagation ||
	    a->tmpfs_size != b->tmpfs_size || a->tmpfs_mode != b->tmpfs_mode)
		return false;
	return !all || (a->relabel == b->relabel && a->tmpfs_exec == b->tmpfs_exec &&
			a->tmpfs_suid == b->tmpfs_suid);
}

static void check_copy(const struct mount_req *m)
{
	struct mount_req c;
	struct err *err = NULL;

	memset(&c, 0x5a, sizeof(c));
	if (mount_req_copy(m, &c, &err) < 0) {
		CHECK(err);
		check_zero(&c);
		err_free(&err);
		return;
	}
	CHECK(same(m, &c, true));
	CHECK(!m->target || m->target != c.target);
	CHECK(!m->source || m->source != c.source);
	CHECK(!m->driver_opts || m->driver_opts != c.driver_opts);
	CHECK(!m->labels || m->labels != c.labels);
	mount_req_free(&c);
	check_zero(&c);
	mount_req_free(&c);
}

/* A growing text buffer; a write past its end marks it unusable. */
struct text {
	char buf[2 * MOUNTSPEC_MAX_LEN];
	size_t n;
	bool bad; /* cannot be said as one --mount text */
};

static bool edge_space(const char *s)
{
	size_t n = strlen(s);

	return n && (strchr(" \t\n\v\f\r", s[0]) || strchr(" \t\n\v\f\r", s[n - 1]));
}

/* Appends ,"KEY=VALUE" with quotes doubled; VALUE NULL for a bare key. */
static void field(struct text *t, const char *key, const char *val)
{
	const char *parts[2] = {key, val};

	if (t->n + 2 >= sizeof(t->buf) || (val && edge_space(val))) {
		t->bad = true;
		return;
	}
	if (t->n)
		t->buf[t->n++] = ',';
	t->buf[t->n++] = '"';
	for (int k = 0; k < 2 && parts[k]; k++) {
		if (k == 1 && t->n < sizeof(t->buf))
			t->buf[t->n++] = '=';
		for (const char *s = parts[k]; *s; s++) {
			if (t->n + 3 >= sizeof(t->buf)) {
				t->bad = true;
				return;
			}
			if (*s == '"')
				t->buf[t->n++] = '"';
			t->buf[t->n++] = *s;
		}
	}
	if (t->n + 2 >= sizeof(t->buf)) {
		t->bad = true;
		return;
	}
	t->buf[t->n++] = '"';
	t->buf[t->n] = '\0';
}

static void roundtrip(const struct mount_req *m)
{
	static struct text t; /* large: kept off the stack */
	struct mount_req back;
	struct err *err = NULL;
	char num[32];

	t.n = 0;
	t.bad = false;
	t.buf[0] = '\0';
	field(&t, "type", mount_type_name(m->type));
	field(&t, "target", m->target);
	if (m->source)
		field(&t, "source", m->source);
	if (m->readonly)
		field(&t, "readonly", NULL);
	if (m->nocopy)
		field(&t, "volume-nocopy", "true");
	if (m->driver)
		field(&t, "volume-driver", m->driver);
	for (size_t i = 0; m->driver_opts && m->driver_opts[i]; i++)
		field(&t, "volume-opt", m->driver_opts[i]);
	for (size_t i = 0; m->labels && m->labels[i]; i++)
		field(&t, "volume-label", m->labels[i]);
	if (m->type == MOUNT_BIND) {
		field(&t, "bind-propagation", mount_propagation_name(m->propagation));
		field(&t, "bind-nonrecursive", m->nonrecursive ? "1" : "0");
		field(&t, "bind-create-src", m->create_src ? "true" : "false");
		field(&t, "follow-symlink", m->follow_symlink ? "true" : "false");
	}
	if (m->tmpfs_size) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)m->tmpfs_size);
		field(&t, "tmpfs-size", num);
	}
	if (m->tmpfs_mode) {
		snprintf(num, sizeof(num), "%o", (unsigned)m->tmpfs_mode);
		field(&t, "tmpfs-mode", num);
	}
	/* Values with outer spaces are refused by --mount (as by Docker's); a
	 * text past the cap cannot be said in one flag. */
	if (t.bad || edge_space(m->target) || (m->source && edge_space(m->source)) ||
	    t.n > MOUNTSPEC_MAX_LEN)
		return;
	if (mountspec_parse_mount(t.buf, &back, &err) < 0) {
		fprintf(stderr, "round trip refused: %s\n  text: %.500s\n", err->msg, t.buf);
		abort();
	}
	CHECK(same(m, &back, false));
	mount_req_free(&back);
}

static void run_parser(int which, const char *text)
{
	static int (*const fns[])(const char *, struct mount_req *, struct err **) = {
	    mountspec_parse_volume, mountspec_parse_mount, mountspec_parse_tmpfs};
	struct mount_req m;
	struct err *err = NULL;
	int r;

	memset(&m, 0xa5, sizeof(m));
	r = fns[which](text, &m, &err);
	if (r < 0) {
		CHECK(err && err->msg[0] && err->code > 0 && r == -err->code);
		CHECK(memchr(err->msg, '\0', sizeof(err->msg)));
		check_zero(&m);
		err_free(&err);
		return;
	}
	CHECK(r == 0 && !err);
	check_req(&m);
	if (which == 0) /* -v: a volume or a bind, and a bind creates its source */
		CHECK(m.type != MOUNT_TMPFS && (m.type != MOUNT_BIND || m.create_src));
	if (which == 2)
		CHECK(m.type == MOUNT_TMPFS);
	check_copy(&m);
	roundtrip(&m);
	mount_req_free(&m);
	check_zero(&m);
}

static void run_names(const char *text)
{
	struct err *err = NULL;
	char *out = (char *)"junk", *again = NULL;
	enum mount_type t;
	enum mount_propagation p;

	if (mountspec_target_normalise(text, &out, &err) < 0) {
		CHECK(!out && err && err->msg[0]);
		err_free(&err);
	} else {
		CHECK(out && normal(out) && strcmp(out, "/") && !reserved(out));
		CHECK(mountspec_target_normalise(out, &again, &err) == 0 && !strcmp(out, again));
		free(again);
		free(out);
	}
	if (volume_name_valid(text)) {
		char spec[VOLUME_NAME_MAX + 8];
		struct mount_req m;

		CHECK(strlen(text) >= 2 && strlen(text) <= VOLUME_NAME_MAX);
		snprintf(spec, sizeof(spec), "%s:/v", text);
		CHECK(mountspec_parse_volume(spec, &m, &err) == 0);
		CHECK(m.type == MOUNT_VOLUME && !strcmp(m.source, text));
		mount_req_free(&m);
	}
	if (mount_type_from_name(text, &t) == 0)
		CHECK(!strcmp(mount_type_name(t), text));
	if (mount_propagation_from_name(text, &p) == 0)
		CHECK(!strcmp(mount_propagation_name(p), text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	int which;

	if (size == 0)
		return 0;
	which = data[0] % 4;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (which < 3)
		run_parser(which, text);
	else
		run_names(text);
	free(text);
	return 0;
}
