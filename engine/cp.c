/*
 * engine/cp.c - `moat cp` (see cp.h).
 *
 * Runs in: the moat process, as the invoker, and one helper it forks:
 *  - running container: the helper joins the container's user and mount
 *    namespaces through its init's pidfd (handed over by the monitor), so
 *    "/" is the container's root, and becomes root of that user namespace;
 *  - stopped container: the helper enters a new user namespace with the
 *    container's id maps, mounts the container's overlay (a detached mount,
 *    attached nowhere, read-only when copying out) and chroots into it. The
 *    container's runtime lock is held meanwhile: it cannot start.
 * The helper walks or writes the container's side; the host's side is done
 * by this process with the invoker's own rights. Between the two flows a
 * stream of entry records (a fixed header, the name, a link target, the
 * data), checked strictly by whichever side reads it.
 *
 * This file is the verb: the host's end, reaching the container (its
 * monitor's pidfd, or its lock when stopped), forking the helper and the
 * plan. The rest (see engine/cp_internal.h): cp_helper.c (the helper),
 * cp_path.c (pure: paths, plan, names), cp_stream.c (records, messages),
 * cp_tree.c (finding, reading and extracting trees), cp_tar.c ("-").
 *
 * Invariants (CVE-2018-15664, CVE-2019-10152):
 *  - A container path is resolved only by the helper, beneath its root fd
 *    (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, or the checked walk
 *    of common/fs.c), in a process whose "/" is that root and that holds no
 *    host directory fd: whatever a symlink in the container says, and
 *    whenever it is swapped, it leads into the container and nowhere else.
 *  - Below the resolved top nothing follows a symlink: entries are opened
 *    O_NOFOLLOW relative to their directory's fd; extraction goes only
 *    through real directories (O_DIRECTORY|O_NOFOLLOW, one component at a
 *    time), creates with O_EXCL|O_NOFOLLOW after unlinking what was there,
 *    and sets owner, mode and times on fds.
 *  - Entry names are relative and never contain "..": records the host
 *    reads from the helper and a tar on stdin are as untrusted as the
 *    container itself.
 *  - The helper is non-dumpable before it joins anything (CVE-2016-9962),
 *    keeps only its pipes, never loads a library (libarchive, for "-", is
 *    used on the host side only: CVE-2019-14271) and never looks up a user.
 *  - Files copied out lose their setuid and setgid bits unless -a.
 *  - The host's end is opened first, with the invoker's rights, before
 *    the container is touched; the helper's answers about its end only
 *    choose the plan, and the host never resolves a name it sent.
 *  - A stopped container stays locked (RUNROOT/containers/<id>/lock, as a
 *    starting monitor takes it) until the helper is gone: it cannot start
 *    on an overlay the helper has mounted.
 * Each file says which of these its code keeps, next to that code.
 */
#include "engine/cp.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "common/userns.h"
#include "engine/containers.h"
#include "engine/cp_internal.h"
#include "engine/ctl.h"
#include "engine/engine.h"
#include "engine/events.h"
#include "image/archive.h"
#include "image/image.h"

#define CP_BUSY_TRIES 200 /* x 50 ms */

/*
 * Creates RUNROOT/containers/<id> holding its flocked "lock", as a
 * starting monitor does (engine/start.c): while it exists the container
 * cannot start. -EBUSY when someone else has it.
 */
static int lock_stopped(const char *runroot, const char *id, const char *rdir, struct err **err)
{
	char dir[4200], tmp[4300];
	_cleanup_close_ int dfd = -1, fd = -1;

	snprintf(dir, sizeof(dir), "%s/containers", runroot);
	snprintf(tmp, sizeof(tmp), "%s/.new-%s", dir, id);
	if (fs_mkdir_p(dir, 0700, err) < 0)
		return err_ret(*err);
	if (mkdir(tmp, 0700) < 0)
		return errno == EEXIST ? -EBUSY : err_errno(err, errno, "create \"%s\"", tmp);
	dfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fd = openat(dfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fs_rm_rf_at(AT_FDCWD, tmp, NULL);
		return err_errno(err, errno, "lock \"%s/lock\"", tmp);
	}
	if (rename(tmp, rdir) < 0) {
		int saved = errno;
		fs_rm_rf_at(AT_FDCWD, tmp, NULL);
		if (saved == EEXIST || saved == ENOTEMPTY)
			return -EBUSY;
		return err_errno(err, saved, "rename \"%s\"", tmp);
	}
	return steal_fd(fd);
}

