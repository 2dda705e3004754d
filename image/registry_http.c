/*
 * image/registry_http.c - the registry client's transport: the curl
 * handle, TLS and certs.d, one HTTP exchange with its callbacks (headers
 * captured and capped, bodies capped, blobs written and hashed as they
 * arrive, uploads streamed from an fd), redirects followed by hand, and
 * retries with back-off.
 *
 * Runs in: the moat process (pull, push, login), as the invoking user,
 * before any container exists. Talks to the network; libcurl is loaded on
 * first use (common/curl.h).
 *
 * Invariants:
 *  - TLS is verified unless the caller says otherwise (an insecure
 *    registry or --tls-verify=false); CAs are the system's plus
 *    the *.crt files of <certs.d>/<host>/, the client certificate is only presented to
 *    the registry's own origin;
 *  - curl never follows a redirect: we do, at most REDIRECTS_MAX times,
 *    and the Authorization header (and client certificate) goes only to
 *    the registry's scheme+host+port; once a chain has left that origin
 *    it never carries them again (blob storage redirects). A request
 *    with its own Authorization (the token realm's Basic) sends it only
 *    to its first URL's origin, by the same rule;
 *  - only http and https, for every request and every redirect;
 *  - every body is capped before it is buffered (a 2xx body at the
 *    request's mem_cap, error bodies ERRBODY_MAX), headers at
 *    HDR_VALUE_MAX each and HDRS_TOTAL_MAX in all; a blob never grows
 *    past its descriptor's size (or IMAGE_LAYER_MAX_BYTES), and a 206
 *    that does not start where we asked is refused;
 *  - text from the registry reaches messages only through
 *    registry_error_decode(), which strips terminal controls;
 *  - retries only for 429, 500, 502, 503, 504 and transient transport
 *    errors, with exponential back-off from BACKOFF_MS (Retry-After
 *    honoured, capped at RETRY_AFTER_MAX seconds).
 */
#include "image/registry_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "image/image.h"

#define ERRBODY_MAX (64u << 10)	    /* a non-2xx body, kept for its error text */
#define HDR_VALUE_MAX 8192	    /* one captured response header */
#define HDRS_TOTAL_MAX (256u << 10) /* all headers of one response */
#define REDIRECTS_MAX 10
#define BACKOFF_MS 200
#define RETRY_AFTER_MAX 60
#define CA_FILE_MAX (1u << 20)
#define CA_TOTAL_MAX (8u << 20)

/* Per-transfer state for the callbacks. */
struct xfer {
	struct registry *r;
	const struct req *q;
	struct resp *p;
	uint64_t rd_pos;
	int cb_err; /* our own abort: negative errno */
	char cb_msg[512];
};

static void curlu_freep(CURLU **u)
{
	if (*u)
		curl_url_cleanup(*u);
}
#define _cleanup_curlu_ __attribute__((cleanup(curlu_freep)))

static void slist_freep(struct curl_slist **l)
{
	if (*l)
		curl_slist_free_all(*l);
}
#define _cleanup_slist_ __attribute__((cleanup(slist_freep)))

static void curlstr_freep(char **s)
{
	if (*s)
		curl_free(*s);
}
#define _cleanup_curlstr_ __attribute__((cleanup(curlstr_freep)))

void registry_resp_clear(struct resp *p)
{
	free(p->body);
	free(p->content_type);
	free(p->location);
	free(p->dcd);
	free(p->www_auth);
	free(p->retry_after);
	free(p->content_range);
	free(p->link);
	free(p->chunk_min);
	free(p->url);
	free(p->redirect);
	memset(p, 0, sizeof(*p));
	p->content_length = -1;
}

void registry_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- small pure helpers ---- */

char *registry_urlenc(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o = malloc(strlen(s) * 3 + 1), *w = o;

	if (!o)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			*w++ = (char)*p;
		} else {
			*w++ = '%';
			*w++ = hex[*p >> 4];
			*w++ = hex[*p & 15];
		}
	}
	*w = 0;
	return o;
}

bool registry_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int status_errno(long st)
{
	switch (st) {
	case 400:
		return EINVAL;
	case 401:
	case 403:
		return EACCES;
	case 404:
		return ENOENT;
	case 405:
		return ENOTSUP;
	case 413:
		return EFBIG;
	case 416:
		return ERANGE;
	case 429:
		return EAGAIN;
	default:
		return st >= 500 ? EIO : EPROTO;
	}
}

