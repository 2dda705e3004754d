/*
 * Unit tests for the pure half of `moat cp` (engine/cp_path.c,
 * engine/cp_stream.c): Docker's CONTAINER:PATH split, its destination
 * rules (the plan), path cleaning, entry-name cleaning, and the entry
 * record encoder and decoder, the one parser between the two processes.
 * Two groups touch the kernel, each in a fresh temporary directory: the
 * record pump over a pipe (the production reader), and the destination
 * lookup beneath a root fd (missing parents; symlinks that must stay
 * inside).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/fs.h"
#include "engine/cp.h"
#include "engine/cp_internal.h"

/* ---- engine_cp_split_arg ---- */

static void split_is(const char *arg, const char *ctr, const char *path)
{
	struct err *e = NULL;
	char *c = (char *)1;
	const char *p = NULL;

	assert_int_equal(engine_cp_split_arg(arg, &c, &p, &e), 0);
	assert_null(e);
	if (ctr) {
		assert_non_null(c);
		assert_string_equal(c, ctr);
	} else {
		assert_null(c);
	}
	assert_string_equal(p, path);
	free(c);
}

static void test_split_arg(void **state)
{
	/* container:path */
	split_is("web:/etc/hosts", "web", "/etc/hosts");
	split_is("web:etc", "web", "etc");
	split_is("4f2a:/", "4f2a", "/");
	/* an empty path after ':' is the container's root (cpath: "/") */
	split_is("web:", "web", "");
	/* only the first ':' splits */
	split_is("web:/a:b", "web", "/a:b");
	/* what docker passes on: the daemon says the name is bad */
	split_is("a/b:c", "a/b", "c");
	/* local: no ':', absolute, explicit relative, "-" */
	split_is("file", NULL, "file");
	split_is("/abs:x", NULL, "/abs:x");
	split_is("/tmp/f", NULL, "/tmp/f");
	split_is("./a:b", NULL, "./a:b");
	split_is(".a:b", NULL, ".a:b");
	split_is("../x:y", NULL, "../x:y");
	split_is("-", NULL, "-");
	split_is("", NULL, "");
	/* an empty container part is local, and the whole argument the path
	 * (docker would use "x" there) */
	split_is(":x", NULL, ":x");
	split_is(":", NULL, ":");
}

/* The CLI's "exactly one side is a container" comes from two splits. */
static void test_split_both_and_neither(void **state)
{
	struct err *e = NULL;
	char *c1 = NULL, *c2 = NULL;
	const char *p1, *p2;

	assert_int_equal(engine_cp_split_arg("a:/x", &c1, &p1, &e), 0);
	assert_int_equal(engine_cp_split_arg("b:/y", &c2, &p2, &e), 0);
	assert_non_null(c1);
	assert_non_null(c2);
	free(c1);
	free(c2);
	assert_int_equal(engine_cp_split_arg("/x", &c1, &p1, &e), 0);
	assert_int_equal(engine_cp_split_arg("./y:z", &c2, &p2, &e), 0);
	assert_null(c1);
	assert_null(c2);
	assert_null(e);
}

/* ---- engine_cp_plan ---- */

static struct engine_cp_dest dest(bool exists, bool is_dir, bool is_reg, bool asserts_dir)
{
	return (struct engine_cp_dest){.exists = exists,
				       .is_dir = is_dir,
				       .is_reg = is_reg,
				       .asserts_dir = asserts_dir,
				       .base = "dst",
				       .show = "web:/dst"};
}

static void plan_ok(bool src_dir, const char *src_name, struct engine_cp_dest d, bool into_parent,
		    const char *name)
{
	struct err *e = NULL;
	bool ip = !into_parent;
	const char *n = NULL;

	assert_int_equal(engine_cp_plan(src_dir, src_name, &d, &ip, &n, &e), 0);
	assert_null(e);
	assert_int_equal(ip, into_parent);
	assert_string_equal(n, name);
}

static void plan_fails(bool src_dir, struct engine_cp_dest d, int code, const char *msg)
{
	struct err *e = NULL;
	bool ip = false;
	const char *n = "untouched";

	assert_int_equal(engine_cp_plan(src_dir, "src", &d, &ip, &n, &e), -code);
	assert_non_null(e);
	assert_int_equal(e->code, code);
	assert_non_null(strstr(e->msg, msg));
	assert_non_null(strstr(e->msg, "web:/dst"));
	assert_string_equal(n, "untouched");
	err_free(&e);
}

