/*
 * engine/names.c - container names, reference resolution, the lifecycle
 * state machine and the ps STATUS text (see names.h).
 *
 * Runs in: the moat CLI process, as the invoking user or root. PURE: no
 * system calls; randomness, "now" and the container list come from the
 * caller.
 *
 * Invariants:
 *  - every generated name passes names_valid (the word lists hold only
 *    lowercase ASCII letters; a unit test checks every pair);
 *  - the transition table below has an entry for every state x verb, so a
 *    new verb or state that is not thought through fails to compile
 *    cleanly (the array sizes are checked) and fails the table test;
 *  - a reference echoed in a message is cut and stripped of control
 *    characters, so a hostile argument cannot write escapes to a terminal.
 */
#include "engine/names.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/digest.h"

/* Our own lists: words that read well in front of a surname, and people
 * whose work computing and science stand on. Lowercase letters only. */
static const char *const adjectives[] = {
    "amber",   "ample",	  "arcane",  "astute",	 "balmy",  "bouncy",  "breezy",	  "bright",
    "brisk",   "calm",	  "candid",  "cheerful", "civil",  "cosmic",  "crisp",	  "curious",
    "daring",  "deft",	  "earnest", "fearless", "fluent", "gentle",  "glowing",  "hardy",
    "humble",  "jaunty",  "lively",  "lucky",	 "mellow", "merry",   "mighty",	  "nimble",
    "noble",   "orderly", "patient", "plucky",	 "polite", "prudent", "quick",	  "quiet",
    "radiant", "rapid",	  "ready",   "robust",	 "rustic", "sincere", "snappy",	  "spry",
    "steady",  "sturdy",  "sunny",   "swift",	 "tidy",   "timely",  "tranquil", "upright",
    "valiant", "vivid",	  "warm",    "witty",	 "zesty",
};

static const char *const surnames[] = {
    "ampere",	  "avogadro",	 "babbage",    "backus",     "bardeen",
    "bell",	  "bernoulli",	 "bohr",       "boole",	     "born",
    "brattain",	  "cantor",	 "carson",     "cerf",	     "chandrasekhar",
    "church",	  "conway",	 "coulomb",    "cray",	     "curie",
    "darwin",	  "dijkstra",	 "dirac",      "doppler",    "einstein",
    "engelbart",  "euler",	 "faraday",    "fermi",	     "feynman",
    "fibonacci",  "fourier",	 "franklin",   "galois",     "gauss",
    "germain",	  "godel",	 "goodall",    "hamilton",   "hawking",
    "heisenberg", "hertz",	 "hilbert",    "hooke",	     "hopper",
    "hubble",	  "huffman",	 "huygens",    "hypatia",    "jemison",
    "johnson",	  "joule",	 "kahan",      "kelvin",     "kepler",
    "knuth",	  "kolmogorov",	 "lagrange",   "lamarr",     "lamport",
    "laplace",	  "leibniz",	 "lorentz",    "lovelace",   "mandelbrot",
    "markov",	  "maxwell",	 "mcclintock", "meitner",    "mendel",
    "mendeleev",  "minsky",	 "mirzakhani", "nash",	     "neumann",
    "newton",	  "noether",	 "nyquist",    "ohm",	     "pascal",
    "pasteur",	  "pauli",	 "perlman",    "planck",     "poincare",
    "raman",	  "ramanujan",	 "riemann",    "ritchie",    "rutherford",
    "sagan",	  "schrodinger", "shannon",    "somerville", "stokes",
    "sutherland", "tesla",	 "thompson",   "turing",     "vaughan",
    "volta",	  "watt",	 "wiles",      "wirth",	     "wu",
    "yalow",	  "yonath",	 "zuse",
};

void names_generate(uint64_t rnd, char out[64])
{
	const char *a = adjectives[(uint32_t)rnd % ARRAY_SIZE(adjectives)];
	const char *s = surnames[(uint32_t)(rnd >> 32) % ARRAY_SIZE(surnames)];

	snprintf(out, 64, "%s_%s", a, s);
}

