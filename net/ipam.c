/*
 * net/ipam.c - persistent address leases of one network (see net/ipam.h
 * for the layout on disk and the rules).
 *
 * Runs in: the moat process and the monitor, as the user that owns moat's
 * state; several processes use one lease directory at once.
 *
 * Threats and what handles them:
 *  - two processes picking the same free address: the lease file is
 *    created with O_EXCL, so the second gets EEXIST and moves on (the
 *    .lock flock makes that rare; O_EXCL makes it impossible);
 *  - a process dying between creating a lease file and writing its owner:
 *    it held .lock, which the kernel releases at its death; the empty file
 *    stays "held by an unknown owner" until net_ipam_reclaim, which under
 *    the same lock knows no live writer can be behind it;
 *  - a stale or forged .next: it is only a hint; a value that is not a
 *    usable address of the pool is ignored;
 *  - odd entries in the directory (a symlink, a FIFO, a directory named
 *    like an address): a lease file is opened O_NOFOLLOW|O_NONBLOCK and
 *    must be a regular file, or it counts as damaged; names that are not
 *    canonical addresses of the subnet are not leases and are left alone.
 *
 * Cost: each call lists the directory once (one entry per lease) under the
 * lock; dynamic allocation then walks the pool from the hint in memory and
 * stops at the first address without a lease, so it tries at most (leases
 * + 1) addresses, and reports exhaustion only after a whole turn.
 */
#include "net/ipam.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

/* A lease file holds an owner id and "\n"; anything longer is damaged. */
#define LEASE_FILE_MAX (NET_IPAM_OWNER_MAX + 1)
/* Owner ids in messages are cut to Docker's short id length. */
#define SHORT_ID "%.12s"

struct net_ipam {
	int dirfd;
	char *dir;
	struct net_pool pool;
};

static bool owner_valid(const char *s)
{
	size_t n = strnlen(s, NET_IPAM_OWNER_MAX + 1);

	if (n == 0 || n > NET_IPAM_OWNER_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum =
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

static int check_owner(const char *owner, struct err **err)
{
	if (!owner_valid(owner))
		return err_set(err, EINVAL, "invalid lease owner id \"%.*s\"", NET_IPAM_OWNER_MAX,
			       owner);
	return 0;
}

int net_ipam_open(const char *dir, const struct net_cidr *subnet, const struct net_cidr *range,
		  const struct net_addr *gateway, struct net_ipam **out, struct err **err)
{
	_cleanup_ipam_ struct net_ipam *ipam = NULL;
	int r;

	ipam = calloc(1, sizeof(*ipam));
	if (!ipam)
		return err_errno(err, ENOMEM, "leases in \"%s\"", dir);
	ipam->dirfd = -1;
	ipam->dir = strdup(dir);
	if (!ipam->dir)
		return err_errno(err, ENOMEM, "leases in \"%s\"", dir);
	r = net_pool_init(&ipam->pool, subnet, range, gateway, err);
	if (r < 0)
		return r;
	r = fs_mkdir_p(dir, 0700, err);
	if (r < 0)
		return err_prefix(err, "leases in \"%s\"", dir);
	ipam->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ipam->dirfd < 0)
		return err_errno(err, errno, "leases in \"%s\"", dir);
	*out = steal_ptr(ipam);
	return 0;
}

void net_ipam_close(struct net_ipam *ipam)
{
	if (!ipam)
		return;
	if (ipam->dirfd >= 0)
		close(ipam->dirfd);
	free(ipam->dir);
	free(ipam);
}

/* Takes .lock (OP: LOCK_EX or LOCK_SH); the returned fd holds it until it
 * is closed. A fresh open file description each time, so that a forked
 * child never shares a lock with its parent. */
static int lock_dir(struct net_ipam *ipam, int op, struct err **err)
{
	_cleanup_close_ int fd = -1;

	fd = openat(ipam->dirfd, NET_IPAM_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return err_errno(err, errno, "lock leases in \"%s\"", ipam->dir);
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return err_errno(err, errno, "lock leases in \"%s\"", ipam->dir);
	return steal_fd(fd);
}

static int addr_cmp(const void *a, const void *b)
{
	/* Same family throughout; network byte order sorts numerically. */
	return memcmp(((const struct net_addr *)a)->b, ((const struct net_addr *)b)->b, 16);
}

/* NAME is the canonical text of an address of the subnet: a lease. */
static bool lease_name(const struct net_ipam *ipam, const char *name, struct net_addr *a)
{
	char canon[NET_ADDR_TEXT_MAX];

	if (name[0] == '.' || net_addr_parse(name, a, NULL) < 0 ||
	    !net_cidr_contains(&ipam->pool.subnet, a))
		return false;
	net_addr_format(a, canon);
	return !strcmp(canon, name);
}

/* The leased addresses, sorted. Call with the lock held. */
static int scan(struct net_ipam *ipam, struct net_addr **out, size_t *n, struct err **err)
{
	_cleanup_free_ struct net_addr *v = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t used = 0, cap = 0;
	struct dirent *de;
	int fd;

	fd = openat(ipam->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "list leases in \"%s\"", ipam->dir);
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		return err_errno(err, e, "list leases in \"%s\"", ipam->dir);
	}
	for (;;) {
		struct net_addr a;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!lease_name(ipam, de->d_name, &a))
			continue;
		if (used == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct net_addr *nv = reallocarray(v, ncap, sizeof(*v));

			if (!nv)
				return err_errno(err, ENOMEM, "list leases in \"%s\"", ipam->dir);
			v = nv;
			cap = ncap;
		}
		v[used++] = a;
	}
	if (errno)
		return err_errno(err, errno, "list leases in \"%s\"", ipam->dir);
	if (used)
		qsort(v, used, sizeof(*v), addr_cmp);
	*out = steal_ptr(v);
	*n = used;
	return 0;
}

