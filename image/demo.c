/*
 * image/demo.c - the demo image: one layer built from the host's static
 * busybox, so that `moat run` works with no registry and no download.
 *
 * Runs in: the CLI process (`moat demo-image`), as root or as the calling
 * user. It runs the host busybox once (`busybox --list`, fork/exec, no
 * shell, empty environment) to learn its applets.
 *
 * Invariants:
 *  - the busybox binary must be a static ELF: a dynamic one would not run
 *    inside the image, which has no libc;
 *  - every tar entry has mtime 0, numeric owner 0:0 (1000:1000 for
 *    /home/moat) and no user or group names, and entries are written in a
 *    fixed order, so the same inputs give the same layer and image digest;
 *  - the layer and config are added through the same transaction as a
 *    loaded image, and the layer is re-read through the DiffID check like
 *    any other.
 */
#include "image/image.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image/archive.h"

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json.h"
#include "image/internal.h"

#define DEFAULT_BUSYBOX "/bin/busybox"
#define LIST_MAX (64u << 10)

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
			     "moat:x:1000:1000::/home/moat:/bin/sh\n";
static const char group[] = "root:x:0:\n"
			    "users:x:100:\n"
			    "moat:x:1000:\n"
			    "nogroup:x:65534:\n";

static const struct {
	const char *path;
	mode_t mode;
	unsigned id;
} dirs[] = {
    {"bin", 0755, 0},	       {"dev", 0755, 0},  {"etc", 0755, 0},	{"home", 0755, 0},
    {"home/moat", 0755, 1000}, {"proc", 0555, 0}, {"root", 0700, 0},	{"sys", 0555, 0},
    {"tmp", 01777, 0},	       {"usr", 0755, 0},  {"usr/bin", 0755, 0}, {"var", 0755, 0},
};

/* True when FD is an ELF executable without a program interpreter. */
static int check_static(int fd, const char *path, struct err **err)
{
	unsigned char id[EI_NIDENT];
	uint64_t phoff;
	unsigned phnum, phentsize;
	bool is64;

	if (pread(fd, id, sizeof(id), 0) != (ssize_t)sizeof(id) || memcmp(id, ELFMAG, SELFMAG))
		return err_set(err, ENOEXEC, "busybox \"%s\" is not an ELF executable", path);
	is64 = id[EI_CLASS] == ELFCLASS64;
	if (id[EI_DATA] != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB))
		return err_set(err, ENOEXEC, "busybox \"%s\": foreign byte order", path);
	if (is64) {
		Elf64_Ehdr h;
		if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
			return err_set(err, ENOEXEC, "busybox \"%s\": short ELF header", path);
		phoff = h.e_phoff;
		phnum = h.e_phnum;
		phentsize = h.e_phentsize;
	} else {
		Elf32_Ehdr h;
		if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
			return err_set(err, ENOEXEC, "busybox \"%s\": short ELF header", path);
		phoff = h.e_phoff;
		phnum = h.e_phnum;
		phentsize = h.e_phentsize;
	}
	if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phnum > 4096)
		return err_set(err, ENOEXEC, "busybox \"%s\": bad program headers", path);
	for (unsigned i = 0; i < phnum; i++) {
		uint32_t type;
		if (pread(fd, &type, sizeof(type), (off_t)(phoff + (uint64_t)i * phentsize)) !=
		    (ssize_t)sizeof(type))
			return err_set(err, ENOEXEC, "busybox \"%s\": short program header", path);
		if (type == PT_INTERP)
			return err_set(
			    err, ENOEXEC,
			    "busybox \"%s\" is dynamically linked; a static one is needed "
			    "(Debian: apt-get install busybox-static, or --busybox PATH)",
			    path);
	}
	return 0;
}

