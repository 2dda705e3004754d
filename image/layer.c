/*
 * image/layer.c - extraction of one image layer into its own directory,
 * which later becomes one overlayfs lower dir.
 *
 * Runs in: a confined child forked by image_layer_extract
 * (image/layer_confine.c: its own network namespace, Landlock rules that
 * allow writes beneath the layer directory only, a few capabilities, a
 * seccomp allow-list), for IMAGE_IDS_USERNS and rootless SQUASH inside a
 * new user namespace where it is root over the mapped ids only. As root
 * (IMAGE_IDS_SHIFT) it keeps CAP_CHOWN/FOWNER/DAC_OVERRIDE/FSETID/SETFCAP
 * over the host's files, which is why the rules below are written for a
 * hostile tar and do not lean on the confinement. The parent trusts only
 * the child's fixed-size result (and re-checks the DiffID in it).
 *
 * Threats and what handles them:
 *  - names: "", ".", "/", absolute paths, ".." or "." components anywhere
 *    are refused and the whole layer fails (CVE-2021-29136: "." as a
 *    symlink once replaced the rootfs). A directory entry "./" is the only
 *    exception: it is ignored (the layer root's attributes are moat's).
 *  - symlinks created by the layer: the parent of every entry is reached
 *    by a component walk with O_NOFOLLOW from the layer root, so a path
 *    that crosses a symlink fails with ENOTDIR instead of leaving the tree
 *    ("a -> /etc" then "a/passwd" fails). The final component is created
 *    with *at() calls that do not follow symlinks: O_EXCL|O_NOFOLLOW
 *    opens, fchownat/utimensat with AT_SYMLINK_NOFOLLOW, and chmod only
 *    through an fd of a file we just created (CVE-2021-32760: "a -> host
 *    file" then "a" mode 4777 replaces the link, never chmods the target).
 *  - deferred directory fix-ups (mode, mtime) re-walk the path without
 *    following symlinks and check the inode recorded at creation, so "d/"
 *    then "d -> /host/x" leaves /host/x alone (CVE-2021-31566).
 *  - hardlinks: the target is validated like a name and reached by the
 *    same no-symlink walk; it must exist in this layer and not be a
 *    directory.
 *  - device nodes are never created (skipped and counted): a layer must
 *    not hand the container a host device. Sockets are skipped as well.
 *  - setuid/setgid bits on non-directories are kept only in SHIFT mode
 *    (root): there they belong to host ids base+N, which are nobody on the
 *    host; rootless, the files belong to the caller or its subuids and the
 *    bits are dropped.
 *  - xattrs: only user.* is kept, minus user.overlay.* (a layer must not
 *    forge overlay whiteouts, opaque, redirect or metacopy markers for the
 *    sandbox's "userxattr" mount). security.capability is kept only in
 *    SHIFT mode and rewritten as a v3 capability whose rootid is the
 *    host id of container root, so it has no effect outside the container.
 *    trusted.*, security.* and system.* (ACLs) are dropped.
 *  - size: at most lim->max_entries entries, lim->max_bytes uncompressed
 *    tar bytes and as many bytes of file content (sparse files count at
 *    their logical size), names at most 4096 bytes; past that the layer
 *    fails.
 *  - the DiffID (sha256 of the uncompressed stream, trailing bytes after
 *    the end-of-archive marker included) is computed from the exact bytes
 *    the tar reader consumed and compared with the expected one.
 *
 * Whiteouts (chosen by testing on Linux 6.18, rootless and as root):
 *  - ".wh.NAME" becomes a character device 0/0 named NAME: since Linux 5.8
 *    mknod of the whiteout device needs no capability, so this works for an
 *    unprivileged user with no user namespace (SQUASH), inside one (USERNS)
 *    and as root (SHIFT);
 *  - "DIR/.wh..wh..opq" sets user.overlay.opaque="y" on DIR: trusted.*
 *    would need CAP_SYS_ADMIN in the initial namespace, which rootless
 *    moat lacks. One representation for every id mode, therefore the
 *    sandbox mounts overlay with the "userxattr" option in every mode;
 *  - other ".wh..wh.*" names are aufs bookkeeping and are skipped;
 *  - the directory holding a whiteout or opaque marker must exist in the
 *    same layer (Docker, BuildKit and overlay diffs always include it):
 *    "wh -> /host" in one layer then "wh/.wh.x" in the next is refused
 *    instead of creating a "wh" directory that hides the symlink.
 */
#include "image/image.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "image/archive.h"
#include "image/layer_confine.h"

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/userns.h"

#define PATH_CAP 4096
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "user.overlay.opaque"

static void archive_freep(struct archive **a)
{
	if (*a)
		archive_read_free(*a);
}
#define _cleanup_archive_ __attribute__((cleanup(archive_freep)))

