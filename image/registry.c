/*
 * image/registry.c - the OCI distribution client: one repository on one
 * registry. This file holds the operations (ping, manifests, blobs,
 * uploads, tags) and the client's life cycle; the transport is
 * image/registry_http.c, the auth flow image/registry_token.c, the pure
 * parsers image/registry_auth.c (shared declarations:
 * image/registry_internal.h).
 *
 * Runs in: the moat process (pull, push, login), as the invoking user,
 * before any container exists. Talks to the network; the bytes it gets
 * back are parsed by image/registry_auth.c (pure, fuzzed) and by the
 * manifest decoders of the caller.
 *
 * Invariants:
 *  - TLS is verified by default: registry_open() without options, or
 *    with tls_verify set, verifies; only the caller turns it off (an
 *    insecure registry or --tls-verify=false);
 *  - names that go into a URL path (repository, tag, digest, the
 *    repository to mount from) are checked against their grammar first,
 *    and query values are percent-encoded;
 *  - every body is capped before it is buffered (manifests
 *    IMAGE_JSON_MAX, tag pages 4 MiB) and a blob is only reported good
 *    after its bytes hash to its digest; a blob whose digest fails is
 *    truncated, so a retry never resumes from bad bytes; a manifest's
 *    body must hash to the digest asked for and to the registry's
 *    Docker-Content-Digest;
 *  - text from the registry reaches messages only through
 *    registry_error_decode(), which strips terminal controls, or after
 *    registry_printable();
 *  - a tags/list next page is never fetched from another host.
 */
#include "image/registry_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "image/image.h"

#define BLOB_ATTEMPTS_MAX 100 /* resumes of one blob, even when each makes progress */
#define TAG_PAGES_MAX 10000

#define MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"

static const char accept_manifests[] = "Accept: " IMAGE_MT_OCI_INDEX ", " IMAGE_MT_OCI_MANIFEST
				       ", " IMAGE_MT_DOCKER_LIST ", " IMAGE_MT_DOCKER_MANIFEST;

/* ---- names ---- */

/* A repository path as the reference grammar allows it (lower case,
 * separators, no "..", no leading or trailing '/'). */
static bool repo_valid(const char *s)
{
	if (!*s || *s == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//") || strstr(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("._-/", *s)))
			return false;
	return true;
}

static bool host_valid(const char *s)
{
	if (!*s || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr(".-_:[]", *s)))
			return false;
	return true;
}

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128)
		return false;
	for (size_t k = 0; k < n; k++) {
		char c = t[k];
		bool w = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_';
		if (!w && (k == 0 || (c != '.' && c != '-')))
			return false;
	}
	return true;
}

static bool ref_valid(const char *ref)
{
	return digest_valid(ref) || tag_valid(ref);
}

/* ---- open / close ---- */

int registry_open(const char *host, const char *repo, const char *actions,
		  const struct registry_opts *o, struct registry **out, struct err **err)
{
	struct registry *r;
	/* No options: TLS verified. Only a caller's tls_verify = false (an
	 * insecure registry, --tls-verify=false) turns it off. */
	static const struct registry_opts defaults = {.tls_verify = true};
	int rc;

	*out = NULL;
	if (!o)
		o = &defaults;
	if (!host || !host_valid(host))
		return err_set(err, EINVAL, "invalid registry host \"%.100s\"", host ? host : "");
	if (!repo)
		repo = "";
	if (*repo && !repo_valid(repo))
		return err_set(err, EINVAL, "invalid repository name \"%.200s\"", repo);
	if (!actions || !*actions)
		actions = "pull";
	for (const char *a = actions; *a; a++)
		if (!((*a >= 'a' && *a <= 'z') || *a == ',' || *a == '*'))
			return err_set(err, EINVAL, "invalid scope actions \"%.40s\"", actions);
	rc = moat_curl_load(err);
	if (rc < 0)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r)
		return err_errno(err, ENOMEM, "registry");
	r->tls_verify = o->tls_verify;
	r->plain_http = o->plain_http;
	r->timeout_s = o->timeout_s > 0 ? o->timeout_s : 30;
	r->max_retries = o->max_retries > 0 ? o->max_retries : o->max_retries < 0 ? 0 : 3;
	r->host = strdup(host);
	r->repo = strdup(repo);
	r->actions = strdup(actions);
	if (asprintf(&r->name, "%s%s%s", host, *repo ? "/" : "", repo) < 0)
		r->name = NULL;
	if (asprintf(&r->base, "https://%s", host) < 0)
		r->base = NULL;
	if (o->creds) {
		if (o->creds->username && *o->creds->username)
			r->user = strdup(o->creds->username);
		if (o->creds->password && *o->creds->password)
			r->pass = strdup(o->creds->password);
		if (o->creds->identity_token && *o->creds->identity_token)
			r->idtoken = strdup(o->creds->identity_token);
	}
	r->h = curl_easy_init();
	if (!r->host || !r->repo || !r->actions || !r->name || !r->base || !r->h ||
	    (o->creds &&
	     ((o->creds->username && *o->creds->username && !r->user) ||
	      (o->creds->password && *o->creds->password && !r->pass) ||
	      (o->creds->identity_token && *o->creds->identity_token && !r->idtoken)))) {
		registry_close(r);
		return err_errno(err, ENOMEM, "registry");
	}
	rc = registry_certs_load(r, o, err);
	if (rc < 0) {
		registry_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->h)
		curl_easy_cleanup(r->h);
	free(r->host);
	free(r->repo);
	free(r->actions);
	free(r->name);
	registry_secret_free(r->user);
	registry_secret_free(r->pass);
	registry_secret_free(r->idtoken);
	free(r->ca_blob);
	free(r->cert_path);
	free(r->key_path);
	free(r->base);
	registry_secret_free(r->authz);
	registry_challenge_clear(&r->ch);
	free(r->token_scopes);
	free(r->extra_scope);
	free(r);
}