static void test_plan_existing_dir(void **state)
{
	/* An existing directory: into it, under the source's own name,
	 * whatever the source is and however the destination was written. */
	plan_ok(false, "f", dest(true, true, false, false), false, "f");
	plan_ok(false, "f", dest(true, true, false, true), false, "f");
	plan_ok(true, "d", dest(true, true, false, false), false, "d");
	plan_ok(true, "d", dest(true, true, false, true), false, "d");
	/* "dir/.": its contents, the entries named without a top */
	plan_ok(true, ".", dest(true, true, false, false), false, ".");
}

static void test_plan_new_or_file(void **state)
{
	/* Missing: created in its parent under its own name. */
	plan_ok(false, "f", dest(false, false, false, false), true, "dst");
	plan_ok(true, "d", dest(false, false, false, false), true, "dst");
	/* "newdir/" for a directory: created (docker does too) */
	plan_ok(true, "d", dest(false, false, false, true), true, "dst");
	/* "dir/." into a missing directory: it becomes that directory */
	plan_ok(true, ".", dest(false, false, false, false), true, "dst");
	/* a file onto a file: overwritten, under the destination's name */
	plan_ok(false, "f", dest(true, false, true, false), true, "dst");
}

static void test_plan_errors(void **state)
{
	/* a directory onto a file */
	plan_fails(true, dest(true, false, true, false), EISDIR,
		   "cannot copy a directory to a file");
	/* ... checked before "not a directory": docker's message order */
	plan_fails(true, dest(true, false, true, true), EISDIR,
		   "cannot copy a directory to a file");
	/* a file onto "file/" */
	plan_fails(false, dest(true, false, true, true), ENOTDIR, "is not a directory");
	/* a file into "missing/" */
	plan_fails(false, dest(false, false, false, true), ENOENT, "no such directory");
	/* neither a directory nor a regular file (a FIFO, a device) */
	plan_fails(false, dest(true, false, false, false), EINVAL,
		   "must be a directory or a regular file");
	plan_fails(true, dest(true, false, false, false), EINVAL,
		   "must be a directory or a regular file");
}

/* ---- paths: clean, split, parse ---- */

static void clean_is(const char *in, const char *want)
{
	char out[64];

	assert_true(strlen(in) + 2 <= sizeof(out));
	engine_cp_path_clean(in, out);
	assert_string_equal(out, want);
}

static void test_path_clean(void **state)
{
	/* Go's path.Clean, from its own test table */
	clean_is("", ".");
	clean_is("abc", "abc");
	clean_is("abc/def", "abc/def");
	clean_is("a/b/c", "a/b/c");
	clean_is(".", ".");
	clean_is("..", "..");
	clean_is("../..", "../..");
	clean_is("../../abc", "../../abc");
	clean_is("/abc", "/abc");
	clean_is("/", "/");
	clean_is("abc/", "abc");
	clean_is("abc/def/", "abc/def");
	clean_is("./", ".");
	clean_is("../", "..");
	clean_is("/abc/", "/abc");
	clean_is("abc//def//ghi", "abc/def/ghi");
	clean_is("//abc", "/abc");
	clean_is("///abc", "/abc");
	clean_is("abc//", "abc");
	clean_is("abc/./def", "abc/def");
	clean_is("/./abc/def", "/abc/def");
	clean_is("abc/.", "abc");
	clean_is("abc/def/ghi/../jkl", "abc/def/jkl");
	clean_is("abc/def/../ghi/../jkl", "abc/jkl");
	clean_is("abc/def/..", "abc");
	clean_is("abc/def/../..", ".");
	clean_is("/abc/def/../..", "/");
	clean_is("abc/def/../../..", "..");
	clean_is("/abc/def/../../..", "/");
	clean_is("abc/def/../../../ghi/jkl/../../../mno", "../../mno");
	clean_is("/../abc", "/abc");
	clean_is("abc/./../def", "def");
	clean_is("abc//./../def", "def");
	clean_is("abc/../../././../def", "../../def");
}

static void test_path_split(void **state)
{
	char dir[16];
	const char *base;

	engine_cp_path_split("a", dir, &base);
	assert_string_equal(dir, ".");
	assert_string_equal(base, "a");
	engine_cp_path_split("/a", dir, &base);
	assert_string_equal(dir, "/");
	assert_string_equal(base, "a");
	engine_cp_path_split("/a/b/c", dir, &base);
	assert_string_equal(dir, "/a/b");
	assert_string_equal(base, "c");
	engine_cp_path_split("/", dir, &base);
	assert_string_equal(dir, "/");
	assert_string_equal(base, "");
}

