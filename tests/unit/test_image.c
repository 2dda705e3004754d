/*
 * tests/unit/test_image.c - image/: config and manifest decoding, layer
 * extraction against crafted hostile tars, the confined child it runs in
 * (its walls, and the parent's handling of a child that dies or lies),
 * the store round trip, image
 * records and their repo digests, and the sweep of what killed
 * transactions leave behind.
 *
 * Layers are built here with libarchive's write API into a memfd and
 * extracted in SQUASH mode into a mkdtemp() root; every attack test also
 * checks the host-side victim it aims at.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "image/image.h"
#include "image/internal.h"
#include "image/layer_confine.h"
#include "sandbox/landlock.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

/* ---- config ---- */

static int decode_cfg(const char *json, struct image_config **c)
{
	struct err *err = NULL;
	int r = image_config_decode(json, strlen(json), c, &err);

	if (r < 0)
		print_message("  (%s)\n", err->msg);
	err_free(&err);
	return r;
}

static void test_config_good(void **state)
{
	struct image_config *c = NULL;
	const char *j =
	    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{"
	    "\"Env\":[\"PATH=/bin\",\"A=b\"],\"Entrypoint\":[\"/e\"],\"Cmd\":[\"x\",\"y\"],"
	    "\"WorkingDir\":\"/w\",\"User\":\"1000:1000\",\"StopSignal\":\"SIGINT\","
	    "\"Volumes\":{\"/z\":{},\"/data\":{}},\"ExposedPorts\":{\"80/tcp\":{},"
	    "\"53/udp\":{}},\"Labels\":{\"k\":\"v\"}},"
	    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";

	assert_int_equal(decode_cfg(j, &c), 0);
	assert_string_equal(c->architecture, "amd64");
	assert_string_equal(c->env[1], "A=b");
	assert_null(c->env[2]);
	assert_string_equal(c->entrypoint[0], "/e");
	assert_string_equal(c->cmd[1], "y");
	assert_string_equal(c->workdir, "/w");
	assert_string_equal(c->user, "1000:1000");
	assert_string_equal(c->stop_signal, "SIGINT");
	assert_string_equal(c->volumes[0], "/data");
	assert_string_equal(c->volumes[1], "/z");
	assert_string_equal(c->exposed_ports[0], "53/udp");
	assert_int_equal(c->n_labels, 1);
	assert_string_equal(c->labels[0].value, "v");
	assert_int_equal(c->n_diff_ids, 2);
	assert_string_equal(c->diff_ids[1], D2);
	image_config_free(c);

	/* No "config" at all is fine; so is an empty layer list. */
	assert_int_equal(decode_cfg("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", &c), 0);
	assert_null(c->cmd);
	image_config_free(c);
}

static void test_config_bad(void **state)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"config\":{}}", /* no rootfs */
	    "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:abc\"]}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\", 3]}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Env\":\"A=b\"}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Cmd\":[1]}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"User\":0}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"Labels\":{\"a\":1}}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"ExposedPorts\":"
	    "{\"99999/tcp\":{}}}}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":{\"WorkingDir\":\"rel\"}"
	    "}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"os\":\"a\",\"os\":\"b\"}",
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}} trailing",
	};
	struct image_config *c = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(decode_cfg(bad[i], &c) < 0);
		assert_null(c);
	}
}

/* CVE-2022-23648: volume paths that could climb out of the rootfs. */
static void test_config_volumes(void **state)
{
	static const char *const bad[] = {"", "rel/dir", "/a/../../etc", "/..", "../x"};
	struct image_config *c = NULL;
	char j[512];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(j, sizeof(j),
			 "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
			 "\"config\":{\"Volumes\":{\"%s\":{}}}}",
			 bad[i]);
		assert_true(decode_cfg(j, &c) < 0);
	}
	assert_int_equal(decode_cfg("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},"
				    "\"config\":{\"Volumes\":{\"/a/..b/c\":{}}}}",
				    &c),
			 0);
	image_config_free(c);
}

static void test_config_oversized(void **state)
{
	size_t n = IMAGE_JSON_MAX + 1;
	char *buf = malloc(n);
	struct image_config *c = NULL;
	struct err *err = NULL;

	assert_non_null(buf);
	memset(buf, ' ', n);
	assert_int_equal(image_config_decode(buf, n, &c, &err), -EFBIG);
	err_free(&err);
	free(buf);
}

/* ---- manifests ---- */

#define LAYER(mt) "{\"mediaType\":\"" mt "\",\"digest\":\"" D2 "\",\"size\":10}"
#define OCI_MAN(extra, layer)                                                            \
	"{\"schemaVersion\":2," extra "\"config\":{\"mediaType\":\"" IMAGE_MT_OCI_CONFIG \
	"\",\"digest\":\"" D1 "\",\"size\":5},\"layers\":[" layer "]}"

static int decode_man(const char *j, const char *mt, struct image_manifest **m)
{
	struct err *err = NULL;
	int r = image_manifest_decode(j, strlen(j), mt, m, &err);

	if (r < 0)
		print_message("  (%s)\n", err->msg);
	err_free(&err);
	return r;
}

static int decode_ix(const char *j, const char *mt, struct image_index **ix)
{
	struct err *err = NULL;
	int r = image_index_decode(j, strlen(j), mt, ix, &err);

	if (r < 0)
		print_message("  (%s)\n", err->msg);
	err_free(&err);
	return r;
}

static void test_manifest_good(void **state)
{
	struct image_manifest *m = NULL;

	assert_int_equal(decode_man(OCI_MAN("\"mediaType\":\"" IMAGE_MT_OCI_MANIFEST "\",",
					    LAYER("application/vnd.oci.image.layer.v1.tar+gzip")),
				    IMAGE_MT_OCI_MANIFEST, &m),
			 0);
	assert_false(m->docker);
	assert_int_equal(m->n_layers, 1);
	assert_int_equal(m->layers[0].comp, IMAGE_LAYER_GZIP);
	assert_string_equal(m->config.digest, D1);
	image_manifest_free(m);

	assert_int_equal(
	    decode_man(OCI_MAN("\"mediaType\":\"" IMAGE_MT_DOCKER_MANIFEST "\",",
			       LAYER("application/vnd.docker.image.rootfs.diff.tar.gzip") "," LAYER(
				   "application/vnd.oci.image.layer.v1.tar+zstd")),
		       NULL, &m),
	    0);
	assert_true(m->docker);
	assert_int_equal(m->layers[1].comp, IMAGE_LAYER_ZSTD);
	image_manifest_free(m);

	/* An OCI manifest may omit mediaType. */
	assert_int_equal(decode_man(OCI_MAN("", LAYER("application/vnd.oci.image.layer.v1.tar")),
				    IMAGE_MT_OCI_MANIFEST, &m),
			 0);
	assert_int_equal(m->layers[0].comp, IMAGE_LAYER_TAR);
	image_manifest_free(m);
}

