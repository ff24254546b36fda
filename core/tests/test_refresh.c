/* The list file's word splitter (refresh.c): blanks separate, quotes
 * group and are dropped, no other escapes, an unclosed quote is an error. */
#include "check.h"
#include "refresh.h"

#include <stdlib.h>
#include <string.h>

/* Splits line and compares with want, a NULL-terminated list (NULL itself:
 * the line must be refused). */
static void splits(const char *line, const char *const *want)
{
	char *copy = strdup(line);
	char **words = calloc(strlen(line) / 2 + 1, sizeof *words);
	CHECK(copy && words);
	if (!copy || !words)
		return;
	int n = pf_list_split(copy, words);
	if (!want) {
		CHECK_EQ_INT(n, -1);
	} else {
		int k = 0;
		while (want[k])
			k++;
		CHECK_EQ_INT(n, k);
		for (int i = 0; i < n && i < k; i++)
			CHECK_EQ_STR(words[i], want[i]);
	}
	free(words);
	free(copy);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(void)
{
	splits("", W(NULL));
	splits(" \t \r\n", W(NULL));
	splits("cmd/api", W("cmd/api"));
	splits("cmd/api 'service:api env:prod'\n", W("cmd/api", "service:api env:prod"));
	splits("  cmd/w\t-profiles 3 \"service:w env:prod\" -weight 0.2 -in b.pprof  ",
	       W("cmd/w", "-profiles", "3", "service:w env:prod", "-weight", "0.2", "-in", "b.pprof"));
	splits("a x'y z'w", W("a", "xy zw"));          /* quotes group within a word */
	splits("a 'it\"s' \"it's\"", W("a", "it\"s", "it's")); /* the other quote is a letter */
	splits("a '' b", W("a", "", "b"));               /* an empty word stays one */
	splits("a\\ b", W("a\\", "b"));                  /* no escapes */
	splits("a 'open", NULL);
	splits("a \"open", NULL);
	splits("a b'c", NULL);
	return check_report("test_refresh");
}
