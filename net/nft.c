/*
 * net/nft.c - moat's nftables table `inet moat` (see nft.h for its layout
 * and why it is built that way).
 *
 * Runs in: the moat process and a container's monitor, as root of the
 * network namespace it changes. libnftables is dlopen'ed on first use and
 * kept loaded; each operation makes its own nft context, builds its
 * commands as text and runs them as one batch, so it is atomic.
 *
 * Threats handled here:
 *  - command injection: the only strings that reach a command are our own
 *    constants, names checked by name_ok() ([A-Za-z0-9_.-], bounded; no
 *    quote, space, brace or semicolon can get through), numbers and
 *    addresses formatted from struct net_addr / net_cidr. Text read back
 *    from a listing (owners, bridges, map keys) is checked or re-parsed the
 *    same way, and handles are integers;
 *  - stale handles: a rule is deleted by a handle read from a listing taken
 *    just before, in the same operation; if another process removed it in
 *    between, the batch fails whole and the operation starts again from a
 *    new listing (a few times). Handles are not reused while the table
 *    exists, and moat never deletes the table.
 */
#include "net/nft.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"

/* libnftables.h defines _GNU_SOURCE itself; the build already does. */
#undef _GNU_SOURCE
#include <nftables/libnftables.h>

#define TABLE "inet moat"
/* Listing, then a batch that depends on it: tries before giving up when
 * another process keeps changing what the batch removes. */
#define ATTEMPTS 4
/* Bigger listings are refused rather than parsed (about 100,000 rules). */
#define LISTING_MAX (64u << 20)

/* ---- loading libnftables ---- */

#define NFT_FUNCS(X)                 \
	X(nft_ctx_new)               \
	X(nft_ctx_free)              \
	X(nft_ctx_buffer_output)     \
	X(nft_ctx_buffer_error)      \
	X(nft_ctx_get_output_buffer) \
	X(nft_ctx_get_error_buffer)  \
	X(nft_ctx_output_set_flags)  \
	X(nft_run_cmd_from_filename)

/* The one piece of global state: the loaded library, filled once under
 * LOCK (then only read), as common/curl.c does for libcurl. */
static struct {
#define NFT_PTR(name) __typeof__(name) *name;
	NFT_FUNCS(NFT_PTR)
#undef NFT_PTR
} api;
static int loaded; /* 0 not tried, 1 loaded, -1 failed */
static char failure[512];
/* Also held around every run: libnftables initialises global state in
 * its first nft_ctx_new without a lock of its own. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int load_locked(struct err **err)
{
	void *h;

	if (loaded > 0)
		return 0;
	if (loaded < 0)
		return err_set(err, ENOENT, "%s", failure);
	h = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(failure, sizeof(failure),
			 "libnftables.so.1 cannot be loaded (install Debian's libnftables1): %s",
			 dlerror());
		loaded = -1;
		return err_set(err, ENOENT, "%s", failure);
	}
#define NFT_SYM(name)                                                                   \
	if (!(api.name = (__typeof__(name) *)dlsym(h, #name))) {                        \
		snprintf(failure, sizeof(failure), "libnftables.so.1 lacks %s", #name); \
		loaded = -1;                                                            \
		return err_set(err, ENOENT, "%s", failure);                             \
	}
	NFT_FUNCS(NFT_SYM)
#undef NFT_SYM
	__atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
	return 0;
}

int net_nft_load(struct err **err)
{
	int r;

	pthread_mutex_lock(&lock);
	r = load_locked(err);
	pthread_mutex_unlock(&lock);
	return r;
}

/* ---- names ---- */

static bool name_ok(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, max + 1);
	if (n == 0 || n > max || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool net_nft_bridge_valid(const char *name)
{
	return name_ok(name, IFNAMSIZ - 1);
}

bool net_nft_owner_valid(const char *owner)
{
	return name_ok(owner, NET_NFT_OWNER_MAX);
}

/* Printed in messages: at most the first 64 bytes, non-printable as '?',
 * so a refused name cannot garble the one-line error. */
static const char *shown(const char *s, char buf[68])
{
	size_t i = 0;

	if (!s)
		return "(null)";
	for (; s[i] && i < 64; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i])
		strcpy(buf + i, "...");
	return buf;
}

/* ---- running commands ---- */

