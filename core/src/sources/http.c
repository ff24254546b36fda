/* http.c: single transfers over libcurl's easy interface. */
#include "http.h"

#include <curl/curl.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void pf_url_host(const char *url, char *out, size_t outsz)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "/?#");
	const char *at = memchr(p, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	size_t hl;
	if (*p == '[') {
		const char *close = memchr(p, ']', n);
		hl = close ? (size_t)(close - p) + 1 : n;
	} else {
		hl = strcspn(p, ":/?#");
		if (hl > n)
			hl = n;
	}
	snprintf(out, outsz, "%.*s", (int)hl, p);
}

static const struct {
	long status;
	const char *reason;
} reasons[] = {
	{200, "OK"}, {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"}, {307, "Temporary Redirect"},
	{308, "Permanent Redirect"}, {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
	{404, "Not Found"}, {405, "Method Not Allowed"}, {408, "Request Timeout"}, {413, "Request Entity Too Large"},
	{415, "Unsupported Media Type"}, {429, "Too Many Requests"}, {500, "Internal Server Error"},
	{502, "Bad Gateway"}, {503, "Service Unavailable"}, {504, "Gateway Timeout"},
};

const char *pf_http_reason(long status)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "";
}

struct pf_http_client {
	CURLM *multi;
	const pf_log *trace; /* -v, else NULL */
	bool progress;
	int64_t shown; /* when the progress line was last drawn; 0 when none is */
};

/* One request on its way through the multi handle. */
typedef struct {
	const pf_http_request *req;
	pf_http_response *res;
	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	bool done, too_large, oom;
} transfer;

static void erase_progress(pf_http_client *c)
{
	if (c->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		c->shown = 0;
	}
}

/* A 2xx body that does not start like a ZIP archive (a local header, or
 * the end record of an empty one), refused at its first bytes, not after
 * max_bytes of it. */
static bool not_zip(const transfer *t)
{
	static const uint8_t local[4] = {'P', 'K', 3, 4}, end[4] = {'P', 'K', 5, 6};
	const pf_buf *b = &t->res->body;
	size_t head = b->len < 4 ? b->len : 4;
	long status = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status <= 299 && memcmp(b->data, local, head) != 0 && memcmp(b->data, end, head) != 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	transfer *t = ud;
	size_t len = size * n, had = t->res->body.len;
	if (had + len > t->req->max_bytes) {
		t->too_large = true;
		return 0;
	}
	if (pf_buf_append(&t->res->body, p, len) != 0) {
		t->oom = true;
		return 0;
	}
	if (t->req->zip_only && had < 4 && not_zip(t)) {
		t->res->stopped = true;
		return 0;
	}
	return len;
}

/* A header of the last answer (libcurl keeps them): an integer, -1 when
 * absent or not one. */
static int64_t header_int(CURL *h, const char *name)
{
	struct curl_header *hd;
	char *end;
	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hd) != CURLHE_OK)
		return -1;
	long long v = strtoll(hd->value, &end, 10);
	return end == hd->value || v < 0 ? -1 : (int64_t)v;
}

/* Says what failed, naming the host only (URLs may carry tokens), and
 * what to check. */
static void describe_failure(CURLcode rc, const char *url, const char *errbuf,
			     pf_http_response *res)
{
	char host[256];
	pf_url_host(url, host, sizeof host);
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	const char *fmt;
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		fmt = "cannot resolve host %s (check the site or URL): %s";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		fmt = "timed out talking to %s (raise -timeout?): %s";
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		fmt = "TLS with %s failed (check the site, and SSL_CERT_FILE for a custom CA): %s";
		break;
	default:
		fmt = "cannot fetch from %s: %s";
	}
	res->exit_code = PF_EXIT_SOURCE;
	snprintf(res->error, sizeof res->error, fmt, host, why);
}

