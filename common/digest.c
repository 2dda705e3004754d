/*
 * common/digest.c - SHA-256 (FIPS 180-4), HMAC-SHA256 and random ids.
 *
 * Runs in: every moat process that hashes (pull, load, the audit log,
 * container ids); no privilege, no system call but getrandom.
 *
 * SHA-256 is implemented here rather than taken from libcrypto: OpenSSL 3
 * loads its provider tables on the first digest, which cost `moat run`
 * more than the whole hash of its inputs. Every pulled blob and every
 * layer's DiffID goes through it, so on x86-64 CPUs with the SHA
 * extensions the compression function uses them (several times the
 * portable code's speed). Tested against the FIPS 180-4 and RFC 4231
 * vectors, and the two compression functions against each other, in
 * tests/unit/test_common.c.
 *
 * Invariants:
 *  - both compression functions compute the same thing; which one runs is
 *    chosen once per process (CPU features; MOAT_SHA256_GENERIC=1 forces
 *    the portable one) and cached;
 *  - the SHA-NI function is the only code built for ISA extensions beyond
 *    baseline x86-64 (a target attribute on it, no global -m flag), and it
 *    is called only when the CPU has every extension that attribute lets
 *    the compiler use.
 */
#include "common/digest.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

struct digest_ctx {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* A compression function: folds N consecutive 64-byte blocks at P into H. */
typedef void blocks_fn(uint32_t h[8], const unsigned char *p, size_t n);

static inline uint32_t ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* FIPS 180-4 section 6.2.2, one block at a time; runs on any CPU. */
static void compress_generic(uint32_t h[8], const unsigned char *p, size_t n)
{
	uint32_t w[64], a, b, c, d, e, f, g, k;

	for (; n; n--, p += 64) {
		for (int i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
				      ((e & f) ^ (~e & g)) + K[i] + w[i];
			uint32_t t2 =
			    (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
		h[4] += e, h[5] += f, h[6] += g, h[7] += k;
	}
}

#if defined(__x86_64__)
/*
 * The same compression with the SHA extensions (Intel SDM: SHA256RNDS2,
 * SHA256MSG1, SHA256MSG2). The instructions keep the eight working
 * variables in two registers, dword lanes 3..0 holding A,B,E,F and C,D,G,H;
 * SHA256RNDS2 runs two rounds with W[t]+K[t] and W[t+1]+K[t+1] from the low
 * lanes of its third operand and returns the new A,B,E,F, while the old
 * A,B,E,F is the new C,D,G,H - so the two state registers swap roles every
 * two rounds and never need copying.
 *
 * The message schedule works four words at a time, lane i of a register
 * holding W[t+i]: W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
 * SHA256MSG1 gives W[t-16] + s0(W[t-15]) for four t, W[t-7..t-4] is added
 * with a byte shift across two registers, and SHA256MSG2 adds s1 of the
 * two words before each (the last two of them computed by itself).
 *
 * The target attribute lets the compiler use SSSE3 and SSE4.1 anywhere in
 * this function, which is why pick() requires all three extensions.
 */
#define SHANI_ROUNDS4(w, i)                                                                      \
	do {                                                                                     \
		__m128i wk_ = _mm_add_epi32((w), _mm_loadu_si128((const __m128i *)&K[4 * (i)])); \
		cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                                   \
		abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk_, 0x0e));          \
	} while (0)
/* W0 (words t-16..t-13) becomes words t..t+3; W1..W3 hold t-12..t-1. */
#define SHANI_SCHEDULE(w0, w1, w2, w3)                                                        \
	((w0) = _mm_sha256msg2_epu32(                                                         \
	     _mm_add_epi32(_mm_sha256msg1_epu32((w0), (w1)), _mm_alignr_epi8((w3), (w2), 4)), \
	     (w3)))

__attribute__((target("sha,sse4.1,ssse3"))) static void
compress_shani(uint32_t h[8], const unsigned char *p, size_t n)
{
	/* Byte order within each dword reversed: the message is big-endian. */
	const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	__m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0x1b);
	__m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b);
	__m128i abef = _mm_unpackhi_epi64(hgfe, dcba); /* lanes 0..3: F E B A */
	__m128i cdgh = _mm_unpacklo_epi64(hgfe, dcba); /* lanes 0..3: H G D C */

	for (; n; n--, p += 64) {
		const __m128i abef0 = abef, cdgh0 = cdgh;
		__m128i w0, w1, w2, w3;

		w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
		SHANI_ROUNDS4(w0, 0);
		w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
		SHANI_ROUNDS4(w1, 1);
		w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
		SHANI_ROUNDS4(w2, 2);
		w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
		SHANI_ROUNDS4(w3, 3);
		for (int i = 4; i < 16; i += 4) {
			SHANI_SCHEDULE(w0, w1, w2, w3);
			SHANI_ROUNDS4(w0, i);
			SHANI_SCHEDULE(w1, w2, w3, w0);
			SHANI_ROUNDS4(w1, i + 1);
			SHANI_SCHEDULE(w2, w3, w0, w1);
			SHANI_ROUNDS4(w2, i + 2);
			SHANI_SCHEDULE(w3, w0, w1, w2);
			SHANI_ROUNDS4(w3, i + 3);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	dcba = _mm_unpackhi_epi64(cdgh, abef);
	hgfe = _mm_unpacklo_epi64(cdgh, abef);
	_mm_storeu_si128((__m128i *)&h[0], _mm_shuffle_epi32(dcba, 0x1b));
	_mm_storeu_si128((__m128i *)&h[4], _mm_shuffle_epi32(hgfe, 0x1b));
}
#undef SHANI_ROUNDS4
#undef SHANI_SCHEDULE

static bool cpu_has_shani(void)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("ssse3") || !__builtin_cpu_supports("sse4.1"))
		return false;
