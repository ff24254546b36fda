/* log.c: log lines in datadog-pgo's text form or slog's JSON form, and the
 * failure records (err.h) that main prints through them. */
#include "log.h"
#include "buf.h"
#include "clock.h"
#include "duration.h"
#include "err.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void pf_log_init(pf_log *l, FILE *out, bool json, bool verbose)
{
	const char *nc = getenv("NO_COLOR");
	*l = (pf_log){.out = out, .json = json, .verbose = verbose,
		      .color = !json && isatty(fileno(out)) && !(nc && *nc)};
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
	const char *s = a->kind == PF_A_STR && a->v.s ? a->v.s : "";
	switch (a->kind) {
	case PF_A_STR:
		if (!l->json && !needs_quote(s)) {
			fputs(s, l->out);
		} else {
			fputc('"', l->out);
			pf_json_escaped(l->out, s);
			fputc('"', l->out);
		}
		break;
	case PF_A_FLOAT:
		format_float(a->v.f, tmp, sizeof tmp);
		fputs(tmp, l->out);
		break;
	case PF_A_DUR:
		if (!l->json) {
			pf_duration_format(a->v.i, tmp, sizeof tmp);
			fputs(tmp, l->out);
			break;
		}
		/* fall through - slog's JSON has a duration as integer nanoseconds */
	case PF_A_INT:
		fprintf(l->out, "%lld", (long long)a->v.i);
		break;
	case PF_A_BOOL:
		fputs(a->v.i ? "true" : "false", l->out);
		break;
	}
}

/* Each level's JSON name, text name and colour, by (level + 4) / 4. */
static const char *const levels[4][3] = {
	{"DEBUG", "DBG", "\033[2m"},
	{"INFO", "INF", "\033[92m"},
	{"WARN", "WRN", "\033[93m"},
	{"ERROR", "ERR", "\033[91m"},
};

static void put_json_time(FILE *f)
{
	int64_t now = pf_wall_ns();
	time_t sec = (time_t)(now / 1000000000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	char buf[40];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"time\":\"%s.%03dZ\",", buf, (int)(now % 1000000000 / 1000000));
}

void pf_log_attrs(const pf_log *l, enum pf_level level, const char *msg,
		  const pf_attr *attrs, size_t nattrs)
{
	if ((level < PF_INFO || (level == PF_INFO && l->quiet)) && !l->verbose)
		return;
	FILE *f = l->out;
	const char *const *lv = levels[(level + 4) / 4];
	pf_attr pkg = PF_STR("package", l->package);
	/* One line at a time: refresh's packages log from several threads. */
	flockfile(f);
	if (l->json) {
		fputc('{', f);
		put_json_time(f);
		fprintf(f, "\"level\":\"%s\",\"msg\":\"", lv[0]);
		pf_json_escaped(f, msg);
		fputc('"', f);
	} else if (l->color) {
		fprintf(f, "%s%s\033[0m %s", lv[2], lv[1], msg);
	} else {
		fprintf(f, "%s %s", lv[1], msg);
	}
	for (size_t i = l->package ? 0 : 1; i <= nattrs; i++) {
		const pf_attr *a = i ? &attrs[i - 1] : &pkg;
		if (l->json) {
			fputs(",\"", f);
			pf_json_escaped(f, a->key);
			fputs("\":", f);
		} else {
			fprintf(f, l->color ? " \033[2m%s=\033[0m" : " %s=", a->key);
		}
		put_attr_value(l, a);
	}
	fputs(l->json ? "}\n" : "\n", f);
	fflush(f);
	funlockfile(f);
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
	return pf_strf("%.*sREDACTED%s", (int)(start - url), url, at);
}

int pf_fail(pf_err *e, int code, const char *fmt, ...)
{
	if (e->code != 0)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	e->code = code;
	return -1;
}

void pf_err_prefix(pf_err *e, const char *what)
{
	if (e->code == 0 || what == NULL)
		return;
	char old[sizeof e->msg];
	memcpy(old, e->msg, sizeof old);
	/* A message too long for the buffer is cut; the start says the most. */
	if (snprintf(e->msg, sizeof e->msg, "%s: %s", what, old) >= (int)sizeof e->msg)
		e->msg[sizeof e->msg - 1] = '\0';
}
