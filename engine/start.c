/*
 * engine/start.c - `moat start` and the second half of `moat run`: build
 * the sandbox spec from the container's record, prepare its runtime
 * state, and hand it to a monitor (this process in the foreground, or a
 * detached one); also `run`, `stop` and `kill`.
 *
 * Runs in: the moat process, as the invoking user or root.
 *
 * Invariants:
 *  - RUNROOT/containers/<id> appears already holding its locked "lock"
 *    file (built under .new-<id>, then renamed), so a concurrent reconcile
 *    never takes a starting container for the remains of a dead one.
 *  - The spec is built from the record only: what create fixed is what
 *    runs, every time it starts.
 *  - Nothing is mounted on the host: every mount lives in the container's
 *    own mount namespace and dies with it.
 */
#include "engine/lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "engine/containers.h"
#include "engine/ctl.h"
#include "engine/engine.h"
#include "engine/monitor.h"
#include "engine/mounts.h"
#include "engine/netrun.h"
#include "engine/options.h"
#include "image/image.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"

static char *const masked_paths[] = {
    "/proc/acpi",	 "/proc/asound",	 "/proc/interrupts",
    "/proc/kcore",	 "/proc/keys",		 "/proc/latency_stats",
    "/proc/sched_debug", "/proc/scsi",		 "/proc/timer_list",
    "/proc/timer_stats", "/sys/firmware",	 "/sys/devices/virtual/powercap",
    "/sys/fs/selinux",	 "/sys/kernel/security", NULL,
};
static char *const readonly_paths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

struct paths {
	char dir[4096];	 /* ROOT/containers/<id> */
	char rdir[4096]; /* RUNROOT/containers/<id> */
	char upper[4200], work[4200], mnt[4200], fuse_root[4200], fuse_log[4200];
	char hosts[4200], hostname[4200], resolv[4200];
};

static int write_text(const char *path, const char *text, struct err **err)
{
	_cleanup_close_ int fd =
	    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return err_errno(err, errno, "write \"%s\"", path);
	if (fs_write_all(fd, text, strlen(text)) < 0)
		return err_errno(err, errno, "write \"%s\"", path);
	return 0;
}

/*
 * Creates RUNROOT/containers/<id> already holding its locked "lock" file:
 * built under a temporary name and renamed into place. MODE says whether
 * the container is --rm (for the reconcile of a crash).
 */
static int take_lock(const char *runroot, const char *id, const char *rdir, bool rm,
		     struct err **err)
{
	char dir[3072], tmp[3200];
	_cleanup_close_ int dfd = -1, fd = -1, m = -1;
	int r;

	snprintf(dir, sizeof(dir), "%s/containers", runroot);
	snprintf(tmp, sizeof(tmp), "%s/.new-%s", dir, id);
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return err_ret(*err);
	if (mkdir(tmp, 0700) < 0)
		return err_errno(err, errno, "create \"%s\"", tmp);
	dfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = err_errno(err, errno, "open \"%s\"", tmp);
		goto undo;
	}
	fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	/* The dir is ours (mkdir succeeded); only a passing probe of another
	 * moat (ps, a reconcile of an older moat) can hold the lock, briefly. */
	for (int i = 0; fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
		if (errno != EWOULDBLOCK || i >= 200) {
			closep(&fd);
			break;
		}
		usleep(1000);
	}
	if (fd < 0) {
		r = err_errno(err, errno, "lock \"%s/lock\"", tmp);
		goto undo;
	}
	/* Runtime state: no fsync (a reboot clears RUNROOT anyway). */
	m = openat(dfd, "mode", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (m < 0 || fs_write_all(m, rm ? "rm\n" : "keep\n", rm ? 3 : 5) < 0) {
		r = err_errno(err, errno, "write \"%s/mode\"", tmp);
		goto undo;
	}
	if (rename(tmp, rdir) < 0) {
		r = err_errno(err, errno, "rename \"%s\"", tmp);
		goto undo;
	}
	return steal_fd(fd);
undo:
	fs_rm_rf_at(AT_FDCWD, tmp, NULL);
	return r;
}

static int make_runtime(const struct engine_ctx *c, const struct container_record *rec,
			struct paths *p, int *lockfd, struct err **err)
{
	char hosts[600];

