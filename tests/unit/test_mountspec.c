/*
 * tests/unit/test_mountspec.c - volume/mountspec.c: every form of -v,
 * --mount and --tmpfs with every documented default; each refusal
 * (Docker's message where Docker has one, checked by its key part), and
 * that a refusal leaves the output zeroed with a matching error code;
 * Go-csv quoting; sizes and modes at their bounds and past them; the
 * length caps (spec, path, volume name, volume-opt/label counts); target
 * normalisation and the /proc, /sys, /dev rule component by component;
 * volume names; the name tables both ways; and deep copies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "volume/mountspec.h"

/* The limits mountspec.c documents (not exported by the header). */
#define PATH_LIMIT 4096
#define MAX_KV 64

typedef int (*parse_fn)(const char *, struct mount_req *, struct err **);

/*
 * strdup, replaced for this binary so that the out-of-memory paths run:
 * while strdup_budget >= 0 it counts down and then fails. Everything in
 * mountspec.c that copies a string out goes through strdup.
 */
static int strdup_budget = -1;

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (strdup_budget == 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (strdup_budget > 0)
		strdup_budget--;
	p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static const char *fn_name(parse_fn f)
{
	return f == mountspec_parse_volume  ? "-v"
	       : f == mountspec_parse_mount ? "--mount"
					    : "--tmpfs";
}

/* Fills M with junk so that "zeroed on failure" is a real check. */
static void junk(struct mount_req *m)
{
	memset(m, 0xa5, sizeof(*m));
}

static void assert_zero(const struct mount_req *m)
{
	assert_int_equal(m->type, MOUNT_VOLUME);
	assert_null(m->source);
	assert_null(m->target);
	assert_false(m->readonly);
	assert_false(m->nocopy);
	assert_null(m->driver);
	assert_null(m->driver_opts);
	assert_null(m->labels);
	assert_false(m->create_src);
	assert_false(m->follow_symlink);
	assert_false(m->nonrecursive);
	assert_int_equal(m->propagation, MOUNT_PROP_RPRIVATE);
	assert_int_equal(m->relabel, 0);
	assert_int_equal(m->tmpfs_size, 0);
	assert_int_equal(m->tmpfs_mode, 0);
	assert_false(m->tmpfs_exec);
	assert_false(m->tmpfs_suid);
}

static struct mount_req parse_ok(parse_fn f, const char *spec)
{
	struct mount_req m;
	struct err *err = NULL;

	junk(&m);
	if (f(spec, &m, &err) != 0) {
		print_error("%s %.300s: refused: %s\n", fn_name(f), spec,
			    err ? err->msg : "(no error)");
		err_free(&err);
		fail();
	}
	assert_null(err);
	assert_non_null(m.target);
	return m;
}

static void parse_fail(parse_fn f, const char *spec, const char *msg)
{
	struct mount_req m;
	struct err *err = NULL;
	int r;

	junk(&m);
	r = f(spec, &m, &err);
	if (r == 0) {
		print_error("%s %.300s: accepted (target %s)\n", fn_name(f), spec,
			    m.target ? m.target : "-");
		mount_req_free(&m);
		fail();
	}
	assert_non_null(err);
	assert_true(err->code > 0);
	assert_int_equal(r, -err->code);
	if (!strstr(err->msg, msg)) {
		print_error("%s %.300s:\n  want \"%s\"\n  got  \"%s\"\n", fn_name(f), spec, msg,
			    err->msg);
		err_free(&err);
		fail();
	}
	assert_zero(&m);
	err_free(&err);
}

/* A string of N copies of C (caller frees). */
static char *rep(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static char *cat(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c);
	char *s = malloc(n + 1);

	assert_non_null(s);
	snprintf(s, n + 1, "%s%s%s", a, b, c);
	return s;
}

static size_t strv_len(char **v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* ---- -v ---------------------------------------------------------------- */

static void test_volume_anonymous(void **state)
{
	struct mount_req m = parse_ok(mountspec_parse_volume, "/ctr");

	/* Every field but the target keeps its documented default. */
	assert_string_equal(m.target, "/ctr");
	m.target = (free(m.target), NULL);
	assert_zero(&m);
	mount_req_free(&m);
}

static void test_volume_named(void **state)
{
	struct mount_req m = parse_ok(mountspec_parse_volume, "data:/srv/data");

	assert_int_equal(m.type, MOUNT_VOLUME);
	assert_string_equal(m.source, "data");
	assert_string_equal(m.target, "/srv/data");
	assert_false(m.readonly);
	assert_false(m.nocopy);
	assert_null(m.driver);
	assert_null(m.driver_opts);
	assert_null(m.labels);
	assert_false(m.create_src);
	assert_false(m.follow_symlink);
	assert_false(m.nonrecursive);
	assert_int_equal(m.propagation, MOUNT_PROP_RPRIVATE);
	assert_int_equal(m.relabel, 0);
	assert_int_equal(m.tmpfs_size, 0);
	assert_int_equal(m.tmpfs_mode, 0);
	assert_false(m.tmpfs_exec);
	assert_false(m.tmpfs_suid);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_volume, "my_vol.1-x:/d:ro");
	assert_int_equal(m.type, MOUNT_VOLUME);
	assert_string_equal(m.source, "my_vol.1-x");
	assert_true(m.readonly);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_volume, "data:/d:nocopy,ro,z");
	assert_true(m.nocopy);
	assert_true(m.readonly);
	assert_int_equal(m.relabel, 'z');
	assert_false(m.create_src);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_volume, "data:/d:rw,Z,delegated");
	assert_false(m.readonly);
	assert_false(m.nocopy);
	assert_int_equal(m.relabel, 'Z');
	mount_req_free(&m);
}

static void test_volume_bind(void **state)
{
	static const struct {
		const char *mode;
		enum mount_propagation p;
	} props[] = {
	    {"private", MOUNT_PROP_PRIVATE}, {"rprivate", MOUNT_PROP_RPRIVATE},
	    {"slave", MOUNT_PROP_SLAVE},     {"rslave", MOUNT_PROP_RSLAVE},
	    {"shared", MOUNT_PROP_SHARED},   {"rshared", MOUNT_PROP_RSHARED},
	};
	struct mount_req m = parse_ok(mountspec_parse_volume, "/host/dir:/ctr");

	assert_int_equal(m.type, MOUNT_BIND);
	assert_string_equal(m.source, "/host/dir");
	assert_string_equal(m.target, "/ctr");
	assert_true(m.create_src); /* -v creates a missing source, as Docker's */
	assert_false(m.readonly);
	assert_false(m.follow_symlink);
	assert_false(m.nonrecursive);
	assert_false(m.nocopy);
	assert_null(m.driver);
	assert_null(m.driver_opts);
	assert_null(m.labels);
	assert_int_equal(m.propagation, MOUNT_PROP_RPRIVATE);
	assert_int_equal(m.relabel, 0);
	assert_int_equal(m.tmpfs_size, 0);
	assert_int_equal(m.tmpfs_mode, 0);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_volume, "/h:/c:rw,rshared,Z,follow-symlink");
	assert_int_equal(m.type, MOUNT_BIND);
	assert_false(m.readonly);
	assert_int_equal(m.propagation, MOUNT_PROP_RSHARED);
	assert_int_equal(m.relabel, 'Z');
	assert_true(m.follow_symlink);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_volume, "/h:/c:ro,cached");
	assert_true(m.readonly);
	assert_false(m.follow_symlink);
	mount_req_free(&m);

	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		char spec[64];

		snprintf(spec, sizeof(spec), "/h:/c:%s", props[i].mode);
		m = parse_ok(mountspec_parse_volume, spec);
		assert_int_equal(m.propagation, props[i].p);
		mount_req_free(&m);
	}

	/* Docker binds "/" if asked; the tenant policy decides, not the parser. */
	m = parse_ok(mountspec_parse_volume, "/:/host");
	assert_string_equal(m.source, "/");
	mount_req_free(&m);
	m = parse_ok(mountspec_parse_volume, "//./:/host");
	assert_string_equal(m.source, "/");
	mount_req_free(&m);
	/* Sources under /proc etc. are the policy's business too. */
	m = parse_ok(mountspec_parse_volume, "/proc/cpuinfo:/x/cpuinfo:ro");
	assert_string_equal(m.source, "/proc/cpuinfo");
	mount_req_free(&m);

	/* Both paths are normalised. */
	m = parse_ok(mountspec_parse_volume, "//h//./x/:/c//d/./");
	assert_string_equal(m.source, "/h/x");
	assert_string_equal(m.target, "/c/d");
	mount_req_free(&m);
}