pf_http_client *pf_http_client_new(const pf_log *trace, bool progress, pf_err *e)
{
	pf_http_client *c = calloc(1, sizeof *c);
	if (!c) {
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		return NULL;
	}
	c->trace = trace;
	c->progress = progress;
	/* refresh starts clients from threads: curl_global_init counts its
	 * calls thread-safely since libcurl 7.84 (CURLOPT_PROTOCOLS_STR below
	 * needs 7.85). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(c);
		pf_fail(e, PF_EXIT_INTERNAL, "cannot start libcurl (out of memory?)");
		return NULL;
	}
	c->multi = curl_multi_init();
	if (!c->multi) {
		pf_http_client_free(c);
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory starting libcurl");
		return NULL;
	}
	return c;
}

void pf_http_client_free(pf_http_client *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	curl_global_cleanup(); /* a client exists only once curl_global_init succeeded */
	free(c);
}

/* Rewrites the progress line at most four times a second, once the
 * transfers have taken more than a second. */
static void show_progress(pf_http_client *c, const pf_http_response *res, size_t n, size_t running,
			  int64_t start)
{
	int64_t now = pf_now_ns();
	if (now - start < 1000000000LL || now - c->shown < 250000000LL)
		return;
	uint64_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += res[i].body.len;
	fprintf(stderr, "\r\033[Kdownloading: %zu of %zu transfers running, %.1f MiB received", running, n,
		(double)bytes / (1 << 20));
	fflush(stderr);
	c->shown = now;
}

/* One line of the trace: text as curl -v shows it, or with -json a DEBUG
 * object (msg "curl", dir "*", ">" or "<", line). */
static void trace_line(const pf_log *log, const char *mark, const char *line, int len)
{
	if (!log->json) { /* one call: one line, whole, among refresh's threads */
		fprintf(stderr, "%s%scurl %s %.*s\n", log->package ? log->package : "", log->package ? ": " : "",
			mark, len, line);
		return;
	}
	char text[2048];
	snprintf(text, sizeof text, "%.*s", len, line);
	pf_debug(log, "curl", PF_STR("dir", mark), PF_STR("line", text));
}

/* The -v trace: curl's own text and the header lines sent and received,
 * with the values of the key headers replaced, so -v never shows a key. */
static int on_trace(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
	(void)h;
	const pf_log *log = ud;
	const char *mark = type == CURLINFO_TEXT ? "*" : type == CURLINFO_HEADER_OUT ? ">" :
			   type == CURLINFO_HEADER_IN ? "<" : NULL;
	if (!mark)
		return 0;
	const char *p = data, *end = data + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t shown = n;
		while (shown > 0 && (p[shown - 1] == '\r'))
			shown--;
		if (shown > 11 && strncasecmp(p, "DD-API-KEY:", 11) == 0)
			trace_line(log, mark, "DD-API-KEY: REDACTED", -1);
		else if (shown > 19 && strncasecmp(p, "DD-APPLICATION-KEY:", 19) == 0)
			trace_line(log, mark, "DD-APPLICATION-KEY: REDACTED", -1);
		else if (shown > 0)
			trace_line(log, mark, p, (int)shown);
		p += n + (nl ? 1 : 0);
	}
	return 0;
}

static int start_transfer(pf_http_client *c, const pf_http_request *req, pf_http_response *res,
			  transfer *t, pf_err *e)
{
	memset(res, 0, sizeof *res);
	res->retry_after_s = res->ratelimit_reset_s = -1;
	t->req = req;
	t->res = res;
	int64_t left_ms = (req->deadline_ns - pf_now_ns()) / 1000000;
	if (left_ms <= 0) {
		char host[256];
		pf_url_host(req->url, host, sizeof host);
		res->exit_code = PF_EXIT_SOURCE;
		snprintf(res->error, sizeof res->error, "timed out before fetching from %s (raise -timeout?)", host);
		t->done = true;
		return 0;
	}
	bool oom = false;
	for (size_t i = 0; !oom && req->headers && req->headers[i]; i++) {
		struct curl_slist *next = curl_slist_append(t->headers, req->headers[i]);
		oom = !next;
		t->headers = next ? next : t->headers;
	}
	/* TLS is verified: libcurl's default, which nothing here turns off. */
	const char *ca = getenv("SSL_CERT_FILE");
	if (!ca || !*ca)
		ca = getenv("CURL_CA_BUNDLE");
	CURL *h = t->easy = curl_easy_init();
	if (oom || !h || (ca && *ca && curl_easy_setopt(h, CURLOPT_CAINFO, ca) != CURLE_OK) ||
	    curl_easy_setopt(h, CURLOPT_USERAGENT, "pgofetch/" PGOFETCH_VERSION) != CURLE_OK)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory setting up libcurl");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_PRIVATE, t);
	if (req->direct)
		curl_easy_setopt(h, CURLOPT_PROXY, "");
	if (c->trace) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_trace);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, c->trace);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
	if (req->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (curl_multi_add_handle(c->multi, h) != CURLM_OK)
		return pf_fail(e, PF_EXIT_INTERNAL, "libcurl refused a transfer");
	return 0;
}

