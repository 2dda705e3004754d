/*
 * tests/unit/test_prune.c - engine/prune.c (Docker's prune filters: Go
 * durations, until values in every accepted spelling, keys, labels,
 * dangling, the prompt's list, the caps) and image/gc.c on a scratch
 * store (what no record references goes, what one does stays, an
 * unreadable record stops the collection, ROOT/tmp is never touched;
 * the config fields prune filters read).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/err.h"
#include "common/fs.h"
#include "engine/prune.h"
#include "image/gc.h"
#include "image/internal.h"

#define S 1000000000LL
#define NOW (1700000000LL * S)

static const struct prune_clock utc = {NOW, 0};
static const struct prune_clock cet = {NOW, 3600};

/* ---- durations and until ---- */

static void dur_ok(const char *s, int64_t want)
{
	int64_t got = 12345;

	if (prune_duration_parse(s, &got) != 0 || got != want) {
		print_error("duration \"%s\": got %lld, want %lld\n", s, (long long)got,
			    (long long)want);
		fail();
	}
}

static void dur_bad(const char *s, int code)
{
	int64_t got = 0;
	int r = prune_duration_parse(s, &got);

	if (r != -code) {
		print_error("duration \"%s\": returned %d, want %d\n", s, r, -code);
		fail();
	}
}

static void test_duration(void **state)
{
	(void)state;
	dur_ok("0", 0);
	dur_ok("-0", 0);
	dur_ok("10m", 600 * S);
	dur_ok("1h30m", 5400 * S);
	dur_ok("1.5h", 5400 * S);
	dur_ok(".5s", S / 2);
	dur_ok("5.s", 5 * S);
	dur_ok("-1h", -3600 * S);
	dur_ok("+2s", 2 * S);
	dur_ok("1ms2us3ns", 1000000 + 2000 + 3);
	dur_ok("3\xc2\xb5s", 3000);
	dur_ok("3\xce\xbcs", 3000);
	dur_ok("2562047h", 2562047LL * 3600 * S);
	dur_bad("", EINVAL);
	dur_bad("1", EINVAL); /* no unit */
	dur_bad("h", EINVAL);
	dur_bad(".s", EINVAL);
	dur_bad("1x", EINVAL);
	dur_bad("1h-1m", EINVAL);
	dur_bad("1h ", EINVAL);
	dur_bad("2562048h", ERANGE);
	dur_bad("99999999999999999999s", ERANGE);
}

static void until_ok(const char *s, const struct prune_clock *clk, int64_t want)
{
	int64_t got = 12345;

	if (prune_until_parse(s, clk, &got) != 0 || got != want) {
		print_error("until \"%s\": got %lld, want %lld\n", s, (long long)got,
			    (long long)want);
		fail();
	}
}

static void until_bad(const char *s)
{
	int64_t got = 0;

	if (prune_until_parse(s, &utc, &got) != -EINVAL) {
		print_error("until \"%s\" was accepted (%lld)\n", s, (long long)got);
		fail();
	}
}