static void test_volume_errors(void **state)
{
	static const struct {
		const char *spec, *msg;
	} t[] = {
	    {"", "invalid volume specification: ''"},
	    {":/x", "invalid volume specification: ':/x'"},
	    {"/a::ro", "invalid volume specification: '/a::ro'"},
	    {"/a:/b:", "invalid volume specification: '/a:/b:'"},
	    {"/a:", "invalid volume specification: '/a:'"},
	    {"a:b:c:d", "invalid volume specification: 'a:b:c:d'"},
	    {"/a:/b:ro:x", "invalid volume specification: '/a:/b:ro:x'"},
	    {"/a:/b:ro:", "invalid volume specification"},
	    /* a target with a mode is not SRC:DST */
	    {"/foo:ro", "invalid volume specification: '/foo:ro'"},
	    {"/foo:rw", "invalid volume specification: '/foo:rw'"},
	    {"/foo:z", "invalid volume specification: '/foo:z'"},
	    {"/foo:nocopy", "invalid volume specification: '/foo:nocopy'"},
	    {"./data:/x",
	     "\"./data\" includes invalid characters for a local volume name, only "
	     "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
	     "directory, use absolute path"},
	    {"~/x:/x", "\"~/x\" includes invalid characters for a local volume name"},
	    {"_ab:/x", "\"_ab\" includes invalid characters"},
	    {"a b:/x", "\"a b\" includes invalid characters"},
	    {"a:/x", "volume name \"a\" is too short, names should be at least two alphanumeric"},
	    {".:/x", "is too short"},
	    {"data:rel", "invalid mount path: 'rel' mount path must be absolute"},
	    {"rel", "invalid mount path: 'rel' mount path must be absolute"},
	    {"/a:/b:ro,rw", "invalid mode: ro,rw"},
	    {"/a:/b:ro,ro", "invalid mode: ro,ro"},
	    {"/a:/b:shared,slave", "invalid mode: shared,slave"},
	    {"/a:/b:rshared,rshared", "invalid mode: rshared,rshared"},
	    {"/a:/b:z,Z", "invalid mode: z,Z"},
	    {"data:/b:nocopy,nocopy", "invalid mode: nocopy,nocopy"},
	    {"/a:/b:follow-symlink,follow-symlink", "invalid mode"},
	    {"/a:/b:cached,delegated", "invalid mode: cached,delegated"},
	    {"/a:/b:foo", "invalid mode: foo"},
	    {"/a:/b:RO", "invalid mode: RO"},
	    {"/a:/b:ro,", "invalid mode: ro, (empty option)"},
	    {"/a:/b:,ro", "invalid mode: ,ro"},
	    {"/a:/b:ro,,z", "invalid mode"},
	    {"/a:/b: ro", "invalid mode"},
	    {"/a:/b:nocopy",
	     "invalid volume specification: '/a:/b:nocopy': invalid mount config for type "
	     "\"bind\": field VolumeOptions must not be specified"},
	    {"data:/b:shared",
	     "invalid volume specification: 'data:/b:shared': invalid mount config for type "
	     "\"volume\": field BindOptions must not be specified"},
	    {"data:/b:follow-symlink", "follow-symlink applies to bind mounts only"},
	    {"/a/../b:/c", "-v: host path \"/a/../b\" has a \"..\" component"},
	    {"/..:/c", "\"..\" component"},
	    {"/a:/b/../c", "-v: container path \"/b/../c\" has a \"..\" component"},
	    {"/a:/b/..", "\"..\" component"},
	    {"/a:/", "invalid specification: destination can't be '/'"},
	    {"/a:/./", "destination can't be '/'"},
	    {"/a://", "destination can't be '/'"},
	    {"/", "destination can't be '/'"},
	    {"/a:/proc", "is at or under /proc"},
	    {"/a:/proc/sys", "is at or under /proc"},
	    {"data:/sys", "is at or under /sys"},
	    {"data:/sys/fs/cgroup", "is at or under /sys"},
	    {"/dev", "is at or under /dev"},
	    {"/a:/dev/shm", "is at or under /dev"},
	    {"/a://dev/./shm/", "\"/dev/shm\" is at or under /dev"},
	    {"/a:/./proc/", "is at or under /proc"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		parse_fail(mountspec_parse_volume, t[i].spec, t[i].msg);
}

static void test_volume_reserved_componentwise(void **state)
{
	static const char *const ok[] = {"/devices", "/dev2/x", "/proc2",  "/procfs",
					 "/sysroot", "/system", "/a/proc", "/a/dev/shm",
					 "/srv/sys", "/.dev",	"/dev.d",  "/DEV"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char spec[64];
		struct mount_req m;

		snprintf(spec, sizeof(spec), "vol:%s", ok[i]);
		m = parse_ok(mountspec_parse_volume, spec);
		assert_string_equal(m.target, ok[i]);
		mount_req_free(&m);
	}
}

static void test_volume_limits(void **state)
{
	char *name128 = rep('n', 128), *name129 = rep('n', 129);
	char *p4094 = rep('p', 4094), *p4095 = rep('p', 4095);
	char *spec;
	struct mount_req m;

	/* volume names: 128 bytes at most */
	spec = cat(name128, ":", "/x");
	m = parse_ok(mountspec_parse_volume, spec);
	assert_string_equal(m.source, name128);
	mount_req_free(&m);
	free(spec);
	spec = cat(name129, ":", "/x");
	parse_fail(mountspec_parse_volume, spec, "is longer than 128 bytes");
	free(spec);

	/* paths: 4095 bytes ("/" + 4094) fit PATH_MAX, 4096 do not */
	spec = cat("/", p4094, ":/x");
	m = parse_ok(mountspec_parse_volume, spec);
	assert_int_equal(strlen(m.source), PATH_LIMIT - 1);
	mount_req_free(&m);
	free(spec);
	spec = cat("/", p4095, ":/x");
	parse_fail(mountspec_parse_volume, spec, "-v: host path \"/ppp");
	parse_fail(mountspec_parse_volume, spec, "is longer than 4095 bytes");
	free(spec);
	spec = cat("/x:/", p4094, "");
	m = parse_ok(mountspec_parse_volume, spec);
	assert_int_equal(strlen(m.target), PATH_LIMIT - 1);
	mount_req_free(&m);
	free(spec);
	spec = cat("/x:/", p4095, "");
	parse_fail(mountspec_parse_volume, spec, "-v: container path");
	free(spec);
	/* the cap is on the text given, before normalisation */
	spec = cat("/x:/", p4094, "/");
	parse_fail(mountspec_parse_volume, spec, "longer than 4095 bytes");
	free(spec);

	/* the whole specification: MOUNTSPEC_MAX_LEN, checked before copying */
	spec = rep('/', MOUNTSPEC_MAX_LEN + 1);
	parse_fail(mountspec_parse_volume, spec, "-v: specification is longer than 8192 bytes");
	parse_fail(mountspec_parse_tmpfs, spec, "--tmpfs: specification is longer than 8192");
	parse_fail(mountspec_parse_mount, spec, "--mount: specification is longer than 8192");
	free(spec);

	free(name128);
	free(name129);
	free(p4094);
	free(p4095);
}

static void test_null_arguments(void **state)
{
	struct mount_req m;
	struct err *err = NULL;
	char *out = (char *)"junk";

	parse_fail(mountspec_parse_volume, NULL, "-v: no specification");
	parse_fail(mountspec_parse_mount, NULL, "--mount: no specification");
	parse_fail(mountspec_parse_tmpfs, NULL, "--tmpfs: no specification");
	assert_int_equal(mountspec_parse_volume("/x", NULL, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(mountspec_parse_mount("target=/x", NULL, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(mountspec_parse_tmpfs("/x", NULL, &err), -EINVAL);
	err_free(&err);
	assert_int_equal(mountspec_target_normalise(NULL, &out, &err), -EINVAL);
	assert_null(out);
	err_free(&err);
	assert_int_equal(mountspec_target_normalise("/x", NULL, &err), -EINVAL);
	err_free(&err);
	/* A NULL err is allowed: the code still comes back. */
	junk(&m);
	assert_int_equal(mountspec_parse_volume("/a:/b:foo", &m, NULL), -EINVAL);
	assert_zero(&m);
}

/* ---- --mount ----------------------------------------------------------- */

static void test_mount_anonymous(void **state)
{
	struct mount_req m = parse_ok(mountspec_parse_mount, "target=/v");

	assert_string_equal(m.target, "/v");
	m.target = (free(m.target), NULL);
	assert_zero(&m);
	mount_req_free(&m);

	/* trimmed as a whole, like Docker's strings.TrimSpace */
	m = parse_ok(mountspec_parse_mount, " \t type=volume,dst=/v \n");
	assert_string_equal(m.target, "/v");
	assert_null(m.source);
	mount_req_free(&m);
	m = parse_ok(mountspec_parse_mount, "destination=/v,consistency=cached");
	assert_string_equal(m.target, "/v");
	mount_req_free(&m);
	/* an anonymous volume can have a driver and options */
	m = parse_ok(mountspec_parse_mount, "target=/v,volume-driver=local,volume-opt=a=b");
	assert_null(m.source);
	assert_string_equal(m.driver, "local");
	assert_int_equal(strv_len(m.driver_opts), 1);
	mount_req_free(&m);
}

static void test_mount_volume(void **state)
{
	struct mount_req m = parse_ok(
	    mountspec_parse_mount,
	    "type=volume,source=myvol,target=/v,volume-nocopy,volume-driver=vieux/sshfs:latest,"
	    "volume-opt=type=nfs,\"volume-opt=o=addr=10.0.0.1,rw\",volume-label=a=b,volume-label=c="
	    ","
	    "readonly=1");

	assert_int_equal(m.type, MOUNT_VOLUME);
	assert_string_equal(m.source, "myvol");
	assert_string_equal(m.target, "/v");
	assert_true(m.readonly);
	assert_true(m.nocopy);
	assert_string_equal(m.driver, "vieux/sshfs:latest");
	assert_int_equal(strv_len(m.driver_opts), 2);
	assert_string_equal(m.driver_opts[0], "type=nfs");
	assert_string_equal(m.driver_opts[1], "o=addr=10.0.0.1,rw");
	assert_int_equal(strv_len(m.labels), 2);
	assert_string_equal(m.labels[0], "a=b");
	assert_string_equal(m.labels[1], "c=");
	assert_false(m.create_src);
	assert_false(m.follow_symlink);
	assert_false(m.nonrecursive);
	assert_int_equal(m.propagation, MOUNT_PROP_RPRIVATE);
	assert_int_equal(m.relabel, 0);
	assert_int_equal(m.tmpfs_size, 0);
	assert_int_equal(m.tmpfs_mode, 0);
	mount_req_free(&m);

	/* the default type is volume; src= spelling; a repeated key replaces */
	m = parse_ok(
	    mountspec_parse_mount,
	    "src=v1,dst=/v,volume-opt=a=1,volume-opt=b=2,volume-opt=a=3,volume-nocopy=false,"
	    "volume-label=k=1,volume-label=k=2");
	assert_int_equal(m.type, MOUNT_VOLUME);
	assert_false(m.nocopy);
	assert_int_equal(strv_len(m.driver_opts), 2);
	assert_string_equal(m.driver_opts[0], "a=3");
	assert_string_equal(m.driver_opts[1], "b=2");
	assert_int_equal(strv_len(m.labels), 1);
	assert_string_equal(m.labels[0], "k=2");
	mount_req_free(&m);

	/* a key that is a prefix of another is not the same key */
	m = parse_ok(mountspec_parse_mount, "target=/v,volume-opt=ab=1,volume-opt=a=2");
	assert_int_equal(strv_len(m.driver_opts), 2);
	mount_req_free(&m);

	/* later scalar keys win, as in Docker */
	m = parse_ok(mountspec_parse_mount, "type=bind,type=volume,source=a1,source=b2,target=/x,"
					    "target=/y,ro=true,ro=false");
	assert_int_equal(m.type, MOUNT_VOLUME);
	assert_string_equal(m.source, "b2");
	assert_string_equal(m.target, "/y");
	assert_false(m.readonly);
	mount_req_free(&m);
}

static void test_mount_bind(void **state)
{
	struct mount_req m = parse_ok(mountspec_parse_mount, "type=bind,source=/a,target=/b");

	assert_int_equal(m.type, MOUNT_BIND);
	assert_string_equal(m.source, "/a");
	assert_string_equal(m.target, "/b");
	assert_false(m.create_src); /* --mount does not create unless asked */
	assert_false(m.follow_symlink);
	assert_false(m.nonrecursive);
	assert_false(m.readonly);
	assert_int_equal(m.propagation, MOUNT_PROP_RPRIVATE);
	assert_int_equal(m.relabel, 0);
	assert_false(m.nocopy);
	assert_null(m.driver);
	assert_null(m.driver_opts);
	assert_null(m.labels);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_mount,
		     "type=bind,src=/a,dst=/b,readonly,bind-propagation=rslave,bind-nonrecursive,"
		     "bind-create-src,follow-symlink");
	assert_true(m.readonly);
	assert_int_equal(m.propagation, MOUNT_PROP_RSLAVE);
	assert_true(m.nonrecursive);
	assert_true(m.create_src);
	assert_true(m.follow_symlink);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_mount,
		     "type=bind,src=/a,destination=/b,ro=false,bind-nonrecursive=0,"
		     "bind-create-src=1,follow-symlink=true");
	assert_false(m.readonly);
	assert_false(m.nonrecursive);
	assert_true(m.create_src);
	assert_true(m.follow_symlink);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_mount,
		     "type=bind,src=/a,target=/b,follow-symlink=0,bind-create-src=false");
	assert_false(m.follow_symlink);
	assert_false(m.create_src);
	mount_req_free(&m);

	/* keys, the type and the propagation are case-insensitive (Docker) */
	m = parse_ok(mountspec_parse_mount,
		     "Type=BIND,Source=/a,TARGET=/b,Bind-Propagation=SHARED");
	assert_int_equal(m.type, MOUNT_BIND);
	assert_int_equal(m.propagation, MOUNT_PROP_SHARED);
	mount_req_free(&m);

	/* current Docker's spelling of bind-nonrecursive */
	m = parse_ok(mountspec_parse_mount, "type=bind,src=/a,target=/b,bind-recursive=disabled");
	assert_true(m.nonrecursive);
	mount_req_free(&m);
	m = parse_ok(mountspec_parse_mount, "type=bind,src=/a,target=/b,bind-recursive=enabled");
	assert_false(m.nonrecursive);
	mount_req_free(&m);

	/* paths are normalised; a bind of "/" is the policy's business */
	m = parse_ok(mountspec_parse_mount, "type=bind,src=//a/./b/,target=/c//d/");
	assert_string_equal(m.source, "/a/b");
	assert_string_equal(m.target, "/c/d");
	mount_req_free(&m);
	m = parse_ok(mountspec_parse_mount, "type=bind,src=/,target=/host");
	assert_string_equal(m.source, "/");
	mount_req_free(&m);
}

static void test_mount_tmpfs(void **state)
{
	struct mount_req m = parse_ok(mountspec_parse_mount, "type=tmpfs,target=/t");

	assert_int_equal(m.type, MOUNT_TMPFS);
	assert_null(m.source);
	assert_string_equal(m.target, "/t");
	assert_int_equal(m.tmpfs_size, 0);
	assert_int_equal(m.tmpfs_mode, 0);
	assert_false(m.tmpfs_exec); /* noexec, nosuid by default */
	assert_false(m.tmpfs_suid);
	assert_false(m.readonly);
	assert_null(m.driver);
	assert_null(m.driver_opts);
	assert_null(m.labels);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_mount,
		     "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770,ro");
	assert_int_equal(m.tmpfs_size, 64ull << 20);
	assert_int_equal(m.tmpfs_mode, 01770);
	assert_true(m.readonly);
	assert_false(m.tmpfs_exec);
	mount_req_free(&m);
}

static void test_mount_quoting(void **state)
{
	struct mount_req m;

	/* a quoted field may hold a comma */
	m = parse_ok(mountspec_parse_mount, "type=bind,\"source=/a,b\",target=/c");
	assert_string_equal(m.source, "/a,b");
	mount_req_free(&m);
	/* "" inside quotes is one quote */
	m = parse_ok(mountspec_parse_mount, "type=bind,\"source=/a\"\"q\",target=/c");
	assert_string_equal(m.source, "/a\"q");
	mount_req_free(&m);
	/* the last field quoted; a fully quoted plain field */
	m = parse_ok(mountspec_parse_mount, "\"type=bind\",source=/a,\"target=/c d,e\"");
	assert_string_equal(m.target, "/c d,e");
	mount_req_free(&m);
	/* a volume-opt value with commas */
	m = parse_ok(mountspec_parse_mount, "target=/v,\"volume-opt=o=addr=1.2.3.4,rw,nfsvers=4\"");
	assert_string_equal(m.driver_opts[0], "o=addr=1.2.3.4,rw,nfsvers=4");
	mount_req_free(&m);
	/* a line break inside quotes is part of the field */
	m = parse_ok(mountspec_parse_mount, "type=bind,\"source=/a\nb\",target=/c");
	assert_string_equal(m.source, "/a\nb");
	mount_req_free(&m);
}

static void test_mount_sizes_modes(void **state)
{
	static const struct {
		const char *v;
		uint64_t want;
	} sizes[] = {
	    {"0", 0},
	    {"1", 1},
	    {"512b", 512},
	    {"1k", 1024},
	    {"1K", 1024},
	    {"1kb", 1024},
	    {"1KB", 1024},
	    {"1KiB", 1024},
	    {"64m", 64ull << 20},
	    {"64MB", 64ull << 20},
	    {"1g", 1ull << 30},
	    {"2GB", 2ull << 30},
	    {"1t", 1ull << 40},
	    {"1p", 1ull << 50},
	    {"000123", 123},
	    {"17179869183g", 17179869183ull << 30},
	    {"18446744073709551615", UINT64_MAX},
	};
	static const char *const bad_sizes[] = {
	    "1.5g",
	    "-1",
	    "1x",
	    "k",
	    "1kk",
	    "1gb5",
	    "1 g",
	    "0x10",
	    "18446744073709551616",
	    "17179869184g",
	    "16384p",
	    "1bi",
	    "1ib",
	    "99999999999999999999999",
	};
	static const struct {
		const char *v;
		uint32_t want;
	} modes[] = {
	    {"0", 0}, {"755", 0755}, {"1777", 01777}, {"07777", 07777}, {"0000001777", 01777},
	};
	static const char *const bad_modes[] = {
	    "17777", "8", "0x1ff", "-1", "755a", "0o755", "99999999999999999999"};
	struct mount_req m;
	char spec[128];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(spec, sizeof(spec), "type=tmpfs,target=/t,tmpfs-size=%s", sizes[i].v);
		m = parse_ok(mountspec_parse_mount, spec);
		assert_int_equal(m.tmpfs_size, sizes[i].want);
		mount_req_free(&m);
		snprintf(spec, sizeof(spec), "/t:size=%s", sizes[i].v);
		m = parse_ok(mountspec_parse_tmpfs, spec);
		assert_int_equal(m.tmpfs_size, sizes[i].want);
		mount_req_free(&m);
	}
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		char want[96];

		snprintf(spec, sizeof(spec), "type=tmpfs,target=/t,\"tmpfs-size=%s\"",
			 bad_sizes[i]);
		snprintf(want, sizeof(want), "invalid value for tmpfs-size: %s", bad_sizes[i]);
		parse_fail(mountspec_parse_mount, spec, want);
		snprintf(spec, sizeof(spec), "/t:size=%s", bad_sizes[i]);
		snprintf(want, sizeof(want), "--tmpfs: invalid size '%s'", bad_sizes[i]);
		parse_fail(mountspec_parse_tmpfs, spec, want);
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(spec, sizeof(spec), "type=tmpfs,target=/t,tmpfs-mode=%s", modes[i].v);
		m = parse_ok(mountspec_parse_mount, spec);
		assert_int_equal(m.tmpfs_mode, modes[i].want);
		mount_req_free(&m);
		snprintf(spec, sizeof(spec), "/t:mode=%s", modes[i].v);
		m = parse_ok(mountspec_parse_tmpfs, spec);
		assert_int_equal(m.tmpfs_mode, modes[i].want);
		mount_req_free(&m);
	}
	for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		char want[96];

		snprintf(spec, sizeof(spec), "type=tmpfs,target=/t,tmpfs-mode=%s", bad_modes[i]);
		snprintf(want, sizeof(want), "invalid value for tmpfs-mode: %s", bad_modes[i]);
		parse_fail(mountspec_parse_mount, spec, want);
		snprintf(spec, sizeof(spec), "/t:mode=%s", bad_modes[i]);
		snprintf(want, sizeof(want), "--tmpfs: invalid mode '%s'", bad_modes[i]);
		parse_fail(mountspec_parse_tmpfs, spec, want);
	}
}

