/*
 * engine/trust_verify.c - the trust decision at pull and `moat verify`
 * (signatures in the registry), and at `run` (the store's record checked
 * against the policy in force).
 *
 * Runs in: the moat process, as the invoking user, before any layer of
 * the image is fetched (pull) or any container exists (run).
 *
 * Order of checks for each signature (security-bar.md §4): the payload
 * blob is fetched with its size capped and its digest checked; the
 * signature is verified over those exact bytes with a key the policy
 * names; only then is the payload parsed (strictly); the policy then
 * decides on the digest and identity the payload states. A signature that
 * cannot be used is reported with the reason and does not count; it never
 * stops the others from being checked.
 */
#include "engine/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/registry.h"
#include "image/sigkey.h"
#include "image/signature.h"

/* Signatures looked at per image, over every manifest and referrer. */
#define MAX_SIGS 256

void engine_trust_report_clear(struct engine_trust_report *r)
{
	for (size_t i = 0; r->sigs && i < r->n; i++) {
		struct engine_trust_sig *s = &r->sigs[i];
		free(s->where);
		free(s->key);
		free(s->key_name);
		free(s->identity);
		free(s->digest);
		free(s->reason);
	}
	free(r->sigs);
	strvfree(r->keys);
	memset(r, 0, sizeof(*r));
}

int engine_trust_source(const char *name, char **out, struct err **err)
{
	struct image_reference ref = {0};
	int r;

	*out = NULL;
	if (!name || !*name) {
		*out = strdup("");
		return *out ? 0 : err_errno(err, ENOMEM, "trust");
	}
	r = image_reference_parse(name, &ref, err);
	if (r == 0 && !(*out = image_reference_string(&ref)))
		r = err_errno(err, ENOMEM, "trust");
	image_reference_clear(&ref);
	return r;
}

/* ---- the policy's keys ---- */

struct pkey {
	const char *name; /* as the policy names it: the keyPath or the keyData */
	char fp[SIGKEY_FP_LEN];
	struct sigkey *k; /* NULL at run (fingerprints only) */
};

struct keyset {
	struct pkey *v;
	size_t n;
};

static void keyset_clear(struct keyset *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		sigkey_free(ks->v[i].k);
	free(ks->v);
	memset(ks, 0, sizeof(*ks));
}

/* The PEM text of a policy key: a keyPath's file, or a keyData's base64. */
static int key_text(const char *name, bool is_data, char **buf, size_t *len, struct err **err)
{
	if (is_data) {
		unsigned char *dec = NULL;
		if (base64_decode(name, strlen(name), &dec, len) < 0)
			return err_set(err, EINVAL, "trust policy: keyData is not valid base64");
		*buf = (char *)dec;
		return 0;
	}
	if (fs_read_at(AT_FDCWD, name, SIGKEY_PEM_MAX, buf, len, err) < 0)
		return err_prefix(err, "trust policy: keyPath %s", name);
	return 0;
}

/* Every key the requirements REQS[0..NR) name, loaded with libcrypto
 * (LOAD) or only fingerprinted. With LOAD a key that cannot be loaded is
 * an error; without, it is left out (it matches nothing) and NOTE says so. */
