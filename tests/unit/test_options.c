/*
 * Unit tests for engine/options.c (pure): --env-file / --label-file / -l,
 * --restart and the monitor's restart decision and back-off, signals,
 * sizes, and ps --filter.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/cleanup.h"
#include "engine/options.h"

/* RC is -CODE and *E says exactly MSG; frees *E. */
static void err_is(int rc, struct err **e, int code, const char *msg)
{
	assert_int_equal(rc, -code);
	assert_non_null(*e);
	assert_int_equal((*e)->code, code);
	assert_string_equal((*e)->msg, msg);
	err_free(e);
}

static void strv_is(char **v, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_non_null(v);
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	if (v)
		assert_null(v[i]);
}

static int env_parse(const char *text, char **environ_, char ***env, struct err **e)
{
	return options_env_file_parse("f.env", text, strlen(text), environ_, env, e);
}

/* ---- --env-file ---- */

static void test_env_file_rules(void **state)
{
	char *host[] = {"HOMEX=no", "HOME=/root", "HOME=/second", NULL};
	_cleanup_strv_ char **env = NULL;
	struct err *e = NULL;

	assert_int_equal(env_parse("A=1\n"
				   "  B= spaced value \n"
				   "# a comment\n"
				   "   # an indented comment\n"
				   "\n"
				   "   \t \n"
				   "\tC=x=y\r\n"
				   "HOME\n"
				   "UNSET\n"
				   "Q=\"quoted\"\n"
				   "EMPTY=\n"
				   "hash=#not a comment\n"
				   "LAST=no newline",
				   host, &env, &e),
			 0);
	assert_null(e);
	strv_is(env,
		(const char *[]){"A=1", "B= spaced value ", "C=x=y", "HOME=/root", "Q=\"quoted\"",
				 "EMPTY=", "hash=#not a comment", "LAST=no newline", NULL});
}

static void test_env_file_appends(void **state)
{
	_cleanup_strv_ char **env = calloc(2, sizeof(char *));
	struct err *e = NULL;

	env[0] = strdup("PRE=1");
	assert_int_equal(env_parse("A=1\nB=2\n", NULL, &env, &e), 0);
	assert_int_equal(env_parse("C=3", NULL, &env, &e), 0);
	strv_is(env, (const char *[]){"PRE=1", "A=1", "B=2", "C=3", NULL});

	/* nothing to add: the list stays as it is (and NULL stays NULL) */
	char **none = NULL;
	assert_int_equal(env_parse("", NULL, &none, &e), 0);
	assert_int_equal(env_parse("# only\n\nUNSET\n", NULL, &none, &e), 0);
	assert_null(none);
	assert_int_equal(options_env_file_parse("f", NULL, 0, NULL, &none, &e), 0);
	assert_null(none);
}

static void test_env_file_line_ends(void **state)
{
	_cleanup_strv_ char **env = NULL;
	struct err *e = NULL;

	/* one \r dropped, not two; a BOM dropped from line 1 only; a
	 * non-breaking space and a tab count as leading white space */
	assert_int_equal(env_parse("\xef\xbb\xbf"
				   "A=1\r\r\n"
				   "\xef\xbb\xbf"
				   "B=2\n"
				   "\xc2\xa0\tC=3\r\n"
				   "\xe3\x80\x80"
				   "D=caf\xc3\xa9 \xf0\x9f\x90\xb3\r",
				   NULL, &env, &e),
			 0);
	strv_is(env, (const char *[]){"A=1\r",
				      "\xef\xbb\xbf"
				      "B=2",
				      "C=3", "D=caf\xc3\xa9 \xf0\x9f\x90\xb3", NULL});
}

