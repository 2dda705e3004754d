/*
 * engine/create.c - `moat create` (and the first half of `moat run`):
 * resolve the image, decide everything about the container once, and
 * write it down: its record, its compiled seccomp filter, its writable
 * layer and its name.
 *
 * Runs in: the moat process, as the invoking user or root.
 *
 * Invariants:
 *  - Everything the container will be confined by is fixed here (caps,
 *    the compiled filter, Landlock, LSM profile, identity) and recorded;
 *    start and exec apply exactly that, never a fresh reading of a file
 *    that may have changed since.
 *  - Image metadata only ever fills the process (argv, env, cwd, user):
 *    never a runtime knob (CVE-2024-3154 class).
 *  - State directories are 0700 and owned by the invoker (CVE-2021-21284).
 *  - A failed create leaves nothing: the directory goes, the name is
 *    released.
 */
#include "engine/lifecycle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "engine/networks.h"
#include "engine/options.h"
#include "engine/tenant_files.h"
#include "engine/trust.h"
#include "image/image.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"

extern char **environ;

static const char *const userns_names[] = {"single", "subuid", "root-range", "host"};

static int build_caps(const struct engine_create_opts *o, uint64_t *caps, struct err **err)
{
	uint64_t c = sandbox_caps_default();

	for (size_t i = 0; o->cap_add && o->cap_add[i]; i++) {
		int n = sandbox_cap_from_name(o->cap_add[i]);
		if (!strcasecmp(o->cap_add[i], "ALL"))
			c = ~0ULL >> (63 - 40);
		else if (n < 0)
			return err_set(err, EINVAL, "unknown capability \"%s\"", o->cap_add[i]);
		else
			c |= 1ULL << n;
	}
	for (size_t i = 0; o->cap_drop && o->cap_drop[i]; i++) {
		int n = sandbox_cap_from_name(o->cap_drop[i]);
		if (!strcasecmp(o->cap_drop[i], "ALL"))
			c = 0;
		else if (n < 0)
			return err_set(err, EINVAL, "unknown capability \"%s\"", o->cap_drop[i]);
		else
			c &= ~(1ULL << n);
	}
	*caps = c;
	return 0;
}

/* HOME from the image's passwd unless given. */
static int add_home(char ***env, const char *home, struct err **err)
{
	size_t n = 0;
	char **nv;

	for (; (*env)[n]; n++)
		if (!strncmp((*env)[n], "HOME=", 5))
			return 0;
	nv = realloc(*env, (n + 2) * sizeof(char *));
	if (!nv)
		return err_errno(err, ENOMEM, "environment");
	*env = nv;
	if (asprintf(&nv[n], "HOME=%s", home) < 0)
		return err_errno(err, ENOMEM, "environment");
	nv[n + 1] = NULL;
	return 0;
}

static int save_bpf(const char *dir, const struct sandbox_bpf *b, bool durable, struct err **err)
{
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return err_errno(err, errno, "open \"%s\"", dir);
	return fs_write_atomic_ex(dfd, "seccomp.bpf", b->insns, (size_t)b->len * 8, 0600, durable,
				  err);
}

int engine_container_bpf_load(const char *root, const char *id, struct sandbox_bpf *out,
			      struct err **err)
{
	char dir[4200];
	_cleanup_close_ int dfd = -1;
	char *buf = NULL;
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	snprintf(dir, sizeof(dir), "%s/containers/%s", root, id);
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_errno(err, errno, "open \"%s\"", dir);
	if (fs_read_at(dfd, "seccomp.bpf", 4096 * 8, &buf, &len, err) < 0)
		return err_prefix(err, "the container's seccomp filter");
	if (len == 0 || len % 8 || len / 8 > 4096) {
		free(buf);
		return err_set(err, EINVAL, "the container's seccomp filter is damaged");
	}
	out->insns = buf;
	out->len = (unsigned short)(len / 8);
	return 0;
}

/* design.md "run" step 2: the verification the store recorded for IMG,
 * against the trust policy as it is now (it may have changed since the
 * pull). A refusal is its own audit record, besides container.refused. */
static int check_trust(const struct engine_ctx *c, const char *ref, const struct image *img,
		       char **how, struct err **err)
{
	struct trust_policy *p = NULL;
	int r;

	*how = NULL;
	r = engine_trust_policy_load(c->trust_policy, &p, NULL, err);
	if (r == 0)
		r = engine_trust_check_image(p, c->root, ref, img, how, err);
	trust_policy_free(p);
	if (r == -EPERM)
		engine_audit_one(&c->audit,
				 engine_trust_event("run", ref, img->id, false, (*err)->msg, NULL));
	return r;
}

