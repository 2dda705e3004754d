/*
 * engine/logread.c - `moat logs`: reads a json-file log set (PATH.<n-1> ...
 * PATH.1, PATH), filters by time, honours --tail, and follows PATH across
 * rotations (logfile_read, see logfile.h).
 *
 * Runs in: the `moat logs` CLI process, as the user the container's state
 * belongs to, needing no privilege. Only reads the log files.
 *
 * Invariants:
 *  - The log's directory is opened once; every file of the set is named
 *    relative to that fd and opened O_NOFOLLOW (and O_NONBLOCK, and must be
 *    a regular file), so a symlink or FIFO planted as PATH or PATH.1 is
 *    refused.
 *  - The reader never holds more than one line (LOGFILE_LINE_MAX bytes) of
 *    a file in memory. --tail counts matching entries in a first pass and
 *    prints in a second over the same open files, stopping at the offsets
 *    the first pass reached, so both passes see the same entries.
 *  - The reader opens the newest file first and skips a file it already
 *    holds (same inode), so one rotation while it opens the set neither
 *    duplicates nor reorders entries.
 *  - A corrupt line is skipped (one warning), never fatal.
 */
#include "engine/logfile_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

/* Read buffer start; it grows up to LOGFILE_LINE_MAX + 1. */
#define READ_CHUNK (64u * 1024)
#define FOLLOW_POLL_MS 100

/* ---- reader ---- */

enum { LINE_NONE, LINE_OK, LINE_LONG };

/* One file of the set, read line by line. */
struct src {
	int fd;
	char *name; /* for the corrupt-line warning */
	dev_t dev;
	ino_t ino;
	off_t pos;   /* file offset of buf[end] */
	off_t limit; /* -1: read to EOF; else stop there (second --tail pass) */
	unsigned long lineno;
	char *buf;
	size_t cap, start, end;
	bool skipping; /* inside a line longer than LOGFILE_LINE_MAX */
};

