/*
 * cli/stats.c - `moat stats [-a] [--no-stream] [--no-trunc] [--format T]
 * [CONTAINER...]`: Docker's live table of CPU, memory and process counts.
 *
 * Runs as: the invoking user or root. Reads each running container's
 * cgroup (sandbox_cgroup_stats; root only: rootless containers have none)
 * twice, ~500 ms apart, for the CPU share (cpu time over wall time, so
 * 100% is one CPU busy, as in Docker); --no-stream prints that once,
 * otherwise the screen is redrawn every second until interrupted.
 * Without a cgroup the values the host cannot give print as "--" (the
 * process count comes from the container's pid namespace instead, as for
 * `moat top`) and one line on stderr says why. NET I/O and BLOCK I/O are
 * "--": there is no container network yet and no block I/O accounting.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/containers.h"
#include "engine/format.h"
#include "sandbox/cgroup.h"

#define STATS_DEFAULT                                                                       \
	"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t" \
	"{{.BlockIO}}\t{{.PIDs}}"
#define FIRST_INTERVAL_NS 500000000LL

struct target {
	char id[65];
	char *ref;  /* as the user named it; the name when listed */
	char *name; /* without a leading '/' */
	bool running;
	/* the last reading */
	bool have_cg, have_pids, have_prev;
	struct cgroup_stats st;
	uint64_t pids;
	int64_t t_ns; /* CLOCK_MONOTONIC */
	uint64_t prev_cpu;
	int64_t prev_t;
};

struct opts {
	bool all, stream, trunc;
	const char *format;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Docker's units.BytesSize: binary units, 4 significant digits. */
static void bytes_size(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)v;
	size_t i = 0;

	while (d >= 1024.0 && i + 1 < ARRAY_SIZE(unit)) {
		d /= 1024.0;
		i++;
	}
	snprintf(buf, len, "%.4g%s", d, unit[i]);
}

/* What the container's reason for "--" is; printed once per run. */
static void why_not(struct cli_ctx *ctx, const struct target *t, const struct err *e)
{
	static bool said;
	char why[512];

	if (said)
		return;
	said = true;
	if (!ctx->rootless) {
		fprintf(stderr, "moat: no cgroup statistics for container %s: %s\n", t->name,
			e ? e->msg : "it has no cgroup");
		return;
	}
	sandbox_cgroup_describe(true, why, sizeof(why));
	if (!strncmp(why, "unavailable: ", 13))
		fprintf(stderr, "moat: cgroup statistics are not available: %s\n", why + 13);
	else
		fprintf(stderr,
			"moat: cgroup statistics are not available: moat does not place rootless "
			"containers in cgroups yet (host cgroups: %s)\n",
			why);
}

/* Takes a reading of T (the previous one becomes T's CPU baseline). */
static void sample(struct cli_ctx *ctx, struct target *t)
{
	_cleanup_cgroup_ struct sandbox_cgroup *cg = NULL;
	struct container_record rec;
	struct err *e = NULL;
	bool had = t->have_cg;
	enum ctr_state st;

	t->prev_cpu = t->st.cpu_ns;
	t->prev_t = t->t_ns;
	t->have_prev = had;
	t->have_cg = t->have_pids = false;
	memset(&t->st, 0, sizeof(t->st));
	t->pids = 0;
	t->t_ns = now_ns();
	if (engine_container_load(ctx->root, t->id, &rec, &e) < 0) {
		err_free(&e);
		t->running = false; /* removed meanwhile */
		return;
	}
	st = engine_container_state(ctx->runroot, &rec);
	t->running = st == CTR_RUNNING || st == CTR_PAUSED;
	if (!t->running)
		goto out;
	if (!ctx->rootless && sandbox_cgroup_open(t->id, &cg, &e) == 0 &&
	    sandbox_cgroup_stats(cg, &t->st, &e) == 0) {
		t->have_cg = t->have_pids = true;
		t->pids = t->st.pids;
		t->t_ns = now_ns();
		goto out;
	}
	why_not(ctx, t, e);
	err_free(&e);
	{
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;

		if (cli_container_pids(ctx, &rec, &pids, &n, &e) == 0) {
			t->have_pids = true;
			t->pids = n;
		}
		err_free(&e);
	}
out:
	engine_container_record_free(&rec);
}

