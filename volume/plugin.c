/*
 * volume/plugin.c - the client side of Docker's volume plugin protocol
 * (see plugin.h): discovery of a plugin by name, its HTTP calls through
 * libcurl, and the checks on the host path a plugin hands back.
 *
 * Runs in: the moat process (and a container's monitor, for Unmount), as
 * the invoking user, in the host's mount namespace; never inside a
 * container root (libcurl is dlopen'ed here: common/curl.h).
 *
 * Threats, and what answers each:
 *  - a plugin NAME from the command line that walks out of the plugin
 *    directories ("../x", "a/b"): the name is checked against
 *    [a-zA-Z0-9][a-zA-Z0-9_.-]* before it is joined to any path;
 *  - a discovery file that is a FIFO, a device or a symlink to something
 *    huge: .spec/.json are opened O_NOFOLLOW|O_NONBLOCK, must be regular
 *    files and are read up to PLUGIN_SPEC_MAX; a NAME.sock must lstat as a
 *    socket;
 *  - a plugin address that sends moat's calls over the network in clear:
 *    tcp:// is accepted only to loopback, TLSConfig (which moat cannot
 *    honour yet) is refused, no proxy, no redirects, HTTP only;
 *  - a hung or hostile plugin: every call is bounded by the plugin's
 *    timeout (retries included), the reply by PLUGIN_REPLY_MAX and its
 *    headers by HEADERS_MAX; only a failed connect is retried, never a
 *    call that reached the plugin (Mount and Create are not idempotent in
 *    every plugin);
 *  - a plugin's text on the user's terminal: Err and HTTP bodies are
 *    printed with control bytes escaped (plugin_reply.plugin_err keeps the
 *    verbatim text);
 *  - a Mount reply naming a host directory the plugin must not hand to a
 *    container (/etc, moat's own state, a symlink to either):
 *    plugin_mountpoint_open resolves the path with no symlinks at all,
 *    reads back the kernel's name for the fd and judges that name,
 *    component by component, never the plugin's string.
 */
#include "volume/plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/curl.h"
#include "common/fs.h"
#include "common/json.h"

#define PLUGIN_NAME_MAX 128
#define PLUGIN_TIMEOUT_DEFAULT 30
#define PLUGIN_TIMEOUT_MAX 600
#define HEADERS_MAX (256 * 1024)
#define PLUGIN_RETRY_DEFAULT 15
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 1000
#define ACCEPT_HDR "Accept: application/vnd.docker.plugins.v1.2+json"

static inline void curl_cleanupp(CURL **h)
{
	if (*h)
		curl_easy_cleanup(*h);
}

static inline void slist_freep(struct curl_slist **l)
{
	if (*l)
		curl_slist_free_all(*l);
}

#define _cleanup_curl_ __attribute__((cleanup(curl_cleanupp)))
#define _cleanup_slist_ __attribute__((cleanup(slist_freep)))

/* Untrusted text for a message: C0 controls and DEL as \xNN (see the
 * threats above); capped to SIZE. */
