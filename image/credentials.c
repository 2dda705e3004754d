/*
 * image/credentials.c - registry credentials in Docker's config.json, and
 * the docker-credential-helpers protocol, so that `docker login`,
 * `moat login` and existing helpers (pass, secretservice, ecr-login, ...)
 * all see the same credentials.
 *
 * Runs in: the moat process (pull, push, login, logout), as the invoking
 * user; it reads and writes that user's own config.json and runs that
 * user's own helpers. Never with privilege the user does not have.
 *
 * Invariants:
 *  - decoding (credentials_decode, credentials_helper_decode) is pure and
 *    capped at 1 MiB before anything is parsed; it is what the fuzzer
 *    reaches;
 *  - a helper name from the file is [A-Za-z0-9][A-Za-z0-9._-]*: it cannot
 *    name a path. The helper is found in $PATH's absolute entries only (Go's
 *    exec.LookPath refuses "." results too), run with posix_spawn, no
 *    shell, default signal dispositions, an empty signal mask, and killed
 *    after 30 s; its output is capped at 1 MiB;
 *  - config.json is rewritten atomically (a 0600 temp file in the same
 *    directory, fsync, rename), its directory created 0700 when missing,
 *    every key other than the entry being changed kept; a file that does
 *    not parse is never overwritten;
 *  - secrets in moat's memory are wiped (explicit_bzero) before they are
 *    freed.
 */
#include "image/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/json.h"

extern char **environ;

#define CONFIG_MAX (1u << 20)
#define HELPER_OUT_MAX (1u << 20)
#define HELPER_TIMEOUT_MS 30000
#define HELPER_NAME_MAX 64
#define HUB_KEY "https://index.docker.io/v1/"
#define NOT_FOUND_MSG "credentials not found in native keychain"
#define TOKEN_USERNAME "<token>"

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void wipe_freep(char **s)
{
	wipe_free(*s);
}
#define _cleanup_wipe_ __attribute__((cleanup(wipe_freep)))

void registry_creds_clear(struct registry_creds *c)
{
	if (!c)
		return;
	wipe_free(c->username);
	wipe_free(c->password);
	wipe_free(c->identity_token);
	memset(c, 0, sizeof(*c));
}

static bool is_hub(const char *h, size_t n)
{
	static const char *const names[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (n == strlen(names[i]) && !strncasecmp(h, names[i], n))
			return true;
	return false;
}

const char *credentials_key(const char *host)
{
	if (!strcmp(host, HUB_KEY) || is_hub(host, strlen(host)))
		return HUB_KEY;
	return host;
}

/* docker/cli's ConvertToHostname: the host[:port] of a key that may be a
 * URL ("https://host:5000/v1/") or a bare host with a path. */
static void key_host(const char *k, const char **h, size_t *n)
{
	const char *p = strstr(k, "://"), *at;

	p = p ? p + 3 : k;
	*n = strcspn(p, "/");
	at = memchr(p, '@', *n);
	if (at && strstr(k, "://")) {
		*n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	*h = p;
}

/* Another spelling of KEY: the same host (Hub's names are one host). */
static bool key_alias(const char *k, const char *key)
{
	const char *a, *b;
	size_t na, nb;

	key_host(k, &a, &na);
	key_host(key, &b, &nb);
	if (na == 0 || nb == 0)
		return false;
	if (is_hub(a, na) && is_hub(b, nb))
		return true;
	return na == nb && !strncasecmp(a, b, na);
}

/* OBJ[KEY], else the first member (file order) that is another spelling of
 * KEY: docker/cli's fileStore.Get fallback, widened to Hub's names. */
static json_t *find_entry(json_t *obj, const char *key, const char **found)
{
	const char *k;
	json_t *v;

	if ((v = json_object_get(obj, key))) {
		*found = key;
		return v;
	}
	json_object_foreach (obj, k, v) {
		if (key_alias(k, key)) {
			*found = k;
			return v;
		}
	}
	return NULL;
}

static bool helper_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > HELPER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("._-", c)))
			return false;
	}
	return true;
}

/* ---- config.json decoding (pure) ---- */

/* docker/cli's decodeAuth on DEC[0..N): "user:pass", the password with
 * NULs trimmed at both ends, a non-empty user. */
static int split_auth(const char *dec, size_t n, const char *what, struct registry_creds *out,
		      struct err **err)
{
	const char *colon = memchr(dec, ':', n), *pass;
	size_t plen;

