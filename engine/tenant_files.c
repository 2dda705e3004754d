/*
 * engine/tenant_files.c - finding, reading and merging the tenant policy
 * files, and enforcing the policy on create's final request
 * (engine/tenant_files.h).
 *
 * Runs in: the moat process, as the invoking user or root. The bytes go
 * to the pure decoder in policy/tenant.c; this file decides which files
 * count, moves bytes, and builds the request from create's decisions.
 *
 * Invariants:
 *  - a file that exists but cannot be read, is not a regular file, is too
 *    large or does not decode is an error naming it: a broken policy never
 *    falls back to a looser one; only ENOENT makes a file absent;
 *  - as root, a policy file or directory not owned by root, or writable
 *    by group or others, is refused (checked on the opened fd, so a
 *    rename between check and read cannot swap it);
 *  - --policy FILE replaces both the system files and the user's;
 *  - the user's file only tightens (tenant_policy_tighten); with no
 *    system file it is the policy on its own, as --policy would be;
 *  - decisions are made on the request create already normalised (env
 *    files merged, repeated flags applied, capabilities resolved to the
 *    final set, the seccomp profile's path made canonical, the network
 *    resolved to its own name and driver, -P expanded into specs).
 */
#include "engine/tenant_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "engine/events.h"
#include "engine/networks.h"
#include "image/reference.h"

static void policy_freep(struct tenant_policy **p)
{
	tenant_policy_free(*p);
}
#define _cleanup_tpolicy_ __attribute__((cleanup(policy_freep)))

void engine_tenant_sources_clear(struct engine_tenant_sources *s)
{
	if (!s)
		return;
	free(s->override);
	for (size_t i = 0; s->system && s->system[i]; i++)
		free(s->system[i]);
	free(s->system);
	free(s->user_path);
	memset(s, 0, sizeof(*s));
}

static int owner_check(const char *what, const char *path, const struct stat *st, struct err **err)
{
	if (st->st_uid != 0)
		return err_set(err, EPERM,
			       "tenant policy %s %s: not owned by root (uid %u): refused when "
			       "running as root",
			       what, path, (unsigned)st->st_uid);
	if (st->st_mode & 022)
		return err_set(err, EPERM,
			       "tenant policy %s %s: writable by group or others (mode %04o): "
			       "refused when running as root",
			       what, path, (unsigned)(st->st_mode & 07777));
	return 0;
}

static int read_one(const char *path, bool missing_ok, bool strict, struct tenant_policy **out,
		    struct err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len;
	int ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		return err_errno(err, errno, "tenant policy %s", path);
	}
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "tenant policy %s", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "tenant policy %s: not a regular file", path);
	if (strict && (ret = owner_check("file", path, &st, err)) < 0)
		return ret;
	if (st.st_size > TENANT_POLICY_MAX_BYTES)
		return err_set(err, EFBIG, "tenant policy %s: larger than %d bytes", path,
			       TENANT_POLICY_MAX_BYTES);
	if (fs_read_fd(fd, TENANT_POLICY_MAX_BYTES, &buf, &len, err) < 0)
		return err_prefix(err, "tenant policy %s", path);
	return tenant_policy_decode(buf, len, path, out, err);
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json names of DIR, sorted; *OUT NULL when DIR does not exist. */
static int list_dir(const char *dir, bool strict, char ***out, struct err **err)
{
	DIR *d;
	struct dirent *e;
	struct stat st;
	char **v = NULL;
	size_t n = 0;

	*out = NULL;
	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return err_errno(err, errno, "tenant policy directory %s", dir);
	}
	if (strict && (fstat(dirfd(d), &st) < 0 || owner_check("directory", dir, &st, err) < 0)) {
		closedir(d);
		return *err ? err_ret(*err) : err_errno(err, errno, "tenant policy %s", dir);
	}
	v = calloc(1, sizeof(char *));
	while (v && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char **nv;

		if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json"))
			continue;
		if (n == ENGINE_TENANT_MAX_FILES) {
			closedir(d);
			strv_free(v);
			return err_set(err, E2BIG, "tenant policy directory %s: more than %d files",
				       dir, ENGINE_TENANT_MAX_FILES);
		}
		nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv || asprintf(&nv[n], "%s/%s", dir, e->d_name) < 0) {
			v = nv ? nv : v;
			v[n] = NULL;
			strv_free(v);
			closedir(d);
			return err_errno(err, ENOMEM, "tenant policy");
		}
		v = nv;
		v[++n] = NULL;
	}
	closedir(d);
	if (!v)
		return err_errno(err, ENOMEM, "tenant policy");
	qsort(v, n, sizeof(char *), name_cmp);
	*out = v;
	return 0;
}