static const char *clean(const char *s, char *buf, size_t size)
{
	size_t o = 0;

	for (; s && *s && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

bool plugin_name_valid(const char *n)
{
	size_t i;

	if (!n)
		return false;
	for (i = 0; n[i]; i++) {
		char c = n[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return i > 0 && i <= PLUGIN_NAME_MAX;
}

/* ---- discovery ---- */

static char *user_plugin_dir(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	_cleanup_free_ char *pwbuf = NULL;
	struct passwd pw, *found = NULL;
	char *s = NULL;
	long size;

	/* The XDG base directory spec: a relative value is ignored. */
	if (x && x[0] == '/')
		return asprintf(&s, "%s/moat/plugins", x) < 0 ? NULL : s;
	if (!home || home[0] != '/') {
		size = sysconf(_SC_GETPW_R_SIZE_MAX);
		if (size < 1024)
			size = 16384;
		pwbuf = malloc((size_t)size);
		home = NULL;
		if (pwbuf && getpwuid_r(getuid(), &pw, pwbuf, (size_t)size, &found) == 0 && found &&
		    pw.pw_dir && pw.pw_dir[0] == '/')
			home = pw.pw_dir;
	}
	if (!home)
		return NULL;
	return asprintf(&s, "%s/.config/moat/plugins", home) < 0 ? NULL : s;
}

char **plugin_search_path(void)
{
	static const char *const docker[] = {"/run/docker/plugins", "/etc/docker/plugins",
					     "/usr/lib/docker/plugins"};
	const char *env = getenv("MOAT_PLUGIN_PATH");
	_cleanup_strv_ char **v = NULL;
	size_t n = 0;

	if (env) {
		/* The whole search path; relative entries would depend on the
		 * working directory, so they are dropped. */
		_cleanup_free_ char *copy = strdup(env);
		char *save = NULL, *d;
		size_t cap = 2;

		if (!copy)
			return NULL;
		for (const char *c = env; *c; c++)
			cap += *c == ':';
		v = calloc(cap, sizeof(char *));
		if (!v)
			return NULL;
		for (d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			if (d[0] != '/')
				continue;
			v[n] = strdup(d);
			if (!v[n++])
				return NULL;
		}
		return steal_ptr(v);
	}
	v = calloc(ARRAY_SIZE(docker) + 2, sizeof(char *));
	if (!v)
		return NULL;
	v[n] = geteuid() == 0 ? strdup("/etc/moat/plugins") : user_plugin_dir();
	if (v[n])
		n++;
	for (size_t i = 0; i < ARRAY_SIZE(docker); i++) {
		v[n] = strdup(docker[i]);
		if (!v[n++])
			return NULL;
	}
	return steal_ptr(v);
}

/* Environment variable VAR as whole seconds from LO to HI (DEF when it is
 * unset or empty). */
static int env_seconds(const char *name, const char *var, int def, int lo, int hi, int *out,
		       struct err **err)
{
	const char *s = getenv(var);
	char *end = NULL;
	long v;

	*out = def;
	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || errno || *end || v < lo || v > hi)
		return err_set(err, EINVAL,
			       "volume plugin %s: %s=\"%.32s\" is not a whole number of seconds "
			       "from %d to %d",
			       name, var, s, lo, hi);
	*out = (int)v;
	return 0;
}

/* 0 for unix:// and loopback tcp://; -EPERM otherwise. localhost is safe
 * to name: libcurl resolves it to loopback itself, never through DNS. */
static int check_loopback(const char *name, const char *addr, struct err **err)
{
	const char *host, *colon;
	size_t n;

	if (strncmp(addr, "tcp://", 6))
		return 0;
	host = addr + 6;
	colon = strrchr(host, ':');
	n = colon ? (size_t)(colon - host) : strlen(host);
	if ((n == 9 && !strncmp(host, "127.0.0.1", n)) || (n == 5 && !strncmp(host, "[::1]", n)) ||
	    (n == 9 && !strncasecmp(host, "localhost", n)))
		return 0;
	return err_set(err, EPERM,
		       "volume plugin %s: tcp address %.*s is not loopback; moat only talks to "
		       "remote plugins over TLS, which it does not support yet",
		       name, (int)(n > 255 ? 255 : n), host);
}

/* How long a discovered plugin gets to start accepting connections. */
struct budget {
	int timeout, retry;
};

static int new_plugin(const char *name, char **addr, char **mount_root, const char *found_in,
		      const struct budget *bu, struct plugin **out, struct err **err)
{
	_cleanup_free_ struct plugin *p = calloc(1, sizeof(*p));

	if (!p)
		return err_errno(err, ENOMEM, "volume plugin %s", name);
	p->name = strdup(name);
	p->found_in = strdup(found_in);
	if (!p->name || !p->found_in) {
		free(p->name);
		free(p->found_in);
		return err_errno(err, ENOMEM, "volume plugin %s", name);
	}
	p->addr = steal_ptr(*addr);
	p->mount_root = mount_root ? steal_ptr(*mount_root) : NULL;
	p->timeout_s = bu->timeout;
	p->retry_s = bu->retry;
	*out = steal_ptr(p);
	return 1;
}

/* PATH as a discovery file: 1 and its bytes, 0 when it is not there (or
 * the directory is not ours to read: /run/docker/plugins is 0700 on a
 * Docker host, which must not stop a rootless lookup), <0 when it is
 * there but unusable. */
static int read_discovery_file(const char *name, const char *path, char **buf, size_t *len,
			       struct err **err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return 0;
		if (errno == ELOOP)
			return err_set(err, EINVAL,
				       "volume plugin %s: %s is a symlink; moat reads only "
				       "regular files there",
				       name, path);
		return err_errno(err, errno, "volume plugin %s: open %s", name, path);
	}
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "volume plugin %s: stat %s", name, path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "volume plugin %s: %s is not a regular file", name,
			       path);
	if (st.st_size > PLUGIN_SPEC_MAX)
		return err_set(err, EFBIG, "volume plugin %s: %s is larger than %d bytes", name,
			       path, PLUGIN_SPEC_MAX);
	if (fs_read_fd(fd, PLUGIN_SPEC_MAX, buf, len, err) < 0)
		return err_prefix(err, "volume plugin %s: %s", name, path);
	return 1;
}

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool is_dir_nofollow(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* NAME in DIR, in the header's order: 1 found, 0 not here, <0 error. */
static int find_in(const char *dir, const char *name, const struct budget *bu, struct plugin **out,
		   struct err **err)
{
	_cleanup_free_ char *sock = NULL, *sub = NULL, *subsock = NULL, *spec = NULL, *js = NULL;
	_cleanup_free_ char *buf = NULL, *addr = NULL, *mount_root = NULL;
	bool has_tls = false;
	size_t len = 0;
	int r;

	if (asprintf(&sock, "%s/%s.sock", dir, name) < 0 ||
	    asprintf(&sub, "%s/%s", dir, name) < 0 ||
	    asprintf(&subsock, "%s/%s/%s.sock", dir, name, name) < 0 ||
	    asprintf(&spec, "%s/%s.spec", dir, name) < 0 ||
	    asprintf(&js, "%s/%s.json", dir, name) < 0)
		return err_errno(err, ENOMEM, "volume plugin %s", name);

	/* A NAME.sock that is not a socket (a stale file) is passed over, as
	 * Docker does; NAME/ must be a real directory, not a symlink. */
	for (int i = 0; i < 2; i++) {
		const char *s = i == 0 ? sock : subsock;

		if (i == 1 && !is_dir_nofollow(sub))
			break;
		if (!is_socket(s))
			continue;
		if (asprintf(&addr, "unix://%s", s) < 0) {
			addr = NULL;
			return err_errno(err, ENOMEM, "volume plugin %s", name);
		}
		if (strlen(s) >= 108)
			return err_set(err, ENAMETOOLONG,
				       "volume plugin %s: socket path %s is too long to connect to",
				       name, s);
		return new_plugin(name, &addr, NULL, s, bu, out, err);
	}

	r = read_discovery_file(name, spec, &buf, &len, err);
	if (r < 0)
		return r;
	if (r > 0) {
		if (plugin_decode_spec(buf, len, &addr, err) < 0)
			return err_prefix(err, "volume plugin %s: %s", name, spec);
		if (check_loopback(name, addr, err) < 0)
			return err_ret(*err);
		return new_plugin(name, &addr, NULL, spec, bu, out, err);
	}

	r = read_discovery_file(name, js, &buf, &len, err);
	if (r <= 0)
		return r;
	if (plugin_decode_json(buf, len, &addr, &mount_root, &has_tls, err) < 0)
		return err_prefix(err, "volume plugin %s: %s", name, js);
	if (has_tls)
		return err_set(err, ENOTSUP,
			       "volume plugin %s: %s sets TLSConfig; moat does not speak TLS to "
			       "plugins yet",
			       name, js);
	if (check_loopback(name, addr, err) < 0)
		return err_ret(*err);
	return new_plugin(name, &addr, &mount_root, js, bu, out, err);
}

int plugin_find(const char *name, struct plugin **out, struct err **err)
{
	_cleanup_strv_ char **dirs = NULL;
	char looked[768];
	struct budget bu;
	size_t o = 0;
	int r;

	*out = NULL;
	if (!plugin_name_valid(name)) {
		char q[200];

		return err_set(err, EINVAL,
			       "volume plugin \"%s\": invalid name (it must match "
			       "[a-zA-Z0-9][a-zA-Z0-9_.-]*, at most %d characters)",
			       clean(name ? name : "", q, sizeof(q)), PLUGIN_NAME_MAX);
	}
	if (env_seconds(name, "MOAT_PLUGIN_TIMEOUT", PLUGIN_TIMEOUT_DEFAULT, 1, PLUGIN_TIMEOUT_MAX,
			&bu.timeout, err) < 0 ||
	    env_seconds(name, "MOAT_PLUGIN_RETRY_SECONDS", PLUGIN_RETRY_DEFAULT, 0,
			PLUGIN_TIMEOUT_MAX, &bu.retry, err) < 0)
		return err_ret(*err);
	dirs = plugin_search_path();
	if (!dirs)
		return err_errno(err, ENOMEM, "volume plugin %s", name);
	for (size_t i = 0; dirs[i]; i++) {
		r = find_in(dirs[i], name, &bu, out, err);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	looked[0] = '\0';
	for (size_t i = 0; dirs[i] && o < sizeof(looked); i++)
		o += (size_t)snprintf(looked + o, sizeof(looked) - o, "%s%s", i ? ", " : "",
				      dirs[i]);
	return err_set(err, ENOENT, "volume plugin %s not found (looked in %s)", name,
		       dirs[0] ? looked : "no directory: MOAT_PLUGIN_PATH names none");
}

static int strcmpp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends NAME (LEN bytes) to *V when it is a valid plugin name. */
static int add_name(char ***v, size_t *n, size_t *cap, const char *name, size_t len)
{
	char *s;

	if (len == 0 || len > PLUGIN_NAME_MAX)
		return 0;
	s = strndup(name, len);
	if (!s)
		return -ENOMEM;
	if (!plugin_name_valid(s)) {
		free(s);
		return 0;
	}
	if (*n + 1 >= *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, c * sizeof(char *));

		if (!nv) {
			free(s);
			return -ENOMEM;
		}
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
	return 0;
}

static bool has_suffix(const char *s, const char *suf, size_t *base)
{
	size_t a = strlen(s), b = strlen(suf);

	*base = a >= b ? a - b : 0;
	return a > b && !strcmp(s + a - b, suf);
}

char **plugin_list_names(void)
{
	_cleanup_strv_ char **dirs = plugin_search_path();
	_cleanup_strv_ char **v = NULL;
	size_t n = 0, cap = 0, out = 0;

	if (!dirs)
		return NULL;
	v = calloc(1, sizeof(char *));
	if (!v)
		return NULL;
	cap = 1;
	for (size_t i = 0; dirs[i]; i++) {
		_cleanup_closedir_ DIR *d = opendir(dirs[i]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d))) {
			struct stat st;
			size_t base;
			bool ok = false;

			if (e->d_name[0] == '.' ||
			    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (has_suffix(e->d_name, ".sock", &base)) {
				ok = S_ISSOCK(st.st_mode);
			} else if (has_suffix(e->d_name, ".spec", &base) ||
				   has_suffix(e->d_name, ".json", &base)) {
				ok = S_ISREG(st.st_mode);
			} else if (S_ISDIR(st.st_mode)) {
				_cleanup_free_ char *inner = NULL;
				struct stat ss;

				base = strlen(e->d_name);
				if (asprintf(&inner, "%s/%s.sock", e->d_name, e->d_name) < 0) {
					inner = NULL;
					return NULL;
				}
				ok = fstatat(dirfd(d), inner, &ss, AT_SYMLINK_NOFOLLOW) == 0 &&
				     S_ISSOCK(ss.st_mode);
			}
			if (ok && add_name(&v, &n, &cap, e->d_name, base) < 0)
				return NULL;
		}
	}
	qsort(v, n, sizeof(char *), strcmpp);
	for (size_t i = 0; i < n; i++) {
		if (out && !strcmp(v[out - 1], v[i])) {
			free(v[i]);
			continue;
		}
		v[out++] = v[i];
	}
	v[out] = NULL;
	return steal_ptr(v);
}

void plugin_free(struct plugin *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->addr);
	free(p->mount_root);
	free(p->found_in);
	free(p);
}

/* ---- one HTTP exchange ---- */

struct body {
	char *p;
	size_t len, cap, hdr_len;
	bool over, hdr_over, oom;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;

	if (n > PLUGIN_REPLY_MAX - b->len) {
		b->over = true;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t c = b->cap ? b->cap : 4096;
		char *np;

		while (c < b->len + n + 1)
			c *= 2;
		if (c > PLUGIN_REPLY_MAX + 1)
			c = PLUGIN_REPLY_MAX + 1;
		np = realloc(b->p, c);
		if (!np) {
			b->oom = true;
			return 0;
		}
		b->p = np;
		b->cap = c;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;

	(void)data;
	if (n > HEADERS_MAX - b->hdr_len) {
		b->hdr_over = true;
		return 0;
	}
	b->hdr_len += n;
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int timeout_of(const struct plugin *p)
{
	/* A struct plugin made by hand with no timeout gets the default. */
	return p->timeout_s >= 1 && p->timeout_s <= PLUGIN_TIMEOUT_MAX ? p->timeout_s
								       : PLUGIN_TIMEOUT_DEFAULT;
}

#define SETOPT(opt, val)                                                                       \
	do {                                                                                   \
		if (curl_easy_setopt(h, opt, val) != CURLE_OK)                                 \
			return err_set(err, EINVAL, "volume plugin %s: libcurl refused " #opt, \
				       p->name);                                               \
	} while (0)

/*
 * POSTs REQ to METHOD: *STATUS and the body in B on any HTTP reply.
 * Connecting is retried (100 ms, doubling up to 1 s) for the plugin's
 * retry budget: a plugin that is starting has no socket yet or does not
 * accept yet. The whole call, retries included, stays within the
 * timeout. A call that connected is never retried, whatever happened
 * next.
 */
static int post(const struct plugin *p, const char *method, const char *req, long *status,
		struct body *b, struct err **err)
{
	_cleanup_curl_ CURL *h = NULL;
	_cleanup_slist_ struct curl_slist *hl = NULL;
	_cleanup_free_ char *url = NULL;
	const char *sock = NULL;
	char errbuf[CURL_ERROR_SIZE], q[256];
	int timeout = timeout_of(p), retry = p->retry_s > 0 ? p->retry_s : 0;
	int64_t start, deadline, retry_until, backoff = BACKOFF_FIRST_MS, left, waited;
	long os_errno = 0;
	CURLcode rc = CURLE_COULDNT_CONNECT;
	/* "Expect:" keeps libcurl from waiting for "100 Continue" on larger
	 * bodies, which some plugin servers never send. */
	static const char *const headers[] = {ACCEPT_HDR, "Content-Type: application/json",
					      "Expect:"};

	if (!strncmp(p->addr, "unix://", 7)) {
		sock = p->addr + 7;
		if (asprintf(&url, "http://localhost/%s", method) < 0)
			url = NULL;
	} else if (!strncmp(p->addr, "tcp://", 6)) {
		/* Checked again here: a struct plugin need not come from
		 * plugin_find. */
		if (check_loopback(p->name, p->addr, err) < 0)
			return err_ret(*err);
		if (asprintf(&url, "http://%s/%s", p->addr + 6, method) < 0)
			url = NULL;
	} else {
		return err_set(err, EINVAL, "volume plugin %s: unsupported address %s", p->name,
			       clean(p->addr, q, sizeof(q)));
	}
	if (!url)
		return err_errno(err, ENOMEM, "volume plugin %s", p->name);
	if (moat_curl_load(err) < 0)
		return err_prefix(err, "volume plugin %s", p->name);
	h = curl_easy_init();
	if (!h)
		return err_errno(err, ENOMEM, "volume plugin %s: libcurl", p->name);
	for (size_t i = 0; i < ARRAY_SIZE(headers); i++) {
		struct curl_slist *nl = curl_slist_append(hl, headers[i]);

		if (!nl)
			return err_errno(err, ENOMEM, "volume plugin %s", p->name);
		hl = nl;
	}

	start = now_ms();
	deadline = start + (int64_t)timeout * 1000;
	retry_until = start + (int64_t)(retry < timeout ? retry : timeout) * 1000;
	for (;;) {
		left = deadline - now_ms();
		if (left < 1)
			break; /* only after a failed connect: reported below */
		free(b->p);
		*b = (struct body){0};
		errbuf[0] = '\0';
		curl_easy_reset(h);
		SETOPT(CURLOPT_URL, url);
		if (sock)
			SETOPT(CURLOPT_UNIX_SOCKET_PATH, sock);
		SETOPT(CURLOPT_PROTOCOLS_STR, "http");
		SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
		SETOPT(CURLOPT_PROXY, ""); /* no *_proxy from the environment */
		SETOPT(CURLOPT_NOSIGNAL, 1L);
		SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		SETOPT(CURLOPT_USERAGENT, "moat");
		SETOPT(CURLOPT_ERRORBUFFER, errbuf);
		SETOPT(CURLOPT_TIMEOUT_MS, (long)left);
		SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)left);
		SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PLUGIN_REPLY_MAX);
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDS, req);
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req));
		SETOPT(CURLOPT_HTTPHEADER, hl);
		SETOPT(CURLOPT_WRITEFUNCTION, on_body);
		SETOPT(CURLOPT_WRITEDATA, b);
		SETOPT(CURLOPT_HEADERFUNCTION, on_header);
		SETOPT(CURLOPT_HEADERDATA, b);
		rc = curl_easy_perform(h);
		if (rc != CURLE_COULDNT_CONNECT)
			break;
		os_errno = 0;
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
		left = retry_until - now_ms();
		if (left < 1)
			break;
		sleep_ms(backoff < left ? backoff : left);
		backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2 : BACKOFF_MAX_MS;
	}
	waited = now_ms() - start;

	switch (rc) {
	case CURLE_OK:
		*status = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
		return 0;
	case CURLE_COULDNT_CONNECT: {
		char tried[64] = "";

		/* How long it was given, as measured: the user knows then
		 * whether MOAT_PLUGIN_RETRY_SECONDS is what ran out. */
		if (retry > 0)
			snprintf(tried, sizeof(tried), " (retried for %lld.%llds)",
				 (long long)(waited / 1000), (long long)(waited % 1000 / 100));
		return err_set(err, ECONNREFUSED, "volume plugin %s: not reachable at %s: %s%s",
			       p->name, clean(p->addr, q, sizeof(q)),
			       os_errno > 0 ? strerror((int)os_errno) : "Connection refused",
			       tried);
	}
	case CURLE_COULDNT_RESOLVE_HOST:
		return err_set(err, EHOSTUNREACH, "volume plugin %s: not reachable at %s: %s",
			       p->name, clean(p->addr, q, sizeof(q)),
			       errbuf[0] ? errbuf : curl_easy_strerror(rc));
	case CURLE_OPERATION_TIMEDOUT:
		return err_set(err, ETIMEDOUT, "volume plugin %s: timed out after %ds calling %s",
			       p->name, timeout, method);
	case CURLE_FILESIZE_EXCEEDED:
		return err_set(err, EPROTO,
			       "volume plugin %s: malformed reply to %s: the reply is larger than "
			       "%d bytes",
			       p->name, method, PLUGIN_REPLY_MAX);
	case CURLE_WRITE_ERROR:
		if (b->over || b->hdr_over)
			return err_set(err, EPROTO,
				       "volume plugin %s: malformed reply to %s: the reply%s is "
				       "larger than %d bytes",
				       p->name, method, b->hdr_over ? "'s header" : "",
				       b->hdr_over ? HEADERS_MAX : PLUGIN_REPLY_MAX);
		if (b->oom)
			return err_errno(err, ENOMEM, "volume plugin %s: reply to %s", p->name,
					 method);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_TOO_MANY_REDIRECTS:
		return err_set(err, EPROTO, "volume plugin %s: malformed reply to %s: %s", p->name,
			       method,
			       clean(errbuf[0] ? errbuf : curl_easy_strerror(rc), q, sizeof(q)));
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return err_set(err, EIO, "volume plugin %s: no reply to %s: %s", p->name, method,
			       clean(errbuf[0] ? errbuf : curl_easy_strerror(rc), q, sizeof(q)));
	default:
		break;
	}
	return err_set(err, EIO, "volume plugin %s: calling %s: %s", p->name, method,
		       clean(errbuf[0] ? errbuf : curl_easy_strerror(rc), q, sizeof(q)));
}

