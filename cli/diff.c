/*
 * cli/diff.c - `moat diff CONTAINER`: the files a container added (A),
 * changed (C) and deleted (D) compared with its image, one per line, in
 * Docker's order. Works on running and stopped containers.
 *
 * Runs as: the invoking user or root, in the host's namespaces. It only
 * reads: the container's upper layer ROOT/containers/<id>/upper and the
 * image's extracted layers (image_store_resolve). The classification is
 * engine/diff.c's (pure); this file walks the directories and answers its
 * "what does the image have here?" questions.
 *
 * Invariants:
 *  - every walk is fd-relative (openat/fstatat with O_NOFOLLOW and
 *    AT_SYMLINK_NOFOLLOW): a symlink the container made is an entry, never
 *    a way out of the layer; paths are built only for printing;
 *  - a running container changes its layer under us: entries that vanish
 *    are skipped, never an error;
 *  - rootless (subuid) layers hold directories of other container users
 *    that the invoker cannot read: they are reported as changed, without
 *    their contents, and one line on stderr says so; so are directories
 *    nested deeper than MAX_DEPTH (each level holds a descriptor).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/diff.h"
#include "image/image.h"

#define MAX_DEPTH 256

/* The markers overlayfs (with and without "userxattr") and fuse-overlayfs
 * put on a directory that hides what the layers below have there. */
static const char *const opaque_xattrs[] = {"user.overlay.opaque", "trusted.overlay.opaque",
					    "user.fuseoverlayfs.opaque"};

struct walk {
	struct diff_entry *v;
	size_t n, cap;
	int *layer; /* image layer root fds, base first */
	size_t n_layers;
	/* the first thing that could not be read, for the one warning */
	char unread_path[256];
	int unread_errno;
	size_t n_unread;
};

static bool is_opaque(int fd)
{
	char v[4];

	for (size_t i = 0; i < ARRAY_SIZE(opaque_xattrs); i++) {
		ssize_t n = fgetxattr(fd, opaque_xattrs[i], v, sizeof(v));
		if (n == 1 && v[0] == 'y')
			return true;
	}
	return false;
}

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 0 && minor(st->st_rdev) == 0;
}

static void note_unread(struct walk *w, const char *path, int e)
{
	if (!w->n_unread++) {
		size_t n = strlen(path);

		if (n >= sizeof(w->unread_path)) /* keep the end: it names the file */
			path += n - (sizeof(w->unread_path) - 1);
		memcpy(w->unread_path, path, strlen(path) + 1);
		w->unread_errno = e;
	}
}

/* ---- the image: the merged lower layers ---- */

enum found { ABSENT, HIDDEN, FOUND };

/*
 * Looks PATH up in one layer, component by component, never following a
 * symlink. HIDDEN: a whiteout or a non-directory at or above PATH hides it
 * in every layer below too. *STOP: an opaque directory above PATH, so the
 * layers below cannot have it. -EACCES when a directory cannot be searched.
 * With OUTFD, a directory FOUND there is opened into *OUTFD (-1 otherwise).
 */
static int layer_find(int rootfd, const char *path, struct stat *st, bool *stop, int *outfd)
{
	_cleanup_close_ int cur = -1;
	char buf[DIFF_PATH_MAX];
	char *save = NULL, *comp, *next;

	if (outfd)
		*outfd = -1;
	snprintf(buf, sizeof(buf), "%s", path);
	comp = strtok_r(buf + 1, "/", &save);
	while (comp) {
		int dfd = cur >= 0 ? cur : rootfd, fd;

		next = strtok_r(NULL, "/", &save);
		if (fstatat(dfd, comp, st, AT_SYMLINK_NOFOLLOW) < 0)
			return errno == ENOENT || errno == ENOTDIR ? ABSENT : -errno;
		if (is_whiteout(st))
			return HIDDEN;
		if (!next && (!outfd || !S_ISDIR(st->st_mode)))
			return FOUND;
		if (!S_ISDIR(st->st_mode))
			return HIDDEN;
		fd = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return errno == ENOENT || errno == ENOTDIR ? ABSENT : -errno;
		closep(&cur);
		cur = fd;
		if (!next) {
			*outfd = steal_fd(cur);
			return FOUND;
		}
		if (is_opaque(cur))
			*stop = true;
		comp = next;
	}
	return ABSENT;
}

