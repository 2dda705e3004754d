/*
 * image/pull.c - `moat pull`: an image from a registry into the store;
 * and the platform rules that pick one manifest out of an index (pure).
 *
 * Runs in: the CLI process, as root or as the calling user. Talks to the
 * registry through image/registry.c. Layer blobs download in up to
 * max_downloads worker threads, each with its own registry handle, while
 * the main thread extracts, in order, the layers already complete.
 *
 * Invariants:
 *  - nothing from the registry is parsed or used before its bytes matched
 *    the digest that led to them: a manifest is checked by
 *    registry_get_manifest (Docker-Content-Digest, or the digest asked
 *    for) and again against its index descriptor (digest, size, media
 *    type); config and layer blobs by registry_get_blob before they are
 *    adopted; sizes are capped before anything is fetched;
 *  - no document is read as both an index and a manifest (CVE-2021-41190):
 *    the decoders refuse "manifests" together with "layers" or "config",
 *    and a document's mediaType must equal its Content-Type and the
 *    descriptor that named it;
 *  - every file is staged in the store transaction's private directory
 *    and every layer's DiffID is recomputed during extraction; the store
 *    changes only in store_txn_commit(), all or nothing. A kill at any
 *    point leaves at worst the transaction's ROOT/tmp/txn-*, which the
 *    next transaction sweeps (store.c: its flock died with the process);
 *  - worker threads touch only their registry handle, their staging file
 *    and their job slot (under the mutex); the transaction, the store and
 *    the progress output belong to the main thread.
 */
#include "image/image.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "image/internal.h"
#include "image/reference.h"
#include "image/registry.h"

#define PULL_MAX_DEPTH 4       /* nested indexes */
#define PULL_MAX_LAYERS 1000u  /* overlayfs stops far earlier */
#define PULL_DEFAULT_WORKERS 3 /* Docker's max-concurrent-downloads */
#define PULL_MAX_WORKERS 16

/* ---- platforms (pure) ---- */

void image_platform_clear(struct image_platform *p)
{
	free(p->architecture);
	free(p->os);
	free(p->variant);
	free(p->os_version);
	memset(p, 0, sizeof(*p));
}

static bool known_os(const char *s)
{
	static const char *const os[] = {"linux",   "windows", "darwin",  "freebsd",
					 "netbsd",  "openbsd", "solaris", "illumos",
					 "android", "aix",     "plan9",	  "ios"};

	for (size_t i = 0; i < ARRAY_SIZE(os); i++)
		if (!strcmp(s, os[i]))
			return true;
	return false;
}

/* containerd's normalizeArch: one spelling per architecture and variant. */
static int normalise(char **arch, char **variant)
{
	const char *a = *arch, *v = *variant ? *variant : "";
	const char *na = a, *nv = v;
	char buf[16];

	if (!strcmp(a, "i386")) {
		na = "386";
		nv = "";
	} else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") || !strcmp(a, "amd64")) {
		na = "amd64";
		if (!strcmp(v, "v1"))
			nv = "";
	} else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64")) {
		na = "arm64";
		if (!strcmp(v, "8") || !strcmp(v, "v8") || !strcmp(v, "v8.0"))
			nv = "";
	} else if (!strcmp(a, "armhf")) {
		na = "arm";
		nv = "v7";
	} else if (!strcmp(a, "armel")) {
		na = "arm";
		nv = "v6";
	} else if (!strcmp(a, "arm")) {
		if (!*v || !strcmp(v, "7")) {
			nv = "v7";
		} else if (!strcmp(v, "5") || !strcmp(v, "6") || !strcmp(v, "8")) {
			snprintf(buf, sizeof(buf), "v%s", v);
			nv = buf;
		}
	}
	if (na != a) {
		char *x = strdup(na);
		if (!x)
			return -ENOMEM;
		free(*arch);
		*arch = x;
	}
	if (nv != v) {
		char *x = *nv ? strdup(nv) : NULL;
		if (*nv && !x)
			return -ENOMEM;
		free(*variant);
		*variant = x;
	}
	if (*variant && !**variant) {
		free(*variant);
		*variant = NULL;
	}
	return 0;
}

