/*
 * engine/options.h - PURE parsers for the lifecycle flags: --env-file,
 * --label-file, -l/--label, --restart (and the monitor's restart decision
 * and back-off), signals, sizes (--log-opt max-size) and ps --filter.
 *
 * The caller reads files and passes their text, and passes the
 * environment; nothing here touches the filesystem, a process or a clock.
 */
#ifndef MOAT_ENGINE_OPTIONS_H
#define MOAT_ENGINE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "engine/names.h"

#define OPTIONS_FILE_MAX (1u << 20) /* --env-file / --label-file text */
#define OPTIONS_LINE_MAX (1u << 16) /* one line of it, without its newline */

/*
 * --env-file TEXT (LEN bytes; FILE names it in messages), Docker's rules:
 * lines split on '\n' with one trailing '\r' dropped, a UTF-8 BOM dropped
 * from the first; leading (Unicode) whitespace trimmed; empty lines and
 * lines starting with '#' skipped; "KEY=VALUE" kept verbatim (the value is
 * neither trimmed nor unquoted); a bare "KEY" becomes "KEY=<value>" when
 * ENVIRON_ ("K=V" strings, NULL-terminated, may be NULL) has it, and is
 * skipped otherwise. Errors, "FILE:LINE: ...":
 *   "invalid environment variable: =x"      (empty key)
 *   "variable 'A B' contains whitespaces"   (space or tab in the key)
 *   "contains invalid utf8 bytes"           (also a NUL byte)
 *   "line longer than 65536 bytes"; "FILE: larger than 1048576 bytes".
 * On success appends to *ENV (a NULL-terminated strv, *ENV may be NULL);
 * on error *ENV is left as it was.
 */
int options_env_file_parse(const char *file, const char *text, size_t len, char **environ_,
			   char ***env, struct err **err);
/* The same rules for --label-file; a bare "k" becomes "k=" and an empty
 * key reads "invalid label: =x". Appends to *LABELS likewise. */
int options_label_file_parse(const char *file, const char *text, size_t len, char ***labels,
			     struct err **err);
/* -l/--label ARG: "k=v" or "k" (appended as "k="). An empty or blank key
 * is an error, "invalid label 'ARG': empty name", and so is a key with a
 * space or tab, "label 'a b' contains whitespaces". */
int options_label_add(char ***labels, const char *arg, struct err **err);

enum restart_policy {
	RESTART_NO,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
	RESTART_UNLESS_STOPPED,
};
struct restart_spec {
	enum restart_policy policy;
	int max_retries; /* on-failure only; 0 = unlimited */
};

/* --restart: "no" (or ""), "always", "unless-stopped", "on-failure",
 * "on-failure:N" (N a decimal integer >= 0). A count with another policy:
 * "maximum retry count cannot be used with restart policy 'always'"; a bad
 * count: "invalid restart policy \"X\": maximum retry count must be a
 * non-negative integer"; anything else: "invalid restart policy \"X\"". */
int options_restart_parse(const char *s, struct restart_spec *out, struct err **err);
/* "no", "on-failure", "always", "unless-stopped"; "unknown" otherwise. */
const char *options_restart_name(enum restart_policy p);
/* Should the monitor start the container again after it exited with
 * EXIT_CODE, having restarted it RESTARTS times so far? Never when MANUAL
 * (docker stop/kill by a user) or for "no"; on-failure: non-zero exits
 * while max_retries == 0 || restarts < max_retries; always and
 * unless-stopped: yes. */
bool options_restart_should(const struct restart_spec *r, int exit_code, int restarts, bool manual);
/* Docker's back-off: the delay before the next restart, given the previous
 * delay PREV_MS (0 before the first) and how long the container ran:
 * 100 ms, doubling per consecutive restart, capped at 60000 ms; a run of
 * RAN_MS >= 10000 starts again at 100 ms. */
unsigned options_restart_delay(unsigned prev_ms, uint64_t ran_ms);

/* "SIGTERM", "TERM", "term", "15", "SIGRTMIN", "SIGRTMIN+3", "RTMAX-1"
 * (RTMIN is 34 and RTMAX 64, as on Linux with glibc and in Docker).
 * Returns 1..64, or -EINVAL "invalid signal: X". */
int options_signal_parse(const char *s, struct err **err);
/* 15 -> "SIGTERM", 35 -> "SIGRTMIN+1", 63 -> "SIGRTMAX-1", 32 -> "SIG32"
 * (static strings, and options_signal_parse takes every one back); NULL
 * outside 1..64. */
const char *options_signal_name(int sig);

/* Docker's RAMInBytes (--log-opt max-size): a decimal number with an
 * optional fraction, an optional space, and an optional case-insensitive
 * binary suffix b, k, kb, kib, m, ..., p ("100", "10k", "10kb", "1.5m",
 * "1g"). Fractions of a byte are dropped. Zero, negative, over INT64_MAX
 * or garbage: -EINVAL "invalid size: 'X'" (-ERANGE when too large). */
int options_size_parse(const char *s, uint64_t *out, struct err **err);

/*
 * ps --filter KEY=VALUE, each of the N SPECS (the key is case-insensitive,
 * spaces around key and value are dropped, as Docker does):
 *   id=PREFIX        the container id starts with PREFIX
 *   name=REGEX       POSIX ERE searched in the name, with and without its
 *                    leading '/' ("^web$" and "^/web$" both work); invalid
 *                    patterns are errors, and so are patterns glibc would
 *                    compile into something huge or slow: over 512 bytes,
 *                    back-references, stacked repetitions ("a**", "a{2}+",
 *                    which Docker's RE2 refuses too), nesting that expands
 *                    past 2000 nodes ("((a{50}){50})")
 *   label=KEY[=VAL]  the container has that label (with that value)
 *   status=STATE     created|restarting|running|removing|paused|exited|dead
 *   ancestor=IMAGE   the image as named ("alpine" matches "alpine:latest" and
 *                    "docker.io/library/alpine"), or an image id or its
 *                    prefix ("sha256:abc..." or "abc...")
 *   exited=CODE      an exited container with that exit code (0..255)
 * A repeated key matches when any of its values does, except label, where
 * every one must (Docker's MatchKVList); different keys must all match.
 * Errors: "bad format of filter (expected name=value)", "invalid filter
 * 'KEY'" for unknown keys, "invalid filter 'KEY=VALUE'" for bad values.
 */
struct ps_filter;
int ps_filter_parse(char *const *specs, size_t n, struct ps_filter **out, struct err **err);
struct ps_item {
	const char *id, *name, *image, *image_id; /* image_id "sha256:<hex>" */
	char *const *labels;			  /* "k=v", NULL-terminated */
	enum ctr_state state;
	int exit_code;
};
/* A NULL filter matches everything; NULL fields of IT never match. */
bool ps_filter_match(const struct ps_filter *f, const struct ps_item *it);
void ps_filter_free(struct ps_filter *f);

#endif
