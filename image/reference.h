/*
 * image/reference.h - Docker's image reference grammar and normalisation
 * (PURE): "busybox" -> docker.io/library/busybox:latest,
 * "host:port/ns/name:tag@sha256:<hex>".
 */
#ifndef MOAT_IMAGE_REFERENCE_H
#define MOAT_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "common/err.h"

struct image_reference {
	char *domain; /* "docker.io", "localhost:5000", "127.0.0.1:5000", "[::1]:5000" */
	char *path;   /* "library/busybox", "ns/app" */
	char *tag;    /* "latest" when neither tag nor digest was given; NULL with a digest only */
	char *digest; /* "sha256:<64 hex>" or NULL */
};

/* Parses and normalises S like Docker (distribution/reference
 * ParseNormalizedNamed + TagNameOnly): lower-case path components
 * separated by [._-] / "__" / "-+", a domain when the first component
 * has "." or ":" or is "localhost", tag [\w][\w.-]{0,127}, digest
 * algorithm:hex (sha256 with 64 hex only). Total length <= 255 for the
 * name. Errors say what is wrong: "invalid reference format",
 * "invalid reference format: repository name must be lowercase", ... */
int image_reference_parse(const char *s, struct image_reference *out, struct err **err);
void image_reference_clear(struct image_reference *r);
/* "docker.io/library/busybox:latest" (tag and/or @digest). malloc'd. */
char *image_reference_string(const struct image_reference *r);
/* Docker's familiar form: "busybox:latest", "ns/app:1", "localhost:5000/x:1" (docker.io/ and
 * library/ dropped). malloc'd. */
char *image_reference_familiar(const struct image_reference *r);
/* The repository without tag/digest in familiar form ("busybox", "localhost:5000/x"). malloc'd. */
char *image_reference_familiar_name(const struct image_reference *r);
/* True when S is a registry host as references spell it: "host", "host:port", "1.2.3.4:5",
 * "[::1]:5000" (distribution/reference's domainAndPort). */
bool image_reference_domain_valid(const char *s);
/* The host to talk to: "docker.io" -> "registry-1.docker.io"; others as they are. */
const char *image_reference_registry_host(const struct image_reference *r);

#endif
