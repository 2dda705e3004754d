/*
 * engine/containers.c - container records, listing and removal.
 *
 * Runs in: the moat process, as the invoking user or root.
 *
 * Invariants:
 *  - A container is running while its monitor holds the flock on
 *    RUNROOT/containers/<id>/lock; removal takes that lock itself first, so
 *    it never removes a container that is starting or running.
 *  - The record is decoded strictly into a struct at this one boundary; ids
 *    are 64 lowercase hex characters, so a record can never name a path.
 */
#include "engine/containers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/userns.h"
#include "engine/ctl.h"
#include "engine/mounts.h"
#include "engine/netreq.h"
#include "sandbox/cgroup.h"

void engine_container_record_free(struct container_record *r)
{
	free(r->name);
	free(r->image);
	free(r->image_id);
	free(r->image_trust);
	strvfree(r->argv);
	strvfree(r->env);
	strvfree(r->labels);
	free(r->cwd);
	free(r->user);
	free(r->hostname);
	free(r->userns);
	free(r->net);
	free(r->seccomp);
	free(r->apparmor);
	free(r->restart);
	free(r->limits_enforced);
	engine_mounts_free(r->mounts, r->n_mounts);
	engine_netreq_free(&r->netreq);
	memset(r, 0, sizeof(*r));
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *str_json(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* RLIM_INFINITY is Docker's -1. */
static json_t *rlim_json(uint64_t v)
{
	return json_integer(v == RLIM_INFINITY || v > INT64_MAX ? -1 : (json_int_t)v);
}

static json_t *limits_json(const struct engine_limits *l)
{
	json_t *o = json_object(), *ul = json_array();

	if (!o || !ul) {
		json_decref(o);
		json_decref(ul);
		return NULL;
	}
	for (size_t i = 0; i < l->n_ulimits && i < ENGINE_MAX_ULIMITS; i++) {
		const char *name = engine_limits_ulimit_name(l->ulimits[i].resource);
		json_t *u = json_object();

		if (!u || !name) {
			json_decref(u);
			continue;
		}
		json_object_set_new(u, "name", json_string(name));
		json_object_set_new(u, "soft", rlim_json(l->ulimits[i].soft));
		json_object_set_new(u, "hard", rlim_json(l->ulimits[i].hard));
		json_array_append_new(ul, u);
	}
	json_object_set_new(o, "memory", json_integer(l->memory));
	json_object_set_new(o, "memory_swap", json_integer(l->memory_swap));
	json_object_set_new(o, "memory_reservation", json_integer(l->memory_reservation));
	json_object_set_new(o, "nano_cpus", json_integer(l->nano_cpus));
	json_object_set_new(o, "cpu_shares", json_integer(l->cpu_shares));
	json_object_set_new(o, "cpuset_cpus", json_string(l->cpuset_cpus));
	json_object_set_new(o, "pids_limit", json_integer(l->pids_limit));
	json_object_set_new(o, "ulimits", ul);
	json_object_set_new(o, "oom_score_adj",
			    l->has_oom_score_adj ? json_integer(l->oom_score_adj) : json_null());
	json_object_set_new(o, "shm_size", json_integer(l->shm_size));
	return o;
}

int engine_container_record_encode(const struct container_record *r, char **out, size_t *len,
				   struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	json_t *groups = json_array();
	char caps[32];
	char *s;

	if (!o || !groups) {
		json_decref(groups);
		return err_errno(err, ENOMEM, "container record");
	}
	for (size_t i = 0; i < r->n_groups && i < CONTAINER_GROUPS_MAX; i++)
		json_array_append_new(groups, json_integer(r->groups[i]));
	snprintf(caps, sizeof(caps), "%016llx", (unsigned long long)r->caps);
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "name", json_string(r->name ? r->name : ""));
	json_object_set_new(o, "image", json_string(r->image ? r->image : ""));
	json_object_set_new(o, "image_id", json_string(r->image_id ? r->image_id : ""));
	if (r->image_trust)
		json_object_set_new(o, "image_trust", json_string(r->image_trust));
	json_object_set_new(o, "argv", strv_json(r->argv));
	json_object_set_new(o, "env", strv_json(r->env));
	json_object_set_new(o, "labels", strv_json(r->labels));
	json_object_set_new(o, "cwd", json_string(r->cwd ? r->cwd : "/"));
	json_object_set_new(o, "user", json_string(r->user ? r->user : ""));
	json_object_set_new(o, "uid", json_integer(r->uid));
	json_object_set_new(o, "gid", json_integer(r->gid));
	json_object_set_new(o, "groups", groups);
	json_object_set_new(o, "hostname", json_string(r->hostname ? r->hostname : ""));
	json_object_set_new(o, "tty", json_boolean(r->tty));
	json_object_set_new(o, "stdin_open", json_boolean(r->stdin_open));
	json_object_set_new(o, "init", json_boolean(r->init));
	json_object_set_new(o, "userns", json_string(r->userns ? r->userns : ""));
	json_object_set_new(o, "net", json_string(r->net ? r->net : "none"));
	json_object_set_new(o, "read_only", json_boolean(r->read_only));
	json_object_set_new(o, "landlock", json_boolean(r->landlock));
	json_object_set_new(o, "caps", json_string(caps));
	json_object_set_new(o, "seccomp", json_string(r->seccomp ? r->seccomp : "default"));
	json_object_set_new(o, "apparmor", str_json(r->apparmor));
	json_object_set_new(o, "rm", json_boolean(r->rm));
	json_object_set_new(o, "stop_signal", json_integer(r->stop_signal));
	json_object_set_new(o, "stop_timeout", json_integer(r->stop_timeout));
	json_object_set_new(o, "restart", json_string(r->restart ? r->restart : "no"));
	json_object_set_new(o, "log_max_size", json_integer((json_int_t)r->log_max_size));
	json_object_set_new(o, "log_max_file", json_integer(r->log_max_file));
	{
		json_t *lim = limits_json(&r->limits);

		if (!lim)
			return err_errno(err, ENOMEM, "container record");
		json_object_set_new(o, "limits", lim);
	}
	if (r->limits_enforced)
		json_object_set_new(o, "limits_enforced", json_string(r->limits_enforced));
	if (r->n_mounts) {
		json_t *m = engine_mounts_json(r->mounts, r->n_mounts);

		if (!m)
			return err_errno(err, ENOMEM, "container record");
		json_object_set_new(o, "mounts", m);
	}
	{
		json_t *n = engine_netreq_json(&r->netreq);

		if (!n)
			return err_errno(err, ENOMEM, "container record");
		json_object_set_new(o, "network", n);
	}
	json_object_set_new(o, "state", json_string(ctr_state_name(r->state)));
	json_object_set_new(o, "created", json_integer(r->created));
	json_object_set_new(o, "started", json_integer(r->started));
	json_object_set_new(o, "finished", json_integer(r->finished));
	json_object_set_new(o, "pid", json_integer(r->pid));
	json_object_set_new(o, "exit_code", json_integer(r->exit_code));
	json_object_set_new(o, "oom_killed", json_boolean(r->oom_killed));
	json_object_set_new(o, "restart_count", json_integer(r->restart_count));
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	if (!s)
		return err_errno(err, ENOMEM, "container record");
	*out = s;
	*len = strlen(s);
	return 0;
}

static int get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
		   struct err **err)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return err_set(err, EINVAL, "container record: \"%s\" must be an integer", key);
	*out = json_integer_value(v);
	return 0;
}