static void parse_is(const char *in, bool in_ctr, const char *clean, bool contents,
		     bool asserts_dir, const char *name)
{
	struct cp_path *p = calloc(1, sizeof(*p));
	struct err *e = NULL;

	assert_non_null(p);
	assert_int_equal(engine_cp_path_parse(in, in_ctr, p, &e), 0);
	assert_null(e);
	assert_string_equal(p->clean, clean);
	assert_int_equal(p->contents, contents);
	assert_int_equal(p->asserts_dir, asserts_dir);
	assert_string_equal(p->name, name);
	free(p);
}

static void test_path_parse(void **state)
{
	/* in the container: relative to its root */
	parse_is("etc/hosts", true, "/etc/hosts", false, false, "hosts");
	parse_is("/etc/hosts", true, "/etc/hosts", false, false, "hosts");
	parse_is("", true, "/", true, true, ".");
	parse_is("/", true, "/", true, true, ".");
	parse_is("/tmp/", true, "/tmp", false, true, "tmp");
	parse_is("/tmp/.", true, "/tmp", true, true, ".");
	parse_is("/../../etc", true, "/etc", false, false, "etc");
	/* on the host: as written */
	parse_is("f", false, "f", false, false, "f");
	parse_is("./d/", false, "d", false, true, "d");
	parse_is("d/.", false, "d", true, true, ".");
	parse_is(".", false, ".", true, true, ".");
	parse_is("..", false, "..", true, false, ".");
	parse_is("a//b/", false, "a/b", false, true, "b");
}

static void test_path_parse_errors(void **state)
{
	struct cp_path *p = calloc(1, sizeof(*p));
	char *big = malloc(CP_PATH_MAX + 1);
	struct err *e = NULL;

	assert_non_null(p);
	assert_non_null(big);
	assert_int_equal(engine_cp_path_parse("", false, p, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "empty path"));
	err_free(&e);
	/* CP_PATH_MAX - 1 is the longest; with "/" added it still fits */
	memset(big, 'a', CP_PATH_MAX);
	big[CP_PATH_MAX - 1] = 0;
	assert_int_equal(engine_cp_path_parse(big, true, p, &e), 0);
	assert_int_equal(strlen(p->clean), CP_PATH_MAX);
	big[CP_PATH_MAX - 1] = 'a';
	big[CP_PATH_MAX] = 0;
	assert_int_equal(engine_cp_path_parse(big, false, p, &e), -ENAMETOOLONG);
	assert_non_null(strstr(e->msg, "path too long"));
	err_free(&e);
	free(big);
	free(p);
}

/* ---- engine_cp_name_clean ---- */

static void name_is(const char *in, const char *want)
{
	char out[64];
	struct err *e = NULL;

	assert_int_equal(engine_cp_name_clean(in, out, sizeof(out), &e), 0);
	assert_null(e);
	assert_string_equal(out, want);
}

static void name_refused(const char *in, size_t cap, int code, const char *msg)
{
	char out[64];
	struct err *e = NULL;

	assert_true(cap <= sizeof(out));
	assert_int_equal(engine_cp_name_clean(in, out, cap, &e), -code);
	assert_non_null(e);
	assert_int_equal(e->code, code);
	assert_non_null(strstr(e->msg, msg));
	err_free(&e);
}

static void test_name_clean(void **state)
{
	name_is("a", "a");
	name_is("a/b/c", "a/b/c");
	name_is("./a//b/./c/", "a/b/c");
	/* a leading "/" is dropped: names are relative to the destination */
	name_is("/etc/passwd", "etc/passwd");
	name_is("//a", "a");
	/* the destination itself ("dir/." copies send "." first) */
	name_is("", "");
	name_is(".", "");
	name_is("/", "");
	name_is("./", "");
	/* dots that are not ".." are names like any other */
	name_is("..a", "..a");
	name_is("a..", "a..");
	name_is("...", "...");
	name_is("a/.../b", "a/.../b");
	name_is(".hidden", ".hidden");
}

static void test_name_clean_refuses(void **state)
{
	name_refused("..", 64, EINVAL, "unsafe entry name");
	name_refused("../x", 64, EINVAL, "unsafe entry name");
	name_refused("a/../b", 64, EINVAL, "unsafe entry name");
	name_refused("a/..", 64, EINVAL, "unsafe entry name");
	name_refused("/../etc/passwd", 64, EINVAL, "unsafe entry name");
	name_refused("./..//x", 64, EINVAL, "unsafe entry name");
	/* "..", even where it would cancel out lexically */
	name_refused("a/b/../b", 64, EINVAL, "unsafe entry name");
	/* the result and its NUL must fit */
	name_is("abc", "abc");
	name_refused("abc", 3, ENAMETOOLONG, "too long");
	name_refused("a/b", 3, ENAMETOOLONG, "too long");
	name_refused("", 0, ENAMETOOLONG, "too long");
}

