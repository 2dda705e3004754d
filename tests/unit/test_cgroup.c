/*
 * Unit tests for sandbox/cgroup*.c: the pure parsers with fixed texts (v1,
 * hybrid and v2 hosts, malformed input), id checks, and, as root, live runs
 * on this host: a cgroup made for a random id holding a busy child and its
 * three children, frozen, thawed, measured, opened again, destroyed; the v2
 * backend also on the hybrid cgroup2 mount where the host is v1; rootless
 * refusal on v1 and rootless use of a delegated v2 cgroup (uid 65534).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/cgroup.h"

#define NOBODY 65534
#define MiB (1024u * 1024)

static void err_has(struct err **e, int code, const char *part)
{
	assert_non_null(*e);
	assert_int_equal((*e)->code, code);
	if (!strstr((*e)->msg, part))
		fail_msg("message \"%s\" lacks \"%s\"", (*e)->msg, part);
	err_free(e);
}

/* ---- /proc/self/mountinfo ---- */

/* This host: v1 controllers on a tmpfs, controller-less cgroup2 at unified. */
static const char mi_hybrid[] =
    "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
    "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* Debian 12: pure v2. */
static const char mi_v2[] =
    "21 26 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
    "27 21 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "28 21 0:25 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:10 - bpf bpf rw,mode=700";

static void test_mountinfo_hybrid(void **state)
{
	struct sandbox_cgroup_mounts m;
	struct err *e = NULL;

	assert_int_equal(sandbox_cgroup_parse_mountinfo(mi_hybrid, strlen(mi_hybrid), &m, &e), 0);
	assert_null(e);
	assert_string_equal(m.v1[SANDBOX_CGROUP_FREEZER], "/sys/fs/cgroup/freezer");
	assert_string_equal(m.v1[SANDBOX_CGROUP_MEMORY], "/sys/fs/cgroup/memory");
	/* cpuacct, not the cpu-only hierarchy. */
	assert_string_equal(m.v1[SANDBOX_CGROUP_CPUACCT], "/sys/fs/cgroup/cpuacct");
	assert_string_equal(m.v1[SANDBOX_CGROUP_PIDS], "/sys/fs/cgroup/pids");
	assert_string_equal(m.v2, "/sys/fs/cgroup/unified");
}

static void test_mountinfo_v2(void **state)
{
	struct sandbox_cgroup_mounts m;
	struct err *e = NULL;

	/* Last line without a newline. */
	assert_int_equal(sandbox_cgroup_parse_mountinfo(mi_v2, strlen(mi_v2), &m, &e), 0);
	for (int c = 0; c < SANDBOX_CGROUP_NCTRL; c++)
		assert_string_equal(m.v1[c], "");
	assert_string_equal(m.v2, "/sys/fs/cgroup");
	assert_int_equal(sandbox_cgroup_parse_mountinfo("", 0, &m, &e), 0);
	assert_string_equal(m.v2, "");
}

