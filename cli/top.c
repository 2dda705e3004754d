/*
 * cli/top.c - `moat top CONTAINER [ps OPTIONS]`: the host's ps (procps),
 * run with the given options (default -ef), keeping the header and the
 * rows whose PID is one of the container's processes; Docker's output.
 * Also the container's host pids for `moat stats` (cli_container_pids).
 *
 * Runs as: the invoking user or root, in the host's namespaces. ps is
 * spawned directly (posix_spawn, no shell; each CLI argument is one ps
 * argument) from a fixed path, with this process's environment.
 *
 * Where the pids come from:
 *  - root: the container's cgroup (cgroup.procs);
 *  - otherwise (rootless has no cgroup): every host process in the pid
 *    namespace of the container's init. The init's pid comes with a pidfd
 *    from the monitor (CTL_PIDFD) so that a pid reused after the container
 *    ended cannot make us list a stranger's namespace; the invoker may read
 *    /proc/<pid>/ns/pid of its own containers (it owns their user
 *    namespace). Processes that end while /proc is scanned are skipped.
 * A process can still end (and its pid be reused) between the scan and
 * ps's own; Docker has the same window.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/ctl.h"
#include "sandbox/cgroup.h"

#define PS_OUT_MAX (64u << 20) /* bytes of ps output read */
#define PS_ERR_MAX 4096	       /* bytes of its stderr kept for the message */

/* ---- the container's processes ---- */

static int ns_of(int procfd, pid_t pid, struct stat *st)
{
	char name[32];

	snprintf(name, sizeof(name), "%d/ns/pid", (int)pid);
	return fstatat(procfd, name, st, 0) < 0 ? -errno : 0;
}

static int add_pid(pid_t **v, size_t *n, size_t *cap, pid_t p)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		pid_t *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = p;
	return 0;
}

/* Every host process in the pid namespace of container REC's init. */
static int pids_by_namespace(struct cli_ctx *ctx, const struct container_record *rec, pid_t **out,
			     size_t *nout, struct err **err)
{
	_cleanup_close_ int procfd = -1, pidfd = -1;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ pid_t *v = NULL;
	struct stat target, self;
	struct dirent *de;
	char rdir[4200];
	int32_t init = 0;
	size_t n = 0, cap = 0;
	int r;

	snprintf(rdir, sizeof(rdir), "%s/containers/%s", ctx->runroot, rec->id);
	if ((r = ctl_call(rdir, CTL_PIDFD, 0, 0, &init, &pidfd, err)) < 0)
		return r;
	if (pidfd < 0 || init <= 0)
		return err_set(err, EPROTO, "the monitor of container %s sent no pidfd", rec->name);
	procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return err_errno(err, errno, "open /proc");
	if ((r = ns_of(procfd, init, &target)) < 0)
		return err_errno(err, -r, "the pid namespace of container %s (pid %d)", rec->name,
				 (int)init);
	/* The pidfd still names a live process: INIT was not reused, so TARGET
	 * is the container's namespace. */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		return err_set(err, ESRCH, "container %s is not running", rec->name);
	if (fstatat(procfd, "self/ns/pid", &self, 0) == 0 && self.st_ino == target.st_ino &&
	    self.st_dev == target.st_dev)
		return err_set(err, EPERM,
			       "container %s shares the host's pid namespace: its processes "
			       "cannot be told apart",
			       rec->name);
	d = fdopendir(fcntl(procfd, F_DUPFD_CLOEXEC, 3));
	if (!d)
		return err_errno(err, errno, "read /proc");
	while ((de = readdir(d))) {
		struct stat st;
		char *end;
		long p;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		errno = 0;
		p = strtol(de->d_name, &end, 10);
		if (errno || *end || p <= 0 || p > INT32_MAX)
			continue;
		/* gone, or not ours to look at: not the container's either */
		if (ns_of(procfd, (pid_t)p, &st) < 0)
			continue;
		if (st.st_ino == target.st_ino && st.st_dev == target.st_dev &&
		    add_pid(&v, &n, &cap, (pid_t)p) < 0)
			return err_errno(err, ENOMEM, "list processes");
	}
	if (!v && !(v = calloc(1, sizeof(*v))))
		return err_errno(err, ENOMEM, "list processes");
	*out = steal_ptr(v);
	*nout = n;
	return 0;
}

