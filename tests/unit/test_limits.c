/*
 * tests/unit/test_limits.c - engine/limits.c: Docker's size syntax
 * (RAMInBytes: units, "b"/"ib" suffixes, fractions truncated, the messages
 * for bad numbers and suffixes, overflow refused), --cpus into nano-CPUs
 * (precision, zero, junk, overflow), cpuset lists (normalised, bad ranges,
 * bounds) and --ulimit (names, soft:hard rules, -1, junk); and that a
 * failed parse leaves its output alone. The container record keeps the
 * limits: a round trip, older records without them, and the refusal of a
 * record whose limits the flags would have refused. Live (root, skipped
 * elsewhere): the cgroup backends' set_limits - v1 writes every file and
 * makes a cpuset cgroup a task can join; v2 refuses a limit whose
 * controller is missing (the hybrid unified mount has none) rather than
 * dropping it.
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
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/err.h"
#include "engine/containers.h"
#include "engine/limits.h"
#include "sandbox/cgroup.h"

static void size_ok(const char *s, int64_t want)
{
	struct err *err = NULL;
	int64_t v = -7;

	if (engine_limits_size_parse(s, &v, &err) < 0) {
		print_error("size \"%s\" refused: %s\n", s, err->msg);
		err_free(&err);
		fail();
	}
	if (v != want) {
		print_error("size \"%s\": want %lld, got %lld\n", s, (long long)want, (long long)v);
		fail();
	}
	assert_null(err);
}

static void size_bad(const char *s, const char *msg)
{
	struct err *err = NULL;
	int64_t v = -7;

	if (engine_limits_size_parse(s, &v, &err) == 0) {
		print_error("size \"%s\" accepted as %lld\n", s, (long long)v);
		fail();
	}
	assert_int_equal(v, -7);
	assert_non_null(err);
	if (!strstr(err->msg, msg)) {
		print_error("size \"%s\": want \"%s\", got \"%s\"\n", s, msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_size(void **state)
{
	(void)state;
	size_ok("0", 0);
	size_ok("1024", 1024);
	size_ok("32", 32);
	size_ok("32b", 32);
	size_ok("32B", 32);
	size_ok("1k", 1024);
	size_ok("1K", 1024);
	size_ok("1kb", 1024);
	size_ok("1KiB", 1024);
	size_ok("6m", 6 << 20);
	size_ok("512M", 512LL << 20);
	size_ok("512mb", 512LL << 20);
	size_ok("1g", 1LL << 30);
	size_ok("1GiB", 1LL << 30);
	size_ok("2t", 2LL << 40);
	size_ok("3p", 3LL << 50);
	size_ok("1.5g", 3LL << 29);
	size_ok("0.5k", 512);
	size_ok(".5k", 512);
	size_ok("1.", 1);
	size_ok("1.9", 1); /* truncated, as Docker's int64(float) */
	size_ok("1.0001k", 1024);
	size_ok("10 m", 10 << 20); /* go-units allows one space */
	size_ok("8191p", 8191LL << 50);
	size_ok("9223372036854775807", INT64_MAX);
	size_ok("0.333333333333333333333333k", 341);
}

static void test_size_errors(void **state)
{
	(void)state;
	size_bad("", "invalid size: ''");
	size_bad("m", "invalid size: 'm'");
	size_bad(".", "invalid size");
	size_bad("-1", "invalid size: '-1'");
	size_bad("-1m", "invalid size");
	size_bad("1x", "invalid suffix: 'x'");
	size_bad("1e", "invalid suffix: 'e'");
	size_bad("1kk", "invalid suffix: 'kk'");
	size_bad("1bb", "invalid suffix: 'bb'");
	size_bad("1kbb", "invalid suffix");
	size_bad("1kib ", "invalid suffix");
	size_bad("1mx", "invalid suffix: 'mx'");
	size_bad("1mi", "invalid suffix: 'mi'");
	size_bad("1.2.3", "invalid suffix");
	size_bad("1  m", "invalid suffix");
	size_bad(" 1m", "invalid size");
	size_bad("1e3", "invalid suffix");
	size_bad("0x10", "invalid suffix");
	size_bad("8192p", "too large");
	size_bad("9223372036854775808", "too large");
	size_bad("99999999999999999999999", "too large");
	size_bad("1ee", "invalid suffix");
	{
		char big[400];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		size_bad(big, "too long");
	}
}