	if (!colon || colon == dec)
		return err_set(err, EINVAL, "%s: \"auth\" is not \"user:password\"", what);
	pass = colon + 1;
	plen = n - (size_t)(pass - dec);
	while (plen > 0 && *pass == 0) {
		pass++;
		plen--;
	}
	while (plen > 0 && pass[plen - 1] == 0)
		plen--;
	/* A NUL anywhere else cannot be sent in a header. */
	if (memchr(dec, 0, (size_t)(colon - dec)) || memchr(pass, 0, plen))
		return err_set(err, EINVAL, "%s: \"auth\" contains a NUL byte", what);
	out->username = strndup(dec, (size_t)(colon - dec));
	out->password = strndup(pass, plen);
	if (!out->username || !out->password)
		return err_errno(err, ENOMEM, "%s", what);
	return 0;
}

static int decode_auth(const char *b64, const char *what, struct registry_creds *out,
		       struct err **err)
{
	char *dec = NULL;
	size_t n = 0;
	int r;

	if (base64_decode(b64, strlen(b64), (unsigned char **)&dec, &n) < 0)
		return err_set(err, EINVAL, "%s: \"auth\" is not valid base64", what);
	r = split_auth(dec, n, what, out, err);
	explicit_bzero(dec, n);
	free(dec);
	return r;
}

static int decode_entry(json_t *e, const char *what, struct registry_creds *out, struct err **err)
{
	_cleanup_wipe_ char *auth = NULL;

	if (!json_is_object(e))
		return err_set(err, EINVAL, "%s: must be an object", what);
	if (json_get_str(e, "auth", &auth, what, err) < 0 ||
	    json_get_str(e, "identitytoken", &out->identity_token, what, err) < 0)
		return err_ret(*err);
	if (auth && *auth)
		return decode_auth(auth, what, out, err);
	if (json_get_str(e, "username", &out->username, what, err) < 0 ||
	    json_get_str(e, "password", &out->password, what, err) < 0)
		return err_ret(*err);
	return 0;
}

/* The helper for KEY in ROOT: credHelpers[KEY], else credsStore. */
static int doc_helper(json_t *root, const char *key, const char *what, char **helper,
		      struct err **err)
{
	json_t *hs = json_object_get(root, "credHelpers"), *v = NULL;
	const char *name = NULL, *found;

	*helper = NULL;
	if (hs && !json_is_null(hs)) {
		if (!json_is_object(hs))
			return err_set(err, EINVAL, "%s: \"credHelpers\" must be an object", what);
		v = find_entry(hs, key, &found);
		if (v && !json_is_string(v))
			return err_set(err, EINVAL, "%s: credHelpers[\"%s\"] must be a string",
				       what, found);
		if (v)
			name = json_string_value(v);
	}
	if (!name || !*name) {
		v = json_object_get(root, "credsStore");
		if (v && !json_is_null(v) && !json_is_string(v))
			return err_set(err, EINVAL, "%s: \"credsStore\" must be a string", what);
		name = v && json_is_string(v) ? json_string_value(v) : NULL;
	}
	if (!name || !*name)
		return 0;
	if (!helper_name_ok(name))
		return err_set(err, EINVAL, "%s: credential helper name \"%.80s\" is not valid",
			       what, name);
	*helper = strdup(name);
	if (!*helper)
		return err_errno(err, ENOMEM, "%s", what);
	return 0;
}

static json_t *parse_doc(const char *buf, size_t len, const char *what, struct err **err)
{
	json_t *root;

	if (len > CONFIG_MAX) {
		err_set(err, EFBIG, "%s: larger than %u bytes", what, CONFIG_MAX);
		return NULL;
	}
	root = json_parse_strict(buf, len, what, err);
	if (root && !json_is_object(root)) {
		json_decref(root);
		err_set(err, EINVAL, "%s: not a JSON object", what);
		return NULL;
	}
	return root;
}

static int decode_doc(json_t *root, const char *what, const char *key, struct registry_creds *out,
		      char **helper, struct err **err)
{
	json_t *auths, *e;
	const char *found;
	char ewhat[512];

	if (doc_helper(root, key, what, helper, err) < 0)
		return err_ret(*err);
	if (*helper)
		return 0;
	auths = json_object_get(root, "auths");
	if (!auths || json_is_null(auths))
		return 0;
	if (!json_is_object(auths))
		return err_set(err, EINVAL, "%s: \"auths\" must be an object", what);
	e = find_entry(auths, key, &found);
	if (!e)
		return 0;
	snprintf(ewhat, sizeof(ewhat), "%s: auths[\"%.200s\"]", what, found);
	if (decode_entry(e, ewhat, out, err) < 0) {
		registry_creds_clear(out);
		return err_ret(*err);
	}
	return 0;
}

