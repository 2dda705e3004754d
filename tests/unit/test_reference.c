/*
 * tests/unit/test_reference.c - image/reference.c against Docker's own
 * behaviour.
 *
 * The expected columns of both tables were produced by running
 * distribution/reference (ParseNormalizedNamed + TagNameOnly, String,
 * FamiliarString, FamiliarName, Domain, Path; crypto/sha256 registered) on
 * the same inputs; the one deliberate difference (a first component with a
 * "." that is not a valid host, which Go keeps as a name without a domain)
 * is marked. Every valid case is also printed and parsed again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "image/reference.h"

static const struct good {
	const char *in, *full, *familiar, *familiar_name, *domain, *path, *tag, *digest;
} good[] = {
    {"busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox", "docker.io",
     "library/busybox", "latest", NULL},
    {"busybox:latest", "docker.io/library/busybox:latest", "busybox:latest", "busybox", "docker.io",
     "library/busybox", "latest", NULL},
    {"busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36", "busybox", "docker.io",
     "library/busybox", "1.36", NULL},
    {"busybox:1.36.1-musl", "docker.io/library/busybox:1.36.1-musl", "busybox:1.36.1-musl",
     "busybox", "docker.io", "library/busybox", "1.36.1-musl", NULL},
    {"busybox@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "docker.io/library/"
     "busybox@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "busybox@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", "busybox",
     "docker.io", "library/busybox", NULL,
     "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"},
    {"busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "docker.io/library/"
     "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "busybox", "docker.io", "library/busybox", "latest",
     "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"},
    {"library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox",
     "docker.io", "library/busybox", "latest", NULL},
    {"docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox",
     "docker.io", "library/busybox", "latest", NULL},
    {"docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox",
     "docker.io", "library/busybox", "latest", NULL},
    {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest",
     "busybox", "docker.io", "library/busybox", "latest", NULL},
    {"index.docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest", "busybox",
     "docker.io", "library/busybox", "latest", NULL},
    {"index.docker.io/library/busybox:1", "docker.io/library/busybox:1", "busybox:1", "busybox",
     "docker.io", "library/busybox", "1", NULL},
    {"index.docker.io/ns/app", "docker.io/ns/app:latest", "ns/app:latest", "ns/app", "docker.io",
     "ns/app", "latest", NULL},
    {"INDEX.DOCKER.IO/foo", "INDEX.DOCKER.IO/foo:latest", "INDEX.DOCKER.IO/foo:latest",
     "INDEX.DOCKER.IO/foo", "INDEX.DOCKER.IO", "foo", "latest", NULL},
    {"registry-1.docker.io/library/busybox", "registry-1.docker.io/library/busybox:latest",
     "registry-1.docker.io/library/busybox:latest", "registry-1.docker.io/library/busybox",
     "registry-1.docker.io", "library/busybox", "latest", NULL},
    {"docker/docker", "docker.io/docker/docker:latest", "docker/docker:latest", "docker/docker",
     "docker.io", "docker/docker", "latest", NULL},
    {"dmcgowan/myapp:v2", "docker.io/dmcgowan/myapp:v2", "dmcgowan/myapp:v2", "dmcgowan/myapp",
     "docker.io", "dmcgowan/myapp", "v2", NULL},
    {"docker.io/library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar:latest",
     "library/foo/bar", "docker.io", "library/foo/bar", "latest", NULL},
    {"store/foo/bar", "docker.io/store/foo/bar:latest", "store/foo/bar:latest", "store/foo/bar",
     "docker.io", "store/foo/bar", "latest", NULL},
    {"other/library", "docker.io/other/library:latest", "other/library:latest", "other/library",
     "docker.io", "other/library", "latest", NULL},
    {"library", "docker.io/library/library:latest", "library:latest", "library", "docker.io",
     "library/library", "latest", NULL},
    {"docker.io/library", "docker.io/library/library:latest", "library:latest", "library",
     "docker.io", "library/library", "latest", NULL},
    {"localhost", "docker.io/library/localhost:latest", "localhost:latest", "localhost",
     "docker.io", "library/localhost", "latest", NULL},
    {"localhost:5000", "docker.io/library/localhost:5000", "localhost:5000", "localhost",
     "docker.io", "library/localhost", "5000", NULL},
    {"localhost/foo", "localhost/foo:latest", "localhost/foo:latest", "localhost/foo", "localhost",
     "foo", "latest", NULL},
    {"localhost/library/debian", "localhost/library/debian:latest",
     "localhost/library/debian:latest", "localhost/library/debian", "localhost", "library/debian",
     "latest", NULL},
    {"localhost:5000/foo/"
     "bar:1@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "localhost:5000/foo/"
     "bar:1@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "localhost:5000/foo/"
     "bar:1@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "localhost:5000/foo/bar", "localhost:5000", "foo/bar", "1",
     "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"},
    {"LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar:latest", "LOCALDOMAIN/fooo/bar:latest",
     "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN", "fooo/bar", "latest", NULL},
    {"Foo/bar", "Foo/bar:latest", "Foo/bar:latest", "Foo/bar", "Foo", "bar", "latest", NULL},
    {"FOO/bar:TAG", "FOO/bar:TAG", "FOO/bar:TAG", "FOO/bar", "FOO", "bar", "TAG", NULL},
    {"Localhost/foo", "Localhost/foo:latest", "Localhost/foo:latest", "Localhost/foo", "Localhost",
     "foo", "latest", NULL},
    {"127.0.0.1:5000/ns/app:1.0", "127.0.0.1:5000/ns/app:1.0", "127.0.0.1:5000/ns/app:1.0",
     "127.0.0.1:5000/ns/app", "127.0.0.1:5000", "ns/app", "1.0", NULL},
    {"127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest", "127.0.0.1:5000/debian:latest",
     "127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "latest", NULL},
    {"192.168.0.1", "docker.io/library/192.168.0.1:latest", "192.168.0.1:latest", "192.168.0.1",
     "docker.io", "library/192.168.0.1", "latest", NULL},
    {"192.168.0.1:80", "docker.io/library/192.168.0.1:80", "192.168.0.1:80", "192.168.0.1",
     "docker.io", "library/192.168.0.1", "80", NULL},
    {"192.168.0.1:8/debian", "192.168.0.1:8/debian:latest", "192.168.0.1:8/debian:latest",
     "192.168.0.1:8/debian", "192.168.0.1:8", "debian", "latest", NULL},
    {"[::1]:5000/foo", "[::1]:5000/foo:latest", "[::1]:5000/foo:latest", "[::1]:5000/foo",
     "[::1]:5000", "foo", "latest", NULL},
    {"[::1]/foo", "[::1]/foo:latest", "[::1]/foo:latest", "[::1]/foo", "[::1]", "foo", "latest",
     NULL},
    {"[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest",
     "[fc00:1:2:3:4:5:6:7]:5000/library/debian:latest", "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
     "[fc00:1:2:3:4:5:6:7]:5000", "library/debian", "latest", NULL},
    {"example.com/private/moonbase", "example.com/private/moonbase:latest",
     "example.com/private/moonbase:latest", "example.com/private/moonbase", "example.com",
     "private/moonbase", "latest", NULL},
    {"example.com:8000/privatebase", "example.com:8000/privatebase:latest",
     "example.com:8000/privatebase:latest", "example.com:8000/privatebase", "example.com:8000",
     "privatebase", "latest", NULL},
    {"localhost:99999999999/foo", "localhost:99999999999/foo:latest",
     "localhost:99999999999/foo:latest", "localhost:99999999999/foo", "localhost:99999999999",
     "foo", "latest", NULL},
    {"a.b.c.d/e/f/g/h", "a.b.c.d/e/f/g/h:latest", "a.b.c.d/e/f/g/h:latest", "a.b.c.d/e/f/g/h",
     "a.b.c.d", "e/f/g/h", "latest", NULL},
    {"my-registry.example.com:443/team/app-name_1:v1.2.3",
     "my-registry.example.com:443/team/app-name_1:v1.2.3",
     "my-registry.example.com:443/team/app-name_1:v1.2.3",
     "my-registry.example.com:443/team/app-name_1", "my-registry.example.com:443",
     "team/app-name_1", "v1.2.3", NULL},
    {"docker---rules/docker", "docker.io/docker---rules/docker:latest",
     "docker---rules/docker:latest", "docker---rules/docker", "docker.io", "docker---rules/docker",
     "latest", NULL},
    {"dock__er/docker", "docker.io/dock__er/docker:latest", "dock__er/docker:latest",
     "dock__er/docker", "docker.io", "dock__er/docker", "latest", NULL},
    {"d/docker", "docker.io/d/docker:latest", "d/docker:latest", "d/docker", "docker.io",
     "d/docker", "latest", NULL},
    {"jess/t", "docker.io/jess/t:latest", "jess/t:latest", "jess/t", "docker.io", "jess/t",
     "latest", NULL},
    {"a.b/c", "a.b/c:latest", "a.b/c:latest", "a.b/c", "a.b", "c", "latest", NULL},
    {"ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base:latest", "ubuntu-12.04-base:latest",
     "ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "latest", NULL},
    {"thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
     "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
     "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
     "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
     "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "latest", NULL},
    {"docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
     "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
     "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:latest",
     "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "docker.io",
     "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "latest", NULL},
    {"1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:tag",
     "docker.io/library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:tag",
     "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:tag",
     "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "docker.io",
     "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "tag", NULL},
    {"sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "docker.io/library/sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", "sha256",
     "docker.io", "library/sha256",
     "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", NULL},
    {"foo:_x", "docker.io/library/foo:_x", "foo:_x", "foo", "docker.io", "library/foo", "_x", NULL},
    {"foo:A_b.c-d", "docker.io/library/foo:A_b.c-d", "foo:A_b.c-d", "foo", "docker.io",
     "library/foo", "A_b.c-d", NULL},
    {"foo:"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "docker.io/library/"
     "foo:"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "foo:"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "foo", "docker.io", "library/foo",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     NULL},
    {"docker.io/foo.com/bar", "docker.io/foo.com/bar:latest", "foo.com/bar:latest", "foo.com/bar",
     "docker.io", "foo.com/bar", "latest", NULL},
    {"docker.io/localhost/x", "docker.io/localhost/x:latest", "localhost/x:latest", "localhost/x",
     "docker.io", "localhost/x", "latest", NULL},
};

static const struct bad {
	const char *in, *msg;
} bad[] = {
    {"", "invalid reference format"},
    {"Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
    {"BUSYBOX:latest",
     "invalid reference format: repository name (library/BUSYBOX) must be lowercase"},
    {"docker/Docker",
     "invalid reference format: repository name (docker/Docker) must be lowercase"},
    {"docker.io/docker/Docker",
     "invalid reference format: repository name (docker/Docker) must be lowercase"},
    {"localhost/Foo", "invalid reference format: repository name (Foo) must be lowercase"},
    {"foo/Bar:tag", "invalid reference format: repository name (foo/Bar) must be lowercase"},
    {"Foo_bar/x", "repository name must be lowercase"},
    {"1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
     "invalid repository name (1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a), "
     "cannot specify 64-byte hexadecimal strings"},
    {"https://github.com/docker/docker", "invalid reference format"},
    {"-docker", "invalid reference format"},
    {"-docker/docker", "invalid reference format"},
    {"docker-/docker", "invalid reference format"},
    {"-docker.io/docker/docker", "invalid reference format"},
    {"docker///docker", "invalid reference format"},
    {"docker.io/docker///docker", "invalid reference format"},
    {"____/____", "invalid reference format"},
    {"_docker/_docker", "invalid reference format"},
    {"dock..er/docker", "invalid reference format"},
    {"dock_.er/docker", "invalid reference format"},
    {"dock-.er/docker", "invalid reference format"},
    {"docker/", "invalid reference format"},
    {"localhost/", "invalid reference format"},
    {"/foo", "invalid reference format"},
    {"foo//bar", "invalid reference format"},
    {"[fc00::1]", "invalid reference format"},
    {"[fc00::1]:5000", "invalid reference format"},
    {"fc00::1:5000/debian", "invalid reference format"},
    {"[fe80::1%eth0]:5000/debian", "invalid reference format"},
    {"[2001:db8:3:4::192.0.2.33]:5000/debian", "invalid reference format"},
    {"[]/foo", "invalid reference format"},
    {"[::1]:/foo", "invalid reference format"},
    {"a:5000:6/foo", "invalid reference format"},
    {":5000/foo", "invalid reference format"},
    {"foo:", "invalid reference format"},
    {"foo@", "invalid reference format"},
    {"foo:bar:baz", "invalid reference format"},
    {"foo:-x", "invalid reference format"},
    {"foo:.x", "invalid reference format"},
    {"foo:"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "invalid reference format"},
    {"foo:a/b", "invalid reference format"},
    {"foo bar", "invalid reference format"},
    {"foo@bar", "invalid reference format"},
    {"foo@sha256:abc", "invalid reference format"},
    {"foo@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aa",
     "invalid checksum digest length"},
    {"foo@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaaa",
     "invalid checksum digest length"},
    {"foo@sha256:86E0E091D0DA6BDE2456DBB48306F3956BBEB2EAE1B5B9A43045843F69FE4AAA",
     "invalid checksum digest format"},
    {"foo@sha512:"
     "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa86e0e091d0da6bde2456dbb48306f"
     "3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "unsupported digest algorithm"},
    {"foo@SHA256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "invalid reference format: repository name (library/foo@SHA256) must be lowercase"},
    {"foo:1@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa@sha256:"
     "86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa",
     "invalid reference format"},
    {"foo@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa:x",
     "invalid reference format"},
    {"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_"
     "namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_"
     "lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_"
     "255/docker",
     "repository name must not be more than 255 characters"},
    /* deliberate: Go keeps "foo_bar.com/x" as a name without a domain */
    {"foo_bar.com/x", "invalid reference format: \"foo_bar.com\" is not a valid registry host"},
};