static void test_mountinfo_combined_escaped_and_binds(void **state)
{
	/* A subtree bind (a container's view) seen before the real root
	 * mount, optional fields, co-mounted controllers, an escaped space. */
	static const char t[] =
	    "50 22 0:40 /docker/abc /mnt/freezer rw - cgroup cgroup rw,freezer\n"
	    "51 31 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:3 master:2 - cgroup "
	    "cgroup rw,cpu,cpuacct\n"
	    "52 31 0:40 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
	    "53 31 0:41 / /my\\040cg\\011x rw - cgroup cgroup rw,memory,pids\n"
	    "54 31 0:41 /sub /later rw - cgroup cgroup rw,memory\n"
	    "55 31 0:42 /sub /srv/v2sub rw - cgroup2 cgroup2 rw\n"
	    "56 31 0:42 / /srv/v2 rw - cgroup2 cgroup2 rw\n"
	    "57 31 0:42 / /srv/v2again rw - cgroup2 cgroup2 rw\n";
	struct sandbox_cgroup_mounts m;
	struct err *e = NULL;

	assert_int_equal(sandbox_cgroup_parse_mountinfo(t, strlen(t), &m, &e), 0);
	assert_string_equal(m.v1[SANDBOX_CGROUP_FREEZER], "/sys/fs/cgroup/freezer");
	assert_string_equal(m.v1[SANDBOX_CGROUP_CPUACCT], "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(m.v1[SANDBOX_CGROUP_MEMORY], "/my cg\tx");
	assert_string_equal(m.v1[SANDBOX_CGROUP_PIDS], "/my cg\tx");
	assert_string_equal(m.v2, "/srv/v2");
}

static void mountinfo_bad(const char *t, int code, const char *part)
{
	struct sandbox_cgroup_mounts m;
	struct err *e = NULL;

	assert_int_equal(sandbox_cgroup_parse_mountinfo(t, strlen(t), &m, &e), -code);
	err_has(&e, code, part);
}

static void test_mountinfo_malformed(void **state)
{
	char long_line[1024], many[200];
	static const char nul[] = "31 23 0:28 / /a rw - tmpfs tmpfs rw\0x\n";

	/* No "-" separator (on the second line). */
	mountinfo_bad("31 23 0:28 / /a rw - tmpfs tmpfs rw\n31 23 0:28 / /b rw tmpfs tmpfs rw\n",
		      EINVAL, "line 2");
	mountinfo_bad("31 23 0:28 / /a rw -\n", EINVAL, "line 1");
	mountinfo_bad("31 23 0:28 / /a - cgroup cgroup rw\n", EINVAL, "line 1");
	mountinfo_bad("31 23 0:28 / /a rw - cgroup cgroup\n", EINVAL, "line 1");
	mountinfo_bad("31 23 0:28 / /a rw - cgroup cgroup rw extra\n", EINVAL, "line 1");
	mountinfo_bad("31 23 0:28 /  /a rw - cgroup cgroup rw\n", EINVAL, "empty field");
	mountinfo_bad("31 23 0:28 / /a rw - cgroup cgroup rw \n", EINVAL, "empty field");
	mountinfo_bad("\n", EINVAL, "line 1");
	mountinfo_bad("1 2 0:1 / /a\\04 rw - cgroup cgroup rw,freezer\n", EINVAL, "escape");
	mountinfo_bad("1 2 0:1 / /a\\999 rw - cgroup cgroup rw,freezer\n", EINVAL, "escape");
	mountinfo_bad("1 2 0:1 / /a\\000 rw - cgroup cgroup rw,freezer\n", EINVAL, "escape");
	mountinfo_bad("1 2 0:1 / /a\\ rw - cgroup cgroup rw,freezer\n", EINVAL, "escape");
	mountinfo_bad("1 2 0:1 / rel rw - cgroup2 cgroup2 rw\n", EINVAL, "not absolute");
	snprintf(long_line, sizeof(long_line), "1 2 0:1 / /%0600d rw - cgroup cgroup rw,pids\n", 0);
	mountinfo_bad(long_line, ENAMETOOLONG, "too long");
	for (size_t i = 0; i < sizeof(many) - 2; i += 2)
		memcpy(many + i, "x ", 2);
	many[sizeof(many) - 2] = '\n';
	many[sizeof(many) - 1] = 0;
	mountinfo_bad(many, EINVAL, "too many fields");
	{
		struct sandbox_cgroup_mounts m;
		struct err *e = NULL;

		assert_int_equal(sandbox_cgroup_parse_mountinfo(nul, sizeof(nul) - 1, &m, &e),
				 -EINVAL);
		err_has(&e, EINVAL, "NUL");
		assert_int_equal(sandbox_cgroup_parse_mountinfo(nul, sizeof(nul) - 1, &m, NULL),
				 -EINVAL);
		assert_int_equal(
		    sandbox_cgroup_parse_mountinfo(long_line, strlen(long_line), &m, NULL),
		    -ENAMETOOLONG);
	}
}

/* ---- /proc/self/cgroup ---- */

static void test_self(void **state)
{
	static const char v2[] =
	    "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n";
	static const char hybrid[] = "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/1f\n0::/\n";
	static const char v1only[] = "9:name=systemd:/\n8:pids:/\n";
	char p[256], tiny[8];
	struct err *e = NULL;

	assert_int_equal(sandbox_cgroup_parse_self(v2, strlen(v2), p, sizeof(p), &e), 0);
	assert_string_equal(p, "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope");
	assert_int_equal(sandbox_cgroup_parse_self(hybrid, strlen(hybrid), p, sizeof(p), &e), 0);
	assert_string_equal(p, "/");
	assert_int_equal(sandbox_cgroup_parse_self(v1only, strlen(v1only), p, sizeof(p), &e),
			 -ENOENT);
	err_has(&e, ENOENT, "0::");
	assert_int_equal(sandbox_cgroup_parse_self("garbage\n", 8, p, sizeof(p), &e), -EINVAL);
	err_has(&e, EINVAL, "line 1");
	assert_int_equal(sandbox_cgroup_parse_self("x::/a\n", 6, p, sizeof(p), &e), -EINVAL);
	err_has(&e, EINVAL, "ID:CONTROLLERS:PATH");
	assert_int_equal(sandbox_cgroup_parse_self("0::a\n", 5, p, sizeof(p), &e), -EINVAL);
	err_has(&e, EINVAL, "not absolute");
	assert_int_equal(sandbox_cgroup_parse_self("0::\n", 4, p, sizeof(p), &e), -EINVAL);
	err_has(&e, EINVAL, "not absolute");
	strcpy(p, "untouched");
	assert_int_equal(sandbox_cgroup_parse_self("0::/a\n0::/b\n", 12, p, sizeof(p), &e),
			 -EINVAL);
	err_has(&e, EINVAL, "line 2");
	assert_string_equal(p, "untouched");
	assert_int_equal(sandbox_cgroup_parse_self(v2, strlen(v2), tiny, sizeof(tiny), &e),
			 -ENAMETOOLONG);
	err_has(&e, ENAMETOOLONG, "too long");
	assert_int_equal(sandbox_cgroup_parse_self("0::/a\0b\n", 8, p, sizeof(p), &e), -EINVAL);
	err_has(&e, EINVAL, "NUL");
}

/* ---- one-number files ---- */

static void u64_bad(const char *t, bool allow_max, const char *part)
{
	struct err *e = NULL;
	uint64_t v = 7;
	bool is_max = true;

	assert_int_equal(sandbox_cgroup_parse_u64(t, strlen(t), "memory.max", &v,
						  allow_max ? &is_max : NULL, &e),
			 -EINVAL);
	assert_int_equal(v, 7);
	assert_true(is_max);
	err_has(&e, EINVAL, part);
}

static void test_u64(void **state)
{
	struct err *e = NULL;
	uint64_t v;
	bool is_max = true;

	assert_int_equal(sandbox_cgroup_parse_u64("123\n", 4, "pids.current", &v, NULL, &e), 0);
	assert_int_equal(v, 123);
	assert_int_equal(sandbox_cgroup_parse_u64("0", 1, "x", &v, &is_max, &e), 0);
	assert_int_equal(v, 0);
	assert_false(is_max);
	assert_int_equal(sandbox_cgroup_parse_u64("18446744073709551615\n", 21, "x", &v, NULL, &e),
			 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(sandbox_cgroup_parse_u64("max\n", 4, "memory.max", &v, &is_max, &e), 0);
	assert_true(is_max);
	assert_true(v == UINT64_MAX);
	u64_bad("max\n", false, "memory.max: \"max\" is not a number");
	u64_bad("", true, "not a number");
	u64_bad("\n", true, "not a number");
	u64_bad("12a\n", true, "not a number");
	u64_bad("-1\n", true, "not a number");
	u64_bad(" 1\n", true, "not a number");
	u64_bad("1\n\n", true, "not a number");
	u64_bad("18446744073709551616\n", true, "not a number");
	u64_bad("99999999999999999999999\n", true, "not a number");
	assert_int_equal(sandbox_cgroup_parse_u64("1\0", 2, "x", &v, NULL, &e), -EINVAL);
	err_has(&e, EINVAL, "NUL");
}

/* ---- flat keyed files ---- */

static const char v1_memory_stat[] = "cache 1351680\n"
				     "rss 8650752\n"
				     "mapped_file 0\n"
				     "inactive_anon 0\n"
				     "active_anon 8650752\n"
				     "inactive_file 1081344\n"
				     "active_file 270336\n"
				     "hierarchical_memory_limit 9223372036854771712\n"
				     "total_cache 1351680\n"
				     "total_rss 8650752\n"
				     "total_inactive_file 2162688\n";

static const char v2_memory_stat[] = "anon 8650752\n"
				     "file 1351680\n"
				     "kernel 135168\n"
				     "inactive_anon 0\n"
				     "active_anon 8650752\n"
				     "inactive_file 1081344\n"
				     "active_file 270336\n"
				     "pgfault 4243\n";

static void keyed_is(const char *t, const char *what, const char *key, uint64_t want)
{
	struct err *e = NULL;
	uint64_t v = 0;

	assert_int_equal(sandbox_cgroup_parse_keyed(t, strlen(t), what, key, &v, &e), 0);
	assert_null(e);
	assert_true(v == want);
}

static void keyed_bad(const char *t, size_t len, const char *key, int code, const char *part)
{
	struct err *e = NULL;
	uint64_t v = 5;

	assert_int_equal(sandbox_cgroup_parse_keyed(t, len, "memory.events", key, &v, &e), -code);
	assert_int_equal(v, 5);
	err_has(&e, code, part);
}

static void test_keyed(void **state)
{
	keyed_is(v1_memory_stat, "memory.stat", "total_inactive_file", 2162688);
	/* The key is matched whole: not a suffix of total_inactive_file. */
	keyed_is(v1_memory_stat, "memory.stat", "inactive_file", 1081344);
	keyed_is(v2_memory_stat, "memory.stat", "inactive_file", 1081344);
	keyed_is("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "memory.oom_control", "oom_kill",
		 3);
	keyed_is("low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n", "memory.events",
		 "oom_kill", 1);
	keyed_is("usage_usec 53170\nuser_usec 31202\nsystem_usec 21968\n", "cpu.stat", "usage_usec",
		 53170);
	keyed_is("populated 1\nfrozen 1", "cgroup.events", "frozen", 1);
	/* Another key's value need not be a number. */
	keyed_is("state weird\nfrozen 0\n", "cgroup.events", "frozen", 0);

	/* Linux < 4.13 has no oom_kill line. */
	keyed_bad("oom_kill_disable 0\nunder_oom 0\n", 30, "oom_kill", ENOENT, "no \"oom_kill\"");
	keyed_bad("", 0, "oom_kill", ENOENT, "no \"oom_kill\"");
	keyed_bad("low 0\noom_kill\n", 15, "oom_kill", EINVAL, "line 2: expected \"key value\"");
	keyed_bad("low 0\noom_kill 1 2\n", 19, "oom_kill", EINVAL, "line 2");
	keyed_bad("low  0\n", 7, "oom_kill", EINVAL, "line 1");
	keyed_bad(" 0\n", 3, "oom_kill", EINVAL, "line 1");
	keyed_bad("low 0\n\noom_kill 1\n", 18, "oom_kill", EINVAL, "line 2");
	keyed_bad("oom_kill 1\noom_kill 2\n", 22, "oom_kill", EINVAL, "repeated");
	keyed_bad("oom_kill x\n", 11, "oom_kill", EINVAL, "not a number");
	keyed_bad("oom_kill -1\n", 12, "oom_kill", EINVAL, "not a number");
	keyed_bad("oom_kill 1\0\n", 12, "oom_kill", EINVAL, "NUL");
	{
		/* Without an err, the same answers. */
		uint64_t v = 0;

		assert_int_equal(sandbox_cgroup_parse_keyed("a\n", 2, "x", "a", &v, NULL), -EINVAL);
		assert_int_equal(sandbox_cgroup_parse_keyed("a 1\0", 4, "x", "a", &v, NULL),
				 -EINVAL);
		assert_int_equal(sandbox_cgroup_parse_keyed("b 1\n", 4, "x", "a", &v, NULL),
				 -ENOENT);
	}
}

/* ---- cgroup.procs, freezer.state, meminfo ---- */

static void test_procs(void **state)
{
	struct err *e = NULL;
	pid_t *p = NULL;
	size_t n = 9;

	assert_int_equal(sandbox_cgroup_parse_procs("1\n22\n2147483647\n", 16, &p, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0], 1);
	assert_int_equal(p[1], 22);
	assert_int_equal(p[2], 2147483647);
	free(p);
	assert_int_equal(sandbox_cgroup_parse_procs("", 0, &p, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_non_null(p);
	free(p);
	p = NULL;
	assert_int_equal(sandbox_cgroup_parse_procs("0\n", 2, &p, &n, &e), -EINVAL);
	err_has(&e, EINVAL, "line 1: not a pid");
	assert_int_equal(sandbox_cgroup_parse_procs("1\n2147483648\n", 13, &p, &n, &e), -EINVAL);
	err_has(&e, EINVAL, "line 2");
	assert_int_equal(sandbox_cgroup_parse_procs("1\n\n2\n", 5, &p, &n, &e), -EINVAL);
	err_has(&e, EINVAL, "line 2");
	assert_int_equal(sandbox_cgroup_parse_procs("abc\n", 4, &p, &n, &e), -EINVAL);
	err_has(&e, EINVAL, "not a pid");
	assert_int_equal(sandbox_cgroup_parse_procs("1\0\n", 3, &p, &n, &e), -EINVAL);
	err_has(&e, EINVAL, "NUL");
	assert_null(p);
}

static void test_freezer_state(void **state)
{
	struct err *e = NULL;
	bool f = false;

	assert_int_equal(sandbox_cgroup_parse_freezer_state("FROZEN\n", 7, &f, &e), 0);
	assert_true(f);
	assert_int_equal(sandbox_cgroup_parse_freezer_state("THAWED\n", 7, &f, &e), 0);
	assert_false(f);
	f = true;
	assert_int_equal(sandbox_cgroup_parse_freezer_state("FREEZING", 8, &f, &e), 0);
	assert_false(f);
	assert_int_equal(sandbox_cgroup_parse_freezer_state("frozen\n", 7, &f, &e), -EINVAL);
	err_has(&e, EINVAL, "unknown state \"frozen\"");
	assert_int_equal(sandbox_cgroup_parse_freezer_state("", 0, &f, &e), -EINVAL);
	err_has(&e, EINVAL, "unknown state");
	assert_int_equal(sandbox_cgroup_parse_freezer_state("FROZEN\n\n", 8, &f, &e), -EINVAL);
	err_has(&e, EINVAL, "unknown state");
}

static void test_meminfo(void **state)
{
	static const char t[] = "MemTotal:       24684092 kB\nMemFree:        24246328 kB\n";
	struct err *e = NULL;
	uint64_t v = 0;

	assert_int_equal(sandbox_cgroup_parse_meminfo(t, strlen(t), &v, &e), 0);
	assert_true(v == 24684092ull * 1024);
	assert_int_equal(sandbox_cgroup_parse_meminfo("MemFree: 1 kB\n", 14, &v, &e), -ENOENT);
	err_has(&e, ENOENT, "MemTotal");
	assert_int_equal(sandbox_cgroup_parse_meminfo("MemTotal: x kB\n", 15, &v, &e), -EINVAL);
	err_has(&e, EINVAL, "bad MemTotal");
	assert_int_equal(sandbox_cgroup_parse_meminfo("MemTotal: 12 MB\n", 16, &v, &e), -EINVAL);
	err_has(&e, EINVAL, "bad MemTotal");
	assert_int_equal(
	    sandbox_cgroup_parse_meminfo("MemTotal: 99999999999999999999 kB\n", 34, &v, &e),
	    -EINVAL);
	err_has(&e, EINVAL, "bad MemTotal");
}

static void test_ctrl_names(void **state)
{
	assert_string_equal(sandbox_cgroup_ctrl_name(SANDBOX_CGROUP_FREEZER), "freezer");
	assert_string_equal(sandbox_cgroup_ctrl_name(SANDBOX_CGROUP_CPUACCT), "cpuacct");
	assert_string_equal(sandbox_cgroup_ctrl_name(SANDBOX_CGROUP_NCTRL), "?");
}

/* Ids are refused before anything is looked up or made. */
static void test_bad_ids(void **state)
{
	static const char *const bad[] = {
	    "",
	    "abc",
	    "../../../../etc",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeF",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
	    "0123456789abcdef0123456789abcdef0123456789abcdef012345678/../..."};
	struct sandbox_cgroup *cg = (void *)1;
	struct err *e = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sandbox_cgroup_create(bad[i], &cg, &e), -EINVAL);
		assert_null(cg);
		err_has(&e, EINVAL, "64 lowercase hex");
		cg = (void *)1;
		assert_int_equal(sandbox_cgroup_open(bad[i], &cg, &e), -EINVAL);
		assert_null(cg);
		err_has(&e, EINVAL, "64 lowercase hex");
	}
	assert_int_equal(sandbox_cgroup_open(NULL, &cg, &e), -EINVAL);
	err_has(&e, EINVAL, "(null)");
	/* Best-effort callers pass no err. */
	assert_int_equal(sandbox_cgroup_create("abc", &cg, NULL), -EINVAL);
	assert_int_equal(sandbox_cgroup_open("abc", &cg, NULL), -EINVAL);
	sandbox_cgroup_close(NULL);
}

/* ---- live (root) ---- */

static bool is_fs(const char *path, long magic)
{
	struct statfs s;

	return statfs(path, &s) == 0 && (long)s.f_type == magic;
}

static bool v1_host(void)
{
	return !is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC) &&
	       is_fs("/sys/fs/cgroup/freezer", CGROUP_SUPER_MAGIC);
}

/* This machine's layout: the four hierarchies in their usual places. */
static bool v1_host_all(void)
{
	return v1_host() && is_fs("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC) &&
	       is_fs("/sys/fs/cgroup/cpuacct", CGROUP_SUPER_MAGIC) &&
	       is_fs("/sys/fs/cgroup/pids", CGROUP_SUPER_MAGIC);
}

/* Where a cgroup2 hierarchy can be tested: the unified host, or the
 * hybrid mount of a v1 host. NULL when neither. */
static const char *v2_mount(void)
{
	if (is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC))
		return "/sys/fs/cgroup";
	if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
		return "/sys/fs/cgroup/unified";
	return NULL;
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	print_message("      (skipped: live cgroup tests need root)\n");
	return false;
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

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* The State letter and utime (ticks) of PID, from /proc. */
static char proc_state(pid_t pid, unsigned long long *utime)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;
	char st;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = 0;
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime" */
	assert_int_equal(
	    sscanf(p + 2, "%c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &st, utime), 2);
	return st;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A child that, once released, forks three sleepers, touches 8 MiB,
 * reports, and spins. */
static pid_t spawn(int *go, int *ready)
{
	int g[2], r[2];
	pid_t pid;

	assert_int_equal(pipe2(g, O_CLOEXEC), 0);
	assert_int_equal(pipe2(r, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* volatile: the stores must happen although nothing reads them. */
		volatile char *mem;
		char c;

		if (read(g[0], &c, 1) != 1)
			_exit(1);
		for (int i = 0; i < 3; i++)
			if (fork() == 0)
				for (;;)
					pause();
		mem = malloc(8 * MiB);
		if (!mem)
			_exit(1);
		for (size_t i = 0; i < 8 * MiB; i += 4096)
			mem[i] = 1;
		if (write(r[1], "r", 1) != 1)
			_exit(1);
		for (volatile unsigned long x = 0;; x++)
			mem[x % (8 * MiB)] = (char)x;
	}
	close(g[0]);
	close(r[1]);
	*go = g[1];
	*ready = r[0];
	return pid;
}

static bool pid_in(const pid_t *v, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == p)
			return true;
	return false;
}

static uint64_t memtotal(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "MemTotal: %llu kB", &kb), 1);
	fclose(f);
	return kb * 1024;
}

/* Reaps the child and its three children (reparented to us, a subreaper)
 * and checks that SIGKILL ended each. */
static void reap_killed(pid_t child)
{
	int got = 0, seen_child = 0;

	for (int tries = 0; got < 4 && tries < 500; tries++) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);

		if (p > 0) {
			assert_true(WIFSIGNALED(st));
			assert_int_equal(WTERMSIG(st), SIGKILL);
			seen_child += p == child;
			got++;
		} else {
			sleep_ms(10);
		}
	}
	assert_int_equal(got, 4);
	assert_int_equal(seen_child, 1);
}

