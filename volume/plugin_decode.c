/*
 * volume/plugin_decode.c - the PURE half of the volume plugin client
 * (see plugin.h): a plugin's .spec and .json discovery files and the JSON
 * replies of Plugin.Activate and the VolumeDriver methods, decoded into
 * typed structs.
 *
 * Runs in: the moat process (and a container's monitor), as the invoking
 * user. PURE: no system calls, no file or network I/O. Every byte it reads
 * comes from a plugin (or a file an administrator dropped in a plugin
 * directory), so it is what fuzz/plugin_decode_fuzz.c exercises.
 *
 * Invariants:
 *  - sizes are checked before jansson sees the bytes (PLUGIN_SPEC_MAX,
 *    PLUGIN_REPLY_MAX);
 *  - fields moat reads are typed strictly (a wrong type is an error, even
 *    in a reply that also carries an Err); unknown keys are ignored, as
 *    Docker ignores them, since plugins add their own;
 *  - every string copied out was checked for embedded NULs;
 *  - a decode either fills all of the METHOD's outputs or none of them
 *    (on -EIO only plugin_err), and frees whatever it built on the way;
 *  - reply errors are -EPROTO ("malformed"), except a non-empty Err,
 *    which is -EIO; discovery file errors are -EINVAL.
 */
#include "volume/plugin.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/json.h"

/* sizeof(((struct sockaddr_un *)0)->sun_path), without the socket header:
 * a longer unix:// path can never be connected to. */
#define SUN_PATH_MAX 108

/* Untrusted text for a message: C0 controls and DEL as \xNN, so that a
 * plugin cannot put terminal escapes on the user's screen; everything
 * else (UTF-8 included) verbatim. Capped to fit SIZE. */
