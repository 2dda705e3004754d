/*
 * fuzz/trust_policy_fuzz.c - libFuzzer target for trust_policy_decode and
 * evaluation (policy/trust.c).
 *
 * Properties: a failed decode sets an error and returns no policy; a
 * decoded policy has 1..TRUST_POLICY_MAX_REQS requirements everywhere and
 * at most TRUST_POLICY_MAX_SCOPES scopes; scope_for always answers with a
 * scope the policy has; evaluation always gives a verdict and a
 * NUL-terminated reason; and the merge of the policy over moat's default
 * (and over itself) accepts exactly when both inputs accept (the tighten
 * rule), for references built from the policy's own scopes and signatures
 * made with its own keys. Encoding round-trips: encode succeeds (or fails
 * only for text jansson cannot hold), its text decodes, and encoding that
 * gives the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static const char *const fixed_refs[] = {
    "docker.io/library/busybox:latest",
    ("busybox@" D1),
    "quay.io/a/b:1",
    "quay.io/a/b",
    "localhost:5000/x/y:2",
    ("reg.example.com/ns/repo@" D1),
    "[::1]:5000/x:1",
};

static void check_reqs(const struct trust_req *r, size_t n)
{
	const char **paths, **datas;

	if (n == 0 || n > 2 * TRUST_POLICY_MAX_REQS)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t k = trust_req_keys(&r[i], &paths, &datas), c = 0;

		for (; paths && paths[c]; c++)
			;
		for (size_t j = 0; datas && datas[j]; j++, c++)
			;
		if ((r[i].type == TRUST_REQ_SIGSTORE_SIGNED || r[i].type == TRUST_REQ_SIGNED_BY) &&
		    (k == 0 || k != c))
			abort();
	}
}

static int eval(const struct trust_policy *p, const char *ref, const struct trust_sig *sigs,
		size_t n)
{
	char reason[512];
	int v;

	memset(reason, 'x', sizeof(reason));
	v = trust_policy_evaluate(p, ref, D1, sigs, n, reason, sizeof(reason));
	if (v != TRUST_ACCEPT && v != TRUST_REJECT)
		abort();
	if (!memchr(reason, '\0', sizeof(reason)) || !reason[0])
		abort();
	return v;
}

static void check(const struct trust_policy *p)
{
	struct trust_policy *rej = trust_policy_default_reject(), *m1 = NULL, *m2 = NULL;
	struct trust_sig sigs[8];
	const char *refs[24];
	size_t nsig = 0, nref = 0;
	struct err *err = NULL;

	check_reqs(p->def, p->n_def);
	if (p->n_scopes > TRUST_POLICY_MAX_SCOPES)
		abort();
	for (size_t i = 0; i < p->n_scopes; i++) {
		check_reqs(p->scopes[i].reqs, p->scopes[i].n_reqs);
		if (i && p->scopes[i - 1].transport == p->scopes[i].transport &&
		    strcmp(p->scopes[i - 1].scope, p->scopes[i].scope) >= 0)
			abort();
	}
	for (size_t i = 0; i < sizeof(fixed_refs) / sizeof(fixed_refs[0]); i++)
		refs[nref++] = fixed_refs[i];
	for (size_t i = 0; i < p->n_scopes && nref < 24; i++)
		if (p->scopes[i].transport == TRUST_TRANSPORT_DOCKER &&
		    strchr(p->scopes[i].scope, '/'))
			refs[nref++] = p->scopes[i].scope;
	/* Signatures by the policy's own keys, for the references above. */
	for (size_t i = 0; i < p->n_scopes && nsig < 8; i++) {
		const struct trust_req *r = p->scopes[i].reqs;
		const char **paths, **datas;

		if (!trust_req_keys(r, &paths, &datas))
			continue;
		sigs[nsig].key_id = paths ? paths[0] : datas[0];
		sigs[nsig].docker_reference = refs[(i + nsig) % nref];
		sigs[nsig].manifest_digest = nsig % 3 == 2 ? D2 : D1;
		nsig++;
	}

	for (size_t i = 0; i < nref; i++) {
		const struct trust_req *reqs;
		const char *s;
		size_t n;

		s = trust_policy_scope_for(p, refs[i], &reqs, &n);
		if (s != trust_scope_default) {
			const struct trust_scope *sc = NULL;

			for (size_t k = 0; k < p->n_scopes; k++)
				if (p->scopes[k].scope == s)
					sc = &p->scopes[k];
			if (!sc || sc->reqs != reqs || sc->n_reqs != n)
				abort();
		} else if (reqs != p->def || n != p->n_def) {
			abort();
		}
	}

	if (!rej || trust_policy_tighten(rej, p, &m1, &err) < 0 ||
	    trust_policy_tighten(p, p, &m2, &err) < 0) {
		err_free(&err); /* only ENOMEM can fail */
		goto out;
	}
	for (size_t i = 0; i < nref; i++)
		for (size_t k = 0; k <= nsig; k++) {
			int a = eval(p, refs[i], sigs, k);

			/* moat's default rejects everything, so does the merge. */
			if (eval(m1, refs[i], sigs, k) != TRUST_REJECT)
				abort();
			/* p AND p is p. */
			if (eval(m2, refs[i], sigs, k) != a)
				abort();
		}
out:
	trust_policy_free(m1);
	trust_policy_free(m2);
	trust_policy_free(rej);
}

static void roundtrip(const struct trust_policy *p)
{
	struct trust_policy *back = NULL;
	struct err *err = NULL;
	char *t1 = NULL, *t2 = NULL;

	if (trust_policy_encode(p, &t1, &err) < 0) {
		/* Only ENOMEM or text that is not UTF-8 (which decode refused
		 * already, so: ENOMEM). */
		err_free(&err);
		return;
	}
	if (trust_policy_decode(t1, strlen(t1), "encoded", &back, &err) < 0)
		abort();
	if (trust_policy_encode(back, &t2, &err) < 0 || strcmp(t1, t2))
		abort();
	free(t1);
	free(t2);
	trust_policy_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trust_policy *p = NULL;
	struct err *err = NULL;

	if (trust_policy_decode((const char *)data, size, "fuzz.json", &p, &err) < 0) {
		if (!err || p)
			abort();
		err_free(&err);
		return 0;
	}
	check(p);
	roundtrip(p);
	trust_policy_free(p);
	return 0;
}
