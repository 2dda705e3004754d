/*
 * image/signature.c - cosign "simple signing" signatures as a registry
 * stores them (see image/signature.h): the payload (decoded strictly,
 * encoded for what moat signs), the signature manifest under the tag
 * "sha256-<hex>.sig" (decoded into entries; a new signature appended) and
 * the OCI 1.1 referrers index that may point at such manifests.
 *
 * Runs in: the moat process (pull, push, sign, verify), as the invoking
 * user. PURE: bytes in, typed structs or bytes out, no system calls; no
 * json_t leaves this file. Fuzzed by fuzz/sig_payload_fuzz.c and
 * fuzz/sig_manifest_fuzz.c.
 *
 * Threats, and what holds against each:
 *  - an ambiguous signed payload: duplicate keys (two parsers may keep
 *    different copies) are refused by the parser, and unknown keys under
 *    "critical" or at the top level are refused, because a verifier that
 *    skips a claim it does not understand accepts a signature its signer
 *    meant to restrict (containers-signature(5): "critical" must be
 *    understood in full);
 *  - jansson accepts "\u0000" inside strings: every string compared or
 *    kept as a C string is refused when it holds a NUL, so
 *    "sha256:<hex>\u0000junk" never passes as a digest;
 *  - registry-served text reaching a terminal: control characters in a
 *    docker-reference or creator are refused, and registry strings quoted
 *    in messages are cut short with control characters replaced;
 *  - resource use: every document's size is capped before it is parsed,
 *    every count (layers, referrers) before anything is allocated for it;
 *  - one junk layer must not hide a good signature: a layer that is a
 *    descriptor but not a usable signature becomes an entry with a
 *    problem; only a document that is not a signature manifest at all (or
 *    a layer that is not a descriptor) fails as a whole;
 *  - CVE-2021-41190: a document with "manifests" is never read as a
 *    manifest, nor one with "layers" or "config" as an index.
 */
#include "image/signature.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/json.h"
#include "image/image.h"
#include "image/sigkey.h"

#define SIG_TEXT_MAX 1024 /* docker-reference and creator */
#define ANN_CERTIFICATE "dev.sigstore.cosign/certificate"
#define ZERO_TIME "0001-01-01T00:00:00Z"

