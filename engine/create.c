/*
 * engine/create.c - `moat create` (and the first half of `moat run`):
 * resolve the image, decide everything about the container once, and
 * write it down: its record, its compiled seccomp filter, its writable
 * layer and its name.
 *
 * Runs in: the moat process, as the invoking user or root.
 *
 * Invariants:
 *  - Everything the container will be confined by is fixed here (caps,
 *    the compiled filter, Landlock, LSM profile, identity) and recorded;
 *    start and exec apply exactly that, never a fresh reading of a file
 *    that may have changed since.
 *  - Image metadata only ever fills the process (argv, env, cwd, user):
 *    never a runtime knob (CVE-2024-3154 class).
 *  - State directories are 0700 and owned by the invoker (CVE-2021-21284).
 *  - A failed create leaves nothing: the directory goes, the name is
 *    released.
 */
#include "engine/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/options.h"
#include "engine/trust.h"
#include "image/image.h"
#include "sandbox/caps.h"
#include "sandbox/seccomp.h"

extern char **environ;

static const char *const userns_names[] = {"single", "subuid", "root-range", "host"};

static int build_caps(const struct engine_create_opts *o, uint64_t *caps, struct err **err)
{
	uint64_t c = sandbox_caps_default();

	for (size_t i = 0; o->cap_add && o->cap_add[i]; i++) {
		int n = sandbox_cap_from_name(o->cap_add[i]);
		if (!strcasecmp(o->cap_add[i], "ALL"))
			c = ~0ULL >> (63 - 40);
		else if (n < 0)
			return err_set(err, EINVAL, "unknown capability \"%s\"", o->cap_add[i]);
		else
			c |= 1ULL << n;
	}
	for (size_t i = 0; o->cap_drop && o->cap_drop[i]; i++) {
		int n = sandbox_cap_from_name(o->cap_drop[i]);
		if (!strcasecmp(o->cap_drop[i], "ALL"))
			c = 0;
		else if (n < 0)
			return err_set(err, EINVAL, "unknown capability \"%s\"", o->cap_drop[i]);
		else
			c &= ~(1ULL << n);
	}
	*caps = c;
	return 0;
}

/* HOME from the image's passwd unless given. */
static int add_home(char ***env, const char *home, struct err **err)
{
	size_t n = 0;
	char **nv;

	for (; (*env)[n]; n++)
		if (!strncmp((*env)[n], "HOME=", 5))
			return 0;
	nv = realloc(*env, (n + 2) * sizeof(char *));
	if (!nv)
		return err_errno(err, ENOMEM, "environment");
	*env = nv;
	if (asprintf(&nv[n], "HOME=%s", home) < 0)
		return err_errno(err, ENOMEM, "environment");
	nv[n + 1] = NULL;
	return 0;
}

static int save_bpf(const char *dir, const struct sandbox_bpf *b, bool durable, struct err **err)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return err_errno(err, errno, "open \"%s\"", dir);
	return fs_write_atomic_ex(dfd, "seccomp.bpf", b->insns, (size_t)b->len * 8, 0600, durable,
				  err);
}

int engine_container_bpf_load(const char *root, const char *id, struct sandbox_bpf *out,
			      struct err **err)
{
	char dir[4200];
	_cleanup_close_ int dfd = -1;
	char *buf = NULL;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	snprintf(dir, sizeof(dir), "%s/containers/%s", root, id);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_errno(err, errno, "open \"%s\"", dir);
	if (fs_read_at(dfd, "seccomp.bpf", 4096 * 8, &buf, &len, err) < 0)
		return err_prefix(err, "the container's seccomp filter");
	if (len == 0 || len % 8 || len / 8 > 4096) {
		free(buf);
		return err_set(err, EINVAL, "the container's seccomp filter is damaged");
	}
	out->insns = buf;
	out->len = (unsigned short)(len / 8);
	return 0;
}

/* design.md "run" step 2: the verification the store recorded for IMG,
 * against the trust policy as it is now (it may have changed since the
 * pull). A refusal is its own audit record, besides container.refused. */