static void test_name_clean_fits_exactly(void **state)
{
	char out[4];
	struct err *e = NULL;

	/* "//a/./b" cleans to "a/b": 4 bytes with its NUL */
	assert_int_equal(engine_cp_name_clean("//a/./b", out, sizeof(out), &e), 0);
	assert_string_equal(out, "a/b");
	assert_null(e);
}

/* ---- records ---- */

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static struct cp_ent *ent(enum cp_ent_type type, const char *name, const char *link)
{
	struct cp_ent *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->type = type;
	e->mode = 0640;
	e->uid = 1000;
	e->gid = 100;
	e->atime = (struct timespec){981173106, 5};
	e->mtime = (struct timespec){-1, 999999999};
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->link, sizeof(e->link), "%s", link);
	return e;
}

/* Encodes E into BUF; its length. */
static size_t enc(const struct cp_ent *e, unsigned char *buf, size_t cap)
{
	struct err *err = NULL;
	int n = engine_cp_record_encode(e, buf, cap, &err);

	assert_null(err);
	assert_true(n >= CP_REC_HDR_LEN);
	return (size_t)n;
}

static void decode_ok(const unsigned char *buf, size_t len, size_t want_used, struct cp_ent *out)
{
	struct err *e = NULL;
	size_t used = 0;

	assert_int_equal(engine_cp_record_decode(buf, len, out, &used, &e), 0);
	assert_null(e);
	assert_int_equal(used, want_used);
}

static void decode_fails(const unsigned char *buf, size_t len, int code)
{
	struct cp_ent *out = calloc(1, sizeof(*out));
	struct err *e = NULL;
	size_t used = 12345;

	assert_non_null(out);
	assert_int_equal(engine_cp_record_decode(buf, len, out, &used, &e), -code);
	assert_non_null(e);
	assert_int_equal(e->code, code);
	assert_int_equal(used, 12345);
	err_free(&e);
	free(out);
}

static void roundtrip(const struct cp_ent *e)
{
	unsigned char *buf = malloc(CP_REC_HEAD_MAX), *again = malloc(CP_REC_HEAD_MAX);
	struct cp_ent *d = calloc(1, sizeof(*d));
	size_t n, n2;

	assert_non_null(buf);
	assert_non_null(again);
	assert_non_null(d);
	n = enc(e, buf, CP_REC_HEAD_MAX);
	assert_int_equal(n, CP_REC_HDR_LEN + strlen(e->name) + strlen(e->link));
	decode_ok(buf, n, n, d);
	assert_int_equal(d->type, e->type);
	assert_int_equal(d->mode, e->mode);
	assert_int_equal(d->uid, e->uid);
	assert_int_equal(d->gid, e->gid);
	assert_int_equal(d->size, e->size);
	assert_int_equal(d->atime.tv_sec, e->atime.tv_sec);
	assert_int_equal(d->atime.tv_nsec, e->atime.tv_nsec);
	assert_int_equal(d->mtime.tv_sec, e->mtime.tv_sec);
	assert_int_equal(d->mtime.tv_nsec, e->mtime.tv_nsec);
	assert_string_equal(d->name, e->name);
	assert_string_equal(d->link, e->link);
	/* canonical: the decoded record encodes to the same bytes */
	n2 = enc(d, again, CP_REC_HEAD_MAX);
	assert_int_equal(n2, n);
	assert_memory_equal(again, buf, n);
	free(d);
	free(again);
	free(buf);
}

static void test_record_roundtrip(void **state)
{
	struct cp_ent *e;

	e = ent(CP_ENT_REG, "dir/file", "");
	e->size = 12345;
	roundtrip(e);
	e->size = (uint64_t)INT64_MAX;
	e->mode = 07777;
	e->uid = e->gid = UINT32_MAX;
	roundtrip(e);
	free(e);
	e = ent(CP_ENT_DIR, ".", "");
	roundtrip(e);
	free(e);
	e = ent(CP_ENT_LNK, "l", "/etc/../anything");
	roundtrip(e);
	free(e);
	e = ent(CP_ENT_HARDLINK, "h", "dir/file");
	roundtrip(e);
	free(e);
	e = ent(CP_ENT_FIFO, "p", "");
	roundtrip(e);
	free(e);
	/* the end: no name, nothing else required */
	e = calloc(1, sizeof(*e));
	assert_non_null(e);
	roundtrip(e);
	free(e);
}