static void test_env_file_errors(void **state)
{
	_cleanup_strv_ char **env = NULL;
	char **before;
	struct err *e = NULL;

	assert_int_equal(env_parse("KEEP=1\n", NULL, &env, &e), 0);
	before = env;

	err_is(env_parse("=x\n", NULL, &env, &e), &e, EINVAL,
	       "f.env:1: invalid environment variable: =x");
	err_is(env_parse("A=1\n\n  =\n", NULL, &env, &e), &e, EINVAL,
	       "f.env:3: invalid environment variable: =");
	err_is(env_parse("A=1\nA B=2\n", NULL, &env, &e), &e, EINVAL,
	       "f.env:2: variable 'A B' contains whitespaces");
	err_is(env_parse("A =1", NULL, &env, &e), &e, EINVAL,
	       "f.env:1: variable 'A ' contains whitespaces");
	err_is(env_parse("KEY \n", NULL, &env, &e), &e, EINVAL,
	       "f.env:1: variable 'KEY ' contains whitespaces");
	err_is(env_parse("A\t=1", NULL, &env, &e), &e, EINVAL,
	       "f.env:1: variable 'A?' contains whitespaces");
	err_is(env_parse("A=\xff\n", NULL, &env, &e), &e, EILSEQ,
	       "f.env:1: contains invalid utf8 bytes");
	err_is(env_parse("A=1\nB=\xc0\xaf\n", NULL, &env, &e), &e, EILSEQ,
	       "f.env:2: contains invalid utf8 bytes"); /* overlong '/' */
	err_is(env_parse("A=\xed\xa0\x80", NULL, &env, &e), &e, EILSEQ,
	       "f.env:1: contains invalid utf8 bytes"); /* a surrogate */
	err_is(env_parse("A=\xf4\x90\x80\x80", NULL, &env, &e), &e, EILSEQ,
	       "f.env:1: contains invalid utf8 bytes"); /* past U+10FFFF */
	err_is(env_parse("A=\xe2\x82", NULL, &env, &e), &e, EILSEQ,
	       "f.env:1: contains invalid utf8 bytes"); /* cut short */
	err_is(options_env_file_parse("f.env", "A=1\nB=x\0y\n", 10, NULL, &env, &e), &e, EILSEQ,
	       "f.env:2: contains invalid utf8 bytes");
	/* echoed text carries no terminal escapes; a NULL file name reads "-" */
	err_is(options_env_file_parse(NULL, "=\x1b[2J", 5, NULL, &env, &e), &e, EINVAL,
	       "-:1: invalid environment variable: =?[2J");
	err_is(options_env_file_parse("f.env", NULL, 3, NULL, &env, &e), &e, EINVAL,
	       "f.env: no text");

	/* every error path works without an err to fill */
	assert_int_equal(env_parse("A=1\n=x", NULL, &env, NULL), -EINVAL);
	assert_int_equal(env_parse("A=\xff", NULL, &env, NULL), -EILSEQ);
	assert_int_equal(options_label_add(&env, "=v", NULL), -EINVAL);
	assert_int_equal(options_restart_parse("x", &(struct restart_spec){0}, NULL), -EINVAL);
	assert_int_equal(options_signal_parse("x", NULL), -EINVAL);
	assert_int_equal(options_size_parse("x", &(uint64_t){0}, NULL), -EINVAL);
	assert_int_equal(options_size_parse("9999999999999999999", &(uint64_t){0}, NULL), -ERANGE);

	/* nothing was appended by any failure, even after good lines */
	assert_ptr_equal(env, before);
	strv_is(env, (const char *[]){"KEEP=1", NULL});
}

static void test_env_file_caps(void **state)
{
	_cleanup_strv_ char **env = NULL;
	_cleanup_free_ char *big = malloc(OPTIONS_FILE_MAX + 2);
	struct err *e = NULL;

	/* a line of exactly 64 KiB is fine, one byte more is not */
	memset(big, 'v', OPTIONS_LINE_MAX);
	memcpy(big, "K=", 2);
	assert_int_equal(options_env_file_parse("f", big, OPTIONS_LINE_MAX, NULL, &env, &e), 0);
	assert_int_equal(strlen(env[0]), OPTIONS_LINE_MAX);
	big[OPTIONS_LINE_MAX] = 'v';
	big[OPTIONS_LINE_MAX + 1] = '\n';
	err_is(options_env_file_parse("f", big, OPTIONS_LINE_MAX + 2, NULL, &env, &e), &e, E2BIG,
	       "f:1: line longer than 65536 bytes");
	/* 1 MiB of short lines is fine, one byte more is not */
	for (size_t i = 0; i < OPTIONS_FILE_MAX; i += 4)
		memcpy(big + i, "#xx\n", 4);
	assert_int_equal(options_env_file_parse("f", big, OPTIONS_FILE_MAX, NULL, &env, &e), 0);
	err_is(options_env_file_parse("f", big, OPTIONS_FILE_MAX + 1, NULL, &env, &e), &e, EFBIG,
	       "f: larger than 1048576 bytes");
	assert_non_null(env);
	assert_null(env[1]); /* only the one 64 KiB line */
}

/* ---- labels ---- */

static void test_label_file(void **state)
{
	_cleanup_strv_ char **labels = NULL;
	struct err *e = NULL;
	const char *t = "a=b\n"
			"  flag\n"
			"# c=d\n"
			"com.example.v=1.0=x\n";

	assert_int_equal(options_label_file_parse("l", t, strlen(t), &labels, &e), 0);
	strv_is(labels, (const char *[]){"a=b", "flag=", "com.example.v=1.0=x", NULL});
	err_is(options_label_file_parse("l", "ok=1\n=v\n", 8, &labels, &e), &e, EINVAL,
	       "l:2: invalid label: =v");
	err_is(options_label_file_parse("l", "a b\n", 4, &labels, &e), &e, EINVAL,
	       "l:1: variable 'a b' contains whitespaces");
	err_is(options_label_file_parse("l", "a=\x80", 3, &labels, &e), &e, EILSEQ,
	       "l:1: contains invalid utf8 bytes");
	strv_is(labels, (const char *[]){"a=b", "flag=", "com.example.v=1.0=x", NULL});
}

