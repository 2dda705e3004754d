/*
 * fuzz/cp_record_fuzz.c - the entry-record decoder of `moat cp`
 * (engine_cp_record_decode, engine/cp_stream.c): what each process of a
 * copy reads from the other, the helper's records being as untrusted as
 * the container it walked.
 *
 * The input is read as a stream, as engine_cp_record_pump reads the pipe:
 * record heads, each followed by its data, until the end record. For
 * every record that decodes:
 *  - it is within the decoder's caps (type, mode, nanoseconds, size,
 *    name and link lengths, no NUL inside);
 *  - it encodes again to exactly the bytes it was decoded from, and
 *    those decode to the same record (the encoding is canonical);
 *  - its name and link, cleaned as the extractor cleans them
 *    (engine_cp_name_clean), are refused or come out relative, with no
 *    empty, "." or ".." component.
 * A record that does not decode must fail with EPROTO or EPIPE.
 *
 * The seeds in fuzz/corpus/cp_record/ are written by the encoder itself;
 * after a change to the record format, make them again with
 *   cc -std=gnu17 -D_GNU_SOURCE -I. -DCP_RECORD_SEEDS fuzz/cp_record_fuzz.c \
 *      engine/cp_stream.c engine/cp_path.c common/err.c common/fs.c -o /tmp/seeds
 *   /tmp/seeds fuzz/corpus/cp_record
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cp_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_caps(const struct cp_ent *e, size_t used)
{
	size_t nl = strnlen(e->name, sizeof(e->name)), ll = strnlen(e->link, sizeof(e->link));
	bool has_link = e->type == CP_ENT_LNK || e->type == CP_ENT_HARDLINK;

	if (e->type >= CP_ENT_TYPE_MAX || e->mode > 07777 || e->atime.tv_nsec < 0 ||
	    e->atime.tv_nsec >= 1000000000 || e->mtime.tv_nsec < 0 ||
	    e->mtime.tv_nsec >= 1000000000 || e->size > (uint64_t)INT64_MAX ||
	    (e->type != CP_ENT_REG && e->size != 0))
		abort();
	if (nl > CP_PATH_MAX || ll > CP_PATH_MAX || used != CP_REC_HDR_LEN + nl + ll)
		abort();
	if ((e->type == CP_ENT_END) != (nl == 0) || has_link != (ll > 0))
		abort();
}

/* Cleaned, a name is refused or safe to resolve beneath a directory. */
static void check_clean(const char *name)
{
	char out[CP_PATH_MAX + 1];
	struct err *e = NULL;
	const char *p = out;

	if (engine_cp_name_clean(name, out, sizeof(out), &e) < 0) {
		if (!e || (e->code != EINVAL && e->code != ENAMETOOLONG))
			abort();
		err_free(&e);
		return;
	}
	if (!out[0])
		return; /* the destination itself */
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			abort();
		if (!p[n])
			break;
		p += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cp_ent e, again;
	static unsigned char out[CP_REC_HEAD_MAX];
	size_t off = 0;

	for (;;) {
		struct err *err = NULL;
		size_t used = 0, used2 = 0;
		int n;

		if (engine_cp_record_decode(data + off, size - off, &e, &used, &err) < 0) {
			if (!err || (err->code != EPROTO && err->code != EPIPE))
				abort();
			err_free(&err);
			return 0;
		}
		if (used > size - off)
			abort();
		check_caps(&e, used);
		n = engine_cp_record_encode(&e, out, sizeof(out), &err);
		if (n < 0 || (size_t)n != used || memcmp(out, data + off, used))
			abort();
		if (engine_cp_record_decode(out, (size_t)n, &again, &used2, &err) < 0 ||
		    used2 != used || again.type != e.type || again.size != e.size ||
		    strcmp(again.name, e.name) || strcmp(again.link, e.link))
			abort();
		check_clean(e.name);
		if (e.type == CP_ENT_HARDLINK)
			check_clean(e.link);
		if (e.type == CP_ENT_END)
			return 0;
		off += used;
		/* The data, as the pump would read it. */
		if (e.size > size - off)
			return 0;
		off += (size_t)e.size;
	}
}

#ifdef CP_RECORD_SEEDS
/* The seed corpus, by the real encoder: good records, records the
 * extractor refuses, truncated ones and bad fields. */
static unsigned char sbuf[1 << 16];
static size_t slen;