/* nft's messages carry strerror() text; the errno that goes with it. */
static int error_code(const char *msg)
{
	static const int codes[] = {ENOENT,	  EEXIST,	   EBUSY,    EPERM, EACCES,
				    EOPNOTSUPP,	  ENOMEM,	   ENOSPC,   E2BIG, ELOOP,
				    EAFNOSUPPORT, EPROTONOSUPPORT, EMSGSIZE, EINVAL};

	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		if (strstr(msg, strerror(codes[i])))
			return codes[i];
	if (strstr(msg, "overlaps"))
		return EEXIST;
	return EIO;
}

/*
 * nft's error buffer holds, per failed command, "FILE:LINE:COLS: Error:
 * <what>", the command, and a line of carets: keeps the "Error:" texts and
 * the first failed command, on one line (the CLI prints one line).
 */
static void summarize(const char *buf, char *out, size_t size)
{
	size_t len = 0;
	bool want_cmd = false, have_cmd = false;

	out[0] = '\0';
	for (const char *p = buf; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *tag = memmem(p, n, "Error: ", 7);
		int w = 0;

		if (tag) {
			n -= (size_t)(tag + 7 - p);
			w = snprintf(out + len, size - len, "%s%.*s", len ? "; " : "", (int)n,
				     tag + 7);
			want_cmd = !have_cmd;
		} else if (want_cmd && n && strspn(p, " \t^~") < n) {
			w = snprintf(out + len, size - len, " (in \"%.*s\")", (int)n, p);
			want_cmd = false;
			have_cmd = true;
		}
		if (w > 0)
			len = (size_t)w >= size - len ? size - 1 : len + (size_t)w;
		p = nl ? nl + 1 : NULL;
	}
	if (!len)
		snprintf(out, size, "failed without a message");
}

/*
 * Runs CMDS as one batch in the current network namespace. FLAGS are nft
 * output flags; OUT (may be NULL) receives a copy of what nft printed.
 * WHAT names the operation for the message: "nftables: WHAT: <nft's>".
 *
 * The commands go through a memfd opened by nft as /proc/self/fd/N: from
 * a buffer, nft 1.0.6 shows the buffer's first line as the failed
 * command, from a file the right one. (So /proc must be mounted, as it is
 * wherever moat runs.)
 */
static int run(const char *cmds, unsigned flags, char **out, const char *what, struct err **err)
{
	_cleanup_close_ int fd = -1;
	struct nft_ctx *ctx;
	char msg[768], path[64];
	size_t len = strlen(cmds);
	int r = 0, rc;

	fd = memfd_create("moat-nft", MFD_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "nftables: %s: memfd_create", what);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, cmds + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return err_errno(err, n < 0 ? errno : EIO, "nftables: %s: writing commands",
					 what);
		off += (size_t)n;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	pthread_mutex_lock(&lock);
	r = load_locked(err);
	if (r < 0)
		goto out;
	ctx = api.nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		r = err_set(err, ENOMEM, "nftables: %s: cannot create a context", what);
		goto out;
	}
	api.nft_ctx_output_set_flags(ctx, flags);
	if (api.nft_ctx_buffer_output(ctx) || api.nft_ctx_buffer_error(ctx)) {
		r = err_set(err, ENOMEM, "nftables: %s: cannot buffer output", what);
		goto free_ctx;
	}
	rc = api.nft_run_cmd_from_filename(ctx, path);
	if (rc != 0) {
		const char *ebuf = api.nft_ctx_get_error_buffer(ctx);

		summarize(ebuf, msg, sizeof(msg));
		r = err_set(err, error_code(ebuf ? ebuf : ""), "nftables: %s: %s", what, msg);
		goto free_ctx;
	}
	if (out) {
		const char *o = api.nft_ctx_get_output_buffer(ctx);

		*out = strdup(o ? o : "");
		if (!*out)
			r = err_set(err, ENOMEM, "nftables: %s: out of memory", what);
	}
free_ctx:
	api.nft_ctx_free(ctx);
out:
	pthread_mutex_unlock(&lock);
	return r;
}

/* Commands are written into a memstream: this ends it, after which *BUF
 * holds the text. */
static int batch_end(FILE **f, struct err **err)
{
	int bad = ferror(*f);

	if (fclose(*f) != 0)
		bad = 1;
	*f = NULL;
	if (bad)
		return err_set(err, ENOMEM, "nftables: out of memory building commands");
	return 0;
}

static bool is_loaded(void)
{
	return __atomic_load_n(&loaded, __ATOMIC_ACQUIRE) > 0;
}

