/*
 * Unit tests for audit/ and the HMAC in common/digest.c: RFC 4231 vectors,
 * the pinned canonical form, the strict decoder, the builder's refusals,
 * append + verify round trips, every tamper audit_verify must name (and
 * what each mode cannot see), rotation, 20 concurrent writers, a write cut
 * short by RLIMIT_FSIZE, the fail-open gap marker, and `moat audit`.
 *
 * Each test works in its own mkdtemp directory: log/audit.log,
 * keys/audit-checkpoint.key (the CLI's layout under --root) and hmac.key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/internal.h"
#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"

struct fx {
	char base[64];
	char dir[128], log[160], ckey[160], hkey[160];
	struct audit_opts o;
};

static char *const fx_cmdline[] = {"moat", "run", "--rm", "alpine", NULL};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->base, sizeof(f->base), "/tmp/moat-test-audit-XXXXXX");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->dir, sizeof(f->dir), "%s/log", f->base);
	snprintf(f->log, sizeof(f->log), "%s/audit.log", f->dir);
	/* where the CLI (engine_audit_checkpoint_key) looks for it */
	snprintf(f->ckey, sizeof(f->ckey), "%s/.audit-checkpoint.key", f->dir);
	snprintf(f->hkey, sizeof(f->hkey), "%s/hmac.key", f->base);
	f->o.path = f->log;
	f->o.checkpoint_key_path = f->ckey;
	f->o.cmdline = fx_cmdline;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fs_rm_rf_at(AT_FDCWD, f->base, NULL), 0);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *s, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, s, len), 0);
	close(fd);
}

static char *read_file(const char *path)
{
	char *s = NULL;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fs_read_fd(fd, 64 << 20, &s, NULL, NULL), 0);
	close(fd);
	return s;
}

static void keyed(struct fx *f)
{
	write_file(f->hkey, "0123456789abcdef0123456789abcdef", 32, 0600);
	f->o.hmac_key_path = f->hkey;
}

/* Appends N "container.start" records numbered from FIRST. */
static void append_n(struct fx *f, int n, int first)
{
	struct audit_log *l = NULL;
	struct err *e = NULL;
	char id[32];

	assert_int_equal(audit_open(&f->o, &l, &e), 0);
	for (int i = 0; i < n; i++) {
		struct audit_event *ev = audit_event_new("container.start");
		snprintf(id, sizeof(id), "c%04d", first + i);
		audit_event_str(ev, "container", id);
		audit_event_str(ev, "image", "docker.io/library/alpine:latest");
		audit_event_int(ev, "n", first + i);
		if (audit_append(l, ev, &e) < 0)
			fail_msg("append: %s", e->msg);
	}
	audit_close(l);
}

/* Runs audit_verify over FILES (or the live log) and returns its report. */
static char *verify(struct fx *f, char *const *files, size_t n, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct err *e = NULL;

	*ret = audit_verify(files, n, &f->o, m, &e);
	fclose(m);
	if (*ret == -EBADMSG) {
		assert_non_null(e);
		/* The message in *err is the report line. */
		assert_memory_equal(buf, e->msg, strlen(e->msg));
	}
	err_free(&e);
	return buf;
}

static void verify_is(struct fx *f, int want_ret, const char *want)
{
	int r;
	char *rep = verify(f, NULL, 0, &r);

	if (r != want_ret || strcmp(rep, want))
		fail_msg("verify returned %d: %s   wanted %d: %s", r, rep, want_ret, want);
	free(rep);
}

/* The lines of a file, each with its newline. */
struct lines {
	char *v[512];
	size_t n;
};

static void lines_read(const char *path, struct lines *ls)
{
	char *s = read_file(path), *p = s, *nl;

	ls->n = 0;
	while ((nl = strchr(p, '\n'))) {
		assert_true(ls->n < ARRAY_SIZE(ls->v));
		ls->v[ls->n++] = strndup(p, (size_t)(nl - p + 1));
		p = nl + 1;
	}
	free(s);
}