/* ---- the operations ---- */

static int need_repo(struct registry *r, struct err **err)
{
	return *r->repo ? 0 : err_set(err, EINVAL, "\"%s\": no repository given", r->name);
}

int registry_ping(struct registry *r, struct err **err)
{
	struct resp p = {.content_length = -1};
	struct req q = {.method = "GET", .path = "/v2/", .body_fd = -1};
	int rc = registry_request(r, &q, &p, "ping", err);

	if (rc == 0 && p.status != 200) {
		if (p.status == 404)
			rc = err_set(err, ENOENT, "\"%s\": not an OCI registry (no /v2/ API)",
				     r->name);
		else
			rc = registry_http_error(r, &p, "login", err);
	}
	registry_resp_clear(&p);
	return rc;
}

/* Content-Type without parameters. */
static char *bare_type(const char *ct)
{
	size_t n = strcspn(ct, "; \t");

	return strndup(ct, n);
}

int registry_get_manifest(struct registry *r, const char *ref, char **body, size_t *len,
			  char **media_type, char digest[72], struct err **err)
{
	_cleanup_free_ char *path = NULL, *what = NULL, *mt = NULL;
	struct resp p = {.content_length = -1};
	struct req q = {
	    .method = "GET", .body_fd = -1, .accept = accept_manifests, .mem_cap = IMAGE_JSON_MAX};
	char hex[SHA256_HEX_LEN + 1];
	int rc;

	*body = NULL;
	*len = 0;
	*media_type = NULL;
	digest[0] = 0;
	if (need_repo(r, err) < 0)
		return -EINVAL;
	if (!ref || !ref_valid(ref))
		return err_set(err, EINVAL, "\"%s\": invalid tag or digest \"%.80s\"", r->name,
			       ref ? ref : "");
	if (asprintf(&path, "/v2/%s/manifests/%s", r->repo, ref) < 0 ||
	    asprintf(&what, "manifest \"%s\"", ref) < 0)
		return err_errno(err, ENOMEM, "manifest");
	q.path = path;
	rc = registry_request(r, &q, &p, what, err);
	if (rc < 0)
		goto out;
	if (p.status != 200) {
		rc = registry_http_error(r, &p, what, err);
		goto out;
	}
	if (!p.content_type) {
		rc = err_set(err, EPROTO, "\"%s\": %s: the registry sent no Content-Type", r->name,
			     what);
		goto out;
	}
	mt = bare_type(p.content_type);
	if (!mt) {
		rc = err_errno(err, ENOMEM, "manifest");
		goto out;
	}
	if (!strcmp(mt, MT_SCHEMA1) || !strcmp(mt, MT_SCHEMA1_SIGNED)) {
		rc = err_set(err, ENOTSUP,
			     "\"%s\": %s: schema1 images are not supported (pushed with a Docker "
			     "older than 1.10): re-push it",
			     r->name, what);
		goto out;
	}
	if (!registry_printable(mt)) {
		rc = err_set(err, EPROTO, "\"%s\": %s: malformed Content-Type", r->name, what);
		goto out;
	}
	digest_sha256_hex(p.body ? p.body : "", p.len, hex);
	snprintf(digest, 72, "sha256:%s", hex);
	if (p.dcd && !strncmp(p.dcd, "sha256:", 7) && strcmp(p.dcd, digest)) {
		rc = err_set(err, EINVAL,
			     "\"%s\": %s: the body hashes to %s, not to the registry's "
			     "Docker-Content-Digest",
			     r->name, what, digest);
		goto out;
	}
	if (digest_valid(ref) && strcmp(ref, digest)) {
		rc = err_set(err, EINVAL, "\"%s\": manifest %s does not match its digest (got %s)",
			     r->name, ref, digest);
		goto out;
	}
	*len = p.len;
	*body = p.body ? steal_ptr(p.body) : strdup("");
	*media_type = steal_ptr(mt);
	if (!*body) {
		free(steal_ptr(*media_type));
		rc = err_errno(err, ENOMEM, "manifest");
	}
out:
	if (rc < 0)
		digest[0] = 0;
	registry_resp_clear(&p);
	return rc;
}

