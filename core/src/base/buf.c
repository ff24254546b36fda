/* buf.c: growable byte buffer. */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pf_buf_reserve(pf_buf *b, size_t extra)
{
	if (extra <= b->cap - b->len)
		return 0;
	if (extra > SIZE_MAX / 2 - b->len)
		return -1;
	size_t cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int pf_buf_append(pf_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (pf_buf_reserve(b, n) != 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int pf_buf_putc(pf_buf *b, uint8_t c)
{
	return pf_buf_append(b, &c, 1);
}

char *pf_strf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s) {
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	return s;
}

int pf_buf_read_fd(pf_buf *b, int fd, size_t max)
{
	for (;;) {
		if (b->len > max || pf_buf_reserve(b, 1 << 16) != 0) {
			errno = b->len > max ? EFBIG : ENOMEM;
			return -1;
		}
		ssize_t n = read(fd, b->data + b->len, b->cap - b->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		b->len += (size_t)n;
	}
}

void pf_buf_free(pf_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
