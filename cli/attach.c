/*
 * cli/attach.c - `moat attach [--no-stdin] [--detach-keys KEYS]
 * [--sig-proxy[=BOOL]] CONTAINER`: this terminal joins a running
 * container's stdio through its monitor's control socket (engine/ctl.h).
 *
 * Runs as: the invoking user or root, outside the container; a client of
 * the monitor like any other verb (the socket is 0600 in a 0700 directory,
 * so only the container's owner gets here). Nothing in this file touches
 * the container itself: the monitor owns its pipes or its pty.
 *
 * Invariants:
 *  - the terminal is put in raw mode only with a tty container whose stdin
 *    we relay, and is restored on every way out: the container's exit, the
 *    monitor going away, detaching, an error, and a signal that ends us
 *    (signals arrive through a signalfd, so none interrupts us mid-way);
 *  - stdin is relayed only when the container was created with -i: its
 *    input pipe (or pty) exists for nothing else;
 *  - the detach sequence is matched across reads; bytes held back as a
 *    possible start of it are sent on, in order, once it no longer matches
 *    (or at end of input), so a container never loses a keystroke;
 *  - detaching sends nothing more (no end of input): the container keeps
 *    running exactly as before;
 *  - with --sig-proxy (the default) and no tty, the signals a user sends
 *    us are forwarded as CTL_KILL, as Docker proxies them; with a tty the
 *    terminal delivers ^C to the container itself.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "engine/containers.h"
#include "engine/ctl.h"

#define DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"
#define DETACH_KEYS_MAX 64
#define STDIN_CHUNK 16384

_Static_assert(STDIN_CHUNK + DETACH_KEYS_MAX <= CTL_PAYLOAD_MAX,
	       "one read of stdin (plus held-back keys) is one CTL_STDIN");

/* ---- detach keys (pure) ---- */

struct detach {
	unsigned char keys[DETACH_KEYS_MAX];
	size_t n;
	size_t matched; /* keys[0..matched) were typed and held back */
};

/* Docker's term.ToBytes: comma-separated; one character stands for itself,
 * "ctrl-@", "ctrl-a".."ctrl-z", "ctrl-[", "ctrl-\", "ctrl-]", "ctrl-^",
 * "ctrl-_" for the control codes 0-31 (case as written), "DEL" for 127. */
static int detach_keys_parse(const char *s, struct detach *d, struct err **err)
{
	static const char ctrl[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
	const char *p = s;

	memset(d, 0, sizeof(*d));
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int code = -1;

		if (len == 1)
			code = (unsigned char)p[0];
		else if (len == 6 && !strncmp(p, "ctrl-", 5) && p[5] && strchr(ctrl, p[5]))
			code = (int)(strchr(ctrl, p[5]) - ctrl);
		else if (len == 3 && !strncmp(p, "DEL", 3))
			code = 127;
		if (code < 0 || d->n == DETACH_KEYS_MAX)
			return err_set(err, EINVAL, "Invalid detach keys (%s) provided", s);
		d->keys[d->n++] = (unsigned char)code;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/*
 * Runs IN (LEN bytes of stdin) through the matcher: what is to be sent goes
 * to OUT (room for LEN + DETACH_KEYS_MAX bytes), *OUT_LEN its length.
 * Returns true when the whole sequence was typed; bytes after it are
 * dropped (we are leaving). On a mismatch the held bytes plus the new one
 * are re-examined so the longest tail that still starts the sequence stays
 * held ("ctrl-p ctrl-p ctrl-q" detaches and sends one ctrl-p).
 */
static bool detach_feed(struct detach *d, const unsigned char *in, size_t len, unsigned char *out,
			size_t *out_len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];

		if (d->n == 0) {
			out[o++] = c;
			continue;
		}
		if (c == d->keys[d->matched]) {
			if (++d->matched == d->n) {
				*out_len = o;
				return true;
			}
			continue;
		}
		/* held = keys[0..matched) + c: keep its longest suffix that is
		 * a proper prefix of keys, send what comes before it. */
		{
			size_t h = d->matched + 1, k;

			for (k = d->matched; k > 0; k--) {
				size_t start = h - k;
				/* held[start..h) == keys[0..k) ? */
				if (d->keys[k - 1] == c && !memcmp(d->keys + start, d->keys, k - 1))
					break;
			}
			for (size_t j = 0; j < h - k; j++)
				out[o++] = j < d->matched ? d->keys[j] : c;
			d->matched = k;
		}
	}
	*out_len = o;
	return false;
}

