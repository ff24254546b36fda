/* source.c: files, URLs and ZIP archives of profiles. */
#include "source.h"
#include "http.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t pf_source_max(const pf_limits *lim)
{
	return lim->max->source_bytes > SIZE_MAX ? SIZE_MAX : (size_t)lim->max->source_bytes;
}

/* Prefixes e with where a profile came from ("origin: ZIP entry \"entry\""
 * or "origin"); returns -1. */
static int fail_at(pf_err *e, const char *origin, const char *entry)
{
	char what[1200];
	if (entry)
		snprintf(what, sizeof what, "%s%sZIP entry \"%s\"", origin, *origin ? ": " : "", entry);
	else
		snprintf(what, sizeof what, "%s", origin);
	pf_err_prefix(e, what);
	return -1;
}

int pf_profile_decompress(const char *origin, const char *entry, const uint8_t *data, size_t len,
			  size_t max_out, pf_buf *raw, pf_err *e)
{
	size_t before = raw->len;
	int rc = pf_decompress(data, len, max_out, raw, e);
	if (rc == 0 && raw->len == before)
		rc = pf_fail(e, PF_EXIT_DATA, "empty profile");
	if (rc != 0)
		fail_at(e, origin, entry);
	return rc;
}

/* Each entry is copied out and handed over in turn. */
static int feed_zip(const char *origin, uint8_t *data, size_t len, const pf_limits *lim,
		    pf_profile_sink sink, void *ctx, pf_err *e)
{
	pf_zip z;
	if (pf_zip_open(data, len, &z, e) != 0)
		return fail_at(e, origin, NULL);
	pf_buf entry = {0};
	int rc = 0;
	if (z.n > lim->max->zip_entries)
		rc = pf_fail(e, PF_EXIT_DATA, "%s: ZIP has %zu entries, more than -limit zip-entries=%llu",
			     origin, z.n, (unsigned long long)lim->max->zip_entries);
	for (size_t i = 0; rc == 0 && i < z.n; i++) {
		entry.len = 0;
		rc = pf_zip_extract(&z.entries[i], pf_source_max(lim), &entry, e);
		if (rc != 0)
			fail_at(e, origin, NULL);
		else
			rc = sink(ctx, origin, z.entries[i].name, &entry, e);
	}
	pf_buf_free(&entry);
	pf_zip_close(&z);
	return rc;
}

int pf_feed_bytes(const char *origin, pf_buf *data, const pf_limits *lim, pf_profile_sink sink, void *ctx,
		  pf_err *e)
{
	if (data->len == 0)
		return pf_fail(e, PF_EXIT_DATA, "%s: empty, not a profile", origin);
	if (pf_is_zip(data->data, data->len))
		return feed_zip(origin, data->data, data->len, lim, sink, ctx, e);
	return sink(ctx, origin, NULL, data, e);
}

static int read_file(const char *path, size_t max, pf_buf *out, pf_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pf_fail(e, PF_EXIT_SOURCE, "cannot open: %s", strerror(errno));
	int rc = pf_buf_read_fd(out, fd, max), err = errno;
	close(fd);
	if (rc == 0)
		return 0;
	if (err == EISDIR) /* a directory opens, and fails to read */
		return pf_fail(e, PF_EXIT_SOURCE, "is a directory, not a profile");
	if (err == EFBIG)
		return pf_fail(e, PF_EXIT_DATA, "file is larger than %zu bytes (-limit source-bytes)", max);
	if (err == ENOMEM)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	return pf_fail(e, PF_EXIT_SOURCE, "cannot read: %s", strerror(err));
}

static int fetch_url(const char *url, size_t max, int64_t deadline_ns, pf_buf *out, pf_err *e)
{
	pf_http_request req = {
		.url = url,
		.follow_redirects = true, /* a -in URL carries no secret */
		.deadline_ns = deadline_ns,
		.max_bytes = max,
	};
	pf_http_response res = {0};
	pf_http_client *c = pf_http_client_new(NULL, false, e);
	int rc = !c ? -1 : pf_http_run(c, &req, 1, 1, &res, e);
	pf_http_client_free(c);
	if (rc == 0 && (res.status < 200 || res.status > 299))
		rc = pf_fail(e, PF_EXIT_SOURCE, "HTTP %ld %s", res.status, pf_http_reason(res.status));
	else if (rc == 0)
		*out = res.body, res.body = (pf_buf){0};
	pf_http_response_free(&res);
	return rc;
}

static bool is_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

int pf_read_source(const char *source, const pf_limits *lim, int64_t deadline_ns,
		   pf_profile_sink sink, void *ctx, pf_err *e)
{
	bool url = is_url(source);
	char *origin = url ? pf_redact_url(source) : strdup(source);
	if (!origin)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	pf_buf data = {0};
	int rc = url ? fetch_url(source, pf_source_max(lim), deadline_ns, &data, e)
		     : read_file(source, pf_source_max(lim), &data, e);
	if (rc != 0)
		fail_at(e, origin, NULL);
	else
		rc = pf_feed_bytes(origin, &data, lim, sink, ctx, e);
	pf_buf_free(&data);
	free(origin);
	return rc;
}
