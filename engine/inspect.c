/*
 * engine/inspect.c - Docker-shaped JSON of containers and images for
 * `moat inspect` and `moat ps --format` (see engine/inspect.h).
 *
 * Runs in: the moat CLI process, as the invoking user or root.
 *
 * Everything above engine_inspect_dir_size is pure: records in, json_t
 * out. Key order follows Docker's structs (encoding/json prints fields in
 * declaration order), so `inspect` output lines up with Docker's and
 * `{{json .}}` of a ps row matches (Docker sorts that map's keys).
 *
 * Invariants:
 *  - strings from a container (argv, env, labels, names) are valid UTF-8
 *    before they reach jansson: invalid bytes become U+FFFD, as Go's
 *    encoding/json does, so one bad byte never drops a field or an object;
 *  - the size walk opens every step with O_NOFOLLOW beneath the fd of its
 *    parent: a running container that swaps a directory for a symlink
 *    sends it nowhere.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "engine/inspect.h"
#include "engine/netrun.h"
#include "net/portspec.h"
#include "engine/options.h"
#include "sandbox/caps.h"

/* ---- text helpers ---- */

void engine_inspect_time(int64_t ns, char buf[INSPECT_TIME_MAX])
{
	struct tm tm;
	time_t secs;
	int64_t frac;
	size_t n;

	if (ns <= 0) {
		snprintf(buf, INSPECT_TIME_MAX, "%s", INSPECT_ZERO_TIME);
		return;
	}
	secs = (time_t)(ns / 1000000000);
	frac = ns % 1000000000;
	if (!gmtime_r(&secs, &tm)) {
		snprintf(buf, INSPECT_TIME_MAX, "%s", INSPECT_ZERO_TIME);
		return;
	}
	n = strftime(buf, INSPECT_TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac) {
		char f[16];
		size_t l = (size_t)snprintf(f, sizeof(f), "%09" PRId64, frac);

		while (l > 0 && f[l - 1] == '0')
			f[--l] = 0;
		n += (size_t)snprintf(buf + n, INSPECT_TIME_MAX - n, ".%s", f);
	}
	snprintf(buf + n, INSPECT_TIME_MAX - n, "Z");
}

void engine_inspect_time_local(int64_t secs, char *buf, size_t len)
{
	time_t t = (time_t)secs;
	struct tm tm;

	if (!len)
		return;
	buf[0] = 0;
	if (localtime_r(&t, &tm))
		strftime(buf, len, "%Y-%m-%d %H:%M:%S %z %Z", &tm);
}

void engine_inspect_human_size(uint64_t size, int precision, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	double v = (double)size;
	size_t u = 0;

	while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000.0;
		u++;
	}
	snprintf(buf, len, "%.*g%s", precision, v, units[u]);
}

/* One UTF-8 sequence at S (N bytes left): its length and code point, or 0
 * when it is not valid (overlong, surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points Go's unicode.IsPrint refuses that matter on a terminal: C1
 * controls, format characters (the bidi overrides among them), line and
 * paragraph separators, private use and noncharacters. */
static bool unprintable(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || c == 0xad || c == 0x61c || c == 0x180e ||
	       (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x206f) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
	       (c >= 0xe000 && c <= 0xf8ff) || (c & 0xfffe) == 0xfffe ||
	       (c >= 0xe0000 && c <= 0xe007f) || c >= 0xf0000;
}

/* Appends to a growing buffer; false when out of memory. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static char *sb_take(struct sbuf *b)
{
	if (b->oom || !b->p) {
		free(b->p);
		b->p = NULL;
		return b->oom ? NULL : strdup("");
	}
	return steal_ptr(b->p);
}

/* Go's strconv.Quote of the N bytes at S, appended to B. */
static void quote(struct sbuf *b, const unsigned char *s, size_t n)
{
	char esc[16];

	sb_add(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_next(s + i, n - i, &c);

		if (l == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", s[i]);
			sb_str(b, esc);
			i++;
			continue;
		}
		switch (c) {
		case '"':
			sb_str(b, "\\\"");
			break;
		case '\\':
			sb_str(b, "\\\\");
			break;
		case '\a':
			sb_str(b, "\\a");
			break;
		case '\b':
			sb_str(b, "\\b");
			break;
		case '\f':
			sb_str(b, "\\f");
			break;
		case '\n':
			sb_str(b, "\\n");
			break;
		case '\r':
			sb_str(b, "\\r");
			break;
		case '\t':
			sb_str(b, "\\t");
			break;
		case '\v':
			sb_str(b, "\\v");
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\x%02x", (unsigned)c);
				sb_str(b, esc);
			} else if (unprintable(c)) {
				snprintf(esc, sizeof(esc), c < 0x10000 ? "\\u%04x" : "\\U%08x",
					 (unsigned)c);
				sb_str(b, esc);
			} else {
				sb_add(b, (const char *)s + i, l);
			}
			break;
		}
		i += l;
	}
	sb_add(b, "\"", 1);
}