static struct cp_ent *seed_ent(enum cp_ent_type t, const char *name, const char *link,
			       uint64_t size)
{
	static struct cp_ent e;

	memset(&e, 0, sizeof(e));
	e.type = t;
	e.mode = t == CP_ENT_DIR ? 0755 : t == CP_ENT_LNK ? 0777 : 0644;
	e.uid = 1000;
	e.gid = 1000;
	e.atime = (struct timespec){981173106, 123456789};
	e.mtime = (struct timespec){981173106, 0};
	e.size = size;
	snprintf(e.name, sizeof(e.name), "%s", name);
	snprintf(e.link, sizeof(e.link), "%s", link);
	return &e;
}

static void add(struct cp_ent *e)
{
	int n = engine_cp_record_encode(e, sbuf + slen, sizeof(sbuf) - slen, NULL);

	if (n < 0)
		abort();
	slen += (size_t)n;
}

static void add_data(const char *d)
{
	memcpy(sbuf + slen, d, strlen(d));
	slen += strlen(d);
}

static void add_end(void)
{
	add(seed_ent(CP_ENT_END, "", "", 0));
}

static const char *seed_dir;

static void put(const char *name, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(sbuf, 1, n, f) != n || fclose(f))
		abort();
	slen = 0;
}

int main(int argc, char **argv);

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	seed_dir = argv[1];

	add(seed_ent(CP_ENT_REG, "f", "", 6));
	add_data("hello\n");
	add_end();
	put("file.rec", slen);
	add(seed_ent(CP_ENT_DIR, "d", "", 0));
	add(seed_ent(CP_ENT_REG, "d/a", "", 7));
	add_data("file a\n");
	add(seed_ent(CP_ENT_DIR, "d/sub", "", 0));
	add(seed_ent(CP_ENT_REG, "d/sub/b", "", 7));
	add_data("deep b\n");
	add(seed_ent(CP_ENT_LNK, "d/link", "a", 0));
	add(seed_ent(CP_ENT_HARDLINK, "d/hard", "d/a", 0));
	add(seed_ent(CP_ENT_FIFO, "d/pipe", "", 0));
	add_end();
	put("tree.rec", slen);
	add(seed_ent(CP_ENT_DIR, ".", "", 0));
	add(seed_ent(CP_ENT_REG, "x", "", 0));
	add_end();
	put("contents.rec", slen);
	add_end();
	put("end.rec", slen);
	add(seed_ent(CP_ENT_LNK, "l", "/etc/../../passwd", 0));
	add_end();
	put("symlink-out.rec", slen);
	/* valid records whose names the extractor refuses or rewrites */
	add(seed_ent(CP_ENT_REG, "../escape", "", 1));
	add_data("x");
	add_end();
	put("dotdot-name.rec", slen);
	add(seed_ent(CP_ENT_HARDLINK, "h", "../../etc/shadow", 0));
	add_end();
	put("dotdot-hardlink.rec", slen);
	add(seed_ent(CP_ENT_REG, "/etc/passwd", "", 0));
	add_end();
	put("absolute-name.rec", slen);
	/* truncated */
	add(seed_ent(CP_ENT_REG, "f", "", 6));
	add_data("hello\n");
	add_end();
	put("truncated-header.rec", 40);
	add(seed_ent(CP_ENT_LNK, "name", "target", 0));
	put("truncated-link.rec", 64 + 4 + 3);
	add(seed_ent(CP_ENT_REG, "f", "", 6));
	add_data("hel");
	put("truncated-data.rec", slen);
	/* bad fields */
	add(seed_ent(CP_ENT_REG, "f", "", 0));
	sbuf[0] ^= 0xff;
	put("bad-magic.rec", slen);
	add(seed_ent(CP_ENT_REG, "f", "", 0));
	sbuf[36] = 1;
	put("bad-reserved.rec", slen);
	add(seed_ent(CP_ENT_REG, "f", "", 0));
	sbuf[4] = CP_ENT_TYPE_MAX;
	put("bad-type.rec", slen);
	add(seed_ent(CP_ENT_REG, "nul", "", 0));
	sbuf[65] = 0;
	put("bad-nul-name.rec", slen);
	add(seed_ent(CP_ENT_DIR, "d", "", 0));
	sbuf[40] = 1;
	put("bad-dir-size.rec", slen);
	add(seed_ent(CP_ENT_REG, "f", "", 0));
	memset(sbuf + 20, 0xff, 4);
	put("bad-name-length.rec", slen);
	add(seed_ent(CP_ENT_REG, "f", "", 0));
	memset(sbuf + 28, 0xff, 4);
	put("bad-nsec.rec", slen);
	return 0;
}
#endif