static int get_bool(json_t *o, const char *key, bool *out, struct err **err)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return err_set(err, EINVAL, "container record: \"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_str(json_t *o, const char *key, bool nullable, char **out, struct err **err)
{
	json_t *v = json_object_get(o, key);

	if (nullable && json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, EINVAL, "container record: \"%s\" must be a string", key);
	*out = strdup(json_string_value(v));
	return *out ? 0 : err_errno(err, ENOMEM, "container record");
}

static int get_strv(json_t *o, const char *key, char ***out, struct err **err)
{
	if (!json_is_array(json_object_get(o, key)))
		return err_set(err, EINVAL, "container record: \"%s\" must be a list", key);
	return json_get_strv(o, key, out, "container record", err);
}

static int get_rlim(json_t *o, const char *key, uint64_t *out, struct err **err)
{
	int64_t v;

	if (get_int(o, key, -1, INT64_MAX, &v, err) < 0)
		return err_ret(*err);
	*out = v == -1 ? RLIM_INFINITY : (uint64_t)v;
	return 0;
}

/* The "limits" object, as strictly as the flags: a record edited by hand
 * must not smuggle in what `moat run` would refuse. */
static int get_limits(json_t *o, struct engine_limits *l, struct err **err)
{
	static const char *const keys[] = {
	    "memory",	     "memory_swap", "memory_reservation", "nano_cpus",
	    "cpu_shares",    "cpuset_cpus", "pids_limit",	  "ulimits",
	    "oom_score_adj", "shm_size",
	};
	_cleanup_free_ char *cpuset = NULL;
	json_t *ul, *adj, *val;
	const char *key;
	int64_t v = 0;

	if (!json_is_object(o))
		return err_set(err, EINVAL, "container record: \"limits\" must be an object");
	json_object_foreach (o, key, val) {
		size_t k = 0;
		while (k < ARRAY_SIZE(keys) && strcmp(keys[k], key))
			k++;
		if (k == ARRAY_SIZE(keys))
			return err_set(err, EINVAL, "container record: unknown limit \"%s\"", key);
	}
	if (get_int(o, "memory", 0, INT64_MAX, &l->memory, err) < 0 ||
	    get_int(o, "memory_swap", -1, INT64_MAX, &l->memory_swap, err) < 0 ||
	    get_int(o, "memory_reservation", 0, INT64_MAX, &l->memory_reservation, err) < 0 ||
	    get_int(o, "nano_cpus", 0, INT64_MAX, &l->nano_cpus, err) < 0 ||
	    get_int(o, "cpu_shares", 0, 262144, &l->cpu_shares, err) < 0 ||
	    get_str(o, "cpuset_cpus", false, &cpuset, err) < 0 ||
	    get_int(o, "pids_limit", -1, INT64_MAX, &l->pids_limit, err) < 0 ||
	    get_int(o, "shm_size", 0, INT64_MAX, &l->shm_size, err) < 0)
		return err_ret(*err);
	if (cpuset[0] && engine_limits_cpuset_parse(cpuset, l->cpuset_cpus, err) < 0)
		return err_prefix(err, "container record: \"cpuset_cpus\"");
	adj = json_object_get(o, "oom_score_adj");
	if (!json_is_null(adj)) {
		if (get_int(o, "oom_score_adj", -1000, 1000, &v, err) < 0)
			return err_ret(*err);
		l->oom_score_adj = (int)v;
		l->has_oom_score_adj = true;
	}
	ul = json_object_get(o, "ulimits");
	if (!json_is_array(ul) || json_array_size(ul) > ENGINE_MAX_ULIMITS)
		return err_set(err, EINVAL, "container record: \"ulimits\" must be a short list");
	for (size_t i = 0; i < json_array_size(ul); i++) {
		json_t *u = json_array_get(ul, i);
		const char *name = json_string_value(json_object_get(u, "name"));
		struct engine_ulimit *e = &l->ulimits[l->n_ulimits];

		e->resource = -1;
		for (int res = 0; name && res < RLIM_NLIMITS; res++)
			if (engine_limits_ulimit_name(res) &&
			    !strcmp(engine_limits_ulimit_name(res), name))
				e->resource = res;
		if (!json_is_object(u) || json_object_size(u) != 3 || e->resource < 0)
			return err_set(err, EINVAL, "container record: bad ulimit");
		if (get_rlim(u, "soft", &e->soft, err) < 0 ||
		    get_rlim(u, "hard", &e->hard, err) < 0)
			return err_ret(*err);
		if (e->hard != RLIM_INFINITY && e->soft > e->hard)
			return err_set(err, EINVAL, "container record: ulimit soft above hard");
		l->n_ulimits++;
	}
	return 0;
}

static int record_decode(const char *buf, size_t len, struct container_record *out,
			 struct err **err);

/* ERR may be NULL (listings skip a record they cannot read). */
int engine_container_record_decode(const char *buf, size_t len, struct container_record *out,
				   struct err **err)
{
	struct err *mine = NULL;
	int r = record_decode(buf, len, out, err ? err : &mine);

	err_free(&mine);
	return r;
}

static int record_decode(const char *buf, size_t len, struct container_record *out,
			 struct err **err)
{
	static const char *const keys[] = {
	    "id",	    "name",	     "image",	     "image_id",     "argv",
	    "env",	    "labels",	     "cwd",	     "user",	     "uid",
	    "gid",	    "groups",	     "hostname",     "tty",	     "stdin_open",
	    "init",	    "userns",	     "net",	     "read_only",    "landlock",
	    "caps",	    "seccomp",	     "apparmor",     "rm",	     "stop_signal",
	    "stop_timeout", "restart",	     "log_max_size", "log_max_file", "state",
	    "created",	    "started",	     "finished",     "pid",	     "exit_code",
	    "oom_killed",   "restart_count", "image_trust",  "limits",	     "limits_enforced",
	    "mounts",	    "network",
	};
	_cleanup_json_ json_t *o = NULL;
	_cleanup_free_ char *id = NULL, *caps = NULL, *state = NULL;
	int64_t v[12];
	json_t *groups;
	const char *key;
	json_t *val;
	char *end;

	memset(out, 0, sizeof(*out));
	if (len > CONTAINER_RECORD_MAX)
		return err_set(err, EFBIG, "container record larger than %u bytes",
			       CONTAINER_RECORD_MAX);
	o = json_parse_strict(buf, len, "container record", err);
	if (!o)
		return err_ret(*err);
	if (!json_is_object(o))
		return err_set(err, EINVAL, "container record: not an object");
	json_object_foreach (o, key, val) {
		size_t k = 0;
		while (k < ARRAY_SIZE(keys) && strcmp(keys[k], key))
			k++;
		if (k == ARRAY_SIZE(keys))
			return err_set(err, EINVAL, "container record: unknown key \"%s\"", key);
	}
	if (get_str(o, "id", false, &id, err) < 0 ||
	    get_str(o, "name", false, &out->name, err) < 0 ||
	    get_str(o, "image", false, &out->image, err) < 0 ||
	    get_str(o, "image_id", false, &out->image_id, err) < 0 ||
	    /* optional: records written before images were signed lack it */
	    (json_object_get(o, "image_trust") &&
	     get_str(o, "image_trust", true, &out->image_trust, err) < 0) ||
	    get_strv(o, "argv", &out->argv, err) < 0 || get_strv(o, "env", &out->env, err) < 0 ||
	    get_strv(o, "labels", &out->labels, err) < 0 ||
	    get_str(o, "cwd", false, &out->cwd, err) < 0 ||
	    get_str(o, "user", false, &out->user, err) < 0 ||
	    get_int(o, "uid", 0, UINT32_MAX, &v[0], err) < 0 ||
	    get_int(o, "gid", 0, UINT32_MAX, &v[1], err) < 0 ||
	    get_str(o, "hostname", false, &out->hostname, err) < 0 ||
	    get_bool(o, "tty", &out->tty, err) < 0 ||
	    get_bool(o, "stdin_open", &out->stdin_open, err) < 0 ||
	    get_bool(o, "init", &out->init, err) < 0 ||
	    get_str(o, "userns", false, &out->userns, err) < 0 ||
	    get_str(o, "net", false, &out->net, err) < 0 ||
	    get_bool(o, "read_only", &out->read_only, err) < 0 ||
	    get_bool(o, "landlock", &out->landlock, err) < 0 ||
	    get_str(o, "caps", false, &caps, err) < 0 ||
	    get_str(o, "seccomp", false, &out->seccomp, err) < 0 ||
	    get_str(o, "apparmor", true, &out->apparmor, err) < 0 ||
	    get_bool(o, "rm", &out->rm, err) < 0 ||
	    get_int(o, "stop_signal", 0, 64, &v[2], err) < 0 ||
	    get_int(o, "stop_timeout", -1, 86400 * 365, &v[3], err) < 0 ||
	    get_str(o, "restart", false, &out->restart, err) < 0 ||
	    get_int(o, "log_max_size", 0, INT64_MAX, &v[4], err) < 0 ||
	    get_int(o, "log_max_file", 0, 1000, &v[5], err) < 0 ||
	    get_str(o, "state", false, &state, err) < 0 ||
	    get_int(o, "created", 0, INT64_MAX, &out->created, err) < 0 ||
	    get_int(o, "started", 0, INT64_MAX, &out->started, err) < 0 ||
	    get_int(o, "finished", 0, INT64_MAX, &out->finished, err) < 0 ||
	    get_int(o, "pid", 0, INT32_MAX, &v[6], err) < 0 ||
	    get_int(o, "exit_code", -1, 255, &v[7], err) < 0 ||
	    get_bool(o, "oom_killed", &out->oom_killed, err) < 0 ||
	    get_int(o, "restart_count", 0, INT32_MAX, &v[8], err) < 0 ||
	    /* optional: records written before resource limits lack both */
	    (json_object_get(o, "limits") &&
	     get_limits(json_object_get(o, "limits"), &out->limits, err) < 0) ||
	    (json_object_get(o, "limits_enforced") &&
	     get_str(o, "limits_enforced", false, &out->limits_enforced, err) < 0) ||
	    /* optional: records written before storage lack it */
	    (json_object_get(o, "mounts") &&
	     engine_mounts_from_json(json_object_get(o, "mounts"), &out->mounts, &out->n_mounts,
				     err) < 0) ||
	    /* optional: records written before networks lack it */
	    (json_object_get(o, "network") &&
	     engine_netreq_from_json(json_object_get(o, "network"), &out->netreq, err) < 0))
		goto bad;
	if (!digest_hex_valid(id)) {
		err_set(err, EINVAL, "container record: bad id");
		goto bad;
	}
	if (out->name[0] && !names_valid(out->name)) {
		err_set(err, EINVAL, "container record: bad name");
		goto bad;
	}
	groups = json_object_get(o, "groups");
	if (!json_is_array(groups) || json_array_size(groups) > CONTAINER_GROUPS_MAX) {
		err_set(err, EINVAL, "container record: \"groups\" must be a short list");
		goto bad;
	}
	for (size_t i = 0; i < json_array_size(groups); i++) {
		json_t *g = json_array_get(groups, i);
		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    json_integer_value(g) > UINT32_MAX) {
			err_set(err, EINVAL, "container record: bad group");
			goto bad;
		}
		out->groups[out->n_groups++] = (uint32_t)json_integer_value(g);
	}
	errno = 0;
	out->caps = strtoull(caps, &end, 16);
	if (!caps[0] || *end || errno || strlen(caps) > 16) {
		err_set(err, EINVAL, "container record: bad caps");
		goto bad;
	}
	if (ctr_state_parse(state, &out->state) < 0) {
		err_set(err, EINVAL, "container record: bad state \"%s\"", state);
		goto bad;
	}
	memcpy(out->id, id, SHA256_HEX_LEN + 1);
	out->uid = (uint32_t)v[0];
	out->gid = (uint32_t)v[1];
	out->stop_signal = (int)v[2];
	out->stop_timeout = (int)v[3];
	out->log_max_size = (uint64_t)v[4];
	out->log_max_file = (uint32_t)v[5];
	out->pid = (int)v[6];
	out->exit_code = (int)v[7];
	out->restart_count = (int)v[8];
	return 0;
bad:
	engine_container_record_free(out);
	return err_ret(*err);
}

