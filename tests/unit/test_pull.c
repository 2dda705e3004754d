/*
 * tests/unit/test_pull.c - the pure parts of pull/push/save (platform
 * parsing and selection from an index, config history, RFC 3339 times)
 * and the store side of tag, save and history on a SQUASH store in a
 * mkdtemp() root: a saved archive is read back member by member and
 * loaded into a second store, and every refusal leaves the store as it
 * was. Registry transfers are tested by tests/integration/registry*.bats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "image/image.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* ---- platforms ---- */

static void test_platform_parse(void **state)
{
	static const char *const in[][2] = {
	    {"linux/amd64", "linux/amd64"},
	    {"linux/x86_64", "linux/amd64"},
	    {"Linux/X86-64", "linux/amd64"},
	    {"linux/amd64/v1", "linux/amd64"},
	    {"linux/amd64/v3", "linux/amd64/v3"},
	    {"linux/aarch64", "linux/arm64"},
	    {"linux/arm64/v8", "linux/arm64"},
	    {"linux/arm64/8", "linux/arm64"},
	    {"linux/arm", "linux/arm/v7"},
	    {"linux/arm/7", "linux/arm/v7"},
	    {"linux/arm/6", "linux/arm/v6"},
	    {"linux/armhf", "linux/arm/v7"},
	    {"linux/armel", "linux/arm/v6"},
	    {"linux/i386", "linux/386"},
	    {"arm64", "linux/arm64"},
	    {"windows/amd64", "windows/amd64"},
	    {"macos/arm64", "darwin/arm64"},
	    {"linux/ppc64le", "linux/ppc64le"},
	};
	static const char *const bad[] = {"",
					  "/",
					  "linux/",
					  "/amd64",
					  "linux//amd64",
					  "linux/amd64/v8/x",
					  "linux/am d64",
					  "linux/amd64/",
					  "lin$ux/amd64"};
	struct image_platform p;
	struct err *err = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		char *s;
		assert_int_equal(image_platform_parse(in[i][0], &p, &err), 0);
		s = image_platform_string(&p);
		assert_string_equal(s, in[i][1]);
		free(s);
		image_platform_clear(&p);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(image_platform_parse(bad[i], &p, &err) < 0);
		assert_non_null(strstr(err->msg, "platform"));
		assert_null(p.os);
		err_free(&err);
	}
	assert_true(image_platform_parse(NULL, &p, &err) < 0);
	err_free(&err);

	/* A lone os means this host's architecture. */
	assert_int_equal(image_platform_parse("linux", &p, &err), 0);
	assert_string_equal(p.architecture, image_host_arch());
	image_platform_clear(&p);
	assert_int_equal(image_platform_host(&p, &err), 0);
	assert_string_equal(p.os, "linux");
	image_platform_clear(&p);
}

#define ENTRY(d, plat) \
	"{\"mediaType\":\"" IMAGE_MT_OCI_MANIFEST "\",\"digest\":\"" d "\",\"size\":100" plat "}"
#define PLAT(os, arch, var) ",\"platform\":{\"os\":\"" os "\",\"architecture\":\"" arch "\"" var "}"
#define VAR(v) ",\"variant\":\"" v "\""
#define ATTEST ",\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"}"

/* The entry of index J that WANT selects; -1 when none. */
static int select_in(const char *j, const char *want, char **msg)
{
	struct image_index *ix = NULL;
	struct image_platform p;
	struct err *err = NULL;
	size_t pick = 99;
	int r;

	assert_int_equal(image_index_decode(j, strlen(j), IMAGE_MT_OCI_INDEX, &ix, &err), 0);
	assert_int_equal(image_platform_parse(want, &p, &err), 0);
	r = image_platform_select(ix, &p, &pick, &err);
	if (msg)
		*msg = r < 0 ? strdup(err->msg) : NULL;
	err_free(&err);
	image_platform_clear(&p);
	image_index_free(ix);
	return r < 0 ? -1 : (int)pick;
}

