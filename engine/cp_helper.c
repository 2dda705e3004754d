/*
 * engine/cp_helper.c - the helper of `moat cp`: the process that enters
 * the container and does the container's end of a copy.
 *
 * Runs in: a child forked by engine_cp (engine/cp.c), which calls
 * engine_cp_helper_main and never returns. A running container: it joins
 * the container's user and mount namespaces through its init's pidfd and
 * becomes root of that user namespace (that namespace's capabilities,
 * none on the host). A stopped one: it makes a user namespace with the
 * container's id maps (written by the parent), mounts the container's
 * overlay as a detached mount, read-only when copying out, and chroots
 * into it. With --userns=host there is no user namespace to enter or
 * make: the helper keeps the invoker's credentials. Either way, afterwards "/" is the container's
 * root and nothing the helper holds leads anywhere else.
 *
 * Threats, and what here answers them:
 *  - Processes in the container must not reach into the helper
 *    (CVE-2016-9962: runc exec was dumpable while it joined, and a
 *    process in the container could ptrace it and use its host fds).
 *    The helper is non-dumpable before it joins anything, and again
 *    after every credential change (which resets it). It does not join
 *    the container's pid namespace: nothing in there can name it.
 *  - Nothing of the host's filesystem is left to it: every fd but its
 *    pipes is closed before it enters (CVE-2024-21626); the pidfd is
 *    closed once joined; a stopped container's layer fds are closed once
 *    the overlay is mounted; the root it works beneath is opened after it
 *    entered.
 *  - It never loads a library and never looks up a user or group
 *    (CVE-2019-14271: docker cp's helper loaded libnss_*.so from the
 *    container's root). libarchive, for "-", is used by moat only.
 *  - It dies with moat (PR_SET_PDEATHSIG, then a getppid check for a
 *    parent already gone), so no copy outlives the lock moat holds on a
 *    stopped container (the container cannot start meanwhile).
 *  - What the host tells it is checked too: the top name must be a plain
 *    name or "."; the plan must name a directory it has open.
 *  - The container's path is resolved by engine/cp_tree.c beneath the
 *    container's root (CVE-2019-10152, CVE-2018-15664).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "engine/cp_internal.h"
#include "sandbox/mounts.h"

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Closes every fd but stdio and KEEP: no host directory, no socket of
 * moat's, nothing but the job's own pipes goes into the container
 * (CVE-2024-21626: a leaked host directory fd is a way out). */
static void close_others(int *keep, size_t n)
{
	int last = 2;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (size_t i = 0; i < n; i++) {
		if (keep[i] <= last)
			continue;
		if (keep[i] > last + 1)
			close_range((unsigned)last + 1, (unsigned)keep[i] - 1, 0);
		last = keep[i];
	}
	close_range((unsigned)last + 1, ~0u, 0);
}

static int become_root(struct err **err)
{
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return err_errno(err, errno, "become root in the container's user namespace");
	return 0;
}

/* Running: its namespaces; setns(CLONE_NEWNS) puts our root and cwd at
 * the container's root. */
static int enter_running(struct cp_job *j, struct err **err)
{
	int flags = CLONE_NEWNS;

	if (j->userns != SANDBOX_USERNS_HOST)
		flags |= CLONE_NEWUSER;
	if (setns(j->pidfd, flags) < 0)
		return err_errno(err, errno, "join the container's namespaces");
	closep(&j->pidfd);
	return j->userns != SANDBOX_USERNS_HOST ? become_root(err) : 0;
}

static int open_dir_path(const char *path, struct err **err)
{
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? err_errno(err, errno, "open \"%s\"", path) : fd;
}

/* The layers, upper and work dirs as O_PATH fds, for the overlay. */
static int open_layers(const struct cp_job *j, struct host_fds *h, struct err **err)
{
	memset(h, 0, sizeof(*h));
	h->upper = h->work = h->rootdir = h->devnull = -1;
	for (size_t i = 0; i < ARRAY_SIZE(h->dev); i++)
		h->dev[i] = -1;
	for (size_t i = 0; i < ARRAY_SIZE(h->files); i++)
		h->files[i] = -1;
	for (size_t i = 0; j->lowers[i]; i++) {
		if (i == ARRAY_SIZE(h->lowers))
			return err_set(err, E2BIG, "too many image layers");
		if ((h->lowers[i] = open_dir_path(j->lowers[i], err)) < 0)
			return err_ret(*err);
		h->n_lowers++;
	}
	if ((h->upper = open_dir_path(j->upper, err)) < 0 ||
	    (h->work = open_dir_path(j->work, err)) < 0)
		return err_ret(*err);
	return 0;
}

/*
 * Stopped: a user namespace like the container's (its maps written by the
 * parent) owning a mount namespace of our own, the overlay as a detached
 * mount, and chroot into it, so that "/" is the container's root here too.
 */