/*
 * Cleanup that does not trust the code under test: thaw, SIGKILL whatever
 * cgroup.procs lists, reap (we are a subreaper), rmdir, innermost first. A
 * failed assertion must not leave spinning children or cgroups behind.
 */
static char live_paths[5][700];
static size_t live_npaths;

static void write_if_there(const char *dir, const char *name, const char *val)
{
	char f[sizeof(live_paths[0]) + 32];
	int fd;

	if (snprintf(f, sizeof(f), "%s/%s", dir, name) >= (int)sizeof(f))
		return;
	fd = open(f, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			fprintf(stderr, "teardown: write %s: %s\n", f, strerror(errno));
		close(fd);
	}
}

static void raw_cleanup(void)
{
	for (int round = 0; round < 300; round++) {
		bool any = false;

		for (size_t i = 0; i < live_npaths; i++) {
			char f[sizeof(live_paths[0]) + 32];
			FILE *fp;
			int pid;

			write_if_there(live_paths[i], "freezer.state", "THAWED");
			write_if_there(live_paths[i], "cgroup.freeze", "0");
			if (snprintf(f, sizeof(f), "%s/cgroup.procs", live_paths[i]) >=
			    (int)sizeof(f))
				continue;
			fp = fopen(f, "re");
			while (fp && fscanf(fp, "%d", &pid) == 1) {
				kill(pid, SIGKILL);
				any = true;
			}
			if (fp)
				fclose(fp);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!any)
			break;
		sleep_ms(10);
	}
	for (size_t i = 0; i < live_npaths; i++)
		if (rmdir(live_paths[i]) < 0 && errno != ENOENT)
			fprintf(stderr, "teardown: rmdir %s: %s\n", live_paths[i], strerror(errno));
	live_npaths = 0;
}

