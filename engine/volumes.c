/*
 * engine/volumes.c - the `moat volume` verbs (see volumes.h).
 *
 * Runs in: the moat process, as the invoking user or root (and a
 * container's monitor, removing a --rm container's anonymous volumes).
 *
 * Invariants:
 *  - One name, one volume: the record says the driver; a plugin's own
 *    volume of a recorded name is that volume. A name without a record
 *    is looked up in the plugins (probe, Docker's getVolume) before
 *    inspect or rm says "No such volume" and before run makes a local
 *    volume of it.
 *  - A plugin is asked whether it has a volume (Get) before it is asked
 *    to Create it: what it already had is recorded, never created again
 *    and never removed by the undo of a failed create.
 *  - In use means referred to by any container record, running or not
 *    (Docker's rule), checked under the volumes lock.
 *  - Removing a plugin volume asks the plugin first; only when it agreed
 *    does the record go, so the record never says less than the plugin.
 *  - A rootless volume's data may hold files of subordinate ids (written
 *    by the container): they are removed from inside the user namespace.
 */
#include "engine/volumes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "engine/mounts.h"
#include "volume/mountspec.h"
#include "volume/plugin.h"

void engine_volume_owner(const struct engine_identity *ident, uid_t *uid, gid_t *gid)
{
	*uid = geteuid();
	*gid = getegid();
	for (size_t i = 0; i < ident->ids.n_uid; i++)
		if (ident->ids.uid[i].container == 0)
			*uid = ident->ids.uid[i].host;
	for (size_t i = 0; i < ident->ids.n_gid; i++)
		if (ident->ids.gid[i].container == 0)
			*gid = ident->ids.gid[i].host;
}

int engine_volume_create(const struct engine_ctx *c, const struct engine_identity *ident,
			 const char *name, const char *driver, char *const *labels,
			 char *const *opts, bool anonymous, struct volume *out, bool *existed,
			 struct err **err)
{
	struct volume_create_opts o = {
	    .name = name,
	    .driver = driver,
	    .labels = labels,
	    .options = opts,
	    .anonymous = anonymous,
	};
	struct plugin *pl = NULL;
	struct volume cur = {0};
	int ret;

	engine_volume_owner(ident, &o.owner_uid, &o.owner_gid);
	*existed = false;
	if (name && !volume_name_valid(name))
		return err_set(err, EINVAL,
			       "\"%s\" includes invalid characters for a local volume name, only "
			       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed",
			       name);
	if (!driver || !strcmp(driver, VOLUME_DRIVER_LOCAL))
		return volume_create(c->root, &o, out, existed, err);
	/* A plugin volume: the name must be free or already this driver's. */
	if (name && volume_load(c->root, name, &cur, NULL) == 0) {
		volume_free(&cur);
		/* The existing volume, or the error naming both drivers. */
		return volume_create(c->root, &o, out, existed, err);
	}
	if (!name)
		return err_set(err, EINVAL, "a volume of driver \"%s\" needs a name", driver);
	if ((ret = plugin_find(driver, &pl, err)) < 0)
		return ret;
	/* Get before Create, as Docker's store does: a volume the plugin
	 * already has (made by another host, or by moat before its record
	 * was lost) is taken as it is; creating it again could reset it, and
	 * an undo would remove data this call never made. */
	{
		struct plugin_volume pv = {0};
		_cleanup_err_ struct err *ge = NULL;
		bool found = false;

		ret = plugin_volume_get(pl, name, &pv, &found, &ge);
		plugin_volume_free(&pv);
		if (ret < 0 && ret != -EREMOTEIO) {
			/* Not known whether it has it: nothing is created blind. */
			ret = err_set(err, ge->code, "%s", ge->msg);
			goto out;
		}
		if (ret == 0 && found) {
			if ((ret = volume_create(c->root, &o, out, existed, err)) == 0)
				*existed = true;
			goto out;
		}
	}
	if ((ret = plugin_volume_create(pl, name, opts, err)) < 0)
		goto out;
	if ((ret = volume_create(c->root, &o, out, existed, err)) < 0) {
		struct err *e = NULL;
		/* Not recorded: the plugin's volume goes again. */
		if (plugin_volume_remove(pl, name, &e) < 0) {
			fprintf(stderr, "moat: warning: %s\n", e->msg);
			err_free(&e);
		}
	}
out:
	plugin_free(pl);
	return ret;
}

/* The probe (see volumes.h), with the plugin that answered and its Get. */
static int probe(const struct engine_ctx *c, const char *name, struct plugin **out,
		 struct plugin_volume *pv)
{
	_cleanup_strv_ char **names = NULL;