static void test_label_add(void **state)
{
	_cleanup_strv_ char **labels = NULL;
	struct err *e = NULL;

	assert_int_equal(options_label_add(&labels, "k=v", &e), 0);
	assert_int_equal(options_label_add(&labels, "flag", &e), 0);
	assert_int_equal(options_label_add(&labels, "empty=", &e), 0);
	assert_int_equal(options_label_add(&labels, "a=b=c d", &e), 0);
	strv_is(labels, (const char *[]){"k=v", "flag=", "empty=", "a=b=c d", NULL});

	err_is(options_label_add(&labels, "=v", &e), &e, EINVAL, "invalid label '=v': empty name");
	err_is(options_label_add(&labels, "", &e), &e, EINVAL, "invalid label '': empty name");
	err_is(options_label_add(&labels, " \t=v", &e), &e, EINVAL,
	       "invalid label ' ?=v': empty name");
	err_is(options_label_add(&labels, "a b=c", &e), &e, EINVAL,
	       "label 'a b' contains whitespaces");
	err_is(options_label_add(&labels, " a", &e), &e, EINVAL, "label ' a' contains whitespaces");
	err_is(options_label_add(&labels, NULL, &e), &e, EINVAL, "invalid label: none given");
	strv_is(labels, (const char *[]){"k=v", "flag=", "empty=", "a=b=c d", NULL});
}

/* ---- restart ---- */

static void test_restart_parse(void **state)
{
	static const struct {
		const char *in;
		enum restart_policy p;
		int max;
	} good[] = {
	    {"no", RESTART_NO, 0},
	    {"", RESTART_NO, 0},
	    {"always", RESTART_ALWAYS, 0},
	    {"unless-stopped", RESTART_UNLESS_STOPPED, 0},
	    {"on-failure", RESTART_ON_FAILURE, 0},
	    {"on-failure:0", RESTART_ON_FAILURE, 0},
	    {"on-failure:5", RESTART_ON_FAILURE, 5},
	    {"on-failure:007", RESTART_ON_FAILURE, 7},
	    {"on-failure:2147483647", RESTART_ON_FAILURE, INT_MAX},
	};
	struct restart_spec r;
	struct err *e = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r = (struct restart_spec){(enum restart_policy)99, -1};
		assert_int_equal(options_restart_parse(good[i].in, &r, &e), 0);
		assert_int_equal(r.policy, good[i].p);
		assert_int_equal(r.max_retries, good[i].max);
	}

	err_is(options_restart_parse("always:3", &r, &e), &e, EINVAL,
	       "maximum retry count cannot be used with restart policy 'always'");
	err_is(options_restart_parse("no:1", &r, &e), &e, EINVAL,
	       "maximum retry count cannot be used with restart policy 'no'");
	err_is(options_restart_parse("unless-stopped:0", &r, &e), &e, EINVAL,
	       "maximum retry count cannot be used with restart policy 'unless-stopped'");
	const char *badcount[] = {"on-failure:",	   "on-failure:-1",
				  "on-failure:x",	   "on-failure:+1",
				  "on-failure:2147483648", "on-failure:1:2",
				  "on-failure: 3",	   "on-failure:99999999999999999999"};
	for (size_t i = 0; i < sizeof(badcount) / sizeof(badcount[0]); i++) {
		char want[200];

		snprintf(want, sizeof(want),
			 "invalid restart policy \"%s\": maximum retry count must be a "
			 "non-negative integer",
			 badcount[i]);
		err_is(options_restart_parse(badcount[i], &r, &e), &e, EINVAL, want);
	}
	err_is(options_restart_parse("sometimes", &r, &e), &e, EINVAL,
	       "invalid restart policy \"sometimes\"");
	err_is(options_restart_parse("Always", &r, &e), &e, EINVAL,
	       "invalid restart policy \"Always\"");
	err_is(options_restart_parse(":3", &r, &e), &e, EINVAL, "invalid restart policy \":3\"");
	err_is(options_restart_parse("on-failur", &r, &e), &e, EINVAL,
	       "invalid restart policy \"on-failur\"");
	err_is(options_restart_parse("on-failures", &r, &e), &e, EINVAL,
	       "invalid restart policy \"on-failures\"");
	err_is(options_restart_parse(NULL, &r, &e), &e, EINVAL, "invalid restart policy \"\"");
}

static void test_restart_names(void **state)
{
	const char *names[] = {"no", "on-failure", "always", "unless-stopped"};
	struct restart_spec r;

	for (int p = RESTART_NO; p <= RESTART_UNLESS_STOPPED; p++) {
		assert_string_equal(options_restart_name((enum restart_policy)p), names[p]);
		/* the name parses back to the policy */
		assert_int_equal(options_restart_parse(names[p], &r, NULL), 0);
		assert_int_equal(r.policy, p);
	}
	assert_string_equal(options_restart_name((enum restart_policy)4), "unknown");
	assert_string_equal(options_restart_name((enum restart_policy) - 1), "unknown");
}