/* The decompressed stream: hashed and counted as the tar reader pulls it. */
struct stream {
	struct archive *raw;
	struct digest_ctx *md;
	uint64_t bytes, max;
	bool over;
	char buf[65536];
};

static ssize_t stream_read(struct archive *a, void *data, const void **out)
{
	struct stream *s = data;
	la_ssize_t n = archive_read_data(s->raw, s->buf, sizeof(s->buf));

	if (n < 0) {
		archive_set_error(a, archive_errno(s->raw) ? archive_errno(s->raw) : EIO, "%s",
				  archive_error_string(s->raw) ? archive_error_string(s->raw)
							       : "decompression failed");
		return -1;
	}
	s->bytes += (uint64_t)n;
	if (s->bytes > s->max) {
		s->over = true;
		archive_set_error(a, EFBIG, "layer too large uncompressed");
		return -1;
	}
	digest_ctx_update(s->md, s->buf, (size_t)n);
	*out = s->buf;
	return n;
}

static int stream_open(struct stream *s, int blobfd, uint64_t max, struct err **err)
{
	struct archive_entry *e;
	int r;

	s->max = max;
	s->md = digest_ctx_new();
	s->raw = archive_read_new();
	if (!s->md || !s->raw)
		return err_errno(err, ENOMEM, "layer");
	/* Only in-process decoders: a filter that needs an external program
	 * (ARCHIVE_WARN) would run one on untrusted input. */
	if (archive_read_support_filter_gzip(s->raw) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(s->raw) != ARCHIVE_OK ||
	    archive_read_support_format_raw(s->raw) != ARCHIVE_OK)
		return err_set(err, ENOTSUP, "layer: libarchive lacks built-in gzip/zstd");
	if (lseek(blobfd, 0, SEEK_SET) < 0)
		return err_errno(err, errno, "layer: seek");
	if (archive_read_open_fd(s->raw, blobfd, 65536) != ARCHIVE_OK)
		return err_set(err, EINVAL, "layer: %s", archive_error_string(s->raw));
	r = archive_read_next_header(s->raw, &e);
	if (r == ARCHIVE_EOF)
		return err_set(err, EINVAL, "layer: empty blob");
	if (r < ARCHIVE_WARN)
		return err_set(err, EINVAL, "layer: %s", archive_error_string(s->raw));
	return 0;
}

/* Hashes what the tar reader left unread and writes the DiffID. */
static int stream_finish(struct stream *s, char out[7 + 64 + 1], struct err **err)
{
	char hex[SHA256_HEX_LEN + 1];

	for (;;) {
		la_ssize_t n = archive_read_data(s->raw, s->buf, sizeof(s->buf));
		if (n < 0)
			return err_set(err, EINVAL, "layer: %s", archive_error_string(s->raw));
		if (n == 0)
			break;
		s->bytes += (uint64_t)n;
		if (s->bytes > s->max)
			return err_set(err, EFBIG, "layer larger than %llu bytes uncompressed",
				       (unsigned long long)s->max);
		digest_ctx_update(s->md, s->buf, (size_t)n);
	}
	digest_ctx_final(s->md, hex);
	s->md = NULL;
	snprintf(out, 7 + 64 + 1, "sha256:%s", hex);
	return 0;
}

static void stream_close(struct stream *s)
{
	if (s->raw)
		archive_read_free(s->raw);
	if (s->md) {
		char hex[SHA256_HEX_LEN + 1];
		digest_ctx_final(s->md, hex);
	}
	s->raw = NULL;
	s->md = NULL;
}

int image_layer_digest(int blobfd, const struct image_layer_limits *lim, char diff_id[7 + 64 + 1],
		       uint64_t *size, struct err **err)
{
	_cleanup_free_ struct stream *s = calloc(1, sizeof(*s));
	uint64_t max = lim && lim->max_bytes ? lim->max_bytes : IMAGE_LAYER_MAX_BYTES;
	int r;

	if (!s)
		return err_errno(err, ENOMEM, "layer");
	r = stream_open(s, blobfd, max, err);
	if (r == 0)
		r = stream_finish(s, diff_id, err);
	if (r == 0 && size)
		*size = s->bytes;
	stream_close(s);
	return r;
}

/* A directory whose mode and times are set once everything below exists. */
struct dirfix {
	char *path;
	dev_t dev;
	ino_t ino;
	mode_t mode;
	struct timespec ts[2];
	size_t depth, idx;
};

struct x {
	int root;
	const struct image_idmode *mode;
	struct image_layer_stats *st;
	uint64_t max_entries, max_bytes, content;
	struct dirfix *fix;
	size_t n_fix, cap_fix;
	/* The last parent reached, reused while entries stay in one dir. */
	char *cache_dir;
	int cache_fd;
};