static void test_mount_errors(void **state)
{
	static const struct {
		const char *spec, *msg;
	} t[] = {
	    {"", "value is empty"},
	    {" \t\n", "value is empty"},
	    {"type=bind,source=/a", "target is required"},
	    {"source=v1", "target is required"},
	    {"type=tmpfs", "target is required"},
	    {"foo=bar,target=/x", "unexpected key 'foo' in 'foo=bar'"},
	    {"target=/x,FOO=bar", "unexpected key 'foo' in 'FOO=bar'"},
	    {"target=/x,volume-subpath=a", "unexpected key 'volume-subpath'"},
	    {"target=/x,averyveryveryveryveryverylongkeyname=1", "unexpected key 'averyvery"},
	    {"=v,target=/x", "unexpected key '' in '=v'"},
	    {"target=/x,foo", "invalid field 'foo' must be a key=value pair"},
	    {"target=/x,type", "invalid field 'type' must be a key=value pair"},
	    {"target=/x,bind-propagation", "invalid field 'bind-propagation' must be a key=value"},
	    {"target=/x,averyveryveryveryveryverylongkeyname", "invalid field 'averyvery"},
	    {"target=/x,", "invalid field '' must be a key=value pair"},
	    {",target=/x", "invalid field '' must be a key=value pair"},
	    {"target=/x,,type=volume", "invalid field ''"},
	    {"type=volume,target=/x,bind-propagation=shared",
	     "cannot mix 'bind-*' options with mount type 'volume'"},
	    {"bind-create-src,target=/x", "cannot mix 'bind-*' options with mount type 'volume'"},
	    {"type=tmpfs,target=/x,bind-nonrecursive",
	     "cannot mix 'bind-*' options with mount type "
	     "'tmpfs'"},
	    {"type=tmpfs,target=/x,volume-nocopy",
	     "cannot mix 'volume-*' options with mount type 'tmpfs'"},
	    {"type=bind,src=/a,target=/x,volume-label=a=b",
	     "cannot mix 'volume-*' options with mount type 'bind'"},
	    {"type=bind,source=/a,target=/x,tmpfs-size=1m",
	     "cannot mix 'tmpfs-*' options with mount type 'bind'"},
	    {"target=/x,tmpfs-mode=700", "cannot mix 'tmpfs-*' options with mount type 'volume'"},
	    {"target=/x,follow-symlink", "cannot mix 'follow-symlink' with mount type 'volume'"},
	    {"type=tmpfs,target=/x,follow-symlink=false", "cannot mix 'follow-symlink'"},
	    {"type=tmpfs,source=/a,target=/x", "source is not supported for tmpfs mounts"},
	    {"type=tmpfs,source=v1,target=/x", "source is not supported for tmpfs mounts"},
	    {"type=bind,target=/x",
	     "invalid mount config for type \"bind\": field Source must not be empty"},
	    {"type=bind,source=./data,target=/x",
	     "invalid mount path: './data' mount path must be absolute"},
	    {"type=bind,source=data,target=/x", "invalid mount path: 'data' mount path must be"},
	    {"type=foo,target=/x", "invalid mount config for type \"foo\": mount type unknown"},
	    {"type=npipe,target=/x", "mount type unknown"},
	    {"type=averyveryverylongtypename,target=/x", "mount type unknown"},
	    {"target=/x,readonly", "must not set ReadOnly mode when using anonymous volumes"},
	    {"target=/x,ro=1", "must not set ReadOnly mode when using anonymous volumes"},
	    {"source=v1,target=/x,readonly=yes",
	     "invalid value for 'readonly': invalid boolean value (\"yes\"): must be one of"},
	    {"source=v1,target=/x,ro=TRUE", "invalid value for 'ro': invalid boolean value"},
	    {"source=v1,target=/x,ro=t", "invalid boolean value"},
	    {"source=v1,target=/x,volume-nocopy=2",
	     "invalid value for 'volume-nocopy': invalid boolean"},
	    {"type=bind,src=/a,target=/x,bind-nonrecursive=no", "invalid value for "
								"'bind-nonrecursive'"},
	    {"type=bind,src=/a,target=/x,bind-create-src=on",
	     "invalid value for 'bind-create-src'"},
	    {"type=bind,src=/a,target=/x,follow-symlink=y", "invalid value for 'follow-symlink'"},
	    {"type=bind,source=/a,target=/x,bind-propagation=bogus",
	     "invalid mount config for type \"bind\": invalid propagation mode: bogus"},
	    {"type=bind,source=/a,target=/x,bind-propagation=averyveryverylongpropagation",
	     "invalid propagation mode"},
	    {"type=bind,source=/a,target=/x,bind-recursive=writable",
	     "--mount: bind-recursive=writable is not supported"},
	    {"type=bind,source=/a,target=/x,bind-recursive=readonly", "is not supported"},
	    {"type=bind,source=/a,target=/x,bind-recursive=maybe",
	     "invalid value for bind-recursive: maybe"},
	    {"target=/x,volume-opt=novalue", "--mount: invalid volume-opt 'novalue'"},
	    {"target=/x,volume-opt==v", "--mount: invalid volume-opt '=v': expected KEY=VALUE with "
					"a non-empty KEY"},
	    {"target=/x,volume-label=x", "--mount: invalid volume-label 'x'"},
	    {"target=/x,volume-label==", "--mount: invalid volume-label '='"},
	    {"target=/x,volume-driver=../x", "--mount: invalid volume-driver '../x'"},
	    {"target=/x,volume-driver=a/../b", "--mount: invalid volume-driver"},
	    {"target=/x,volume-driver=-x", "--mount: invalid volume-driver"},
	    {"target=/x,volume-driver=a b", "--mount: invalid volume-driver"},
	    {"\"source=/a,target=/x", "extraneous or missing \" in quoted-field"},
	    {"type=bind,source=/a\"b,target=/x", "bare \" in non-quoted-field"},
	    {"type=bind,source=\"/a\",target=/x", "bare \" in non-quoted-field"},
	    {"\"type=bind\"x,target=/x", "extraneous or missing \" in quoted-field"},
	    {"\"type=bind\" ,target=/x", "extraneous or missing \" in quoted-field"},
	    {"type=bind,\"src=/a\"\"", "extraneous or missing \" in quoted-field"},
	    {"target=/x\ntype=bind", "--mount: line break in the specification"},
	    {"target=/x\rtype=bind", "line break"},
	    {"type=volume, src=v1,target=/x",
	     "invalid option 'src' in ' src=v1': option should not have whitespace"},
	    {"type=volume,src =v1,target=/x",
	     "invalid option 'src' in 'src =v1': option should not have whitespace"},
	    {"type=volume,target=/x,\tro", "option should not have whitespace"},
	    {"type=volume,src=,target=/x", "invalid value for 'src': value is empty"},
	    {"type=volume,src=  ,target=/x", "invalid value for 'src': value is empty"},
	    {"type=volume,src= v1,target=/x",
	     "invalid value for 'src' in 'src= v1': value should not have whitespace"},
	    {"type=volume,src=v1 ,target=/x", "value should not have whitespace"},
	    {"target=/", "invalid specification: destination can't be '/'"},
	    {"target=/.", "destination can't be '/'"},
	    {"target=/proc/1", "--mount: mount target \"/proc/1\" is at or under /proc"},
	    {"target=/sys", "is at or under /sys"},
	    {"type=tmpfs,target=/dev/shm", "is at or under /dev"},
	    {"target=/x/../y", "--mount: container path \"/x/../y\" has a \"..\" component"},
	    {"type=bind,source=/a/../b,target=/x", "--mount: host path \"/a/../b\" has a \"..\""},
	    {"target=x", "invalid mount path: 'x' mount path must be absolute"},
	    {"source=./v,target=/x", "\"./v\" includes invalid characters for a local volume name"},
	    {"source=/abs,target=/x", "\"/abs\" includes invalid characters for a local volume"},
	    {"source=a,target=/x", "is too short"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		parse_fail(mountspec_parse_mount, t[i].spec, t[i].msg);
}

static void test_mount_limits(void **state)
{
	char buf[MOUNTSPEC_MAX_LEN + 64];
	char *pad;
	struct mount_req m;
	size_t n;

	/* 64 distinct volume-opt and 64 volume-label entries; the 65th is refused */
	for (int which = 0; which < 2; which++) {
		const char *key = which ? "volume-label" : "volume-opt";

		n = (size_t)snprintf(buf, sizeof(buf), "target=/v");
		for (int i = 0; i < MAX_KV; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",%s=k%d=v", key, i);
		m = parse_ok(mountspec_parse_mount, buf);
		assert_int_equal(strv_len(which ? m.labels : m.driver_opts), MAX_KV);
		assert_string_equal((which ? m.labels : m.driver_opts)[MAX_KV - 1], "k63=v");
		mount_req_free(&m);
		/* repeating a key does not count twice */
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, ",%s=k0=again", key);
		m = parse_ok(mountspec_parse_mount, buf);
		assert_string_equal((which ? m.labels : m.driver_opts)[0], "k0=again");
		mount_req_free(&m);
		snprintf(buf + n, sizeof(buf) - n, ",%s=k64=v", key);
		parse_fail(mountspec_parse_mount, buf,
			   which ? "--mount: more than 64 volume-label"
				 : "--mount: more than 64 volume-opt");
	}

	/* exactly MOUNTSPEC_MAX_LEN bytes is accepted, one more is not */
	n = strlen("target=/v,volume-opt=a=");
	pad = rep('x', MOUNTSPEC_MAX_LEN - n);
	snprintf(buf, sizeof(buf), "target=/v,volume-opt=a=%s", pad);
	assert_int_equal(strlen(buf), MOUNTSPEC_MAX_LEN);
	m = parse_ok(mountspec_parse_mount, buf);
	assert_int_equal(strlen(m.driver_opts[0]), MOUNTSPEC_MAX_LEN - n + 2);
	mount_req_free(&m);
	snprintf(buf, sizeof(buf), "target=/v,volume-opt=a=%sx", pad);
	parse_fail(mountspec_parse_mount, buf, "specification is longer than 8192 bytes");
	free(pad);

	/* paths in --mount: 4095 bytes at most */
	pad = rep('p', PATH_LIMIT - 2);
	snprintf(buf, sizeof(buf), "type=bind,source=/%s,target=/x", pad);
	m = parse_ok(mountspec_parse_mount, buf);
	assert_int_equal(strlen(m.source), PATH_LIMIT - 1);
	mount_req_free(&m);
	snprintf(buf, sizeof(buf), "type=bind,source=/x,target=/%s", pad);
	m = parse_ok(mountspec_parse_mount, buf);
	assert_int_equal(strlen(m.target), PATH_LIMIT - 1);
	mount_req_free(&m);
	snprintf(buf, sizeof(buf), "type=bind,source=/%sp,target=/x", pad);
	parse_fail(mountspec_parse_mount, buf, "--mount: host path");
	snprintf(buf, sizeof(buf), "type=bind,source=/x,target=/%sp", pad);
	parse_fail(mountspec_parse_mount, buf, "--mount: container path");
	free(pad);
}

/* ---- --tmpfs ----------------------------------------------------------- */

static void test_tmpfs_forms(void **state)
{
	struct mount_req m = parse_ok(mountspec_parse_tmpfs, "/run");

	assert_int_equal(m.type, MOUNT_TMPFS);
	assert_string_equal(m.target, "/run");
	assert_null(m.source);
	assert_false(m.readonly);
	assert_false(m.tmpfs_exec); /* noexec, nosuid by default */
	assert_false(m.tmpfs_suid);
	assert_int_equal(m.tmpfs_size, 0);
	assert_int_equal(m.tmpfs_mode, 0);
	assert_null(m.driver);
	assert_null(m.driver_opts);
	assert_null(m.labels);
	assert_false(m.nocopy);
	assert_false(m.create_src);
	assert_false(m.follow_symlink);
	assert_false(m.nonrecursive);
	assert_int_equal(m.propagation, MOUNT_PROP_RPRIVATE);
	assert_int_equal(m.relabel, 0);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_tmpfs, "/run:size=64m,mode=1777,ro,exec,suid,nodev");
	assert_int_equal(m.tmpfs_size, 64ull << 20);
	assert_int_equal(m.tmpfs_mode, 01777);
	assert_true(m.readonly);
	assert_true(m.tmpfs_exec);
	assert_true(m.tmpfs_suid);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_tmpfs, "/run:rw,noexec,nosuid");
	assert_false(m.readonly);
	assert_false(m.tmpfs_exec);
	assert_false(m.tmpfs_suid);
	mount_req_free(&m);

	m = parse_ok(mountspec_parse_tmpfs, "//run/./x/");
	assert_string_equal(m.target, "/run/x");
	mount_req_free(&m);
}

