/*
 * engine/exec.c - `moat exec`.
 *
 * Runs in: the moat process, as the invoking user or root.
 *
 * Invariants:
 *  - The container's init is reached through a pidfd its monitor hands
 *    over on the control socket: no pid is looked up, so a recycled pid
 *    can never be joined, and a container that is not running (or is
 *    paused) is refused by the monitor itself.
 *  - The process is confined by the container's record: the same
 *    capabilities, the same compiled seccomp filter (read back from the
 *    file create wrote), Landlock and LSM settings, identity mode and
 *    cgroup. Only argv, env, cwd and user come from the command line,
 *    as with Docker, and the user must be mapped in the container.
 *  - The record of the exec is in the audit log before the process exists.
 */
#include "engine/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "engine/containers.h"
#include "engine/ctl.h"
#include "engine/engine.h"
#include "image/image.h"
#include "sandbox/cgroup.h"
#include "sandbox/seccomp.h"

extern char **environ;

/* The container's env with O->env applied (Docker: -e adds or replaces). */
static int build_env(char **base, char **add, char ***out, struct err **err)
{
	size_t n = 0, m = 0;
	char **v;

	while (base && base[n])
		n++;
	while (add && add[m])
		m++;
	v = calloc(n + m + 1, sizeof(char *));
	if (!v)
		return err_errno(err, ENOMEM, "environment");
	for (size_t i = 0; i < n; i++)
		v[i] = base[i];
	for (size_t j = 0; j < m; j++) {
		const char *kv = add[j], *eq = strchr(kv, '=');
		size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
		size_t i;

		if (!eq) {
			/* "K": ours, if we have it. */
			const char *val = getenv(kv);
			if (!val)
				continue;
			for (char **e = environ; *e; e++)
				if (!strncmp(*e, kv, kl) && (*e)[kl] == '=')
					kv = *e;
		}
		for (i = 0; i < n; i++)
			if (!strncmp(v[i], kv, kl) && v[i][kl] == '=')
				break;
		v[i] = (char *)kv;
		if (i == n)
			n++;
	}
	*out = v;
	return 0;
}

static struct audit_event *exec_event(const struct container_record *r,
				      const struct sandbox_spec *spec, bool detach)
{
	struct audit_event *e = audit_event_new("container.exec");
	char buf[64], bpf[SHA256_HEX_LEN + 1];

	if (!e)
		return NULL;
	audit_event_str(e, "container", r->id);
	audit_event_strv(e, "argv", spec->argv);
	snprintf(buf, sizeof(buf), "%u:%u", (unsigned)spec->uid, (unsigned)spec->gid);
	audit_event_str(e, "user", buf);
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)spec->caps);
	audit_event_str(e, "caps", buf);
	if (spec->bpf.len) {
		digest_sha256_hex(spec->bpf.insns, (size_t)spec->bpf.len * 8, bpf);
		audit_event_str(e, "bpf_sha256", bpf);
	}
	audit_event_bool(e, "landlock", spec->landlock);
	audit_event_bool(e, "tty", spec->tty);
	audit_event_bool(e, "detach", detach);
	return e;
}

