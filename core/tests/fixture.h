/* fixture.h: a test's fixture file read whole. */
#ifndef PGOFETCH_TEST_FIXTURE_H
#define PGOFETCH_TEST_FIXTURE_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"

/* Appends the file at path to b: 0, or -1 when it cannot be read whole
 * (said on stderr). */
static inline int read_fixture(const char *path, pf_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		return -1;
	}
	uint8_t chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (pf_buf_append(b, chunk, n) != 0)
			rc = -1;
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

/* The file at path, or an empty buffer when it cannot be read. */
static inline pf_buf slurp(const char *path)
{
	pf_buf b = {0};
	if (read_fixture(path, &b) != 0)
		pf_buf_free(&b);
	return b;
}

#endif