static void check_str(const char *what, const char *in, const char *want, const char *got)
{
	if ((want == NULL) != (got == NULL) || (want && strcmp(want, got) != 0)) {
		print_error("%s of \"%s\": want \"%s\", got \"%s\"\n", what, in,
			    want ? want : "(null)", got ? got : "(null)");
		fail();
	}
}

static void test_valid_table(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good *g = &good[i];
		struct image_reference r, again;
		struct err *err = NULL;
		char *s, *f, *fn;

		if (image_reference_parse(g->in, &r, &err) < 0) {
			print_error("\"%s\": %s\n", g->in, err->msg);
			fail();
		}
		check_str("domain", g->in, g->domain, r.domain);
		check_str("path", g->in, g->path, r.path);
		check_str("tag", g->in, g->tag, r.tag);
		check_str("digest", g->in, g->digest, r.digest);
		s = image_reference_string(&r);
		f = image_reference_familiar(&r);
		fn = image_reference_familiar_name(&r);
		check_str("string", g->in, g->full, s);
		check_str("familiar", g->in, g->familiar, f);
		check_str("familiar name", g->in, g->familiar_name, fn);

		/* The canonical string is a fixed point. */
		assert_int_equal(image_reference_parse(s, &again, &err), 0);
		check_str("reparsed domain", s, r.domain, again.domain);
		check_str("reparsed path", s, r.path, again.path);
		check_str("reparsed tag", s, r.tag, again.tag);
		check_str("reparsed digest", s, r.digest, again.digest);
		image_reference_clear(&again);
		free(s);
		free(f);
		free(fn);
		image_reference_clear(&r);
	}
}

