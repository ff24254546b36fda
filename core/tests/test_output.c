/* Writing DEST: atomic, only on change, nothing left behind on failure. */
#include "check.h"
#include "buf.h"
#include "compress.h"
#include "decompress.h"
#include "output.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static bool file_is(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char buf[256];
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	return n == len && memcmp(buf, data, len) == 0;
}

static void backdate(const char *path)
{
	struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
	utimensat(AT_FDCWD, path, times, 0);
}

static long long mtime_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_mtim.tv_sec : -1;
}

int main(void)
{
	char dir[] = "/tmp/pgofetch-test-output-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char dest[256];
	snprintf(dest, sizeof dest, "%s/default.pgo", dir);
	pf_err e = {0};
	bool changed = false;

	CHECK_EQ_INT(pf_dest_age_ns(dest), -1);
	CHECK_EQ_INT(pf_write_dest(dest, (const uint8_t *)"one", 3, NULL, 0, &changed, &e), 0);
	CHECK(changed);
	CHECK(file_is(dest, "one", 3));
	CHECK(pf_dest_age_ns(dest) >= 0);
	CHECK_EQ_INT(count_entries(dir), 1);

	/* equal content: untouched, mtime kept */
	backdate(dest);
	CHECK_EQ_INT(pf_write_dest(dest, (const uint8_t *)"one", 3, NULL, 0, &changed, &e), 0);
	CHECK(!changed);
	CHECK_EQ_INT(mtime_of(dest), 1000000000);

	/* changed content: replaced, mode kept */
	chmod(dest, 0640);
	CHECK_EQ_INT(pf_write_dest(dest, (const uint8_t *)"two!", 4, NULL, 0, &changed, &e), 0);
	CHECK(changed);
	CHECK(file_is(dest, "two!", 4));
	CHECK(mtime_of(dest) > 1000000000);
	struct stat st;
	CHECK(stat(dest, &st) == 0 && (st.st_mode & 0777) == 0640);
	CHECK_EQ_INT(count_entries(dir), 1);

	/* a gzip DEST from another encoder that holds the same profile is equal */
	pf_buf gz = {0};
	pf_gzip((const uint8_t *)"profile", 7, &gz, &e);
	gz.data[9] = 0; /* another OS byte: other bytes, same content */
	FILE *f = fopen(dest, "wb");
	fwrite(gz.data, 1, gz.len, f);
	fclose(f);
	backdate(dest);
	CHECK_EQ_INT(pf_write_dest(dest, (const uint8_t *)"other", 5, (const uint8_t *)"profile", 7, &changed, &e), 0);
	CHECK(!changed);
	CHECK_EQ_INT(mtime_of(dest), 1000000000);
	pf_buf_free(&gz);

	/* missing directory, DEST under a file, DEST a directory: errors, nothing left */
	char bad[300];
	snprintf(bad, sizeof bad, "%s/missing/default.pgo", dir);
	e = (pf_err){0};
	CHECK_EQ_INT(pf_write_dest(bad, (const uint8_t *)"x", 1, NULL, 0, &changed, &e), -1);
	CHECK_EQ_INT(e.code, PF_EXIT_OUTPUT);
	CHECK(strstr(e.msg, "No such file or directory") != NULL);
	snprintf(bad, sizeof bad, "%s/default.pgo/x.pgo", dir);
	e = (pf_err){0};
	CHECK_EQ_INT(pf_write_dest(bad, (const uint8_t *)"x", 1, NULL, 0, &changed, &e), -1);
	CHECK(strstr(e.msg, "is not a directory") != NULL);
	e = (pf_err){0};
	CHECK_EQ_INT(pf_write_dest(dir, (const uint8_t *)"x", 1, NULL, 0, &changed, &e), -1);
	CHECK(strstr(e.msg, "it is a directory") != NULL);
	CHECK_EQ_INT(count_entries(dir), 1);

	unlink(dest);
	rmdir(dir);
	return check_report("test_output");
}