static void test_platform_select(void **state)
{
	const char *multi = "{\"schemaVersion\":2,\"manifests\":["
	    /* 0 */ ENTRY(D1, PLAT("linux", "amd64", "") ATTEST) ","
	    /* 1 */ ENTRY(D1, PLAT("linux", "arm", VAR("v6"))) ","
	    /* 2 */ ENTRY(D1, PLAT("linux", "arm64", VAR("v8"))) ","
	    /* 3 */ ENTRY(D1, PLAT("linux", "amd64", "")) ","
	    /* 4 */ ENTRY(D1, PLAT("linux", "arm", VAR("v7"))) ","
	    /* 5 */ ENTRY(D1, PLAT("windows", "amd64", "")) ","
	    /* 6 */ ENTRY(D1, PLAT("linux", "amd64", VAR("v3"))) "]}";
	const char *v6only = "{\"schemaVersion\":2,\"manifests\":[" ENTRY(
	    D1, PLAT("linux", "arm", VAR("v5"))) "," ENTRY(D2,
							   PLAT("linux", "arm", VAR("v6"))) "]}";
	const char *noplat = "{\"schemaVersion\":2,\"manifests\":[" ENTRY(D1, "") "," ENTRY(
	    D2, PLAT("linux", "s390x", "")) "]}";
	char *msg = NULL;

	/* The attestation entry is never chosen, even listed first. */
	assert_int_equal(select_in(multi, "linux/amd64", NULL), 3);
	assert_int_equal(select_in(multi, "linux/x86_64", NULL), 3);
	/* arm64 with or without v8 is the same platform. */
	assert_int_equal(select_in(multi, "linux/arm64", NULL), 2);
	assert_int_equal(select_in(multi, "linux/arm64/v8", NULL), 2);
	/* The variant matters for arm: exact first... */
	assert_int_equal(select_in(multi, "linux/arm/v7", NULL), 4);
	assert_int_equal(select_in(multi, "linux/arm/v6", NULL), 1);
	/* ...then the best older one (v8 CPUs run v7 code, not the reverse). */
	assert_int_equal(select_in(multi, "linux/arm/v8", NULL), 4);
	assert_int_equal(select_in(v6only, "linux/arm/v7", NULL), 1);
	assert_int_equal(select_in(v6only, "linux/arm/v5", NULL), 0);
	assert_int_equal(select_in(v6only, "linux/arm/v8", NULL), 1);
	/* amd64 micro-architecture levels, likewise. */
	assert_int_equal(select_in(multi, "linux/amd64/v3", NULL), 6);
	assert_int_equal(select_in(multi, "linux/amd64/v4", NULL), 6);
	assert_int_equal(select_in(multi, "windows/amd64", NULL), 5);
	/* An entry without a platform is the last resort. */
	assert_int_equal(select_in(noplat, "linux/s390x", NULL), 1);
	assert_int_equal(select_in(noplat, "linux/riscv64", NULL), 0);

	/* No match: Docker's message, with what there is. */
	assert_int_equal(select_in(multi, "linux/ppc64le", &msg), -1);
	assert_non_null(strstr(msg, "no matching manifest for linux/ppc64le"));
	assert_non_null(strstr(msg, "linux/arm/v6, linux/arm64/v8, linux/amd64, linux/arm/v7"));
	assert_null(strstr(msg, "attestation"));
	free(msg);
	assert_int_equal(select_in(v6only, "linux/arm/v4", &msg), -1);
	free(msg);
	assert_int_equal(select_in(multi, "darwin/arm64", NULL), -1);
	assert_int_equal(select_in("{\"schemaVersion\":2,\"manifests\":[]}", "linux/amd64", &msg),
			 -1);
	assert_non_null(strstr(msg, "available: none"));
	free(msg);
}

/* ---- history and times ---- */