/* ---- resource limits: Docker's daemon-side checks and moat's defaults ---- */

#define MIN_MEMORY (6LL << 20) /* Docker's linuxMinMemory */
#define DEFAULT_SHM_SIZE (64LL << 20)

/* CPU numbers of a normalised cpuset list into SET (CPUSET bits). */
static void cpuset_bits(const char *list, unsigned char *set, size_t nbytes)
{
	for (const char *p = list; *p;) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		for (unsigned long cpu = a; cpu <= b && cpu / 8 < nbytes; cpu++)
			set[cpu / 8] |= (unsigned char)(1u << (cpu % 8));
		p = *end == ',' ? end + 1 : end + strlen(end);
	}
}

/* Docker's "Requested CPUs are not available". */
static int cpuset_available(const char *want, struct err **err)
{
	unsigned char have[1024] = {0}, need[1024] = {0};
	_cleanup_free_ char *text = NULL;
	char online[128];
	size_t len;

	if (fs_read_at(AT_FDCWD, "/sys/devices/system/cpu/online", 4096, &text, &len, err) < 0)
		return err_prefix(err, "--cpuset-cpus");
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	if (engine_limits_cpuset_parse(text, online, err) < 0)
		return err_prefix(err, "/sys/devices/system/cpu/online");
	cpuset_bits(online, have, sizeof(have));
	cpuset_bits(want, need, sizeof(need));
	for (size_t i = 0; i < sizeof(need); i++)
		if (need[i] & ~have[i])
			return err_set(
			    err, EINVAL,
			    "Requested CPUs are not available - requested %s, available: "
			    "%s",
			    want, online);
	return 0;
}

static bool has_cap_sys_resource(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {0};

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_SYS_RESOURCE / 32].effective & (1u << (CAP_SYS_RESOURCE % 32));
}

/*
 * The limits the record gets: Docker's checks (the daemon's messages), the
 * defaults filled in (pids, /dev/shm, swap = memory as Docker does), and,
 * for a rootless caller, a warning per limit that needs a cgroup it will
 * not have, and a refusal of what it could not apply at start.
 */
static int limits_settle(const struct engine_ctx *c, const struct engine_limits *in,
			 struct engine_limits *l, struct err **err)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	*l = *in;
	if (l->memory && l->memory < MIN_MEMORY)
		return err_set(err, EINVAL, "Minimum memory limit allowed is 6MB");
	if (l->memory_swap > 0 && !l->memory)
		return err_set(err, EINVAL,
			       "You should always set the Memory limit when using Memoryswap "
			       "limit, see usage");
	if (l->memory_swap > 0 && l->memory_swap < l->memory)
		return err_set(err, EINVAL,
			       "Minimum memoryswap limit should be larger than memory limit, see "
			       "usage");
	if (l->memory_reservation && l->memory_reservation < MIN_MEMORY)
		return err_set(err, EINVAL, "Minimum memory reservation allowed is 6MB");
	if (l->memory && l->memory_reservation > l->memory)
		return err_set(
		    err, EINVAL,
		    "Minimum memory limit can not be less than memory reservation limit, "
		    "see usage");
	if (ncpu < 1)
		ncpu = 1;
	if (l->nano_cpus && (l->nano_cpus < 10000000 || l->nano_cpus > ncpu * 1000000000LL))
		return err_set(err, EINVAL,
			       "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
			       "available",
			       ncpu, ncpu);
	if (l->cpuset_cpus[0] && cpuset_available(l->cpuset_cpus, err) < 0)
		return err_ret(*err);
	if (l->has_oom_score_adj && (l->oom_score_adj < -1000 || l->oom_score_adj > 1000))
		return err_set(err, EINVAL,
			       "Invalid value %d, range for oom score adj is [-1000, 1000]",
			       l->oom_score_adj);
	if (l->has_oom_score_adj && !has_cap_sys_resource()) {
		_cleanup_free_ char *t = NULL;
		size_t len;
		long own = 0;

		/* Going below one's own value takes CAP_SYS_RESOURCE, which a
		 * rootless caller (or a root without it) has not: refuse now,
		 * not at every start. */
		if (fs_read_at(AT_FDCWD, "/proc/self/oom_score_adj", 64, &t, &len, err) < 0)
			return err_prefix(err, "--oom-score-adj");
		own = strtol(t, NULL, 10);
		if (l->oom_score_adj < own)
			return err_set(
			    err, EPERM,
			    "--oom-score-adj %d is below this user's own (%ld): lowering it "
			    "needs CAP_SYS_RESOURCE, which %s",
			    l->oom_score_adj, own,
			    c->rootless ? "rootless containers do not have"
					: "this process has not");
	}
	/* Docker: --memory alone allows as much swap again. */
	if (l->memory && !l->memory_swap && __builtin_mul_overflow(l->memory, 2, &l->memory_swap))
		l->memory_swap = INT64_MAX;
	if (l->pids_limit == 0)
		l->pids_limit = ENGINE_DEFAULT_PIDS_LIMIT;
	if (l->shm_size == 0)
		l->shm_size = DEFAULT_SHM_SIZE;
	if (c->rootless) {
		/* start.c gives rootless containers no cgroup. */
		char why[256];
		const struct {
			bool set;
			const char *flag;
		} need[] = {
		    {in->memory != 0, "--memory"},
		    {in->memory_swap != 0, "--memory-swap"},
		    {in->memory_reservation != 0, "--memory-reservation"},
		    {in->nano_cpus != 0, "--cpus"},
		    {in->cpu_shares != 0, "--cpu-shares"},
		    {in->cpuset_cpus[0] != 0, "--cpuset-cpus"},
		};

		sandbox_cgroup_describe(true, why, sizeof(why));
		for (size_t i = 0; i < ARRAY_SIZE(need); i++)
			if (need[i].set)
				fprintf(stderr,
					"moat: warning: %s is not enforced: no cgroup for rootless "
					"containers%s\n",
					need[i].flag,
					strstr(why, "v1") ? " on cgroup v1 (no delegation)" : "");
		if (in->pids_limit > 0)
			fprintf(stderr,
				"moat: warning: --pids-limit is enforced only as RLIMIT_NPROC (no "
				"cgroup for rootless containers)\n");
	}
	return 0;
}