static void cpus_ok(const char *s, int64_t want)
{
	struct err *err = NULL;
	int64_t v = -7;

	if (engine_limits_cpus_parse(s, &v, &err) < 0) {
		print_error("cpus \"%s\" refused: %s\n", s, err->msg);
		err_free(&err);
		fail();
	}
	if (v != want) {
		print_error("cpus \"%s\": want %lld, got %lld\n", s, (long long)want, (long long)v);
		fail();
	}
}

static void cpus_bad(const char *s, const char *msg)
{
	struct err *err = NULL;
	int64_t v = -7;

	if (engine_limits_cpus_parse(s, &v, &err) == 0) {
		print_error("cpus \"%s\" accepted as %lld\n", s, (long long)v);
		fail();
	}
	assert_int_equal(v, -7);
	if (!strstr(err->msg, msg)) {
		print_error("cpus \"%s\": want \"%s\", got \"%s\"\n", s, msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_cpus(void **state)
{
	(void)state;
	cpus_ok("1", 1000000000);
	cpus_ok("1.5", 1500000000);
	cpus_ok("0.5", 500000000);
	cpus_ok(".25", 250000000);
	cpus_ok("0.01", 10000000);
	cpus_ok("0.000000001", 1);
	cpus_ok("2.0000000000", 2000000000); /* zeros past the 9th decimal are exact */
	cpus_ok("64", 64000000000LL);
	cpus_ok("9223372036.854775807", INT64_MAX);

	cpus_bad("0", "above 0");
	cpus_bad("0.000", "above 0");
	cpus_bad("abc", "failed to parse abc as a rational number");
	cpus_bad("", "failed to parse");
	cpus_bad(".", "failed to parse");
	cpus_bad("-1", "failed to parse");
	cpus_bad("1.5x", "failed to parse");
	cpus_bad("1,5", "failed to parse");
	cpus_bad("1.2.3", "failed to parse");
	cpus_bad(" 1", "failed to parse");
	cpus_bad("0.0000000001", "value is too precise");
	cpus_bad("1.0000000005", "value is too precise");
	cpus_bad("9223372036.854775808", "too large");
	cpus_bad("99999999999999999999", "too large");
}

static void cpuset_ok(const char *s, const char *want)
{
	struct err *err = NULL;
	char out[128] = "untouched";

	if (engine_limits_cpuset_parse(s, out, &err) < 0) {
		print_error("cpuset \"%s\" refused: %s\n", s, err->msg);
		err_free(&err);
		fail();
	}
	if (strcmp(out, want)) {
		print_error("cpuset \"%s\": want \"%s\", got \"%s\"\n", s, want, out);
		fail();
	}
}

static void cpuset_bad(const char *s, const char *msg)
{
	struct err *err = NULL;
	char out[128] = "untouched";

	if (engine_limits_cpuset_parse(s, out, &err) == 0) {
		print_error("cpuset \"%s\" accepted as \"%s\"\n", s, out);
		fail();
	}
	assert_string_equal(out, "untouched");
	if (!strstr(err->msg, msg)) {
		print_error("cpuset \"%s\": want \"%s\", got \"%s\"\n", s, msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_cpuset(void **state)
{
	char many[200] = "";

	(void)state;
	cpuset_ok("0", "0");
	cpuset_ok("0-3", "0-3");
	cpuset_ok("3,1,2", "1-3");
	cpuset_ok("0-3,5,7-8", "0-3,5,7-8");
	cpuset_ok("5,0-3,4", "0-5");
	cpuset_ok("1-1", "1");
	cpuset_ok("2,2,2", "2");
	cpuset_ok("0-2,1-4", "0-4");
	cpuset_ok("8191", "8191");
	cpuset_ok("0-8191", "0-8191");

	cpuset_bad("", "empty");
	cpuset_bad("3-1", "invalid range format: 3-1");
	cpuset_bad("a", "invalid format: a");
	cpuset_bad("1,", "invalid format: 1,");
	cpuset_bad(",1", "invalid format");
	cpuset_bad("1-", "invalid format");
	cpuset_bad("-1", "invalid format");
	cpuset_bad("1--2", "invalid format");
	cpuset_bad("1-2-3", "invalid format");
	cpuset_bad("1 ,2", "invalid format");
	cpuset_bad("8192", "above 8191");
	cpuset_bad("0-99999999999999999999999", "invalid format");
	/* Every other CPU up to 100: the normalised list needs more than 127
	 * characters. */
	for (int c = 0, n = 0; c < 100; c += 2)
		n += snprintf(many + n, sizeof(many) - (size_t)n, "%s%d", c ? "," : "", c);
	cpuset_bad(many, "too many ranges");
}

static void ulimit_ok(const char *s, int res, uint64_t soft, uint64_t hard)
{
	struct err *err = NULL;
	struct engine_ulimit u = {-1, 7, 7};

	if (engine_limits_ulimit_parse(s, &u, &err) < 0) {
		print_error("ulimit \"%s\" refused: %s\n", s, err->msg);
		err_free(&err);
		fail();
	}
	assert_int_equal(u.resource, res);
	assert_true(u.soft == soft);
	assert_true(u.hard == hard);
}

static void ulimit_bad(const char *s, const char *msg)
{
	struct err *err = NULL;
	struct engine_ulimit u = {-1, 7, 7};

	if (engine_limits_ulimit_parse(s, &u, &err) == 0) {
		print_error("ulimit \"%s\" accepted\n", s);
		fail();
	}
	assert_int_equal(u.resource, -1);
	assert_true(u.soft == 7 && u.hard == 7);
	if (!strstr(err->msg, msg)) {
		print_error("ulimit \"%s\": want \"%s\", got \"%s\"\n", s, msg, err->msg);
		fail();
	}
	err_free(&err);
}

static void test_ulimit(void **state)
{
	(void)state;
	ulimit_ok("nofile=64:64", RLIMIT_NOFILE, 64, 64);
	ulimit_ok("nofile=64", RLIMIT_NOFILE, 64, 64);
	ulimit_ok("nofile=32:1024", RLIMIT_NOFILE, 32, 1024);
	ulimit_ok("nproc=10:20", RLIMIT_NPROC, 10, 20);
	ulimit_ok("core=0", RLIMIT_CORE, 0, 0);
	ulimit_ok("core=-1", RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY);
	ulimit_ok("memlock=64:-1", RLIMIT_MEMLOCK, 64, RLIM_INFINITY);
	ulimit_ok("stack=+8192", RLIMIT_STACK, 8192, 8192);
	ulimit_ok("rttime=9223372036854775807", RLIMIT_RTTIME, INT64_MAX, INT64_MAX);
	for (int r = 0; r < RLIM_NLIMITS; r++) {
		const char *name = engine_limits_ulimit_name(r);
		char text[64];

		if (r == RLIMIT_AS) {
			/* Docker has no name for it. */
			assert_null(name);
			continue;
		}
		assert_non_null(name);
		snprintf(text, sizeof(text), "%s=1:2", name);
		ulimit_ok(text, r, 1, 2);
	}
	assert_null(engine_limits_ulimit_name(-1));
	assert_null(engine_limits_ulimit_name(RLIM_NLIMITS));

	ulimit_bad("bogus=1", "invalid ulimit type: bogus");
	ulimit_bad("as=1", "invalid ulimit type: as");
	ulimit_bad("NOFILE=1", "invalid ulimit type: NOFILE");
	ulimit_bad("nofile", "invalid ulimit argument: nofile");
	ulimit_bad("", "invalid ulimit argument");
	ulimit_bad("=1", "invalid ulimit type");
	ulimit_bad("nofile=", "invalid syntax");
	ulimit_bad("nofile=x", "strconv.ParseInt: parsing \"x\": invalid syntax");
	ulimit_bad("nofile=1:x", "parsing \"x\": invalid syntax");
	ulimit_bad("nofile=1:", "invalid syntax");
	ulimit_bad("nofile=:1", "invalid syntax");
	ulimit_bad("nofile=1:2:3", "too many limit value arguments - 1:2:3");
	ulimit_bad("nofile=20:10", "soft limit must be less than or equal to hard limit: 20 > 10");
	ulimit_bad("nofile=-1:10", "soft: -1 (unlimited), hard: 10");
	ulimit_bad("nofile=-2", "-1 (unlimited) is the only negative value");
	ulimit_bad("nofile=9223372036854775808", "value out of range");
	ulimit_bad("nofile=1 ", "invalid syntax");
	ulimit_bad("nofile=0x10", "invalid syntax");
}

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *encode(const struct container_record *r)
{
	struct err *err = NULL;
	char *out = NULL;
	size_t len;

	if (engine_container_record_encode(r, &out, &len, &err) < 0) {
		print_error("encode: %s\n", err->msg);
		fail();
	}
	return out;
}

static void base_record(struct container_record *r)
{
	static char *argv[] = {"sh", NULL};

	memset(r, 0, sizeof(*r));
	memcpy(r->id, ID, sizeof(r->id));
	r->name = "lim-test";
	r->image = "img";
	r->image_id = "sha256:00";
	r->argv = argv;
	r->env = argv;
	r->labels = argv;
	r->cwd = "/";
	r->user = "";
	r->hostname = "h";
	r->userns = "single";
	r->net = "none";
	r->seccomp = "default";
	r->restart = "no";
	r->state = CTR_CREATED;
	r->exit_code = -1;
}

static void test_record_roundtrip(void **state)
{
	struct container_record r, back;
	struct err *err = NULL;
	char *text;

	(void)state;
	base_record(&r);
	r.limits.memory = 64 << 20;
	r.limits.memory_swap = -1;
	r.limits.memory_reservation = 16 << 20;
	r.limits.nano_cpus = 1500000000;
	r.limits.cpu_shares = 512;
	strcpy(r.limits.cpuset_cpus, "0-1,3");
	r.limits.pids_limit = 100;
	r.limits.ulimits[0] = (struct engine_ulimit){RLIMIT_NOFILE, 64, 128};
	r.limits.ulimits[1] = (struct engine_ulimit){RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY};
	r.limits.n_ulimits = 2;
	r.limits.oom_score_adj = -300;
	r.limits.has_oom_score_adj = true;
	r.limits.shm_size = 8 << 20;
	r.limits_enforced = "cgroup (memory pids)";
	text = encode(&r);
	if (engine_container_record_decode(text, strlen(text), &back, &err) < 0) {
		print_error("decode: %s\n%s\n", err->msg, text);
		fail();
	}
	assert_memory_equal(&back.limits, &r.limits, sizeof(r.limits));
	assert_string_equal(back.limits_enforced, "cgroup (memory pids)");
	engine_container_record_free(&back);
	free(text);

	/* No oom_score_adj: null, and back as "not set". */
	r.limits.has_oom_score_adj = false;
	r.limits.oom_score_adj = 0;
	r.limits_enforced = NULL;
	text = encode(&r);
	assert_non_null(strstr(text, "\"oom_score_adj\":null"));
	assert_int_equal(engine_container_record_decode(text, strlen(text), &back, &err), 0);
	assert_false(back.limits.has_oom_score_adj);
	assert_null(back.limits_enforced);
	engine_container_record_free(&back);
	free(text);
}

/* Replaces the first FROM in TEXT by TO (a fresh string). */
static char *replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out;

	assert_non_null(at);
	out = malloc(strlen(text) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	sprintf(out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return out;
}

static void test_record_old_and_bad(void **state)
{
	static const struct {
		const char *from, *to, *msg;
	} bad[] = {
	    {"\"memory\":67108864", "\"memory\":-5", "\"memory\" must be an integer"},
	    {"\"cpu_shares\":512", "\"cpu_shares\":262145", "\"cpu_shares\""},
	    {"\"cpuset_cpus\":\"0-1\"", "\"cpuset_cpus\":\"3-1\"", "invalid range format"},
	    {"\"pids_limit\":100", "\"pids_limit\":-2", "\"pids_limit\""},
	    {"\"oom_score_adj\":null", "\"oom_score_adj\":1001", "\"oom_score_adj\""},
	    {"\"shm_size\":0", "\"shm_size\":0,\"extra\":1", "unknown limit \"extra\""},
	    {"\"name\":\"nofile\"", "\"name\":\"bogus\"", "bad ulimit"},
	    {"\"soft\":64", "\"soft\":129", "soft above hard"},
	    {"\"soft\":64", "\"soft\":-2", "\"soft\""},
	    {"\"limits_enforced\":\"e\"", "\"limits_enforced\":5", "\"limits_enforced\""},
	};
	struct container_record r, back;
	struct err *err = NULL;
	char *text, *old;

	(void)state;
	base_record(&r);
	r.limits.memory = 64 << 20;
	r.limits.cpu_shares = 512;
	strcpy(r.limits.cpuset_cpus, "0-1");
	r.limits.pids_limit = 100;
	r.limits.ulimits[0] = (struct engine_ulimit){RLIMIT_NOFILE, 64, 128};
	r.limits.n_ulimits = 1;
	r.limits_enforced = "e";
	text = encode(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *t = replace(text, bad[i].from, bad[i].to);

		if (engine_container_record_decode(t, strlen(t), &back, &err) == 0) {
			print_error("accepted: %s\n", t);
			fail();
		}
		if (!strstr(err->msg, bad[i].msg)) {
			print_error("want \"%s\", got \"%s\"\n", bad[i].msg, err->msg);
			fail();
		}
		err_free(&err);
		free(t);
	}

	/* A record from before limits: no "limits", no "limits_enforced". */
	{
		char *a, *b;

		old = replace(text, ",\"limits_enforced\":\"e\"", "");
		a = strstr(old, ",\"limits\":{");
		b = strchr(strstr(a, "]"), '}'); /* the end of "limits" */
		memmove(a, b + 1, strlen(b + 1) + 1);
	}
	assert_null(strstr(old, "limits"));
	{
		char *t = replace(old, "\"landlock\":false", "\"landlock\":false,\"limits\":[]");

		assert_int_equal(engine_container_record_decode(t, strlen(t), &back, &err),
				 -EINVAL);
		assert_non_null(strstr(err->msg, "\"limits\" must be an object"));
		err_free(&err);
		free(t);
	}
	if (engine_container_record_decode(old, strlen(old), &back, &err) < 0) {
		print_error("old record refused: %s\n%s\n", err->msg, old);
		fail();
	}
	assert_int_equal(back.limits.memory, 0);
	assert_int_equal(back.limits.pids_limit, 0); /* start applies the default */
	assert_int_equal(back.limits.n_ulimits, 0);
	assert_null(back.limits_enforced);
	engine_container_record_free(&back);
	free(old);
	free(text);
}

/* ---- live: the cgroup backends ---- */

static bool is_fs(const char *path, long magic)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == magic;
}

static void random_id(char id[65])
{
	unsigned char b[32];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, b, sizeof(b)), sizeof(b));
	close(fd);
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(id + 2 * i, 3, "%02x", b[i]);
}

static void read_trim(const char *dir, const char *id, const char *file, char *out, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/moat/%s/%s", dir, id, file);
	f = fopen(path, "re");
	if (!f) {
		print_error("open %s: %m\n", path);
		fail();
	}
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

static void expect_file(const char *dir, const char *id, const char *file, const char *want)
{
	char got[256];

	read_trim(dir, id, file, got, sizeof(got));
	if (strcmp(got, want)) {
		print_error("%s/%s: want \"%s\", got \"%s\"\n", dir, file, want, got);
		fail();
	}
}

static void test_cgroup_v1_set_limits(void **state)
{
	static const char *const need[] = {"freezer", "memory", "cpu", "cpuset", "pids"};
	struct cgroup_limits l = {
	    .memory = 64 << 20,
	    .memory_swap = 96 << 20,
	    .memory_reservation = 16 << 20,
	    .cpu_quota_us = 50000,
	    .cpu_period_us = 100000,
	    .cpu_shares = 512,
	    .cpuset_cpus = "0",
	    .pids_max = 77,
	};
	struct sandbox_cgroup *cg = NULL;
	struct err *err = NULL;
	char id[65], applied[128], path[256];
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0 || is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC)) {
		print_message("      (skipped: needs root on a cgroup v1 host)\n");
		skip();
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", need[i]);
		if (!is_fs(path, CGROUP_SUPER_MAGIC)) {
			print_message("      (skipped: no v1 %s hierarchy at %s)\n", need[i], path);
			skip();
		}
	}
	random_id(id);
	if (sandbox_cgroup_create(id, &cg, &err) < 0) {
		print_error("create: %s\n", err->msg);
		fail();
	}
	/* The cpuset cgroup was filled from its parent at create. */
	{
		char cpus[128], mems[128];

		read_trim("cpuset", id, "cpuset.cpus", cpus, sizeof(cpus));
		read_trim("cpuset", id, "cpuset.mems", mems, sizeof(mems));
		assert_true(cpus[0] != '\0');
		assert_true(mems[0] != '\0');
	}
	if (sandbox_cgroup_set_limits(cg, &l, applied, sizeof(applied), &err) < 0) {
		print_error("set_limits: %s\n", err->msg);
		fail();
	}
	snprintf(path, sizeof(path), "/sys/fs/cgroup/memory/moat/%s/memory.memsw.limit_in_bytes",
		 id);
	if (access(path, F_OK) == 0) {
		assert_string_equal(applied, "memory swap reservation cpu cpuset pids");
		expect_file("memory", id, "memory.memsw.limit_in_bytes", "100663296");
	} else {
		assert_string_equal(applied, "memory reservation cpu cpuset pids");
	}
	expect_file("memory", id, "memory.limit_in_bytes", "67108864");
	expect_file("memory", id, "memory.soft_limit_in_bytes", "16777216");
	expect_file("cpu", id, "cpu.cfs_quota_us", "50000");
	expect_file("cpu", id, "cpu.cfs_period_us", "100000");
	expect_file("cpu", id, "cpu.shares", "512");
	expect_file("cpuset", id, "cpuset.cpus", "0");
	expect_file("pids", id, "pids.max", "77");

	/* A task can join every hierarchy, cpuset included, and runs on
	 * CPU 0 only. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (sandbox_cgroup_attach(cg, pid, &err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		print_error("attach: %s\n", err->msg);
		sandbox_cgroup_destroy(cg, NULL);
		sandbox_cgroup_close(cg);
		fail();
	}
	{
		char st[64], line[256];
		FILE *f;
		bool found = false;

		snprintf(st, sizeof(st), "/proc/%d/status", (int)pid);
		f = fopen(st, "re");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Cpus_allowed_list:", 18)) {
				found = true;
				assert_non_null(strstr(line, "\t0\n"));
			}
		fclose(f);
		assert_true(found);
	}
	assert_int_equal(sandbox_cgroup_destroy(cg, &err), 0);
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	sandbox_cgroup_close(cg);
	snprintf(path, sizeof(path), "/sys/fs/cgroup/cpuset/moat/%s", id);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_cgroup_v2_missing_controller(void **state)
{
	struct cgroup_limits none = {0}, mem = {.memory = 64 << 20}, pids = {.pids_max = 10};
	struct sandbox_cgroup *cg = NULL;
	struct err *err = NULL;
	char id[65], applied[128] = "x";

	(void)state;
	if (geteuid() != 0 || !is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC)) {
		print_message("      (skipped: needs root and a hybrid /sys/fs/cgroup/unified)\n");
		skip();
	}
	{
		FILE *f = fopen("/sys/fs/cgroup/unified/cgroup.controllers", "re");
		char line[256] = "";

		assert_non_null(f);
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
		if (strstr(line, "memory") || strstr(line, "pids")) {
			print_message("      (skipped: the unified mount has controllers)\n");
			skip();
		}
	}
	sandbox_cgroup_force_v2("/sys/fs/cgroup/unified");
	random_id(id);
	if (sandbox_cgroup_create(id, &cg, &err) < 0) {
		sandbox_cgroup_force_v2(NULL);
		print_error("create: %s\n", err->msg);
		fail();
	}
	assert_int_equal(sandbox_cgroup_set_limits(cg, &none, applied, sizeof(applied), &err), 0);
	assert_string_equal(applied, "");
	assert_int_equal(sandbox_cgroup_set_limits(cg, &mem, applied, sizeof(applied), &err),
			 -ENOTSUP);
	assert_non_null(strstr(err->msg, "--memory needs memory.max"));
	err_free(&err);
	assert_int_equal(sandbox_cgroup_set_limits(cg, &pids, applied, sizeof(applied), &err),
			 -ENOTSUP);
	assert_non_null(strstr(err->msg, "--pids-limit needs pids.max"));
	err_free(&err);
	assert_int_equal(sandbox_cgroup_destroy(cg, NULL), 0);
	sandbox_cgroup_close(cg);
	sandbox_cgroup_force_v2(NULL);
}

static void test_shares_to_weight(void **state)
{
	(void)state;
	/* runc's mapping: the ends and Docker's default 1024 -> 39. */
	assert_int_equal(sandbox_cgroup_shares_to_weight(2), 1);
	assert_int_equal(sandbox_cgroup_shares_to_weight(262144), 10000);
	assert_int_equal(sandbox_cgroup_shares_to_weight(1024), 39);
	assert_int_equal(sandbox_cgroup_shares_to_weight(0), 1);
	assert_int_equal(sandbox_cgroup_shares_to_weight(1u << 30), 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_size_errors),
	    cmocka_unit_test(test_cpus),
	    cmocka_unit_test(test_cpuset),
	    cmocka_unit_test(test_ulimit),
	    cmocka_unit_test(test_record_roundtrip),
	    cmocka_unit_test(test_record_old_and_bad),
	    cmocka_unit_test(test_shares_to_weight),
	    cmocka_unit_test(test_cgroup_v1_set_limits),
	    cmocka_unit_test(test_cgroup_v2_missing_controller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