#if defined(__clang__)
	/* clang (14 here) rejects "sha" in __builtin_cpu_supports; it is
	 * CPUID leaf 7 (structured extended features), EBX bit 29. */
	unsigned int a, b, c, d;

	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
#else
	return __builtin_cpu_supports("sha");
#endif
}
#endif

/* The cached choice; NULL until the first hash. Racing first hashes all
 * store the same pointer, so relaxed atomics are enough. */
static blocks_fn *chosen;

static blocks_fn *pick(void)
{
	blocks_fn *f = __atomic_load_n(&chosen, __ATOMIC_RELAXED);

	if (f)
		return f;
	f = compress_generic;
#if defined(__x86_64__)
	const char *env = getenv("MOAT_SHA256_GENERIC");

	if (!(env && *env && strcmp(env, "0")) && cpu_has_shani())
		f = compress_shani;
#endif
	__atomic_store_n(&chosen, f, __ATOMIC_RELAXED);
	return f;
}

const char *digest_sha256_impl(void)
{
	return pick() == compress_generic ? "generic" : "sha-ni";
}

void digest_sha256_force_generic(bool on)
{
	__atomic_store_n(&chosen, on ? compress_generic : NULL, __ATOMIC_RELAXED);
}

static void init(struct digest_ctx *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, iv, sizeof(iv));
	c->bytes = 0;
	c->used = 0;
}

static void update(struct digest_ctx *c, const unsigned char *p, size_t len)
{
	if (!len)
		return; /* P may be NULL, which memcpy must never see */
	c->bytes += len;
	if (c->used) {
		size_t n = 64 - c->used < len ? 64 - c->used : len;
		memcpy(c->block + c->used, p, n);
		c->used += n;
		p += n;
		len -= n;
		if (c->used < 64)
			return;
		pick()(c->h, c->block, 1);
		c->used = 0;
	}
	if (len >= 64) {
		size_t n = len / 64;

		pick()(c->h, p, n);
		p += 64 * n;
		len -= 64 * n;
	}
	memcpy(c->block, p, len);
	c->used = len;
}

static void hex(const unsigned char *md, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[md[i] >> 4];
		out[2 * i + 1] = x[md[i] & 15];
	}
	out[2 * n] = 0;
}

static void final_raw(struct digest_ctx *c, unsigned char md[32])
{
	uint64_t bits = c->bytes * 8;
	unsigned char pad[72] = {0x80};
	size_t padlen = (c->used < 56 ? 56 : 120) - c->used;

	for (int i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	update(c, pad, padlen + 8);
	for (int i = 0; i < 8; i++) {
		md[4 * i] = (unsigned char)(c->h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		md[4 * i + 3] = (unsigned char)c->h[i];
	}
}

static void final(struct digest_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];

	final_raw(c, md);
	hex(md, 32, out);
}

void digest_sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	struct digest_ctx c;

	init(&c);
	update(&c, buf, len);
	final(&c, out);
}

void digest_sha256_raw(const void *buf, size_t len, unsigned char out[SHA256_LEN])
{
	struct digest_ctx c;

	init(&c);
	update(&c, buf, len);
	final_raw(&c, out);
}

/*
 * HMAC-SHA256 (RFC 2104): H((K ^ opad) || H((K ^ ipad) || msg)), a key
 * longer than the 64-byte block replaced by its digest. The pads and the
 * inner digest are wiped: they are key material.
 */
void digest_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t len,
			    char out[SHA256_HEX_LEN + 1])
{
	unsigned char k[64] = {0}, pad[64], inner[SHA256_LEN], md[SHA256_LEN];
	struct digest_ctx c;

	if (keylen > sizeof(k))
		digest_sha256_raw(key, keylen, k);
	else if (keylen)
		memcpy(k, key, keylen);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	init(&c);
	update(&c, pad, sizeof(pad));
	update(&c, msg, len);
	final_raw(&c, inner);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	init(&c);
	update(&c, pad, sizeof(pad));
	update(&c, inner, sizeof(inner));
	final_raw(&c, md);
	hex(md, sizeof(md), out);
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
	explicit_bzero(&c, sizeof(c));
}

struct digest_ctx *digest_ctx_new(void)
{
	struct digest_ctx *c = malloc(sizeof(*c));

	if (c)
		init(c);
	return c;
}

void digest_ctx_update(struct digest_ctx *c, const void *buf, size_t len)
{
	update(c, buf, len);
}

void digest_ctx_final(struct digest_ctx *c, char out[SHA256_HEX_LEN + 1])
{
	final(c, out);
	free(c);
}

bool digest_hex_valid(const char *h)
{
	size_t i;

	for (i = 0; h[i]; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return i == SHA256_HEX_LEN;
}

bool digest_valid(const char *d)
{
	return d && !strncmp(d, "sha256:", 7) && digest_hex_valid(d + 7);
}

int digest_random_id(char out[SHA256_HEX_LEN + 1], struct err **err)
{
	unsigned char b[32];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return err_errno(err, errno, "getrandom");
		}
		got += (size_t)n;
	}
	hex(b, sizeof(b), out);
	return 0;
}