int cli_container_pids(struct cli_ctx *ctx, const struct container_record *rec, pid_t **pids,
		       size_t *n, struct err **err)
{
	if (!ctx->rootless) {
		_cleanup_cgroup_ struct sandbox_cgroup *cg = NULL;

		/* A root container without a cgroup (the host had none to
		 * give) is found like a rootless one. */
		if (sandbox_cgroup_open(rec->id, &cg, NULL) == 0)
			return sandbox_cgroup_pids(cg, pids, n, err);
	}
	return pids_by_namespace(ctx, rec, pids, n, err);
}

/* Docker's status for what its daemon refuses: 1. */
static int exit1(int r, struct err **err)
{
	if (err && *err)
		(*err)->exit = 1;
	return r;
}

/* ---- ps ---- */

static const char *ps_path(void)
{
	static const char *const paths[] = {"/bin/ps", "/usr/bin/ps"};

	for (size_t i = 0; i < ARRAY_SIZE(paths); i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* Appends what is readable on FD to BUF (up to CAP bytes, the rest is
 * read and dropped); 0 at EOF, 1 when more may come. */
static int drain(int fd, char **buf, size_t *len, size_t cap, bool *over, struct err **err)
{
	char chunk[65536];
	ssize_t k = read(fd, chunk, sizeof(chunk));

	if (k < 0)
		return errno == EINTR || errno == EAGAIN ? 1
							 : err_errno(err, errno, "read from ps");
	if (k == 0)
		return 0;
	if (*len + (size_t)k > cap) {
		*over = true;
		k = (ssize_t)(cap - *len);
	}
	if (k > 0) {
		char *nb = realloc(*buf, *len + (size_t)k + 1);
		if (!nb)
			return err_errno(err, ENOMEM, "read from ps");
		memcpy(nb + *len, chunk, (size_t)k);
		*len += (size_t)k;
		nb[*len] = 0;
		*buf = nb;
	}
	return 1;
}

/* Runs ps ARGS... and returns its output (NUL-terminated) in *OUT. */
static int run_ps(char **args, size_t nargs, char **out, struct err **err)
{
	_cleanup_free_ char **argv = NULL;
	_cleanup_free_ char *o = NULL, *e = NULL;
	_cleanup_close_ int ro = -1, re = -1;
	posix_spawn_file_actions_t fa;
	size_t olen = 0, elen = 0;
	bool oover = false, eover = false, oeof = false, eeof = false;
	int po[2], pe[2], status, r = 0;
	const char *ps = ps_path();
	pid_t pid;

	if (!ps)
		return err_set(err, ENOENT, "ps is not installed (Debian package procps)");
	argv = calloc(nargs + 2, sizeof(*argv));
	if (!argv)
		return err_errno(err, ENOMEM, "ps");
	argv[0] = "ps";
	for (size_t i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	if (pipe2(po, O_CLOEXEC) < 0)
		return err_errno(err, errno, "pipe");
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return err_errno(err, errno, "pipe");
	}
	ro = po[0];
	re = pe[0];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	r = posix_spawn(&pid, ps, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (r)
		return err_errno(err, r, "run %s", ps);
	while (!oeof || !eeof) {
		struct pollfd p[2] = {{oeof ? -1 : ro, POLLIN, 0}, {eeof ? -1 : re, POLLIN, 0}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = err_errno(err, errno, "poll");
			break;
		}
		if (!oeof && p[0].revents) {
			r = drain(ro, &o, &olen, PS_OUT_MAX, &oover, err);
			if (r < 0)
				break;
			oeof = r == 0;
		}
		if (!eeof && p[1].revents) {
			r = drain(re, &e, &elen, PS_ERR_MAX, &eover, err);
			if (r < 0)
				break;
			eeof = r == 0;
		}
		r = 0;
	}
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return r < 0 ? r : err_errno(err, errno, "wait for ps");
	if (r < 0)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* Docker's message: the first line of what ps said. */
		size_t n = e ? strcspn(e, "\n") : 0;

		if (n)
			r = err_set(err, EINVAL, "%.*s", (int)(n > 900 ? 900 : n), e);
		else if (WIFEXITED(status))
			r = err_set(err, EINVAL, "ps: exit status %d", WEXITSTATUS(status));
		else
			r = err_set(err, EINVAL, "ps: killed by signal %d", WTERMSIG(status));
		return exit1(r, err);
	}
	if (oover)
		return err_set(err, E2BIG, "ps printed more than %u MiB", PS_OUT_MAX >> 20);
	*out = o ? steal_ptr(o) : strdup("");
	return *out ? 0 : err_errno(err, ENOMEM, "ps");
}

/*
 * Like Docker: ps ARGS... -q<pid,pid,...> first, so that options which
 * select no process by themselves ("-o pid,comm") still show the
 * container's; options that cannot be combined with -q ("f", "-e" with
 * some versions) make ps fail, and then it runs with ARGS alone. The rows
 * are filtered by pid either way.
 */
static int run_ps_for(char **args, size_t nargs, const pid_t *pids, size_t npids, char **out,
		      struct err **err)
{
	_cleanup_free_ char **v = NULL;
	_cleanup_free_ char *q = NULL;
	size_t off = 2;

	if (npids && npids <= 10000) {
		q = malloc(2 + npids * 12 + 1);
		v = calloc(nargs + 1, sizeof(*v));
		if (!q || !v)
			return err_errno(err, ENOMEM, "ps");
		memcpy(q, "-q", 2);
		for (size_t i = 0; i < npids; i++)
			off += (size_t)sprintf(q + off, i ? ",%d" : "%d", (int)pids[i]);
		memcpy(v, args, nargs * sizeof(*v));
		v[nargs] = q;
		if (run_ps(v, nargs + 1, out, NULL) == 0)
			return 0;
	}
	return run_ps(args, nargs, out, err);
}

/* Docker's check: "-o user=PID" would print a column titled PID that is
 * not the pid. Over the arguments joined by spaces, as Docker sees them. */
static int check_args(char **args, size_t n, struct err **err)
{
	for (size_t i = 0; i < n; i++) {
		for (const char *eq = strchr(args[i], '='); eq; eq = strchr(eq + 1, '=')) {
			const char *k = eq, *v = eq + 1;

			while (k > args[i] && !isspace((unsigned char)k[-1]))
				k--;
			while (isspace((unsigned char)*v))
				v++;
			if (!*v && i + 1 < n) /* "key=" "PID": the next word */
				v = args[i + 1];
			if (strncmp(v, "PID", 3) || (eq - k == 3 && !strncmp(k, "pid", 3)))
				continue;
			return exit1(err_set(err, EINVAL, "specifying \"%.*s=%.*s\" is not allowed",
					     (int)(eq - k), k, (int)strcspn(v, " \t\n"), v),
				     err);
		}
	}
	return 0;
}

/* ---- the table ---- */

struct row {
	char **cell;
	size_t n;
};

/* Splits LINE on ASCII white space (Go's strings.Fields) in place. */
static int fields(char *line, char ***out, size_t *n)
{
	size_t cap = 16;
	char **v = malloc(cap * sizeof(*v));

	*n = 0;
	if (!v)
		return -ENOMEM;
	for (char *p = line; *p;) {
		while (*p && isspace((unsigned char)*p))
			*p++ = 0;
		if (!*p)
			break;
		if (*n == cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(*nv));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
	*out = v;
	return 0;
}

static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Docker's parsePSOutput and its tabwriter (min width 20, padding 3): the
 * header, then each row whose PID is in PIDS (sorted); a "-" PID (thread
 * rows of "ps -m") belongs to the process row above it. Fields beyond the
 * header's count are joined into the last column (the command line).
 */
static int print_table(char *text, const pid_t *pids, size_t npids, struct err **err)
{
	_cleanup_free_ struct row *rows = NULL;
	_cleanup_free_ size_t *w = NULL;
	_cleanup_free_ char **title = NULL;
	size_t nrows = 0, ntitle = 0, pidx = SIZE_MAX, nlines = 1;
	char *line, *save = NULL;
	bool prev = false;
	int r = 0;

	for (const char *p = text; *p; p++)
		nlines += *p == '\n';
	rows = calloc(nlines, sizeof(*rows));
	if (!rows)
		return err_errno(err, ENOMEM, "top");
	line = strtok_r(text, "\n", &save);
	if (line && fields(line, &title, &ntitle) < 0)
		return err_errno(err, ENOMEM, "top");
	for (size_t i = 0; i < ntitle; i++) {
		if (!strcmp(title[i], "PID")) {
			pidx = i;
			break;
		}
	}
	if (pidx == SIZE_MAX)
		return exit1(err_set(err, EINVAL, "Couldn't find PID field in ps output"), err);
	while ((line = strtok_r(NULL, "\n", &save))) {
		_cleanup_free_ char **f = NULL;
		size_t nf;
		char *end;
		long p;

		if (fields(line, &f, &nf) < 0) {
			r = err_errno(err, ENOMEM, "top");
			goto out;
		}
		if (nf <= pidx)
			continue;
		if (!strcmp(f[pidx], "-")) {
			if (!prev)
				continue;
		} else {
			pid_t key;

			errno = 0;
			p = strtol(f[pidx], &end, 10);
			if (errno || *end || p < 0 || p > INT32_MAX) {
				r = exit1(err_set(err, EINVAL, "Unexpected pid '%.64s'", f[pidx]),
					  err);
				goto out;
			}
			key = (pid_t)p;
			prev = bsearch(&key, pids, npids, sizeof(*pids), pid_cmp) != NULL;
			if (!prev)
				continue;
		}
		/* The row as ntitle cells: the overhang joined into the last
		 * with single spaces, in place (each move goes leftwards). */
		if (nf > ntitle) {
			char *dst = f[ntitle - 1] + strlen(f[ntitle - 1]);

			for (size_t i = ntitle; i < nf; i++) {
				size_t len = strlen(f[i]);

				*dst++ = ' ';
				memmove(dst, f[i], len);
				dst += len;
				*dst = 0;
			}
		}
		rows[nrows].n = nf < ntitle ? nf : ntitle;
		rows[nrows].cell = steal_ptr(f);
		nrows++;
	}
	w = calloc(ntitle, sizeof(*w));
	if (!w) {
		r = err_errno(err, ENOMEM, "top");
		goto out;
	}
	for (size_t c = 0; c < ntitle; c++) {
		w[c] = width(title[c]);
		for (size_t i = 0; i < nrows; i++)
			if (c < rows[i].n && width(rows[i].cell[c]) > w[c])
				w[c] = width(rows[i].cell[c]);
		w[c] = w[c] + 3 < 20 ? 20 : w[c] + 3;
	}
	for (size_t i = 0; i <= nrows; i++) {
		char **cell = i ? rows[i - 1].cell : title;
		size_t n = i ? rows[i - 1].n : ntitle;

		for (size_t c = 0; c < n; c++) {
			if (c + 1 == n)
				fputs(cell[c], stdout);
			else
				printf("%s%*s", cell[c], (int)(w[c] - width(cell[c])), "");
		}
		putchar('\n');
	}
	if (fflush(stdout) == EOF)
		r = err_errno(err, errno, "write");
out:
	for (size_t i = 0; i < nrows; i++)
		free(rows[i].cell);
	return r;
}

int cmd_top(struct cli_ctx *ctx, int argc, char **argv)
{
	static char *dflt[] = {"-ef"};
	struct container_record rec;
	struct err *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *out = NULL;
	char id[65], **args;
	size_t npids = 0, nargs;
	int r;

	/* Everything after CONTAINER is ps's: only leading --help is ours. */
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: moat top CONTAINER [ps OPTIONS]\n\nDisplay the running processes "
		       "of a container\n");
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--")) {
		argv++;
		argc--;
	}
	if (argc >= 2 && argv[1][0] == '-' && argv[1][1]) {
		err_set(&err, EINVAL, "unknown flag: %s", argv[1]);
		return cli_fail(&err);
	}
	if (argc < 2) {
		err_set(&err, EINVAL, "\"moat top\" requires at least 1 argument");
		return cli_fail(&err);
	}
	args = argc > 2 ? argv + 2 : dflt;
	nargs = argc > 2 ? (size_t)argc - 2 : 1;
	if (check_args(args, nargs, &err) < 0)
		return cli_fail(&err);
	if (cli_resolve(ctx, argv[1], id, &err) < 0 ||
	    engine_container_load(ctx->root, id, &rec, &err) < 0)
		return cli_fail(&err);
	r = ctr_transition_check(engine_container_state(ctx->runroot, &rec), CTR_VERB_TOP, rec.name,
				 &err);
	if (r >= 0)
		r = cli_container_pids(ctx, &rec, &pids, &npids, &err);
	engine_container_record_free(&rec);
	if (r < 0)
		return cli_fail(&err);
	qsort(pids, npids, sizeof(*pids), pid_cmp);
	if (run_ps_for(args, nargs, pids, npids, &out, &err) < 0 ||
	    print_table(out, pids, npids, &err) < 0)
		return cli_fail(&err);
	return 0;
}
