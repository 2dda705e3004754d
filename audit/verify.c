/*
 * audit/verify.c - reading the audit log back: the capped line reader, the
 * list of rotated files, audit_scan (for `moat audit show`) and
 * audit_verify (for `moat audit verify`).
 *
 * Runs in: the CLI, as whoever may read the log (its owner, or an auditor
 * given read access); it writes nothing and creates no key.
 *
 * Invariants:
 *  - every byte of a verified file belongs to a record that decodes, hashes
 *    to its own "hash", carries a valid hmac in a keyed log, and links to
 *    the record before it by seq and prev; the live log ends exactly at the
 *    MAC'd checkpoint. The report names the first place where this fails,
 *    as FILE:LINE;
 *  - per-line checks come in this order: decode, hash, hmac, seq, prev. A
 *    record that fails its own hash cannot be trusted for its seq either,
 *    so an edit is reported as an edit, not as the gap its edited seq
 *    would suggest. The checkpoint is judged after every line;
 *  - a line is at most AUDIT_RECORD_MAX bytes; the reader never holds more
 *    than that plus one chunk, whatever the file holds;
 *  - readers take a shared flock on "<path>.lock" when they can, so that
 *    they see neither a half-written line nor a rotation in progress.
 */
#include "audit/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"

#define CHUNK 65536
#define BUF_MAX ((size_t)AUDIT_RECORD_MAX + 2)

/* ---- Lines -------------------------------------------------------------- */

struct audit_reader {
	int fd;
	char *buf;
	size_t cap, start, end;
	bool eof;
};

int audit_reader_open(int fd, struct audit_reader **out, struct err **err)
{
	struct audit_reader *rd = calloc(1, sizeof(*rd));

	if (!rd || !(rd->buf = malloc(CHUNK))) {
		free(rd);
		return err_set(err, ENOMEM, "out of memory");
	}
	rd->fd = fd;
	rd->cap = CHUNK;
	*out = rd;
	return 0;
}

void audit_reader_free(struct audit_reader *rd)
{
	if (rd) {
		free(rd->buf);
		free(rd);
	}
}

int audit_reader_next(struct audit_reader *rd, const char **line, size_t *len, bool *torn,
		      struct err **err)
{
	for (;;) {
		char *nl = memchr(rd->buf + rd->start, '\n', rd->end - rd->start);
		ssize_t n;

		if (nl) {
			*line = rd->buf + rd->start;
			*len = (size_t)(nl - *line);
			*torn = false;
			rd->start += *len + 1;
			return *len > AUDIT_RECORD_MAX
				   ? err_set(err, EMSGSIZE, "a line longer than %d bytes",
					     AUDIT_RECORD_MAX)
				   : 1;
		}
		if (rd->end - rd->start > AUDIT_RECORD_MAX)
			return err_set(err, EMSGSIZE, "a line longer than %d bytes",
				       AUDIT_RECORD_MAX);
		if (rd->eof) {
			if (rd->start == rd->end)
				return 0;
			*line = rd->buf + rd->start;
			*len = rd->end - rd->start;
			*torn = true;
			rd->start = rd->end;
			return 1;
		}
		if (rd->start) {
			memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
			rd->end -= rd->start;
			rd->start = 0;
		}
		if (rd->end == rd->cap) {
			size_t cap = rd->cap * 2 < BUF_MAX ? rd->cap * 2 : BUF_MAX;
			char *nb = realloc(rd->buf, cap);
			if (!nb)
				return err_set(err, ENOMEM, "out of memory");
			rd->buf = nb;
			rd->cap = cap;
		}
		n = read(rd->fd, rd->buf + rd->end, rd->cap - rd->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(err, errno, "read");
		if (n == 0)
			rd->eof = true;
		rd->end += (size_t)n;
	}
}

static void readerp(struct audit_reader **rd)
{
	audit_reader_free(*rd);
}
#define _cleanup_reader_ __attribute__((cleanup(readerp)))

/* ---- Files --------------------------------------------------------------- */

int audit_files(const char *path, char ***out, size_t *n, struct err **err)
{
	_cleanup_free_ char *c1 = strdup(path), *c2 = strdup(path);
	_cleanup_free_ unsigned *v = NULL;
	_cleanup_strv_ char **files = NULL;
	_cleanup_close_ int dirfd = -1;
	const char *base;
	size_t nv = 0, k = 0;
	struct stat st;

	if (!c1 || !c2)
		return err_set(err, ENOMEM, "out of memory");
	base = basename(c2);
	dirfd = open(dirname(c1), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 && errno == ENOENT) {
		/* Nothing written yet: an empty log (its checkpoint, if one
		 * is left, is still judged). */
		*n = 0;
		*out = calloc(1, sizeof(char *));
		return *out ? 0 : err_set(err, ENOMEM, "out of memory");
	}
	if (dirfd < 0)
		return err_errno(err, errno, "audit log \"%s\"", path);
	if (audit_rotated_list(dirfd, base, &v, &nv, err) < 0)
		return err_prefix(err, "audit log \"%s\"", path);
	files = calloc(nv + 2, sizeof(char *));
	if (!files)
		return err_set(err, ENOMEM, "out of memory");
	for (size_t i = nv; i-- > 0;)
		if (asprintf(&files[k++], "%s.%u", path, v[i]) < 0) {
			files[k - 1] = NULL;
			return err_set(err, ENOMEM, "out of memory");
		}
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !(files[k++] = strdup(path)))
		return err_set(err, ENOMEM, "out of memory");
	*n = k;
	*out = steal_ptr(files);
	return 0;
}