static void test_record_longest(void **state)
{
	struct cp_ent *e = ent(CP_ENT_LNK, "", "");
	unsigned char *buf = malloc(CP_REC_HEAD_MAX + 1);
	struct err *err = NULL;

	assert_non_null(buf);
	memset(e->name, 'n', CP_PATH_MAX);
	e->name[CP_PATH_MAX] = 0;
	memset(e->link, 'l', CP_PATH_MAX);
	e->link[CP_PATH_MAX] = 0;
	roundtrip(e);
	/* one byte short of room */
	assert_int_equal(engine_cp_record_encode(e, buf, CP_REC_HEAD_MAX - 1, &err), -ENOBUFS);
	err_free(&err);
	/* a name without its NUL is not encoded */
	e->name[CP_PATH_MAX] = 'x';
	assert_int_equal(engine_cp_record_encode(e, buf, CP_REC_HEAD_MAX + 1, &err), -ENAMETOOLONG);
	err_free(&err);
	free(buf);
	free(e);
}

/* A good REG record "name" with 3 bytes of data announced, in BUF. */
static size_t good_reg(unsigned char *buf)
{
	struct cp_ent *e = ent(CP_ENT_REG, "name", "");
	size_t n;

	e->size = 3;
	n = enc(e, buf, CP_REC_HEAD_MAX);
	free(e);
	return n;
}

static void test_record_bad_fields(void **state)
{
	unsigned char *b = malloc(CP_REC_HEAD_MAX), *good = malloc(CP_REC_HEAD_MAX);
	size_t n = good_reg(good);
	struct cp_ent *out = calloc(1, sizeof(*out));

	assert_non_null(b);
	assert_non_null(out);
	decode_ok(good, n, n, out);
#define BAD(stmt)                           \
	do {                                \
		memcpy(b, good, n);         \
		stmt;                       \
		decode_fails(b, n, EPROTO); \
	} while (0)
	BAD(b[0] ^= 1);				     /* magic */
	BAD(put32(b + 4, CP_ENT_TYPE_MAX));	     /* type */
	BAD(put32(b + 4, UINT32_MAX));		     /* type */
	BAD(put32(b + 8, 010000));		     /* mode: a file type bit */
	BAD(put32(b + 8, S_IFREG | 0644));	     /* mode */
	BAD(put32(b + 28, 1000000000u));	     /* atime ns */
	BAD(put32(b + 32, 1000000000u));	     /* mtime ns */
	BAD(put32(b + 32, UINT32_MAX));		     /* mtime ns */
	BAD(b[36] = 1);				     /* reserved */
	BAD(b[39] = 0x80);			     /* reserved */
	BAD(put64(b + 40, (uint64_t)INT64_MAX + 1)); /* size */
	BAD(put64(b + 40, UINT64_MAX));		     /* size */
	/* lengths that do not go with the type */
	BAD((put32(b + 4, CP_ENT_END), put64(b + 40, 0)));	/* the end has no name */
	BAD(put32(b + 4, CP_ENT_DIR));				/* only a file has data */
	BAD(put32(b + 4, CP_ENT_FIFO));				/* only a file has data */
	BAD((put32(b + 4, CP_ENT_LNK), put64(b + 40, 0)));	/* a link has a target */
	BAD((put32(b + 4, CP_ENT_HARDLINK), put64(b + 40, 0))); /* so does a hard link */
	BAD((put32(b + 20, 0), put64(b + 40, 0)));		/* a file has a name */
	BAD((put32(b + 20, 3), put32(b + 24, 1)));		/* a file has no target */
	/* a NUL inside the name: "na\0e" would be "na" */
	BAD(b[CP_REC_HDR_LEN + 2] = 0);
	BAD(b[CP_REC_HDR_LEN] = 0);
#undef BAD
	/* the same for a link's target and the end record's fields */
	{
		struct cp_ent *l = ent(CP_ENT_LNK, "l", "tgt");
		unsigned char lb[CP_REC_HDR_LEN + 4];
		size_t ln = enc(l, lb, sizeof(lb));

		lb[CP_REC_HDR_LEN + 2] = 0; /* "t\0t" */
		decode_fails(lb, ln, EPROTO);
		lb[CP_REC_HDR_LEN + 2] = 'g';
		put64(lb + 40, 1); /* a link has no data */
		decode_fails(lb, ln, EPROTO);
		free(l);
	}
	{
		struct cp_ent *end = calloc(1, sizeof(*end));
		unsigned char eb[CP_REC_HDR_LEN];

		assert_non_null(end);
		enc(end, eb, sizeof(eb));
		put32(eb + 24, 1); /* the end with a target */
		decode_fails(eb, sizeof(eb), EPROTO);
		put32(eb + 24, 0);
		put64(eb + 40, 1); /* the end with data */
		decode_fails(eb, sizeof(eb), EPROTO);
		free(end);
	}
	free(out);
	free(good);
	free(b);
}