static void test_manifest_bad(void **state)
{
	struct image_manifest *m = NULL;
	struct image_index *ix = NULL;

	/* CVE-2021-41190: manifests together with layers/config. */
	assert_true(decode_man("{\"schemaVersion\":2,\"manifests\":[],\"config\":{\"mediaType\":"
			       "\"x\",\"digest\":\"" D1 "\",\"size\":1},\"layers\":[]}",
			       NULL, &m) < 0);
	assert_true(decode_ix("{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}", NULL, &ix) <
		    0);
	assert_true(decode_ix("{\"schemaVersion\":2,\"manifests\":[],\"config\":{}}", NULL, &ix) <
		    0);
	/* schema1, by media type and by shape. */
	assert_true(decode_man("{\"schemaVersion\":1,\"fsLayers\":[],\"name\":\"x\"}", NULL, &m) <
		    0);
	assert_true(decode_man("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker."
			       "distribution.manifest.v1+prettyjws\"}",
			       NULL, &m) < 0);
	/* mediaType disagreeing with the descriptor. */
	assert_true(decode_man(OCI_MAN("\"mediaType\":\"" IMAGE_MT_DOCKER_MANIFEST "\",",
				       LAYER("application/vnd.oci.image.layer.v1.tar")),
			       IMAGE_MT_OCI_MANIFEST, &m) < 0);
	assert_true(decode_man(OCI_MAN("\"mediaType\":\"" IMAGE_MT_OCI_INDEX "\",",
				       LAYER("application/vnd.oci.image.layer.v1.tar")),
			       NULL, &m) < 0);
	/* Unknown layer media type, bad digest, negative size. */
	assert_true(decode_man(OCI_MAN("", LAYER("application/x-evil")), NULL, &m) < 0);
	assert_true(decode_man(OCI_MAN("", "{\"mediaType\":\"application/vnd.oci.image.layer.v1."
					   "tar\",\"digest\":\"sha256:ABC\",\"size\":1}"),
			       NULL, &m) < 0);
	assert_true(decode_man(OCI_MAN("", "{\"mediaType\":\"application/vnd.oci.image.layer.v1."
					   "tar\",\"digest\":\"" D2 "\",\"size\":-1}"),
			       NULL, &m) < 0);
	assert_true(decode_man(OCI_MAN("", "{\"mediaType\":\"application/vnd.oci.image.layer.v1."
					   "tar\",\"digest\":\"" D2 "\",\"size\":1.5}"),
			       NULL, &m) < 0);
	assert_true(decode_man("{\"schemaVersion\":3,\"layers\":[]}", NULL, &m) < 0);
	assert_null(m);
}

static void test_index(void **state)
{
	struct image_index *ix = NULL;
	const char *j = "{\"schemaVersion\":2,\"mediaType\":\"" IMAGE_MT_OCI_INDEX
			"\",\"manifests\":[{\"mediaType\":\"" IMAGE_MT_OCI_MANIFEST
			"\",\"digest\":\"" D1 "\",\"size\":7,\"platform\":{\"architecture\":"
			"\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"},\"annotations\":{"
			"\"org.opencontainers.image.ref.name\":\"latest\"}}]}";

	assert_int_equal(decode_ix(j, IMAGE_MT_OCI_INDEX, &ix), 0);
	assert_int_equal(ix->n_manifests, 1);
	assert_true(ix->manifests[0].has_platform);
	assert_string_equal(ix->manifests[0].platform.variant, "v8");
	assert_string_equal(
	    image_descriptor_annotation(&ix->manifests[0], "org.opencontainers.image.ref.name"),
	    "latest");
	image_index_free(ix);
	assert_true(decode_ix(j, IMAGE_MT_DOCKER_LIST, &ix) < 0);
	assert_true(decode_ix("{\"schemaVersion\":2,\"manifests\":{}}", NULL, &ix) < 0);
}

static void test_save_manifest(void **state)
{
	struct image_save_manifest *m = NULL;
	struct err *err = NULL;
	const char *good = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"a:1\"],\"Layers\":[\"l/"
			   "layer.tar\"]},{\"Config\":\"d.json\",\"RepoTags\":null,\"Layers\":[]}]";

	assert_int_equal(image_save_manifest_decode(good, strlen(good), &m, &err), 0);
	assert_int_equal(m->n_entries, 2);
	assert_string_equal(m->entries[0].repo_tags[0], "a:1");
	assert_null(m->entries[1].repo_tags[0]);
	image_save_manifest_free(m);
	assert_true(image_save_manifest_decode("{}", 2, &m, &err) < 0);
	err_free(&err);
	assert_true(image_save_manifest_decode("[{\"Layers\":[]}]", 15, &m, &err) < 0);
	err_free(&err);
}

static void test_ref_normalize(void **state)
{
	static const char *const in[] = {"demo", "demo:1", "localhost/x:tag",
					 "docker.io/library/busybox:1.36", "localhost:5000/a/b"};
	static const char *const out[] = {"demo:latest", "demo:1", "localhost/x:tag",
					  "docker.io/library/busybox:1.36",
					  "localhost:5000/a/b:latest"};
	static const char *const bad[] = {
	    "", "UPPER", "a@sha256:00", "a:", "a:b:c", "/a", "a//b", "a:-x"};
	struct err *err = NULL;
	char *n = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		assert_int_equal(image_ref_normalize(in[i], &n, &err), 0);
		assert_string_equal(n, out[i]);
		free(n);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(image_ref_normalize(bad[i], &n, &err) < 0);
		err_free(&err);
	}
}

/* ---- records and repo digests (pure) ---- */

#define HEX1 "1111111111111111111111111111111111111111111111111111111111111111"

static int decode_rec(const char *repo_digests, struct store_record *r)
{
	char buf[32768];
	struct err *err = NULL;
	int ret;

	snprintf(buf, sizeof(buf),
		 "{\"id\":\"" D1 "\",\"manifest\":\"" D2 "\",\"created\":1,\"size\":2,"
		 "\"layers\":[{\"digest\":\"" D2 "\",\"media_type\":\"x\",\"diff_id\":\"" D1
		 "\",\"size\":3}]%s%s}",
		 repo_digests ? ",\"repo_digests\":" : "", repo_digests ? repo_digests : "");
	ret = store_record_decode(buf, strlen(buf), HEX1, "t.json", r, &err);
	if (ret < 0)
		print_message("  (%s)\n", err->msg);
	err_free(&err);
	return ret;
}

static void test_repo_digest_make(void **state)
{
	static const char *const in[][2] = {
	    {"busybox:1.36", D1},
	    {"docker.io/library/busybox@" D2, NULL},
	    {"index.docker.io/library/busybox:latest@" D2, NULL},
	    {"ns/app", D1},
	    {"localhost:5000/ns/app:v1", D1},
	};
	static const char *const out[] = {"busybox@" D1, "busybox@" D2, "busybox@" D2, "ns/app@" D1,
					  "localhost:5000/ns/app@" D1};
	static const char *const bad[][2] = {
	    {"x:1", NULL}, {"UPPER", D1}, {"x", "sha256:abc"}, {"", D1}, {"x@sha256:00", NULL}};
	struct err *err = NULL;
	char *rd = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(in); i++) {
		assert_int_equal(store_repo_digest_make(in[i][0], in[i][1], &rd, &err), 0);
		assert_string_equal(rd, out[i]);
		free(rd);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_true(store_repo_digest_make(bad[i][0], bad[i][1], &rd, &err) < 0);
		assert_null(rd);
		err_free(&err);
	}
}