/* ---- the fixed part ---- */

/*
 * Priorities are numbers: nft 1.0.6 refuses the name "dstnat" for an inet
 * output chain. The base chains are flushed and refilled in the same
 * batch, which the kernel commits atomically: no packet sees them empty.
 * Order in forward (each line only sees what the ones above let through):
 *  1. routed back into the bridge it came from (hairpin): that network's
 *     own business, never isolation's;
 *  2. internal bridges: nothing in or out (before 3 and 4, so neither a
 *     published port nor an old connection opens them);
 *  3. replies of what was let through (a DNAT'd connection's replies cross
 *     from the container's bridge to the client's);
 *  4. published ports: DNAT'd traffic to the container's address and port,
 *     from anywhere, other moat bridges included;
 *  5. isolation: any other bridge-to-bridge traffic.
 */
static const char ensure_cmds[] =
    "add table " TABLE "\n"
    "add set " TABLE " bridges { type ifname; }\n"
    "add set " TABLE " internal { type ifname; }\n"
    "add set " TABLE " self { type ifname . ifname; }\n"
    "add map " TABLE " nat4 { type ipv4_addr : verdict; flags interval; }\n"
    "add map " TABLE " nat6 { type ipv6_addr : verdict; flags interval; }\n"
    "add chain " TABLE " ports-dnat\n"
    "add chain " TABLE " ports-fwd\n"
    "add chain " TABLE " prerouting { type nat hook prerouting priority -100; policy accept; }\n"
    "add chain " TABLE " output { type nat hook output priority -100; policy accept; }\n"
    "add chain " TABLE " postrouting { type nat hook postrouting priority 100; policy accept; }\n"
    "add chain " TABLE " forward { type filter hook forward priority 0; policy accept; }\n"
    "add chain " TABLE " guard { type filter hook prerouting priority -300; policy accept; }\n"
    "add chain " TABLE " input { type filter hook input priority 0; policy accept; }\n"
    /* --internal networks reach nothing of the host either (they have no
     * gateway address, but a frame can still name another host address). */
    "flush chain " TABLE " input\n"
    "add rule " TABLE " input iifname @internal drop comment \"internal\"\n"
    /* route_localnet on the bridges (for ports published on 127.0.0.1)
     * would also route what a container sends to 127.0.0.0/8 through its
     * gateway to the host's loopback services: CVE-2020-8558. */
    "flush chain " TABLE " guard\n"
    "add rule " TABLE " guard iifname @bridges ip daddr 127.0.0.0/8 drop"
    " comment \"CVE-2020-8558\"\n"
    "add rule " TABLE " guard iifname @bridges ip6 daddr ::1 drop comment \"CVE-2020-8558\"\n"
    "flush chain " TABLE " prerouting\n"
    "add rule " TABLE " prerouting jump ports-dnat\n"
    "flush chain " TABLE " output\n"
    "add rule " TABLE " output jump ports-dnat\n"
    "flush chain " TABLE " postrouting\n"
    /* The host's own connections to 127.0.0.1 that the output DNAT sent to
     * a container: the container could not answer 127.0.0.1. */
    "add rule " TABLE " postrouting ip saddr 127.0.0.0/8 oifname @bridges masquerade"
    " comment \"published on 127.0.0.1\"\n"
    "add rule " TABLE " postrouting ip saddr vmap @nat4\n"
    "add rule " TABLE " postrouting ip6 saddr vmap @nat6\n"
    "flush chain " TABLE " forward\n"
    "add rule " TABLE " forward iifname . oifname @self accept comment \"hairpin\"\n"
    "add rule " TABLE " forward iifname @internal drop comment \"internal\"\n"
    "add rule " TABLE " forward oifname @internal drop comment \"internal\"\n"
    "add rule " TABLE " forward ct state established,related accept\n"
    "add rule " TABLE " forward jump ports-fwd\n"
    "add rule " TABLE " forward iifname @bridges oifname @bridges drop comment \"isolation\"\n";

int net_nft_ensure(struct err **err)
{
	return run(ensure_cmds, 0, NULL, "creating table " TABLE, err);
}

/* ---- listing: the one place nft's JSON is decoded ---- */

struct nat_elem {
	struct net_cidr key;
	char bridge[IFNAMSIZ];
};

enum { PORTS_DNAT, PORTS_FWD };
static const char *const ports_chain[] = {"ports-dnat", "ports-fwd"};