static void test_tmpfs_errors(void **state)
{
	static const struct {
		const char *spec, *msg;
	} t[] = {
	    {"", "--tmpfs: empty specification"},
	    {":size=1m", "--tmpfs: no target in ':size=1m'"},
	    {"/run:", "--tmpfs: empty option list in '/run:'"},
	    {"/run:ro,", "--tmpfs: empty option in '/run:ro,'"},
	    {"/run:,ro", "--tmpfs: empty option"},
	    {"/run:ro,,rw", "--tmpfs: empty option"},
	    {"/run:foo", "--tmpfs: unknown option 'foo' in '/run:foo'"},
	    {"/run:uid=1000", "--tmpfs: unknown option 'uid=1000'"},
	    {"/run:RO", "--tmpfs: unknown option 'RO'"},
	    {"/run: ro", "--tmpfs: unknown option ' ro'"},
	    {"/run:size", "--tmpfs: unknown option 'size'"},
	    {"/run:dev", "--tmpfs: 'dev' is not allowed"},
	    {"/run:ro,rw", "--tmpfs: 'rw' conflicts with 'ro'"},
	    {"/run:noexec,exec", "--tmpfs: 'exec' conflicts with 'noexec'"},
	    {"/run:suid,nosuid", "--tmpfs: 'nosuid' conflicts with 'suid'"},
	    {"/run:ro,ro", "--tmpfs: ro/rw given twice"},
	    {"/run:nodev,nodev", "--tmpfs: nodev given twice"},
	    {"/run:exec,exec", "--tmpfs: exec/noexec given twice"},
	    {"/run:size=1m,size=2m", "--tmpfs: size= given twice"},
	    {"/run:size=1m,size=1m", "--tmpfs: size= given twice"},
	    {"/run:mode=1777,mode=700", "--tmpfs: mode= given twice"},
	    {"/run:size=", "--tmpfs: invalid size ''"},
	    {"/run:mode=", "--tmpfs: invalid mode ''"},
	    {"/run:size=1m:x", "--tmpfs: invalid size '1m:x'"},
	    {"run", "invalid mount path: 'run' mount path must be absolute"},
	    {"/", "invalid specification: destination can't be '/'"},
	    {"/:size=1m", "destination can't be '/'"},
	    {"/dev/shm", "--tmpfs: mount target \"/dev/shm\" is at or under /dev"},
	    {"/sys:ro", "is at or under /sys"},
	    {"/proc", "is at or under /proc"},
	    {"/a/../b", "--tmpfs: container path \"/a/../b\" has a \"..\" component"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		parse_fail(mountspec_parse_tmpfs, t[i].spec, t[i].msg);
}

/* ---- normalisation, names ---------------------------------------------- */

static void test_normalise(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"/a", "/a"},	  {"//a//b", "/a/b"},	    {"/a/./b", "/a/b"},
	    {"/a/b/", "/a/b"},	  {"/a/b//", "/a/b"},	    {"/a/.", "/a"},
	    {"/./a", "/a"},	  {"/././a/./", "/a"},	    {"/devices", "/devices"},
	    {"/proc2", "/proc2"}, {"/sysfs", "/sysfs"},	    {"/a/proc", "/a/proc"},
	    {"/a/dev", "/a/dev"}, {"/...", "/..."},	    {"/a/..b", "/a/..b"},
	    {"/a/b..", "/a/b.."}, {"/.hidden", "/.hidden"}, {"/a/.b/c.", "/a/.b/c."},
	    {"/a b/c", "/a b/c"}, {"/Proc", "/Proc"},	    {"/dev-x/y", "/dev-x/y"},
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
	    {"/", "destination can't be '/'"},
	    {"//", "destination can't be '/'"},
	    {"/.", "destination can't be '/'"},
	    {"/./", "destination can't be '/'"},
	    {"/..", "has a \"..\" component"},
	    {"/a/..", "has a \"..\" component"},
	    {"/a/../b", "container path \"/a/../b\" has a \"..\" component"},
	    {"/../proc", "has a \"..\" component"},
	    {"a", "invalid mount path: 'a' mount path must be absolute"},
	    {"", "invalid mount path: '' mount path must be absolute"},
	    {"./a", "must be absolute"},
	    {" /a", "must be absolute"},
	    {"/proc", "mount target \"/proc\" is at or under /proc"},
	    {"/proc/", "is at or under /proc"},
	    {"/proc/self", "is at or under /proc"},
	    {"//proc", "is at or under /proc"},
	    {"/./proc", "is at or under /proc"},
	    {"/sys", "is at or under /sys"},
	    {"/sys/kernel/security", "is at or under /sys"},
	    {"/dev", "is at or under /dev"},
	    {"/dev/shm", "is at or under /dev"},
	    {"/dev/", "is at or under /dev"},
	    {"/dev/./pts", "\"/dev/pts\" is at or under /dev"},
	};
	struct err *err = NULL;
	char *out, *again, *long_ok, *long_bad;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		out = NULL;
		if (mountspec_target_normalise(ok[i].in, &out, &err) < 0) {
			print_error("%s: %s\n", ok[i].in, err->msg);
			fail();
		}
		assert_string_equal(out, ok[i].out);
		/* normalising is idempotent */
		again = NULL;
		assert_int_equal(mountspec_target_normalise(out, &again, &err), 0);
		assert_string_equal(again, out);
		free(again);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		out = (char *)"junk";
		r = mountspec_target_normalise(bad[i].in, &out, &err);
		if (r == 0) {
			print_error("%s: accepted as %s\n", bad[i].in, out);
			fail();
		}
		assert_null(out);
		assert_non_null(err);
		assert_int_equal(r, -err->code);
		if (!strstr(err->msg, bad[i].msg)) {
			print_error("%s: want \"%s\", got \"%s\"\n", bad[i].in, bad[i].msg,
				    err->msg);
			fail();
		}
		/* the flag-less form names no flag */
		assert_int_not_equal(err->msg[0], '-');
		err_free(&err);
	}

	again = rep('x', PATH_LIMIT - 2);
	long_ok = cat("/", again, "");
	free(again);
	out = NULL;
	assert_int_equal(mountspec_target_normalise(long_ok, &out, &err), 0);
	assert_string_equal(out, long_ok);
	free(out);
	long_bad = cat(long_ok, "x", "");
	assert_int_equal(mountspec_target_normalise(long_bad, &out, &err), -ENAMETOOLONG);
	assert_null(out);
	assert_non_null(strstr(err->msg, "is longer than 4095 bytes"));
	err_free(&err);
	free(long_ok);
	free(long_bad);
}