static void test_record_repo_digests(void **state)
{
	struct store_record r, back;
	struct err *err = NULL;
	char *txt = NULL, big[32768];
	size_t o;

	/* A record from before repo digests: none, and it encodes without. */
	assert_int_equal(decode_rec(NULL, &r), 0);
	assert_true(!r.repo_digests || !r.repo_digests[0]);
	assert_int_equal(store_record_encode(&r, &txt, &err), 0);
	assert_null(strstr(txt, "repo_digests"));
	free(txt);

	/* Added, kept once, encoded and decoded back. */
	assert_int_equal(store_record_add_repo_digest(&r, "x@" D2, &err), 1);
	assert_int_equal(store_record_add_repo_digest(&r, "x@" D2, &err), 0);
	assert_int_equal(store_record_add_repo_digest(&r, "localhost:5000/y@" D1, &err), 1);
	assert_true(store_record_add_repo_digest(&r, "docker.io/library/x@" D1, &err) < 0);
	err_free(&err);
	assert_true(store_record_add_repo_digest(&r, "x:1@" D1, &err) < 0);
	err_free(&err);
	assert_int_equal(store_record_encode(&r, &txt, &err), 0);
	assert_int_equal(store_record_decode(txt, strlen(txt), HEX1, "t.json", &back, &err), 0);
	free(txt);
	assert_string_equal(back.repo_digests[0], "x@" D2);
	assert_string_equal(back.repo_digests[1], "localhost:5000/y@" D1);
	assert_null(back.repo_digests[2]);
	assert_true(store_record_has_repo_digest(&back, "x@" D2));
	assert_int_equal(store_record_del_repo_digest(&back, "x@" D2), 1);
	assert_int_equal(store_record_del_repo_digest(&back, "x@" D2), 0);
	assert_string_equal(back.repo_digests[0], "localhost:5000/y@" D1);
	assert_null(back.repo_digests[1]);
	store_record_clear(&back);

	/* Full: the oldest go (the two above, r0..r4), the record stays
	 * decodable. */
	for (unsigned i = 0; i < STORE_REPO_DIGESTS_MAX + 5; i++) {
		char rd[128];
		snprintf(rd, sizeof(rd), "r%u@" D1, i);
		assert_true(store_record_add_repo_digest(&r, rd, &err) >= 0);
	}
	assert_string_equal(r.repo_digests[0], "r5@" D1);
	assert_string_equal(r.repo_digests[STORE_REPO_DIGESTS_MAX - 1], "r260@" D1);
	assert_null(r.repo_digests[STORE_REPO_DIGESTS_MAX]);
	assert_int_equal(store_record_encode(&r, &txt, &err), 0);
	assert_int_equal(store_record_decode(txt, strlen(txt), HEX1, "t.json", &back, &err), 0);
	free(txt);
	store_record_clear(&back);
	store_record_clear(&r);

	/* Strict: what a moat never writes is refused. */
	assert_int_equal(decode_rec("[]", &r), 0);
	store_record_clear(&r);
	assert_int_equal(decode_rec("null", &r), 0);
	store_record_clear(&r);
	assert_true(decode_rec("\"x@" D1 "\"", &r) < 0);
	assert_true(decode_rec("[1]", &r) < 0);
	assert_true(decode_rec("[\"x\"]", &r) < 0);
	assert_true(decode_rec("[\"x@sha256:abc\"]", &r) < 0);
	assert_true(decode_rec("[\"docker.io/library/x@" D1 "\"]", &r) < 0);
	assert_true(decode_rec("[\"x:1@" D1 "\"]", &r) < 0);
	assert_true(decode_rec("[\"X@" D1 "\"]", &r) < 0);
	assert_true(decode_rec("[\"x@" D1 "\",\"x@" D1 "\"]", &r) < 0);
	o = (size_t)snprintf(big, sizeof(big), "[");
	for (unsigned i = 0; i <= STORE_REPO_DIGESTS_MAX; i++)
		o +=
		    (size_t)snprintf(big + o, sizeof(big) - o, "%s\"r%u@" D1 "\"", i ? "," : "", i);
	snprintf(big + o, sizeof(big) - o, "]");
	assert_true(decode_rec(big, &r) < 0);
}

/* ---- layers ---- */

struct ent {
	const char *name;
	mode_t type; /* AE_IF*, 0 = hardlink */
	mode_t mode;
	const char *data; /* file content, or link target */
	unsigned dev_major, dev_minor;
	const char *xattr; /* "name=value" */
	unsigned uid;
};

static la_ssize_t mem_write(struct archive *a, void *fdp, const void *buf, size_t len)
{
	return fs_write_all(*(int *)fdp, buf, len) == 0 ? (la_ssize_t)len : -1;
}

/* A tar (gzip with GZ) of ENTS in a memfd, rewound; HEX = its sha256
 * (of the uncompressed tar when GZ is false). */