static int user_path(char **out, struct err **err)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	int r;

	*out = NULL;
	if (x && x[0] == '/')
		r = asprintf(out, "%s/moat/policy.json", x);
	else if (home && home[0] == '/')
		r = asprintf(out, "%s/.config/moat/policy.json", home);
	else if ((pw = getpwuid(getuid())) && pw->pw_dir && pw->pw_dir[0] == '/')
		r = asprintf(out, "%s/.config/moat/policy.json", pw->pw_dir);
	else
		return 0; /* no home: no user file */
	if (r < 0) {
		*out = NULL;
		return err_errno(err, ENOMEM, "tenant policy path");
	}
	return 0;
}

int engine_tenant_policy_load_from(const char *system_dir, const char *override, bool strict_owner,
				   struct tenant_policy **out, struct engine_tenant_sources *src,
				   struct err **err)
{
	struct engine_tenant_sources s = {0};
	_cleanup_tpolicy_ struct tenant_policy *p = NULL, *user = NULL;
	int ret = 0;

	*out = NULL;
	if (src)
		memset(src, 0, sizeof(*src));
	if (override) {
		/* The whole policy: it must exist (a typo must not mean "no
		 * policy"). */
		if (!(s.override = strdup(override))) {
			ret = err_errno(err, ENOMEM, "tenant policy");
			goto done;
		}
		ret = read_one(override, false, strict_owner, &p, err);
		goto done;
	}
	if ((ret = list_dir(system_dir, strict_owner, &s.system, err)) < 0)
		goto done;
	for (size_t i = 0; s.system && s.system[i]; i++) {
		_cleanup_tpolicy_ struct tenant_policy *f = NULL, *m = NULL;

		if ((ret = read_one(s.system[i], false, strict_owner, &f, err)) < 0)
			goto done;
		if (!p) {
			p = steal_ptr(f);
			continue;
		}
		/* All system files apply: each later one tightens the rules
		 * so far and may add tenants of its own. */
		if ((ret = tenant_policy_combine(p, f, s.system[i], &m, err)) < 0)
			goto done;
		tenant_policy_free(p);
		p = steal_ptr(m);
	}
	if ((ret = user_path(&s.user_path, err)) < 0)
		goto done;
	if (s.user_path && (ret = read_one(s.user_path, true, strict_owner, &user, err)) < 0)
		goto done;
	s.user_present = user != NULL;
	if (p && user) {
		_cleanup_tpolicy_ struct tenant_policy *m = NULL;

		if ((ret = tenant_policy_tighten(p, user, s.user_path, &m, err)) < 0)
			goto done;
		tenant_policy_free(p);
		p = steal_ptr(m);
	} else if (user) {
		p = steal_ptr(user);
	}
	if (!p) {
		s.is_empty = true;
		if (!(p = tenant_policy_empty()))
			ret = err_errno(err, ENOMEM, "tenant policy");
	}
done:
	if (ret < 0) {
		engine_tenant_sources_clear(&s);
		return ret;
	}
	*out = steal_ptr(p);
	if (src)
		*src = s;
	else
		engine_tenant_sources_clear(&s);
	return 0;
}

int engine_tenant_policy_load(const struct engine_ctx *c, struct tenant_policy **out,
			      struct engine_tenant_sources *src, struct err **err)
{
	return engine_tenant_policy_load_from(ENGINE_TENANT_SYSTEM_DIR, c->tenant_policy,
					      geteuid() == 0, out, src, err);
}

/* Whether REF names IMG (one of its names or repo digests), compared in
 * normalised form: only then is REF the image's name, not an id. */