bool registry_status_retryable(long st)
{
	return st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

bool registry_curl_retryable(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SEND_FAIL_REWIND:
		return true;
	default:
		return false;
	}
}

/* https -> http for an insecure registry (podman): a TLS handshake that
 * fails, or an https port that is not there. */
static bool curl_http_fallback(CURLcode c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_COULDNT_CONNECT:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
		return true;
	default:
		return false;
	}
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return EPROTO;
	default:
		return EIO;
	}
}

/* The registry's error text (or the bare status) as an error naming WHAT. */
int registry_http_error(struct registry *r, const struct resp *p, const char *what,
			struct err **err)
{
	_cleanup_free_ char *text = NULL;
	struct err *e = NULL;

	if (p->body && p->len && !p->over)
		registry_error_decode(p->body, p->len, &text, &e);
	err_free(&e);
	if (p->status == 401)
		return err_set(err, EACCES, "\"%s\": %s: %s%s (HTTP 401)", r->name, what,
			       text && !strncmp(text, "unauthorized", 12) ? "" : "unauthorized: ",
			       text ? text : "authentication required");
	return err_set(err, status_errno(p->status), "\"%s\": %s: %s (HTTP %ld)", r->name, what,
		       text ? text : "unexpected status", p->status);
}

/* ---- URLs ---- */

/* scheme://host:port of URL, lower-cased, default ports explicit. */
static char *origin(const char *url)
{
	_cleanup_curlu_ CURLU *u = curl_url();
	_cleanup_curlstr_ char *sch = NULL, *host = NULL, *port = NULL;
	char *o = NULL;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &sch, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		return NULL;
	if (asprintf(&o, "%s://%s:%s", sch, host, port) < 0)
		return NULL;
	for (char *c = o; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return o;
}

bool registry_same_origin(const char *a, const char *b)
{
	_cleanup_free_ char *oa = origin(a), *ob = origin(b);

	return oa && ob && !strcmp(oa, ob);
}

/* REL (a Location or Link target, possibly relative) against BASE; only
 * http(s) results. */
int registry_resolve(const char *base, const char *rel, char **out, struct err **err)
{
	_cleanup_curlu_ CURLU *u = curl_url();
	_cleanup_curlstr_ char *s = NULL;

	*out = NULL;
	if (!registry_printable(rel))
		return err_set(err, EPROTO, "the registry sent a malformed URL");
	if (!u || curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_URL, rel, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		return err_set(err, EPROTO, "the registry sent a malformed URL \"%.200s\"", rel);
	if (strncasecmp(s, "https://", 8) && strncasecmp(s, "http://", 7))
		return err_set(err, EPROTO, "the registry sent a URL that is not http(s)");
	*out = strdup(s);
	return *out ? 0 : err_errno(err, ENOMEM, "URL");
}

/* ---- curl callbacks ---- */

static void keep_header(char **slot, const char *v, size_t n, bool join)
{
	char *o;

	if (n > HDR_VALUE_MAX)
		return; /* too long to be honest; as if absent */
	if (*slot && join) {
		if (strlen(*slot) + n + 2 > HDR_VALUE_MAX)
			return;
		if (asprintf(&o, "%s, %.*s", *slot, (int)n, v) < 0)
			return;
		free(*slot);
		*slot = o;
		return;
	}
	if (*slot)
		return; /* the first one counts */
	*slot = strndup(v, n);
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	struct resp *p = x->p;
	size_t n = size * nitems, k = 0, vlen;
	const char *colon, *v;

	p->hdr_total += n;
	if (p->hdr_total > HDRS_TOTAL_MAX) {
		x->cb_err = -EPROTO;
		snprintf(x->cb_msg, sizeof(x->cb_msg), "response headers larger than %u bytes",
			 HDRS_TOTAL_MAX);
		return 0;
	}
	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* A new response (1xx, then the final one): forget the last. */
		long st = 0;

		while (k < n && buf[k] != ' ')
			k++;
		while (k < n && buf[k] == ' ')
			k++;
		for (int d = 0; d < 3 && k < n && buf[k] >= '0' && buf[k] <= '9'; d++, k++)
			st = st * 10 + (buf[k] - '0');
		free(p->content_type);
		free(p->location);
		free(p->dcd);
		free(p->www_auth);
		free(p->retry_after);
		free(p->content_range);
		free(p->link);
		free(p->chunk_min);
		p->content_type = p->location = p->dcd = p->www_auth = p->retry_after = NULL;
		p->content_range = p->link = p->chunk_min = NULL;
		p->content_length = -1;
		p->status = st;
		return n;
	}
	colon = memchr(buf, ':', n);
	if (!colon)
		return n;
	v = colon + 1;
	vlen = n - (size_t)(v - buf);
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' ' ||
			v[vlen - 1] == '\t'))
		vlen--;