static void cache_drop(struct x *x)
{
	free(x->cache_dir);
	x->cache_dir = NULL;
	if (x->cache_fd >= 0)
		close(x->cache_fd);
	x->cache_fd = -1;
}

/*
 * Canonicalises an entry name into OUT: one leading "./" and trailing
 * slashes are dropped, repeated slashes collapse. Refuses empty names,
 * absolute ones, and "." or ".." components. An empty OUT means the root.
 */
static int clean_name(const char *in, char *out, const char *what, struct err **err)
{
	const char *p = in;
	size_t o = 0;

	if (!in || !*in)
		return err_set(err, EINVAL, "%s: empty name", what);
	if (strlen(in) > PATH_CAP)
		return err_set(err, ENAMETOOLONG, "%s: name longer than %d bytes", what, PATH_CAP);
	if (*p == '/')
		return err_set(err, EINVAL, "%s \"%.200s\": absolute name", what, in);
	if (p[0] == '.' && (p[1] == '/' || !p[1])) {
		p++;
		while (*p == '/')
			p++;
		if (*p == '/')
			return err_set(err, EINVAL, "%s \"%.200s\": absolute name", what, in);
	}
	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return err_set(err, EINVAL, "%s \"%.200s\": \".\" or \"..\" component",
				       what, in);
		if (n > 255)
			return err_set(err, ENAMETOOLONG, "%s \"%.200s\": component too long", what,
				       in);
		if (o)
			out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = 0;
	return 0;
}

/* Maps container id ID to the host id the file gets (SHIFT only). */
static int map_id(const struct idmap *m, size_t n, int64_t id, uint32_t *out)
{
	if (n == 0) {
		if (id < 0 || id >= MOAT_ID_RANGE)
			return -ERANGE;
		*out = MOAT_ROOT_ID_BASE + (uint32_t)id;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (id >= m[i].container && id < (int64_t)m[i].container + m[i].size) {
			*out = m[i].host + (uint32_t)(id - m[i].container);
			return 0;
		}
	}
	return -ERANGE;
}

/* The owner the entry gets on disk; -1/-1 means "leave it". */
static int owner(struct x *x, int64_t uid, int64_t gid, uid_t *ou, gid_t *og, const char *name,
		 struct err **err)
{
	uint32_t hu, hg;

	*ou = (uid_t)-1;
	*og = (gid_t)-1;
	if (uid < 0 || gid < 0 || uid >= MOAT_ID_RANGE || gid >= MOAT_ID_RANGE)
		return err_set(err, ERANGE, "\"%.200s\": owner %lld:%lld is outside 0..65535", name,
			       (long long)uid, (long long)gid);
	switch (x->mode->kind) {
	case IMAGE_IDS_SQUASH:
		if (uid || gid)
			x->st->squashed++;
		return 0;
	case IMAGE_IDS_SHIFT:
		if (map_id(x->mode->uid, x->mode->n_uid, uid, &hu) < 0 ||
		    map_id(x->mode->gid, x->mode->n_gid, gid, &hg) < 0)
			return err_set(err, ERANGE, "\"%.200s\": owner %lld:%lld is not mapped",
				       name, (long long)uid, (long long)gid);
		*ou = hu;
		*og = hg;
		return 0;
	case IMAGE_IDS_USERNS:
		*ou = (uid_t)uid;
		*og = (gid_t)gid;
		return 0;
	default:
		return err_set(err, EINVAL, "unknown id mode");
	}
}

/*
 * Opens DIR (a clean relative name, "" for the root) beneath the layer
 * root as an O_PATH fd, one component at a time with O_NOFOLLOW: a symlink
 * anywhere on the way is ENOTDIR. With CREATE, missing directories are
 * made 0755 and owned by container root.
 */
