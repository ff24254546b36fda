/* datadog.c: the conversation with Datadog's API: the gopgo endpoint, or
 * list + download (at most 5 transfers at once on one connection cache),
 * retries of 429, 5xx and connection failures within -timeout, and errors
 * that say what to check. The keys go in two headers of requests to the
 * API host and nowhere else: redirects are never followed. */
#include "datadog.h"
#include "dd_api.h"
#include "http.h"

#include <curl/curl.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RETRIES 3
#define MAX_PARALLEL 5

typedef struct {
	const pf_options *o;
	const pf_log *log;
	int64_t deadline_ns;
	pf_limits *lim;
	pf_http_client *http;
	char *base;
	char *headers[5]; /* NULL-terminated "Name: value" lines */
	char host[256];
	uint64_t rng;
	/* the caller's sink, wrapped to record profile ids */
	pf_profile_sink sink;
	void *sink_ctx;
	pf_dd_result *r;
} dd_client;

/* A key is sent as a header's value: a CR or LF in it would end the
 * header and start another (a trailing newline from a secrets file is the
 * usual way one gets there). Refused, naming the variable, never showing
 * the value. */
static int check_key(const char *name, const char *key, pf_err *e)
{
	if (!key || !*key)
		return pf_fail(e, PF_EXIT_AUTH, "%s is not set (needed for QUERY arguments)", name);
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return pf_fail(e, PF_EXIT_AUTH,
				       "%s holds a control character (a line break?); nothing was sent: set it to the key alone",
				       name);
	return 0;
}

static int read_keys(dd_client *c, pf_err *e)
{
	const char *api = getenv("DD_API_KEY"), *app = getenv("DD_APP_KEY");
	if ((!api || !*api) && (!app || !*app)) /* name both, not one then the other */
		return pf_fail(e, PF_EXIT_AUTH, "DD_API_KEY and DD_APP_KEY are not set (needed for QUERY arguments)");
	if (check_key("DD_API_KEY", api, e) != 0 || check_key("DD_APP_KEY", app, e) != 0)
		return -1;
	c->headers[0] = pf_strf("DD-API-KEY: %s", api);
	c->headers[1] = pf_strf("DD-APPLICATION-KEY: %s", app);
	c->headers[2] = strdup("Content-Type: application/json");
	c->headers[3] = strdup("Accept: */*");
	for (int i = 0; i < 4; i++)
		if (!c->headers[i])
			return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	return 0;
}

static void free_client(dd_client *c)
{
	for (int i = 0; i < 4; i++) {
		if (c->headers[i]) /* wipe the keys before giving the memory back */
			memset(c->headers[i], 0, strlen(c->headers[i]));
		free(c->headers[i]);
	}
	free(c->base);
	pf_http_client_free(c->http);
}

/* 2^n seconds, plus up to a quarter more at random so that many builds
 * hitting a limit together do not come back together; longer when the
 * API says when its limit resets. */
static int64_t backoff_ns(dd_client *c, int attempt, const pf_http_response *res)
{
	int64_t wait = (1000000000LL << attempt);
	int64_t told = res->ratelimit_reset_s > res->retry_after_s ? res->ratelimit_reset_s : res->retry_after_s;
	if (told > 0 && told * 1000000000LL > wait)
		wait = told * 1000000000LL;
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return wait + (int64_t)(c->rng % (uint64_t)(wait / 4 + 1));
}

/* 429, 5xx, and connections that broke; not a DNS or TLS failure (the
 * site or CA is wrong: waiting will not mend it), nor a timeout (-timeout
 * is spent). */