static bool applet_ok(const char *a)
{
	size_t n = strlen(a);

	if (!n || n > 64 || !strcmp(a, ".") || !strcmp(a, "..") || !strcmp(a, "busybox"))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = a[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '[' || c == ']'))
			return false;
	}
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `busybox --list`, run directly: sorted applet names, "sh" included. */
static int applets(const char *busybox, char ***out, struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_strv_ char **v = NULL;
	int pfd[2], status, r;
	size_t n = 0, len = 0;
	bool sh = false;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_errno(err, errno, "fork");
	}
	if (pid == 0) {
		char *argv[] = {(char *)busybox, (char *)"--list", NULL};
		char *envp[] = {NULL};
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (dup2(pfd[1], 1) < 0 || (null >= 0 && dup2(null, 0) < 0))
			_exit(127);
		execve(busybox, argv, envp);
		_exit(127);
	}
	close(pfd[1]);
	r = fs_read_fd(pfd[0], LIST_MAX, &buf, &len, err);
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "wait");
	if (r < 0)
		return err_prefix(err, "\"%s --list\"", busybox);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return err_set(err, EIO, "\"%s --list\" failed", busybox);
	v = calloc(len / 2 + 3, sizeof(char *));
	if (!v)
		return err_errno(err, ENOMEM, "applets");
	for (char *save = NULL, *a = strtok_r(buf, "\n", &save); a;
	     a = strtok_r(NULL, "\n", &save)) {
		if (!applet_ok(a))
			continue;
		sh |= !strcmp(a, "sh");
		if (!(v[n++] = strdup(a)))
			return err_errno(err, ENOMEM, "applets");
	}
	if (!sh && !(v[n++] = strdup("sh")))
		return err_errno(err, ENOMEM, "applets");
	qsort(v, n, sizeof(char *), cmp_str);
	*out = steal_ptr(v);
	return 0;
}

struct sink {
	int fd;
	struct digest_ctx *md;
	uint64_t size;
	int error;
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf, size_t len)
{
	struct sink *s = data;
	int r = fs_write_all(s->fd, buf, len);

	if (r < 0) {
		s->error = -r;
		archive_set_error(a, -r, "write layer");
		return -1;
	}
	digest_ctx_update(s->md, buf, len);
	s->size += len;
	return (la_ssize_t)len;
}

static void archive_wfreep(struct archive **a)
{
	if (*a)
		archive_write_free(*a);
}

/* One entry: a directory, a symlink (TARGET), or a file copied from SRCFD. */
static int put(struct archive *a, const char *path, mode_t type, mode_t mode, unsigned id,
	       const char *target, int srcfd, const void *data, size_t size, struct err **err)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return err_errno(err, ENOMEM, "demo layer");
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, mode);
	archive_entry_set_uid(e, id);
	archive_entry_set_gid(e, id);
	archive_entry_set_mtime(e, 0, 0);
	if (target)
		archive_entry_set_symlink(e, target);
	archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)size : 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		r = err_set(err, EIO, "demo layer \"%s\": %s", path, archive_error_string(a));
	if (r == 0 && data && size && archive_write_data(a, data, size) != (la_ssize_t)size)
		r = err_set(err, EIO, "demo layer \"%s\": %s", path, archive_error_string(a));
	for (off_t off = 0; r == 0 && srcfd >= 0 && (uint64_t)off < size;) {
		char buf[65536];
		ssize_t n = pread(srcfd, buf, sizeof(buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = err_set(err, EIO, "demo layer \"%s\": source changed while copying",
				    path);
			break;
		}
		if ((uint64_t)off + (uint64_t)n > size)
			n = (ssize_t)(size - (uint64_t)off);
		if (archive_write_data(a, buf, (size_t)n) != n)
			r = err_set(err, EIO, "demo layer \"%s\": %s", path,
				    archive_error_string(a));
		off += n;
	}
	archive_entry_free(e);
	return r;
}

static int strv_add(char ***v, const char *str, struct err **err)
{
	size_t k = 0;
	char **nv;

	while (*v && (*v)[k])
		k++;
	nv = realloc(*v, (k + 2) * sizeof(char *));
	if (!nv)
		return err_errno(err, ENOMEM, "demo image");
	*v = nv;
	nv[k] = strdup(str);
	nv[k + 1] = NULL;
	return nv[k] ? 0 : err_errno(err, ENOMEM, "demo image");
}

