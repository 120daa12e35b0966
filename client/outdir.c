/* SPDX-License-Identifier: Apache-2.0 */
/* outdir.c - tcclient --in-file (binary input) and --out-dir (outputs saved as files). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcclient.h"

/* Reads the whole file path (at most TCC_MAX_FILE_SIZE bytes) into *data
 * (caller frees with tcw_free_secret(*data, *size)); a message in err on
 * failure. */
int tcc_read_input_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errsize)
{
	struct stat st = {0};
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = TCW_ERR_INVALID_PARAM;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "--in-file '%s': %s", path,
		         fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > TCC_MAX_FILE_SIZE) {
		snprintf(err, errsize, "--in-file '%s': larger than %u bytes", path,
		         TCC_MAX_FILE_SIZE);
		goto out;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		snprintf(err, errsize, "--in-file '%s': out of memory", path);
		rc = TCW_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errsize, "--in-file '%s': read failed", path);
			goto out;
		}
		got += (size_t)n;
	}
	*data = buf;
	*size = got;
	buf = NULL;
	rc = TCW_OK;
out:
	tcw_free_secret(buf, st.st_size > 0 ? (size_t)st.st_size : 1);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* File name extension for an output, from its first bytes. */
static const char *sniff_ext(const uint8_t *d, size_t n)
{
	size_t i = 0;

	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "png";
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return "jpg";
	if (n >= 2 && d[0] == 'B' && d[1] == 'M')
		return "bmp";
	if (n >= 6 && (memcmp(d, "GIF87a", 6) == 0 || memcmp(d, "GIF89a", 6) == 0))
		return "gif";
	if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
		return "pdf";
	if (!tcc_utf8_valid(d, n))
		return "bin";
	while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\r' || d[i] == '\n'))
		i++;
	return i < n && (d[i] == '{' || d[i] == '[') ? "json" : "txt";
}

/* The file name stem of path: its last component without the extension. */
static void stem_of(const char *path, char *out, size_t outsize)
{
	const char *base = strrchr(path, '/'), *dot;
	size_t len;

	base = base != NULL ? base + 1 : path;
	dot = strrchr(base, '.');
	len = dot != NULL && dot != base ? (size_t)(dot - base) : strlen(base);
	snprintf(out, outsize, "%.*s", (int)len, base);
	if (out[0] == '\0' || out[0] == '.')
		snprintf(out, outsize, "input");
}

/* Writes data to path (mode 0600: it is decrypted plaintext). */
static int write_file(const char *path, const uint8_t *data, size_t size)
{
	size_t done = 0;
	ssize_t n;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (done < size) {
		n = write(fd, data + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (close(fd) != 0 || done != size)
		return -1;
	return 0;
}

/* Frees a path list from tcc_save_outputs (NULL-safe). */
void tcc_paths_free(char **paths, size_t count)
{
	size_t i;

	if (paths == NULL)
		return;
	for (i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
}

/* Saves every output of res into dir as "<base>.<index>.<ext>", where base
 * is the stem of in_file or "order<order_no>"; *paths (count =
 * res->output_count, caller frees with tcc_paths_free) gets the file names.
 * Creates dir (mode 0700) when missing. A message in err on failure. */
int tcc_save_outputs(const char *dir, const char *in_file, size_t order_no,
                     const struct tcw_order_result *res, char ***paths, char *err, size_t errsize)
{
	char base[256], *path;
	char **list = calloc(res->output_count > 0 ? res->output_count : 1, sizeof(*list));
	size_t i, len;

	*paths = NULL;
	if (list == NULL) {
		snprintf(err, errsize, "out of memory");
		return TCW_ERR_NOMEM;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errsize, "--out-dir '%s': %s", dir, strerror(errno));
		goto fail;
	}
	if (in_file != NULL)
		stem_of(in_file, base, sizeof(base));
	else
		snprintf(base, sizeof(base), "order%zu", order_no);
	for (i = 0; i < res->output_count; i++) {
		const struct tcw_buf *b = &res->outputs[i];

		len = strlen(dir) + strlen(base) + 32;
		path = malloc(len);
		if (path == NULL) {
			snprintf(err, errsize, "out of memory");
			goto fail;
		}
		snprintf(path, len, "%s/%s.%zu.%s", dir, base, i, sniff_ext(b->data, b->size));
		list[i] = path;
		if (write_file(path, b->data, b->size) != 0) {
			snprintf(err, errsize, "cannot write '%s': %s", path, strerror(errno));
			goto fail;
		}
	}
	*paths = list;
	return TCW_OK;
fail:
	tcc_paths_free(list, res->output_count);
	return TCW_ERR_INVALID_PARAM;
}

/* Appends an order for workload with the content of path as its input. */
int tcc_orders_add_file(struct tcc_order_list *l, const char *workload, const char *path, char *err,
                        size_t errsize)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int rc = tcc_read_input_file(path, &data, &size, err, errsize);

	if (rc != TCW_OK)
		return rc;
	rc = tcc_orders_add(l, workload, data, size);
	if (rc != TCW_OK)
		snprintf(err, errsize, "out of memory");
	tcw_free_secret(data, size > 0 ? size : 1);
	return rc;
}
