/* http.h: HTTP exchanges over libcurl, with TLS always verified, a CA bundle from SSL_CERT_FILE or
 * CURL_CA_BUNDLE, proxies from the usual variables (libcurl reads those
 * itself), and a hard deadline. */
#ifndef PGOFETCH_HTTP_H
#define PGOFETCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "err.h"
#include "log.h"

typedef struct {
	const char *url;
	const char *const *headers; /* "Name: value" lines, NULL-terminated, may be NULL */
	const void *body;          /* POST body; NULL: GET */
	size_t body_len;
	bool follow_redirects;     /* only for requests that carry no secret */
	bool direct;               /* no proxy: a secret over plain http stays on loopback */
	int64_t deadline_ns;       /* on pf_now_ns()'s clock */
	size_t max_bytes;          /* the largest body accepted */
	bool zip_only;             /* a 2xx body that does not start like a ZIP archive stops the transfer */
} pf_http_request;

typedef struct {
	long status;     /* 0 when no answer came */
	char error[512]; /* a transport failure, said for people; "" when none */
	int exit_code;   /* the PF_EXIT_* of that failure */
	pf_buf body;
	bool stopped;    /* zip_only stopped the transfer */
	char *location;  /* Location header of a 3xx, when not followed */
	int64_t retry_after_s;    /* Retry-After, -1 when absent */
	int64_t ratelimit_reset_s; /* X-RateLimit-Reset, -1 when absent */
	int curl_code;   /* CURLcode of a transport failure, 0 when none */
} pf_http_response;


/* A connection cache and transfer engine (a libcurl multi handle):
 * requests run through one client reuse its connections. */
typedef struct pf_http_client pf_http_client;

/* trace (for -v; NULL: none) gets a curl trace of every request, secret
 * headers blanked out: as text lines on stderr, or with trace->json as
 * DEBUG objects, so that every line stays JSON. With progress, a line on
 * stderr reports transfers that last longer than a second (for
 * terminals; the line is erased after). */
pf_http_client *pf_http_client_new(const pf_log *trace, bool progress, pf_err *e);
void pf_http_client_free(pf_http_client *c);

/* Performs the n requests, at most `parallel` at once, filling res[i].
 * Returns 0 when every request got an HTTP answer (whatever its status);
 * otherwise -1 with e set to the first transport failure (PF_EXIT_SOURCE:
 * the message names the host, not the whole URL, and says what to check),
 * and each res[i].error saying which ones failed. Only running out of
 * memory stops the others. */
int pf_http_run(pf_http_client *c, const pf_http_request *reqs, size_t n, size_t parallel,
		pf_http_response *res, pf_err *e);

void pf_http_response_free(pf_http_response *res);

/* The reason phrase of a status, e.g. "Not Found"; "" when unknown. */
const char *pf_http_reason(long status);

/* The host part of url (no user info, no port), into out. */
void pf_url_host(const char *url, char *out, size_t outsz);

#endif