char *engine_inspect_command(char *const *argv, bool trunc)
{
	struct sbuf raw = {0}, out = {0};
	_cleanup_free_ char *cmd = NULL;
	size_t n, cut = 0, runes = 0;

	/* The daemon's Command: path, then the args, quoted when they hold a
	 * space. */
	for (size_t i = 0; argv && argv[i]; i++) {
		bool q = i > 0 && strchr(argv[i], ' ');

		if (i)
			sb_add(&raw, " ", 1);
		if (q)
			sb_add(&raw, "'", 1);
		sb_str(&raw, argv[i]);
		if (q)
			sb_add(&raw, "'", 1);
	}
	cmd = sb_take(&raw);
	if (!cmd)
		return NULL;
	n = strlen(cmd);
	/* The CLI's Ellipsis(command, 20): 19 code points and "…". */
	for (size_t i = 0; i < n; runes++) {
		uint32_t c;
		size_t l = utf8_next((const unsigned char *)cmd + i, n - i, &c);

		i += l ? l : 1;
		if (runes + 1 == 19)
			cut = i;
	}
	if (trunc && runes > 20) {
		quote(&out, (const unsigned char *)cmd, cut);
		if (!out.oom) {
			/* put "…" before the closing quote */
			out.len--;
			sb_str(&out, "\xe2\x80\xa6\"");
		}
	} else {
		quote(&out, (const unsigned char *)cmd, n);
	}
	return sb_take(&out);
}

int engine_inspect_exit_code(const struct container_record *r, enum ctr_state state)
{
	if (state == CTR_EXITED && r->state != CTR_EXITED)
		return -1;
	return r->exit_code;
}

/* ---- JSON helpers ---- */

/* A JSON string of S ("" for NULL) with invalid UTF-8 replaced by U+FFFD. */
static json_t *jstr(const char *s)
{
	struct sbuf b = {0};
	_cleanup_free_ char *fixed = NULL;
	size_t n;

	if (!s)
		return json_string("");
	n = strlen(s);
	for (size_t i = 0; i < n;) {
		uint32_t c;
		size_t l = utf8_next((const unsigned char *)s + i, n - i, &c);

		if (l && c != 0)
			sb_add(&b, s + i, l);
		else
			sb_str(&b, "\xef\xbf\xbd");
		i += l ? l : 1;
	}
	fixed = sb_take(&b);
	return fixed ? json_string(fixed) : NULL;
}

/* An array of the strings of V; NULL_IF_EMPTY: null for none (Go's nil
 * slice), else []. */
