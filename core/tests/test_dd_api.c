/* The Datadog API shapes: base URL rules, query text, time layout, request
 * bodies and list answers. */
#include "check.h"
#include "dd_api.h"

#include <stdlib.h>
#include <string.h>

static void base_urls(void)
{
	pf_err e = {0};
	char *u = pf_dd_base_url(NULL, "-api-url", NULL, &e);
	CHECK_EQ_STR(u, "https://app.datadoghq.com");
	free(u);
	u = pf_dd_base_url(NULL, "-api-url", "datadoghq.eu", &e);
	CHECK_EQ_STR(u, "https://app.datadoghq.eu");
	free(u);
	u = pf_dd_base_url("https://api.example.test/", "-api-url", "nonsense", &e);
	CHECK_EQ_STR(u, "https://api.example.test");
	free(u);
	u = pf_dd_base_url("http://127.0.0.1:8080", "-api-url", NULL, &e);
	CHECK_EQ_STR(u, "http://127.0.0.1:8080");
	free(u);
	u = pf_dd_base_url("http://[::1]:8080", "-api-url", NULL, &e);
	CHECK_EQ_STR(u, "http://[::1]:8080");
	free(u);
	CHECK_EQ_INT(e.code, 0);

	CHECK(pf_dd_base_url(NULL, "-api-url", "datadoghq.example", &e) == NULL);
	CHECK_EQ_INT(e.code, PF_EXIT_USAGE);
	CHECK(strstr(e.msg, "DD_SITE=datadoghq.example is not a known Datadog site") != NULL);
	e = (pf_err){0};
	CHECK(pf_dd_base_url("http://api.example.test", "-api-url", NULL, &e) == NULL);
	CHECK(strstr(e.msg, "plain http") != NULL);
	e = (pf_err){0};
	CHECK(pf_dd_base_url("http://127.0.0.1.example.test", "-api-url", NULL, &e) == NULL);
	CHECK(strstr(e.msg, "plain http") != NULL);
	e = (pf_err){0};
	CHECK(pf_dd_base_url("ftp://x", "-api-url", NULL, &e) == NULL);
	e = (pf_err){0};
	CHECK(pf_dd_base_url("https://user:pw@api.example.test", "-api-url", NULL, &e) == NULL);
	CHECK(strstr(e.msg, "user name or password") != NULL);
	/* What libcurl would refuse only once the run has begun. */
	static const char *const bad[] = {"not a url", "https://", "https://exa mple.com", "https://host\r\nX: y",
					  "https://host:", "https://host:0", "https://host:65536", "https://host:8o",
					  "https://[::1", "https://[]", "https://ho%st"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		e = (pf_err){0};
		CHECK(pf_dd_base_url(bad[i], "PGOFETCH_API_URL", NULL, &e) == NULL);
		CHECK_EQ_INT(e.code, PF_EXIT_USAGE);
		CHECK(strncmp(e.msg, "PGOFETCH_API_URL ", 17) == 0);
	}
	e = (pf_err){0};
	char *ok = pf_dd_base_url("https://h-1.example_2.test:443/api/", "-api-url", NULL, &e);
	CHECK_EQ_STR(ok, "https://h-1.example_2.test:443/api");
	free(ok);
}

static void queries(void)
{
	char *q = pf_dd_query_text("  service:foo env:prod ");
	CHECK_EQ_STR(q, "service:foo env:prod runtime:go");
	free(q);
	q = pf_dd_query_text("service:foo language:go");
	CHECK_EQ_STR(q, "service:foo language:go");
	free(q);
	q = pf_dd_query_text(" runtime:go service:foo");
	CHECK_EQ_STR(q, " runtime:go service:foo");
	free(q);
}

