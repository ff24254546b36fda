/* run.c: fork, exec, read stdout (and stderr) until EOF or the deadline. */
#include "run.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child: stdout and stderr to their pipes (or /dev/null), in dir.
 * Exit 127 when argv[0] cannot be executed, as a shell does. */
static void child(char *const argv[], const char *dir, int out, int err)
{
	int null = open("/dev/null", O_RDWR);
	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(err >= 0 ? err : null, STDERR_FILENO);
	if (dir && chdir(dir) != 0)
		_exit(126);
	execvp(argv[0], argv);
	_exit(errno == ENOENT || errno == EACCES || errno == ENOTDIR ? PF_RUN_NOT_FOUND : 126);
}

/* Reads both pipes until both are closed; -1 at the deadline or past max. */
static int drain(int fds[2], int64_t deadline, size_t max, pf_buf *out, pf_buf *errout, pf_err *e,
		 const char *name)
{
	bool open_[2] = {true, fds[1] >= 0};
	while (open_[0] || open_[1]) {
		int64_t left = (deadline - pf_now_ns()) / 1000000;
		if (left <= 0)
			return pf_fail(e, PF_EXIT_SOURCE, "%s did not finish in time", name);
		struct pollfd p[2] = {{.fd = open_[0] ? fds[0] : -1, .events = POLLIN},
				      {.fd = open_[1] ? fds[1] : -1, .events = POLLIN}};
		int r = poll(p, 2, left > 60000 ? 60000 : (int)left);
		if (r <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (!open_[i] || !p[i].revents)
				continue;
			char buf[65536];
			ssize_t got = read(fds[i], buf, sizeof buf);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				open_[i] = false;
				continue;
			}
			if (i == 1) {
				size_t keep = errout->len < 4096 ? 4096 - errout->len : 0;
				if (pf_buf_append(errout, buf, (size_t)got < keep ? (size_t)got : keep) != 0)
					return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
				continue;
			}
			if (out->len + (size_t)got > max)
				return pf_fail(e, PF_EXIT_SOURCE, "%s printed more than %zu bytes", name, max);
			if (pf_buf_append(out, buf, (size_t)got) != 0)
				return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
		}
	}
	return 0;
}

int pf_run_capture(char *const argv[], const char *dir, int64_t deadline, size_t max, pf_buf *out,
		   pf_buf *errout, pf_err *e)
{
	int o[2], x[2] = {-1, -1};
	if (pipe(o) != 0 || (errout && pipe(x) != 0))
		return pf_fail(e, PF_EXIT_INTERNAL, "cannot run %s: pipe: %s", argv[0], strerror(errno));
	/* Only this child gets the pipes (its dup2 copies keep no flag):
	 * refresh forks from several threads, and a pipe another child held
	 * open would hold back this one's end of file. */
	int ends[4] = {o[0], o[1], x[0], x[1]};
	for (int i = 0; i < 4; i++)
		if (ends[i] >= 0)
			fcntl(ends[i], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(o[0]);
		if (x[0] >= 0)
			close(x[0]);
		child(argv, dir, o[1], x[1]);
	}
	close(o[1]);
	if (x[1] >= 0)
		close(x[1]);
	int fds[2] = {o[0], x[0]};
	int rc = pid < 0 ? pf_fail(e, PF_EXIT_INTERNAL, "cannot run %s: fork: %s", argv[0], strerror(errno))
			 : drain(fds, deadline, max, out, errout, e, argv[0]);
	close(o[0]);
	if (x[0] >= 0)
		close(x[0]);
	if (pid < 0)
		return -1;
	if (rc != 0)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (rc != 0)
		return -1;
	if (!WIFEXITED(status))
		return pf_fail(e, PF_EXIT_SOURCE, "%s was killed by signal %d", argv[0], WTERMSIG(status));
	return WEXITSTATUS(status);
}
