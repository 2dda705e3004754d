/*
 * engine/run.c - `moat run`: resolve the image, build the container spec
 * from image config and flags, prepare its state, run it in the
 * foreground, tear down.
 *
 * Runs in: the moat process (which becomes the container's monitor), as the
 * invoking user or root.
 *
 * Invariants:
 *  - State lives in ROOT/containers/<id> (upper, work: persistent) and
 *    RUNROOT/containers/<id> (mountpoint, generated /etc files). Both are
 *    removed on any failure and with --rm; nothing is mounted on the host
 *    (every mount lives in the container's own mount namespace).
 *  - State directories are 0700 and owned by the invoker, so no container
 *    id other than container root's (rootless: the invoker itself) can
 *    reach them (CVE-2021-21284).
 *  - Image metadata only ever fills the process (argv, env, cwd, user):
 *    never a runtime knob (CVE-2024-3154 class).
 */
#include "engine/run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/userns.h"
#include "engine/events.h"
#include "engine/containers.h"
#include "engine/engine.h"
#include "image/image.h"
#include "sandbox/caps.h"
#include "sandbox/landlock.h"
#include "sandbox/lsm.h"
#include "sandbox/seccomp.h"

extern char **environ;

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

/*
 * Liveness: the monitor holds an exclusive flock on RUNROOT/containers/<id>/
 * lock for as long as it lives (the container's copy of the fd is closed
 * before exec). A "mode" file says whether the container was --rm.
 */
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

/* /etc/resolv.conf: the host's, less loopback resolvers the container's
 * own network namespace could not reach. */
static int make_resolv(const char *path, bool host_net, struct err **err)
{
	_cleanup_close_ int fd = open("/etc/resolv.conf", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *text = NULL, *out = NULL;
	size_t len = 0, o = 0;

	if (fd >= 0 && fs_read_fd(fd, 1 << 16, &text, &len, NULL) < 0)
		text = NULL;
	out = calloc(1, len + 64);
	if (!out)
		return err_errno(err, ENOMEM, "resolv.conf");
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!host_net && !strncmp(line, "nameserver", 10) &&
		    (strstr(line, " 127.") || strstr(line, " ::1")))
			continue;
		o += (size_t)sprintf(out + o, "%s\n", line);
	}
	return write_text(path, out, err);
}