static int make_tar(const struct ent *ents, size_t n, bool gz, char hex[65])
{
	struct archive *a = archive_write_new();
	int fd = memfd_create("layer", MFD_CLOEXEC);

	assert_true(fd >= 0);
	archive_write_set_format_pax_restricted(a);
	/* No padding to a 10 KiB block, gzip or not: the same bytes inside. */
	archive_write_set_bytes_in_last_block(a, 1);
	if (gz)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open(a, &fd, NULL, mem_write, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct ent *x = &ents[i];

		archive_entry_set_pathname(e, x->name);
		archive_entry_set_perm(e, x->mode ? x->mode : 0644);
		archive_entry_set_uid(e, x->uid);
		archive_entry_set_gid(e, x->uid);
		archive_entry_set_mtime(e, 1000000, 0);
		if (x->type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, x->data);
		} else {
			archive_entry_set_filetype(e, x->type);
		}
		if (x->type == AE_IFLNK)
			archive_entry_set_symlink(e, x->data);
		if (x->type == AE_IFCHR || x->type == AE_IFBLK)
			archive_entry_set_rdev(e, makedev(x->dev_major, x->dev_minor));
		if (x->xattr) {
			const char *eq = strchr(x->xattr, '=');
			char name[128];
			snprintf(name, sizeof(name), "%.*s", (int)(eq - x->xattr), x->xattr);
			archive_entry_xattr_add_entry(e, name, eq + 1, strlen(eq + 1));
		}
		if (x->type == AE_IFREG && x->data)
			archive_entry_set_size(e, (la_int64_t)strlen(x->data));
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (x->type == AE_IFREG && x->data)
			archive_write_data(a, x->data, strlen(x->data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	if (hex) {
		struct err *err = NULL;
		assert_int_equal(store_hash_fd(fd, hex, NULL, &err), 0);
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

struct fixture {
	char root[64];	 /* the layer root */
	char victim[64]; /* host files an attack aims at */
	int rootfd;
};

static int setup_dirs(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	snprintf(f->root, sizeof(f->root), "/tmp/moat-ut-root-XXXXXX");
	snprintf(f->victim, sizeof(f->victim), "/tmp/moat-ut-victim-XXXXXX");
	if (!mkdtemp(f->root) || !mkdtemp(f->victim))
		return -1;
	f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = openat(open(f->victim, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "secret",
		    O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "host\n", 5) != 5)
		return -1;
	close(fd);
	chmod(f->victim, 0755);
	*state = f;
	return 0;
}

static int teardown_dirs(void **state)
{
	struct fixture *f = *state;
	struct err *err = NULL;

	close(f->rootfd);
	fs_rm_rf_at(AT_FDCWD, f->root, &err);
	fs_rm_rf_at(AT_FDCWD, f->victim, &err);
	err_free(&err);
	free(f);
	return 0;
}

static const struct image_idmode squash = {.kind = IMAGE_IDS_SQUASH};

static int extract(struct fixture *f, const struct ent *ents, size_t n, const char *diff,
		   const struct image_layer_limits *lim, struct image_layer_stats *st)
{
	struct image_layer_stats dummy;
	struct err *err = NULL;
	int fd = make_tar(ents, n, false, NULL);
	int r = image_layer_extract(fd, f->rootfd, &squash, diff, lim, st ? st : &dummy, &err);

	if (r < 0)
		print_message("  (%s)\n", err->msg);
	err_free(&err);
	close(fd);
	return r;
}

/* The victim dir still holds exactly "secret", unchanged. */
static void assert_victim(struct fixture *f)
{
	char p[128], buf[16] = {0};
	struct stat st;
	int fd;

	snprintf(p, sizeof(p), "%s/secret", f->victim);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
	assert_string_equal(buf, "host\n");
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_nlink, 1);
	close(fd);
	assert_int_equal(stat(f->victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void test_layer_names(void **state)
{
	struct fixture *f = *state;
	char abs[128];

	snprintf(abs, sizeof(abs), "%s/abs", f->victim);
	const struct ent dotdot[] = {{.name = "../x", .type = AE_IFREG, .mode = 0644, .data = "x"}};
	const struct ent absolute[] = {{.name = abs, .type = AE_IFREG, .mode = 0644, .data = "x"}};
	const struct ent climb[] = {
	    {.name = "a/", .type = AE_IFDIR, .mode = 0755},
	    {.name = "a/../../x", .type = AE_IFREG, .mode = 0644, .data = "x"}};
	const struct ent mid[] = {{.name = "a/./b", .type = AE_IFREG, .mode = 0644, .data = "x"}};
	const struct ent empty[] = {{.name = "", .type = AE_IFREG, .mode = 0644, .data = "x"}};

	assert_true(extract(f, dotdot, 1, NULL, NULL, NULL) < 0);
	assert_true(extract(f, absolute, 1, NULL, NULL, NULL) < 0);
	assert_true(extract(f, climb, 2, NULL, NULL, NULL) < 0);
	assert_true(extract(f, mid, 1, NULL, NULL, NULL) < 0);
	assert_true(extract(f, empty, 1, NULL, NULL, NULL) < 0);
	assert_int_equal(access("/tmp/x", F_OK), -1);
	assert_victim(f);
}

static void test_layer_hardlinks(void **state)
{
	struct fixture *f = *state;
	char abs[128];

	snprintf(abs, sizeof(abs), "%s/secret", f->victim);
	const struct ent out[] = {{.name = "h", .type = 0, .mode = 0, .data = "../../etc/passwd"}};
	const struct ent absl[] = {{.name = "h", .type = 0, .mode = 0, .data = abs}};
	/* Through a symlink the layer made: refused, not followed. */
	const struct ent via[] = {{.name = "l", .type = AE_IFLNK, .mode = 0777, .data = f->victim},
				  {.name = "h", .type = 0, .mode = 0, .data = "l/secret"}};
	const struct ent good[] = {{.name = "f", .type = AE_IFREG, .mode = 0644, .data = "data"},
				   {.name = "h", .type = 0, .mode = 0, .data = "f"}};
	struct stat a, b;

	assert_true(extract(f, out, 1, NULL, NULL, NULL) < 0);
	assert_true(extract(f, absl, 1, NULL, NULL, NULL) < 0);
	assert_true(extract(f, via, 2, NULL, NULL, NULL) < 0);
	assert_victim(f);
	assert_int_equal(extract(f, good, 2, NULL, NULL, NULL), 0);
	assert_int_equal(fstatat(f->rootfd, "f", &a, 0), 0);
	assert_int_equal(fstatat(f->rootfd, "h", &b, 0), 0);
	assert_int_equal(a.st_ino, b.st_ino);
}

/* "a -> /etc" then "a/passwd": must not write the host's file. */
static void test_layer_symlink_parent(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
	    {.name = "a", .type = AE_IFLNK, .mode = 0777, .data = f->victim},
	    {.name = "a/secret", .type = AE_IFREG, .mode = 0644, .data = "evil"}};
	const struct ent etc[] = {
	    {.name = "e", .type = AE_IFLNK, .mode = 0777, .data = "/etc"},
	    {.name = "e/passwd", .type = AE_IFREG, .mode = 0644, .data = "evil"}};
	struct stat before, after;

	assert_int_equal(stat("/etc/passwd", &before), 0);
	assert_true(extract(f, ents, 2, NULL, NULL, NULL) < 0);
	assert_true(extract(f, etc, 2, NULL, NULL, NULL) < 0);
	assert_int_equal(stat("/etc/passwd", &after), 0);
	assert_int_equal(before.st_mtime, after.st_mtime);
	assert_int_equal(before.st_size, after.st_size);
	assert_victim(f);
}

/* CVE-2021-32760 and CVE-2021-31566: chmod must not reach a link target. */
static void test_layer_symlink_chmod(void **state)
{
	struct fixture *f = *state;
	char target[128];

	snprintf(target, sizeof(target), "%s/secret", f->victim);
	const struct ent file[] = {{.name = "a", .type = AE_IFLNK, .mode = 0777, .data = target},
				   {.name = "a", .type = AE_IFREG, .mode = 04777, .data = "x"}};
	const struct ent dir[] = {{.name = "d/", .type = AE_IFDIR, .mode = 0777},
				  {.name = "d", .type = AE_IFLNK, .mode = 0777, .data = f->victim}};
	struct stat st;

	assert_int_equal(extract(f, file, 2, NULL, NULL, NULL), 0);
	assert_int_equal(fstatat(f->rootfd, "a", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(st.st_mode));
	/* Rootless: setuid dropped. */
	assert_int_equal(st.st_mode & 07777, 0777);
	assert_int_equal(extract(f, dir, 2, NULL, NULL, NULL), 0);
	assert_int_equal(fstatat(f->rootfd, "d", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_victim(f);
}

/* CVE-2021-29136: "." as a symlink. */
static void test_layer_dot_symlink(void **state)
{
	struct fixture *f = *state;
	const struct ent dot[] = {{.name = ".", .type = AE_IFLNK, .mode = 0777, .data = f->victim}};
	const struct ent dotslash[] = {
	    {.name = "./", .type = AE_IFLNK, .mode = 0777, .data = f->victim}};
	const struct ent slash[] = {{.name = "/", .type = AE_IFDIR, .mode = 0755}};
	const struct ent rootdir[] = {{.name = "./", .type = AE_IFDIR, .mode = 0700},
				      {.name = "./x", .type = AE_IFREG, .mode = 0644, .data = ""}};
	struct stat st;

	assert_true(extract(f, dot, 1, NULL, NULL, NULL) < 0);
	assert_true(extract(f, dotslash, 1, NULL, NULL, NULL) < 0);
	assert_true(extract(f, slash, 1, NULL, NULL, NULL) < 0);
	assert_int_equal(fstat(f->rootfd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* A "./" directory entry is accepted and ignored. */
	assert_int_equal(extract(f, rootdir, 2, NULL, NULL, NULL), 0);
	assert_int_equal(faccessat(f->rootfd, "x", F_OK, 0), 0);
	assert_victim(f);
}

static void test_layer_whiteouts(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
	    {.name = "d/", .type = AE_IFDIR, .mode = 0755},
	    {.name = "d/.wh.gone", .type = AE_IFREG, .mode = 0644, .data = ""},
	    {.name = ".wh.top", .type = AE_IFREG, .mode = 0644, .data = ""},
	    {.name = "o/", .type = AE_IFDIR, .mode = 0750},
	    {.name = "o/.wh..wh..opq", .type = AE_IFREG, .mode = 0644, .data = ""},
	    {.name = "o/keep", .type = AE_IFREG, .mode = 0644, .data = "k"},
	    {.name = "d/.wh..wh.plnk", .type = AE_IFREG, .mode = 0644, .data = ""},
	};
	const struct ent through[] = {
	    {.name = "wh", .type = AE_IFLNK, .mode = 0777, .data = f->victim},
	    {.name = "wh/.wh.secret", .type = AE_IFREG, .mode = 0644, .data = ""}};
	const struct ent orphan[] = {
	    {.name = "nodir/.wh.x", .type = AE_IFREG, .mode = 0644, .data = ""}};
	const struct ent forged[] = {{.name = "z/",
				      .type = AE_IFDIR,
				      .mode = 0755,
				      .data = NULL,
				      .dev_major = 0,
				      .dev_minor = 0,
				      .xattr = "user.overlay.opaque=y"},
				     {.name = "u",
				      .type = AE_IFREG,
				      .mode = 0644,
				      .data = "",
				      .dev_major = 0,
				      .dev_minor = 0,
				      .xattr = "user.mine=1"}};
	struct image_layer_stats st;
	struct stat sb;
	char val[8] = {0};
	char path[160];

	assert_int_equal(extract(f, ents, ARRAY_SIZE(ents), NULL, NULL, NULL), 0);
	assert_int_equal(fstatat(f->rootfd, "d/gone", &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(sb.st_rdev, makedev(0, 0));
	assert_int_equal(fstatat(f->rootfd, "top", &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISCHR(sb.st_mode));
	assert_int_equal(faccessat(f->rootfd, "d/.wh.gone", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(f->rootfd, "d/.wh..wh.plnk", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	snprintf(path, sizeof(path), "%s/o", f->root);
	assert_int_equal(getxattr(path, "user.overlay.opaque", val, sizeof(val)), 1);
	assert_string_equal(val, "y");
	assert_int_equal(faccessat(f->rootfd, "o/keep", F_OK, 0), 0);
	assert_int_equal(faccessat(f->rootfd, "o/.wh..wh..opq", F_OK, 0), -1);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0750);

	/* Through a symlink, or into a directory the layer lacks: refused. */
	assert_true(extract(f, through, 2, NULL, NULL, NULL) < 0);
	assert_true(extract(f, orphan, 1, NULL, NULL, NULL) < 0);
	assert_victim(f);

	/* A layer cannot forge overlay xattrs; other user.* are kept. */
	assert_int_equal(extract(f, forged, 2, NULL, NULL, &st), 0);
	snprintf(path, sizeof(path), "%s/z", f->root);
	assert_true(getxattr(path, "user.overlay.opaque", val, sizeof(val)) < 0);
	assert_true(st.xattrs_skipped >= 1);
	snprintf(path, sizeof(path), "%s/u", f->root);
	assert_int_equal(getxattr(path, "user.mine", val, sizeof(val)), 1);
}

static void test_layer_devices(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {{.name = "null",
				    .type = AE_IFCHR,
				    .mode = 0666,
				    .data = NULL,
				    .dev_major = 1,
				    .dev_minor = 3},
				   {.name = "sda",
				    .type = AE_IFBLK,
				    .mode = 0660,
				    .data = NULL,
				    .dev_major = 8,
				    .dev_minor = 0},
				   {.name = "fifo", .type = AE_IFIFO, .mode = 0600},
				   {.name = "owned",
				    .type = AE_IFREG,
				    .mode = 0644,
				    .data = "x",
				    .dev_major = 0,
				    .dev_minor = 0,
				    .xattr = NULL,
				    .uid = 1000}};
	struct image_layer_stats st;
	struct stat sb;

	assert_int_equal(extract(f, ents, ARRAY_SIZE(ents), NULL, NULL, &st), 0);
	assert_int_equal(st.devices_skipped, 2);
	assert_int_equal(st.squashed, 1);
	assert_int_equal(st.entries, 4);
	assert_int_equal(faccessat(f->rootfd, "null", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(faccessat(f->rootfd, "sda", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(fstatat(f->rootfd, "fifo", &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISFIFO(sb.st_mode));
}

static void test_layer_caps(void **state)
{
	struct fixture *f = *state;
	struct ent ents[12];
	struct image_layer_limits lim = {.max_entries = 5};
	char names[12][8];

	for (int i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "f%d", i);
		ents[i] =
		    (struct ent){.name = names[i], .type = AE_IFREG, .mode = 0644, .data = "x"};
	}
	assert_int_equal(extract(f, ents, 12, NULL, &lim, NULL), -EFBIG);
	lim.max_entries = 0;
	lim.max_bytes = 4096; /* the tar alone is larger */
	assert_int_equal(extract(f, ents, 12, NULL, &lim, NULL), -EFBIG);
}

static void test_layer_diffid(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {{.name = "a", .type = AE_IFREG, .mode = 0644, .data = "hello"}};
	struct image_layer_stats st;
	struct err *err = NULL;
	char hex[65], diff[80], got[80];
	uint64_t size;
	int fd;

	fd = make_tar(ents, 1, false, hex);
	snprintf(diff, sizeof(diff), "sha256:%s", hex);
	close(fd);
	assert_int_equal(extract(f, ents, 1, diff, NULL, &st), 0);
	assert_string_equal(st.diff_id, diff);
	assert_true(extract(f, ents, 1, D1, NULL, NULL) < 0);

	/* gzip: the DiffID is of the uncompressed bytes. */
	fd = make_tar(ents, 1, true, NULL);
	assert_int_equal(image_layer_digest(fd, NULL, got, &size, &err), 0);
	assert_string_equal(got, diff);
	assert_int_equal(image_layer_extract(fd, f->rootfd, &squash, diff, NULL, &st, &err), 0);
	close(fd);

	/* Not a tar at all. */
	fd = memfd_create("junk", MFD_CLOEXEC);
	assert_int_equal(write(fd, "\x1f\x8bjunkjunk", 10), 10);
	assert_true(image_layer_extract(fd, f->rootfd, &squash, NULL, NULL, &st, &err) < 0);
	err_free(&err);
	close(fd);
}

/* ---- the confined child (image/layer_confine.c) ---- */

/*
 * The parent's half, fed by hand-made children: each forks a child that
 * misbehaves in one way on the write end of a pipe, then collects.
 */
enum bad_child {
	BAD_SIGSYS, /* dies of SIGSYS, as a seccomp kill would */
	BAD_EXIT,   /* exits 3 without a word */
	BAD_SILENT, /* exits 0 without a word */
	BAD_SHORT,  /* half a message, then exits 0 */
	BAD_MAGIC,  /* a whole message with the wrong magic */
	BAD_CODE,   /* a whole message whose code is no errno */
	BAD_FLOOD,  /* writes without end */
	BAD_AFTER,  /* a good message, then more bytes */
	BAD_KILLED, /* a good message, then dies of SIGKILL */
	GOOD_ERROR, /* a good message carrying an error, unterminated */
	GOOD,	    /* a good message of success */
};

static void good_msg(struct image_confine_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->magic = IMAGE_CONFINE_MAGIC;
	m->st.entries = 7;
	snprintf(m->st.diff_id, sizeof(m->st.diff_id), "%s", D1);
}

static int collect_from(enum bad_child how, struct image_layer_stats *st, struct err **err)
{
	struct image_confine_msg m;
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit none = {0, 0};

		close(p[0]);
		setrlimit(RLIMIT_CORE, &none);
		/* cmocka's handlers would catch the signals this child dies of. */
		signal(SIGSYS, SIG_DFL);
		good_msg(&m);
		switch (how) {
		case BAD_SIGSYS:
			raise(SIGSYS);
			_exit(0);
		case BAD_EXIT:
			_exit(3);
		case BAD_SILENT:
			_exit(0);
		case BAD_SHORT:
			_exit(write(p[1], &m, sizeof(m) / 2) < 0);
		case BAD_MAGIC:
			m.magic ^= 1;
			break;
		case BAD_CODE:
			m.code = -5;
			break;
		case BAD_FLOOD:
			for (;;)
				if (write(p[1], &m, sizeof(m)) < 0)
					_exit(1);
		case BAD_AFTER:
			if (write(p[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
				_exit(1);
			_exit(write(p[1], "x", 1) != 1);
		case BAD_KILLED:
			if (write(p[1], &m, sizeof(m)) != (ssize_t)sizeof(m))
				_exit(1);
			raise(SIGKILL);
			_exit(0);
		case GOOD_ERROR:
			m.code = ENOSPC;
			memset(m.msg, 'e', sizeof(m.msg));
			break;
		case GOOD:
		default:
			break;
		}
		_exit(write(p[1], &m, sizeof(m)) != (ssize_t)sizeof(m));
	}
	close(p[1]);
	return image_confine_collect(pid, p[0], st, err);
}

static void expect_collect(enum bad_child how, int code, const char *needle)
{
	struct image_layer_stats st = {.entries = 99};
	struct err *err = NULL;
	int r = collect_from(how, &st, &err);

	assert_int_equal(r, -code);
	assert_non_null(err);
	if (!strstr(err->msg, needle))
		fail_msg("\"%s\" lacks \"%s\"", err->msg, needle);
	/* Stats come only with success. */
	assert_int_equal(st.entries, 99);
	err_free(&err);
}

static void test_confine_collect(void **state)
{
	struct image_layer_stats st;
	struct err *err = NULL;

	expect_collect(BAD_SIGSYS, EIO, "layer extraction failed: killed by SIGSYS");
	expect_collect(BAD_KILLED, EIO, "killed by SIGKILL");
	expect_collect(BAD_EXIT, EIO, "exited with status 3");
	expect_collect(BAD_SILENT, EIO, "result is 0 bytes");
	expect_collect(BAD_SHORT, EIO, "result is");
	expect_collect(BAD_MAGIC, EIO, "malformed result");
	expect_collect(BAD_CODE, EIO, "malformed result");
	expect_collect(BAD_FLOOD, EIO, "more than its result");
	expect_collect(BAD_AFTER, EIO, "more than its result");

	/* An error from the child keeps its code; its text is cut to size. */
	assert_int_equal(collect_from(GOOD_ERROR, &st, &err), -ENOSPC);
	assert_int_equal(strlen(err->msg), sizeof(err->msg) - 1);
	err_free(&err);

	assert_int_equal(collect_from(GOOD, &st, &err), 0);
	assert_null(err);
	assert_int_equal(st.entries, 7);
	assert_string_equal(st.diff_id, D1);
}

/*
 * The child's side: a function run confined that tries what a hijacked
 * extractor would, and reports each outcome as one bit of st->entries
 * (set: the attempt went the way confinement says). The walls are
 * checked from inside because Landlock is not visible in /proc.
 */
struct probe {
	int dirfd;
	int stray_fd;	/* open in the parent, not handed to the child */
	ino_t host_net; /* the parent's network namespace */
	char outside[128];
};

enum {
	W_INET = 1 << 0,    /* socket(AF_INET) refused with EPERM */
	W_UNIX = 1 << 1,    /* socket(AF_UNIX) refused with EPERM */
	W_EXEC = 1 << 2,    /* execve refused with EPERM */
	W_FORK = 1 << 3,    /* fork refused */
	W_PROT = 1 << 4,    /* an executable mapping refused */
	W_MKNOD = 1 << 5,   /* a real device node refused */
	W_WHITE = 1 << 6,   /* the 0/0 whiteout beneath DIRFD allowed */
	W_CREATE = 1 << 7,  /* a file beneath DIRFD created */
	W_NETNS = 1 << 8,   /* another network namespace */
	W_KILL = 1 << 9,    /* kill(parent) refused */
	W_STRAY = 1 << 10,  /* the parent's other fds are closed */
	W_READ = 1 << 11,   /* /etc/passwd not readable (Landlock) */
	W_WRITE = 1 << 12,  /* no file created outside DIRFD (Landlock) */
	W_LIST = 1 << 13,   /* "/" cannot be listed (Landlock) */
	W_PTRACE = 1 << 14, /* ptrace refused */
	W_CAPS = 1 << 15,   /* trusted.* xattr refused: no CAP_SYS_ADMIN */
};
#define W_ALWAYS                                                                               \
	(W_INET | W_UNIX | W_EXEC | W_FORK | W_PROT | W_MKNOD | W_WHITE | W_CREATE | W_NETNS | \
	 W_KILL | W_STRAY | W_PTRACE)
#define W_LANDLOCK (W_READ | W_WRITE | W_LIST)

static int probe_walls(void *arg, struct image_layer_stats *st, struct err **err)
{
	struct probe *p = arg;
	char *const argv[] = {"/bin/true", NULL};
	uint64_t w = 0;
	struct stat sb;
	void *map;
	int fd;

	w |= (socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EPERM) ? W_INET : 0;
	w |= (socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EPERM) ? W_UNIX : 0;
	w |= (execve(argv[0], argv, NULL) < 0 && errno == EPERM) ? W_EXEC : 0;
	w |= fork() < 0 ? W_FORK : 0;
	map = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	w |= map == MAP_FAILED ? W_PROT : 0;
	w |= mknodat(p->dirfd, "null", S_IFCHR | 0666, makedev(1, 3)) < 0 ? W_MKNOD : 0;
	w |= mknodat(p->dirfd, "wh", S_IFCHR | 0, makedev(0, 0)) == 0 ? W_WHITE : 0;
	fd = openat(p->dirfd, "inside", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	w |= fd >= 0 ? W_CREATE : 0;
	if (fd >= 0 && fsetxattr(fd, "trusted.moat", "1", 1, 0) < 0 && errno == EPERM)
		w |= W_CAPS;
	if (fd >= 0)
		close(fd);
	w |= (stat("/proc/self/ns/net", &sb) == 0 && sb.st_ino != p->host_net) ? W_NETNS : 0;
	w |= (kill(getppid(), 0) < 0 && errno == EPERM) ? W_KILL : 0;
	w |= (fcntl(p->stray_fd, F_GETFD) < 0 && errno == EBADF) ? W_STRAY : 0;
	w |= open("/etc/passwd", O_RDONLY | O_CLOEXEC) < 0 ? W_READ : 0;
	w |= open(p->outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 ? W_WRITE : 0;
	w |= open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC) < 0 ? W_LIST : 0;
	w |= ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0 ? W_PTRACE : 0;
	st->entries = w;
	return 0;
}

static void test_confine_walls(void **state)
{
	struct fixture *f = *state;
	struct probe p = {.dirfd = f->rootfd};
	struct image_layer_stats st = {0};
	struct err *err = NULL;
	uint64_t want = W_ALWAYS;
	struct stat sb;
	int blob = memfd_create("blob", MFD_CLOEXEC);

	assert_true(blob >= 0);
	assert_int_equal(stat("/proc/self/ns/net", &sb), 0);
	p.host_net = sb.st_ino;
	p.stray_fd = open("/dev/null", O_RDONLY);
	assert_true(p.stray_fd >= 0);
	snprintf(p.outside, sizeof(p.outside), "%s/planted", f->victim);
	if (sandbox_landlock_abi() >= 2)
		want |= W_LANDLOCK;
	/* As root, trusted.* needs only CAP_SYS_ADMIN, which the child drops
	 * (rootless, it never had it over the host's files). */
	if (geteuid() == 0)
		want |= W_CAPS;
	else
		print_message("  (no Landlock ABI >= 2 here: file walls not checked)\n");
	assert_int_equal(image_confine_run(&squash, blob, f->rootfd, probe_walls, &p, &st, &err),
			 0);
	if ((st.entries & want) != want)
		fail_msg("confinement walls: got %#llx, want %#llx (missing %#llx)",
			 (unsigned long long)st.entries, (unsigned long long)want,
			 (unsigned long long)(want & ~st.entries));
	/* The allowed writes landed, the refused ones did not. */
	assert_int_equal(fstatat(f->rootfd, "inside", &sb, 0), 0);
	assert_int_equal(fstatat(f->rootfd, "null", &sb, AT_SYMLINK_NOFOLLOW), -1);
	if (want & W_LANDLOCK)
		assert_int_equal(access(p.outside, F_OK), -1);
	assert_victim(f);
	close(p.stray_fd);
	close(blob);
}

static int fail_inside(void *arg, struct image_layer_stats *st, struct err **err)
{
	st->entries = 5;
	return err_set(err, ENOSPC, "out of room at entry %d", 42);
}

static int crash_inside(void *arg, struct image_layer_stats *st, struct err **err)
{
	/* A bug in the parser: the parent must report it, not hang or lie. */
	raise(SIGSEGV);
	*(volatile int *)arg = 1;
	return 0;
}

static void test_confine_errors(void **state)
{
	struct fixture *f = *state;
	struct image_layer_stats st = {.entries = 99};
	struct err *err = NULL;
	int blob = memfd_create("blob", MFD_CLOEXEC);

	assert_int_equal(image_confine_run(&squash, blob, f->rootfd, fail_inside, NULL, &st, &err),
			 -ENOSPC);
	assert_string_equal(err->msg, "out of room at entry 42");
	assert_int_equal(st.entries, 99);
	err_free(&err);

	/* raise() is refused (no tgkill), so the NULL store kills it. */
	assert_int_equal(image_confine_run(&squash, blob, f->rootfd, crash_inside, NULL, &st, &err),
			 -EIO);
	assert_string_equal(err->msg, "layer extraction failed: killed by SIGSEGV");
	err_free(&err);
	close(blob);
}

/* Non-ASCII names reach the disk unchanged although the child cannot
 * read glibc's gconv files (Landlock). */
static void test_layer_utf8_names(void **state)
{
	struct fixture *f = *state;
	const struct ent ents[] = {
	    {.name = "d\xc3\xbc/", .type = AE_IFDIR, .mode = 0755},
	    {.name = "d\xc3\xbc/f\xc3\xafle", .type = AE_IFREG, .mode = 0644, .data = "x"}};
	struct image_layer_stats st;
	struct err *err = NULL;
	struct stat sb;
	int fd;

	/* The writer needs a UTF-8 locale to store the names as pax UTF-8;
	 * the reader (the child) runs in "C", as moat does. */
	assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
	fd = make_tar(ents, 2, false, NULL);
	setlocale(LC_CTYPE, "C");
	assert_int_equal(image_layer_extract(fd, f->rootfd, &squash, NULL, NULL, &st, &err), 0);
	close(fd);
	assert_int_equal(fstatat(f->rootfd, "d\xc3\xbc/f\xc3\xafle", &sb, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISREG(sb.st_mode));
}

/* ---- store ---- */

static void test_store_demo(void **state)
{
	struct fixture *f = *state;
	struct image_store *s = NULL;
	struct image *img = NULL, **list = NULL;
	struct err *err = NULL;
	char **untagged = NULL, **deleted = NULL, *id = NULL, *id2 = NULL;
	char root[128];
	size_t n = 0;
	struct stat st;

	if (access("/bin/busybox", X_OK) < 0)
		skip();
	snprintf(root, sizeof(root), "%s/store", f->root);
	assert_int_equal(image_store_open(root, &squash, &s, &err), 0);
	assert_int_equal(image_demo_create(s, NULL, NULL, NULL, &err), 0);
	assert_int_equal(image_store_lookup(s, "demo", &id, &err), 0);
	/* Reproducible: the same inputs give the same id. */
	assert_int_equal(image_demo_create(s, "other:1", NULL, NULL, &err), 0);
	assert_int_equal(image_store_lookup(s, "other:1", &id2, &err), 0);
	assert_string_equal(id, id2);
	assert_int_equal(image_store_list(s, &list, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0]->names[0], "demo:latest");
	assert_string_equal(list[0]->names[1], "other:1");
	image_free(list[0]);
	free(list);

	assert_int_equal(image_store_resolve(s, id + 7, &img, &err), 0); /* by full hex */
	assert_int_equal(img->n_layers, 1);
	assert_string_equal(img->config->cmd[0], "/bin/sh");
	assert_int_equal(lstat(img->layer_dirs[0], &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	image_free(img);
	id[7 + 6] = 0;
	assert_int_equal(image_store_resolve(s, id + 7, &img, &err), 0); /* by prefix */
	image_free(img);
	assert_int_equal(image_store_resolve(s, "nope", &img, &err), -ENOENT);
	err_free(&err);

	/* By id with two names: refused unless forced. */
	assert_int_equal(image_store_remove_report(s, id2, false, &untagged, &deleted, &err),
			 -EBUSY);
	err_free(&err);
	assert_int_equal(image_store_remove_report(s, "demo", false, &untagged, &deleted, &err), 0);
	assert_string_equal(untagged[0], "demo:latest");
	assert_null(deleted);
	strvfree(untagged);
	assert_int_equal(image_store_remove_report(s, "other:1", false, &untagged, &deleted, &err),
			 0);
	assert_string_equal(deleted[0], id2);
	strvfree(untagged);
	strvfree(deleted);
	assert_int_equal(image_store_list(s, &list, &n, &err), 0);
	assert_int_equal(n, 0);
	free(list);
	/* Blobs and layer trees went with it. */
	snprintf(root, sizeof(root), "%s/store/blobs/sha256/%s", f->root, id2 + 7);
	assert_int_equal(access(root, F_OK), -1);
	free(id);
	free(id2);
	image_store_close(s);
}

/* The entries of DIR (a directory under the fixture root), sorted, joined
 * by spaces; "" when empty. */
static char *entries(const char *dir)
{
	struct dirent **v = NULL;
	char *out = calloc(1, 4096);
	int n = scandir(dir, &v, NULL, alphasort);

	assert_non_null(out);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, ".."))
			snprintf(out + strlen(out), 4096 - strlen(out), "%s%s", *out ? " " : "",
				 v[i]->d_name);
		free(v[i]);
	}
	free(v);
	return out;
}

/* In a child: a transaction with a staged blob and an extracted layer,
 * then a byte on READY and, unless DIE, a wait to be killed. */
static void txn_child(const char *root, int ready, bool die)
{
	const struct ent ents[] = {{.name = "f", .type = AE_IFREG, .mode = 0644, .data = "x"},
				   {.name = "d", .type = AE_IFDIR, .mode = 0755}};
	struct image_store *s = NULL;
	struct store_txn *t = NULL;
	struct err *err = NULL;
	char name[32], hex[65], diff[80];
	uint64_t size;
	int fd = make_tar(ents, ARRAY_SIZE(ents), false, hex), out;
	char buf[4096];
	ssize_t n;

	snprintf(diff, sizeof(diff), "sha256:%s", hex);
	if (image_store_open(root, &squash, &s, &err) < 0 || store_txn_begin(s, &t, &err) < 0)
		_exit(2);
	store_txn_tmpname(t, name);
	out = openat(store_txn_dirfd(t), name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(3);
	close(out);
	if (store_txn_add_layer(t, name, diff, &size, &err) < 0)
		_exit(4);
	if (write(ready, "r", 1) != 1)
		_exit(5);
	if (die)
		_exit(0); /* as after kill -9: nothing freed, the kernel drops the flock */
	for (;;)
		pause();
}

static void test_store_sweep(void **state)
{
	struct fixture *f = *state;
	struct image_store *s = NULL;
	struct store_txn *t1 = NULL, *t2 = NULL;
	struct err *err = NULL;
	char root[128], tmp[160], mode[160], legacy[200], *dead = NULL, *e = NULL;
	int p[2], status;
	pid_t pid;
	char c;

	snprintf(root, sizeof(root), "%s/store", f->root);
	snprintf(tmp, sizeof(tmp), "%s/tmp", root);
	snprintf(mode, sizeof(mode), "%s/layers/squash", root);
	assert_int_equal(image_store_open(root, &squash, &s, &err), 0);
	/* What an older moat left: a layer tree extracted in place. */
	snprintf(legacy, sizeof(legacy), "%s/.tmp-0123456789abcdef", mode);
	assert_int_equal(mkdir(legacy, 0700), 0);
	strcat(legacy, "/sub");
	assert_int_equal(mkdir(legacy, 0555), 0);

	/* A live transaction of another process is left alone... */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		txn_child(root, p[1], false);
	assert_int_equal(read(p[0], &c, 1), 1);
	dead = entries(tmp);
	assert_int_equal(strncmp(dead, "txn-", 4), 0);
	assert_null(strchr(dead, ' '));
	assert_int_equal(store_txn_begin(s, &t1, &err), 0);
	e = entries(tmp);
	assert_non_null(strstr(e, dead));
	assert_non_null(strchr(e, ' '));
	free(e);
	/* ... its staged blob and layer tree still there. */
	snprintf(legacy, sizeof(legacy), "%s/%s", tmp, dead);
	e = entries(legacy);
	assert_string_equal(e, "l1 s0");
	free(e);
	/* The legacy tree went (the exclusive lock proves no owner). */
	e = entries(mode);
	assert_string_equal(e, "");
	free(e);

	/* ... until it is killed: then the next transaction removes it. */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(store_txn_begin(s, &t2, &err), 0);
	e = entries(tmp);
	assert_null(strstr(e, dead));
	assert_non_null(strchr(e, ' ')); /* t1 and t2 */
	free(e);
	free(dead);
	store_txn_free(t2);
	store_txn_free(t1);
	e = entries(tmp);
	assert_string_equal(e, "");
	free(e);

	/* A process that died with a transaction open: image_store_open
	 * sweeps too (no transaction needed). */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		txn_child(root, p[1], true);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	e = entries(tmp);
	assert_string_not_equal(e, "");
	free(e);
	image_store_close(s);
	assert_int_equal(image_store_open(root, &squash, &s, &err), 0);
	e = entries(tmp);
	assert_string_equal(e, "");
	free(e);
	/* Nothing was ever published: no layer tree, no record. */
	e = entries(mode);
	assert_string_equal(e, "");
	free(e);
	image_store_close(s);
	close(p[0]);
	close(p[1]);
}

/* Image ID's repo digests as one string ("" for none). */
static char *digests_of(struct image_store *s, const char *ref)
{
	struct image *img = NULL;
	struct err *err = NULL;
	char *out = calloc(1, 4096);

	assert_non_null(out);
	assert_int_equal(image_store_resolve(s, ref, &img, &err), 0);
	assert_non_null(img->repo_digests);
	for (char **d = img->repo_digests; *d; d++)
		snprintf(out + strlen(out), 4096 - strlen(out), "%s%s", *out ? " " : "", *d);
	image_free(img);
	return out;
}

static void assert_strv(char **v, const char *const *want)
{
	size_t i = 0;

	for (; want[i]; i++) {
		assert_non_null(v);
		assert_non_null(v[i]);
		assert_string_equal(v[i], want[i]);
	}
	assert_true(!v || !v[i]);
}

static void test_store_repo_digests(void **state)
{
	struct fixture *f = *state;
	struct image_store *s = NULL;
	struct store_txn *t = NULL;
	struct store_record rec;
	struct image **list = NULL;
	struct err *err = NULL;
	char **untagged = NULL, **deleted = NULL, *id = NULL, *two = NULL, *got = NULL, *d;
	char root[128], add[200], file[160];
	size_t n = 0;
	int fd;

	if (access("/bin/busybox", X_OK) < 0)
		skip();
	snprintf(root, sizeof(root), "%s/store", f->root);
	snprintf(file, sizeof(file), "%s/extra", f->root);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0 && write(fd, "2\n", 2) == 2);
	close(fd);
	snprintf(add, sizeof(add), "%s:/extra", file);
	assert_int_equal(image_store_open(root, &squash, &s, &err), 0);
	assert_int_equal(image_demo_create(s, NULL, NULL, NULL, &err), 0);
	assert_int_equal(image_demo_create(s, "other:1", NULL, NULL, &err), 0);
	assert_int_equal(image_demo_create(s, "two:1", NULL, (char *[]){add, NULL}, &err), 0);
	assert_int_equal(image_store_lookup(s, "demo", &id, &err), 0);
	assert_int_equal(image_store_lookup(s, "two:1", &two, &err), 0);
	assert_string_not_equal(id, two);

	/* A record from before repo digests has none. */
	d = digests_of(s, "demo");
	assert_string_equal(d, "");
	free(d);

	/* NAME@DIGEST finds the image in any spelling of NAME. */
	assert_int_equal(store_repo_digest_add(s, id, "demo@" D1, &err), 0);
	assert_int_equal(store_repo_digest_add(s, id, "demo@" D1, &err), 0);
	assert_true(store_repo_digest_add(s, id, "docker.io/library/demo@" D1, &err) < 0);
	err_free(&err);
	static const char *const refs[] = {"demo@" D1, "docker.io/library/demo@" D1,
					   "demo:latest@" D1, "index.docker.io/library/demo@" D1};
	for (size_t i = 0; i < ARRAY_SIZE(refs); i++) {
		assert_int_equal(image_store_lookup(s, refs[i], &got, &err), 0);
		assert_string_equal(got, id);
		free(got);
	}
	assert_int_equal(image_store_lookup(s, "demo@" D2, &got, &err), -ENOENT);
	err_free(&err);
	assert_int_equal(image_store_lookup(s, "other@" D1, &got, &err), -ENOENT);
	err_free(&err);
	d = digests_of(s, "demo@" D1);
	assert_string_equal(d, "demo@" D1);
	free(d);
	assert_int_equal(image_store_list(s, &list, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(list[i]->id, id))
			assert_strv(list[i]->repo_digests, (const char *const[]){"demo@" D1, NULL});
		else
			assert_strv(list[i]->repo_digests, (const char *const[]){NULL});
		image_free(list[i]);
	}
	free(list);

	/* A repo digest names one image: given to another, it moves. */
	assert_int_equal(store_repo_digest_add(s, two, "demo@" D1, &err), 0);
	assert_int_equal(image_store_lookup(s, "demo@" D1, &got, &err), 0);
	assert_string_equal(got, two);
	free(got);
	d = digests_of(s, "demo");
	assert_string_equal(d, "");
	free(d);

	/* A transaction with an image already stored adds its repo digest
	 * to the record it keeps (a pull of what is there). */
	assert_int_equal(store_record_load(store_dirfd(s, STORE_DIR_IMAGES), id + 7, &rec, &err),
			 0);
	assert_int_equal(store_record_add_repo_digest(&rec, "other@" D2, &err), 1);
	assert_int_equal(store_txn_begin(s, &t, &err), 0);
	assert_int_equal(store_txn_add_image(t, &rec, NULL, &err), 0);
	assert_int_equal(store_txn_commit(t, &err), 0);
	store_txn_free(t);
	store_record_clear(&rec);
	d = digests_of(s, "other@" D2);
	assert_string_equal(d, "other@" D2);
	free(d);

	/* rmi, Docker's way: a tag takes its repository's digests when it
	 * was the last tag of that repository. */
	assert_int_equal(store_repo_digest_add(s, id, "demo@" D2, &err), 0);
	assert_int_equal(image_store_remove_report(s, "other:1", false, &untagged, &deleted, &err),
			 0);
	assert_strv(untagged, (const char *const[]){"other:1", "other@" D2, NULL});
	assert_null(deleted);
	strvfree(untagged);
	/* By NAME@DIGEST: only that digest. */
	assert_int_equal(image_store_remove_report(s, "docker.io/library/demo@" D2, false,
						   &untagged, &deleted, &err),
			 0);
	assert_strv(untagged, (const char *const[]){"demo@" D2, NULL});
	assert_null(deleted);
	strvfree(untagged);
	d = digests_of(s, "demo");
	assert_string_equal(d, "");
	free(d);
	/* A digest of another repository keeps the image when its last tag
	 * goes; removing the digest then deletes it. */
	assert_int_equal(image_store_remove_report(s, "two:1", false, &untagged, &deleted, &err),
			 0);
	assert_strv(untagged, (const char *const[]){"two:1", NULL});
	assert_null(deleted);
	strvfree(untagged);
	assert_int_equal(image_store_lookup(s, two, &got, &err), 0);
	free(got);
	assert_int_equal(image_store_remove_report(s, "demo@" D1, false, &untagged, &deleted, &err),
			 0);
	assert_strv(untagged, (const char *const[]){"demo@" D1, NULL});
	assert_strv(deleted, (const char *const[]){two, NULL});
	strvfree(untagged);
	strvfree(deleted);
	/* By id: names and digests all go. */
	assert_int_equal(store_repo_digest_add(s, id, "demo@" D2, &err), 0);
	assert_int_equal(image_store_remove_report(s, id, false, &untagged, &deleted, &err), 0);
	assert_strv(untagged, (const char *const[]){"demo:latest", "demo@" D2, NULL});
	assert_strv(deleted, (const char *const[]){id, NULL});
	strvfree(untagged);
	strvfree(deleted);
	assert_int_equal(store_repo_digest_add(s, id, "demo@" D2, &err), -ENOENT);
	err_free(&err);
	free(id);
	free(two);
	image_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_good),
	    cmocka_unit_test(test_config_bad),
	    cmocka_unit_test(test_config_volumes),
	    cmocka_unit_test(test_config_oversized),
	    cmocka_unit_test(test_manifest_good),
	    cmocka_unit_test(test_manifest_bad),
	    cmocka_unit_test(test_index),
	    cmocka_unit_test(test_save_manifest),
	    cmocka_unit_test(test_ref_normalize),
	    cmocka_unit_test(test_repo_digest_make),
	    cmocka_unit_test(test_record_repo_digests),
	    cmocka_unit_test_setup_teardown(test_layer_names, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_hardlinks, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_symlink_parent, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_symlink_chmod, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_dot_symlink, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_whiteouts, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_devices, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_caps, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_diffid, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_layer_utf8_names, setup_dirs, teardown_dirs),
	    cmocka_unit_test(test_confine_collect),
	    cmocka_unit_test_setup_teardown(test_confine_walls, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_confine_errors, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_store_demo, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_store_sweep, setup_dirs, teardown_dirs),
	    cmocka_unit_test_setup_teardown(test_store_repo_digests, setup_dirs, teardown_dirs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