static bool names_image(const char *ref, const struct image *img)
{
	struct image_reference a = {0}, b = {0};
	struct err *e = NULL;
	char *const *lists[] = {img->names, img->repo_digests};
	_cleanup_free_ char *sa = NULL;
	bool found = false;

	if (image_reference_parse(ref, &a, &e) < 0) {
		err_free(&e);
		return false;
	}
	sa = image_reference_string(&a);
	image_reference_clear(&a);
	for (size_t l = 0; sa && l < 2 && !found; l++)
		for (size_t i = 0; lists[l] && lists[l][i] && !found; i++) {
			_cleanup_free_ char *sb = NULL;

			if (image_reference_parse(lists[l][i], &b, &e) < 0) {
				err_free(&e);
				continue;
			}
			sb = image_reference_string(&b);
			image_reference_clear(&b);
			found = sb && !strcmp(sa, sb);
		}
	return found;
}

void engine_tenant_request(const struct engine_ctx *c, const struct engine_create_opts *o,
			   const struct image *img, const struct run_process *proc, uint64_t caps,
			   const char *userns, struct engine_limits *limits, char *seccomp_buf,
			   size_t seccomp_len, struct tenant_request *q)
{
	memset(q, 0, sizeof(*q));
	q->uid = (uint32_t)c->uid;
	q->gid = (uint32_t)c->gid;
	q->tenant = c->tenant;
	q->image = names_image(o->image, img) ? o->image : NULL;
	q->image_names = img->names;
	q->network = o->network ? o->network : ENGINE_DEFAULT_NETWORK_MODE;
	q->userns = userns;
	if (!o->seccomp || !strcmp(o->seccomp, "default")) {
		q->seccomp = "default";
	} else if (!strcmp(o->seccomp, "unconfined")) {
		q->seccomp = "unconfined";
	} else {
		/* The profile create compiled; its canonical path, so that
		 * "./p.json" and "/etc/../etc/p.json" are one profile. */
		char rp[PATH_MAX];

		snprintf(seccomp_buf, seccomp_len, "%s",
			 realpath(o->seccomp, rp) ? rp : o->seccomp);
		q->seccomp = seccomp_buf;
	}
	q->landlock_off = o->landlock_off;
	q->apparmor = o->apparmor;
	q->caps = caps;
	q->read_only = o->read_only;
	for (size_t i = 0; proc->env && proc->env[i]; i++)
		q->env_bytes += strlen(proc->env[i]) + 1;
	for (size_t i = 0; proc->argv && proc->argv[i]; i++)
		q->argc++;
	q->limits = limits;
}

struct audit_event *engine_policy_event(const char *action, const char *image,
					const struct tenant_decision *d)
{
	struct audit_event *e = audit_event_new("policy.decision");

	if (!e)
		return NULL;
	audit_event_str(e, "action", action);
	audit_event_str(e, "image", image ? image : "");
	audit_event_str(e, "verdict", d->verdict == TENANT_ALLOW ? "allow" : "deny");
	audit_event_str(e, "rule", d->rule);
	audit_event_str(e, "reason", d->reason);
	audit_event_str(e, "tenant", d->tenant);
	return e;
}

int engine_tenant_decide(const struct engine_ctx *c, struct tenant_request *q,
			 struct tenant_decision *d, bool *applied, struct err **err)
{
	_cleanup_tpolicy_ struct tenant_policy *p = NULL;
	struct engine_tenant_sources src = {0};
	struct tenant_decision own;
	int ret;

	if (!d)
		d = &own;
	memset(d, 0, sizeof(*d));
	if ((ret = engine_tenant_policy_load(c, &p, &src, err)) < 0)
		return ret;
	if (applied)
		*applied = !src.is_empty;
	engine_tenant_sources_clear(&src);
	if (tenant_policy_evaluate(p, q, d) == TENANT_DENY)
		return err_set(err, EPERM, "policy: %s: %s", d->rule, d->reason);
	return 0;
}

/* The driver of the network NET names: "none" and "host" are their own
 * (they have no record); any other is read from the record create
 * settled, by its id, so a name reused since cannot answer. "" when it
 * cannot be read: the policy then refuses it if a drivers rule applies. */
