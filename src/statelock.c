/*
 * statelock: one run at a time over a state file.  See statelock.h.
 */
#include "statelock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sysexits.h>
#include <unistd.h>

#include "state.h"

struct state_lock {
	int fd;
};

int
state_lock(const char *state_path, struct state_lock **out, struct err *e)
{
	char *path = str_printf("%s.lock", state_path), pid[32];
	struct state_lock *l = NULL;
	ssize_t n;
	int fd = -1;

	*out = NULL;
	if (path == NULL || (l = malloc(sizeof *l)) == NULL) {
		err_oom(e);
		goto fail;
	}
	if (state_mkdir_parent(path, e) < 0)
		goto fail;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		err_set(e, EX_IOERR, "cannot open %s: %s", path, strerror(errno));
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			err_set(e, EX_IOERR, "cannot lock %s: %s", path, strerror(errno));
			goto fail;
		}
		n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strspn(pid, "0123456789")] = '\0';
		err_set(e, EX_TEMPFAIL, "another tidings run holds %s (pid %s)", path,
		        pid[0] ? pid : "unknown");
		goto fail;
	}
	/* The pid is for the message above; the flock is what excludes. */
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		err_set(e, EX_IOERR, "cannot write %s: %s", path, strerror(errno));
		goto fail;
	}
	l->fd = fd;
	*out = l;
	free(path);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(l);
	free(path);
	return -1;
}

void
state_unlock(struct state_lock *l)
{
	if (l == NULL)
		return;
	/* Empty the pid before letting go, so no one reads a stale one. */
	if (ftruncate(l->fd, 0) < 0) {
		/* The lock is released all the same: nothing to report. */
	}
	close(l->fd);
	free(l);
}