static void lines_write(const char *path, struct lines *ls)
{
	int fd = open(path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	for (size_t i = 0; i < ls->n; i++)
		assert_int_equal(fs_write_all(fd, ls->v[i], strlen(ls->v[i])), 0);
	close(fd);
}

static void lines_free(struct lines *ls)
{
	for (size_t i = 0; i < ls->n; i++)
		free(ls->v[i]);
	ls->n = 0;
}

static void record_of(const char *line, struct audit_record *r)
{
	struct err *e = NULL;

	if (audit_record_decode(line, strlen(line) - 1, r, &e) < 0)
		fail_msg("decode: %s", e->msg);
}

/* What an attacker with moat's code but not its keys can write: a record
 * with a correct hash, for any seq and prev, hmac'd with KEY if given. */
static char *forge(uint64_t seq, const char *prev, const char *key, const char *container)
{
	struct audit_event *e = audit_event_new("container.start");
	struct audit_header h = {.seq = seq,
				 .time = "2026-11-28T04:30:30.123456789Z",
				 .host = "evil",
				 .pid = 1,
				 .cmdline = (char *const[]){"true", NULL},
				 .prev = prev};
	char *line = NULL, hash[SHA256_HEX_LEN + 1];
	size_t len;

	audit_event_str(e, "container", container);
	assert_int_equal(
	    audit_record_encode(e, &h, key, key ? strlen(key) : 0, &line, &len, hash, NULL), 0);
	audit_event_free(e);
	return line;
}

/* Appends to the log a forged record that continues its last one. */
static void forge_next(struct fx *f)
{
	struct audit_record r;
	struct lines ls;
	char *forged;
	int fd;

	lines_read(f->log, &ls);
	record_of(ls.v[ls.n - 1], &r);
	lines_free(&ls);
	forged = forge(r.seq + 1, r.hash, NULL, "forged");
	audit_record_free(&r);
	fd = open(f->log, O_WRONLY | O_APPEND);
	assert_int_equal(fs_write_all(fd, forged, strlen(forged)), 0);
	close(fd);
	free(forged);
}

/* ---- digests ------------------------------------------------------------ */

static void test_hmac_vectors(void **state)
{
	static const struct {
		const char *key;
		size_t keylen;
		const char *msg;
		size_t len;
		const char *mac;
	} v[] = {
	    /* RFC 4231 case 1 */
	    {"\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b", 20,
	     "Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	    /* case 2: a key shorter than the output */
	    {"Jefe", 4, "what do ya want for nothing?", 28,
	     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	};
	unsigned char k3[20], d3[50], k4[25], d4[50], k6[131], md[SHA256_LEN];
	char out[SHA256_HEX_LEN + 1];
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	const char *m7 = "This is a test using a larger than block-size key and a larger than "
			 "block-size data. The key needs to be hashed before being used by the "
			 "HMAC algorithm.";

	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		digest_hmac_sha256_hex(v[i].key, v[i].keylen, v[i].msg, v[i].len, out);
		assert_string_equal(out, v[i].mac);
	}
	memset(k3, 0xaa, sizeof(k3));
	memset(d3, 0xdd, sizeof(d3));
	digest_hmac_sha256_hex(k3, sizeof(k3), d3, sizeof(d3), out);
	assert_string_equal(out,
			    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (size_t i = 0; i < sizeof(k4); i++)
		k4[i] = (unsigned char)(i + 1);
	memset(d4, 0xcd, sizeof(d4));
	digest_hmac_sha256_hex(k4, sizeof(k4), d4, sizeof(d4), out);
	assert_string_equal(out,
			    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	/* cases 6 and 7: a 131-byte key is hashed first */
	memset(k6, 0xaa, sizeof(k6));
	digest_hmac_sha256_hex(k6, sizeof(k6), m6, strlen(m6), out);
	assert_string_equal(out,
			    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	digest_hmac_sha256_hex(k6, sizeof(k6), m7, strlen(m7), out);
	assert_string_equal(out,
			    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
	/* the raw digest is the hex one's bytes (FIPS 180-4 "abc") */
	digest_sha256_raw("abc", 3, md);
	assert_int_equal(md[0], 0xba);
	assert_int_equal(md[31], 0xad);
}

/* ---- the record format (pure) ------------------------------------------ */

static const char pinned_canon[] =
    "{\"alpha\":7,\"args\":[\"a\",\"b\"],\"cmdline\":[\"moat\",\"run\"],\"event\":\"container."
    "start\","
    "\"flag\":false,\"gid\":1000,\"host\":\"h1\",\"nested\":{\"x\":\"v\",\"y\":1},\"pid\":42,"
    "\"prev\":\"abababababababababababababababababababababababababababababababab\",\"seq\":3,"
    "\"time\":\"2026-11-28T04:30:30.123456789Z\",\"uid\":1000,"
    "\"zeta\":\"\\u00E9/\\\"\\t\\uFFFD\"}";

static struct audit_event *pinned_event(void)
{
	struct audit_event *e = audit_event_new("container.start");

	/* set out of order on purpose; "\xff" is not UTF-8 */
	audit_event_str(e, "zeta", "\xc3\xa9/\"\t\xff");
	audit_event_int(e, "alpha", 7);
	audit_event_obj_begin(e, "nested");
	audit_event_int(e, "y", 1);
	audit_event_str(e, "x", "v");
	audit_event_obj_end(e);
	audit_event_bool(e, "flag", false);
	audit_event_strv(e, "args", (char *const[]){"a", "b", NULL});
	return e;
}

static void test_canonical_pinned(void **state)
{
	struct audit_header h = {
	    .seq = 3,
	    .time = "2026-11-28T04:30:30.123456789Z",
	    .host = "h1",
	    .uid = 1000,
	    .gid = 1000,
	    .pid = 42,
	    .cmdline = (char *const[]){"moat", "run", NULL},
	    .prev = "abababababababababababababababababababababababababababababababab"};
	struct audit_event *e = pinned_event();
	char *line = NULL, hash[SHA256_HEX_LEN + 1], want_hash[SHA256_HEX_LEN + 1];
	char want_mac[SHA256_HEX_LEN + 1], want[2048];
	struct audit_record r;
	size_t len;
	const char *cut = strstr(pinned_canon, "\"host\"");

	/* unkeyed: the line is the canonical form with "hash" in its place */
	assert_int_equal(audit_record_encode(e, &h, NULL, 0, &line, &len, hash, NULL), 0);
	audit_event_free(e);
	digest_sha256_hex(pinned_canon, strlen(pinned_canon), want_hash);
	assert_string_equal(hash, want_hash);
	snprintf(want, sizeof(want), "%.*s\"hash\":\"%s\",%s\n", (int)(cut - pinned_canon),
		 pinned_canon, want_hash, cut);
	assert_string_equal(line, want);
	assert_int_equal(len, strlen(want));
	record_of(line, &r);
	assert_string_equal(r.canonical, pinned_canon);
	assert_true(audit_record_hash_ok(&r));
	assert_string_equal(r.hmac, "");
	audit_record_free(&r);
	free(line);

	/* keyed: the same canonical bytes, and hmac over them */
	e = pinned_event();
	assert_int_equal(audit_record_encode(e, &h, "k3y", 3, &line, &len, hash, NULL), 0);
	audit_event_free(e);
	assert_string_equal(hash, want_hash);
	digest_hmac_sha256_hex("k3y", 3, pinned_canon, strlen(pinned_canon), want_mac);
	snprintf(want, sizeof(want), "%.*s\"hash\":\"%s\",\"hmac\":\"%s\",%s\n",
		 (int)(cut - pinned_canon), pinned_canon, want_hash, want_mac, cut);
	assert_string_equal(line, want);
	free(line);
}

static void test_decode_judges_content(void **state)
{
	char *line = forge(5, AUDIT_ZERO_HASH, NULL, "c1"), *re = NULL, *at;
	struct audit_record a, b;

	/* keys reordered, whitespace added, a character \u-escaped: the same
	 * record, the same canonical form, the same verdict */
	record_of(line, &a);
	at = strstr(line, "\"container\":\"c1\",");
	assert_non_null(at);
	memmove(at, at + 17, strlen(at + 17) + 1);
	*strrchr(line, '}') = 0;
	assert_true(asprintf(&re, "{ \"container\" : \"\\u00631\" ,\t%s }\n", line + 1) > 0);
	record_of(re, &b);
	assert_string_equal(a.canonical, b.canonical);
	assert_true(audit_record_hash_ok(&b));
	assert_string_equal(audit_record_str(&b, "container"), "c1");
	assert_int_equal(b.seq, 5);
	assert_int_equal(b.n_fields, 1);
	assert_string_equal(b.cmdline[0], "true");
	audit_record_free(&a);
	audit_record_free(&b);
	free(re);
	free(line);
}

static void test_decode_strict(void **state)
{
	static const struct {
		const char *edit_from, *edit_to, *err;
	} bad[] = {
	    {"\"seq\":5", "\"seq\":0", "\"seq\" must be an integer from 1"},
	    {"\"seq\":5", "\"seq\":5.0", "\"seq\" must be an integer"},
	    {"\"seq\":5", "\"seq\":\"5\"", "\"seq\" must be an integer"},
	    {"\"seq\":5,", "", "missing \"seq\""},
	    {"\"seq\":5", "\"seq\":5,\"seq\":5", "duplicate object key"},
	    {"\"prev\":\"0000", "\"prev\":\"000A", "\"prev\" must be 64 lowercase hex"},
	    {"\"host\":\"evil\"", "\"host\":null", "\"host\" must be a string"},
	    {"\"pid\":1", "\"pid\":-1", "\"pid\" must be an integer from 0"},
	    {"\"uid\":0", "\"uid\":4294967296", "\"uid\" must be an integer from 0"},
	    {".123456789Z", ".123Z", "\"time\" must be UTC with nanoseconds"},
	    {"2026-11-28", "2026-02-30", "\"time\" must be UTC"},
	    {"\"container\":\"c1\"", "\"container\":1.5", "reals and nulls"},
	    {"\"container\":\"c1\"", "\"container\":null", "reals and nulls"},
	    {"\"container\":\"c1\"", "\"container\":[1]", "must be an array of strings"},
	    {"\"container\":\"c1\"", "\"container\":\"a\\u0000b\"", "column"},
	    {"\"container\":\"c1\"", "\"\":\"c1\"", "a key is not 1 to 128 bytes"},
	    {"\"container\":\"c1\"", "\"audit_gap\":false", "\"audit_gap\" may only be true"},
	    {"\"event\":\"container.start\"", "\"event\":\"a b\"", "\"event\" must be 1 to 64"},
	    {"\"cmdline\":[\"true\"]", "\"cmdline\":\"true\"", "\"cmdline\" must be an array"},
	    {"}\n", "}x\n", "column"},
	    {"{", "[{", "column"},
	};
	char *line = forge(5, AUDIT_ZERO_HASH, NULL, "c1");
	char deep[512] = "", buf[4096];
	struct audit_record r;
	struct err *e = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *at = strstr(line, bad[i].edit_from);
		assert_non_null(at);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - line), line, bad[i].edit_to,
			 at + strlen(bad[i].edit_from));
		if (audit_record_decode(buf, strcspn(buf, "\n"), &r, &e) == 0)
			fail_msg("accepted: %s", buf);
		if (!strstr(e->msg, bad[i].err))
			fail_msg("%s: got \"%s\", wanted \"%s\"", buf, e->msg, bad[i].err);
		err_free(&e);
	}
	/* objects nest at most AUDIT_DEPTH_MAX deep, the record included */
	for (int i = 0; i < AUDIT_DEPTH_MAX; i++)
		strcat(deep, "{\"k\":");
	strcat(deep, "1");
	for (int i = 0; i < AUDIT_DEPTH_MAX; i++)
		strcat(deep, "}");
	snprintf(buf, sizeof(buf), "{\"d\":%s,%s", deep, line + 1);
	assert_int_equal(audit_record_decode(buf, strcspn(buf, "\n"), &r, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "nest more than"));
	err_free(&e);
	/* the size cap comes before any parsing */
	assert_int_equal(audit_record_decode(buf, AUDIT_RECORD_MAX + 1, &r, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "more than 1048576"));
	err_free(&e);
	free(line);
}

static void test_time_parse(void **state)
{
	struct timespec ts;
	struct err *e = NULL;
	char out[40];

	assert_int_equal(audit_time_parse("1970-01-01T00:00:00Z", &ts, NULL), 0);
	assert_int_equal(ts.tv_sec, 0);
	assert_int_equal(audit_time_parse("2026-11-28T04:30:30.5+01:00", &ts, NULL), 0);
	assert_int_equal(ts.tv_sec, 1795840230 - 3600);
	assert_int_equal(ts.tv_nsec, 500000000);
	assert_int_equal(audit_time_parse("2024-02-29", &ts, NULL), 0);
	assert_int_equal(ts.tv_sec, 1709164800);
	audit_time_format(&(struct timespec){1795840230, 123456789}, out);
	assert_string_equal(out, "2026-11-28T04:30:30.123456789Z");
	assert_int_equal(audit_time_parse("2023-02-29", &ts, &e), -EINVAL);
	err_free(&e);
	assert_int_equal(audit_time_parse("2026-11-28T04:30:30", &ts, &e), -EINVAL);
	err_free(&e);
	assert_int_equal(audit_time_parse("2026-11-28T04:30:30.1234567890Z", &ts, &e), -EINVAL);
	err_free(&e);
}

/* The builder's refusals stick and audit_append reports them. */
static void test_builder_refusals(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *key, *err;
	} reserved[] = {{"seq", "reserved"},  {"hash", "reserved"},	 {"hmac", "reserved"},
			{"prev", "reserved"}, {"audit_gap", "reserved"}, {"", "not 1 to 128"}};
	struct audit_log *l = NULL;
	struct audit_event *e;
	struct err *err = NULL;

	assert_int_equal(audit_open(&f->o, &l, &err), 0);
	for (size_t i = 0; i < ARRAY_SIZE(reserved); i++) {
		e = audit_event_new("policy.deny");
		assert_int_equal(audit_event_str(e, reserved[i].key, "x"), -EINVAL);
		/* later calls do nothing and return the same error */
		assert_int_equal(audit_event_int(e, "fine", 1), -EINVAL);
		assert_int_equal(audit_append(l, e, &err), -EINVAL);
		if (!strstr(err->msg, reserved[i].err) || !strstr(err->msg, "policy.deny"))
			fail_msg("%s", err->msg);
		err_free(&err);
	}
	e = audit_event_new("policy.deny");
	audit_event_str(e, "reason", "a");
	assert_int_equal(audit_event_str(e, "reason", "b"), -EINVAL);
	assert_int_equal(audit_append(l, e, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "\"reason\" set twice"));
	err_free(&err);
	e = audit_event_new("bad event");
	assert_int_equal(audit_append(l, e, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "event name"));
	err_free(&err);
	e = audit_event_new("policy.deny");
	audit_event_obj_begin(e, "mounts");
	assert_int_equal(audit_append(l, e, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "not closed"));
	err_free(&err);
	/* a nested object may use a reserved name; as deep as allowed is
	 * written (and reads back), one more is refused */
	e = audit_event_new("policy.deny");
	assert_int_equal(audit_event_obj_begin(e, "req"), 0);
	assert_int_equal(audit_event_str(e, "seq", "nested is fine"), 0);
	for (int i = 2; i < AUDIT_DEPTH_MAX; i++)
		assert_int_equal(audit_event_obj_begin(e, "d"), 0);
	assert_int_equal(audit_event_bool(e, "deepest", true), 0);
	for (int i = 1; i < AUDIT_DEPTH_MAX; i++)
		assert_int_equal(audit_event_obj_end(e), 0);
	assert_int_equal(audit_event_obj_end(e), -EINVAL);
	assert_int_equal(audit_append(l, e, &err), -EINVAL); /* the extra _end sticks */
	err_free(&err);
	e = audit_event_new("policy.deny");
	for (int i = 1; i < AUDIT_DEPTH_MAX; i++)
		assert_int_equal(audit_event_obj_begin(e, "d"), 0);
	assert_int_equal(audit_event_obj_begin(e, "d"), -EINVAL);
	audit_event_free(e);
	e = audit_event_new("policy.deny");
	for (int i = 1; i < AUDIT_DEPTH_MAX; i++)
		audit_event_obj_begin(e, "d");
	for (int i = 1; i < AUDIT_DEPTH_MAX; i++)
		audit_event_obj_end(e);
	assert_int_equal(audit_append(l, e, &err), 0);
	assert_int_equal(audit_append(l, NULL, &err), -ENOMEM);
	err_free(&err);
	audit_close(l);
	/* only that one record was written */
	verify_is(f, 0, "audit: 1 records verified (seq 1..1), chain intact\n");
}

/* ---- append and verify ------------------------------------------------- */

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct audit_record r;
	struct lines ls;
	struct stat st;
	char prev[SHA256_HEX_LEN + 1] = AUDIT_ZERO_HASH, host[256] = "";

	append_n(f, 5, 1);
	verify_is(f, 0, "audit: 5 records verified (seq 1..5), chain intact\n");
	lines_read(f->log, &ls);
	assert_int_equal(ls.n, 5);
	gethostname(host, sizeof(host) - 1);
	for (size_t i = 0; i < ls.n; i++) {
		record_of(ls.v[i], &r);
		assert_int_equal(r.seq, i + 1);
		assert_string_equal(r.prev, prev);
		assert_string_equal(r.event, "container.start");
		assert_string_equal(r.host, host);
		assert_int_equal(r.uid, getuid());
		assert_int_equal(r.pid, getpid());
		assert_string_equal(r.cmdline[3], "alpine");
		assert_false(r.gap);
		assert_string_equal(r.hmac, "");
		memcpy(prev, r.hash, sizeof(prev));
		audit_record_free(&r);
	}
	lines_free(&ls);
	/* created private: 0700 directories, 0600 files */
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(f->log, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(f->ckey, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
}

static void expect_break(struct fx *f, const char *want_suffix);

static void test_keyed_roundtrip(void **state)
{
	struct fx *f = *state;

	keyed(f);
	append_n(f, 3, 1);
	verify_is(f, 0, "audit: 3 records verified (seq 1..3), chain intact, keyed\n");
	/* the same log checked without the key still verifies its chain, and
	 * says what it could not check */
	f->o.hmac_key_path = NULL;
	verify_is(f, 0,
		  "audit: 3 records verified (seq 1..3), chain intact, hmac not checked (no key "
		  "given)\n");
	/* and with another key it does not */
	write_file(f->hkey, "another key, 16+ bytes long", 27, 0600);
	f->o.hmac_key_path = f->hkey;
	expect_break(f, ":1: seq 1: hmac mismatch (record forged, or another key)");
}

/* ---- tampering ----------------------------------------------------------- */

static void expect_break(struct fx *f, const char *want_suffix)
{
	int r;
	char *rep = verify(f, NULL, 0, &r), *want = NULL;

	assert_true(asprintf(&want, "%s%s\n", want_suffix[0] == 'c' ? "" : f->log, want_suffix) >
		    0);
	if (r != -EBADMSG || strcmp(rep, want))
		fail_msg("verify returned %d: %s   wanted: %s", r, rep, want);
	free(rep);
	free(want);
}

static void test_tamper_edit(void **state)
{
	struct fx *f = *state;
	struct lines ls;
	char *p;

	append_n(f, 5, 1);
	lines_read(f->log, &ls);
	p = strstr(ls.v[2], "c0003");
	p[4] = '9'; /* c0003 -> c0009, hash left as it was */
	lines_write(f->log, &ls);
	lines_free(&ls);
	expect_break(f, ":3: seq 3: hash mismatch (record edited)");
}

static void test_tamper_delete(void **state)
{
	struct fx *f = *state;
	struct lines ls;

	append_n(f, 5, 1);
	lines_read(f->log, &ls);
	free(ls.v[2]);
	memmove(&ls.v[2], &ls.v[3], 2 * sizeof(char *));
	ls.n--;
	lines_write(f->log, &ls);
	lines_free(&ls);
	expect_break(f, ":3: seq 4 follows seq 2 (a record is missing or out of order)");
}

static void test_tamper_reorder(void **state)
{
	struct fx *f = *state;
	struct lines ls;
	char *t;

	append_n(f, 5, 1);
	lines_read(f->log, &ls);
	t = ls.v[1];
	ls.v[1] = ls.v[2];
	ls.v[2] = t;
	lines_write(f->log, &ls);
	lines_free(&ls);
	expect_break(f, ":2: seq 3 follows seq 1 (a record is missing or out of order)");
}

/* A record replaced by one with a recomputed hash: unkeyed, the next
 * record's prev catches it; keyed, its own hmac does. */
static void test_tamper_forge_middle(void **state)
{
	struct fx *f = *state;
	struct audit_record r;
	struct lines ls;

	for (int mode = 0; mode < 3; mode++) {
		if (mode == 1)
			keyed(f);
		/* a fresh log for each mode */
		assert_int_equal(fs_rm_rf_at(AT_FDCWD, f->dir, NULL), 0);
		append_n(f, 5, 1);
		lines_read(f->log, &ls);
		record_of(ls.v[2], &r);
		free(ls.v[2]);
		/* mode 2: the forger also hmacs, with a key of their own */
		ls.v[2] = forge(3, r.prev, mode == 2 ? "not the key at all" : NULL, "innocent");
		audit_record_free(&r);
		lines_write(f->log, &ls);
		lines_free(&ls);
		if (mode == 0)
			expect_break(f, ":4: seq 4: prev is not the hash of seq 3 (a record was "
					"replaced)");
		else if (mode == 1)
			expect_break(f, ":3: seq 3: no hmac in a keyed log (record forged or "
					"inserted)");
		else
			expect_break(f, ":3: seq 3: hmac mismatch (record forged, or another key)");
	}
}

/* A forged record inserted (not replacing): seq gives it away. */
static void test_tamper_insert(void **state)
{
	struct fx *f = *state;
	struct audit_record r;
	struct lines ls;

	append_n(f, 4, 1);
	lines_read(f->log, &ls);
	record_of(ls.v[1], &r);
	memmove(&ls.v[3], &ls.v[2], 2 * sizeof(char *));
	ls.v[2] = forge(3, r.hash, NULL, "inserted");
	ls.n++;
	audit_record_free(&r);
	lines_write(f->log, &ls);
	lines_free(&ls);
	expect_break(f, ":4: seq 3 follows seq 3 (records out of order or repeated)");
}

/*
 * A forged record appended at the end with the right seq and prev. Unkeyed,
 * no line check can see it: the checkpoint does. The next genuine append
 * adopts one such record (it cannot tell it from a crash before the
 * checkpoint) but flags itself with audit_gap; two are refused. Keyed, the
 * record's missing hmac gives it away and the writer refuses to chain on.
 */
static void test_tamper_forge_end(void **state)
{
	struct fx *f = *state;
	struct audit_log *l = NULL;
	struct err *e = NULL;
	char *before, *after;

	append_n(f, 5, 1);
	forge_next(f);
	expect_break(f, "checkpoint: log runs to seq 6 past the checkpoint at seq 5 (appended "
			"behind moat's back, or a crash before the checkpoint was written)");
	append_n(f, 1, 6);
	verify_is(f, 0,
		  "audit: 7 records verified (seq 1..7), chain intact, 1 audit_gap flag (first "
		  "at seq 7)\n");
	/* two forged records: refused, the log left as it was */
	forge_next(f);
	forge_next(f);
	before = read_file(f->log);
	assert_int_equal(audit_open(&f->o, &l, &e), 0);
	assert_int_equal(audit_append(l, audit_event_new("x"), &e), -EBADMSG);
	assert_non_null(strstr(e->msg, "runs to seq 9 past its checkpoint at seq 7"));
	err_free(&e);
	audit_close(l);
	after = read_file(f->log);
	assert_string_equal(after, before);
	free(after);
	free(before);
}

static void test_tamper_forge_end_keyed(void **state)
{
	struct fx *f = *state;
	struct audit_log *l = NULL;
	struct err *e = NULL;

	keyed(f);
	append_n(f, 5, 1);
	forge_next(f);
	expect_break(f, ":6: seq 6: no hmac in a keyed log (record forged or inserted)");
	assert_int_equal(audit_open(&f->o, &l, &e), 0);
	assert_int_equal(audit_append(l, audit_event_new("x"), &e), -EBADMSG);
	assert_non_null(strstr(e->msg, "the last record (seq 6) fails its hmac"));
	err_free(&e);
	audit_close(l);
}

/* Cutting records off the end passes every line check: the checkpoint
 * catches it, and the writer refuses to launder it by writing on. */
static void test_tamper_truncate(void **state)
{
	struct fx *f = *state;
	struct audit_log *l = NULL;
	struct err *e = NULL;
	struct lines ls;

	append_n(f, 5, 1);
	lines_read(f->log, &ls);
	ls.n = 3;
	lines_write(f->log, &ls);
	ls.n = 5;
	lines_free(&ls);
	expect_break(f, "checkpoint: log ends at seq 3 but the checkpoint says 5 (truncated)");
	assert_int_equal(audit_open(&f->o, &l, &e), 0);
	assert_int_equal(audit_append(l, audit_event_new("x"), &e), -EBADMSG);
	assert_non_null(strstr(e->msg, "ends at seq 3 but its checkpoint says 5 (truncated)"));
	err_free(&e);
	audit_close(l);
	/* emptied entirely */
	assert_int_equal(truncate(f->log, 0), 0);
	expect_break(f, "checkpoint: the log has no records but the checkpoint says seq 5 "
			"(truncated)");
}

/* The whole file replaced by a valid chain of the forger's own. */
static void test_tamper_replace_chain(void **state)
{
	struct fx *f = *state;
	char prev[SHA256_HEX_LEN + 1] = AUDIT_ZERO_HASH, ck[400], *forged;
	struct audit_record r;
	int fd;

	append_n(f, 5, 1);
	for (int len = 3; len <= 5; len += 2) {
		memcpy(prev, AUDIT_ZERO_HASH, sizeof(prev));
		fd = open(f->log, O_WRONLY | O_TRUNC);
		for (int i = 1; i <= len; i++) {
			forged = forge((uint64_t)i, prev, NULL, "replacement");
			record_of(forged, &r);
			memcpy(prev, r.hash, sizeof(prev));
			audit_record_free(&r);
			assert_int_equal(fs_write_all(fd, forged, strlen(forged)), 0);
			free(forged);
		}
		close(fd);
		if (len == 3)
			expect_break(f, "checkpoint: log ends at seq 3 but the checkpoint says 5 "
					"(truncated)");
	}
	snprintf(ck, sizeof(ck),
		 "checkpoint: seq 5 at %s:5 is not the record the checkpoint "
		 "holds (replaced)",
		 f->log);
	expect_break(f, ck);
	/* a checkpoint rewritten to match, without the key */
	snprintf(ck, sizeof(ck), "%s.checkpoint", f->log);
	forged = NULL;
	assert_true(asprintf(&forged,
			     "{\"file\":\"audit.log\",\"hash\":\"%s\",\"mac\":\"%s\",\"seq\":5}\n",
			     prev, AUDIT_ZERO_HASH) > 0);
	write_file(ck, forged, strlen(forged), 0600);
	free(forged);
	expect_break(f, "checkpoint: its mac does not verify (forged, or another checkpoint key)");
	/* or deleted */
	unlink(ck);
	expect_break(f, "checkpoint: missing, but the log has records (deleted?)");
}

/* A crash mid-write leaves a partial line: verify names it; the next append
 * cuts it away and flags itself. */
static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	int fd;

	append_n(f, 3, 1);
	fd = open(f->log, O_WRONLY | O_APPEND);
	assert_int_equal(fs_write_all(fd, "{\"cmdline\":[\"mo", 15), 0);
	close(fd);
	expect_break(f, ":4: incomplete final line (a write cut short)");
	append_n(f, 1, 4);
	verify_is(f, 0,
		  "audit: 4 records verified (seq 1..4), chain intact, 1 audit_gap flag (first "
		  "at seq 4)\n");
	/* a line no writer makes, longer than the cap, is a verdict too */
	{
		size_t big = AUDIT_RECORD_MAX + 10;
		char *junk = malloc(big + 1);
		memset(junk, 'x', big);
		junk[big] = '\n';
		fd = open(f->log, O_WRONLY | O_APPEND);
		assert_int_equal(fs_write_all(fd, junk, big + 1), 0);
		close(fd);
		free(junk);
	}
	expect_break(f, ":5: a line longer than 1048576 bytes");
}

/* ---- rotation ---------------------------------------------------------- */

static void test_rotation(void **state)
{
	struct fx *f = *state;
	char **files = NULL, want[300], *rep;
	struct audit_log *l = NULL;
	struct err *e = NULL;
	struct stat st;
	size_t n = 0;
	int r;

	f->o.rotate_bytes = 1500; /* a few records a file */
	f->o.keep = 50;
	append_n(f, 30, 1);
	verify_is(f, 0, "audit: 30 records verified (seq 1..30), chain intact\n");
	/* the chain runs on across files (each file's first prev is the
	 * previous file's last hash: verify checked it) */
	assert_int_equal(audit_files(f->log, &files, &n, &e), 0);
	assert_true(n >= 5);
	assert_string_equal(files[n - 1], f->log);
	snprintf(want, sizeof(want), "%s.%zu", f->log, n - 1);
	assert_string_equal(files[0], want);
	assert_int_equal(stat(f->log, &st), 0);
	assert_true(st.st_size > 0);
	/* a middle file deleted: the next file's first record names the gap */
	unlink(files[n / 2]);
	rep = verify(f, NULL, 0, &r);
	assert_int_equal(r, -EBADMSG);
	snprintf(want, sizeof(want), "%s:1: seq ", files[n / 2 + 1]);
	if (strncmp(rep, want, strlen(want)) ||
	    !strstr(rep, "(a record is missing or out of order)\n"))
		fail_msg("%s", rep);
	free(rep);
	strvfree(files);

	/* keep drops the oldest (and everything numbered past it): the first
	 * kept record continues a chain rotated away */
	f->o.keep = 2;
	append_n(f, 8, 31);
	rep = verify(f, NULL, 0, &r);
	assert_int_equal(r, 0);
	if (!strstr(rep, "..38, earlier records rotated away), chain intact\n"))
		fail_msg("%s", rep);
	free(rep);
	assert_int_equal(audit_files(f->log, &files, &n, &e), 0);
	assert_int_equal(n, 3);
	/* explicit files: the checkpoint is only held to a list that ends with
	 * the live log */
	rep = verify(f, files, 2, &r);
	assert_int_equal(r, 0);
	assert_non_null(strstr(rep, "checkpoint not checked (the last file is not the live log)"));
	free(rep);
	rep = verify(f, files, 3, &r);
	assert_int_equal(r, 0);
	assert_null(strstr(rep, "checkpoint not checked"));
	free(rep);
	strvfree(files);
	/* rotation without keep is refused */
	f->o.keep = 0;
	assert_int_equal(audit_open(&f->o, &l, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "keep must be at least 1"));
	err_free(&e);
}

/* ---- concurrency and failures ------------------------------------------------ */

static void test_concurrent_writers(void **state)
{
	struct fx *f = *state;
	enum { WRITERS = 20, EACH = 20 };
	pid_t pids[WRITERS];
	struct lines ls;
	struct audit_record r;
	int status;

	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct audit_log *l = NULL;
			struct err *e = NULL;
			int bad = audit_open(&f->o, &l, &e) < 0;
			for (int i = 0; i < EACH && !bad; i++) {
				struct audit_event *ev = audit_event_new("test.concurrent");
				audit_event_int(ev, "writer", w);
				audit_event_int(ev, "i", i);
				bad = audit_append(l, ev, &e) < 0;
			}
			if (bad)
				fprintf(stderr, "writer %d: %s\n", w, e ? e->msg : "?");
			_exit(bad);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	verify_is(f, 0, "audit: 400 records verified (seq 1..400), chain intact\n");
	lines_read(f->log, &ls);
	assert_int_equal(ls.n, 400);
	for (size_t i = 0; i < ls.n; i++) {
		record_of(ls.v[i], &r);
		assert_int_equal(r.seq, i + 1);
		audit_record_free(&r);
	}
	lines_free(&ls);
}

/* A file size limit cuts the one write(2) short: the append fails, says
 * what could not be written, and the log keeps no partial line. */
static void test_short_write(void **state)
{
	struct fx *f = *state;
	int pfd[2], status;
	char msg[1100] = "", *before, *after;
	ssize_t n;
	pid_t pid;

	append_n(f, 3, 1);
	before = read_file(f->log);
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {strlen(before) + 100, strlen(before) + 100};
		struct audit_log *l = NULL;
		struct audit_event *e;
		struct err *err = NULL;
		char big[2000];
		int r;

		signal(SIGXFSZ, SIG_IGN);
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		if (audit_open(&f->o, &l, &err) < 0 || setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		e = audit_event_new("container.start");
		audit_event_str(e, "big", big);
		r = audit_append(l, e, &err);
		if (r < 0)
			(void)!write(pfd[1], err->msg, strlen(err->msg));
		_exit(r < 0 ? 0 : 1);
	}
	close(pfd[1]);
	n = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	assert_true(n > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!strstr(msg, "audit log \"") || !strstr(msg, "short write (100 of"))
		fail_msg("%s", msg);
	after = read_file(f->log);
	assert_string_equal(after, before);
	verify_is(f, 0, "audit: 3 records verified (seq 1..3), chain intact\n");
	free(before);
	free(after);
}

static void test_fail_open_gap(void **state)
{
	struct fx *f = *state;
	struct audit_log *l = NULL;
	struct audit_event *ev;
	struct err *e = NULL;
	struct lines ls;
	struct audit_record r;
	char gap[200];
	char *marker;

	snprintf(gap, sizeof(gap), "%s.gap", f->log);
	/* fail-closed: a failure leaves no marker */
	assert_int_equal(audit_open(&f->o, &l, &e), 0);
	assert_false(audit_fail_open(l));
	ev = audit_event_new("x");
	audit_event_str(ev, "seq", "reserved");
	assert_int_equal(audit_append(l, ev, &e), -EINVAL);
	err_free(&e);
	assert_int_equal(access(gap, F_OK), -1);
	audit_close(l);

	f->o.fail_open = true;
	append_n(f, 2, 1);
	assert_int_equal(audit_open(&f->o, &l, &e), 0);
	assert_true(audit_fail_open(l));
	ev = audit_event_new("x");
	audit_event_str(ev, "seq", "reserved");
	assert_int_equal(audit_append(l, ev, &e), -EINVAL);
	err_free(&e);
	marker = read_file(gap);
	assert_non_null(strstr(marker, "key \"seq\" is reserved"));
	free(marker);
	audit_close(l);
	append_n(f, 2, 3);
	assert_int_equal(access(gap, F_OK), -1);
	lines_read(f->log, &ls);
	assert_int_equal(ls.n, 4);
	for (size_t i = 0; i < ls.n; i++) {
		record_of(ls.v[i], &r);
		assert_int_equal(r.gap, i == 2); /* only the first record after the failure */
		assert_int_equal(strstr(ls.v[i], "\"audit_gap\":true") != NULL, i == 2);
		audit_record_free(&r);
	}
	lines_free(&ls);
	verify_is(f, 0,
		  "audit: 4 records verified (seq 1..4), chain intact, 1 audit_gap flag (first "
		  "at seq 3)\n");
}

static void test_open_refusals(void **state)
{
	struct fx *f = *state;
	struct audit_log *l = NULL;
	struct err *e = NULL;
	char other[200];

	append_n(f, 1, 1);
	chmod(f->log, 0666);
	assert_int_equal(audit_open(&f->o, &l, &e), -EPERM);
	assert_non_null(strstr(e->msg, "writable by others"));
	err_free(&e);
	chmod(f->log, 0600);
	assert_int_equal(chown(f->log, 4321, 4321), 0);
	assert_int_equal(audit_open(&f->o, &l, &e), -EPERM);
	assert_non_null(strstr(e->msg, "is owned by uid 4321"));
	err_free(&e);
	snprintf(other, sizeof(other), "%s/elsewhere", f->base);
	write_file(other, "", 0, 0600);
	rename(f->log, other);
	assert_int_equal(symlink(other, f->log), 0);
	assert_int_equal(audit_open(&f->o, &l, &e), -ELOOP);
	assert_non_null(strstr(e->msg, "is a symlink"));
	err_free(&e);
	unlink(f->log);
	write_file(f->hkey, "short", 5, 0600);
	f->o.hmac_key_path = f->hkey;
	assert_int_equal(audit_open(&f->o, &l, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "fewer than 16"));
	err_free(&e);
	write_file(f->hkey, "0123456789abcdef", 16, 0644);
	chmod(f->hkey, 0644);
	assert_int_equal(audit_open(&f->o, &l, &e), -EPERM);
	assert_non_null(strstr(e->msg, "private to it"));
	err_free(&e);
}

/* ---- the CLI ------------------------------------------------------------- */

/* Runs cmd_audit with stdout captured; returns its exit status. */
static int run_cli(struct fx *f, char **out, char *const *args)
{
	char cap[200], *argv[16];
	struct cli_ctx ctx = {.root = f->base, .audit_log = f->log};
	int argc = 0, saved, fd, code;

	argv[argc++] = "audit";
	while (*args)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	snprintf(cap, sizeof(cap), "%s/stdout", f->base);
	fflush(stdout);
	saved = dup(1);
	fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 1);
	close(fd);
	code = cmd_audit(&ctx, argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	*out = read_file(cap);
	return code;
}

static void test_cli(void **state)
{
	struct fx *f = *state;
	struct audit_log *l = NULL;
	struct audit_event *ev;
	struct err *e = NULL;
	struct lines ls;
	char *out;

	append_n(f, 3, 1);
	assert_int_equal(audit_open(&f->o, &l, &e), 0);
	ev = audit_event_new("policy.deny");
	audit_event_str(ev, "container", "4f2a00");
	audit_event_str(ev, "reason", "evil\x1b[2J\nname");
	audit_event_strv(ev, "argv", (char *const[]){"sh", "-c", "\x1b]0;x\x07", NULL});
	assert_int_equal(audit_append(l, ev, &e), 0);
	audit_close(l);

	assert_int_equal(run_cli(f, &out, (char *const[]){"verify", NULL}), 0);
	assert_string_equal(out, "audit: 4 records verified (seq 1..4), chain intact\n");
	free(out);
	assert_int_equal(run_cli(f, &out, (char *const[]){"show", "--event", "policy.*", NULL}), 0);
	assert_non_null(strstr(out, "  seq=4  policy.deny  uid=0 "
				    "argv=[\"sh\",\"-c\",\"\\u001B]0;x\\u0007\"] container=4f2a00 "
				    "reason=\"evil\\x1b[2J\\nname\"\n"));
	assert_null(strchr(out, '\x1b'));
	free(out);
	assert_int_equal(
	    run_cli(f, &out,
		    (char *const[]){"show", "--container", "c0002", "--format", "json", NULL}),
	    0);
	lines_read(f->log, &ls);
	assert_string_equal(out, ls.v[1]);
	lines_free(&ls);
	free(out);
	assert_int_equal(run_cli(f, &out,
				 (char *const[]){"show", "--image", "alpine", "--since",
						 "2000-01-01", "--until", "2999-01-01", NULL}),
			 0);
	assert_non_null(strstr(out, "seq=3"));
	assert_null(strstr(out, "seq=4"));
	free(out);
	assert_int_equal(run_cli(f, &out, (char *const[]){"show", "--uid", "12345", NULL}), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(run_cli(f, &out, (char *const[]){"show", "--since", "yesterday", NULL}),
			 125);
	free(out);
	assert_int_equal(truncate(f->log, 0), 0);
	assert_int_equal(run_cli(f, &out, (char *const[]){"verify", NULL}), 1);
	assert_string_equal(out, "checkpoint: the log has no records but the checkpoint says "
				 "seq 4 (truncated)\n");
	free(out);
	assert_int_equal(run_cli(f, &out, (char *const[]){"verify", "/nonexistent", NULL}), 125);
	free(out);
	assert_int_equal(run_cli(f, &out, (char *const[]){"frobnicate", NULL}), 125);
	free(out);
	/* nothing written yet is an intact, empty log */
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, f->dir, NULL), 0);
	assert_int_equal(run_cli(f, &out, (char *const[]){"verify", NULL}), 0);
	assert_string_equal(out, "audit: 0 records verified, chain intact\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hmac_vectors),
	    cmocka_unit_test(test_canonical_pinned),
	    cmocka_unit_test(test_decode_judges_content),
	    cmocka_unit_test(test_decode_strict),
	    cmocka_unit_test(test_time_parse),
	    cmocka_unit_test_setup_teardown(test_builder_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyed_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_edit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_reorder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_forge_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_insert, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_forge_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_forge_end_keyed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_truncate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_replace_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fail_open_gap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