int credentials_decode(const char *buf, size_t len, const char *key, struct registry_creds *out,
		       char **helper, struct err **err)
{
	_cleanup_json_ json_t *root = NULL;

	memset(out, 0, sizeof(*out));
	*helper = NULL;
	root = parse_doc(buf, len, "config.json", err);
	if (!root)
		return err_ret(*err);
	return decode_doc(root, "config.json", key, out, helper, err);
}

int credentials_helper_decode(const char *buf, size_t len, struct registry_creds *out,
			      struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_wipe_ char *user = NULL, *secret = NULL;
	const char *what = "credential helper reply";

	memset(out, 0, sizeof(*out));
	if (len > HELPER_OUT_MAX)
		return err_set(err, EFBIG, "%s: larger than %u bytes", what, HELPER_OUT_MAX);
	root = json_parse_strict(buf, len, what, err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "%s: not a JSON object", what);
	if (json_get_str(root, "Username", &user, what, err) < 0 ||
	    json_get_str(root, "Secret", &secret, what, err) < 0)
		return err_ret(*err);
	if (user && !strcmp(user, TOKEN_USERNAME)) {
		out->identity_token = steal_ptr(secret);
	} else {
		out->username = steal_ptr(user);
		out->password = steal_ptr(secret);
	}
	return 0;
}

/* ---- helpers: docker-credential-<name> get|store|erase ---- */

/* The helper's executable in PATH's absolute directories. */
static int find_helper(const char *prog, char **out, struct err **err)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = NULL;
	char *save = NULL;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = strdup(path);
	if (!copy)
		return err_errno(err, ENOMEM, "%s", prog);
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *cand = NULL;
		struct stat st;

		if (d[0] != '/')
			continue;
		if (asprintf(&cand, "%s/%s", d, prog) < 0)
			return err_errno(err, ENOMEM, "%s", prog);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
			*out = steal_ptr(cand);
			return 0;
		}
	}
	return err_set(err, ENOENT, "%s: executable file not found in $PATH", prog);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct outbuf {
	char *buf;
	size_t len, cap;
	bool eof;
};

/* Reads what is there; -EFBIG past HELPER_OUT_MAX. */
static int drain(int fd, struct outbuf *o)
{
	for (;;) {
		ssize_t n;

		if (o->cap - o->len < 4096) {
			size_t ncap = o->cap ? o->cap * 2 : 8192;
			char *nb;

			if (ncap > HELPER_OUT_MAX + 8192)
				return -EFBIG;
			nb = realloc(o->buf, ncap + 1);
			if (!nb)
				return -ENOMEM;
			o->buf = nb;
			o->cap = ncap;
		}
		n = read(fd, o->buf + o->len, o->cap - o->len);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		if (n == 0) {
			o->eof = true;
			return 0;
		}
		o->len += (size_t)n;
		if (o->len > HELPER_OUT_MAX)
			return -EFBIG;
	}
}

static void trim(char *s)
{
	size_t n = strlen(s);
	char *p = s;

	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		s[--n] = 0;
	while (*p && strchr(" \t\r\n", *p))
		p++;
	memmove(s, p, strlen(p) + 1);
}

static void spawn_cleanup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at)
{
	posix_spawn_file_actions_destroy(fa);
	posix_spawnattr_destroy(at);
}

/* Runs PATH ACTION with IN on stdin, collecting stdout and stderr until both
 * close and the helper exits, or until TIMEOUT_MS passed. *STATUS is its
 * wait status. */