static void test_restart_should(void **state)
{
	const struct restart_spec no = {RESTART_NO, 0}, always = {RESTART_ALWAYS, 0},
				  unless = {RESTART_UNLESS_STOPPED, 0},
				  onf = {RESTART_ON_FAILURE, 0}, onf3 = {RESTART_ON_FAILURE, 3};

	assert_false(options_restart_should(&no, 1, 0, false));
	assert_false(options_restart_should(&no, 0, 0, false));
	assert_true(options_restart_should(&always, 0, 0, false));
	assert_true(options_restart_should(&always, 1, 1000, false));
	assert_true(options_restart_should(&unless, 0, 5, false));
	assert_true(options_restart_should(&onf, 1, 1000000, false)); /* 0 = unlimited */
	assert_false(options_restart_should(&onf, 0, 0, false));      /* success: done */
	assert_true(options_restart_should(&onf3, 137, 0, false));
	assert_true(options_restart_should(&onf3, -1, 2, false));
	assert_false(options_restart_should(&onf3, 1, 3, false)); /* retries used up */
	assert_false(options_restart_should(&onf3, 1, 4, false));
	/* a user's stop or kill wins over every policy */
	assert_false(options_restart_should(&always, 137, 0, true));
	assert_false(options_restart_should(&unless, 137, 0, true));
	assert_false(options_restart_should(&onf, 137, 0, true));
	assert_false(options_restart_should(NULL, 1, 0, false));
	const struct restart_spec junk = {(enum restart_policy)9, 0};
	assert_false(options_restart_should(&junk, 1, 0, false));
}

static void test_restart_delay(void **state)
{
	unsigned d = 0;
	const unsigned want[] = {100,  200,   400,   800,   1600,  3200,
				 6400, 12800, 25600, 51200, 60000, 60000};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		d = options_restart_delay(d, 500);
		assert_int_equal(d, want[i]);
	}
	assert_int_equal(options_restart_delay(60000, 9999), 60000);
	assert_int_equal(options_restart_delay(60000, 10000), 100); /* ran long enough */
	assert_int_equal(options_restart_delay(800, UINT64_MAX), 100);
	assert_int_equal(options_restart_delay(29999, 0), 59998);
	assert_int_equal(options_restart_delay(30000, 0), 60000);
	assert_int_equal(options_restart_delay(UINT_MAX, 0), 60000); /* no wrap */
}

/* ---- signals ---- */

static void test_signal_parse(void **state)
{
	static const struct {
		const char *in;
		int sig;
	} good[] = {
	    {"SIGTERM", SIGTERM}, {"TERM", SIGTERM},   {"term", SIGTERM}, {"sigterm", SIGTERM},
	    {"SigTerm", SIGTERM}, {"15", 15},	       {"9", 9},	  {"1", 1},
	    {"64", 64},		  {"015", 15},	       {"KILL", SIGKILL}, {"SIGHUP", SIGHUP},
	    {"USR1", SIGUSR1},	  {"WINCH", SIGWINCH}, {"IOT", SIGABRT},  {"CLD", SIGCHLD},
	    {"POLL", SIGIO},	  {"PWR", SIGPWR},     {"SIGRTMIN", 34},  {"SIGRTMIN+3", 37},
	    {"RTMIN+0", 34},	  {"RTMIN+30", 64},    {"RTMAX-1", 63},	  {"rtmax", 64},
	    {"SIGRTMAX-30", 34},  {"SIG32", 32},       {"SIG15", 15},
	};
	struct err *e = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int s = options_signal_parse(good[i].in, &e);

		if (s != good[i].sig)
			fail_msg("\"%s\": %d, want %d", good[i].in, s, good[i].sig);
	}
	const char *bad[] = {"0",
			     "65",
			     "-1",
			     "+15",
			     "",
			     "SIG",
			     "SIGFOO",
			     "RTMIN+31",
			     "RTMAX-31",
			     "RTMIN-1",
			     "RTMIN+",
			     "RTMIN+x",
			     "SIGSIGTERM",
			     " TERM",
			     "TERM ",
			     "15a",
			     "1000000000000000000000",
			     "SIGKILL\n",
			     "SIG0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[100];

		snprintf(want, sizeof(want), "invalid signal: %s", bad[i]);
		for (char *p = want; *p; p++)
			if (*p == '\n')
				*p = '?';
		err_is(options_signal_parse(bad[i], &e), &e, EINVAL, want);
	}
	err_is(options_signal_parse(NULL, &e), &e, EINVAL, "invalid signal: ");
	char longname[300];
	memset(longname, 'A', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_int_equal(options_signal_parse(longname, &e), -EINVAL);
	assert_true(strlen(e->msg) < 160);
	err_free(&e);
}