int registry_blob_exists(struct registry *r, const char *digest, int64_t *size, struct err **err)
{
	_cleanup_free_ char *path = NULL, *what = NULL;
	struct resp p = {.content_length = -1};
	struct req q = {.method = "HEAD", .body_fd = -1};
	int rc;

	if (size)
		*size = -1;
	if (need_repo(r, err) < 0)
		return -EINVAL;
	if (!digest || !digest_valid(digest))
		return err_set(err, EINVAL, "\"%s\": invalid digest \"%.80s\"", r->name,
			       digest ? digest : "");
	if (asprintf(&path, "/v2/%s/blobs/%s", r->repo, digest) < 0 ||
	    asprintf(&what, "blob %s", digest) < 0)
		return err_errno(err, ENOMEM, "blob");
	q.path = path;
	rc = registry_request(r, &q, &p, what, err);
	if (rc == 0) {
		if (p.status == 200) {
			if (size)
				*size = p.content_length;
		} else if (p.status == 404) {
			rc = err_set(err, ENOENT, "\"%s\": %s: blob unknown", r->name, what);
		} else {
			rc = registry_http_error(r, &p, what, err);
		}
	}
	registry_resp_clear(&p);
	return rc;
}

/* Makes B's hash cover exactly the file's first B->off bytes. */
static int hash_prefix(struct blob_sink *b, uint64_t from, struct err **err)
{
	char buf[1 << 16];

	for (uint64_t o = from; o < b->off;) {
		size_t want = b->off - o < sizeof(buf) ? (size_t)(b->off - o) : sizeof(buf);
		ssize_t n = pread(b->fd, buf, want, (off_t)o);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_errno(err, n < 0 ? errno : EIO, "reading the partial blob");
		digest_ctx_update(b->dc, buf, (size_t)n);
		o += (uint64_t)n;
	}
	return 0;
}

static int blob_restart(struct blob_sink *b, struct err **err)
{
	if (ftruncate(b->fd, 0) < 0)
		return err_errno(err, errno, "truncating the blob");
	digest_ctx_final(b->dc, (char[SHA256_HEX_LEN + 1]){0});
	b->dc = digest_ctx_new();
	b->off = 0;
	return b->dc ? 0 : err_errno(err, ENOMEM, "blob");
}