#define IS(name) \
	((size_t)(colon - buf) == sizeof(name) - 1 && !strncasecmp(buf, name, sizeof(name) - 1))
	if (IS("Content-Type"))
		keep_header(&p->content_type, v, vlen, false);
	else if (IS("Location"))
		keep_header(&p->location, v, vlen, false);
	else if (IS("Docker-Content-Digest"))
		keep_header(&p->dcd, v, vlen, false);
	else if (IS("WWW-Authenticate"))
		keep_header(&p->www_auth, v, vlen, true);
	else if (IS("Retry-After"))
		keep_header(&p->retry_after, v, vlen, false);
	else if (IS("Content-Range"))
		keep_header(&p->content_range, v, vlen, false);
	else if (IS("Link"))
		keep_header(&p->link, v, vlen, true);
	else if (IS("OCI-Chunk-Min-Length"))
		keep_header(&p->chunk_min, v, vlen, false);
	else if (IS("Content-Length") && vlen && vlen < 19) {
		int64_t cl = 0;
		for (size_t i = 0; i < vlen && cl >= 0; i++)
			cl = v[i] >= '0' && v[i] <= '9' ? cl * 10 + (v[i] - '0') : -1;
		p->content_length = cl;
	}
#undef IS
	return n;
}

/* "bytes A-B/T" (T may be "*"): A. */
static bool content_range_start(const char *v, uint64_t *start)
{
	char *end;

	if (!v || strncasecmp(v, "bytes ", 6))
		return false;
	v += 6;
	if (*v < '0' || *v > '9')
		return false;
	errno = 0;
	*start = strtoull(v, &end, 10);
	return !errno && *end == '-';
}

