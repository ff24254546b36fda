/* log.c: log lines in datadog-pgo's text form or slog's JSON form. */
#include "log.h"
#include "duration.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void pf_log_init(pf_log *l, FILE *out, bool json, bool verbose)
{
	l->out = out;
	l->json = json;
	l->verbose = verbose;
	l->result = NULL;
	l->quiet = false;
	l->package = NULL;
	const char *nc = getenv("NO_COLOR");
	l->color = !json && isatty(fileno(out)) && !(nc && *nc);
}

/* The length of the UTF-8 sequence at p (1 to 4), or 0 when the bytes
 * there are not valid UTF-8 (a stray or missing continuation byte, an
 * overlong form, a surrogate, beyond U+10FFFF). */
static size_t utf8_len(const unsigned char *p)
{
	static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n;
	uint32_t c;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		n = 2, c = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, c = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* the string's end, too */
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	return c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ? 0 : n;
}

/* Writes s as a JSON string body (without quotes), escaping as encoding/json
 * does for control characters, quotes and backslashes, and as it does,
 * each byte that is not valid UTF-8 as U+FFFD: a profile id or a file name
 * from elsewhere may hold any bytes, and a -json line must stay JSON. */
void pf_json_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x80) {
			size_t n = utf8_len(p);
			if (n == 0)
				fputs("\\ufffd", f);
			else
				fwrite(p, 1, n, f);
			p += n ? n - 1 : 0;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
}

/* tint (like slog's text handler) quotes a value when it is empty or holds
 * spaces, quotes, '=' or control characters. */
static bool needs_quote(const char *s)
{
	if (*s == '\0')
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f || (*p >= 0x80 && !utf8_len(p)))
			return true;
	return false;
}

static void put_text_value(FILE *f, const char *s)
{
	if (!needs_quote(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	pf_json_escaped(f, s);
	fputc('"', f);
}

/* Go's strconv.FormatFloat(f, 'g', -1, 64) is the shortest round-trip form;
 * %.17g then trimming is close; try increasing precision until it round-trips. */
static void format_float(double v, char *out, size_t n)
{
	if (isnan(v) || isinf(v)) {
		snprintf(out, n, "%s", isnan(v) ? "NaN" : (v > 0 ? "+Inf" : "-Inf"));
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, n, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void put_attr_value(const pf_log *l, const pf_attr *a)
{
	char tmp[64];
	switch (a->kind) {
	case PF_A_STR:
		if (l->json) {
			fputc('"', l->out);
			pf_json_escaped(l->out, a->v.s ? a->v.s : "");
			fputc('"', l->out);
		} else {
			put_text_value(l->out, a->v.s ? a->v.s : "");
		}
		break;
	case PF_A_INT:
		fprintf(l->out, "%lld", (long long)a->v.i);
		break;
	case PF_A_FLOAT:
		format_float(a->v.f, tmp, sizeof tmp);
		fputs(tmp, l->out);
		break;
	case PF_A_DUR:
		if (l->json) {
			fprintf(l->out, "%lld", (long long)a->v.i);
		} else {
			pf_duration_format(a->v.i, tmp, sizeof tmp);
			fputs(tmp, l->out);
		}
		break;
	case PF_A_BOOL:
		fputs(a->v.i ? "true" : "false", l->out);
		break;
	}
}

static const char *level_name(enum pf_level level, bool json)
{
	switch (level) {
	case PF_DEBUG: return json ? "DEBUG" : "DBG";
	case PF_INFO: return json ? "INFO" : "INF";
	case PF_WARN: return json ? "WARN" : "WRN";
	default: return json ? "ERROR" : "ERR";
	}
}

static const char *level_color(enum pf_level level)
{
	switch (level) {
	case PF_DEBUG: return "\033[2m";
	case PF_INFO: return "\033[92m";
	case PF_WARN: return "\033[93m";
	default: return "\033[91m";
	}
}

static void put_json_time(FILE *f)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char buf[40];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"time\":\"%s.%03ldZ\",", buf, ts.tv_nsec / 1000000);
}

void pf_log_attrs(const pf_log *l, enum pf_level level, const char *msg,
		  const pf_attr *attrs, size_t nattrs)
{
	if ((level < PF_INFO || (level == PF_INFO && l->quiet)) && !l->verbose)
		return;
	FILE *f = l->out;
	pf_attr pkg = PF_STR("package", l->package);
	/* One line at a time: refresh's packages log from several threads. */
	flockfile(f);
	if (l->json) {
		fputc('{', f);
		put_json_time(f);
		fprintf(f, "\"level\":\"%s\",\"msg\":\"", level_name(level, true));
		pf_json_escaped(f, msg);
		fputc('"', f);
		for (size_t i = l->package ? 0 : 1; i <= nattrs; i++) {
			const pf_attr *a = i ? &attrs[i - 1] : &pkg;
			fputs(",\"", f);
			pf_json_escaped(f, a->key);
			fputs("\":", f);
			put_attr_value(l, a);
		}
		fputs("}\n", f);
	} else {
		if (l->color)
			fprintf(f, "%s%s\033[0m %s", level_color(level), level_name(level, false), msg);
		else
			fprintf(f, "%s %s", level_name(level, false), msg);
		for (size_t i = l->package ? 0 : 1; i <= nattrs; i++) {
			const pf_attr *a = i ? &attrs[i - 1] : &pkg;
			if (l->color)
				fprintf(f, " \033[2m%s=\033[0m", a->key);
			else
				fprintf(f, " %s=", a->key);
			put_attr_value(l, a);
		}
		fputc('\n', f);
	}
	fflush(f);
	funlockfile(f);
}

void pf_logf(const pf_log *l, enum pf_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	pf_log_attrs(l, level, line, NULL, 0);
}

char *pf_redact_url(const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *start = scheme ? scheme + 3 : url;
	size_t hostlen = strcspn(start, "/?#");
	const char *at = NULL;
	for (const char *p = start; p < start + hostlen; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return strdup(url);
	size_t pre = (size_t)(start - url);
	size_t n = pre + strlen("REDACTED") + strlen(at) + 1;
	char *out = malloc(n);
	if (!out)
		return NULL;
	snprintf(out, n, "%.*sREDACTED%s", (int)pre, url, at);
	return out;
}