static int live_teardown(void **state)
{
	raw_cleanup();
	sandbox_cgroup_force_v2(NULL);
	sandbox_cgroup_force_pid_kill(false);
	return 0;
}

/* DIRS: the "moat" parents under which this container's cgroup must be. */
static void live_run(const char *const *dirs, bool has_memory)
{
	struct sandbox_cgroup *cg = NULL, *again = NULL, *dup = NULL;
	struct cgroup_stats st;
	struct err *e = NULL;
	unsigned long long t0, t1;
	pid_t *pids = NULL, child;
	size_t n = 0;
	bool frozen = true;
	char id[65], other[65], c;
	char paths[4][700];
	int go, ready;

	random_id(id);
	random_id(other);
	for (size_t i = 0; dirs[i]; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dirs[i], id);
		memcpy(live_paths[i], paths[i], sizeof(paths[i]));
		live_npaths = i + 1;
	}

	assert_int_equal(sandbox_cgroup_open(id, &cg, &e), -ENOENT);
	err_free(&e);
	if (sandbox_cgroup_create(id, &cg, &e) < 0)
		fail_msg("create: %s", e->msg);
	for (size_t i = 0; dirs[i]; i++) {
		struct stat s;

		assert_int_equal(stat(paths[i], &s), 0);
		assert_int_equal(s.st_mode & 07777, 0755);
		assert_int_equal(s.st_uid, geteuid());
	}

	child = spawn(&go, &ready);
	if (sandbox_cgroup_attach(cg, child, &e) < 0)
		fail_msg("attach: %s", e->msg);
	assert_int_equal(write(go, "g", 1), 1);
	assert_int_equal(read(ready, &c, 1), 1);
	close(go);
	close(ready);

	/* Another process's view (`moat top`): open by id. */
	if (sandbox_cgroup_open(id, &again, &e) < 0)
		fail_msg("open: %s", e->msg);
	assert_int_equal(sandbox_cgroup_pids(again, &pids, &n, &e), 0);
	assert_int_equal(n, 4);
	assert_true(pid_in(pids, n, child));
	free(pids);
	assert_int_equal(sandbox_cgroup_frozen(again, &frozen, NULL), 0);
	assert_false(frozen);

	/* A second create of the same id fails and leaves the first alone. */
	assert_int_equal(sandbox_cgroup_create(id, &dup, &e), -EEXIST);
	assert_null(dup);
	err_has(&e, EEXIST, "exists already");
	for (size_t i = 0; dirs[i]; i++)
		assert_true(exists(paths[i]));
	/* Nor can a process that is gone be attached, or no process. */
	assert_int_equal(sandbox_cgroup_attach(cg, 0, &e), -EINVAL);
	err_has(&e, EINVAL, "pid 0");
	{
		pid_t dead = fork();
		int ds;

		if (dead == 0)
			_exit(0);
		assert_int_equal(waitpid(dead, &ds, 0), dead);
		assert_int_equal(sandbox_cgroup_attach(cg, dead, &e), -ESRCH);
		err_has(&e, ESRCH, "is gone");
	}

	/* Freeze: the spinning child stops using CPU. */
	assert_int_equal(sandbox_cgroup_freeze(cg, true, &e), 0);
	assert_int_equal(sandbox_cgroup_frozen(again, &frozen, &e), 0);
	assert_true(frozen);
	assert_int_not_equal(proc_state(child, &t0), 'R');
	sleep_ms(300);
	proc_state(child, &t1);
	assert_true(t1 == t0);
	/* Idempotent. */
	assert_int_equal(sandbox_cgroup_freeze(cg, true, &e), 0);

	assert_int_equal(sandbox_cgroup_freeze(again, false, &e), 0);
	assert_int_equal(sandbox_cgroup_frozen(cg, &frozen, &e), 0);
	assert_false(frozen);
	sleep_ms(300);
	proc_state(child, &t1);
	assert_true(t1 > t0);

	if (sandbox_cgroup_stats(again, &st, &e) < 0)
		fail_msg("stats: %s", e->msg);
	print_message("      cpu %llu ns, mem %llu / %llu, pids %llu, oom %llu\n",
		      (unsigned long long)st.cpu_ns, (unsigned long long)st.mem_usage,
		      (unsigned long long)st.mem_limit, (unsigned long long)st.pids,
		      (unsigned long long)st.oom_kills);
	assert_int_equal(st.pids, 4);
	assert_true(st.cpu_ns >= 10ull * 1000 * 1000); /* it spun for 300 ms, on a busy host */
	assert_true(st.mem_limit > 0 && st.mem_limit <= memtotal());
	assert_int_equal(st.oom_kills, 0);
	if (has_memory)
		assert_true(st.mem_usage >= 6 * MiB);
	else
		assert_int_equal(st.mem_usage, 0);

	/* A container that does not exist. */
	assert_int_equal(sandbox_cgroup_open(other, &dup, &e), -ENOENT);
	err_has(&e, ENOENT, other);

	/* Destroy while frozen: it has to thaw for SIGKILL to act (v1). */
	assert_int_equal(sandbox_cgroup_freeze(cg, true, &e), 0);
	if (sandbox_cgroup_destroy(cg, &e) < 0)
		fail_msg("destroy: %s", e->msg);
	reap_killed(child);
	for (size_t i = 0; dirs[i]; i++)
		if (exists(paths[i]))
			fail_msg("%s still exists", paths[i]);
	assert_int_equal(sandbox_cgroup_open(id, &dup, &e), -ENOENT);
	err_free(&e);
	assert_int_equal(sandbox_cgroup_open(id, &dup, NULL), -ENOENT);
	/* Gone already is success, through either handle. */
	assert_int_equal(sandbox_cgroup_destroy(again, &e), 0);
	assert_int_equal(sandbox_cgroup_destroy(cg, NULL), 0);
	assert_int_equal(sandbox_cgroup_pids(cg, &pids, &n, &e), -ENOENT);
	err_free(&e);
	assert_int_equal(sandbox_cgroup_pids(cg, &pids, &n, NULL), -ENOENT);
	assert_int_equal(sandbox_cgroup_stats(cg, &st, NULL), -ENOENT);
	assert_int_equal(sandbox_cgroup_freeze(cg, true, NULL), -ENOENT);
	sandbox_cgroup_close(again);
	sandbox_cgroup_close(cg);
	live_npaths = 0;
}