static int open_dir(struct x *x, const char *dir, bool create, struct err **err)
{
	_cleanup_free_ char *copy = NULL;
	_cleanup_close_ int cur = -1;
	char *save = NULL, *c;

	if (x->cache_dir && !strcmp(x->cache_dir, dir)) {
		int fd = fcntl(x->cache_fd, F_DUPFD_CLOEXEC, 3);
		return fd >= 0 ? fd : err_errno(err, errno, "dup");
	}
	copy = strdup(dir);
	if (!copy)
		return err_errno(err, ENOMEM, "layer");
	cur = fcntl(x->root, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return err_errno(err, errno, "dup");
	for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int fd = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT && create) {
			uid_t u;
			gid_t g;

			if (mkdirat(cur, c, 0755) < 0)
				return err_errno(err, errno, "mkdir \"%.200s\"", dir);
			if (owner(x, 0, 0, &u, &g, dir, err) < 0)
				return err_ret(*err);
			if (u != (uid_t)-1 && fchownat(cur, c, u, g, AT_SYMLINK_NOFOLLOW) < 0)
				return err_errno(err, errno, "chown \"%.200s\"", dir);
			fd = openat(cur, c, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
			return err_set(err, ENOTDIR,
				       "\"%.200s\": \"%.200s\" is not a directory (symlinks in a "
				       "layer are never followed)",
				       dir, c);
		if (fd < 0)
			return err_errno(err, errno, "open \"%.200s\"", dir);
		close(cur);
		cur = fd;
	}
	cache_drop(x);
	x->cache_dir = strdup(dir);
	if (x->cache_dir)
		x->cache_fd = fcntl(cur, F_DUPFD_CLOEXEC, 3);
	return steal_fd(cur);
}

/* Removes whatever NAME is in PARENT (not following symlinks). */
static int remove_existing(struct x *x, int parent, const char *name, bool keep_dir, bool *is_dir,
			   struct err **err)
{
	struct stat st;

	*is_dir = false;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : err_errno(err, errno, "stat \"%.200s\"", name);
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir) {
			*is_dir = true;
			return 0;
		}
		/* The cached parent may lie below what goes away. */
		cache_drop(x);
		return fs_rm_rf_at(parent, name, err);
	}
	if (unlinkat(parent, name, 0) < 0)
		return err_errno(err, errno, "remove \"%.200s\"", name);
	return 0;
}

static bool want_xattr(struct x *x, const char *name)
{
	if (!strncmp(name, "user.", 5))
		return strncmp(name, "user.overlay.", 13) != 0;
	return x->mode->kind == IMAGE_IDS_SHIFT && !strcmp(name, "security.capability");
}

/* A v3 file capability whose rootid is container root's host id. */
static int caps_v3(struct x *x, const void *in, size_t len, struct vfs_ns_cap_data *out)
{
	struct vfs_ns_cap_data c = {0};
	uint32_t magic, root;

	if (len != XATTR_CAPS_SZ_2 && len != XATTR_CAPS_SZ_3)
		return -EINVAL;
	memcpy(&c, in, len);
	magic = le32toh(c.magic_etc);
	if ((len == XATTR_CAPS_SZ_2 && (magic & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_2) ||
	    (len == XATTR_CAPS_SZ_3 && (magic & VFS_CAP_REVISION_MASK) != VFS_CAP_REVISION_3))
		return -EINVAL;
	if (map_id(x->mode->uid, x->mode->n_uid, 0, &root) < 0)
		return -ERANGE;
	c.magic_etc = htole32(VFS_CAP_REVISION_3 | (magic & VFS_CAP_FLAGS_EFFECTIVE));
	c.rootid = htole32(root);
	*out = c;
	return 0;
}

static void apply_xattrs(struct x *x, struct archive_entry *e, int fd)
{
	const char *name;
	const void *val;
	size_t len;

	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &val, &len) == ARCHIVE_OK) {
		struct vfs_ns_cap_data caps;

		if (!name || !want_xattr(x, name)) {
			x->st->xattrs_skipped++;
			continue;
		}
		if (!strcmp(name, "security.capability")) {
			if (caps_v3(x, val, len, &caps) < 0) {
				x->st->xattrs_skipped++;
				continue;
			}
			val = &caps;
			len = XATTR_CAPS_SZ_3;
		}
		/* A refused xattr (filesystem without user xattrs, too big)
		 * costs the entry nothing but is counted. */
		if (fsetxattr(fd, name, val, len, 0) < 0)
			x->st->xattrs_skipped++;
	}
}

static mode_t entry_mode(struct x *x, struct archive_entry *e, bool dir)
{
	mode_t m = archive_entry_perm(e) & 07777;

	if (!dir && x->mode->kind != IMAGE_IDS_SHIFT)
		m &= ~(mode_t)(S_ISUID | S_ISGID);
	return m;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime_is_set(e) ? archive_entry_mtime(e) : 0;
	ts[1].tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0;
	ts[0] = ts[1];
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	}
	if (ts[0].tv_nsec < 0 || ts[0].tv_nsec > 999999999)
		ts[0].tv_nsec = 0;
	if (ts[1].tv_nsec < 0 || ts[1].tv_nsec > 999999999)
		ts[1].tv_nsec = 0;
}