static void test_until(void **state)
{
	const int64_t y2001 = 978307200LL * S;

	(void)state;
	/* durations: before now ("0" is the epoch, not now, as in Docker) */
	until_ok("10m", &utc, NOW - 600 * S);
	until_ok("-1h", &utc, NOW + 3600 * S);
	until_ok("0", &utc, 0);
	/* unix seconds[.nanoseconds] */
	until_ok("1", &utc, S);
	until_ok("1700000000", &utc, NOW);
	until_ok("1700000000.5", &utc, NOW + S / 2);
	until_ok("1700000000.000000001", &utc, NOW + 1);
	until_ok("1700000000.1234567891", &utc, NOW + 123456789);
	until_ok("9223372037", &utc, INT64_MAX); /* saturated */
	/* RFC 3339 and Docker's shorter layouts */
	until_ok("2001-01-01T00:00:00Z", &utc, y2001);
	until_ok("2001-01-01T00:00:00.25Z", &utc, y2001 + S / 4);
	until_ok("2001-01-01T00:00:00+01:00", &utc, y2001 - 3600 * S);
	until_ok("2001-01-01T00:00:00-01:30", &utc, y2001 + 5400 * S);
	until_ok("2001-01-01Z", &utc, y2001);
	until_ok("2001-01-01T05Z", &utc, y2001 + 5 * 3600 * S);
	until_ok("2001-01-01T05:06Z", &utc, y2001 + (5 * 3600 + 6 * 60) * S);
	until_ok("2000-02-29", &utc, 951782400LL * S);
	/* no zone: the local zone's offset now */
	until_ok("2001-01-01", &utc, y2001);
	until_ok("2001-01-01", &cet, y2001 - 3600 * S);
	until_ok("2001-01-01T00:00:00", &cet, y2001 - 3600 * S);
	until_ok("2001-01-01T00:00:00.5", &cet, y2001 - 3600 * S + S / 2);
	until_bad("");
	until_bad("bad");
	until_bad("h");
	until_bad("1-2");
	until_bad("2001-02-29");
	until_bad("2001-13-01");
	until_bad("2001-01-32");
	until_bad("2001-01-01T24:00:00Z");
	until_bad("2001-01-01T00:60Z");
	until_bad("2001-01-01T00:00:00z");	/* Go: lower-case z is no zone */
	until_bad("2001-01-01T00:00:00+01");	/* offset needs minutes */
	until_bad("2001-01-01T00:00:00+24:00"); /* hour out of range */
	until_bad("2001-01-01T00:00.5Z");	/* fraction only after seconds */
	until_bad("2001-01-01T00:00:00.Z");
	until_bad("2001-01-01T00:00:00.1234567890Z");
	until_bad("2001-1-01");
	until_bad("2001-01-01 00:00:00");
	until_bad("1.");
	until_bad(".5");
	until_bad("99999999999999999999");
}

/* ---- parsing filters ---- */

static void parse_ok(char **specs, size_t n, enum prune_target t, bool all, struct prune_filter *f)
{
	struct err *err = NULL;

	if (prune_filter_parse(specs, n, t, all, &utc, f, &err) != 0) {
		print_error("refused: %s\n", err->msg);
		err_free(&err);
		fail();
	}
}

static void parse_bad(char **specs, size_t n, enum prune_target t, bool all, const char *msg)
{
	struct prune_filter f;
	struct err *err = NULL;

	if (prune_filter_parse(specs, n, t, all, &utc, &f, &err) >= 0) {
		print_error("accepted, wanted \"%s\"\n", msg);
		prune_filter_clear(&f);
		fail();
	}
	assert_non_null(err);
	if (strcmp(err->msg, msg)) {
		print_error("message \"%s\", wanted \"%s\"\n", err->msg, msg);
		err_free(&err);
		fail();
	}
	/* nothing left allocated or set on error */
	assert_null(f.labels);
	assert_null(f.shown);
	assert_false(f.has_until);
	err_free(&err);
}