static void test_live_v1(void **state)
{
	static const char *const dirs[] = {
	    "/sys/fs/cgroup/freezer/moat", "/sys/fs/cgroup/memory/moat",
	    "/sys/fs/cgroup/cpuacct/moat", "/sys/fs/cgroup/pids/moat", NULL};
	char d[256];

	if (!need_root())
		skip();
	if (!v1_host_all()) {
		print_message("      (skipped: not a v1 host with freezer, memory, cpuacct, pids "
			      "mounted under /sys/fs/cgroup)\n");
		skip();
	}
	sandbox_cgroup_describe(false, d, sizeof(d));
	assert_string_equal(d, "v1 (freezer, memory, cpuacct, pids)");
	live_run(dirs, true);
}

/* A create that fails half way removes what it made, and only that: here
 * the memory hierarchy already has a directory of that name (made by hand,
 * i.e. not ours), so the freezer one made just before must go again. */
static void test_live_v1_rollback(void **state)
{
	struct sandbox_cgroup *cg = NULL;
	struct err *e = NULL;
	char id[65];

	if (!need_root())
		skip();
	if (!v1_host_all()) {
		print_message("      (skipped: not a v1 host with freezer, memory, cpuacct, pids "
			      "mounted under /sys/fs/cgroup)\n");
		skip();
	}
	random_id(id);
	snprintf(live_paths[0], sizeof(live_paths[0]), "/sys/fs/cgroup/memory/moat/%s", id);
	snprintf(live_paths[1], sizeof(live_paths[1]), "/sys/fs/cgroup/freezer/moat/%s", id);
	live_npaths = 2;
	mkdir("/sys/fs/cgroup/memory/moat", 0755);
	assert_int_equal(mkdir(live_paths[0], 0755), 0);
	assert_int_equal(sandbox_cgroup_create(id, &cg, &e), -EEXIST);
	assert_null(cg);
	err_has(&e, EEXIST, live_paths[0]);
	assert_false(exists(live_paths[1]));
	assert_true(exists(live_paths[0]));
	assert_int_equal(rmdir(live_paths[0]), 0);
	live_npaths = 0;
}