/*
 * --network and the flags that go with it: "none" and "host" as they are,
 * otherwise the network (the default one is made on first use), named
 * in the record by its name and id; --ip must lie in its subnet; -P adds
 * the image's ExposedPorts. REC->netreq gets the checked copy.
 */
static int settle_network(const struct engine_ctx *c, const struct engine_create_opts *o,
			  const struct image *img, struct container_record *rec, char *name,
			  size_t size, char *driver, size_t dsize, struct err **err)
{
	const char *mode = o->network ? o->network : ENGINE_DEFAULT_NETWORK_MODE;
	struct net_network net = {0};
	bool user_defined = false;
	int r;

	if ((r = engine_netreq_dup(&o->netreq, &rec->netreq, err)) < 0)
		return r;
	if (!strcmp(mode, "none") || !strcmp(mode, "host")) {
		snprintf(name, size, "%s", mode);
		snprintf(driver, dsize, "%s", mode);
	} else {
		if (!strcmp(mode, ENGINE_NETWORK_DEFAULT))
			r = engine_network_default(c, &net, err);
		else
			r = engine_network_inspect(c, mode, &net, err);
		if (r < 0)
			return r;
		user_defined = strcmp(net.name, ENGINE_NETWORK_DEFAULT) != 0;
		snprintf(name, size, "%s", net.name);
		snprintf(driver, dsize, "%s", net.driver);
		if (!(rec->netreq.network_id = strdup(net.id))) {
			net_network_clear(&net);
			return err_errno(err, ENOMEM, "network");
		}
	}
	if (o->netreq.publish_all && img->config &&
	    (r = engine_netreq_publish_exposed(&rec->netreq, img->config->exposed_ports, err)) < 0)
		goto out;
	if ((r = engine_netreq_check(name, user_defined, &rec->netreq, err)) < 0)
		goto out;
	/* Published ports are DNAT on a bridge; other drivers put the
	 * container on the network itself (Docker ignores -p there). */
	if (rec->netreq.publish && rec->netreq.publish[0] && net.driver[0] &&
	    strcmp(net.driver, "bridge") != 0) {
		r = err_set(err, EINVAL,
			    "publishing ports needs a bridge network: %s is a %s network, where "
			    "the container is reachable at its own address",
			    net.name, net.driver);
		goto out;
	}
	if (rec->netreq.ip) {
		struct net_addr a;

		if (net_addr_parse(rec->netreq.ip, &a, NULL) < 0 ||
		    !net_cidr_contains(&net.pool.range, &a)) {
			char sub[NET_CIDR_TEXT_MAX];

			net_cidr_format(&net.pool.range, sub);
			r = err_set(err, EINVAL,
				    "invalid --ip %s: not in the range %s of network %s",
				    rec->netreq.ip, sub, net.name);
			goto out;
		}
	}
out:
	net_network_clear(&net);
	return r;
}