	snprintf(p->dir, sizeof(p->dir), "%s/containers/%s", c->root, rec->id);
	snprintf(p->rdir, sizeof(p->rdir), "%s/containers/%s", c->runroot, rec->id);
	snprintf(p->upper, sizeof(p->upper), "%s/upper", p->dir);
	snprintf(p->work, sizeof(p->work), "%s/work", p->dir);
	snprintf(p->mnt, sizeof(p->mnt), "%s/rootfs", p->rdir);
	snprintf(p->fuse_root, sizeof(p->fuse_root), "%s/fuse-root", p->rdir);
	snprintf(p->fuse_log, sizeof(p->fuse_log), "%s/fuse.log", p->rdir);
	snprintf(p->hosts, sizeof(p->hosts), "%s/hosts", p->rdir);
	snprintf(p->hostname, sizeof(p->hostname), "%s/hostname", p->rdir);
	snprintf(p->resolv, sizeof(p->resolv), "%s/resolv.conf", p->rdir);
	/* Runtime dir (with its lock) first: from then on a crash is
	 * something the next command's reconcile can see and clean. */
	for (int tries = 0;; tries++) {
		char mode[4400];
		bool busy_new, started;

		if ((*lockfd = take_lock(c->runroot, rec->id, p->rdir, rec->rm, err)) >= 0)
			break;
		if ((*err)->code != EEXIST && (*err)->code != ENOTEMPTY) {
			p->rdir[0] = 0; /* not ours to remove */
			return err_ret(*err);
		}
		/* Someone is creating (.new-<id>) or holds the runtime dir. A
		 * start that won the race writes "mode" before its rename: the
		 * container runs, and Docker calls that success. A `moat cp` into
		 * the stopped container holds a dir without one. */
		snprintf(mode, sizeof(mode), "%s/containers/%s/mode", c->runroot, rec->id);
		started = access(mode, F_OK) == 0;
		busy_new = !started && access(p->rdir, F_OK) != 0; /* still being created */
		err_free(err);
		if (busy_new && tries < 20) {
			usleep(50000);
			continue;
		}
		if (started)
			err_set(err, EALREADY, "container %s is already running", rec->name);
		else
			err_set(err, EBUSY, "container %s is busy: a copy into it is in progress",
				rec->name);
		(*err)->exit = 1;
		p->rdir[0] = 0;
		return err_ret(*err);
	}
	if (mkdir(p->mnt, 0700) < 0 || mkdir(p->fuse_root, 0700) < 0)
		return err_errno(err, errno, "runtime state in \"%s\"", p->rdir);
	/* hosts and resolv.conf once the network is known (netrun). */
	snprintf(hosts, sizeof(hosts), "%s\n", rec->hostname);
	if (write_text(p->hostname, hosts, err) < 0)
		return err_ret(*err);
	return 0;
}

/* A .new-<id> dir older than a minute was left by a crash mid-creation. */
static bool stale(int dfd)
{
	struct stat st;

	return fstat(dfd, &st) == 0 && time(NULL) - st.st_mtime > 60;
}

/*
 * Cleans what monitors that died (SIGKILL, a crash, a reboot) left:
 * their runtime state always, everything of --rm containers. A container
 * whose monitor still holds its lock is left alone.
 */