/* How the helper reaches the container: PIDFD (running) or LOCKFD held
 * (stopped; RDIR is then ours to remove). */
struct reach {
	int pidfd, lockfd;
	char rdir[4200];
};

static int reach_container(const struct engine_ctx *c, const struct container_record *rec,
			   struct reach *a, struct err **err)
{
	snprintf(a->rdir, sizeof(a->rdir), "%s/containers/%s", c->runroot, rec->id);
	for (int tries = 0;; tries++) {
		struct err *e = NULL;
		int r;

		if (engine_container_monitored(c->runroot, rec->id)) {
			struct container_record now;
			bool paused = false;

			/* a = 1: for cp, a paused container will do. */
			r = ctl_call(a->rdir, CTL_PIDFD, 1, 0, NULL, &a->pidfd, &e);
			if (r == 0 && a->pidfd >= 0)
				return 0;
			if (r == 0)
				return err_set(err, EPROTO,
					       "the container's monitor sent no pidfd");
			if (e->code == ESRCH &&
			    engine_container_load(c->root, rec->id, &now, NULL) == 0) {
				paused = now.state == CTR_PAUSED;
				engine_container_record_free(&now);
			}
			if (paused || (e->code != ESRCH && e->code != ECONNREFUSED &&
				       e->code != ENOENT && e->code != EPIPE)) {
				*err = e;
				return err_ret(e);
			}
			err_free(&e); /* starting or ending: try again */
		} else {
			r = lock_stopped(c->runroot, rec->id, a->rdir, err);
			if (r >= 0) {
				a->lockfd = r;
				return 0;
			}
			if (r != -EBUSY)
				return r;
			/* A dead monitor's remains are cleaned by reconcile. */
			if (!engine_container_monitored(c->runroot, rec->id))
				engine_reconcile(c);
		}
		if (tries >= CP_BUSY_TRIES)
			return err_set(err, EBUSY,
				       "container %s is busy (starting, stopping, or being copied "
				       "to or from): try again",
				       rec->name);
		usleep(50 * 1000);
	}
}

static void reach_release(struct reach *a)
{
	closep(&a->pidfd);
	if (a->lockfd >= 0)
		fs_rm_rf_at(AT_FDCWD, a->rdir, NULL);
	closep(&a->lockfd);
}

/* The stopped container's layers (top first), by path: the helper opens
 * them (enter_stopped says why there). */
static int layer_paths(const struct engine_ctx *c, const struct container_record *rec,
		       const struct engine_identity *ident, char ***out, struct err **err)
{
	struct image_store *store = NULL;
	struct image *img = NULL;
	char **v = NULL;
	int r;

	if ((r = image_store_open(c->root, &ident->ids, &store, err)) < 0)
		return r;
	if ((r = image_store_resolve(store, rec->image_id, &img, err)) < 0) {
		err_prefix(err, "the image of container %s", rec->name);
		goto out;
	}
	if (!(v = calloc(img->n_layers + 1, sizeof(char *)))) {
		r = err_errno(err, ENOMEM, "layers");
		goto out;
	}
	for (size_t i = 0; i < img->n_layers; i++)
		if (!(v[i] = strdup(img->layer_dirs[img->n_layers - 1 - i]))) {
			r = err_errno(err, ENOMEM, "layers");
			strvfree(v);
			v = NULL;
			goto out;
		}
	*out = v;
out:
	image_free(img);
	image_store_close(store);
	return r;
}

