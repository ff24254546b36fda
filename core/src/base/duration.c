/* duration.c: Go duration parsing and printing. */
#include "duration.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"ns", 1ULL},
	{"us", 1000ULL},
	{"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
	{"\xce\xbcs", 1000ULL}, /* U+03BC Greek mu */
	{"ms", 1000000ULL},
	{"s", 1000000000ULL},
	{"m", 60000000000ULL},
	{"h", 3600000000000ULL},
};

/* Reads decimal digits into *v; returns how many were read, or -1 on
 * overflow past 2^63. */
static int leading_int(const char **s, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;
	while (*p >= '0' && *p <= '9') {
		if (x > (1ULL << 63) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > 1ULL << 63)
			return -1;
		p++;
	}
	int n = (int)(p - *s);
	*s = p;
	*v = x;
	return n;
}

/* Reads the fraction digits after '.', keeping as many as fit, as Go does:
 * f/scale is the fraction's value. */
static int leading_fraction(const char **s, uint64_t *f, double *scale)
{
	const char *p = *s;
	uint64_t x = 0;
	double sc = 1;
	int overflow = 0;
	while (*p >= '0' && *p <= '9') {
		if (!overflow) {
			if (x > ((1ULL << 63) - 1) / 10) {
				overflow = 1;
			} else {
				uint64_t y = x * 10 + (uint64_t)(*p - '0');
				if (y > 1ULL << 63)
					overflow = 1;
				else {
					x = y;
					sc *= 10;
				}
			}
		}
		p++;
	}
	int n = (int)(p - *s);
	*s = p;
	*f = x;
	*scale = sc;
	return n;
}

static int match_unit(const char **s, uint64_t *unit)
{
	const char *p = *s;
	size_t n = 0;
	while (p[n] != '\0' && p[n] != '.' && (p[n] < '0' || p[n] > '9'))
		n++;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strlen(units[i].name) == n && memcmp(units[i].name, p, n) == 0) {
			*unit = units[i].ns;
			*s = p + n;
			return 0;
		}
	}
	return -1;
}

int pf_duration_parse(const char *s, int64_t *ns)
{
	int neg = 0;
	uint64_t total = 0;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		uint64_t v = 0, f = 0, unit = 0;
		double scale = 1;
		if (!(*s == '.' || (*s >= '0' && *s <= '9')))
			return -1;
		int pre = leading_int(&s, &v);
		if (pre < 0)
			return -1;
		int post = 0;
		if (*s == '.') {
			s++;
			post = leading_fraction(&s, &f, &scale);
		}
		if (pre == 0 && post == 0)
			return -1;
		if (match_unit(&s, &unit) != 0)
			return -1;
		if (v > (1ULL << 63) / unit)
			return -1;
		v *= unit;
		if (f > 0) {
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > 1ULL << 63)
				return -1;
		}
		total += v;
		if (total > 1ULL << 63)
			return -1;
	}
	if (neg) {
		*ns = total == 1ULL << 63 ? INT64_MIN : -(int64_t)total;
		return 0;
	}
	if (total > (uint64_t)INT64_MAX)
		return -1;
	*ns = (int64_t)total;
	return 0;
}

/* Formats v/10^prec with trailing zeros of the fraction removed, into the end
 * of buf at *w, as Go's fmtFrac does; returns v/10^prec. */
static uint64_t fmt_frac(char *buf, int *w, uint64_t v, int prec)
{
	int printed = 0;
	for (int i = 0; i < prec; i++) {
		int digit = (int)(v % 10);
		printed = printed || digit != 0;
		if (printed)
			buf[--*w] = (char)('0' + digit);
		v /= 10;
	}
	if (printed)
		buf[--*w] = '.';
	return v;
}

static void fmt_int(char *buf, int *w, uint64_t v)
{
	if (v == 0) {
		buf[--*w] = '0';
		return;
	}
	while (v > 0) {
		buf[--*w] = (char)('0' + v % 10);
		v /= 10;
	}
}

void pf_duration_format(int64_t ns, char *out, size_t outsz)
{
	char buf[32];
	int w = sizeof buf;
	uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	if (u < 1000000000ULL) {
		int prec = 0;
		buf[--w] = 's';
		if (u == 0) {
			snprintf(out, outsz, "0s");
			return;
		} else if (u < 1000ULL) {
			buf[--w] = 'n';
		} else if (u < 1000000ULL) {
			prec = 3;
			/* U+00B5, written backwards */
			buf[--w] = (char)0xb5;
			buf[--w] = (char)0xc2;
		} else {
			prec = 6;
			buf[--w] = 'm';
		}
		u = fmt_frac(buf, &w, u, prec);
		fmt_int(buf, &w, u);
	} else {
		buf[--w] = 's';
		u = fmt_frac(buf, &w, u, 9);
		fmt_int(buf, &w, u % 60);
		u /= 60;
		if (u > 0) {
			buf[--w] = 'm';
			fmt_int(buf, &w, u % 60);
			u /= 60;
			if (u > 0) {
				buf[--w] = 'h';
				fmt_int(buf, &w, u);
			}
		}
	}
	if (ns < 0)
		buf[--w] = '-';
	snprintf(out, outsz, "%.*s", (int)(sizeof buf - (size_t)w), buf + w);
}
