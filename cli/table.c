/*
 * cli/table.c - the output the list and inspect verbs share: `network ls`,
 * `volume ls` and `ps` render one JSON row a line through a Go template
 * and align a table; `network inspect`, `volume inspect` and `inspect`
 * print an array of objects as JSON or through a template.
 *
 * Runs as: the invoking user or root, in the CLI process.
 *
 * Invariants:
 *  - nothing is printed before every line or object has been rendered,
 *    so a template that fails prints nothing (as Docker's CLI);
 *  - a template error exits 1 (Docker's formatter), moat's own failures
 *    (no memory, a write that fails) keep 125.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/cleanup.h"
#include "engine/format.h"

json_t *cli_kv_json(char *const *kv)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	for (; kv && *kv; kv++) {
		const char *eq = strchr(*kv, '=');
		_cleanup_free_ char *k = strndup(*kv, eq ? (size_t)(eq - *kv) : strlen(*kv));

		if (!k || json_object_set_new(o, k, json_string(eq ? eq + 1 : "")) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* ---- ls ---- */

int cli_ls_template(const char *format, bool quiet, const char *def, const char *quiet_def,
		    struct fmt_template **t, struct err **err)
{
	_cleanup_free_ char *un = NULL;
	int r;

	*t = NULL;
	if (format && !strcmp(format, "json"))
		return fmt_template_parse("{{json .}}", t, err);
	if (format && *format && !fmt_template_default_table(format)) {
		if (!(un = fmt_unescape(format)))
			return err_errno(err, ENOMEM, "--format");
		if ((r = fmt_template_parse(un, t, err)) < 0) {
			err_prefix(err, "failed to parse template");
			(*err)->exit = 1;
			return r;
		}
		/* a template that parses to "the default table" gives none */
		if (*t)
			return 0;
	}
	return fmt_template_parse(quiet ? quiet_def : def, t, err);
}

int cli_ls_row(const struct fmt_template *t, json_t *row, char **line, struct err **err)
{
	int r = fmt_template_to_string(t, row, NULL, line, err);

	json_decref(row);
	if (r < 0) {
		err_prefix(err, "template parsing error");
		(*err)->exit = 1;
	}
	return r;
}

int cli_ls_write(const struct fmt_template *t, char *const *lines, size_t n, struct err **err)
{
	int r = 0;

	if (fmt_template_is_table(t)) {
		r = fmt_table_write(stdout, lines, n, err);
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", lines[i]);
	}
	if (r == 0 && fflush(stdout) == EOF)
		r = err_errno(err, errno, "write");
	return r;
}

/* ---- inspect ---- */

int cli_inspect_template(const char *format, struct fmt_template **t, struct err **err)
{
	int r;

	*t = NULL;
	/* "json" is the default output; Docker's inspect does not unescape
	 * "\t" the way its list formats do. */
	if (!format || !*format || !strcmp(format, "json"))
		return 0;
	if ((r = fmt_template_parse(format, t, err)) < 0) {
		err_prefix(err, "template parsing error");
		(*err)->exit = 1;
	}
	return r;
}

int cli_inspect_print(const struct fmt_template *t, json_t *all, const char *what, struct err **err)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	if (t) {
		FILE *f = open_memstream(&text, &len);
		size_t i;
		json_t *obj;
		int r = 0;

		if (!f)
			return err_errno(err, errno, "%s", what);
		json_array_foreach (all, i, obj) {
			if ((r = fmt_template_render(t, obj, f, err)) < 0)
				break;
			fputc('\n', f);
		}
		if (fclose(f) != 0 && r == 0)
			r = err_errno(err, ENOMEM, "%s", what);
		if (r < 0) {
			err_prefix(err, "template parsing error");
			(*err)->exit = 1;
			return r;
		}
		fwrite(text, 1, len, stdout);
	} else {
		if (!(text = cli_json_dump(all, JSON_INDENT(4))))
			return err_errno(err, ENOMEM, "%s", what);
		printf("%s\n", text);
	}
	if (fflush(stdout) == EOF)
		return err_errno(err, errno, "write");
	return 0;
}
