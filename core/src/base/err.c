/* err.c: failure records. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