struct port_rule {
	int chain; /* PORTS_DNAT or PORTS_FWD */
	uint64_t handle;
	char owner[NET_NFT_OWNER_MAX + 1];
};

struct listing {
	bool table; /* false: there is no table inet moat */
	char (*bridges)[IFNAMSIZ];
	size_t n_bridges, cap_bridges;
	struct nat_elem *nat;
	size_t n_nat, cap_nat;
	struct port_rule *rules;
	size_t n_rules, cap_rules;
};

static void listing_free(struct listing *l)
{
	free(l->bridges);
	free(l->nat);
	free(l->rules);
	*l = (struct listing){0};
}

/* Room for one more element in *ARR (of *CAP, SIZE bytes each). */
static int grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void **p = arr;
	size_t c;
	void *q;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	q = reallocarray(*p, c, size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

/* A JSON string without NUL bytes, or NULL. */
static const char *jstr(json_t *v)
{
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static int add_bridge(struct listing *l, const char *name)
{
	if (!net_nft_bridge_valid(name))
		return 0; /* not something moat wrote */
	for (size_t i = 0; i < l->n_bridges; i++)
		if (!strcmp(l->bridges[i], name))
			return 0;
	if (grow(&l->bridges, &l->cap_bridges, l->n_bridges, sizeof(*l->bridges)) < 0)
		return -ENOMEM;
	snprintf(l->bridges[l->n_bridges++], IFNAMSIZ, "%s", name);
	return 0;
}

/* "net-BR" -> BR, or NULL. */
static const char *net_chain_bridge(const char *chain)
{
	if (!chain || strncmp(chain, "net-", 4) || !net_nft_bridge_valid(chain + 4))
		return NULL;
	return chain + 4;
}

/* An element of nat4/nat6: [KEY, {"jump": {"target": "net-BR"}}], KEY an
 * address (a /32 or /128) or {"prefix": {"addr": A, "len": N}}, the whole
 * possibly wrapped in {"elem": {"val": ...}}. Anything else is not ours. */
static int add_nat(struct listing *l, json_t *e, int family)
{
	json_t *key, *verdict, *target;
	const char *bridge;
	char text[NET_CIDR_TEXT_MAX + 8];
	struct net_cidr c;

	if (!json_is_array(e) || json_array_size(e) != 2)
		return 0;
	key = json_array_get(e, 0);
	if (json_is_object(key) && json_object_get(key, "elem"))
		key = json_object_get(json_object_get(key, "elem"), "val");
	verdict = json_object_get(json_array_get(e, 1), "jump");
	target = json_object_get(verdict, "target");
	bridge = net_chain_bridge(jstr(target));
	if (!bridge)
		return 0;
	if (jstr(key)) {
		snprintf(text, sizeof(text), "%s/%d", jstr(key), family == AF_INET ? 32 : 128);
	} else {
		json_t *pfx = json_object_get(key, "prefix");
		json_t *addr = json_object_get(pfx, "addr"), *len = json_object_get(pfx, "len");

		if (!jstr(addr) || !json_is_integer(len) || json_integer_value(len) < 0 ||
		    json_integer_value(len) > 128)
			return 0;
		snprintf(text, sizeof(text), "%s/%d", jstr(addr), (int)json_integer_value(len));
	}
	/* Re-parsed, so that only a well-formed block reaches a command. */
	if (net_cidr_parse(text, "nat", &c, NULL) < 0 || c.addr.family != family)
		return 0;
	if (grow(&l->nat, &l->cap_nat, l->n_nat, sizeof(*l->nat)) < 0)
		return -ENOMEM;
	l->nat[l->n_nat].key = c;
	snprintf(l->nat[l->n_nat].bridge, IFNAMSIZ, "%s", bridge);
	l->n_nat++;
	return add_bridge(l, bridge);
}

static int add_rule(struct listing *l, json_t *rule)
{
	const char *chain = jstr(json_object_get(rule, "chain"));
	const char *comment = jstr(json_object_get(rule, "comment"));
	json_t *handle = json_object_get(rule, "handle");
	int which;

	if (!chain || !comment || strncmp(comment, "ctr:", 4) || !net_nft_owner_valid(comment + 4))
		return 0;
	if (!strcmp(chain, ports_chain[PORTS_DNAT]))
		which = PORTS_DNAT;
	else if (!strcmp(chain, ports_chain[PORTS_FWD]))
		which = PORTS_FWD;
	else
		return 0;
	if (!json_is_integer(handle) || json_integer_value(handle) <= 0)
		return 0;
	if (grow(&l->rules, &l->cap_rules, l->n_rules, sizeof(*l->rules)) < 0)
		return -ENOMEM;
	l->rules[l->n_rules].chain = which;
	l->rules[l->n_rules].handle = (uint64_t)json_integer_value(handle);
	snprintf(l->rules[l->n_rules].owner, sizeof(l->rules[0].owner), "%s", comment + 4);
	l->n_rules++;
	return 0;
}

static int decode_item(struct listing *l, json_t *item)
{
	json_t *o, *elems, *e;
	const char *name;
	size_t i;
	int r;

	if ((o = json_object_get(item, "set"))) {
		name = jstr(json_object_get(o, "name"));
		elems = json_object_get(o, "elem");
		if (!name || strcmp(name, "bridges") || !json_is_array(elems))
			return 0;
		json_array_foreach (elems, i, e) {
			r = add_bridge(l, jstr(e));
			if (r < 0)
				return r;
		}
	} else if ((o = json_object_get(item, "map"))) {
		name = jstr(json_object_get(o, "name"));
		elems = json_object_get(o, "elem");
		if (!name || (strcmp(name, "nat4") && strcmp(name, "nat6")) ||
		    !json_is_array(elems))
			return 0;
		json_array_foreach (elems, i, e) {
			r = add_nat(l, e, name[3] == '4' ? AF_INET : AF_INET6);
			if (r < 0)
				return r;
		}
	} else if ((o = json_object_get(item, "chain"))) {
		name = net_chain_bridge(jstr(json_object_get(o, "name")));
		if (name)
			return add_bridge(l, name);
	} else if ((o = json_object_get(item, "rule"))) {
		return add_rule(l, o);
	}
	return 0;
}

static int decode(struct listing *l, json_t *root)
{
	json_t *items = json_object_get(root, "nftables"), *item;
	size_t i;
	int r;

	if (!json_is_array(items))
		return -EINVAL;
	json_array_foreach (items, i, item) {
		r = decode_item(l, item);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Reads the table into L; L->table false (and success) when it is absent. */
static int listing_read(struct listing *l, struct err **err)
{
	_cleanup_free_ char *out = NULL;
	_cleanup_json_ json_t *root = NULL;
	struct err *e = NULL;
	size_t len;
	int r;

	*l = (struct listing){0};
	r = run("list table " TABLE, NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE, &out,
		"listing table " TABLE, &e);
	if (r == -ENOENT && is_loaded()) {
		/* The library is there, so ENOENT is the table's. */
		err_free(&e);
		return 0;
	}
	if (r < 0) {
		r = err_set(err, e ? e->code : EIO, "%s", e ? e->msg : "nftables: listing failed");
		err_free(&e);
		return r;
	}
	len = strlen(out);
	if (len > LISTING_MAX)
		return err_set(err, EFBIG, "nftables: table " TABLE " lists %zu bytes (limit %u)",
			       len, LISTING_MAX);
	root = json_parse_strict(out, len, "nftables listing", &e);
	if (!root) {
		r = err_set(err, EINVAL, "%s", e ? e->msg : "nftables listing: not JSON");
		err_free(&e);
		return r;
	}
	r = decode(l, root);
	if (r < 0) {
		listing_free(l);
		return err_set(err, -r, "nftables: unexpected listing of table " TABLE);
	}
	l->table = true;
	return 0;
}

static void listing_freep(struct listing *l)
{
	listing_free(l);
}
#define _cleanup_listing_ __attribute__((cleanup(listing_freep)))

static int no_table(const char *what, struct err **err)
{
	return err_set(err, ENOENT,
		       "nftables: %s: table " TABLE " does not exist (net_nft_ensure first)", what);
}

/* ---- networks ---- */

static const char *nat_map(int family)
{
	return family == AF_INET ? "nat4" : "nat6";
}

/* Deletes the nat map elements L lists for BR, except KEEP (may be NULL). */
static void nat_del(FILE *f, const struct listing *l, const char *br, const struct net_cidr *keep)
{
	char text[NET_CIDR_TEXT_MAX];

	for (size_t i = 0; i < l->n_nat; i++) {
		const struct nat_elem *e = &l->nat[i];

		if (strcmp(e->bridge, br))
			continue;
		if (keep && e->key.bits == keep->bits && net_addr_equal(&e->key.addr, &keep->addr))
			continue;
		net_cidr_format(&e->key, text);
		fprintf(f, "delete element " TABLE " %s { %s }\n", nat_map(e->key.addr.family),
			text);
	}
}

/* Removes set element ELEM of SET whether or not it is there: "add" is
 * idempotent, and then "delete" always finds it. */
static void set_drop(FILE *f, const char *set, const char *elem)
{
	fprintf(f, "add element " TABLE " %s { %s }\n", set, elem);
	fprintf(f, "delete element " TABLE " %s { %s }\n", set, elem);
}

/* Removes chain net-BR whether or not it is there (its map elements must
 * be gone first: a referenced chain cannot be deleted). */
static void chain_drop(FILE *f, const char *br)
{
	fprintf(f, "add chain " TABLE " net-%s\n", br);
	fprintf(f, "flush chain " TABLE " net-%s\n", br);
	fprintf(f, "delete chain " TABLE " net-%s\n", br);
}

static int subnet_check(const struct net_cidr *c, struct err **err)
{
	char text[NET_CIDR_TEXT_MAX];
	struct net_cidr back;

	if (c->addr.family != AF_INET && c->addr.family != AF_INET6)
		return err_set(err, EINVAL, "nftables: subnet of unknown family %d",
			       c->addr.family);
	if (c->bits < 1 || c->bits > (c->addr.family == AF_INET ? 32u : 128u))
		return err_set(err, EINVAL, "nftables: subnet prefix length %u refused", c->bits);
	/* Round trip: a block with host bits set is not a subnet. */
	net_cidr_format(c, text);
	if (net_cidr_parse(text, "subnet", &back, err) < 0)
		return err_prefix(err, "nftables");
	return 0;
}

int net_nft_network_add(const struct net_nft_net *n, struct err **err)
{
	char what[64], subnet[NET_CIDR_TEXT_MAX], b[68];
	int r = 0;

	if (!net_nft_bridge_valid(n->bridge))
		return err_set(err, EINVAL, "nftables: invalid bridge name \"%s\"",
			       shown(n->bridge, b));
	r = subnet_check(&n->subnet, err);
	if (r < 0)
		return r;
	net_cidr_format(&n->subnet, subnet);
	snprintf(what, sizeof(what), "adding network %s", n->bridge);
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		_cleanup_listing_ struct listing l = {0};
		_cleanup_free_ char *buf = NULL;
		_cleanup_fclose_ FILE *f = NULL;
		const char *br = n->bridge;
		char quoted[IFNAMSIZ + 2], pair[2 * IFNAMSIZ + 8];
		size_t size = 0;

		r = listing_read(&l, err);
		if (r < 0)
			return r;
		if (!l.table)
			return no_table(what, err);
		f = open_memstream(&buf, &size);
		if (!f)
			return err_errno(err, errno, "nftables: %s", what);
		snprintf(quoted, sizeof(quoted), "\"%s\"", br);
		snprintf(pair, sizeof(pair), "\"%s\" . \"%s\"", br, br);
		fprintf(f, "add element " TABLE " bridges { %s }\n", quoted);
		fprintf(f, "add element " TABLE " self { %s }\n", pair);
		if (n->internal) {
			fprintf(f, "add element " TABLE " internal { %s }\n", quoted);
			nat_del(f, &l, br, NULL);
			chain_drop(f, br);
		} else {
			set_drop(f, "internal", quoted);
			/* A different subnet left over under this bridge name. */
			nat_del(f, &l, br, &n->subnet);
			fprintf(f, "add chain " TABLE " net-%s\n", br);
			fprintf(f, "flush chain " TABLE " net-%s\n", br);
			/* Egress: out of any other interface. Published ports:
			 * DNAT'd traffic back into this bridge (hairpin), so that
			 * the container's reply comes back through the host. */
			fprintf(f,
				"add rule " TABLE " net-%s oifname != %s masquerade comment "
				"\"net:%s\"\n",
				br, quoted, br);
			fprintf(f,
				"add rule " TABLE " net-%s oifname %s ct status dnat masquerade "
				"comment \"net:%s\"\n",
				br, quoted, br);
			fprintf(f, "add element " TABLE " %s { %s : jump net-%s }\n",
				nat_map(n->subnet.addr.family), subnet, br);
		}
		r = batch_end(&f, err);
		if (r < 0)
			return r;
		r = run(buf, 0, NULL, what, err);
		if (r == 0)
			return 0;
	}
	return r;
}

int net_nft_network_del(const char *bridge, struct err **err)
{
	char what[64], b[68];
	int r = 0;

	if (!net_nft_bridge_valid(bridge))
		return err_set(err, EINVAL, "nftables: invalid bridge name \"%s\"",
			       shown(bridge, b));
	snprintf(what, sizeof(what), "removing network %s", bridge);
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		_cleanup_listing_ struct listing l = {0};
		_cleanup_free_ char *buf = NULL;
		_cleanup_fclose_ FILE *f = NULL;
		char quoted[IFNAMSIZ + 2], pair[2 * IFNAMSIZ + 8];
		size_t size = 0;

		r = listing_read(&l, err);
		if (r < 0)
			return r;
		if (!l.table)
			return 0;
		f = open_memstream(&buf, &size);
		if (!f)
			return err_errno(err, errno, "nftables: %s", what);
		snprintf(quoted, sizeof(quoted), "\"%s\"", bridge);
		snprintf(pair, sizeof(pair), "\"%s\" . \"%s\"", bridge, bridge);
		nat_del(f, &l, bridge, NULL);
		chain_drop(f, bridge);
		set_drop(f, "bridges", quoted);
		set_drop(f, "self", pair);
		set_drop(f, "internal", quoted);
		r = batch_end(&f, err);
		if (r < 0)
			return r;
		r = run(buf, 0, NULL, what, err);
		if (r == 0)
			return 0;
	}
	return r;
}

/* ---- published ports ---- */

static bool addr_unspecified(const struct net_addr *a)
{
	static const uint8_t zero[16];

	return a->family == 0 || !memcmp(a->b, zero, sizeof(zero));
}

static int port_check(const struct net_nft_port *p, size_t i, struct err **err)
{
	char b[68];

	if (p->family != AF_INET && p->family != AF_INET6)
		return err_set(err, EINVAL, "nftables: port %zu: unknown family %d", i, p->family);
	if (p->host_ip.family != 0 && p->host_ip.family != p->family)
		return err_set(err, EINVAL, "nftables: port %zu: host address of another family",
			       i);
	if (p->ctr_addr.family != p->family || addr_unspecified(&p->ctr_addr))
		return err_set(err, EINVAL,
			       "nftables: port %zu: no container address of its family", i);
	if (!p->host_port || !p->ctr_port)
		return err_set(err, EINVAL, "nftables: port %zu: port 0", i);
	if (p->proto != NET_PROTO_TCP && p->proto != NET_PROTO_UDP && p->proto != NET_PROTO_SCTP)
		return err_set(err, EINVAL, "nftables: port %zu: unknown protocol %d", i,
			       (int)p->proto);
	if (!net_nft_bridge_valid(p->bridge))
		return err_set(err, EINVAL, "nftables: port %zu: invalid bridge name \"%s\"", i,
			       shown(p->bridge, b));
	return 0;
}

/* The two rules of one published port, commented "ctr:OWNER". */
static void port_rules(FILE *f, const char *owner, const struct net_nft_port *p)
{
	bool v4 = p->family == AF_INET;
	const char *proto = net_proto_name(p->proto), *ip = v4 ? "ip" : "ip6";
	char host[NET_ADDR_TEXT_MAX], ctr[NET_ADDR_TEXT_MAX], match[NET_ADDR_TEXT_MAX + 32];

	net_addr_format(&p->ctr_addr, ctr);
	if (addr_unspecified(&p->host_ip)) {
		/* Every address of the host, now and later (addresses come and
		 * go with interfaces; the fib lookup is per packet). */
		snprintf(match, sizeof(match), "meta nfproto %s fib daddr type local",
			 v4 ? "ipv4" : "ipv6");
	} else {
		net_addr_format(&p->host_ip, host);
		snprintf(match, sizeof(match), "%s daddr %s", ip, host);
	}
	fprintf(f,
		"add rule " TABLE " ports-dnat %s %s dport %u dnat %s to %s%s%s:%u comment "
		"\"ctr:%s\"\n",
		match, proto, p->host_port, ip, v4 ? "" : "[", ctr, v4 ? "" : "]", p->ctr_port,
		owner);
	fprintf(f,
		"add rule " TABLE " ports-fwd oifname \"%s\" %s daddr %s %s dport %u ct status "
		"dnat accept comment \"ctr:%s\"\n",
		p->bridge, ip, ctr, proto, p->ctr_port, owner);
}

/* Deletes, by handle, the rules L lists for OWNER; how many. */
static size_t owner_del(FILE *f, const struct listing *l, const char *owner)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n_rules; i++) {
		if (strcmp(l->rules[i].owner, owner))
			continue;
		fprintf(f, "delete rule " TABLE " %s handle %llu\n", ports_chain[l->rules[i].chain],
			(unsigned long long)l->rules[i].handle);
		n++;
	}
	return n;
}

