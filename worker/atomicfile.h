/* SPDX-License-Identifier: Apache-2.0 */
/* atomicfile.h - whole-file reads, atomic (temporary file, fsync, rename) writes and the
 * little-endian integers of the worker's state files. */
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

/* The file image of a state object: its bytes (caller frees; NULL when out
 * of memory) and in *changes the change count they reflect. */
typedef uint8_t *(*afile_image_fn)(void *obj, size_t *size, uint64_t *changes);

/* Writes image(obj) to path with afile_write_atomic, unless current ==
 * since (nothing changed since that save). *changes gets the change count
 * the file now reflects. TCW_OK, TCW_ERR_INTERNAL or NOMEM (reason in err). */
int afile_save_changed(const char *path, afile_image_fn image, void *obj, uint64_t current,
                       uint64_t since, uint64_t *changes, char *err, size_t errsize);

/* Reads the whole regular file at path (at most max bytes) into *buf
 * (caller frees) and *size: 0 when read, 1 when it does not exist,
 * TCW_ERR_INVALID_PARAM (reason in err, what names the kind of file) or
 * TCW_ERR_NOMEM on failure. */
int afile_read_all(const char *path, size_t max, const char *what, uint8_t **buf, size_t *size,
                   char *err, size_t errsize);

/* Little-endian integers in the worker's state files. */
static inline void afile_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t afile_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void afile_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t afile_get64(const uint8_t *p)
{
	return (uint64_t)afile_get32(p) | (uint64_t)afile_get32(p + 4) << 32;
}

#endif /* TCW_WORKER_ATOMICFILE_H */