/* A non-200 reply: the plugin's Err if the body carries one (Docker's
 * rule), else the status and the body's first line. */
static int http_error(const struct plugin *p, const char *method, long status, const struct body *b,
		      struct err **err)
{
	struct plugin_reply r = {0};
	_cleanup_err_ struct err *ignored = NULL;
	char line[201], q[512];
	size_t n = 0;

	if (plugin_decode_reply(method, b->p ? b->p : "", b->len, &r, &ignored) == -EIO &&
	    r.plugin_err) {
		err_set(err, EREMOTEIO, "volume plugin %s: %s", p->name,
			clean(r.plugin_err, q, sizeof(q)));
		plugin_reply_free(&r);
		return -EREMOTEIO;
	}
	plugin_reply_free(&r);
	while (b->p && n < b->len && n < sizeof(line) - 1 && b->p[n] != '\n' && b->p[n] != '\r' &&
	       b->p[n] != '\0') {
		line[n] = b->p[n];
		n++;
	}
	line[n] = '\0';
	return err_set(err, EREMOTEIO, "volume plugin %s: HTTP %ld: %s", p->name, status,
		       n ? clean(line, q, sizeof(q)) : "(no body)");
}

/* One call, decoded into REP (zeroed by the caller). */
static int exchange(const struct plugin *p, const char *method, const char *req,
		    struct plugin_reply *rep, struct err **err)
{
	_cleanup_err_ struct err *derr = NULL;
	struct body b = {0};
	long status = 0;
	char q[512];
	int r;

