/* err.h: how every stage reports a failure: an exit code and one line of text.
 * The text names what failed and where (source name, byte offset, field);
 * main prints it once, through log.c, which also holds pf_fail. */
#ifndef PGOFETCH_ERR_H
#define PGOFETCH_ERR_H

/* Exit codes, documented in README ("Exit codes"). Without -fail every
 * failure but a usage error exits PF_EXIT_OK after a warning. */
enum {
	PF_EXIT_OK = 0,
	PF_EXIT_INTERNAL = 1, /* out of memory, a bug */
	PF_EXIT_USAGE = 2,    /* bad flag or argument (always non-zero) */
	PF_EXIT_SOURCE = 3,   /* a source could not be read: file, network, HTTP */
	PF_EXIT_DATA = 4,     /* a source's bytes are not a usable profile */
	PF_EXIT_OUTPUT = 5,   /* DEST could not be written */
	PF_EXIT_NOTFOUND = 6, /* the query matched no profile */
	PF_EXIT_AUTH = 7,     /* Datadog refused the keys (401/403) or they are missing */
	PF_EXIT_STALE = 8,    /* pgofetch check: less matches than -fail-below */
};

typedef struct {
	int code;       /* one of the PF_EXIT_* values; 0 while no error */
	char msg[1024]; /* one line, no trailing newline */
} pf_err;

/* Records a failure in e (the first one wins) and returns -1, so callers
 * can write `return pf_fail(e, PF_EXIT_DATA, "...", ...);`. */
int pf_fail(pf_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes e->msg with "<what>: " (e.g. the source name) when e holds an error. */
void pf_err_prefix(pf_err *e, const char *what);

#endif