static void test_volume_name_valid(void **state)
{
	static const char *const good[] = {"ab", "a1", "0a", "A_b.c-d", "vol..x", "x.", "x-"};
	static const char *const bad[] = {"",	"a", "_ab", ".ab",  "-ab",    "a b", "a/b", "a:b",
					  "..", ".", "é1",  "a\tb", "ab\x80", "a=b", "a,b", "/ab"};
	char *n128 = rep('v', VOLUME_NAME_MAX), *n129 = rep('v', VOLUME_NAME_MAX + 1);

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!volume_name_valid(good[i])) {
			print_error("refused \"%s\"\n", good[i]);
			fail();
		}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (volume_name_valid(bad[i])) {
			print_error("accepted \"%s\"\n", bad[i]);
			fail();
		}
	assert_false(volume_name_valid(NULL));
	assert_true(volume_name_valid(n128));
	assert_false(volume_name_valid(n129));
	free(n128);
	free(n129);
}

static void test_name_tables(void **state)
{
	static const struct {
		enum mount_type t;
		const char *name;
	} types[] = {{MOUNT_VOLUME, "volume"}, {MOUNT_BIND, "bind"}, {MOUNT_TMPFS, "tmpfs"}};
	static const struct {
		enum mount_propagation p;
		const char *name;
	} props[] = {
	    {MOUNT_PROP_RPRIVATE, "rprivate"}, {MOUNT_PROP_PRIVATE, "private"},
	    {MOUNT_PROP_RSLAVE, "rslave"},     {MOUNT_PROP_SLAVE, "slave"},
	    {MOUNT_PROP_RSHARED, "rshared"},   {MOUNT_PROP_SHARED, "shared"},
	};
	static const char *const bad[] = {"",	   "Bind", "VOLUME", "npipe",
					  "bind ", "tmpf", "volumes"};
	enum mount_type t;
	enum mount_propagation p;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_string_equal(mount_type_name(types[i].t), types[i].name);
		t = (enum mount_type)99;
		assert_int_equal(mount_type_from_name(types[i].name, &t), 0);
		assert_int_equal(t, types[i].t);
	}
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		assert_string_equal(mount_propagation_name(props[i].p), props[i].name);
		p = (enum mount_propagation)99;
		assert_int_equal(mount_propagation_from_name(props[i].name, &p), 0);
		assert_int_equal(p, props[i].p);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = MOUNT_TMPFS;
		assert_int_equal(mount_type_from_name(bad[i], &t), -EINVAL);
		assert_int_equal(t, MOUNT_TMPFS); /* left alone */
	}
	p = MOUNT_PROP_SHARED;
	assert_int_equal(mount_propagation_from_name("RSHARED", &p), -EINVAL);
	assert_int_equal(mount_propagation_from_name("", &p), -EINVAL);
	assert_int_equal(mount_propagation_from_name("rprivatex", &p), -EINVAL);
	assert_int_equal(p, MOUNT_PROP_SHARED);
	assert_int_equal(mount_type_from_name(NULL, &t), -EINVAL);
	assert_int_equal(mount_propagation_from_name(NULL, &p), -EINVAL);
	assert_string_equal(mount_type_name((enum mount_type)7), "unknown");
	assert_string_equal(mount_propagation_name((enum mount_propagation) - 1), "unknown");
}

