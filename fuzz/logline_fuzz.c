/*
 * fuzz/logline_fuzz.c - the json-file line decoder (logfile_parse_line),
 * which reads back what a container's output became on disk, and the
 * --since/--until parser (logs_parse_time), which reads what a user typed.
 *
 * Input: a log line, "\n", then a time value (up to its first NUL).
 * Properties checked (abort on violation):
 *  - a decoded entry encodes again and decodes to the same stream, time and
 *    text, NUL bytes included;
 *  - the log line's bytes taken as container output encode to a line that
 *    decodes; the text is unchanged when it was ASCII, and encoding the
 *    decoded text is a fixed point (invalid UTF-8 is fixed up once);
 *  - a parsed time is normalised, and its formatted form parses back to it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/logfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct timespec fuzz_now = {1795845712, 123456789};

static void check_roundtrip(enum log_stream stream, const char *text, size_t len,
			    const struct timespec *t, struct log_entry *out)
{
	char *buf = malloc(LOGFILE_ENCODED_MAX(len));
	size_t n;

	if (!buf)
		abort();
	n = logfile_entry_encode(stream, text, len, t, buf);
	if (n == 0 || buf[n - 1] != '\n' || memchr(buf, '\n', n - 1))
		abort();
	if (logfile_parse_line(buf, n - 1, out, NULL) < 0)
		abort();
	if (out->stream != stream || out->time.tv_sec != t->tv_sec ||
	    out->time.tv_nsec != t->tv_nsec || out->text[out->len] != 0)
		abort();
	free(buf);
}

static void check_line(const char *line, size_t len)
{
	struct log_entry e, again, fixed, twice;
	bool ascii = true;

	if (logfile_parse_line(line, len, &e, NULL) == 0) {
		check_roundtrip(e.stream, e.text, e.len, &e.time, &again);
		if (again.len != e.len || memcmp(again.text, e.text, e.len))
			abort();
		log_entry_free(&again);
		log_entry_free(&e);
	}
	if (len > LOGFILE_PIECE)
		return;
	/* The same bytes as a container's output. */
	for (size_t i = 0; i < len; i++)
		ascii = ascii && (unsigned char)line[i] < 0x80;
	check_roundtrip(LOG_STDERR, line, len, &fuzz_now, &fixed);
	if (ascii && (fixed.len != len || memcmp(fixed.text, line, len)))
		abort();
	check_roundtrip(LOG_STDERR, fixed.text, fixed.len, &fuzz_now, &twice);
	if (twice.len != fixed.len || memcmp(twice.text, fixed.text, fixed.len))
		abort();
	log_entry_free(&twice);
	log_entry_free(&fixed);
}

static void check_time(const char *s)
{
	struct timespec t, back;
	char buf[LOGS_TIME_BUF];

	if (logs_parse_time(s, &fuzz_now, &t, NULL) < 0)
		return;
	if (t.tv_nsec < 0 || t.tv_nsec >= 1000000000L)
		abort();
	logs_format_time(&t, buf, sizeof(buf));
	if (logs_parse_time(buf, &fuzz_now, &back, NULL) < 0)
		abort();
	if (back.tv_sec != t.tv_sec || back.tv_nsec != t.tv_nsec)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nl = memchr(in, '\n', size);
	size_t llen = nl ? (size_t)(nl - in) : size;
	char *arg;

	check_line(in, llen);
	if (!nl)
		return 0;
	arg = malloc(size - llen);
	if (!arg)
		abort();
	memcpy(arg, nl + 1, size - llen - 1);
	arg[size - llen - 1] = 0;
	check_time(arg);
	free(arg);
	return 0;
}