static void test_signal_names(void **state)
{
	assert_string_equal(options_signal_name(15), "SIGTERM");
	assert_string_equal(options_signal_name(SIGKILL), "SIGKILL");
	assert_string_equal(options_signal_name(SIGABRT), "SIGABRT");
	assert_string_equal(options_signal_name(SIGCHLD), "SIGCHLD");
	assert_string_equal(options_signal_name(SIGIO), "SIGIO");
	assert_string_equal(options_signal_name(32), "SIG32");
	assert_string_equal(options_signal_name(34), "SIGRTMIN");
	assert_string_equal(options_signal_name(35), "SIGRTMIN+1");
	assert_string_equal(options_signal_name(49), "SIGRTMIN+15");
	assert_string_equal(options_signal_name(50), "SIGRTMAX-14");
	assert_string_equal(options_signal_name(63), "SIGRTMAX-1");
	assert_string_equal(options_signal_name(64), "SIGRTMAX");
	assert_null(options_signal_name(0));
	assert_null(options_signal_name(65));
	assert_null(options_signal_name(-15));
	/* every number has a name, and the name parses back to it */
	for (int s = 1; s <= 64; s++) {
		const char *n = options_signal_name(s);

		assert_non_null(n);
		assert_int_equal(strncmp(n, "SIG", 3), 0);
		assert_int_equal(options_signal_parse(n, NULL), s);
		assert_int_equal(options_signal_parse(n + 3, NULL), s);
	}
}

/* ---- sizes ---- */

static void test_size_parse(void **state)
{
	static const struct {
		const char *in;
		uint64_t v;
	} good[] = {
	    {"100", 100},
	    {"1", 1},
	    {"10k", 10240},
	    {"10K", 10240},
	    {"10kb", 10240},
	    {"10KB", 10240},
	    {"10kib", 10240},
	    {"10KiB", 10240},
	    {"10 k", 10240},
	    {"10m", 10485760},
	    {"1.5m", 1572864},
	    {"1g", 1073741824},
	    {"1t", 1099511627776ull},
	    {"1p", 1125899906842624ull},
	    {"2b", 2},
	    {"2B", 2},
	    {".5k", 512},
	    {"1.", 1},
	    {"1.9", 1},	   /* fractions of a byte are dropped */
	    {"0.001k", 1}, /* 1.024 bytes */
	    {"1 ", 1},	   /* Docker takes a trailing space */
	    {"9223372036854775807", INT64_MAX},
	    {"8191p", 8191ull << 50},
	    {"0.000000000000000000000001p", 0}, /* see below: rejected */
	};
	uint64_t v;
	struct err *e = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]) - 1; i++) {
		v = 12345;
		if (options_size_parse(good[i].in, &v, &e) < 0)
			fail_msg("\"%s\": %s", good[i].in, e->msg);
		if (v != good[i].v)
			fail_msg("\"%s\": %llu", good[i].in, (unsigned long long)v);
	}
	err_is(options_size_parse("0.000000000000000000000001p", &v, &e), &e, EINVAL,
	       "invalid size: '0.000000000000000000000001p' (must be positive)");
	err_is(options_size_parse("0", &v, &e), &e, EINVAL, "invalid size: '0' (must be positive)");
	err_is(options_size_parse("0k", &v, &e), &e, EINVAL,
	       "invalid size: '0k' (must be positive)");
	err_is(options_size_parse("0.5", &v, &e), &e, EINVAL,
	       "invalid size: '0.5' (must be positive)");
	err_is(options_size_parse("9223372036854775808", &v, &e), &e, ERANGE,
	       "invalid size: '9223372036854775808' (too large)");
	err_is(options_size_parse("8192p", &v, &e), &e, ERANGE,
	       "invalid size: '8192p' (too large)");
	err_is(options_size_parse("99999999999999999999999999k", &v, &e), &e, ERANGE,
	       "invalid size: '99999999999999999999999999k' (too large)");
	const char *bad[] = {"",      "k",    "kb",    "-1",	"+1",  "1x", "1kbb", "1bb",
			     "1kb ",  "1  k", "1e3",   "1.1.1", ".",   " 1", "1ki",  "1kB2",
			     "1 b b", "0x10", "1_000", "1mi",	"1\n", "inf"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[100];

		snprintf(want, sizeof(want), "invalid size: '%s'", bad[i]);
		for (char *p = want; *p; p++)
			if (*p == '\n')
				*p = '?';
		v = 777;
		err_is(options_size_parse(bad[i], &v, &e), &e, EINVAL, want);
		assert_int_equal(v, 777); /* untouched */
	}
	err_is(options_size_parse(NULL, &v, &e), &e, EINVAL, "invalid size: ''");
}

/* ---- ps --filter ---- */