/* ---- copy, free -------------------------------------------------------- */

static void assert_strv_equal_distinct(char **a, char **b)
{
	if (!a) {
		assert_null(b);
		return;
	}
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	for (size_t i = 0; a[i] || b[i]; i++) {
		assert_non_null(a[i]);
		assert_non_null(b[i]);
		assert_string_equal(a[i], b[i]);
		assert_ptr_not_equal(a[i], b[i]);
	}
}

static void assert_str_equal_distinct(const char *a, const char *b)
{
	if (!a) {
		assert_null(b);
		return;
	}
	assert_non_null(b);
	assert_string_equal(a, b);
	assert_ptr_not_equal(a, b);
}

static void check_copy(parse_fn f, const char *spec)
{
	struct mount_req a = parse_ok(f, spec), b;
	struct err *err = NULL;
	char *target;

	junk(&b);
	assert_int_equal(mount_req_copy(&a, &b, &err), 0);
	assert_null(err);
	assert_int_equal(a.type, b.type);
	assert_str_equal_distinct(a.source, b.source);
	assert_str_equal_distinct(a.target, b.target);
	assert_str_equal_distinct(a.driver, b.driver);
	assert_strv_equal_distinct(a.driver_opts, b.driver_opts);
	assert_strv_equal_distinct(a.labels, b.labels);
	assert_int_equal(a.readonly, b.readonly);
	assert_int_equal(a.nocopy, b.nocopy);
	assert_int_equal(a.create_src, b.create_src);
	assert_int_equal(a.follow_symlink, b.follow_symlink);
	assert_int_equal(a.nonrecursive, b.nonrecursive);
	assert_int_equal(a.propagation, b.propagation);
	assert_int_equal(a.relabel, b.relabel);
	assert_int_equal(a.tmpfs_size, b.tmpfs_size);
	assert_int_equal(a.tmpfs_mode, b.tmpfs_mode);
	assert_int_equal(a.tmpfs_exec, b.tmpfs_exec);
	assert_int_equal(a.tmpfs_suid, b.tmpfs_suid);
	/* the copy owns its memory: it outlives the original (ASan would see) */
	target = strdup(a.target);
	mount_req_free(&a);
	assert_string_equal(b.target, target);
	if (b.driver_opts)
		assert_non_null(strchr(b.driver_opts[0], '='));
	free(target);
	mount_req_free(&b);
}