int engine_container_save(const char *root, const struct container_record *r, bool durable,
			  struct err **err)
{
	char dir[4200];
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dfd = -1;
	size_t len;

	snprintf(dir, sizeof(dir), "%s/containers/%s", root, r->id);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_errno(err, errno, "open \"%s\"", dir);
	if (engine_container_record_encode(r, &buf, &len, err) < 0)
		return err_ret(*err);
	/* O_PATH dirfd is fine for *at calls that create entries. */
	return fs_write_atomic_ex(dfd, "container.json", buf, len, 0600, durable, err);
}

int engine_container_load(const char *root, const char *id, struct container_record *r,
			  struct err **err)
{
	char dir[4200];
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dfd = -1;
	size_t len;

	memset(r, 0, sizeof(*r));
	if (!digest_hex_valid(id))
		return err_set(err, ENOENT, "No such container: %s", id);
	snprintf(dir, sizeof(dir), "%s/containers/%s", root, id);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 ||
	    fs_read_at(dfd, "container.json", CONTAINER_RECORD_MAX, &buf, &len, err) < 0) {
		err_free(err);
		err_set(err, ENOENT, "No such container: %s", id);
		if (err && *err)
			(*err)->exit = 1;
		return -ENOENT;
	}
	if (engine_container_record_decode(buf, len, r, err) < 0)
		return err_prefix(err, "container %.12s", id);
	if (strcmp(r->id, id) != 0) {
		engine_container_record_free(r);
		return err_set(err, EINVAL, "container %.12s: record names another id", id);
	}
	return 0;
}