static void src_close(struct src *s)
{
	closep(&s->fd);
	free(s->name);
	free(s->buf);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* Opens NAME beneath DIRFD; 0 with s->fd == -1 when it does not exist. */
static int src_open(struct src *s, int dirfd, const char *path, const char *base, unsigned k,
		    struct err **err)
{
	char name[NAME_MAX + 1];
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->limit = -1;
	logfile_file_name(base, k, name, sizeof(name));
	s->fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (s->fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_errno(err, errno, "open log \"%s%s\"", path, name + strlen(base));
	}
	if (fstat(s->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		src_close(s);
		return err_set(err, EINVAL, "log \"%s%s\" is not a regular file", path,
			       name + strlen(base));
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (asprintf(&s->name, "%s%s", path, name + strlen(base)) < 0) {
		s->name = NULL;
		src_close(s);
		return err_errno(err, ENOMEM, "read log");
	}
	return 0;
}

static int src_rewind(struct src *s, off_t limit)
{
	if (lseek(s->fd, 0, SEEK_SET) < 0)
		return -errno;
	s->pos = 0;
	s->limit = limit;
	s->lineno = 0;
	s->start = s->end = 0;
	s->skipping = false;
	return 0;
}

/* Offset just past the last line handed out. */
static off_t src_consumed(const struct src *s)
{
	return s->pos - (off_t)(s->end - s->start);
}

/*
 * The next line of S (without "\n") in *LINE and *LEN: LINE_OK, LINE_LONG (the
 * end of a line longer than LOGFILE_LINE_MAX, whose start was dropped), or
 * LINE_NONE at EOF (or the limit). With FINAL, bytes after the last "\n" are
 * a line of their own (a torn write); without, they wait for more data.
 * Negative errno on a read error.
 */
static int src_next(struct src *s, bool final, char **line, size_t *len)
{
	for (;;) {
		char *nl =
		    s->end > s->start ? memchr(s->buf + s->start, '\n', s->end - s->start) : NULL;
		size_t want;
		ssize_t n;

		if (nl) {
			*line = s->buf + s->start;
			*len = (size_t)(nl - *line);
			s->start += *len + 1;
			s->lineno++;
			if (s->skipping) {
				s->skipping = false;
				return LINE_LONG;
			}
			return LINE_OK;
		}
		if (s->end - s->start > LOGFILE_LINE_MAX) {
			s->skipping = true;
			s->start = s->end;
		}
		if (s->skipping) {
			s->start = s->end = 0;
		} else if (s->start > 0) {
			memmove(s->buf, s->buf + s->start, s->end - s->start);
			s->end -= s->start;
			s->start = 0;
		}
		if (s->end == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : READ_CHUNK;
			char *nb;

			if (cap > LOGFILE_LINE_MAX + 1)
				cap = LOGFILE_LINE_MAX + 1;
			nb = realloc(s->buf, cap);
			if (!nb)
				return -ENOMEM;
			s->buf = nb;
			s->cap = cap;
		}
		want = s->cap - s->end;
		if (s->limit >= 0 && (off_t)want > s->limit - s->pos)
			want = (size_t)(s->limit - s->pos);
		n = want ? read(s->fd, s->buf + s->end, want) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0) {
			s->end += (size_t)n;
			s->pos += n;
			continue;
		}
		if (!final || (s->end == s->start && !s->skipping))
			return LINE_NONE;
		*line = s->buf + s->start;
		*len = s->end - s->start;
		s->start = s->end;
		s->lineno++;
		if (s->skipping) {
			s->skipping = false;
			return LINE_LONG;
		}
		return LINE_OK;
	}
}

struct reader {
	const struct logs_opts *o;
	int fds[2]; /* by stream - 1 */
	bool bol[2];
	bool counting; /* first --tail pass: count, print nothing */
	long count;    /* entries that pass the filter (first pass) */
	long skip;     /* entries to pass over before printing (second pass) */
	bool warned;
	int ofd;
	size_t olen;
	char obuf[64 * 1024];
};

static int out_flush(struct reader *rd, struct err **err)
{
	int r = rd->olen ? logfile_write_full(rd->ofd, rd->obuf, rd->olen, NULL) : 0;

	rd->olen = 0;
	if (r < 0)
		return err_errno(err, -r, "write logs");
	return 0;
}

/* Output is buffered per destination, in order: switching fd flushes. */
static int out(struct reader *rd, int fd, const char *p, size_t len, struct err **err)
{
	int r;

	if ((rd->ofd != fd || rd->olen + len > sizeof(rd->obuf)) && (r = out_flush(rd, err)) < 0)
		return r;
	rd->ofd = fd;
	if (len > sizeof(rd->obuf)) {
		r = logfile_write_full(fd, p, len, NULL);
		return r < 0 ? err_errno(err, -r, "write logs") : 0;
	}
	memcpy(rd->obuf + rd->olen, p, len);
	rd->olen += len;
	return 0;
}

static int time_cmp(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec ? -1 : 1;
	return a->tv_nsec < b->tv_nsec ? -1 : a->tv_nsec > b->tv_nsec;
}

static bool wanted(const struct logs_opts *o, const struct timespec *t)
{
	return (!o->has_since || time_cmp(t, &o->since) >= 0) &&
	       (!o->has_until || time_cmp(t, &o->until) <= 0);
}

static int handle(struct reader *rd, const struct src *s, int kind, const char *line, size_t len,
		  struct err **err)
{
	struct log_entry e;
	char ts[LOGS_TIME_BUF + 1];
	int i, r = 0;

	if (kind != LINE_OK || logfile_parse_line(line, len, &e, NULL) < 0) {
		if (!rd->counting && rd->skip == 0 && !rd->warned) {
			if ((r = out_flush(rd, err)) < 0)
				return r;
			fprintf(stderr, "moat: skipping a corrupt log line in %s:%lu\n", s->name,
				s->lineno);
			rd->warned = true;
		}
		return 0;
	}
	if (!wanted(rd->o, &e.time))
		goto done;
	if (rd->counting) {
		rd->count++;
		goto done;
	}
	if (rd->skip > 0) {
		rd->skip--;
		goto done;
	}
	i = e.stream - 1;
	if (rd->o->timestamps && rd->bol[i]) {
		logs_format_time(&e.time, ts, LOGS_TIME_BUF);
		strcat(ts, " ");
		if ((r = out(rd, rd->fds[i], ts, strlen(ts), err)) < 0)
			goto done;
	}
	if ((r = out(rd, rd->fds[i], e.text, e.len, err)) < 0)
		goto done;
	if (e.len)
		rd->bol[i] = e.text[e.len - 1] == '\n';
done:
	log_entry_free(&e);
	return r;
}

/* Reads S to EOF (or its limit), handling each line. */
static int drain(struct reader *rd, struct src *s, bool final, struct err **err)
{
	char *line = NULL;
	size_t len = 0;
	int kind, r;

	if (s->fd < 0)
		return 0;
	while ((kind = src_next(s, final, &line, &len)) != LINE_NONE) {
		if (kind < 0)
			return err_errno(err, -kind, "read log \"%s\"", s->name);
		if ((r = handle(rd, s, kind, line, len, err)) < 0)
			return r;
	}
	return 0;
}

struct logset {
	int dirfd;
	const char *path, *base;
	unsigned max_file;
	struct src *srcs; /* by k: srcs[0] is PATH */
};

static void logset_free(struct logset *ls)
{
	for (unsigned k = 0; ls->srcs && k < ls->max_file; k++)
		src_close(&ls->srcs[k]);
	free(ls->srcs);
	closep(&ls->dirfd);
}

/* Index of the rotated file that is S (same inode), or 0 when none is. */
static unsigned rotated_index(const struct logset *ls, const struct src *s)
{
	char name[NAME_MAX + 1];
	struct stat st;

	for (unsigned k = 1; k < ls->max_file; k++) {
		logfile_file_name(ls->base, k, name, sizeof(name));
		if (fstatat(ls->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == s->dev && st.st_ino == s->ino)
			return k;
	}
	return 0;
}

/* PATH is a new file: finish the one we had, then any files rotated between
 * it and the new PATH (several rotations within one wait), then open PATH. */
static int follow_rotation(struct reader *rd, struct logset *ls, struct err **err)
{
	struct src *cur = &ls->srcs[0];
	unsigned k = 0;
	int r;

	if (cur->fd >= 0) {
		if ((r = drain(rd, cur, true, err)) < 0)
			return r;
		k = rotated_index(ls, cur);
		src_close(cur);
	}
	while (k-- > 1) {
		struct src mid;

		if ((r = src_open(&mid, ls->dirfd, ls->path, ls->base, k, err)) < 0)
			return r;
		r = drain(rd, &mid, true, err);
		src_close(&mid);
		if (r < 0)
			return r;
	}
	return src_open(cur, ls->dirfd, ls->path, ls->base, 0, err);
}

static void follow_wait(int ifd)
{
	struct pollfd p = {.fd = ifd, .events = POLLIN};
	char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (ifd < 0) {
		poll(NULL, 0, FOLLOW_POLL_MS);
		return;
	}
	if (poll(&p, 1, FOLLOW_POLL_MS) > 0)
		while (read(ifd, ev, sizeof(ev)) > 0)
			; /* which file changed does not matter: everything is checked */
}

static int follow(struct reader *rd, struct logset *ls, const char *dir, bool (*done)(void *),
		  void *arg, struct err **err)
{
	_cleanup_close_ int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	struct src *cur = &ls->srcs[0];
	int r;

	/* inotify only shortens the wait; without it the 100 ms poll remains. */
	if (ifd >= 0 && inotify_add_watch(ifd, dir,
					  IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
					      IN_DELETE | IN_CLOSE_WRITE) < 0)
		closep(&ifd);
	for (;;) {
		/* Asked before reading: what was written before DONE turned
		 * true is read below, before returning. */
		bool finished = done && done(arg);
		struct timespec now;
		struct stat st;

		if ((r = drain(rd, cur, false, err)) < 0)
			return r;
		if (fstatat(ls->dirfd, ls->base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) &&
		    (cur->fd < 0 || st.st_dev != cur->dev || st.st_ino != cur->ino)) {
			if ((r = follow_rotation(rd, ls, err)) < 0)
				return r;
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &now);
		if (finished || (rd->o->has_until && time_cmp(&now, &rd->o->until) > 0))
			return drain(rd, cur, true, err);
		if ((r = out_flush(rd, err)) < 0)
			return r;
		follow_wait(ifd);
	}
}

int logfile_read(const char *path, unsigned max_file, const struct logs_opts *o, int out_fd,
		 int err_fd, bool (*done)(void *arg), void *arg, struct err **err)
{
	struct logset ls __attribute__((cleanup(logset_free))) = {.dirfd = -1};
	_cleanup_free_ struct reader *rd = NULL;
	_cleanup_free_ off_t *limits = NULL;
	_cleanup_free_ char *dir = NULL;
	int r;

	if (max_file < 1 || max_file > LOGFILE_MAX_FILES)
		return err_set(err, EINVAL, "log max-file %u: want 1 to %u", max_file,
			       LOGFILE_MAX_FILES);
	if (o->tail < -1)
		return err_set(err, EINVAL, "logs: bad tail %ld", o->tail);
	if ((r = logfile_split_path(path, &dir, &ls.base, err)) < 0)
		return r;
	ls.path = path;
	ls.max_file = max_file;
	ls.dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (ls.dirfd < 0)
		return errno == ENOENT ? 0
				       : err_errno(err, errno, "open log directory \"%s\"", dir);
	ls.srcs = calloc(max_file, sizeof(*ls.srcs));
	limits = calloc(max_file, sizeof(*limits));
	rd = calloc(1, sizeof(*rd));
	if (!ls.srcs || !limits || !rd)
		return err_errno(err, ENOMEM, "read logs");
	for (unsigned k = 0; k < max_file; k++)
		ls.srcs[k].fd = -1;
	/* Newest first, skipping a file already open under a newer name: a
	 * rotation meanwhile then loses nothing it did not rotate out. */
	for (unsigned k = 0; k < max_file; k++) {
		struct src *s = &ls.srcs[k];

		if ((r = src_open(s, ls.dirfd, path, ls.base, k, err)) < 0)
			return r;
		for (unsigned j = 0; s->fd >= 0 && j < k; j++)
			if (ls.srcs[j].fd >= 0 && ls.srcs[j].dev == s->dev &&
			    ls.srcs[j].ino == s->ino)
				src_close(s);
	}
	rd->o = o;
	rd->fds[0] = out_fd;
	rd->fds[1] = err_fd;
	rd->bol[0] = rd->bol[1] = true;
	rd->ofd = out_fd;
	if (o->tail >= 0) {
		rd->counting = true;
		for (unsigned k = max_file; k-- > 0;) {
			if ((r = drain(rd, &ls.srcs[k], k > 0 || !o->follow, err)) < 0)
				return r;
			limits[k] = src_consumed(&ls.srcs[k]);
		}
		rd->counting = false;
		rd->skip = rd->count > o->tail ? rd->count - o->tail : 0;
		for (unsigned k = 0; k < max_file; k++)
			if (ls.srcs[k].fd >= 0 && (r = src_rewind(&ls.srcs[k], limits[k])) < 0)
				return err_errno(err, -r, "read log \"%s\"", ls.srcs[k].name);
	}
	for (unsigned k = max_file; k-- > 0;) {
		if ((r = drain(rd, &ls.srcs[k], k > 0 || !o->follow, err)) < 0)
			return r;
		if (k > 0)
			src_close(&ls.srcs[k]);
	}
	ls.srcs[0].limit = -1;
	if (o->follow && (r = follow(rd, &ls, dir, done, arg, err)) < 0)
		return r;
	return out_flush(rd, err);
}