int engine_create(const struct engine_ctx *c, const struct engine_create_opts *o,
		  char id[SHA256_HEX_LEN + 1], struct err **err)
{
	char *trust_how = NULL;
	struct engine_identity ident = {0};
	struct image_store *store = NULL;
	struct image *img = NULL;
	struct run_process proc = {0};
	struct user_ids ids;
	struct restart_spec restart;
	struct sandbox_bpf bpf = {0};
	struct container_record rec = {0};
	struct timespec now;
	char hostname[65], cache[4200], dir[4200], upper[4300], work[4300], name[64];
	char netname[NET_NAME_MAX + 1], netdriver[16] = "";
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	struct engine_mounts_plan plan = {0};
	_cleanup_strv_ char **made_volumes = NULL;
	bool made_dir = false, named = false;
	uint64_t caps = 0;
	int ret;

	id[0] = 0;
	if (o->name && o->name[0]) {
		if (!names_valid(o->name)) {
			err_set(err, EINVAL,
				"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
				"allowed",
				o->name);
			return -EINVAL;
		}
	}
	if ((ret = options_restart_parse(o->restart ? o->restart : "no", &restart, err)) < 0)
		return ret;
	if (o->rm && restart.policy != RESTART_NO)
		return err_set(err, EINVAL,
			       "conflicting options: --restart and --rm (a container removed when "
			       "it exits cannot be restarted)");
	if ((ret = limits_settle(c, &o->limits, &rec.limits, err)) < 0)
		return ret;
	if ((ret = engine_identity_select(c->rootless, c->uid, c->gid, o->userns, &ident, err)) < 0)
		return ret;
	if ((ret = image_store_open(c->root, &ident.ids, &store, err)) < 0)
		goto out;
	if ((ret = image_store_resolve(store, o->image, &img, err)) < 0)
		goto out;
	if ((ret = check_trust(c, o->image, img, &trust_how, err)) < 0)
		goto out;
	if ((ret = digest_random_id(id, err)) < 0)
		goto out;
	snprintf(hostname, sizeof(hostname), "%.12s", id);
	if (o->req.hostname) {
		if (!o->req.hostname[0] || strlen(o->req.hostname) > 64) {
			ret = err_set(err, EINVAL, "invalid hostname \"%s\"", o->req.hostname);
			goto out;
		}
		snprintf(hostname, sizeof(hostname), "%s", o->req.hostname);
	}
	if ((ret = engine_process_build(img->config, &o->req, hostname, environ, &proc, err)) < 0)
		goto out;
	passwd = engine_image_file_read(NULL, img, "etc/passwd");
	group = engine_image_file_read(NULL, img, "etc/group");
	if ((ret = engine_user_resolve(proc.user, passwd, group, &ids, err)) < 0)
		goto out;
	if (ident.userns != SANDBOX_USERNS_HOST &&
	    (!engine_id_mapped(ident.ids.uid, ident.ids.n_uid, ids.uid) ||
	     !engine_id_mapped(ident.ids.gid, ident.ids.n_gid, ids.gid))) {
		ret = err_set(err, EINVAL,
			      "user \"%s\" (uid %u, gid %u) is not mapped in this container's user "
			      "namespace (%s): %s",
			      proc.user, (unsigned)ids.uid, (unsigned)ids.gid,
			      ident.userns == SANDBOX_USERNS_SINGLE ? "single id" : "65,536 ids",
			      ident.userns == SANDBOX_USERNS_SINGLE
				  ? "use --userns=subuid with an /etc/subuid entry"
				  : "ids must be below 65536");
		goto out;
	}
	if ((ret = add_home(&proc.env, ids.home, err)) < 0)
		goto out;
	if ((ret = build_caps(o, &caps, err)) < 0)
		goto out;
	if (!o->seccomp || strcmp(o->seccomp, "unconfined") != 0) {
		snprintf(cache, sizeof(cache), "%s/cache/seccomp", c->root);
		if ((ret = sandbox_seccomp_prepare(o->seccomp, cache, caps, &bpf, err)) < 0)
			goto out;
	}

	/* Network: which one, and the rest of the flags checked for it. */
	if ((ret = settle_network(c, o, img, &rec, netname, sizeof(netname), netdriver,
				  sizeof(netdriver), err)) < 0)
		goto out;
	/* Storage: what it will be, before anything is made. */
	if ((ret = engine_mounts_plan(c, &o->mounts, img, &plan, err)) < 0)
		goto out;
	/* The tenant policy decides on the final request (image resolved,
	 * env files and flags merged, caps, seccomp, network and published
	 * ports, and mounts settled) and fills its limit defaults in before
	 * the record is written. */
	if ((ret =
		 engine_tenant_enforce(c, o, img, &proc, caps, userns_names[ident.userns],
				       &(struct engine_tenant_net){netname, &rec.netreq, netdriver},
				       plan.tm, plan.n, &rec.limits, err)) < 0)
		goto out;
	if (o->dry_run)
		goto out; /* `moat policy check`: nothing is made */

	/* From here on there is something to undo. */
	snprintf(dir, sizeof(dir), "%s/containers/%s", c->root, id);
	snprintf(upper, sizeof(upper), "%s/upper", dir);
	snprintf(work, sizeof(work), "%s/work", dir);
	if ((ret = fs_mkdir_p(dir, 0700, err)) < 0)
		goto out;
	made_dir = true;
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0) {
		ret = err_errno(err, errno, "container state in \"%s\"", dir);
		goto out;
	}
	if (ident.userns == SANDBOX_USERNS_ROOT &&
	    (chown(upper, MOAT_ROOT_ID_BASE, MOAT_ROOT_ID_BASE) < 0 ||
	     chown(work, MOAT_ROOT_ID_BASE, MOAT_ROOT_ID_BASE) < 0)) {
		/* The upper layer belongs to container root (the unprivileged
		 * host range), which the overlay writes as. */
		ret = err_errno(err, errno, "chown container state");
		goto out;
	}
	if (bpf.len && (ret = save_bpf(dir, &bpf, !o->rm, err)) < 0)
		goto out;
	if ((ret = engine_mounts_make(c, &ident, &plan, &made_volumes, err)) < 0)
		goto out;
	if (o->name && o->name[0]) {
		ret = engine_name_reserve(c->root, o->name, id, err);
		snprintf(name, sizeof(name), "%s", o->name);
	} else {
		ret = engine_name_generate(c->root, id, name, err);
	}
	if (ret < 0)
		goto out;
	named = true;

	clock_gettime(CLOCK_REALTIME, &now);
	memcpy(rec.id, id, sizeof(rec.id));
	rec.name = name;
	rec.image = (char *)o->image;
	rec.image_id = img->id;
	rec.image_trust = trust_how;
	rec.argv = proc.argv;
	rec.env = proc.env;
	rec.cwd = proc.cwd;
	rec.user = proc.user;
	rec.uid = ids.uid;
	rec.gid = ids.gid;
	for (size_t i = 0; i < ids.n_groups && i < CONTAINER_GROUPS_MAX; i++)
		rec.groups[rec.n_groups++] = ids.groups[i];
	rec.hostname = hostname;
	rec.labels = o->labels;
	rec.tty = o->req.tty;
	rec.stdin_open = o->interactive;
	rec.init = o->init;
	rec.userns = (char *)userns_names[ident.userns];
	rec.net = netname;
	rec.read_only = o->read_only;
	rec.landlock = !o->landlock_off;
	rec.caps = caps;
	rec.seccomp = (char *)(!o->seccomp ? "default" : o->seccomp);
	rec.apparmor =
	    (char *)(o->apparmor && strcmp(o->apparmor, "unconfined") ? o->apparmor : NULL);
	rec.rm = o->rm;
	rec.stop_signal = o->stop_signal;
	rec.stop_timeout = o->stop_timeout;
	rec.restart = (char *)(o->restart ? o->restart : "no");
	rec.log_max_size = o->log_max_size;
	rec.log_max_file = o->log_max_file ? o->log_max_file : 1;
	rec.mounts = plan.mounts;
	rec.n_mounts = plan.n;
	rec.state = CTR_CREATED;
	rec.created = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	/* A --rm container's record dies with it: no fsync on the hot path. */
	ret = engine_container_save(c->root, &rec, !o->rm, err);
out:
	if (ret < 0) {
		engine_audit_refusal(&c->audit, "container.refused", id[0] ? id : NULL, o->image,
				     err ? *err : NULL);
		if (named)
			engine_name_release(c->root, name, id);
		engine_mounts_undo(c, &ident, made_volumes);
		if (made_dir)
			engine_container_dirs_remove("", dir, &ident);
		id[0] = 0;
	}
	sandbox_bpf_free(&bpf);
	engine_process_free(&proc);
	engine_mounts_plan_free(&plan);
	engine_netreq_free(&rec.netreq);
	free(trust_how);
	image_free(img);
	image_store_close(store);
	return ret;
}
