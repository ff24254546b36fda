/* dd_api.h: the shapes of Datadog's profiling API (docs/datadog-api.md):
 * base URL, request bodies, the list answer. No I/O here; datadog.c does
 * the talking. */
#ifndef PGOFETCH_DD_API_H
#define PGOFETCH_DD_API_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* The API base URL, without a trailing slash: api_url when given (only
 * http(s); plain http only to a loopback host), else https://app.<site>
 * for a known DD_SITE (default datadoghq.com). A bad one is a usage
 * error naming api_url_name (the flag or variable it came from). The
 * caller frees it. */
char *pf_dd_base_url(const char *api_url, const char *api_url_name, const char *site, pf_err *e);

/* A query as sent: " runtime:go" appended unless it names runtime:go or
 * language:go, as datadog-pgo does. The caller frees it. */
char *pf_dd_query_text(const char *query);

/* Datadog's time layout, UTC, whole seconds: 2006-01-02T15:04:05Z. */
void pf_dd_format_time(time_t t, char out[32]);

/* Parses the start of an RFC 3339 UTC time ("2026-11-21T09:58:00Z", any
 * fraction ignored) into Unix seconds; -1 when it is not one. */
int pf_dd_parse_time(const char *s, int64_t *unix_s);

/* The time window [from, to]: to is now rounded to the second as Go's
 * Time.Round does, from is to minus window_ns (rounded the same way). */
void pf_dd_window(int64_t now_unix_ns, int64_t window_ns, time_t *from, time_t *to);

/* The gopgo body {"queries":[...]} for n queries, or with n == 1 and
 * single set, the bare query object the list endpoint takes. */
char *pf_dd_request_body(const char *const *queries, size_t n, time_t from, time_t to,
			 int64_t limit, int single, pf_err *e);

/* Datadog's ids (a profile's, an event's) are short and printable ASCII;
 * they go into URLs, logs and DEST's comments. 0 when id is one; else -1
 * and, in why, what is wrong with it (never the id itself). */
#define PF_DD_ID_MAX 256
int pf_dd_check_id(const char *id, char *why, size_t n);

/* One profile found by the list endpoint. */
typedef struct {
	char *event_id;
	char *profile_id;
	char *service;
	double cpu_cores;
	int64_t duration_ns;
	char *timestamp;
} pf_dd_listed;

/* Parses the list answer, keeping at most limit entries. */
int pf_dd_parse_list(const char *json, size_t len, int64_t limit, pf_dd_listed **out, size_t *n,
		     pf_err *e);
void pf_dd_listed_free(pf_dd_listed *l, size_t n);

#endif