/* What is held back, sent when input ends (it was not the sequence). */
static size_t detach_flush(struct detach *d, unsigned char *out)
{
	size_t n = d->matched;

	memcpy(out, d->keys, n);
	d->matched = 0;
	return n;
}

/* ---- the terminal ---- */

static struct {
	bool raw;
	struct termios saved;
} term;

static void term_raw(void)
{
	struct termios t;

	if (tcgetattr(0, &term.saved) < 0)
		return;
	t = term.saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST; /* our own messages stay readable */
	if (tcsetattr(0, TCSANOW, &t) == 0)
		term.raw = true;
}

static void term_restore(void)
{
	if (term.raw)
		tcsetattr(0, TCSANOW, &term.saved);
	term.raw = false;
}

/* The signals a user may send `moat attach`: proxied, or fatal to us. */
static const int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

/* Ends this process by SIG as if it had never been caught: the terminal
 * is restored first, and our parent sees the signal. */
static void die_by(int sig)
{
	sigset_t s;

	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	_exit(128 + sig); /* not reached unless SIG could not end us */
}

static bool winsize_get(struct winsize *ws)
{
	return ioctl(0, TIOCGWINSZ, ws) == 0 || ioctl(1, TIOCGWINSZ, ws) == 0;
}

/* ---- the relay ---- */

struct att {
	int sock, sigfd;
	bool tty, in_open, proxy;
	bool lost; /* a send failed: the monitor is going away */
	struct detach dk;
};

/* Output to our stdout or stderr. A reader that went away ends us by
 * SIGPIPE, as it ends a Docker CLI (after the terminal is restored); any
 * other write error loses that output and the attach goes on. */
static void out_write(int fd, const char *buf, size_t len)
{
	if (fs_write_all(fd, buf, len) == -EPIPE)
		die_by(SIGPIPE);
}

/* A message from the monitor; >= 0: the exit status to end with. */
static int from_monitor(const struct ctl_msg *m)
{
	switch (m->type) {
	case CTL_STDOUT:
		out_write(1, m->data, m->len);
		return -1;
	case CTL_STDERR:
		out_write(2, m->data, m->len);
		return -1;
	case CTL_EXIT:
		return m->a >= 0 && m->a <= 255 ? m->a : 1;
	case CTL_ERROR: /* a proxied signal the container did not take */
		if (m->len)
			fprintf(stderr, "moat: %.*s\n", (int)m->len, m->data);
		return -1;
	default: /* CTL_OK of a proxied signal */
		return -1;
	}
}

/* One message to the monitor. A failed send means the monitor is going
 * away: we stop sending and read its last word (CTL_EXIT, or end of file)
 * rather than fail with a half-told story. */
static void tell(struct att *A, uint32_t type, int32_t a, int32_t b, const void *data, size_t len)
{
	if (A->lost)
		return;
	if (ctl_send(A->sock, type, a, b, data, len, -1) < 0) {
		A->lost = true;
		A->in_open = false;
	}
}

/* Our stdin; true when the detach sequence was typed. */
static bool from_stdin(struct att *A)
{
	unsigned char in[STDIN_CHUNK], out[STDIN_CHUNK + DETACH_KEYS_MAX];
	size_t n = 0;
	ssize_t r = read(0, in, sizeof(in));

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return false;
	if (r <= 0) {
		/* End of input: what was held was not the sequence. */
		A->in_open = false;
		n = detach_flush(&A->dk, out);
		if (n)
			tell(A, CTL_STDIN, 0, 0, out, n);
		tell(A, CTL_STDIN_EOF, 0, 0, NULL, 0);
		return false;
	}
	if (detach_feed(&A->dk, in, (size_t)r, out, &n)) {
		/* Bytes typed before the sequence in the same read still go. */
		if (n)
			tell(A, CTL_STDIN, 0, 0, out, n);
		return true;
	}
	if (n)
		tell(A, CTL_STDIN, 0, 0, out, n);
	return false;
}

static void resize(struct att *A)
{
	struct winsize ws;

	if (A->tty && winsize_get(&ws) && ws.ws_row && ws.ws_col)
		tell(A, CTL_RESIZE, ws.ws_row, ws.ws_col, NULL, 0);
}

