/*
 * Unit tests for engine/logfile.c and engine/logread.c: the json-file writer (exact lines,
 * chunking, 16 KiB pieces, UTF-8, rotation), the line and time parsers, and
 * the `moat logs` reader (tail/since/until/timestamps across rotated files,
 * corrupt lines, follow with a writer thread).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/logfile.h"

#define T0 "2026-11-28T06:01:52.123456789Z"
static const struct timespec now0 = {1795845712, 123456789};

static char dir[64];
static char logp[128];

static void rm_tree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0) {
		unlinkat(dfd, name, 0);
		return;
	}
	d = fdopendir(fd);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rm_tree(dirfd(d), de->d_name);
	if (d)
		closedir(d);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/moat-test-logfile-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(logp, sizeof(logp), "%s/c.log", dir);
	umask(022);
	return 0;
}

static int teardown(void **state)
{
	rm_tree(AT_FDCWD, dir);
	return 0;
}

static char *slurp_fd(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	assert_non_null(buf);
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
	}
	assert_true(r == 0);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/* Contents of PATH, or NULL when it does not exist. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;

	if (fd < 0) {
		assert_int_equal(errno, ENOENT);
		return NULL;
	}
	s = slurp_fd(fd, len);
	close(fd);
	return s;
}

static char *slurp_n(unsigned k, size_t *len)
{
	char p[160];

	snprintf(p, sizeof(p), "%s.%u", logp, k);
	return k ? slurp(p, len) : slurp(logp, len);
}

static void put_file(const char *path, const char *s, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, len), (ssize_t)len);
	close(fd);
}

/* Appends to DST one expected line, "log" given already JSON-escaped. */
static size_t expect(char *dst, const char *log_json, const char *stream, const char *time)
{
	return (size_t)sprintf(dst + strlen(dst),
			       "{\"log\":\"%s\",\"stream\":\"%s\",\"time\":\"%s\"}\n", log_json,
			       stream, time);
}

static struct logfile *open_log(uint64_t max_size, unsigned max_file)
{
	struct logfile *l = NULL;
	struct err *e = NULL;

	assert_int_equal(logfile_open(logp, max_size, max_file, &l, &e), 0);
	assert_null(e);
	return l;
}

static void wr(struct logfile *l, enum log_stream s, const char *data, size_t len,
	       const struct timespec *t)
{
	struct err *e = NULL;

	assert_int_equal(logfile_write(l, s, data, len, t, &e), 0);
	assert_null(e);
}

static void wrs(struct logfile *l, enum log_stream s, const char *data)
{
	wr(l, s, data, strlen(data), &now0);
}

static void flush(struct logfile *l)
{
	struct err *e = NULL;

	assert_int_equal(logfile_flush(l, &now0, &e), 0);
}

/* ---- writer ---- */