/* The row as the template's data: Docker's field names, string values. */
static json_t *row_data(const struct target *t, bool trunc)
{
	char cpu[32], mem[64], lim[32], memp[32], pids[32];
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (!t->running) {
		snprintf(cpu, sizeof(cpu), "0.00%%");
		snprintf(mem, sizeof(mem), "0B / 0B");
		snprintf(memp, sizeof(memp), "0.00%%");
		snprintf(pids, sizeof(pids), "0");
	} else if (!t->have_cg) {
		snprintf(cpu, sizeof(cpu), "--");
		snprintf(mem, sizeof(mem), "-- / --");
		snprintf(memp, sizeof(memp), "--");
		if (t->have_pids)
			snprintf(pids, sizeof(pids), "%llu", (unsigned long long)t->pids);
		else
			snprintf(pids, sizeof(pids), "--");
	} else {
		double c = 0.0;

		if (t->have_prev && t->t_ns > t->prev_t && t->st.cpu_ns >= t->prev_cpu)
			c = (double)(t->st.cpu_ns - t->prev_cpu) / (double)(t->t_ns - t->prev_t) *
			    100.0;
		snprintf(cpu, sizeof(cpu), "%.2f%%", c);
		bytes_size(t->st.mem_usage, mem, 24);
		bytes_size(t->st.mem_limit, lim, sizeof(lim));
		strcat(mem, " / ");
		strcat(mem, lim);
		snprintf(memp, sizeof(memp), "%.2f%%",
			 t->st.mem_limit ? (double)t->st.mem_usage / (double)t->st.mem_limit * 100.0
					 : 0.0);
		snprintf(pids, sizeof(pids), "%llu", (unsigned long long)t->pids);
	}
	if (json_object_set_new(o, "ID", json_stringn(t->id, trunc ? 12 : 64)) ||
	    json_object_set_new(o, "Name", json_string(t->name)) ||
	    json_object_set_new(o, "Container", json_string(t->ref)) ||
	    json_object_set_new(o, "CPUPerc", json_string(cpu)) ||
	    json_object_set_new(o, "MemUsage", json_string(mem)) ||
	    json_object_set_new(o, "MemPerc", json_string(memp)) ||
	    json_object_set_new(o, "NetIO", json_string("--")) ||
	    json_object_set_new(o, "BlockIO", json_string("--")) ||
	    json_object_set_new(o, "PIDs", json_string(pids))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *header(const char *field)
{
	static const char *const h[][2] = {
	    {"ID", "CONTAINER ID"},
	    {"Name", "NAME"},
	    {"Container", "CONTAINER"},
	    {"CPUPerc", "CPU %"},
	    {"MemUsage", "MEM USAGE / LIMIT"},
	    {"MemPerc", "MEM %"},
	    {"NetIO", "NET I/O"},
	    {"BlockIO", "BLOCK I/O"},
	    {"PIDs", "PIDS"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(h); i++)
		if (!strcmp(field, h[i][0]))
			return h[i][1];
	return NULL;
}

static int print_frame(const struct fmt_template *t, struct target *v, size_t n, bool trunc,
		       struct err **err)
{
	bool table = fmt_template_is_table(t);
	char **lines = calloc(n + 2, sizeof(*lines));
	size_t k = 0;
	int r = 0;

	if (!lines)
		return err_errno(err, ENOMEM, "stats");
	if (table && (r = fmt_template_to_string(t, NULL, header, &lines[k], err)) < 0)
		goto out;
	k += table;
	for (size_t i = 0; i < n; i++) {
		json_t *d = row_data(&v[i], trunc);

		if (!d) {
			r = err_errno(err, ENOMEM, "stats");
			goto out;
		}
		r = fmt_template_to_string(t, d, NULL, &lines[k], err);
		json_decref(d);
		if (r < 0)
			goto out;
		k++;
	}
	if (table) {
		r = fmt_table_write(stdout, lines, k, err);
	} else {
		for (size_t i = 0; i < k; i++)
			printf("%s\n", lines[i]);
	}
	if (r == 0 && fflush(stdout) == EOF)
		r = err_errno(err, errno, "write");
out:
	for (size_t i = 0; i < n + 2; i++)
		free(lines[i]);
	free(lines);
	return r;
}

static void targets_free(struct target *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].ref);
		free(v[i].name);
	}
	free(v);
}

/* The containers of this frame: those named, or every running one (-a:
 * every one), carrying over the last reading of those seen before. */
static int targets(struct cli_ctx *ctx, const struct opts *o, char **refs, size_t nrefs,
		   struct target *old, size_t nold, struct target **out, size_t *nout,
		   struct err **err)
{
	struct container_entry *e = NULL;
	struct target *v = NULL;
	size_t n = 0, ne = 0;
	int r = 0;