/*
 * Creates RUNROOT/containers/<id> already holding its locked "lock" file:
 * built under a temporary name and renamed into place, so a concurrent
 * reconcile never sees the directory without its lock (and takes it for
 * the remains of a dead monitor).
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
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
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

static int make_state(const struct engine_run_opts *o, const char *id, const char *hostname,
		      const struct engine_identity *ident, struct paths *p, int *lockfd,
		      struct err **err)
{
	char hosts[600];

	snprintf(p->dir, sizeof(p->dir), "%s/containers/%s", o->root, id);
	snprintf(p->rdir, sizeof(p->rdir), "%s/containers/%s", o->runroot, id);
	snprintf(p->upper, sizeof(p->upper), "%s/upper", p->dir);
	snprintf(p->work, sizeof(p->work), "%s/work", p->dir);
	snprintf(p->mnt, sizeof(p->mnt), "%s/rootfs", p->rdir);
	snprintf(p->fuse_root, sizeof(p->fuse_root), "%s/fuse-root", p->rdir);
	snprintf(p->fuse_log, sizeof(p->fuse_log), "%s/fuse.log", p->rdir);
	snprintf(p->hosts, sizeof(p->hosts), "%s/hosts", p->rdir);
	snprintf(p->hostname, sizeof(p->hostname), "%s/hostname", p->rdir);
	snprintf(p->resolv, sizeof(p->resolv), "%s/resolv.conf", p->rdir);
	/* Runtime dir (with its lock) first: from then on a crash is
	 * something the next run's reconcile can see and clean. */
	if ((*lockfd = take_lock(o->runroot, id, p->rdir, o->rm, err)) < 0) {
		p->rdir[0] = 0; /* not ours to remove */
		return err_ret(*err);
	}
	if (fs_mkdir_p(p->dir, 0700, err) < 0)
		return err_ret(*err);
	if (mkdir(p->upper, 0755) < 0 || mkdir(p->work, 0700) < 0 || mkdir(p->mnt, 0700) < 0 ||
	    mkdir(p->fuse_root, 0700) < 0)
		return err_errno(err, errno, "container state in \"%s\"", p->dir);
	if (ident->userns == SANDBOX_USERNS_ROOT) {
		/* The upper layer belongs to container root (the unprivileged
		 * host range), which the overlay writes as. */
		if (chown(p->upper, MOAT_ROOT_ID_BASE, MOAT_ROOT_ID_BASE) < 0 ||
		    chown(p->work, MOAT_ROOT_ID_BASE, MOAT_ROOT_ID_BASE) < 0)
			return err_errno(err, errno, "chown container state");
	}
	if (o->net == SANDBOX_NET_HOST) {
		_cleanup_close_ int fd = open("/etc/hosts", O_RDONLY | O_CLOEXEC);
		_cleanup_free_ char *text = NULL;
		if (fd < 0 || fs_read_fd(fd, 1 << 20, &text, NULL, err) < 0)
			text = strdup("127.0.0.1\tlocalhost\n");
		if (!text || write_text(p->hosts, text, err) < 0)
			return err ? err_ret(*err) : -ENOMEM;
	} else {
		snprintf(hosts, sizeof(hosts),
			 "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			 "127.0.1.1\t%s\n",
			 hostname);
		if (write_text(p->hosts, hosts, err) < 0)
			return err_ret(*err);
	}
	snprintf(hosts, sizeof(hosts), "%s\n", hostname);
	if (write_text(p->hostname, hosts, err) < 0 ||
	    make_resolv(p->resolv, o->net == SANDBOX_NET_HOST, err) < 0)
		return err_ret(*err);
	return 0;
}

static void remove_state(const struct paths *p, const struct engine_identity *ident)
{
	engine_container_dirs_remove(p->rdir, p->dir, ident);
}

/*
 * Removes what a monitor that died (SIGKILL, a crash, a reboot) left:
 * runtime state always, persistent state of --rm containers. A container
 * whose monitor still holds its lock is left alone.
 */
/* A .new-<id> dir older than a minute was left by a crash mid-creation. */
static bool stale(int dfd)
{
	struct stat st;

	return fstat(dfd, &st) == 0 && time(NULL) - st.st_mtime > 60;
}

static void reconcile(const struct engine_run_opts *o, const struct engine_identity *ident)
{
	char dir[3072];
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/containers", o->runroot);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		struct paths p = {0};
		_cleanup_close_ int dfd = -1, lock = -1;
		_cleanup_free_ char *mode = NULL;

		const char *name = de->d_name;
		bool creating = !strncmp(name, ".new-", 5);

		if (!digest_hex_valid(creating ? name + 5 : name))
			continue;
		dfd = openat(dirfd(d), de->d_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue;
		lock = openat(dfd, "lock", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) < 0)
			continue; /* alive */
		if (creating && !stale(dfd))
			continue; /* being created right now (its lock may not be
				   * taken yet): only a crashed creation is ours */
		fs_read_at(dfd, "mode", 16, &mode, NULL, NULL);
		snprintf(p.rdir, sizeof(p.rdir), "%s/%s", dir, de->d_name);
		if (mode && !strcmp(mode, "rm\n")) {
			snprintf(p.dir, sizeof(p.dir), "%s/containers/%s", o->root,
				 creating ? name + 5 : name);
			snprintf(p.upper, sizeof(p.upper), "%s/upper", p.dir);
		}
		remove_state(&p, ident);
	}
}