/* Replaces OWNER's ports by PORTS[0..N) (ADD) or by none. */
static int ports_set(const char *owner, const struct net_nft_port *ports, size_t n, bool add,
		     struct err **err)
{
	char what[NET_NFT_OWNER_MAX + 40], b[68];
	int r = 0;

	if (!net_nft_owner_valid(owner))
		return err_set(err, EINVAL, "nftables: invalid owner \"%s\"", shown(owner, b));
	if (n > NET_NFT_PORTS_MAX)
		return err_set(err, E2BIG, "nftables: %zu ports (at most %d)", n,
			       NET_NFT_PORTS_MAX);
	if (n && !ports)
		return err_set(err, EINVAL, "nftables: no ports");
	for (size_t i = 0; i < n; i++) {
		r = port_check(&ports[i], i, err);
		if (r < 0)
			return r;
	}
	snprintf(what, sizeof(what), "%s ports of %s", add ? "publishing" : "removing", owner);
	for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
		_cleanup_listing_ struct listing l = {0};
		_cleanup_free_ char *buf = NULL;
		_cleanup_fclose_ FILE *f = NULL;
		size_t size = 0, dels;

		r = listing_read(&l, err);
		if (r < 0)
			return r;
		if (!l.table)
			return add ? no_table(what, err) : 0;
		f = open_memstream(&buf, &size);
		if (!f)
			return err_errno(err, errno, "nftables: %s", what);
		dels = owner_del(f, &l, owner);
		for (size_t i = 0; i < n; i++)
			port_rules(f, owner, &ports[i]);
		if (!dels && !n)
			return 0;
		r = batch_end(&f, err);
		if (r < 0)
			return r;
		r = run(buf, 0, NULL, what, err);
		if (r == 0)
			return 0;
	}
	return r;
}