static size_t blob_write(struct xfer *x, const char *buf, size_t n)
{
	struct blob_sink *b = x->q->blob;

	if (!b->started) {
		b->started = true;
		if (x->p->status == 206) {
			uint64_t st;
			if (!content_range_start(x->p->content_range, &st) || st != b->off) {
				b->bad_range = true;
				x->cb_err = -EPROTO;
				snprintf(
				    x->cb_msg, sizeof(x->cb_msg),
				    "the registry answered a range request with another range");
				return 0;
			}
		} else if (b->off > 0) {
			/* 200 to a Range request: the whole blob again. */
			if (ftruncate(b->fd, 0) < 0) {
				x->cb_err = -errno;
				snprintf(x->cb_msg, sizeof(x->cb_msg), "truncating the blob: %s",
					 strerror(errno));
				return 0;
			}
			digest_ctx_final(b->dc, (char[SHA256_HEX_LEN + 1]){0});
			b->dc = digest_ctx_new();
			b->off = 0;
			if (!b->dc) {
				x->cb_err = -ENOMEM;
				snprintf(x->cb_msg, sizeof(x->cb_msg), "out of memory");
				return 0;
			}
		}
	}
	if ((b->size >= 0 && b->off + n > (uint64_t)b->size) ||
	    b->off + n > IMAGE_LAYER_MAX_BYTES) {
		x->cb_err = -EFBIG;
		if (b->size >= 0)
			snprintf(x->cb_msg, sizeof(x->cb_msg),
				 "blob %s is larger than its descriptor says (%" PRId64 " bytes)",
				 b->digest, b->size);
		else
			snprintf(x->cb_msg, sizeof(x->cb_msg), "blob %s is larger than %llu bytes",
				 b->digest, (unsigned long long)IMAGE_LAYER_MAX_BYTES);
		return 0;
	}
	for (size_t done = 0; done < n;) {
		ssize_t w = pwrite(b->fd, buf + done, n - done, (off_t)(b->off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->cb_err = w < 0 ? -errno : -EIO;
			snprintf(x->cb_msg, sizeof(x->cb_msg), "writing blob %s: %s", b->digest,
				 strerror(w < 0 ? errno : EIO));
			return 0;
		}
		done += (size_t)w;
	}
	digest_ctx_update(b->dc, buf, n);
	b->off += n;
	if (b->progress)
		b->progress(b->arg, b->off);
	return n;
}

static size_t write_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	struct resp *p = x->p;
	size_t n = size * nitems, cap;
	bool ok = p->status >= 200 && p->status < 300;

	if (x->q->blob && (p->status == 200 || p->status == 206))
		return blob_write(x, buf, n);
	cap = ok && x->q->mem_cap ? x->q->mem_cap : ERRBODY_MAX;
	if (p->len + n > cap) {
		/* Stop reading; perform() tells an error body cut short from a
		 * 2xx body that is too large. */
		p->over = true;
		return 0;
	}
	if (p->len + n + 1 > p->cap) {
		size_t nc = p->cap ? p->cap : 4096;
		char *nb;
		while (nc < p->len + n + 1)
			nc *= 2;
		nb = realloc(p->body, nc);
		if (!nb) {
			x->cb_err = -ENOMEM;
			snprintf(x->cb_msg, sizeof(x->cb_msg), "out of memory");
			return 0;
		}
		p->body = nb;
		p->cap = nc;
	}
	memcpy(p->body + p->len, buf, n);
	p->len += n;
	p->body[p->len] = 0;
	return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	const struct req *q = x->q;
	size_t want = size * nitems;

	if (q->body_fd < 0) {
		size_t left = q->body_len - (size_t)x->rd_pos, n = left < want ? left : want;
		if (!n)
			return 0;
		memcpy(buf, q->body + x->rd_pos, n);
		x->rd_pos += n;
		return n;
	}
	if (x->rd_pos >= q->body_size)
		return 0;
	if (want > q->body_size - x->rd_pos)
		want = (size_t)(q->body_size - x->rd_pos);
	for (;;) {
		ssize_t n = pread(q->body_fd, buf, want, (off_t)(q->body_off + x->rd_pos));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			x->cb_err = n < 0 ? -errno : -EIO;
			snprintf(x->cb_msg, sizeof(x->cb_msg), "reading the blob to upload: %s",
				 n < 0 ? strerror(errno) : "the file is shorter than its size");
			return CURL_READFUNC_ABORT;
		}
		x->rd_pos += (uint64_t)n;
		return (size_t)n;
	}
}