	(void)c;
	*out = NULL;
	*pv = (struct plugin_volume){0};
	if (!volume_name_valid(name))
		return 0;
	names = plugin_list_names();
	if (!names)
		return -ENOMEM;
	for (size_t i = 0; names[i]; i++) {
		struct plugin *pl = NULL;
		struct err *e = NULL;
		bool found = false;
		int r;

		r = plugin_find(names[i], &pl, &e);
		if (r == 0)
			r = plugin_volume_get(pl, name, pv, &found, &e);
		if (r == 0 && found) {
			*out = pl;
			return 1;
		}
		plugin_volume_free(pv);
		plugin_free(pl);
		/* An Err is the plugin's "no such volume"; anything else
		 * means it was not asked, and the user should know. */
		if (r < 0 && r != -EREMOTEIO)
			fprintf(stderr, "moat: warning: %s (volume %s not looked up there)\n",
				e->msg, name);
		err_free(&e);
		if (r == -ENOMEM)
			return r;
	}
	return 0;
}

int engine_volume_probe(const struct engine_ctx *c, const char *name, char **driver)
{
	struct plugin *pl = NULL;
	struct plugin_volume pv = {0};
	int r = probe(c, name, &pl, &pv);

	*driver = NULL;
	plugin_volume_free(&pv);
	if (r > 0) {
		*driver = strdup(pl->name);
		r = *driver ? 1 : -ENOMEM;
	}
	plugin_free(pl);
	return r;
}

/* RFC 3339 (what plugins put in CreatedAt: "2024-01-01T00:00:00Z",
 * "...+02:00", fractions) as unix ns; 0 when it is not that. */
static int64_t rfc3339_ns(const char *s)
{
	struct tm tm = {0};
	int64_t ns = 0, scale = 100000000, off = 0;
	const char *p;
	time_t t;

	if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ns += scale * (*p - '0');
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if ((*p == '+' || *p == '-') && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
		   p[2] <= '9' && p[3] == ':' && p[4] >= '0' && p[4] <= '9' && p[5] >= '0' &&
		   p[5] <= '9') {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		      ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
		p += 6;
	} else {
		return 0;
	}
	if (*p || (t = timegm(&tm)) == (time_t)-1)
		return 0;
	return ((int64_t)t - off) * 1000000000LL + ns;
}

int engine_volume_inspect(const struct engine_ctx *c, const char *name, struct volume *out,
			  char **status, bool *recorded, struct err **err)
{
	struct plugin *pl = NULL;
	struct plugin_volume pv = {0};
	bool found = false;
	int ret;

	*status = NULL;
	*recorded = false;
	if (!volume_name_valid(name))
		return err_set(err, ENOENT, "No such volume: %s", name);
	ret = volume_load(c->root, name, out, err);
	if (ret == -ENOENT) {
		/* Not ours: a plugin's own volume, if one has it. */
		err_free(err);
		if ((ret = probe(c, name, &pl, &pv)) <= 0)
			return ret < 0 ? err_errno(err, -ret, "volume %s", name)
				       : err_set(err, ENOENT, "No such volume: %s", name);
		*out = (struct volume){
		    .name = strdup(name),
		    .driver = strdup(pl->name),
		    .labels = calloc(1, sizeof(char *)),
		    .options = calloc(1, sizeof(char *)),
		    .created = rfc3339_ns(pv.created_at),
		    .mountpoint = steal_ptr(pv.mountpoint),
		};
		*status = steal_ptr(pv.status);
		plugin_volume_free(&pv);
		plugin_free(pl);
		if (!out->name || !out->driver || !out->labels || !out->options) {
			volume_free(out);
			free(steal_ptr(*status));
			return err_errno(err, ENOMEM, "volume %s", name);
		}
		return 0;
	}
	if (ret < 0)
		return ret;
	*recorded = true;
	if (!strcmp(out->driver, VOLUME_DRIVER_LOCAL))
		return 0;
	if ((ret = plugin_find(out->driver, &pl, err)) < 0 ||
	    (ret = plugin_volume_get(pl, name, &pv, &found, err)) < 0) {
		plugin_free(pl);
		volume_free(out);
		return ret;
	}
	plugin_free(pl);
	if (!found) {
		ret = err_set(err, ENOENT,
			      "volume %s: its plugin \"%s\" no longer has it (remove it with "
			      "`moat volume rm %s`)",
			      name, out->driver ? out->driver : "?", name);
		volume_free(out);
		plugin_volume_free(&pv);
		return ret;
	}
	out->mountpoint = steal_ptr(pv.mountpoint);
	*status = steal_ptr(pv.status);
	plugin_volume_free(&pv);
	return 0;
}