/* As on kernels without cgroup.kill: thaw, then SIGKILL by pid. */
static void test_live_v1_pid_kill(void **state)
{
	static const char *const dirs[] = {
	    "/sys/fs/cgroup/freezer/moat", "/sys/fs/cgroup/memory/moat",
	    "/sys/fs/cgroup/cpuacct/moat", "/sys/fs/cgroup/pids/moat", NULL};

	if (!need_root())
		skip();
	if (!v1_host_all()) {
		print_message("      (skipped: not a v1 host with freezer, memory, cpuacct, pids "
			      "mounted under /sys/fs/cgroup)\n");
		skip();
	}
	sandbox_cgroup_force_pid_kill(true);
	live_run(dirs, true);
	sandbox_cgroup_force_pid_kill(false);
}

static void test_live_v2(void **state)
{
	const char *mnt = v2_mount();
	char dir[300], d[256];
	const char *dirs[] = {dir, NULL};

	if (!need_root())
		skip();
	if (!mnt) {
		print_message("      (skipped: no cgroup2 mount)\n");
		skip();
	}
	if (strcmp(mnt, "/sys/fs/cgroup"))
		sandbox_cgroup_force_v2(mnt);
	snprintf(dir, sizeof(dir), "%s/moat", mnt);
	sandbox_cgroup_describe(false, d, sizeof(d));
	print_message("      %s: %s\n", mnt, d);
	assert_memory_equal(d, "v2 (", 4);
	{
		/* Memory statistics only where the controller reaches moat/. */
		char ctl[300];
		bool mem = false;
		FILE *f;

		snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", mnt);
		f = fopen(ctl, "re");
		if (f) {
			char line[256] = "";

			mem = fgets(line, sizeof(line), f) && strstr(line, "memory");
			fclose(f);
		}
		live_run(dirs, mem);
	}
	sandbox_cgroup_force_v2(NULL);
}