bool engine_container_monitored(const char *runroot, const char *id)
{
	char path[4200];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/containers/%s/lock", runroot, id);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	return flock(fd, LOCK_SH | LOCK_NB) < 0;
}

enum ctr_state engine_container_state(const char *runroot, const struct container_record *r)
{
	switch (r->state) {
	case CTR_RUNNING:
	case CTR_PAUSED:
	case CTR_RESTARTING:
	case CTR_REMOVING:
		return engine_container_monitored(runroot, r->id) ? r->state : CTR_EXITED;
	case CTR_CREATED:
	case CTR_EXITED:
	case CTR_DEAD:
	default:
		return r->state;
	}
}

int engine_container_wait_unlocked(const char *runroot, const char *id, int timeout_ms)
{
	char path[4200];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/containers/%s/lock", runroot, id);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	for (int waited = 0;; waited += 10) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return 0;
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return -ETIMEDOUT;
		usleep(10000);
	}
}

/* ---- names ---- */

static int names_dir(const char *root, char *buf, size_t len, bool create, struct err **err)
{
	snprintf(buf, len, "%s/names", root);
	if (create && fs_mkdir_p(buf, 0700, err) < 0)
		return err_ret(*err);
	return 0;
}

/* True when NAME's link is stale: its container is gone or has another name. */
static bool name_stale(const char *root, const char *name, const char *target)
{
	struct container_record r;
	bool stale;

	if (!digest_hex_valid(target))
		return true;
	if (engine_container_load(root, target, &r, NULL) < 0) {
		char dir[4200];
		/* A container being created has its dir before its record. */
		snprintf(dir, sizeof(dir), "%s/containers/%s", root, target);
		return access(dir, F_OK) != 0;
	}
	stale = strcmp(r.name, name) != 0;
	engine_container_record_free(&r);
	return stale;
}

