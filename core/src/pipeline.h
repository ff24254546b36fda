/* pipeline.h: a job on a thread of its own, so that profiles decompress,
 * decode and merge at once (fold.c), trimming overlaps checking (run.c),
 * and two cores compress the output's pieces at once (compress.c). */
#ifndef PGOFETCH_PIPELINE_H
#define PGOFETCH_PIPELINE_H

#include "err.h"

#include <pthread.h>
#include <stdbool.h>

typedef int (*pf_job_fn)(void *arg, pf_err *e);

typedef struct {
	pthread_t thread;
	bool running; /* a thread runs the job; pf_job_wait joins it */
	pf_job_fn fn;
	void *arg;
	int rc;
	pf_err err; /* the job's own: the caller's e is not touched meanwhile */
} pf_job;

/* Starts fn(arg) on a thread of its own, or runs it here when no thread
 * can be started. The previous job of j must have been waited for. */
void pf_job_start(pf_job *j, pf_job_fn fn, void *arg);

/* Runs fn(arg) here, as pf_job_start does when no thread can be started:
 * for a job nothing would overlap, which a thread (and its own malloc
 * arena) would only slow down. */
void pf_job_run_here(pf_job *j, pf_job_fn fn, void *arg);

/* Waits for the job started last (if any) and returns its result. A job
 * that failed puts its error in e, over any e holds: the job's work came
 * before whatever the caller did meanwhile, so its error is the first. */
int pf_job_wait(pf_job *j, pf_err *e);

#endif
