/* Go duration parsing and printing, checked against values Go itself gives
 * (time.ParseDuration and Duration.String). */
#include "check.h"
#include "duration.h"

#include <stdint.h>

static void parses(const char *s, int64_t want)
{
	int64_t got = -12345;
	CHECK_EQ_INT(pf_duration_parse(s, &got), 0);
	CHECK_EQ_INT(got, want);
}

static void rejects(const char *s)
{
	int64_t got;
	CHECK_EQ_INT(pf_duration_parse(s, &got), -1);
}

static void prints(int64_t ns, const char *want)
{
	char buf[32];
	pf_duration_format(ns, buf, sizeof buf);
	CHECK_EQ_STR(buf, want);
}

int main(void)
{
	parses("0", 0);
	parses("72h", 72LL * 3600 * 1000000000);
	parses("1m30s", 90LL * 1000000000);
	parses("500ms", 500LL * 1000000);
	parses("1.5s", 1500LL * 1000000);
	parses(".5s", 500LL * 1000000);
	parses("1.s", 1000000000);
	parses("-2h", -7200LL * 1000000000);
	parses("+3us", 3000);
	parses("3\xc2\xb5s", 3000);
	parses("3\xce\xbcs", 3000);
	parses("1h2m3s4ms5us6ns", 3723004005006LL);
	parses("2562047h47m16.854775807s", INT64_MAX);
	rejects("");
	rejects("5");
	rejects("5x");
	rejects("s");
	rejects(".s");
	rejects("1h-2m");
	rejects("2562047h47m16.854775808s");
	rejects("9223372036854775808ns");

	prints(0, "0s");
	prints(1, "1ns");
	prints(1500, "1.5\xc2\xb5s");
	prints(12000000, "12ms");
	prints(1500000000, "1.5s");
	prints(60LL * 1000000000, "1m0s");
	prints(72LL * 3600 * 1000000000, "72h0m0s");
	prints(-90LL * 1000000000, "-1m30s");
	prints(INT64_MAX, "2562047h47m16.854775807s");
	return check_report("test_duration");
}
