/*
 * engine/networks.c - the `moat network` verbs (see networks.h for the
 * layout under ROOT/networks/ and Docker's rules).
 *
 * Runs in: the moat process, as the invoking user or root. The drivers'
 * create and remove run here too (as root for the kernel-side ones: a
 * root_only driver is refused to a rootless caller before anything is
 * looked at on disk).
 *
 * Invariants:
 *  - an id reaches a path only after it passed the record decoder's check
 *    (64 lower-case hex digits) or came from digest_random_id; a name
 *    never reaches a path at all (records live under their ids);
 *  - ROOT/networks/.lock is held around every change: "is the name
 *    free?", "does the pool overlap?" and "does a container use it?" are
 *    answered and acted on in one step. flock is per open file: each
 *    exported verb takes it once and calls only *_locked helpers after;
 *  - order on disk: a create writes the record (fsync'd) before the
 *    driver touches the host and removes it again if the driver fails; a
 *    remove asks the driver first and drops the record after. So a
 *    record may exist whose host side is missing (start's
 *    driver->create brings it back), never host state without a record;
 *  - a record that does not decode is never removed behind the user's
 *    back: list warns, resolve ignores it, only its directory's owner
 *    (or a crashed create, which leaves no record at all) is debris.
 */
#include "engine/networks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "engine/containers.h"
#include "engine/lifecycle.h"
#include "net/netlink.h"

#define NETS_DIR "networks"
#define RECORD "network.json"
#define LEASES "leases"
#define LOCK ".lock"

/* The networks that exist without a record (see networks.h). */
static const char *const builtin[] = {"none", "host"};

/* ---- small helpers ---- */

static bool is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

static bool id_ok(const char *s)
{
	return strlen(s) == NET_ID_HEX && is_hex(s);
}

/* Docker's answer for a network that is not there. The exit status is
 * the caller's: 1 for the network verbs, 125 for run and create (as
 * Docker's CLI gives them). */
static int not_found(const char *ref, struct err **err)
{
	char q[80];

	return err_set(err, ENOENT, "network %s not found", net_shown(ref, q, sizeof(q)));
}

static int predefined_err(const char *name, struct err **err)
{
	return err_set(err, EPERM, "%s is a pre-defined network and cannot be removed", name);
}

/* A limit of moat's, not a refusal of the request: exit 125, as for
 * what moat cannot do (the lead's network_bridge.bats holds it to that). */
static int root_only_err(const struct net_driver *d, struct err **err)
{
	err_set(err, EPERM,
		"%s networks need root for now: moat cannot yet create them in a rootless "
		"user's own network namespace (use --network none, or run moat as root)",
		d->name);
	if (err && *err)
		(*err)->exit = 125;
	return -EPERM;
}

bool engine_network_predefined(const char *name)
{
	return !strcmp(name, "bridge") || !strcmp(name, "host") || !strcmp(name, "none") ||
	       !strcmp(name, "default");
}

/* Removed for good only as one of the predefined networks that exist. */
static bool unremovable(const char *name)
{
	return !strcmp(name, ENGINE_NETWORK_DEFAULT) || !strcmp(name, "host") ||
	       !strcmp(name, "none");
}

static int host_routes_overlap(const struct net_cidr *c, char *dev, size_t size, struct err **err)
{
	_cleanup_nl_ struct net_nl *nl = NULL;
	int r = net_nl_open(&nl, err);

	if (r < 0)
		return r;
	return net_nl_routes_overlap(nl, c, dev, size, err);
}

static void env_fill(const struct engine_network_env *in, struct engine_network_env *out)
{
	out->drivers = in && in->drivers ? in->drivers : net_driver_all();
	out->route_overlap = in && in->route_overlap ? in->route_overlap : host_routes_overlap;
}