static void times(void)
{
	char buf[32];
	pf_dd_format_time(0, buf);
	CHECK_EQ_STR(buf, "1970-01-01T00:00:00Z");
	pf_dd_format_time(1795255200, buf);
	CHECK_EQ_STR(buf, "2026-11-21T10:00:00Z");
	time_t from, to;
	/* Go's Round(time.Second) rounds halves up */
	pf_dd_window(1795255200LL * 1000000000 + 500000000, 3600LL * 1000000000, &from, &to);
	CHECK_EQ_INT(to, 1795255201);
	CHECK_EQ_INT(from, 1795255201 - 3600);
	pf_dd_window(1795255200LL * 1000000000 + 499999999, 3600LL * 1000000000, &from, &to);
	CHECK_EQ_INT(to, 1795255200);
	int64_t t;
	CHECK_EQ_INT(pf_dd_parse_time("2026-11-21T10:00:00Z", &t), 0);
	CHECK_EQ_INT(t, 1795255200);
	CHECK_EQ_INT(pf_dd_parse_time("2026-11-21T10:00:00.123Z", &t), 0);
	CHECK_EQ_INT(t, 1795255200);
	CHECK_EQ_INT(pf_dd_parse_time("2026-13-21T10:00:00Z", &t), -1);
	CHECK_EQ_INT(pf_dd_parse_time("yesterday", &t), -1);
}

static void bodies(void)
{
	pf_err e = {0};
	const char *qs[] = {"service:foo env:prod", "service:bar runtime:go"};
	char *b = pf_dd_request_body(qs, 2, 1794996000, 1795255200, 5, 0, &e);
	CHECK_EQ_STR(b, "{\"queries\":[{\"filter\":{\"from\":\"2026-11-18T10:00:00Z\",\"to\":\"2026-11-21T10:00:00Z\","
			"\"query\":\"service:foo env:prod runtime:go\"},\"sort\":{\"order\":\"desc\",\"field\":"
			"\"@metrics.core_cpu_cores\"},\"limit\":5},{\"filter\":{\"from\":\"2026-11-18T10:00:00Z\",\"to\":"
			"\"2026-11-21T10:00:00Z\",\"query\":\"service:bar runtime:go\"},\"sort\":{\"order\":\"desc\","
			"\"field\":\"@metrics.core_cpu_cores\"},\"limit\":5}]}");
	free(b);
	b = pf_dd_request_body(qs, 1, 1794996000, 1795255200, 3, 1, &e);
	CHECK_EQ_STR(b, "{\"filter\":{\"from\":\"2026-11-18T10:00:00Z\",\"to\":\"2026-11-21T10:00:00Z\","
			"\"query\":\"service:foo env:prod runtime:go\"},\"sort\":{\"order\":\"desc\",\"field\":"
			"\"@metrics.core_cpu_cores\"},\"limit\":3}");
	free(b);
}