/* Reads FILE from the image's layers, top down, the way the overlay will
 * show it: a whiteout or an opaque parent ends the search. */
static char *layers_read(const struct image *img, const char *file)
{
	for (size_t i = img->n_layers; i-- > 0;) {
		_cleanup_close_ int root =
		    open(img->layer_dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		_cleanup_close_ int fd = -1;
		struct stat st;
		char *text = NULL;

		if (root < 0)
			continue;
		if (fstatat(root, file, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode))
			return NULL; /* whiteout (0/0 char device) or odd type */
		fd = openat(root, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fs_read_fd(fd, 1 << 20, &text, NULL, NULL) < 0)
			return NULL;
		return text;
	}
	return NULL;
}

static int build_caps(const struct engine_run_opts *o, uint64_t *caps, struct err **err)
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

static bool mapped(const struct idmap *m, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		if (id >= m[i].container && id - m[i].container < m[i].size)
			return true;
	return false;
}

static const char *const userns_names[] = {"single", "subuid", "root-range", "host"};

/* The confinement actually applied, recorded before the container starts. */
static struct audit_event *start_event(const struct engine_run_opts *o, const char *id,
				       const struct image *img, const struct sandbox_spec *spec)
{
	struct audit_event *e = audit_event_new("container.start");
	char buf[256], bpf[SHA256_HEX_LEN + 1];
	char *caps[64] = {0};
	size_t nc = 0;
	struct lsm_status lsm;
	int abi = sandbox_landlock_abi();

	if (!e)
		return NULL;
	for (int c = 0; c < 64 && nc < 63; c++)
		if (spec->caps & (1ULL << c))
			caps[nc++] = (char *)sandbox_cap_name(c);
	sandbox_lsm_detect(&lsm);
	audit_event_str(e, "container", id);
	audit_event_str(e, "image", o->image);
	audit_event_str(e, "image_id", img->id);
	audit_event_strv(e, "argv", spec->argv);
	snprintf(buf, sizeof(buf), "%u:%u", (unsigned)spec->uid, (unsigned)spec->gid);
	audit_event_str(e, "user", buf);
	audit_event_str(e, "userns", userns_names[spec->userns]);
	if (spec->n_uidmap) {
		snprintf(buf, sizeof(buf), "%u %u %u", spec->uidmap[0].container,
			 spec->uidmap[0].host, spec->uidmap[0].size);
		audit_event_str(e, "uid_map", buf);
	}
	audit_event_strv(e, "caps", caps);
	audit_event_obj_begin(e, "seccomp");
	audit_event_str(e, "profile", !o->seccomp ? "default" : o->seccomp);
	if (spec->bpf.len) {
		digest_sha256_hex(spec->bpf.insns, (size_t)spec->bpf.len * 8, bpf);
		audit_event_str(e, "bpf_sha256", bpf);
	}
	audit_event_obj_end(e);
	if (!spec->landlock)
		snprintf(buf, sizeof(buf), "off");
	else if (abi <= 0)
		snprintf(buf, sizeof(buf), "unavailable");
	else
		snprintf(buf, sizeof(buf), "enforced (ABI %d)", abi);
	audit_event_str(e, "landlock", buf);
	audit_event_str(e, "apparmor",
			spec->apparmor_profile ? spec->apparmor_profile
			: lsm.apparmor	       ? "active, no profile"
					       : "not active");
	audit_event_str(e, "selinux", lsm.selinux ? "active" : "not active");
	audit_event_str(e, "network", spec->net == SANDBOX_NET_HOST ? "host" : "none");
	audit_event_bool(e, "read_only", spec->readonly_root);
	audit_event_bool(e, "init", spec->init);
	audit_event_bool(e, "tty", spec->tty);
	audit_event_bool(e, "rm", o->rm);
	return e;
}

static struct audit_event *exit_event(const char *id, const struct sandbox_result *res,
				      const struct timespec *t0, bool removed)
{
	struct audit_event *e = audit_event_new("container.exit");
	struct timespec t1;

	if (!e)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	audit_event_str(e, "container", id);
	audit_event_int(e, "exit_code", res->exit_code);
	audit_event_int(e, "signal", res->signal);
	/* SIGSYS is how a seccomp KILL action ends a process. */
	audit_event_bool(e, "seccomp_kill", res->signal == SIGSYS);
	audit_event_int(e, "duration_ns",
			(int64_t)(t1.tv_sec - t0->tv_sec) * 1000000000 +
			    (t1.tv_nsec - t0->tv_nsec));
	audit_event_bool(e, "removed", removed);
	return e;
}

/* A run that did not start ("container.refused"), or whose command could
 * not be executed after its start record ("container.failed"): what was
 * asked and why. */
static void refused_event(struct audit_log *l, const char *event, const struct engine_run_opts *o,
			  const char *id, const struct err *why)
{
	struct audit_event *e = audit_event_new(event);
	struct err *ignored = NULL;

	if (!e || !l) {
		audit_event_free(e);
		return;
	}
	if (id && id[0])
		audit_event_str(e, "container", id);
	audit_event_str(e, "image", o->image);
	audit_event_str(e, "error", why ? why->msg : "unknown");
	engine_audit(l, e, &ignored); /* best effort: the refusal stands either way */
	err_free(&ignored);
}

int engine_run(const struct engine_run_opts *o, struct err **err)
{
	struct engine_identity ident = {0};
	struct image_store *store = NULL;
	struct image *img = NULL;
	struct run_process proc = {0};
	struct user_ids ids;
	struct sandbox_spec spec = {0};
	struct sandbox_result res;
	struct paths p = {0};
	char id[SHA256_HEX_LEN + 1], hostname[65], cache[4200];
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	_cleanup_strv_ char **lowers = NULL;
	_cleanup_close_ int lockfd = -1;
	struct audit_log *alog = NULL;
	struct container_record rec = {0};
	struct timespec t0;
	bool started = false;
	int ret;

	id[0] = 0;
	/* Fail-closed: no audit log, no container. */
	if ((ret = engine_audit_open(&o->audit, &alog, err)) < 0)
		return ret;
	if ((ret = engine_identity_select(o->rootless, o->uid, o->gid, o->userns, &ident, err)) < 0)
		goto out;
	reconcile(o, &ident);
	if ((ret = image_store_open(o->root, &ident.ids, &store, err)) < 0)
		goto out;
	if ((ret = image_store_resolve(store, o->image, &img, err)) < 0)
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
	passwd = layers_read(img, "etc/passwd");
	group = layers_read(img, "etc/group");
	if ((ret = engine_user_resolve(proc.user, passwd, group, &ids, err)) < 0)
		goto out;
	if (ident.userns != SANDBOX_USERNS_HOST &&
	    (!mapped(ident.ids.uid, ident.ids.n_uid, ids.uid) ||
	     !mapped(ident.ids.gid, ident.ids.n_gid, ids.gid))) {
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
	{
		/* HOME from the image's passwd unless given. */
		bool has_home = false;
		size_t n = 0;
		for (; proc.env[n]; n++)
			has_home = has_home || !strncmp(proc.env[n], "HOME=", 5);
		if (!has_home) {
			char **nv = realloc(proc.env, (n + 2) * sizeof(char *));
			if (!nv || asprintf(&nv[n], "HOME=%s", ids.home) < 0) {
				if (nv)
					proc.env = nv;
				ret = err_errno(err, ENOMEM, "environment");
				goto out;
			}
			nv[n + 1] = NULL;
			proc.env = nv;
		}
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
	if ((ret = build_caps(o, &spec.caps, err)) < 0)
		goto out;
	if (!o->seccomp || strcmp(o->seccomp, "unconfined") != 0) {
		snprintf(cache, sizeof(cache), "%s/cache/seccomp", o->root);
		if ((ret = sandbox_seccomp_prepare(o->seccomp, cache, spec.caps, &spec.bpf, err)) <
		    0)
			goto out;
	}
	if ((ret = make_state(o, id, hostname, &ident, &p, &lockfd, err)) < 0)
		goto out;
	if (!o->rm) {
		/* Kept after it exits (Docker's default): its record lets
		 * `moat ps -a` and `moat rm` find it. */
		rec = (struct container_record){.image = (char *)o->image,
						.image_id = img->id,
						.argv = proc.argv,
						.userns = (char *)userns_names[ident.userns],
						.created = (int64_t)time(NULL)};
		memcpy(rec.id, id, sizeof(rec.id));
		if ((ret = engine_container_save(o->root, &rec, err)) < 0)
			goto out;
	}

	spec.userns = ident.userns;
	memcpy(spec.uidmap, ident.ids.uid, sizeof(spec.uidmap));
	memcpy(spec.gidmap, ident.ids.gid, sizeof(spec.gidmap));
	spec.n_uidmap = ident.ids.n_uid;
	spec.n_gidmap = ident.ids.n_gid;
	spec.lowers = lowers;
	spec.upper = p.upper;
	spec.work = p.work;
	spec.mountpoint = p.mnt;
	spec.readonly_root = o->read_only;
	spec.overlay = overlay_mode();
	spec.fuse_overlayfs = find_fuse_overlayfs();
	spec.fuse_root = p.fuse_root;
	spec.fuse_log = p.fuse_log;
	spec.hosts_file = p.hosts;
	spec.hostname_file = p.hostname;
	spec.resolv_file = p.resolv;
	spec.hostname = hostname;
	spec.net = o->net;
	spec.argv = proc.argv;
	spec.env = proc.env;
	spec.cwd = proc.cwd;
	spec.uid = ids.uid;
	spec.gid = ids.gid;
	spec.groups = ids.groups;
	spec.n_groups = ids.n_groups;
	spec.tty = o->req.tty;
	spec.stdin_open = o->interactive;
	spec.init = o->init;
	spec.landlock = !o->landlock_off;
	spec.apparmor_profile = (char *)o->apparmor;
	spec.masked_paths = (char **)masked_paths;
	spec.readonly_paths = (char **)readonly_paths;

	/* The start record is on disk before the container exists. */
	if ((ret = engine_audit(alog, start_event(o, id, img, &spec), err)) < 0)
		goto out;
	started = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = sandbox_run(&spec, &res, err);
	if (ret == 0) {
		struct err *ae = NULL;
		/* The container ran: its exit is recorded, and a failure to
		 * record it is reported without changing the exit status. */
		if (engine_audit(alog, exit_event(id, &res, &t0, o->rm), &ae) < 0) {
			fprintf(stderr, "moat: %s\n", ae->msg);
			err_free(&ae);
		}
		ret = res.exit_code;
		if (!o->rm) {
			rec.finished = (int64_t)time(NULL);
			rec.exit_code = res.exit_code;
			if (engine_container_save(o->root, &rec, &ae) < 0) {
				fprintf(stderr, "moat: warning: %s\n", ae->msg);
				err_free(&ae);
			}
		}
	}
out:
	if (ret < 0 && alog && err && *err)
		refused_event(alog, started ? "container.failed" : "container.refused", o, id,
			      *err);
	audit_close(alog);
	/* Nothing outlives a failed start; --rm removes the rest. Without
	 * --rm the container's files stay for the lifecycle commands. */
	if (ret < 0 || o->rm)
		remove_state(&p, &ident);
	else if (p.rdir[0])
		fs_rm_rf_at(AT_FDCWD, p.rdir, NULL);
	sandbox_bpf_free(&spec.bpf);
	engine_process_free(&proc);
	image_free(img);
	image_store_close(store);
	return ret;
}
