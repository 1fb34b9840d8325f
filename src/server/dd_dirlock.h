/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One process per data directory: an exclusive flock on <dir>/iotdefender.lock, held for
 * the life of the process that serves (or builds) the directory.
 */
#ifndef DD_SERVER_DIRLOCK_H
#define DD_SERVER_DIRLOCK_H

#include "dd/common.h"

struct dd_dirlock;

/* Creates dir (mode 0700) when missing and takes its lock. Returns 0 with *out owned
 * (release with dd_dirlock_release); DD_EEXIST when another process holds it, with err
 * naming the directory and that process; DD_EIO with err otherwise. */
int dd_dirlock_acquire(const char *dir, struct dd_dirlock **out, char *err, size_t errlen) DD_MUST_CHECK;
/* The same as a shared lock: several `serve --shared-data-dir` instances hold it at once,
 * while a process that wants the directory for itself (a server without the flag,
 * backup, restore) is refused, and is itself refused to them. The pid recorded is the
 * last instance's. */
int dd_dirlock_acquire_shared(const char *dir, struct dd_dirlock **out, char *err, size_t errlen) DD_MUST_CHECK;
/* Releases the lock and frees l; NULL is a no-op. */
void dd_dirlock_release(struct dd_dirlock *l);

#endif