static void lists(void)
{
	const char *json = "{\"data\":[{\"id\":\"ev1\",\"attributes\":{\"id\":\"p1\",\"service\":\"foo\","
			   "\"duration_nanos\":60000000000,\"timestamp\":\"2026-11-21T09:58:00Z\","
			   "\"custom\":{\"metrics\":{\"core_cpu_cores\":3.2}}}},"
			   "{\"id\":\"ev2\",\"attributes\":{\"id\":\"p2\"}},{\"id\":\"ev3\",\"attributes\":{\"id\":\"p3\"}}]}";
	pf_dd_listed *l;
	size_t n;
	pf_err e = {0};
	CHECK_EQ_INT(pf_dd_parse_list(json, strlen(json), 2, &l, &n, &e), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(l[0].event_id, "ev1");
	CHECK_EQ_STR(l[0].profile_id, "p1");
	CHECK_EQ_STR(l[0].service, "foo");
	CHECK_EQ_INT(l[0].duration_ns, 60000000000LL);
	CHECK(l[0].cpu_cores > 3.19 && l[0].cpu_cores < 3.21);
	CHECK_EQ_STR(l[1].profile_id, "p2");
	pf_dd_listed_free(l, n);

	CHECK_EQ_INT(pf_dd_parse_list("{\"data\":[", 9, 5, &l, &n, &e), -1);
	CHECK(strstr(e.msg, "not valid JSON") != NULL);
	e = (pf_err){0};
	CHECK_EQ_INT(pf_dd_parse_list("{\"data\":{}}", 11, 5, &l, &n, &e), -1);
	CHECK(strstr(e.msg, "no \"data\" array") != NULL);
	e = (pf_err){0};
	const char *noid = "{\"data\":[{\"id\":\"ev1\",\"attributes\":{}}]}";
	CHECK_EQ_INT(pf_dd_parse_list(noid, strlen(noid), 5, &l, &n, &e), -1);
	CHECK(strstr(e.msg, "data[0] has no id") != NULL);
	e = (pf_err){0};
	const char *slash = "{\"data\":[{\"id\":\"ev1\",\"attributes\":{\"id\":\"../x\"}}]}";
	CHECK_EQ_INT(pf_dd_parse_list(slash, strlen(slash), 5, &l, &n, &e), -1);
	CHECK(strstr(e.msg, "URL characters") != NULL);
	e = (pf_err){0};
	CHECK_EQ_INT(pf_dd_parse_list("{\"data\":[]}", 11, 5, &l, &n, &e), 0);
	CHECK_EQ_INT(n, 0);
	pf_dd_listed_free(l, n);
	/* Whitespace may follow the answer; nothing else may. */
	CHECK_EQ_INT(pf_dd_parse_list("{\"data\":[]} \r\n", 14, 5, &l, &n, &e), 0);
	pf_dd_listed_free(l, n);
	CHECK_EQ_INT(pf_dd_parse_list("{\"data\":[]} {}", 14, 5, &l, &n, &e), -1);
	CHECK(strstr(e.msg, "more bytes after its JSON value, from byte 12") != NULL);
	/* \u0000 would cut a string short; an escaped backslash before u0000 is no NUL. */
	e = (pf_err){0};
	const char *nul = "{\"data\":[{\"id\":\"ev1\",\"attributes\":{\"id\":\"a\\u0000b\"}}]}";
	CHECK_EQ_INT(pf_dd_parse_list(nul, strlen(nul), 5, &l, &n, &e), -1);
	CHECK(strstr(e.msg, "a string holds \\u0000 (a NUL byte) at byte 42") != NULL);
	e = (pf_err){0};
	const char *notnul = "{\"data\":[{\"id\":\"ev1\",\"attributes\":{\"id\":\"a\\\\u0000b\"}}]}";
	CHECK_EQ_INT(pf_dd_parse_list(notnul, strlen(notnul), 5, &l, &n, &e), 0);
	CHECK_EQ_STR(l[0].profile_id, "a\\u0000b");
	pf_dd_listed_free(l, n);
}

static void ids(void)
{
	char why[128], id[PF_DD_ID_MAX + 2];
	memset(id, 'a', sizeof id - 1);
	id[sizeof id - 1] = '\0';
	CHECK_EQ_INT(pf_dd_check_id(id, why, sizeof why), -1);
	CHECK_EQ_STR(why, "is 257 bytes long, more than 256");
	id[PF_DD_ID_MAX] = '\0';
	CHECK_EQ_INT(pf_dd_check_id(id, why, sizeof why), 0);
	CHECK_EQ_INT(pf_dd_check_id("", why, sizeof why), -1);
	CHECK_EQ_STR(why, "is empty");
	CHECK_EQ_INT(pf_dd_check_id("ab\xc3\xa9", why, sizeof why), -1);
	CHECK_EQ_STR(why, "holds byte 0xc3 at byte 2, where Datadog's ids are printable ASCII");
	CHECK_EQ_INT(pf_dd_check_id("a\nb", why, sizeof why), -1);
	CHECK_EQ_INT(pf_dd_check_id("a b", why, sizeof why), -1);
	CHECK_EQ_INT(pf_dd_check_id("4d6c8e2a-0b1f-4c3d-9e7a-123456789abc", why, sizeof why), 0);
}

int main(void)
{
	base_urls();
	queries();
	times();
	bodies();
	lists();
	ids();
	return check_report("test_dd_api");
}
