/* htab.c: linear-probing hash index, kept at most half full. */
#include "pprof_internal.h"

#include <stdlib.h>
#include <string.h>

/* Callers may pass a running state that was never finished: mix it here. */
static uint32_t short_hash(uint64_t hash)
{
	hash = pf_hash_finish(hash);
	return (uint32_t)(hash >> 32) ^ (uint32_t)hash;
}

static void place(pf_htab *t, pf_htab_slot s)
{
	size_t i = s.hash & t->mask;
	while (t->slots[i].val1 != 0)
		i = (i + 1) & t->mask;
	t->slots[i] = s;
}

static int resize(pf_htab *t, size_t nslots)
{
	pf_htab_slot *slots = calloc(nslots, sizeof *slots);
	if (!slots)
		return -1;
	pf_htab old = *t;
	t->slots = slots;
	t->mask = nslots - 1;
	if (old.slots) {
		for (size_t i = 0; i <= old.mask; i++)
			if (old.slots[i].val1 != 0)
				place(t, old.slots[i]);
		free(old.slots);
	}
	return 0;
}

int pf_htab_reserve(pf_htab *t, size_t expected)
{
	size_t have = t->slots ? t->mask + 1 : 0;
	if (expected <= have / 2) /* every insert asks: answer it first */
		return 0;
	size_t want = 16;
	if (expected > SIZE_MAX / 4 / sizeof(pf_htab_slot))
		return -1;
	while (want < 2 * expected)
		want *= 2;
	return want > have ? resize(t, want) : 0;
}

void pf_htab_free(pf_htab *t)
{
	free(t->slots);
	memset(t, 0, sizeof *t);
}

/* The slot holding the value whose key equals the probe, else the empty
 * slot where it would go. */
static size_t probe(const pf_htab *t, uint32_t h, pf_htab_eq eq, const void *ctx)
{
	size_t i = h & t->mask;
	while (t->slots[i].val1 != 0 && !(t->slots[i].hash == h && eq(ctx, t->slots[i].val1 - 1)))
		i = (i + 1) & t->mask;
	return i;
}

uint32_t pf_htab_find(const pf_htab *t, uint64_t hash, pf_htab_eq eq, const void *ctx)
{
	if (!t->slots)
		return PF_HTAB_NONE;
	return t->slots[probe(t, short_hash(hash), eq, ctx)].val1 - 1; /* an empty slot's 0 wraps to PF_HTAB_NONE */
}

int pf_htab_intern(pf_htab *t, uint64_t hash, pf_htab_eq eq, const void *ctx, uint32_t value,
		   uint32_t *out)
{
	if (value == PF_HTAB_NONE)
		return -1;
	if (pf_htab_reserve(t, t->count + 1) != 0)
		return -1;
	uint32_t h = short_hash(hash);
	size_t i = probe(t, h, eq, ctx);
	if (t->slots[i].val1 != 0) {
		*out = t->slots[i].val1 - 1;
		return 1;
	}
	t->slots[i] = (pf_htab_slot){h, value + 1};
	t->count++;
	*out = value;
	return 0;
}

typedef struct {
	const pf_keyset *s;
	const void *key;
} key_probe;

static bool key_eq(const void *ctx, uint32_t v)
{
	const key_probe *q = ctx;
	return memcmp(q->s->v + (size_t)v * q->s->size, q->key, q->s->key_size) == 0;
}

int pf_keyset_add(pf_keyset *s, const void *rec, uint32_t *at)
{
	if (pf_vec_reserve((void **)&s->v, &s->cap, s->n + 1, s->size) != 0)
		return -1;
	key_probe q = {s, rec};
	int r = pf_htab_intern(&s->index, pf_hash_bytes(rec, s->key_size), key_eq, &q, (uint32_t)s->n, at);
	if (r == 0)
		memcpy(s->v + s->n++ * s->size, rec, s->size);
	return r;
}

uint32_t pf_keyset_find(const pf_keyset *s, const void *key)
{
	key_probe q = {s, key};
	return pf_htab_find(&s->index, pf_hash_bytes(key, s->key_size), key_eq, &q);
}

void pf_keyset_free(pf_keyset *s)
{
	free(s->v);
	pf_htab_free(&s->index);
	s->v = NULL;
	s->n = s->cap = 0;
}

uint64_t pf_hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = pf_hash_add(0x243f6a8885a308d3ULL, n);
	for (; n >= 8; s += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = pf_hash_add(h, w);
	}
	uint64_t tail = 0;
	for (size_t i = 0; i < n; i++)
		tail |= (uint64_t)s[i] << (8 * i);
	return pf_hash_finish(pf_hash_add(h, tail));
}

/* Two ids to a word and two words in independent lanes: a merge hashes
 * every sample's stack (about 50 ids), and one running state, a multiply
 * after each id, made that loop half of the merge's own time in perf. */
uint64_t pf_hash_u32s(uint64_t h, const uint32_t *v, size_t n)
{
	uint64_t a = pf_hash_add(h, n), b = 0x452821e638d01377ULL;
	for (; n >= 4; v += 4, n -= 4) {
		a = pf_hash_add(a, (uint64_t)v[0] << 32 | v[1]);
		b = pf_hash_add(b, (uint64_t)v[2] << 32 | v[3]);
	}
	for (size_t i = 0; i < n; i++)
		b = pf_hash_add(b, v[i]);
	return pf_hash_add(a, b);
}