static void test_write_exact(void **state)
{
	struct logfile *l = open_log(0, 1);
	char want[1024] = "";
	struct stat st;
	char *got;

	wrs(l, LOG_STDOUT, "hello\nwor");
	wrs(l, LOG_STDERR, "oops\n");
	wrs(l, LOG_STDOUT, "ld\n<a & b>\n");
	wrs(l, LOG_STDOUT, "part");
	wrs(l, LOG_STDERR, "err-part");
	/* The incomplete tails are not on disk before the flush. */
	expect(want, "hello\\n", "stdout", T0);
	expect(want, "oops\\n", "stderr", T0);
	expect(want, "world\\n", "stdout", T0);
	expect(want, "<a & b>\\n", "stdout", T0);
	got = slurp(logp, NULL);
	assert_string_equal(got, want);
	free(got);
	flush(l);
	expect(want, "part", "stdout", T0);
	expect(want, "err-part", "stderr", T0);
	got = slurp(logp, NULL);
	assert_string_equal(got, want);
	free(got);
	/* A second flush has nothing left to write. */
	flush(l);
	got = slurp(logp, NULL);
	assert_string_equal(got, want);
	free(got);
	assert_int_equal(stat(logp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	logfile_close(l);
}

/* Pseudo-random chunk sizes. */
static size_t next_chunk(unsigned *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return 1 + (*seed >> 16) % 700;
}

static void test_write_chunking(void **state)
{
	size_t len = 0, n1, n2, n3, off;
	char *data = malloc(120000), *a, *b, *c, path[sizeof(logp)];
	struct logfile *l;
	unsigned seed = 7;

	assert_non_null(data);
	for (int i = 0; i < 200; i++)
		len +=
		    (size_t)sprintf(data + len, "line %d \xc3\xa9\xe2\x82\xac\t\"q\"\\\x01\n", i);
	memset(data + len, 'x', 40000);
	len += 40000;
	data[len++] = '\n';
	len += (size_t)sprintf(data + len, "bad \xff\xe2\x82 utf8\n\xf0\x9f\x98\x80 tail");

	/* All at once. */
	l = open_log(0, 1);
	wr(l, LOG_STDOUT, data, len, &now0);
	flush(l);
	logfile_close(l);
	a = slurp(logp, &n1);
	/* One byte at a time. */
	memcpy(path, logp, sizeof(logp));
	snprintf(logp, sizeof(logp), "%s/b.log", dir);
	l = open_log(0, 1);
	for (size_t i = 0; i < len; i++)
		wr(l, LOG_STDOUT, data + i, 1, &now0);
	flush(l);
	logfile_close(l);
	b = slurp(logp, &n2);
	/* Odd chunk sizes. */
	snprintf(logp, sizeof(logp), "%s/c2.log", dir);
	l = open_log(0, 1);
	for (off = 0; off < len;) {
		size_t n = next_chunk(&seed);

		n = n > len - off ? len - off : n;
		wr(l, LOG_STDOUT, data + off, n, &now0);
		off += n;
	}
	flush(l);
	logfile_close(l);
	c = slurp(logp, &n3);
	memcpy(logp, path, sizeof(logp));

	/* 200 short lines, the long one in 3 pieces, 2 more lines. */
	assert_int_equal(n1, n2);
	assert_memory_equal(a, b, n1);
	assert_int_equal(n1, n3);
	assert_memory_equal(a, c, n1);
	off = 0;
	for (char *p = a; (p = strchr(p, '\n')); p++)
		off++;
	assert_int_equal(off, 200 + 3 + 2);
	assert_non_null(
	    strstr(a, "{\"log\":\"line 7 \xc3\xa9\xe2\x82\xac\\t\\\"q\\\"\\\\\\u0001\\n\""));
	assert_non_null(strstr(a, "{\"log\":\"bad \\ufffd\\ufffd\\ufffd utf8\\n\""));
	assert_non_null(strstr(a, "{\"log\":\"\xf0\x9f\x98\x80 tail\""));
	free(a);
	free(b);
	free(c);
	free(data);
}

static void test_write_split_16k(void **state)
{
	size_t cap = 400000;
	char *data = malloc(cap), *want = calloc(1, cap), *text = malloc(cap), *got;
	struct logfile *l = open_log(0, 1);

	assert_non_null(data);
	assert_non_null(want);
	assert_non_null(text);
	/* 16383 bytes + "\n" is one entry. */
	memset(data, 'a', 16383);
	data[16383] = '\n';
	wr(l, LOG_STDOUT, data, 16384, &now0);
	memset(text, 'a', 16383);
	strcpy(text + 16383, "\\n");
	expect(want, text, "stdout", T0);
	/* 16384 bytes + "\n": a full piece, then the newline alone. */
	memset(data, 'b', 16384);
	data[16384] = '\n';
	wr(l, LOG_STDOUT, data, 16385, &now0);
	memset(text, 'b', 16384);
	text[16384] = 0;
	expect(want, text, "stdout", T0);
	expect(want, "\\n", "stdout", T0);
	/* 40000 bytes + "\n": 16384, 16384, 7232 + "\n". */
	memset(data, 'c', 40000);
	data[40000] = '\n';
	wr(l, LOG_STDOUT, data, 40001, &now0);
	memset(text, 'c', 16384);
	text[16384] = 0;
	expect(want, text, "stdout", T0);
	expect(want, text, "stdout", T0);
	memset(text, 'c', 7232);
	strcpy(text + 7232, "\\n");
	expect(want, text, "stdout", T0);
	/* A piece never cuts a valid character: the euro sign moves on. */
	memset(data, 'd', 16383);
	memcpy(data + 16383, "\xe2\x82\xac\n", 4);
	wr(l, LOG_STDOUT, data, 16387, &now0);
	memset(text, 'd', 16383);
	text[16383] = 0;
	expect(want, text, "stdout", T0);
	expect(want, "\xe2\x82\xac\\n", "stdout", T0);
	/* A valid start that turns out invalid still moves, then is U+FFFD. */
	memset(data, 'e', 16383);
	memcpy(data + 16383, "\xe2x\n", 3);
	wr(l, LOG_STDOUT, data, 16386, &now0);
	memset(text, 'e', 16383);
	text[16383] = 0;
	expect(want, text, "stdout", T0);
	expect(want, "\\ufffdx\\n", "stdout", T0);
	/* Three bytes of a four-byte character at the end of a piece. */
	memset(data, 'g', 16381);
	memcpy(data + 16381, "\xf0\x9f\x98\x80\n", 5);
	wr(l, LOG_STDOUT, data, 16386, &now0);
	memset(text, 'g', 16381);
	text[16381] = 0;
	expect(want, text, "stdout", T0);
	expect(want, "\xf0\x9f\x98\x80\\n", "stdout", T0);
	/* A full piece goes out as soon as it is full, before any flush. */
	memset(data, 'f', 16384);
	wr(l, LOG_STDERR, data, 16384, &now0);
	memset(text, 'f', 16384);
	text[16384] = 0;
	expect(want, text, "stderr", T0);
	got = slurp(logp, NULL);
	assert_int_equal(strlen(got), strlen(want));
	assert_string_equal(got, want);
	free(got);
	logfile_close(l);
	free(data);
	free(want);
	free(text);
}

static void test_write_utf8_and_controls(void **state)
{
	static const char ctl[] = "\"\\\t\r\b\f\x01\x1f\x7f\0z\n";
	struct logfile *l = open_log(0, 1);
	struct log_entry e;
	struct err *err = NULL;
	char want[4096] = "", *got, *nl;

	/* Invalid bytes: one U+FFFD each, as Go's encoder. */
	wrs(l, LOG_STDOUT,
	    "a\xff"
	    "b\xc3(\xe2\x82\n");
	expect(want, "a\\ufffdb\\ufffd(\\ufffd\\ufffd\\n", "stdout", T0);
	/* Overlong NUL, a surrogate, past U+10FFFF. */
	wrs(l, LOG_STDOUT, "\xc0\x80|\xed\xa0\x80|\xf4\x90\x80\x80\n");
	expect(want, "\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd\\ufffd\\n",
	       "stdout", T0);
	/* Valid multi-byte characters (2, 3, 4 bytes, U+2028) stay raw. */
	wrs(l, LOG_STDOUT, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8\n");
	expect(want, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xe2\x80\xa8\\n", "stdout", T0);
	/* Control characters, DEL raw, NUL as \u0000. */
	wr(l, LOG_STDERR, ctl, sizeof(ctl) - 1, &now0);
	expect(want, "\\\"\\\\\\t\\r\\b\\f\\u0001\\u001f\x7f\\u0000z\\n", "stderr", T0);
	got = slurp(logp, NULL);
	assert_string_equal(got, want);
	/* The control line decodes back to the exact bytes, NUL included. */
	nl = strrchr(got, '\n');
	*nl = 0;
	nl = strrchr(got, '\n');
	assert_int_equal(logfile_parse_line(nl + 1, strlen(nl + 1), &e, &err), 0);
	assert_int_equal(e.len, sizeof(ctl) - 1);
	assert_memory_equal(e.text, ctl, sizeof(ctl) - 1);
	assert_int_equal(e.stream, LOG_STDERR);
	log_entry_free(&e);
	free(got);
	logfile_close(l);
}

/* One entry "line NN\n" at time T0; all are the same length. */
static void entry_n(char *dst, int i)
{
	char t[32];

	snprintf(t, sizeof(t), "line %02d\\n", i);
	expect(dst, t, "stdout", T0);
}

static void expect_files(int from0, int to0, int from1, int to1, int from2, int to2)
{
	int from[3] = {from0, from1, from2}, to[3] = {to0, to1, to2};

	for (unsigned k = 0; k < 3; k++) {
		char want[4096] = "", *got = slurp_n(k, NULL);

		for (int i = from[k]; i <= to[k]; i++)
			entry_n(want, i);
		assert_non_null(got);
		assert_string_equal(got, want);
		free(got);
	}
	assert_null(slurp_n(3, NULL));
}

static void test_rotation(void **state)
{
	char one[256] = "", line[32], all[1024] = "";
	size_t len;
	struct logfile *l;

	entry_n(one, 0);
	len = strlen(one);
	/* Three entries fit exactly; the fourth rotates. */
	l = open_log(3 * len, 3);
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "line %02d\n", i);
		wrs(l, LOG_STDOUT, line);
	}
	/* 0-2 rotated out; 3-5 in .2, 6-8 in .1, 9 in PATH. */
	expect_files(9, 9, 6, 8, 3, 5);
	logfile_close(l);

	/* Reopening counts the existing size: 10 and 11 fit, 12 rotates. */
	l = open_log(3 * len, 3);
	for (int i = 10; i < 13; i++) {
		snprintf(line, sizeof(line), "line %02d\n", i);
		wrs(l, LOG_STDOUT, line);
	}
	expect_files(12, 12, 9, 11, 6, 8);
	logfile_close(l);

	/* The same ten lines in one write rotate between entries alike. */
	teardown(state);
	setup(state);
	l = open_log(3 * len + 5, 3);
	for (int i = 0; i < 10; i++)
		sprintf(all + strlen(all), "line %02d\n", i);
	wrs(l, LOG_STDOUT, all);
	expect_files(9, 9, 6, 8, 3, 5);
	logfile_close(l);
}

static void test_rotation_edges(void **state)
{
	char one[256] = "", want[4096] = "", line[32], *got;
	size_t len;
	struct logfile *l;

	entry_n(one, 0);
	len = strlen(one);
	/* max-file 1: PATH is replaced, nothing else appears. */
	l = open_log(2 * len, 1);
	for (int i = 0; i < 5; i++) {
		snprintf(line, sizeof(line), "line %02d\n", i);
		wrs(l, LOG_STDOUT, line);
	}
	entry_n(want, 4);
	got = slurp(logp, NULL);
	assert_string_equal(got, want);
	free(got);
	assert_null(slurp_n(1, NULL));
	logfile_close(l);

	/* An entry larger than max-size goes alone into a fresh file. */
	teardown(state);
	setup(state);
	l = open_log(len / 2, 3);
	wrs(l, LOG_STDOUT, "line 00\nline 01\nline 02\n");
	want[0] = 0;
	entry_n(want, 2);
	got = slurp_n(0, NULL);
	assert_string_equal(got, want);
	free(got);
	want[0] = 0;
	entry_n(want, 1);
	got = slurp_n(1, NULL);
	assert_string_equal(got, want);
	free(got);
	logfile_close(l);

	/* Unlimited size never rotates. */
	teardown(state);
	setup(state);
	l = open_log(0, 3);
	want[0] = 0;
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "line %02d\n", i);
		wrs(l, LOG_STDOUT, line);
		entry_n(want, i);
	}
	got = slurp(logp, NULL);
	assert_string_equal(got, want);
	free(got);
	assert_null(slurp_n(1, NULL));
	logfile_close(l);
}