static bool component_ok(const char *s, size_t n)
{
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

int image_platform_parse(const char *s, struct image_platform *p, struct err **err)
{
	char *parts[3] = {NULL, NULL, NULL};
	size_t n = 0;
	const char *c = s;
	int r = 0;

	memset(p, 0, sizeof(*p));
	if (!s || !*s || strlen(s) > 200)
		return err_set(err, EINVAL, "invalid platform \"%.200s\"", s ? s : "");
	while (r == 0) {
		size_t len = strcspn(c, "/");
		if (n == 3 || !component_ok(c, len)) {
			r = err_set(err, EINVAL,
				    "invalid platform \"%s\": expected os/arch[/variant]", s);
			break;
		}
		parts[n] = strndup(c, len);
		if (!parts[n]) {
			r = err_errno(err, ENOMEM, "platform");
			break;
		}
		for (char *q = parts[n]; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		n++;
		if (!c[len])
			break;
		c += len + 1;
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			free(parts[i]);
		return r;
	}
	if (n == 1) {
		/* containerd: a lone os means the host's arch, a lone arch linux. */
		if (known_os(parts[0])) {
			p->os = parts[0];
			p->architecture = strdup(image_host_arch());
			if (!strcmp(image_host_arch(), "arm"))
				p->variant = strdup("v7");
		} else {
			p->os = strdup("linux");
			p->architecture = parts[0];
		}
	} else {
		p->os = parts[0];
		p->architecture = parts[1];
		p->variant = parts[2];
	}
	if (!p->os || !p->architecture) {
		image_platform_clear(p);
		return err_errno(err, ENOMEM, "platform");
	}
	if (!strcmp(p->os, "macos")) {
		free(p->os);
		p->os = strdup("darwin");
	}
	if (!p->os || normalise(&p->architecture, &p->variant) < 0) {
		image_platform_clear(p);
		return err_errno(err, ENOMEM, "platform");
	}
	return 0;
}

int image_platform_host(struct image_platform *p, struct err **err)
{
	return image_platform_parse(
	    !strcmp(image_host_arch(), "arm") ? "linux/arm/v7" : image_host_arch(), p, err);
}

char *image_platform_string(const struct image_platform *p)
{
	char *s = NULL;

	if (asprintf(&s, "%s/%s%s%s", p->os ? p->os : "unknown",
		     p->architecture ? p->architecture : "unknown", p->variant ? "/" : "",
		     p->variant ? p->variant : "") < 0)
		return NULL;
	return s;
}

/* Position of V in a variant ladder, highest last; -1 when not on it. */
static int ladder(const char *arch, const char *v)
{
	static const char *const arm[] = {"v5", "v6", "v7", "v8"};
	static const char *const amd64[] = {"", "v2", "v3", "v4"};
	const char *const *l = !strcmp(arch, "arm") ? arm : !strcmp(arch, "amd64") ? amd64 : NULL;

	if (!l)
		return -1;
	for (int i = 0; i < 4; i++)
		if (!strcmp(l[i], v ? v : ""))
			return i;
	return -1;
}

/* 0 is an exact match, higher is worse, -1 no match. */
static int rank(const struct image_descriptor *d, const struct image_platform *want)
{
	const char *ref = image_descriptor_annotation(d, "vnd.docker.reference.type");
	struct image_platform got = {0};
	int r = -1, w, g;

	if (ref && !strcmp(ref, "attestation-manifest"))
		return -1;
	if (!d->has_platform)
		return 1000;
	got.os = strdup(d->platform.os);
	got.architecture = strdup(d->platform.architecture);
	got.variant = d->platform.variant ? strdup(d->platform.variant) : NULL;
	if (!got.os || !got.architecture || (d->platform.variant && !got.variant))
		goto out;
	for (char *q = got.os; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	for (char *q = got.architecture; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if (normalise(&got.architecture, &got.variant) < 0)
		goto out;
	if (strcmp(got.os, want->os) || strcmp(got.architecture, want->architecture))
		goto out;
	if (!strcmp(got.variant ? got.variant : "", want->variant ? want->variant : "")) {
		r = 0;
		goto out;
	}
	/* An older variant runs on a newer CPU: arm v8 > v7 > v6 > v5,
	 * amd64 v4 > v3 > v2 > v1. */
	w = ladder(want->architecture, want->variant);
	g = ladder(want->architecture, got.variant);
	if (w >= 0 && g >= 0 && g < w)
		r = w - g;
out:
	image_platform_clear(&got);
	return r;
}

int image_platform_select(const struct image_index *ix, const struct image_platform *want,
			  size_t *pick, struct err **err)
{
	_cleanup_free_ char *ws = NULL, *avail = NULL;
	size_t used = 0, cap = 0;
	int best = -1;

	for (size_t i = 0; i < ix->n_manifests; i++) {
		int r = rank(&ix->manifests[i], want);
		if (r >= 0 && (best < 0 || r < best)) {
			best = r;
			*pick = i;
		}
	}
	if (best >= 0)
		return 0;
	/* Docker's message, with what the index does offer. */
	for (size_t i = 0; i < ix->n_manifests; i++) {
		const struct image_descriptor *d = &ix->manifests[i];
		const char *ref = image_descriptor_annotation(d, "vnd.docker.reference.type");
		_cleanup_free_ char *one = NULL;
		size_t l;

		if (!d->has_platform || (ref && !strcmp(ref, "attestation-manifest")))
			continue;
		one = image_platform_string(&d->platform);
		if (!one)
			return err_errno(err, ENOMEM, "platform");
		l = strlen(one);
		if (used + l + 3 > cap) {
			size_t nc = (cap + l + 3) * 2;
			char *na;
			if (nc > 4096)
				break; /* enough to say what is there */
			na = realloc(avail, nc);
			if (!na)
				return err_errno(err, ENOMEM, "platform");
			avail = na;
			cap = nc;
		}
		used += (size_t)sprintf(avail + used, "%s%s", used ? ", " : "", one);
	}
	ws = image_platform_string(want);
	return err_set(err, ENOENT,
		       "no matching manifest for %s in the manifest list entries (available: %s)",
		       ws ? ws : "?", avail ? avail : "none");
}

/* ---- pulling ---- */

struct job {
	const struct image_descriptor *d;
	const char *diff_id;
	char stage[32];
	bool cached;	  /* blob already in the store: hard-linked, not fetched */
	ssize_t dup_of;	  /* -1, or an earlier layer with the same blob */
	bool done;	  /* worker finished (under the mutex) */
	int ret;	  /* worker result */
	struct err *werr; /* worker error */
	uint64_t size;	  /* uncompressed, from extraction */
	uint64_t got;	  /* bytes downloaded so far (atomic: the worker writes) */
	int phase;	  /* PH_*: what the progress display says (main thread) */
};

/* A layer's line in the terminal progress display. */
enum { PH_WAITING, PH_DOWNLOADING, PH_DOWNLOADED, PH_EXTRACTING, PH_COMPLETE, PH_EXISTS };

struct puller {
	struct image_store *s;
	const struct image_pull_opts *o;
	struct image_reference ref;
	char *familiar; /* for messages: "busybox:latest" */
	FILE *out;
	struct registry *reg;
	struct store_txn *t;

	/* the download pool */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *jobs;
	size_t n_jobs, next;
	bool stop;

	/* On a terminal: one line per layer, redrawn in place. */
	bool tty;
	size_t drawn; /* lines of the block on screen */
	struct timespec t0;
};

struct worker {
	struct puller *p;
	struct registry *reg;
	pthread_t th;
	bool started, owned;
};

static void say(struct puller *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct puller *p, const char *fmt, ...)
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

static const char *short_id(const char *digest)
{
	static __thread char buf[13];

	snprintf(buf, sizeof(buf), "%.12s", digest + 7);
	return buf;
}

static void got_bytes(void *arg, uint64_t done)
{
	struct job *j = arg;

	__atomic_store_n(&j->got, done, __ATOMIC_RELAXED);
}

/* "12.3MB" the way Docker's progress bars write sizes (powers of 1000). */
static void human(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", v, units[u]);
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Redraws the block of layer lines (terminal only): state, a 50-column
 * bar, bytes, rate and ETA while downloading, like `docker pull` plus the
 * rate. Called by the main thread only. */
static void draw(struct puller *p)
{
	double secs;

	if (!p->tty || !p->out)
		return;
	secs = since(&p->t0);
	if (p->drawn)
		fprintf(p->out, "\033[%zuA", p->drawn);
	p->drawn = 0;
	for (size_t i = 0; i < p->n_jobs; i++) {
		const struct job *j = &p->jobs[i];
		uint64_t got = __atomic_load_n(&j->got, __ATOMIC_RELAXED);
		char a[16], b[16], rate[16], eta[24] = "", bar[53];
		int64_t total = j->d->size;

		if (j->dup_of >= 0)
			continue;
		fprintf(p->out, "\033[2K%s: ", short_id(j->d->digest));
		switch (j->phase) {
		case PH_EXISTS:
			fputs("Already exists", p->out);
			break;
		case PH_WAITING:
			fputs(got ? "Downloading" : "Pulling fs layer", p->out);
			if (!got)
				break;
			/* fall through */
		case PH_DOWNLOADING: {
			size_t fill = total > 0 ? (size_t)(got * 50 / (uint64_t)total) : 0;
			double bps = secs > 0.05 ? (double)got / secs : 0;

			fill = fill > 50 ? 50 : fill;
			memset(bar, ' ', sizeof(bar));
			bar[0] = '[';
			memset(bar + 1, '=', fill);
			if (fill < 50)
				bar[1 + fill] = '>';
			bar[51] = ']';
			bar[52] = 0;
			human(got, a, sizeof(a));
			human(total > 0 ? (uint64_t)total : 0, b, sizeof(b));
			human((uint64_t)bps, rate, sizeof(rate));
			if (bps > 0 && total > 0 && (uint64_t)total > got)
				snprintf(eta, sizeof(eta), "  %.0fs",
					 ((double)total - (double)got) / bps);
			fprintf(p->out, "Downloading %s %s/%s  %s/s%s", bar, a, b, rate, eta);
			break;
		}
		case PH_DOWNLOADED:
			fputs("Download complete", p->out);
			break;
		case PH_EXTRACTING:
			fputs("Extracting", p->out);
			break;
		case PH_COMPLETE:
			fputs("Pull complete", p->out);
			break;
		default:
			break;
		}
		fputc('\n', p->out);
		p->drawn++;
	}
	fflush(p->out);
}

/* A layer changes state: a plain line when not on a terminal (Docker's
 * non-tty output), a redraw when on one. */
static void phase(struct puller *p, struct job *j, int ph, const char *text)
{
	j->phase = ph;
	if (p->tty)
		draw(p);
	else
		say(p, "%s: %s", short_id(j->d->digest), text);
}

/* Runs jobs until none is left or the pull stopped. */
static void *work(void *arg)
{
	struct worker *w = arg;
	struct puller *p = w->p;

	for (;;) {
		struct job *j = NULL;
		_cleanup_close_ int fd = -1;
		struct err *e = NULL;
		int r;

		pthread_mutex_lock(&p->mu);
		while (p->next < p->n_jobs &&
		       (p->jobs[p->next].cached || p->jobs[p->next].dup_of >= 0))
			p->next++;
		if (!p->stop && p->next < p->n_jobs)
			j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->mu);
		if (!j)
			return NULL;
		fd = openat(store_txn_dirfd(p->t), j->stage,
			    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			r = err_errno(&e, errno, "stage layer %s", j->d->digest);
		else
			r = registry_get_blob(w->reg, j->d->digest, j->d->size, fd, got_bytes, j,
					      &e);
		pthread_mutex_lock(&p->mu);
		j->ret = r;
		j->werr = e;
		j->done = true;
		if (r < 0)
			p->stop = true;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
}

/* GET a manifest or index and decode it; an index leads, by platform, to
 * the manifest it names. TOP is what REF resolved to (for "Digest:"). */
static int fetch_manifest(struct puller *p, const struct image_platform *want, char top[72],
			  char digest[72], char **body, size_t *len, struct image_manifest **man,
			  bool *from_index, struct err **err)
{
	_cleanup_free_ char *mt = NULL;
	const char *what = p->ref.digest ? p->ref.digest : p->ref.tag;
	struct image_descriptor *d = NULL;
	struct image_index *ix = NULL;
	int r = 0;

	*from_index = false;
	for (int depth = 0; r == 0; depth++) {
		_cleanup_free_ char *want_mt = NULL;
		char got[72];

		free(*body);
		*body = NULL;
		free(mt);
		mt = NULL;
		if (depth > PULL_MAX_DEPTH) {
			r = err_set(err, ELOOP, "%s: indexes nested too deeply", p->familiar);
			break;
		}
		if (d && !(want_mt = strdup(d->media_type))) {
			r = err_errno(err, ENOMEM, "pull");
			break;
		}
		r = registry_get_manifest(p->reg, d ? d->digest : what, body, len, &mt, got, err);
		if (r < 0)
			break;
		if (depth == 0)
			snprintf(top, 72, "%s", got);
		if (d) {
			/* What the index promised, exactly (CVE-2021-41190). */
			if (strcmp(got, d->digest) || (int64_t)*len != d->size)
				r = err_set(err, EINVAL,
					    "%s: manifest %s does not match its index entry "
					    "(digest %s, %zu bytes, expected %lld)",
					    p->familiar, d->digest, got, *len, (long long)d->size);
			else if (!mt || strcmp(mt, want_mt))
				r = err_set(err, EINVAL,
					    "%s: manifest %s is served as \"%.100s\", its index "
					    "entry says \"%.100s\"",
					    p->familiar, d->digest, mt ? mt : "", want_mt);
			if (r < 0)
				break;
		}
		image_index_free(ix);
		ix = NULL;
		d = NULL;
		if (image_media_type_is_manifest(mt)) {
			r = image_manifest_decode(*body, *len, mt, man, err);
			if (r < 0)
				err_prefix(err, "%s", p->familiar);
			else
				snprintf(digest, 72, "%s", got);
			break;
		}
		if (!image_media_type_is_index(mt)) {
			r = err_set(err, ENOTSUP, "%s: unsupported manifest media type \"%.200s\"",
				    p->familiar, mt ? mt : "");
			break;
		}
		r = image_index_decode(*body, *len, mt, &ix, err);
		if (r < 0) {
			err_prefix(err, "%s", p->familiar);
			break;
		}
		{
			size_t pick = 0;
			r = image_platform_select(ix, want, &pick, err);
			if (r < 0) {
				err_prefix(err, "%s", p->familiar);
				break;
			}
			d = &ix->manifests[pick];
			*from_index = true;
		}
	}
	image_index_free(ix);
	return r;
}

/* The config blob: fetched into the transaction, checked, decoded. */
static int fetch_config(struct puller *p, const struct image_manifest *m, struct image_config **cfg,
			struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	char name[32];
	size_t len;

	if (strcmp(m->config.media_type, IMAGE_MT_OCI_CONFIG) &&
	    strcmp(m->config.media_type, IMAGE_MT_DOCKER_CONFIG))
		return err_set(err, ENOTSUP,
			       "%s: not a container image (config media type \"%.200s\")",
			       p->familiar, m->config.media_type);
	if (m->config.size > (int64_t)IMAGE_JSON_MAX)
		return err_set(err, EFBIG, "%s: config %s is larger than %u bytes", p->familiar,
			       m->config.digest, IMAGE_JSON_MAX);
	store_txn_tmpname(p->t, name);
	fd = openat(store_txn_dirfd(p->t), name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return err_errno(err, errno, "stage config");
	if (registry_get_blob(p->reg, m->config.digest, m->config.size, fd, NULL, NULL, err) < 0)
		return err_prefix(err, "%s: config", p->familiar);
	if (lseek(fd, 0, SEEK_SET) < 0 || fs_read_fd(fd, IMAGE_JSON_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "%s: config", p->familiar);
	if (image_config_decode(buf, len, cfg, err) < 0)
		return err_prefix(err, "%s", p->familiar);
	if ((*cfg)->n_diff_ids != m->n_layers)
		return err_set(err, EINVAL, "%s: config has %zu diff_ids for %zu layers",
			       p->familiar, (*cfg)->n_diff_ids, m->n_layers);
	return store_txn_add_blob(p->t, name, m->config.digest + 7, err);
}

/* A single-platform image must be for the platform asked for. */
static int check_platform(struct puller *p, const struct image_config *c,
			  const struct image_platform *want, struct err **err)
{
	struct image_platform got = {0};
	_cleanup_free_ char *spec = NULL, *gs = NULL, *ws = NULL;
	bool ok;

	if (!c->os || !c->architecture)
		return 0;
	if (asprintf(&spec, "%s/%s", c->os, c->architecture) < 0) {
		spec = NULL;
		return err_errno(err, ENOMEM, "platform");
	}
	if (image_platform_parse(spec, &got, err) < 0) {
		err_free(err);
		return 0; /* an odd config says nothing we could check */
	}
	ok = !strcmp(got.os, want->os) && !strcmp(got.architecture, want->architecture);
	gs = image_platform_string(&got);
	ws = image_platform_string(want);
	image_platform_clear(&got);
	if (ok)
		return 0;
	if (p->o->platform)
		return err_set(
		    err, ENOENT,
		    "%s: image is for %s, which does not match the specified platform %s",
		    p->familiar, gs ? gs : "?", ws ? ws : "?");
	fprintf(stderr,
		"WARNING: The requested image's platform (%s) does not match the detected host "
		"platform (%s) and no specific platform was requested\n",
		gs ? gs : "?", ws ? ws : "?");
	return 0;
}

/* Layers whose blob the store holds are hard-linked into the staging dir
 * (the link keeps the content even if an rmi removes the blob meanwhile);
 * the others are left for the workers. */
static int plan_layers(struct puller *p, const struct image_manifest *m,
		       const struct image_config *c, struct err **err)
{
	int blobs = store_dirfd(p->s, STORE_DIR_BLOBS);

	if (m->n_layers > PULL_MAX_LAYERS)
		return err_set(err, EFBIG, "%s: %zu layers (at most %u)", p->familiar, m->n_layers,
			       PULL_MAX_LAYERS);
	p->jobs = calloc(m->n_layers + 1, sizeof(*p->jobs));
	if (!p->jobs)
		return err_errno(err, ENOMEM, "pull");
	p->n_jobs = m->n_layers;
	for (size_t i = 0; i < m->n_layers; i++) {
		struct job *j = &p->jobs[i];

		j->d = &m->layers[i];
		j->diff_id = c->diff_ids[i];
		j->dup_of = -1;
		if (j->d->size > (int64_t)IMAGE_LAYER_MAX_BYTES)
			return err_set(err, EFBIG, "%s: layer %s is larger than the %llu bytes cap",
				       p->familiar, j->d->digest,
				       (unsigned long long)IMAGE_LAYER_MAX_BYTES);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(p->jobs[k].d->digest, j->d->digest)) {
				j->dup_of = (ssize_t)k;
				memcpy(j->stage, p->jobs[k].stage, sizeof(j->stage));
				break;
			}
		if (j->dup_of >= 0)
			continue;
		store_txn_tmpname(p->t, j->stage);
		if (linkat(blobs, j->d->digest + 7, store_txn_dirfd(p->t), j->stage, 0) == 0)
			j->cached = true;
	}
	return 0;
}

/* Waits for job J's download (redrawing the progress display every
 * 100 ms on a terminal); its error becomes ERR. */
static int wait_job(struct puller *p, struct job *j, struct err **err)
{
	int r;

	pthread_mutex_lock(&p->mu);
	while (!j->done) {
		if (p->tty) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000 * 1000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&p->cv, &p->mu, &until);
			if (!j->done) {
				pthread_mutex_unlock(&p->mu);
				draw(p);
				pthread_mutex_lock(&p->mu);
			}
		} else {
			pthread_cond_wait(&p->cv, &p->mu);
		}
	}
	r = j->ret;
	if (r < 0) {
		err_free(err);
		*err = steal_ptr(j->werr);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

static void stop_workers(struct puller *p, struct worker *w, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++) {
		if (w[i].started)
			pthread_join(w[i].th, NULL);
		if (w[i].owned)
			registry_close(w[i].reg);
	}
}

/* Downloads (in the pool) and extracts (here, in order) every layer; REC
 * gets the layers. */
static int pull_layers(struct puller *p, struct store_record *rec, struct err **err)
{
	size_t pending = 0, nw;
	int want = p->o->max_downloads > 0 ? p->o->max_downloads : PULL_DEFAULT_WORKERS;
	struct worker w[PULL_MAX_WORKERS];
	const char *host = image_reference_registry_host(&p->ref);
	int r = 0;

	memset(w, 0, sizeof(w));
	for (size_t i = 0; i < p->n_jobs; i++) {
		struct job *j = &p->jobs[i];
		if (j->dup_of >= 0)
			continue;
		if (j->cached) {
			j->phase = PH_EXISTS;
			if (!p->tty)
				say(p, "%s: Already exists", short_id(j->d->digest));
		} else {
			j->phase = PH_WAITING;
			if (!p->tty)
				say(p, "%s: Pulling fs layer", short_id(j->d->digest));
			pending++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	draw(p);
	nw = (size_t)(want < PULL_MAX_WORKERS ? want : PULL_MAX_WORKERS);
	nw = nw < pending ? nw : pending;
	/* Each worker has its own handle (libcurl easy handles are not shared
	 * between threads); the first reuses the pull's, idle meanwhile. */
	for (size_t i = 0; i < nw; i++) {
		struct err *e = NULL;
		w[i].p = p;
		if (i == 0) {
			w[i].reg = p->reg;
		} else if (registry_open(host, p->ref.path, "pull", p->o->reg, &w[i].reg, &e) < 0) {
			err_free(&e);
			break;
		} else {
			w[i].owned = true;
		}
		if (pthread_create(&w[i].th, NULL, work, &w[i]) != 0) {
			if (w[i].owned)
				registry_close(w[i].reg);
			w[i].owned = false;
			break;
		}
		w[i].started = true;
	}
	if (pending && !w[0].started) {
		/* No thread at all: download here, one after the other. */
		w[0].p = p;
		w[0].reg = p->reg;
		work(&w[0]);
	}
	rec->layers = calloc(p->n_jobs + 1, sizeof(*rec->layers));
	if (!rec->layers)
		r = err_errno(err, ENOMEM, "pull");
	for (size_t i = 0; r == 0 && i < p->n_jobs; i++) {
		struct job *j = &p->jobs[i];
		struct store_layer *l = &rec->layers[i];

		if (j->dup_of < 0 && !j->cached) {
			r = wait_job(p, j, err);
			if (r < 0) {
				err_prefix(err, "%s: layer %s", p->familiar, j->d->digest);
				break;
			}
			phase(p, j, PH_DOWNLOADED, "Download complete");
		}
		if (j->dup_of < 0 && p->tty)
			phase(p, j, PH_EXTRACTING, "Extracting");
		if (j->dup_of < 0)
			r = store_txn_add_blob(p->t, j->stage, j->d->digest + 7, err);
		/* Extraction checks the DiffID the config gave (a duplicate
		 * blob is re-hashed against its own entry). */
		if (r == 0)
			r = store_txn_add_layer(p->t, j->stage, j->diff_id, &j->size, err);
		if (r < 0) {
			err_prefix(err, "%s: layer %s", p->familiar, j->d->digest);
			break;
		}
		rec->n_layers++;
		l->digest = strdup(j->d->digest);
		l->media_type = strdup(j->d->media_type);
		l->diff_id = strdup(j->diff_id);
		l->size = j->size;
		rec->size += j->size;
		if (!l->digest || !l->media_type || !l->diff_id)
			r = err_errno(err, ENOMEM, "pull");
		else if (j->dup_of < 0 && !j->cached)
			phase(p, j, PH_COMPLETE, "Pull complete");
		else if (j->dup_of < 0 && p->tty)
			phase(p, j, PH_EXISTS, "Already exists");
	}
	stop_workers(p, w, nw);
	for (size_t i = 0; i < p->n_jobs; i++)
		err_free(&p->jobs[i].werr);
	return r;
}

/* The name the image gets: familiar "name:tag", none for a digest. */
static int pull_names(struct puller *p, char ***names, struct err **err)
{
	_cleanup_free_ char *repo = NULL, *joined = NULL;

	*names = calloc(2, sizeof(char *));
	if (!*names)
		return err_errno(err, ENOMEM, "pull");
	if (p->ref.digest || !p->ref.tag)
		return 0;
	repo = image_reference_familiar_name(&p->ref);
	if (repo && asprintf(&joined, "%s:%s", repo, p->ref.tag) < 0)
		joined = NULL;
	if (!joined)
		return err_errno(err, ENOMEM, "pull");
	if (image_ref_normalize(joined, &(*names)[0], err) < 0)
		return err_prefix(err, "%s", p->familiar);
	return 0;
}

/* The image is already in the store: only its name is (re)set and its
 * repo digest added (the commit keeps the record as it is otherwise). */
static int up_to_date(struct puller *p, const char *id, char **names, const char *rd,
		      const struct image_trust *t, size_t n, struct err **err)
{
	_cleanup_close_ int lock = store_lock_take(p->s, LOCK_SH, err);
	struct store_record rec = {0};
	int r;

	if (lock < 0)
		return lock;
	r = store_record_load(store_dirfd(p->s, STORE_DIR_IMAGES), id + 7, &rec, err);
	closep(&lock);
	if (r == 0)
		r = store_record_add_repo_digest(&rec, rd, err);
	if (r >= 0)
		r = store_record_add_trust(&rec, t, n, err);
	if (r >= 0)
		r = store_txn_add_image(p->t, &rec, names, err);
	store_record_clear(&rec);
	return r;
}

static void puller_clear(struct puller *p)
{
	store_txn_free(p->t);
	registry_close(p->reg);
	image_reference_clear(&p->ref);
	free(p->familiar);
	free(p->jobs);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
}

int image_store_pull(struct image_store *s, const char *ref, const struct image_pull_opts *o,
		     char **id, struct err **err)
{
	static const struct image_pull_opts none = {0};
	struct puller p = {.s = s, .o = o ? o : &none};
	struct image_platform want = {0};
	struct image_manifest *man = NULL;
	struct image_config *cfg = NULL;
	struct store_record rec = {0};
	_cleanup_strv_ char **names = NULL;
	_cleanup_free_ char *body = NULL, *have = NULL, *rd = NULL;
	struct image_trust *trust = NULL;
	size_t n_trust = 0;
	char top[72] = "", digest[72] = "", hex[SHA256_HEX_LEN + 1];
	bool from_index = false, fresh = false;
	size_t len = 0;
	int r;

	*id = NULL;
	p.out = p.o->progress;
	/* Bars only where someone watches them; TERM=dumb gets the lines. */
	p.tty =
	    p.out && isatty(fileno(p.out)) && !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.cv, NULL);
	r = image_reference_parse(ref, &p.ref, err);
	if (r == 0 && !(p.familiar = image_reference_familiar(&p.ref)))
		r = err_errno(err, ENOMEM, "pull");
	if (r == 0)
		r = p.o->platform ? image_platform_parse(p.o->platform, &want, err)
				  : image_platform_host(&want, err);
	if (r == 0)
		r = pull_names(&p, &names, err);
	if (r == 0)
		r = registry_open(image_reference_registry_host(&p.ref), p.ref.path, "pull",
				  p.o->reg, &p.reg, err);
	if (r == 0) {
		say(&p, "%s: Pulling from %s", p.ref.digest ? p.ref.digest : p.ref.tag, p.ref.path);
		r = fetch_manifest(&p, &want, top, digest, &body, &len, &man, &from_index, err);
	}
	/* Trust first: nothing is fetched or staged for an image the policy
	 * refuses. */
	if (r == 0 && p.o->verify)
		r = p.o->verify(p.o->verify_arg, p.reg, top, digest, &trust, &n_trust, err);
	/* Docker's RepoDigests entry: the name and what REF resolved to (an
	 * index's digest for a multi-platform image). */
	if (r == 0)
		r = store_repo_digest_make(ref, top, &rd, err);
	if (r == 0)
		r = store_txn_begin(s, &p.t, err);
	/* The image is known by its config digest: nothing to fetch. */
	if (r == 0 && image_store_lookup(s, man->config.digest, &have, err) == 0) {
		r = up_to_date(&p, have, names, rd, trust, n_trust, err);
	} else if (r == 0) {
		err_free(err);
		fresh = true;
		r = fetch_config(&p, man, &cfg, err);
		if (r == 0 && !from_index)
			r = check_platform(&p, cfg, &want, err);
		if (r == 0)
			r = plan_layers(&p, man, cfg, err);
		if (r == 0)
			r = pull_layers(&p, &rec, err);
		if (r == 0)
			r = store_txn_add_bytes(p.t, body, len, hex, err);
		if (r == 0 && strcmp(hex, digest + 7))
			r = err_set(err, EIO, "%s: manifest bytes changed", p.familiar);
		if (r == 0) {
			snprintf(rec.id, sizeof(rec.id), "%s", man->config.digest);
			snprintf(rec.manifest, sizeof(rec.manifest), "%s", digest);
			rec.created = time(NULL);
			r = store_record_add_repo_digest(&rec, rd, err);
		}
		if (r >= 0)
			r = store_record_add_trust(&rec, trust, n_trust, err);
		if (r >= 0)
			r = store_txn_add_image(p.t, &rec, names, err);
	}
	if (r == 0)
		r = store_txn_commit(p.t, err);
	if (r == 0) {
		say(&p, "Digest: %s", top);
		say(&p, "Status: %s for %s",
		    fresh ? "Downloaded newer image" : "Image is up to date", p.familiar);
		if (!(*id = strdup(man->config.digest)))
			r = err_errno(err, ENOMEM, "pull");
		if (p.o->digest)
			snprintf(p.o->digest, 72, "%s", top);
		if (p.o->up_to_date)
			*p.o->up_to_date = !fresh;
	}
	store_record_clear(&rec);
	image_trust_free(trust, n_trust);
	image_config_free(cfg);
	image_manifest_free(man);
	image_platform_clear(&want);
	puller_clear(&p);
	return r;
}