	r = post(p, method, req, &status, &b, err);
	if (r < 0) {
		free(b.p);
		return r;
	}
	if (status != 200) {
		r = http_error(p, method, status, &b, err);
		free(b.p);
		return r;
	}
	r = plugin_decode_reply(method, b.p ? b.p : "", b.len, rep, &derr);
	free(b.p);
	if (r == -EIO && rep->plugin_err)
		return err_set(err, EREMOTEIO, "volume plugin %s: %s", p->name,
			       clean(rep->plugin_err, q, sizeof(q)));
	if (r == -ENOMEM)
		return err_errno(err, ENOMEM, "volume plugin %s: reply to %s", p->name, method);
	if (r < 0)
		return err_set(err, EPROTO, "volume plugin %s: malformed reply to %s: %s", p->name,
			       method, derr ? derr->msg : "?");
	return 0;
}

static int activate(struct plugin *p, struct err **err)
{
	struct plugin_reply rep = {0};
	char list[512], q[512];
	size_t o = 0;
	int r;

	/* Docker sends Activate with an empty body. */
	r = exchange(p, "Plugin.Activate", "", &rep, err);
	if (r < 0) {
		plugin_reply_free(&rep);
		return r;
	}
	list[0] = '\0';
	for (char **i = rep.implements; i && *i; i++) {
		if (!strcmp(*i, "VolumeDriver")) {
			plugin_reply_free(&rep);
			p->activated = true;
			return 0;
		}
		if (o < sizeof(list))
			o +=
			    (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", *i);
	}
	plugin_reply_free(&rep);
	return err_set(err, ENOTSUP,
		       "volume plugin %s: does not implement VolumeDriver (implements: %s)",
		       p->name, o ? clean(list, q, sizeof(q)) : "nothing");
}

/* Activates P on its first call, then calls METHOD with REQ (consumed). */
static int call(struct plugin *p, const char *method, json_t *req, struct plugin_reply *rep,
		struct err **err)
{
	_cleanup_json_ json_t *j = req;
	_cleanup_free_ char *text = NULL;

	if (!p || !p->name || !p->addr)
		return err_set(err, EINVAL, "volume plugin: no plugin to call %s", method);
	/* json_pack fails on NULL or non-UTF-8 strings. */
	if (!j)
		return err_set(err, EINVAL,
			       "volume plugin %s: cannot encode the %s request (a missing or "
			       "non-UTF-8 value)",
			       p->name, method);
	text = json_dumps(j, JSON_COMPACT);
	if (!text)
		return err_errno(err, ENOMEM, "volume plugin %s: %s request", p->name, method);
	if (!p->activated && activate(p, err) < 0)
		return err_ret(*err);
	return exchange(p, method, text, rep, err);
}

static int need(const struct plugin *p, const char *what, const char *v, struct err **err)
{
	if (v && *v)
		return 0;
	return err_set(err, EINVAL, "volume plugin %s: no %s given", p && p->name ? p->name : "?",
		       what);
}

/* ---- the VolumeDriver methods ---- */

int plugin_volume_create(struct plugin *p, const char *name, char *const *opts, struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	struct plugin_reply rep = {0};
	int r;

	if (need(p, "volume name", name, err) < 0)
		return err_ret(*err);
	if (!o)
		return err_errno(err, ENOMEM, "volume plugin %s", p->name);
	/* "k=v" from -o; a bare "k" is an empty value; the last of a key wins. */
	for (char *const *i = opts; i && *i; i++) {
		const char *eq = strchr(*i, '=');
		_cleanup_free_ char *k = strndup(*i, eq ? (size_t)(eq - *i) : strlen(*i));
		json_t *v = json_string(eq ? eq + 1 : "");

		if (!k || !v || !*k || json_object_set_new(o, k, v) < 0) {
			if (v && (!k || !*k))
				json_decref(v);
			return err_set(err, EINVAL,
				       "volume plugin %s: option \"%.64s\" cannot be sent (empty "
				       "key or not UTF-8)",
				       p->name, *i);
		}
	}
	r = call(p, "VolumeDriver.Create", json_pack("{s:s, s:O}", "Name", name, "Opts", o), &rep,
		 err);
	plugin_reply_free(&rep);
	return r;
}

int plugin_volume_remove(struct plugin *p, const char *name, struct err **err)
{
	struct plugin_reply rep = {0};
	int r;

	if (need(p, "volume name", name, err) < 0)
		return err_ret(*err);
	r = call(p, "VolumeDriver.Remove", json_pack("{s:s}", "Name", name), &rep, err);
	plugin_reply_free(&rep);
	return r;
}

int plugin_volume_mount(struct plugin *p, const char *name, const char *id, char **mountpoint,
			struct err **err)
{
	struct plugin_reply rep = {0};
	int r;

	*mountpoint = NULL;
	if (need(p, "volume name", name, err) < 0 || need(p, "mount ID", id, err) < 0)
		return err_ret(*err);
	r = call(p, "VolumeDriver.Mount", json_pack("{s:s, s:s}", "Name", name, "ID", id), &rep,
		 err);
	if (r == 0)
		*mountpoint = steal_ptr(rep.mountpoint);
	plugin_reply_free(&rep);
	return r;
}

int plugin_volume_unmount(struct plugin *p, const char *name, const char *id, struct err **err)
{
	struct plugin_reply rep = {0};
	int r;

	if (need(p, "volume name", name, err) < 0 || need(p, "mount ID", id, err) < 0)
		return err_ret(*err);
	r = call(p, "VolumeDriver.Unmount", json_pack("{s:s, s:s}", "Name", name, "ID", id), &rep,
		 err);
	plugin_reply_free(&rep);
	return r;
}

/* *MOUNTPOINT is "" when the plugin names none (the volume is not
 * mounted); plugin_mountpoint_open refuses that. */
int plugin_volume_path(struct plugin *p, const char *name, char **mountpoint, struct err **err)
{
	struct plugin_reply rep = {0};
	int r;

	*mountpoint = NULL;
	if (need(p, "volume name", name, err) < 0)
		return err_ret(*err);
	r = call(p, "VolumeDriver.Path", json_pack("{s:s}", "Name", name), &rep, err);
	if (r == 0) {
		*mountpoint = rep.mountpoint ? steal_ptr(rep.mountpoint) : strdup("");
		if (!*mountpoint)
			r = err_errno(err, ENOMEM, "volume plugin %s", p->name);
	}
	plugin_reply_free(&rep);
	return r;
}

int plugin_volume_get(struct plugin *p, const char *name, struct plugin_volume *out, bool *found,
		      struct err **err)
{
	struct plugin_reply rep = {0};
	int r;

	*out = (struct plugin_volume){0};
	*found = false;
	if (need(p, "volume name", name, err) < 0)
		return err_ret(*err);
	r = call(p, "VolumeDriver.Get", json_pack("{s:s}", "Name", name), &rep, err);
	if (r == 0 && rep.vol) {
		*out = *rep.vol;
		*rep.vol = (struct plugin_volume){0};
		*found = true;
	}
	plugin_reply_free(&rep);
	return r;
}

int plugin_volume_list(struct plugin *p, struct plugin_volume **out, size_t *n, struct err **err)
{
	struct plugin_reply rep = {0};
	int r;

	*out = NULL;
	*n = 0;
	r = call(p, "VolumeDriver.List", json_object(), &rep, err);
	if (r == 0) {
		*out = steal_ptr(rep.vols);
		*n = rep.n_vols;
		rep.n_vols = 0;
	}
	plugin_reply_free(&rep);
	return r;
}

int plugin_capabilities(struct plugin *p, char **scope, struct err **err)
{
	struct plugin_reply rep = {0};
	int r;

	*scope = NULL;
	r = call(p, "VolumeDriver.Capabilities", json_object(), &rep, err);
	if (r == 0)
		*scope = steal_ptr(rep.scope);
	plugin_reply_free(&rep);
	return r;
}

/* ---- mountpoints ---- */

/* The fallback where openat2 is missing or filtered (or MOAT_NO_OPENAT2=1,
 * for the tests): one component at a time from "/", each opened O_PATH|
 * O_NOFOLLOW and refused when it is a symlink (magic links included, they
 * lstat as links). ".." is walked as the kernel would; what counts is the
 * name read back afterwards. */
static int walk_nofollow(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int cur = -1;
	char *save = NULL, *c;

	if (!copy)
		return -ENOMEM;
	cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cur < 0)
		return -errno;
	for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		_cleanup_close_ int next = openat(cur, c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;

		if (next < 0)
			return -errno;
		if (fstat(next, &st) < 0)
			return -errno;
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		closep(&cur);
		cur = steal_fd(next);
	}
	return steal_fd(cur);
}

