/*
 * image/config.c - decoding of OCI and Docker image configs.
 *
 * Runs in: any moat process (the CLI while loading and before `run`). Pure:
 * bytes in, struct out; no filesystem, network or process state. This is
 * the one boundary where a config's JSON is read; no json_t leaves it.
 *
 * Invariants:
 *  - input larger than IMAGE_JSON_MAX is refused before it is parsed;
 *  - every field has the type the spec gives it, or the config is refused
 *    with a message naming the field;
 *  - rootfs.type is "layers" and every diff_id is "sha256:<64 hex>";
 *  - Volumes keys are absolute, have no ".." component and are not empty
 *    (CVE-2022-23648: a relative or climbing volume path must never reach
 *    the code that creates volumes inside the rootfs).
 */
#include "image/image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/json.h"

#define WHAT "image config"

void image_config_free(struct image_config *c)
{
	if (!c)
		return;
	free(c->architecture);
	free(c->author);
	free(c->comment);
	free(c->os);
	strvfree(c->env);
	strvfree(c->entrypoint);
	strvfree(c->cmd);
	free(c->workdir);
	free(c->user);
	free(c->stop_signal);
	strvfree(c->volumes);
	strvfree(c->exposed_ports);
	for (size_t i = 0; i < c->n_labels; i++) {
		free(c->labels[i].key);
		free(c->labels[i].value);
	}
	free(c->labels);
	strvfree(c->diff_ids);
	free(c);
}

static void config_freep(struct image_config **c)
{
	image_config_free(*c);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_nul(json_t *s)
{
	return strlen(json_string_value(s)) != json_string_length(s);
}

/* CVE-2022-23648: the key must name an absolute path without "..". */
static int check_volume(const char *v, struct err **err)
{
	const char *p = v;

	if (!*v)
		return err_set(err, EINVAL, WHAT ": Volumes: empty path");
	if (*v != '/')
		return err_set(err, EINVAL, WHAT ": Volumes: \"%s\" is not absolute", v);
	if (strlen(v) > 4096)
		return err_set(err, EINVAL, WHAT ": Volumes: path too long");
	while (*p) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_set(err, EINVAL, WHAT ": Volumes: \"%s\" contains \"..\"", v);
		p += n;
	}
	return 0;
}

/* "80", "80/tcp", "53/udp", "132/sctp". */
static int check_port(const char *k, struct err **err)
{
	char *end;
	long port;

	errno = 0;
	port = strtol(k, &end, 10);
	if (end == k || errno || port < 1 || port > 65535 || (*end && *end != '/') ||
	    (*end && strcmp(end, "/tcp") && strcmp(end, "/udp") && strcmp(end, "/sctp")))
		return err_set(err, EINVAL, WHAT ": ExposedPorts: bad port \"%s\"", k);
	return 0;
}

/* Keys of an object whose values are objects (or null): sorted strv. */
static int object_keys(json_t *obj, const char *key, char ***out,
		       int (*check)(const char *, struct err **), struct err **err)
{
	json_t *v = json_object_get(obj, key), *e;
	_cleanup_strv_ char **r = NULL;
	const char *k;
	size_t i = 0;

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return err_set(err, EINVAL, WHAT ": \"%s\" must be an object", key);
	r = calloc(json_object_size(v) + 1, sizeof(char *));
	if (!r)
		return err_errno(err, ENOMEM, WHAT);
	json_object_foreach (v, k, e) {
		int ret;

		if (!json_is_object(e) && !json_is_null(e))
			return err_set(err, EINVAL, WHAT ": \"%s\".\"%s\" must be an object", key,
				       k);
		ret = check(k, err);
		if (ret < 0)
			return ret;
		r[i] = strdup(k);
		if (!r[i++])
			return err_errno(err, ENOMEM, WHAT);
	}
	qsort(r, i, sizeof(char *), cmp_str);
	*out = steal_ptr(r);
	return 0;
}

static int decode_labels(json_t *obj, struct image_config *c, struct err **err)
{
	json_t *v = json_object_get(obj, "Labels"), *e;
	const char *k;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return err_set(err, EINVAL, WHAT ": \"Labels\" must be an object");
	c->labels = calloc(json_object_size(v) + 1, sizeof(*c->labels));
	if (!c->labels)
		return err_errno(err, ENOMEM, WHAT);
	json_object_foreach (v, k, e) {
		struct image_kv *kv = &c->labels[c->n_labels];

		if (!json_is_string(e) || has_nul(e))
			return err_set(err, EINVAL, WHAT ": label \"%s\" must be a string", k);
		kv->key = strdup(k);
		kv->value = strdup(json_string_value(e));
		c->n_labels++;
		if (!kv->key || !kv->value)
			return err_errno(err, ENOMEM, WHAT);
	}
	return 0;
}

