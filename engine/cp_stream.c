/*
 * engine/cp_stream.c - what flows between the two processes of `moat cp`:
 * the entry records on the data pipe (layout in engine/cp_internal.h) and
 * the fixed-size control messages on the socket pair.
 *
 * Runs in: both. The side that has the source writes records (the helper
 * when copying out, moat when copying in); the other side reads them.
 * Either may be root (moat run by root; the helper is root of the
 * container's user namespace). The encoder and both decoders are PURE;
 * fuzz/cp_record_fuzz.c and tests/unit/test_cp.c call them directly.
 *
 * Threats, and what here answers them:
 *  - The reader trusts nothing it reads. Copying out, the records come
 *    from a helper that has walked a tree the container controls and can
 *    change under it; copying in, from a tar on stdin that anyone may have
 *    made. A record that is not exactly what engine_cp_record_encode
 *    writes (magic, type, lengths that match the type, mode <= 07777,
 *    nanoseconds < 1e9, size only for regular files and <= INT64_MAX, the
 *    reserved bytes zero, no NUL in a name) ends the copy with EPROTO.
 *    The encoding is canonical: a record that decodes encodes again to
 *    the same bytes, which the fuzzer checks.
 *  - Lengths are checked against CP_PATH_MAX before a byte is read into
 *    the fixed buffers they describe; nothing is allocated from a length
 *    on the wire. Data is streamed in CP_BUF chunks, however large the
 *    announced size, and the stream must carry exactly that many bytes: a
 *    short one is an error (EPIPE), never a silently shorter file.
 *  - Decoding does not make a name safe: names and link targets may hold
 *    "..", a leading "/" or anything but NUL. Whoever uses one as a path
 *    cleans it first (engine_cp_name_clean, in engine/cp_tree.c);
 *    engine/cp_tar.c passes them into the tar it writes as they came.
 *  - Control messages have one size; SOCK_SEQPACKET keeps each whole, a
 *    short one is EPROTO and the text is always terminated. A peer that
 *    goes away is an ordinary error (MSG_NOSIGNAL here, SIGPIPE ignored
 *    by engine_cp for the pipe), not a signal that kills moat.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "engine/cp_internal.h"

/* ---- records: PURE ---- */

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

int engine_cp_record_encode(const struct cp_ent *e, unsigned char *out, size_t cap,
			    struct err **err)
{
	size_t nl = strnlen(e->name, sizeof(e->name)), ll = strnlen(e->link, sizeof(e->link));

	if (nl > CP_PATH_MAX || ll > CP_PATH_MAX)
		return err_set(err, ENAMETOOLONG, "entry record: name too long");
	if (cap < CP_REC_HDR_LEN + nl + ll)
		return err_set(err, ENOBUFS, "entry record: no room for \"%s\"", e->name);
	memset(out, 0, CP_REC_HDR_LEN);
	put32(out, CP_REC_MAGIC);
	put32(out + 4, e->type);
	put32(out + 8, e->mode);
	put32(out + 12, e->uid);
	put32(out + 16, e->gid);
	put32(out + 20, (uint32_t)nl);
	put32(out + 24, (uint32_t)ll);
	put32(out + 28, (uint32_t)e->atime.tv_nsec);
	put32(out + 32, (uint32_t)e->mtime.tv_nsec);
	put64(out + 40, e->size);
	put64(out + 48, (uint64_t)e->atime.tv_sec);
	put64(out + 56, (uint64_t)e->mtime.tv_sec);
	memcpy(out + CP_REC_HDR_LEN, e->name, nl);
	memcpy(out + CP_REC_HDR_LEN + nl, e->link, ll);
	return (int)(CP_REC_HDR_LEN + nl + ll);
}

int engine_cp_record_header_decode(const unsigned char *h, struct cp_ent *e, uint32_t *nlen,
				   uint32_t *llen, struct err **err)
{
	uint32_t type = get32(h + 4), an = get32(h + 28), mn = get32(h + 32);
	bool has_link;

	*nlen = get32(h + 20);
	*llen = get32(h + 24);
	if (get32(h) != CP_REC_MAGIC || type >= CP_ENT_TYPE_MAX)
		return err_set(err, EPROTO, "bad entry record");
	e->type = type;
	has_link = type == CP_ENT_LNK || type == CP_ENT_HARDLINK;
	/* Only the end record has no name; only links have a target. */
	if ((type == CP_ENT_END) != (*nlen == 0) || *nlen > CP_PATH_MAX || *llen > CP_PATH_MAX ||
	    has_link != (*llen > 0) || get32(h + 8) > 07777 || an >= 1000000000u ||
	    mn >= 1000000000u || get32(h + 36) != 0 || (type != CP_ENT_REG && get64(h + 40) != 0) ||
	    get64(h + 40) > (uint64_t)INT64_MAX)
		return err_set(err, EPROTO, "bad entry record");
	e->mode = get32(h + 8);
	e->uid = get32(h + 12);
	e->gid = get32(h + 16);
	e->size = get64(h + 40);
	e->atime = (struct timespec){(time_t)get64(h + 48), (long)an};
	e->mtime = (struct timespec){(time_t)get64(h + 56), (long)mn};
	return 0;
}