static bool leased(const struct net_addr *set, size_t n, const struct net_addr *a)
{
	return n && bsearch(a, set, n, sizeof(*set), addr_cmp);
}

/*
 * The owner of lease NAME into OWNER: 0 a valid owner, 1 damaged (OWNER
 * ""), -ENOENT no such lease; another negative errno (with ERR set) when
 * it cannot be read at all.
 */
static int read_owner(struct net_ipam *ipam, const char *name, char owner[NET_IPAM_OWNER_MAX + 1],
		      struct err **err)
{
	_cleanup_close_ int fd = -1;
	char buf[LEASE_FILE_MAX + 1];
	struct stat st;
	size_t used = 0;

	owner[0] = '\0';
	fd = openat(ipam->dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		if (errno == ELOOP || errno == ENXIO || errno == EISDIR)
			return 1; /* a symlink, a socket, ...: not a lease file */
		return err_errno(err, errno, "read lease \"%s/%s\"", ipam->dir, name);
	}
	if (fstat(fd, &st) < 0)
		return err_errno(err, errno, "read lease \"%s/%s\"", ipam->dir, name);
	if (!S_ISREG(st.st_mode))
		return 1;
	while (used < sizeof(buf)) {
		ssize_t k = read(fd, buf + used, sizeof(buf) - used);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_errno(err, errno, "read lease \"%s/%s\"", ipam->dir, name);
		if (k == 0)
			break;
		used += (size_t)k;
	}
	/* Exactly OWNER "\n": a short, long or odd file is a torn write. */
	if (used < 2 || used > LEASE_FILE_MAX || buf[used - 1] != '\n')
		return 1;
	buf[used - 1] = '\0';
	if (strlen(buf) != used - 1 || !owner_valid(buf))
		return 1;
	memcpy(owner, buf, used);
	return 0;
}

/* Creates the lease of A for OWNER: -EEXIST (ERR untouched) when the
 * address is taken. Call with the lock held. */
static int create_lease(struct net_ipam *ipam, const struct net_addr *a, const char *owner,
			struct err **err)
{
	char name[NET_ADDR_TEXT_MAX], text[NET_IPAM_OWNER_MAX + 2];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(owner);
	int r;