static void test_invalid_table(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image_reference r;
		struct err *err = NULL;
		int rc = image_reference_parse(bad[i].in, &r, &err);

		if (rc == 0) {
			print_error("\"%s\" was accepted\n", bad[i].in);
			fail();
		}
		assert_int_equal(rc, -EINVAL);
		check_str("error", bad[i].in, bad[i].msg, err->msg);
		/* Nothing is left behind on failure. */
		assert_null(r.domain);
		assert_null(r.path);
		assert_null(r.tag);
		assert_null(r.digest);
		err_free(&err);
	}
}

/* The deliberate limit: Go has none, moat refuses more than 4 KiB. */
static void test_length_cap(void **state)
{
	static char s[5000];
	struct image_reference r;
	struct err *err = NULL;

	/* 4096 bytes: a very long domain, but within the cap: parses. */
	memset(s, 'a', 4096 - 5);
	memcpy(s + 4096 - 5, ".io/b", 6);
	assert_int_equal(strlen(s), 4096);
	assert_int_equal(image_reference_parse(s, &r, &err), 0);
	assert_int_equal(strlen(r.domain), 4096 - 2);
	image_reference_clear(&r);
	/* One more byte: refused before anything is allocated. */
	memset(s, 'a', 4097 - 5);
	memcpy(s + 4097 - 5, ".io/b", 6);
	assert_int_equal(image_reference_parse(s, &r, &err), -EINVAL);
	assert_non_null(strstr(err->msg, "longer than 4096"));
	err_free(&err);
}

