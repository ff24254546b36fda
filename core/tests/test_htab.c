/* test_htab.c: the hash index, and the hash of id arrays the merge keys
 * samples by. */
#include "check.h"
#include "htab.h"

#include <stdint.h>
#include <stdlib.h>

static uint64_t next_random(uint64_t *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

static bool same_u32(const void *ctx, uint32_t idx)
{
	const uint32_t *keys = ((const uint32_t *const *)ctx)[0];
	uint32_t want = *((const uint32_t *const *)ctx)[1];
	return keys[idx] == want;
}

/* Interning 5000 keys through many resizes, each found again after. */
static void test_intern_and_find(void)
{
	enum { N = 5000 };
	static uint32_t keys[N];
	pf_htab t = {0};
	for (uint32_t i = 0; i < N; i++) {
		keys[i] = i * 7919u;
		const void *ctx[2] = {keys, &keys[i]};
		uint32_t got = 0;
		CHECK_EQ_INT(pf_htab_intern(&t, pf_hash_add(0, keys[i]), same_u32, ctx, i, &got), 0);
		CHECK_EQ_INT(got, i);
	}
	int found = 0, misplaced = 0;
	for (uint32_t i = 0; i < N; i++) {
		const void *ctx[2] = {keys, &keys[i]};
		uint32_t got = N;
		found += pf_htab_intern(&t, pf_hash_add(0, keys[i]), same_u32, ctx, N, &got) == 1;
		misplaced += got != i || pf_htab_find(&t, pf_hash_add(0, keys[i]), same_u32, ctx) != i;
	}
	CHECK_EQ_INT(found, N);
	CHECK_EQ_INT(misplaced, 0);
	CHECK_EQ_INT(t.count, N);
	uint32_t absent = 3;
	const void *ctx[2] = {keys, &absent};
	CHECK_EQ_INT(pf_htab_find(&t, pf_hash_add(0, absent), same_u32, ctx), PF_HTAB_NONE);
	pf_htab_free(&t);
}

/* Arrays that differ in one id, in length (a zero more), or in the order
 * of two ids hash differently, whatever the length's remainder by 4. */
static void test_u32s_tells_arrays_apart(void)
{
	uint32_t a[13], b[14];
	int collisions = 0;
	for (size_t n = 0; n <= 13; n++) {
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (uint32_t)(i * 2654435761u);
		uint64_t h = pf_hash_u32s(7, a, n);
		b[n] = 0;
		collisions += h == pf_hash_u32s(7, b, n + 1);
		collisions += h == pf_hash_u32s(8, a, n); /* the running state counts */
		for (size_t i = 0; i < n; i++) {
			b[i] ^= 1;
			collisions += h == pf_hash_u32s(7, b, n);
			b[i] = a[i];
			if (i + 1 < n) {
				b[i] = a[i + 1], b[i + 1] = a[i];
				collisions += h == pf_hash_u32s(7, b, n);
				b[i] = a[i], b[i + 1] = a[i + 1];
			}
		}
		CHECK(h == pf_hash_u32s(7, b, n)); /* equal arrays, equal hashes */
	}
	CHECK_EQ_INT(collisions, 0);
}

/* Stacks of small ids sharing long prefixes, as a profile's do, spread
 * over a table's slots about evenly. */
static void test_u32s_spreads_stacks(void)
{
	enum { STACKS = 64 * 1024, SLOTS = 4096, DEPTH = 40 };
	static unsigned count[SLOTS];
	uint32_t stack[DEPTH];
	uint64_t rnd = 1;
	for (size_t s = 0; s < STACKS; s++) {
		for (size_t i = 0; i < DEPTH; i++) /* the same 30 frames, then 10 of 64 */
			stack[i] = i < 30 ? (uint32_t)i + 1 : (uint32_t)(next_random(&rnd) % 64);
		uint64_t h = pf_hash_finish(pf_hash_u32s(4, stack, DEPTH));
		count[(h ^ h >> 32) & (SLOTS - 1)]++;
	}
	unsigned most = 0;
	for (size_t i = 0; i < SLOTS; i++)
		most = count[i] > most ? count[i] : most;
	/* 16 a slot on average; a uniform hash makes more than 48 in one slot
	 * out of reach (Poisson tail below 1e-10). */
	CHECK(most <= 48);
}

int main(void)
{
	test_intern_and_find();
	test_u32s_tells_arrays_apart();
	test_u32s_spreads_stacks();
	return check_report("htab");
}