static bool name_char(unsigned char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '-');
}

const char *names_normalize(const char *name)
{
	if (name && name[0] == '/')
		return name + 1;
	return name;
}

bool names_valid(const char *name)
{
	const char *n = names_normalize(name);
	size_t i;

	if (!n)
		return false;
	for (i = 0; n[i]; i++) {
		if (i >= CTR_NAME_MAX || !name_char((unsigned char)n[i], i == 0))
			return false;
	}
	return i >= 2;
}

/* REF fit for a message: at most ~100 bytes, control bytes as '?'. */
static const char *shown(const char *ref, char *buf, size_t len)
{
	size_t i, o = 0;

	for (i = 0; ref[i] && o + 4 < len && i < 100; i++) {
		unsigned char c = (unsigned char)ref[i];
		buf[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (ref[i]) {
		/* Do not leave half a UTF-8 sequence before the ellipsis. */
		while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0xc0)
			o--;
		buf[o++] = '.';
		buf[o++] = '.';
		buf[o++] = '.';
	}
	buf[o] = 0;
	return buf;
}

static int exit1(struct err **err, int r)
{
	if (err && *err)
		(*err)->exit = 1;
	return r;
}

static bool lower_hex(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= max || !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i > 0;
}

int names_resolve(const struct names_entry *e, size_t n, const char *ref, size_t *idx,
		  struct err **err)
{
	char buf[128];
	const char *want;
	size_t found = 0, at = 0;

	if (!ref || !*ref || (!e && n))
		return exit1(err, err_set(err, ENOENT, "No such container: %s",
					  shown(ref ? ref : "", buf, sizeof(buf))));
	for (size_t i = 0; i < n; i++) {
		if (e[i].id && !strcmp(e[i].id, ref)) {
			*idx = i;
			return 0;
		}
	}
	want = names_normalize(ref);
	for (size_t i = 0; *want && i < n; i++) {
		const char *have = names_normalize(e[i].name);

		if (have && !strcmp(have, want)) {
			*idx = i;
			return 0;
		}
	}
	if (lower_hex(ref, SHA256_HEX_LEN)) {
		size_t rl = strlen(ref);

		for (size_t i = 0; i < n; i++) {
			if (e[i].id && !strncmp(e[i].id, ref, rl)) {
				if (found++ == 0)
					at = i;
			}
		}
	}
	if (found == 1) {
		*idx = at;
		return 0;
	}
	if (found > 1)
		return exit1(err, err_set(err, ENOTUNIQ,
					  "multiple containers found with provided prefix: %s",
					  shown(ref, buf, sizeof(buf))));
	return exit1(err,
		     err_set(err, ENOENT, "No such container: %s", shown(ref, buf, sizeof(buf))));
}

static const char *const state_names[] = {
    [CTR_CREATED] = "created", [CTR_RUNNING] = "running",
    [CTR_PAUSED] = "paused",   [CTR_RESTARTING] = "restarting",
    [CTR_EXITED] = "exited",   [CTR_REMOVING] = "removing",
    [CTR_DEAD] = "dead",
};
_Static_assert(ARRAY_SIZE(state_names) == CTR_STATE_COUNT, "a name for every state");

const char *ctr_state_name(enum ctr_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(state_names))
		return "unknown";
	return state_names[s];
}