static void test_write_errors(void **state)
{
	struct logfile *l = NULL;
	struct err *e = NULL;
	char p[200];
	int r;

	assert_int_equal(logfile_open(logp, 0, 0, &l, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "max-file 0"));
	err_free(&e);
	assert_int_equal(logfile_open("", 0, 1, &l, &e), -EINVAL);
	err_free(&e);
	snprintf(p, sizeof(p), "%s/", dir);
	assert_int_equal(logfile_open(p, 0, 1, &l, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "does not name a file"));
	err_free(&e);
	snprintf(p, sizeof(p), "%s/missing/c.log", dir);
	assert_int_equal(logfile_open(p, 0, 1, &l, &e), -ENOENT);
	assert_non_null(strstr(e->msg, "missing"));
	err_free(&e);
	/* A symlink planted as PATH is not followed. */
	snprintf(p, sizeof(p), "%s/target", dir);
	put_file(p, "", 0);
	assert_int_equal(symlink(p, logp), 0);
	assert_int_equal(logfile_open(logp, 0, 1, &l, &e), -ELOOP);
	assert_non_null(strstr(e->msg, logp));
	err_free(&e);
	unlink(logp);
	/* A FIFO must not hang the monitor. */
	assert_int_equal(mkfifo(logp, 0600), 0);
	assert_true(logfile_open(logp, 0, 1, &l, &e) < 0);
	assert_null(l);
	err_free(&e);
	unlink(logp);
	/* A directory. */
	assert_int_equal(mkdir(logp, 0700), 0);
	assert_true(logfile_open(logp, 0, 1, &l, &e) < 0);
	err_free(&e);
	rmdir(logp);

	l = open_log(10, 3);
	assert_int_equal(logfile_write(l, 3, "x\n", 2, &now0, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "bad stream"));
	err_free(&e);
	assert_int_equal(
	    logfile_write(l, LOG_STDOUT, "x\n", 2, &(struct timespec){0, 1000000000}, &e), -EINVAL);
	err_free(&e);
	/* A rotation that cannot remove PATH.2 (a non-empty directory). */
	wrs(l, LOG_STDOUT, "first\n");
	snprintf(p, sizeof(p), "%s.2", logp);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s.2/x", logp);
	put_file(p, "", 0);
	r = logfile_write(l, LOG_STDOUT, "second\n", 7, &now0, &e);
	assert_true(r < 0);
	assert_non_null(strstr(e->msg, "rotate log"));
	err_free(&e);
	logfile_close(l);
	logfile_close(NULL);
}