void engine_reconcile(const struct engine_ctx *c)
{
	char dir[3072];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/containers", c->runroot);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		_cleanup_close_ int dfd = -1, lock = -1;
		_cleanup_free_ char *mode = NULL;
		char rdir[4200], cdir[4200];
		const char *name = de->d_name;
		bool creating = !strncmp(name, ".new-", 5);
		const char *id = creating ? name + 5 : name;

		if (!digest_hex_valid(id))
			continue;
		dfd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		/* Before any lock attempt: even a probe of a fresh .new- dir's
		 * lock would make its creator's LOCK_NB fail. */
		if (creating && !stale(dfd))
			continue; /* being created right now (its lock may not be
				   * taken yet): only a crashed creation is ours */
		lock = openat(dfd, "lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0)
			continue; /* alive */
		fs_read_at(dfd, "mode", 16, &mode, NULL, NULL);
		snprintf(rdir, sizeof(rdir), "%s/%s", dir, name);
		{
			/* Plugin volumes the dead monitor had mounted. */
			struct container_record r0 = {0};

			memcpy(r0.id, id, SHA256_HEX_LEN);
			engine_mounts_release(c, &r0, rdir, false);
		}
		/* Its network: rules, lease, ports, links. */
		engine_netrun_reclaim(c, id, rdir);
		if (mode && !strcmp(mode, "rm\n")) {
			struct container_record rec;
			struct engine_identity ident;
			if (engine_container_load(c->root, id, &rec, NULL) == 0) {
				engine_mounts_remove_anonymous(c, &rec);
				if (engine_container_identity(&rec, c->rootless, c->uid, c->gid,
							      &ident, NULL) == 0) {
					snprintf(cdir, sizeof(cdir), "%s/containers/%s", c->root,
						 id);
					engine_container_dirs_remove("", cdir, &ident);
					engine_name_release(c->root, rec.name, id);
				}
				engine_container_record_free(&rec);
			}
		}
		/* The cgroup of a root container whose monitor died. */
		if (!c->rootless) {
			struct sandbox_cgroup *cg = NULL;
			if (sandbox_cgroup_open(id, &cg, NULL) == 0) {
				sandbox_cgroup_destroy(cg, NULL);
				sandbox_cgroup_close(cg);
			}
		}
		fs_rm_rf_at(AT_FDCWD, rdir, NULL);
	}
	/* Plugin Unmounts that failed before, their container perhaps gone
	 * (engine/mounts.h): after the loop, which may have added some. */
	engine_mounts_retry_unmounts(c);
}

/* MOAT_OVERLAY=kernel|fuse pins the rootfs implementation (tests, and
 * hosts where one of them misbehaves); the default tries the kernel's. */
static enum sandbox_overlay overlay_mode(void)
{
	const char *v = getenv("MOAT_OVERLAY");

	if (v && !strcmp(v, "fuse"))
		return SANDBOX_OVERLAY_FUSE;
	if (v && !strcmp(v, "kernel"))
		return SANDBOX_OVERLAY_KERNEL;
	return SANDBOX_OVERLAY_AUTO;
}

