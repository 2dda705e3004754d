/*
 * engine/commit.c - `moat commit`, the engine's half (engine/commit.h).
 *
 * Runs in: the moat CLI process, as the invoking user or root. It reads
 * the container's record and opens its upper directory here, before the
 * store's child enters the container's user namespace (as that
 * namespace's root it could not traverse ROOT/containers, which is 0700
 * and the invoker's).
 *
 * Invariants:
 *  - a container this call froze is thawed again whatever happens after
 *    the freeze; one that was paused before stays paused;
 *  - moat's own mount targets in the upper layer (/etc/hosts, /proc, ...:
 *    engine/diff.c's list) are not part of the image, like Docker's init
 *    layer;
 *  - the --change flags are checked before anything is frozen or written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "engine/commit.h"
#include "engine/containers.h"
#include "engine/ctl.h"
#include "engine/diff.h"
#include "engine/engine.h"
#include "image/commit.h"

#define SKIP_MAX 16

void engine_commit_result_clear(struct engine_commit_result *r)
{
	free(r->container_name);
	free(r->name);
	free(r->not_paused);
	free(r->unpause_error);
	memset(r, 0, sizeof(*r));
}

static void store_closep(struct image_store **s)
{
	image_store_close(*s);
}

/* Freezes ID when it runs: 1 when this call froze it, 0 when it was left
 * as it is (RES->not_paused says why, for a running one). */
static int freeze(const struct engine_ctx *c, const struct container_record *rec, const char *rdir,
		  struct engine_commit_result *res, struct err **err)
{
	struct err *e = NULL;
	int r;

	if (engine_container_state(c->runroot, rec) != CTR_RUNNING)
		return 0; /* created, exited: nothing moves; paused: stays so */
	if (c->rootless) {
		res->not_paused = strdup("no freezer cgroup for rootless containers");
		return res->not_paused ? 0 : err_errno(err, ENOMEM, "commit");
	}
	r = ctl_call(rdir, CTL_PAUSE, 0, 0, NULL, NULL, &e);
	if (r == 0)
		return 1;
	if (e && e->code == ENOTSUP) {
		res->not_paused = strdup(e->msg);
		err_free(&e);
		return res->not_paused ? 0 : err_errno(err, ENOMEM, "commit");
	}
	/* It may have exited (or been paused by someone) meanwhile. */
	if (engine_container_state(c->runroot, rec) != CTR_RUNNING ||
	    !engine_container_monitored(c->runroot, rec->id)) {
		err_free(&e);
		return 0;
	}
	r = err_set(err, e ? e->code : EIO, "pause %s: %s", rec->name, e ? e->msg : "failed");
	err_free(&e);
	return r;
}

int engine_commit(const struct engine_ctx *c, const struct engine_commit_opts *o,
		  struct engine_commit_result *res, struct err **err)
{
	__attribute__((cleanup(store_closep))) struct image_store *s = NULL;
	_cleanup_close_ int upper = -1;
	struct container_record rec;
	struct engine_identity ident;
	const char *skip[SKIP_MAX + 1] = {0};
	char dir[4200], rdir[4200];
	size_t ns = 0;
	int r, frozen = 0;

	memset(res, 0, sizeof(*res));
	if (image_commit_changes_check(o->changes, err) < 0)
		return err_ret(*err);
	if (o->repo && *o->repo && image_ref_normalize(o->repo, &res->name, err) < 0)
		return err_ret(*err);
	r = engine_container_resolve(c->root, o->container, res->container_id, err);
	if (r < 0)
		return r;
	r = engine_container_load(c->root, res->container_id, &rec, err);
	if (r < 0)
		return r;
	res->container_name = strdup(rec.name ? rec.name : res->container_id);
	if (!res->container_name)
		r = err_errno(err, ENOMEM, "commit");
	if (r == 0 && !rec.image_id)
		r = err_set(err, EINVAL, "container %s has no image", rec.name);
	if (r == 0)
		r = engine_container_identity(&rec, c->rootless, c->uid, c->gid, &ident, err);
	snprintf(dir, sizeof(dir), "%s/containers/%s/upper", c->root, rec.id);
	snprintf(rdir, sizeof(rdir), "%s/containers/%s", c->runroot, rec.id);
	if (r == 0) {
		upper = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (upper < 0)
			r = err_errno(err, errno, "container %s: its writable layer", rec.name);
	}
	if (r == 0)
		r = engine_store_open(c->root, c->rootless, c->uid, c->gid, NULL, &s, err);
	for (size_t i = 0; diff_mount_targets[i] && ns < SKIP_MAX; i++)
		skip[ns++] = diff_mount_targets[i] + 1; /* relative to the layer */
	if (r == 0 && o->pause)
		r = frozen = freeze(c, &rec, rdir, res, err);
	if (r >= 0) {
		struct image_commit_src src = {
		    .parent = rec.image_id,
		    .upperfd = upper,
		    .userns = ident.userns,
		    .ids = &ident.ids,
		    .skip = skip,
		};
		struct image_commit_meta meta = {
		    .author = o->author,
		    .comment = o->message,
		    .created_by = "moat commit",
		    .container = rec.id,
		    .created = time(NULL),
		};

		struct image_admit ia = {.fn = engine_trust_admit, .arg = o->trust};

		if (o->trust)
			image_store_set_admit(s, &ia);
		r = image_store_commit(s, &src, o->changes, &meta, res->name, res->image_id, err);
	}
	if (frozen > 0) {
		struct err *e = NULL;
		if (ctl_call(rdir, CTL_UNPAUSE, 0, 0, NULL, NULL, &e) < 0) {
			res->unpause_error = strdup(e ? e->msg : "unpause failed");
			err_free(&e);
		}
	}
	engine_container_record_free(&rec);
	return r < 0 ? r : 0;
}
