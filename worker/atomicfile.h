/* SPDX-License-Identifier: Apache-2.0 */
/* atomicfile.h - whole-file reads and atomic (temporary file, fsync, rename) writes. */
#ifndef TCW_WORKER_ATOMICFILE_H
#define TCW_WORKER_ATOMICFILE_H

#include <stddef.h>
#include <stdint.h>

/* Writes all of buf to fd, retrying short writes and EINTR; 0 or -1 with
 * errno set. */
int afile_write_all(int fd, const void *buf, size_t size);

/* fsyncs the directory that holds path (durability of a rename or an
 * unlink); 0 or -1 with errno set. */
int afile_sync_dir(const char *path);

/* Writes buf to path atomically: a temporary file (mode 0600) in the same
 * directory, fsync, rename, directory fsync. On failure writes "<path>:
 * cannot <step>: <reason>" into err and returns TCW_ERR_INTERNAL (or
 * TCW_ERR_NOMEM). */
int afile_write_atomic(const char *path, const uint8_t *buf, size_t size, char *err,
                       size_t errsize);

/* Reads the whole regular file at path (at most max bytes) into *buf
 * (caller frees) and *size: 0 when read, 1 when it does not exist,
 * TCW_ERR_INVALID_PARAM (reason in err, what names the kind of file) or
 * TCW_ERR_NOMEM on failure. */
int afile_read_all(const char *path, size_t max, const char *what, uint8_t **buf, size_t *size,
                   char *err, size_t errsize);

#endif /* TCW_WORKER_ATOMICFILE_H */
