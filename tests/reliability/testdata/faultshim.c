/* faultshim.c: an LD_PRELOAD library that makes pgofetch's writes of its
 * temporary file fail or stall, to test what happens to DEST then.
 * PGOFETCH_SHIM=enospc   write() to a ".tmp-" file fails with ENOSPC
 * PGOFETCH_SHIM=eio      fsync() of it fails with EIO
 * PGOFETCH_SHIM=stall    fsync() of it first creates $PGOFETCH_SHIM_READY,
 *                        then sleeps 30 s (the test signals meanwhile) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int is_tmp(int fd)
{
	char link[64], path[4096];
	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, path, sizeof path - 1);
	if (n <= 0)
		return 0;
	path[n] = '\0';
	return strstr(path, ".tmp-") != NULL;
}

static int mode(const char *want)
{
	const char *m = getenv("PGOFETCH_SHIM");
	return m && strcmp(m, want) == 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	if (!real)
		real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	if (mode("enospc") && is_tmp(fd)) {
		errno = ENOSPC;
		return -1;
	}
	return real(fd, buf, n);
}

int fsync(int fd)
{
	static int (*real)(int);
	if (!real)
		real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	if (mode("eio") && is_tmp(fd)) {
		errno = EIO;
		return -1;
	}
	if (mode("stall") && is_tmp(fd)) {
		const char *ready = getenv("PGOFETCH_SHIM_READY");
		if (ready)
			close(open(ready, O_CREAT | O_WRONLY, 0644));
		sleep(30);
	}
	return real(fd);
}