static int write_data(struct x *x, struct archive *a, struct archive_entry *e, int fd,
		      const char *name, struct err **err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	uint64_t end = 0;

	for (;;) {
		int r = archive_read_data_block(a, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN || off < 0)
			return err_set(err, EINVAL, "\"%.200s\": %s", name,
				       archive_error_string(a));
		if ((uint64_t)off + len > end)
			end = (uint64_t)off + len;
		if (end > x->max_bytes || x->content + len > x->max_bytes)
			return err_set(err, EFBIG,
				       "\"%.200s\": layer content larger than %llu bytes", name,
				       (unsigned long long)x->max_bytes);
		x->content += len;
		for (size_t done = 0; done < len;) {
			ssize_t n =
			    pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return err_errno(err, errno, "write \"%.200s\"", name);
			done += (size_t)n;
		}
	}
	/* A sparse file may end in a hole that no block covers. */
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
	    (uint64_t)archive_entry_size(e) > end) {
		if ((uint64_t)archive_entry_size(e) > x->max_bytes)
			return err_set(err, EFBIG, "\"%.200s\": file larger than %llu bytes", name,
				       (unsigned long long)x->max_bytes);
		if (ftruncate(fd, archive_entry_size(e)) < 0)
			return err_errno(err, errno, "truncate \"%.200s\"", name);
	}
	return 0;
}

static int add_fix(struct x *x, const char *path, const struct stat *st, mode_t mode,
		   const struct timespec ts[2], struct err **err)
{
	struct dirfix *f;

	if (x->n_fix == x->cap_fix) {
		size_t n = x->cap_fix ? x->cap_fix * 2 : 64;
		struct dirfix *nf = realloc(x->fix, n * sizeof(*nf));
		if (!nf)
			return err_errno(err, ENOMEM, "layer");
		x->fix = nf;
		x->cap_fix = n;
	}
	f = &x->fix[x->n_fix];
	f->path = strdup(path);
	if (!f->path)
		return err_errno(err, ENOMEM, "layer");
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->mode = mode;
	f->ts[0] = ts[0];
	f->ts[1] = ts[1];
	f->depth = 0;
	for (const char *p = path; *p; p++)
		f->depth += *p == '/';
	f->idx = x->n_fix++;
	return 0;
}

static int do_dir(struct x *x, struct archive_entry *e, int parent, const char *base,
		  const char *path, struct err **err)
{
	_cleanup_close_ int fd = -1;
	struct timespec ts[2];
	struct stat st;
	bool is_dir;
	uid_t u;
	gid_t g;

	if (owner(x, archive_entry_uid(e), archive_entry_gid(e), &u, &g, path, err) < 0)
		return err_ret(*err);
	if (remove_existing(x, parent, base, true, &is_dir, err) < 0)
		return err_ret(*err);
	/* 0700 until the fix-up: children must still be creatable by a
	 * non-root owner whatever mode the layer asks for. */
	if (!is_dir && mkdirat(parent, base, 0700) < 0)
		return err_errno(err, errno, "mkdir \"%.200s\"", path);
	fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "open \"%.200s\"", path);
	if (u != (uid_t)-1 && fchown(fd, u, g) < 0)
		return err_errno(err, errno, "chown \"%.200s\"", path);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "stat \"%.200s\"", path);
	if ((st.st_mode & 0700) != 0700 && fchmod(fd, 0700) < 0)
		return err_errno(err, errno, "chmod \"%.200s\"", path);
	apply_xattrs(x, e, fd);
	entry_times(e, ts);
	return add_fix(x, path, &st, entry_mode(x, e, true), ts, err);
}

static int do_file(struct x *x, struct archive *a, struct archive_entry *e, int parent,
		   const char *base, const char *path, struct err **err)
{
	_cleanup_close_ int fd = -1;
	struct timespec ts[2];
	bool is_dir;
	uid_t u;
	gid_t g;

	if (owner(x, archive_entry_uid(e), archive_entry_gid(e), &u, &g, path, err) < 0)
		return err_ret(*err);
	if (remove_existing(x, parent, base, false, &is_dir, err) < 0)
		return err_ret(*err);
	fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno(err, errno, "create \"%.200s\"", path);
	if (write_data(x, a, e, fd, path, err) < 0)
		return err_ret(*err);
	/* chown first: it clears setuid bits and file capabilities. */
	if (u != (uid_t)-1 && fchown(fd, u, g) < 0)
		return err_errno(err, errno, "chown \"%.200s\"", path);
	apply_xattrs(x, e, fd);
	if (fchmod(fd, entry_mode(x, e, false)) < 0)
		return err_errno(err, errno, "chmod \"%.200s\"", path);
	entry_times(e, ts);
	if (futimens(fd, ts) < 0)
		return err_errno(err, errno, "utimes \"%.200s\"", path);
	return 0;
}

