/*
 * engine/cp_tar.c - tar streams for `moat cp` with "-": the container's
 * tree written to stdout as a tar, or a tar from stdin written into the
 * container.
 *
 * Runs in: the moat process on the host, as the invoker; never in the
 * helper. libarchive (image/archive.h) is loaded by engine_cp before the
 * helper is forked, from the host's filesystem: the helper, once inside
 * the container, never loads a library (CVE-2019-14271: docker cp loaded
 * libnss from the container's root and ran the container's code on the
 * host).
 *
 * Threats, and what here answers them:
 *  - A tar on stdin is untrusted: libarchive parses it on the host with
 *    the invoker's rights and nothing more. Only regular files,
 *    directories, symlinks, FIFOs and hard links pass; devices and
 *    sockets are counted and skipped. Names and link targets are bounded
 *    (CP_PATH_MAX), owners must fit 32 bits, sizes must not be negative;
 *    then the entry becomes a record like any other, and the helper's
 *    extractor refuses ".." and never writes through a symlink
 *    (tests/escape/cp.bats: "a crafted tar cannot climb out").
 *  - The tar written to stdout carries names the walk made (the top
 *    name the host chose, then what readdir returned: no "/" and no
 *    ".." in a component), and symlink targets as the container has
 *    them, absolute or with "..", as docker cp writes them. Whoever
 *    extracts that tar must treat it as the container's, which it is.
 *  - Each entry's data is exactly the size its header announced: a short
 *    tar is an error, never a shorter file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "engine/cp_internal.h"
#include "image/archive.h"

/* ---- writing: container -> stdout ---- */

static la_ssize_t tar_write_cb(struct archive *a, void *cd, const void *buf, size_t n)
{
	int r = fs_write_all(*(int *)cd, buf, n);

	if (r < 0) {
		archive_set_error(a, -r, "write: %s", strerror(-r));
		return -1;
	}
	return (la_ssize_t)n;
}

static int tw_begin(struct cp_sink *s, const struct cp_ent *e, struct err **err)
{
	struct cp_tar_writer *t = (struct cp_tar_writer *)s;
	/* E->type is below CP_ENT_TYPE_MAX and not CP_ENT_END: the record
	 * decoder saw to it. */
	static const unsigned types[] = {[CP_ENT_REG] = AE_IFREG,
					 [CP_ENT_DIR] = AE_IFDIR,
					 [CP_ENT_LNK] = AE_IFLNK,
					 [CP_ENT_FIFO] = AE_IFIFO,
					 [CP_ENT_HARDLINK] = AE_IFREG};

	if (!(t->ae = archive_entry_new()))
		return err_errno(err, ENOMEM, "tar entry");
	archive_entry_set_pathname(t->ae, e->name);
	archive_entry_set_filetype(t->ae, types[e->type]);
	archive_entry_set_perm(t->ae, e->mode);
	archive_entry_set_uid(t->ae, e->uid);
	archive_entry_set_gid(t->ae, e->gid);
	archive_entry_set_mtime(t->ae, e->mtime.tv_sec, e->mtime.tv_nsec);
	archive_entry_set_size(t->ae, (la_int64_t)e->size);
	if (e->type == CP_ENT_LNK)
		archive_entry_set_symlink(t->ae, e->link);
	if (e->type == CP_ENT_HARDLINK)
		archive_entry_set_hardlink(t->ae, e->link);
	if (archive_write_header(t->a, t->ae) < ARCHIVE_WARN)
		return err_set(err, EIO, "tar: %s", archive_error_string(t->a));
	return 0;
}

static int tw_data(struct cp_sink *s, const void *buf, size_t n, struct err **err)
{
	struct cp_tar_writer *t = (struct cp_tar_writer *)s;

	if (archive_write_data(t->a, buf, n) < 0)
		return err_set(err, EIO, "tar: %s", archive_error_string(t->a));
	return 0;
}

static int tw_end(struct cp_sink *s, struct err **err)
{
	struct cp_tar_writer *t = (struct cp_tar_writer *)s;

	archive_entry_free(t->ae);
	t->ae = NULL;
	return 0;
}

int engine_cp_tar_open(struct cp_tar_writer *t, int fd, struct err **err)
{
	memset(t, 0, sizeof(*t));
	t->s = (struct cp_sink){tw_begin, tw_data, tw_end};
	t->fd = fd;
	if (!(t->a = archive_write_new()))
		return err_errno(err, ENOMEM, "tar");
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open(t->a, &t->fd, NULL, tar_write_cb, NULL) != ARCHIVE_OK)
		return err_set(err, EIO, "tar: %s", archive_error_string(t->a));
	return 0;
}