static void test_parse(void **state)
{
	struct prune_filter f;

	(void)state;
	/* no filters: images are dangling-only unless -a */
	parse_ok(NULL, 0, PRUNE_IMAGES, false, &f);
	assert_true(f.dangling);
	assert_false(f.has_until);
	assert_int_equal(f.n_shown, 0);
	prune_filter_clear(&f);
	parse_ok(NULL, 0, PRUNE_IMAGES, true, &f);
	assert_false(f.dangling);
	prune_filter_clear(&f);

	/* keys are trimmed and lower-cased, values trimmed */
	{
		char *v[] = {" Label = a=b ", "UNTIL=1h", "label!=c"};
		parse_ok(v, 3, PRUNE_CONTAINERS, false, &f);
		assert_int_equal(f.n_labels, 1);
		assert_string_equal(f.labels[0], "a=b");
		assert_int_equal(f.n_not, 1);
		assert_string_equal(f.not_labels[0], "c");
		assert_true(f.has_until);
		assert_true(f.until == NOW - 3600 * S);
		prune_filter_clear(&f);
	}
	/* the same until twice is one value; a repeated label is one */
	{
		char *v[] = {"until=1h", "until=1h", "label=x", "label=x"};
		parse_ok(v, 4, PRUNE_IMAGES, false, &f);
		assert_int_equal(f.n_labels, 1);
		assert_int_equal(f.n_shown, 2);
		prune_filter_clear(&f);
	}
	/* Docker's prompt list: natural order, deduplicated, no dangling */
	{
		char *v[] = {"until=24h", "label=hello-world", "label!=foo=bar", "label=bar=baz",
			     "label=a10", "label=a9",	       "dangling=false", "label=bar=baz"};
		const char *want[] = {"label!=foo=bar", "label=a9",	     "label=a10",
				      "label=bar=baz",	"label=hello-world", "until=24h"};
		parse_ok(v, 8, PRUNE_IMAGES, false, &f);
		assert_int_equal(f.n_shown, ARRAY_SIZE(want));
		for (size_t i = 0; i < ARRAY_SIZE(want); i++)
			assert_string_equal(f.shown[i], want[i]);
		assert_null(f.shown[f.n_shown]);
		assert_false(f.dangling);
		prune_filter_clear(&f);
	}
	/* dangling: the user's value, or -a's; 1 and 0 are Go's too */
	{
		char *t[] = {"dangling=1"}, *z[] = {"dangling=0"};
		parse_ok(t, 1, PRUNE_IMAGES, false, &f);
		assert_true(f.dangling);
		prune_filter_clear(&f);
		parse_ok(z, 1, PRUNE_IMAGES, false, &f);
		assert_false(f.dangling);
		prune_filter_clear(&f);
		parse_ok(z, 1, PRUNE_IMAGES, true, &f);
		assert_false(f.dangling);
		prune_filter_clear(&f);
	}
}

static void test_parse_errors(void **state)
{
	(void)state;
	{
		char *v[] = {"foo=bar"};
		parse_bad(v, 1, PRUNE_IMAGES, false, "invalid filter 'foo'");
	}
	{
		/* keys are checked before any value */
		char *v[] = {"until=bad", "Nope=1"};
		parse_bad(v, 2, PRUNE_IMAGES, false, "invalid filter 'nope'");
	}
	{
		char *v[] = {"dangling=true"};
		parse_bad(v, 1, PRUNE_CONTAINERS, false, "invalid filter 'dangling'");
	}
	{
		char *v[] = {"label"};
		parse_bad(v, 1, PRUNE_IMAGES, false,
			  "invalid argument \"label\" for \"--filter\" flag: bad format of filter "
			  "(expected name=value)");
	}
	{
		char *v[] = {"until=1h", "until=2h"};
		parse_bad(v, 2, PRUNE_IMAGES, false, "more than one until filter specified");
	}
	{
		char *v[] = {"until=yesterday"};
		parse_bad(v, 1, PRUNE_CONTAINERS, false,
			  "invalid filter 'until=yesterday': failed to parse value as time or "
			  "duration");
	}
	{
		char *v[] = {"label="};
		parse_bad(v, 1, PRUNE_IMAGES, false, "invalid filter 'label='");
	}
	{
		char *v[] = {"label!==x"};
		parse_bad(v, 1, PRUNE_IMAGES, false, "invalid filter 'label!==x'");
	}
	{
		char *v[] = {"dangling=true"};
		parse_bad(v, 1, PRUNE_IMAGES, true, "invalid filter 'dangling=true,false'");
	}
	{
		char *v[] = {"dangling=true", "dangling=false"};
		parse_bad(v, 2, PRUNE_IMAGES, false, "invalid filter 'dangling=true,false'");
	}
	{
		char *v[] = {"dangling=maybe"};
		parse_bad(v, 1, PRUNE_IMAGES, false, "invalid filter 'dangling=maybe'");
	}
	{
		/* a bad value behind good ones still frees what was parsed */
		char *v[] = {"label=a", "label!=b", "until=x"};
		parse_bad(v, 3, PRUNE_IMAGES, false,
			  "invalid filter 'until=x': failed to parse value as time or duration");
	}
}

