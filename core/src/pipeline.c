/* pipeline.c: see pipeline.h. A thread per job rather than a worker and a
 * queue: there are a few jobs per profile (a handful of profiles), a
 * thread costs tens of microseconds against a job's tens of milliseconds,
 * and joining is all the synchronisation needed. */
#include "pipeline.h"

#include <string.h>

static void *run_job(void *arg)
{
	pf_job *j = arg;
	j->rc = j->fn(j->arg, &j->err);
	return NULL;
}

static void set_up(pf_job *j, pf_job_fn fn, void *arg)
{
	j->fn = fn;
	j->arg = arg;
	j->rc = 0;
	memset(&j->err, 0, sizeof j->err);
}

void pf_job_start(pf_job *j, pf_job_fn fn, void *arg)
{
	set_up(j, fn, arg);
	j->running = pthread_create(&j->thread, NULL, run_job, j) == 0;
	if (!j->running)
		run_job(j); /* same result, without the overlap */
}

void pf_job_run_here(pf_job *j, pf_job_fn fn, void *arg)
{
	set_up(j, fn, arg);
	j->running = false;
	run_job(j);
}

int pf_job_wait(pf_job *j, pf_err *e)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = false;
	if (j->err.code)
		*e = j->err;
	int rc = j->rc;
	j->rc = 0;
	memset(&j->err, 0, sizeof j->err);
	return rc;
}