/* Forks the helper; *CTL and *DATA get the host's ends. */
static int spawn(struct cp_job *j, const struct engine_identity *ident, pid_t *pid, int *ctl,
		 int *data, struct err **err)
{
	int cs[2], ds[2], ss[2] = {-1, -1};
	bool maps = j->stopped && j->userns != SANDBOX_USERNS_HOST;
	pid_t parent = getpid();
	char c = 0;
	int r = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, cs) < 0)
		return err_errno(err, errno, "socketpair");
	if (pipe2(ds, O_CLOEXEC) < 0) {
		r = err_errno(err, errno, "pipe");
		close(cs[0]);
		close(cs[1]);
		return r;
	}
	if (maps && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ss) < 0) {
		r = err_errno(err, errno, "socketpair");
		goto fail;
	}
	*pid = fork();
	if (*pid < 0) {
		r = err_errno(err, errno, "fork");
		goto fail;
	}
	if (*pid == 0) {
		close(cs[0]);
		close(j->o->to_container ? ds[1] : ds[0]);
		if (ss[0] >= 0)
			close(ss[0]);
		j->ctl = cs[1];
		j->data = j->o->to_container ? ds[0] : ds[1];
		j->sync = ss[1];
		engine_cp_helper_main(j, parent);
	}
	close(cs[1]);
	close(j->o->to_container ? ds[0] : ds[1]);
	*ctl = cs[0];
	*data = j->o->to_container ? ds[1] : ds[0];
	if (maps) {
		close(ss[1]);
		if (read(ss[0], &c, 1) != 1)
			r = err_set(err, EPIPE, "could not create a user namespace for the copy");
		else if (userns_write_maps(*pid, ident->userns, ident->ids.uid, ident->ids.n_uid,
					   ident->ids.gid, ident->ids.n_gid, err) < 0)
			r = err_ret(*err);
		c = r == 0;
		if (r == 0 && write(ss[0], &c, 1) != 1)
			r = err_errno(err, errno, "sync with the copy helper");
		close(ss[0]);
	}
	return r;
fail:
	close(cs[0]);
	close(cs[1]);
	close(ds[0]);
	close(ds[1]);
	if (ss[0] >= 0) {
		close(ss[0]);
		close(ss[1]);
	}
	return r;
}

/* Waits for the helper; its final word, unless ERR is already set. */
static int finish_helper(pid_t pid, int ctl, int r, struct err **err)
{
	struct cp_msg m;
	int got, status = 0;

	got = engine_cp_msg_recv(ctl, &m);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* The helper's reason beats ours when ours is only that it stopped. */
	if (got > 0 && m.code && (r == 0 || (*err)->code == EPIPE)) {
		err_free(err);
		return err_set(err, m.code, "%s", m.text);
	}
	if (r < 0)
		return r;
	if (got <= 0 || m.code)
		return err_set(err, EIO, "the copy helper ended %s",
			       WIFSIGNALED(status) ? "by a signal" : "without finishing");
	return 0;
}

static struct audit_event *cp_event(const char *id, const struct engine_cp_opts *o)
{
	struct audit_event *e = audit_event_new("container.cp");

	if (!e)
		return NULL;
	audit_event_str(e, "container", id);
	audit_event_str(e, "direction", o->to_container ? "in" : "out");
	audit_event_str(e, "container_path", o->ctr_path);
	audit_event_str(e, "host_path", o->host_path);
	audit_event_bool(e, "archive", o->archive);
	audit_event_bool(e, "follow_link", o->follow_link);
	return e;
}

/* Container -> host, once the helper runs. */
static int host_out(struct cp_job *j, struct cp_dest *hd, bool stream, int ctl, int data,
		    struct err **err)
{
	_cleanup_free_ struct cp_extract *x = calloc(1, sizeof(*x));
	_cleanup_free_ struct cp_ent *e = calloc(1, sizeof(*e));
	struct cp_tar_writer t = {0};
	struct cp_msg m;
	const char *name = j->cpath.name;
	bool into_parent = false;
	int r;

