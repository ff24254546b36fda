/* run.h: running a helper program (the go command) and reading what it
 * prints, bounded in time and size. */
#ifndef PGOFETCH_RUN_H
#define PGOFETCH_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Runs argv (argv[0] looked up on PATH unless it holds a '/') in dir
 * (NULL: here), stdin from /dev/null, stderr to /dev/null unless errout
 * is given (then at most 4 KiB of it is kept there), appending its
 * stdout to out up to max bytes (more is a failure). Returns its exit
 * status (0..255), PF_RUN_NOT_FOUND when argv[0] cannot be executed, or
 * -1 with e set: the deadline (pf_now_ns clock) passed (it is killed),
 * too much output, or a system failure. */
#define PF_RUN_NOT_FOUND 127
int pf_run_capture(char *const argv[], const char *dir, int64_t deadline, size_t max, pf_buf *out,
		   pf_buf *errout, pf_err *e);

#endif
