/*
 * engine/monitor.c - the per-container monitor.
 *
 * Runs in: `moat run`/`moat start -a` in the foreground (the calling
 * process is the monitor: no extra process on the hot path), or a
 * detached process forked by `moat run -d`/`moat start`; as the invoking
 * user or root; always outside the container's namespaces.
 *
 * Invariants:
 *  - The monitor holds RUNROOT/containers/<id>/lock for as long as it
 *    lives; the record says "running" only while it does, so a monitor
 *    killed with SIGKILL leaves a container every other command reports
 *    as exited (exit code unknown) and cleans.
 *  - The control socket is a 0600 unix socket in the 0700 runtime dir;
 *    its messages are decoded by the fuzzed ctl_decode, and a client can
 *    only ask for what the same user could do to its own container.
 *  - Signals reach the container through its pidfd (no pid reuse).
 *  - The record's exit state is written (durably) before the lock goes.
 */
#include "engine/monitor.h"
#include "engine/mounts.h"
#include "engine/netrun.h"
#include "net/dns_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/trim.h"
#include "engine/ctl.h"
#include "engine/logfile.h"
#include "engine/options.h"
#include "sandbox/caps.h"
#include "sandbox/cgroup.h"
#include "sandbox/landlock.h"
#include "sandbox/lsm.h"

#define MAX_CLIENTS 64

struct client {
	int fd;
	unsigned attach; /* CTL_ATTACH_* */
	bool waiting;	 /* CTL_WAIT or CTL_STOP: answer at the exit */
};

struct mon {
	struct monitor_conf *c;
	int sigfd, listenfd, timerfd;
	sigset_t child_mask;
	struct sandbox_proc proc;
	int out_r, err_r, in_w; /* our ends of the command's pipes, or -1 */
	bool stdin_relay;	/* foreground with -i: our stdin feeds it */
	struct logfile *log;
	struct client cl[MAX_CLIENTS];
	bool manual;	 /* stopped or killed by a user: no restart */
	int64_t trim_at; /* when to give back start-up pages (0: done) */
	bool raw;
	struct termios saved;
	struct restart_spec restart;
};

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void save(struct mon *M, bool durable)
{
	struct err *e = NULL;

	if (engine_container_save(M->c->ctx->root, M->c->rec, durable && !M->c->rec->rm, &e) < 0) {
		fprintf(stderr, "moat: warning: %s\n", e->msg);
		err_free(&e);
	}
}

static const char *const userns_names[] = {"single", "subuid", "root-range", "host"};

/* The resource limits as start applied them (0: none; pids_limit -1:
 * unlimited), and in which way ("enforced"). */
static void limits_obj(struct audit_event *e, const struct container_record *r,
		       const struct sandbox_spec *spec)
{
	const struct engine_limits *l = &r->limits;

	audit_event_obj_begin(e, "limits");
	audit_event_int(e, "memory", l->memory);
	audit_event_int(e, "memory_swap", l->memory_swap);
	audit_event_int(e, "memory_reservation", l->memory_reservation);
	audit_event_int(e, "nano_cpus", l->nano_cpus);
	audit_event_int(e, "cpu_shares", l->cpu_shares);
	audit_event_str(e, "cpuset_cpus", l->cpuset_cpus);
	audit_event_int(e, "pids_limit",
			l->pids_limit == 0 ? ENGINE_DEFAULT_PIDS_LIMIT : l->pids_limit);
	for (size_t i = 0; i < spec->n_rlimits && i < SANDBOX_MAX_RLIMITS; i++) {
		char key[48];
		const char *name = engine_limits_ulimit_name(spec->rlimits[i].resource);

		snprintf(key, sizeof(key), "ulimit_%s", name ? name : "?");
		audit_event_int(e, key,
				spec->rlimits[i].soft > INT64_MAX ? -1
								  : (int64_t)spec->rlimits[i].soft);
	}
	if (spec->set_oom_score_adj)
		audit_event_int(e, "oom_score_adj", spec->oom_score_adj);
	audit_event_int(e, "shm_size", (int64_t)spec->shm_size);
	audit_event_str(e, "enforced", r->limits_enforced ? r->limits_enforced : "");
	audit_event_obj_end(e);
}

