/*
 * net/netrecord.c - a network's record as JSON and back, and the name
 * rules (see net/netrecord.h for the format and its invariants).
 *
 * Runs in: any process. PURE: no system calls; fuzz/netrecord_fuzz.c
 * reaches all of it.
 *
 * What is written can be read: the encoder checks its own output with the
 * decoder before handing it back, so a struct the decoder would refuse (a
 * gateway outside the subnet, a bridge name Linux refuses) never reaches
 * the disk, where it would make the network unreadable and unremovable.
 */
#include "net/netrecord.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/cleanup.h"
#include "common/json.h"

#define WHAT "network record"
#define NS_PER_S 1000000000LL
#define DRIVER_NAME_MAX 15 /* fits struct net_network's driver[16] */

static const char *const mode_names[] = {
    [NET_MACVLAN_BRIDGE] = "bridge",
    [NET_MACVLAN_PRIVATE] = "private",
    [NET_MACVLAN_VEPA] = "vepa",
    [NET_MACVLAN_PASSTHRU] = "passthru",
};

const char *net_macvlan_mode_name(enum net_macvlan_mode m)
{
	if ((size_t)m >= ARRAY_SIZE(mode_names))
		return NULL;
	return mode_names[m];
}

int net_macvlan_mode_parse(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(mode_names); i++)
		if (!strcmp(s, mode_names[i]))
			return (int)i;
	return -1;
}

/* json_shown (common/json.h) under the name net/ uses; the labels and
 * options go to and from JSON through json_kv_object and json_get_kv. */
const char *net_shown(const char *s, char *buf, size_t size)
{
	return json_shown(s, buf, size);
}