static int lower_lookup(void *arg, const char *path, struct diff_lower *out, struct err **err)
{
	struct walk *w = arg;

	for (size_t l = w->n_layers; l-- > 0;) {
		struct stat st;
		bool stop = false;
		int r = layer_find(w->layer[l], path, &st, &stop, NULL);

		if (r == -EACCES) {
			/* Cannot tell: say "changed" rather than guess "added". */
			note_unread(w, path, EACCES);
			*out = (struct diff_lower){.dir = true, .mode = UINT32_MAX};
			return 1;
		}
		if (r < 0)
			return err_errno(err, -r, "look up \"%s\" in the image", path);
		if (r == FOUND) {
			*out = (struct diff_lower){S_ISDIR(st.st_mode), st.st_mode & 07777,
						   st.st_uid, st.st_gid};
			return 1;
		}
		if (r == HIDDEN || stop)
			return 0;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the image's directory PATH: the union of what each layer
 * has there, less what the layers above hide (each checked by lookup). */
static int lower_list(void *arg, const char *path, char ***names, struct err **err)
{
	struct walk *w = arg;
	_cleanup_strv_ char **v = NULL;
	size_t n = 0, cap = 0, keep = 0;

	for (size_t l = w->n_layers; l-- > 0;) {
		_cleanup_closedir_ DIR *d = NULL;
		_cleanup_close_ int fd = -1;
		struct dirent *de;
		struct stat st;
		bool stop = false;
		int r = layer_find(w->layer[l], path, &st, &stop, &fd);

		if (r == -EACCES) {
			note_unread(w, path, EACCES);
			continue;
		}
		if (r < 0)
			return err_errno(err, -r, "look up \"%s\" in the image", path);
		if (r == HIDDEN)
			break;
		if (r == ABSENT || !S_ISDIR(st.st_mode)) {
			if (stop || r == FOUND)
				break;
			continue;
		}
		if (!(d = fdopendir(fd))) {
			note_unread(w, path, errno);
			continue;
		}
		fd = -1; /* owned by D */
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (n + 2 > cap) {
				size_t nc = cap ? cap * 2 : 32;
				char **nv = realloc(v, nc * sizeof(*nv));
				if (!nv)
					return err_errno(err, ENOMEM, "diff");
				v = nv;
				cap = nc;
			}
			if (!(v[n] = strdup(de->d_name)))
				return err_errno(err, ENOMEM, "diff");
			v[++n] = NULL;
		}
		if (stop)
			break;
	}
	if (!v && !(v = calloc(1, sizeof(*v))))
		return err_errno(err, ENOMEM, "diff");
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	/* Unique names that the merged image really has. */
	for (size_t i = 0; i < n; i++) {
		char child[DIFF_PATH_MAX];
		struct diff_lower lw;
		int r;

		if (keep && !strcmp(v[keep - 1], v[i])) {
			free(v[i]);
			continue;
		}
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, v[i]) >= sizeof(child) ||
		    (r = lower_lookup(w, child, &lw, err)) == 0) {
			free(v[i]);
			continue;
		}
		if (r < 0) {
			for (size_t j = i; j < n; j++)
				free(v[j]);
			v[keep] = NULL;
			return r;
		}
		v[keep++] = v[i];
	}
	v[keep] = NULL;
	*names = steal_ptr(v);
	return 0;
}

/* ---- the container's upper layer ---- */

static int push(struct walk *w, const char *path, enum diff_entry_type type, const struct stat *st,
		struct err **err)
{
	if (w->n >= DIFF_MAX_ENTRIES)
		return err_set(err, E2BIG, "the container changed more than %u files",
			       DIFF_MAX_ENTRIES);
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 256;
		struct diff_entry *nv = realloc(w->v, nc * sizeof(*nv));
		if (!nv)
			return err_errno(err, ENOMEM, "diff");
		w->v = nv;
		w->cap = nc;
	}
	w->v[w->n] = (struct diff_entry){
	    .type = type, .mode = st->st_mode & 07777, .uid = st->st_uid, .gid = st->st_gid};
	if (!(w->v[w->n].path = strdup(path)))
		return err_errno(err, ENOMEM, "diff");
	w->n++;
	return 0;
}

/* Adds the entries of directory DFD (at PATH, "" for the top) and, depth
 * first, of the directories in it. */