/* The confinement actually applied, recorded before the container starts. */
static struct audit_event *start_event(const struct container_record *r,
				       const struct sandbox_spec *spec,
				       const struct engine_netrun *net)
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
	audit_event_str(e, "container", r->id);
	audit_event_str(e, "name", r->name);
	audit_event_str(e, "image", r->image);
	audit_event_str(e, "image_id", r->image_id);
	if (r->image_trust)
		audit_event_str(e, "image_trust", r->image_trust);
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
	audit_event_str(e, "profile", r->seccomp);
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
	audit_event_str(e, "network", r->net ? r->net : "none");
	if (net && net->active) {
		char ip[NET_ADDR_TEXT_MAX];
		char **ports = calloc(net->n_ports + 1, sizeof(char *));

		net_addr_format(&net->ep.addr, ip);
		audit_event_str(e, "ip", ip);
		for (size_t i = 0; ports && i < net->n_ports; i++) {
			const struct engine_port *p = &net->ports[i];
			char hip[NET_ADDR_TEXT_MAX] = "0.0.0.0";

			if (p->host_ip.family)
				net_addr_format(&p->host_ip, hip);
			if (asprintf(&ports[i], "%s:%u->%u/%s", hip, (unsigned)p->host_port,
				     (unsigned)p->ctr_port, net_proto_name(p->proto)) < 0)
				ports[i] = NULL;
		}
		if (ports)
			audit_event_strv(e, "ports", ports);
		for (size_t i = 0; ports && ports[i]; i++)
			free(ports[i]);
		free(ports);
	}
	audit_event_bool(e, "read_only", spec->readonly_root);
	audit_event_bool(e, "init", spec->init);
	audit_event_bool(e, "tty", spec->tty);
	audit_event_bool(e, "rm", r->rm);
	audit_event_int(e, "restart_count", r->restart_count);
	limits_obj(e, r, spec);
	/* Storage: what is mounted where, by the host path it really is. */
	if (spec->n_mounts) {
		char **mv = calloc(spec->n_mounts + 1, sizeof(char *));

		for (size_t i = 0; mv && i < spec->n_mounts && i < r->n_mounts; i++) {
			const struct sandbox_mount *m = &spec->mounts[i];
			const struct mount_req *q = &r->mounts[i];

			if (asprintf(&mv[i], "%s%s%s %s -> %s (%s)", mount_type_name(q->type),
				     q->type == MOUNT_VOLUME ? " " : "",
				     q->type == MOUNT_VOLUME ? q->source : "",
				     m->kind == SANDBOX_MOUNT_TMPFS ? "tmpfs" : m->source,
				     m->target, m->readonly ? "ro" : "rw") < 0)
				mv[i] = NULL;
		}
		if (mv)
			audit_event_strv(e, "mounts", mv);
		strvfree(mv);
	}
	return e;
}

static struct audit_event *exit_event(const struct container_record *r,
				      const struct sandbox_result *res, int64_t ran_ns, bool manual)
{
	struct audit_event *e = audit_event_new("container.exit");

	if (!e)
		return NULL;
	audit_event_str(e, "container", r->id);
	audit_event_int(e, "exit_code", res->exit_code);
	audit_event_int(e, "signal", res->signal);
	/* SIGSYS is how a seccomp KILL action ends a process. */
	audit_event_bool(e, "seccomp_kill", res->signal == SIGSYS);
	audit_event_bool(e, "oom_killed", r->oom_killed);
	audit_event_bool(e, "stopped_by_user", manual);
	audit_event_int(e, "duration_ns", ran_ns);
	audit_event_bool(e, "removed", r->rm);
	return e;
}

/* A start that failed after its record: what was asked and why. */
static void failed_event(struct mon *M, const struct err *why)
{
	struct audit_event *e = audit_event_new("container.failed");
	struct err *ignored = NULL;

	if (!e || !M->c->alog) {
		audit_event_free(e);
		return;
	}
	audit_event_str(e, "container", M->c->rec->id);
	audit_event_str(e, "image", M->c->rec->image);
	audit_event_str(e, "error", why ? why->msg : "unknown");
	engine_audit(M->c->alog, e, &ignored);
	err_free(&ignored);
}

/* ---- clients ---- */

static void client_drop(struct client *cl)
{
	closep(&cl->fd);
	cl->attach = 0;
	cl->waiting = false;
}

static void client_send(struct client *cl, uint32_t type, int32_t a, int32_t b, const void *data,
			size_t len)
{
	if (cl->fd >= 0 && ctl_send(cl->fd, type, a, b, data, len, -1) < 0)
		client_drop(cl);
}

