/* test_pprof_wire.h: a tiny protobuf writer for hand-made pprof test inputs.
 * Every call appends to a pf_buf; a nested message is built in its own
 * buffer and then added (and freed) with pb_msg. Out of memory aborts:
 * these are tests. */
#ifndef PGOFETCH_TEST_PPROF_WIRE_H
#define PGOFETCH_TEST_PPROF_WIRE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static inline void pb_raw(pf_buf *b, const void *p, size_t n)
{
	if (pf_buf_append(b, p, n) != 0) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
}

static inline void pb_varint(pf_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	pb_raw(b, tmp, n);
}

static inline void pb_tag(pf_buf *b, uint64_t field, int wt) { pb_varint(b, field << 3 | (uint64_t)wt); }

/* A varint field (wire type 0). */
static inline void pb_u(pf_buf *b, uint64_t field, uint64_t v)
{
	pb_tag(b, field, 0);
	pb_varint(b, v);
}

/* A length-delimited field (wire type 2). */
static inline void pb_bytes(pf_buf *b, uint64_t field, const void *p, size_t n)
{
	pb_tag(b, field, 2);
	pb_varint(b, n);
	pb_raw(b, p, n);
}

static inline void pb_str(pf_buf *b, uint64_t field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

/* Adds message m as field `field` of b, and frees m. */
static inline void pb_msg(pf_buf *b, uint64_t field, pf_buf *m)
{
	pb_bytes(b, field, m->data, m->len);
	pf_buf_free(m);
}

/* A packed repeated varint field of n values. */
static inline void pb_packed(pf_buf *b, uint64_t field, const uint64_t *v, size_t n)
{
	pf_buf m = {0};
	for (size_t i = 0; i < n; i++)
		pb_varint(&m, v[i]);
	pb_msg(b, field, &m);
}

/* A ValueType, Line or Label-like message of two varint fields (zeros left out). */
static inline void pb_pair(pf_buf *b, uint64_t field, uint64_t f1, uint64_t v1, uint64_t f2, uint64_t v2)
{
	pf_buf m = {0};
	if (v1)
		pb_u(&m, f1, v1);
	if (v2)
		pb_u(&m, f2, v2);
	pb_msg(b, field, &m);
}

#endif
