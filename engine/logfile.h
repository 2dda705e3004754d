/*
 * engine/logfile.h - container logs in Docker's json-file format: the writer
 * the per-container monitor feeds from the container's stdout/stderr (with
 * max-size/max-file rotation), and the reader behind `moat logs`.
 *
 * One JSON object per line, keys in Docker's order:
 *   {"log":"hello\n","stream":"stdout","time":"2026-11-28T06:01:52.123456789Z"}
 * A line longer than LOGFILE_PIECE bytes is written as LOGFILE_PIECE-byte
 * pieces without "\n"; the piece that holds the newline ends the line.
 */
#ifndef MOAT_ENGINE_LOGFILE_H
#define MOAT_ENGINE_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

/* Docker's copier buffer: a line's "log" text holds at most this many bytes. */
#define LOGFILE_PIECE (16u * 1024)
/* Longest line the reader (and logfile_parse_line) accepts, without "\n". */
#define LOGFILE_LINE_MAX (1u << 20)
/* Bytes logfile_entry_encode may write for a text of N bytes (each byte can
 * become "\u00XX" or "\ufffd"; the rest is keys, stream and time). */
#define LOGFILE_ENCODED_MAX(n) (6 * (size_t)(n) + 96)
/* Size of the buffer logs_format_time needs. */
#define LOGS_TIME_BUF 40

enum log_stream { LOG_STDOUT = 1, LOG_STDERR = 2 };

struct logfile;

/* Opens (creates 0600, O_APPEND, O_CLOEXEC|O_NOFOLLOW) PATH for writing; an
 * existing log is appended to and counts towards MAX_SIZE. MAX_SIZE 0 =
 * unlimited; MAX_FILE >= 1 total files kept (PATH, PATH.1 ...
 * PATH.<max_file-1>), like --log-opt max-size/max-file. */
int logfile_open(const char *path, uint64_t max_size, unsigned max_file, struct logfile **out,
		 struct err **err);
/* Appends DATA (any bytes, any chunking) of STREAM. Complete lines are
 * written at once with timestamp NOW (the time the chunk was read; NULL: the
 * clock now); the incomplete tail is kept per stream, and written as a
 * partial entry once it reaches LOGFILE_PIECE bytes (never cutting a valid
 * UTF-8 character: up to 3 bytes move to the next piece). Invalid UTF-8
 * bytes become U+FFFD, one per byte, as Go's encoder does. Rotation happens
 * before an entry that would take PATH past MAX_SIZE (an entry is never
 * split; one larger than MAX_SIZE goes alone into a fresh file): PATH.(n-1)
 * removed, PATH.k -> PATH.(k+1), PATH -> PATH.1, new PATH. No fsync. */
int logfile_write(struct logfile *l, enum log_stream stream, const char *data, size_t len,
		  const struct timespec *now, struct err **err);
/* Writes the kept partial tails, stdout's then stderr's (end of stream). */
int logfile_flush(struct logfile *l, const struct timespec *now, struct err **err);
/* Closes and frees L (NULL is fine). Flushes nothing; call flush first. */
void logfile_close(struct logfile *l);

/* PURE: one json-file line for TEXT, with the trailing "\n", into BUF of at
 * least LOGFILE_ENCODED_MAX(len) bytes; returns its length. */
size_t logfile_entry_encode(enum log_stream stream, const char *text, size_t len,
			    const struct timespec *t, char *buf);

struct log_entry {
	enum log_stream stream;
	struct timespec time;
	char *text; /* decoded "log", NUL-terminated; may hold NUL bytes (a
		     * container that printed NUL is written as \u0000), so
		     * use LEN */
	size_t len;
};
/* PURE: decodes one line (without the trailing newline). Strict: an object
 * with exactly the keys log/stream/time, plus "attrs" (an object, ignored)
 * which Docker writes with --log-opt labels/env; stream stdout|stderr, time
 * RFC 3339 within years 0000-9999. At most LOGFILE_LINE_MAX bytes. On error
 * *E is zeroed. */
int logfile_parse_line(const char *line, size_t len, struct log_entry *e, struct err **err);
void log_entry_free(struct log_entry *e);

/* PURE: Docker's --since/--until values, tried in Docker's order:
 *  - a Go duration ("10m", "1h30m", "90s", "1.5h", "500ms", "-5m") meaning
 *    NOW minus it (clamped at the epoch; "0" is Unix time 0, as in Docker);
 *  - RFC 3339 and its shortenings: "2026-11-28T06:00:00Z",
 *    "2026-11-28T06:00:00.5+01:00", "2026-11-28T06:00", "2026-11-28T06",
 *    "2026-11-28", "2026-11-28+01:00". Without a zone it is UTC (Docker
 *    would use the client's zone; moat's parser reads no environment);
 *  - Unix seconds with an optional fraction ("1700000000",
 *    "1700000000.123456789").
 * Errors name the value. */
int logs_parse_time(const char *s, const struct timespec *now, struct timespec *out,
		    struct err **err);
/* Formats T as Docker does for `logs -t` and the "time" key: RFC3339Nano in
 * UTC with exactly 9 fraction digits. LEN >= LOGS_TIME_BUF. */
void logs_format_time(const struct timespec *t, char *buf, size_t len);

struct logs_opts {
	bool follow;
	bool timestamps;
	long tail; /* -1 = all; else the last N entries that pass since/until,
		    * counted across the rotated files */
	bool has_since, has_until;
	/* As Docker: an entry is shown when since <= time (and time <= until:
	 * Docker drops only entries After(until), so until is inclusive). */
	struct timespec since, until;
};
/* `moat logs`: reads PATH.<max_file-1> ... PATH.1, PATH (oldest first;
 * missing ones skipped), filters, writes each entry's text to OUT_FD (stdout
 * entries) or ERR_FD (stderr entries). With o->timestamps each output line
 * starts with the time and a space (a line written as several pieces gets
 * one, from its first piece). A corrupt line (bad JSON, or longer than
 * LOGFILE_LINE_MAX) is skipped with a one-time warning on stderr ("moat:
 * skipping a corrupt log line in FILE:LINE"), never fatal.
 * With FOLLOW, after the existing content it waits for more: inotify on the
 * directory wakes it at once, and it also polls every 100 ms (so it works
 * without inotify, and DONE is asked at least that often). When PATH is
 * replaced (rotation) it finishes the old file, then reads the new PATH from
 * its start. It returns once DONE(ARG) has returned true (NULL: never) and
 * everything written before that has been read, or once the clock passes
 * o->until. Returns 0 or negative errno + err; a log that does not exist at
 * all is not an error (nothing printed). */
int logfile_read(const char *path, unsigned max_file, const struct logs_opts *o, int out_fd,
		 int err_fd, bool (*done)(void *arg), void *arg, struct err **err);

#endif
