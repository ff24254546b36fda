/* duration.c: Go duration parsing and printing. */
#include "duration.h"

#include <stdbool.h>
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

static bool digit(char c) { return c >= '0' && c <= '9'; }

int pf_duration_parse(const char *s, int64_t *ns)
{
	bool neg = *s == '-';
	uint64_t total = 0;
	if (*s == '-' || *s == '+')
		s++;
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		uint64_t v = 0, f = 0, unit = 0;
		double scale = 1;
		const char *start = s;
		if (*s != '.' && !digit(*s))
			return -1;
		for (; digit(*s); s++) {
			if (v > (1ULL << 63) / 10 || (v = v * 10 + (uint64_t)(*s - '0')) > 1ULL << 63)
				return -1;
		}
		bool digits = s > start, full = false;
		if (*s == '.')
			s++;
		/* The fraction keeps the digits that fit, as Go's does: f/scale. */
		for (; digit(*s); s++, digits = true) {
			full = full || f > ((1ULL << 63) - 1) / 10 || f * 10 + (uint64_t)(*s - '0') > 1ULL << 63;
			if (!full) {
				f = f * 10 + (uint64_t)(*s - '0');
				scale *= 10;
			}
		}
		if (!digits)
			return -1;
		size_t n = strcspn(s, ".0123456789");
		for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].name) == n && memcmp(units[i].name, s, n) == 0)
				unit = units[i].ns;
		s += n;
		if (unit == 0 || v > (1ULL << 63) / unit)
			return -1;
		v = v * unit + (f > 0 ? (uint64_t)((double)f * ((double)unit / scale)) : 0);
		if (v > 1ULL << 63 || (total += v) > 1ULL << 63)
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

/* ".ddd", v/10^prec's fraction digits without trailing zeros (Go's
 * fmtFrac), or "" when v is 0. */
static void fmt_frac(char *out, uint64_t v, int prec)
{
	int n = v ? snprintf(out, 16, ".%0*llu", prec, (unsigned long long)v) : 0;
	while (n > 0 && out[n - 1] == '0')
		n--;
	out[n] = '\0';
}

void pf_duration_format(int64_t ns, char *out, size_t outsz)
{
	const char *sign = ns < 0 ? "-" : "";
	unsigned long long u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns, s = u / 1000000000ULL;
	char frac[16];
	if (u == 0) {
		snprintf(out, outsz, "0s");
	} else if (u < 1000ULL) {
		snprintf(out, outsz, "%s%lluns", sign, u);
	} else if (u < 1000000000ULL) {
		bool micro = u < 1000000ULL;
		unsigned long long per = micro ? 1000ULL : 1000000ULL;
		fmt_frac(frac, u % per, micro ? 3 : 6);
		snprintf(out, outsz, "%s%llu%s%s", sign, u / per, frac, micro ? "\xc2\xb5s" : "ms"); /* U+00B5 */
	} else {
		fmt_frac(frac, u % 1000000000ULL, 9);
		if (s >= 3600)
			snprintf(out, outsz, "%s%lluh%llum%llu%ss", sign, s / 3600, s / 60 % 60, s % 60, frac);
		else if (s >= 60)
			snprintf(out, outsz, "%s%llum%llu%ss", sign, s / 60, s % 60, frac);
		else
			snprintf(out, outsz, "%s%llu%ss", sign, s, frac);
	}
}