static int run_helper(const char *path, const char *prog, const char *action, const char *in,
		      int timeout_ms, struct outbuf *out, struct outbuf *errout, int *status,
		      struct err **err)
{
	_cleanup_close_ int sin_p = -1, sin_c = -1, out_r = -1, out_w = -1, err_r = -1, err_w = -1;
	int sv[2], p1[2], p2[2], r = 0;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *argv[] = {(char *)prog, (char *)action, NULL};
	size_t in_len = strlen(in), in_off = 0;
	sigset_t none, all;
	long deadline = now_ms() + timeout_ms;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return err_errno(err, errno, "%s %s", prog, action);
	sin_p = sv[0];
	sin_c = sv[1];
	if (pipe2(p1, O_CLOEXEC) < 0)
		return err_errno(err, errno, "%s %s", prog, action);
	out_r = p1[0];
	out_w = p1[1];
	if (pipe2(p2, O_CLOEXEC) < 0)
		return err_errno(err, errno, "%s %s", prog, action);
	err_r = p2[0];
	err_w = p2[1];

	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_adddup2(&fa, sin_c, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&pid, path, &fa, &at, argv, environ);
	spawn_cleanup(&fa, &at);
	if (r != 0)
		return err_errno(err, r, "run %s", path);
	closep(&sin_c);
	closep(&out_w);
	closep(&err_w);
	fcntl(sin_p, F_SETFL, O_NONBLOCK);
	fcntl(out_r, F_SETFL, O_NONBLOCK);
	fcntl(err_r, F_SETFL, O_NONBLOCK);
	if (in_len == 0)
		closep(&sin_p);

	while (!out->eof || !errout->eof) {
		struct pollfd pfd[3];
		nfds_t n = 0;
		long left = deadline - now_ms();
		int pr;

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (sin_p >= 0)
			pfd[n++] = (struct pollfd){.fd = sin_p, .events = POLLOUT};
		if (!out->eof)
			pfd[n++] = (struct pollfd){.fd = out_r, .events = POLLIN};
		if (!errout->eof)
			pfd[n++] = (struct pollfd){.fd = err_r, .events = POLLIN};
		pr = poll(pfd, n, (int)left);
		if (pr < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
		if (pr <= 0)
			continue;
		for (nfds_t i = 0; i < n && r == 0; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == sin_p) {
				ssize_t w = send(sin_p, in + in_off, in_len - in_off,
						 MSG_NOSIGNAL | MSG_DONTWAIT);

				if (w > 0)
					in_off += (size_t)w;
				/* Done, or the helper stopped reading (EPIPE): EOF it. */
				if (in_off == in_len ||
				    (w < 0 && errno != EAGAIN && errno != EINTR))
					closep(&sin_p);
			} else if (pfd[i].fd == out_r) {
				r = drain(out_r, out);
			} else {
				r = drain(err_r, errout);
			}
		}
		if (r < 0)
			break;
	}
	/* The helper may linger after closing its output: bounded wait. */
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			r = r ? r : -errno;
			break;
		}
		if (r < 0 || now_ms() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			if (r == 0)
				r = -ETIMEDOUT;
			break;
		}
		poll(NULL, 0, 10);
	}
	if (r == -ETIMEDOUT)
		return err_set(err, ETIMEDOUT, "%s %s: no answer within %d s", prog, action,
			       timeout_ms / 1000);
	if (r == -EFBIG)
		return err_set(err, EFBIG, "%s %s: more than %u bytes of output", prog, action,
			       HELPER_OUT_MAX);
	if (r < 0)
		return err_errno(err, -r, "%s %s", prog, action);
	return 0;
}

int credentials_helper_call(const char *helper, const char *action, const char *input,
			    int timeout_ms, char **out, struct err **err)
{
	_cleanup_free_ char *prog = NULL, *path = NULL;
	struct outbuf o = {0}, e = {0};
	int status = 0, r;

	*out = NULL;
	if (!helper_name_ok(helper))
		return err_set(err, EINVAL, "credential helper name \"%.80s\" is not valid",
			       helper);
	if (asprintf(&prog, "docker-credential-%s", helper) < 0)
		return err_errno(err, ENOMEM, "credential helper");
	if (find_helper(prog, &path, err) < 0)
		return err_ret(*err);
	r = run_helper(path, prog, action, input, timeout_ms > 0 ? timeout_ms : HELPER_TIMEOUT_MS,
		       &o, &e, &status, err);
	if (o.buf)
		o.buf[o.len] = 0;
	if (e.buf)
		e.buf[e.len] = 0;
	if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		/* Helpers write their error to stdout (client.go reads it there). */
		char *msg = o.buf && *o.buf ? o.buf : e.buf;

		if (msg)
			trim(msg);
		if (msg && !strcmp(msg, NOT_FOUND_MSG))
			r = err_set(err, ENOKEY, "%s %s: %s", prog, action, NOT_FOUND_MSG);
		else if (WIFSIGNALED(status))
			r = err_set(err, EIO, "%s %s: killed by signal %d", prog, action,
				    WTERMSIG(status));
		else
			r = err_set(err, EIO, "%s %s: exit status %d%s%.512s", prog, action,
				    WEXITSTATUS(status), msg && *msg ? ": " : "", msg ? msg : "");
	}
	if (r == 0) {
		*out = o.buf ? steal_ptr(o.buf) : strdup("");
		if (!*out)
			r = err_errno(err, ENOMEM, "%s", prog);
	}
	if (o.buf) {
		explicit_bzero(o.buf, o.len);
		free(o.buf);
	}
	free(e.buf);
	return r;
}