/* ---- parse_line ---- */

static void test_parse_line_good(void **state)
{
	static const char docker[] =
	    "{\"log\":\"hello\\n\",\"stream\":\"stdout\",\"time\":\"" T0 "\"}";
	static const char attrs[] =
	    "{\"time\":\"2026-11-28T07:01:52.5+01:00\",\"attrs\":{\"tag\":\"web\"},"
	    "\"stream\":\"stderr\",\"log\":\"caf\\u00e9 \\ud83d\\ude00\\u0000!\"}  ";
	struct log_entry e;
	struct err *err = NULL;

	assert_int_equal(logfile_parse_line(docker, strlen(docker), &e, &err), 0);
	assert_int_equal(e.stream, LOG_STDOUT);
	assert_int_equal(e.time.tv_sec, now0.tv_sec);
	assert_int_equal(e.time.tv_nsec, now0.tv_nsec);
	assert_int_equal(e.len, 6);
	assert_string_equal(e.text, "hello\n");
	log_entry_free(&e);
	assert_null(e.text);

	assert_int_equal(logfile_parse_line(attrs, strlen(attrs), &e, &err), 0);
	assert_int_equal(e.stream, LOG_STDERR);
	assert_int_equal(e.time.tv_sec, now0.tv_sec);
	assert_int_equal(e.time.tv_nsec, 500000000);
	assert_int_equal(e.len, 12);
	assert_memory_equal(e.text, "caf\xc3\xa9 \xf0\x9f\x98\x80\0!", 12);
	log_entry_free(&e);
	assert_null(err);
}

static void test_parse_line_bad(void **state)
{
	static const struct {
		const char *line, *msg;
	} bad[] = {
	    {"{\"stream\":\"stdout\",\"time\":\"" T0 "\"}", "missing \"log\""},
	    {"{\"log\":\"x\",\"time\":\"" T0 "\"}", "missing \"stream\""},
	    {"{\"log\":\"x\",\"stream\":\"stdout\"}", "missing \"time\""},
	    {"{\"log\":1,\"stream\":\"stdout\",\"time\":\"" T0 "\"}", "\"log\" must be a string"},
	    {"{\"log\":null,\"stream\":\"stdout\",\"time\":\"" T0 "\"}", "\"log\" must be"},
	    {"{\"log\":\"x\",\"stream\":1,\"time\":\"" T0 "\"}", "\"stream\" must be a string"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":1}", "\"time\" must be a string"},
	    {"{\"log\":\"x\",\"stream\":\"stdin\",\"time\":\"" T0 "\"}", "bad stream \"stdin\""},
	    {"{\"log\":\"x\",\"stream\":\"stdout\\u0000\",\"time\":\"" T0 "\"}", "bad stream"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"yesterday\"}",
	     "bad time \"yesterday\""},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2026-11-28T06:01:52\"}", "bad time"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2026-11-28\"}", "bad time"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2026-02-30T06:01:52Z\"}",
	     "day out of range"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"2026-11-28T06:01:52.Z\"}",
	     "no digits after"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"" T0 "\"}x", "log line:"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"" T0 "\"}{}", "log line:"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"" T0 "\",\"foo\":1}",
	     "unknown key \"foo\""},
	    {"{\"log\":\"x\",\"log\":\"y\",\"stream\":\"stdout\",\"time\":\"" T0 "\"}",
	     "log line:"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"" T0 "\",\"attrs\":[]}",
	     "\"attrs\" must be an object"},
	    {"[\"x\"]", "not a JSON object"},
	    {"\"x\"", "log line:"},
	    {"", "log line:"},
	    {"{\"log\":\"\xff\",\"stream\":\"stdout\",\"time\":\"" T0 "\"}", "log line:"},
	    {"{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"" T0 "\"", "log line:"},
	};
	struct log_entry e;
	struct err *err = NULL;
	char *big;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = logfile_parse_line(bad[i].line, strlen(bad[i].line), &e, &err);

		if (r != -EINVAL || !strstr(err->msg, bad[i].msg))
			fail_msg("line %zu (%s): r=%d msg=%s", i, bad[i].line, r,
				 err ? err->msg : "(none)");
		assert_null(e.text);
		assert_int_equal(e.stream, 0);
		err_free(&err);
	}
	/* Over the 1 MiB cap, before any parsing. */
	big = malloc(LOGFILE_LINE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', LOGFILE_LINE_MAX + 1);
	assert_int_equal(logfile_parse_line(big, LOGFILE_LINE_MAX + 1, &e, &err), -EFBIG);
	assert_non_null(strstr(err->msg, "longer than"));
	err_free(&err);
	free(big);
	/* A NULL err is allowed. */
	assert_int_equal(logfile_parse_line("{}", 2, &e, NULL), -EINVAL);
}

/* ---- time ---- */