static int decode_rootfs(json_t *root, struct image_config *c, struct err **err)
{
	json_t *rootfs = json_object_get(root, "rootfs"), *t, *ids, *e;
	size_t i;

	if (!json_is_object(rootfs))
		return err_set(err, EINVAL, WHAT ": \"rootfs\" is missing or not an object");
	t = json_object_get(rootfs, "type");
	if (!json_is_string(t) || strcmp(json_string_value(t), "layers") || has_nul(t))
		return err_set(err, EINVAL, WHAT ": rootfs.type must be \"layers\"");
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(ids))
		return err_set(err, EINVAL, WHAT ": rootfs.diff_ids must be an array");
	c->diff_ids = calloc(json_array_size(ids) + 1, sizeof(char *));
	if (!c->diff_ids)
		return err_errno(err, ENOMEM, WHAT);
	json_array_foreach (ids, i, e) {
		if (!json_is_string(e) || has_nul(e) || !digest_valid(json_string_value(e)))
			return err_set(err, EINVAL,
				       WHAT ": rootfs.diff_ids[%zu] is not a sha256 digest", i);
		c->diff_ids[i] = strdup(json_string_value(e));
		if (!c->diff_ids[i])
			return err_errno(err, ENOMEM, WHAT);
		c->n_diff_ids++;
	}
	return 0;
}

static int decode_env(json_t *cfg, struct image_config *c, struct err **err)
{
	int r = json_get_strv(cfg, "Env", &c->env, WHAT, err);

	if (r < 0)
		return r;
	for (char **e = c->env; e && *e; e++)
		if (!**e || **e == '=')
			return err_set(err, EINVAL, WHAT ": Env entry \"%s\" has no name", *e);
	return 0;
}

static int decode_config(json_t *cfg, struct image_config *c, struct err **err)
{
	int r;

	if (!cfg || json_is_null(cfg))
		return 0;
	if (!json_is_object(cfg))
		return err_set(err, EINVAL, WHAT ": \"config\" must be an object");
	if ((r = decode_env(cfg, c, err)) < 0 ||
	    (r = json_get_strv(cfg, "Entrypoint", &c->entrypoint, WHAT, err)) < 0 ||
	    (r = json_get_strv(cfg, "Cmd", &c->cmd, WHAT, err)) < 0 ||
	    (r = json_get_str(cfg, "WorkingDir", &c->workdir, WHAT, err)) < 0 ||
	    (r = json_get_str(cfg, "User", &c->user, WHAT, err)) < 0 ||
	    (r = json_get_str(cfg, "StopSignal", &c->stop_signal, WHAT, err)) < 0 ||
	    (r = object_keys(cfg, "Volumes", &c->volumes, check_volume, err)) < 0 ||
	    (r = object_keys(cfg, "ExposedPorts", &c->exposed_ports, check_port, err)) < 0 ||
	    (r = decode_labels(cfg, c, err)) < 0)
		return r;
	if (c->workdir && *c->workdir && *c->workdir != '/')
		return err_set(err, EINVAL, WHAT ": WorkingDir \"%s\" is not absolute", c->workdir);
	return 0;
}

int image_config_decode(const char *buf, size_t len, struct image_config **out, struct err **err)
{
	__attribute__((cleanup(config_freep))) struct image_config *c = NULL;
	_cleanup_json_ json_t *root = NULL;
	int r;

	*out = NULL;
	if (len > IMAGE_JSON_MAX)
		return err_set(err, EFBIG, WHAT ": larger than %u bytes", IMAGE_JSON_MAX);
	root = json_parse_strict(buf, len, WHAT, err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, WHAT ": not a JSON object");
	c = calloc(1, sizeof(*c));
	if (!c)
		return err_errno(err, ENOMEM, WHAT);
	if ((r = json_get_str(root, "architecture", &c->architecture, WHAT, err)) < 0 ||
	    (r = json_get_str(root, "os", &c->os, WHAT, err)) < 0 ||
	    (r = json_get_str(root, "author", &c->author, WHAT, err)) < 0 ||
	    (r = json_get_str(root, "comment", &c->comment, WHAT, err)) < 0 ||
	    (r = decode_config(json_object_get(root, "config"), c, err)) < 0 ||
	    (r = decode_rootfs(root, c, err)) < 0)
		return r;
	*out = steal_ptr(c);
	return 0;
}