static void test_time_parse(void **state)
{
	int64_t t;

	assert_int_equal(image_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(image_time_parse("2024-01-02T03:04:05.123456789Z", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(image_time_parse("2024-01-02T04:04:05+01:00", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(image_time_parse("2024-01-01T22:04:05-05:00", &t), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(image_time_parse("2000-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 951782400);
	assert_true(image_time_parse("0001-01-01T00:00:00Z", &t) == 0 && t < 0);
	assert_true(image_time_parse("2024-01-02 03:04:05Z", &t) < 0);
	assert_true(image_time_parse("2024-13-02T03:04:05Z", &t) < 0);
	assert_true(image_time_parse("2024-01-02T03:04:05", &t) < 0);
	assert_true(image_time_parse("2024-01-02T03:04:05.Z", &t) < 0);
	assert_true(image_time_parse("2024-01-02T03:04:05Zjunk", &t) < 0);
	assert_true(image_time_parse("", &t) < 0);
	assert_true(image_time_parse(NULL, &t) < 0);
}

static int hist(const char *j, struct image_history_entry **h, size_t *n)
{
	struct err *err = NULL;
	int r = image_history_decode(j, strlen(j), h, n, &err);

	if (r < 0)
		print_message("  (%s)\n", err->msg);
	err_free(&err);
	return r;
}

static void test_history_decode(void **state)
{
	struct image_history_entry *h = NULL;
	size_t n = 9;
	static const char *const bad[] = {
	    "[]",
	    "{\"history\":{}}",
	    "{\"history\":[1]}",
	    "{\"history\":[{\"created_by\":1}]}",
	    "{\"history\":[{\"comment\":[]}]}",
	    "{\"history\":[{\"empty_layer\":\"yes\"}]}",
	    "{\"history\":[{\"created\":\"a\",\"created\":\"b\"}]}",
	    "{\"history\":[]} x",
	};

	assert_int_equal(
	    hist("{\"history\":[{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"/bin/sh "
		 "-c #(nop) ADD file:x in /\"},{\"created\":\"garbage\",\"created_by\":\"CMD "
		 "[\\\"sh\\\"]\",\"empty_layer\":true,\"comment\":\"buildkit\",\"author\":\"x\"}],"
		 "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
		 &h, &n),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(h[0].created, 1704164645);
	assert_string_equal(h[0].created_by, "/bin/sh -c #(nop) ADD file:x in /");
	assert_false(h[0].empty_layer);
	assert_null(h[0].comment);
	assert_int_equal(h[1].created, 0); /* unreadable time: unknown, not an error */
	assert_true(h[1].empty_layer);
	assert_string_equal(h[1].comment, "buildkit");
	assert_string_equal(h[1].created_by, "CMD [\"sh\"]");
	image_history_free(h, n);

	assert_int_equal(hist("{\"rootfs\":{}}", &h, &n), 0);
	assert_int_equal(n, 0);
	assert_null(h);
	assert_int_equal(hist("{\"history\":null}", &h, &n), 0);
	assert_int_equal(n, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(hist(bad[i], &h, &n) < 0);
		assert_null(h);
		assert_int_equal(n, 0);
	}
}

/* ---- the store: tag, save, history, export ---- */

struct fixture {
	char dir[64];
	char root[128], root2[128];
	struct image_store *s;
	char *id;
};

static const struct image_idmode squash = {.kind = IMAGE_IDS_SQUASH};

static int setup_store(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct err *err = NULL;

	if (access("/bin/busybox", X_OK) < 0) {
		free(f);
		*state = NULL;
		return 0;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/moat-ut-pull-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/store", f->dir);
	snprintf(f->root2, sizeof(f->root2), "%s/store2", f->dir);
	if (image_store_open(f->root, &squash, &f->s, &err) < 0 ||
	    image_demo_create(f->s, "demo:latest", NULL, NULL, &err) < 0 ||
	    image_store_lookup(f->s, "demo", &f->id, &err) < 0) {
		print_message("setup: %s\n", err->msg);
		err_free(&err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown_store(void **state)
{
	struct fixture *f = *state;
	struct err *err = NULL;

	if (!f)
		return 0;
	image_store_close(f->s);
	fs_rm_rf_at(AT_FDCWD, f->dir, &err);
	err_free(&err);
	free(f->id);
	free(f);
	return 0;
}

/* The names of the store, sorted, as one string: what must not change. */
static char *names_of_store(struct image_store *s)
{
	struct image **v = NULL;
	struct err *err = NULL;
	char *out = strdup("");
	size_t n = 0;

	assert_int_equal(image_store_list(s, &v, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		for (char **nm = v[i]->names; nm && *nm; nm++) {
			char *o = NULL;
			assert_true(asprintf(&o, "%s%s=%.19s ", out, *nm, v[i]->id) > 0);
			free(out);
			out = o;
		}
		image_free(v[i]);
	}
	free(v);
	return out;
}

static void test_tag(void **state)
{
	struct fixture *f = *state;
	struct err *err = NULL;
	char *id = NULL, *before, *after;

	if (!f)
		skip();
	assert_int_equal(image_store_tag(f->s, "demo", "x/y:1", &err), 0);
	assert_int_equal(image_store_lookup(f->s, "x/y:1", &id, &err), 0);
	assert_string_equal(id, f->id);
	free(id);
	/* Docker's spelling of a Hub name becomes the familiar one. */
	assert_int_equal(image_store_tag(f->s, f->id, "docker.io/library/other", &err), 0);
	assert_int_equal(image_store_lookup(f->s, "other:latest", &id, &err), 0);
	free(id);
	assert_int_equal(image_store_tag(f->s, "demo", "localhost:5000/ns/app:v2", &err), 0);
	assert_int_equal(image_store_lookup(f->s, "localhost:5000/ns/app:v2", &id, &err), 0);
	free(id);
	/* Re-pointing an existing name is allowed (Docker moves the tag). */
	assert_int_equal(image_store_tag(f->s, "demo", "x/y:1", &err), 0);

	before = names_of_store(f->s);
	assert_non_null(strstr(before, "other:latest="));
	assert_non_null(strstr(before, "localhost:5000/ns/app:v2="));
	assert_int_equal(image_store_tag(f->s, "nope", "z:1", &err), -ENOENT);
	assert_non_null(strstr(err->msg, "nope"));
	err_free(&err);
	assert_true(image_store_tag(f->s, "demo", "Upper:1", &err) < 0);
	err_free(&err);
	assert_true(image_store_tag(f->s, "demo", "a:b:c", &err) < 0);
	err_free(&err);
	assert_true(image_store_tag(f->s, "demo", "", &err) < 0);
	err_free(&err);
	assert_int_equal(image_store_tag(f->s, "demo", "x@" D1, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "digest"));
	err_free(&err);
	after = names_of_store(f->s);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* Member NAME of the tar in FD (NULL when absent); *N: members seen. */
static char *tar_member(int fd, const char *name, size_t *n)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *out = NULL;

	*n = 0;
	archive_read_support_format_tar(a);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(archive_read_open_fd(a, fd, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		(*n)++;
		if (strcmp(archive_entry_pathname(e), name))
			continue;
		size_t sz = (size_t)archive_entry_size(e);
		out = calloc(1, sz + 1);
		assert_int_equal(archive_read_data(a, out, sz), (la_ssize_t)sz);
	}
	archive_read_free(a);
	return out;
}

static int save(struct fixture *f, char **refs, struct err **err)
{
	int fd = memfd_create("save", MFD_CLOEXEC);

	assert_true(fd >= 0);
	if (image_store_save(f->s, refs, fd, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_save_layout(void **state)
{
	struct fixture *f = *state;
	struct err *err = NULL;
	char *refs[] = {"demo", "x/y:2", NULL}, *ix, *mj, *lay, *blob, path[96];
	json_t *j, *m;
	size_t n;
	int fd;

	if (!f)
		skip();
	assert_int_equal(image_store_tag(f->s, "demo", "x/y:2", &err), 0);
	fd = save(f, refs, &err);
	assert_true(fd >= 0);

	lay = tar_member(fd, "oci-layout", &n);
	assert_string_equal(lay, "{\"imageLayoutVersion\":\"1.0.0\"}");
	/* blobs/, blobs/sha256/, layer, config, manifest, 3 metadata files */
	assert_int_equal(n, 8);
	snprintf(path, sizeof(path), "blobs/sha256/%s", f->id + 7);
	blob = tar_member(fd, path, &n);
	assert_non_null(blob);
	{
		char hex[65];
		digest_sha256_hex(blob, strlen(blob), hex);
		assert_string_equal(hex, f->id + 7);
	}

	/* One image asked for under two names: two index entries, each with
	 * Docker's annotations, and one manifest.json entry with both tags. */
	ix = tar_member(fd, "index.json", &n);
	j = json_loads(ix, 0, NULL);
	assert_non_null(j);
	m = json_object_get(j, "manifests");
	assert_int_equal(json_array_size(m), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_array_get(m, 0), "annotations"),
					      "io.containerd.image.name")),
	    "docker.io/library/demo:latest");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_array_get(m, 0), "annotations"),
					      "org.opencontainers.image.ref.name")),
	    "latest");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(json_array_get(m, 1), "annotations"),
					      "io.containerd.image.name")),
	    "docker.io/x/y:2");
	json_decref(j);

	mj = tar_member(fd, "manifest.json", &n);
	j = json_loads(mj, 0, NULL);
	assert_int_equal(json_array_size(j), 1);
	m = json_array_get(j, 0);
	snprintf(path, sizeof(path), "blobs/sha256/%s", f->id + 7);
	assert_string_equal(json_string_value(json_object_get(m, "Config")), path);
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "RepoTags"), 0)),
			    "demo:latest");
	assert_string_equal(json_string_value(json_array_get(json_object_get(m, "RepoTags"), 1)),
			    "x/y:2");
	assert_int_equal(json_array_size(json_object_get(m, "Layers")), 1);
	json_decref(j);
	free(ix);
	free(mj);
	free(lay);
	free(blob);
	close(fd);

	/* By id: no names anywhere. */
	refs[0] = f->id;
	refs[1] = NULL;
	fd = save(f, refs, &err);
	assert_true(fd >= 0);
	ix = tar_member(fd, "index.json", &n);
	assert_null(strstr(ix, "annotations"));
	mj = tar_member(fd, "manifest.json", &n);
	assert_non_null(strstr(mj, "\"RepoTags\":[]"));
	free(ix);
	free(mj);
	close(fd);
}

static void test_save_load_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct image_store *s2 = NULL;
	struct image *img = NULL;
	struct err *err = NULL;
	char *refs[] = {"demo:latest", NULL}, **names = NULL, *id = NULL;
	int fd;

	if (!f)
		skip();
	fd = save(f, refs, &err);
	assert_true(fd >= 0);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(image_store_open(f->root2, &squash, &s2, &err), 0);
	assert_int_equal(image_store_load(s2, fd, &names, &err), 0);
	assert_non_null(names[0]);
	assert_null(names[1]);
	/* The same image (config digest) and it resolves by its short name. */
	assert_int_equal(image_store_lookup(s2, "demo", &id, &err), 0);
	assert_string_equal(id, f->id);
	assert_int_equal(image_store_resolve(s2, "demo", &img, &err), 0);
	assert_int_equal(img->n_layers, 1);
	image_free(img);
	/* Whatever spelling the load kept, a tag of the familiar name
	 * replaces it: one name, not two for one reference. */
	assert_int_equal(image_store_tag(s2, "demo", "demo:latest", &err), 0);
	{
		char *nn = names_of_store(s2);
		char expect[128];
		snprintf(expect, sizeof(expect), "demo:latest=%.19s ", f->id);
		assert_string_equal(nn, expect);
		free(nn);
	}
	strvfree(names);
	free(id);
	close(fd);
	image_store_close(s2);
}

static void test_save_refused(void **state)
{
	struct fixture *f = *state;
	struct err *err = NULL;
	char *refs[] = {"demo", "nope:1", NULL}, *empty[] = {NULL};
	int fd = memfd_create("save", MFD_CLOEXEC);
	struct stat st;

	if (!f)
		skip();
	assert_int_equal(image_store_save(f->s, refs, fd, &err), -ENOENT);
	assert_non_null(strstr(err->msg, "nope:1"));
	err_free(&err);
	/* Nothing was written before every image was found. */
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(image_store_save(f->s, empty, fd, &err), -EINVAL);
	err_free(&err);
	close(fd);
}

static void test_export_manifest(void **state)
{
	struct fixture *f = *state;
	struct image_export *x = NULL;
	struct err *err = NULL;
	char path[256], stored[72];
	int fd;

	if (!f)
		skip();
	assert_int_equal(image_store_export_open(f->s, "demo", &x, &err), 0);
	assert_string_equal(x->id, f->id);
	assert_string_equal(x->manifest_type, IMAGE_MT_OCI_MANIFEST);
	assert_int_equal(x->n_layers, 1);
	assert_true(x->layers[0].fd >= 0);
	assert_true(x->config.size > 0);
	assert_string_equal(x->names[0], "demo:latest");
	snprintf(stored, sizeof(stored), "%s", x->manifest_digest);
	image_export_free(x);

	/* Without its manifest blob, one is built from the record: for the
	 * demo image it is the very same document. */
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", f->root, stored + 7);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(image_store_export_open(f->s, "demo", &x, &err), 0);
	assert_string_equal(x->manifest_digest, stored);
	image_export_free(x);

	/* A corrupt stored manifest is refused, not pushed or saved. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{}", 2), 2);
	close(fd);
	assert_int_equal(image_store_export_open(f->s, "demo", &x, &err), -EIO);
	assert_non_null(strstr(err->msg, "corrupt"));
	assert_null(x);
	err_free(&err);
	assert_int_equal(image_store_export_open(f->s, "nope", &x, &err), -ENOENT);
	err_free(&err);
}

static void test_history_store(void **state)
{
	struct fixture *f = *state;
	struct image_history_entry *h = NULL;
	struct image *img = NULL;
	struct err *err = NULL;
	char id[72];
	size_t n = 0;

	if (!f)
		skip();
	/* The demo config has no history: one entry for its one layer. */
	assert_int_equal(image_store_history(f->s, "demo", id, &h, &n, &err), 0);
	assert_string_equal(id, f->id);
	assert_int_equal(n, 1);
	assert_int_equal(image_store_resolve(f->s, "demo", &img, &err), 0);
	assert_int_equal(h[0].size, img->size);
	assert_true(h[0].size > 0);
	image_free(img);
	image_history_free(h, n);
	assert_int_equal(image_store_history(f->s, "nope", id, &h, &n, &err), -ENOENT);
	err_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_platform_parse),
	    cmocka_unit_test(test_platform_select),
	    cmocka_unit_test(test_time_parse),
	    cmocka_unit_test(test_history_decode),
	    cmocka_unit_test_setup_teardown(test_tag, setup_store, teardown_store),
	    cmocka_unit_test_setup_teardown(test_save_layout, setup_store, teardown_store),
	    cmocka_unit_test_setup_teardown(test_save_load_roundtrip, setup_store, teardown_store),
	    cmocka_unit_test_setup_teardown(test_save_refused, setup_store, teardown_store),
	    cmocka_unit_test_setup_teardown(test_export_manifest, setup_store, teardown_store),
	    cmocka_unit_test_setup_teardown(test_history_store, setup_store, teardown_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
