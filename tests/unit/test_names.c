/*
 * Unit tests for engine/names.c (pure): generated names, name rules,
 * reference resolution, the lifecycle state machine (every state x verb
 * against a table written out here) and the ps STATUS text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/names.h"

/* RC is -CODE and *E says exactly MSG with exit status EXIT; frees *E. */
static void err_is(int rc, struct err **e, int code, const char *msg, int exit_code)
{
	assert_int_equal(rc, -code);
	assert_non_null(*e);
	assert_int_equal((*e)->code, code);
	assert_string_equal((*e)->msg, msg);
	assert_int_equal((*e)->exit, exit_code);
	err_free(e);
}

/* ---- names_generate ---- */

static void test_generate_valid_everywhere(void **state)
{
	char name[64];

	/* 200 x 200 covers every pair of both lists (~60 x ~100) at least once */
	for (uint64_t a = 0; a < 200; a++) {
		for (uint64_t s = 0; s < 200; s++) {
			names_generate(a | (s << 32), name);
			assert_true(names_valid(name));
			assert_non_null(strchr(name, '_'));
			assert_true(strlen(name) < 40);
		}
	}
}

static void test_generate_uses_both_halves(void **state)
{
	char a[64], b[64], c[64], d[64];
	char adjs[200][64], surs[200][64];
	size_t nadj = 0, nsur = 0;

	names_generate(0, a);
	names_generate(1, b);
	names_generate(1ull << 32, c);
	names_generate(0, d);
	assert_string_equal(a, d); /* deterministic */
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c);
	/* low bits pick the adjective: same surname for 0 and 1 */
	assert_string_equal(strchr(a, '_'), strchr(b, '_'));
	/* high bits pick the surname: same adjective for 0 and 1<<32 */
	assert_int_equal(strchr(a, '_') - a, strchr(c, '_') - c);
	assert_memory_equal(a, c, (size_t)(strchr(a, '_') - a));

	/* the lists are the size the brief asks for */
	for (uint64_t i = 0; i < 200; i++) {
		char n[64], *u;
		size_t j;

		names_generate(i, n);
		u = strchr(n, '_');
		*u = 0;
		for (j = 0; j < nadj && strcmp(adjs[j], n); j++)
			;
		if (j == nadj)
			strcpy(adjs[nadj++], n);
		names_generate(i << 32, n);
		u = strchr(n, '_');
		for (j = 0; j < nsur && strcmp(surs[j], u + 1); j++)
			;
		if (j == nsur)
			strcpy(surs[nsur++], u + 1);
	}
	assert_true(nadj >= 55 && nadj <= 80);
	assert_true(nsur >= 95 && nsur <= 130);
}

/* ---- names_valid / names_normalize ---- */

static void test_valid_names(void **state)
{
	char longest[CTR_NAME_MAX + 2];

	assert_true(names_valid("ab"));
	assert_true(names_valid("web-1"));
	assert_true(names_valid("a.b_c-D"));
	assert_true(names_valid("0x"));
	assert_true(names_valid("/web"));
	memset(longest, 'a', CTR_NAME_MAX);
	longest[CTR_NAME_MAX] = 0;
	assert_true(names_valid(longest));
	longest[CTR_NAME_MAX] = 'a';
	longest[CTR_NAME_MAX + 1] = 0;
	assert_false(names_valid(longest)); /* 129 bytes */
	longest[0] = '/';
	assert_true(names_valid(longest)); /* "/" + 128: the slash is not counted */
}

static void test_invalid_names(void **state)
{
	const char *bad[] = {"",    "a",   "/",	   "/a",  "_ab",  ".ab",	 "-ab",
			     "a b", "a/b", "//ab", "ab/", "ab\n", "caf\xc3\xa9", "a:b",
			     "a@b", "ab ", "\tab", "a$b"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (names_valid(bad[i]))
			fail_msg("\"%s\" accepted", bad[i]);
	}
	assert_false(names_valid(NULL));
}

