/* htab.h: an open-addressing hash index from caller-held keys to uint32
 * values (usually indexes into the caller's arrays).
 *
 * The table stores only each value's 32-bit hash; to compare keys it calls
 * back into the caller, which knows where the key of a value lives. That
 * keeps one small table type usable for strings, ids and composite keys.
 * A zeroed pf_htab is an empty table; memory comes on the first insert. */
#ifndef PGOFETCH_HTAB_H
#define PGOFETCH_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_HTAB_NONE UINT32_MAX

typedef struct {
	uint32_t hash;
	uint32_t val1; /* value + 1; 0 marks an empty slot */
} pf_htab_slot;

typedef struct {
	pf_htab_slot *slots;
	size_t mask; /* number of slots - 1 (a power of two minus one) */
	size_t count;
} pf_htab;

/* Does the key of `value` equal the key the caller is looking for? */
typedef bool (*pf_htab_eq)(const void *ctx, uint32_t value);

/* Sizes the table for `expected` entries; -1 when memory runs out. */
int pf_htab_reserve(pf_htab *t, size_t expected);
void pf_htab_free(pf_htab *t);

/* The value whose key equals the probe, or PF_HTAB_NONE. */
uint32_t pf_htab_find(const pf_htab *t, uint64_t hash, pf_htab_eq eq, const void *ctx);

/* Finds the value whose key equals the probe and stores it in *out; when
 * there is none, inserts `value` (whose key must then be the probe's) and
 * stores it in *out. Returns 1 when found, 0 when inserted, -1 when memory
 * runs out (the table is left as it was). */
int pf_htab_intern(pf_htab *t, uint64_t hash, pf_htab_eq eq, const void *ctx, uint32_t value,
		   uint32_t *out);

/* Records of one fixed size in one array, numbered in order of insertion
 * and found by their first key_size bytes, compared and hashed as bytes:
 * a key must hold no padding. A zeroed set with size and key_size set is
 * empty. */
typedef struct {
	unsigned char *v;
	size_t n, cap, size, key_size;
	pf_htab index;
} pf_keyset;

/* Finds the record whose key is rec's and stores its number in *at; when
 * there is none, appends a copy of rec. 1 when found, 0 when appended, -1
 * when memory runs out. */
int pf_keyset_add(pf_keyset *s, const void *rec, uint32_t *at);
/* The number of the record whose key is key's, or PF_HTAB_NONE. */
uint32_t pf_keyset_find(const pf_keyset *s, const void *key);
void pf_keyset_free(pf_keyset *s);

/* Hashing: feed values into a running state, then finish. */
static inline uint64_t pf_hash_add(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static inline uint64_t pf_hash_finish(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t pf_hash_bytes(const void *p, size_t n);

/* h with the n values of v added, as one value: their order counts. */
uint64_t pf_hash_u32s(uint64_t h, const uint32_t *v, size_t n);

#endif