static int keys_collect(const struct trust_req *reqs, size_t nr, bool load, struct keyset *ks,
			char *note, size_t note_len, struct err **err)
{
	for (size_t i = 0; i < nr; i++) {
		const char **paths = NULL, **datas = NULL;

		if (reqs[i].type != TRUST_REQ_SIGSTORE_SIGNED)
			continue;
		trust_req_keys(&reqs[i], &paths, &datas);
		for (int pass = 0; pass < 2; pass++) {
			const char **list = pass ? datas : paths;

			for (size_t j = 0; list && list[j]; j++) {
				_cleanup_free_ char *buf = NULL;
				struct pkey *nv, *pk;
				struct err *e = NULL;
				size_t len = 0;
				int r;

				r = key_text(list[j], pass == 1, &buf, &len, &e);
				if (r == 0 && load) {
					struct sigkey *k = NULL;
					r = sigkey_load_public(buf, len, pass ? "keyData" : list[j],
							       &k, &e);
					if (r == 0) {
						nv = realloc(ks->v, (ks->n + 1) * sizeof(*nv));
						if (!nv) {
							sigkey_free(k);
							return err_errno(err, ENOMEM, "trust");
						}
						ks->v = nv;
						pk = &ks->v[ks->n++];
						pk->name = list[j];
						pk->k = k;
						snprintf(pk->fp, sizeof(pk->fp), "%s",
							 sigkey_fingerprint(k));
						continue;
					}
				} else if (r == 0) {
					char fp[SIGKEY_FP_LEN];
					r = sigkey_fingerprint_pem(
					    buf, len, pass ? "keyData" : list[j], fp, &e);
					if (r == 0) {
						nv = realloc(ks->v, (ks->n + 1) * sizeof(*nv));
						if (!nv)
							return err_errno(err, ENOMEM, "trust");
						ks->v = nv;
						pk = &ks->v[ks->n++];
						memset(pk, 0, sizeof(*pk));
						pk->name = list[j];
						snprintf(pk->fp, sizeof(pk->fp), "%s", fp);
						continue;
					}
				}
				if (load) {
					*err = e;
					return err_prefix(err, "trust policy");
				}
				if (note && !note[0])
					snprintf(note, note_len, " (%.200s)", e->msg);
				err_free(&e);
			}
		}
	}
	return 0;
}

/* ---- signatures in the registry ---- */

struct found {
	char *where;
	char list_digest[72]; /* the manifest whose signature list held it */
	struct sig_entry e;   /* copied out of the decoded manifest */
};

static void found_clear(struct found *f)
{
	free(f->where);
	free(f->e.signature);
	free(f->e.problem);
}

static int report_add(struct engine_trust_report *rep, const char *where,
		      struct engine_trust_sig **out)
{
	struct engine_trust_sig *nv;