/* A shared lock on the live log's lock file, or -1 when there is none to
 * take (no such file, or no right to open it): reading goes on unlocked. */
static int read_lock(const struct audit_opts *o)
{
	_cleanup_free_ char *name = NULL;
	_cleanup_close_ int fd = -1;

	if (!o || !o->path || asprintf(&name, "%s.lock", o->path) < 0)
		return -1;
	fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_SH) < 0)
		if (errno != EINTR)
			return -1;
	return steal_fd(fd);
}

/* FILES/N, or the live log's files when N is 0; *owned is what to free. */
static int file_list(char *const *files, size_t n, const struct audit_opts *o, char *const **list,
		     size_t *count, char ***owned, struct err **err)
{
	*owned = NULL;
	if (n) {
		*list = files;
		*count = n;
		return 0;
	}
	if (!o || !o->path)
		return err_set(err, EINVAL, "no audit log to read");
	if (audit_files(o->path, owned, count, err) < 0)
		return err_ret(*err);
	*list = *owned;
	return 0;
}

/* Calls LINE_FN for every line of every file; stops at the first nonzero. */
static int each_line(char *const *list, size_t count,
		     int (*line_fn)(const char *file, size_t lineno, const char *line, size_t len,
				    bool torn, void *arg),
		     void *arg, struct err **err)
{
	for (size_t f = 0; f < count; f++) {
		_cleanup_close_ int fd = open(list[f], O_RDONLY | O_CLOEXEC);
		_cleanup_reader_ struct audit_reader *rd = NULL;
		const char *line;
		size_t len, lineno = 0;
		bool torn;
		int r;

		if (fd < 0)
			return err_errno(err, errno, "open \"%s\"", list[f]);
		if (audit_reader_open(fd, &rd, err) < 0)
			return err_ret(*err);
		while ((r = audit_reader_next(rd, &line, &len, &torn, err)) > 0) {
			r = line_fn(list[f], ++lineno, line, len, torn, arg);
			if (r)
				return r;
		}
		if (r < 0)
			return err_prefix(err, "%s:%zu", list[f], lineno + 1);
	}
	return 0;
}

/* ---- Scan ------------------------------------------------------------------ */

struct scan {
	int (*fn)(const struct audit_record *r, const char *line, size_t len, void *arg);
	void *arg;
	struct err **err;
};

static int scan_line(const char *file, size_t lineno, const char *line, size_t len, bool torn,
		     void *arg)
{
	struct scan *s = arg;
	struct audit_record r;
	int ret;

	if (torn)
		return err_set(s->err, EBADMSG, "%s:%zu: incomplete final line", file, lineno);
	if (audit_record_decode(line, len, &r, s->err) < 0)
		return err_prefix(s->err, "%s:%zu", file, lineno);
	ret = s->fn(&r, line, len, s->arg);
	audit_record_free(&r);
	return ret;
}

int audit_scan(char *const *files, size_t n, const struct audit_opts *o,
	       int (*fn)(const struct audit_record *r, const char *line, size_t len, void *arg),
	       void *arg, struct err **err)
{
	_cleanup_close_ int lock = read_lock(o);
	_cleanup_strv_ char **owned = NULL;
	char *const *list;
	size_t count;
	struct scan s = {fn, arg, err};
	int r;

	(void)lock; /* held until return; -1 reads unlocked */
	if (file_list(files, n, o, &list, &count, &owned, err) < 0)
		return err_ret(*err);
	r = each_line(list, count, scan_line, &s, err);
	return r > 0 ? 0 : r;
}

/* ---- Verify ---------------------------------------------------------------- */

struct verify {
	const unsigned char *hkey;
	size_t hkeylen;
	bool have; /* a previous record */
	uint64_t seq, first, count, gaps, first_gap, unchecked;
	char hash[SHA256_HEX_LEN + 1];
	bool continued; /* the first record is past seq 1 */
	bool ck_on;
	struct audit_checkpoint ck;
	char ck_replaced[300]; /* FILE:LINE of a record at ck.seq with another hash */
	char msg[1024];
};