static int helper_get(const char *helper, const char *key, struct registry_creds *out,
		      struct err **err)
{
	_cleanup_wipe_ char *reply = NULL;

	if (credentials_helper_call(helper, "get", key, 0, &reply, err) < 0)
		return err_ret(*err);
	if (credentials_helper_decode(reply, strlen(reply), out, err) < 0)
		return err_prefix(err, "docker-credential-%s get", helper);
	return 0;
}

/* ---- config.json on disk ---- */

int credentials_config_path(char **out, struct err **err)
{
	const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	*out = NULL;
	if (d && *d) {
		if (asprintf(out, "%s/config.json", d) < 0)
			*out = NULL;
	} else {
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());

			home = pw ? pw->pw_dir : NULL;
		}
		if (!home || !*home)
			return err_set(err, ENOENT,
				       "cannot find the Docker config: set HOME or DOCKER_CONFIG");
		if (asprintf(out, "%s/.docker/config.json", home) < 0)
			*out = NULL;
	}
	if (!*out)
		return err_errno(err, ENOMEM, "config path");
	return 0;
}

/* The parsed config.json, or NULL (and 0) when there is none. */
static int load_doc(const char *path, json_t **out, struct err **err)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return err_errno(err, errno, "open \"%s\"", path);
	}
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "stat \"%s\"", path);
	if (!S_ISREG(st.st_mode))
		return err_set(err, EINVAL, "\"%s\" is not a regular file", path);
	if (fs_read_fd(fd, CONFIG_MAX, &buf, &len, err) < 0)
		return err_prefix(err, "read \"%s\"", path);
	*out = parse_doc(buf, len, path, err);
	explicit_bzero(buf, len);
	return *out ? 0 : err_ret(*err);
}

