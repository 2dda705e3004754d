/*
 * image/push.c - `moat push`: an image of the store to a registry.
 *
 * Runs in: the CLI process, as root or as the calling user. Reads the
 * store through image_store_export_open (image/save.c): the blobs are
 * opened under the store's shared lock, so an `rmi` meanwhile cannot take
 * their content away.
 *
 * Invariants:
 *  - the manifest pushed is the stored one, byte for byte (its digest is
 *    the one the image was pulled or loaded with), or, when the store has
 *    none, an OCI manifest built from the record; either names exactly the
 *    record's config and layer blobs;
 *  - blobs go before the manifest that names them, the config last, so a
 *    registry never holds a manifest whose blobs are missing;
 *  - the digest the registry answers is checked against our own sha256 of
 *    the manifest bytes (registry_put_manifest); only then is DEST@DIGEST
 *    recorded as a repo digest of the image, the one change a push makes
 *    to the store (under the exclusive lock, store_repo_digest_add).
 */
#include "image/image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "image/internal.h"
#include "image/reference.h"
#include "image/registry.h"

struct pusher {
	FILE *out;
	const char *name; /* for messages */
};

static void say(struct pusher *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct pusher *p, const char *fmt, ...)
{
	va_list ap;

	if (!p->out)
		return;
	va_start(ap, fmt);
	vfprintf(p->out, fmt, ap);
	va_end(ap);
	fputc('\n', p->out);
	fflush(p->out);
}

static void export_freep(struct image_export **x)
{
	image_export_free(*x);
}

static void registry_closep(struct registry **r)
{
	registry_close(*r);
}

/* Another name of the image in another repository of the same registry:
 * the registry may mount its blobs instead of receiving them again. */
static char *mount_source(const struct image_export *x, const struct image_reference *dest)
{
	for (char **n = x->names; n && *n; n++) {
		struct image_reference r = {0};
		struct err *e = NULL;
		char *from = NULL;

		if (image_reference_parse(*n, &r, &e) < 0) {
			err_free(&e);
			continue;
		}
		if (!strcmp(r.domain, dest->domain) && strcmp(r.path, dest->path))
			from = strdup(r.path);
		image_reference_clear(&r);
		if (from)
			return from;
	}
	return NULL;
}

static int push_blob(struct pusher *p, struct registry *reg, const struct image_blob *b,
		     const char *from, bool layer, struct err **err)
{
	struct err *e = NULL;
	int64_t size;
	int r;

	r = registry_blob_exists(reg, b->digest, &size, &e);
	if (r == 0 && size == b->size) {
		if (layer)
			say(p, "%.12s: Layer already exists", b->digest + 7);
		return 0;
	}
	/* Not there (or unknown: the upload's own HEAD decides). */
	err_free(&e);
	if (registry_put_blob(reg, b->digest, b->fd, b->size, from, err) < 0)
		return err_prefix(err, "%s: %s %s", p->name, layer ? "layer" : "config", b->digest);
	if (layer)
		say(p, "%.12s: Pushed", b->digest + 7);
	return 0;
}

int image_store_push(struct image_store *s, const char *src, const char *dest,
		     const struct image_push_opts *o, char digest[72], struct err **err)
{
	__attribute__((cleanup(export_freep))) struct image_export *x = NULL;
	__attribute__((cleanup(registry_closep))) struct registry *reg = NULL;
	static const struct image_push_opts none = {0};
	struct image_reference ref = {0};
	_cleanup_free_ char *familiar = NULL, *from = NULL;
	struct pusher p;
	int r;

	if (!o)
		o = &none;
	digest[0] = 0;
	if (!dest)
		dest = src;
	/* podman's spelling of the destination */
	if (!strncmp(dest, "docker://", 9))
		dest += 9;
	if (image_reference_parse(dest, &ref, err) < 0)
		return err_prefix(err, "push \"%s\"", dest);
	p.out = o->progress;
	familiar = image_reference_familiar(&ref);
	p.name = familiar ? familiar : dest;
	if (ref.digest)
		r = err_set(err, EINVAL, "push \"%s\": cannot push to a digest reference", dest);
	else
		r = image_store_export_open(s, src, &x, err);
	if (r == 0) {
		say(&p, "The push refers to repository [%s/%s]", ref.domain, ref.path);
		from = mount_source(x, &ref);
		r = registry_open(image_reference_registry_host(&ref), ref.path, "pull,push",
				  o->reg, &reg, err);
	}
	/* Docker's order on screen: the top layer first. */
	for (size_t i = x ? x->n_layers : 0; r == 0 && i-- > 0;)
		say(&p, "%.12s: Preparing", x->layers[i].digest + 7);
	for (size_t i = x ? x->n_layers : 0; r == 0 && i-- > 0;) {
		bool seen = false;
		for (size_t k = i + 1; k < x->n_layers; k++)
			seen |= !strcmp(x->layers[k].digest, x->layers[i].digest);
		if (!seen)
			r = push_blob(&p, reg, &x->layers[i], from, true, err);
	}
	if (r == 0)
		r = push_blob(&p, reg, &x->config, from, false, err);
	if (r == 0 && registry_put_manifest(reg, ref.tag, x->manifest_type, x->manifest,
					    x->manifest_len, digest, err) < 0)
		r = err_prefix(err, "%s: manifest", p.name);
	if (r == 0) {
		_cleanup_free_ char *rd = NULL;
		struct err *e = NULL;

		say(&p, "%s: digest: %s size: %zu", ref.tag, digest, x->manifest_len);
		/* Docker adds the pushed NAME@DIGEST to the image's RepoDigests
		 * (best effort: the push itself is done). */
		if (store_repo_digest_make(dest, digest, &rd, &e) == 0)
			store_repo_digest_add(s, x->id, rd, &e);
		err_free(&e);
	}
	image_reference_clear(&ref);
	return r;
}