	if (nrefs) {
		v = calloc(nrefs, sizeof(*v));
		if (!v)
			return err_errno(err, ENOMEM, "stats");
		for (size_t i = 0; i < nrefs; i++, n++) {
			struct container_record rec;

			if ((r = cli_resolve(ctx, refs[i], v[i].id, err)) < 0 ||
			    (r = engine_container_load(ctx->root, v[i].id, &rec, err)) < 0)
				goto fail;
			v[i].ref = strdup(refs[i]);
			v[i].name = strdup(names_normalize(rec.name));
			engine_container_record_free(&rec);
		}
	} else {
		if ((r = engine_container_list(ctx->root, ctx->runroot, &e, &ne, err)) < 0)
			return r;
		v = calloc(ne ? ne : 1, sizeof(*v));
		if (!v) {
			engine_container_list_free(e, ne);
			return err_errno(err, ENOMEM, "stats");
		}
		for (size_t i = 0; i < ne; i++) {
			bool up = e[i].state == CTR_RUNNING || e[i].state == CTR_PAUSED;

			if (!up && !o->all)
				continue;
			memcpy(v[n].id, e[i].rec.id, sizeof(v[n].id));
			v[n].ref = strdup(names_normalize(e[i].rec.name));
			v[n].name = strdup(names_normalize(e[i].rec.name));
			n++;
		}
		engine_container_list_free(e, ne);
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i].ref || !v[i].name) {
			r = err_errno(err, ENOMEM, "stats");
			goto fail;
		}
		for (size_t j = 0; j < nold; j++) {
			if (!strcmp(old[j].id, v[i].id)) {
				v[i].have_cg = old[j].have_cg;
				v[i].st = old[j].st;
				v[i].t_ns = old[j].t_ns;
				break;
			}
		}
	}
	*out = v;
	*nout = n;
	return 0;
fail:
	targets_free(v, n);
	return r;
}

static int parse_format(const char *src, struct fmt_template **t, struct err **err)
{
	_cleanup_free_ char *un = NULL;
	int r;

	if (!src || fmt_template_default_table(src))
		return fmt_template_parse(STATS_DEFAULT, t, err);
	if (!strcmp(src, "json"))
		return fmt_template_parse("{{json .}}", t, err);
	un = fmt_unescape(src);
	if (!un)
		return err_errno(err, ENOMEM, "--format");
	if ((r = fmt_template_parse(un, t, err)) < 0)
		return r;
	return *t ? 0 : fmt_template_parse(STATS_DEFAULT, t, err);
}

int cmd_stats(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"all", no_argument, NULL, 'a'},	  {"no-stream", no_argument, NULL, 'S'},
	    {"no-trunc", no_argument, NULL, 'T'}, {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},	  {NULL, 0, NULL, 0},
	};
	struct opts o = {.stream = true, .trunc = true};
	struct fmt_template *t = NULL;
	struct target *v = NULL;
	struct err *err = NULL;
	size_t n = 0;
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+a", lo, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.all = true;
			break;
		case 'S':
			o.stream = false;
			break;
		case 'T':
			o.trunc = false;
			break;
		case 'f':
			o.format = optarg;
			break;
		case 'h':
			printf(
			    "Usage: moat stats [OPTIONS] [CONTAINER...]\n\nDisplay a live stream "
			    "of container(s) resource usage statistics\n");
			return 0;
		default:
			return cli_bad_flag(argv, c);
		}
	}
	if (parse_format(o.format, &t, &err) < 0)
		return cli_fail(&err);
	if ((r = targets(ctx, &o, argv + optind, (size_t)(argc - optind), NULL, 0, &v, &n, &err)) <
	    0)
		goto out;
	/* The first CPU reading is a baseline: the share needs two. */
	for (size_t i = 0; i < n; i++)
		sample(ctx, &v[i]);
	sleep_ns(FIRST_INTERVAL_NS);
	for (;;) {
		for (size_t i = 0; i < n; i++)
			sample(ctx, &v[i]);
		if (o.stream)
			fputs("\033[2J\033[H", stdout);
		if ((r = print_frame(t, v, n, o.trunc, &err)) < 0 || !o.stream)
			break;
		sleep_ns(1000000000LL);
		if (optind == argc) {
			/* Unnamed: follow containers as they start and stop. */
			struct target *nv = NULL;
			size_t nn = 0;

			if ((r = targets(ctx, &o, NULL, 0, v, n, &nv, &nn, &err)) < 0)
				break;
			targets_free(v, n);
			v = nv;
			n = nn;
		}
	}
out:
	targets_free(v, n);
	fmt_template_free(t);
	return r < 0 ? cli_fail(&err) : 0;
}