static json_t *jstrv(char *const *v, bool null_if_empty)
{
	json_t *a;

	if ((!v || !v[0]) && null_if_empty)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && v && v[i]; i++) {
		if (json_array_append_new(a, jstr(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Sets K to V (which it owns); -1 when V is NULL or on ENOMEM. */
static int put(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v);
}

/* Labels "k=v" as an object (a later key wins, as in Docker's map). */
static json_t *labels_obj(char *const *labels)
{
	json_t *o = json_object();

	for (size_t i = 0; o && labels && labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		_cleanup_free_ char *k =
		    eq ? strndup(labels[i], (size_t)(eq - labels[i])) : strdup(labels[i]);
		json_t *kv;

		if (!k)
			goto fail;
		/* keys must be valid UTF-8 for jansson; fix them like values */
		kv = jstr(k);
		if (!kv || put(o, json_string_value(kv), jstr(eq ? eq + 1 : "")) < 0) {
			json_decref(kv);
			goto fail;
		}
		json_decref(kv);
	}
	return o;
fail:
	json_decref(o);
	return NULL;
}

static bool live(enum ctr_state s)
{
	return s == CTR_RUNNING || s == CTR_PAUSED || s == CTR_RESTARTING;
}

/* ---- containers ---- */

static json_t *state_obj(const struct container_record *r, enum ctr_state st)
{
	char started[INSPECT_TIME_MAX], finished[INSPECT_TIME_MAX];
	int code = engine_inspect_exit_code(r, st);
	json_t *o = json_object();
	bool died = code < 0 && st == CTR_EXITED && r->state != CTR_EXITED;

	engine_inspect_time(r->started, started);
	engine_inspect_time(st == CTR_EXITED || st == CTR_DEAD ? r->finished : 0, finished);
	if (!o || put(o, "Status", json_string(ctr_state_name(st))) ||
	    put(o, "Running", json_boolean(live(st))) ||
	    put(o, "Paused", json_boolean(st == CTR_PAUSED)) ||
	    put(o, "Restarting", json_boolean(st == CTR_RESTARTING)) ||
	    put(o, "OOMKilled", json_boolean(r->oom_killed)) ||
	    put(o, "Dead", json_boolean(st == CTR_DEAD)) ||
	    put(o, "Pid",
		json_integer(st == CTR_RUNNING || st == CTR_PAUSED ? (json_int_t)r->pid : 0)) ||
	    put(o, "ExitCode", json_integer(code)) ||
	    put(o, "Error",
		json_string(died ? "its monitor ended before the container did: exit "
				   "code unknown"
				 : "")) ||
	    put(o, "StartedAt", json_string(started)) ||
	    put(o, "FinishedAt", json_string(finished))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* --log-opt max-size back in Docker's spelling ("10m"), exact. */
static void size_opt(uint64_t v, char *buf, size_t len)
{
	static const char sfx[] = "kmgtp";
	size_t i = 0;

	while (v && v % 1024 == 0 && i < sizeof(sfx) - 1) {
		v /= 1024;
		i++;
	}
	if (i)
		snprintf(buf, len, "%" PRIu64 "%c", v, sfx[i - 1]);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

/* CapAdd or CapDrop: the capabilities in MASK, "CAP_X" names; null when
 * none (Docker's nil slice). */
static json_t *caps_arr(uint64_t mask)
{
	json_t *a;

	if (!mask)
		return json_null();
	a = json_array();
	for (int c = 0; a && c < 64; c++) {
		char name[64];

		if (!(mask & (1ULL << c)))
			continue;
		snprintf(name, sizeof(name), "CAP_%s", sandbox_cap_name(c));
		if (json_array_append_new(a, json_string(name)) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *log_config(const struct container_record *r)
{
	json_t *o = json_object(), *c = json_object();
	char buf[64];

	if (!o || !c)
		goto fail;
	if (r->log_max_size) {
		size_opt(r->log_max_size, buf, sizeof(buf));
		if (put(c, "max-size", json_string(buf)))
			goto fail;
	}
	if (r->log_max_size || r->log_max_file > 1) {
		snprintf(buf, sizeof(buf), "%u", (unsigned)(r->log_max_file ? r->log_max_file : 1));
		if (put(c, "max-file", json_string(buf)))
			goto fail;
	}
	if (put(o, "Type", json_string("json-file")) || put(o, "Config", steal_ptr(c)))
		goto fail;
	return o;
fail:
	json_decref(o);
	json_decref(c);
	return NULL;
}

static json_t *restart_policy(const struct container_record *r)
{
	struct restart_spec spec = {RESTART_NO, 0};
	struct err *e = NULL;
	json_t *o = json_object();
	json_t *name;

	/* The record's policy was checked at create; one that no longer parses
	 * shows as its raw text with no retry count. */
	if (options_restart_parse(r->restart ? r->restart : "no", &spec, &e) < 0) {
		err_free(&e);
		spec.max_retries = 0;
		name = jstr(r->restart);
	} else {
		name = json_string(options_restart_name(spec.policy));
	}
	if (!o || put(o, "Name", name) ||
	    put(o, "MaximumRetryCount", json_integer(spec.max_retries))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Docker's SecurityOpt, for what moat applies beyond its defaults. */
static json_t *security_opt(const struct container_record *r)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	if (r->seccomp && strcmp(r->seccomp, "default") != 0) {
		struct sbuf b = {0};
		_cleanup_free_ char *t = NULL;

		sb_str(&b, "seccomp=");
		sb_str(&b, r->seccomp);
		t = sb_take(&b);
		if (!t || json_array_append_new(a, jstr(t)) < 0)
			goto fail;
	}
	if (!r->landlock && json_array_append_new(a, json_string("landlock=off")) < 0)
		goto fail;
	/* Every moat container runs with no_new_privs. */
	if (json_array_append_new(a, json_string("no-new-privileges")) < 0)
		goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

/* Docker's Ulimits: null when none, else [{Name, Soft, Hard}], -1 for
 * unlimited. */
static json_t *ulimits_arr(const struct engine_limits *l)
{
	json_t *a;

	if (!l->n_ulimits)
		return json_null();
	if (!(a = json_array()))
		return NULL;
	for (size_t i = 0; i < l->n_ulimits && i < ENGINE_MAX_ULIMITS; i++) {
		const struct engine_ulimit *u = &l->ulimits[i];
		json_t *e = json_object();

		if (!e || put(e, "Name", jstr(engine_limits_ulimit_name(u->resource))) ||
		    put(e, "Soft", json_integer(u->soft > INT64_MAX ? -1 : (json_int_t)u->soft)) ||
		    put(e, "Hard", json_integer(u->hard > INT64_MAX ? -1 : (json_int_t)u->hard)) ||
		    json_array_append_new(a, e) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* Docker's resource fields of HostConfig (put into O). */
static int host_limits(json_t *o, const struct engine_limits *l)
{
	return put(o, "Memory", json_integer(l->memory)) ||
	       put(o, "MemorySwap", json_integer(l->memory_swap)) ||
	       put(o, "MemoryReservation", json_integer(l->memory_reservation)) ||
	       put(o, "NanoCpus", json_integer(l->nano_cpus)) ||
	       put(o, "CpuShares", json_integer(l->cpu_shares)) ||
	       put(o, "CpusetCpus", json_string(l->cpuset_cpus)) ||
	       /* Docker shows an unlimited one as null. */
	       put(o, "PidsLimit", l->pids_limit > 0 ? json_integer(l->pids_limit) : json_null()) ||
	       put(o, "Ulimits", ulimits_arr(l)) ||
	       put(o, "OomScoreAdj", json_integer(l->has_oom_score_adj ? l->oom_score_adj : 0)) ||
	       put(o, "ShmSize", json_integer(l->shm_size));
}

/* moat's own, after Docker's fields: what the last start could enforce of
 * the limits above (a rootless container on cgroup v1 has no cgroup). */
static int limits_enforced(json_t *o, const struct container_record *r)
{
	return put(o, "LimitsEnforced",
		   r->limits_enforced ? jstr(r->limits_enforced) : json_null());
}

/* Docker's "Mounts" (volumes with the local driver's mountpoint). */
static json_t *mounts_arr(const struct container_record *r, const char *root)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->n_mounts; i++) {
		const struct mount_req *m = &r->mounts[i];
		json_t *o = json_object();
		struct sbuf src = {0};
		_cleanup_free_ char *source = NULL;
		bool local = m->type == MOUNT_VOLUME && (!m->driver || !strcmp(m->driver, "local"));

		if (m->type == MOUNT_BIND) {
			sb_str(&src, m->source);
		} else if (local) {
			sb_str(&src, root ? root : "");
			sb_str(&src, "/volumes/");
			sb_str(&src, m->source);
			sb_str(&src, "/_data");
		} else {
			sb_str(&src, "");
		}
		source = sb_take(&src);
		if (!o || !source || put(o, "Type", jstr(mount_type_name(m->type))) ||
		    (m->type == MOUNT_VOLUME && put(o, "Name", jstr(m->source))) ||
		    put(o, "Source", jstr(source)) || put(o, "Destination", jstr(m->target)) ||
		    (m->type == MOUNT_VOLUME &&
		     put(o, "Driver", jstr(m->driver ? m->driver : "local"))) ||
		    put(o, "Mode", jstr(m->readonly ? "ro" : "")) ||
		    put(o, "RW", json_boolean(!m->readonly)) ||
		    put(o, "Propagation",
			jstr(m->type == MOUNT_BIND ? mount_propagation_name(m->propagation)
						   : "")) ||
		    json_array_append_new(a, steal_ptr(o)) < 0) {
			json_decref(o);
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* HostConfig.Tmpfs: {"/run": "size=65536k,mode=1777"} or null. */
static json_t *tmpfs_obj(const struct container_record *r)
{
	json_t *o = NULL;

	for (size_t i = 0; i < r->n_mounts; i++) {
		const struct mount_req *m = &r->mounts[i];
		char opts[128];

		if (m->type != MOUNT_TMPFS)
			continue;
		if (!o && !(o = json_object()))
			return NULL;
		snprintf(opts, sizeof(opts), "%smode=%o,%s,%s", m->readonly ? "ro," : "",
			 m->tmpfs_mode ? m->tmpfs_mode : 01777, m->tmpfs_exec ? "exec" : "noexec",
			 m->tmpfs_suid ? "suid" : "nosuid");
		if (m->tmpfs_size) {
			size_t l = strlen(opts);
			snprintf(opts + l, sizeof(opts) - l, ",size=%llu",
				 (unsigned long long)m->tmpfs_size);
		}
		if (put(o, m->target, json_string(opts))) {
			json_decref(o);
			return NULL;
		}
	}
	return o ? o : json_null();
}

/* Docker's HostConfig.PortBindings, from the -p specs as asked (the ports
 * a start chose are NetworkSettings.Ports): {"80/tcp": [{"HostIp": "",
 * "HostPort": "8080"}]}, "" for any port, "8000-8010" for a range. */
static json_t *port_bindings(const struct container_record *r)
{
	json_t *o = json_object();

	for (size_t i = 0; o && r->netreq.publish && r->netreq.publish[i]; i++) {
		struct net_port_binding *b = NULL;
		size_t n = 0;

		if (net_portspec_parse(r->netreq.publish[i], &b, &n, NULL) < 0)
			continue; /* checked at create: a record edited since */
		for (size_t k = 0; k < n; k++) {
			char key[32], hp[16] = "";
			json_t *a, *e = json_object();

			snprintf(key, sizeof(key), "%u/%s", (unsigned)b[k].ctr_port,
				 net_proto_name(b[k].proto));
			if (b[k].host_port_lo && b[k].host_port_lo == b[k].host_port_hi)
				snprintf(hp, sizeof(hp), "%u", (unsigned)b[k].host_port_lo);
			else if (b[k].host_port_lo)
				snprintf(hp, sizeof(hp), "%u-%u", (unsigned)b[k].host_port_lo,
					 (unsigned)b[k].host_port_hi);
			if (!e || put(e, "HostIp", jstr(b[k].host_ip)) ||
			    put(e, "HostPort", jstr(hp)) ||
			    (!(a = json_object_get(o, key)) &&
			     (!(a = json_array()) || put(o, key, a)))) {
				json_decref(e);
				json_decref(o);
				free(b);
				return NULL;
			}
			json_array_append_new(a, e);
		}
		free(b);
	}
	return o;
}

static json_t *host_config(const struct container_record *r)
{
	uint64_t def = sandbox_caps_default();
	json_t *o = json_object();

	if (!o || put(o, "Binds", json_null()) || put(o, "ContainerIDFile", json_string("")) ||
	    put(o, "LogConfig", log_config(r)) || put(o, "NetworkMode", jstr(r->net)) ||
	    put(o, "PortBindings", port_bindings(r)) ||
	    put(o, "RestartPolicy", restart_policy(r)) ||
	    put(o, "AutoRemove", json_boolean(r->rm)) || put(o, "VolumeDriver", json_string("")) ||
	    put(o, "VolumesFrom", json_null()) || put(o, "CapAdd", caps_arr(r->caps & ~def)) ||
	    put(o, "CapDrop", caps_arr(def & ~r->caps)) || put(o, "Privileged", json_false()) ||
	    put(o, "PublishAllPorts", json_boolean(r->netreq.publish_all)) ||
	    put(o, "Dns", jstrv(r->netreq.dns, false)) ||
	    put(o, "DnsSearch", jstrv(r->netreq.dns_search, false)) ||
	    put(o, "DnsOptions", jstrv(r->netreq.dns_options, false)) ||
	    put(o, "ExtraHosts", jstrv(r->netreq.add_hosts, true)) ||
	    put(o, "ReadonlyRootfs", json_boolean(r->read_only)) ||
	    put(o, "SecurityOpt", security_opt(r)) || put(o, "UsernsMode", jstr(r->userns)) ||
	    put(o, "Init", r->init ? json_true() : json_null()) || host_limits(o, &r->limits) ||
	    put(o, "Tmpfs", tmpfs_obj(r)) || limits_enforced(o, r)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *config_obj(const struct container_record *r)
{
	json_t *o = json_object();
	const char *sig = r->stop_signal ? options_signal_name(r->stop_signal) : NULL;

	if (!o || put(o, "Hostname", jstr(r->hostname)) || put(o, "Domainname", json_string("")) ||
	    put(o, "User", jstr(r->user)) || put(o, "Tty", json_boolean(r->tty)) ||
	    put(o, "OpenStdin", json_boolean(r->stdin_open)) || put(o, "StdinOnce", json_false()) ||
	    put(o, "Env", jstrv(r->env, false)) || put(o, "Cmd", jstrv(r->argv, true)) ||
	    put(o, "Image", jstr(r->image)) || put(o, "Volumes", json_null()) ||
	    put(o, "WorkingDir", jstr(r->cwd)) || put(o, "Entrypoint", json_null()) ||
	    put(o, "OnBuild", json_null()) || put(o, "Labels", labels_obj(r->labels)) ||
	    (sig && put(o, "StopSignal", json_string(sig))) ||
	    (r->stop_timeout >= 0 && put(o, "StopTimeout", json_integer(r->stop_timeout)))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *graph_driver(const struct container_record *r, const char *root)
{
	json_t *o = json_object(), *d = json_object();
	struct sbuf up = {0}, wk = {0};
	_cleanup_free_ char *upper = NULL, *work = NULL;

	sb_str(&up, root);
	sb_str(&up, "/containers/");
	sb_str(&up, r->id);
	sb_str(&up, "/upper");
	sb_str(&wk, root);
	sb_str(&wk, "/containers/");
	sb_str(&wk, r->id);
	sb_str(&wk, "/work");
	upper = sb_take(&up);
	work = sb_take(&wk);
	if (!o || !d || !upper || !work || put(d, "UpperDir", jstr(upper)) ||
	    put(d, "WorkDir", jstr(work)) || put(o, "Data", steal_ptr(d))) {
		json_decref(o);
		json_decref(d);
		return NULL;
	}
	if (put(o, "Name", json_string("overlay"))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Docker's Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}. */
static json_t *ports_json(const struct engine_net_state *n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && n && i < n->n_ports; i++) {
		const struct engine_port *p = &n->ports[i];
		char key[32], hip[NET_ADDR_TEXT_MAX] = "0.0.0.0", hp[8];
		json_t *a, *b = json_object();

		snprintf(key, sizeof(key), "%u/%s", (unsigned)p->ctr_port,
			 net_proto_name(p->proto));
		if (p->host_ip.family)
			net_addr_format(&p->host_ip, hip);
		snprintf(hp, sizeof(hp), "%u", (unsigned)p->host_port);
		if (!b || put(b, "HostIp", jstr(hip)) || put(b, "HostPort", jstr(hp))) {
			json_decref(b);
			json_decref(o);
			return NULL;
		}
		if (!(a = json_object_get(o, key))) {
			if (!(a = json_array()) || put(o, key, a)) {
				json_decref(b);
				json_decref(o);
				return NULL;
			}
		}
		json_array_append_new(a, b);
	}
	return o;
}

/* ps's PORTS: "0.0.0.0:8080->80/tcp, 127.0.0.1:9090->90/udp". */
static json_t *ports_text(const struct engine_net_state *n)
{
	struct sbuf b = {0};
	_cleanup_free_ char *t = NULL;

	sb_str(&b, "");
	for (size_t i = 0; n && i < n->n_ports; i++) {
		const struct engine_port *p = &n->ports[i];
		char one[96], hip[NET_ADDR_TEXT_MAX] = "0.0.0.0";

		if (p->host_ip.family)
			net_addr_format(&p->host_ip, hip);
		snprintf(one, sizeof(one), "%s%s:%u->%u/%s", i ? ", " : "", hip,
			 (unsigned)p->host_port, (unsigned)p->ctr_port, net_proto_name(p->proto));
		sb_str(&b, one);
	}
	t = sb_take(&b);
	return t ? json_string(t) : NULL;
}

static json_t *network_settings(const struct container_record *r, const struct engine_net_state *n)
{
	json_t *o = json_object(), *nets = json_object(), *ep = json_object();
	const char *ip = n ? n->ip : "", *gw = n ? n->gateway : "", *mac = n ? n->mac : "";
	unsigned prefix = n ? n->prefix : 0;

	if (!o || !nets || !ep ||
	    put(ep, "NetworkID", jstr(r->netreq.network_id ? r->netreq.network_id : "")) ||
	    put(ep, "Aliases", jstrv(r->netreq.aliases, true)) || put(ep, "IPAddress", jstr(ip)) ||
	    put(ep, "IPPrefixLen", json_integer(prefix)) || put(ep, "Gateway", jstr(gw)) ||
	    put(ep, "MacAddress", jstr(mac)) ||
	    put(nets, r->net && r->net[0] ? r->net : "none", steal_ptr(ep)) ||
	    put(o, "Bridge", json_string("")) || put(o, "SandboxID", json_string("")) ||
	    put(o, "Ports", ports_json(n)) || put(o, "SandboxKey", json_string("")) ||
	    put(o, "Gateway", jstr(gw)) || put(o, "IPAddress", jstr(ip)) ||
	    put(o, "IPPrefixLen", json_integer(prefix)) || put(o, "MacAddress", jstr(mac)) ||
	    put(o, "Networks", steal_ptr(nets))) {
		json_decref(o);
		json_decref(nets);
		json_decref(ep);
		return NULL;
	}
	return o;
}

/* ROOT or RUNROOT + "/containers/<id>/" + LEAF, as a JSON string. */
static json_t *state_path(const char *dir, const char *id, const char *leaf)
{
	struct sbuf b = {0};
	_cleanup_free_ char *p = NULL;

	sb_str(&b, dir ? dir : "");
	sb_str(&b, "/containers/");
	sb_str(&b, id);
	sb_str(&b, "/");
	sb_str(&b, leaf);
	p = sb_take(&b);
	return p ? jstr(p) : NULL;
}

int engine_inspect_container(const struct container_record *r, enum ctr_state state,
			     const struct inspect_env *env, json_t **out, struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	char created[INSPECT_TIME_MAX];
	bool up = live(state);
	struct sbuf nb = {0};
	_cleanup_free_ char *name = NULL;

	*out = NULL;
	engine_inspect_time(r->created, created);
	sb_str(&nb, "/");
	sb_str(&nb, names_normalize(r->name) ? names_normalize(r->name) : "");
	name = sb_take(&nb);
	if (!o || !name || put(o, "Id", json_string(r->id)) ||
	    put(o, "Created", json_string(created)) ||
	    put(o, "Path", jstr(r->argv ? r->argv[0] : "")) ||
	    put(o, "Args", jstrv(r->argv && r->argv[0] ? r->argv + 1 : NULL, false)) ||
	    put(o, "State", state_obj(r, state)) || put(o, "Image", jstr(r->image_id)) ||
	    put(o, "ResolvConfPath",
		up ? state_path(env->runroot, r->id, "resolv.conf") : json_string("")) ||
	    put(o, "HostnamePath",
		up ? state_path(env->runroot, r->id, "hostname") : json_string("")) ||
	    put(o, "HostsPath", up ? state_path(env->runroot, r->id, "hosts") : json_string("")) ||
	    put(o, "LogPath", state_path(env->root, r->id, "json.log")) ||
	    put(o, "Name", jstr(name)) || put(o, "RestartCount", json_integer(r->restart_count)) ||
	    put(o, "Driver", json_string("overlay")) || put(o, "Platform", json_string("linux")) ||
	    put(o, "MountLabel", json_string("")) || put(o, "ProcessLabel", json_string("")) ||
	    put(o, "AppArmorProfile", jstr(r->apparmor)) || put(o, "ExecIDs", json_null()) ||
	    put(o, "HostConfig", host_config(r)) ||
	    put(o, "GraphDriver", graph_driver(r, env->root ? env->root : "")) ||
	    (env->size_rw >= 0 && put(o, "SizeRw", json_integer(env->size_rw))) ||
	    (env->size_rootfs >= 0 && put(o, "SizeRootFs", json_integer(env->size_rootfs))) ||
	    put(o, "Mounts", mounts_arr(r, env->root)) || put(o, "Config", config_obj(r)) ||
	    put(o, "NetworkSettings", network_settings(r, env->net)))
		return err_errno(err, ENOMEM, "inspect container %.12s", r->id);
	*out = steal_ptr(o);
	return 0;
}

/* ---- images ---- */

static json_t *kv_obj(const struct image_kv *kv, size_t n, bool null_if_empty)
{
	json_t *o;

	if (!n && null_if_empty)
		return json_null();
	o = json_object();
	for (size_t i = 0; o && i < n; i++) {
		json_t *k = jstr(kv[i].key);

		if (!k || put(o, json_string_value(k), jstr(kv[i].value))) {
			json_decref(k);
			json_decref(o);
			return NULL;
		}
		json_decref(k);
	}
	return o;
}

/* Docker's map[string]struct{} (ExposedPorts, Volumes): {"k": {}}. */
static json_t *set_obj(char *const *keys)
{
	json_t *o;

	if (!keys || !keys[0])
		return NULL;
	o = json_object();
	for (size_t i = 0; o && keys[i]; i++) {
		json_t *k = jstr(keys[i]);

		if (!k || put(o, json_string_value(k), json_object())) {
			json_decref(k);
			json_decref(o);
			return NULL;
		}
		json_decref(k);
	}
	return o;
}

static json_t *image_config_obj(const struct image_config *c)
{
	json_t *o = json_object();
	json_t *ports = set_obj(c->exposed_ports), *vols = set_obj(c->volumes);
	bool bad = (c->exposed_ports && c->exposed_ports[0] && !ports) ||
		   (c->volumes && c->volumes[0] && !vols);

	if (!o || bad || put(o, "User", jstr(c->user)) ||
	    (ports && put(o, "ExposedPorts", steal_ptr(ports))) ||
	    put(o, "Env", jstrv(c->env, true)) || put(o, "Cmd", jstrv(c->cmd, true)) ||
	    (vols && put(o, "Volumes", steal_ptr(vols))) ||
	    put(o, "WorkingDir", jstr(c->workdir)) ||
	    put(o, "Entrypoint", jstrv(c->entrypoint, true)) ||
	    put(o, "Labels", kv_obj(c->labels, c->n_labels, true)) ||
	    (c->stop_signal && c->stop_signal[0] && put(o, "StopSignal", jstr(c->stop_signal)))) {
		json_decref(o);
		json_decref(ports);
		json_decref(vols);
		return NULL;
	}
	return o;
}

static json_t *rootfs_obj(const struct image_config *c)
{
	json_t *o = json_object();

	if (!o || put(o, "Type", json_string("layers")) ||
	    put(o, "Layers", jstrv(c->diff_ids, false))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* moat's own field: why the store holds the image (what a pull verified,
 * or how a load or build admitted it). No payloads or signatures: those
 * stay in the store. */
static json_t *trust_arr(const struct image *img)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < img->n_trust; i++) {
		const struct image_trust *t = &img->trust[i];
		json_t *o = json_object();
		char when[INSPECT_TIME_MAX];

		if (!o || json_array_append_new(a, o) < 0 || put(o, "Source", jstr(t->source)) ||
		    put(o, "Rule", jstr(t->rule)) || put(o, "Key", jstr(t->key)) ||
		    put(o, "Identity", jstr(t->identity)) || put(o, "Digest", jstr(t->digest))) {
			json_decref(a);
			return NULL;
		}
		if (t->signed_at > 0) {
			engine_inspect_time(t->signed_at * 1000000000, when);
			if (put(o, "Signed", json_string(when))) {
				json_decref(a);
				return NULL;
			}
		}
		engine_inspect_time(t->verified_at * 1000000000, when);
		if (put(o, "Verified", json_string(when))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int engine_inspect_image(const struct image *img, json_t **out, struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	const struct image_config *c = img->config;
	char created[INSPECT_TIME_MAX];

	*out = NULL;
	if (!c)
		return err_set(err, EINVAL, "image %s: no config", img->id);
	engine_inspect_time(img->created * 1000000000, created);
	if (!o || put(o, "Id", jstr(img->id)) || put(o, "RepoTags", jstrv(img->names, false)) ||
	    put(o, "RepoDigests", jstrv(img->repo_digests, false)) ||
	    put(o, "Parent", json_string("")) || put(o, "Comment", jstr(c->comment)) ||
	    put(o, "Created", json_string(created)) || put(o, "Author", jstr(c->author)) ||
	    put(o, "Config", image_config_obj(c)) ||
	    put(o, "Architecture", jstr(c->architecture)) || put(o, "Os", jstr(c->os)) ||
	    put(o, "Size", json_integer((json_int_t)img->size)) ||
	    put(o, "RootFS", rootfs_obj(c)) || put(o, "MoatTrust", trust_arr(img)))
		return err_errno(err, ENOMEM, "inspect image %s", img->id);
	*out = steal_ptr(o);
	return 0;
}

/* ---- ps rows ---- */

int engine_inspect_ps_row(const struct container_record *r, enum ctr_state state,
			  const struct inspect_env *env, bool trunc, json_t **out, struct err **err)
{
	_cleanup_json_ json_t *o = json_object(), *labels = labels_obj(r->labels);
	_cleanup_free_ char *cmd = engine_inspect_command(r->argv, trunc);
	char created[96], ago[96], status[128], id[SHA256_HEX_LEN + 1], size[96];
	struct sbuf lb = {0}, mb = {0};
	_cleanup_free_ char *ltext = NULL, *mtext = NULL;
	char nvol[24];
	size_t nv = 0, ml = 0;
	const char *k;
	json_t *v;

	*out = NULL;
	if (!o || !labels || !cmd)
		return err_errno(err, ENOMEM, "ps");
	/* Labels as Docker's ps prints them: k=v joined by commas. */
	json_object_foreach (labels, k, v) {
		if (lb.len)
			sb_add(&lb, ",", 1);
		sb_str(&lb, k);
		sb_add(&lb, "=", 1);
		sb_str(&lb, json_string_value(v));
	}
	ltext = sb_take(&lb);
	if (!ltext)
		return err_errno(err, ENOMEM, "ps");
	engine_inspect_time_local(r->created / 1000000000, created, sizeof(created));
	names_human_duration(env->now - r->created / 1000000000, ago, sizeof(ago));
	strncat(ago, " ago", sizeof(ago) - strlen(ago) - 1);
	ctr_status_text(state, engine_inspect_exit_code(r, state), r->started / 1000000000,
			r->finished / 1000000000, env->now, status, sizeof(status));
	snprintf(id, sizeof(id), "%.*s", trunc ? 12 : SHA256_HEX_LEN, r->id);
	/* Docker's ps: volume names and bind sources; local volumes counted. */
	for (size_t i = 0; i < r->n_mounts; i++) {
		const struct mount_req *m = &r->mounts[i];

		if (m->type == MOUNT_TMPFS)
			continue;
		if (m->type == MOUNT_VOLUME && (!m->driver || !strcmp(m->driver, "local")))
			nv++;
		if (ml)
			sb_str(&mb, ",");
		sb_str(&mb, m->source);
		ml++;
	}
	snprintf(nvol, sizeof(nvol), "%zu", nv);
	if (!(mtext = sb_take(&mb)))
		return err_errno(err, ENOMEM, "ps");
	if (env->size_rw < 0) {
		snprintf(size, sizeof(size), "0B");
	} else {
		char rw[32], virt[32];

		engine_inspect_human_size((uint64_t)env->size_rw, 3, rw, sizeof(rw));
		engine_inspect_human_size((uint64_t)(env->size_rootfs > 0 ? env->size_rootfs : 0),
					  3, virt, sizeof(virt));
		if (env->size_rootfs > 0)
			snprintf(size, sizeof(size), "%s (virtual %s)", rw, virt);
		else
			snprintf(size, sizeof(size), "%s", rw);
	}
	if (put(o, "Command", jstr(cmd)) || put(o, "CreatedAt", json_string(created)) ||
	    put(o, "ID", json_string(id)) || put(o, "Image", jstr(r->image)) ||
	    put(o, "Labels", jstr(ltext)) || put(o, "LocalVolumes", json_string(nvol)) ||
	    put(o, "Mounts", jstr(mtext)) || put(o, "Names", jstr(names_normalize(r->name))) ||
	    put(o, "Networks", jstr(r->net && r->net[0] ? r->net : "none")) ||
	    put(o, "Ports", ports_text(env->net)) || put(o, "RunningFor", json_string(ago)) ||
	    put(o, "Size", json_string(size)) ||
	    put(o, "State", json_string(ctr_state_name(state))) ||
	    put(o, "Status", json_string(status)))
		return err_errno(err, ENOMEM, "ps");
	*out = steal_ptr(o);
	return 0;
}

/* ---- IMPURE: sizes ---- */

#define WALK_MAX_DEPTH 256
#define WALK_MAX_ENTRIES 1000000
#define WALK_MAX_LINKS 4096 /* hard-linked inodes remembered; more count again */

struct walk {
	int64_t size;
	size_t entries;
	ino_t *seen; /* hard-linked inodes already counted */
	dev_t *seen_dev;
	size_t nseen, capseen;
};

static bool seen_before(struct walk *w, const struct stat *st)
{
	for (size_t i = 0; i < w->nseen; i++)
		if (w->seen[i] == st->st_ino && w->seen_dev[i] == st->st_dev)
			return true;
	if (w->nseen >= WALK_MAX_LINKS)
		return false;
	if (w->nseen == w->capseen) {
		size_t cap = w->capseen ? w->capseen * 2 : 64;
		ino_t *ni = realloc(w->seen, cap * sizeof(*ni));
		dev_t *nd;

		if (!ni)
			return false;
		w->seen = ni;
		nd = realloc(w->seen_dev, cap * sizeof(*nd));
		if (!nd)
			return false;
		w->seen_dev = nd;
		w->capseen = cap;
	}
	w->seen[w->nseen] = st->st_ino;
	w->seen_dev[w->nseen++] = st->st_dev;
	return false;
}

/* Walks the directory DFD (which it closes). */
static void walk(struct walk *w, int dfd, int depth)
{
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	struct dirent *de;

	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) && w->entries < WALK_MAX_ENTRIES) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		w->entries++;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (depth + 1 >= WALK_MAX_DEPTH)
				continue;
			sub = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk(w, sub, depth + 1);
			continue;
		}
		if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			continue;
		if (st.st_size <= 0 || (st.st_nlink > 1 && seen_before(w, &st)))
			continue;
		w->size += st.st_size;
	}
}

int64_t engine_inspect_dir_size(const char *dir)
{
	struct walk w = {0};
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	walk(&w, fd, 0);
	free(w.seen);
	free(w.seen_dev);
	return w.size;
}

void engine_inspect_sizes(const char *root, const struct container_record *r,
			  struct image *const *images, size_t n, int64_t *rw, int64_t *rootfs)
{
	char dir[4200];
	int64_t s;

	snprintf(dir, sizeof(dir), "%s/containers/%s/upper", root, r->id);
	s = engine_inspect_dir_size(dir);
	*rw = s < 0 ? 0 : s;
	*rootfs = *rw;
	for (size_t i = 0; r->image_id && i < n; i++) {
		if (images[i] && images[i]->id && !strcmp(images[i]->id, r->image_id)) {
			*rootfs += (int64_t)images[i]->size;
			break;
		}
	}
}