int net_nft_ports_add(const char *owner, const struct net_nft_port *ports, size_t n,
		      struct err **err)
{
	return ports_set(owner, ports, n, true, err);
}

int net_nft_ports_del(const char *owner, struct err **err)
{
	return ports_set(owner, NULL, 0, false, err);
}

/* ---- listing for crash cleanup, and the dump ---- */

static int rule_cmp(const void *a, const void *b)
{
	return strcmp(((const struct port_rule *)a)->owner, ((const struct port_rule *)b)->owner);
}

int net_nft_list_owners(int (*fn)(enum net_nft_kind kind, const char *name, void *data), void *data,
			struct err **err)
{
	_cleanup_listing_ struct listing l = {0};
	int r;

	r = listing_read(&l, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n_bridges; i++) {
		r = fn(NET_NFT_NETWORK, l.bridges[i], data);
		if (r < 0)
			return r;
	}
	/* Sorted by owner, each owner's rules are together: one call each. */
	if (l.n_rules)
		qsort(l.rules, l.n_rules, sizeof(*l.rules), rule_cmp);
	for (size_t i = 0; i < l.n_rules; i++) {
		if (i && !strcmp(l.rules[i - 1].owner, l.rules[i].owner))
			continue;
		r = fn(NET_NFT_CONTAINER, l.rules[i].owner, data);
		if (r < 0)
			return r;
	}
	return 0;
}

int net_nft_dump(char **text, struct err **err)
{
	struct err *e = NULL;
	int r;

	*text = NULL;
	r = run("list table " TABLE, 0, text, "listing table " TABLE, &e);
	if (r == -ENOENT && is_loaded()) {
		err_free(&e);
		*text = strdup("");
		return *text ? 0 : err_set(err, ENOMEM, "nftables: out of memory");
	}
	if (r < 0) {
		r = err_set(err, e ? e->code : EIO, "%s", e ? e->msg : "nftables: listing failed");
		err_free(&e);
	}
	return r;
}