/* The string value of V, or NULL when V is not a string or holds a NUL. */
static const char *str_value(json_t *v)
{
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* S shortened to fit OUT with control characters replaced, for quoting
 * registry-served strings in messages. */
static const char *quote(const char *s, char out[82])
{
	size_t i;

	for (i = 0; s[i] && i < 80; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = 0;
	return out;
}

/* Strict UTF-8 as jansson checks it (no overlong forms, no surrogates,
 * nothing above U+10FFFF), so encode refuses what decode could not read. */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned c = *p++, n, min;
		uint32_t cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		for (; n; n--, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (*p & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/* How many bytes the base64 text S (base64_valid: a non-empty multiple of
 * 4 characters, padding only at the end) decodes to; counted from the
 * text rather than decoded, as nothing here needs the bytes. */
static size_t b64_bytes(const char *s)
{
	size_t len = strlen(s);

	return len / 4 * 3 - (s[len - 1] == '=') - (s[len - 2] == '=');
}

/* Why S cannot be a docker-reference or creator, or NULL when it can. */
static const char *text_problem(const char *s, bool allow_empty)
{
	size_t len = strlen(s);

	if (!len && !allow_empty)
		return "is empty";
	if (len > SIG_TEXT_MAX)
		return "is longer than 1024 bytes";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/* Fails on a key of OBJ that is not one of KEYS (NULL-terminated). */
static int only_keys(json_t *obj, const char *const *keys, const char *what, struct err **err)
{
	const char *k;
	json_t *v;
	char q[82];

	json_object_foreach (obj, k, v) {
		size_t i;

		for (i = 0; keys[i] && strcmp(keys[i], k); i++)
			;
		if (!keys[i])
			return err_set(err, EINVAL, "signature payload: unknown key \"%s\" in %s",
				       quote(k, q), what);
	}
	return 0;
}

/* OBJ[KEY] as an object with exactly KEYS. */
static json_t *member_object(json_t *obj, const char *key, const char *const *keys,
			     const char *what, struct err **err)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		err_set(err, EINVAL, "signature payload: %s is missing", what);
		return NULL;
	}
	if (!json_is_object(v)) {
		err_set(err, EINVAL, "signature payload: %s must be an object", what);
		return NULL;
	}
	if (only_keys(v, keys, what, err) < 0)
		return NULL;
	return v;
}

/* OBJ[KEY] as a string without NUL. */
static const char *member_string(json_t *obj, const char *key, const char *what, struct err **err)
{
	json_t *v = json_object_get(obj, key);
	const char *s = str_value(v);

	if (!v)
		err_set(err, EINVAL, "signature payload: %s is missing", what);
	else if (!s)
		err_set(err, EINVAL, "signature payload: %s must be a string (without NUL)", what);
	return s;
}

void sig_payload_clear(struct sig_payload *p)
{
	if (!p)
		return;
	free(p->docker_reference);
	free(p->creator);
	memset(p, 0, sizeof(*p));
}

static int decode_optional(json_t *opt, struct sig_payload *p, struct err **err)
{
	json_t *c, *t;
	const char *s, *why;

	/* cosign writes "optional": null when it has no annotations. */
	if (!opt || json_is_null(opt))
		return 0;
	if (!json_is_object(opt))
		return err_set(err, EINVAL,
			       "signature payload: optional must be an object or null");
	/* Other keys are cosign's free-form annotations: not claims moat
	 * checks. A null creator or timestamp counts as absent, as a null
	 * "optional" does. */
	c = json_object_get(opt, "creator");
	if (c && !json_is_null(c)) {
		s = str_value(c);
		if (!s)
			return err_set(err, EINVAL,
				       "signature payload: optional.creator must be a string");
		why = text_problem(s, true);
		if (why)
			return err_set(err, EINVAL, "signature payload: optional.creator %s", why);
		p->creator = strdup(s);
		if (!p->creator)
			return err_errno(err, ENOMEM, "signature payload");
	}
	t = json_object_get(opt, "timestamp");
	if (t && !json_is_null(t)) {
		if (!json_is_integer(t))
			return err_set(err, EINVAL,
				       "signature payload: optional.timestamp must be an integer");
		p->timestamp = json_integer_value(t);
		p->has_timestamp = true;
	}
	return 0;
}

static void payload_clearp(struct sig_payload *p)
{
	sig_payload_clear(p);
}

int sig_payload_decode(const void *buf, size_t len, struct sig_payload *out, struct err **err)
{
	static const char *const top_keys[] = {"critical", "optional", NULL};
	static const char *const crit_keys[] = {"identity", "image", "type", NULL};
	static const char *const id_keys[] = {"docker-reference", NULL};
	static const char *const img_keys[] = {"docker-manifest-digest", NULL};
	__attribute__((cleanup(payload_clearp))) struct sig_payload p = {0};
	_cleanup_json_ json_t *root = NULL;
	json_t *crit, *id, *img;
	const char *ref, *dg, *type, *why;
	char q[82];
	int r;

	memset(out, 0, sizeof(*out));
	if (len > SIG_PAYLOAD_MAX)
		return err_set(err, E2BIG, "payload is %zu bytes (at most %d)", len,
			       SIG_PAYLOAD_MAX);
	root = json_parse_strict(buf, len, "signature payload", err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "signature payload: not a JSON object");
	if ((r = only_keys(root, top_keys, "the top level", err)) < 0)
		return r;
	crit = member_object(root, "critical", crit_keys, "critical", err);
	if (!crit)
		return err_ret(*err);
	id = member_object(crit, "identity", id_keys, "critical.identity", err);
	if (!id)
		return err_ret(*err);
	img = member_object(crit, "image", img_keys, "critical.image", err);
	if (!img)
		return err_ret(*err);

	type = member_string(crit, "type", "critical.type", err);
	if (!type)
		return err_ret(*err);
	if (strcmp(type, SIG_PAYLOAD_TYPE))
		return err_set(err, EINVAL, "signature payload: type \"%s\" is not \"%s\"",
			       quote(type, q), SIG_PAYLOAD_TYPE);

	/* Kept verbatim: the policy decides how to compare it (no normalising
	 * here, so what is matched is what was signed). */
	ref = member_string(id, "docker-reference", "critical.identity.docker-reference", err);
	if (!ref)
		return err_ret(*err);
	why = text_problem(ref, false);
	if (why)
		return err_set(err, EINVAL, "signature payload: docker-reference %s", why);

	dg = member_string(img, "docker-manifest-digest", "critical.image.docker-manifest-digest",
			   err);
	if (!dg)
		return err_ret(*err);
	if (!digest_valid(dg))
		return err_set(err, EINVAL,
			       "signature payload: docker-manifest-digest \"%s\" is not a sha256 "
			       "digest",
			       quote(dg, q));

	p.docker_reference = strdup(ref);
	if (!p.docker_reference)
		return err_errno(err, ENOMEM, "signature payload");
	memcpy(p.manifest_digest, dg, sizeof(p.manifest_digest));
	if ((r = decode_optional(json_object_get(root, "optional"), &p, err)) < 0)
		return r;
	*out = p;
	memset(&p, 0, sizeof(p));
	return 0;
}

int sig_payload_encode(const char *docker_reference, const char *manifest_digest,
		       const char *creator, int64_t timestamp, char **out, size_t *len,
		       struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	json_t *opt;
	const char *why;
	char *s, q[82];

	if (!docker_reference)
		return err_set(err, EINVAL, "signature payload: no docker-reference");
	why = text_problem(docker_reference, false);
	if (!why && !utf8_valid(docker_reference))
		why = "is not valid UTF-8";
	if (why)
		return err_set(err, EINVAL, "signature payload: docker-reference %s", why);
	if (!manifest_digest || !digest_valid(manifest_digest))
		return err_set(err, EINVAL, "signature payload: \"%s\" is not a sha256 digest",
			       manifest_digest ? quote(manifest_digest, q) : "(null)");
	if (creator) {
		why = text_problem(creator, true);
		if (!why && !utf8_valid(creator))
			why = "is not valid UTF-8";
		if (why)
			return err_set(err, EINVAL, "signature payload: creator %s", why);
	}

	/* Keys go out in insertion order (jansson >= 2.8 keeps it), which is
	 * the order the header promises. */
	opt = json_object();
	if (opt && creator && json_object_set_new(opt, "creator", json_string(creator)) < 0)
		goto nomem;
	if (opt && timestamp >= 0 &&
	    json_object_set_new(opt, "timestamp", json_integer((json_int_t)timestamp)) < 0)
		goto nomem;
	root = json_pack("{s:{s:{s:s},s:{s:s},s:s},s:o}", "critical", "identity",
			 "docker-reference", docker_reference, "image", "docker-manifest-digest",
			 manifest_digest, "type", SIG_PAYLOAD_TYPE, "optional", opt);
	opt = NULL; /* json_pack's "o" took it, even on failure */
	if (!root)
		goto nomem;
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		goto nomem;
	*out = s;
	*len = strlen(s);
	return 0;
nomem:
	json_decref(opt);
	return err_errno(err, ENOMEM, "signature payload");
}

/* ---- signature manifests ---- */

static void entry_clear(struct sig_entry *e)
{
	free(e->signature);
	free(e->problem);
	memset(e, 0, sizeof(*e));
}

void sig_manifest_free(struct sig_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		entry_clear(&m->entries[i]);
	free(m->entries);
	free(m);
}

static void manifest_freep(struct sig_manifest **m)
{
	sig_manifest_free(*m);
}

/* A descriptor's digest (into DIGEST, when not NULL) and size: the
 * whole-document checks every layer, the config and every referrer pass. */
static int decode_descriptor(json_t *d, const char *what, char digest[7 + 64 + 1], int64_t *size,
			     struct err **err)
{
	json_t *sz;
	const char *dg;
	char q[82];

	if (!json_is_object(d))
		return err_set(err, EINVAL, "%s is not an object", what);
	dg = str_value(json_object_get(d, "digest"));
	if (!dg)
		return err_set(err, EINVAL, "%s has no \"digest\" string", what);
	if (!digest_valid(dg))
		return err_set(err, EINVAL, "%s: \"%s\" is not a sha256 digest", what,
			       quote(dg, q));
	sz = json_object_get(d, "size");
	if (!json_is_integer(sz) || json_integer_value(sz) < 0)
		return err_set(err, EINVAL, "%s: \"size\" must be an integer >= 0", what);
	if (digest)
		memcpy(digest, dg, 7 + 64 + 1);
	if (size)
		*size = json_integer_value(sz);
	return 0;
}

/* The signature-specific facts of one layer; what makes it unusable goes
 * into E->problem (only ENOMEM fails). */
static int decode_entry(json_t *layer, struct sig_entry *e, struct err **err)
{
	json_t *ann = json_object_get(layer, "annotations"), *sig = NULL;
	const char *mt = str_value(json_object_get(layer, "mediaType")), *b64 = NULL;
	char q[82];
	int n = 0;

	if (json_is_object(ann)) {
		sig = json_object_get(ann, SIG_ANN_SIGNATURE);
		b64 = str_value(sig);
		/* Any value counts: refusing too much is the safe side. */
		e->has_certificate = json_object_get(ann, ANN_CERTIFICATE) != NULL;
	}
	if (b64) {
		e->signature = strdup(b64);
		if (!e->signature)
			return err_errno(err, ENOMEM, "signature manifest");
	}

	if (!mt)
		n = asprintf(&e->problem, "layer has no media type");
	else if (strcmp(mt, SIG_MT_SIMPLESIGNING))
		n = asprintf(&e->problem, "media type \"%s\" is not a simple-signing payload",
			     quote(mt, q));
	else if (e->size > SIG_PAYLOAD_MAX)
		n = asprintf(&e->problem, "payload is %lld bytes (at most %d)", (long long)e->size,
			     SIG_PAYLOAD_MAX);
	else if (ann && !json_is_null(ann) && !json_is_object(ann))
		n = asprintf(&e->problem, "\"annotations\" is not an object");
	else if (!sig)
		n = asprintf(&e->problem, "no %s annotation", SIG_ANN_SIGNATURE);
	else if (!b64 || !base64_valid(b64))
		n = asprintf(&e->problem, "signature annotation is not valid base64");
	else if (b64_bytes(b64) > SIGKEY_SIG_MAX)
		n = asprintf(&e->problem, "signature is %zu bytes (at most %d)", b64_bytes(b64),
			     SIGKEY_SIG_MAX);
	if (n < 0) {
		e->problem = NULL;
		return err_errno(err, ENOMEM, "signature manifest");
	}
	return 0;
}

/* Decodes a signature manifest and, when ROOTP is not NULL, hands back the
 * parsed document too (append keeps its layer objects). */
static int manifest_parse(const char *buf, size_t len, const char *media_type, json_t **rootp,
			  struct sig_manifest **out, struct err **err)
{
	__attribute__((cleanup(manifest_freep))) struct sig_manifest *m = NULL;
	_cleanup_json_ json_t *root = NULL;
	json_t *mt, *sv, *layers, *l;
	const char *mts;
	char q[82], what[64];
	size_t i;
	int r;

	*out = NULL;
	if (len > SIG_MANIFEST_MAX)
		return err_set(err, E2BIG, "signature manifest is %zu bytes (at most %d)", len,
			       SIG_MANIFEST_MAX);
	if (media_type && strcmp(media_type, IMAGE_MT_OCI_MANIFEST))
		return err_set(err, EINVAL,
			       "signature manifest: served as \"%s\", not an OCI image manifest",
			       quote(media_type, q));
	root = json_parse_strict(buf, len, "signature manifest", err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "signature manifest: not a JSON object");
	mt = json_object_get(root, "mediaType");
	mts = str_value(mt);
	if (mt && (!mts || strcmp(mts, IMAGE_MT_OCI_MANIFEST)))
		return err_set(err, EINVAL,
			       "signature manifest: mediaType \"%s\" is not an OCI image manifest",
			       mts ? quote(mts, q) : "(not a string)");
	sv = json_object_get(root, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return err_set(err, EINVAL, "signature manifest: \"schemaVersion\" must be 2");
	if (json_object_get(root, "manifests"))
		return err_set(err, EINVAL,
			       "signature manifest: has \"manifests\" (an index, not a manifest)");
	if ((r = decode_descriptor(json_object_get(root, "config"), "signature manifest: config",
				   NULL, NULL, err)) < 0)
		return r;
	layers = json_object_get(root, "layers");
	if (!json_is_array(layers))
		return err_set(err, EINVAL, "signature manifest: \"layers\" must be an array");
	if (json_array_size(layers) > SIG_MAX_LAYERS)
		return err_set(err, E2BIG, "signature manifest: %zu layers, at most %d",
			       json_array_size(layers), SIG_MAX_LAYERS);

	m = calloc(1, sizeof(*m));
	if (!m)
		return err_errno(err, ENOMEM, "signature manifest");
	m->entries = calloc(json_array_size(layers) + 1, sizeof(*m->entries));
	if (!m->entries)
		return err_errno(err, ENOMEM, "signature manifest");
	json_array_foreach (layers, i, l) {
		struct sig_entry *e = &m->entries[i];

		m->n++;
		snprintf(what, sizeof(what), "signature manifest: layers[%zu]", i);
		if ((r = decode_descriptor(l, what, e->digest, &e->size, err)) < 0 ||
		    (r = decode_entry(l, e, err)) < 0)
			return r;
	}
	if (rootp)
		*rootp = steal_ptr(root);
	*out = steal_ptr(m);
	return 0;
}

int sig_manifest_decode(const char *buf, size_t len, const char *media_type,
			struct sig_manifest **out, struct err **err)
{
	return manifest_parse(buf, len, media_type, NULL, out, err);
}

int sig_manifest_append(const char *existing, size_t existing_len, const char *payload_digest,
			int64_t payload_size, const char *signature_b64, char **config,
			size_t *config_len, char **manifest, size_t *manifest_len, struct err **err)
{
	__attribute__((cleanup(manifest_freep))) struct sig_manifest *m = NULL;
	_cleanup_json_ json_t *old = NULL, *layers = NULL, *diff_ids = NULL, *cfg = NULL,
			      *man = NULL;
	_cleanup_free_ char *cfg_s = NULL, *man_s = NULL;
	char hex[SHA256_HEX_LEN + 1], cfg_digest[7 + 64 + 1], q[82];
	size_t n = 0;
	int r;

	if (!payload_digest || !digest_valid(payload_digest))
		return err_set(err, EINVAL, "signature manifest: \"%s\" is not a sha256 digest",
			       payload_digest ? quote(payload_digest, q) : "(null)");
	if (payload_size < 0 || payload_size > SIG_PAYLOAD_MAX)
		return err_set(err, EINVAL, "signature manifest: payload size %lld out of range",
			       (long long)payload_size);
	/* What this appends must decode as a usable entry afterwards. */
	if (!signature_b64 || !base64_valid(signature_b64) ||
	    b64_bytes(signature_b64) > SIGKEY_SIG_MAX)
		return err_set(err, EINVAL,
			       "signature manifest: the signature is not base64 of "
			       "at most %d bytes",
			       SIGKEY_SIG_MAX);

	if (existing) {
		r = manifest_parse(existing, existing_len, NULL, &old, &m, err);
		if (r < 0)
			return r;
		n = m->n;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(m->entries[i].digest, payload_digest) &&
			    m->entries[i].signature &&
			    !strcmp(m->entries[i].signature, signature_b64))
				return 1;
	}
	if (n + 1 > SIG_MAX_LAYERS)
		return err_set(err, E2BIG, "signature manifest: %zu layers, at most %d", n + 1,
			       SIG_MAX_LAYERS);

	layers = json_array();
	diff_ids = json_array();
	if (!layers || !diff_ids)
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		/* The existing layer object itself (shared, not copied): every
		 * field and annotation another signer wrote stays. */
		if (json_array_append(layers, json_array_get(json_object_get(old, "layers"), i)) <
			0 ||
		    json_array_append_new(diff_ids, json_string(m->entries[i].digest)) < 0)
			goto nomem;
	}
	if (json_array_append_new(
		layers, json_pack("{s:s,s:I,s:s,s:{s:s}}", "mediaType", SIG_MT_SIMPLESIGNING,
				  "size", (json_int_t)payload_size, "digest", payload_digest,
				  "annotations", SIG_ANN_SIGNATURE, signature_b64)) < 0 ||
	    json_array_append_new(diff_ids, json_string(payload_digest)) < 0)
		goto nomem;

	/* What cosign (go-containerregistry's empty image plus appended
	 * layers) writes; its digest is over exactly the bytes returned. */
	cfg = json_pack("{s:s,s:{},s:s,s:[{s:s}],s:s,s:{s:s,s:O}}", "architecture", "", "config",
			"created", ZERO_TIME, "history", "created", ZERO_TIME, "os", "", "rootfs",
			"type", "layers", "diff_ids", diff_ids);
	if (!cfg)
		goto nomem;
	cfg_s = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!cfg_s)
		goto nomem;
	digest_sha256_hex(cfg_s, strlen(cfg_s), hex);
	snprintf(cfg_digest, sizeof(cfg_digest), "sha256:%s", hex);

	man = json_pack("{s:i,s:s,s:{s:s,s:I,s:s},s:O}", "schemaVersion", 2, "mediaType",
			IMAGE_MT_OCI_MANIFEST, "config", "mediaType", IMAGE_MT_OCI_CONFIG, "size",
			(json_int_t)strlen(cfg_s), "digest", cfg_digest, "layers", layers);
	if (!man)
		goto nomem;
	man_s = json_dumps(man, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!man_s)
		goto nomem;
	/* Keep it readable by sig_manifest_decode, here and at every verifier. */
	if (strlen(man_s) > SIG_MANIFEST_MAX)
		return err_set(err, E2BIG, "signature manifest would be %zu bytes (at most %d)",
			       strlen(man_s), SIG_MANIFEST_MAX);

	*config_len = strlen(cfg_s);
	*config = steal_ptr(cfg_s);
	*manifest_len = strlen(man_s);
	*manifest = steal_ptr(man_s);
	return 0;
nomem:
	return err_errno(err, ENOMEM, "signature manifest");
}

int sig_tag_for(const char *digest, char out[SIG_TAG_LEN], struct err **err)
{
	char q[82];

	if (!digest || !digest_valid(digest))
		return err_set(err, EINVAL, "\"%s\" is not a sha256 digest",
			       digest ? quote(digest, q) : "(null)");
	snprintf(out, SIG_TAG_LEN, "sha256-%s.sig", digest + 7);
	return 0;
}

int sig_referrers_decode(const char *buf, size_t len, char ***digests, struct err **err)
{
	_cleanup_json_ json_t *root = NULL;
	_cleanup_strv_ char **r = NULL;
	json_t *mt, *sv, *list, *d;
	const char *mts;
	char q[82], what[64];
	size_t i, n = 0;
	int rc;

	*digests = NULL;
	if (len > SIG_MANIFEST_MAX)
		return err_set(err, E2BIG, "referrers index is %zu bytes (at most %d)", len,
			       SIG_MANIFEST_MAX);
	root = json_parse_strict(buf, len, "referrers index", err);
	if (!root)
		return err_ret(*err);
	if (!json_is_object(root))
		return err_set(err, EINVAL, "referrers index: not a JSON object");
	mt = json_object_get(root, "mediaType");
	mts = str_value(mt);
	if (mt && (!mts || strcmp(mts, IMAGE_MT_OCI_INDEX)))
		return err_set(err, EINVAL,
			       "referrers index: mediaType \"%s\" is not an OCI image index",
			       mts ? quote(mts, q) : "(not a string)");
	sv = json_object_get(root, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return err_set(err, EINVAL, "referrers index: \"schemaVersion\" must be 2");
	if (json_object_get(root, "layers") || json_object_get(root, "config"))
		return err_set(err, EINVAL,
			       "referrers index: has \"layers\" or \"config\" (a manifest, not an "
			       "index)");
	list = json_object_get(root, "manifests");
	if (!json_is_array(list))
		return err_set(err, EINVAL, "referrers index: \"manifests\" must be an array");

	r = calloc(SIG_MAX_REFERRERS + 1, sizeof(*r));
	if (!r)
		return err_errno(err, ENOMEM, "referrers index");
	/* Every entry is checked, also past the cap: a malformed index is
	 * refused whole rather than read up to where it goes wrong. */
	json_array_foreach (list, i, d) {
		char dg[7 + 64 + 1];
		const char *ats;
		json_t *at;
		bool seen = false;

		snprintf(what, sizeof(what), "referrers index: manifests[%zu]", i);
		if ((rc = decode_descriptor(d, what, dg, NULL, err)) < 0)
			return rc;
		if (!str_value(json_object_get(d, "mediaType")))
			return err_set(err, EINVAL, "%s has no \"mediaType\" string", what);
		at = json_object_get(d, "artifactType");
		ats = str_value(at);
		if (at && !json_is_null(at) && !ats)
			return err_set(err, EINVAL, "%s: \"artifactType\" must be a string", what);
		if (!ats || strcmp(ats, SIG_ARTIFACT_TYPE) || n == SIG_MAX_REFERRERS)
			continue;
		for (size_t k = 0; k < n; k++)
			seen = seen || !strcmp(r[k], dg);
		if (seen)
			continue;
		r[n] = strdup(dg);
		if (!r[n])
			return err_errno(err, ENOMEM, "referrers index");
		n++;
	}
	*digests = steal_ptr(r);
	return 0;
}