int engine_name_reserve(const char *root, const char *name, const char *id, struct err **err)
{
	char dir[4200], path[4400], target[128];
	ssize_t n;

	if (!names_valid(name)) {
		err_set(err, EINVAL,
			"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			name);
		(*err)->exit = 125;
		return -EINVAL;
	}
	if (names_dir(root, dir, sizeof(dir), true, err) < 0)
		return err_ret(*err);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (int tries = 0; tries < 3; tries++) {
		if (symlink(id, path) == 0)
			return 0;
		if (errno != EEXIST)
			return err_errno(err, errno, "reserve the name \"%s\"", name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, id))
			return 0;
		if (!name_stale(root, name, target)) {
			err_set(
			    err, EEXIST,
			    "Conflict. The container name \"/%s\" is already in use by container "
			    "\"%s\". You have to remove (or rename) that container to be able "
			    "to reuse that name.",
			    name, target);
			(*err)->exit = 125;
			return -EEXIST;
		}
		unlink(path); /* left by a crash: reclaim */
	}
	return err_set(err, EEXIST, "reserve the name \"%s\": it keeps changing", name);
}

void engine_name_release(const char *root, const char *name, const char *id)
{
	char path[4400], target[128];
	ssize_t n;

	if (!name || !names_valid(name))
		return;
	snprintf(path, sizeof(path), "%s/names/%s", root, name);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return;
	target[n] = 0;
	if (!strcmp(target, id))
		unlink(path);
}