static void net_driver_of(const struct engine_ctx *c, const struct engine_tenant_net *net,
			  char *buf, size_t size)
{
	struct net_network n = {0};
	struct err *e = NULL;

	buf[0] = '\0';
	if (net->driver) {
		snprintf(buf, size, "%s", net->driver);
		return;
	}
	if (!net->name)
		return;
	if (!strcmp(net->name, "none") || !strcmp(net->name, "host")) {
		snprintf(buf, size, "%s", net->name);
		return;
	}
	if (!net->nq || !net->nq->network_id)
		return;
	if (engine_network_inspect(c, net->nq->network_id, &n, &e) < 0) {
		err_free(&e);
		return;
	}
	snprintf(buf, size, "%s", n.driver);
	net_network_clear(&n);
}

int engine_tenant_enforce(const struct engine_ctx *c, const struct engine_create_opts *o,
			  const struct image *img, const struct run_process *proc, uint64_t caps,
			  const char *userns, const struct engine_tenant_net *net,
			  const struct tenant_mount *mounts, size_t n_mounts,
			  struct engine_limits *settled, struct err **err)
{
	struct engine_limits lim = o->limits;
	struct tenant_request q;
	struct tenant_decision d = {0};
	char sc[PATH_MAX], driver[32];
	bool applied = false;
	int ret;

	engine_tenant_request(c, o, img, proc, caps, userns, &lim, sc, sizeof(sc), &q);
	if (net) {
		net_driver_of(c, net, driver, sizeof(driver));
		if (net->name)
			q.network = net->name;
		q.network_driver = driver[0] ? driver : NULL;
		if (net->nq) {
			q.publish = net->nq->publish;
			q.publish_all = net->nq->publish_all;
		}
	}
	q.mounts = mounts;
	q.n_mounts = n_mounts;
	ret = engine_tenant_decide(c, &q, &d, &applied, err);
	/* Every decision a policy made is recorded; with no policy file at
	 * all there was no decision to record. */
	if (ret == -EPERM || (ret == 0 && applied))
		engine_audit_one(&c->audit, engine_policy_event("create", o->image, &d));
	if (ret < 0)
		return ret;
	/* The policy's defaults, where the request left a limit unset;
	 * settled values (the engine's own defaults) give way to them. */
	if (!o->limits.memory && lim.memory) {
		settled->memory = lim.memory;
		if (!o->limits.memory_swap && !lim.memory_swap)
			settled->memory_swap =
			    lim.memory * 2 > lim.memory ? lim.memory * 2 : INT64_MAX;
	}
	if (!o->limits.memory_swap && lim.memory_swap)
		settled->memory_swap = lim.memory_swap;
	if (!o->limits.nano_cpus && lim.nano_cpus)
		settled->nano_cpus = lim.nano_cpus;
	if (!o->limits.cpu_shares && lim.cpu_shares)
		settled->cpu_shares = lim.cpu_shares;
	if (!o->limits.pids_limit && lim.pids_limit)
		settled->pids_limit = lim.pids_limit;
	if (!o->limits.shm_size && lim.shm_size)
		settled->shm_size = lim.shm_size;
	for (size_t i = o->limits.n_ulimits;
	     i < lim.n_ulimits && settled->n_ulimits < ENGINE_MAX_ULIMITS; i++)
		settled->ulimits[settled->n_ulimits++] = lim.ulimits[i];
	return 0;
}

int engine_tenant_check_mounts(const struct engine_ctx *c, const struct tenant_mount *mounts,
			       size_t n, struct err **err)
{
	_cleanup_tpolicy_ struct tenant_policy *p = NULL;
	struct engine_tenant_sources src = {0};
	struct tenant_request q = {
	    .uid = (uint32_t)c->uid,
	    .gid = (uint32_t)c->gid,
	    .tenant = c->tenant,
	    .mounts = mounts,
	    .n_mounts = n,
	};
	struct tenant_decision d = {0};
	int ret;

	if ((ret = engine_tenant_policy_load(c, &p, &src, err)) < 0)
		return ret;
	if (src.is_empty) {
		engine_tenant_sources_clear(&src);
		return 0; /* no policy: nothing to re-check */
	}
	engine_tenant_sources_clear(&src);
	if (tenant_policy_evaluate_mounts(p, &q, &d) == TENANT_ALLOW)
		return 0;
	engine_audit_one(&c->audit, engine_policy_event("start", NULL, &d));
	return err_set(err, EPERM, "policy: %s: %s", d.rule, d.reason);
}