static int open_nofollow(const char *path)
{
	const char *e = getenv("MOAT_NO_OPENAT2");
	/* No O_NOFOLLOW: with it, a final symlink would be opened as itself
	 * (then ENOTDIR); without it RESOLVE_NO_SYMLINKS refuses it (ELOOP),
	 * like any other symlink on the way. */
	struct open_how how = {
	    .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (!(e && *e == '1')) {
		fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS && errno != EPERM)
			return -errno;
	}
	return walk_nofollow(path);
}

/* The kernel's name for FD, checked to name that very inode now (a
 * removed directory reads back as "PATH (deleted)"). */
static int fd_real_path(int fd, char **out)
{
	char proc[64], buf[PATH_MAX + 1];
	struct stat a, b;
	ssize_t n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = readlink(proc, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf) - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	if (buf[0] != '/' || fstat(fd, &a) < 0 || lstat(buf, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)
		return -ESTALE;
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

/* Absolute PATH (at most PATH_MAX) with "//", "." and ".." folded away,
 * in place; "/" when nothing is left. */
static void lexical_clean(char *path)
{
	char *o = path;
	const char *s = path;

	while (*s) {
		size_t len;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		len = strcspn(s, "/");
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			while (o > path && *--o != '/')
				;
		} else if (!(len == 1 && s[0] == '.')) {
			*o++ = '/';
			memmove(o, s, len);
			o += len;
		}
		s += len;
	}
	if (o == path)
		*o++ = '/';
	*o = '\0';
}

/* PATH canonical: the real path of its longest existing ancestor, then
 * the rest as written, cleaned (moat's own directories may not exist
 * yet, and may sit under a symlink such as /var/run). */
static char *canonical(const char *path)
{
	size_t keep = strlen(path);
	char *r = NULL, *out = NULL;

	for (;;) {
		_cleanup_free_ char *head = strndup(path, keep);

		if (!head)
			return NULL;
		r = realpath(keep ? head : "/", NULL);
		if (r || errno != ENOENT || keep == 0)
			break;
		while (keep > 0 && path[keep - 1] == '/')
			keep--;
		while (keep > 0 && path[keep - 1] != '/')
			keep--;
	}
	if (!r)
		return NULL;
	if (asprintf(&out, "%s/%s", r, path + keep) < 0)
		out = NULL;
	free(r);
	if (out)
		lexical_clean(out);
	return out;
}

/* PATH is DIR or lies beneath it, component by component ("/etcx" is not
 * under "/etc"); both canonical. */
static bool at_or_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

int plugin_mountpoint_open(const struct plugin *p, const char *mountpoint,
			   const char *const *state_dirs, struct err **err)
{
	static const char *const deny[] = {"/proc", "/sys", "/dev",  "/etc", "/boot",
					   "/usr",  "/bin", "/sbin", "/root"};
	const char *name = p && p->name ? p->name : "?";
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *real = NULL;
	char q[300], qr[300], shown[700];
	int r;

	if (!mountpoint || !*mountpoint)
		return err_set(err, EINVAL, "volume plugin %s: no mountpoint", name);
	clean(mountpoint, q, sizeof(q));
	if (mountpoint[0] != '/')
		return err_set(err, EINVAL, "volume plugin %s: mountpoint \"%s\" is not absolute",
			       name, q);
	fd = open_nofollow(mountpoint);
	if (fd < 0) {
		if (fd == -ELOOP)
			return err_set(err, ELOOP,
				       "volume plugin %s: mountpoint \"%s\" is or passes through a "
				       "symlink",
				       name, q);
		if (fd == -ENOTDIR)
			return err_set(err, ENOTDIR,
				       "volume plugin %s: mountpoint \"%s\" is not a directory",
				       name, q);
		return err_errno(err, -fd, "volume plugin %s: mountpoint \"%s\"", name, q);
	}
	r = fd_real_path(fd, &real);
	if (r < 0)
		return err_errno(err, -r, "volume plugin %s: mountpoint \"%s\": its real path",
				 name, q);
	if (strcmp(real, mountpoint))
		snprintf(shown, sizeof(shown), "\"%s\" (really \"%s\")", q,
			 clean(real, qr, sizeof(qr)));
	else
		snprintf(shown, sizeof(shown), "\"%s\"", q);

	if (p && p->mount_root) {
		_cleanup_free_ char *root = realpath(p->mount_root, NULL);

		if (!root)
			return err_errno(err, errno, "volume plugin %s: MountRoot %s", name,
					 p->mount_root);
		if (!strcmp(root, "/"))
			return err_set(err, EINVAL,
				       "volume plugin %s: MountRoot %s is the whole host; name the "
				       "directory the plugin mounts under",
				       name, p->mount_root);
		/* Strictly beneath: the root itself would hand out every
		 * volume the plugin has. */
		if (!strcmp(real, root) || !at_or_under(real, root))
			return err_set(
			    err, EPERM,
			    "volume plugin %s: mountpoint %s is not beneath the plugin's "
			    "MountRoot %s",
			    name, shown, root);
	} else {
		if (!strcmp(real, "/"))
			return err_set(
			    err, EPERM,
			    "volume plugin %s: mountpoint %s is the host's root directory", name,
			    shown);
		for (size_t i = 0; i < ARRAY_SIZE(deny); i++)
			if (at_or_under(real, deny[i]))
				return err_set(
				    err, EPERM,
				    "volume plugin %s: mountpoint %s is in %s, which moat "
				    "does not mount from a plugin",
				    name, shown, deny[i]);
		/* /lib, /lib32, /lib64, /libx32... */
		if (!strncmp(real, "/lib", 4)) {
			size_t c = strcspn(real + 1, "/") + 1;

			return err_set(
			    err, EPERM,
			    "volume plugin %s: mountpoint %s is in %.*s, which moat does "
			    "not mount from a plugin",
			    name, shown, (int)c, real);
		}
	}
	/* moat's own state: neither in it nor above it (a parent would
	 * carry it into the container too). */
	for (size_t i = 0; state_dirs && state_dirs[i]; i++) {
		_cleanup_free_ char *sd = canonical(state_dirs[i]);

		if (!sd)
			return err_errno(err, errno ? errno : ENOMEM,
					 "volume plugin %s: state directory %s", name,
					 state_dirs[i]);
		if (at_or_under(real, sd) || at_or_under(sd, real))
			return err_set(err, EPERM,
				       "volume plugin %s: mountpoint %s overlaps moat's state "
				       "directory %s",
				       name, shown, sd);
	}
	return steal_fd(fd);
}