int engine_volume_list(const struct engine_ctx *c, struct volume **out, size_t *n, struct err **err)
{
	_cleanup_strv_ char **names = NULL;
	int ret;

	/* A reconcile point: Unmounts that failed earlier are tried again
	 * before the volumes are shown. */
	engine_mounts_retry_unmounts(c);
	if ((ret = volume_list(c->root, out, n, err)) < 0)
		return ret;
	names = plugin_list_names();
	for (size_t i = 0; names && names[i]; i++) {
		struct plugin *pl = NULL;
		struct plugin_volume *pv = NULL;
		size_t np = 0;
		struct err *e = NULL;

		if (plugin_find(names[i], &pl, &e) < 0 ||
		    plugin_volume_list(pl, &pv, &np, &e) < 0) {
			fprintf(stderr, "moat: warning: %s\n", e->msg);
			err_free(&e);
			plugin_free(pl);
			continue;
		}
		for (size_t k = 0; k < np; k++) {
			bool known = false;
			struct volume *v;

			for (size_t j = 0; j < *n && !known; j++)
				known = !strcmp((*out)[j].name, pv[k].name);
			if (known || !volume_name_valid(pv[k].name))
				continue;
			v = realloc(*out, (*n + 1) * sizeof(**out));
			if (!v)
				break;
			*out = v;
			memset(&v[*n], 0, sizeof(v[*n]));
			v[*n].name = strdup(pv[k].name);
			v[*n].driver = strdup(names[i]);
			v[*n].labels = calloc(1, sizeof(char *));
			v[*n].options = calloc(1, sizeof(char *));
			if (!v[*n].name || !v[*n].driver || !v[*n].labels || !v[*n].options) {
				volume_free(&v[*n]);
				break;
			}
			(*n)++;
		}
		for (size_t k = 0; k < np; k++)
			plugin_volume_free(&pv[k]);
		free(pv);
		plugin_free(pl);
	}
	return 0;
}

int engine_volume_users(const struct engine_ctx *c, const char *name, char ***ids, struct err **err)
{
	struct container_entry *e = NULL;
	size_t n = 0, k = 0;
	int ret;

	*ids = NULL;
	if ((ret = engine_container_list(c->root, c->runroot, &e, &n, err)) < 0)
		return ret;
	if (!(*ids = calloc(n + 1, sizeof(char *)))) {
		engine_container_list_free(e, n);
		return err_errno(err, ENOMEM, "volume users");
	}
	for (size_t i = 0; i < n; i++) {
		bool uses = false;

		for (size_t m = 0; m < e[i].rec.n_mounts && !uses; m++)
			uses = e[i].rec.mounts[m].type == MOUNT_VOLUME &&
			       !strcmp(e[i].rec.mounts[m].source, name);
		if (uses && !((*ids)[k++] = strdup(e[i].rec.id))) {
			engine_container_list_free(e, n);
			strvfree(*ids);
			*ids = NULL;
			return err_errno(err, ENOMEM, "volume users");
		}
	}
	engine_container_list_free(e, n);
	return 0;
}

static int rm_in_userns(void *path)
{
	return fs_rm_rf_at(AT_FDCWD, path, NULL) < 0 ? 1 : 0;
}

/* Under the volumes lock. Rootless, the data goes first (from inside the
 * user namespace: the container may have written files as other ids of
 * its range), then the record: a crash in between leaves the volume
 * listed with what was not yet removed, and `volume rm` again finishes. */
static int remove_locked(const struct engine_ctx *c, const char *name, char **driver,
			 struct err **err)
{
	struct volume v = {0};
	int ret;

	if ((ret = volume_load(c->root, name, &v, err)) < 0)
		return ret;
	if (strcmp(v.driver, VOLUME_DRIVER_LOCAL) != 0) {
		struct plugin *pl = NULL;

		if ((ret = plugin_find(v.driver, &pl, err)) < 0 ||
		    (ret = plugin_volume_remove(pl, name, err)) < 0) {
			plugin_free(pl);
			volume_free(&v);
			return ret;
		}
		plugin_free(pl);
		/* The plugin has no such volume any more: an Unmount still
		 * owed for it has nothing left to release. */
		engine_mounts_forget_unmounts(c, v.driver, name);
	} else if (c->rootless && v.mountpoint) {
		struct engine_identity ident;
		struct err *e = NULL;

		/* Files the container wrote as other ids of its range can only
		 * be removed from inside; without a range all are ours. */
		if (engine_identity_select(true, c->uid, c->gid, NULL, &ident, &e) == 0 &&
		    ident.userns == SANDBOX_USERNS_SUBUID)
			userns_run(ident.userns, ident.ids.uid, ident.ids.n_uid, ident.ids.gid,
				   ident.ids.n_gid, rm_in_userns, v.mountpoint, &e);
		err_free(&e);
	}
	if ((ret = volume_remove(c->root, name, err)) == 0 && driver)
		*driver = steal_ptr(v.driver);
	volume_free(&v);
	return ret;
}