int engine_name_generate(const char *root, const char *id, char out[64], struct err **err)
{
	for (int i = 0; i < 16; i++) {
		uint64_t rnd;
		struct err *e = NULL;

		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			return err_errno(err, errno, "getrandom");
		names_generate(rnd + (uint64_t)i, out);
		if (engine_name_reserve(root, out, id, &e) == 0)
			return 0;
		if (e->code != EEXIST) {
			*err = e;
			return err_ret(e);
		}
		err_free(&e);
	}
	return err_set(err, EEXIST, "could not find an unused container name");
}

static int resolve_scan(const char *root, const char *ref, char id[SHA256_HEX_LEN + 1],
			struct err **err)
{
	char dir[4200];
	_cleanup_closedir_ DIR *d = NULL;
	struct names_entry *v = NULL;
	size_t n = 0, idx;
	struct dirent *de;
	int r;

	snprintf(dir, sizeof(dir), "%s/containers", root);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		struct names_entry *nv;
		if (!digest_hex_valid(de->d_name))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			for (size_t i = 0; i < n; i++)
				free((char *)v[i].id);
			free(v);
			return err_errno(err, ENOMEM, "find container");
		}
		v = nv;
		v[n].id = strdup(de->d_name);
		v[n].name = "";
		if (!v[n].id)
			continue;
		n++;
	}
	r = names_resolve(v, n, ref, &idx, err);
	if (r >= 0)
		memcpy(id, v[idx].id, SHA256_HEX_LEN + 1);
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].id);
	free(v);
	return r < 0 ? r : 0;
}

