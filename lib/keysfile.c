/* SPDX-License-Identifier: Apache-2.0 */
/* keysfile.c - the worker keys on disk: atomic, fsynced, mode-0600 writes and checked reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcw/tcw.h"

/* Suffix of the temporary file written next to the keys file. */
#define TMP_SUFFIX ".tmp-XXXXXX"

/* Writes all of data to fd; 0 or -1 with errno set. */
static int write_all(int fd, const uint8_t *data, size_t size)
{
	while (size) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

/* fsyncs the directory holding path, so a rename is durable. Best effort:
 * some file systems (and Gramine's encrypted mounts) refuse it. */
static void sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Writes keys to path atomically (see tcw.h). */
int tcw_keys_save(const struct tcw_keys *keys, const char *path, struct tcw_error *e)
{
	uint8_t *data = NULL;
	size_t size = 0, plen;
	char *tmp = NULL;
	const char *step = NULL;
	int fd = -1, ret, err = 0;

	tcw_error_set(e, TCW_OK, NULL);
	if (!keys || !path || !path[0])
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	ret = tcw_keys_encode(keys, &data, &size);
	if (ret < 0)
		return tcw_error_set(e, ret, "cannot serialise the keys");
	plen = strlen(path);
	tmp = malloc(plen + sizeof(TMP_SUFFIX));
	if (!tmp) {
		ret = tcw_error_set(e, TCW_ERR_NOMEM, NULL);
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, TMP_SUFFIX, sizeof(TMP_SUFFIX));
	fd = mkstemp(tmp);
	if (fd < 0) {
		step = "cannot create a temporary file beside it";
		err = errno;
		goto out;
	}
	/* mkstemp already creates the file 0600; fchmod only restates it and
	 * may be unsupported (e.g. on some Gramine mounts), so it may fail. */
	(void)fchmod(fd, S_IRUSR | S_IWUSR);
	if (write_all(fd, data, size) != 0)
		step = "cannot write";
	else if (fsync(fd) != 0)
		step = "cannot fsync";
	if (step)
		err = errno;
	if (close(fd) != 0 && !step) {
		step = "cannot close";
		err = errno;
	}
	fd = -1;
	if (!step && rename(tmp, path) != 0) {
		step = "cannot rename the temporary file over it";
		err = errno;
	}
	if (step) {
		unlink(tmp);
		goto out;
	}
	sync_parent_dir(path);
out:
	if (step)
		ret = tcw_error_set(e, TCW_ERR_INTERNAL, "%s: %s", step, strerror(err));
	free(tmp);
	tcw_free_secret(data, size);
	return ret;
}

/* Reads the whole regular file fd (at most TCW_KEYS_FILE_MAX_SIZE bytes)
 * into *out (secret, caller frees with tcw_free_secret(*out, cap)). */
static int read_keys_fd(int fd, uint8_t **out, size_t *size, size_t *cap, struct tcw_error *e)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0, want;

	if (fstat(fd, &st) != 0)
		return tcw_error_set(e, TCW_ERR_INTERNAL, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "not a regular file");
	if (st.st_size > (off_t)TCW_KEYS_FILE_MAX_SIZE)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "too large (%lld bytes)",
		                     (long long)st.st_size);
	/* One byte more than allowed, so a file that grew is still caught. */
	want = TCW_KEYS_FILE_MAX_SIZE + 1;
	buf = malloc(want);
	if (!buf)
		return tcw_error_set(e, TCW_ERR_NOMEM, NULL);
	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			tcw_free_secret(buf, want);
			return tcw_error_set(e, TCW_ERR_INTERNAL, "cannot read: %s", strerror(err));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > TCW_KEYS_FILE_MAX_SIZE) {
		tcw_free_secret(buf, want);
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "too large");
	}
	*out = buf;
	*size = got;
	*cap = want;
	return TCW_OK;
}

/* Reads and decodes the keys file at path (see tcw.h). */
int tcw_keys_load(const char *path, struct tcw_keys **out, struct tcw_error *e)
{
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;
	int fd, ret;

	tcw_error_set(e, TCW_OK, NULL);
	if (!out)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	*out = NULL;
	if (!path || !path[0])
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tcw_error_set(e, TCW_ERR_INTERNAL, "cannot open: %s", strerror(errno));
	ret = read_keys_fd(fd, &data, &size, &cap, e);
	close(fd);
	if (ret < 0)
		return ret;
	ret = tcw_keys_decode(data, size, out, e);
	tcw_free_secret(data, cap);
	return ret;
}