static void from_signal(struct att *A)
{
	struct signalfd_siginfo si;
	int sig;

	if (read(A->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	sig = (int)si.ssi_signo;
	if (sig == SIGWINCH) {
		resize(A);
		return;
	}
	if (!A->proxy)
		die_by(sig);
	/* Proxied. The monitor answers with CTL_OK or CTL_ERROR on this
	 * socket; when it is gone, its end is what we read next. */
	tell(A, CTL_KILL, sig, 0, NULL, 0);
}

/* The monitor went away without a word (it was killed, or dropped us):
 * the exit code its record holds when it got to write one, else 1. */
static int monitor_gone(struct cli_ctx *ctx, const char *id, struct err **err)
{
	struct container_record rec;
	int code = 1;

	/* Its lock goes with its last fd: give the kernel a moment. */
	if (engine_container_wait_unlocked(ctx->runroot, id, 1000) < 0)
		return err_set(err, ECONNRESET,
			       "the container's monitor dropped this attach (output not read "
			       "fast enough?)");
	if (engine_container_load(ctx->root, id, &rec, NULL) == 0) {
		if (rec.state == CTR_EXITED && rec.exit_code >= 0 && rec.exit_code <= 255)
			code = rec.exit_code;
		engine_container_record_free(&rec);
	}
	return code;
}

/* Until the container exits (its status), we detach (0), or an error. */
static int relay(struct cli_ctx *ctx, struct att *A, const char *id, struct err **err)
{
	unsigned char buf[CTL_MSG_MAX];

	for (;;) {
		struct pollfd p[3] = {
		    {.fd = A->sock, .events = POLLIN},
		    {.fd = A->sigfd, .events = POLLIN},
		    {.fd = A->in_open ? 0 : -1, .events = POLLIN},
		};
		struct ctl_msg m;
		int r, fd = -1;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return err_errno(err, errno, "poll");
		}
		if (p[1].revents & POLLIN)
			from_signal(A);
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = ctl_recv(A->sock, buf, &m, &fd, err);
			closep(&fd); /* the monitor passes no fds here */
			if (r < 0 && (*err)->code != ECONNRESET)
				return r;
			if (r <= 0) {
				/* end of file, or reset with our input unread */
				err_free(err);
				return monitor_gone(ctx, id, err);
			}
			if ((r = from_monitor(&m)) >= 0)
				return r;
		}
		if (p[2].revents & POLLNVAL) {
			/* no stdin at all: as end of input */
			A->in_open = false;
			tell(A, CTL_STDIN_EOF, 0, 0, NULL, 0);
		} else if ((p[2].revents & (POLLIN | POLLHUP | POLLERR)) && from_stdin(A)) {
			return 0; /* detached */
		}
	}
}

/* ---- the verb ---- */