#define HEX_A "aaaa111111111111111111111111111111111111111111111111111111111111"
#define HEX_B "aaaa222222222222222222222222222222222222222222222222222222222222"
#define HEX_C "bbbb333333333333333333333333333333333333333333333333333333333333"
#define HEX_D "cccc444444444444444444444444444444444444444444444444444444444444"
#define IMG_A "sha256:1111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define IMG_B "sha256:2222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define IMG_C "sha256:3333cccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define IMG_D "sha256:4444dddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static char *web_labels[] = {"env=prod", "tier=front", "flag", NULL};
static char *db_labels[] = {"env=dev", "env=staging", NULL}; /* the last one wins */

static const struct ps_item items[] = {
    {HEX_A, "/web", "nginx", IMG_A, web_labels, CTR_RUNNING, 0},
    {HEX_B, "db", "docker.io/library/postgres:16", IMG_B, db_labels, CTR_EXITED, 1},
    {HEX_C, "nightly-job", "registry.example.com/team/job@sha256:" HEX_C, IMG_C, NULL, CTR_EXITED,
     0},
    {HEX_D, "fresh", "alpine:3.19", IMG_D, NULL, CTR_CREATED, 0},
};
enum { WEB = 1, DB = 2, JOB = 4, FRESH = 8, ALL = 15 };

/* Which items the filter made of the given specs matches, as a bit set. */
static unsigned matches_v(size_t n, char **specs)
{
	struct ps_filter *f = NULL;
	struct err *e = NULL;
	unsigned got = 0;

	if (ps_filter_parse(specs, n, &f, &e) < 0)
		fail_msg("%s", e->msg);
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		if (ps_filter_match(f, &items[i]))
			got |= 1u << i;
	ps_filter_free(f);
	return got;
}
#define MATCHES(...) \
	matches_v(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *), (char *[]){__VA_ARGS__})

static void test_filter_keys(void **state)
{
	assert_int_equal(matches_v(0, NULL), ALL);
	assert_true(ps_filter_match(NULL, &items[0]));

	assert_int_equal(MATCHES("id=aaaa"), WEB | DB);
	assert_int_equal(MATCHES("id=aaaa1"), WEB);
	assert_int_equal(MATCHES("id=" HEX_C), JOB);
	assert_int_equal(MATCHES("id=AAAA"), 0);
	assert_int_equal(MATCHES("id=aaaa1", "id=bbbb"), WEB | JOB); /* same key: OR */

	assert_int_equal(MATCHES("name=web"), WEB);
	assert_int_equal(MATCHES("name=^web$"), WEB);
	assert_int_equal(MATCHES("name=^/web$"), WEB);
	assert_int_equal(MATCHES("name=^/db$"), DB);
	assert_int_equal(MATCHES("name=b"), WEB | DB | JOB);
	assert_int_equal(MATCHES("name=^d"), DB);
	assert_int_equal(MATCHES("name=job$", "name=^fr"), JOB | FRESH);
	assert_int_equal(MATCHES("name=^(web|db)$"), WEB | DB);
	assert_int_equal(MATCHES("name=e{2}"), 0);
	assert_int_equal(MATCHES("name=h[a-z]{1,3}"), JOB); /* "ht" in nightly; fresh ends in h */
	assert_int_equal(MATCHES("name=WEB"), 0);
	/* patterns that are big but expand linearly are fine */
	assert_int_equal(MATCHES("name=n+i+g+h+t+l+y+-+j+o+b+"), JOB);
	assert_int_equal(MATCHES("name=^(ab){500}$", "name=[]a-z[:digit:]]{3}$"),
			 WEB | JOB | FRESH);
	assert_int_equal(MATCHES("name=^[^/]?d{1,}b*$"), DB);

	assert_int_equal(MATCHES("label=env"), WEB | DB);
	assert_int_equal(MATCHES("label=env=prod"), WEB);
	assert_int_equal(MATCHES("label=env=staging"), DB);
	assert_int_equal(MATCHES("label=env=dev"), 0); /* overridden by the later env= */
	assert_int_equal(MATCHES("label=env=prod", "label=tier=front"), WEB); /* label: AND */
	assert_int_equal(MATCHES("label=env=prod", "label=env=staging"), 0);
	assert_int_equal(MATCHES("label=flag"), WEB);
	assert_int_equal(MATCHES("label=flag="), WEB);
	assert_int_equal(MATCHES("label=fla"), 0);
	assert_int_equal(MATCHES("label=tier=fron"), 0);

	assert_int_equal(MATCHES("status=running"), WEB);
	assert_int_equal(MATCHES("status=exited"), DB | JOB);
	assert_int_equal(MATCHES("status=exited", "status=created"), DB | JOB | FRESH);
	assert_int_equal(MATCHES("status=paused"), 0);
	assert_int_equal(MATCHES("status=running", "name=db"), 0); /* keys: AND */
	assert_int_equal(MATCHES("status=exited", "name=db"), DB);

	assert_int_equal(MATCHES("ancestor=nginx"), WEB);
	assert_int_equal(MATCHES("ancestor=nginx:latest"), WEB);
	assert_int_equal(MATCHES("ancestor=docker.io/library/nginx"), WEB);
	assert_int_equal(MATCHES("ancestor=library/nginx:latest"), WEB);
	assert_int_equal(MATCHES("ancestor=nginx:1.25"), 0);
	assert_int_equal(MATCHES("ancestor=postgres:16"), DB);
	assert_int_equal(MATCHES("ancestor=postgres"), 0); /* :latest is another image */
	assert_int_equal(MATCHES("ancestor=sha256:2222"), DB);
	assert_int_equal(MATCHES("ancestor=2222"), DB);
	assert_int_equal(MATCHES("ancestor=3333cccc"), JOB);
	assert_int_equal(MATCHES("ancestor=" IMG_C), JOB);
	assert_int_equal(MATCHES("ancestor=3333cccd"), 0);
	assert_int_equal(MATCHES("ancestor=sha256:3333C"), 0);
	assert_int_equal(MATCHES("ancestor=sha256:"), 0);
	assert_int_equal(MATCHES("ancestor=registry.example.com/team/job@sha256:" HEX_C), JOB);
	assert_int_equal(MATCHES("ancestor=alpine:3.19"), FRESH);
	assert_int_equal(MATCHES("ancestor=alpine"), 0);
	assert_int_equal(MATCHES("ancestor=alpine:3.19", "ancestor=nginx"), WEB | FRESH);

	assert_int_equal(MATCHES("exited=1"), DB);
	assert_int_equal(MATCHES("exited=0"), JOB); /* not the running or created ones */
	assert_int_equal(MATCHES("exited=0", "exited=1"), DB | JOB);
	assert_int_equal(MATCHES("exited=255"), 0);

	/* Docker lowercases keys and trims keys and values */
	assert_int_equal(MATCHES("STATUS=running"), WEB);
	assert_int_equal(MATCHES(" name = web "), WEB);
}