static int check_trust(const struct engine_ctx *c, const char *ref, const struct image *img,
		       char **how, struct err **err)
{
	struct trust_policy *p = NULL;
	int r;

	*how = NULL;
	r = engine_trust_policy_load(c->trust_policy, &p, NULL, err);
	if (r == 0)
		r = engine_trust_check_image(p, c->root, ref, img, how, err);
	trust_policy_free(p);
	if (r == -EPERM)
		engine_audit_one(&c->audit,
				 engine_trust_event("run", ref, img->id, false, (*err)->msg, NULL));
	return r;
}

int engine_create(const struct engine_ctx *c, const struct engine_create_opts *o,
		  char id[SHA256_HEX_LEN + 1], struct err **err)
{
	char *trust_how = NULL;
	struct engine_identity ident = {0};
	struct image_store *store = NULL;
	struct image *img = NULL;
	struct run_process proc = {0};
	struct user_ids ids;
	struct restart_spec restart;
	struct sandbox_bpf bpf = {0};
	struct container_record rec = {0};
	struct timespec now;
	char hostname[65], cache[4200], dir[4200], upper[4300], work[4300], name[64];
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	bool made_dir = false, named = false;
	uint64_t caps = 0;
	int ret;

	id[0] = 0;
	if (o->name && o->name[0]) {
		if (!names_valid(o->name)) {
			err_set(err, EINVAL,
				"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
				"allowed",
				o->name);
			return -EINVAL;
		}
	}
	if ((ret = options_restart_parse(o->restart ? o->restart : "no", &restart, err)) < 0)
		return ret;
	if (o->rm && restart.policy != RESTART_NO)
		return err_set(err, EINVAL,
			       "conflicting options: --restart and --rm (a container removed when "
			       "it exits cannot be restarted)");
	if ((ret = engine_identity_select(c->rootless, c->uid, c->gid, o->userns, &ident, err)) < 0)
		return ret;
	if ((ret = image_store_open(c->root, &ident.ids, &store, err)) < 0)
		goto out;
	if ((ret = image_store_resolve(store, o->image, &img, err)) < 0)
		goto out;
	if ((ret = check_trust(c, o->image, img, &trust_how, err)) < 0)
		goto out;
	if ((ret = digest_random_id(id, err)) < 0)
		goto out;
	snprintf(hostname, sizeof(hostname), "%.12s", id);
	if (o->req.hostname) {
		if (!o->req.hostname[0] || strlen(o->req.hostname) > 64) {
			ret = err_set(err, EINVAL, "invalid hostname \"%s\"", o->req.hostname);
			goto out;
		}
		snprintf(hostname, sizeof(hostname), "%s", o->req.hostname);
	}
	if ((ret = engine_process_build(img->config, &o->req, hostname, environ, &proc, err)) < 0)
		goto out;
	passwd = engine_image_file_read(NULL, img, "etc/passwd");
	group = engine_image_file_read(NULL, img, "etc/group");
	if ((ret = engine_user_resolve(proc.user, passwd, group, &ids, err)) < 0)
		goto out;
	if (ident.userns != SANDBOX_USERNS_HOST &&
	    (!engine_id_mapped(ident.ids.uid, ident.ids.n_uid, ids.uid) ||
	     !engine_id_mapped(ident.ids.gid, ident.ids.n_gid, ids.gid))) {
		ret = err_set(err, EINVAL,
			      "user \"%s\" (uid %u, gid %u) is not mapped in this container's user "
			      "namespace (%s): %s",
			      proc.user, (unsigned)ids.uid, (unsigned)ids.gid,
			      ident.userns == SANDBOX_USERNS_SINGLE ? "single id" : "65,536 ids",
			      ident.userns == SANDBOX_USERNS_SINGLE
				  ? "use --userns=subuid with an /etc/subuid entry"
				  : "ids must be below 65536");
		goto out;
	}
	if ((ret = add_home(&proc.env, ids.home, err)) < 0)
		goto out;
	if ((ret = build_caps(o, &caps, err)) < 0)
		goto out;
	if (!o->seccomp || strcmp(o->seccomp, "unconfined") != 0) {
		snprintf(cache, sizeof(cache), "%s/cache/seccomp", c->root);
		if ((ret = sandbox_seccomp_prepare(o->seccomp, cache, caps, &bpf, err)) < 0)
			goto out;
	}

	/* From here on there is something to undo. */
	snprintf(dir, sizeof(dir), "%s/containers/%s", c->root, id);
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	if ((ret = fs_mkdir_p(dir, 0700, err)) < 0)
		goto out;
	made_dir = true;
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
		ret = err_errno(err, errno, "container state in \"%s\"", dir);
		goto out;
	}
	if (ident.userns == SANDBOX_USERNS_ROOT &&
	    (chown(upper, MOAT_ROOT_ID_BASE, MOAT_ROOT_ID_BASE) < 0 ||
	     chown(work, MOAT_ROOT_ID_BASE, MOAT_ROOT_ID_BASE) < 0)) {
		/* The upper layer belongs to container root (the unprivileged
		 * host range), which the overlay writes as. */
		ret = err_errno(err, errno, "chown container state");
		goto out;
	}
	if (bpf.len && (ret = save_bpf(dir, &bpf, !o->rm, err)) < 0)
		goto out;
	if (o->name && o->name[0]) {
		ret = engine_name_reserve(c->root, o->name, id, err);
		snprintf(name, sizeof(name), "%s", o->name);
	} else {
		ret = engine_name_generate(c->root, id, name, err);
	}
	if (ret < 0)
		goto out;
	named = true;

	clock_gettime(CLOCK_REALTIME, &now);
	memcpy(rec.id, id, sizeof(rec.id));
	rec.name = name;
	rec.image = (char *)o->image;
	rec.image_id = img->id;
	rec.image_trust = trust_how;
	rec.argv = proc.argv;
	rec.env = proc.env;
	rec.cwd = proc.cwd;
	rec.user = proc.user;
	rec.uid = ids.uid;
	rec.gid = ids.gid;
	for (size_t i = 0; i < ids.n_groups && i < CONTAINER_GROUPS_MAX; i++)
		rec.groups[rec.n_groups++] = ids.groups[i];
	rec.hostname = hostname;
	rec.labels = o->labels;
	rec.tty = o->req.tty;
	rec.stdin_open = o->interactive;
	rec.init = o->init;
	rec.userns = (char *)userns_names[ident.userns];
	rec.net = o->net == SANDBOX_NET_HOST ? "host" : "none";
	rec.read_only = o->read_only;
	rec.landlock = !o->landlock_off;
	rec.caps = caps;
	rec.seccomp = (char *)(!o->seccomp ? "default" : o->seccomp);
	rec.apparmor = (char *)o->apparmor;
	rec.rm = o->rm;
	rec.stop_signal = o->stop_signal;
	rec.stop_timeout = o->stop_timeout;
	rec.restart = (char *)(o->restart ? o->restart : "no");
	rec.log_max_size = o->log_max_size;
	rec.log_max_file = o->log_max_file ? o->log_max_file : 1;
	rec.state = CTR_CREATED;
	rec.created = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	/* A --rm container's record dies with it: no fsync on the hot path. */
	ret = engine_container_save(c->root, &rec, !o->rm, err);
out:
	if (ret < 0) {
		engine_audit_refusal(&c->audit, "container.refused", id[0] ? id : NULL, o->image,
				     err ? *err : NULL);
		if (named)
			engine_name_release(c->root, name, id);
		if (made_dir)
			engine_container_dirs_remove("", dir, &ident);
		id[0] = 0;
	}
	sandbox_bpf_free(&bpf);
	engine_process_free(&proc);
	free(trust_how);
	image_free(img);
	image_store_close(store);
	return ret;
}