static int enter_stopped(struct cp_job *j, struct err **err)
{
	struct sandbox_spec spec = {.upper = (char *)j->upper};
	struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
	struct host_fds h;
	_cleanup_close_ int m = -1;
	bool userns = j->userns != SANDBOX_USERNS_HOST;
	char c = 0;
	int r;

	if (unshare(CLONE_NEWNS | (userns ? CLONE_NEWUSER : 0)) < 0)
		return err_errno(err, errno, "create the namespaces for the copy");
	/* Ordering: the layers are opened (1) after the mount namespace
	 * exists, since overlayfs takes only paths of the namespace it is
	 * mounted from, and (2) before the id maps, while our host uid is
	 * still the invoker's and reaches moat's private state directory. */
	r = open_layers(j, &h, err);
	if (r == 0 && userns && (write(j->sync, &c, 1) != 1 || read(j->sync, &c, 1) != 1 || c != 1))
		r = err_set(err, EPERM, "the user namespace got no id maps");
	closep(&j->sync);
	if (r == 0 && userns)
		r = become_root(err);
	if (r == 0 && (m = sandbox_rootfs_mount(&spec, &h, err)) < 0)
		r = err_prefix(err, "the container's filesystem");
	sandbox_host_fds_close(&h);
	if (r < 0)
		return r;
	if (!j->o->to_container && mount_setattr(m, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		return err_errno(err, errno, "make the container's filesystem read-only");
	if (fchdir(m) < 0 || chroot(".") < 0 || chdir("/") < 0)
		return err_errno(err, errno, "enter the container's filesystem");
	return 0;
}

/* Container -> host: sends the source as records. 1: the host gave up. */
static int helper_out(struct cp_job *j, int rootfd, struct err **err)
{
	struct cp_rec_writer w;
	unsigned long skipped = 0;
	_cleanup_close_ int fd = -1;
	struct cp_msg m;
	struct cp_src s;
	char name[CP_PATH_MAX + 1];

	engine_cp_writer_init(&w, j->data);
	if (engine_cp_src_open(rootfd, &j->cpath, j->o->follow_link, j->o->ctr_path, j->ctr, &s,
			       err) < 0)
		return err_ret(*err);
	fd = s.fd;
	engine_cp_msg_send(j->ctl, 0,
			   CPM_EXISTS | (S_ISDIR(s.st.st_mode) ? CPM_DIR : 0) |
			       (S_ISREG(s.st.st_mode) ? CPM_REG : 0),
			   "");
	if (engine_cp_msg_recv(j->ctl, &m) <= 0 || m.code)
		return 1;
	/* The host names the top entry; only a plain name or "." will do:
	 * every name sent below it starts with it. */
	if (!m.text[0] || strchr(m.text, '/') || !strcmp(m.text, ".."))
		return err_set(err, EPROTO, "bad name for the copy");
	snprintf(name, sizeof(name), "%s", m.text);
	if (engine_cp_tree_send(&w.s, fd, &s.st, name, &skipped, err) < 0 ||
	    engine_cp_writer_finish(&w, err) < 0)
		return err_ret(*err);
	closep(&j->data);
	if (skipped)
		fprintf(stderr, "moat: warning: %lu device nodes or sockets were not copied\n",
			skipped);
	return 0;
}

/* Host -> container: finds the destination, writes the records. */
static int helper_in(struct cp_job *j, int rootfd, struct err **err)
{
	_cleanup_free_ struct cp_extract *x = calloc(1, sizeof(*x));
	_cleanup_free_ struct cp_ent *e = calloc(1, sizeof(*e));
	struct cp_dest d;
	struct cp_msg m;
	int destfd, r;

	if (!x || !e)
		return err_errno(err, ENOMEM, "copy");
	if (engine_cp_dest_find(rootfd, &j->cpath, j->show, j->ctr, &d, err) < 0)
		return err_ret(*err);
	engine_cp_msg_send(j->ctl, 0,
			   (d.d.exists ? CPM_EXISTS : 0) | (d.d.is_dir ? CPM_DIR : 0) |
			       (d.d.is_reg ? CPM_REG : 0),
			   d.base);
	if (engine_cp_msg_recv(j->ctl, &m) <= 0 || m.code) {
		engine_cp_dest_close(&d);
		return 1;
	}
	destfd = (m.flags & CPM_INTO_PARENT) ? d.pfd : d.fd;
	if (destfd < 0) {
		engine_cp_dest_close(&d);
		return err_set(err, EPROTO, "bad plan for the copy");
	}
	engine_cp_extract_init(x, destfd);
	/* Docker: owned by the container's root unless -a. */
	x->own = j->o->archive ? CP_OWN_ENTRY : CP_OWN_FIXED;
	x->uid = 0;
	x->gid = 0;
	r = engine_cp_record_pump(j->data, &x->s, e, err);
	if (r == 0)
		r = engine_cp_extract_finish(x, err);
	engine_cp_extract_free(x);
	engine_cp_dest_close(&d);
	return r;
}

__attribute__((noreturn)) void engine_cp_helper_main(struct cp_job *j, pid_t parent)
{
	struct err *e = NULL;
	int keep[3], r;
	size_t n = 0;

	/* Before anything of the container can see us (CVE-2016-9962). */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(1);
	keep[n++] = j->ctl;
	keep[n++] = j->data;
	keep[n++] = j->stopped ? j->sync : j->pidfd;
	close_others(keep, n);
	r = j->stopped ? enter_stopped(j, &e) : enter_running(j, &e);
	/* New credentials reset both (commit_creds): set them again. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (r == 0 && getppid() != parent)
		r = err_set(&e, ESRCH, "moat ended during the copy");
	if (r == 0) {
		_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			r = err_errno(&e, errno, "open the container's root");
		else if (j->o->to_container)
			r = helper_in(j, rootfd, &e);
		else
			r = helper_out(j, rootfd, &e);
	}
	/* One answer per phase: an error ends ours, success is the last. */
	if (r < 0)
		engine_cp_msg_send(j->ctl, e && e->code ? e->code : EIO, 0,
				   e ? e->msg : "copy failed");
	else if (r == 0)
		engine_cp_msg_send(j->ctl, 0, 0, "");
	_exit(r == 0 ? 0 : 1);
}
