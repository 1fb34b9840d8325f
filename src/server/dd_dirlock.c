/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The data-directory lock. flock() locks belong to the open file description, so the lock
 * ends with the process however it ends (no stale lock after a crash); the file keeps the
 * holder's pid only to name it in the message another process prints.
 */
#include "server/dd_dirlock.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct dd_dirlock {
	int fd;
};

static int acquire(const char *dir, bool shared, struct dd_dirlock **out, char *err, size_t errlen)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the data directory %s: %s", dir, strerror(errno));
		return DD_EIO;
	}
	char path[4200];
	if (snprintf(path, sizeof path, "%s/iotdefender.lock", dir) >= (int)sizeof path) {
		snprintf(err, errlen, "data directory path too long");
		return DD_EINVAL;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return DD_EIO;
	}
	if (flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
		int e = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK) {
			snprintf(err, errlen, "the data directory %s is in use by another iotdefender process%s%s%s; "
				 "stop it or give another --data-dir%s", dir, *pid ? " (pid " : "", pid, *pid ? ")" : "",
				 shared ? " (it was not started with --shared-data-dir)" : "");
			return DD_EEXIST;
		}
		snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
		return DD_EIO;
	}
	struct dd_dirlock *l = malloc(sizeof *l);
	if (!l) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return DD_ENOMEM;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		dd_log_warn("dirlock: cannot record the pid in %s", path);
	l->fd = fd;
	*out = l;
	return 0;
}

int dd_dirlock_acquire(const char *dir, struct dd_dirlock **out, char *err, size_t errlen)
{
	return acquire(dir, false, out, err, errlen);
}

int dd_dirlock_acquire_shared(const char *dir, struct dd_dirlock **out, char *err, size_t errlen)
{
	return acquire(dir, true, out, err, errlen);
}

void dd_dirlock_release(struct dd_dirlock *l)
{
	if (!l)
		return;
	close(l->fd);
	free(l);
}