int engine_container_resolve(const char *root, const char *ref, char id[SHA256_HEX_LEN + 1],
			     struct err **err)
{
	char dir[4200], path[4400], target[128];
	const char *name = names_normalize(ref);
	ssize_t n;

	if (digest_hex_valid(ref)) {
		snprintf(dir, sizeof(dir), "%s/containers/%s", root, ref);
		if (access(dir, F_OK) == 0) {
			memcpy(id, ref, SHA256_HEX_LEN + 1);
			return 0;
		}
	}
	/* Docker's order: full id, name, unique id prefix. */
	if (names_valid(name)) {
		snprintf(path, sizeof(path), "%s/names/%s", root, name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			if (!name_stale(root, name, target)) {
				memcpy(id, target, SHA256_HEX_LEN + 1);
				return 0;
			}
		}
	}
	return resolve_scan(root, ref, id, err);
}

void engine_container_list_free(struct container_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		engine_container_record_free(&e[i].rec);
	free(e);
}

static int newest_first(const void *a, const void *b)
{
	const struct container_entry *x = a, *y = b;

	return x->rec.created < y->rec.created ? 1 : x->rec.created > y->rec.created ? -1 : 0;
}

int engine_container_list(const char *root, const char *runroot, struct container_entry **out,
			  size_t *n, struct err **err)
{
	char dir[4200];
	_cleanup_closedir_ DIR *d = NULL;
	struct container_entry *v = NULL;
	size_t cnt = 0;
	struct dirent *de;

	*out = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%s/containers", root);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : err_errno(err, errno, "open \"%s\"", dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *buf = NULL;
		_cleanup_close_ int cfd = -1;
		struct container_entry *nv;
		size_t len;

		if (!digest_hex_valid(de->d_name))
			continue;
		cfd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0 ||
		    fs_read_at(cfd, "container.json", CONTAINER_RECORD_MAX, &buf, &len, NULL) < 0)
			continue; /* being created, or a run that failed before its record */
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			engine_container_list_free(v, cnt);
			return err_errno(err, ENOMEM, "list containers");
		}
		v = nv;
		if (engine_container_record_decode(buf, len, &v[cnt].rec, NULL) < 0 ||
		    strcmp(v[cnt].rec.id, de->d_name) != 0) {
			engine_container_record_free(&v[cnt].rec);
			continue;
		}
		v[cnt].state = engine_container_state(runroot, &v[cnt].rec);
		cnt++;
	}
	if (cnt)
		qsort(v, cnt, sizeof(*v), newest_first);
	*out = v;
	*n = cnt;
	return 0;
}

