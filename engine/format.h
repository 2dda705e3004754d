/*
 * engine/format.h - `--format` for ps, images, inspect, ...: the part of Go's text/template
 * that Docker's templates use, evaluated over a jansson value, and Docker's table writer
 * (text/tabwriter with minwidth 10, tabwidth 1, padding 3, padchar ' ', flags 0).
 *
 * Runs in: the moat CLI process, as the invoking user. Pure: parsing and rendering touch no
 * file, process or network state; the only output goes to the FILE * a caller passes.
 *
 * Invariants:
 *  - a template is at most FMT_MAX_SIZE bytes and nests (control structures and parentheses)
 *    at most FMT_MAX_DEPTH deep; anything else is refused by fmt_template_parse with a message
 *    "template: :LINE:COL: what is wrong";
 *  - rendering is bounded (FMT_MAX_STEPS steps, FMT_MAX_OUTPUT bytes per string and of
 *    output), only reads DATA, and writes all of its output or none of it;
 *  - a parsed template is immutable: it may be rendered any number of times.
 *
 * Semantics worth knowing (Go's, unless marked "moat"):
 *  - `.A.B` on an object is a member lookup; a missing member is "no value" (printed as
 *    "<no value>", false in `if`, empty in `range`); explicit JSON null prints "<nil>" (as a
 *    nil pointer does in Docker's typed output);
 *  - values print like Go's %v: strings raw, integers as integers, reals as Go prints a
 *    float64 (1, 1.5, 1e+06), arrays `[a b]`, objects `map[k:v]` with sorted keys;
 *  - `range` over an object visits its keys in sorted order; `json` keeps the stored order;
 *  - functions: and or not len index print printf println eq ne lt le gt ge, and Docker's
 *    json split join title lower upper pad truncate. moat: lower/upper/title change ASCII
 *    letters only; truncate counts code points (Docker counts bytes); join accepts any
 *    array (non-strings print as %v); eq/lt/... compare integers with reals by value.
 *  - `{{define}}`, `{{template}}`, `{{block}}` are not supported.
 */
#ifndef MOAT_ENGINE_FORMAT_H
#define MOAT_ENGINE_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/err.h"

#define FMT_MAX_SIZE (64 * 1024)    /* bytes of template text */
#define FMT_MAX_DEPTH 64	    /* nesting of if/range/with/( ), and of printed values */
#define FMT_MAX_STEPS (1L << 20)    /* nodes, commands and range iterations per render */
#define FMT_MAX_OUTPUT (16ul << 20) /* bytes of output, and of any string built on the way */

struct fmt_template;

/*
 * Parses SRC. A leading "table" (alone, or followed by a space or by "{{") marks a table:
 * the CLI prints a header row (fmt_template_header) and aligns columns (fmt_table_write);
 * spaces around the rest are dropped, as Docker does. "table" alone means "use the caller's
 * default": then this returns 0 with *OUT NULL (fmt_template_default_table says the same),
 * and the caller parses "table " + its default. Errors: -EINVAL (-E2BIG when too long) and
 * "template: :1:12: unexpected \"}\" in operand" style messages, with 1-based line:column.
 */
int fmt_template_parse(const char *src, struct fmt_template **out, struct err **err);
bool fmt_template_is_table(const struct fmt_template *t);
/* True for "table" (surrounding white space ignored). */
bool fmt_template_default_table(const char *src);
/*
 * Renders T with DATA as "." (and "$") into OUT. Runtime errors (index of a non-map, wrong
 * number of arguments, range over a scalar, a field of a string, a value nested deeper than
 * FMT_MAX_DEPTH) return -EINVAL, and FMT_MAX_STEPS or FMT_MAX_OUTPUT -E2BIG, with
 * "template: :L:C: executing \"\" at <...>: what"; nothing is written then. -EIO when OUT
 * cannot be written. DATA may be NULL (then "." has no value).
 */
int fmt_template_render(const struct fmt_template *t, json_t *data, FILE *out, struct err **err);
/*
 * Renders the header row of a table template: each top-level action's first field
 * ({{.ID}}, {{.Names | upper}}, {{json .Config}}: "ID", "Names", "Config"; {{.A.B}}: "A.B")
 * becomes HEADER(field), or the field upper-cased when HEADER is NULL or returns NULL; a
 * leading {{pad .F L R}} pads the header the same way (as Docker keeps pad for headers); a
 * top-level if/range/with prints the header of its condition's field once; other text
 * (including "\t") is kept; actions without a field and declarations print nothing.
 */
int fmt_template_header(const struct fmt_template *t, const char *(*header)(const char *field),
			FILE *out, struct err **err);
void fmt_template_free(struct fmt_template *t);
/* fmt_template_render (HEADER NULL) or fmt_template_header (HEADER given)
 * into a malloc'd string *OUT. */
int fmt_template_to_string(const struct fmt_template *t, json_t *data,
			   const char *(*header)(const char *field), char **out, struct err **err);

/*
 * Docker's table writer. LINES are rows (without their trailing newline; a '\n' inside one
 * starts another row, as in a stream) whose cells are separated by '\t'. A column is padded
 * with spaces to max(cell width) + 3, and to at least 10; the last cell of a row is not
 * padded; widths are computed over each block of consecutive rows that have that column,
 * like tabwriter's column blocks (a row with fewer cells ends the block of the columns it
 * lacks; '\f' ends every block). Width counts UTF-8 code points (an invalid byte counts 1).
 * NULL entries are empty rows. Errors: -ENOMEM, -EIO.
 */
int fmt_table_write(FILE *out, char *const *lines, size_t n, struct err **err);

/*
 * Docker's command-line escapes: the two-character sequences `\t` and `\n` become a tab and
 * a newline (scanning left to right, as Go's strings.Replacer does); nothing else changes.
 * Returns a malloc'd copy, or NULL when out of memory.
 */
char *fmt_unescape(const char *src);

#endif