static void test_record_truncated(void **state)
{
	unsigned char *b = malloc(CP_REC_HEAD_MAX);
	struct cp_ent *l = ent(CP_ENT_LNK, "name", "target");
	struct cp_ent *out = calloc(1, sizeof(*out));
	size_t n;

	assert_non_null(b);
	assert_non_null(out);
	n = enc(l, b, CP_REC_HEAD_MAX);
	assert_int_equal(n, CP_REC_HDR_LEN + 4 + 6);
	for (size_t len = 0; len < n; len++)
		decode_fails(b, len, EPIPE);
	decode_ok(b, n, n, out);
	assert_string_equal(out->name, "name");
	assert_string_equal(out->link, "target");
	/* what follows (a file's data, the next record) is not the record's */
	decode_ok(b, CP_REC_HEAD_MAX, n, out);
	free(out);
	free(l);
	free(b);
}

static void test_record_oversized_lengths(void **state)
{
	unsigned char *b = calloc(1, CP_REC_HEAD_MAX + 16);

	assert_non_null(b);
	good_reg(b);
	/* a length past CP_PATH_MAX is refused before it is used, even with
	 * the bytes there to read */
	put32(b + 20, CP_PATH_MAX + 1);
	memset(b + CP_REC_HDR_LEN, 'a', CP_PATH_MAX + 1);
	decode_fails(b, CP_REC_HDR_LEN + CP_PATH_MAX + 1, EPROTO);
	put32(b + 20, UINT32_MAX);
	decode_fails(b, CP_REC_HEAD_MAX + 16, EPROTO);
	/* a link's target: the same */
	put32(b + 4, CP_ENT_LNK);
	put64(b + 40, 0);
	put32(b + 20, 1);
	put32(b + 24, CP_PATH_MAX + 1);
	decode_fails(b, CP_REC_HEAD_MAX + 16, EPROTO);
	put32(b + 24, UINT32_MAX);
	decode_fails(b, CP_REC_HEAD_MAX + 16, EPROTO);
	/* both at their largest: fine, and 2 * CP_PATH_MAX of them */
	put32(b + 20, CP_PATH_MAX);
	put32(b + 24, CP_PATH_MAX);
	memset(b + CP_REC_HDR_LEN, 'a', 2 * CP_PATH_MAX);
	{
		struct cp_ent *out = calloc(1, sizeof(*out));
		assert_non_null(out);
		decode_ok(b, CP_REC_HEAD_MAX, CP_REC_HEAD_MAX, out);
		assert_int_equal(strlen(out->name), CP_PATH_MAX);
		assert_int_equal(strlen(out->link), CP_PATH_MAX);
		free(out);
	}
	decode_fails(b, CP_REC_HEAD_MAX - 1, EPIPE);
	free(b);
}

static void test_record_header_decode(void **state)
{
	unsigned char b[CP_REC_HEAD_MAX];
	struct cp_ent *out = calloc(1, sizeof(*out));
	struct err *e = NULL;
	uint32_t nl = 0, ll = 0;

	assert_non_null(out);
	good_reg(b);
	assert_int_equal(engine_cp_record_header_decode(b, out, &nl, &ll, &e), 0);
	assert_int_equal(nl, 4);
	assert_int_equal(ll, 0);
	assert_int_equal(out->type, CP_ENT_REG);
	assert_int_equal(out->size, 3);
	put32(b + 20, CP_PATH_MAX + 1);
	assert_int_equal(engine_cp_record_header_decode(b, out, &nl, &ll, &e), -EPROTO);
	assert_non_null(strstr(e->msg, "bad entry record"));
	err_free(&e);
	free(out);
}

/* ---- the record pump, over a pipe ---- */

struct rec_sink {
	struct cp_sink s;
	char log[512];
	size_t data;
};

