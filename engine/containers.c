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
#include <sys/file.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/userns.h"

void engine_container_record_free(struct container_record *r)
{
	free(r->image);
	free(r->image_id);
	strvfree(r->argv);
	free(r->userns);
	memset(r, 0, sizeof(*r));
}

int engine_container_record_encode(const struct container_record *r, char **out, size_t *len,
				   struct err **err)
{
	_cleanup_json_ json_t *o = json_object(), *argv = json_array();
	char *s;

	if (!o || !argv)
		return err_errno(err, ENOMEM, "container record");
	for (char **a = r->argv; a && *a; a++)
		json_array_append_new(argv, json_string(*a));
	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "image", json_string(r->image ? r->image : ""));
	json_object_set_new(o, "image_id", json_string(r->image_id ? r->image_id : ""));
	json_object_set(o, "argv", argv);
	json_object_set_new(o, "userns", json_string(r->userns ? r->userns : ""));
	json_object_set_new(o, "created", json_integer(r->created));
	json_object_set_new(o, "finished", json_integer(r->finished));
	json_object_set_new(o, "exit_code", json_integer(r->exit_code));
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

int engine_container_record_decode(const char *buf, size_t len, struct container_record *out,
				   struct err **err)
{
	_cleanup_json_ json_t *o = NULL;
	_cleanup_free_ char *id = NULL;
	int64_t code;

	memset(out, 0, sizeof(*out));
	if (len > CONTAINER_RECORD_MAX)
		return err_set(err, EFBIG, "container record larger than %u bytes",
			       CONTAINER_RECORD_MAX);
	o = json_parse_strict(buf, len, "container record", err);
	if (!o)
		return err_ret(*err);
	if (!json_is_object(o))
		return err_set(err, EINVAL, "container record: not an object");
	if (json_get_str(o, "id", &id, "container record", err) < 0 ||
	    json_get_str(o, "image", &out->image, "container record", err) < 0 ||
	    json_get_str(o, "image_id", &out->image_id, "container record", err) < 0 ||
	    json_get_str(o, "userns", &out->userns, "container record", err) < 0 ||
	    json_get_strv(o, "argv", &out->argv, "container record", err) < 0 ||
	    get_int(o, "created", 0, INT64_MAX, &out->created, err) < 0 ||
	    get_int(o, "finished", 0, INT64_MAX, &out->finished, err) < 0 ||
	    get_int(o, "exit_code", 0, 255, &code, err) < 0)
		goto bad;
	if (!id || !digest_hex_valid(id)) {
		err_set(err, EINVAL, "container record: bad id");
		goto bad;
	}
	memcpy(out->id, id, SHA256_HEX_LEN + 1);
	out->exit_code = (int)code;
	return 0;
bad:
	engine_container_record_free(out);
	return err_ret(*err);
}

int engine_container_save(const char *root, const struct container_record *r, struct err **err)
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
	return fs_write_atomic(dfd, "container.json", buf, len, 0600, err);
}

/* True while a monitor holds RUNROOT/containers/<id>/lock. */
static bool running(const char *runroot, const char *id)
{
	char path[4200];
	_cleanup_close_ int fd = -1;

	snprintf(path, sizeof(path), "%s/containers/%s/lock", runroot, id);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	return flock(fd, LOCK_EX | LOCK_NB) < 0;
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
		v[cnt].running = running(runroot, de->d_name);
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

int engine_container_remove(const char *root, const char *runroot, bool rootless, uid_t uid,
			    gid_t gid, const char *ref, char id[SHA256_HEX_LEN + 1],
			    struct err **err)
{
	struct container_entry *v = NULL;
	struct engine_identity ident;
	size_t n = 0, found = SIZE_MAX, len = strlen(ref);
	char dir[4200], rdir[4200], lock[4300];
	_cleanup_close_ int lfd = -1;
	const char *mode = NULL, *rec_userns;
	int r;

	if (len == 0 || len > SHA256_HEX_LEN)
		return err_set(err, ENOENT, "no such container: %s", ref);
	if ((r = engine_container_list(root, runroot, &v, &n, err)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (strncmp(v[i].rec.id, ref, len) != 0)
			continue;
		if (found != SIZE_MAX) {
			engine_container_list_free(v, n);
			return err_set(err, EINVAL,
				       "multiple containers match \"%s\": give more of the id",
				       ref);
		}
		found = i;
	}
	if (found == SIZE_MAX) {
		engine_container_list_free(v, n);
		return err_set(err, ENOENT, "no such container: %s", ref);
	}
	memcpy(id, v[found].rec.id, SHA256_HEX_LEN + 1);
	/* The identity it ran as decides how its files are removed. */
	rec_userns = v[found].rec.userns ? v[found].rec.userns : "";
	if (!strcmp(rec_userns, "host") || !strcmp(rec_userns, "single") ||
	    !strcmp(rec_userns, "subuid"))
		mode = rec_userns;
	r = engine_identity_select(rootless, uid, gid, mode, &ident, err);
	engine_container_list_free(v, n);
	snprintf(dir, sizeof(dir), "%s/containers/%s", root, id);
	snprintf(rdir, sizeof(rdir), "%s/containers/%s", runroot, id);
	snprintf(lock, sizeof(lock), "%s/lock", rdir);
	/* Hold the container's lock ourselves while removing it. */
	lfd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) < 0)
		return err_set(err, EBUSY,
			       "container %.12s is running: it ends when its command exits or its "
			       "moat process is stopped",
			       id);
	if (r < 0)
		return r;
	engine_container_dirs_remove(rdir, dir, &ident);
	return 0;
}