static int walk_dir(struct walk *w, int dfd, const char *path, int depth, size_t self,
		    struct err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return err_errno(err, errno, "read \"%s\"", path[0] ? path : "/");
	}
	while ((errno = 0, de = readdir(d))) {
		char child[DIFF_PATH_MAX];
		struct stat st;
		size_t at;
		int fd;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >=
		    sizeof(child)) {
			note_unread(w, path, ENAMETOOLONG);
			goto unreadable;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* gone while we looked */
			note_unread(w, path[0] ? path : "/", errno);
			goto unreadable;
		}
		if (!S_ISDIR(st.st_mode)) {
			r = push(w, child,
				 is_whiteout(&st) ? DIFF_ENTRY_WHITEOUT : DIFF_ENTRY_OTHER, &st,
				 err);
			if (r < 0)
				return r;
			continue;
		}
		at = w->n;
		if ((r = push(w, child, DIFF_ENTRY_DIR, &st, err)) < 0)
			return r;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR) {
				/* gone, or replaced by a non-directory, while we looked */
				free((char *)w->v[--w->n].path);
				continue;
			}
			note_unread(w, child, errno);
			w->v[at].unreadable = true;
			continue;
		}
		w->v[at].opaque = is_opaque(fd);
		if (depth + 1 >= MAX_DEPTH) {
			close(fd);
			note_unread(w, child, ELOOP);
			w->v[at].unreadable = true;
			continue;
		}
		if ((r = walk_dir(w, fd, child, depth + 1, at, err)) < 0)
			return r;
	}
	if (errno) {
		note_unread(w, path[0] ? path : "/", errno);
		goto unreadable;
	}
	return 0;
unreadable:
	/* What we saw of it stays; the directory itself is reported changed. */
	if (self != (size_t)-1)
		w->v[self].unreadable = true;
	return 0;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free((char *)w->v[i].path);
	free(w->v);
	for (size_t i = 0; i < w->n_layers; i++)
		closep(&w->layer[i]);
	free(w->layer);
}

static int container_diff(struct cli_ctx *ctx, const char *id, struct err **err)
{
	static const struct diff_lower_ops ops = {lower_lookup, lower_list};
	struct container_record rec;
	struct engine_identity ident;
	struct image_store *store = NULL;
	struct image *img = NULL;
	struct diff_change *c = NULL;
	struct walk w = {0};
	char upper[4200];
	size_t nc = 0;
	int fd, r;

	if ((r = engine_container_load(ctx->root, id, &rec, err)) < 0)
		return r;
	if ((r = engine_container_identity(&rec, ctx->rootless, ctx->uid, ctx->gid, &ident, err)) <
		0 ||
	    (r = image_store_open(ctx->root, &ident.ids, &store, err)) < 0 ||
	    (r = image_store_resolve(store, rec.image_id, &img, err)) < 0) {
		err_prefix(err, "the image of container %s", rec.name);
		goto out;
	}
	w.layer = calloc(img->n_layers ? img->n_layers : 1, sizeof(*w.layer));
	if (!w.layer) {
		r = err_errno(err, ENOMEM, "diff");
		goto out;
	}
	for (size_t i = 0; i < img->n_layers; i++) {
		w.layer[i] = open(img->layer_dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w.layer[i] < 0) {
			r = err_errno(err, errno, "open image layer \"%s\"", img->layer_dirs[i]);
			goto out;
		}
		w.n_layers++;
	}
	snprintf(upper, sizeof(upper), "%s/containers/%s/upper", ctx->root, id);
	fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		r = err_errno(err, errno, "open \"%s\"", upper);
		goto out;
	}
	/* No upper layer (never started): no changes. */
	if (fd >= 0 && (r = walk_dir(&w, fd, "", 0, (size_t)-1, err)) < 0)
		goto out;
	r = diff_changes_classify(w.v, w.n, diff_mount_targets, &ops, &w, &c, &nc, err);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nc; i++)
		printf("%c %s\n", (char)c[i].kind, c[i].path);
	if (fflush(stdout) == EOF)
		r = err_errno(err, errno, "write");
	if (w.n_unread == 1)
		fprintf(stderr,
			"moat: warning: \"%s\" could not be read (%s): shown as changed, without "
			"what is below it\n",
			w.unread_path, strerror(w.unread_errno));
	else if (w.n_unread)
		fprintf(stderr,
			"moat: warning: %zu directories could not be read (the first, \"%s\": %s): "
			"shown as changed, without what is below them\n",
			w.n_unread, w.unread_path, strerror(w.unread_errno));
out:
	diff_changes_free(c, nc);
	walk_free(&w);
	image_free(img);
	image_store_close(store);
	engine_container_record_free(&rec);
	return r;
}

int cmd_diff(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct err *err = NULL;
	char id[65];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", lo, NULL)) != -1) {
		if (c == 'h') {
			printf(
			    "Usage: moat diff CONTAINER\n\nInspect changes to files or directories "
			    "on a container's filesystem\n");
			return 0;
		}
		return cli_bad_flag(argv, c);
	}
	if (argc - optind != 1) {
		err_set(&err, EINVAL, "\"moat diff\" requires exactly 1 argument");
		return cli_fail(&err);
	}
	if (cli_resolve(ctx, argv[optind], id, &err) < 0 || container_diff(ctx, id, &err) < 0)
		return cli_fail(&err);
	return 0;
}