static void test_parse_caps(void **state)
{
	char **many = calloc(PRUNE_FILTERS_MAX + 1, sizeof(char *));
	char *big = malloc(PRUNE_FILTER_LEN_MAX + 2);
	struct prune_filter f;

	(void)state;
	assert_non_null(many);
	assert_non_null(big);
	for (size_t i = 0; i <= PRUNE_FILTERS_MAX; i++)
		many[i] = "label=a";
	parse_ok(many, PRUNE_FILTERS_MAX, PRUNE_IMAGES, false, &f);
	prune_filter_clear(&f);
	parse_bad(many, PRUNE_FILTERS_MAX + 1, PRUNE_IMAGES, false,
		  "too many filters (at most 256)");
	memcpy(big, "label=", 6);
	memset(big + 6, 'k', PRUNE_FILTER_LEN_MAX - 6);
	big[PRUNE_FILTER_LEN_MAX] = 0;
	parse_ok(&big, 1, PRUNE_IMAGES, false, &f);
	assert_int_equal(strlen(f.labels[0]), PRUNE_FILTER_LEN_MAX - 6);
	prune_filter_clear(&f);
	big[PRUNE_FILTER_LEN_MAX] = 'k';
	big[PRUNE_FILTER_LEN_MAX + 1] = 0;
	parse_bad(&big, 1, PRUNE_IMAGES, false, "filter longer than 4096 bytes");
	free(big);
	free(many);
}

/* ---- matching ---- */

static bool m(char **specs, size_t n, int64_t created, char **labels)
{
	struct prune_filter f;
	bool r;

	parse_ok(specs, n, PRUNE_CONTAINERS, false, &f);
	r = prune_filter_match(&f, created, labels);
	prune_filter_clear(&f);
	return r;
}

static void test_match(void **state)
{
	char *web[] = {"env=prod", "tier=front", "flag=", NULL};
	char *twice[] = {"a=1", "a=2", NULL};
	char *bare[] = {"k", NULL};

	(void)state;
	assert_true(m(NULL, 0, NOW, NULL));
	/* until: created after it stays; exactly at it goes */
	{
		char *v[] = {"until=1700000000"};
		assert_true(m(v, 1, NOW, web));
		assert_true(m(v, 1, NOW - 1, web));
		assert_false(m(v, 1, NOW + 1, web));
	}
	/* label: every one must match */
	{
		char *k[] = {"label=env"}, *kv[] = {"label=env=prod"}, *wrong[] = {"label=env=dev"};
		char *both[] = {"label=env=prod", "label=tier"}, *one[] = {"label=env", "label=no"};
		char *empty[] = {"label=flag"}, *emptyv[] = {"label=flag="};
		assert_true(m(k, 1, 0, web));
		assert_true(m(kv, 1, 0, web));
		assert_false(m(wrong, 1, 0, web));
		assert_true(m(both, 2, 0, web));
		assert_false(m(one, 2, 0, web));
		assert_true(m(empty, 1, 0, web));
		assert_true(m(emptyv, 1, 0, web));
		assert_false(m(k, 1, 0, NULL));
		/* the last of a repeated key counts; a bare "k" has "" */
		{
			char *a2[] = {"label=a=2"}, *a1[] = {"label=a=1"}, *kk[] = {"label=k="};
			assert_true(m(a2, 1, 0, twice));
			assert_false(m(a1, 1, 0, twice));
			assert_true(m(kk, 1, 0, bare));
		}
	}
	/* label!: kept only when every one matches */
	{
		char *n1[] = {"label!=env"}, *n2[] = {"label!=env", "label!=nope"};
		char *n3[] = {"label!=env=prod", "label!=tier=front"}, *nv[] = {"label!=env=dev"};
		assert_false(m(n1, 1, 0, web));
		assert_true(m(n1, 1, 0, NULL));
		assert_true(m(n2, 2, 0, web));
		assert_false(m(n3, 2, 0, web));
		assert_true(m(nv, 1, 0, web));
	}
	/* all keys together */
	{
		char *v[] = {"until=1700000000", "label=env", "label!=flag"};
		char *plain[] = {"env=x", NULL};
		assert_false(m(v, 3, 0, web));	       /* has flag */
		assert_true(m(v, 3, 0, plain));	       /* env, no flag, old */
		assert_false(m(v, 3, NOW + 1, plain)); /* too new */
	}
}