int registry_get_blob(struct registry *r, const char *digest, int64_t size, int fd,
		      void (*progress)(void *arg, uint64_t done), void *arg, struct err **err)
{
	_cleanup_free_ char *path = NULL, *what = NULL;
	struct blob_sink b = {
	    .fd = fd, .size = size, .digest = digest, .progress = progress, .arg = arg};
	struct resp p = {.content_length = -1};
	struct req q = {.method = "GET", .body_fd = -1, .blob = &b};
	char hex[SHA256_HEX_LEN + 1];
	int attempts = 0, total = 0, rc = 0;
	struct stat st;

	if (need_repo(r, err) < 0)
		return -EINVAL;
	if (!digest || !digest_valid(digest))
		return err_set(err, EINVAL, "\"%s\": invalid digest \"%.80s\"", r->name,
			       digest ? digest : "");
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "blob %s", digest);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "blob %s: not written to a regular file", digest);
	if (asprintf(&path, "/v2/%s/blobs/%s", r->repo, digest) < 0 ||
	    asprintf(&what, "blob %s", digest) < 0)
		return err_errno(err, ENOMEM, "blob");
	q.path = path;
	b.dc = digest_ctx_new();
	if (!b.dc)
		return err_errno(err, ENOMEM, "blob");
	/* Resume: what the file already holds is hashed first. */
	b.off = (uint64_t)st.st_size;
	if (size >= 0 && b.off > (uint64_t)size) {
		if (blob_restart(&b, err) < 0)
			goto out;
	} else if (hash_prefix(&b, 0, err) < 0) {
		goto out;
	}
	for (;;) {
		uint64_t before = b.off;

		if (size >= 0 && b.off == (uint64_t)size)
			break;
		if (++total > BLOB_ATTEMPTS_MAX) {
			rc = err_set(err, EIO, "\"%s\": %s: gave up after %d attempts", r->name,
				     what, BLOB_ATTEMPTS_MAX);
			goto out;
		}
		q.range_from = b.off;
		b.bad_range = false;
		rc = registry_exchange(r, &q, &p, what, err);
		if (rc == 0 && (p.status == 200 || p.status == 206)) {
			/* curl saw the whole body the server meant to send (a cut
			 * one is a transport error): its size is what it is. */
			break;
		} else if (rc == 0) {
			if (!registry_status_retryable(p.status) || attempts >= r->max_retries) {
				rc = registry_http_error(r, &p, what, err);
				goto out;
			}
			registry_sleep_ms(registry_retry_delay_ms(&p, attempts++));
			continue;
		} else if (b.bad_range) {
			/* A server that got ranges wrong: start over without one. */
			err_free(err);
			if (blob_restart(&b, err) < 0)
				goto out;
			attempts++;
			continue;
		} else if (!registry_curl_retryable(r->last_curl)) {
			goto out;
		}
		/* Broken transfer: resume from what we have. Progress resets the
		 * count; BLOB_ATTEMPTS_MAX bounds a server that trickles. */
		if (b.off > before)
			attempts = 0;
		if (attempts >= r->max_retries)
			goto out;
		err_free(err);
		rc = 0;
		registry_sleep_ms(registry_retry_delay_ms(NULL, attempts++));
	}
	rc = 0;
	if (size >= 0 && b.off != (uint64_t)size) {
		rc = err_set(err, EINVAL, "\"%s\": blob %s is %" PRIu64 " bytes, not %" PRId64,
			     r->name, digest, b.off, size);
		blob_restart(&b, NULL);
		goto out;
	}
	digest_ctx_final(b.dc, hex);
	b.dc = NULL;
	if (strcmp(hex, digest + 7)) {
		rc = err_set(err, EINVAL,
			     "\"%s\": blob %s does not match its digest (got sha256:%s)", r->name,
			     digest, hex);
		/* Never resume from bytes we know are wrong. */
		if (ftruncate(fd, 0) < 0) {
			/* the error above is what matters */
		}
	}
out:
	if (b.dc)
		digest_ctx_final(b.dc, hex);
	registry_resp_clear(&p);
	return rc;
}

/* "...?digest=..." or "...&digest=..." on an upload location. */
static char *with_digest(const char *loc, const char *digest)
{
	_cleanup_free_ char *ed = registry_urlenc(digest);
	char *o = NULL;

	if (!ed || asprintf(&o, "%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", ed) < 0)
		return NULL;
	return o;
}

/* The Location of P, resolved against the URL that answered. */
static int upload_location(struct registry *r, const struct resp *p, const char *what, char **loc,
			   struct err **err)
{
	if (!p->location)
		return err_set(err, EPROTO, "\"%s\": %s: the registry sent no upload Location",
			       r->name, what);
	if (registry_resolve(p->url, p->location, loc, err) < 0)
		return err_prefix(err, "\"%s\": %s", r->name, what);
	return 0;
}

static void cancel_upload(struct registry *r, const char *loc)
{
	struct resp p = {.content_length = -1};
	struct req q = {.method = "DELETE", .url = loc, .body_fd = -1};
	struct err *e = NULL;

	registry_exchange(r, &q, &p, "cancel upload", &e);
	err_free(&e);
	registry_resp_clear(&p);
}