static char *find_fuse_overlayfs(void)
{
	static char *const paths[] = {"/usr/bin/fuse-overlayfs", "/usr/local/bin/fuse-overlayfs",
				      "/bin/fuse-overlayfs"};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

static void build_spec(const struct container_record *rec, const struct engine_identity *ident,
		       char **lowers, const struct paths *p, struct sandbox_spec *spec)
{
	spec->userns = ident->userns;
	memcpy(spec->uidmap, ident->ids.uid, sizeof(spec->uidmap));
	memcpy(spec->gidmap, ident->ids.gid, sizeof(spec->gidmap));
	spec->n_uidmap = ident->ids.n_uid;
	spec->n_gidmap = ident->ids.n_gid;
	spec->lowers = lowers;
	spec->upper = (char *)p->upper;
	spec->work = (char *)p->work;
	spec->mountpoint = (char *)p->mnt;
	spec->readonly_root = rec->read_only;
	spec->overlay = overlay_mode();
	spec->fuse_overlayfs = find_fuse_overlayfs();
	spec->fuse_root = (char *)p->fuse_root;
	spec->fuse_log = (char *)p->fuse_log;
	spec->hosts_file = (char *)p->hosts;
	spec->hostname_file = (char *)p->hostname;
	spec->resolv_file = (char *)p->resolv;
	spec->hostname = rec->hostname;
	spec->net = !strcmp(rec->net, "host") ? SANDBOX_NET_HOST : SANDBOX_NET_NONE;
	spec->argv = rec->argv;
	spec->env = rec->env;
	spec->cwd = rec->cwd;
	spec->uid = rec->uid;
	spec->gid = rec->gid;
	spec->groups = (gid_t *)rec->groups;
	spec->n_groups = rec->n_groups;
	spec->tty = rec->tty;
	spec->stdin_open = rec->stdin_open;
	spec->init = rec->init;
	spec->stdio[0] = spec->stdio[1] = spec->stdio[2] = -1;
	spec->caps = rec->caps;
	spec->landlock = rec->landlock;
	spec->apparmor_profile = rec->apparmor;
	spec->masked_paths = (char **)masked_paths;
	spec->readonly_paths = (char **)readonly_paths;
}

#define CPU_PERIOD_US 100000 /* Docker's --cpus period */

static void enforced_add(char *buf, size_t len, const char *what)
{
	size_t n = strnlen(buf, len);

	if (n < len)
		snprintf(buf + n, len - n, "%s%s", n ? ", " : "", what);
}

/*
 * The record's limits, applied before the container's init runs: those of
 * a cgroup into CG (root), rlimits and oom_score_adj into SPEC (the monitor
 * sets them on the init before releasing it). Without a cgroup (rootless
 * here: v1 has no delegation) the cgroup limits are not enforced - create
 * warned - and the pids limit falls back to RLIMIT_NPROC, which the kernel
 * counts per user: since Linux 5.14 per uid within the container's user
 * namespace (so one container's processes), before that all of the host
 * uid's processes. ENFORCED (LEN bytes) says what was applied; it goes
 * into the record and the audit record.
 */
void engine_process_rlimits(const struct container_record *rec, bool have_cgroup,
			    struct sandbox_spec *spec, char *enforced, size_t len)
{
	const struct engine_limits *l = &rec->limits;
	int64_t pids = l->pids_limit == 0 ? ENGINE_DEFAULT_PIDS_LIMIT : l->pids_limit;
	bool has_nproc = false;

	for (size_t i = 0; i < l->n_ulimits && i < ENGINE_MAX_ULIMITS; i++) {
		spec->rlimits[spec->n_rlimits++] = (struct sandbox_rlimit){
		    l->ulimits[i].resource, l->ulimits[i].soft, l->ulimits[i].hard};
		has_nproc |= l->ulimits[i].resource == RLIMIT_NPROC;
	}
	if (l->n_ulimits)
		enforced_add(enforced, len, "rlimits");
	if (!have_cgroup && pids > 0 && !has_nproc) {
		struct rlimit own = {RLIM_INFINITY, RLIM_INFINITY};
		uint64_t n = (uint64_t)pids;
		char what[96];

		/* Only ever lowered: raising a hard limit is not ours to do. */
		getrlimit(RLIMIT_NPROC, &own);
		if (own.rlim_max != RLIM_INFINITY && own.rlim_max < n)
			n = own.rlim_max;
		spec->rlimits[spec->n_rlimits++] = (struct sandbox_rlimit){RLIMIT_NPROC, n, n};
		snprintf(what, sizeof(what), "pids %llu as RLIMIT_NPROC (no cgroup)",
			 (unsigned long long)n);
		enforced_add(enforced, len, what);
	}
}

static int apply_limits(const struct container_record *rec, const struct sandbox_cgroup *cg,
			bool rootless, struct sandbox_spec *spec, char *enforced, size_t len,
			struct err **err)
{
	const struct engine_limits *l = &rec->limits;
	int64_t pids = l->pids_limit == 0 ? ENGINE_DEFAULT_PIDS_LIMIT : l->pids_limit;
	struct cgroup_limits cl = {
	    .memory = l->memory,
	    .memory_swap = l->memory_swap,
	    .memory_reservation = l->memory_reservation,
	    .cpu_quota_us = l->nano_cpus ? l->nano_cpus * CPU_PERIOD_US / 1000000000 : 0,
	    .cpu_period_us = CPU_PERIOD_US,
	    .cpu_shares = l->cpu_shares,
	    .pids_max = pids > 0 ? pids : 0,
	};
	bool wants_cg = l->memory || l->memory_swap || l->memory_reservation || l->nano_cpus ||
			l->cpu_shares || l->cpuset_cpus[0];
	char applied[128];

	enforced[0] = '\0';
	memcpy(cl.cpuset_cpus, l->cpuset_cpus, sizeof(cl.cpuset_cpus));
	if (cl.cpu_quota_us && cl.cpu_quota_us < 1000)
		cl.cpu_quota_us = 1000; /* the kernel's minimum quota */
	if (cg) {
		if (sandbox_cgroup_set_limits(cg, &cl, applied, sizeof(applied), err) < 0)
			return err_prefix(err, "resource limits");
		if (applied[0]) {
			char what[160];

			snprintf(what, sizeof(what), "cgroup (%s)", applied);
			enforced_add(enforced, len, what);
		}
	} else if (wants_cg && !rootless) {
		return err_set(err, ENOTSUP,
			       "resource limits need the container's cgroup, which could not be "
			       "made (see the warning above)");
	} else if (wants_cg) {
		enforced_add(enforced, len, "not enforced: cgroup limits (no cgroup)");
	}
	engine_process_rlimits(rec, cg != NULL, spec, enforced, len);
	if (l->has_oom_score_adj) {
		spec->set_oom_score_adj = true;
		spec->oom_score_adj = l->oom_score_adj;
		enforced_add(enforced, len, "oom_score_adj");
	}
	spec->shm_size = l->shm_size > 0 ? (uint64_t)l->shm_size : 0;
	return 0;
}

/* Detached: fork the monitor, wait until it says the command runs. */
static int detach(struct monitor_conf *m, struct err **err)
{
	int pfd[2];
	struct monitor_ready ready = {.code = -EIO};
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_errno(err, errno, "pipe");
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return err_errno(err, errno, "fork the monitor");
	}
	if (pid == 0) {
		struct err *e = NULL;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		close(pfd[0]);
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		/* The grandparent shell's signals are not ours to die of. */
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		m->ready_fd = pfd[1];
		m->foreground = false;
		engine_monitor_run(m, &e);
		err_free(&e);
		_exit(0);
	}
	close(pfd[1]);
	do
		n = read(pfd[0], &ready, sizeof(ready));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n != (ssize_t)sizeof(ready)) {
		/* It died before saying anything: its teardown ran or it was
		 * killed; either way nothing runs. */
		return err_set(err, EIO,
			       "the container's monitor ended before the container started");
	}
	if (ready.code < 0) {
		ready.msg[sizeof(ready.msg) - 1] = 0;
		err_set(err, -ready.code, "%s", ready.msg);
		(*err)->exit = ready.exit ? ready.exit : 125;
		return ready.code;
	}
	return 0;
}