/* Go's strconv.ParseBool, as pflag reads --sig-proxy=VALUE. */
static int bool_parse(const char *s, bool *out)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};

	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (!strcmp(s, t[i]) || !strcmp(s, f[i])) {
			*out = !strcmp(s, t[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* Docker's CLI checks the state before it attaches, with these words. */
static int state_check(struct cli_ctx *ctx, const struct container_record *rec, struct err **err)
{
	enum ctr_state st = engine_container_state(ctx->runroot, rec);
	int r;

	switch (st) {
	case CTR_RUNNING:
		return 0;
	case CTR_PAUSED:
		r = err_set(err, EBUSY,
			    "You cannot attach to a paused container, unpause it first");
		break;
	case CTR_RESTARTING:
		r = err_set(
		    err, EAGAIN,
		    "You cannot attach to a restarting container, wait until it is running");
		break;
	case CTR_CREATED:
	case CTR_EXITED:
		r = err_set(err, ESRCH, "You cannot attach to a stopped container, start it first");
		break;
	case CTR_REMOVING:
	case CTR_DEAD:
	default:
		r = ctr_transition_check(st, CTR_VERB_ATTACH, rec->name, err);
		if (r >= 0) /* the table and this switch disagree: refuse */
			r = err_set(err, EINVAL, "cannot attach to container %s", rec->name);
		break;
	}
	(*err)->exit = 1;
	return r;
}

static int attach(struct cli_ctx *ctx, const char *ref, bool no_stdin, bool sig_proxy,
		  const struct detach *dk, struct err **err)
{
	struct container_record rec;
	struct att A = {.sock = -1, .sigfd = -1, .dk = *dk};
	_cleanup_close_ int sock = -1, sigfd = -1;
	unsigned char buf[CTL_MSG_MAX];
	char id[65], rdir[4200];
	struct ctl_msg m;
	sigset_t block;
	bool stdin_open, tty;
	int r, fd = -1;

	if ((r = cli_resolve(ctx, ref, id, err)) < 0 ||
	    (r = engine_container_load(ctx->root, id, &rec, err)) < 0)
		return r;
	stdin_open = rec.stdin_open;
	tty = rec.tty;
	r = state_check(ctx, &rec, err);
	engine_container_record_free(&rec);
	if (r < 0)
		return r;
	if (tty && !no_stdin && !isatty(0)) {
		r = err_set(err, ENOTTY, "the input device is not a TTY");
		(*err)->exit = 1;
		return r;
	}

	/* Signals go to the signalfd before there is anything to restore
	 * or forward, so none can end us half-way. */
	sigemptyset(&block);
	for (size_t i = 0; i < ARRAY_SIZE(proxied); i++)
		sigaddset(&block, proxied[i]);
	sigaddset(&block, SIGWINCH);
	if (sigprocmask(SIG_BLOCK, &block, NULL) < 0 ||
	    (sigfd = signalfd(-1, &block, SFD_CLOEXEC)) < 0)
		return err_errno(err, errno, "signalfd");
	signal(SIGPIPE, SIG_IGN); /* a gone reader is an EPIPE, handled */

	snprintf(rdir, sizeof(rdir), "%s/containers/%s", ctx->runroot, id);
	sock = ctl_connect(rdir, err);
	if (sock < 0) {
		/* It ended between the state check and now. */
		err_free(err);
		r = err_set(err, ESRCH, "You cannot attach to a stopped container, start it first");
		(*err)->exit = 1;
		return r;
	}
	A.in_open = !no_stdin && stdin_open;
	/* A monitor that ends meanwhile resets or closes the connection. */
	r = ctl_send(sock, CTL_ATTACH,
		     (A.in_open ? CTL_ATTACH_STDIN : 0) | CTL_ATTACH_STDOUT | CTL_ATTACH_STDERR, 0,
		     NULL, 0, -1);
	while (r >= 0) {
		r = ctl_recv(sock, buf, &m, &fd, err);
		closep(&fd);
		if (r > 0 && m.type == CTL_OK)
			break;
		if (r > 0 && m.type == CTL_ERROR) {
			r = err_set(err, m.a > 0 ? m.a : EIO, "%.*s", (int)m.len, m.data);
			(*err)->exit = m.b > 0 ? m.b : 1;
			return r;
		}
		if (r < 0 && (*err)->code != ECONNRESET)
			return r;
		if (r <= 0 || m.type == CTL_EXIT)
			r = -ESRCH;
	}
	if (r < 0) {
		err_free(err);
		r = err_set(err, ESRCH, "You cannot attach to a stopped container, start it first");
		(*err)->exit = 1;
		return r;
	}
	A.sock = sock;
	A.sigfd = sigfd;
	A.tty = m.a != 0;
	A.proxy = sig_proxy && !A.tty;
	if (A.tty && A.in_open && isatty(0))
		term_raw();
	resize(&A);
	r = relay(ctx, &A, id, err);
	term_restore();
	return r;
}

int cmd_attach(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"no-stdin", no_argument, NULL, 'N'},
	    {"detach-keys", required_argument, NULL, 'K'},
	    {"sig-proxy", optional_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'H'},
	    {NULL, 0, NULL, 0},
	};
	const char *keys = DETACH_KEYS_DEFAULT;
	struct err *err = NULL;
	struct detach dk;
	bool no_stdin = false, sig_proxy = true;
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'N':
			no_stdin = true;
			break;
		case 'K':
			keys = *optarg ? optarg : DETACH_KEYS_DEFAULT;
			break;
		case 'P':
			if (optarg && bool_parse(optarg, &sig_proxy) < 0) {
				err_set(&err, EINVAL,
					"invalid argument \"%s\" for \"--sig-proxy\" flag: "
					"strconv.ParseBool: parsing \"%s\": invalid syntax",
					optarg, optarg);
				return cli_fail(&err);
			}
			if (!optarg)
				sig_proxy = true;
			break;
		case 'H':
			printf("Usage: moat attach [OPTIONS] CONTAINER\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (argc - optind != 1) {
		err_set(&err, EINVAL, "\"moat attach\" requires exactly 1 argument");
		return cli_fail(&err);
	}
	/* Docker's daemon refuses bad keys before it attaches (exit 1). */
	if (detach_keys_parse(keys, &dk, &err) < 0) {
		err->exit = 1;
		return cli_fail(&err);
	}
	r = attach(ctx, argv[optind], no_stdin, sig_proxy, &dk, &err);
	if (r < 0) {
		term_restore();
		return cli_fail(&err);
	}
	return r;
}