static void test_filter_odd_items(void **state)
{
	struct ps_filter *f = NULL;
	struct err *e = NULL;
	char *specs[] = {"id=a", "name=x", "label=k", "ancestor=alpine", "exited=0"};
	const struct ps_item empty = {NULL, NULL, NULL, NULL, NULL, (enum ctr_state)99, -1};
	const struct ps_item unknown_exit = {HEX_A, "x", "alpine", NULL, NULL, CTR_EXITED, -1};

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		assert_int_equal(ps_filter_parse(&specs[i], 1, &f, &e), 0);
		assert_false(ps_filter_match(f, &empty));
		ps_filter_free(f);
	}
	assert_int_equal(ps_filter_parse((char *[]){"status=exited"}, 1, &f, &e), 0);
	assert_false(ps_filter_match(f, &empty)); /* a state out of range */
	assert_true(ps_filter_match(f, &unknown_exit));
	assert_false(ps_filter_match(f, NULL));
	ps_filter_free(f);
	assert_int_equal(ps_filter_parse((char *[]){"exited=0"}, 1, &f, &e), 0);
	assert_false(ps_filter_match(f, &unknown_exit)); /* no code known */
	ps_filter_free(f);
	ps_filter_free(NULL);
}

static void filter_err(char *spec, int code, const char *msg)
{
	struct ps_filter *f = (struct ps_filter *)&f; /* not NULL */
	struct err *e = NULL;
	char *specs[] = {"status=running", spec};

	err_is(ps_filter_parse(specs, 2, &f, &e), &e, code, msg);
	assert_null(f);
}