static void test_format_time(void **state)
{
	char buf[LOGS_TIME_BUF];

	logs_format_time(&now0, buf, sizeof(buf));
	assert_string_equal(buf, T0);
	logs_format_time(&(struct timespec){0, 0}, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
	logs_format_time(&(struct timespec){951782400, 5}, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00.000000005Z");
	logs_format_time(&(struct timespec){-1, 0}, buf, sizeof(buf));
	assert_string_equal(buf, "1969-12-31T23:59:59.000000000Z");
	logs_format_time(&(struct timespec){253402300799, 999999999}, buf, sizeof(buf));
	assert_string_equal(buf, "9999-12-31T23:59:59.999999999Z");
}

static void test_parse_time_good(void **state)
{
	static const struct {
		const char *s;
		int64_t sec;
		long ns;
	} good[] = {
	    {"2026-11-28T06:00:00Z", 1795845600, 0},
	    {"2026-11-28T06:00:00.5+01:00", 1795845600 - 3600, 500000000},
	    {"2026-11-28T06:00:00.123456789-02:30", 1795845600 + 9000, 123456789},
	    {"2026-11-28T06:00:00", 1795845600, 0},
	    {"2026-11-28T06:00", 1795845600, 0},
	    {"2026-11-28T06", 1795845600, 0},
	    {"2026-11-28T06Z", 1795845600, 0},
	    {"2026-11-28", 1795824000, 0},
	    {"2026-11-28+01:00", 1795824000 - 3600, 0},
	    {"2000-02-29T00:00:00Z", 951782400, 0},
	    {"1969-12-31T23:59:59Z", -1, 0},
	    {"9999-12-31T23:59:59.999999999Z", 253402300799, 999999999},
	    {"1700000000", 1700000000, 0},
	    {"1700000000.123456789", 1700000000, 123456789},
	    {"1700000000.5", 1700000000, 500000000},
	    {"0", 0, 0},
	    {"10m", 1795845712 - 600, 123456789},
	    {"1h30m", 1795845712 - 5400, 123456789},
	    {"90s", 1795845712 - 90, 123456789},
	    {"1.5h", 1795845712 - 5400, 123456789},
	    {".5s", 1795845712 - 1, 623456789},
	    {"500ms", 1795845712 - 1, 623456789},
	    {"1us", 1795845712, 123455789},
	    {"1\xc2\xb5s", 1795845712, 123455789},
	    {"1\xce\xbcs", 1795845712, 123455789},
	    {"3ns", 1795845712, 123456786},
	    {"-5m", 1795845712 + 300, 123456789},
	    {"+5m", 1795845712 - 300, 123456789},
	    {"-0", 1795845712, 123456789},
	    {"1h0m0.000000001s", 1795845712 - 3600, 123456788},
	    {"1000000h", 0, 0}, /* before the epoch: clamped */
	};
	struct err *e = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct timespec t = {-7, -7};
		int r = logs_parse_time(good[i].s, &now0, &t, &e);

		if (r != 0 || t.tv_sec != good[i].sec || t.tv_nsec != good[i].ns)
			fail_msg("%s: r=%d got %lld.%09ld want %lld.%09ld (%s)", good[i].s, r,
				 (long long)t.tv_sec, t.tv_nsec, (long long)good[i].sec, good[i].ns,
				 e ? e->msg : "");
	}
	assert_null(e);
}

static void test_parse_time_bad(void **state)
{
	static const struct {
		const char *s, *msg;
	} bad[] = {
	    {"yesterday", "want RFC 3339"},
	    {"10x", "unknown unit"},
	    {"1h5", "missing unit"},
	    {".", "want RFC 3339"},
	    {".5", "want RFC 3339"},
	    {"+", "invalid duration"},
	    {"-", "invalid duration"},
	    {"5m-3s", "unknown unit"},
	    {"9999999999999999999h", "out of range"},
	    {"2562048h", "out of range"},
	    {"2026-13-01", "month out of range"},
	    {"2026-02-29", "day out of range"},
	    {"2026-11-31", "day out of range"},
	    {"2026-11-28T25:00Z", "hour out of range"},
	    {"2026-11-28T06:60Z", "minute out of range"},
	    {"2026-11-28T06:00:60Z", "second out of range"},
	    {"2026-11-28T06:00:00.1234567890Z", "more than 9"},
	    {"2026-11-28T06:00:00+24:00", "zone offset out of range"},
	    {"2026-11-28T06:00:00+0100", "zone offset"},
	    {"2026-11-28 06:00", "unexpected characters"},
	    {"2026-11-28t06:00", "unexpected characters"},
	    {"2026-11-28T6:00", "hour"},
	    {"2026-1-28", "want a date"},
	    {"0000-01-01T00:00:00+00:01", "out of range"},
	    {"1700000000.", "want RFC 3339"},
	    {"1700000000.1234567890", "want RFC 3339"},
	    {"17e9", "unknown unit"},
	    {"999999999999999", "want RFC 3339"},
	    {"0x10", "unknown unit"},
	};
	char long_arg[100];
	struct timespec t;
	struct err *e = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = logs_parse_time(bad[i].s, &now0, &t, &e);
		char quoted[80];

		snprintf(quoted, sizeof(quoted), "invalid time \"%s\"", bad[i].s);
		if (r != -EINVAL || !strstr(e->msg, quoted) || !strstr(e->msg, bad[i].msg))
			fail_msg("%s: r=%d msg=%s", bad[i].s, r, e ? e->msg : "(none)");
		err_free(&e);
	}
	assert_int_equal(logs_parse_time("", &now0, &t, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "empty"));
	err_free(&e);
	memset(long_arg, '1', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = 0;
	assert_int_equal(logs_parse_time(long_arg, &now0, &t, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "too long"));
	err_free(&e);
	/* A duration needs NOW; other forms do not. */
	assert_int_equal(logs_parse_time("10m", NULL, &t, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "\"10m\""));
	err_free(&e);
	assert_int_equal(logs_parse_time("1700000000", NULL, &t, &e), 0);
	/* A control character in the value is not echoed raw. */
	assert_int_equal(logs_parse_time("a\nb", &now0, &t, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "\"a?b\""));
	err_free(&e);
}

/* ---- reader ---- */

struct out {
	char *out, *err, *warn;
};

static void out_free(struct out *o)
{
	free(o->out);
	free(o->err);
	free(o->warn);
}

static int read_logs(unsigned max_file, const struct logs_opts *o, struct out *res, struct err **e)
{
	int ofd = memfd_create("out", MFD_CLOEXEC), efd = memfd_create("err", MFD_CLOEXEC);
	int wfd = memfd_create("warn", MFD_CLOEXEC), saved = dup(2), r;

	assert_true(ofd >= 0 && efd >= 0 && wfd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(wfd, 2);
	r = logfile_read(logp, max_file, o, ofd, efd, NULL, NULL, e);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	lseek(wfd, 0, SEEK_SET);
	res->out = slurp_fd(ofd, NULL);
	res->err = slurp_fd(efd, NULL);
	res->warn = slurp_fd(wfd, NULL);
	close(ofd);
	close(efd);
	close(wfd);
	return r;
}

static struct timespec at(int i)
{
	return (struct timespec){now0.tv_sec + i, 0};
}

/* Twelve entries, one second apart: even ones stdout "o<i>", odd ones
 * stderr "e<i>"; three per file, max-file 4: 0-2 in .3, ..., 9-11 in
 * PATH. */
static void make_set(void)
{
	char one[256] = "", line[32];
	struct logfile *l;
	size_t len;

	expect(one, "o00\\n", "stdout", "2026-11-28T06:01:52.000000000Z");
	len = strlen(one);
	l = open_log(3 * len, 4);
	for (int i = 0; i < 12; i++) {
		struct timespec t = at(i);

		snprintf(line, sizeof(line), "%c%02d\n", i % 2 ? 'e' : 'o', i);
		wr(l, i % 2 ? LOG_STDERR : LOG_STDOUT, line, strlen(line), &t);
	}
	logfile_close(l);
	assert_null(slurp_n(4, NULL));
	free(slurp_n(3, &len));
	assert_int_equal(len, 3 * strlen(one));
}

static void test_read_all_and_tail(void **state)
{
	struct logs_opts o = {.tail = -1};
	struct out res;
	struct err *e = NULL;

	make_set();
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "o00\no02\no04\no06\no08\no10\n");
	assert_string_equal(res.err, "e01\ne03\ne05\ne07\ne09\ne11\n");
	assert_string_equal(res.warn, "");
	out_free(&res);

	/* With max-file 2 only PATH.1 and PATH are read. */
	assert_int_equal(read_logs(2, &o, &res, &e), 0);
	assert_string_equal(res.out, "o06\no08\no10\n");
	assert_string_equal(res.err, "e07\ne09\ne11\n");
	out_free(&res);

	/* The last 5 entries overall, across files. */
	o.tail = 5;
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "o08\no10\n");
	assert_string_equal(res.err, "e07\ne09\ne11\n");
	out_free(&res);

	o.tail = 0;
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "");
	assert_string_equal(res.err, "");
	out_free(&res);

	o.tail = 1000;
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "o00\no02\no04\no06\no08\no10\n");
	out_free(&res);

	/* A missing file in the middle is skipped. */
	{
		char p[160];

		snprintf(p, sizeof(p), "%s.2", logp);
		assert_int_equal(unlink(p), 0);
	}
	o.tail = -1;
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "o00\no02\no06\no08\no10\n");
	assert_string_equal(res.err, "e01\ne07\ne09\ne11\n");
	out_free(&res);
	assert_null(e);
}

