/* SPDX-License-Identifier: Apache-2.0 */
/* atomicfile.c - whole-file reads and atomic writes for the worker's state files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "tcw/tcw.h"

/* Writes all of buf to fd; see atomicfile.h. */
int afile_write_all(int fd, const void *buf, size_t size)
{
	const uint8_t *p = buf;

	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

/* fsyncs the directory that holds path; see atomicfile.h. */
int afile_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	int fd, rc = -1;

	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

/* Writes buf to path through a temporary file and a rename; see atomicfile.h. */
int afile_write_atomic(const char *path, const uint8_t *buf, size_t size, char *err, size_t errsize)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 8);
	const char *step = "create a temporary file";
	int fd = -1, rc = TCW_ERR_INTERNAL;

	if (!tmp)
		return TCW_ERR_NOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0)
		goto out;
	step = "write";
	if (afile_write_all(fd, buf, size) != 0)
		goto out;
	step = "fsync";
	if (fsync(fd) != 0)
		goto out;
	step = "close";
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	step = "rename";
	if (rename(tmp, path) != 0)
		goto out;
	step = "fsync the directory of";
	if (afile_sync_dir(path) != 0)
		goto out;
	rc = TCW_OK;
out:
	if (rc != TCW_OK)
		snprintf(err, errsize, "%s: cannot %s: %s", path, step, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc != TCW_OK && strcmp(step, "fsync the directory of") != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Saves a state image when it changed; see atomicfile.h. */
int afile_save_changed(const char *path, afile_image_fn image, void *obj, uint64_t current,
                       uint64_t since, uint64_t *changes, char *err, size_t errsize)
{
	uint64_t now_changes = current;
	size_t size = 0;
	uint8_t *buf;
	int rc;

	if (current == since) {
		*changes = since;
		return TCW_OK;
	}
	buf = image(obj, &size, &now_changes);
	if (!buf) {
		snprintf(err, errsize, "%s: out of memory", path);
		return TCW_ERR_NOMEM;
	}
	rc = afile_write_atomic(path, buf, size, err, errsize);
	free(buf);
	if (rc == TCW_OK)
		*changes = now_changes;
	return rc;
}

/* Reads the whole file at path into *buf; see atomicfile.h. */
int afile_read_all(const char *path, size_t max, const char *what, uint8_t **buf, size_t *size,
                   char *err, size_t errsize)
{
	struct stat st;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*buf = NULL;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errsize, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > max) {
		snprintf(err, errsize, "%s: not a %s (size or type)", path, what);
		goto fail;
	}
	*size = (size_t)st.st_size;
	*buf = malloc(*size ? *size : 1);
	if (!*buf) {
		close(fd);
		return TCW_ERR_NOMEM;
	}
	while (got < *size) {
		ssize_t n = read(fd, *buf + got, *size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errsize, "%s: cannot read: %s", path,
			         n < 0 ? strerror(errno) : "file shrank");
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(*buf);
	*buf = NULL;
	return TCW_ERR_INVALID_PARAM;
}