static void test_normalize(void **state)
{
	assert_string_equal(names_normalize("/web"), "web");
	assert_string_equal(names_normalize("web"), "web");
	assert_string_equal(names_normalize("//web"), "/web");
	assert_string_equal(names_normalize(""), "");
	assert_null(names_normalize(NULL));
}

/* ---- names_resolve ---- */

#define ID_A "abc1000000000000000000000000000000000000000000000000000000000000"
#define ID_B "abc2000000000000000000000000000000000000000000000000000000000000"
#define ID_C "fff0000000000000000000000000000000000000000000000000000000000000"
#define ID_D "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_E "e000000000000000000000000000000000000000000000000000000000000000"

static const struct names_entry ents[] = {
    {ID_A, "web"}, {ID_B, "/db"}, {ID_C, "abc1"}, /* a name that is also a prefix of ID_A */
    {ID_D, NULL},  {ID_E, ID_B},		  /* a (bogus) name equal to another's full id */
};
#define NENTS (sizeof(ents) / sizeof(ents[0]))

static size_t resolve_ok(const char *ref)
{
	struct err *e = NULL;
	size_t idx = 999;

	assert_int_equal(names_resolve(ents, NENTS, ref, &idx, &e), 0);
	assert_null(e);
	return idx;
}

static void test_resolve_found(void **state)
{
	assert_int_equal(resolve_ok(ID_A), 0);
	assert_int_equal(resolve_ok(ID_B), 1); /* full id beats the name equal to it */
	assert_int_equal(resolve_ok("web"), 0);
	assert_int_equal(resolve_ok("/web"), 0);
	assert_int_equal(resolve_ok("db"), 1);
	assert_int_equal(resolve_ok("/db"), 1);
	assert_int_equal(resolve_ok("abc2"), 1); /* unique prefix */
	assert_int_equal(resolve_ok("abc1"), 2); /* the name wins over A's prefix */
	assert_int_equal(resolve_ok("abc10"), 0);
	assert_int_equal(resolve_ok("0"), 3);
	assert_int_equal(resolve_ok("f"), 2);
	assert_int_equal(resolve_ok("e"), 4);
	assert_int_equal(resolve_ok(ID_E), 4);
}

static void test_resolve_errors(void **state)
{
	struct err *e = NULL;
	size_t idx = 7;
	char big[10000];

	err_is(names_resolve(ents, NENTS, "abc", &idx, &e), &e, ENOTUNIQ,
	       "multiple containers found with provided prefix: abc", 1);
	err_is(names_resolve(ents, NENTS, "a", &idx, &e), &e, ENOTUNIQ,
	       "multiple containers found with provided prefix: a", 1);
	err_is(names_resolve(ents, NENTS, "nope", &idx, &e), &e, ENOENT, "No such container: nope",
	       1);
	err_is(names_resolve(ents, NENTS, "ABC2", &idx, &e), &e, ENOENT, "No such container: ABC2",
	       1);
	err_is(names_resolve(ents, NENTS, "", &idx, &e), &e, ENOENT, "No such container: ", 1);
	err_is(names_resolve(ents, NENTS, "/", &idx, &e), &e, ENOENT, "No such container: /", 1);
	err_is(names_resolve(ents, NENTS, NULL, &idx, &e), &e, ENOENT, "No such container: ", 1);
	err_is(names_resolve(ents, NENTS, ID_A "0", &idx, &e), &e, ENOENT,
	       "No such container: " ID_A "0", 1);
	err_is(names_resolve(NULL, 0, "web", &idx, &e), &e, ENOENT, "No such container: web", 1);
	err_is(names_resolve(ents, 0, "web", &idx, &e), &e, ENOENT, "No such container: web", 1);
	assert_int_equal(idx, 7); /* untouched on failure */

	/* absurd refs: cut short, no terminal escapes echoed */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(names_resolve(ents, NENTS, big, &idx, &e), -ENOENT);
	assert_true(strlen(e->msg) < 150);
	assert_non_null(strstr(e->msg, "zzz..."));
	err_free(&e);
	assert_int_equal(names_resolve(ents, NENTS, "\x1b[2Jx", &idx, &e), -ENOENT);
	assert_string_equal(e->msg, "No such container: ?[2Jx");
	err_free(&e);
	/* NULL err is allowed */
	assert_int_equal(names_resolve(ents, NENTS, "abc", &idx, NULL), -ENOTUNIQ);
}