/* One whole upload attempt. *RETRY says whether a failure is worth
 * starting over (a fresh upload session). */
static int upload_once(struct registry *r, const char *digest, int fd, uint64_t size,
		       const char *mount_from, const char *what, bool *retry, struct resp *p,
		       struct err **err)
{
	_cleanup_free_ char *path = NULL, *loc = NULL, *url = NULL, *mfrom = NULL, *mdig = NULL;
	struct req q = {.method = "POST", .body_fd = -1};
	uint64_t chunk = 0;
	int rc;

	*retry = false;
	rc = registry_blob_exists(r, digest, NULL, err);
	if (rc == 0)
		return 0;
	if (rc != -ENOENT)
		return rc;
	err_free(err);
	if (mount_from) {
		mfrom = registry_urlenc(mount_from);
		mdig = registry_urlenc(digest);
		if (!mfrom || !mdig ||
		    asprintf(&path, "/v2/%s/blobs/uploads/?mount=%s&from=%s", r->repo, mdig,
			     mfrom) < 0)
			return err_errno(err, ENOMEM, "upload");
		q.path = path;
		rc = registry_exchange(r, &q, p, what, err);
		if (rc == 0 && p->status == 201)
			return 0;
		if (rc == 0 && p->status == 202 && p->location) {
			rc = upload_location(r, p, what, &loc, err);
			if (rc < 0)
				return rc;
		} else {
			/* No mount (no right to read FROM, unknown there...): upload. */
			err_free(err);
		}
		free(path);
		path = NULL;
	}
	if (!loc) {
		if (asprintf(&path, "/v2/%s/blobs/uploads/", r->repo) < 0)
			return err_errno(err, ENOMEM, "upload");
		q = (struct req){.method = "POST", .path = path, .body_fd = -1};
		rc = registry_exchange(r, &q, p, what, err);
		if (rc < 0) {
			*retry = registry_curl_retryable(r->last_curl);
			return rc;
		}
		if (p->status != 202) {
			*retry = registry_status_retryable(p->status);
			return registry_http_error(r, p, what, err);
		}
		rc = upload_location(r, p, what, &loc, err);
		if (rc < 0)
			return rc;
	}
	if (p->chunk_min) {
		char *end;
		errno = 0;
		chunk = strtoull(p->chunk_min, &end, 10);
		if (errno || *end || !chunk)
			chunk = 0;
	}
	if (chunk && chunk < size) {
		/* The registry demands chunks of at least CHUNK bytes: PATCH them
		 * in order, then close the session with the digest. */
		for (uint64_t off = 0; off < size;) {
			uint64_t n = size - off < chunk ? size - off : chunk;
			char range[80];

			snprintf(range, sizeof(range), "Content-Range: %" PRIu64 "-%" PRIu64, off,
				 off + n - 1);
			q = (struct req){.method = "PATCH",
					 .url = loc,
					 .body_fd = fd,
					 .body_off = off,
					 .body_size = n,
					 .extra = range};
			rc = registry_exchange(r, &q, p, what, err);
			if (rc < 0 || p->status != 202) {
				*retry = rc < 0 ? registry_curl_retryable(r->last_curl)
						: registry_status_retryable(p->status);
				if (rc == 0)
					rc = registry_http_error(r, p, what, err);
				cancel_upload(r, loc);
				return rc;
			}
			off += n;
			free(loc);
			loc = NULL;
			rc = upload_location(r, p, what, &loc, err);
			if (rc < 0)
				return rc;
		}
		url = with_digest(loc, digest);
		if (!url)
			return err_errno(err, ENOMEM, "upload");
		q = (struct req){
		    .method = "PUT", .url = url, .body = "", .body_len = 0, .body_fd = -1};
	} else {
		url = with_digest(loc, digest);
		if (!url)
			return err_errno(err, ENOMEM, "upload");
		q = (struct req){
		    .method = "PUT", .url = url, .body_fd = fd, .body_off = 0, .body_size = size};
	}
	rc = registry_exchange(r, &q, p, what, err);
	if (rc < 0 || p->status != 201) {
		*retry = rc < 0 ? registry_curl_retryable(r->last_curl)
				: registry_status_retryable(p->status);
		if (rc == 0)
			rc = registry_http_error(r, p, what, err);
		cancel_upload(r, loc);
		return rc;
	}
	if (p->dcd && !strncmp(p->dcd, "sha256:", 7) && strcmp(p->dcd, digest))
		return err_set(err, EPROTO, "\"%s\": %s: the registry stored it as %.80s", r->name,
			       what, registry_printable(p->dcd) ? p->dcd : "another digest");
	return 0;
}

