/*
 * engine/trust_local.c - the local key, and the admission rule for images
 * moat makes or loads itself.
 *
 * Runs in: the moat process, as the invoking user.
 *
 * The local key signs what moat produced on this machine for this
 * identity (load --trust-local, demo-image; commit and build later). It is
 * trusted for exactly those images: engine_trust_check_image accepts a
 * "local" entry only when its key is this root's local key and no explicit
 * scope of the policy covers the image's name. It is never a key for a
 * pull.
 */
#include "engine/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "image/image.h"
#include "image/sigkey.h"
#include "image/signature.h"

#define UNNAMED_IDENTITY "localhost/moat-unnamed"

static int trust_dir(const char *root, char **out, struct err **err)
{
	if (asprintf(out, "%s/trust", root) < 0)
		return err_errno(err, ENOMEM, "local key");
	if (mkdir(*out, 0700) < 0 && errno != EEXIST)
		return err_errno(err, errno, "local key: %s", *out);
	return 0;
}

int engine_trust_local_fp(const char *root, char fp[72], struct err **err)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len = 0;

	if (asprintf(&path, "%s/trust/local.pub", root) < 0)
		return err_errno(err, ENOMEM, "local key");
	if (fs_read_at(AT_FDCWD, path, SIGKEY_PEM_MAX, &buf, &len, err) < 0)
		return err_ret(*err);
	return sigkey_fingerprint_pem(buf, len, path, fp, err);
}

/* Writes TEXT to DIR/NAME only if NAME does not exist yet (a temporary
 * file linked into place: a racing writer's file wins, whole). 1 when
 * ours was installed, 0 when one was already there. */
static int install_new(int dirfd, const char *name, const char *text, mode_t mode, struct err **err)
{
	char tmp[64];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);
	int r = 1;

	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return err_errno(err, errno, "local key: %s", tmp);
	if (fchmod(fd, mode) < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) < 0) {
		r = err_errno(err, errno ? errno : EIO, "local key: write %s", name);
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (linkat(dirfd, tmp, dirfd, name, 0) < 0) {
		r = errno == EEXIST ? 0 : err_errno(err, errno, "local key: %s", name);
	}
	unlinkat(dirfd, tmp, 0);
	return r;
}