/* ---- the store ---- */

struct store_fx {
	char root[64];
	struct image_store *s;
	struct image_idmode mode;
};

static char *path(const struct store_fx *fx, const char *rel)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", fx->root, rel);
	return buf[k];
}

static bool exists(const struct store_fx *fx, const char *rel)
{
	struct stat st;

	return lstat(path(fx, rel), &st) == 0;
}

static void put(const struct store_fx *fx, const char *rel, const char *data, size_t len)
{
	int fd = open(path(fx, rel), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void fill(const struct store_fx *fx, const char *rel, size_t len)
{
	char *data = malloc(len);

	assert_non_null(data);
	memset(data, 'z', len);
	put(fx, rel, data, len);
	free(data);
}

/* A blob named for its content; HEX filled. */
static void blob(const struct store_fx *fx, const char *data, char hex[65])
{
	char rel[128];

	digest_sha256_hex(data, strlen(data), hex);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	put(fx, rel, data, strlen(data));
}

static void hexof(const char *s, char hex[65])
{
	digest_sha256_hex(s, strlen(s), hex);
}

static int fx_setup(void **state)
{
	struct store_fx *fx = calloc(1, sizeof(*fx));
	struct err *err = NULL;

	assert_non_null(fx);
	snprintf(fx->root, sizeof(fx->root), "/tmp/moat-test-prune.XXXXXX");
	assert_non_null(mkdtemp(fx->root));
	fx->mode.kind = IMAGE_IDS_SQUASH;
	if (image_store_open(fx->root, &fx->mode, &fx->s, &err) < 0) {
		print_error("open: %s\n", err->msg);
		return -1;
	}
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct store_fx *fx = *state;
	struct err *err = NULL;

	image_store_close(fx->s);
	fs_rm_rf_at(AT_FDCWD, fx->root, &err);
	err_free(&err);
	free(fx);
	return 0;
}

/* Writes the record of an image: config CFG, manifest MAN, one layer
 * (blob LAYER, DiffID DIFF). */
static void record(const struct store_fx *fx, const char *cfg, const char *man, const char *layer,
		   const char *diff)
{
	struct store_layer l = {0};
	struct store_record r = {0};
	struct err *err = NULL;
	char *txt = NULL, rel[128];

	snprintf(r.id, sizeof(r.id), "sha256:%s", cfg);
	snprintf(r.manifest, sizeof(r.manifest), "sha256:%s", man);
	assert_true(asprintf(&l.digest, "sha256:%s", layer) > 0);
	assert_true(asprintf(&l.diff_id, "sha256:%s", diff) > 0);
	l.media_type = IMAGE_MT_OCI_LAYER;
	l.size = 10;
	r.layers = &l;
	r.n_layers = 1;
	r.created = 1;
	if (store_record_encode(&r, &txt, &err) < 0) {
		print_error("encode: %s\n", err->msg);
		fail();
	}
	snprintf(rel, sizeof(rel), "images/%s.json", cfg);
	put(fx, rel, txt, strlen(txt));
	free(txt);
	free(l.digest);
	free(l.diff_id);
}

static void test_gc(void **state)
{
	struct store_fx *fx = *state;
	char cfg[65], man[65], lay[65], diff[65], junk[65], gone[65], orphan[65];
	char rel[256], rel2[256];
	struct image_gc_report rep;
	struct err *err = NULL;

	/* an image: config, manifest, layer blob, and its extracted tree */
	blob(fx, "{\"config\":{}}", cfg);
	blob(fx, "{\"manifest\":1}", man);
	blob(fx, "layer-bytes", lay);
	hexof("diff", diff);
	snprintf(rel, sizeof(rel), "layers/squash/%s", diff);
	assert_int_equal(mkdir(path(fx, rel), 0700), 0);
	snprintf(rel, sizeof(rel), "layers/squash/%s/kept", diff);
	fill(fx, rel, 100);
	snprintf(rel, sizeof(rel), "layers/squash/%s.json", diff);
	put(fx, rel, "{}", 2);
	record(fx, cfg, man, lay, diff);

	/* garbage: a blob, a layer tree with its counts, a tree of another
	 * id mode, an orphan counts file, leftovers of older moats */
	blob(fx, "unreferenced", junk); /* 12 bytes */
	hexof("gone", gone);
	snprintf(rel, sizeof(rel), "layers/squash/%s", gone);
	assert_int_equal(mkdir(path(fx, rel), 0700), 0);
	snprintf(rel, sizeof(rel), "layers/squash/%s/d", gone);
	assert_int_equal(mkdir(path(fx, rel), 0000), 0); /* unreadable: still removed */
	snprintf(rel, sizeof(rel), "layers/squash/%s/f", gone);
	fill(fx, rel, 1000);
	assert_int_equal(
	    symlinkat("/etc/passwd", AT_FDCWD,
		      path(fx, (snprintf(rel2, sizeof(rel2), "layers/squash/%s/l", gone), rel2))),
	    0); /* 11 bytes, not followed */
	snprintf(rel, sizeof(rel), "layers/squash/%s.json", gone);
	put(fx, rel, "{\"a\":1}", 7);
	assert_int_equal(mkdir(path(fx, "layers/shift-99"), 0700), 0);
	snprintf(rel, sizeof(rel), "layers/shift-99/%s", gone);
	assert_int_equal(mkdir(path(fx, rel), 0700), 0);
	snprintf(rel, sizeof(rel), "layers/shift-99/%s/g", gone);
	fill(fx, rel, 200);
	/* the image's layer in the other mode is still referenced */
	snprintf(rel, sizeof(rel), "layers/shift-99/%s", diff);
	assert_int_equal(mkdir(path(fx, rel), 0700), 0);
	hexof("orphan", orphan);
	snprintf(rel, sizeof(rel), "layers/squash/%s.json", orphan);
	put(fx, rel, "{}", 2);
	fill(fx, "blobs/sha256/.tmp-x-1", 3);
	assert_int_equal(mkdir(path(fx, "layers/squash/.tmp-old"), 0700), 0);
	fill(fx, "layers/squash/.tmp-old/h", 4);
	/* not the store's names: left alone */
	fill(fx, "blobs/sha256/README", 5);
	fill(fx, "layers/squash/notes", 6);
	/* a transaction's staging directory: never touched */
	assert_int_equal(mkdir(path(fx, "tmp/txn-live"), 0700), 0);
	fill(fx, "tmp/txn-live/s0", 7);

	if (image_store_gc(fx->s, &fx->mode, &rep, &err) < 0) {
		print_error("gc: %s\n", err->msg);
		fail();
	}
	assert_int_equal(rep.blobs, 2);	 /* junk, .tmp-x-1 */
	assert_int_equal(rep.layers, 3); /* gone (two modes), .tmp-old */
	/* 12 + 3 blobs; 1000 + 11 + 7 (counts) + 200 + 4 trees; 2 orphan */
	assert_int_equal(rep.bytes, 12 + 3 + 1000 + 11 + 7 + 200 + 4 + 2);

	snprintf(rel, sizeof(rel), "blobs/sha256/%s", junk);
	assert_false(exists(fx, rel));
	snprintf(rel, sizeof(rel), "layers/squash/%s", gone);
	assert_false(exists(fx, rel));
	snprintf(rel, sizeof(rel), "layers/squash/%s.json", gone);
	assert_false(exists(fx, rel));
	snprintf(rel, sizeof(rel), "layers/shift-99/%s", gone);
	assert_false(exists(fx, rel));
	snprintf(rel, sizeof(rel), "layers/squash/%s.json", orphan);
	assert_false(exists(fx, rel));
	assert_false(exists(fx, "blobs/sha256/.tmp-x-1"));
	assert_false(exists(fx, "layers/squash/.tmp-old"));

	/* what the record names stays, in every mode */
	const char *keep[] = {cfg, man, lay};
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		snprintf(rel, sizeof(rel), "blobs/sha256/%s", keep[i]);
		assert_true(exists(fx, rel));
	}
	snprintf(rel, sizeof(rel), "layers/squash/%s/kept", diff);
	assert_true(exists(fx, rel));
	snprintf(rel, sizeof(rel), "layers/squash/%s.json", diff);
	assert_true(exists(fx, rel));
	snprintf(rel, sizeof(rel), "layers/shift-99/%s", diff);
	assert_true(exists(fx, rel));
	assert_true(exists(fx, "blobs/sha256/README"));
	assert_true(exists(fx, "layers/squash/notes"));
	assert_true(exists(fx, "tmp/txn-live/s0"));

	/* a second run finds nothing */
	assert_int_equal(image_store_gc(fx->s, &fx->mode, &rep, &err), 0);
	assert_int_equal(rep.blobs + rep.layers + rep.bytes, 0);
}

static void test_gc_unreadable_record(void **state)
{
	struct store_fx *fx = *state;
	char junk[65], rel[256], bad[65];
	struct image_gc_report rep;
	struct err *err = NULL;

	blob(fx, "unreferenced", junk);
	hexof("bad", bad);
	snprintf(rel, sizeof(rel), "images/%s.json", bad);
	put(fx, rel, "{not json", 9);
	assert_int_equal(image_store_gc(fx->s, &fx->mode, &rep, &err), -EIO);
	assert_non_null(strstr(err->msg, "nothing collected"));
	err_free(&err);
	assert_int_equal(rep.blobs + rep.layers + rep.bytes, 0);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", junk);
	assert_true(exists(fx, rel));
}

static void test_prune_meta(void **state)
{
	struct store_fx *fx = *state;
	const char *cfg_txt = "{\"architecture\":\"amd64\",\"os\":\"linux\","
			      "\"created\":\"2001-01-01T00:00:00.5Z\","
			      "\"config\":{\"Labels\":{\"a\":\"1\",\"b\":\"\"}},"
			      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	const char *plain = "{\"architecture\":\"amd64\",\"os\":\"linux\","
			    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	char hex[65], id[72], rel[128];
	_cleanup_strv_ char **labels = NULL;
	struct err *err = NULL;
	int64_t created;

	blob(fx, cfg_txt, hex);
	snprintf(id, sizeof(id), "sha256:%s", hex);
	if (image_store_prune_meta(fx->s, id, &created, &labels, &err) < 0) {
		print_error("meta: %s\n", err->msg);
		fail();
	}
	assert_true(created == 978307200LL * S); /* whole seconds */
	assert_non_null(labels);
	assert_string_equal(labels[0], "a=1");
	assert_string_equal(labels[1], "b=");
	assert_null(labels[2]);
	strvfree(labels);
	labels = NULL;

	/* no created: -1 (the caller uses the store's time); no labels */
	blob(fx, plain, hex);
	snprintf(id, sizeof(id), "sha256:%s", hex);
	assert_int_equal(image_store_prune_meta(fx->s, id, &created, &labels, &err), 0);
	assert_true(created == -1);
	assert_null(labels[0]);
	strvfree(labels);
	labels = NULL;

	/* content that is not what the id says */
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	put(fx, rel, cfg_txt, strlen(cfg_txt));
	assert_int_equal(image_store_prune_meta(fx->s, id, &created, &labels, &err), -EIO);
	assert_null(labels);
	err_free(&err);
	/* no such blob, and no id at all */
	hexof("nothing", hex);
	snprintf(id, sizeof(id), "sha256:%s", hex);
	assert_int_equal(image_store_prune_meta(fx->s, id, &created, &labels, &err), -ENOENT);
	err_free(&err);
	assert_int_equal(image_store_prune_meta(fx->s, "sha256:../../x", &created, &labels, &err),
			 -EINVAL);
	err_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_until),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_caps),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test_setup_teardown(test_gc, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_gc_unreadable_record, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_prune_meta, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