int registry_put_blob(struct registry *r, const char *digest, int fd, int64_t size,
		      const char *mount_from, struct err **err)
{
	_cleanup_free_ char *what = NULL;
	struct resp p = {.content_length = -1};
	struct stat st;
	int rc;

	if (need_repo(r, err) < 0)
		return -EINVAL;
	if (!digest || !digest_valid(digest))
		return err_set(err, EINVAL, "\"%s\": invalid digest \"%.80s\"", r->name,
			       digest ? digest : "");
	if (mount_from && (!repo_valid(mount_from) || !*r->repo))
		return err_set(err, EINVAL, "\"%s\": invalid repository to mount from \"%.200s\"",
			       r->name, mount_from);
	if (asprintf(&what, "blob %s", digest) < 0)
		return err_errno(err, ENOMEM, "blob");
	if (size < 0 || fstat(fd, &st) < 0 || st.st_size < size)
		return err_set(err, EINVAL,
			       "\"%s\": %s: the file to upload is not %" PRId64 " bytes", r->name,
			       what, size);
	if (mount_from) {
		free(r->extra_scope);
		if (asprintf(&r->extra_scope, "repository:%s:pull", mount_from) < 0) {
			r->extra_scope = NULL;
			return err_errno(err, ENOMEM, "blob");
		}
	}
	for (int attempt = 0;; attempt++) {
		bool retry = false;

		rc = upload_once(r, digest, fd, (uint64_t)size, mount_from, what, &retry, &p, err);
		if (rc == 0 || !retry || attempt >= r->max_retries)
			break;
		err_free(err);
		registry_sleep_ms(registry_retry_delay_ms(&p, attempt));
	}
	/* The mount scope was for this blob only. */
	free(r->extra_scope);
	r->extra_scope = NULL;
	registry_resp_clear(&p);
	return rc;
}

int registry_put_manifest(struct registry *r, const char *ref, const char *media_type,
			  const char *body, size_t len, char digest[72], struct err **err)
{
	_cleanup_free_ char *path = NULL, *what = NULL;
	struct resp p = {.content_length = -1};
	struct req q = {.method = "PUT",
			.body = body,
			.body_len = len,
			.body_fd = -1,
			.content_type = media_type};
	char hex[SHA256_HEX_LEN + 1], mine[72];
	int rc;

	digest[0] = 0;
	if (need_repo(r, err) < 0)
		return -EINVAL;
	if (!ref || !ref_valid(ref))
		return err_set(err, EINVAL, "\"%s\": invalid tag or digest \"%.80s\"", r->name,
			       ref ? ref : "");
	if (!media_type || !*media_type || strlen(media_type) > 200 ||
	    !registry_printable(media_type))
		return err_set(err, EINVAL, "\"%s\": invalid media type", r->name);
	if (len > IMAGE_JSON_MAX)
		return err_set(err, EFBIG, "\"%s\": manifest larger than %u bytes", r->name,
			       IMAGE_JSON_MAX);
	digest_sha256_hex(body, len, hex);
	snprintf(mine, sizeof(mine), "sha256:%s", hex);
	if (digest_valid(ref) && strcmp(ref, mine))
		return err_set(err, EINVAL, "\"%s\": the manifest hashes to %s, not to %s", r->name,
			       mine, ref);
	if (asprintf(&path, "/v2/%s/manifests/%s", r->repo, ref) < 0 ||
	    asprintf(&what, "manifest \"%s\"", ref) < 0)
		return err_errno(err, ENOMEM, "manifest");
	q.path = path;
	rc = registry_request(r, &q, &p, what, err);
	if (rc == 0 && p.status != 201 && p.status != 200)
		rc = registry_http_error(r, &p, what, err);
	if (rc == 0 && p.dcd && !strncmp(p.dcd, "sha256:", 7) && strcmp(p.dcd, mine))
		rc = err_set(err, EPROTO, "\"%s\": %s: the registry stored it as %.80s, not %s",
			     r->name, what, registry_printable(p.dcd) ? p.dcd : "another digest",
			     mine);
	if (rc == 0)
		memcpy(digest, mine, sizeof(mine));
	registry_resp_clear(&p);
	return rc;
}