static void test_copy(void **state)
{
	struct mount_req m;
	struct err *err = NULL;

	check_copy(mountspec_parse_mount,
		   "source=vol1,target=/v,volume-driver=drv,volume-opt=a=1,volume-opt=b=,"
		   "volume-label=l=x,volume-nocopy,ro");
	check_copy(mountspec_parse_mount, "target=/anon");
	check_copy(mountspec_parse_mount, "target=/anon,volume-label=only=labels");
	check_copy(mountspec_parse_volume, "/h:/c:ro,rslave,Z,follow-symlink");
	check_copy(mountspec_parse_mount, "type=bind,src=/h,dst=/c,bind-nonrecursive,"
					  "bind-create-src,bind-propagation=private");
	check_copy(mountspec_parse_tmpfs, "/t:size=1g,mode=700,exec,suid,ro");

	junk(&m);
	assert_int_equal(mount_req_copy(NULL, &m, &err), -EINVAL);
	assert_non_null(err);
	assert_zero(&m);
	err_free(&err);
	assert_int_equal(mount_req_copy(&m, NULL, &err), -EINVAL);
	err_free(&err);
}

/* Every strdup failing in turn: -ENOMEM, a zeroed output, nothing leaked or
 * freed twice (the ASan build checks the last two). */
static void test_out_of_memory(void **state)
{
	static const struct {
		parse_fn f;
		const char *spec;
	} t[] = {
	    {mountspec_parse_mount, "source=vol1,target=/v,volume-driver=drv,volume-opt=a=1,"
				    "volume-opt=b=2,volume-label=l=x,volume-label=m=y"},
	    {mountspec_parse_volume, "vol1:/v:ro"},
	    {mountspec_parse_volume, "/h:/c"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mount_req full = parse_ok(t[i].f, t[i].spec);
		int k, failed = 0;

		for (k = 0; k < 32; k++) {
			struct mount_req m;
			struct err *err = NULL;
			int r;

			junk(&m);
			strdup_budget = k;
			r = mount_req_copy(&full, &m, &err);
			strdup_budget = -1;
			if (r == 0) {
				mount_req_free(&m);
				break;
			}
			failed++;
			assert_int_equal(r, -ENOMEM);
			assert_non_null(err);
			assert_non_null(strstr(err->msg, "copy of the mount on \"/"));
			assert_zero(&m);
			err_free(&err);

			junk(&m);
			strdup_budget = k;
			r = t[i].f(t[i].spec, &m, &err);
			strdup_budget = -1;
			if (r == 0) {
				mount_req_free(&m);
				continue;
			}
			assert_int_equal(r, -ENOMEM);
			assert_zero(&m);
			err_free(&err);
		}
		/* the copy needed at least one strdup per string, and then succeeded */
		assert_true(failed >= 1);
		assert_true(k < 32);
		mount_req_free(&full);
	}
}

static void test_req_free(void **state)
{
	struct mount_req m = parse_ok(mountspec_parse_mount, "source=v1,target=/v,volume-opt=a=b,"
							     "volume-label=c=d,volume-driver=x");

	mount_req_free(&m);
	assert_zero(&m);
	mount_req_free(&m); /* twice is harmless */
	mount_req_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_volume_anonymous),
	    cmocka_unit_test(test_volume_named),
	    cmocka_unit_test(test_volume_bind),
	    cmocka_unit_test(test_volume_errors),
	    cmocka_unit_test(test_volume_reserved_componentwise),
	    cmocka_unit_test(test_volume_limits),
	    cmocka_unit_test(test_null_arguments),
	    cmocka_unit_test(test_mount_anonymous),
	    cmocka_unit_test(test_mount_volume),
	    cmocka_unit_test(test_mount_bind),
	    cmocka_unit_test(test_mount_tmpfs),
	    cmocka_unit_test(test_mount_quoting),
	    cmocka_unit_test(test_mount_sizes_modes),
	    cmocka_unit_test(test_mount_errors),
	    cmocka_unit_test(test_mount_limits),
	    cmocka_unit_test(test_tmpfs_forms),
	    cmocka_unit_test(test_tmpfs_errors),
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test(test_volume_name_valid),
	    cmocka_unit_test(test_name_tables),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_out_of_memory),
	    cmocka_unit_test(test_req_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