int ctr_state_parse(const char *s, enum ctr_state *out)
{
	for (size_t i = 0; s && i < ARRAY_SIZE(state_names); i++) {
		if (!strcmp(s, state_names[i])) {
			*out = (enum ctr_state)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The outcomes of the table; each error has one message and errno. */
enum outcome {
	OK,
	NOOP,
	NOT_RUNNING,	/* the verb needs a live process */
	IS_PAUSED,	/* frozen: a signal or a new process would hang */
	START_PAUSED,	/* start of a paused one: Docker's own wording */
	ALREADY_PAUSED, /* pause twice */
	NOT_PAUSED,	/* unpause of one that is not frozen */
	IS_RESTARTING,	/* between two runs: no process to act on */
	RM_ACTIVE,	/* rm without -f of one with processes */
	MARKED,		/* removing or dead: only rm (-f) */
	RM_IN_PROGRESS, /* rm without -f while another rm works */
};

/*
 * Every state x verb, written out. Where this follows Docker's daemon:
 *  - start of a running or restarting container changes nothing (304);
 *  - stop of a container that is not running is a success; kill is not;
 *  - stop and restart of a paused container are allowed (the engine thaws
 *    it after signalling); kill and exec of a paused one are refused;
 *  - top and stats of a paused container work (the processes exist);
 *  - cp, commit, diff, logs, port and rename work on stopped containers;
 *  - a dead container is removed with plain rm (that is how it goes away);
 *    rm -f also clears one left "removing" by an rm that was killed, which
 *    a daemonless engine has to allow; anything else on those is refused.
 */
static const unsigned char table[CTR_STATE_COUNT][CTR_VERB_COUNT] = {
    [CTR_CREATED] =
	{
	    [CTR_VERB_START] = OK,
	    [CTR_VERB_STOP] = NOOP,
	    [CTR_VERB_KILL] = NOT_RUNNING,
	    [CTR_VERB_RESTART] = OK,
	    [CTR_VERB_PAUSE] = NOT_RUNNING,
	    [CTR_VERB_UNPAUSE] = NOT_PAUSED,
	    [CTR_VERB_RM] = OK,
	    [CTR_VERB_RM_FORCE] = OK,
	    [CTR_VERB_EXEC] = NOT_RUNNING,
	    [CTR_VERB_ATTACH] = NOT_RUNNING,
	    [CTR_VERB_RENAME] = OK,
	    [CTR_VERB_WAIT] = NOOP,
	    [CTR_VERB_TOP] = NOT_RUNNING,
	    [CTR_VERB_STATS] = NOT_RUNNING,
	    [CTR_VERB_CP] = OK,
	    [CTR_VERB_COMMIT] = OK,
	    [CTR_VERB_PORT] = OK,
	    [CTR_VERB_DIFF] = OK,
	    [CTR_VERB_LOGS] = OK,
	},
    [CTR_RUNNING] =
	{
	    [CTR_VERB_START] = NOOP,   [CTR_VERB_STOP] = OK,	 [CTR_VERB_KILL] = OK,
	    [CTR_VERB_RESTART] = OK,   [CTR_VERB_PAUSE] = OK,	 [CTR_VERB_UNPAUSE] = NOT_PAUSED,
	    [CTR_VERB_RM] = RM_ACTIVE, [CTR_VERB_RM_FORCE] = OK, [CTR_VERB_EXEC] = OK,
	    [CTR_VERB_ATTACH] = OK,    [CTR_VERB_RENAME] = OK,	 [CTR_VERB_WAIT] = OK,
	    [CTR_VERB_TOP] = OK,       [CTR_VERB_STATS] = OK,	 [CTR_VERB_CP] = OK,
	    [CTR_VERB_COMMIT] = OK,    [CTR_VERB_PORT] = OK,	 [CTR_VERB_DIFF] = OK,
	    [CTR_VERB_LOGS] = OK,
	},
    [CTR_PAUSED] =
	{
	    [CTR_VERB_START] = START_PAUSED,
	    [CTR_VERB_STOP] = OK,
	    [CTR_VERB_KILL] = IS_PAUSED,
	    [CTR_VERB_RESTART] = OK,
	    [CTR_VERB_PAUSE] = ALREADY_PAUSED,
	    [CTR_VERB_UNPAUSE] = OK,
	    [CTR_VERB_RM] = RM_ACTIVE,
	    [CTR_VERB_RM_FORCE] = OK,
	    [CTR_VERB_EXEC] = IS_PAUSED,
	    [CTR_VERB_ATTACH] = IS_PAUSED,
	    [CTR_VERB_RENAME] = OK,
	    [CTR_VERB_WAIT] = OK,
	    [CTR_VERB_TOP] = OK,
	    [CTR_VERB_STATS] = OK,
	    [CTR_VERB_CP] = OK,
	    [CTR_VERB_COMMIT] = OK,
	    [CTR_VERB_PORT] = OK,
	    [CTR_VERB_DIFF] = OK,
	    [CTR_VERB_LOGS] = OK,
	},
    [CTR_RESTARTING] =
	{
	    [CTR_VERB_START] = NOOP,
	    [CTR_VERB_STOP] = OK,
	    [CTR_VERB_KILL] = OK,
	    [CTR_VERB_RESTART] = OK,
	    [CTR_VERB_PAUSE] = IS_RESTARTING,
	    [CTR_VERB_UNPAUSE] = NOT_PAUSED,
	    [CTR_VERB_RM] = RM_ACTIVE,
	    [CTR_VERB_RM_FORCE] = OK,
	    [CTR_VERB_EXEC] = IS_RESTARTING,
	    [CTR_VERB_ATTACH] = IS_RESTARTING,
	    [CTR_VERB_RENAME] = OK,
	    [CTR_VERB_WAIT] = OK,
	    [CTR_VERB_TOP] = IS_RESTARTING,
	    [CTR_VERB_STATS] = IS_RESTARTING,
	    [CTR_VERB_CP] = OK,
	    [CTR_VERB_COMMIT] = OK,
	    [CTR_VERB_PORT] = OK,
	    [CTR_VERB_DIFF] = OK,
	    [CTR_VERB_LOGS] = OK,
	},
    [CTR_EXITED] =
	{
	    [CTR_VERB_START] = OK,
	    [CTR_VERB_STOP] = NOOP,
	    [CTR_VERB_KILL] = NOT_RUNNING,
	    [CTR_VERB_RESTART] = OK,
	    [CTR_VERB_PAUSE] = NOT_RUNNING,
	    [CTR_VERB_UNPAUSE] = NOT_PAUSED,
	    [CTR_VERB_RM] = OK,
	    [CTR_VERB_RM_FORCE] = OK,
	    [CTR_VERB_EXEC] = NOT_RUNNING,
	    [CTR_VERB_ATTACH] = NOT_RUNNING,
	    [CTR_VERB_RENAME] = OK,
	    [CTR_VERB_WAIT] = NOOP,
	    [CTR_VERB_TOP] = NOT_RUNNING,
	    [CTR_VERB_STATS] = NOT_RUNNING,
	    [CTR_VERB_CP] = OK,
	    [CTR_VERB_COMMIT] = OK,
	    [CTR_VERB_PORT] = OK,
	    [CTR_VERB_DIFF] = OK,
	    [CTR_VERB_LOGS] = OK,
	},
    [CTR_REMOVING] =
	{
	    [CTR_VERB_START] = MARKED,	    [CTR_VERB_STOP] = MARKED,	[CTR_VERB_KILL] = MARKED,
	    [CTR_VERB_RESTART] = MARKED,    [CTR_VERB_PAUSE] = MARKED,	[CTR_VERB_UNPAUSE] = MARKED,
	    [CTR_VERB_RM] = RM_IN_PROGRESS, [CTR_VERB_RM_FORCE] = OK,	[CTR_VERB_EXEC] = MARKED,
	    [CTR_VERB_ATTACH] = MARKED,	    [CTR_VERB_RENAME] = MARKED, [CTR_VERB_WAIT] = MARKED,
	    [CTR_VERB_TOP] = MARKED,	    [CTR_VERB_STATS] = MARKED,	[CTR_VERB_CP] = MARKED,
	    [CTR_VERB_COMMIT] = MARKED,	    [CTR_VERB_PORT] = MARKED,	[CTR_VERB_DIFF] = MARKED,
	    [CTR_VERB_LOGS] = MARKED,
	},
    [CTR_DEAD] =
	{
	    [CTR_VERB_START] = MARKED,	 [CTR_VERB_STOP] = MARKED,   [CTR_VERB_KILL] = MARKED,
	    [CTR_VERB_RESTART] = MARKED, [CTR_VERB_PAUSE] = MARKED,  [CTR_VERB_UNPAUSE] = MARKED,
	    [CTR_VERB_RM] = OK,		 [CTR_VERB_RM_FORCE] = OK,   [CTR_VERB_EXEC] = MARKED,
	    [CTR_VERB_ATTACH] = MARKED,	 [CTR_VERB_RENAME] = MARKED, [CTR_VERB_WAIT] = MARKED,
	    [CTR_VERB_TOP] = MARKED,	 [CTR_VERB_STATS] = MARKED,  [CTR_VERB_CP] = MARKED,
	    [CTR_VERB_COMMIT] = MARKED,	 [CTR_VERB_PORT] = MARKED,   [CTR_VERB_DIFF] = MARKED,
	    [CTR_VERB_LOGS] = MARKED,
	},
};
_Static_assert(CTR_VERB_LOGS + 1 == CTR_VERB_COUNT, "CTR_VERB_COUNT is the number of verbs");
_Static_assert(CTR_DEAD + 1 == CTR_STATE_COUNT, "CTR_STATE_COUNT is the number of states");

/* "container X is marked for removal and cannot be <this>". */
static const char *const marked_as[] = {
    [CTR_VERB_START] = "started",	 [CTR_VERB_STOP] = "stopped",
    [CTR_VERB_KILL] = "killed",		 [CTR_VERB_RESTART] = "restarted",
    [CTR_VERB_PAUSE] = "paused",	 [CTR_VERB_UNPAUSE] = "unpaused",
    [CTR_VERB_RM] = "removed",		 [CTR_VERB_RM_FORCE] = "removed",
    [CTR_VERB_EXEC] = "used for exec",	 [CTR_VERB_ATTACH] = "attached to",
    [CTR_VERB_RENAME] = "renamed",	 [CTR_VERB_WAIT] = "waited for",
    [CTR_VERB_TOP] = "used for top",	 [CTR_VERB_STATS] = "used for stats",
    [CTR_VERB_CP] = "copied to or from", [CTR_VERB_COMMIT] = "committed",
    [CTR_VERB_PORT] = "used for port",	 [CTR_VERB_DIFF] = "used for diff",
    [CTR_VERB_LOGS] = "used for logs",
};
_Static_assert(ARRAY_SIZE(marked_as) == CTR_VERB_COUNT, "a phrase for every verb");

int ctr_transition_check(enum ctr_state from, enum ctr_verb verb, const char *id, struct err **err)
{
	char buf[128];
	const char *who;

	if ((unsigned)from >= CTR_STATE_COUNT || (unsigned)verb >= CTR_VERB_COUNT)
		return err_set(err, EINVAL, "container state %d or verb %d out of range", (int)from,
			       (int)verb);
	who = shown(id ? id : "", buf, sizeof(buf));
	switch ((enum outcome)table[from][verb]) {
	case OK:
		return CTR_OK;
	case NOOP:
		return CTR_NOOP;
	case NOT_RUNNING:
		return exit1(err, err_set(err, ESRCH, "container %s is not running", who));
	case IS_PAUSED:
		return exit1(err,
			     err_set(err, EBUSY,
				     "container %s is paused, unpause the container first", who));
	case START_PAUSED:
		return exit1(err, err_set(err, EBUSY,
					  "cannot start a paused container, try unpause instead"));
	case ALREADY_PAUSED:
		return exit1(err, err_set(err, EALREADY, "container %s is already paused", who));
	case NOT_PAUSED:
		return exit1(err, err_set(err, EINVAL, "container %s is not paused", who));
	case IS_RESTARTING:
		return exit1(err, err_set(err, EAGAIN,
					  "container %s is restarting, wait until the container "
					  "is running",
					  who));
	case RM_ACTIVE:
		return exit1(err, err_set(err, EBUSY,
					  "cannot remove container \"%s\": container is %s: stop "
					  "the container before removing or force remove",
					  who, ctr_state_name(from)));
	case MARKED:
		return exit1(err, err_set(err, EIDRM,
					  "container %s is marked for removal and cannot be %s",
					  who, marked_as[verb]));
	case RM_IN_PROGRESS:
		return exit1(err, err_set(err, EALREADY,
					  "removal of container %s is already in progress", who));
	default:
		return err_set(err, EINVAL, "container state table: bad entry");
	}
}

void names_human_duration(int64_t seconds, char *buf, size_t len)
{
	int64_t minutes, hours;

	if (!buf || !len)
		return;
	if (seconds < 1) {
		snprintf(buf, len, "Less than a second");
		return;
	}
	if (seconds == 1) {
		snprintf(buf, len, "1 second");
		return;
	}
	if (seconds < 60) {
		snprintf(buf, len, "%" PRId64 " seconds", seconds);
		return;
	}
	minutes = seconds / 60;
	if (minutes == 1) {
		snprintf(buf, len, "About a minute");
		return;
	}
	if (minutes < 60) {
		snprintf(buf, len, "%" PRId64 " minutes", minutes);
		return;
	}
	/* Docker rounds hours to the nearest (int(d.Hours() + 0.5)). */
	hours = seconds / 3600 + (seconds % 3600 >= 1800);
	if (hours == 1)
		snprintf(buf, len, "About an hour");
	else if (hours < 48)
		snprintf(buf, len, "%" PRId64 " hours", hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, len, "%" PRId64 " days", hours / 24);
	else if (hours < 24 * 30 * 2)
		snprintf(buf, len, "%" PRId64 " weeks", hours / 24 / 7);
	else if (hours < 24 * 365 * 2)
		snprintf(buf, len, "%" PRId64 " months", hours / 24 / 30);
	else /* years from the unrounded hours, as Docker does */
		snprintf(buf, len, "%" PRId64 " years", seconds / 3600 / 24 / 365);
}

/* NOW - T, saturated; -1 when T is unknown. */
static int64_t since(int64_t now, int64_t t)
{
	int64_t d;

	if (t <= 0)
		return -1;
	if (__builtin_sub_overflow(now, t, &d))
		return now > t ? INT64_MAX : 0;
	return d < 0 ? 0 : d;
}

void ctr_status_text(enum ctr_state s, int exit_code, int64_t started, int64_t finished,
		     int64_t now, char *buf, size_t len)
{
	char dur[64], code[16];
	int64_t d;

	if (!buf || !len)
		return;
	if (exit_code < 0)
		snprintf(code, sizeof(code), "unknown");
	else
		snprintf(code, sizeof(code), "%d", exit_code);
	switch (s) {
	case CTR_CREATED:
		snprintf(buf, len, "Created");
		return;
	case CTR_RUNNING:
	case CTR_PAUSED:
		d = since(now, started);
		names_human_duration(d, dur, sizeof(dur));
		snprintf(buf, len, "Up%s%s%s", d < 0 ? "" : " ", d < 0 ? "" : dur,
			 s == CTR_PAUSED ? " (Paused)" : "");
		return;
	case CTR_RESTARTING:
	case CTR_EXITED:
		d = since(now, finished);
		names_human_duration(d, dur, sizeof(dur));
		snprintf(buf, len, "%s (%s)%s%s%s", s == CTR_EXITED ? "Exited" : "Restarting", code,
			 d < 0 ? "" : " ", d < 0 ? "" : dur, d < 0 ? "" : " ago");
		return;
	case CTR_REMOVING:
		snprintf(buf, len, "Removal In Progress");
		return;
	case CTR_DEAD:
		snprintf(buf, len, "Dead");
		return;
	default:
		snprintf(buf, len, "Unknown");
		return;
	}
}