int engine_start(const struct engine_ctx *c, const char *id, enum engine_start_mode mode,
		 struct err **err)
{
	struct container_record rec = {0};
	struct engine_identity ident = {0};
	struct image_store *store = NULL;
	struct image *img = NULL;
	struct sandbox_spec spec = {0};
	struct sandbox_cgroup *cg = NULL;
	struct audit_log *alog = NULL;
	struct monitor_conf m = {0};
	struct paths p = {0};
	struct engine_netrun net = {.dnsfd = -1};
	_cleanup_strv_ char **lowers = NULL;
	_cleanup_close_ int lockfd = -1, rdirfd = -1;
	enum ctr_state st;
	bool handed = false;
	int ret;

	if ((ret = engine_container_load(c->root, id, &rec, err)) < 0)
		return ret;
	st = engine_container_state(c->runroot, &rec);
	if ((ret = ctr_transition_check(st, CTR_VERB_START, rec.name, err)) < 0)
		goto out;
	if (ret == CTR_NOOP) {
		ret = 0;
		goto out;
	}
	/* Fail-closed: no audit log, no container. */
	if ((ret = engine_audit_open(&c->audit, &alog, err)) < 0)
		goto out;
	if ((ret = engine_container_identity(&rec, c->rootless, c->uid, c->gid, &ident, err)) < 0)
		goto out;
	engine_reconcile(c);
	if ((ret = image_store_open(c->root, &ident.ids, &store, err)) < 0)
		goto out;
	if ((ret = image_store_resolve(store, rec.image_id, &img, err)) < 0) {
		err_prefix(err, "the image of container %s", rec.name);
		goto out;
	}
	/* Overlay wants the top layer first. */
	lowers = calloc(img->n_layers + 1, sizeof(char *));
	if (!lowers) {
		ret = err_errno(err, ENOMEM, "layers");
		goto out;
	}
	for (size_t i = 0; i < img->n_layers; i++)
		if (!(lowers[i] = strdup(img->layer_dirs[img->n_layers - 1 - i]))) {
			ret = err_errno(err, ENOMEM, "layers");
			goto out;
		}
	image_free(img);
	img = NULL;
	image_store_close(store);
	store = NULL;
	if (strcmp(rec.seccomp, "unconfined") != 0 &&
	    (ret = engine_container_bpf_load(c->root, rec.id, &spec.bpf, err)) < 0)
		goto out;
	if ((ret = make_runtime(c, &rec, &p, &lockfd, err)) < 0) {
		if (ret == -EALREADY) {
			err_free(err);
			ret = 0;
		}
		goto out;
	}
	rdirfd = open(p.rdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rdirfd < 0) {
		ret = err_errno(err, errno, "open \"%s\"", p.rdir);
		goto out;
	}
	if (!c->rootless) {
		struct err *ce = NULL;
		/* The freezer, stats and limits need it; a host without usable
		 * cgroups still runs containers (pause and stats say why not). */
		if (sandbox_cgroup_create(rec.id, &cg, &ce) < 0) {
			fprintf(stderr, "moat: warning: no cgroup for the container: %s\n",
				ce->msg);
			err_free(&ce);
			cg = NULL;
		}
	}
	if ((ret = engine_netrun_prepare(c, &rec, p.rdir, &net, &spec, err)) < 0)
		goto out;
	if ((ret = engine_netrun_files(&rec, &net, p.hosts, p.resolv, err)) < 0)
		goto out;
	build_spec(&rec, &ident, lowers, &p, &spec);
	spec.cgroup = cg;
	if ((ret = engine_mounts_open(c, &rec, p.rdir, &spec.mounts, &spec.n_mounts, err)) < 0)
		goto out;
	{
		char enforced[512];

		if ((ret = apply_limits(&rec, cg, c->rootless, &spec, enforced, sizeof(enforced),
					err)) < 0)
			goto out;
		free(rec.limits_enforced);
		if (!(rec.limits_enforced = strdup(enforced))) {
			ret = err_errno(err, ENOMEM, "limits");
			goto out;
		}
	}
	m = (struct monitor_conf){
	    .ctx = c,
	    .rec = &rec,
	    .spec = &spec,
	    .alog = alog,
	    .ident = &ident,
	    .cgroup = cg,
	    .dir = p.dir,
	    .rdir = p.rdir,
	    .rdirfd = rdirfd,
	    .lockfd = lockfd,
	    .foreground = mode == ENGINE_START_FOREGROUND,
	    /* --rm in the foreground: the command writes to our stdio
	     * directly (nothing to keep a log for, nothing in the way). */
	    .logging = !(mode == ENGINE_START_FOREGROUND && rec.rm),
	    .ready_fd = -1,
	    .net = &net,
	};
	if (mode == ENGINE_START_DETACHED)
		ret = detach(&m, err);
	else
		ret = engine_monitor_run(&m, err);
	/* The monitor owns teardown (and its audit records) from here. */
	handed = true;
	p.rdir[0] = 0;
	cg = NULL;
out:
	if (ret < 0 && !handed && alog && err && *err)
		engine_audit_refusal(&c->audit, "container.refused", id, rec.image, *err);
	if (!handed && spec.n_mounts)
		engine_mounts_release(c, &rec, p.rdir, false);
	/* Undone when the start failed; a detached monitor has its own copy
	 * (and the held ports), a foreground one released it. */
	if (!handed)
		engine_netrun_release(&net, p.rdir);
	else
		engine_netrun_forget(&net);
	/* Our copies: a detached monitor has its own. */
	engine_mounts_close(spec.mounts, spec.n_mounts);
	if (p.rdir[0]) {
		/* Failed before a monitor took over. */
		fs_rm_rf_at(AT_FDCWD, p.rdir, NULL);
	}
	if (cg) {
		sandbox_cgroup_destroy(cg, NULL);
		sandbox_cgroup_close(cg);
	}
	audit_close(alog);
	sandbox_bpf_free(&spec.bpf);
	image_free(img);
	image_store_close(store);
	engine_container_record_free(&rec);
	return ret;
}

