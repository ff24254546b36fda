/* buf.h: a growable byte buffer, the one container every stage shares. */
#ifndef PGOFETCH_BUF_H
#define PGOFETCH_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint8_t *data;
	size_t len;
	size_t cap;
} pf_buf;

/* Each returns 0, or -1 when memory runs out (the buffer is left as it was). */
int pf_buf_reserve(pf_buf *b, size_t extra);
int pf_buf_append(pf_buf *b, const void *p, size_t n);
int pf_buf_putc(pf_buf *b, uint8_t c);
void pf_buf_free(pf_buf *b);

/* A string printf formats, malloc'd; NULL when memory runs out. */
char *pf_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Appends what fd holds, to its end: 0, or -1 with errno set (ENOMEM when
 * memory runs out, EFBIG when b would pass max bytes). */
int pf_buf_read_fd(pf_buf *b, int fd, size_t max);

#endif
