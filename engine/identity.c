/*
 * engine/identity.c - which user namespace a container gets, and so how
 * image layers are owned on disk.
 *
 * Runs in: the moat process, as the invoking user or root.
 *  - root: container ids 0..65535 map to MOAT_ROOT_ID_BASE.. (never host
 *    root); layers are stored shifted into that range.
 *  - rootless with an /etc/subuid entry and newuidmap: 65,536 ids.
 *  - rootless otherwise: only the caller's id, as container root.
 *  - --userns=host: no user namespace (root only; a policy can forbid it).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "engine/engine.h"

static bool have_helpers(void)
{
	static const char *const dirs[] = {"/usr/bin/", "/bin/", "/usr/local/bin/", "/usr/sbin/"};
	bool u = false, g = false;
	char p[64];

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%snewuidmap", dirs[i]);
		u = u || access(p, X_OK) == 0;
		snprintf(p, sizeof(p), "%snewgidmap", dirs[i]);
		g = g || access(p, X_OK) == 0;
	}
	return u && g;
}

int engine_identity_select(bool rootless, uid_t uid, gid_t gid, const char *userns,
			   struct engine_identity *out, struct err **err)
{
	struct image_idmode *m = &out->ids;

	memset(out, 0, sizeof(*out));
	if (!userns || !*userns)
		userns = "auto";
	if (!strcmp(userns, "host")) {
		if (rootless)
			return err_set(err, EPERM,
				       "--userns=host needs root: a rootless container always has "
				       "its own user namespace");
		out->userns = SANDBOX_USERNS_HOST;
		m->kind = IMAGE_IDS_SHIFT;
		m->uid[0] = m->gid[0] = (struct idmap){0, 0, MOAT_ID_RANGE};
		m->n_uid = m->n_gid = 1;
		return 0;
	}
	if (!rootless) {
		if (strcmp(userns, "auto") != 0)
			return err_set(
			    err, EINVAL,
			    "--userns=%s is for rootless use; as root moat maps containers to an "
			    "unprivileged range (auto) or --userns=host",
			    userns);
		out->userns = SANDBOX_USERNS_ROOT;
		m->kind = IMAGE_IDS_SHIFT;
		m->uid[0] = m->gid[0] = (struct idmap){0, MOAT_ROOT_ID_BASE, MOAT_ID_RANGE};
		m->n_uid = m->n_gid = 1;
		return 0;
	}
	if (!strcmp(userns, "subuid") || !strcmp(userns, "auto")) {
		struct err *tmp = NULL;
		int r = userns_subid_maps(uid, gid, m->uid, &m->n_uid, m->gid, &m->n_gid,
					  !strcmp(userns, "auto") ? &tmp : err);

		if (r == 0 && !have_helpers()) {
			if (!strcmp(userns, "subuid")) {
				err_free(&tmp);
				return err_set(err, ENOENT,
					       "--userns=subuid needs newuidmap and newgidmap "
					       "(Debian package uidmap)");
			}
			r = -ENOENT;
		}
		err_free(&tmp);
		if (r == 0) {
			out->userns = SANDBOX_USERNS_SUBUID;
			m->kind = IMAGE_IDS_USERNS;
			m->userns = SANDBOX_USERNS_SUBUID;
			return 0;
		}
		if (strcmp(userns, "auto") != 0)
			return r;
	} else if (strcmp(userns, "single") != 0) {
		return err_set(err, EINVAL,
			       "unknown --userns mode \"%s\" (auto, single, subuid, host)", userns);
	}
	out->userns = SANDBOX_USERNS_SINGLE;
	m->kind = IMAGE_IDS_SQUASH;
	m->uid[0] = (struct idmap){0, uid, 1};
	m->gid[0] = (struct idmap){0, gid, 1};
	m->n_uid = m->n_gid = 1;
	return 0;
}

int engine_store_open(const char *root, bool rootless, uid_t uid, gid_t gid, const char *userns,
		      struct image_store **out, struct err **err)
{
	struct engine_identity id;

	if (engine_identity_select(rootless, uid, gid, userns, &id, err) < 0)
		return err_ret(*err);
	return image_store_open(root, &id.ids, out, err);
}

bool engine_id_mapped(const struct idmap *m, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container && id - m[i].container < m[i].size)
			return true;
	return false;
}

char *engine_image_file_read(const char *dir, const struct image *img, const char *file)
{
	char upper[4200];
	const char *roots[65];
	size_t n = 0;

	if (dir) {
		snprintf(upper, sizeof(upper), "%s/upper", dir);
		roots[n++] = upper;
	}
	for (size_t i = img->n_layers; i-- > 0 && n < ARRAY_SIZE(roots);)
		roots[n++] = img->layer_dirs[i];
	for (size_t i = 0; i < n; i++) {
		_cleanup_close_ int root = open(roots[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		_cleanup_close_ int fd = -1;
		struct stat st;
		char *text = NULL;

		if (root < 0 || fstatat(root, file, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode))
			return NULL; /* whiteout (0/0 char device) or odd type */
		fd = openat(root, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fs_read_fd(fd, 1 << 20, &text, NULL, NULL) < 0)
			return NULL;
		return text;
	}
	return NULL;
}