static bool strv_has(char **v, const char *str)
{
	for (; v && *v; v++)
		if (!strcmp(*v, str))
			return true;
	return false;
}

/* "HOSTFILE:/ctr/path": host file copied to the clean relative CTR path. */
static int put_add(struct archive *a, const char *add, char ***made, struct err **err)
{
	_cleanup_free_ char *host = strdup(add);
	_cleanup_close_ int fd = -1;
	char ctr[4096], *colon;
	size_t o = 0;
	struct stat st;

	if (!host)
		return err_errno(err, ENOMEM, "demo image");
	colon = strrchr(host, ':');
	if (!colon || colon == host || colon[1] != '/')
		return err_set(err, EINVAL, "--add \"%s\": want HOSTFILE:/container/path", add);
	*colon = 0;
	for (const char *p = colon + 1; *p;) {
		size_t n;
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if ((n == 1 && *p == '.') || (n == 2 && p[0] == '.' && p[1] == '.') ||
		    o + n + 2 > sizeof(ctr))
			return err_set(err, EINVAL, "--add \"%s\": bad container path", add);
		if (o) {
			/* Each parent becomes a directory entry once. */
			ctr[o] = 0;
			if (!strv_has(*made, ctr) &&
			    (strv_add(made, ctr, err) < 0 ||
			     put(a, ctr, AE_IFDIR, 0755, 0, NULL, -1, NULL, 0, err) < 0))
				return err_ret(*err);
			ctr[o++] = '/';
		}
		memcpy(ctr + o, p, n);
		o += n;
		p += n;
	}
	if (!o)
		return err_set(err, EINVAL, "--add \"%s\": bad container path", add);
	ctr[o] = 0;
	fd = open(host, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "--add \"%s\"", host);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "--add \"%s\": not a regular file", host);
	return put(a, ctr, AE_IFREG, st.st_mode & 07777, 0, NULL, fd, NULL, (size_t)st.st_size,
		   err);
}

static int build_layer(int fd, int bbfd, size_t bbsize, char **apps, char *const *adds,
		       char hex[SHA256_HEX_LEN + 1], uint64_t *size, struct err **err)
{
	__attribute__((cleanup(archive_wfreep))) struct archive *a = archive_write_new();
	_cleanup_strv_ char **made = NULL;
	struct sink s = {.fd = fd, .md = digest_ctx_new()};
	int r = 0;

	if (!a || !s.md) {
		if (s.md)
			digest_ctx_final(s.md, hex);
		return err_errno(err, ENOMEM, "demo layer");
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open(a, &s, NULL, sink_write, NULL) != ARCHIVE_OK)
		r = err_set(err, EIO, "demo layer: %s", archive_error_string(a));
	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(dirs); i++) {
		r = put(a, dirs[i].path, AE_IFDIR, dirs[i].mode, dirs[i].id, NULL, -1, NULL, 0,
			err);
		if (r == 0)
			r = strv_add(&made, dirs[i].path, err);
	}
	if (r == 0)
		r = put(a, "bin/busybox", AE_IFREG, 0755, 0, NULL, bbfd, NULL, bbsize, err);
	for (char **p = apps; r == 0 && *p; p++) {
		char path[128];
		snprintf(path, sizeof(path), "bin/%s", *p);
		r = put(a, path, AE_IFLNK, 0777, 0, "busybox", -1, NULL, 0, err);
	}
	if (r == 0)
		r = put(a, "etc/group", AE_IFREG, 0644, 0, NULL, -1, group, strlen(group), err);
	if (r == 0)
		r = put(a, "etc/passwd", AE_IFREG, 0644, 0, NULL, -1, passwd, strlen(passwd), err);
	for (char *const *p = adds; r == 0 && p && *p; p++)
		r = put_add(a, *p, &made, err);
	if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
		r = err_set(err, EIO, "demo layer: %s", archive_error_string(a));
	digest_ctx_final(s.md, hex);
	*size = s.size;
	return r;
}

