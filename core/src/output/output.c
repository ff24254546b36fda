/* output.c: atomic, change-only writes of DEST. */
#include "output.h"
#include "buf.h"
#include "clock.h"
#include "decompress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Process-wide state, safe for refresh's threads, each writing its own
 * DEST: the temporary files being written, for the signal handler to
 * remove if pgofetch is interrupted mid-write. A slot is 0 (free), 1
 * (claimed) or 2 (its path is a file); the handler reads only those and
 * the paths. What stays open: a file one thread creates while another runs
 * the handler, in the microseconds before the process ends (the next run
 * removes it once it is an hour old). */
#define WRITERS 64 /* refresh's -j is at most this */
static char pending[WRITERS][4200];
static atomic_int pending_state[WRITERS];
static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static mode_t umask_at_start; /* umask() only sets it: read once, not raced */
static const int guarded[3] = {SIGINT, SIGTERM, SIGHUP};

static void remove_pending_and_die(int sig)
{
	for (int i = 0; i < WRITERS; i++)
		if (atomic_load(&pending_state[i]) == 2)
			unlink(pending[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Once: the handler stays for the rest of the run (with nothing pending it
 * dies as the default action would); a signal ignored (nohup) stays so. */
static void setup(void)
{
	umask_at_start = umask(0);
	umask(umask_at_start);
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = remove_pending_and_die;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		if (sigaction(guarded[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(guarded[i], &sa, NULL);
}

static int claim_slot(void)
{
	pthread_once(&setup_once, setup);
	for (int i = 0; i < WRITERS; i++) {
		int free_ = 0;
		if (atomic_compare_exchange_strong(&pending_state[i], &free_, 1))
			return i;
	}
	return -1;
}

static void release_slot(int slot)
{
	if (slot >= 0)
		atomic_store(&pending_state[slot], 0);
}

/* The temporary file is ".<DEST's name>" TMP_TAG and mkstemp's six
 * letters and digits: a name only pgofetch makes, so that a later run may
 * remove what a killed one left. */
#define TMP_TAG ".pgofetch.tmp-"

/* DEST's file name: what follows its last '/'. */
static const char *base_of(const char *dest)
{
	const char *slash = strrchr(dest, '/');
	return slash ? slash + 1 : dest;
}

/* Whether name is a temporary file of DEST's (base) by that pattern. */
static bool is_tmp_of(const char *name, const char *base)
{
	size_t blen = strlen(base), tlen = strlen(TMP_TAG);
	if (name[0] != '.' || strncmp(name + 1, base, blen) != 0 || strncmp(name + 1 + blen, TMP_TAG, tlen) != 0)
		return false;
	const char *x = name + 1 + blen + tlen;
	return strlen(x) == 6 && strspn(x, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == 6;
}

size_t pf_remove_stale_tmps(const char *dest, int64_t older_than_s)
{
	char *dcopy = strdup(dest);
	DIR *d = dcopy ? opendir(dirname(dcopy)) : NULL;
	size_t removed = 0;
	const char *base = base_of(dest);
	time_t before = time(NULL) - (time_t)older_than_s;
	for (struct dirent *ent; d && (ent = readdir(d)) != NULL;) {
		struct stat st;
		if (!is_tmp_of(ent->d_name, base) || fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		/* Our own regular files only, and none a running pgofetch may
		 * still be writing. */
		if (S_ISREG(st.st_mode) && st.st_uid == geteuid() && st.st_mtime < before &&
		    unlinkat(dirfd(d), ent->d_name, 0) == 0)
			removed++;
	}
	if (d)
		closedir(d);
	free(dcopy);
	return removed;
}

int64_t pf_dest_age_ns(const char *dest)
{
	struct stat st;
	if (stat(dest, &st) != 0)
		return -1;
	int64_t age = pf_wall_ns() - ((int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
	return age < 0 ? 0 : age;
}

/* True when the existing dest already holds data (or decompresses to
 * same_as). Unreadable or missing dest: false. */
static bool dest_holds(const char *dest, const uint8_t *data, size_t len,
		       const uint8_t *same_as, size_t same_len)
{
	struct stat st;
	if (stat(dest, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	if ((size_t)st.st_size != len && !same_as)
		return false;
	int fd = open(dest, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	pf_buf old = {0};
	bool same = false;
	if (pf_buf_read_fd(&old, fd, SIZE_MAX) == 0) {
		same = old.len == len && memcmp(old.data, data, len) == 0;
		if (!same && same_as && pf_detect_compression(old.data, old.len) == PF_GZIP) {
			pf_buf raw = {0};
			pf_err ignored = {0};
			if (pf_decompress(old.data, old.len, same_len + 1, &raw, &ignored) == 0)
				same = raw.len == same_len && memcmp(raw.data, same_as, same_len) == 0;
			pf_buf_free(&raw);
		}
	}
	pf_buf_free(&old);
	close(fd);
	return same;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A new file gets the mode open(2) would give (0666 less umask); a
 * replaced one keeps its mode. */
static mode_t dest_mode(const char *dest)
{
	struct stat st;
	if (stat(dest, &st) == 0)
		return st.st_mode & 07777;
	pthread_once(&setup_once, setup);
	return 0666 & ~umask_at_start;
}

static int check_dir(const char *dest, char *dir, size_t dirsz, pf_err *e)
{
	char *copy = strdup(dest);
	if (!copy)
		return pf_fail(e, PF_EXIT_INTERNAL, "out of memory");
	snprintf(dir, dirsz, "%s", dirname(copy));
	free(copy);
	struct stat st;
	if (stat(dir, &st) != 0)
		return pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: directory %s: %s", dest, dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: %s is not a directory", dest, dir);
	if (stat(dest, &st) == 0 && S_ISDIR(st.st_mode))
		return pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: it is a directory", dest);
	return 0;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* best effort: some filesystems refuse it */
		close(fd);
	}
}

int pf_write_dest(const char *dest, const uint8_t *data, size_t len,
		  const uint8_t *same_as, size_t same_len, bool *changed, pf_err *e)
{
	char dir[4096], tmp[4200];
	*changed = false;
	if (check_dir(dest, dir, sizeof dir, e) != 0)
		return -1;
	if (dest_holds(dest, data, len, same_as, same_len))
		return 0;
	int n = snprintf(tmp, sizeof tmp, "%s/.%s" TMP_TAG "XXXXXX", dir, base_of(dest));
	if (n < 0 || (size_t)n >= sizeof tmp)
		return pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: path too long", dest);

	sigset_t block, prev;
	sigemptyset(&block);
	for (int i = 0; i < 3; i++)
		sigaddset(&block, guarded[i]);
	/* Create the file and arm the handler with signals held, so no signal
	 * can land between the two and leave the file behind. */
	int slot = claim_slot(); /* none free: unguarded, cleaned up an hour later */
	pthread_sigmask(SIG_BLOCK, &block, &prev);
	int fd = mkstemp(tmp);
	int saved = errno;
	if (fd >= 0 && slot >= 0) {
		memcpy(pending[slot], tmp, sizeof tmp);
		atomic_store(&pending_state[slot], 2);
	}
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	if (fd < 0) {
		release_slot(slot);
		return pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: creating a temporary file in %s: %s",
			       dest, dir, strerror(saved));
	}

	const char *step = "writing";
	if (write_all(fd, data, len) != 0)
		goto fail;
	step = "setting the mode of";
	if (fchmod(fd, dest_mode(dest)) != 0)
		goto fail;
	step = "syncing";
	if (fsync(fd) != 0)
		goto fail;
	step = "closing";
	int rc = close(fd);
	fd = -1;
	if (rc != 0)
		goto fail;
	step = "renaming";
	if (rename(tmp, dest) != 0)
		goto fail;
	release_slot(slot);
	sync_dir(dir);
	*changed = true;
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	release_slot(slot);
	return pf_fail(e, PF_EXIT_OUTPUT, "cannot write %s: %s the temporary file: %s", dest, step,
		       strerror(saved));
}