static int seek_cb(void *ud, curl_off_t offset, int origin_)
{
	struct xfer *x = ud;
	uint64_t lim = x->q->body_fd >= 0 ? x->q->body_size : x->q->body_len;

	if (origin_ != SEEK_SET || offset < 0 || (uint64_t)offset > lim)
		return CURL_SEEKFUNC_CANTSEEK;
	x->rd_pos = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* ---- one HTTP exchange ---- */

#define SETOPT(opt, val)                                                      \
	do {                                                                  \
		if (curl_easy_setopt(r->h, opt, val) != CURLE_OK)             \
			return err_set(err, EINVAL, "libcurl refused " #opt); \
	} while (0)

/* METHOD URL once, with AUTHZ (a full header line or NULL); TLS client
 * credentials only when TRUSTED (the registry's own origin). */
static int perform(struct registry *r, const struct req *q, const char *method, const char *url,
		   bool with_body, const char *authz, bool trusted, struct resp *p,
		   struct err **err)
{
	_cleanup_slist_ struct curl_slist *hl = NULL;
	struct xfer x = {r, q, p, 0, 0, {0}};
	char line[128];
	char *redir = NULL;
	long st = 0;
	CURLcode rc;

	registry_resp_clear(p);
	p->url = strdup(url);
	if (!p->url)
		return err_errno(err, ENOMEM, "request");
	if (q->blob)
		q->blob->started = false;
	r->errbuf[0] = 0;
	curl_easy_reset(r->h);
	SETOPT(CURLOPT_URL, url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
	SETOPT(CURLOPT_USERAGENT, "moat");
	SETOPT(CURLOPT_CONNECTTIMEOUT, r->timeout_s);
	/* A server that sends less than a byte a second for timeout_s is
	 * hanging: that fails the request (and may be retried). */
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, r->timeout_s);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, &x);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, &x);
	/* TLS is verified unless the caller said otherwise; the client
	 * certificate goes only to the registry's own origin (TRUSTED). */
	if (!r->tls_verify) {
		SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (r->ca_blob) {
		struct curl_blob blob = {r->ca_blob, r->ca_len, CURL_BLOB_COPY};
		SETOPT(CURLOPT_CAINFO_BLOB, &blob);
	}
	if (trusted && r->cert_path) {
		SETOPT(CURLOPT_SSLCERT, r->cert_path);
		SETOPT(CURLOPT_SSLKEY, r->key_path);
	}
	if (q->blob) /* fewer, larger writes and hash updates for layers */
		SETOPT(CURLOPT_BUFFERSIZE, 512L * 1024);
	if (q->body_fd >= 0)
		SETOPT(CURLOPT_UPLOAD_BUFFERSIZE, 1024L * 1024);
	if (!strcmp(method, "HEAD")) {
		SETOPT(CURLOPT_NOBODY, 1L);
	} else if (with_body) {
		/* Every method with a body is an "upload" with its own verb, so
		 * the body always streams through read_cb, rewindable. */
		SETOPT(CURLOPT_UPLOAD, 1L);
		SETOPT(CURLOPT_CUSTOMREQUEST, method);
		SETOPT(CURLOPT_READFUNCTION, read_cb);
		SETOPT(CURLOPT_READDATA, &x);
		SETOPT(CURLOPT_SEEKFUNCTION, seek_cb);
		SETOPT(CURLOPT_SEEKDATA, &x);
		SETOPT(CURLOPT_INFILESIZE_LARGE,
		       (curl_off_t)(q->body_fd >= 0 ? q->body_size : q->body_len));
	} else if (strcmp(method, "GET")) {
		SETOPT(CURLOPT_CUSTOMREQUEST, method);
	}
#define ADD(l)                                                            \
	do {                                                              \
		struct curl_slist *n_ = curl_slist_append(hl, (l));       \
		if (!n_)                                                  \
			return err_errno(err, ENOMEM, "request headers"); \
		hl = n_;                                                  \
	} while (0)
	if (q->accept)
		ADD(q->accept);
	if (with_body) {
		snprintf(line, sizeof(line), "Content-Type: %s",
			 q->content_type ? q->content_type : "application/octet-stream");
		ADD(line);
	}
	if (q->extra)
		ADD(q->extra);
	if (q->range_from) {
		snprintf(line, sizeof(line), "Range: bytes=%" PRIu64 "-", q->range_from);
		ADD(line);
	}
	if (authz)
		ADD(authz);
#undef ADD
	if (hl)
		SETOPT(CURLOPT_HTTPHEADER, hl);

	rc = curl_easy_perform(r->h);
	r->last_curl = rc;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &st);
	if (st)
		p->status = st;
	if (x.cb_err)
		return err_set(err, -x.cb_err, "\"%s\": %s", r->name, x.cb_msg);
	if (rc == CURLE_WRITE_ERROR && p->over) {
		if (p->status >= 200 && p->status < 300)
			return err_set(err, EFBIG,
				       "\"%s\": the response to %s is larger than %zu bytes",
				       r->name, method, q->mem_cap ? q->mem_cap : ERRBODY_MAX);
		rc = CURLE_OK; /* an error body cut short: its status is what counts */
	}
	if (rc != CURLE_OK)
		return err_set(err, curl_errno(rc), "\"%s\": %s %.*s: %s", r->name, method,
			       (int)strcspn(url, "?"), url,
			       r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	if (p->status >= 300 && p->status < 400 &&
	    curl_easy_getinfo(r->h, CURLINFO_REDIRECT_URL, &redir) == CURLE_OK && redir) {
		p->redirect = strdup(redir);
		if (!p->redirect)
			return err_errno(err, ENOMEM, "redirect");
	}
	return 0;
}

static bool is_redirect(long st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

/* One request with redirects followed by hand. */
int registry_follow(struct registry *r, const struct req *q, struct resp *p, struct err **err)
{
	_cleanup_free_ char *url = NULL, *first = NULL;
	const char *method = q->method;
	bool with_body = q->body || q->body_fd >= 0 || !strcmp(method, "PUT") ||
			 !strcmp(method, "POST") || !strcmp(method, "PATCH");
	bool left = false;
	int rc;

again:
	free(url);
	url = q->url ? strdup(q->url) : NULL;
	if (!q->url && asprintf(&url, "%s%s", r->base, q->path) < 0)
		url = NULL;
	if (!url)
		return err_errno(err, ENOMEM, "request");
	free(first);
	first = strdup(url);
	if (!first)
		return err_errno(err, ENOMEM, "request");
	for (int hop = 0;; hop++) {
		/* Credentials never go to another host: the Authorization line
		 * (ours, or Q's own for its first URL's origin) only while the
		 * chain has not left that origin, and never after it has (blob
		 * storage redirects). */
		bool own = !left && registry_same_origin(url, q->authz ? first : r->base);
		const char *authz = !own	 ? NULL
				    : q->authz	 ? q->authz
				    : q->no_auth ? NULL
						 : r->authz;
		bool trusted = !left && registry_same_origin(url, r->base);

		rc = perform(r, q, method, url, with_body, authz, trusted, p, err);
		if (rc < 0) {
			/* An insecure registry that does not speak TLS: once, on the
			 * first contact, switch the registry to http and start over. */
			if (hop == 0 && !q->url && r->plain_http && !r->scheme_fixed &&
			    !strncmp(r->base, "https://", 8) && curl_http_fallback(r->last_curl)) {
				char *nb = NULL;
				if (asprintf(&nb, "http://%s", r->host) < 0)
					return err_errno(err, ENOMEM, "request");
				free(r->base);
				r->base = nb;
				r->scheme_fixed = true;
				err_free(err);
				goto again;
			}
			return rc;
		}
		if (trusted)
			r->scheme_fixed = true;
		if (!is_redirect(p->status))
			return 0;
		if (hop >= REDIRECTS_MAX)
			return err_set(err, ELOOP, "\"%s\": more than %d redirects", r->name,
				       REDIRECTS_MAX);
		if (!p->redirect)
			return err_set(err, EPROTO,
				       "\"%s\": a redirect (HTTP %ld) without Location", r->name,
				       p->status);
		if (strncasecmp(p->redirect, "https://", 8) &&
		    strncasecmp(p->redirect, "http://", 7))
			return err_set(err, EPROTO,
				       "\"%s\": a redirect to a URL that is not http(s)", r->name);
		/* Like Go's net/http: 303, and 301/302 after a POST, become a GET
		 * without body; 307/308 repeat the request as it was. */
		if (p->status == 303 ||
		    ((p->status == 301 || p->status == 302) && !strcmp(method, "POST"))) {
			if (strcmp(method, "HEAD"))
				method = "GET";
			with_body = false;
		}
		if (!registry_same_origin(p->redirect, q->authz ? first : r->base))
			left = true;
		free(url);
		url = steal_ptr(p->redirect);
	}
}

/* ---- retries ---- */

long registry_retry_delay_ms(const struct resp *p, int attempt)
{
	long ms = BACKOFF_MS << (attempt < 8 ? attempt : 8);

	if (p && p->status == 429 && p->retry_after) {
		long s = 0;
		struct err *e = NULL;
		if (registry_retry_after_parse(p->retry_after, time(NULL), &s, &e) == 0)
			ms = (s > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : s) * 1000;
		err_free(&e);
	}
	return ms > RETRY_AFTER_MAX * 1000 ? RETRY_AFTER_MAX * 1000 : ms;
}

/* registry_exchange() with retries on 429/5xx and transient transport errors.
 * Returns 0 with the final response (whatever its status) or the last
 * transport error. */
int registry_request(struct registry *r, const struct req *q, struct resp *p, const char *what,
		     struct err **err)
{
	for (int attempt = 0;; attempt++) {
		int rc = registry_exchange(r, q, p, what, err);

		if (rc == 0 && !registry_status_retryable(p->status))
			return 0;
		if (attempt >= r->max_retries)
			return rc;
		if (rc < 0 && !registry_curl_retryable(r->last_curl))
			return rc;
		if (rc < 0)
			err_free(err);
		registry_sleep_ms(registry_retry_delay_ms(rc == 0 ? p : NULL, attempt));
	}
}

/* ---- TLS: certs.d ---- */

static int add_file(char **buf, size_t *len, int dirfd, const char *name, const char *what,
		    struct err **err)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	char *nb;
	ssize_t n;

	if (fd < 0)
		return err_errno(err, errno, "%s \"%s\"", what, name);
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "%s \"%s\"", what, name);
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CA_FILE_MAX ||
	    *len + (size_t)st.st_size > CA_TOTAL_MAX)
		return err_set(err, EINVAL, "%s \"%s\": not a regular file of at most %u bytes",
			       what, name, CA_FILE_MAX);
	nb = realloc(*buf, *len + (size_t)st.st_size + 2);
	if (!nb)
		return err_errno(err, ENOMEM, "%s", what);
	*buf = nb;
	n = read(fd, nb + *len, (size_t)st.st_size);
	if (n < 0)
		return err_errno(err, errno, "%s \"%s\"", what, name);
	*len += (size_t)n;
	nb[(*len)++] = '\n';
	nb[*len] = 0;
	return 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && !strcmp(s + n - m, suf);
}