int engine_cp_record_decode(const unsigned char *buf, size_t len, struct cp_ent *e, size_t *used,
			    struct err **err)
{
	uint32_t nl, ll;
	int r;

	if (len < CP_REC_HDR_LEN)
		return err_set(err, EPIPE, "the copy ended early");
	if ((r = engine_cp_record_header_decode(buf, e, &nl, &ll, err)) < 0)
		return r;
	/* Both at most CP_PATH_MAX: the sum cannot wrap, the copies fit. */
	if (len - CP_REC_HDR_LEN < (size_t)nl + ll)
		return err_set(err, EPIPE, "the copy ended early");
	memcpy(e->name, buf + CP_REC_HDR_LEN, nl);
	e->name[nl] = 0;
	memcpy(e->link, buf + CP_REC_HDR_LEN + nl, ll);
	e->link[ll] = 0;
	if (strlen(e->name) != nl || strlen(e->link) != ll)
		return err_set(err, EPROTO, "bad entry record");
	*used = CP_REC_HDR_LEN + (size_t)nl + ll;
	return 0;
}

/* ---- records: the writer and the reader ---- */

/* Reads N bytes unless EOF comes first; the count read, or -errno. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int recw_begin(struct cp_sink *s, const struct cp_ent *e, struct err **err)
{
	struct cp_rec_writer *w = (struct cp_rec_writer *)s;
	unsigned char head[CP_REC_HEAD_MAX];
	int n, r;

	if ((n = engine_cp_record_encode(e, head, sizeof(head), err)) < 0)
		return n;
	if ((r = fs_write_all(w->fd, head, (size_t)n)) < 0)
		return err_errno(err, -r, "send \"%s\"", e->name);
	return 0;
}

static int recw_data(struct cp_sink *s, const void *buf, size_t n, struct err **err)
{
	int r = fs_write_all(((struct cp_rec_writer *)s)->fd, buf, n);

	return r < 0 ? err_errno(err, -r, "send data") : 0;
}

static int recw_end(struct cp_sink *s, struct err **err)
{
	return 0;
}

void engine_cp_writer_init(struct cp_rec_writer *w, int fd)
{
	w->s = (struct cp_sink){recw_begin, recw_data, recw_end};
	w->fd = fd;
}

int engine_cp_writer_finish(struct cp_rec_writer *w, struct err **err)
{
	struct cp_ent end = {.type = CP_ENT_END};
	unsigned char h[CP_REC_HDR_LEN];
	int n, r;

	if ((n = engine_cp_record_encode(&end, h, sizeof(h), err)) < 0)
		return n;
	r = fs_write_all(w->fd, h, (size_t)n);
	return r < 0 ? err_errno(err, -r, "send the end of the copy") : 0;
}

int engine_cp_record_pump(int fd, struct cp_sink *s, struct cp_ent *e, struct err **err)
{
	unsigned char head[CP_REC_HEAD_MAX];
	_cleanup_free_ char *buf = malloc(CP_BUF);
	uint32_t nl, ll;
	size_t used;
	ssize_t n;

	if (!buf)
		return err_errno(err, ENOMEM, "copy buffer");
	for (;;) {
		if ((n = read_full(fd, head, CP_REC_HDR_LEN)) < 0)
			return err_errno(err, (int)-n, "receive");
		if (n != CP_REC_HDR_LEN)
			return err_set(err, EPIPE, "the copy ended early");
		/* The header first: it says how much more to read (at most
		 * 2 * CP_PATH_MAX, checked before the read). */
		if (engine_cp_record_header_decode(head, e, &nl, &ll, err) < 0)
			return err_ret(*err);
		if (e->type == CP_ENT_END)
			return 0;
		if (read_full(fd, head + CP_REC_HDR_LEN, (size_t)nl + ll) != (ssize_t)nl + ll)
			return err_set(err, EPIPE, "the copy ended early");
		/* Then the whole head, by the decoder the fuzzer runs. */
		if (engine_cp_record_decode(head, CP_REC_HDR_LEN + (size_t)nl + ll, e, &used, err) <
		    0)
			return err_ret(*err);
		if (s->begin(s, e, err) < 0)
			return err_ret(*err);
		for (uint64_t left = e->size; left;) {
			size_t chunk = left < CP_BUF ? (size_t)left : CP_BUF;
			if (read_full(fd, buf, chunk) != (ssize_t)chunk)
				return err_set(err, EPIPE, "the copy ended early in \"%s\"",
					       e->name);
			if (s->data(s, buf, chunk, err) < 0)
				return err_ret(*err);
			left -= chunk;
		}
		if (s->end(s, err) < 0)
			return err_ret(*err);
	}
}

/* ---- control messages ---- */

int engine_cp_msg_send(int fd, int code, uint32_t flags, const char *text)
{
	struct cp_msg m = {.code = code, .flags = flags};

	snprintf(m.text, sizeof(m.text), "%s", text ? text : "");
	return send(fd, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : -errno;
}

int engine_cp_msg_recv(int fd, struct cp_msg *m)
{
	ssize_t n;

	do
		n = recv(fd, m, sizeof(*m), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (n != (ssize_t)sizeof(*m))
		return -EPROTO;
	m->text[sizeof(m->text) - 1] = 0;
	return 1;
}