static void test_read_since_until_timestamps(void **state)
{
	struct logs_opts o = {.tail = -1, .has_since = true, .has_until = true};
	struct out res;
	struct err *e = NULL;

	make_set();
	/* Both bounds inclusive, as Docker. */
	o.since = at(4);
	o.until = at(7);
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "o04\no06\n");
	assert_string_equal(res.err, "e05\ne07\n");
	out_free(&res);

	/* A nanosecond past a bound excludes that entry. */
	o.since = (struct timespec){at(4).tv_sec, 1};
	o.until = (struct timespec){at(7).tv_sec - 1, 999999999};
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "o06\n");
	assert_string_equal(res.err, "e05\n");
	out_free(&res);

	/* Tail counts entries that pass the filter. */
	o.has_since = false;
	o.until = at(7);
	o.tail = 3;
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "o06\n");
	assert_string_equal(res.err, "e05\ne07\n");
	out_free(&res);

	/* Timestamps, Docker's `logs -t` format. */
	o.has_until = false;
	o.tail = 2;
	o.timestamps = true;
	assert_int_equal(read_logs(4, &o, &res, &e), 0);
	assert_string_equal(res.out, "2026-11-28T06:02:02.000000000Z o10\n");
	assert_string_equal(res.err, "2026-11-28T06:02:03.000000000Z e11\n");
	out_free(&res);
	assert_null(e);
}

static void test_read_pieces_and_corrupt(void **state)
{
	struct logs_opts o = {.tail = -1, .timestamps = true};
	char file[4096] = "";
	struct out res;
	struct err *e = NULL;
	size_t n;
	char *big;
	int fd;

	/* A line in two pieces gets one timestamp; the streams keep theirs. */
	expect(file, "ab", "stdout", "2026-11-28T06:00:01.000000000Z");
	strcat(file, "not json\n");
	expect(file, "E\\n", "stderr", "2026-11-28T06:00:02.000000000Z");
	expect(file, "cd\\n", "stdout", "2026-11-28T06:00:03.000000000Z");
	strcat(file, "{\"log\":\"x\"}\n");
	/* The final line has no newline (a torn write): still read. */
	n = strlen(file);
	expect(file, "last", "stdout", "2026-11-28T06:00:04.000000000Z");
	file[strlen(file) - 1] = 0;
	put_file(logp, file, strlen(file));
	assert_int_equal(read_logs(1, &o, &res, &e), 0);
	assert_string_equal(res.out, "2026-11-28T06:00:01.000000000Z abcd\n"
				     "2026-11-28T06:00:04.000000000Z last");
	assert_string_equal(res.err, "2026-11-28T06:00:02.000000000Z E\n");
	{
		char want[256];

		/* One warning, for the first corrupt line only. */
		snprintf(want, sizeof(want), "moat: skipping a corrupt log line in %s:2\n", logp);
		assert_string_equal(res.warn, want);
	}
	out_free(&res);

	/* A line over 1 MiB is corrupt; the lines around it are fine, and it
	 * counts as one line (line 6). */
	big = malloc(LOGFILE_LINE_MAX + 10);
	assert_non_null(big);
	memset(big, 'z', LOGFILE_LINE_MAX + 9);
	big[LOGFILE_LINE_MAX + 9] = '\n';
	fd = open(logp, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, file, n), (ssize_t)n);
	assert_int_equal(write(fd, big, LOGFILE_LINE_MAX + 10), LOGFILE_LINE_MAX + 10);
	file[0] = 0;
	expect(file, "after\\n", "stdout", "2026-11-28T06:00:05.000000000Z");
	strcat(file, "junk\n");
	expect(file, "after2\\n", "stdout", "2026-11-28T06:00:06.000000000Z");
	assert_int_equal(write(fd, file, strlen(file)), (ssize_t)strlen(file));
	/* And 1 MiB + 1 bytes without a newline at the very end. */
	assert_int_equal(write(fd, big, LOGFILE_LINE_MAX + 1), LOGFILE_LINE_MAX + 1);
	close(fd);
	o.timestamps = false;
	assert_int_equal(read_logs(1, &o, &res, &e), 0);
	assert_string_equal(res.out, "abcd\nafter\nafter2\n");
	out_free(&res);
	/* With --tail 1, corrupt lines among the skipped entries are not
	 * reported; "junk" (line 8) comes after the last skipped one. */
	o.tail = 1;
	assert_int_equal(read_logs(1, &o, &res, &e), 0);
	assert_string_equal(res.out, "after2\n");
	{
		char want[256];

		snprintf(want, sizeof(want), "moat: skipping a corrupt log line in %s:8\n", logp);
		assert_string_equal(res.warn, want);
	}
	out_free(&res);
	free(big);
	assert_null(e);
}

