/*
 * fuzz/format_fuzz.c - `--format` templates (engine/format_*.c). The first half of the input
 * is the template, the second half the JSON data ("." of the render); inputs whose second
 * half is not JSON are skipped. Parsing, rendering, the table header, the table writer and
 * the command-line unescaping must never crash, leak or run away, and:
 *  - a failed render writes nothing, a successful one at most FMT_MAX_OUTPUT bytes;
 *  - rendering is deterministic (the same template and data give the same bytes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_header(const char *field)
{
	return strcmp(field, "ID") ? NULL : "CONTAINER ID";
}

/* Renders T over J into a new string (*OUT, *LEN); returns the render's result. */
static int fuzz_render(const struct fmt_template *t, json_t *j, char **out, size_t *len)
{
	struct err *e = NULL;
	FILE *f = open_memstream(out, len);
	int r;

	if (!f)
		abort();
	r = fmt_template_render(t, j, f, &e);
	fclose(f);
	if (r < 0 && (!e || *len))
		abort();
	if (r == 0 && (e || *len > FMT_MAX_OUTPUT))
		abort();
	err_free(&e);
	return r;
}

static void fuzz_template(const char *src, json_t *j)
{
	struct fmt_template *t = NULL;
	char *a = NULL, *b = NULL, *h = NULL, *tab = NULL;
	size_t alen = 0, blen = 0, hlen = 0, tlen = 0;
	struct err *e = NULL;
	FILE *f;
	int r;

	if (fmt_template_parse(src, &t, &e) < 0 || !t) {
		if (t || (!e && !fmt_template_default_table(src)))
			abort();
		err_free(&e);
		return;
	}
	r = fuzz_render(t, j, &a, &alen);
	if (fuzz_render(t, j, &b, &blen) != r || alen != blen || memcmp(a, b, alen))
		abort();
	f = open_memstream(&h, &hlen);
	if (!f)
		abort();
	if (fmt_template_header(t, fuzz_header, f, &e) < 0)
		err_free(&e);
	fclose(f);
	f = open_memstream(&tab, &tlen);
	if (!f)
		abort();
	if (fmt_table_write(f, (char *const[]){h, a}, 2, &e) < 0)
		err_free(&e);
	fclose(f);
	free(a);
	free(b);
	free(h);
	free(tab);
	fmt_template_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t half = size / 2;
	char *src, *unescaped;
	json_t *j;

	j = json_loadb((const char *)data + half, size - half, JSON_DECODE_ANY | JSON_ALLOW_NUL,
		       NULL);
	if (!j)
		return 0;
	src = malloc(half + 1);
	if (!src)
		abort();
	memcpy(src, data, half);
	src[half] = 0;
	fuzz_template(src, j);
	unescaped = fmt_unescape(src);
	if (!unescaped)
		abort();
	if (strcmp(unescaped, src))
		fuzz_template(unescaped, j);
	free(unescaped);
	free(src);
	json_decref(j);
	return 0;
}
