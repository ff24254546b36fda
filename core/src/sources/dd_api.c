/* dd_api.c: request bodies and answers of Datadog's profiling API, with
 * cJSON for the JSON. */
#define _DEFAULT_SOURCE /* timegm */
#include "dd_api.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* Datadog's API client's list of sites (api/datadog/configuration.go). */
static const char *const known_sites[] = {
	"datadoghq.com", "us3.datadoghq.com", "us5.datadoghq.com", "ap1.datadoghq.com",
	"ap2.datadoghq.com", "uk1.datadoghq.com", "datadoghq.eu", "ddog-gov.com", "us2.ddog-gov.com",
};

/* localhost, 127.0.0.0/8 or [::1]; a name that merely starts with "127."
 * is not. */
static bool is_loopback(const char *host)
{
	struct in_addr a;
	if (inet_pton(AF_INET, host, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0;
}

/* What a URL's authority may hold: a host name or IPv4 address (letters,
 * digits, '-', '.', '_') or a bracketed IPv6 address, then an optional
 * port. Anything else would be refused by libcurl only once the run has
 * begun, as a network failure. */
static bool valid_authority(const char *a, size_t n)
{
	size_t i = 0;
	if (n > 0 && a[0] == '[') {
		while (++i < n && a[i] != ']')
			if (!isxdigit((unsigned char)a[i]) && a[i] != ':' && a[i] != '.')
				return false;
		if (i >= n || i == 1)
			return false;
		i++;
	} else {
		while (i < n && (isalnum((unsigned char)a[i]) || a[i] == '-' || a[i] == '.' || a[i] == '_'))
			i++;
	}
	if (i < n && a[i] == ':') {
		size_t digits = n - i - 1;
		if (digits < 1 || digits > 5 || strspn(a + i + 1, "0123456789") < digits ||
		    atol(a + i + 1) < 1 || atol(a + i + 1) > 65535)
			return false;
		i = n;
	}
	return i == n;
}

/* What is wrong with an -api-url, NULL when nothing; *quote when the
 * message may show the URL. */
static const char *api_url_problem(const char *url, bool *quote)
{
	/* Before the URL is echoed in a message: no control character (a
	 * line break would split the message), no password. */
	*quote = false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return "holds a control character: want a URL such as https://api.example.com";
	const char *scheme_end = strstr(url, "://");
	const char *authority = scheme_end ? scheme_end + 3 : url;
	size_t alen = strcspn(authority, "/?#");
	if (memchr(authority, '@', alen))
		return "must not hold a user name or password";
	*quote = true;
	bool https = strncmp(url, "https://", 8) == 0, http = strncmp(url, "http://", 7) == 0;
	if (!https && !http)
		return "want an http:// or https:// URL";
	if (strchr(url, ' '))
		return "a URL holds no spaces";
	char host[256];
	pf_url_host(url, host, sizeof host);
	if (host[0] == '\0')
		return "no host";
	if (!valid_authority(authority, alen))
		return "not a valid host and port";
	if (http && !is_loopback(host))
		return "plain http would send the keys in the clear; use https (http is allowed only to loopback)";
	return NULL;
}

static char *check_api_url(const char *url, const char *what, pf_err *e)
{
	bool quote;
	const char *why = api_url_problem(url, &quote);
	if (why && quote)
		pf_fail(e, PF_EXIT_USAGE, "%s %s: %s", what, url, why);
	else if (why)
		pf_fail(e, PF_EXIT_USAGE, "%s %s", what, why);
	char *out = why ? NULL : strdup(url);
	if (!why && !out)
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	size_t n = out ? strlen(out) : 0;
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
	return out;
}

char *pf_dd_base_url(const char *api_url, const char *api_url_name, const char *site, pf_err *e)
{
	if (api_url && *api_url)
		return check_api_url(api_url, api_url_name, e);
	if (!site || !*site)
		site = "datadoghq.com";
	bool known = false;
	for (size_t i = 0; i < sizeof known_sites / sizeof known_sites[0]; i++)
		known = known || strcmp(site, known_sites[i]) == 0;
	if (!known) {
		pf_fail(e, PF_EXIT_USAGE,
			"DD_SITE=%s is not a known Datadog site (datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, "
			"ap1.datadoghq.com, ap2.datadoghq.com, uk1.datadoghq.com, datadoghq.eu, ddog-gov.com, "
			"us2.ddog-gov.com); give the API's URL with -api-url",
			site);
		return NULL;
	}
	char *out = pf_strf("https://app.%s", site);
	if (!out)
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	return out;
}

char *pf_dd_query_text(const char *query)
{
	if (strstr(query, "language:go") || strstr(query, "runtime:go"))
		return strdup(query);
	while (isspace((unsigned char)*query))
		query++;
	size_t n = strlen(query);
	while (n > 0 && isspace((unsigned char)query[n - 1]))
		n--;
	return pf_strf("%.*s runtime:go", (int)n, query);
}

void pf_dd_format_time(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int pf_dd_parse_time(const char *s, int64_t *unix_s)
{
	struct tm tm = {0};
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	*unix_s = timegm(&tm);
	return 0;
}

/* Go's Time.Round(time.Second): halfway rounds up. */
static time_t round_second(int64_t unix_ns)
{
	int64_t s = unix_ns / 1000000000LL, rem = unix_ns % 1000000000LL;
	if (rem < 0) {
		rem += 1000000000LL;
		s--;
	}
	return (time_t)(rem >= 500000000LL ? s + 1 : s);
}

void pf_dd_window(int64_t now_unix_ns, int64_t window_ns, time_t *from, time_t *to)
{
	*to = round_second(now_unix_ns);
	*from = round_second(now_unix_ns - window_ns);
}

static cJSON *query_object(const char *query, time_t from, time_t to, int64_t limit)
{
	char f[32], t[32];
	pf_dd_format_time(from, f);
	pf_dd_format_time(to, t);
	char *text = pf_dd_query_text(query);
	cJSON *q = cJSON_CreateObject();
	cJSON *filter = cJSON_AddObjectToObject(q, "filter"), *sort = cJSON_AddObjectToObject(q, "sort");
	bool ok = text && filter && sort && cJSON_AddStringToObject(filter, "from", f) &&
		  cJSON_AddStringToObject(filter, "to", t) && cJSON_AddStringToObject(filter, "query", text) &&
		  cJSON_AddStringToObject(sort, "order", "desc") &&
		  cJSON_AddStringToObject(sort, "field", "@metrics.core_cpu_cores") &&
		  cJSON_AddNumberToObject(q, "limit", (double)limit);
	free(text);
	if (!ok) {
		cJSON_Delete(q);
		return NULL;
	}
	return q;
}

char *pf_dd_request_body(const char *const *queries, size_t n, time_t from, time_t to,
			 int64_t limit, int single, pf_err *e)
{
	cJSON *root = single ? NULL : cJSON_CreateObject();
	cJSON *list = single ? NULL : cJSON_AddArrayToObject(root, "queries");
	bool ok = single || (root && list);
	for (size_t i = 0; ok && i < n; i++) {
		cJSON *q = query_object(queries[i], from, to, limit);
		ok = q != NULL;
		if (ok && single)
			root = q;
		else if (ok)
			cJSON_AddItemToArray(list, q);
	}
	char *body = ok ? cJSON_PrintUnformatted(root) : NULL;
	cJSON_Delete(root);
	if (!body)
		pf_fail(e, PF_EXIT_INTERNAL, "out of memory building the request");
	return body;
}

int pf_dd_check_id(const char *id, char *why, size_t n)
{
	size_t len = strlen(id);
	if (len == 0)
		snprintf(why, n, "is empty");
	else if (len > PF_DD_ID_MAX)
		snprintf(why, n, "is %zu bytes long, more than %d", len, PF_DD_ID_MAX);
	for (size_t i = 0; len <= PF_DD_ID_MAX && i < len; i++) {
		unsigned char c = (unsigned char)id[i];
		if (c <= ' ' || c >= 0x7f) {
			snprintf(why, n, "holds byte 0x%02x at byte %zu, where Datadog's ids are printable ASCII", c, i);
			return -1;
		}
	}
	return len == 0 || len > PF_DD_ID_MAX ? -1 : 0;
}

/* cJSON turns \u0000 into a NUL that ends the string it is in, silently
 * cutting an id short: the offset of the first one in a string, or -1. */
static long nul_escape_at(const char *json, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (!in_string) {
			in_string = json[i] == '"';
		} else if (json[i] == '"') {
			in_string = false;
		} else if (json[i] == '\\' && i + 1 < len) {
			if (json[i + 1] == 'u' && len - i >= 6 && memcmp(json + i + 2, "0000", 4) == 0)
				return (long)i;
			i++;
		}
	}
	return -1;
}

static char *dup_string(const cJSON *item)
{
	return cJSON_IsString(item) ? strdup(item->valuestring) : strdup("");
}

static int parse_listed(const cJSON *item, size_t i, pf_dd_listed *l, pf_err *e)
{
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(item, "attributes");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(attrs, "id");
	if (!cJSON_IsString(id) || !cJSON_IsString(pid) || !*id->valuestring || !*pid->valuestring)
		return pf_fail(e, PF_EXIT_DATA, "list answer: data[%zu] has no id or attributes.id", i);
	const cJSON *custom = cJSON_GetObjectItemCaseSensitive(attrs, "custom");
	const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(custom, "metrics");
	const cJSON *cores = cJSON_GetObjectItemCaseSensitive(metrics, "core_cpu_cores");
	const cJSON *dur = cJSON_GetObjectItemCaseSensitive(attrs, "duration_nanos");
	l->event_id = dup_string(id);
	l->profile_id = dup_string(pid);
	l->service = dup_string(cJSON_GetObjectItemCaseSensitive(attrs, "service"));
	l->timestamp = dup_string(cJSON_GetObjectItemCaseSensitive(attrs, "timestamp"));
	l->cpu_cores = cJSON_IsNumber(cores) ? cores->valuedouble : 0;
	/* Only a duration int64 nanoseconds can hold; any other is unknown (0). */
	bool fits = cJSON_IsNumber(dur) && dur->valuedouble >= 0 && dur->valuedouble < 9.2e18;
	l->duration_ns = fits ? (int64_t)dur->valuedouble : 0;
	if (!l->event_id || !l->profile_id || !l->service || !l->timestamp)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	char why[128];
	if (pf_dd_check_id(l->profile_id, why, sizeof why) != 0)
		return pf_fail(e, PF_EXIT_DATA, "list answer: data[%zu]: attributes.id %s", i, why);
	if (pf_dd_check_id(l->event_id, why, sizeof why) != 0)
		return pf_fail(e, PF_EXIT_DATA, "list answer: data[%zu]: id %s", i, why);
	/* The ids go into a URL path and query: refuse what would change its shape. */
	if (strpbrk(l->profile_id, "/?#&% ") || strpbrk(l->event_id, "/?#&% "))
		return pf_fail(e, PF_EXIT_DATA, "list answer: data[%zu] has an id with URL characters", i);
	return 0;
}

int pf_dd_parse_list(const char *json, size_t len, int64_t limit, pf_dd_listed **out, size_t *n,
		     pf_err *e)
{
	*out = NULL;
	*n = 0;
	const char *end = NULL;
	long nul = nul_escape_at(json, len);
	if (nul >= 0)
		return pf_fail(e, PF_EXIT_DATA, "list answer: a string holds \\u0000 (a NUL byte) at byte %ld", nul);
	cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!root) {
		size_t at = end && end >= json ? (size_t)(end - json) : 0;
		return pf_fail(e, PF_EXIT_DATA, "list answer is not valid JSON (near byte %zu)", at);
	}
	while (end < json + len && isspace((unsigned char)*end))
		end++;
	if (end < json + len) {
		cJSON_Delete(root);
		return pf_fail(e, PF_EXIT_DATA, "list answer: more bytes after its JSON value, from byte %zu",
			       (size_t)(end - json));
	}
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsArray(data)) {
		cJSON_Delete(root);
		return pf_fail(e, PF_EXIT_DATA, "list answer has no \"data\" array");
	}
	size_t count = (size_t)cJSON_GetArraySize(data);
	if ((int64_t)count > limit)
		count = (size_t)limit;
	pf_dd_listed *l = calloc(count ? count : 1, sizeof *l);
	if (!l) {
		cJSON_Delete(root);
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	}
	int rc = 0;
	const cJSON *item;
	size_t i = 0;
	cJSON_ArrayForEach(item, data) {
		if (i == count || rc != 0)
			break;
		rc = parse_listed(item, i, &l[i], e);
		i++;
	}
	cJSON_Delete(root);
	if (rc != 0) {
		pf_dd_listed_free(l, i);
		return -1;
	}
	*out = l;
	*n = count;
	return 0;
}

void pf_dd_listed_free(pf_dd_listed *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++) {
		free(l[i].event_id);
		free(l[i].profile_id);
		free(l[i].service);
		free(l[i].timestamp);
	}
	free(l);
}