/* ---- states ---- */

static void test_state_names(void **state)
{
	const char *want[] = {"created", "running",  "paused", "restarting",
			      "exited",	 "removing", "dead"};
	enum ctr_state s;

	assert_int_equal(sizeof(want) / sizeof(want[0]), CTR_STATE_COUNT);
	for (int i = 0; i < CTR_STATE_COUNT; i++) {
		assert_string_equal(ctr_state_name((enum ctr_state)i), want[i]);
		s = (enum ctr_state)99;
		assert_int_equal(ctr_state_parse(want[i], &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(ctr_state_name((enum ctr_state)7), "unknown");
	assert_string_equal(ctr_state_name((enum ctr_state) - 1), "unknown");
	assert_int_equal(ctr_state_parse("Running", &s), -EINVAL);
	assert_int_equal(ctr_state_parse("up", &s), -EINVAL);
	assert_int_equal(ctr_state_parse("", &s), -EINVAL);
	assert_int_equal(ctr_state_parse("running ", &s), -EINVAL);
	assert_int_equal(ctr_state_parse(NULL, &s), -EINVAL);
}

/* The expected machine, written out independently of names.c. */
struct cell {
	int ret; /* CTR_OK, CTR_NOOP or -errno */
	const char *msg;
};

#define OK                   \
	{                    \
		CTR_OK, NULL \
	}
#define NOOP                   \
	{                      \
		CTR_NOOP, NULL \
	}
#define NR                                             \
	{                                              \
		-ESRCH, "container web is not running" \
	}
#define PZ                                                                     \
	{                                                                      \
		-EBUSY, "container web is paused, unpause the container first" \
	}
#define SP                                                                     \
	{                                                                      \
		-EBUSY, "cannot start a paused container, try unpause instead" \
	}
#define AP                                                   \
	{                                                    \
		-EALREADY, "container web is already paused" \
	}
#define NP                                             \
	{                                              \
		-EINVAL, "container web is not paused" \
	}
#define RS                                                                                  \
	{                                                                                   \
		-EAGAIN, "container web is restarting, wait until the container is running" \
	}
#define RM(st)                                                                 \
	{                                                                      \
		-EBUSY, "cannot remove container \"web\": container is " st    \
			": stop the container before removing or force remove" \
	}
#define MK(what)                                                                  \
	{                                                                         \
		-EIDRM, "container web is marked for removal and cannot be " what \
	}
#define IP                                                                   \
	{                                                                    \
		-EALREADY, "removal of container web is already in progress" \
	}

/* columns: start stop kill restart pause unpause rm rm-f exec attach rename
 *          wait top stats cp commit port diff logs */
static const struct cell expect[CTR_STATE_COUNT][CTR_VERB_COUNT] = {
    [CTR_CREATED] = {OK, NOOP, NR, OK, NR, NP, OK, OK, NR, NR, OK, NOOP, NR, NR, OK, OK, OK, OK,
		     OK},
    [CTR_RUNNING] = {NOOP, OK, OK, OK, OK, NP, RM("running"), OK, OK, OK, OK, OK, OK, OK, OK, OK,
		     OK, OK, OK},
    [CTR_PAUSED] = {SP, OK, PZ, OK, AP, OK, RM("paused"), OK, PZ, PZ, OK, OK, OK, OK, OK, OK, OK,
		    OK, OK},
    [CTR_RESTARTING] = {NOOP, OK, OK, OK, RS, NP, RM("restarting"), OK, RS, RS, OK, OK, RS, RS, OK,
			OK, OK, OK, OK},
    [CTR_EXITED] = {OK, NOOP, NR, OK, NR, NP, OK, OK, NR, NR, OK, NOOP, NR, NR, OK, OK, OK, OK, OK},
    [CTR_REMOVING] = {MK("started"), MK("stopped"), MK("killed"), MK("restarted"), MK("paused"),
		      MK("unpaused"), IP, OK, MK("used for exec"), MK("attached to"), MK("renamed"),
		      MK("waited for"), MK("used for top"), MK("used for stats"),
		      MK("copied to or from"), MK("committed"), MK("used for port"),
		      MK("used for diff"), MK("used for logs")},
    [CTR_DEAD] = {MK("started"), MK("stopped"), MK("killed"), MK("restarted"), MK("paused"),
		  MK("unpaused"), OK, OK, MK("used for exec"), MK("attached to"), MK("renamed"),
		  MK("waited for"), MK("used for top"), MK("used for stats"),
		  MK("copied to or from"), MK("committed"), MK("used for port"),
		  MK("used for diff"), MK("used for logs")},
};

static void test_transition_table(void **state)
{
	size_t checked = 0;

	for (int s = 0; s < CTR_STATE_COUNT; s++) {
		for (int v = 0; v < CTR_VERB_COUNT; v++) {
			const struct cell *c = &expect[s][v];
			struct err *e = NULL;
			int rc =
			    ctr_transition_check((enum ctr_state)s, (enum ctr_verb)v, "web", &e);

			if (rc != c->ret)
				fail_msg("state %s verb %d: got %d, want %d", ctr_state_name(s), v,
					 rc, c->ret);
			if (!c->msg) {
				assert_null(e);
			} else {
				assert_non_null(e);
				if (strcmp(e->msg, c->msg))
					fail_msg("state %s verb %d: \"%s\"", ctr_state_name(s), v,
						 e->msg);
				assert_int_equal(e->exit, 1);
				assert_int_equal(e->code, -c->ret);
				err_free(&e);
			}
			/* without an err the answer is the same */
			assert_int_equal(
			    ctr_transition_check((enum ctr_state)s, (enum ctr_verb)v, "web", NULL),
			    c->ret);
			checked++;
		}
	}
	assert_int_equal(checked, 7 * 19);
}

static void test_transition_odd_inputs(void **state)
{
	struct err *e = NULL;

	assert_int_equal(
	    ctr_transition_check((enum ctr_state)CTR_STATE_COUNT, CTR_VERB_START, "web", &e),
	    -EINVAL);
	assert_int_equal(e->exit, 0); /* a caller bug, not Docker's exit 1 */
	err_free(&e);
	assert_int_equal(
	    ctr_transition_check(CTR_RUNNING, (enum ctr_verb)CTR_VERB_COUNT, "web", &e), -EINVAL);
	err_free(&e);
	assert_int_equal(ctr_transition_check((enum ctr_state) - 1, CTR_VERB_START, "web", &e),
			 -EINVAL);
	err_free(&e);
	/* a NULL id and an id with escapes */
	err_is(ctr_transition_check(CTR_EXITED, CTR_VERB_KILL, NULL, &e), &e, ESRCH,
	       "container  is not running", 1);
	err_is(ctr_transition_check(CTR_EXITED, CTR_VERB_KILL, "\x1b]0;x\a", &e), &e, ESRCH,
	       "container ?]0;x? is not running", 1);
}

/* ---- durations and status text ---- */

static void dur_is(int64_t s, const char *want)
{
	char buf[64];

	names_human_duration(s, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("%lld s: \"%s\", want \"%s\"", (long long)s, buf, want);
}

static void test_human_duration(void **state)
{
	const int64_t H = 3600, D = 24 * H;
	char small[5] = "xxxx";

	dur_is(-5, "Less than a second");
	dur_is(0, "Less than a second");
	dur_is(1, "1 second");
	dur_is(2, "2 seconds");
	dur_is(59, "59 seconds");
	dur_is(60, "About a minute");
	dur_is(119, "About a minute");
	dur_is(120, "2 minutes");
	dur_is(3599, "59 minutes");
	dur_is(H, "About an hour");
	dur_is(H + 1799, "About an hour"); /* 1.4997 h rounds to 1 */
	dur_is(H + 1800, "2 hours");
	dur_is(47 * H + 1799, "47 hours");
	dur_is(47 * H + 1800, "2 days"); /* rounds to 48 h */
	dur_is(13 * D + 23 * H + 1799, "13 days");
	dur_is(14 * D - 1800, "2 weeks");
	dur_is(59 * D + 23 * H, "8 weeks");
	dur_is(60 * D, "2 months");
	dur_is(2 * 365 * D - H, "24 months");
	dur_is(2 * 365 * D, "2 years");
	dur_is(10 * 365 * D + 5 * D, "10 years");
	dur_is(INT64_MAX, "292471208677 years");

	names_human_duration(0, small, sizeof(small));
	assert_string_equal(small, "Less");
	names_human_duration(0, small, 0); /* writes nothing */
	assert_string_equal(small, "Less");
}

static void status_is(enum ctr_state s, int code, int64_t started, int64_t finished, int64_t now,
		      const char *want)
{
	char buf[128];

	ctr_status_text(s, code, started, finished, now, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("\"%s\", want \"%s\"", buf, want);
}

static void test_status_text(void **state)
{
	const int64_t now = 1700000000;

	status_is(CTR_CREATED, 0, 0, 0, now, "Created");
	status_is(CTR_RUNNING, 0, now - 300, 0, now, "Up 5 minutes");
	status_is(CTR_RUNNING, 0, now, 0, now, "Up Less than a second");
	status_is(CTR_RUNNING, 0, now - 59, 0, now, "Up 59 seconds");
	status_is(CTR_RUNNING, 0, now - 60, 0, now, "Up About a minute");
	status_is(CTR_RUNNING, 0, now - 119, 0, now, "Up About a minute");
	status_is(CTR_RUNNING, 0, now - 3599, 0, now, "Up 59 minutes");
	status_is(CTR_RUNNING, 0, now - 3600, 0, now, "Up About an hour");
	status_is(CTR_RUNNING, 0, now + 30, 0, now, "Up Less than a second"); /* skew */
	status_is(CTR_RUNNING, 0, 0, 0, now, "Up");			      /* unknown start */
	status_is(CTR_PAUSED, 0, now - 300, 0, now, "Up 5 minutes (Paused)");
	status_is(CTR_RESTARTING, 1, now - 60, now - 2, now, "Restarting (1) 2 seconds ago");
	status_is(CTR_EXITED, 0, now - 9000, now - 7200, now, "Exited (0) 2 hours ago");
	status_is(CTR_EXITED, 137, now - 9000, now - 1, now, "Exited (137) 1 second ago");
	status_is(CTR_EXITED, -1, now - 900, now - 180, now, "Exited (unknown) 3 minutes ago");
	status_is(CTR_EXITED, 0, now - 900, 0, now, "Exited (0)");
	status_is(CTR_EXITED, -1, now - 900, 0, now, "Exited (unknown)");
	status_is(CTR_REMOVING, 0, now - 9, now - 1, now, "Removal In Progress");
	status_is(CTR_DEAD, 0, now - 9, now - 1, now, "Dead");
	status_is((enum ctr_state)42, 0, 0, 0, now, "Unknown");
	/* extreme clocks: no overflow (UBSan would stop here) */
	status_is(CTR_RUNNING, 0, 1, 0, INT64_MAX, "Up 292471208677 years");
	status_is(CTR_EXITED, 0, 1, INT64_MAX, INT64_MIN, "Exited (0) Less than a second ago");
	status_is(CTR_EXITED, 0, 1, 1, INT64_MIN, "Exited (0) Less than a second ago");

	char tiny[8];
	ctr_status_text(CTR_EXITED, 0, 1, 1, now, tiny, sizeof(tiny));
	assert_string_equal(tiny, "Exited ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_valid_everywhere),
	    cmocka_unit_test(test_generate_uses_both_halves),
	    cmocka_unit_test(test_valid_names),
	    cmocka_unit_test(test_invalid_names),
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_resolve_found),
	    cmocka_unit_test(test_resolve_errors),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_transition_table),
	    cmocka_unit_test(test_transition_odd_inputs),
	    cmocka_unit_test(test_human_duration),
	    cmocka_unit_test(test_status_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