int engine_cp_tar_close(struct cp_tar_writer *t, bool ok, struct err **err)
{
	int r = 0;

	if (t->ae)
		archive_entry_free(t->ae);
	if (t->a && ok && archive_write_close(t->a) != ARCHIVE_OK)
		r = err_set(err, EIO, "tar: %s", archive_error_string(t->a));
	if (t->a)
		archive_write_free(t->a);
	t->a = NULL;
	return r;
}

/* ---- reading: stdin -> container ---- */

/* The tar is parsed here, as the invoker, outside the container; what
 * passes is only what a record can say, and the helper checks the
 * records again (engine/cp_stream.c) before its extractor cleans each
 * name (engine/cp_tree.c). */
int engine_cp_tar_pump(int fd, struct cp_sink *s, struct cp_ent *e, unsigned long *skipped,
		       struct err **err)
{
	struct archive *a = archive_read_new();
	_cleanup_free_ char *buf = malloc(CP_BUF);
	struct archive_entry *ae;
	int r = 0;

	if (!a || !buf) {
		if (a)
			archive_read_free(a);
		return err_errno(err, ENOMEM, "tar");
	}
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		r = err_set(err, EIO, "read the tar stream: %s", archive_error_string(a));
		goto out;
	}
	for (;;) {
		const char *name, *link = NULL;
		int64_t uid, gid, size = 0;
		int h = archive_read_next_header(a, &ae);

		if (h == ARCHIVE_EOF)
			break;
		if (h < ARCHIVE_WARN) {
			r = err_set(err, EIO, "read the tar stream: %s", archive_error_string(a));
			goto out;
		}
		name = archive_entry_pathname(ae);
		if (!name || strlen(name) > CP_PATH_MAX) {
			r = err_set(err, EINVAL, "tar stream: an entry without a usable name");
			goto out;
		}
		if ((link = archive_entry_hardlink(ae))) {
			e->type = CP_ENT_HARDLINK;
		} else {
			switch (archive_entry_filetype(ae)) {
			case AE_IFREG:
				e->type = CP_ENT_REG;
				size = archive_entry_size(ae);
				break;
			case AE_IFDIR:
				e->type = CP_ENT_DIR;
				break;
			case AE_IFLNK:
				e->type = CP_ENT_LNK;
				link = archive_entry_symlink(ae);
				break;
			case AE_IFIFO:
				e->type = CP_ENT_FIFO;
				break;
			default:
				(*skipped)++;
				continue;
			}
		}
		uid = archive_entry_uid(ae);
		gid = archive_entry_gid(ae);
		if ((link && (!link[0] || strlen(link) > CP_PATH_MAX)) ||
		    ((e->type == CP_ENT_LNK) && !link) || size < 0 || uid < 0 || uid > UINT32_MAX ||
		    gid < 0 || gid > UINT32_MAX) {
			r = err_set(err, EINVAL, "tar stream: bad entry \"%.200s\"", name);
			goto out;
		}
		snprintf(e->name, sizeof(e->name), "%s", name);
		snprintf(e->link, sizeof(e->link), "%s", link ? link : "");
		e->mode = archive_entry_perm(ae) & 07777;
		e->uid = (uint32_t)uid;
		e->gid = (uint32_t)gid;
		e->size = (uint64_t)size;
		clock_gettime(CLOCK_REALTIME, &e->mtime);
		if (archive_entry_mtime_is_set(ae))
			e->mtime = (struct timespec){archive_entry_mtime(ae),
						     archive_entry_mtime_nsec(ae)};
		e->atime = e->mtime;
		if (archive_entry_atime_is_set(ae))
			e->atime = (struct timespec){archive_entry_atime(ae),
						     archive_entry_atime_nsec(ae)};
		if (s->begin(s, e, err) < 0) {
			r = err_ret(*err);
			goto out;
		}
		for (uint64_t left = e->size; left;) {
			size_t chunk = left < CP_BUF ? (size_t)left : CP_BUF;
			la_ssize_t n = archive_read_data(a, buf, chunk);
			if (n <= 0) {
				r = err_set(err, EIO,
					    "read the tar stream: \"%s\" is truncated%s%s", e->name,
					    n < 0 ? ": " : "",
					    n < 0 ? archive_error_string(a) : "");
				goto out;
			}
			if (s->data(s, buf, (size_t)n, err) < 0) {
				r = err_ret(*err);
				goto out;
			}
			left -= (uint64_t)n;
		}
		if (s->end(s, err) < 0) {
			r = err_ret(*err);
			goto out;
		}
	}
out:
	archive_read_free(a);
	return r;
}