static int rs_begin(struct cp_sink *s, const struct cp_ent *e, struct err **err)
{
	struct rec_sink *r = (struct rec_sink *)s;
	size_t n = strlen(r->log);

	snprintf(r->log + n, sizeof(r->log) - n, "%d:%s:%s:%llu;", e->type, e->name, e->link,
		 (unsigned long long)e->size);
	return 0;
}

static int rs_data(struct cp_sink *s, const void *buf, size_t n, struct err **err)
{
	((struct rec_sink *)s)->data += n;
	return 0;
}

static int rs_end(struct cp_sink *s, struct err **err)
{
	return 0;
}

/* Writes BUF into a pipe, closes it, pumps it; the pump's result. */
static int pump(const unsigned char *buf, size_t len, struct rec_sink *rs, struct err **err)
{
	struct cp_ent *e = calloc(1, sizeof(*e));
	int p[2], r;

	assert_non_null(e);
	assert_true(len < 65536); /* fits the pipe: no second thread */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fs_write_all(p[1], buf, len), 0);
	close(p[1]);
	memset(rs, 0, sizeof(*rs));
	rs->s = (struct cp_sink){rs_begin, rs_data, rs_end};
	r = engine_cp_record_pump(p[0], &rs->s, e, err);
	close(p[0]);
	free(e);
	return r;
}

static void test_record_pump(void **state)
{
	unsigned char *buf = calloc(1, 4 * CP_REC_HEAD_MAX);
	struct cp_ent *e = ent(CP_ENT_DIR, "d", "");
	struct rec_sink rs;
	struct err *err = NULL;
	size_t n = 0, cut;

	assert_non_null(buf);
	n += enc(e, buf + n, CP_REC_HEAD_MAX);
	e->type = CP_ENT_REG;
	snprintf(e->name, sizeof(e->name), "d/f");
	e->size = 5;
	n += enc(e, buf + n, CP_REC_HEAD_MAX);
	memcpy(buf + n, "hello", 5);
	n += 5;
	cut = n;
	e->type = CP_ENT_LNK;
	e->size = 0;
	snprintf(e->name, sizeof(e->name), "d/l");
	snprintf(e->link, sizeof(e->link), "f");
	n += enc(e, buf + n, CP_REC_HEAD_MAX);
	memset(e, 0, sizeof(*e));
	n += enc(e, buf + n, CP_REC_HEAD_MAX);

	assert_int_equal(pump(buf, n, &rs, &err), 0);
	assert_string_equal(rs.log, "2:d::0;1:d/f::5;3:d/l:f:0;");
	assert_int_equal(rs.data, 5);
	/* no end record: the stream ended early */
	assert_int_equal(pump(buf, n - CP_REC_HDR_LEN, &rs, &err), -EPIPE);
	err_free(&err);
	/* the data cut short */
	assert_int_equal(pump(buf, cut - 1, &rs, &err), -EPIPE);
	assert_non_null(strstr(err->msg, "ended early in \"d/f\""));
	err_free(&err);
	/* a bad record in the middle stops it there */
	buf[cut + 36] = 1;
	assert_int_equal(pump(buf, n, &rs, &err), -EPROTO);
	assert_string_equal(rs.log, "2:d::0;1:d/f::5;");
	err_free(&err);
	free(e);
	free(buf);
}

/* ---- the destination beneath a root fd (a temporary directory) ---- */

struct tmp_root {
	char path[64];
	int fd;
};

