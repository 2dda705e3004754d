/*
 * engine/prune.h - PURE: Docker's prune filters (`image prune --filter`,
 * `system prune --filter`), parsed from the flags' text and matched
 * against what an item says of itself (when it was created, its labels).
 *
 * Runs in: the moat CLI process. Nothing here reads a file, a clock or
 * the environment: "now" and the local zone's offset are passed in, so
 * the unit tests and fuzz/prune_filter_fuzz.c see exactly what the CLI
 * sees.
 *
 * Docker's semantics (moby daemon: getUntilFromPruneFilters, matchLabels,
 * filters.Args.MatchKVList; docker/cli: opts.FilterOpt):
 *  - each flag is KEY=VALUE; KEY is lower-cased and both are trimmed;
 *  - keys: until (at most one distinct value), label, label! and, for
 *    images, dangling (volumes: label and label! only); any other key: "invalid filter 'KEY'";
 *  - label=K / label=K=V: every one must match (AND);
 *  - label!=K / label!=K=V: the item is kept when every one matches;
 *  - until=T: what was created after T is kept; T is a Go duration before
 *    now ("10m", "1h30m"), unix seconds[.nanoseconds], or an RFC 3339 date
 *    or time (in the local zone when it names none).
 * Unlike Docker, an empty label key ("label=", "label!==x") is refused:
 * Docker matches nothing with it, so "label!=" would prune everything.
 */
#ifndef MOAT_ENGINE_PRUNE_H
#define MOAT_ENGINE_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PRUNE_FILTERS_MAX 256	  /* --filter flags per command */
#define PRUNE_FILTER_LEN_MAX 4096 /* bytes of one flag */

enum prune_target {
	PRUNE_CONTAINERS, /* until, label, label! */
	PRUNE_IMAGES,	  /* the same and dangling */
	PRUNE_VOLUMES,	  /* label, label! */
};

/* What "now" is, for until=DURATION and for times without a zone. */
struct prune_clock {
	int64_t now_ns;	    /* unix nanoseconds */
	int32_t utc_offset; /* seconds east of UTC of the local zone now */
};

struct prune_filter {
	bool has_until;
	int64_t until; /* unix ns: what was created after it stays */
	bool dangling; /* images: only those without a name (else all unused) */
	char **labels; /* "K" or "K=V" (NULL-terminated, owned) */
	size_t n_labels;
	char **not_labels; /* likewise */
	size_t n_not;
	/* "label!=a", "label=b", "until=1h": the filters as the user gave
	 * them, deduplicated and in natural order (Docker's prompt) */
	char **shown;
	size_t n_shown;
};

/*
 * The N SPECS ("KEY=VALUE" as given to --filter) for TARGET. ALL is -a
 * (images: dangling=false is added to what the user gave; else
 * dangling=true when the user gave none); a dangling filter that ends
 * up both true and false is "invalid filter 'dangling=false,true'".
 * Errors: "invalid argument \"X\" for \"--filter\" flag: bad format of
 * filter (expected name=value)", "invalid filter 'KEY'", "invalid filter
 * 'KEY=VALUE'", "more than one until filter specified", "invalid filter
 * 'until=X': failed to parse value as time or duration". OUT is zeroed
 * first and cleared again on error.
 */
int prune_filter_parse(char *const *specs, size_t n, enum prune_target target, bool all,
		       const struct prune_clock *clk, struct prune_filter *out, struct err **err);
void prune_filter_clear(struct prune_filter *f);

/* Does the item created at CREATED_NS (unix ns) with LABELS ("K=V",
 * NULL-terminated, may be NULL; the last of a repeated K counts) pass F?
 * The dangling part is the caller's: it knows the names. */
bool prune_filter_match(const struct prune_filter *f, int64_t created_ns, char *const *labels);

/* Docker's sortorder.NaturalLess as a comparison: runs of digits compare
 * as numbers ("v2" before "v10"). */
int prune_natural_cmp(const char *a, const char *b);

/* Go's time.ParseDuration into nanoseconds: [-+]?(NUMBER UNIT)+ with
 * units ns us µs μs ms s m h, or "0". -EINVAL, or -ERANGE past int64. */
int prune_duration_parse(const char *s, int64_t *ns);
/* Docker's until value (timetypes.GetTimestamp): unix ns, saturated at
 * the int64 limits. -EINVAL when it is neither a time nor a duration. */
int prune_until_parse(const char *s, const struct prune_clock *clk, int64_t *ns);

#endif