/* A line of exactly LOGFILE_LINE_MAX bytes is read; one byte more is not. */
static void test_read_line_cap(void **state)
{
	static const char head[] = "{\"log\":\"",
			  tail[] = "\",\"stream\":\"stdout\",\"time\":\"" T0 "\"}";
	size_t pad = LOGFILE_LINE_MAX - (sizeof(head) - 1) - (sizeof(tail) - 1), len;
	char *line = malloc(LOGFILE_LINE_MAX + 2), *got;
	struct logs_opts o = {.tail = -1};
	struct log_entry ent;
	struct out res;
	struct err *e = NULL;

	assert_non_null(line);
	for (int extra = 0; extra < 2; extra++) {
		memcpy(line, head, sizeof(head) - 1);
		memset(line + sizeof(head) - 1, 'p', pad + (size_t)extra);
		memcpy(line + sizeof(head) - 1 + pad + extra, tail, sizeof(tail) - 1);
		len = LOGFILE_LINE_MAX + (size_t)extra;
		line[len] = '\n';
		put_file(logp, line, len + 1);
		assert_int_equal(read_logs(1, &o, &res, &e), 0);
		if (extra == 0) {
			assert_int_equal(logfile_parse_line(line, len, &ent, &e), 0);
			assert_int_equal(ent.len, pad);
			log_entry_free(&ent);
			assert_int_equal(strlen(res.out), pad);
			assert_string_equal(res.warn, "");
		} else {
			assert_int_equal(logfile_parse_line(line, len, &ent, &e), -EFBIG);
			err_free(&e);
			assert_string_equal(res.out, "");
			got = strstr(res.warn, ":1\n");
			assert_non_null(got);
		}
		out_free(&res);
	}
	free(line);
}

static void test_read_missing_and_errors(void **state)
{
	struct logs_opts o = {.tail = -1};
	struct out res;
	struct err *e = NULL;
	char p[200], saved[sizeof(logp)];
	int ro;

	/* Nothing logged yet: not an error, nothing printed. */
	assert_int_equal(read_logs(3, &o, &res, &e), 0);
	assert_string_equal(res.out, "");
	assert_string_equal(res.err, "");
	out_free(&res);
	memcpy(saved, logp, sizeof(logp));
	snprintf(logp, sizeof(logp), "%s/nodir/c.log", dir);
	assert_int_equal(read_logs(3, &o, &res, &e), 0);
	out_free(&res);
	memcpy(logp, saved, sizeof(logp));

	assert_int_equal(logfile_read(logp, 0, &o, 1, 2, NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "max-file"));
	err_free(&e);
	o.tail = -2;
	assert_int_equal(logfile_read(logp, 1, &o, 1, 2, NULL, NULL, &e), -EINVAL);
	err_free(&e);
	o.tail = -1;
	assert_int_equal(logfile_read("", 1, &o, 1, 2, NULL, NULL, &e), -EINVAL);
	err_free(&e);

	/* PATH.1 is a directory. */
	snprintf(p, sizeof(p), "%s.1", logp);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(logfile_read(logp, 2, &o, 1, 2, NULL, NULL, &e), -EINVAL);
	assert_non_null(strstr(e->msg, "not a regular file"));
	assert_non_null(strstr(e->msg, p));
	err_free(&e);
	rmdir(p);
	/* PATH is a symlink: refused, not followed. */
	snprintf(p, sizeof(p), "%s/other", dir);
	put_file(p, "", 0);
	assert_int_equal(symlink(p, logp), 0);
	assert_int_equal(logfile_read(logp, 1, &o, 1, 2, NULL, NULL, &e), -ELOOP);
	err_free(&e);
	unlink(logp);

	/* Output that cannot be written is an error. */
	make_set();
	ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(logfile_read(logp, 4, &o, ro, ro, NULL, NULL, &e) < 0);
	assert_non_null(strstr(e->msg, "write logs"));
	err_free(&e);
	close(ro);
}

/* ---- follow ---- */

struct feeder {
	atomic_bool done;
	unsigned max_file;
	uint64_t max_size;
	int lines;
	int delay_ms;
	bool create_late;
	bool failed;
};

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&t, NULL);
}