static int root_setup(void **state)
{
	struct tmp_root *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->path, sizeof(t->path), "/tmp/test_cp.XXXXXX");
	assert_non_null(mkdtemp(t->path));
	t->fd = open(t->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(t->fd >= 0);
	assert_int_equal(mkdirat(t->fd, "dir", 0755), 0);
	assert_int_equal(close(openat(t->fd, "file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
	/* symlinks that would leave the root if resolved on the host */
	assert_int_equal(symlinkat("/", t->fd, "abs"), 0);
	assert_int_equal(symlinkat("../../../..", t->fd, "up"), 0);
	assert_int_equal(symlinkat("/dir", t->fd, "todir"), 0);
	*state = t;
	return 0;
}

static int root_teardown(void **state)
{
	struct tmp_root *t = *state;

	close(t->fd);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, t->path, NULL), 0);
	free(t);
	return 0;
}

static int find(struct tmp_root *t, const char *in, struct cp_dest *d, struct err **err)
{
	struct cp_path *p = calloc(1, sizeof(*p));
	int r;

	assert_non_null(p);
	assert_int_equal(engine_cp_path_parse(in, true, p, err), 0);
	r = engine_cp_dest_find(t->fd, p, in, "web", d, err);
	free(p);
	return r;
}

static void test_dest_missing_parent(void **state)
{
	struct tmp_root *t = *state;
	struct cp_dest d;
	struct err *e = NULL;

	assert_int_equal(find(t, "/nope/x", &d, &e), -ENOENT);
	assert_non_null(strstr(e->msg, "no such directory \"/nope\" in container web"));
	err_free(&e);
	assert_int_equal(find(t, "/file/x", &d, &e), -ENOTDIR);
	assert_non_null(strstr(e->msg, "web:/file\" is not a directory"));
	err_free(&e);
}

static void test_dest_found(void **state)
{
	struct tmp_root *t = *state;
	struct cp_dest d;
	struct err *e = NULL;

	assert_int_equal(find(t, "/dir", &d, &e), 0);
	assert_true(d.d.exists && d.d.is_dir && !d.d.is_reg);
	assert_string_equal(d.d.base, "dir");
	assert_true(d.fd >= 0 && d.pfd >= 0);
	engine_cp_dest_close(&d);
	assert_int_equal(find(t, "/dir/new", &d, &e), 0);
	assert_false(d.d.exists);
	assert_string_equal(d.d.base, "new");
	assert_true(d.fd < 0 && d.pfd >= 0);
	engine_cp_dest_close(&d);
	assert_int_equal(find(t, "/file", &d, &e), 0);
	assert_true(d.d.exists && d.d.is_reg);
	engine_cp_dest_close(&d);
	assert_null(e);
}

/* CVE-2019-10152: a container's symlinks resolve inside it. */
static void test_dest_symlinks_stay_inside(void **state)
{
	struct tmp_root *t = *state;
	struct stat want, got;
	struct cp_dest d;
	struct err *e = NULL;

	assert_int_equal(fstat(t->fd, &want), 0);
	/* "/abs" -> "/", "/up" -> "../../../..": both are the root itself */
	assert_int_equal(find(t, "/abs", &d, &e), 0);
	assert_true(d.d.is_dir);
	assert_int_equal(fstat(d.fd, &got), 0);
	assert_true(got.st_ino == want.st_ino && got.st_dev == want.st_dev);
	engine_cp_dest_close(&d);
	assert_int_equal(find(t, "/up", &d, &e), 0);
	assert_int_equal(fstat(d.fd, &got), 0);
	assert_true(got.st_ino == want.st_ino && got.st_dev == want.st_dev);
	engine_cp_dest_close(&d);
	/* and through a directory: "/up/etc" is the root's "etc", missing */
	assert_int_equal(find(t, "/up/etc/x", &d, &e), -ENOENT);
	err_free(&e);
	assert_int_equal(find(t, "/abs/dir", &d, &e), 0);
	assert_true(d.d.is_dir);
	engine_cp_dest_close(&d);
	/* an absolute link to a directory inside */
	assert_int_equal(find(t, "/todir/new", &d, &e), 0);
	assert_false(d.d.exists);
	assert_int_equal(fstat(d.pfd, &got), 0);
	assert_int_equal(fstatat(t->fd, "dir", &want, 0), 0);
	assert_true(got.st_ino == want.st_ino);
	engine_cp_dest_close(&d);
	assert_null(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_arg),
	    cmocka_unit_test(test_split_both_and_neither),
	    cmocka_unit_test(test_plan_existing_dir),
	    cmocka_unit_test(test_plan_new_or_file),
	    cmocka_unit_test(test_plan_errors),
	    cmocka_unit_test(test_path_clean),
	    cmocka_unit_test(test_path_split),
	    cmocka_unit_test(test_path_parse),
	    cmocka_unit_test(test_path_parse_errors),
	    cmocka_unit_test(test_name_clean),
	    cmocka_unit_test(test_name_clean_refuses),
	    cmocka_unit_test(test_name_clean_fits_exactly),
	    cmocka_unit_test(test_record_roundtrip),
	    cmocka_unit_test(test_record_longest),
	    cmocka_unit_test(test_record_bad_fields),
	    cmocka_unit_test(test_record_truncated),
	    cmocka_unit_test(test_record_oversized_lengths),
	    cmocka_unit_test(test_record_header_decode),
	    cmocka_unit_test(test_record_pump),
	    cmocka_unit_test_setup_teardown(test_dest_missing_parent, root_setup, root_teardown),
	    cmocka_unit_test_setup_teardown(test_dest_found, root_setup, root_teardown),
	    cmocka_unit_test_setup_teardown(test_dest_symlinks_stay_inside, root_setup,
					    root_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