/* -t: our terminal <-> the pty master until the process ends. */
static void relay(int master, bool stdin_open, pid_t helper, int *status)
{
	struct termios saved, t;
	bool raw = false, in_open = stdin_open;
	sigset_t set, old;
	_cleanup_close_ int sfd = -1;
	struct winsize ws;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (isatty(0) && ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
	if (stdin_open && isatty(0) && tcgetattr(0, &saved) == 0) {
		t = saved;
		cfmakeraw(&t);
		t.c_oflag |= OPOST;
		raw = tcsetattr(0, TCSANOW, &t) == 0;
	}
	for (;;) {
		struct pollfd p[3] = {{.fd = master, .events = POLLIN},
				      {.fd = sfd, .events = POLLIN},
				      {.fd = in_open ? 0 : -1, .events = POLLIN}};
		char buf[16384];
		ssize_t n;

		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(master, buf, sizeof(buf));
			if (n <= 0 && !(n < 0 && errno == EINTR))
				break;
			if (n > 0 && fs_write_all(1, buf, (size_t)n) < 0) {
				/* our reader went away */
			}
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo == SIGWINCH &&
			    ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(master, TIOCSWINSZ, &ws);
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(0, buf, sizeof(buf));
			if (n > 0) {
				if (fs_write_all(master, buf, (size_t)n) < 0)
					in_open = false;
			} else if (n == 0 || errno != EINTR) {
				char eot = 4;
				in_open = false;
				if (write(master, &eot, 1) < 0) {
					/* gone: its exit follows */
				}
			}
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	while (waitpid(helper, status, 0) < 0 && errno == EINTR)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int engine_exec(const struct engine_ctx *c, const char *id, const struct engine_exec_opts *o,
		struct err **err)
{
	struct container_record rec = {0};
	struct engine_identity ident = {0};
	struct image_store *store = NULL;
	struct image *img = NULL;
	struct sandbox_spec spec = {0};
	struct sandbox_mount emounts[SANDBOX_MAX_MOUNTS];
	struct sandbox_cgroup *cg = NULL;
	struct audit_log *alog = NULL;
	struct user_ids ids;
	_cleanup_free_ char **env = NULL;
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	_cleanup_close_ int pidfd = -1, master = -1, null = -1;
	char rdir[4200], dir[4200];
	enum ctr_state st;
	pid_t helper = 0;
	int status = 0, ret;

	/* It will hold the container's pidfd: nothing of ours may ptrace it
	 * (CVE-2016-9962). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((ret = engine_container_load(c->root, id, &rec, err)) < 0)
		return ret;
	st = engine_container_state(c->runroot, &rec);
	if ((ret = ctr_transition_check(st, CTR_VERB_EXEC, rec.name, err)) < 0)
		goto out;
	snprintf(rdir, sizeof(rdir), "%s/containers/%s", c->runroot, id);
	snprintf(dir, sizeof(dir), "%s/containers/%s", c->root, id);
	/* The monitor refuses when the container is not running or paused. */
	if ((ret = ctl_call(rdir, CTL_PIDFD, 0, 0, NULL, &pidfd, err)) < 0)
		goto out;
	if (pidfd < 0) {
		ret = err_set(err, EPROTO, "the container's monitor sent no pidfd");
		goto out;
	}
	if ((ret = engine_audit_open(&c->audit, &alog, err)) < 0)
		goto out;
	if ((ret = engine_container_identity(&rec, c->rootless, c->uid, c->gid, &ident, err)) < 0)
		goto out;
	ids = (struct user_ids){.uid = rec.uid, .gid = rec.gid, .n_groups = rec.n_groups};
	for (size_t i = 0; i < rec.n_groups; i++)
		ids.groups[i] = rec.groups[i];
	if (o->user && o->user[0]) {
		if ((ret = image_store_open(c->root, &ident.ids, &store, err)) < 0 ||
		    (ret = image_store_resolve(store, rec.image_id, &img, err)) < 0)
			goto out;
		passwd = engine_image_file_read(dir, img, "etc/passwd");
		group = engine_image_file_read(dir, img, "etc/group");
		if ((ret = engine_user_resolve(o->user, passwd, group, &ids, err)) < 0)
			goto out;
		if (ident.userns != SANDBOX_USERNS_HOST &&
		    (!engine_id_mapped(ident.ids.uid, ident.ids.n_uid, ids.uid) ||
		     !engine_id_mapped(ident.ids.gid, ident.ids.n_gid, ids.gid))) {
			ret = err_set(err, EINVAL,
				      "user \"%s\" (uid %u, gid %u) is not mapped in this "
				      "container's user namespace",
				      o->user, (unsigned)ids.uid, (unsigned)ids.gid);
			goto out;
		}
	}
	if ((ret = build_env(rec.env, o->env, &env, err)) < 0)
		goto out;
	if (strcmp(rec.seccomp, "unconfined") != 0 &&
	    (ret = engine_container_bpf_load(c->root, id, &spec.bpf, err)) < 0)
		goto out;
	if (!c->rootless && sandbox_cgroup_open(id, &cg, NULL) < 0)
		cg = NULL;
	spec.userns = ident.userns;
	spec.net = !strcmp(rec.net, "host") ? SANDBOX_NET_HOST : SANDBOX_NET_NONE;
	spec.argv = o->argv;
	spec.env = env;
	spec.cwd = (char *)(o->workdir && o->workdir[0] ? o->workdir : rec.cwd);
	spec.uid = ids.uid;
	spec.gid = ids.gid;
	spec.groups = ids.groups;
	spec.n_groups = ids.n_groups;
	spec.tty = o->tty;
	if (o->tty) {
		struct winsize ws;
		if (ioctl(isatty(0) ? 0 : 1, TIOCGWINSZ, &ws) == 0) {
			spec.tty_rows = ws.ws_row;
			spec.tty_cols = ws.ws_col;
		}
	}
	spec.stdin_open = o->interactive;
	spec.stdio[0] = spec.stdio[1] = spec.stdio[2] = -1;
	if (o->detach) {
		/* Docker's exec -d: its output goes nowhere, not to our terminal. */
		null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0) {
			ret = err_errno(err, errno, "open /dev/null");
			goto out;
		}
		spec.stdio[0] = spec.stdio[1] = spec.stdio[2] = null;
		spec.tty = false;
	}
	spec.caps = rec.caps;
	spec.landlock = rec.landlock;
	spec.readonly_root = rec.read_only;
	spec.apparmor_profile = rec.apparmor;
	spec.cgroup = cg;
	{
		char enforced[256] = "";

		/* An exec'd process has the container's rlimits too, never the
		 * caller's (a --ulimit or rootless pids limit is not bypassed
		 * by `moat exec`). */
		engine_process_rlimits(&rec, cg != NULL, &spec, enforced, sizeof(enforced));
	}
	/* Landlock keeps the container's writable mounts writable for the
	 * process too (targets and modes only: nothing is mounted). */
	for (size_t i = 0; i < rec.n_mounts && i < SANDBOX_MAX_MOUNTS; i++)
		emounts[spec.n_mounts++] = (struct sandbox_mount){
		    .kind = rec.mounts[i].type == MOUNT_TMPFS ? SANDBOX_MOUNT_TMPFS
							      : SANDBOX_MOUNT_BIND,
		    .target = rec.mounts[i].target,
		    .srcfd = -1,
		    .readonly = rec.mounts[i].readonly,
		};
	spec.mounts = emounts;
	if ((ret = engine_audit(alog, exec_event(&rec, &spec, o->detach), err)) < 0)
		goto out;
	if ((ret = sandbox_exec(&spec, pidfd, o->detach, &master, &helper, err)) < 0)
		goto out;
	if (master >= 0 && !o->detach)
		relay(master, o->interactive, helper, &status);
	else
		while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
			;
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	if (cg)
		sandbox_cgroup_close(cg);
	audit_close(alog);
	sandbox_bpf_free(&spec.bpf);
	image_free(img);
	image_store_close(store);
	engine_container_record_free(&rec);
	return ret;
}