int engine_trust_local_key(const char *root, struct sigkey **out, struct err **err)
{
	_cleanup_free_ char *dir = NULL, *buf = NULL;
	_cleanup_close_ int dfd = -1;
	size_t len = 0;
	struct err *e = NULL;
	int r;

	*out = NULL;
	if (trust_dir(root, &dir, err) < 0)
		return err_ret(*err);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return err_errno(err, errno, "local key: %s", dir);
	if (sigkey_crypto_load(err) < 0)
		return err_ret(*err);
	if (fs_read_at(dfd, "local.key", SIGKEY_PEM_MAX, &buf, &len, &e) == 0) {
		r = sigkey_load_private(buf, len, "local.key", NULL, out, err);
		explicit_bzero(buf, len);
		return r < 0 ? err_prefix(err, "local key %s", dir) : 0;
	}
	if (e->code != -ENOENT && e->code != ENOENT) {
		*err = e;
		return err_prefix(err, "local key");
	}
	err_free(&e);
	{
		_cleanup_free_ char *priv = NULL, *pub = NULL;
		struct sigkey *k = NULL;

		r = sigkey_generate(SIGKEY_ECDSA_P256, &k, err);
		if (r == 0)
			r = sigkey_private_pem(k, NULL, &priv, err);
		if (r == 0)
			r = sigkey_public_pem(k, &pub, err);
		/* The public half first: a key file never exists without it. */
		if (r == 0)
			r = install_new(dfd, "local.pub.new", pub, 0644, err);
		if (r >= 0)
			r = install_new(dfd, "local.key", priv, 0600, err);
		if (priv)
			explicit_bzero(priv, strlen(priv));
		if (r == 1) {
			if (renameat(dfd, "local.pub.new", dfd, "local.pub") < 0)
				r = err_errno(err, errno, "local key: local.pub");
			else
				r = 0;
			if (r == 0) {
				*out = k;
				return 1;
			}
		}
		sigkey_free(k);
		if (r < 0)
			return r;
	}
	/* Someone else made it first: use theirs. */
	free(buf);
	buf = NULL;
	if (fs_read_at(dfd, "local.key", SIGKEY_PEM_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "local key");
	r = sigkey_load_private(buf, len, "local.key", NULL, out, err);
	explicit_bzero(buf, len);
	return r;
}

int engine_trust_local_sign(const char *root, const char *name, const char *digest,
			    struct image_trust *out, bool *created, struct err **err)
{
	_cleanup_free_ char *payload = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	struct sigkey *k = NULL;
	size_t plen = 0, slen = 0;
	int64_t now = time(NULL);
	int r;

	memset(out, 0, sizeof(*out));
	r = engine_trust_local_key(root, &k, err);
	if (created)
		*created = r == 1;
	if (r == 1)
		r = 0;
	/* A payload names a reference; an unnamed image (a dangling commit,
	 * an untagged archive) is signed as UNNAMED_IDENTITY, its entry's
	 * source staying "" (the policy's default scope decides it at run). */
	if (r == 0)
		r = sig_payload_encode(name[0] ? name : UNNAMED_IDENTITY, digest, "moat", now,
				       &payload, &plen, err);
	if (r == 0)
		r = sigkey_sign(k, payload, plen, &sig, &slen, err);
	if (r == 0) {
		out->source = strdup(name);
		out->rule = strdup("local");
		out->key = strdup(sigkey_fingerprint(k));
		out->identity = strdup(name[0] ? name : UNNAMED_IDENTITY);
		out->digest = strdup(digest);
		out->payload = base64_encode(payload, plen);
		out->signature = base64_encode(sig, slen);
		out->signed_at = now;
		out->verified_at = now;
		if (!out->source || !out->rule || !out->key || !out->identity || !out->digest ||
		    !out->payload || !out->signature) {
			image_trust_clear(out);
			r = err_errno(err, ENOMEM, "local signature");
		}
	}
	sigkey_free(k);
	return r;
}

static int decision(struct engine_trust_admit *a, const char *verdict, const char *source,
		    const char *reason)
{
	_cleanup_free_ char *line = NULL;
	size_t n = 0;
	char **nv;

	if (asprintf(&line, "%s\t%s\t%s", verdict, source, reason) < 0)
		return -ENOMEM;
	while (a->decisions && a->decisions[n])
		n++;
	nv = realloc(a->decisions, (n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	a->decisions = nv;
	nv[n] = steal_ptr(line);
	nv[n + 1] = NULL;
	return 0;
}

static int push_entry(struct image_trust **t, size_t *n, struct image_trust *e)
{
	struct image_trust *nv = realloc(*t, (*n + 1) * sizeof(*nv));

	if (!nv) {
		image_trust_clear(e);
		return -ENOMEM;
	}
	*t = nv;
	nv[(*n)++] = *e;
	return 0;
}

int engine_trust_admit(void *arg, const char *image_id, const char *manifest, char *const *names,
		       struct image_trust **t, size_t *n, struct err **err)
{
	struct engine_trust_admit *a = arg;
	const char *digest = manifest && digest_valid(manifest) ? manifest : image_id;
	static char *const unnamed[] = {(char *)"", NULL};
	char *const *v = names && names[0] ? names : unnamed;

	for (; *v; v++) {
		_cleanup_free_ char *source = NULL;
		struct image_trust e;
		char why[768] = "";
		int r;

		r = engine_trust_source(*v, &source, err);
		if (r < 0)
			return r;
		if (!a->always_local && trust_policy_evaluate(a->p, source, digest, NULL, 0, why,
							      sizeof(why)) == TRUST_ACCEPT) {
			memset(&e, 0, sizeof(e));
			e.source = strdup(source);
			e.rule = strdup("insecureAcceptAnything");
			e.digest = strdup(digest);
			e.verified_at = time(NULL);
			if (!e.source || !e.rule || !e.digest || push_entry(t, n, &e) < 0 ||
			    decision(a, "accept", source[0] ? source : image_id, why) < 0) {
				image_trust_clear(&e);
				return err_errno(err, ENOMEM, "trust");
			}
			continue;
		}
		if (!a->always_local && !a->trust_local) {
			if (decision(a, "reject", source[0] ? source : image_id, why) < 0)
				return err_errno(err, ENOMEM, "trust");
			return err_set(err, EPERM,
				       "%s: not signed, and the trust policy does not accept it "
				       "unsigned (%s); to sign it with this machine's local key, "
				       "load it with --trust-local",
				       *v[0] ? *v : image_id, why);
		}
		{
			bool created = false;
			_cleanup_free_ char *path = NULL;

			r = engine_trust_local_sign(a->root, source, digest, &e, &created, err);
			if (r < 0)
				return r;
			if (created && (asprintf(&path, "%s/trust/local.key", a->root) < 0 ||
					decision(a, "key", path, e.key) < 0)) {
				image_trust_clear(&e);
				return err_errno(err, ENOMEM, "trust");
			}
		}
		if (push_entry(t, n, &e) < 0 ||
		    decision(a, "accept", source[0] ? source : image_id,
			     a->always_local ? "built by moat: signed with the local key"
					     : "--trust-local: signed with the local key") < 0)
			return err_errno(err, ENOMEM, "trust");
	}
	return 0;
}