int registry_list_tags(struct registry *r, char ***tags, struct err **err)
{
	_cleanup_strv_ char **all = NULL;
	_cleanup_free_ char *url = NULL;
	size_t n = 0;
	int rc = 0;

	*tags = NULL;
	if (!*r->repo)
		return err_set(err, EINVAL, "\"%s\": no repository", r->name);
	all = calloc(1, sizeof(char *));
	if (!all)
		return err_errno(err, ENOMEM, "tags");
	for (int page = 0; page < TAG_PAGES_MAX; page++) {
		_cleanup_free_ char *path = NULL, *next = NULL;
		_cleanup_strv_ char **v = NULL;
		struct resp p = {.content_length = -1};
		struct req q = {.method = "GET", .body_fd = -1, .mem_cap = 4u << 20};
		struct err *e = NULL;
		size_t k = 0;

		if (!url) {
			if (asprintf(&path, "/v2/%s/tags/list", r->repo) < 0)
				return err_errno(err, ENOMEM, "tags");
			q.path = path;
		} else {
			q.url = url;
		}
		rc = registry_request(r, &q, &p, "tags", err);
		if (rc == 0 && p.status != 200)
			rc = registry_http_error(r, &p, "tags", err);
		if (rc == 0 && registry_tags_decode(p.body ? p.body : "", p.len, &v, &e) < 0)
			rc = err_set(err, e->code, "\"%s\": %s", r->name, e->msg);
		if (rc == 0 && registry_link_next(p.link, &next, &e) < 0)
			rc = err_set(err, e->code, "\"%s\": %s", r->name, e->msg);
		err_free(&e);
		if (rc == 0 && next) {
			char *abs = NULL;
			rc = registry_resolve(p.url, next, &abs, err);
			free(url);
			url = abs;
			if (rc == 0 && !registry_same_origin(url, r->base))
				rc = err_set(err, EPROTO,
					     "\"%s\": tags: the next page is on another host",
					     r->name);
		}
		registry_resp_clear(&p);
		if (rc < 0)
			return rc;
		while (v[k])
			k++;
		if (n + k > 1000000)
			return err_set(err, E2BIG, "\"%s\": more than a million tags", r->name);
		{
			char **na = realloc(all, (n + k + 1) * sizeof(char *));
			if (!na)
				return err_errno(err, ENOMEM, "tags");
			all = na;
		}
		memcpy(all + n, v, k * sizeof(char *));
		n += k;
		all[n] = NULL;
		free(steal_ptr(v)); /* the strings now belong to ALL */
		if (!next)
			break;
	}
	*tags = steal_ptr(all);
	return 0;
}

int registry_get_referrers(struct registry *r, const char *digest, size_t cap, char **body,
			   size_t *len, struct err **err)
{
	_cleanup_free_ char *path = NULL;
	struct resp p = {.content_length = -1};
	struct req q = {.method = "GET",
			.body_fd = -1,
			.accept = "Accept: application/vnd.oci.image.index.v1+json",
			.mem_cap = cap};
	int rc;

	*body = NULL;
	*len = 0;
	if (need_repo(r, err) < 0)
		return -EINVAL;
	if (!digest || !digest_valid(digest))
		return err_set(err, EINVAL, "\"%s\": invalid digest \"%.80s\"", r->name,
			       digest ? digest : "");
	if (asprintf(&path, "/v2/%s/referrers/%s", r->repo, digest) < 0)
		return err_errno(err, ENOMEM, "referrers");
	q.path = path;
	rc = registry_request(r, &q, &p, "referrers", err);
	/* A registry without the API (distribution 2.x) answers 404 (or 405,
	 * 400 on some): "none", like an empty index. */
	if (rc == 0 && (p.status == 404 || p.status == 405 || p.status == 400))
		rc = err_set(err, ENOENT, "\"%s\": no referrers API", r->name);
	else if (rc == 0 && p.status != 200)
		rc = registry_http_error(r, &p, "referrers", err);
	if (rc == 0) {
		*len = p.len;
		*body = p.body ? steal_ptr(p.body) : strdup("");
		if (!*body)
			rc = err_errno(err, ENOMEM, "referrers");
	}
	registry_resp_clear(&p);
	return rc;
}