static const struct net_driver *driver_find(const struct engine_network_env *env, const char *name)
{
	for (size_t i = 0; env->drivers[i]; i++)
		if (!strcmp(env->drivers[i]->name, name))
			return env->drivers[i];
	return NULL;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "none" or "host": no record, an id derived from the name. */
static void builtin_network(const char *name, struct net_network *out)
{
	char seed[64];

	memset(out, 0, sizeof(*out));
	snprintf(seed, sizeof(seed), "moat predefined network %s", name);
	digest_sha256_hex(seed, strlen(seed), out->id);
	snprintf(out->name, sizeof(out->name), "%s", name);
	snprintf(out->driver, sizeof(out->driver), "%s", name);
}

/* ---- the directory and its lock ---- */

/* An fd of ROOT/networks; with CREATE made (0700) when missing. Without
 * CREATE a missing directory is -ENOENT and no error is set. */
static int nets_open(const char *root, bool create, struct err **err)
{
	_cleanup_free_ char *path = NULL;
	int fd, r;

	if (asprintf(&path, "%s/" NETS_DIR, root) < 0) {
		path = NULL;
		return err_errno(err, ENOMEM, "networks");
	}
	if (create && (r = fs_mkdir_p(path, 0700, err)) < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return -ENOENT;
		return err_errno(err, errno, "open \"%s\"", path);
	}
	return fd;
}

static int lock_at(int vfd, struct err **err)
{
	_cleanup_close_ int fd = -1;

	fd = openat(vfd, LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_errno(err, errno, "open the networks' lock");
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "lock the networks");
	return steal_fd(fd);
}

int engine_network_lock(const struct engine_ctx *c, struct err **err)
{
	_cleanup_close_ int vfd = nets_open(c->root, true, err);

	if (vfd < 0)
		return vfd;
	return lock_at(vfd, err);
}

/* ---- records ---- */

/* The record of ID (valid) in VFD. -ENOENT without an error for a missing
 * directory or record (debris); other errors name the file. */
static int load_at(const char *root, int vfd, const char *id, struct net_network *out,
		   struct err **err)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int dfd = -1;
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	dfd = openat(vfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return -ENOENT;
		return err_errno(err, errno, "network %s", id);
	}
	r = fs_read_at(dfd, RECORD, NET_RECORD_MAX, &buf, &len, err);
	if (r == -ENOENT) {
		err_free(err);
		return -ENOENT;
	}
	if (r == 0) {
		r = net_network_decode(buf, len, out, err);
		if (r == 0 && strcmp(out->id, id) != 0) {
			net_network_clear(out);
			r = err_set(err, EINVAL, "the record names another network");
		}
	}
	if (r < 0)
		return err_prefix(err, "\"%s/" NETS_DIR "/%s/" RECORD "\"", root, id);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct net_network *)a)->name, ((const struct net_network *)b)->name);
}

static int push(struct net_network **v, size_t *n, struct net_network *one)
{
	struct net_network *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = *one;
	memset(one, 0, sizeof(*one));
	return 0;
}

/* Appends every record in VFD that decodes to *OUT (*N entries), sorted
 * by name among themselves. One that does not decode is a warning (it may
 * be a newer moat's: it is kept, not removed). */
static int list_at(const char *root, int vfd, struct net_network **out, size_t *n, struct err **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t first = *n;
	int dup_fd;

	/* A new open file of the directory, not a dup: a dup would share
	 * the read position another walk of VFD left at the end. */
	dup_fd = openat(vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dup_fd < 0)
		return err_errno(err, errno, "list networks");
	d = fdopendir(dup_fd);
	if (!d) {
		close(dup_fd);
		return err_errno(err, errno, "list networks");
	}
	while ((de = readdir(d))) {
		struct net_network one;
		struct err *e = NULL;
		int r;

		if (!id_ok(de->d_name))
			continue; /* ".", "..", ".lock", strays */
		r = load_at(root, vfd, de->d_name, &one, &e);
		if (r == -ENOENT)
			continue; /* debris */
		if (r < 0) {
			fprintf(stderr, "moat: warning: ignoring a network: %s\n",
				e ? e->msg : "error");
			err_free(&e);
			continue;
		}
		if (push(out, n, &one) < 0) {
			net_network_clear(&one);
			return err_errno(err, ENOMEM, "list networks");
		}
	}
	if (*n - first > 1)
		qsort(*out + first, *n - first, sizeof(**out), by_name);
	return 0;
}

/* "none", "host" and every record (by name). */
static int all_networks(const char *root, struct net_network **out, size_t *n, struct err **err)
{
	_cleanup_close_ int vfd = -1;
	int r;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++) {
		struct net_network one;

		builtin_network(builtin[i], &one);
		if (push(out, n, &one) < 0)
			return err_errno(err, ENOMEM, "list networks");
	}
	vfd = nets_open(root, false, err);
	if (vfd == -ENOENT)
		return 0;
	if (vfd < 0 || (r = list_at(root, vfd, out, n, err)) < 0) {
		net_network_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return vfd < 0 ? vfd : r;
	}
	return 0;
}

/* Docker's lookup order: a full id, then a name, then a unique id prefix. */
static int resolve(const struct net_network *v, size_t n, const char *ref, size_t *at,
		   struct err **err)
{
	size_t len = strlen(ref), hits = 0;
	char q[80];