int engine_run(const struct engine_ctx *c, const struct engine_create_opts *o, bool detach_,
	       struct err **err)
{
	char id[SHA256_HEX_LEN + 1];
	int ret;

	if ((ret = engine_create(c, o, id, err)) < 0)
		return ret;
	ret = engine_start(c, id, detach_ ? ENGINE_START_DETACHED : ENGINE_START_FOREGROUND, err);
	if (ret < 0) {
		/* It never ran: nothing of it stays, its anonymous volumes
		 * included. */
		struct err *e = NULL;
		struct container_record rec = {0};
		bool loaded = engine_container_load(c->root, id, &rec, NULL) == 0;

		if (engine_container_remove(c->root, c->runroot, c->rootless, c->uid, c->gid, id,
					    true, &e) < 0 &&
		    e->code != ENOENT)
			fprintf(stderr, "moat: warning: %s\n", e->msg);
		else if (loaded)
			engine_mounts_remove_anonymous(c, &rec);
		engine_container_record_free(&rec);
		err_free(&e);
		return ret;
	}
	if (detach_) {
		printf("%s\n", id);
		fflush(stdout);
	}
	return ret;
}

static int runtime_dir(const struct engine_ctx *c, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/containers/%s", c->runroot, id);
	return 0;
}

/* A user's stop or kill, recorded before it is sent (fail-closed). */
static int signal_event(const struct engine_ctx *c, const char *event, const char *id, int sig,
			int timeout, struct err **err)
{
	struct audit_log *alog = NULL;
	struct audit_event *e;
	int r;

	if ((r = engine_audit_open(&c->audit, &alog, err)) < 0)
		return r;
	e = audit_event_new(event);
	if (e) {
		audit_event_str(e, "container", id);
		audit_event_int(e, "signal", sig);
		if (timeout != INT32_MIN)
			audit_event_int(e, "timeout", timeout);
	}
	r = engine_audit(alog, e, err);
	audit_close(alog);
	return r;
}