__attribute__((format(printf, 2, 3))) static int broken(struct verify *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof(v->msg), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int verify_record(struct verify *v, const char *file, size_t lineno,
			 const struct audit_record *r)
{
	char mac[SHA256_HEX_LEN + 1];

	if (!audit_record_hash_ok(r))
		return broken(v, "%s:%zu: seq %" PRIu64 ": hash mismatch (record edited)", file,
			      lineno, r->seq);
	if (v->hkey && !r->hmac[0])
		return broken(v,
			      "%s:%zu: seq %" PRIu64
			      ": no hmac in a keyed log (record forged or inserted)",
			      file, lineno, r->seq);
	if (v->hkey) {
		audit_record_hmac(r, v->hkey, v->hkeylen, mac);
		if (!audit_hex_eq(mac, r->hmac))
			return broken(v,
				      "%s:%zu: seq %" PRIu64
				      ": hmac mismatch (record forged, or another key)",
				      file, lineno, r->seq);
	}
	if (!v->have) {
		if (r->seq == 1 && strcmp(r->prev, AUDIT_ZERO_HASH))
			return broken(v, "%s:%zu: seq 1: prev is not zero (not a chain's start)",
				      file, lineno);
		v->continued = r->seq > 1;
		v->first = r->seq;
	} else if (r->seq > v->seq + 1) {
		return broken(v,
			      "%s:%zu: seq %" PRIu64 " follows seq %" PRIu64
			      " (a record is missing or out of order)",
			      file, lineno, r->seq, v->seq);
	} else if (r->seq != v->seq + 1) {
		return broken(v,
			      "%s:%zu: seq %" PRIu64 " follows seq %" PRIu64
			      " (records out of order or repeated)",
			      file, lineno, r->seq, v->seq);
	} else if (strcmp(r->prev, v->hash)) {
		return broken(v,
			      "%s:%zu: seq %" PRIu64 ": prev is not the hash of seq %" PRIu64
			      " (a record was replaced)",
			      file, lineno, r->seq, v->seq);
	}
	if (v->ck_on && r->seq == v->ck.seq && strcmp(r->hash, v->ck.hash) && !v->ck_replaced[0])
		snprintf(v->ck_replaced, sizeof(v->ck_replaced), "%s:%zu", file, lineno);
	if (!v->hkey && r->hmac[0])
		v->unchecked++;
	if (r->gap && !v->gaps++)
		v->first_gap = r->seq;
	v->have = true;
	v->seq = r->seq;
	memcpy(v->hash, r->hash, sizeof(v->hash));
	v->count++;
	return 0;
}

static int verify_line(const char *file, size_t lineno, const char *line, size_t len, bool torn,
		       void *arg)
{
	struct verify *v = arg;
	struct audit_record r;
	struct err *e = NULL;
	int ret;

	if (torn)
		return broken(v, "%s:%zu: incomplete final line (a write cut short)", file, lineno);
	if (audit_record_decode(line, len, &r, &e) < 0) {
		ret = broken(v, "%s:%zu: %s", file, lineno, e ? e->msg : "not a record");
		err_free(&e);
		return ret;
	}
	ret = verify_record(v, file, lineno, &r);
	audit_record_free(&r);
	return ret;
}

/* The checkpoint judged after the last line. */
static int verify_checkpoint(struct verify *v)
{
	if (v->ck_replaced[0])
		return broken(v,
			      "checkpoint: seq %" PRIu64
			      " at %s is not the record the checkpoint holds (replaced)",
			      v->ck.seq, v->ck_replaced);
	if (!v->have && v->ck.seq > 0)
		return broken(
		    v,
		    "checkpoint: the log has no records but the checkpoint says seq %" PRIu64
		    " (truncated)",
		    v->ck.seq);
	if (v->have && v->seq < v->ck.seq)
		return broken(v,
			      "checkpoint: log ends at seq %" PRIu64
			      " but the checkpoint says %" PRIu64 " (truncated)",
			      v->seq, v->ck.seq);
	if (v->have && v->seq > v->ck.seq)
		return broken(v,
			      "checkpoint: log runs to seq %" PRIu64
			      " past the checkpoint at seq %" PRIu64
			      " (appended behind moat's back, or a crash before the checkpoint "
			      "was written)",
			      v->seq, v->ck.seq);
	return 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

struct key {
	unsigned char *p;
	size_t len;
};

static void keyfreep(struct key *k)
{
	audit_key_free(k->p, k->len);
}
#define _cleanup_key_ __attribute__((cleanup(keyfreep)))

/* Reads and judges the checkpoint up front (under the same lock as the
 * lines); the verdict is given after the lines. 0, or an error that stops
 * the check. */
static int load_checkpoint(const struct audit_opts *o, struct verify *v, bool *missing,
			   char bad[1100], struct err **err)
{
	_cleanup_free_ char *c = strdup(o->path), *c2 = strdup(o->path), *name = NULL;
	_cleanup_key_ struct key k = {0};
	_cleanup_close_ int dirfd = -1;
	char mac[SHA256_HEX_LEN + 1];
	int r;

	if (!c || !c2 || asprintf(&name, "%s.checkpoint", basename(c2)) < 0)
		return err_set(err, ENOMEM, "out of memory");
	dirfd = open(dirname(c), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 && errno == ENOENT) {
		*missing = true;
		return 0;
	}
	if (dirfd < 0)
		return err_errno(err, errno, "audit log \"%s\"", o->path);
	r = audit_checkpoint_read(dirfd, name, &v->ck, err);
	if (r == -ENOENT) {
		*missing = true;
		return 0;
	}
	if (r == -EINVAL) {
		/* Unparseable is a verdict; unreadable (below) is an error. */
		snprintf(bad, 1100, "checkpoint: %s", (*err)->msg);
		err_free(err);
		return 0;
	}
	if (r < 0)
		return r;
	if (audit_key_load(o->checkpoint_key_path, AUDIT_CHECKPOINT_KEY_LEN, false, false, &k.p,
			   &k.len, err) < 0)
		return err_ret(*err);
	audit_checkpoint_mac(k.p, k.len, v->ck.seq, v->ck.hash, mac);
	if (!audit_hex_eq(mac, v->ck.mac))
		snprintf(bad, 1100,
			 "checkpoint: its mac does not verify (forged, or another "
			 "checkpoint key)");
	else
		v->ck_on = true;
	return 0;
}

int audit_verify(char *const *files, size_t n, const struct audit_opts *o, FILE *report,
		 struct err **err)
{
	_cleanup_close_ int lock = read_lock(o);
	_cleanup_strv_ char **owned = NULL;
	_cleanup_key_ struct key hk = {0};
	_cleanup_free_ struct verify *v = calloc(1, sizeof(*v));
	char *const *list;
	size_t count;
	const char *skip = NULL;
	bool ck_missing = false;
	char ck_bad[1100] = "";
	int r;

	(void)lock; /* held until return; -1 reads unlocked */
	if (!v)
		return err_set(err, ENOMEM, "out of memory");
	if (file_list(files, n, o, &list, &count, &owned, err) < 0)
		return err_ret(*err);
	if (o && o->hmac_key_path) {
		if (audit_key_load(o->hmac_key_path, AUDIT_HMAC_KEY_MIN, false, false, &hk.p,
				   &hk.len, err) < 0)
			return err_ret(*err);
		v->hkey = hk.p;
		v->hkeylen = hk.len;
	}
	/* The live log's own listing is always held to its checkpoint: a
	 * deleted live file must not turn the check off. */
	if (!o || !o->path)
		skip = "no live log named";
	else if (n && !same_file(list[count - 1], o->path))
		skip = "the last file is not the live log";
	else if (!o->checkpoint_key_path)
		skip = "no checkpoint key";
	if (!skip && load_checkpoint(o, v, &ck_missing, ck_bad, err) < 0)
		return err_ret(*err);
	r = each_line(list, count, verify_line, v, err);
	if (r == -EMSGSIZE) {
		/* Not a read failure: the file holds something no writer makes. */
		r = broken(v, "%s", (*err)->msg);
		err_free(err);
	}
	if (r == 0 && ck_bad[0])
		r = broken(v, "%s", ck_bad);
	else if (r == 0 && ck_missing && v->have)
		r = broken(v, "checkpoint: missing, but the log has records (deleted?)");
	else if (r == 0 && v->ck_on)
		r = verify_checkpoint(v);
	if (r == -EBADMSG) {
		fprintf(report, "%s\n", v->msg);
		return err_set(err, EBADMSG, "%s", v->msg);
	}
	if (r < 0)
		return r;
	if (!v->count)
		fprintf(report, "audit: 0 records verified, chain intact");
	else
		fprintf(report,
			"audit: %" PRIu64 " records verified (seq %" PRIu64 "..%" PRIu64
			"%s), chain intact",
			v->count, v->first, v->seq,
			v->continued ? ", earlier records rotated away" : "");
	if (v->hkey)
		fprintf(report, ", keyed");
	else if (v->unchecked)
		fprintf(report, ", hmac not checked (no key given)");
	if (v->gaps)
		fprintf(report, ", %" PRIu64 " audit_gap flag%s (first at seq %" PRIu64 ")",
			v->gaps, v->gaps == 1 ? "" : "s", v->first_gap);
	if (skip)
		fprintf(report, ", checkpoint not checked (%s)", skip);
	fprintf(report, "\n");
	return 0;
}
