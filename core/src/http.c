/* http.c: single transfers over libcurl's easy interface. */
#include "http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int64_t pf_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

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

const char *pf_http_reason(long status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

typedef struct {
	pf_http_response *res;
	size_t max_bytes;
	bool too_large, oom;
} sink;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	sink *s = ud;
	size_t len = size * n;
	if (s->res->body.len + len > s->max_bytes) {
		s->too_large = true;
		return 0;
	}
	if (pf_buf_append(&s->res->body, p, len) != 0) {
		s->oom = true;
		return 0;
	}
	return len;
}

static int64_t header_int(const char *line, size_t len, const char *name)
{
	size_t nl = strlen(name);
	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return -2;
	char tmp[32];
	size_t vl = len - nl - 1;
	if (vl >= sizeof tmp)
		vl = sizeof tmp - 1;
	memcpy(tmp, line + nl + 1, vl);
	tmp[vl] = '\0';
	char *end;
	long long v = strtoll(tmp, &end, 10);
	return end == tmp || v < 0 ? -1 : (int64_t)v;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	pf_http_response *res = ud;
	size_t len = size * n;
	int64_t v;
	if ((v = header_int(p, len, "Retry-After")) != -2)
		res->retry_after_s = v;
	else if ((v = header_int(p, len, "X-RateLimit-Reset")) != -2)
		res->ratelimit_reset_s = v;
	else if (len > 9 && strncasecmp(p, "Location:", 9) == 0) {
		size_t s = 9;
		while (s < len && (p[s] == ' ' || p[s] == '\t'))
			s++;
		size_t e = len;
		while (e > s && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '))
			e--;
		free(res->location);
		res->location = strndup(p + s, e - s);
	} else if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or 100 Continue) */
		res->retry_after_s = res->ratelimit_reset_s = -1;
	}
	return len;
}

int pf_http_setup_handle(void *curl_easy)
{
	CURL *c = curl_easy;
	const char *ca = getenv("SSL_CERT_FILE");
	if (!ca || !*ca)
		ca = getenv("CURL_CA_BUNDLE");
	if (ca && *ca && curl_easy_setopt(c, CURLOPT_CAINFO, ca) != CURLE_OK)
		return -1;
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	if (curl_easy_setopt(c, CURLOPT_USERAGENT, "pgofetch/" PGOFETCH_VERSION) != CURLE_OK)
		return -1;
	return 0;
}

static int transport_error(CURLcode rc, const char *url, const char *errbuf, pf_err *e)
{
	char host[256];
	pf_url_host(url, host, sizeof host);
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return pf_fail(e, PF_EXIT_SOURCE, "cannot resolve host %s (check the site or URL): %s", host, why);
	case CURLE_OPERATION_TIMEDOUT:
		return pf_fail(e, PF_EXIT_SOURCE, "timed out talking to %s (raise -timeout?): %s", host, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return pf_fail(e, PF_EXIT_SOURCE,
			       "TLS with %s failed (check the site, and SSL_CERT_FILE for a custom CA): %s", host, why);
	default:
		return pf_fail(e, PF_EXIT_SOURCE, "cannot fetch from %s: %s", host, why);
	}
}

static struct curl_slist *make_headers(const char *const *lines, bool *oom)
{
	struct curl_slist *list = NULL;
	*oom = false;
	for (size_t i = 0; lines && lines[i]; i++) {
		struct curl_slist *next = curl_slist_append(list, lines[i]);
		if (!next) {
			*oom = true;
			break;
		}
		list = next;
	}
	return list;
}

int pf_http_do(const pf_http_request *req, pf_http_response *res, pf_err *e)
{
	memset(res, 0, sizeof *res);
	res->retry_after_s = res->ratelimit_reset_s = -1;
	int64_t left_ms = (req->deadline_ns - pf_now_ns()) / 1000000;
	if (left_ms <= 0)
		return pf_fail(e, PF_EXIT_SOURCE, "timed out before fetching from %s (raise -timeout?)", req->url);
	CURL *c = curl_easy_init();
	if (!c)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory starting libcurl");
	bool oom;
	struct curl_slist *hdrs = make_headers(req->headers, &oom);
	char errbuf[CURL_ERROR_SIZE] = "";
	sink s = {res, req->max_bytes, false, false};
	if (oom || pf_http_setup_handle(c) != 0) {
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(c);
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory setting up libcurl");
	}
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	res->curl_code = (int)rc;
	if (s.oom)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory reading the answer");
	if (s.too_large)
		return pf_fail(e, PF_EXIT_DATA, "answer is larger than %zu bytes", req->max_bytes);
	if (rc != CURLE_OK)
		return transport_error(rc, req->url, errbuf, e);
	return 0;
}

void pf_http_response_free(pf_http_response *res)
{
	pf_buf_free(&res->body);
	free(res->location);
	res->location = NULL;
}