static void finish_transfer(pf_http_client *c, transfer *t, CURLcode rc)
{
	pf_http_response *res = t->res;
	struct curl_header *loc;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &res->status);
	res->retry_after_s = header_int(t->easy, "Retry-After");
	res->ratelimit_reset_s = header_int(t->easy, "X-RateLimit-Reset");
	if (curl_easy_header(t->easy, "Location", 0, CURLH_HEADER, -1, &loc) == CURLHE_OK)
		res->location = strdup(loc->value);
	curl_multi_remove_handle(c->multi, t->easy);
	res->curl_code = (int)rc;
	if (t->too_large) {
		res->exit_code = PF_EXIT_DATA;
		snprintf(res->error, sizeof res->error, "answer is larger than %zu bytes (-limit source-bytes, json-bytes)",
			 t->req->max_bytes);
	} else if (res->stopped) {
		/* the caller says why */
	} else if (rc != CURLE_OK) {
		describe_failure(rc, t->req->url, t->errbuf, res);
	}
	t->done = true;
}

static void free_transfer(pf_http_client *c, transfer *t)
{
	if (t->easy) {
		curl_multi_remove_handle(c->multi, t->easy); /* OK when not added, or removed already */
		curl_easy_cleanup(t->easy);
	}
	curl_slist_free_all(t->headers);
}

/* Drives the multi handle until every transfer is done, starting a new one
 * whenever fewer than `parallel` run. */
static int drive(pf_http_client *c, const pf_http_request *reqs, size_t n, size_t parallel,
		 pf_http_response *res, transfer *ts, pf_err *e)
{
	size_t next = 0, running = 0, finished = 0;
	int64_t start = pf_now_ns();
	c->shown = 0;
	while (finished < n) {
		while (next < n && running < parallel) {
			if (start_transfer(c, &reqs[next], &res[next], &ts[next], e) != 0)
				return -1;
			if (ts[next].done)
				finished++;
			else
				running++;
			next++;
		}
		int still;
		if (curl_multi_perform(c->multi, &still) != CURLM_OK)
			return pf_fail(e, PF_EXIT_INTERNAL, "libcurl failed");
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			transfer *t;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&t);
			finish_transfer(c, t, m->data.result);
			if (t->oom)
				return pf_fail(e, PF_EXIT_INTERNAL, "out of memory reading an answer");
			running--;
			finished++;
		}
		if (running > 0 && curl_multi_poll(c->multi, NULL, 0, 100, NULL) != CURLM_OK)
			return pf_fail(e, PF_EXIT_INTERNAL, "libcurl failed");
		if (c->progress)
			show_progress(c, res, n, running, start);
	}
	erase_progress(c);
	return 0;
}

int pf_http_run(pf_http_client *c, const pf_http_request *reqs, size_t n, size_t parallel,
		pf_http_response *res, pf_err *e)
{
	transfer *ts = calloc(n ? n : 1, sizeof *ts);
	if (!ts)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	int rc = drive(c, reqs, n, parallel ? parallel : 1, res, ts, e);
	for (size_t i = 0; i < n; i++)
		free_transfer(c, &ts[i]);
	free(ts);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (res[i].error[0])
			rc = pf_fail(e, res[i].exit_code, "%s", res[i].error);
	return rc;
}

void pf_http_response_free(pf_http_response *res)
{
	pf_buf_free(&res->body);
	free(res->location);
	res->location = NULL;
}