/* <root>/<host>/: every *.crt is a CA; X.cert with X.key is the client
 * certificate (Docker's certs.d layout; the first pair in name order). */
static int load_certs_dir(struct registry *r, const char *root, char **extra, size_t *elen,
			  struct err **err)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_ char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int dfd;

	if (asprintf(&path, "%s/%s", root, r->host) < 0)
		return err_errno(err, ENOMEM, "certs.d");
	d = opendir(path);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return err_errno(err, errno, "certificates directory \"%s\"", path);
	}
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n + 2 > cap) {
			char **nv = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(char *));
			if (!nv)
				return err_errno(err, ENOMEM, "certs.d");
			names = nv;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			return err_errno(err, ENOMEM, "certs.d");
		names[++n] = NULL;
		if (n > 256)
			return err_set(err, E2BIG, "certificates directory \"%s\": too many files",
				       path);
	}
	if (!n)
		return 0;
	qsort(names, n, sizeof(char *), cmpstr);
	for (size_t i = 0; i < n; i++) {
		const char *nm = names[i];
		if (ends_with(nm, ".crt")) {
			if (add_file(extra, elen, dfd, nm, "CA certificate", err) < 0)
				return err_prefix(err, "%s", path);
		} else if (ends_with(nm, ".cert") || ends_with(nm, ".key")) {
			bool cert = ends_with(nm, ".cert");
			size_t stem = strlen(nm) - (cert ? 5 : 4);
			_cleanup_free_ char *other = NULL;
			struct stat st;

			if (asprintf(&other, "%.*s%s", (int)stem, nm, cert ? ".key" : ".cert") < 0)
				return err_errno(err, ENOMEM, "certs.d");
			if (fstatat(dfd, other, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return err_set(err, ENOENT, "%s: %s has no matching %s", path, nm,
					       other);
			if (cert && !r->cert_path) {
				if (asprintf(&r->cert_path, "%s/%s", path, nm) < 0 ||
				    asprintf(&r->key_path, "%s/%s", path, other) < 0)
					return err_errno(err, ENOMEM, "certs.d");
			}
		}
	}
	return 0;
}

int registry_certs_load(struct registry *r, const struct registry_opts *o, struct err **err)
{
	_cleanup_free_ char *extra = NULL, *sys = NULL;
	size_t elen = 0, slen = 0;
	char *cainfo = NULL;

	for (int i = 0; i < 4 && o->certs_dirs[i]; i++) {
		int rc = load_certs_dir(r, o->certs_dirs[i], &extra, &elen, err);
		if (rc < 0)
			return rc;
	}
	if (!extra)
		return 0;
	/* CURLOPT_CAINFO_BLOB replaces curl's CA file: the blob carries the
	 * system bundle too (CAPATH still applies). */
	if (curl_easy_getinfo(r->h, CURLINFO_CAINFO, &cainfo) != CURLE_OK || !cainfo)
		cainfo = "/etc/ssl/certs/ca-certificates.crt";
	{
		_cleanup_close_ int fd = open(cainfo, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size < (off_t)(16u << 20)) {
			sys = malloc((size_t)st.st_size + 1);
			if (!sys)
				return err_errno(err, ENOMEM, "CA bundle");
			for (ssize_t k; slen < (size_t)st.st_size; slen += (size_t)k) {
				k = read(fd, sys + slen, (size_t)st.st_size - slen);
				if (k <= 0)
					break;
			}
		}
	}
	r->ca_blob = malloc(slen + elen + 2);
	if (!r->ca_blob)
		return err_errno(err, ENOMEM, "CA bundle");
	if (slen)
		memcpy(r->ca_blob, sys, slen);
	r->ca_blob[slen] = '\n';
	memcpy(r->ca_blob + slen + 1, extra, elen);
	r->ca_len = slen + 1 + elen;
	return 0;
}