static void *feed(void *arg)
{
	struct feeder *f = arg;
	struct logfile *l = NULL;
	struct err *e = NULL;
	char line[32];

	sleep_ms(f->create_late ? 150 : 20);
	if (logfile_open(logp, f->max_size, f->max_file, &l, &e) < 0) {
		f->failed = true;
		atomic_store(&f->done, true);
		return NULL;
	}
	for (int i = 0; i < f->lines; i++) {
		snprintf(line, sizeof(line), "n%03d\n", i);
		if (logfile_write(l, i % 5 == 4 ? LOG_STDERR : LOG_STDOUT, line, strlen(line), NULL,
				  &e) < 0)
			f->failed = true;
		if (f->delay_ms)
			sleep_ms(f->delay_ms);
	}
	/* The last line: a partial one, written by the flush at exit. */
	if (logfile_write(l, LOG_STDOUT, "end", 3, NULL, &e) < 0 || logfile_flush(l, NULL, &e) < 0)
		f->failed = true;
	logfile_close(l);
	/* Done right after the last write: the reader must still get it. */
	atomic_store(&f->done, true);
	return NULL;
}

static bool feeder_done(void *arg)
{
	return atomic_load(&((struct feeder *)arg)->done);
}

static void run_follow(struct feeder *f, const struct logs_opts *o, char **out, char **err)
{
	int ofd = memfd_create("out", MFD_CLOEXEC), efd = memfd_create("err", MFD_CLOEXEC);
	struct err *e = NULL;
	pthread_t th;

	assert_true(ofd >= 0 && efd >= 0);
	alarm(60); /* a follow that never returns fails the test */
	assert_int_equal(pthread_create(&th, NULL, feed, f), 0);
	assert_int_equal(logfile_read(logp, f->max_file, o, ofd, efd, feeder_done, f, &e), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	alarm(0);
	assert_false(f->failed);
	assert_null(e);
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	*out = slurp_fd(ofd, NULL);
	*err = slurp_fd(efd, NULL);
	close(ofd);
	close(efd);
}

static void want_lines(int from, int to, char *out, char *err)
{
	size_t no = 0, ne = 0;

	out[0] = err[0] = 0;
	for (int i = from; i < to; i++) {
		if (i % 5 == 4)
			ne += (size_t)sprintf(err + ne, "n%03d\n", i);
		else
			no += (size_t)sprintf(out + no, "n%03d\n", i);
	}
	strcat(out, "end");
}

static void test_follow_rotation(void **state)
{
	struct feeder f = {.max_file = 10, .lines = 60, .delay_ms = 4};
	struct logs_opts o = {.follow = true, .tail = -1};
	char one[256] = "", wo[4096], we[4096], *out, *err;

	/* About 4 entries per file: a dozen rotations while following. */
	expect(one, "n000\\n", "stdout", T0);
	f.max_size = 4 * strlen(one);
	run_follow(&f, &o, &out, &err);
	want_lines(0, 60, wo, we);
	assert_string_equal(out, wo);
	assert_string_equal(err, we);
	free(out);
	free(err);
}

static void test_follow_replace_and_late(void **state)
{
	struct feeder f = {.max_file = 1, .lines = 30, .delay_ms = 10, .create_late = true};
	struct logs_opts o = {.follow = true, .tail = -1};
	char one[256] = "", wo[4096], we[4096], *out, *err;

	/* The log appears only after the reader started; max-file 1
	 * replaces PATH on each rotation (about 3 entries a file). */
	expect(one, "n000\\n", "stdout", T0);
	f.max_size = 3 * strlen(one);
	run_follow(&f, &o, &out, &err);
	want_lines(0, 30, wo, we);
	assert_string_equal(out, wo);
	assert_string_equal(err, we);
	free(out);
	free(err);
}

static void test_follow_tail(void **state)
{
	struct feeder f = {.max_file = 2, .lines = 10, .delay_ms = 2};
	struct logs_opts o = {.follow = true, .tail = 2};
	char wo[4096], we[4096], *out, *err;
	struct logfile *l = open_log(0, 2);

	/* Existing content: only its last 2 entries, then everything new. */
	wrs(l, LOG_STDOUT, "old1\nold2\n");
	wrs(l, LOG_STDERR, "old3\n");
	wrs(l, LOG_STDOUT, "half");
	logfile_close(l);
	f.max_size = 0;
	run_follow(&f, &o, &out, &err);
	want_lines(0, 10, wo, we);
	assert_int_equal(strncmp(out, "old2\nn000\n", 10), 0);
	assert_string_equal(out + 5, wo);
	assert_int_equal(strncmp(err, "old3\n", 5), 0);
	assert_string_equal(err + 5, we);
	free(out);
	free(err);
}

static bool always(void *arg)
{
	(*(int *)arg)++;
	return true;
}

/* DONE already true: the existing content, a torn last line included, is
 * read once and the call returns. */
static void test_follow_done_torn(void **state)
{
	struct logs_opts o = {.follow = true, .tail = -1};
	int ofd = memfd_create("out", MFD_CLOEXEC), calls = 0;
	char file[1024] = "", *out;
	struct err *e = NULL;

	expect(file, "a\\n", "stdout", T0);
	expect(file, "torn\\n", "stdout", T0);
	file[strlen(file) - 1] = 0;
	put_file(logp, file, strlen(file));
	assert_true(ofd >= 0);
	alarm(60);
	assert_int_equal(logfile_read(logp, 1, &o, ofd, ofd, always, &calls, &e), 0);
	alarm(0);
	assert_int_equal(calls, 1);
	lseek(ofd, 0, SEEK_SET);
	out = slurp_fd(ofd, NULL);
	assert_string_equal(out, "a\ntorn\n");
	free(out);
	close(ofd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_chunking, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_split_16k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_utf8_and_controls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
	    cmocka_unit_test(test_parse_line_good),
	    cmocka_unit_test(test_parse_line_bad),
	    cmocka_unit_test(test_format_time),
	    cmocka_unit_test(test_parse_time_good),
	    cmocka_unit_test(test_parse_time_bad),
	    cmocka_unit_test_setup_teardown(test_read_all_and_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_since_until_timestamps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_pieces_and_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_line_cap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_missing_and_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_replace_and_late, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_follow_done_torn, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