int engine_volume_remove_unused(const struct engine_ctx *c, const char *name, struct err **err)
{
	_cleanup_close_ int lock = volume_lock(c->root, err);

	if (lock < 0)
		return lock;
	return remove_locked(c, name, NULL, err);
}

int engine_volume_remove(const struct engine_ctx *c, const char *name, bool force, char **driver,
			 struct err **err)
{
	_cleanup_strv_ char **users = NULL;
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *drv = NULL;
	struct plugin *pl = NULL;
	struct plugin_volume pv = {0};
	struct volume v = {0};
	int ret;

	if (driver)
		*driver = NULL;
	if (!volume_name_valid(name))
		goto missing;
	if (volume_load(c->root, name, &v, NULL) == 0) {
		drv = steal_ptr(v.driver);
		volume_free(&v);
	} else {
		/* No record: Docker asks the drivers (a plugin's own volume
		 * is one to remove through that plugin). */
		if ((ret = probe(c, name, &pl, &pv)) < 0)
			return err_errno(err, -ret, "remove %s", name);
		plugin_volume_free(&pv);
		if (ret == 0)
			goto missing;
		if (!(drv = strdup(pl->name))) {
			plugin_free(pl);
			return err_errno(err, ENOMEM, "remove %s", name);
		}
	}
	/* A dead monitor's plugin mounts are released before "in use" is
	 * asked, and so are the Unmounts still owed for this volume (the
	 * plugin would refuse to remove a volume it thinks is mounted). */
	engine_reconcile(c);
	if (strcmp(drv, VOLUME_DRIVER_LOCAL) != 0)
		engine_mounts_retry_unmounts_of(c, drv, name);
	if ((lock = volume_lock(c->root, err)) < 0)
		goto out;
	if ((ret = engine_volume_users(c, name, &users, err)) < 0) {
		lock = ret;
		goto out;
	}
	if (users && users[0]) {
		char list[1024] = "";
		size_t off = 0;

		for (size_t i = 0; users[i] && off < sizeof(list) - 70; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						i ? ", " : "", users[i]);
		plugin_free(pl);
		return err_set(err, EBUSY, "remove %s: volume is in use - [%s]", name, list);
	}
	/* Under the lock the record decides (a `run` may have just taken
	 * the plugin's volume as its own). */
	if (!pl || volume_load(c->root, name, &v, NULL) == 0) {
		volume_free(&v);
		plugin_free(pl);
		return remove_locked(c, name, driver, err);
	}
	if ((ret = plugin_volume_remove(pl, name, err)) == 0) {
		engine_mounts_forget_unmounts(c, drv, name);
		if (driver)
			*driver = steal_ptr(drv);
	}
	plugin_free(pl);
	return ret;
out:
	plugin_free(pl);
	return lock;
missing:
	if (force)
		return 0;
	return err_set(err, ENOENT, "No such volume: %s", name);
}

int engine_volume_prune(const struct engine_ctx *c, bool all, const struct prune_filter *f,
			char ***removed, struct err **err)
{
	struct volume *v = NULL;
	size_t n = 0, k = 0;
	int ret;

	*removed = NULL;
	if ((ret = volume_list(c->root, &v, &n, err)) < 0)
		return ret;
	if (!(*removed = calloc(n + 1, sizeof(char *)))) {
		volume_list_free(v, n);
		return err_errno(err, ENOMEM, "prune");
	}
	for (size_t i = 0; i < n; i++) {
		struct err *e = NULL;

		if ((!all && !v[i].anonymous) ||
		    (f && !prune_filter_match(f, v[i].created, v[i].labels)))
			continue;
		if (engine_volume_remove(c, v[i].name, false, NULL, &e) < 0) {
			if (e->code != EBUSY)
				fprintf(stderr, "moat: warning: %s\n", e->msg);
			err_free(&e);
			continue;
		}
		(*removed)[k++] = v[i].name;
		v[i].name = NULL;
	}
	volume_list_free(v, n);
	return 0;
}