	for (size_t i = 0; len == NET_ID_HEX && i < n; i++)
		if (!strcmp(v[i].id, ref)) {
			*at = i;
			return 0;
		}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, ref)) {
			*at = i;
			return 0;
		}
	for (size_t i = 0; len && len < NET_ID_HEX && is_hex(ref) && i < n; i++)
		if (!strncmp(v[i].id, ref, len)) {
			*at = i;
			hits++;
		}
	if (hits == 1)
		return 0;
	if (hits > 1)
		return err_set(err, EINVAL,
			       "network %s is ambiguous (%zu matches found based on ID prefix)",
			       net_shown(ref, q, sizeof(q)), hits);
	return not_found(ref, err);
}

/* Removes the directory of ID: the record first (fsync'd: from then on
 * the network does not exist), then its leases. A failure after the
 * record went is a warning: what is left is debris, which create clears. */
static int drop_record(const char *root, int vfd, const char *id, struct err **err)
{
	_cleanup_close_ int dfd = -1;
	struct err *e = NULL;

	dfd = openat(vfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return err_errno(err, errno, "remove network %s", id);
	if (unlinkat(dfd, RECORD, 0) < 0 && errno != ENOENT)
		return err_errno(err, errno, "remove network %s", id);
	if (fsync(dfd) < 0)
		return err_errno(err, errno, "remove network %s: fsync", id);
	if (fs_rm_rf_at(vfd, id, &e) < 0) {
		fprintf(stderr,
			"moat: warning: network %s removed, but not its directory: %s (in "
			"\"%s/" NETS_DIR "\", removed later)\n",
			id, e->msg, root);
		err_free(&e);
	}
	return 0;
}

/* Debris of crashed creates and removes: directories named like an id
 * without a record. Under the lock, so none is a create in progress. */
static void clean_debris(int vfd)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int dup_fd = openat(vfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* see list_at */

	if (dup_fd < 0)
		return;
	if (!(d = fdopendir(dup_fd))) {
		close(dup_fd);
		return;
	}
	while ((de = readdir(d))) {
		_cleanup_close_ int dfd = -1;
		struct err *e = NULL;
		struct stat st;

		if (!id_ok(de->d_name))
			continue;
		dfd = openat(vfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0 || fstatat(dfd, RECORD, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		    errno != ENOENT)
			continue;
		fs_rm_rf_at(vfd, de->d_name, &e);
		err_free(&e);
	}
}

/* Makes N's directory (0700), its leases directory when it has a pool,
 * and last its record REC (0600), all fsync'd; on failure nothing stays. */
static int write_record(int vfd, const struct net_network *n, const char *rec, size_t len,
			struct err **err)
{
	_cleanup_close_ int dfd = -1;
	struct err *e = NULL;
	int r;

	if (mkdirat(vfd, n->id, 0700) < 0)
		return err_errno(err, errno, "create network %s", n->name);
	dfd = openat(vfd, n->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = err_errno(err, errno, "create network %s", n->name);
		goto undo;
	}
	if (fchmod(dfd, 0700) < 0 || (n->has_pool && mkdirat(dfd, LEASES, 0700) < 0)) {
		r = err_errno(err, errno, "create network %s", n->name);
		goto undo;
	}
	if ((r = fs_write_atomic(dfd, RECORD, rec, len, 0600, err)) < 0) {
		err_prefix(err, "create network %s", n->name);
		goto undo;
	}
	if (fsync(dfd) < 0 || fsync(vfd) < 0) {
		r = err_errno(err, errno, "create network %s: fsync", n->name);
		goto undo;
	}
	return 0;
undo:
	fs_rm_rf_at(vfd, n->id, &e);
	err_free(&e);
	return r;
}

/* ---- create ---- */

/* LABELS or OPTIONS as the record takes them: "k=v", keys non-empty and
 * unique. WHAT names the flag. */
static int kv_check(char *const *kv, const char *what, struct err **err)
{
	char q[80];

	for (size_t i = 0; kv && kv[i]; i++) {
		size_t kl = strcspn(kv[i], "=");

		if (kl == 0 || !kv[i][kl])
			return err_set(err, EINVAL, "invalid %s \"%s\": expected KEY=VALUE", what,
				       net_shown(kv[i], q, sizeof(q)));
		for (size_t j = 0; j < i; j++)
			if (!strncmp(kv[j], kv[i], kl + 1))
				return err_set(err, EINVAL, "%s \"%.*s\" is given twice", what,
					       (int)kl, kv[i]);
	}
	return 0;
}

static int strv_copy(char *const *in, char ***out, struct err **err)
{
	size_t n = 0;
	_cleanup_strv_ char **r = NULL;

	*out = NULL;
	while (in && in[n])
		n++;
	if (n == 0)
		return 0; /* the record's "none" */
	r = calloc(n + 1, sizeof(char *));
	if (!r)
		return err_errno(err, ENOMEM, "create network");
	for (size_t i = 0; i < n; i++)
		if (!(r[i] = strdup(in[i])))
			return err_errno(err, ENOMEM, "create network");
	*out = steal_ptr(r);
	return 0;
}

/* --subnet, --ip-range and --gateway into POOL; *GIVEN is false (and POOL
 * untouched) without a subnet. */
static int pool_from_flags(const struct engine_network_create_opts *o, struct net_pool *pool,
			   bool *given, struct err **err)
{
	bool has_range = o->ip_range && *o->ip_range, has_gw = o->gateway && *o->gateway;
	struct net_cidr subnet, range;
	struct net_addr gw;
	char q[80];
	int r;

	*given = o->subnet && *o->subnet;
	if (!*given) {
		if (has_range || has_gw)
			return err_set(
			    err, EINVAL,
			    "every ip-range or gateway must have a corresponding subnet");
		return 0;
	}
	if ((r = net_cidr_parse(o->subnet, "subnet", &subnet, err)) < 0)
		return r;
	if (subnet.addr.family != AF_INET)
		return err_set(err, EINVAL,
			       "invalid subnet %s: moat networks are IPv4 only for now",
			       net_shown(o->subnet, q, sizeof(q)));
	if (has_range && (r = net_cidr_parse(o->ip_range, "ip-range", &range, err)) < 0)
		return r;
	if (has_gw && (r = net_addr_parse(o->gateway, &gw, err)) < 0)
		return err_prefix(err, "invalid gateway");
	if (has_range && (r = net_cidr_range_check(&subnet, &range, err)) < 0)
		return r;
	if (!has_gw &&
	    (r = net_cidr_gateway_default(&subnet, has_range ? &range : NULL, &gw, err)) < 0)
		return r;
	return net_pool_init(pool, &subnet, has_range ? &range : NULL, &gw, err);
}

/* Is C free of the pools of the N networks V, and of the default
 * network's pool (reserved even before its record exists)? Says which it
 * overlaps otherwise. */
static int pool_free(const struct net_cidr *c, const struct net_network *v, size_t n,
		     struct err **err)
{
	char s[NET_CIDR_TEXT_MAX], o[NET_CIDR_TEXT_MAX];
	bool have_default = false;
	struct net_cidr def;

	net_cidr_format(c, s);
	for (size_t i = 0; i < n; i++) {
		have_default |= !strcmp(v[i].name, ENGINE_NETWORK_DEFAULT);
		if (!v[i].has_pool || !net_cidr_overlap(c, &v[i].pool.subnet))
			continue;
		net_cidr_format(&v[i].pool.subnet, o);
		return err_set(err, EADDRINUSE,
			       "invalid pool request: Pool overlaps with other one on this address "
			       "space (%s overlaps %s of network %s)",
			       s, o, v[i].name);
	}
	if (!have_default &&
	    net_cidr_parse(ENGINE_NETWORK_DEFAULT_SUBNET, "subnet", &def, NULL) == 0 &&
	    net_cidr_overlap(c, &def))
		return err_set(err, EADDRINUSE,
			       "invalid pool request: Pool overlaps with other one on this address "
			       "space (%s overlaps " ENGINE_NETWORK_DEFAULT_SUBNET
			       " of network " ENGINE_NETWORK_DEFAULT ", the default network)",
			       s);
	return 0;
}

/* 0 when no route of the host overlaps C; EADDRINUSE naming it if one
 * does. */
static int route_free(const struct engine_network_env *env, const struct net_cidr *c,
		      struct err **err)
{
	char dev[IFNAMSIZ + 1] = "", s[NET_CIDR_TEXT_MAX];
	int r = env->route_overlap(c, dev, sizeof(dev), err);

	net_cidr_format(c, s);
	if (r < 0)
		return err_prefix(err, "check the host's routes for %s", s);
	if (r > 0)
		return err_set(err, EADDRINUSE,
			       "invalid pool request: %s overlaps a route of the host (dev %s): "
			       "choose another --subnet",
			       s, dev[0] ? dev : "none");
	return 0;
}

/* The first /24 of ENGINE_NETWORK_AUTO_POOL that is free (pool_free and
 * route_free), as a pool with its first address as the gateway. */
static int pool_pick(const struct engine_network_env *env, const struct net_network *v, size_t n,
		     struct net_pool *pool, struct err **err)
{
	struct net_cidr base, cand;
	struct net_addr gw;
	int r;

	if ((r = net_cidr_parse(ENGINE_NETWORK_AUTO_POOL, "subnet", &base, err)) < 0)
		return r;
	for (unsigned i = 0; i < 1u << (ENGINE_NETWORK_AUTO_BITS - base.bits); i++) {
		struct err *e = NULL;

		cand = base;
		cand.bits = ENGINE_NETWORK_AUTO_BITS;
		cand.addr.b[2] = (uint8_t)(base.addr.b[2] + i);
		if (pool_free(&cand, v, n, NULL) < 0)
			continue;
		r = route_free(env, &cand, &e);
		if (r == -EADDRINUSE) {
			err_free(&e);
			continue;
		}
		if (r < 0) {
			if (err) {
				err_free(err);
				*err = e;
			} else {
				err_free(&e);
			}
			return r;
		}
		if ((r = net_cidr_gateway_default(&cand, NULL, &gw, err)) < 0)
			return r;
		return net_pool_init(pool, &cand, NULL, &gw, err);
	}
	return err_set(err, ENOSPC,
		       "could not find an available, non-overlapping IPv4 address pool among the "
		       "defaults to assign to the network");
}

/* The request as a struct net_network, before the lock (no pool yet). */
static int network_from_opts(const struct engine_network_create_opts *o,
			     const struct net_driver *drv, struct net_network *n, struct err **err)
{
	int r;

	memset(n, 0, sizeof(*n));
	if ((r = digest_random_id(n->id, err)) < 0)
		return r;
	snprintf(n->name, sizeof(n->name), "%s", o->name);
	snprintf(n->driver, sizeof(n->driver), "%s", drv->name);
	n->created = now_ns();
	n->internal = o->internal;
	n->dns = true; /* user-defined networks resolve names (Docker's rule) */
	if (!strcmp(drv->name, "bridge"))
		snprintf(n->bridge, sizeof(n->bridge), ENGINE_NETWORK_BRIDGE_PREFIX "%.*s",
			 ENGINE_NETWORK_BRIDGE_HEX, n->id);
	if ((r = strv_copy(o->labels, &n->labels, err)) < 0 ||
	    (r = strv_copy(o->options, &n->options, err)) < 0)
		return r;
	return 0;
}

/* Under the lock: the name is free, the pool chosen or checked, the
 * driver agrees; then the record, then the driver's create. */
static int create_locked(const struct engine_ctx *c, const struct engine_network_env *env, int vfd,
			 const struct net_driver *drv, struct net_network *n,
			 const struct net_pool *flags_pool, bool pool_given,
			 struct net_network *out, struct err **err)
{
	struct net_network *v = NULL;
	_cleanup_free_ char *rec = NULL;
	struct err *e = NULL;
	size_t nv = 0, len = 0;
	int r;

	clean_debris(vfd);
	if ((r = list_at(c->root, vfd, &v, &nv, err)) < 0)
		return r;
	for (size_t i = 0; i < nv; i++)
		if (!strcmp(v[i].name, n->name)) {
			r = err_set(err, EEXIST, "network with name %s already exists", n->name);
			goto out;
		}
	if (drv->has_ipam) {
		n->has_pool = true;
		if (!pool_given) {
			r = pool_pick(env, v, nv, &n->pool, err);
		} else {
			n->pool = *flags_pool;
			/* Only a bridge routes its subnet from the host; a macvlan
			 * network is usually the parent's own LAN (Docker checks
			 * host routes for bridges only). */
			if ((r = pool_free(&n->pool.subnet, v, nv, err)) == 0 && drv->routes_subnet)
				r = route_free(env, &n->pool.subnet, err);
		}
		if (r < 0)
			goto out;
	}
	if (drv->check && (r = drv->check(n, err)) < 0)
		goto out;
	/* One Linux bridge, one network: the driver's create takes over a
	 * bridge that exists, so two records naming one would share it (and
	 * the first rm would pull it from under the other). moat0 is the
	 * default network's, recorded yet or not. */
	for (size_t i = 0; n->bridge[0] && i <= nv; i++) {
		const char *owner = i < nv ? v[i].name : ENGINE_NETWORK_DEFAULT;
		const char *br = i < nv ? v[i].bridge : ENGINE_NETWORK_DEFAULT_BRIDGE;

		if (!strcmp(br, n->bridge)) {
			r = err_set(err, EEXIST, "bridge name %s is already used by network %s",
				    n->bridge, owner);
			goto out;
		}
	}
	if ((r = net_network_encode(n, &rec, &len, err)) < 0) {
		err_prefix(err, "create network %s", n->name);
		goto out;
	}
	if ((r = write_record(vfd, n, rec, len, err)) < 0)
		goto out;
	if (drv->create && (r = drv->create(n, err)) < 0) {
		err_prefix(err, "create network %s", n->name);
		/* Not created: the record goes again (see the top). */
		if (drop_record(c->root, vfd, n->id, &e) < 0) {
			fprintf(stderr, "moat: warning: %s\n", e->msg);
			err_free(&e);
		}
		goto out;
	}
	/* What was written, as a later read will see it. */
	r = net_network_decode(rec, len, out, err);
out:
	net_network_list_free(v, nv);
	return r;
}

int engine_network_create(const struct engine_ctx *c, const struct engine_network_env *env_in,
			  const struct engine_network_create_opts *o, struct net_network *out,
			  struct err **err)
{
	struct engine_network_env env;
	const char *dname = o->driver && *o->driver ? o->driver : "bridge";
	const struct net_driver *drv;
	_cleanup_close_ int vfd = -1, lock = -1;
	struct net_network n = {0};
	struct net_pool pool = {0};
	bool pool_given = false;
	char q[80];
	int r;

	memset(out, 0, sizeof(*out));
	env_fill(env_in, &env);
	/* What needs nothing but the request, first. */
	if (!o->name || !net_network_name_valid(o->name))
		return err_set(err, EINVAL,
			       "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
			       "allowed, at most %d characters",
			       net_shown(o->name ? o->name : "", q, sizeof(q)), NET_NAME_MAX);
	if (engine_network_predefined(o->name))
		return err_set(err, EPERM, "operation is not permitted on predefined %s network",
			       o->name);
	if ((r = kv_check(o->labels, "label", err)) < 0 ||
	    (r = kv_check(o->options, "option", err)) < 0 ||
	    (r = pool_from_flags(o, &pool, &pool_given, err)) < 0)
		return r;
	/* Then the driver, and whether this caller may use it. */
	drv = driver_find(&env, dname);
	if (!drv)
		return err_set(err, ENOENT, "plugin \"%s\" not found",
			       net_shown(dname, q, sizeof(q)));
	if (drv->root_only && c->rootless)
		return root_only_err(drv, err);
	if ((r = network_from_opts(o, drv, &n, err)) < 0)
		goto out;
	if ((vfd = nets_open(c->root, true, err)) < 0) {
		r = vfd;
		goto out;
	}
	if ((lock = lock_at(vfd, err)) < 0) {
		r = lock;
		goto out;
	}
	r = create_locked(c, &env, vfd, drv, &n, &pool, pool_given, out, err);
out:
	net_network_clear(&n);
	return r;
}

/* ---- the default network ---- */

int engine_network_default(const struct engine_ctx *c, struct net_network *out, struct err **err)
{
	_cleanup_close_ int vfd = -1, lock = -1;
	_cleanup_free_ char *rec = NULL;
	struct net_network *v = NULL, n = {0};
	struct net_cidr subnet;
	struct net_addr gw;
	size_t nv = 0, len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if ((vfd = nets_open(c->root, true, err)) < 0)
		return vfd;
	if ((lock = lock_at(vfd, err)) < 0)
		return lock;
	if ((r = list_at(c->root, vfd, &v, &nv, err)) < 0)
		return r;
	for (size_t i = 0; i < nv; i++)
		if (!strcmp(v[i].name, ENGINE_NETWORK_DEFAULT)) {
			r = net_network_copy(out, &v[i], err);
			goto out;
		}
	clean_debris(vfd);
	if ((r = digest_random_id(n.id, err)) < 0)
		goto out;
	snprintf(n.name, sizeof(n.name), ENGINE_NETWORK_DEFAULT);
	snprintf(n.driver, sizeof(n.driver), "bridge");
	snprintf(n.bridge, sizeof(n.bridge), ENGINE_NETWORK_DEFAULT_BRIDGE);
	n.created = now_ns();
	n.dns = false; /* Docker's default bridge has no name resolution */
	n.has_pool = true;
	if ((r = net_cidr_parse(ENGINE_NETWORK_DEFAULT_SUBNET, "subnet", &subnet, err)) < 0 ||
	    (r = net_addr_parse(ENGINE_NETWORK_DEFAULT_GATEWAY, &gw, err)) < 0 ||
	    (r = net_pool_init(&n.pool, &subnet, NULL, &gw, err)) < 0 ||
	    (r = net_network_encode(&n, &rec, &len, err)) < 0 ||
	    (r = write_record(vfd, &n, rec, len, err)) < 0)
		goto out;
	r = net_network_decode(rec, len, out, err);
out:
	net_network_list_free(v, nv);
	return r;
}

/* ---- inspect, list ---- */

int engine_network_inspect(const struct engine_ctx *c, const char *ref, struct net_network *out,
			   struct err **err)
{
	struct net_network *v = NULL;
	size_t n = 0, at = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (!ref || !*ref)
		return not_found("", err);
	if ((r = all_networks(c->root, &v, &n, err)) < 0)
		return r;
	if ((r = resolve(v, n, ref, &at, err)) == 0)
		r = net_network_copy(out, &v[at], err);
	net_network_list_free(v, n);
	return r;
}

int engine_network_list(const struct engine_ctx *c, struct net_network **out, size_t *n,
			struct err **err)
{
	return all_networks(c->root, out, n, err);
}

/* ---- users ---- */

/*
 * A container names its network in its record: `net` holds "none",
 * "host" or the network's name as given to --network, and the network's
 * id once create settled it (netreq.network_id). The id wins: a name can
 * be taken again by a network created after this one was removed.
 */
bool engine_network_uses(const struct container_record *r, const struct net_network *n)
{
	if (r->netreq.network_id)
		return !strcmp(r->netreq.network_id, n->id);
	return r->net && !strcmp(r->net, n->name);
}

/* The ids of the N containers E that use network NET (NULL-terminated). */
static int users_of(const struct container_entry *e, size_t n, const struct net_network *net,
		    char ***ids, struct err **err)
{
	size_t k = 0;

	if (!(*ids = calloc(n + 1, sizeof(char *))))
		return err_errno(err, ENOMEM, "network users");
	for (size_t i = 0; i < n; i++) {
		if (!engine_network_uses(&e[i].rec, net))
			continue;
		if (!((*ids)[k++] = strdup(e[i].rec.id))) {
			strvfree(*ids);
			*ids = NULL;
			return err_errno(err, ENOMEM, "network users");
		}
	}
	return 0;
}

int engine_network_users(const struct engine_ctx *c, const struct net_network *n, char ***ids,
			 struct err **err)
{
	struct container_entry *e = NULL;
	size_t ne = 0;
	int r;

	*ids = NULL;
	if ((r = engine_container_list(c->root, c->runroot, &e, &ne, err)) < 0)
		return r;
	r = users_of(e, ne, n, ids, err);
	engine_container_list_free(e, ne);
	return r;
}

/* ---- remove, prune ---- */

/* Under the lock, N's users being E (NE of them): refused while one
 * uses it; else the driver's remove, then the record. */
static int remove_locked(const struct engine_ctx *c, const struct engine_network_env *env, int vfd,
			 const struct net_network *n, const struct container_entry *e, size_t ne,
			 struct err **err)
{
	_cleanup_strv_ char **ids = NULL;
	const struct net_driver *drv;
	int r;

	if ((r = users_of(e, ne, n, &ids, err)) < 0)
		return r;
	if (ids[0])
		return err_set(
		    err, EBUSY,
		    "error while removing network: network %s id %s has active endpoints", n->name,
		    n->id);
	drv = driver_find(env, n->driver);
	if (!drv)
		return err_set(err, ENOENT, "remove network %s: plugin \"%s\" not found", n->name,
			       n->driver);
	if (drv->root_only && c->rootless)
		return root_only_err(drv, err);
	if (drv->remove && (r = drv->remove(n, err)) < 0)
		return err_prefix(err, "remove network %s", n->name);
	return drop_record(c->root, vfd, n->id, err);
}

int engine_network_remove(const struct engine_ctx *c, const struct engine_network_env *env_in,
			  const char *ref, bool force, struct net_network *removed,
			  struct err **err)
{
	struct engine_network_env env;
	struct net_network *v = NULL, n = {0};
	struct container_entry *e = NULL;
	_cleanup_close_ int vfd = -1, lock = -1;
	char id[NET_ID_HEX + 1] = "";
	size_t nv = 0, ne = 0, at = 0;
	int r;

	if (removed)
		memset(removed, 0, sizeof(*removed));
	env_fill(env_in, &env);
	if (!ref)
		ref = "";
	/* "bridge" too before its first use: it is Docker's answer. */
	if (unremovable(ref))
		return predefined_err(ref, err);
	if ((r = all_networks(c->root, &v, &nv, err)) < 0)
		return r;
	r = *ref ? resolve(v, nv, ref, &at, err) : not_found(ref, err);
	if (r == 0 && unremovable(v[at].name))
		r = predefined_err(v[at].name, err);
	if (r == 0)
		snprintf(id, sizeof(id), "%s", v[at].id);
	net_network_list_free(v, nv);
	if (r < 0)
		goto missing;
	vfd = nets_open(c->root, false, err);
	if (vfd == -ENOENT) {
		r = not_found(ref, err);
		goto missing;
	}
	if (vfd < 0)
		return vfd;
	if ((lock = lock_at(vfd, err)) < 0)
		return lock;
	/* It may have gone, or changed, while the lock was awaited. */
	r = load_at(c->root, vfd, id, &n, err);
	if (r == -ENOENT) {
		r = not_found(ref, err);
		goto missing;
	}
	if (r < 0)
		return r;
	if ((r = engine_container_list(c->root, c->runroot, &e, &ne, err)) == 0) {
		r = remove_locked(c, &env, vfd, &n, e, ne, err);
		engine_container_list_free(e, ne);
	}
	if (r == 0 && removed) {
		*removed = n;
		memset(&n, 0, sizeof(n));
	}
	net_network_clear(&n);
	return r;
missing:
	if (r == -ENOENT && force) {
		err_free(err);
		return 0;
	}
	return r;
}

int engine_network_prune(const struct engine_ctx *c, const struct engine_network_env *env_in,
			 const struct prune_filter *f, char ***removed, struct err **err)
{
	struct engine_network_env env;
	struct net_network *v = NULL;
	struct container_entry *e = NULL;
	_cleanup_close_ int vfd = -1, lock = -1;
	size_t nv = 0, ne = 0, k = 0;
	int r;

	env_fill(env_in, &env);
	if (!(*removed = calloc(1, sizeof(char *))))
		return err_errno(err, ENOMEM, "network prune");
	vfd = nets_open(c->root, false, err);
	if (vfd == -ENOENT)
		return 0;
	if (vfd < 0 || (lock = lock_at(vfd, err)) < 0) {
		r = vfd < 0 ? vfd : lock;
		goto fail;
	}
	if ((r = list_at(c->root, vfd, &v, &nv, err)) < 0 ||
	    (r = engine_container_list(c->root, c->runroot, &e, &ne, err)) < 0)
		goto fail;
	free(*removed);
	if (!(*removed = calloc(nv + 1, sizeof(char *)))) {
		r = err_errno(err, ENOMEM, "network prune");
		goto fail;
	}
	for (size_t i = 0; i < nv; i++) {
		struct err *e2 = NULL;

		/* the default network is predefined: never pruned (Docker) */
		if (!strcmp(v[i].name, ENGINE_NETWORK_DEFAULT) ||
		    (f && !prune_filter_match(f, v[i].created, v[i].labels)))
			continue;
		if (remove_locked(c, &env, vfd, &v[i], e, ne, &e2) < 0) {
			if (e2 && e2->code != EBUSY)
				fprintf(stderr, "moat: warning: %s\n", e2->msg);
			err_free(&e2);
			continue;
		}
		if (!((*removed)[k++] = strdup(v[i].name))) {
			r = err_errno(err, ENOMEM, "network prune");
			goto fail;
		}
	}
	engine_container_list_free(e, ne);
	net_network_list_free(v, nv);
	return 0;
fail:
	engine_container_list_free(e, ne);
	net_network_list_free(v, nv);
	strvfree(*removed);
	*removed = NULL;
	return r;
}

int engine_network_ipam_open(const struct engine_ctx *c, const struct net_network *n,
			     struct net_ipam **out, struct err **err)
{
	_cleanup_free_ char *dir = NULL;
	bool whole = n->pool.range.bits == n->pool.subnet.bits &&
		     net_addr_equal(&n->pool.range.addr, &n->pool.subnet.addr);

	*out = NULL;
	if (!id_ok(n->id))
		return err_set(err, EINVAL, "network %s: invalid id", n->name);
	if (!n->has_pool)
		return err_set(err, EINVAL, "network %s has no address pool", n->name);
	if (asprintf(&dir, "%s/" NETS_DIR "/%s/" LEASES, c->root, n->id) < 0) {
		dir = NULL;
		return err_errno(err, ENOMEM, "network %s", n->name);
	}
	return net_ipam_open(dir, &n->pool.subnet, whole ? NULL : &n->pool.range,
			     n->pool.has_gateway ? &n->pool.gateway : NULL, out, err);
}