/* Runs FN as uid/gid 65534 in a child, in cgroup CGDIR (v2) when given;
 * the child's exit status is FN's. */
static int as_nobody(const char *cgprocs, int (*fn)(void))
{
	int sync[2], st;
	pid_t pid;
	char c;

	assert_int_equal(pipe2(sync, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sync[1]);
		if (read(sync[0], &c, 1) != 1)
			_exit(90);
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
		    setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(91);
		_exit(fn());
	}
	close(sync[0]);
	if (cgprocs) {
		FILE *f = fopen(cgprocs, "we");

		assert_non_null(f);
		fprintf(f, "%d", (int)pid);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(write(sync[1], "g", 1), 1);
	close(sync[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

#define CHILD_CHECK(cond)                                                                   \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "child: line %d: %s failed%s%s\n", __LINE__, #cond, \
				e ? ": " : "", e ? e->msg : "");                            \
			return __LINE__ % 80 + 1;                                           \
		}                                                                           \
	} while (0)

static int rootless_refused(void)
{
	struct sandbox_cgroup *cg = NULL;
	struct err *e = NULL;
	char id[65], d[256];

	memset(id, 'a', 64);
	id[64] = 0;
	CHILD_CHECK(sandbox_cgroup_create(id, &cg, &e) == -ENOTSUP);
	CHILD_CHECK(strstr(e->msg, "not available to rootless containers"));
	CHILD_CHECK(strstr(e->msg, "cgroup v1"));
	err_free(&e);
	CHILD_CHECK(sandbox_cgroup_open(id, &cg, &e) == -ENOTSUP);
	CHILD_CHECK(cg == NULL);
	err_free(&e);
	sandbox_cgroup_describe(true, d, sizeof(d));
	CHILD_CHECK(strstr(d, "unavailable: cgroups are not available to rootless") == d);
	return 0;
}

static void test_rootless_v1_refused(void **state)
{
	if (!need_root())
		skip();
	if (!v1_host()) {
		print_message("      (skipped: not a cgroup v1 host)\n");
		skip();
	}
	assert_int_equal(as_nobody(NULL, rootless_refused), 0);
}

static char deleg[300], nobody_id[65];

/* In the delegated cgroup DELEG, as nobody. */
static int rootless_delegated(void)
{
	struct sandbox_cgroup *cg = NULL, *again = NULL;
	struct cgroup_stats st;
	struct err *e = NULL;
	char path[400], d[256];
	pid_t *pids = NULL, child;
	size_t n = 0;
	bool frozen = false;
	int status;

	sandbox_cgroup_describe(true, d, sizeof(d));
	CHILD_CHECK(strncmp(d, "v2 (", 4) == 0);
	CHILD_CHECK(sandbox_cgroup_create(nobody_id, &cg, &e) == 0);
	snprintf(path, sizeof(path), "%s/moat-%.12s", deleg, nobody_id);
	CHILD_CHECK(exists(path));
	child = fork();
	if (child == 0)
		for (;;)
			pause();
	CHILD_CHECK(child > 0);
	CHILD_CHECK(sandbox_cgroup_attach(cg, child, &e) == 0);
	CHILD_CHECK(sandbox_cgroup_open(nobody_id, &again, &e) == 0);
	CHILD_CHECK(sandbox_cgroup_pids(again, &pids, &n, &e) == 0);
	CHILD_CHECK(n == 1 && pids[0] == child);
	free(pids);
	CHILD_CHECK(sandbox_cgroup_freeze(again, true, &e) == 0);
	CHILD_CHECK(sandbox_cgroup_frozen(cg, &frozen, &e) == 0 && frozen);
	CHILD_CHECK(sandbox_cgroup_stats(cg, &st, &e) == 0 && st.pids == 1);
	CHILD_CHECK(sandbox_cgroup_destroy(again, &e) == 0);
	CHILD_CHECK(waitpid(child, &status, 0) == child);
	CHILD_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHILD_CHECK(!exists(path));
	sandbox_cgroup_close(again);
	sandbox_cgroup_close(cg);
	return 0;
}

/* In the root cgroup (root's), as nobody: nothing is delegated. */
static int rootless_undelegated(void)
{
	struct sandbox_cgroup *cg = NULL;
	struct err *e = NULL;
	char d[512];

	CHILD_CHECK(sandbox_cgroup_create(nobody_id, &cg, &e) == -ENOTSUP);
	CHILD_CHECK(strstr(e->msg, "is delegated to uid 65534"));
	err_free(&e);
	sandbox_cgroup_describe(true, d, sizeof(d));
	CHILD_CHECK(strstr(d, "unavailable: ") == d);
	CHILD_CHECK(strstr(d, "systemd-run --user"));
	return 0;
}

/* The delegated cgroup goes, whatever happened inside it. */
static int deleg_teardown(void **state)
{
	if (deleg[0]) {
		snprintf(live_paths[0], sizeof(live_paths[0]), "%s/moat-%.12s", deleg, nobody_id);
		snprintf(live_paths[1], sizeof(live_paths[1]), "%s", deleg);
		live_npaths = 2;
		deleg[0] = 0;
	}
	return live_teardown(state);
}

static void test_rootless_v2(void **state)
{
	static const char *const files[] = {"", "/cgroup.procs", "/cgroup.subtree_control",
					    "/cgroup.threads"};
	const char *mnt = v2_mount();
	char procs[400], rnd[65];

	if (!need_root())
		skip();
	if (!mnt) {
		print_message("      (skipped: no cgroup2 mount)\n");
		skip();
	}
	if (strcmp(mnt, "/sys/fs/cgroup"))
		sandbox_cgroup_force_v2(mnt);
	random_id(nobody_id);
	random_id(rnd);
	/* What systemd's Delegate=yes does for a user's service. */
	snprintf(deleg, sizeof(deleg), "%s/moat-test-%.12s", mnt, rnd);
	assert_int_equal(mkdir(deleg, 0755), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char p[400];

		snprintf(p, sizeof(p), "%s%s", deleg, files[i]);
		assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", deleg);
	assert_int_equal(as_nobody(procs, rootless_delegated), 0);
	assert_int_equal(as_nobody(NULL, rootless_undelegated), 0);
	assert_int_equal(rmdir(deleg), 0);
	deleg[0] = 0;
	sandbox_cgroup_force_v2(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mountinfo_hybrid),
	    cmocka_unit_test(test_mountinfo_v2),
	    cmocka_unit_test(test_mountinfo_combined_escaped_and_binds),
	    cmocka_unit_test(test_mountinfo_malformed),
	    cmocka_unit_test(test_self),
	    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_keyed),
	    cmocka_unit_test(test_procs),
	    cmocka_unit_test(test_freezer_state),
	    cmocka_unit_test(test_meminfo),
	    cmocka_unit_test(test_ctrl_names),
	    cmocka_unit_test(test_bad_ids),
	    cmocka_unit_test_teardown(test_live_v1, live_teardown),
	    cmocka_unit_test_teardown(test_live_v1_rollback, live_teardown),
	    cmocka_unit_test_teardown(test_live_v1_pid_kill, live_teardown),
	    cmocka_unit_test_teardown(test_live_v2, live_teardown),
	    cmocka_unit_test(test_rootless_v1_refused),
	    cmocka_unit_test_teardown(test_rootless_v2, deleg_teardown),
	};

	/* Orphans of the live tests' children come back to us for reaping. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