/* ---- names ---- */

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool net_network_name_valid(const char *name)
{
	size_t n = name ? strnlen(name, NET_NAME_MAX + 1) : 0;

	if (n == 0 || n > NET_NAME_MAX || !is_alnum(name[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
			return false;
	return true;
}

bool net_ifname_valid(const char *name)
{
	size_t n = name ? strnlen(name, IFNAMSIZ) : 0;

	if (n == 0 || n >= IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

static bool id_valid(const char *id)
{
	size_t n = strnlen(id, NET_ID_HEX + 1);

	if (n != NET_ID_HEX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	return true;
}

/* [a-z0-9][a-z0-9_.-]*, at most 15 bytes: moat's drivers are built in, so
 * nothing longer or stranger can name one. */
static bool driver_valid(const char *d)
{
	size_t n = strnlen(d, DRIVER_NAME_MAX + 1);

	if (n == 0 || n > DRIVER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!ok && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/* An overlay's cluster address: 1..NET_CLUSTER_MAX printable bytes, no
 * blanks ("etcd://127.0.0.1:2379"); the overlay driver parses it. */
static bool cluster_valid(const char *s)
{
	size_t n = strnlen(s, NET_CLUSTER_MAX + 1);

	if (n == 0 || n > NET_CLUSTER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* ---- freeing and copying ---- */

void net_network_clear(struct net_network *n)
{
	if (!n)
		return;
	strvfree(n->labels);
	strvfree(n->options);
	free(n->cluster);
	memset(n, 0, sizeof(*n));
}

void net_network_list_free(struct net_network *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		net_network_clear(&v[i]);
	free(v);
}

static int strv_copy(char *const *in, char ***out)
{
	size_t n = 0;
	_cleanup_strv_ char **r = NULL;

	*out = NULL;
	if (!in)
		return 0;
	while (in[n])
		n++;
	r = calloc(n + 1, sizeof(char *));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(r[i] = strdup(in[i])))
			return -ENOMEM;
	*out = steal_ptr(r);
	return 0;
}

int net_network_copy(struct net_network *dst, const struct net_network *src, struct err **err)
{
	*dst = *src;
	dst->labels = dst->options = NULL;
	dst->cluster = NULL;
	if (strv_copy(src->labels, &dst->labels) < 0 ||
	    strv_copy(src->options, &dst->options) < 0 ||
	    (src->cluster && !(dst->cluster = strdup(src->cluster)))) {
		net_network_clear(dst);
		return err_errno(err, ENOMEM, "copy of network %s", src->name);
	}
	return 0;
}

/* ---- times ---- */

/* Howard Hinnant's days_from_civil / civil_from_days: proleptic
 * Gregorian, exact, independent of time_t and TZ. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ": always nine digits and UTC, so equal
 * instants are equal text. NS >= 0. */
static void time_format(int64_t ns, char out[64])
{
	int64_t secs = ns / NS_PER_S, frac = ns % NS_PER_S, y;
	int64_t sod = secs % 86400;
	int m, d;

	civil_from_days(secs / 86400, &y, &m, &d);
	snprintf(out, 64, "%04lld-%02d-%02dT%02d:%02d:%02d.%09lldZ", (long long)y, m, d,
		 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (long long)frac);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* RFC 3339 in UTC as moat writes it: a date, a time to the second, an
 * optional fraction of 1-9 digits, 'Z'. No leap seconds, nothing before
 * 1970 or past what int64 nanoseconds hold. */
static int time_parse(const char *s, int64_t *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, n = 0;
	int64_t frac = 0, secs;
	const char *p = s + 19;

	if (strnlen(s, 20) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, n++) {
			if (n == 9)
				return -EINVAL;
			frac = frac * 10 + (*p - '0');
		}
		if (n == 0)
			return -EINVAL;
		for (; n < 9; n++)
			frac *= 10;
	}
	if (p[0] != 'Z' || p[1])
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	if (d > mdays[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (secs < 0 || secs > (INT64_MAX - frac) / NS_PER_S)
		return -EINVAL;
	*out = secs * NS_PER_S + frac;
	return 0;
}

/* ---- decoding ---- */

static int get_string(json_t *o, const char *key, const char **out, struct err **err)
{
	json_t *j = json_object_get(o, key);

	if (!j)
		return err_set(err, EINVAL, "%s: \"%s\" is missing", WHAT, key);
	if (!json_is_string(j))
		return err_set(err, EINVAL, "%s: \"%s\" must be a string", WHAT, key);
	if (strlen(json_string_value(j)) != json_string_length(j))
		return err_set(err, EINVAL, "%s: \"%s\" contains a NUL byte", WHAT, key);
	*out = json_string_value(j);
	return 0;
}

static int get_bool(json_t *o, const char *key, bool *out, struct err **err)
{
	json_t *j = json_object_get(o, key);

	if (!j)
		return err_set(err, EINVAL, "%s: \"%s\" is missing", WHAT, key);
	if (!json_is_boolean(j))
		return err_set(err, EINVAL, "%s: \"%s\" must be true or false", WHAT, key);
	*out = json_is_true(j);
	return 0;
}

/* Every key of O is one of KEYS (N of them). */
static int known_keys(json_t *o, const char *where, const char *const *keys, size_t n,
		      struct err **err)
{
	const char *k;
	json_t *val;
	size_t klen;
	char q[80];

	json_object_keylen_foreach(o, k, klen, val)
	{
		size_t i = 0;

		while (i < n && (strlen(k) != klen || strcmp(keys[i], k)))
			i++;
		if (i == n)
			return err_set(err, EINVAL, "%s: unknown key \"%s\"%s", WHAT,
				       net_shown(k, q, sizeof(q)), where);
	}
	return 0;
}

/* R, with WHAT in front of the message a helper from net/cidr.h set. */
static int pfx(int r, struct err **err)
{
	if (err && *err)
		err_prefix(err, WHAT);
	return r;
}

/* IPAM: {"Driver": "default", "Config": [] or [{"Subnet", "IPRange"?,
 * "Gateway"?}]}, checked as `network create` checks the flags. */
static int decode_ipam(json_t *o, struct net_network *n, struct err **err)
{
	static const char *const keys[] = {"Driver", "Config"};
	static const char *const ckeys[] = {"Subnet", "IPRange", "Gateway"};
	json_t *ipam = json_object_get(o, "IPAM"), *cfg, *c;
	struct net_cidr subnet, range;
	struct net_addr gw;
	const char *s = NULL;
	bool has_range, has_gw;
	int r;

	if (!ipam)
		return err_set(err, EINVAL, "%s: \"IPAM\" is missing", WHAT);
	if (!json_is_object(ipam))
		return err_set(err, EINVAL, "%s: \"IPAM\" must be an object", WHAT);
	if ((r = known_keys(ipam, " in \"IPAM\"", keys, ARRAY_SIZE(keys), err)) < 0 ||
	    (r = get_string(ipam, "Driver", &s, err)) < 0)
		return r;
	if (strcmp(s, "default"))
		return err_set(err, EINVAL, "%s: IPAM driver must be \"default\"", WHAT);
	cfg = json_object_get(ipam, "Config");
	if (!json_is_array(cfg) || json_array_size(cfg) > 1)
		return err_set(err, EINVAL,
			       "%s: \"IPAM\": \"Config\" must be an array of at most one "
			       "pool",
			       WHAT);
	n->has_pool = json_array_size(cfg) == 1;
	if (!n->has_pool)
		return 0;
	c = json_array_get(cfg, 0);
	if (!json_is_object(c))
		return err_set(err, EINVAL, "%s: an IPAM pool must be an object", WHAT);
	if ((r = known_keys(c, " in an IPAM pool", ckeys, ARRAY_SIZE(ckeys), err)) < 0 ||
	    (r = get_string(c, "Subnet", &s, err)) < 0)
		return r;
	if ((r = net_cidr_parse(s, "subnet", &subnet, err)) < 0)
		return pfx(r, err);
	has_range = json_object_get(c, "IPRange") != NULL;
	has_gw = json_object_get(c, "Gateway") != NULL;
	if (has_range) {
		if ((r = get_string(c, "IPRange", &s, err)) < 0)
			return r;
		if ((r = net_cidr_parse(s, "ip-range", &range, err)) < 0)
			return pfx(r, err);
	}
	if (has_gw) {
		if ((r = get_string(c, "Gateway", &s, err)) < 0)
			return r;
		if ((r = net_addr_parse(s, &gw, err)) < 0)
			return pfx(r, err);
	}
	if ((r = net_pool_init(&n->pool, &subnet, has_range ? &range : NULL, has_gw ? &gw : NULL,
			       err)) < 0)
		return pfx(r, err);
	return 0;
}

static int get_ifname(json_t *o, const char *key, char out[IFNAMSIZ], struct err **err)
{
	const char *s = NULL;
	char q[80];
	int r;

	if ((r = get_string(o, key, &s, err)) < 0)
		return r;
	if (!net_ifname_valid(s))
		return err_set(err, EINVAL, "%s: \"%s\" is not an interface name: \"%s\"", WHAT,
			       key, net_shown(s, q, sizeof(q)));
	snprintf(out, IFNAMSIZ, "%s", s);
	return 0;
}

/* The keys only one driver has: present for it, absent for the others. */
static int decode_driver_keys(json_t *o, struct net_network *n, struct err **err)
{
	static const struct {
		const char *key, *driver;
	} own[] = {
	    {"Bridge", "bridge"},   {"Parent", "macvlan"}, {"MacvlanMode", "macvlan"},
	    {"Cluster", "overlay"}, {"VNI", "overlay"},
	};
	const char *s = NULL;
	json_t *vni;
	char q[80];
	int r, mode;

	for (size_t i = 0; i < ARRAY_SIZE(own); i++) {
		bool mine = !strcmp(n->driver, own[i].driver);

		if (!mine && json_object_get(o, own[i].key))
			return err_set(err, EINVAL, "%s: \"%s\" is not a key of a %s network", WHAT,
				       own[i].key, n->driver);
	}
	if (!strcmp(n->driver, "bridge"))
		return get_ifname(o, "Bridge", n->bridge, err);
	if (!strcmp(n->driver, "macvlan")) {
		if ((r = get_ifname(o, "Parent", n->parent, err)) < 0 ||
		    (r = get_string(o, "MacvlanMode", &s, err)) < 0)
			return r;
		if ((mode = net_macvlan_mode_parse(s)) < 0)
			return err_set(err, EINVAL, "%s: unknown macvlan mode \"%s\"", WHAT,
				       net_shown(s, q, sizeof(q)));
		n->macvlan_mode = (enum net_macvlan_mode)mode;
		return 0;
	}
	if (!strcmp(n->driver, "overlay")) {
		if ((r = get_string(o, "Cluster", &s, err)) < 0)
			return r;
		if (!cluster_valid(s))
			return err_set(err, EINVAL, "%s: invalid overlay cluster \"%s\"", WHAT,
				       net_shown(s, q, sizeof(q)));
		vni = json_object_get(o, "VNI");
		if (!json_is_integer(vni) || json_integer_value(vni) < 1 ||
		    json_integer_value(vni) > NET_VNI_MAX)
			return err_set(err, EINVAL, "%s: \"VNI\" must be an integer 1-%u", WHAT,
				       NET_VNI_MAX);
		n->vni = (uint32_t)json_integer_value(vni);
		if (!(n->cluster = strdup(s)))
			return err_errno(err, ENOMEM, WHAT);
	}
	return 0;
}

static int decode(json_t *o, struct net_network *n, struct err **err)
{
	static const char *const keys[] = {
	    "Name",    "Id",   "Created", "Driver", "Internal",	   "EnableDNS", "Labels",
	    "Options", "IPAM", "Bridge",  "Parent", "MacvlanMode", "Cluster",	"VNI",
	};
	const char *name = NULL, *id = NULL, *created = NULL, *driver = NULL;
	char q[80];
	int r;

	if (!json_is_object(o))
		return err_set(err, EINVAL, "%s: not an object", WHAT);
	if ((r = known_keys(o, "", keys, ARRAY_SIZE(keys), err)) < 0 ||
	    (r = get_string(o, "Name", &name, err)) < 0 ||
	    (r = get_string(o, "Id", &id, err)) < 0 ||
	    (r = get_string(o, "Created", &created, err)) < 0 ||
	    (r = get_string(o, "Driver", &driver, err)) < 0)
		return r;
	if (!net_network_name_valid(name))
		return err_set(err, EINVAL, "%s: invalid network name \"%s\"", WHAT,
			       net_shown(name, q, sizeof(q)));
	if (!id_valid(id))
		return err_set(err, EINVAL, "%s: \"Id\" is not 64 lower-case hex digits: \"%s\"",
			       WHAT, net_shown(id, q, sizeof(q)));
	if (!driver_valid(driver))
		return err_set(err, EINVAL, "%s: invalid driver name \"%s\"", WHAT,
			       net_shown(driver, q, sizeof(q)));
	if (time_parse(created, &n->created) < 0)
		return err_set(err, EINVAL, "%s: \"Created\" is not an RFC 3339 UTC time: \"%s\"",
			       WHAT, net_shown(created, q, sizeof(q)));
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->id, sizeof(n->id), "%s", id);
	snprintf(n->driver, sizeof(n->driver), "%s", driver);
	if ((r = get_bool(o, "Internal", &n->internal, err)) < 0 ||
	    (r = get_bool(o, "EnableDNS", &n->dns, err)) < 0 ||
	    (r = json_get_kv(o, "Labels", true, &n->labels, WHAT, err)) < 0 ||
	    (r = json_get_kv(o, "Options", true, &n->options, WHAT, err)) < 0 ||
	    (r = decode_ipam(o, n, err)) < 0)
		return r;
	return decode_driver_keys(o, n, err);
}

int net_network_decode(const char *buf, size_t len, struct net_network *out, struct err **err)
{
	_cleanup_json_ json_t *o = NULL;
	struct net_network n;
	int r;

	memset(out, 0, sizeof(*out));
	memset(&n, 0, sizeof(n));
	if (len > NET_RECORD_MAX)
		return err_set(err, EFBIG, "%s: larger than %d bytes", WHAT, NET_RECORD_MAX);
	o = json_parse_strict(buf, len, WHAT, err);
	if (!o)
		return -EINVAL;
	r = decode(o, &n, err);
	if (r < 0) {
		net_network_clear(&n); /* nothing half-decoded leaves */
		return r;
	}
	*out = n;
	return 0;
}

/* ---- encoding ---- */

static int set(json_t *o, const char *key, json_t *v)
{
	/* json_object_set_new takes V even when it fails */
	return v ? json_object_set_new(o, key, v) : -1;
}

static int encode_ipam(const struct net_network *n, json_t **out)
{
	_cleanup_json_ json_t *ipam = json_object(), *cfg = json_array(), *pool = NULL;
	char s[NET_CIDR_TEXT_MAX], a[NET_ADDR_TEXT_MAX];

	if (!ipam || !cfg || set(ipam, "Driver", json_string("default")) < 0)
		return -ENOMEM;
	if (n->has_pool) {
		bool whole = n->pool.range.bits == n->pool.subnet.bits &&
			     net_addr_equal(&n->pool.range.addr, &n->pool.subnet.addr);

		if (!(pool = json_object()))
			return -ENOMEM;
		net_cidr_format(&n->pool.subnet, s);
		if (set(pool, "Subnet", json_string(s)) < 0)
			return -ENOMEM;
		net_cidr_format(&n->pool.range, s);
		if (!whole && set(pool, "IPRange", json_string(s)) < 0)
			return -ENOMEM;
		net_addr_format(&n->pool.gateway, a);
		if (n->pool.has_gateway && set(pool, "Gateway", json_string(a)) < 0)
			return -ENOMEM;
		if (json_array_append_new(cfg, steal_ptr(pool)) < 0)
			return -ENOMEM;
	}
	if (set(ipam, "Config", steal_ptr(cfg)) < 0)
		return -ENOMEM;
	*out = steal_ptr(ipam);
	return 0;
}

int net_network_encode(const struct net_network *n, char **out, size_t *len, struct err **err)
{
	_cleanup_json_ json_t *o = json_object();
	_cleanup_free_ char *s = NULL;
	json_t *labels = NULL, *options = NULL, *ipam = NULL;
	struct net_network check;
	char created[64], q[80];
	const char *mode;
	int r;

	*out = NULL;
	*len = 0;
	if (!o)
		return err_errno(err, ENOMEM, WHAT);
	/* What JSON cannot carry faithfully is refused here; the rest by the
	 * decoder below. */
	if (strnlen(n->name, sizeof(n->name)) == sizeof(n->name) ||
	    strnlen(n->id, sizeof(n->id)) == sizeof(n->id) ||
	    strnlen(n->driver, sizeof(n->driver)) == sizeof(n->driver) ||
	    strnlen(n->bridge, sizeof(n->bridge)) == sizeof(n->bridge) ||
	    strnlen(n->parent, sizeof(n->parent)) == sizeof(n->parent))
		return err_set(err, EINVAL, "%s: a name is not terminated", WHAT);
	if (n->created < 0)
		return err_set(err, EINVAL, "%s: creation time before 1970", WHAT);
	if ((r = json_kv_object(n->labels, WHAT, "label", &labels, err)) < 0)
		return r;
	if (set(o, "Labels", labels) < 0)
		return err_errno(err, ENOMEM, WHAT);
	if ((r = json_kv_object(n->options, WHAT, "option", &options, err)) < 0)
		return r;
	if (set(o, "Options", options) < 0 || encode_ipam(n, &ipam) < 0 || set(o, "IPAM", ipam) < 0)
		return err_errno(err, ENOMEM, WHAT);
	time_format(n->created, created);
	if (set(o, "Name", json_string(n->name)) < 0 || set(o, "Id", json_string(n->id)) < 0 ||
	    set(o, "Created", json_string(created)) < 0 ||
	    set(o, "Driver", json_string(n->driver)) < 0 ||
	    set(o, "Internal", json_boolean(n->internal)) < 0 ||
	    set(o, "EnableDNS", json_boolean(n->dns)) < 0)
		return err_set(err, EINVAL, "%s: network \"%s\": a name is not valid UTF-8", WHAT,
			       net_shown(n->name, q, sizeof(q)));
	if (!strcmp(n->driver, "bridge") && set(o, "Bridge", json_string(n->bridge)) < 0)
		return err_set(err, EINVAL, "%s: invalid bridge name", WHAT);
	if (!strcmp(n->driver, "macvlan")) {
		mode = net_macvlan_mode_name(n->macvlan_mode);
		if (!mode)
			return err_set(err, EINVAL, "%s: unknown macvlan mode %d", WHAT,
				       (int)n->macvlan_mode);
		if (set(o, "Parent", json_string(n->parent)) < 0 ||
		    set(o, "MacvlanMode", json_string(mode)) < 0)
			return err_set(err, EINVAL, "%s: invalid macvlan parent", WHAT);
	}
	if (!strcmp(n->driver, "overlay") &&
	    (set(o, "Cluster", json_string(n->cluster ? n->cluster : "")) < 0 ||
	     set(o, "VNI", json_integer((json_int_t)n->vni)) < 0))
		return err_set(err, EINVAL, "%s: invalid overlay cluster", WHAT);
	s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	if (!s)
		return err_errno(err, ENOMEM, WHAT);
	if (strlen(s) > NET_RECORD_MAX)
		return err_set(err, EFBIG, "%s: larger than %d bytes", WHAT, NET_RECORD_MAX);
	/* What is written must be readable (see the top). */
	if ((r = net_network_decode(s, strlen(s), &check, err)) < 0)
		return r;
	net_network_clear(&check);
	*len = strlen(s);
	*out = steal_ptr(s);
	return 0;
}