static int write_doc(const char *path, json_t *doc, struct err **err)
{
	_cleanup_free_ char *real = NULL, *dir = NULL, *tmp = NULL;
	_cleanup_wipe_ char *text = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	const char *target = path;
	char *slash;
	int r = 0;

	/* A symlinked config.json (dotfile managers) is updated where it
	 * points, as docker/cli does. */
	real = realpath(path, NULL);
	if (real)
		target = real;
	dir = strdup(target);
	if (!dir)
		return err_errno(err, ENOMEM, "write \"%s\"", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return err_prefix(err, "create \"%s\"", dir);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return err_errno(err, ENOMEM, "write \"%s\"", path);
	if (asprintf(&tmp, "%s/.config.json.XXXXXX", dir) < 0) {
		tmp = NULL;
		return err_errno(err, ENOMEM, "write \"%s\"", path);
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "create a temporary file in \"%s\"", dir);
	if (fchmod(fd, 0600) < 0 || fs_write_all(fd, text, strlen(text)) < 0 ||
	    fs_write_all(fd, "\n", 1) < 0 || fsync(fd) < 0 || rename(tmp, target) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return err_errno(err, -r, "write \"%s\"", target);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int credentials_get(const char *host, struct registry_creds *out, struct err **err)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *path = NULL, *helper = NULL;
	const char *key = credentials_key(host);
	int r;

	memset(out, 0, sizeof(*out));
	if (credentials_config_path(&path, err) < 0 || load_doc(path, &doc, err) < 0)
		return err_ret(*err);
	if (!doc)
		return 0;
	if (decode_doc(doc, path, key, out, &helper, err) < 0)
		return err_ret(*err);
	if (!helper)
		return 0;
	r = helper_get(helper, key, out, err);
	if (r == -ENOKEY) {
		err_free(err);
		return 0;
	}
	return r;
}

int credentials_helper_for(const char *host, char **helper, struct err **err)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *path = NULL;

	*helper = NULL;
	if (credentials_config_path(&path, err) < 0 || load_doc(path, &doc, err) < 0)
		return err_ret(*err);
	if (!doc)
		return 0;
	return doc_helper(doc, credentials_key(host), path, helper, err);
}

static int helper_store(const char *helper, const char *key, const struct registry_creds *c,
			struct err **err)
{
	_cleanup_json_ json_t *j = NULL;
	_cleanup_wipe_ char *text = NULL, *reply = NULL, *in = NULL;
	bool token = c->identity_token && *c->identity_token;

	j = json_pack("{s:s, s:s, s:s}", "ServerURL", key, "Username",
		      token ? TOKEN_USERNAME : (c->username ? c->username : ""), "Secret",
		      token ? c->identity_token : (c->password ? c->password : ""));
	if (!j)
		return err_errno(err, ENOMEM, "credential helper");
	text = json_dumps(j, JSON_COMPACT);
	if (!text || asprintf(&in, "%s\n", text) < 0)
		return err_errno(err, ENOMEM, "credential helper");
	return credentials_helper_call(helper, "store", in, 0, &reply, err);
}

int credentials_store(const char *host, const struct registry_creds *c, struct err **err)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *path = NULL, *helper = NULL;
	_cleanup_wipe_ char *plain = NULL, *b64 = NULL;
	const char *key = credentials_key(host);
	json_t *auths, *entry;

	if (c->username && strchr(c->username, ':'))
		return err_set(err, EINVAL, "a username must not contain \":\"");
	if (credentials_config_path(&path, err) < 0 || load_doc(path, &doc, err) < 0)
		return err_ret(*err);
	if (!doc && !(doc = json_object()))
		return err_errno(err, ENOMEM, "update \"%s\"", path);
	if (doc_helper(doc, key, path, &helper, err) < 0)
		return err_ret(*err);
	auths = json_object_get(doc, "auths");
	if (!auths || json_is_null(auths)) {
		auths = json_object();
		if (!auths || json_object_set_new(doc, "auths", auths) < 0)
			return err_errno(err, ENOMEM, "update \"%s\"", path);
	} else if (!json_is_object(auths)) {
		return err_set(err, EINVAL, "%s: \"auths\" must be an object", path);
	}
	entry = json_object();
	if (!entry)
		return err_errno(err, ENOMEM, "update \"%s\"", path);
	if (json_object_set_new(auths, key, entry) < 0)
		return err_errno(err, ENOMEM, "update \"%s\"", path);
	if (helper) {
		/* The secret goes to the helper; config.json keeps an empty
		 * entry (as docker/cli does), which replaces any plain-text
		 * one and is how logout knows there was a login. */
		if (helper_store(helper, key, c, err) < 0)
			return err_ret(*err);
	} else {
		if ((c->username && *c->username) || (c->password && *c->password)) {
			if (asprintf(&plain, "%s:%s", c->username ? c->username : "",
				     c->password ? c->password : "") < 0) {
				plain = NULL;
				return err_errno(err, ENOMEM, "update \"%s\"", path);
			}
			b64 = base64_encode(plain, strlen(plain));
			if (!b64 || json_object_set_new(entry, "auth", json_string(b64)) < 0)
				return err_errno(err, ENOMEM, "update \"%s\"", path);
		}
		if (c->identity_token && *c->identity_token &&
		    json_object_set_new(entry, "identitytoken", json_string(c->identity_token)) < 0)
			return err_errno(err, ENOMEM, "update \"%s\"", path);
	}
	return write_doc(path, doc, err);
}

int credentials_erase(const char *host, struct err **err)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_free_ char *path = NULL, *helper = NULL, *reply = NULL;
	const char *key = credentials_key(host);
	bool logged_in = false, changed = false;
	json_t *auths;

	if (credentials_config_path(&path, err) < 0 || load_doc(path, &doc, err) < 0)
		return err_ret(*err);
	if (!doc)
		return err_set(err, ENOKEY, "not logged in to %s", key);
	if (doc_helper(doc, key, path, &helper, err) < 0)
		return err_ret(*err);
	if (helper) {
		int r = credentials_helper_call(helper, "erase", key, 0, &reply, err);

		if (r == -ENOKEY)
			err_free(err);
		else if (r < 0)
			return r;
		else
			logged_in = true;
	}
	auths = json_object_get(doc, "auths");
	if (auths && json_is_object(auths)) {
		const char *k;
		void *tmp;
		json_t *v;

		/* Every spelling of KEY: credentials_get would find any of them. */
		json_object_foreach_safe(auths, tmp, k, v)
		{
			if (!strcmp(k, key) || key_alias(k, key)) {
				json_object_del(auths, k);
				changed = true;
			}
		}
	}
	if (changed && write_doc(path, doc, err) < 0)
		return err_ret(*err);
	if (!changed && !logged_in)
		return err_set(err, ENOKEY, "not logged in to %s", key);
	return 0;
}