	if (!x || !e)
		return err_errno(err, ENOMEM, "copy");
	/* The helper says only whether the source is a directory; the name
	 * and where it lands are the host's (the plan, on the host's end). */
	if ((r = engine_cp_msg_recv(ctl, &m)) <= 0)
		return err_set(err, EIO, "the copy helper ended before it started");
	if (m.code)
		return err_set(err, m.code, "%s", m.text);
	if (!stream && engine_cp_plan(m.flags & CPM_DIR, j->cpath.name, &hd->d, &into_parent, &name,
				      err) < 0) {
		engine_cp_msg_send(ctl, ECANCELED, 0, "");
		return err_ret(*err);
	}
	if (engine_cp_msg_send(ctl, 0, 0, name) < 0)
		return err_set(err, EIO, "the copy helper ended before it started");
	if (stream) {
		if ((r = engine_cp_tar_open(&t, STDOUT_FILENO, err)) == 0)
			r = engine_cp_record_pump(data, &t.s, e, err);
		return engine_cp_tar_close(&t, r == 0, r == 0 ? err : NULL) < 0 ? err_ret(*err) : r;
	}
	engine_cp_extract_init(x, into_parent ? hd->pfd : hd->fd);
	/* Docker: owned by the invoker; -a keeps the container's ids where
	 * we may (root), silently not where we may not (rootless, as cp -a). */
	x->own = j->o->archive ? CP_OWN_ENTRY : CP_OWN_KEEP;
	x->own_best_effort = geteuid() != 0;
	x->strip_suid = !j->o->archive;
	r = engine_cp_record_pump(data, &x->s, e, err);
	if (r == 0)
		r = engine_cp_extract_finish(x, err);
	engine_cp_extract_free(x);
	return r;
}

/* Host -> container, once the helper runs. */
static int host_in(struct cp_job *j, struct cp_src *hs, const struct cp_path *hp, bool stream,
		   int ctl, int data, struct err **err)
{
	_cleanup_free_ struct cp_ent *e = calloc(1, sizeof(*e));
	struct cp_rec_writer w;
	struct engine_cp_dest d = {0};
	unsigned long skipped = 0;
	struct cp_msg m;
	bool into_parent = false;
	const char *name = hp->name;
	int r;

	if (!e)
		return err_errno(err, ENOMEM, "copy");
	engine_cp_writer_init(&w, data);
	if ((r = engine_cp_msg_recv(ctl, &m)) <= 0)
		return err_set(err, EIO, "the copy helper ended before it started");
	if (m.code)
		return err_set(err, m.code, "%s", m.text);
	/* The helper's word on the destination only chooses the plan and
	 * names things in the container: nothing on the host depends on it. */
	d.exists = m.flags & CPM_EXISTS;
	d.is_dir = m.flags & CPM_DIR;
	d.is_reg = m.flags & CPM_REG;
	d.asserts_dir = j->cpath.asserts_dir;
	d.base = m.text;
	d.show = j->show;
	if (stream && !d.is_dir)
		r = err_set(err, ENOTDIR, "destination \"%s\" must be a directory", j->show);
	else if (!stream)
		r = engine_cp_plan(S_ISDIR(hs->st.st_mode), hp->name, &d, &into_parent, &name, err);
	if (r < 0) {
		engine_cp_msg_send(ctl, ECANCELED, 0, "");
		return r;
	}
	if (engine_cp_msg_send(ctl, 0, into_parent ? CPM_INTO_PARENT : 0, "") < 0)
		return err_set(err, EIO, "the copy helper ended before it started");
	if (stream)
		r = engine_cp_tar_pump(STDIN_FILENO, &w.s, e, &skipped, err);
	else
		r = engine_cp_tree_send(&w.s, hs->fd, &hs->st, name, &skipped, err);
	if (r == 0)
		r = engine_cp_writer_finish(&w, err);
	if (skipped)
		fprintf(stderr, "moat: warning: %lu device nodes or sockets were not copied\n",
			skipped);
	return r;
}