static void client_error(struct client *cl, int code, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void client_error(struct client *cl, int code, int exit_code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	client_send(cl, CTL_ERROR, code, exit_code, msg,
		    n < 0		      ? 0
		    : (size_t)n < sizeof(msg) ? (size_t)n
					      : sizeof(msg) - 1);
}

static void accept_clients(struct mon *M)
{
	for (;;) {
		int fd = accept4(M->listenfd, NULL, NULL, SOCK_CLOEXEC);
		struct timeval tv = {.tv_sec = 2};
		size_t i;

		if (fd < 0)
			return;
		/* A client that stops reading is dropped, not waited for. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		for (i = 0; i < MAX_CLIENTS && M->cl[i].fd >= 0; i++)
			;
		if (i == MAX_CLIENTS) {
			struct client tmp = {.fd = fd};
			client_error(&tmp, EBUSY, 1,
				     "too many clients of this container's monitor");
			close(fd);
			continue;
		}
		M->cl[i] = (struct client){.fd = fd};
	}
}

static bool running(const struct mon *M)
{
	return M->proc.pid > 0 && !M->proc.exited;
}

/*
 * Input for the container. Its stdin is non-blocking: a container that
 * stops reading may hold the monitor up for at most a few seconds (then
 * the input is dropped, with a warning), never stop it from logging,
 * reaping or answering stop.
 */
static void to_container(struct mon *M, const char *buf, size_t len)
{
	int fd = M->proc.master >= 0 ? M->proc.master : M->in_w;
	int waited = 0;

	while (fd >= 0 && len) {
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && waited < 50) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, 100);
			waited++;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			fprintf(stderr, "moat: %s does not read its input: %zu bytes dropped\n",
				M->c->rec->name, len);
		else if (M->in_w >= 0)
			closep(&M->in_w); /* its reader is gone */
		return;
	}
}

static void stdin_eof(struct mon *M)
{
	if (M->proc.master >= 0) {
		char eot = 4;
		if (write(M->proc.master, &eot, 1) < 0) {
			/* the container side is gone: its exit follows */
		}
	} else {
		closep(&M->in_w);
	}
}

static int signal_container(struct mon *M, int sig)
{
	if (!running(M))
		return -ESRCH;
	if (syscall(SYS_pidfd_send_signal, M->proc.pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

static void arm_timer(struct mon *M, int seconds)
{
	struct itimerspec its = {.it_value = {.tv_sec = seconds, .tv_nsec = seconds ? 0 : 1}};

	timerfd_settime(M->timerfd, 0, &its, NULL);
}

static void set_state(struct mon *M, enum ctr_state s)
{
	M->c->rec->state = s;
	save(M, false);
}

static void handle(struct mon *M, struct client *cl, const struct ctl_msg *m)
{
	struct container_record *r = M->c->rec;
	struct err *e = NULL;
	int sig, timeout, rc;

	switch (m->type) {
	case CTL_STOP:
		sig = m->a > 0 && m->a < 65 ? m->a : r->stop_signal ? r->stop_signal : SIGTERM;
		timeout = m->b >= 0 ? m->b : r->stop_timeout >= 0 ? r->stop_timeout : 10;
		M->manual = true;
		cl->waiting = true;
		if (!running(M))
			return; /* between restarts: the loop ends, the answer follows */
		signal_container(M, sig);
		if (r->state == CTR_PAUSED && M->c->cgroup)
			sandbox_cgroup_freeze(M->c->cgroup, false, NULL);
		arm_timer(M, timeout);
		return;
	case CTL_KILL:
		sig = m->a > 0 && m->a < 65 ? m->a : SIGKILL;
		if (!running(M)) {
			client_error(cl, ESRCH, 1, "container %s is not running", r->name);
			return;
		}
		M->manual = true;
		rc = signal_container(M, sig);
		if (rc == 0 && r->state == CTR_PAUSED && M->c->cgroup &&
		    (sig == SIGKILL || sig == SIGTERM)) {
			/* A frozen process dies only once thawed (Docker's kill of
			 * a paused container ends it). */
			sandbox_cgroup_freeze(M->c->cgroup, false, NULL);
			r->state = CTR_RUNNING;
		}
		if (rc < 0)
			client_error(cl, -rc, 1, "signal container %s: %s", r->name, strerror(-rc));
		else
			client_send(cl, CTL_OK, 0, 0, NULL, 0);
		return;
	case CTL_ATTACH:
		cl->attach = (unsigned)m->a & 7;
		client_send(cl, CTL_OK, r->tty, 0, NULL, 0);
		return;
	case CTL_STDIN:
		if (cl->attach & CTL_ATTACH_STDIN)
			to_container(M, m->data, m->len);
		return;
	case CTL_STDIN_EOF:
		if (cl->attach & CTL_ATTACH_STDIN)
			stdin_eof(M);
		return;
	case CTL_RESIZE:
		if (M->proc.master >= 0 && m->a > 0 && m->b > 0 && m->a < 65536 && m->b < 65536) {
			struct winsize ws = {.ws_row = (unsigned short)m->a,
					     .ws_col = (unsigned short)m->b};
			ioctl(M->proc.master, TIOCSWINSZ, &ws);
		}
		return;
	case CTL_WAIT:
		cl->waiting = true;
		return;
	case CTL_PIDFD:
		/* a = 1: for reading its files (cp), which a paused container
		 * allows; exec and top need it running. */
		if (!running(M) || (r->state == CTR_PAUSED && m->a != 1)) {
			client_error(cl, ESRCH, 1,
				     r->state == CTR_PAUSED
					 ? "container %s is paused, unpause the container first"
					 : "container %s is not running",
				     r->name);
			return;
		}
		if (ctl_send(cl->fd, CTL_OK, M->proc.pid, 0, NULL, 0, M->proc.pidfd) < 0)
			client_drop(cl);
		return;
	case CTL_PAUSE:
	case CTL_UNPAUSE: {
		bool freeze = m->type == CTL_PAUSE;
		rc = ctr_transition_check(running(M) ? r->state : CTR_EXITED,
					  freeze ? CTR_VERB_PAUSE : CTR_VERB_UNPAUSE, r->name, &e);
		if (rc < 0) {
			client_error(cl, -rc, e->exit ? e->exit : 1, "%s", e->msg);
			err_free(&e);
			return;
		}
		if (!M->c->cgroup) {
			char why[256];
			sandbox_cgroup_describe(M->c->ctx->rootless, why, sizeof(why));
			client_error(cl, ENOTSUP, 1,
				     "%s needs the cgroup freezer, which this container does not "
				     "have: %s",
				     freeze ? "pause" : "unpause", why);
			return;
		}
		if (sandbox_cgroup_freeze(M->c->cgroup, freeze, &e) < 0) {
			client_error(cl, e->code, 1, "%s", e->msg);
			err_free(&e);
			return;
		}
		set_state(M, freeze ? CTR_PAUSED : CTR_RUNNING);
		client_send(cl, CTL_OK, 0, 0, NULL, 0);
		return;
	}
	default:
		client_error(cl, EPROTO, 1, "unexpected control message %u", m->type);
		return;
	}
}

static void read_client(struct mon *M, struct client *cl)
{
	unsigned char buf[CTL_MSG_MAX];
	struct ctl_msg m;
	struct err *e = NULL;
	int fd = -1, r;

	r = ctl_recv(cl->fd, buf, &m, &fd, &e);
	closep(&fd); /* clients never pass fds */
	if (r <= 0) {
		err_free(&e);
		client_drop(cl);
		return;
	}
	handle(M, cl, &m);
}

/* ---- output ---- */

static void output(struct mon *M, enum log_stream s, const char *buf, size_t len)
{
	struct timespec now;
	struct err *e = NULL;

	if (M->log) {
		clock_gettime(CLOCK_REALTIME, &now);
		if (logfile_write(M->log, s, buf, len, &now, &e) < 0) {
			fprintf(stderr, "moat: warning: container log: %s\n", e->msg);
			err_free(&e);
		}
	}
	if (M->c->foreground && fs_write_all(s == LOG_STDERR ? 2 : 1, buf, len) < 0) {
		/* our reader went away; the container goes on */
	}
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		struct client *cl = &M->cl[i];
		if (cl->fd >= 0 &&
		    (cl->attach & (s == LOG_STDERR ? CTL_ATTACH_STDERR : CTL_ATTACH_STDOUT)))
			client_send(cl, s == LOG_STDERR ? CTL_STDERR : CTL_STDOUT, 0, 0, buf, len);
	}
}

/* Reads what FD has; false at EOF or error (then closes it). */
static bool drain_one(struct mon *M, int *fd, enum log_stream s)
{
	char buf[16384];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		closep(fd);
		return false;
	}
	output(M, s, buf, (size_t)n);
	return true;
}

static void winsize_copy(int from, int to)
{
	struct winsize ws;

	if (ioctl(from, TIOCGWINSZ, &ws) == 0)
		ioctl(to, TIOCSWINSZ, &ws);
}

static void relay_start(struct mon *M)
{
	struct termios t;

	if (!M->c->foreground || M->proc.master < 0)
		return;
	if (isatty(0)) {
		winsize_copy(0, M->proc.master);
		if (M->c->spec->stdin_open && tcgetattr(0, &M->saved) == 0) {
			t = M->saved;
			cfmakeraw(&t);
			t.c_oflag |= OPOST; /* keep our own output readable */
			if (tcsetattr(0, TCSANOW, &t) == 0)
				M->raw = true;
		}
	} else if (isatty(1)) {
		winsize_copy(1, M->proc.master);
	}
}

static void relay_stop(struct mon *M)
{
	if (M->raw)
		tcsetattr(0, TCSANOW, &M->saved);
	M->raw = false;
}

/* ---- one run of the command ---- */

static int open_pipes(struct mon *M, struct err **err)
{
	int out[2], errp[2], in[2] = {-1, -1};
	struct sandbox_spec *spec = M->c->spec;

	spec->stdio[0] = spec->stdio[1] = spec->stdio[2] = -1;
	if (spec->tty || !M->c->logging)
		return 0;
	if (pipe2(out, O_CLOEXEC) < 0)
		return err_errno(err, errno, "pipe");
	if (pipe2(errp, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return err_errno(err, errno, "pipe");
	}
	if (spec->stdin_open && pipe2(in, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		close(errp[0]);
		close(errp[1]);
		return err_errno(err, errno, "pipe");
	}
	M->out_r = out[0];
	M->err_r = errp[0];
	M->in_w = in[1];
	if (M->in_w >= 0)
		fcntl(M->in_w, F_SETFL, O_NONBLOCK);
	spec->stdio[0] = in[0];
	spec->stdio[1] = out[1];
	spec->stdio[2] = errp[1];
	return 0;
}

static void close_child_ends(struct sandbox_spec *spec)
{
	for (int i = 0; i < 3; i++)
		closep(&spec->stdio[i]);
}

static void tell_ready(struct mon *M, int code, const struct err *e)
{
	struct monitor_ready r = {.code = code};

	if (M->c->ready_fd < 0)
		return;
	if (e) {
		r.exit = e->exit;
		snprintf(r.msg, sizeof(r.msg), "%s", e->msg);
	}
	if (write(M->c->ready_fd, &r, sizeof(r)) < 0) {
		/* the waiting command is gone; we go on */
	}
	closep(&M->c->ready_fd);
}

/* Serves the running container until it ended and its output is drained. */
/* The embedded DNS server's sockets polled at once: its listening one
 * and the upstream tries in flight (more wait for their timeouts). */
#define MONITOR_DNS_FDS 17

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void serve(struct mon *M)
{
	struct engine_netrun *net = M->c->net;

	for (;;) {
		struct pollfd p[8 + MONITOR_DNS_FDS + MAX_CLIENTS];
		int idx_cl[MAX_CLIENTS];
		int n = 0, i_sig, i_lis, i_tim, i_out = -1, i_err = -1, i_in = -1, i_mas = -1;
		size_t ncl = 0;
		bool exited = M->proc.exited;

		if (exited && M->out_r < 0 && M->err_r < 0 && M->proc.master < 0)
			return;
		i_sig = n;
		p[n++] = (struct pollfd){.fd = M->sigfd, .events = POLLIN};
		i_lis = n;
		p[n++] = (struct pollfd){.fd = M->listenfd, .events = POLLIN};
		i_tim = n;
		p[n++] = (struct pollfd){.fd = M->timerfd, .events = POLLIN};
		if (M->out_r >= 0) {
			i_out = n;
			p[n++] = (struct pollfd){.fd = M->out_r, .events = POLLIN};
		}
		if (M->err_r >= 0) {
			i_err = n;
			p[n++] = (struct pollfd){.fd = M->err_r, .events = POLLIN};
		}
		if (M->proc.master >= 0) {
			i_mas = n;
			p[n++] = (struct pollfd){.fd = M->proc.master, .events = POLLIN};
		}
		if (M->stdin_relay && !exited) {
			i_in = n;
			p[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
		}
		int i_dns = n;
		size_t n_dns = 0;
		if (net && net->dns && !exited) {
			n_dns = dns_server_fds(net->dns, p + n, MONITOR_DNS_FDS);
			if (n_dns > MONITOR_DNS_FDS)
				n_dns = MONITOR_DNS_FDS;
			n += (int)n_dns;
		}
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			if (M->cl[i].fd >= 0) {
				idx_cl[ncl++] = (int)i;
				p[n++] = (struct pollfd){.fd = M->cl[i].fd, .events = POLLIN};
			}
		/* Once it ended, what is left in the pipes is read without
		 * waiting (the pid namespace is gone, so no writer remains).
		 * A second after the start, the pages only start-up used are
		 * given back (common/trim.h): a short container never pays. */
		int wait_ms = exited ? 100 : -1;
		if (M->trim_at && !exited) {
			int64_t left = (M->trim_at - now_ns()) / 1000000;
			wait_ms = left < 0 ? 0 : (int)left;
		}
		if (n_dns) {
			int t = dns_server_next_timeout_ms(net->dns, mono_ms());
			if (t >= 0 && (wait_ms < 0 || t < wait_ms))
				wait_ms = t;
		}
		if (poll(p, (nfds_t)n, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (M->trim_at && now_ns() >= M->trim_at) {
			M->trim_at = 0;
			resident_trim();
		}
		if (p[i_sig].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(M->sigfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					sandbox_proc_reap(&M->proc, NULL);
				else if (si.ssi_signo == SIGWINCH) {
					if (M->proc.master >= 0 && M->c->foreground)
						winsize_copy(0, M->proc.master);
				} else if (si.ssi_signo != SIGPIPE)
					signal_container(M, (int)si.ssi_signo);
			}
		}
		if (p[i_lis].revents & POLLIN)
			accept_clients(M);
		if (n_dns) {
			struct err *de = NULL;
			if (dns_server_handle(net->dns, p + i_dns, n_dns, mono_ms(), &de) < 0)
				err_free(&de);
		}
		if (p[i_tim].revents & POLLIN) {
			uint64_t ticks;
			if (read(M->timerfd, &ticks, sizeof(ticks)) > 0)
				signal_container(M, SIGKILL); /* stop's grace period ran out */
		}
		if (i_out >= 0 && (p[i_out].revents & (POLLIN | POLLHUP | POLLERR)))
			drain_one(M, &M->out_r, LOG_STDOUT);
		if (i_err >= 0 && (p[i_err].revents & (POLLIN | POLLHUP | POLLERR)))
			drain_one(M, &M->err_r, LOG_STDERR);
		if (i_mas >= 0 && (p[i_mas].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!drain_one(M, &M->proc.master, LOG_STDOUT))
				relay_stop(M);
		}
		if (i_in >= 0 && (p[i_in].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[16384];
			ssize_t r = read(0, buf, sizeof(buf));
			if (r > 0) {
				to_container(M, buf, (size_t)r);
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				M->stdin_relay = false;
				stdin_eof(M);
			}
		}
		for (size_t k = 0; k < ncl; k++) {
			struct client *cl = &M->cl[idx_cl[k]];
			short re = p[n - (int)ncl + (int)k].revents;
			if (cl->fd >= 0 && (re & (POLLIN | POLLHUP | POLLERR)))
				read_client(M, cl);
		}
		/* Nothing more can come once it ended and a quiet poll passed. */
		if (exited && n > 0) {
			bool quiet = true;
			for (int k = 0; k < n; k++)
				if (p[k].revents)
					quiet = false;
			if (quiet) {
				closep(&M->out_r);
				closep(&M->err_r);
				closep(&M->proc.master);
			}
		}
	}
}

static void exit_clients(struct mon *M, int code, bool final)
{
	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		struct client *cl = &M->cl[i];
		if (cl->fd < 0)
			continue;
		if (cl->attach || cl->waiting || final) {
			client_send(cl, CTL_EXIT, code, final, NULL, 0);
			client_drop(cl);
		}
	}
}

/* Waits DELAY_MS before a restart, serving the socket meanwhile; false
 * when a stop or kill cancelled it. */
static bool backoff(struct mon *M, unsigned delay_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p[2 + MAX_CLIENTS];
		int n = 0, left;
		int64_t el;

		if (M->manual)
			return false;
		clock_gettime(CLOCK_MONOTONIC, &t);
		el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= delay_ms)
			return true;
		left = (int)(delay_ms - el);
		p[n++] = (struct pollfd){.fd = M->listenfd, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = M->sigfd, .events = POLLIN};
		for (size_t i = 0; i < MAX_CLIENTS; i++)
			if (M->cl[i].fd >= 0)
				p[n++] = (struct pollfd){.fd = M->cl[i].fd, .events = POLLIN};
		if (poll(p, (nfds_t)n, left) <= 0)
			continue;
		if (p[0].revents & POLLIN)
			accept_clients(M);
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(M->sigfd, &si, sizeof(si)) == sizeof(si) &&
			    (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT))
				M->manual = true;
		}
		for (int k = 2; k < n; k++)
			for (size_t i = 0; i < MAX_CLIENTS; i++)
				if (M->cl[i].fd == p[k].fd && (p[k].revents & (POLLIN | POLLHUP)))
					read_client(M, &M->cl[i]);
	}
}

static void teardown(struct mon *M)
{
	struct monitor_conf *c = M->c;
	struct container_record *r = c->rec;
	struct err *e = NULL;

	relay_stop(M);
	if (M->log) {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		if (logfile_flush(M->log, &now, &e) < 0)
			err_free(&e);
		logfile_close(M->log);
		M->log = NULL;
	}
	if (c->cgroup) {
		if (sandbox_cgroup_destroy(c->cgroup, &e) < 0) {
			fprintf(stderr, "moat: warning: %s\n", e->msg);
			err_free(&e);
		}
		sandbox_cgroup_close(c->cgroup);
		c->cgroup = NULL;
	}
	closep(&M->listenfd);
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		client_drop(&M->cl[i]);
	if (c->net)
		engine_netrun_release(c->net, c->rdir);
	/* Plugin volumes unmounted; a --rm container's anonymous volumes go
	 * with it. */
	engine_mounts_release(c->ctx, r, c->rdir, r->rm);
	if (r->rm) {
		engine_container_dirs_remove(c->rdir, c->dir, c->ident);
		engine_name_release(c->ctx->root, r->name, r->id);
	} else {
		fs_rm_rf_at(AT_FDCWD, c->rdir, NULL);
	}
	/* Last: the lock. Whoever waited for it finds the record final. */
	closep(&c->lockfd);
}

int engine_monitor_run(struct monitor_conf *c, struct err **err)
{
	static const int handled[] = {SIGINT,  SIGTERM,	 SIGHUP,  SIGQUIT, SIGUSR1,
				      SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT, SIGPIPE};
	struct mon M = {.c = c,
			.sigfd = -1,
			.listenfd = -1,
			.timerfd = -1,
			.out_r = -1,
			.err_r = -1,
			.in_w = -1};
	struct container_record *r = c->rec;
	sigset_t block;
	unsigned delay = 0;
	int ret = 0, last = 0;
	bool first = true;

	for (size_t i = 0; i < MAX_CLIENTS; i++)
		M.cl[i].fd = -1;
	M.proc.pidfd = M.proc.master = M.proc.dnsfd = -1;
	options_restart_parse(r->restart, &M.restart, NULL);
	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(handled); i++)
		sigaddset(&block, handled[i]);
	if (sigprocmask(SIG_BLOCK, &block, &M.child_mask) < 0 ||
	    (M.sigfd = signalfd(-1, &block, SFD_CLOEXEC)) < 0) {
		ret = err_errno(err, errno, "signalfd");
		goto fail;
	}
	/* SIGPIPE is handled (a write gets EPIPE), never inherited ignored. */
	sigdelset(&M.child_mask, SIGPIPE);
	M.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (M.timerfd < 0) {
		ret = err_errno(err, errno, "timerfd");
		goto fail;
	}
	if ((M.listenfd = ctl_listen(c->rdirfd, err)) < 0) {
		ret = M.listenfd;
		goto fail;
	}
	if (c->logging) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/json.log", c->dir);
		if ((ret = logfile_open(path, r->log_max_size,
					r->log_max_file ? r->log_max_file : 1, &M.log, err)) < 0)
			goto fail;
	}
	for (;;) {
		struct sandbox_result res;
		struct err *ae = NULL;
		struct cgroup_stats st0 = {0}, st1 = {0};
		int64_t t0;

		if ((ret = open_pipes(&M, err)) < 0)
			goto fail;
		M.stdin_relay = c->foreground && c->spec->stdin_open && c->logging;
		if (c->foreground && c->spec->tty) {
			struct winsize ws;
			if (ioctl(isatty(0) ? 0 : 1, TIOCGWINSZ, &ws) == 0) {
				c->spec->tty_rows = ws.ws_row;
				c->spec->tty_cols = ws.ws_col;
			}
		}
		/* The start record is on disk before the container exists. */
		if ((ret = engine_audit(c->alog, start_event(r, c->spec, c->net), err)) < 0) {
			close_child_ends(c->spec);
			goto fail;
		}
		if (c->cgroup)
			sandbox_cgroup_stats(c->cgroup, &st0, NULL);
		ret = sandbox_start(c->spec, M.sigfd, &M.child_mask, &M.proc, err);
		close_child_ends(c->spec);
		if (ret < 0) {
			failed_event(&M, *err);
			if (first)
				goto fail;
			/* A restart that cannot start ends the policy. */
			fprintf(stderr, "moat: restart of %s failed: %s\n", r->name, (*err)->msg);
			err_free(err);
			last = 125;
			r->exit_code = 125;
			break;
		}
		if (M.proc.master >= 0)
			fcntl(M.proc.master, F_SETFL, O_NONBLOCK); /* see to_container */
		/* The embedded DNS server answers on the container's socket. */
		if (M.proc.dnsfd >= 0 && c->net) {
			struct err *de = NULL;
			int dfd = M.proc.dnsfd;

			M.proc.dnsfd = -1;
			if (engine_netrun_dns_start(c->net, dfd, &de) < 0) {
				fprintf(stderr, "moat: warning: DNS for %s: %s\n", r->name,
					de->msg);
				err_free(&de);
			}
		}
		t0 = now_ns();
		engine_mounts_started(r, c->spec->mounts, c->spec->n_mounts);
		r->state = CTR_RUNNING;
		r->pid = M.proc.pid;
		r->started = t0;
		r->finished = 0;
		r->oom_killed = false;
		save(&M, false);
		if (first) {
			tell_ready(&M, 0, NULL);
			M.trim_at = now_ns() + 1000000000;
		}
		first = false;
		relay_start(&M);
		serve(&M);
		relay_stop(&M);
		sandbox_result_from_status(M.proc.status, &res);
		sandbox_proc_release(&M.proc);
		closep(&M.in_w);
		{
			struct itimerspec off = {0};
			timerfd_settime(M.timerfd, 0, &off, NULL);
		}
		if (c->cgroup && sandbox_cgroup_stats(c->cgroup, &st1, NULL) == 0)
			r->oom_killed = st1.oom_kills > st0.oom_kills;
		last = res.exit_code;
		r->exit_code = res.exit_code;
		r->finished = now_ns();
		r->pid = 0;
		r->state = CTR_EXITED;
		if (engine_audit(c->alog, exit_event(r, &res, r->finished - t0, M.manual), &ae) <
		    0) {
			fprintf(stderr, "moat: %s\n", ae->msg);
			err_free(&ae);
		}
		if (!options_restart_should(&M.restart, res.exit_code, r->restart_count,
					    M.manual)) {
			break;
		}
		exit_clients(&M, res.exit_code, false);
		r->state = CTR_RESTARTING;
		save(&M, true);
		delay = options_restart_delay(delay, (uint64_t)(r->finished - t0) / 1000000);
		if (!backoff(&M, delay)) {
			r->state = CTR_EXITED;
			break;
		}
		r->restart_count++;
	}
	save(&M, true);
	exit_clients(&M, last, true);
	teardown(&M);
	ret = last;
	goto out;
fail:
	tell_ready(&M, ret, err ? *err : NULL);
	r->state = r->started ? CTR_EXITED : CTR_CREATED;
	sandbox_proc_release(&M.proc);
	teardown(&M);
out:
	closep(&M.in_w);
	closep(&M.out_r);
	closep(&M.err_r);
	closep(&M.timerfd);
	closep(&M.sigfd);
	sigprocmask(SIG_SETMASK, &M.child_mask, NULL);
	return ret;
}