static void test_filter_errors(void **state)
{
	struct ps_filter *f = NULL;
	struct err *e = NULL;
	char *many[257], big[5000];

	filter_err("status", EINVAL, "bad format of filter (expected name=value)");
	filter_err(NULL, EINVAL, "bad format of filter (expected name=value)");
	filter_err("foo=bar", EINVAL, "invalid filter 'foo'");
	filter_err("=bar", EINVAL, "invalid filter ''");
	filter_err("before=abc", EINVAL, "invalid filter 'before'");
	filter_err("a-very-long-key-name=1", EINVAL, "invalid filter 'a-very-long-key-name'");
	filter_err("status=up", EINVAL, "invalid filter 'status=up'");
	filter_err("status=Running", EINVAL, "invalid filter 'status=Running'");
	filter_err("status=", EINVAL, "invalid filter 'status='");
	filter_err("exited=x", EINVAL, "invalid filter 'exited=x'");
	filter_err("exited=256", EINVAL, "invalid filter 'exited=256'");
	filter_err("exited=-1", EINVAL, "invalid filter 'exited=-1'");
	filter_err("exited=", EINVAL, "invalid filter 'exited='");
	filter_err("label=", EINVAL, "invalid filter 'label='");
	filter_err("label==v", EINVAL, "invalid filter 'label==v'");
	filter_err("ancestor=", EINVAL, "invalid filter 'ancestor='");
	filter_err("name=(a)\\1", EINVAL,
		   "invalid filter 'name=(a)\\1': back-references are not supported");
	filter_err("name=((a{100}){100})", EINVAL,
		   "invalid filter 'name=((a{100}){100})': pattern too complex");
	filter_err("name=a{2001}", EINVAL, "invalid filter 'name=a{2001}': pattern too complex");
	filter_err("name=a{0,99999}", EINVAL,
		   "invalid filter 'name=a{0,99999}': pattern too complex");
	filter_err("name=(ab){1000}", EINVAL,
		   "invalid filter 'name=(ab){1000}': pattern too complex");
	filter_err("name=^w++eb$", EINVAL,
		   "invalid filter 'name=^w++eb$': invalid nested repetition operator");
	filter_err("name=^n**", EINVAL,
		   "invalid filter 'name=^n**': invalid nested repetition operator");
	filter_err("name=a*?", EINVAL,
		   "invalid filter 'name=a*?': invalid nested repetition operator");
	filter_err("name=a{2}{3}", EINVAL,
		   "invalid filter 'name=a{2}{3}': invalid nested repetition operator");
	filter_err("name=([[:alpha:]]{50}){50}", EINVAL,
		   "invalid filter 'name=([[:alpha:]]{50}){50}': pattern too complex");
	filter_err("name=(((((((((((a+)+)+)+)+)+)+)+)+)+)+)", EINVAL,
		   "invalid filter 'name=(((((((((((a+)+)+)+)+)+)+)+)+)+)+)': pattern too complex");
	filter_err("name=(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))",
		   EINVAL,
		   "invalid filter "
		   "'name=(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))': "
		   "pattern too complex");
	filter_err("name=[[:nope:]]", EINVAL,
		   "invalid filter 'name=[[:nope:]]': Invalid character class name");
	filter_err("name=\x1b[1m", EINVAL,
		   "invalid filter 'name=?[1m': Unmatched [, [^, [:, [., or [=");

	/* an invalid regex says so, with regerror's words after the pattern */
	assert_int_equal(ps_filter_parse((char *[]){"name=("}, 1, &f, &e), -EINVAL);
	assert_int_equal(strncmp(e->msg, "invalid filter 'name=(': ", 25), 0);
	assert_true(strlen(e->msg) > 25);
	err_free(&e);

	memset(big, 'a', 600);
	memcpy(big, "name=", 5);
	big[600] = 0;
	assert_int_equal(ps_filter_parse((char *[]){big}, 1, &f, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "...': pattern too long"));
	err_free(&e);
	big[5 + 512] = 0;
	assert_int_equal(ps_filter_parse((char *[]){big}, 1, &f, &e), 0);
	ps_filter_free(f);

	assert_int_equal(ps_filter_parse((char *[]){"foo=1"}, 1, &f, NULL), -EINVAL);
	assert_null(f);
	assert_int_equal(ps_filter_parse((char *[]){"id=a", "name=("}, 2, &f, NULL), -EINVAL);
	assert_null(f);

	for (size_t i = 0; i < 257; i++)
		many[i] = "status=running";
	assert_int_equal(ps_filter_parse(many, 256, &f, &e), 0);
	ps_filter_free(f);
	err_is(ps_filter_parse(many, 257, &f, &e), &e, E2BIG, "more than 256 filters");
	err_is(ps_filter_parse(NULL, 1, &f, &e), &e, EINVAL,
	       "bad format of filter (expected name=value)");

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "id=", 3);
	assert_int_equal(ps_filter_parse((char *[]){big}, 1, &f, &e), -E2BIG);
	assert_non_null(strstr(e->msg, "longer than 4096 bytes"));
	assert_true(strlen(e->msg) < 200);
	err_free(&e);
	big[4096] = 0;
	assert_int_equal(ps_filter_parse((char *[]){big}, 1, &f, &e), 0);
	ps_filter_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_env_file_rules),     cmocka_unit_test(test_env_file_appends),
	    cmocka_unit_test(test_env_file_line_ends), cmocka_unit_test(test_env_file_errors),
	    cmocka_unit_test(test_env_file_caps),      cmocka_unit_test(test_label_file),
	    cmocka_unit_test(test_label_add),	       cmocka_unit_test(test_restart_parse),
	    cmocka_unit_test(test_restart_names),      cmocka_unit_test(test_restart_should),
	    cmocka_unit_test(test_restart_delay),      cmocka_unit_test(test_signal_parse),
	    cmocka_unit_test(test_signal_names),       cmocka_unit_test(test_size_parse),
	    cmocka_unit_test(test_filter_keys),	       cmocka_unit_test(test_filter_odd_items),
	    cmocka_unit_test(test_filter_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
