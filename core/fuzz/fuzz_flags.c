/* The command line and Go durations: the input is argv, NUL-separated. */
#include "cli.h"
#include "duration.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = malloc(size + 1);
	char *argv[65] = {"pgofetch"};
	int argc = 1;
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text; argc < 64 && p <= text + size; p += strlen(p) + 1) {
		argv[argc++] = p;
		int64_t ns;
		char back[32];
		if (pf_duration_parse(p, &ns) == 0) {
			pf_duration_format(ns, back, sizeof back);
			int64_t again;
			/* Go's String() output always parses back to the same value */
			if (pf_duration_parse(back, &again) != 0 || again != ns)
				abort();
		}
	}
	pf_options o;
	pf_err e = {0};
	pf_cli_parse(argc, argv, &o, &e);
	pf_cli_free(&o);
	free(text);
	return 0;
}