int image_demo_create(struct image_store *s, const char *name, const char *busybox,
		      char *const *adds, struct err **err)
{
	_cleanup_strv_ char **apps = NULL;
	_cleanup_free_ char *norm = NULL, *cfg = NULL, *man = NULL;
	_cleanup_json_ json_t *cj = NULL, *mj = NULL;
	_cleanup_close_ int bb = -1, lfd = -1;
	struct store_txn *t = NULL;
	struct store_layer layer = {0};
	struct store_record rec = {0};
	char lname[32], lhex[SHA256_HEX_LEN + 1], chex[SHA256_HEX_LEN + 1],
	    mhex[SHA256_HEX_LEN + 1], diff[7 + 64 + 1];
	char *names[2] = {NULL, NULL};
	uint64_t lsize = 0;
	struct stat st;
	int r;

	if (!busybox)
		busybox = DEFAULT_BUSYBOX;
	if (image_ref_normalize(name ? name : "demo:latest", &norm, err) < 0)
		return err_prefix(err, "demo image");
	bb = open(busybox, O_RDONLY | O_CLOEXEC);
	if (bb < 0)
		return err_errno(
		    err, errno, "busybox \"%s\" (Debian: apt-get install busybox-static)", busybox);
	if (fstat(bb, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "busybox \"%s\" is not a file", busybox);
	if (check_static(bb, busybox, err) < 0 || applets(busybox, &apps, err) < 0)
		return err_prefix(err, "demo image");
	r = store_txn_begin(s, &t, err);
	if (r < 0)
		return err_prefix(err, "demo image");
	store_txn_tmpname(t, lname);
	lfd = openat(store_txn_dirfd(t), lname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (lfd < 0)
		r = err_errno(err, errno, "stage layer");
	if (r == 0)
		r = build_layer(lfd, bb, (size_t)st.st_size, apps, adds, lhex, &lsize, err);
	snprintf(diff, sizeof(diff), "sha256:%s", lhex);
	/* The layer goes through the same reader as any loaded one. */
	if (r == 0)
		r = store_txn_add_blob(t, lname, lhex, err);
	if (r == 0)
		r = store_txn_add_layer(t, lname, diff, NULL, err);
	if (r == 0) {
		cj = json_pack("{s:s, s:s, s:{s:[s], s:[s]}, s:{s:s, s:[s]}}", "architecture",
			       image_host_arch(), "os", "linux", "config", "Env",
			       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			       "Cmd", "/bin/sh", "rootfs", "type", "layers", "diff_ids", diff);
		cfg = cj ? json_dumps(cj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (!cfg)
			r = err_errno(err, ENOMEM, "config");
	}
	if (r == 0)
		r = store_txn_add_bytes(t, cfg, strlen(cfg), chex, err);
	if (r == 0) {
		char cd[7 + 64 + 1];
		snprintf(cd, sizeof(cd), "sha256:%s", chex);
		mj = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}",
			       "schemaVersion", 2, "mediaType", IMAGE_MT_OCI_MANIFEST, "config",
			       "mediaType", IMAGE_MT_OCI_CONFIG, "digest", cd, "size",
			       (json_int_t)strlen(cfg), "layers", "mediaType", IMAGE_MT_OCI_LAYER,
			       "digest", diff, "size", (json_int_t)lsize);
		man = mj ? json_dumps(mj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		if (!man)
			r = err_errno(err, ENOMEM, "manifest");
	}
	if (r == 0)
		r = store_txn_add_bytes(t, man, strlen(man), mhex, err);
	if (r == 0) {
		snprintf(rec.id, sizeof(rec.id), "sha256:%s", chex);
		snprintf(rec.manifest, sizeof(rec.manifest), "sha256:%s", mhex);
		rec.created = time(NULL);
		rec.size = lsize;
		layer.digest = diff;
		layer.diff_id = diff;
		layer.media_type = (char *)IMAGE_MT_OCI_LAYER;
		layer.size = lsize;
		rec.layers = &layer;
		rec.n_layers = 1;
		names[0] = norm;
		r = store_txn_add_image(t, &rec, names, err);
	}
	if (r == 0)
		r = store_txn_commit(t, err);
	store_txn_free(t);
	return r < 0 ? err_prefix(err, "demo image") : 0;
}