	net_addr_format(a, name);
	fd = openat(ipam->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return -EEXIST;
		return err_errno(err, errno, "lease %s in \"%s\"", name, ipam->dir);
	}
	memcpy(text, owner, len);
	text[len] = '\n';
	r = fs_write_all(fd, text, len + 1);
	if (r < 0) {
		unlinkat(ipam->dirfd, name, 0);
		return err_errno(err, -r, "lease %s in \"%s\"", name, ipam->dir);
	}
	return 0;
}

static int remove_lease(struct net_ipam *ipam, const char *name, struct err **err)
{
	if (unlinkat(ipam->dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	/* An (empty) directory under a lease's name is damage too. */
	if (errno == EISDIR && unlinkat(ipam->dirfd, name, AT_REMOVEDIR) == 0)
		return 0;
	return err_errno(err, errno, "remove lease \"%s/%s\"", ipam->dir, name);
}

static void write_hint(struct net_ipam *ipam, const struct net_addr *next)
{
	char text[NET_ADDR_TEXT_MAX];
	struct err *e = NULL;

	/* Best effort: a lost hint only makes the next allocation start
	 * from the beginning of the range. */
	net_addr_format(next, text);
	if (fs_write_atomic_ex(ipam->dirfd, NET_IPAM_HINT_NAME, text, strlen(text), 0600, false,
			       &e) < 0)
		err_free(&e);
}

/* Where dynamic allocation starts: the hint when it is usable. */
static bool hint_start(struct net_ipam *ipam, struct net_addr *start)
{
	_cleanup_free_ char *text = NULL;
	struct err *e = NULL;
	struct net_addr a;

	if (fs_read_at(ipam->dirfd, NET_IPAM_HINT_NAME, NET_ADDR_TEXT_MAX, &text, NULL, &e) == 0 &&
	    net_addr_parse(text, &a, NULL) == 0 && net_pool_usable(&ipam->pool, &a)) {
		*start = a;
		return true;
	}
	err_free(&e);
	return net_pool_first(&ipam->pool, start);
}

static int no_space(struct net_ipam *ipam, struct err **err)
{
	char s[NET_CIDR_TEXT_MAX], r[NET_CIDR_TEXT_MAX];

	net_cidr_format(&ipam->pool.subnet, s);
	net_cidr_format(&ipam->pool.range, r);
	if (!strcmp(s, r))
		return err_set(err, ENOSPC, "no free address in %s", s);
	return err_set(err, ENOSPC, "no free address in %s (ip-range %s)", s, r);
}

static int allocate_any(struct net_ipam *ipam, const char *owner, struct net_addr *out,
			struct err **err)
{
	_cleanup_free_ struct net_addr *set = NULL;
	struct net_addr start, cand, next;
	size_t n = 0;
	int r;

	r = scan(ipam, &set, &n, err);
	if (r < 0)
		return r;
	if (!hint_start(ipam, &start))
		return no_space(ipam, err);
	cand = start;
	do {
		if (!leased(set, n, &cand)) {
			r = create_lease(ipam, &cand, owner, err);
			if (r == 0) {
				next = cand;
				net_pool_next(&ipam->pool, &next);
				write_hint(ipam, &next);
				*out = cand;
				return 0;
			}
			if (r != -EEXIST)
				return r;
		}
	} while (net_pool_next(&ipam->pool, &cand) && !net_addr_equal(&cand, &start));
	return no_space(ipam, err);
}

/* Why WANT cannot be leased at all, whoever holds what. */
static int check_want(struct net_ipam *ipam, const struct net_addr *want, struct err **err)
{
	const struct net_pool *p = &ipam->pool;
	char a[NET_ADDR_TEXT_MAX], s[NET_CIDR_TEXT_MAX], r[NET_CIDR_TEXT_MAX];

	net_addr_format(want, a);
	net_cidr_format(&p->subnet, s);
	net_cidr_format(&p->range, r);
	if (!net_cidr_contains(&p->subnet, want))
		return err_set(err, EINVAL, "address %s is not in subnet %s", a, s);
	if (net_cidr_is_network(&p->subnet, want))
		return err_set(err, EINVAL, "address %s is the network address of %s", a, s);
	if (net_cidr_is_broadcast(&p->subnet, want))
		return err_set(err, EINVAL, "address %s is the broadcast address of %s", a, s);
	if (p->has_gateway && net_addr_equal(&p->gateway, want))
		return err_set(err, EADDRINUSE, "address %s is the gateway of %s", a, s);
	if (!net_cidr_contains(&p->range, want))
		return err_set(err, EINVAL, "address %s is outside the ip-range %s of %s", a, r, s);
	return 0;
}

static int allocate_want(struct net_ipam *ipam, const char *owner, const struct net_addr *want,
			 struct err **err)
{
	char name[NET_ADDR_TEXT_MAX], holder[NET_IPAM_OWNER_MAX + 1];
	int r;

	r = create_lease(ipam, want, owner, err);
	if (r != -EEXIST)
		return r;
	net_addr_format(want, name);
	r = read_owner(ipam, name, holder, err);
	if (r == -ENOENT) /* cannot happen under the lock, unless a foreign hand */
		return err_set(err, EADDRINUSE, "address %s is in use", name);
	if (r < 0)
		return r;
	if (r == 1)
		return err_set(err, EADDRINUSE,
			       "address %s is in use by an unknown owner (a damaged lease, "
			       "until reclaim removes it)",
			       name);
	return err_set(err, EADDRINUSE, "address %s is already in use by " SHORT_ID, name, holder);
}

int net_ipam_allocate(struct net_ipam *ipam, const char *owner, const struct net_addr *want,
		      struct net_addr *out, struct err **err)
{
	_cleanup_close_ int lock = -1;
	int r;

	r = check_owner(owner, err);
	if (r < 0)
		return r;
	if (want) {
		r = check_want(ipam, want, err);
		if (r < 0)
			return r;
	}
	lock = lock_dir(ipam, LOCK_EX, err);
	if (lock < 0)
		return lock;
	if (!want)
		return allocate_any(ipam, owner, out, err);
	r = allocate_want(ipam, owner, want, err);
	if (r < 0)
		return r;
	*out = *want;
	return 0;
}

int net_ipam_release(struct net_ipam *ipam, const struct net_addr *addr, const char *owner,
		     struct err **err)
{
	char name[NET_ADDR_TEXT_MAX], holder[NET_IPAM_OWNER_MAX + 1];
	_cleanup_close_ int lock = -1;
	struct net_addr a;
	int r;

	r = check_owner(owner, err);
	if (r < 0)
		return r;
	net_addr_format(addr, name);
	if (!lease_name(ipam, name, &a))
		return err_set(err, ENOENT, "address %s is not leased: it is not in the subnet",
			       name);
	lock = lock_dir(ipam, LOCK_EX, err);
	if (lock < 0)
		return lock;
	r = read_owner(ipam, name, holder, err);
	if (r == -ENOENT)
		return err_set(err, ENOENT, "address %s is not leased", name);
	if (r < 0)
		return r;
	if (r == 1)
		return err_set(err, EPERM,
			       "address %s is held by an unknown owner (a damaged lease; reclaim "
			       "removes it)",
			       name);
	if (strcmp(holder, owner))
		return err_set(err, EPERM, "address %s is held by " SHORT_ID ", not " SHORT_ID,
			       name, holder, owner);
	return remove_lease(ipam, name, err);
}

/*
 * Calls FN on every lease (its address, and its owner or "" when it is
 * damaged); FN returns 1 to remove the lease, 0 to keep it, or a negative
 * errno (ERR set) to stop. Call with the lock held.
 */
static int each_lease(struct net_ipam *ipam,
		      int (*fn)(const struct net_addr *a, const char *owner, void *data,
				struct err **err),
		      void *data, size_t *removed, struct err **err)
{
	_cleanup_free_ struct net_addr *set = NULL;
	size_t n = 0, count = 0;
	int r;

	if (removed)
		*removed = 0;
	r = scan(ipam, &set, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		char name[NET_ADDR_TEXT_MAX], owner[NET_IPAM_OWNER_MAX + 1];

		net_addr_format(&set[i], name);
		r = read_owner(ipam, name, owner, err);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = fn(&set[i], owner, data, err);
		if (r < 0)
			return r;
		if (r == 1) {
			r = remove_lease(ipam, name, err);
			if (r < 0)
				return r;
			count++;
			if (removed)
				*removed = count;
		}
	}
	return 0;
}

static int match_owner(const struct net_addr *a, const char *owner, void *data, struct err **err)
{
	return owner[0] && !strcmp(owner, (const char *)data);
}

int net_ipam_release_owner(struct net_ipam *ipam, const char *owner, size_t *released,
			   struct err **err)
{
	_cleanup_close_ int lock = -1;
	int r;

	if (released)
		*released = 0;
	r = check_owner(owner, err);
	if (r < 0)
		return r;
	lock = lock_dir(ipam, LOCK_EX, err);
	if (lock < 0)
		return lock;
	return each_lease(ipam, match_owner, (void *)owner, released, err);
}

struct list_acc {
	struct net_ipam_lease *v;
	size_t n, cap;
};

static int add_to_list(const struct net_addr *a, const char *owner, void *data, struct err **err)
{
	struct list_acc *acc = data;

	if (acc->n == acc->cap) {
		size_t ncap = acc->cap ? acc->cap * 2 : 16;
		struct net_ipam_lease *nv = reallocarray(acc->v, ncap, sizeof(*nv));

		if (!nv)
			return err_errno(err, ENOMEM, "list leases");
		acc->v = nv;
		acc->cap = ncap;
	}
	memset(&acc->v[acc->n], 0, sizeof(acc->v[acc->n]));
	acc->v[acc->n].addr = *a;
	strcpy(acc->v[acc->n].owner, owner);
	acc->n++;
	return 0;
}

int net_ipam_list(struct net_ipam *ipam, struct net_ipam_lease **out, size_t *n, struct err **err)
{
	struct list_acc acc = {NULL, 0, 0};
	_cleanup_close_ int lock = -1;
	int r;

	*out = NULL;
	*n = 0;
	/* Shared: listing changes nothing, but must not see a lease that a
	 * writer has created and not yet filled. */
	lock = lock_dir(ipam, LOCK_SH, err);
	if (lock < 0)
		return lock;
	r = each_lease(ipam, add_to_list, &acc, NULL, err);
	if (r < 0) {
		free(acc.v);
		return r;
	}
	*out = acc.v;
	*n = acc.n;
	return 0;
}

struct reclaim_ctx {
	int (*is_alive)(const char *owner, void *data);
	void *data;
};

static int reclaim_one(const struct net_addr *a, const char *owner, void *data, struct err **err)
{
	struct reclaim_ctx *ctx = data;
	char name[NET_ADDR_TEXT_MAX];
	int r;

	/* Damaged: its writer died mid-write, as it held the lock we hold. */
	if (!owner[0])
		return 1;
	r = ctx->is_alive(owner, ctx->data);
	if (r < 0) {
		net_addr_format(a, name);
		return err_errno(err, -r, "reclaim of %s: is " SHORT_ID " alive?", name, owner);
	}
	return r == 0;
}

/* Temporary files of fs_write_atomic_ex (the hint's) that a dead process
 * left; only a holder of the lock writes them. */
static void remove_debris(struct net_ipam *ipam)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = openat(ipam->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, ".tmp-", 5))
			unlinkat(ipam->dirfd, de->d_name, 0);
}

int net_ipam_reclaim(struct net_ipam *ipam, int (*is_alive)(const char *owner, void *data),
		     void *data, size_t *removed, struct err **err)
{
	struct reclaim_ctx ctx = {is_alive, data};
	_cleanup_close_ int lock = -1;
	int r;

	if (removed)
		*removed = 0;
	lock = lock_dir(ipam, LOCK_EX, err);
	if (lock < 0)
		return lock;
	r = each_lease(ipam, reclaim_one, &ctx, removed, err);
	if (r < 0)
		return r;
	remove_debris(ipam);
	return 0;
}