static int do_symlink(struct x *x, struct archive_entry *e, int parent, const char *base,
		      const char *path, struct err **err)
{
	const char *target = archive_entry_symlink(e);
	struct timespec ts[2];
	bool is_dir;
	uid_t u;
	gid_t g;

	if (!target)
		target = archive_entry_symlink_utf8(e);
	if (!target || !*target || strlen(target) > PATH_CAP)
		return err_set(err, EINVAL, "\"%.200s\": bad symlink target", path);
	if (owner(x, archive_entry_uid(e), archive_entry_gid(e), &u, &g, path, err) < 0)
		return err_ret(*err);
	if (remove_existing(x, parent, base, false, &is_dir, err) < 0)
		return err_ret(*err);
	/* The target is only data: nothing here ever resolves it. */
	if (symlinkat(target, parent, base) < 0)
		return err_errno(err, errno, "symlink \"%.200s\"", path);
	if (u != (uid_t)-1 && fchownat(parent, base, u, g, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(err, errno, "chown \"%.200s\"", path);
	entry_times(e, ts);
	if (utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(err, errno, "utimes \"%.200s\"", path);
	return 0;
}

static int do_fifo(struct x *x, struct archive_entry *e, int parent, const char *base,
		   const char *path, struct err **err)
{
	struct timespec ts[2];
	bool is_dir;
	uid_t u;
	gid_t g;

	if (owner(x, archive_entry_uid(e), archive_entry_gid(e), &u, &g, path, err) < 0)
		return err_ret(*err);
	if (remove_existing(x, parent, base, false, &is_dir, err) < 0)
		return err_ret(*err);
	if (mknodat(parent, base, S_IFIFO | 0600, 0) < 0)
		return err_errno(err, errno, "mkfifo \"%.200s\"", path);
	if (u != (uid_t)-1 && fchownat(parent, base, u, g, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(err, errno, "chown \"%.200s\"", path);
	/* Never a symlink: we just made it. NOFOLLOW all the same. */
	if (fchmodat(parent, base, entry_mode(x, e, false), AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(err, errno, "chmod \"%.200s\"", path);
	entry_times(e, ts);
	if (utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(err, errno, "utimes \"%.200s\"", path);
	return 0;
}

static int do_hardlink(struct x *x, const char *target, int parent, const char *base,
		       const char *path, struct err **err)
{
	char clean[PATH_CAP + 1];
	_cleanup_close_ int tdir = -1;
	const char *tbase;
	struct stat st, cur;
	bool is_dir;
	char *slash;

	if (clean_name(target, clean, "hardlink target", err) < 0)
		return err_prefix(err, "\"%.200s\"", path);
	if (!*clean)
		return err_set(err, EINVAL, "\"%.200s\": hardlink to the layer root", path);
	slash = strrchr(clean, '/');
	if (slash) {
		*slash = 0;
		tbase = slash + 1;
		tdir = open_dir(x, clean, false, err);
	} else {
		tbase = clean;
		tdir = open_dir(x, "", false, err);
	}
	if (tdir < 0)
		return err_prefix(err, "hardlink \"%.200s\"", path);
	if (fstatat(tdir, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(err, errno, "hardlink \"%.200s\" to \"%.200s\"", path, target);
	if (S_ISDIR(st.st_mode))
		return err_set(err, EPERM, "hardlink \"%.200s\" to directory \"%.200s\"", path,
			       target);
	if (fstatat(parent, base, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_ino == st.st_ino &&
	    cur.st_dev == st.st_dev)
		return 0;
	if (remove_existing(x, parent, base, false, &is_dir, err) < 0)
		return err_ret(*err);
	/* flags 0: a symlink target is linked itself, never followed. */
	if (linkat(tdir, tbase, parent, base, 0) < 0)
		return err_errno(err, errno, "hardlink \"%.200s\" to \"%.200s\"", path, target);
	return 0;
}

static int set_opaque(int dirfd, const char *path, struct err **err)
{
	_cleanup_close_ int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_errno(err, errno, "open \"%.200s\"", path);
	if (fsetxattr(fd, OPAQUE_XATTR, "y", 1, 0) < 0)
		return err_errno(err, errno, "mark \"%.200s\" opaque (" OPAQUE_XATTR ")", path);
	return 0;
}

/* ".wh.NAME" in PARENT: NAME becomes an overlay whiteout (char 0/0). */
static int do_whiteout(struct x *x, int parent, const char *name, const char *path,
		       struct err **err)
{
	bool is_dir;

	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return err_set(err, EINVAL, "\"%.200s\": bad whiteout name", path);
	if (remove_existing(x, parent, name, false, &is_dir, err) < 0)
		return err_ret(*err);
	if (mknodat(parent, name, S_IFCHR | 0, makedev(0, 0)) < 0)
		return err_errno(err, errno,
				 "whiteout \"%.200s\" (mknod of the 0/0 whiteout device needs "
				 "Linux >= 5.8)",
				 path);
	return 0;
}

static int entry(struct x *x, struct archive *a, struct archive_entry *e, struct err **err)
{
	char path[PATH_CAP + 1];
	const char *name = archive_entry_pathname(e), *base, *hl;
	_cleanup_close_ int parent = -1;
	mode_t type = archive_entry_filetype(e);
	char *slash;

	if (!name)
		name = archive_entry_pathname_utf8(e);
	if (clean_name(name, path, "entry", err) < 0)
		return err_ret(*err);
	hl = archive_entry_hardlink(e);
	if (!hl)
		hl = archive_entry_hardlink_utf8(e);
	if (!*path) {
		/* "./": the root is moat's; anything else named "." is an
		 * attempt to replace it (CVE-2021-29136). */
		if (type == AE_IFDIR && !hl)
			return 0;
		return err_set(err, EINVAL, "entry \"%.200s\": refusing to replace the layer root",
			       name);
	}
	slash = strrchr(path, '/');
	if (slash) {
		*slash = 0;
		base = slash + 1;
	} else {
		base = path;
	}
	if (!strncmp(base, WH_PREFIX, strlen(WH_PREFIX))) {
		/* Real layers carry the directory of a whiteout (deleting a
		 * file modifies it). One that does not may aim at a symlink
		 * of a lower layer: refused rather than guessed at. */
		parent = open_dir(x, slash ? path : "", false, err);
		if (parent < 0 && (*err)->code == ENOENT)
			return err_set(err, ENOENT,
				       "whiteout \"%.200s\": its directory is not in the layer",
				       name);
		if (parent < 0)
			return err_ret(*err);
		if (!strcmp(base, WH_OPAQUE))
			return set_opaque(parent, slash ? path : "/", err);
		if (!strncmp(base, WH_PREFIX WH_PREFIX, 2 * strlen(WH_PREFIX)))
			return 0;
		return do_whiteout(x, parent, base + strlen(WH_PREFIX), name, err);
	}
	parent = open_dir(x, slash ? path : "", true, err);
	if (parent < 0)
		return err_ret(*err);
	if (slash)
		*slash = '/';
	if (hl)
		return do_hardlink(x, hl, parent, base, path, err);
	switch (type) {
	case AE_IFDIR:
		return do_dir(x, e, parent, base, path, err);
	case AE_IFREG:
		return do_file(x, a, e, parent, base, path, err);
	case AE_IFLNK:
		return do_symlink(x, e, parent, base, path, err);
	case AE_IFIFO:
		return do_fifo(x, e, parent, base, path, err);
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFSOCK:
		/* Never created, in any mode: see the file comment. */
		x->st->devices_skipped++;
		return 0;
	default:
		return err_set(err, EINVAL, "entry \"%.200s\": unknown type %o", name,
			       (unsigned)type);
	}
}

static int fix_cmp(const void *pa, const void *pb)
{
	const struct dirfix *a = pa, *b = pb;
	int c;

	if (a->depth != b->depth)
		return a->depth > b->depth ? -1 : 1;
	c = strcmp(a->path, b->path);
	if (c)
		return c;
	return a->idx > b->idx ? -1 : 1;
}

/*
 * Directory modes and times, deepest first (a parent stays 0700 until its
 * children are done), the last record of a path winning. Each path is
 * re-walked without following symlinks and must still be the inode made
 * for it; anything else was replaced later in the layer and is skipped.
 */
static int apply_fixes(struct x *x, struct err **err)
{
	if (x->n_fix)
		qsort(x->fix, x->n_fix, sizeof(*x->fix), fix_cmp);
	cache_drop(x);
	for (size_t i = 0; i < x->n_fix; i++) {
		struct dirfix *f = &x->fix[i];
		_cleanup_close_ int parent = -1, fd = -1;
		char *slash = strrchr(f->path, '/');
		struct err *ignored = NULL;
		struct stat st;

		if (i && !strcmp(f->path, x->fix[i - 1].path))
			continue;
		if (slash)
			*slash = 0;
		parent = open_dir(x, slash ? f->path : "", false, &ignored);
		err_free(&ignored);
		if (slash)
			*slash = '/';
		if (parent < 0)
			continue;
		fd = openat(parent, slash ? slash + 1 : f->path,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_ino != f->ino || st.st_dev != f->dev)
			continue;
		if (fchmod(fd, f->mode) < 0)
			return err_errno(err, errno, "chmod \"%.200s\"", f->path);
		if (futimens(fd, f->ts) < 0)
			return err_errno(err, errno, "utimes \"%.200s\"", f->path);
	}
	cache_drop(x);
	return 0;
}

struct job {
	int blobfd, dirfd;
	const struct image_idmode *mode;
	const char *diff_id;
	uint64_t max_entries, max_bytes;
	struct image_layer_stats st;
};

static int extract(struct job *j, struct err **err)
{
	_cleanup_free_ struct stream *s = calloc(1, sizeof(*s));
	_cleanup_archive_ struct archive *a = NULL;
	struct x x = {.root = j->dirfd, .mode = j->mode, .st = &j->st, .cache_fd = -1};
	struct archive_entry *e;
	uid_t u;
	gid_t g;
	int r = 0;

	x.max_entries = j->max_entries;
	x.max_bytes = j->max_bytes;
	if (!s)
		return err_errno(err, ENOMEM, "layer");
	if (owner(&x, 0, 0, &u, &g, "/", err) < 0)
		return err_ret(*err);
	if ((u != (uid_t)-1 && fchown(j->dirfd, u, g) < 0) || fchmod(j->dirfd, 0755) < 0)
		return err_errno(err, errno, "layer root");
	r = stream_open(s, j->blobfd, j->max_bytes, err);
	if (r < 0)
		goto out;
	a = archive_read_new();
	if (!a) {
		r = err_errno(err, ENOMEM, "layer");
		goto out;
	}
	archive_read_support_format_tar(a);
	if (archive_read_open(a, s, NULL, stream_read, NULL) != ARCHIVE_OK) {
		r = s->over ? err_set(err, EFBIG, "layer: larger than %llu bytes uncompressed",
				      (unsigned long long)x.max_bytes)
			    : err_set(err, EINVAL, "layer: %s", archive_error_string(a));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			r = s->over
				? err_set(err, EFBIG, "layer: larger than %llu bytes uncompressed",
					  (unsigned long long)x.max_bytes)
				: err_set(err, EINVAL, "layer: %s", archive_error_string(a));
			goto out;
		}
		if (++j->st.entries > x.max_entries) {
			r = err_set(err, EFBIG, "layer: more than %llu entries",
				    (unsigned long long)x.max_entries);
			goto out;
		}
		r = entry(&x, a, e, err);
		if (r < 0 && s->over) {
			err_free(err);
			r = err_set(err, EFBIG, "layer: larger than %llu bytes uncompressed",
				    (unsigned long long)x.max_bytes);
		}
		if (r < 0)
			goto out;
	}
	r = apply_fixes(&x, err);
	if (r < 0)
		goto out;
	r = stream_finish(s, j->st.diff_id, err);
	if (r < 0)
		goto out;
	j->st.tar_bytes = s->bytes;
	if (j->diff_id && strcmp(j->diff_id, j->st.diff_id))
		r = err_set(err, EINVAL, "layer: DiffID mismatch: expected %s, content is %s",
			    j->diff_id, j->st.diff_id);
out:
	cache_drop(&x);
	for (size_t i = 0; i < x.n_fix; i++)
		free(x.fix[i].path);
	free(x.fix);
	stream_close(s);
	return r;
}

static int job_init(struct job *j, int blobfd, int dirfd, const struct image_idmode *mode,
		    const char *diff_id, const struct image_layer_limits *lim, struct err **err)
{
	if (diff_id && !digest_valid(diff_id))
		return err_set(err, EINVAL, "layer: \"%.80s\" is not a sha256 DiffID", diff_id);
	memset(j, 0, sizeof(*j));
	j->blobfd = blobfd;
	j->dirfd = dirfd;
	j->mode = mode;
	j->diff_id = diff_id;
	j->max_entries = lim && lim->max_entries ? lim->max_entries : IMAGE_LAYER_MAX_ENTRIES;
	j->max_bytes = lim && lim->max_bytes ? lim->max_bytes : IMAGE_LAYER_MAX_BYTES;
	return 0;
}

int image_layer_extract_here(int blobfd, int dirfd, const struct image_idmode *mode,
			     const char *diff_id, const struct image_layer_limits *lim,
			     struct image_layer_stats *st, struct err **err)
{
	struct job j;
	int r = job_init(&j, blobfd, dirfd, mode, diff_id, lim, err);

	if (r == 0)
		r = extract(&j, err);
	if (st)
		*st = j.st;
	return r;
}

/* In the confined child. */
static int extract_confined(void *arg, struct image_layer_stats *st, struct err **err)
{
	struct job *j = arg;
	int r = extract(j, err);

	*st = j->st;
	return r;
}

int image_layer_extract(int blobfd, int dirfd, const struct image_idmode *mode, const char *diff_id,
			const struct image_layer_limits *lim, struct image_layer_stats *st,
			struct err **err)
{
	struct image_layer_stats got;
	struct job j;

	if (job_init(&j, blobfd, dirfd, mode, diff_id, lim, err) < 0)
		return err_ret(*err);
	if (image_confine_run(mode, blobfd, dirfd, extract_confined, &j, &got, err) < 0)
		return err_ret(*err);
	/* The child checked the DiffID; a child taken over by the blob would
	 * say anything, so the parent checks what it was told. */
	if (!digest_valid(got.diff_id) || (diff_id && strcmp(diff_id, got.diff_id)))
		return err_set(err, EINVAL,
			       "layer: DiffID mismatch: expected %s, the child reported %.80s",
			       diff_id ? diff_id : "a sha256 digest", got.diff_id);
	if (st)
		*st = got;
	return 0;
}