static int rm_in_userns(void *path)
{
	return fs_rm_rf_at(AT_FDCWD, path, NULL) < 0 ? 1 : 0;
}

void engine_container_dirs_remove(const char *rdir, const char *dir,
				  const struct engine_identity *ident)
{
	struct err *e = NULL;
	char upper[4200];

	if (rdir && rdir[0])
		fs_rm_rf_at(AT_FDCWD, rdir, NULL);
	if (!dir || !dir[0])
		return;
	if (ident->userns == SANDBOX_USERNS_SUBUID) {
		/* Files of subordinate ids can only go from inside. */
		snprintf(upper, sizeof(upper), "%s/upper", dir);
		userns_run(ident->userns, ident->ids.uid, ident->ids.n_uid, ident->ids.gid,
			   ident->ids.n_gid, rm_in_userns, upper, &e);
		err_free(&e);
	}
	if (fs_rm_rf_at(AT_FDCWD, dir, &e) < 0) {
		fprintf(stderr, "moat: warning: container state left behind: %s\n", e->msg);
		err_free(&e);
	}
}

int engine_container_identity(const struct container_record *r, bool rootless, uid_t uid, gid_t gid,
			      struct engine_identity *ident, struct err **err)
{
	const char *mode = NULL, *u = r->userns ? r->userns : "";

	if (!strcmp(u, "host") || !strcmp(u, "single") || !strcmp(u, "subuid"))
		mode = u;
	return engine_identity_select(rootless, uid, gid, mode, ident, err);
}

int engine_container_remove(const char *root, const char *runroot, bool rootless, uid_t uid,
			    gid_t gid, const char *id, bool force, struct err **err)
{
	struct container_record rec;
	struct engine_identity ident;
	char dir[4200], rdir[4200], lock[4300];
	_cleanup_close_ int lfd = -1;
	int r;

	if ((r = engine_container_load(root, id, &rec, err)) < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/containers/%s", root, id);
	snprintf(rdir, sizeof(rdir), "%s/containers/%s", runroot, id);
	snprintf(lock, sizeof(lock), "%s/lock", rdir);
	if (engine_container_monitored(runroot, id)) {
		enum ctr_state st = engine_container_state(runroot, &rec);
		if (!force) {
			r = ctr_transition_check(st, CTR_VERB_RM, rec.name, err);
			if (r >= 0)
				r = err_set(err, EBUSY, "container %s is running", rec.name);
			engine_container_record_free(&rec);
			return r;
		}
		/* Docker's rm -f: SIGKILL, then wait for the monitor to end. */
		if (ctl_call(rdir, CTL_KILL, SIGKILL, 1, NULL, NULL, err) < 0)
			err_free(err); /* it may have just ended */
		if (engine_container_wait_unlocked(runroot, id, 10000) < 0) {
			engine_container_record_free(&rec);
			return err_set(err, ETIMEDOUT, "container %.12s did not stop", id);
		}
	}
	/* Hold the container's lock ourselves while removing it. */
	lfd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		engine_container_record_free(&rec);
		return err_set(err, EBUSY, "container %.12s was started again meanwhile", id);
	}
	r = engine_container_identity(&rec, rootless, uid, gid, &ident, err);
	if (!rootless) {
		/* A monitor that died left its cgroup (and maybe processes). */
		struct sandbox_cgroup *cg = NULL;
		if (sandbox_cgroup_open(id, &cg, NULL) == 0) {
			sandbox_cgroup_destroy(cg, NULL);
			sandbox_cgroup_close(cg);
		}
	}
	if (r == 0) {
		engine_container_dirs_remove(rdir, dir, &ident);
		engine_name_release(root, rec.name, id);
	}
	engine_container_record_free(&rec);
	return r;
}
