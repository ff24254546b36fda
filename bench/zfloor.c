/* zfloor: the floor of what pgofetch does, for the benchmark. It
 * decompresses every input (gzip with zlib, zstd with libzstd, told apart by
 * their magic bytes as pgofetch does), then gzip-compresses the given
 * (uncompressed) output profile with zlib at the given level and writes it:
 * the work no merger can avoid, with nothing of decoding or merging. DEST
 * is written as pgofetch writes its DEST (a temporary file, fsync, rename,
 * fsync of the directory), so that both pay the same for durability.
 *
 *   zfloor LEVEL OUTPUT.pb DEST INPUT...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <libgen.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t cap = 1 << 20, n = 0;
	unsigned char *b = malloc(cap);
	for (;;) {
		if (n == cap)
			b = realloc(b, cap *= 2);
		size_t r = fread(b + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return b;
}

/* The decompressed size, to show the work was done. */
static size_t gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *cap)
{
	z_stream zs = {0};
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		exit(1);
	zs.next_in = (unsigned char *)in;
	zs.avail_in = (uInt)len;
	size_t n = 0;
	for (;;) {
		if (n == *cap)
			*out = realloc(*out, *cap *= 2);
		zs.next_out = *out + n;
		zs.avail_out = (uInt)(*cap - n);
		int rc = inflate(&zs, Z_NO_FLUSH);
		n = *cap - zs.avail_out;
		if (rc == Z_STREAM_END) {
			if (zs.avail_in == 0)
				break;
			inflateReset(&zs); /* another gzip member */
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			fprintf(stderr, "zfloor: gzip: %s\n", zs.msg ? zs.msg : "error");
			exit(1);
		}
	}
	inflateEnd(&zs);
	return n;
}

static size_t unzstd(const unsigned char *in, size_t len, unsigned char **out, size_t *cap)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = {in, len, 0};
	size_t n = 0;
	while (ib.pos < ib.size) {
		if (n == *cap)
			*out = realloc(*out, *cap *= 2);
		ZSTD_outBuffer ob = {*out + n, *cap - n, 0};
		size_t rc = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(rc)) {
			fprintf(stderr, "zfloor: zstd: %s\n", ZSTD_getErrorName(rc));
			exit(1);
		}
		n += ob.pos;
	}
	ZSTD_freeDStream(ds);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: zfloor LEVEL OUTPUT.pb DEST INPUT...\n");
		return 2;
	}
	int level = atoi(argv[1]);
	size_t cap = 1 << 24, total = 0;
	unsigned char *buf = malloc(cap);
	for (int i = 4; i < argc; i++) {
		size_t len;
		unsigned char *in = slurp(argv[i], &len);
		if (len >= 2 && in[0] == 0x1f && in[1] == 0x8b)
			total += gunzip(in, len, &buf, &cap);
		else if (len >= 4 && memcmp(in, "\x28\xb5\x2f\xfd", 4) == 0)
			total += unzstd(in, len, &buf, &cap);
		else
			total += len;
		free(in);
	}
	size_t rawlen;
	unsigned char *raw = slurp(argv[2], &rawlen);
	z_stream zs = {0};
	if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return 1;
	size_t outcap = deflateBound(&zs, (uLong)rawlen);
	unsigned char *out = malloc(outcap);
	zs.next_in = raw;
	zs.avail_in = (uInt)rawlen;
	zs.next_out = out;
	zs.avail_out = (uInt)outcap;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		return 1;
	size_t outlen = outcap - zs.avail_out;
	deflateEnd(&zs);
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", argv[3]);
	FILE *f = fopen(tmp, "wb");
	if (!f || fwrite(out, 1, outlen, f) != outlen || fflush(f) != 0 || fsync(fileno(f)) != 0 ||
	    fclose(f) != 0 || rename(tmp, argv[3]) != 0) {
		perror(argv[3]);
		return 1;
	}
	char *dcopy = strdup(argv[3]);
	int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dcopy);
	printf("%zu %zu\n", total, outlen);
	return 0;
}