int engine_cp(const struct engine_ctx *c, const char *id, const struct engine_cp_opts *o,
	      struct err **err)
{
	struct container_record rec = {0};
	struct engine_identity ident = {0};
	struct reach a = {.pidfd = -1, .lockfd = -1};
	struct audit_log *alog = NULL;
	struct cp_job j = {.o = o, .pidfd = -1, .sync = -1, .ctl = -1, .data = -1};
	_cleanup_strv_ char **lowers = NULL;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	_cleanup_free_ struct cp_path *hp = calloc(1, sizeof(*hp));
	_cleanup_free_ struct cp_dest *hd = calloc(1, sizeof(*hd));
	_cleanup_free_ char *show = NULL;
	_cleanup_close_ int ctl = -1, data = -1;
	struct cp_src hs = {.fd = -1};
	bool stream = !strcmp(o->host_path, "-");
	char upper[4200], work[4200];
	pid_t pid = -1;
	int ret;

	if (hd)
		hd->pfd = hd->fd = -1;
	if (!hp || !hd)
		return err_errno(err, ENOMEM, "copy");
	if ((ret = engine_container_load(c->root, id, &rec, err)) < 0)
		return ret;
	if ((ret = ctr_transition_check(engine_container_state(c->runroot, &rec), CTR_VERB_CP,
					rec.name, err)) < 0)
		goto out;
	if (o->to_container && rec.read_only) {
		ret = err_set(err, EROFS, "container rootfs is marked read-only");
		goto out;
	}
	if (asprintf(&show, "%s:%s", rec.name, o->ctr_path) < 0) {
		show = NULL;
		ret = err_errno(err, ENOMEM, "copy");
		goto out;
	}
	j.ctr = rec.name;
	j.show = show;
	if ((ret = engine_cp_path_parse(o->ctr_path, true, &j.cpath, err)) < 0)
		goto out;
	/* The host's end first, with the invoker's rights, as Docker does:
	 * a bad local path is an error before the container is touched. */
	if (stream) {
		/* libarchive, loaded here, never inside the container. */
		if ((ret = image_archive_load(err)) < 0)
			goto out;
	} else if ((ret = engine_cp_path_parse(o->host_path, false, hp, err)) < 0) {
		goto out;
	} else if (o->to_container) {
		if ((ret = engine_cp_src_open(-1, hp, o->follow_link, o->host_path, NULL, &hs,
					      err)) < 0)
			goto out;
	} else if ((ret = engine_cp_dest_find(-1, hp, o->host_path, NULL, hd, err)) < 0) {
		goto out;
	}
	if ((ret = engine_container_identity(&rec, c->rootless, c->uid, c->gid, &ident, err)) < 0)
		goto out;
	j.userns = ident.userns;
	if ((ret = engine_audit_open(&c->audit, &alog, err)) < 0 ||
	    (ret = engine_audit(alog, cp_event(id, o), err)) < 0)
		goto out;
	if ((ret = reach_container(c, &rec, &a, err)) < 0)
		goto out;
	j.stopped = a.lockfd >= 0;
	j.pidfd = a.pidfd;
	if (j.stopped && (ret = layer_paths(c, &rec, &ident, &lowers, err)) < 0)
		goto out;
	snprintf(upper, sizeof(upper), "%s/containers/%s/upper", c->root, rec.id);
	snprintf(work, sizeof(work), "%s/containers/%s/work", c->root, rec.id);
	j.lowers = lowers;
	j.upper = upper;
	j.work = work;
	/* A reader or writer that went away is an error, not a signal. */
	sigaction(SIGPIPE, &ign, &old);
	ret = spawn(&j, &ident, &pid, &ctl, &data, err);
	if (ret == 0 && o->to_container)
		ret = host_in(&j, &hs, hp, stream, ctl, data, err);
	else if (ret == 0)
		ret = host_out(&j, hd, stream, ctl, data, err);
	closep(&data); /* the helper sees the end, or that we gave up */
	if (pid > 0)
		ret = finish_helper(pid, ctl, ret, err);
	sigaction(SIGPIPE, &old, NULL);
out:
	if (ret < 0 && err && *err && !(*err)->exit)
		(*err)->exit = 1; /* Docker: every cp failure is 1 */
	reach_release(&a);
	closep(&hs.fd);
	if (hd)
		engine_cp_dest_close(hd);
	audit_close(alog);
	engine_container_record_free(&rec);
	return ret;
}