int engine_verb_check(const struct engine_ctx *c, const char *id, enum ctr_verb verb,
		      struct err **err)
{
	struct container_record rec;
	int r;

	if ((r = engine_container_load(c->root, id, &rec, err)) < 0)
		return r;
	r = ctr_transition_check(engine_container_state(c->runroot, &rec), verb, rec.name, err);
	engine_container_record_free(&rec);
	return r;
}

int engine_stop(const struct engine_ctx *c, const char *id, int sig, int timeout, struct err **err)
{
	char rdir[4200];
	int r = engine_verb_check(c, id, CTR_VERB_STOP, err);

	if (r < 0 || r == CTR_NOOP)
		return r < 0 ? r : 0;
	if ((r = signal_event(c, "container.stop", id, sig, timeout, err)) < 0)
		return r;
	runtime_dir(c, id, rdir, sizeof(rdir));
	r = ctl_call(rdir, CTL_STOP, sig, timeout, NULL, NULL, err);
	if (r < 0 &&
	    ((*err)->code == ECONNREFUSED || (*err)->code == ENOENT || (*err)->code == EPIPE)) {
		/* It ended meanwhile. */
		err_free(err);
		r = 0;
	}
	if (r == 0)
		engine_container_wait_unlocked(c->runroot, id, -1);
	return r;
}

int engine_kill(const struct engine_ctx *c, const char *id, int sig, struct err **err)
{
	char rdir[4200];
	int r = engine_verb_check(c, id, CTR_VERB_KILL, err);

	if (r < 0)
		return r;
	if ((r = signal_event(c, "container.kill", id, sig, INT32_MIN, err)) < 0)
		return r;
	runtime_dir(c, id, rdir, sizeof(rdir));
	return ctl_call(rdir, CTL_KILL, sig, 0, NULL, NULL, err);
}

int engine_remove(const struct engine_ctx *c, const char *id, bool force, bool prune, bool volumes,
		  struct err **err)
{
	struct audit_log *alog = NULL;
	struct audit_event *e;
	struct container_record rec = {0};
	bool loaded = false;
	int r;

	/* Fail-closed like every state change: no audit log, no removal. */
	if ((r = engine_audit_open(&c->audit, &alog, err)) < 0)
		return r;
	/* A dead monitor's leftovers first: its plugin volumes are unmounted
	 * from its runtime directory, which the removal deletes. */
	engine_reconcile(c);
	loaded = volumes && engine_container_load(c->root, id, &rec, NULL) == 0;
	r = engine_container_remove(c->root, c->runroot, c->rootless, c->uid, c->gid, id, force,
				    err);
	/* -v: its anonymous volumes (those no other container shares). */
	if (r == 0 && loaded)
		engine_mounts_remove_anonymous(c, &rec);
	engine_container_record_free(&rec);
	if ((e = audit_event_new("container.remove"))) {
		audit_event_str(e, "container", id);
		audit_event_bool(e, "force", force);
		if (prune)
			audit_event_bool(e, "prune", true);
		if (r < 0) {
			/* The refusal is recorded too; it stands either way. */
			struct err *ae = NULL;
			audit_event_str(e, "error", (*err)->msg);
			engine_audit(alog, e, &ae);
			err_free(&ae);
		} else {
			r = engine_audit(alog, e, err);
		}
	}
	audit_close(alog);
	return r;
}