static bool retryable(const pf_http_response *res)
{
	static const int again[] = {CURLE_COULDNT_CONNECT, CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_SEND_ERROR,
				    CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM};
	for (size_t i = 0; res->error[0] && i < sizeof again / sizeof again[0]; i++)
		if (res->curl_code == again[i])
			return true;
	return !res->error[0] && (res->status == 429 || res->status >= 500);
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Runs reqs, retrying the ones that failed in a retryable way while
 * attempts and time remain. res[i] holds each one's last answer. */
static int run_with_retries(dd_client *c, const pf_http_request *reqs, size_t n, pf_http_response *res,
			    pf_err *e)
{
	size_t *pending = malloc(n * sizeof *pending);
	pf_http_request *batch = malloc(n * sizeof *batch);
	pf_http_response *out = malloc(n * sizeof *out);
	int rc = pending && batch && out ? 0 : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	size_t np = rc == 0 ? n : 0;
	for (size_t i = 0; i < np; i++)
		pending[i] = i;
	for (int attempt = 0; np > 0; attempt++) {
		for (size_t k = 0; k < np; k++)
			batch[k] = reqs[pending[k]];
		pf_err ignored = {0};
		if (pf_http_run(c->http, batch, np, MAX_PARALLEL, out, &ignored) != 0 &&
		    ignored.code == PF_EXIT_INTERNAL) {
			rc = pf_fail(e, PF_EXIT_INTERNAL, "%s", ignored.msg);
			for (size_t k = 0; k < np; k++)
				pf_http_response_free(&out[k]);
			break;
		}
		size_t again = 0;
		int64_t wait = 0;
		for (size_t k = 0; k < np; k++) {
			size_t i = pending[k];
			pf_http_response_free(&res[i]);
			res[i] = out[k];
			if (attempt < MAX_RETRIES && retryable(&res[i])) {
				int64_t w = backoff_ns(c, attempt, &res[i]);
				wait = w > wait ? w : wait;
				pending[again++] = i;
			}
		}
		if (again == 0)
			break;
		if (pf_now_ns() + wait >= c->deadline_ns) {
			pf_debug(c->log, "not retrying: -timeout would pass", PF_DUR("wait", wait));
			break;
		}
		const pf_http_response *last = &res[pending[0]];
		pf_warn(c->log, "retrying", PF_STR("host", c->host), PF_INT("status", last->status),
			PF_STR("error", last->error), PF_INT("requests", again), PF_INT("attempt", attempt + 2),
			PF_DUR("wait", wait - wait % 1000000));
		sleep_ns(wait);
		np = again;
	}
	free(pending);
	free(batch);
	free(out);
	return rc;
}

/* A transport failure or a non-2xx answer. */
static bool failed(const pf_http_response *res)
{
	return res->error[0] || res->status < 200 || res->status > 299;
}

/* Turns a final non-2xx answer or a transport failure into an error that
 * says what to check. */
static int answer_error(dd_client *c, const char *what, const pf_http_response *res, pf_err *e)
{
	if (res->error[0])
		return pf_fail(e, res->exit_code, "%s: %s", what, res->error);
	long s = res->status;
	const char *reason = pf_http_reason(s);
	if (s >= 300 && s < 400) {
		char to[256] = "another location";
		if (res->location)
			pf_url_host(res->location, to, sizeof to);
		return pf_fail(e, PF_EXIT_SOURCE,
			       "%s: HTTP %ld %s from %s, redirecting to %s: not followed, the keys go to the API host only (check -api-url or DD_SITE)",
			       what, s, reason, c->host, to[0] ? to : c->host);
	}
	if (s == 401 || s == 403)
		return pf_fail(e, PF_EXIT_AUTH,
			       "%s: HTTP %ld %s from %s: check DD_API_KEY and DD_APP_KEY, that they belong to this site (DD_SITE), and that the application key has the continuous_profiler_pgo_read scope",
			       what, s, reason, c->host);
	if (s == 404)
		return pf_fail(e, PF_EXIT_NOTFOUND, "%s: HTTP 404 Not Found from %s: check the query and the endpoint (-endpoint, -api-url)",
			       what, c->host);
	if (s == 429) {
		int64_t reset = res->ratelimit_reset_s >= 0 ? res->ratelimit_reset_s : res->retry_after_s;
		char when[64] = "";
		if (reset >= 0)
			snprintf(when, sizeof when, ", the limit resets in %llds", (long long)reset);
		return pf_fail(e, PF_EXIT_SOURCE, "%s: HTTP 429 Too Many Requests from %s: rate limited%s", what, c->host, when);
	}
	if (s >= 500)
		return pf_fail(e, PF_EXIT_SOURCE, "%s: HTTP %ld %s from %s: the Datadog service failed; try again later",
			       what, s, reason, c->host);
	return pf_fail(e, PF_EXIT_SOURCE, "%s: HTTP %ld %s from %s", what, s, reason, c->host);
}

static pf_http_request api_request(const dd_client *c, const char *url, const char *body, size_t max_bytes)
{
	return (pf_http_request){
		.url = url,
		.headers = (const char *const *)c->headers,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.follow_redirects = false,
		/* Over https a proxy sees only a tunnel; over plain http (allowed to
		 * loopback only) it would see the keys, so no proxy then. */
		.direct = strncmp(c->base, "http://", 7) == 0,
		.deadline_ns = c->deadline_ns,
		.max_bytes = max_bytes,
	};
}

/* POSTs body to the API's path with retries; res holds the last answer. */
static int post(dd_client *c, const char *path, char *body, size_t max_bytes, bool zip_only,
		pf_http_response *res, pf_err *e)
{
	char *url = body ? pf_strf("%s%s", c->base, path) : NULL;
	pf_http_request req = api_request(c, url, body, max_bytes);
	req.zip_only = zip_only;
	*res = (pf_http_response){0};
	int rc = !body ? -1 : !url ? pf_fail(e, PF_EXIT_INTERNAL, "out of memory") : run_with_retries(c, &req, 1, res, e);
	free(body);
	free(url);
	return rc;
}

static int record_and_sink(void *ctx, const char *origin, const char *entry, pf_buf *raw, pf_err *e)
{
	dd_client *c = ctx;
	pf_dd_result *r = c->r;
	char why[128];
	if (pf_dd_check_id(entry ? entry : origin, why, sizeof why) != 0)
		return pf_fail(e, PF_EXIT_DATA, "Datadog answer: profile %zu: its id %s", r->nids + 1, why);
	char **ids = realloc(r->profile_ids, (r->nids + 1) * sizeof *ids);
	if (!ids)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	r->profile_ids = ids;
	if (!(ids[r->nids] = strdup(entry ? entry : origin)))
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	r->nids++;
	return c->sink(c->sink_ctx, "", entry, raw, e);
}

/* POST /api/unstable/profiles/gopgo: one ZIP of every profile, read
 * whole: its entries' offsets are in its directory, at its end. Returns 1
 * when the endpoint is not there (404), so the caller falls back to list +
 * download. */
static int fetch_gopgo(dd_client *c, pf_err *e)
{
	pf_http_response res;
	pf_debug(c->log, "requesting profiles", PF_STR("endpoint", "gopgo"), PF_INT("queries", c->o->nqueries));
	int rc = post(c, "/api/unstable/profiles/gopgo",
		      pf_dd_request_body(c->o->queries, c->o->nqueries, c->r->from, c->r->to, c->o->profiles, 0, e),
		      pf_source_max(c->lim), true, &res, e);
	if (rc == 0 && res.stopped) {
		rc = pf_fail(e, PF_EXIT_DATA, "Datadog answer: not a ZIP archive, as the gopgo endpoint sends");
	} else if (rc == 0 && res.status == 404 && !res.error[0]) {
		pf_warn(c->log, "the gopgo endpoint answered 404; using list and download", PF_STR("host", c->host));
		rc = 1;
	} else if (rc == 0 && failed(&res)) {
		rc = answer_error(c, "fetching profiles", &res, e);
	} else if (rc == 0) {
		pf_debug(c->log, "downloaded profiles", PF_INT("bytes", res.body.len));
		rc = pf_feed_bytes("Datadog answer", &res.body, c->lim, record_and_sink, c, e);
	}
	pf_http_response_free(&res);
	return rc;
}

/* POST /api/unstable/profiles/list for one query. */
static int list_query(dd_client *c, const char *query, pf_dd_listed **l, size_t *n, pf_err *e)
{
	char from[32], to[32];
	pf_dd_format_time(c->r->from, from);
	pf_dd_format_time(c->r->to, to);
	pf_info(c->log, "searching profiles", PF_STR("query", query), PF_STR("by", "@metrics.core_cpu_cores"),
		PF_STR("order", "desc"), PF_STR("from", from), PF_STR("to", to));
	pf_http_response res;
	int rc = post(c, "/api/unstable/profiles/list",
		      pf_dd_request_body(&query, 1, c->r->from, c->r->to, c->o->profiles, 1, e),
		      (size_t)c->o->limits.json_bytes, false, &res, e);
	if (rc == 0 && failed(&res))
		rc = answer_error(c, "searching profiles", &res, e);
	else if (rc == 0 && pf_json_depth((const char *)res.body.data, res.body.len) > c->o->limits.json_depth)
		rc = pf_fail(e, PF_EXIT_DATA, "list answer is nested deeper than -limit json-depth=%llu",
			     (unsigned long long)c->o->limits.json_depth);
	else if (rc == 0)
		rc = pf_dd_parse_list((const char *)res.body.data, res.body.len, c->o->profiles, l, n, e);
	if (rc == 0 && *n == 0)
		pf_warn(c->log, "no profiles found", PF_STR("query", query));
	pf_http_response_free(&res);
	return rc;
}

/* A download is a ZIP with cpu.pprof among other profiles. */
static int feed_cpu_profile(dd_client *c, const pf_dd_listed *p, const pf_buf *zip, pf_err *e)
{
	pf_zip z;
	if (pf_zip_open(zip->data, zip->len, &z, e) != 0) {
		pf_err_prefix(e, p->profile_id);
		return -1;
	}
	int rc = pf_fail(e, PF_EXIT_DATA, "%s: no cpu.pprof in the download", p->profile_id);
	for (size_t i = 0; i < z.n; i++) {
		const char *slash = strrchr(z.entries[i].name, '/');
		if (strcmp(slash ? slash + 1 : z.entries[i].name, "cpu.pprof") != 0)
			continue;
		*e = (pf_err){0};
		pf_buf raw = {0};
		rc = pf_zip_extract(&z.entries[i], pf_source_max(c->lim), &raw, e);
		if (rc != 0)
			pf_err_prefix(e, p->profile_id);
		else
			rc = record_and_sink(c, "", p->profile_id, &raw, e);
		pf_buf_free(&raw);
		break;
	}
	pf_zip_close(&z);
	return rc;
}

static void log_listed(const dd_client *c, const pf_dd_listed *p)
{
	int64_t age = 0, taken;
	if (pf_dd_parse_time(p->timestamp, &taken) == 0) {
		age = (pf_wall_ns() / 1000000000LL - taken) * 1000000000LL;
		age = age < 0 ? 0 : age;
	}
	pf_info(c->log, "downloading profile", PF_STR("service", p->service),
		PF_FLOAT("cpu-cores", trunc(p->cpu_cores * 10) / 10),
		PF_DUR("duration", p->duration_ns), PF_DUR("age", age), PF_STR("profile-id", p->profile_id));
}

/* GETs every listed profile, at most MAX_PARALLEL at once, then feeds
 * them in list order. */
static int download_all(dd_client *c, const pf_dd_listed *l, size_t n, pf_err *e)
{
	pf_http_request *reqs = calloc(n, sizeof *reqs);
	pf_http_response *res = calloc(n, sizeof *res);
	char **urls = calloc(n, sizeof *urls);
	int rc = reqs && res && urls ? 0 : pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		log_listed(c, &l[i]);
		urls[i] = pf_strf("%s/api/ui/profiling/profiles/%s/download?eventId=%s", c->base, l[i].profile_id,
				  l[i].event_id);
		if (!urls[i]) {
			rc = pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
			break;
		}
		reqs[i] = api_request(c, urls[i], NULL, pf_source_max(c->lim));
	}
	if (rc == 0)
		rc = run_with_retries(c, reqs, n, res, e);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (failed(&res[i])) {
			char what[300];
			snprintf(what, sizeof what, "downloading profile %s", l[i].profile_id);
			rc = answer_error(c, what, &res[i], e);
		} else {
			rc = feed_cpu_profile(c, &l[i], &res[i].body, e);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (res)
			pf_http_response_free(&res[i]);
		if (urls)
			free(urls[i]);
	}
	free(reqs), free(res), free(urls);
	return rc;
}