	*out = NULL;
	if (!rep)
		return 0;
	nv = realloc(rep->sigs, (rep->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	rep->sigs = nv;
	*out = &rep->sigs[rep->n++];
	memset(*out, 0, sizeof(**out));
	(*out)->where = strdup(where);
	return (*out)->where ? 0 : -ENOMEM;
}

static void set_reason(struct engine_trust_sig *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_reason(struct engine_trust_sig *s, const char *fmt, ...)
{
	va_list ap;

	if (!s)
		return;
	free(s->reason);
	va_start(ap, fmt);
	if (vasprintf(&s->reason, fmt, ap) < 0)
		s->reason = NULL;
	va_end(ap);
}

/* The entries of the signature manifest BODY (served as MT) into F. A
 * manifest that cannot be decoded becomes one report line. */
static int collect_manifest(const char *body, size_t len, const char *mt, const char *label,
			    const char *list_digest, struct found **f, size_t *nf,
			    struct engine_trust_report *rep, struct err **err)
{
	struct sig_manifest *m = NULL;
	struct err *e = NULL;

	if (sig_manifest_decode(body, len, mt, &m, &e) < 0) {
		struct engine_trust_sig *s;
		if (report_add(rep, label, &s) < 0) {
			err_free(&e);
			return err_errno(err, ENOMEM, "trust");
		}
		set_reason(s, "signature manifest refused: %s", e->msg);
		err_free(&e);
		return 0;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct found *nv, *one;

		if (*nf >= MAX_SIGS)
			break;
		nv = realloc(*f, (*nf + 1) * sizeof(*nv));
		if (!nv) {
			sig_manifest_free(m);
			return err_errno(err, ENOMEM, "trust");
		}
		*f = nv;
		one = &nv[(*nf)++];
		memset(one, 0, sizeof(*one));
		one->e = m->entries[i];
		/* Taken over: the manifest keeps no pointer to them. */
		m->entries[i].signature = NULL;
		m->entries[i].problem = NULL;
		snprintf(one->list_digest, sizeof(one->list_digest), "%s", list_digest);
		if (asprintf(&one->where, "%s layer %zu", label, i + 1) < 0) {
			one->where = NULL;
			sig_manifest_free(m);
			return err_errno(err, ENOMEM, "trust");
		}
	}
	sig_manifest_free(m);
	return 0;
}

/* Every signature listed for DIGEST: under its ".sig" tag and, where the
 * registry has the API, among its referrers. A missing list is no
 * signature; a registry error is one. */
static int collect(struct registry *reg, const char *digest, struct found **f, size_t *nf,
		   struct engine_trust_report *rep, struct err **err)
{
	_cleanup_free_ char *body = NULL, *mt = NULL, *idx = NULL;
	_cleanup_strv_ char **refs = NULL;
	char tag[SIG_TAG_LEN], got[72];
	struct err *e = NULL;
	size_t len = 0;
	int r;

	if (sig_tag_for(digest, tag, err) < 0)
		return err_ret(*err);
	r = registry_get_manifest(reg, tag, &body, &len, &mt, got, &e);
	if (r == 0) {
		r = collect_manifest(body, len, mt, tag, digest, f, nf, rep, err);
		if (r < 0)
			return r;
	} else if (r != -ENOENT) {
		*err = e;
		return err_prefix(err, "signatures of %s", digest);
	}
	err_free(&e);
	r = registry_get_referrers(reg, digest, SIG_MANIFEST_MAX, &idx, &len, &e);
	if (r == -ENOENT) {
		err_free(&e);
		return 0; /* no referrers API: the tag is the only place */
	}
	if (r == 0)
		r = sig_referrers_decode(idx, len, &refs, &e);
	if (r < 0) {
		/* Any other failure is not "no signatures": it is said. */
		struct engine_trust_sig *s;
		if (report_add(rep, "referrers", &s) < 0) {
			err_free(&e);
			return err_errno(err, ENOMEM, "trust");
		}
		set_reason(s, "referrers index refused: %s", e ? e->msg : "error");
		err_free(&e);
		return 0;
	}
	for (char **d = refs; d && *d; d++) {
		_cleanup_free_ char *rb = NULL, *rmt = NULL, *label = NULL;

		if (asprintf(&label, "referrer %.19s", *d) < 0)
			return err_errno(err, ENOMEM, "trust");
		if (registry_get_manifest(reg, *d, &rb, &len, &rmt, got, &e) < 0) {
			struct engine_trust_sig *s;
			if (report_add(rep, label, &s) < 0)
				return err_errno(err, ENOMEM, "trust");
			set_reason(s, "%s", e->msg);
			err_free(&e);
			continue;
		}
		r = collect_manifest(rb, len, rmt, label, digest, f, nf, rep, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The payload blob of F, at most SIG_PAYLOAD_MAX bytes, checked against
 * its digest (registry_get_blob does; a longer body is cut and refused). */
static int fetch_payload(struct registry *reg, const struct found *f, char **buf, size_t *len,
			 struct err **err)
{
	_cleanup_close_ int fd = memfd_create("moat-sig", MFD_CLOEXEC);
	ssize_t got;

	*buf = NULL;
	if (fd < 0)
		return err_errno(err, errno, "memfd");
	if (registry_get_blob(reg, f->e.digest, f->e.size, fd, NULL, NULL, err) < 0)
		return err_ret(*err);
	*buf = malloc((size_t)f->e.size + 1);
	if (!*buf)
		return err_errno(err, ENOMEM, "trust");
	got = pread(fd, *buf, (size_t)f->e.size, 0);
	if (got != f->e.size) {
		free(*buf);
		*buf = NULL;
		return err_set(err, EIO, "payload %s: short read", f->e.digest);
	}
	*len = (size_t)got;
	return 0;
}

/* Checks one signature F against the keys KS: fills S (the report line)
 * and, when it verified, SIG (pointing into S's strings). */
static int check_one(struct registry *reg, const struct found *f, const struct keyset *ks,
		     struct engine_trust_sig *s, struct trust_sig *sig, bool *verified,
		     struct err **err)
{
	_cleanup_free_ char *payload = NULL;
	_cleanup_free_ unsigned char *raw = NULL;
	struct sig_payload pl = {0};
	struct err *e = NULL;
	size_t plen = 0, rlen = 0;
	const struct pkey *hit = NULL;

	*verified = false;
	if (f->e.problem) {
		set_reason(s, "%s", f->e.problem);
		return 0;
	}
	if (!f->e.signature ||
	    base64_decode(f->e.signature, strlen(f->e.signature), &raw, &rlen) < 0) {
		set_reason(s, "signature annotation is not valid base64");
		return 0;
	}
	if (ks->n == 0) {
		set_reason(s, "the policy names no key for this image");
		return 0;
	}
	if (fetch_payload(reg, f, &payload, &plen, &e) < 0) {
		set_reason(s, "payload: %s", e->msg);
		err_free(&e);
		return 0;
	}
	for (size_t i = 0; i < ks->n && !hit; i++) {
		if (sigkey_verify(ks->v[i].k, payload, plen, raw, rlen, &e) == 0)
			hit = &ks->v[i];
		err_free(&e);
	}
	if (!hit) {
		set_reason(s,
			   f->e.has_certificate
			       ? "keyless (certificate) signature: not supported, and it does not "
				 "verify with any key the policy names"
			       : "does not verify with any key the policy names (%zu key%s)",
			   ks->n, ks->n == 1 ? "" : "s");
		return 0;
	}
	/* Verified over the exact bytes: now, and only now, parse them. */
	s->key = strdup(hit->fp);
	s->key_name = strdup(hit->name);
	if (!s->key || !s->key_name)
		return err_errno(err, ENOMEM, "trust");
	if (sig_payload_decode(payload, plen, &pl, &e) < 0) {
		set_reason(s, "signed payload refused: %s", e->msg);
		err_free(&e);
		return 0;
	}
	s->identity = steal_ptr(pl.docker_reference);
	s->digest = strdup(pl.manifest_digest);
	s->signed_at = pl.has_timestamp ? pl.timestamp : 0;
	sig_payload_clear(&pl);
	if (!s->digest)
		return err_errno(err, ENOMEM, "trust");
	sig->key_id = hit->name;
	sig->docker_reference = s->identity;
	sig->manifest_digest = s->digest;
	*verified = true;
	return 0;
}

static int entry_add(struct image_trust **t, size_t *n, const char *source, const char *rule,
		     const char *key, const char *identity, const char *digest, int64_t signed_at)
{
	struct image_trust *nv = realloc(*t, (*n + 1) * sizeof(*nv)), *e;

	if (!nv)
		return -ENOMEM;
	*t = nv;
	e = &nv[(*n)++];
	memset(e, 0, sizeof(*e));
	e->source = strdup(source);
	e->rule = strdup(rule);
	e->key = key ? strdup(key) : NULL;
	e->identity = identity ? strdup(identity) : NULL;
	e->digest = digest ? strdup(digest) : NULL;
	e->signed_at = signed_at;
	e->verified_at = time(NULL);
	if (!e->source || !e->rule || (key && !e->key) || (identity && !e->identity) ||
	    (digest && !e->digest))
		return -ENOMEM;
	return 0;
}

static bool needs_signatures(const struct trust_req *reqs, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		if (reqs[i].type == TRUST_REQ_SIGSTORE_SIGNED)
			return true;
	return false;
}

static int strv_add_unique(char ***v, const char *s)
{
	size_t n = 0;
	char **nv;

	while (*v && (*v)[n]) {
		if (!strcmp((*v)[n], s))
			return 0;
		n++;
	}
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[n] = strdup(s);
	nv[n + 1] = NULL;
	return nv[n] ? 0 : -ENOMEM;
}

int engine_trust_verify_registry(const struct trust_policy *p, struct registry *reg,
				 const char *source, const char *top, const char *manifest,
				 struct engine_trust_report *rep, struct image_trust **t, size_t *n,
				 struct err **err)
{
	struct engine_trust_report local = {0};
	struct keyset ks = {0};
	struct found *f = NULL;
	struct trust_sig *sigs = NULL;
	size_t nf = 0, nsig = 0, nr = 0;
	const struct trust_req *reqs = NULL;
	const char *digests[2] = {top, manifest && strcmp(manifest, top) ? manifest : NULL};
	bool accepted = false;
	char why[768] = "";
	int r = 0;

	*t = NULL;
	*n = 0;
	if (!rep)
		rep = &local;
	trust_policy_scope_for(p, source, &reqs, &nr);
	if (needs_signatures(reqs, nr)) {
		r = sigkey_crypto_load(err);
		if (r == 0)
			r = keys_collect(reqs, nr, true, &ks, NULL, 0, err);
		for (size_t d = 0; r == 0 && d < 2; d++)
			if (digests[d])
				r = collect(reg, digests[d], &f, &nf, rep, err);
		sigs = calloc(nf + 1, sizeof(*sigs));
		if (r == 0 && !sigs)
			r = err_errno(err, ENOMEM, "trust");
		for (size_t i = 0; r == 0 && i < nf; i++) {
			struct engine_trust_sig *s;
			bool ok = false;

			if (report_add(rep, f[i].where, &s) < 0) {
				r = err_errno(err, ENOMEM, "trust");
				break;
			}
			r = check_one(reg, &f[i], &ks, s, &sigs[nsig], &ok, err);
			if (r < 0 || !ok)
				continue;
			/* Does this one satisfy the policy alone? (For the report;
			 * the decision below looks at all of them together.) */
			{
				char one[512];
				s->counted =
				    trust_policy_evaluate(p, source, f[i].list_digest, &sigs[nsig],
							  1, one, sizeof(one)) == TRUST_ACCEPT;
				set_reason(s, "%s", one);
			}
			nsig++;
		}
	}
	if (r < 0)
		goto out;
	/* The decision: over the index's digest, or the platform manifest's. */
	for (size_t d = 0; d < 2 && !accepted; d++) {
		char one[768];

		if (!digests[d])
			continue;
		accepted = trust_policy_evaluate(p, source, digests[d], sigs, nsig, one,
						 sizeof(one)) == TRUST_ACCEPT;
		if (accepted || !why[0])
			snprintf(why, sizeof(why), "%s", one);
	}
	if (accepted && nsig == 0 && !needs_signatures(reqs, nr))
		r = entry_add(t, n, source, "insecureAcceptAnything", NULL, NULL, top, 0);
	for (size_t i = 0; accepted && r == 0 && i < rep->n; i++) {
		struct engine_trust_sig *s = &rep->sigs[i];

		if (!s->key || !s->digest)
			continue;
		/* Every signature that verified and names this image is kept:
		 * `run` re-evaluates them against the policy as it will be. */
		if (strcmp(s->digest, top) && (!digests[1] || strcmp(s->digest, digests[1])))
			continue;
		r = entry_add(t, n, source, "sigstoreSigned", s->key, s->identity, s->digest,
			      s->signed_at);
		if (r == 0 && s->counted)
			r = strv_add_unique(&rep->keys, s->key);
	}
	if (r < 0) {
		r = err_errno(err, ENOMEM, "trust");
		goto out;
	}
	rep->accepted = accepted;
	if (!accepted && nf == 0 && needs_signatures(reqs, nr) && !strstr(why, "reject)")) {
		/* None usable: say whether there were none, or why a list was
		 * refused (a capped manifest is not "no signatures"). */
		const struct engine_trust_sig *bad = NULL;

		for (size_t i = 0; i < rep->n && !bad; i++)
			if (rep->sigs[i].reason && !rep->sigs[i].key)
				bad = &rep->sigs[i];
		if (bad)
			snprintf(rep->reason, sizeof(rep->reason), "%.400s (%.80s: %.250s)", why,
				 bad->where, bad->reason);
		else
			snprintf(rep->reason, sizeof(rep->reason), "%.700s (no signatures found)",
				 why);
	} else {
		snprintf(rep->reason, sizeof(rep->reason), "%s", why);
	}
	if (!accepted)
		r = err_set(err, EPERM, "rejected by the trust policy: %s", rep->reason);
out:
	if (r < 0) {
		image_trust_free(*t, *n);
		*t = NULL;
		*n = 0;
	}
	for (size_t i = 0; i < nf; i++)
		found_clear(&f[i]);
	free(f);
	free(sigs);
	keyset_clear(&ks);
	engine_trust_report_clear(&local);
	return r;
}

/* ---- run: the record against the policy now ---- */

int engine_trust_check_image(const struct trust_policy *p, const char *root, const char *ref,
			     const struct image *img, char **how, struct err **err)
{
	char why[768] = "", note[256] = "", lfp[72] = "";
	bool have_local = false;
	int r = 0;

	*how = NULL;
	if (!img->n_trust)
		return err_set(err, EPERM,
			       "image %s is not trusted by the current policy: the store has no "
			       "record of its verification (pull or load it again)",
			       ref);
	{
		struct err *e = NULL;
		have_local = engine_trust_local_fp(root, lfp, &e) == 0;
		err_free(&e);
	}
	for (size_t i = 0; i < img->n_trust && !*how; i++) {
		const struct image_trust *a = &img->trust[i];
		const struct trust_req *reqs = NULL;
		struct trust_sig *sigs = NULL;
		struct keyset ks = {0};
		const char *scope;
		size_t nr = 0, nsig = 0;
		char one[768] = "";

		/* Each admission once: the first entry of its source and digest
		 * gathers the signatures of the others. */
		{
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = !strcmp(img->trust[j].source, a->source) &&
				       ((!a->digest && !img->trust[j].digest) ||
					(a->digest && img->trust[j].digest &&
					 !strcmp(a->digest, img->trust[j].digest)));
			if (seen)
				continue;
		}
		scope = trust_policy_scope_for(p, a->source, &reqs, &nr);
		r = keys_collect(reqs, nr, false, &ks, note, sizeof(note), err);
		if (r < 0)
			break;
		sigs = calloc(img->n_trust + 1, sizeof(*sigs));
		if (!sigs) {
			keyset_clear(&ks);
			r = err_errno(err, ENOMEM, "trust");
			break;
		}
		for (size_t j = i; j < img->n_trust; j++) {
			const struct image_trust *b = &img->trust[j];

			if (strcmp(b->source, a->source) || strcmp(b->rule, "sigstoreSigned") ||
			    !b->key || !b->digest || !a->digest || strcmp(b->digest, a->digest))
				continue;
			for (size_t k = 0; k < ks.n; k++)
				if (!strcmp(ks.v[k].fp, b->key)) {
					sigs[nsig].key_id = ks.v[k].name;
					sigs[nsig].docker_reference = b->identity;
					sigs[nsig].manifest_digest = b->digest;
					nsig++;
				}
		}
		if (a->digest &&
		    trust_policy_evaluate(p, a->source[0] ? a->source : "", a->digest, sigs, nsig,
					  one, sizeof(one)) == TRUST_ACCEPT) {
			if (asprintf(how, "%s: %s", a->source, one) < 0)
				*how = NULL;
		} else if (!strcmp(a->rule, "local") && have_local && a->key &&
			   !strcmp(a->key, lfp) && scope == trust_scope_default) {
			if (asprintf(how, "local image signed by the local key %s", lfp) < 0)
				*how = NULL;
		} else if (!why[0]) {
			snprintf(why, sizeof(why), "%s%s",
				 !strcmp(a->rule, "local") && scope == trust_scope_default
				     ? (have_local ? "signed by another local key"
						   : "the local key that signed it is gone")
				     : one,
				 note);
			if (!a->digest)
				snprintf(why, sizeof(why), "no digest recorded");
		}
		free(sigs);
		keyset_clear(&ks);
		if (!*how && why[0] == 0)
			snprintf(why, sizeof(why), "%s", one);
	}
	if (r < 0)
		return r;
	if (*how)
		return 0;
	return err_set(err, EPERM, "image %s is not trusted by the current policy: %s", ref, why);
}