static void test_path_length_limit(void **state)
{
	char in[300], *s;
	struct image_reference r;
	struct err *err = NULL;

	/* 255 bytes of path is the limit, "library/" included. */
	memset(in, 0, sizeof(in));
	memcpy(in, "localhost/", 10);
	memset(in + 10, 'a', 255);
	assert_int_equal(image_reference_parse(in, &r, &err), 0);
	assert_int_equal(strlen(r.path), 255);
	image_reference_clear(&r);
	in[10 + 255] = 'a';
	assert_int_equal(image_reference_parse(in, &r, &err), -EINVAL);
	assert_string_equal(err->msg, "repository name must not be more than 255 characters");
	err_free(&err);

	memset(in, 0, sizeof(in));
	memset(in, 'a', 247);
	assert_int_equal(image_reference_parse(in, &r, &err), 0);
	s = image_reference_string(&r);
	assert_int_equal(strlen(r.path), 255);
	free(s);
	image_reference_clear(&r);
	in[247] = 'a';
	assert_int_equal(image_reference_parse(in, &r, &err), -EINVAL);
	err_free(&err);
}

static void test_registry_host(void **state)
{
	static const struct {
		const char *in, *host;
	} t[] = {
	    {"busybox", "registry-1.docker.io"},
	    {"docker.io/ns/app", "registry-1.docker.io"},
	    {"index.docker.io/ns/app", "registry-1.docker.io"},
	    {"registry-1.docker.io/x", "registry-1.docker.io"},
	    {"localhost:5000/x", "localhost:5000"},
	    {"127.0.0.1:5000/x", "127.0.0.1:5000"},
	    {"[::1]:5000/x", "[::1]:5000"},
	    {"quay.io/x/y", "quay.io"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct image_reference r;
		struct err *err = NULL;

		assert_int_equal(image_reference_parse(t[i].in, &r, &err), 0);
		assert_string_equal(image_reference_registry_host(&r), t[i].host);
		image_reference_clear(&r);
	}
}

static void test_domain_valid(void **state)
{
	static const char *const ok[] = {
	    "localhost",
	    "localhost:5000",
	    "127.0.0.1",
	    "127.0.0.1:5000",
	    "[::1]",
	    "[::1]:5000",
	    "[fc00:1:2:3:4:5:6:7]:443",
	    "example.com",
	    "EXAMPLE.com:1",
	    "a",
	    "a-b.c-d",
	    "x:0",
	};
	static const char *const no[] = {
	    "",
	    ":5000",
	    "a:",
	    "a:b",
	    "a:5000:1",
	    "-a",
	    "a-",
	    "a..b",
	    ".a",
	    "a.",
	    "a_b",
	    "[]",
	    "[::1",
	    "[::1]:",
	    "[::1]x",
	    "[g::1]",
	    "[fe80::1%eth0]",
	    "a/b",
	    "a b",
	    "http://a",
	    "::1",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!image_reference_domain_valid(ok[i])) {
			print_error("\"%s\" refused\n", ok[i]);
			fail();
		}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (image_reference_domain_valid(no[i])) {
			print_error("\"%s\" accepted\n", no[i]);
			fail();
		}
	assert_false(image_reference_domain_valid(NULL));
}

static void test_clear_is_idempotent(void **state)
{
	struct image_reference r = {0};

	image_reference_clear(&r);
	image_reference_clear(NULL);
	assert_null(r.domain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_table),		cmocka_unit_test(test_invalid_table),
	    cmocka_unit_test(test_length_cap),		cmocka_unit_test(test_path_length_limit),
	    cmocka_unit_test(test_registry_host),	cmocka_unit_test(test_domain_valid),
	    cmocka_unit_test(test_clear_is_idempotent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