static int fetch_legacy(dd_client *c, pf_err *e)
{
	int rc = 0;
	for (size_t q = 0; rc == 0 && q < c->o->nqueries; q++) {
		pf_dd_listed *l = NULL;
		size_t n = 0;
		rc = list_query(c, c->o->queries[q], &l, &n, e);
		if (rc == 0 && n > 0)
			rc = download_all(c, l, n, e);
		pf_dd_listed_free(l, n);
	}
	return rc;
}

int pf_datadog_fetch(const pf_options *o, const pf_log *log, int64_t deadline_ns,
		     pf_limits *lim, pf_profile_sink sink, void *ctx, pf_dd_result *r,
		     pf_err *e)
{
	dd_client c = {.o = o, .log = log, .deadline_ns = deadline_ns, .lim = lim,
		       .sink = sink, .sink_ctx = ctx, .r = r};
	c.rng = (uint64_t)pf_wall_ns() | 1;
	memset(r, 0, sizeof *r);
	pf_dd_window(pf_wall_ns(), o->from_ns, &r->from, &r->to);
	int rc = read_keys(&c, e);
	if (rc == 0 && !(c.base = pf_dd_base_url(o->api_url, o->api_url_from, getenv("DD_SITE"), e)))
		rc = -1;
	/* progress on a terminal only, not with -json */
	if (rc == 0 && !(c.http = pf_http_client_new(o->verbose ? log : NULL, log->color, e)))
		rc = -1;
	if (rc == 0) {
		pf_url_host(c.base, c.host, sizeof c.host);
		rc = strcmp(o->endpoint, "legacy") == 0 ? 1 : fetch_gopgo(&c, e);
		if (rc == 1)
			rc = fetch_legacy(&c, e);
		if (rc == 0 && r->nids == 0)
			rc = pf_fail(e, PF_EXIT_NOTFOUND,
				     "no profiles matched the queries in the -from window (check the query, -from and DD_SITE)");
	}
	free_client(&c);
	return rc;
}

void pf_dd_result_free(pf_dd_result *r)
{
	for (size_t i = 0; i < r->nids; i++)
		free(r->profile_ids[i]);
	free(r->profile_ids);
	memset(r, 0, sizeof *r);
}

char *pf_dd_debug_query(const pf_dd_result *r)
{
	size_t n = sizeof "profile-id:()";
	for (size_t i = 0; i < r->nids; i++)
		n += strlen(r->profile_ids[i]) + 4;
	char *q = malloc(n);
	if (!q)
		return NULL;
	size_t at = (size_t)snprintf(q, n, "profile-id:(");
	for (size_t i = 0; i < r->nids; i++)
		at += (size_t)snprintf(q + at, n - at, "%s%s", i ? " OR " : "", r->profile_ids[i]);
	snprintf(q + at, n - at, ")");
	return q;
}