static const char *cleann(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; s && i < n && s[i] && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static const char *clean(const char *s, char *buf, size_t size)
{
	return cleann(s, SIZE_MAX, buf, size);
}

/* ---- discovery files ---- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* A host of tcp://HOST:PORT: a bracketed IPv6 literal or a name/IPv4
 * address. Nothing is resolved here. */
static bool host_valid(const char *h, size_t n)
{
	if (n == 0 || n > 255)
		return false;
	if (h[0] == '[') {
		if (n < 3 || h[n - 1] != ']')
			return false;
		for (size_t i = 1; i + 1 < n; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
				return false;
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-')
			return false;
	return true;
}

/*
 * An address (S, N bytes, already trimmed) as "unix:///abs/path" or
 * "tcp://host:port". The scheme is matched without regard to case, as
 * Go's url.Parse does, and written back in lower case. A unix path must be
 * absolute ("unix://run/x.sock" would make Docker connect to "run") and
 * fit a sockaddr_un. WHAT names the source for messages.
 */
static int decode_addr(const char *s, size_t n, char **addr, const char *what, struct err **err)
{
	char q[160];

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r')
			return err_set(err, EINVAL, "%s: more than one line", what);
		if (c < 0x20 || c == 0x7f)
			return err_set(err, EINVAL, "%s: control character in the address", what);
	}
	/* A .spec is trimmed before this; in a .json's Addr an edge space is
	 * a mistake, not part of a socket's name. */
	if (n && s[n - 1] == ' ')
		return err_set(err, EINVAL, "%s: trailing space in the address", what);
	if (n >= 7 && !strncasecmp(s, "unix://", 7)) {
		const char *path = s + 7;
		size_t plen = n - 7;

		if (plen == 0 || path[0] != '/')
			return err_set(
			    err, EINVAL,
			    "%s: a unix:// address needs an absolute path (unix:///path)", what);
		if (plen >= SUN_PATH_MAX)
			return err_set(err, ENAMETOOLONG,
				       "%s: the socket path is longer than %d bytes", what,
				       SUN_PATH_MAX - 1);
		if (asprintf(addr, "unix://%.*s", (int)plen, path) < 0) {
			*addr = NULL;
			return err_errno(err, ENOMEM, "%s", what);
		}
		return 0;
	}
	if (n >= 6 && !strncasecmp(s, "tcp://", 6)) {
		const char *hp = s + 6, *colon;
		size_t hlen = n - 6, plen;
		unsigned long port;

		if (hlen && hp[hlen - 1] == '/')
			hlen--; /* "tcp://127.0.0.1:8080/" is how some write it */
		colon = hlen ? memrchr(hp, ':', hlen) : NULL;
		if (!colon)
			return err_set(err, EINVAL,
				       "%s: a tcp:// address needs a port (tcp://host:port)", what);
		plen = hlen - (size_t)(colon + 1 - hp);
		if (!host_valid(hp, (size_t)(colon - hp)))
			return err_set(err, EINVAL, "%s: invalid host in \"%s\"", what,
				       cleann(s, n, q, sizeof(q)));
		if (!all_digits(colon + 1, plen) || plen > 5 ||
		    (port = strtoul(colon + 1, NULL, 10)) == 0 || port > 65535)
			return err_set(err, EINVAL, "%s: invalid port in \"%s\"", what,
				       cleann(s, n, q, sizeof(q)));
		if (asprintf(addr, "tcp://%.*s:%lu", (int)(colon - hp), hp, port) < 0) {
			*addr = NULL;
			return err_errno(err, ENOMEM, "%s", what);
		}
		return 0;
	}
	return err_set(err, EINVAL,
		       "%s: unsupported address \"%.*s\" (moat takes unix:// and tcp://)", what,
		       (int)(n > 80 ? 80 : n), s);
}

int plugin_decode_spec(const char *buf, size_t len, char **addr, struct err **err)
{
	size_t a = 0, b = len;

	*addr = NULL;
	if (len > PLUGIN_SPEC_MAX)
		return err_set(err, EFBIG, ".spec: larger than %d bytes", PLUGIN_SPEC_MAX);
	/* Docker trims the whole file (strings.TrimSpace). */
	while (a < b && isspace((unsigned char)buf[a]))
		a++;
	while (b > a && isspace((unsigned char)buf[b - 1]))
		b--;
	if (a == b)
		return err_set(err, EINVAL, ".spec: empty");
	return decode_addr(buf + a, b - a, addr, ".spec", err);
}

/* A string member (NULL when absent or null); EC for a wrong type. */
static int get_str(json_t *obj, const char *key, char **out, int ec, const char *what,
		   struct err **err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, ec, "%s\"%s\" must be a string", what, key);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return err_set(err, ec, "%s\"%s\" contains a NUL byte", what, key);
	*out = strdup(json_string_value(v));
	if (!*out)
		return err_errno(err, ENOMEM, "%s\"%s\"", what, key);
	return 0;
}

int plugin_decode_json(const char *buf, size_t len, char **addr, char **mount_root, bool *has_tls,
		       struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *name = NULL, *a = NULL, *mr = NULL, *out_addr = NULL;
	json_error_t je;
	json_t *tls;

	*addr = NULL;
	*mount_root = NULL;
	*has_tls = false;
	if (len > PLUGIN_SPEC_MAX)
		return err_set(err, EFBIG, ".json: larger than %d bytes", PLUGIN_SPEC_MAX);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
	if (!root)
		return err_set(err, EINVAL, ".json:%d:%d: %s", je.line, je.column, je.text);
	if (!json_is_object(root))
		return err_set(err, EINVAL, ".json: not a JSON object");
	/* Name is informative only (Docker names the plugin after the file),
	 * but a wrong type is still an error. */
	if (get_str(root, "Name", &name, EINVAL, ".json: ", err) < 0 ||
	    get_str(root, "Addr", &a, EINVAL, ".json: ", err) < 0 ||
	    get_str(root, "MountRoot", &mr, EINVAL, ".json: ", err) < 0)
		return err_ret(*err);
	if (!a || !*a)
		return err_set(err, EINVAL, ".json: \"Addr\" is required");
	tls = json_object_get(root, "TLSConfig");
	if (tls && !json_is_null(tls) && !json_is_object(tls))
		return err_set(err, EINVAL, ".json: \"TLSConfig\" must be an object");
	if (mr && mr[0] != '/')
		return err_set(err, EINVAL, ".json: \"MountRoot\" must be an absolute path");
	if (decode_addr(a, strlen(a), &out_addr, ".json: \"Addr\"", err) < 0)
		return err_ret(*err);
	*has_tls = tls && json_is_object(tls);
	*addr = steal_ptr(out_addr);
	*mount_root = steal_ptr(mr);
	return 0;
}

/* ---- replies ---- */

enum kind {
	K_ACTIVATE,
	K_ERR_ONLY, /* Create, Remove, Unmount */
	K_MOUNT,
	K_PATH,
	K_GET,
	K_LIST,
	K_CAPS,
};

static int method_kind(const char *method)
{
	static const struct {
		const char *name;
		enum kind k;
	} table[] = {
	    {"Plugin.Activate", K_ACTIVATE},	   {"VolumeDriver.Create", K_ERR_ONLY},
	    {"VolumeDriver.Remove", K_ERR_ONLY},   {"VolumeDriver.Unmount", K_ERR_ONLY},
	    {"VolumeDriver.Mount", K_MOUNT},	   {"VolumeDriver.Path", K_PATH},
	    {"VolumeDriver.Get", K_GET},	   {"VolumeDriver.List", K_LIST},
	    {"VolumeDriver.Capabilities", K_CAPS},
	};

	for (size_t i = 0; method && i < ARRAY_SIZE(table); i++)
		if (!strcmp(method, table[i].name))
			return (int)table[i].k;
	return -1;
}

void plugin_volume_free(struct plugin_volume *v)
{
	if (!v)
		return;
	free(v->name);
	free(v->mountpoint);
	free(v->created_at);
	free(v->status);
	v->name = v->mountpoint = v->created_at = v->status = NULL;
}

void plugin_reply_free(struct plugin_reply *r)
{
	if (!r)
		return;
	free(r->plugin_err);
	strvfree(r->implements);
	free(r->mountpoint);
	if (r->vol) {
		plugin_volume_free(r->vol);
		free(r->vol);
	}
	for (size_t i = 0; r->vols && i < r->n_vols; i++)
		plugin_volume_free(&r->vols[i]);
	free(r->vols);
	free(r->scope);
	*r = (struct plugin_reply){0};
}

/* One Volume object (Get's "Volume", an element of List's "Volumes"). */
static int decode_volume(json_t *o, struct plugin_volume *v, const char *what, struct err **err)
{
	struct plugin_volume t = {0};
	json_t *status;
	char w[64];

	if (!json_is_object(o))
		return err_set(err, EPROTO, "%s must be an object", what);
	snprintf(w, sizeof(w), "%s.", what);
	if (get_str(o, "Name", &t.name, EPROTO, w, err) < 0 ||
	    get_str(o, "Mountpoint", &t.mountpoint, EPROTO, w, err) < 0 ||
	    get_str(o, "CreatedAt", &t.created_at, EPROTO, w, err) < 0)
		goto fail;
	if (!t.name || !*t.name) {
		err_set(err, EPROTO, "%s has no \"Name\"", what);
		goto fail;
	}
	status = json_object_get(o, "Status");
	if (status && !json_is_null(status) && !json_is_object(status)) {
		err_set(err, EPROTO, "%s\"Status\" must be an object", w);
		goto fail;
	}
	/* Docker shows Status as the plugin gave it (any JSON values); it
	 * travels on as text, re-encoded by jansson (so valid UTF-8 JSON,
	 * escapes and all), within the reply's size cap. */
	if (status && json_is_object(status) &&
	    !(t.status = json_dumps(status, JSON_COMPACT | JSON_SORT_KEYS))) {
		err_errno(err, ENOMEM, "%s\"Status\"", w);
		goto fail;
	}
	*v = t;
	return 0;
fail:
	plugin_volume_free(&t);
	return err_ret(*err);
}

static int decode_implements(json_t *root, char ***out, struct err **err)
{
	json_t *v = json_object_get(root, "Implements"), *e;
	_cleanup_strv_ char **r = NULL;
	size_t i;

	if (v && !json_is_null(v) && !json_is_array(v))
		return err_set(err, EPROTO, "\"Implements\" must be an array of strings");
	r = calloc((v ? json_array_size(v) : 0) + 1, sizeof(char *));
	if (!r)
		return err_errno(err, ENOMEM, "\"Implements\"");
	json_array_foreach (v, i, e) {
		if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
			return err_set(err, EPROTO, "\"Implements\"[%zu] must be a string", i);
		r[i] = strdup(json_string_value(e));
		if (!r[i])
			return err_errno(err, ENOMEM, "\"Implements\"");
	}
	*out = steal_ptr(r);
	return 0;
}

static int decode_list(json_t *root, struct plugin_volume **out, size_t *n, struct err **err)
{
	json_t *v = json_object_get(root, "Volumes"), *e;
	struct plugin_volume *vols = NULL;
	size_t i, done = 0;
	char w[48];

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(err, EPROTO, "\"Volumes\" must be an array");
	if (json_array_size(v) == 0)
		return 0;
	/* Bounded by the reply cap: each element took at least 3 bytes. */
	vols = calloc(json_array_size(v), sizeof(*vols));
	if (!vols)
		return err_errno(err, ENOMEM, "\"Volumes\"");
	json_array_foreach (v, i, e) {
		snprintf(w, sizeof(w), "\"Volumes\"[%zu]", i);
		if (decode_volume(e, &vols[i], w, err) < 0)
			goto fail;
		done++;
	}
	*out = vols;
	*n = done;
	return 0;
fail:
	for (size_t k = 0; k < done; k++)
		plugin_volume_free(&vols[k]);
	free(vols);
	return err_ret(*err);
}

static int decode_scope(json_t *root, char **out, struct err **err)
{
	json_t *caps = json_object_get(root, "Capabilities"), *s;
	const char *scope = "local";

	if (caps && !json_is_null(caps)) {
		if (!json_is_object(caps))
			return err_set(err, EPROTO, "\"Capabilities\" must be an object");
		s = json_object_get(caps, "Scope");
		if (s && !json_is_null(s) && !json_is_string(s))
			return err_set(err, EPROTO, "\"Capabilities\".\"Scope\" must be a string");
		/* Docker lower-cases the scope and takes "" as local. */
		if (s && json_is_string(s) && json_string_length(s) > 0) {
			if (!strcasecmp(json_string_value(s), "global") &&
			    json_string_length(s) == 6)
				scope = "global";
			else if (strcasecmp(json_string_value(s), "local") ||
				 json_string_length(s) != 5)
				return err_set(err, EPROTO,
					       "\"Capabilities\".\"Scope\" must be \"local\" or "
					       "\"global\"");
		}
	}
	*out = strdup(scope);
	if (!*out)
		return err_errno(err, ENOMEM, "\"Capabilities\"");
	return 0;
}

int plugin_decode_reply(const char *method, const char *buf, size_t len, struct plugin_reply *out,
			struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_free_ char *perr = NULL, *mp = NULL, *scope = NULL;
	_cleanup_strv_ char **impl = NULL;
	_cleanup_free_ struct plugin_volume *vol = NULL;
	struct plugin_volume *vols = NULL;
	size_t n_vols = 0;
	json_error_t je;
	json_t *jv;
	char q[512];
	int k = method_kind(method);

	if (k < 0)
		return err_set(err, EINVAL, "no decoder for the plugin method \"%s\"",
			       method ? clean(method, q, 80) : "(null)");
	if (!out)
		return err_set(err, EINVAL, "no reply to decode into");
	if (len > PLUGIN_REPLY_MAX)
		return err_set(err, EPROTO, "the reply is larger than %d bytes", PLUGIN_REPLY_MAX);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
	if (!root)
		return err_set(err, EPROTO, "not JSON (%d:%d: %s)", je.line, je.column, je.text);
	if (!json_is_object(root))
		return err_set(err, EPROTO, "not a JSON object");
	if (get_str(root, "Err", &perr, EPROTO, "", err) < 0)
		return err_ret(*err);
	/* A failure is a failure whatever else the reply says. */
	if (perr && *perr) {
		err_set(err, EIO, "%s", clean(perr, q, sizeof(q)));
		out->plugin_err = steal_ptr(perr);
		return -EIO;
	}

	switch ((enum kind)k) {
	case K_ACTIVATE:
		if (decode_implements(root, &impl, err) < 0)
			return err_ret(*err);
		break;
	case K_ERR_ONLY:
		break;
	case K_MOUNT:
	case K_PATH:
		if (get_str(root, "Mountpoint", &mp, EPROTO, "", err) < 0)
			return err_ret(*err);
		/* Mount must say where; Path may say "not mounted" with "". */
		if (k == K_MOUNT && (!mp || !*mp))
			return err_set(err, EPROTO, "no \"Mountpoint\"");
		break;
	case K_GET:
		jv = json_object_get(root, "Volume");
		/* A null (or absent) Volume means "no such volume". */
		if (jv && !json_is_null(jv)) {
			vol = calloc(1, sizeof(*vol));
			if (!vol)
				return err_errno(err, ENOMEM, "\"Volume\"");
			if (decode_volume(jv, vol, "\"Volume\"", err) < 0)
				return err_ret(*err);
		}
		break;
	case K_LIST:
		if (decode_list(root, &vols, &n_vols, err) < 0)
			return err_ret(*err);
		break;
	case K_CAPS:
		if (decode_scope(root, &scope, err) < 0)
			return err_ret(*err);
		break;
	default:
		return err_set(err, EINVAL, "no decoder for \"%s\"", method);
	}

	/* Everything decoded: only now do the outputs change. */
	switch ((enum kind)k) {
	case K_ACTIVATE:
		out->implements = steal_ptr(impl);
		break;
	case K_MOUNT:
	case K_PATH:
		out->mountpoint = steal_ptr(mp);
		break;
	case K_GET:
		out->vol = steal_ptr(vol);
		break;
	case K_LIST:
		out->vols = vols;
		out->n_vols = n_vols;
		break;
	case K_CAPS:
		out->scope = steal_ptr(scope);
		break;
	case K_ERR_ONLY:
	default:
		break;
	}
	return 0;
}
