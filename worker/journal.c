/* SPDX-License-Identifier: Apache-2.0 */
/* journal.c - the append-only journal of the replay state: numbered files, records
 * written with one writev each, read back at start-up. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "atomicfile.h"
#include "journal.h"
#include "tcw/tcw.h"

#define KEY_SIZE REPLAY_KEY_SIZE
#define HEADER_SIZE 12u
#define CHECK_SIZE 4u
#define TYPE_ID 1u
#define TYPE_REPLY 2u
#define TYPE_ACCEPTED 3u
#define TYPE_ANSWERED 4u
#define ID_PAYLOAD (KEY_SIZE + 8u)
#define REPLY_FIXED (2u * KEY_SIZE + 8u)
#define ACCEPTED_PAYLOAD (2u * KEY_SIZE + 8u)
#define ANSWERED_PAYLOAD (2u * KEY_SIZE)
/* Largest journal file read back (the worker asks for a save long before). */
#define MAX_FILE ((size_t)1 << 40)
/* Longest decimal file number. */
#define GEN_DIGITS 20

static const uint8_t g_magic[4] = {'T', 'C', 'W', 'J'};

struct journal {
	pthread_mutex_t lock; /* the fd, gen and size */
	char *dir;            /* folder of the files */
	char *prefix;         /* "<base name>.journal." */
	uint64_t gen;         /* number of the current file */
	uint64_t oldest;      /* lowest number that may still exist */
	int fd;
	uint64_t size;
};

/* FNV-1a, 32 bits, over p[0..n). */
static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* "<dir>/<prefix><gen>" into a new string (caller frees), NULL on OOM. */
static char *file_name(const struct journal *j, uint64_t gen)
{
	size_t n = strlen(j->dir) + strlen(j->prefix) + GEN_DIGITS + 2;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s%llu", j->dir, j->prefix, (unsigned long long)gen);
	return p;
}

/* The file number of a directory entry named <prefix><digits>, 0 if not one. */
static uint64_t gen_of(const char *prefix, const char *name)
{
	size_t plen = strlen(prefix);
	uint64_t gen = 0;
	const char *d;

	if (strncmp(name, prefix, plen) != 0 || name[plen] == '\0' ||
	    strlen(name + plen) > GEN_DIGITS - 1)
		return 0;
	for (d = name + plen; *d; d++) {
		if (*d < '0' || *d > '9')
			return 0;
		gen = gen * 10 + (uint64_t)(*d - '0');
	}
	return gen;
}

static int by_number(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The numbers of the existing journal files, ascending (*gens caller frees). */
static int list_files(const struct journal *j, uint64_t **gens, size_t *count, char *err,
                      size_t errsize)
{
	DIR *d = opendir(j->dir);
	struct dirent *de;
	size_t cap = 0;
	uint64_t g, *v;

	*gens = NULL;
	*count = 0;
	if (!d) {
		snprintf(err, errsize, "%s: cannot list the folder: %s", j->dir, strerror(errno));
		return TCW_ERR_INVALID_PARAM;
	}
	while ((de = readdir(d)) != NULL) {
		if ((g = gen_of(j->prefix, de->d_name)) == 0)
			continue;
		if (*count == cap) {
			cap = cap ? cap * 2 : 8;
			v = realloc(*gens, cap * sizeof(*v));
			if (!v) {
				closedir(d);
				return TCW_ERR_NOMEM;
			}
			*gens = v;
		}
		(*gens)[(*count)++] = g;
	}
	closedir(d);
	if (*count > 1)
		qsort(*gens, *count, sizeof(**gens), by_number);
	return TCW_OK;
}

/* 1 when p[0..n) is all zero bytes (the tail a power loss can leave). */
static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The payload size of a record of type (the fixed part for a reply), 0
 * for an unknown type. */
static size_t fixed_size(unsigned type)
{
	switch (type) {
	case TYPE_ID:
		return ID_PAYLOAD;
	case TYPE_REPLY:
		return REPLY_FIXED;
	case TYPE_ACCEPTED:
		return ACCEPTED_PAYLOAD;
	case TYPE_ANSWERED:
		return ANSWERED_PAYLOAD;
	default:
		return 0;
	}
}

/* Hands the record at r (payload size n) to sink. */
static void deliver(const uint8_t *r, size_t n, const struct journal_sink *sink)
{
	const uint8_t *k = r + HEADER_SIZE;

	switch (r[4]) {
	case TYPE_ID:
		sink->id(sink->ctx, k, afile_get64(k + KEY_SIZE));
		break;
	case TYPE_REPLY:
		sink->reply(sink->ctx, k, k + KEY_SIZE, afile_get64(k + 2 * KEY_SIZE),
		            (const char *)k + REPLY_FIXED, n - REPLY_FIXED);
		break;
	case TYPE_ACCEPTED:
		sink->accepted(sink->ctx, k, afile_get64(k + KEY_SIZE), k + KEY_SIZE + 8);
		break;
	default:
		sink->answered(sink->ctx, k, k + KEY_SIZE);
		break;
	}
}

/* Delivers the records of one file image to sink; *torn when it ends
 * inside a record. TCW_ERR_INVALID_PARAM (reason in err) when corrupt. */
static int read_records(const uint8_t *buf, size_t size, const struct journal_sink *sink,
                        const char *path, struct journal_found *found, char *err, size_t errsize)
{
	size_t at = 0;
	unsigned type = 0;

	while (at < size) {
		const uint8_t *r = buf + at;
		size_t left = size - at, n, fixed;

		if (left < HEADER_SIZE)
			goto torn;
		n = afile_get32(r + 8);
		type = r[4];
		fixed = fixed_size(type);
		if (memcmp(r, g_magic, sizeof(g_magic)) != 0 || r[5] || r[6] || r[7] ||
		    fixed == 0 || (type == TYPE_REPLY ? n < fixed : n != fixed))
			goto bad;
		if (left - HEADER_SIZE < n || left - HEADER_SIZE - n < CHECK_SIZE)
			goto torn;
		if (fnv1a(r, HEADER_SIZE + fixed) != afile_get32(r + HEADER_SIZE + n))
			goto bad;
		deliver(r, n, sink);
		found->records++;
		at += HEADER_SIZE + n + CHECK_SIZE;
	}
	return TCW_OK;
bad:
	if (all_zero(buf + at, size - at))
		goto torn;
	if (memcmp(buf + at, g_magic, sizeof(g_magic)) == 0 && fixed_size(type) == 0)
		snprintf(err, errsize,
		         "%s: journal record of unknown type %u at byte %zu (written by a newer "
		         "tcworker?)",
		         path, type, at);
	else
		snprintf(err, errsize, "%s: corrupt journal record at byte %zu", path, at);
	return TCW_ERR_INVALID_PARAM;
torn:
	found->torn++;
	return TCW_OK;
}

/* Reads the journal file number gen into sink. */
static int read_file(const struct journal *j, uint64_t gen, const struct journal_sink *sink,
                     struct journal_found *found, char *err, size_t errsize)
{
	char *path = file_name(j, gen);
	uint8_t *buf = NULL;
	size_t size = 0;
	int rc;

	if (!path)
		return TCW_ERR_NOMEM;
	rc = afile_read_all(path, MAX_FILE, "journal file", &buf, &size, err, errsize);
	if (rc == 0) {
		rc = read_records(buf, size, sink, path, found, err, errsize);
		found->files++;
	}
	free(buf);
	free(path);
	return rc == 1 ? TCW_OK : rc;
}

/* Creates journal file number gen for appends; the fd or -1 (errno). */
static int create_file(const struct journal *j, uint64_t gen)
{
	char *path = file_name(j, gen);
	int fd;

	if (!path) {
		errno = ENOMEM;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	free(path);
	return fd;
}

/* Splits base into the folder and the file name prefix of j. */
static int split_base(struct journal *j, const char *base)
{
	const char *slash = strrchr(base, '/');
	const char *name = slash ? slash + 1 : base;
	size_t n = strlen(name) + sizeof(JOURNAL_FILE_INFIX);

	j->dir = slash ? strndup(base, slash == base ? 1 : (size_t)(slash - base)) : strdup(".");
	j->prefix = malloc(n);
	if (!j->dir || !j->prefix)
		return TCW_ERR_NOMEM;
	snprintf(j->prefix, n, "%s%s", name, JOURNAL_FILE_INFIX);
	return TCW_OK;
}

/* Reads the journals of base and opens the next; see journal.h. */
int journal_open(const char *base, const struct journal_sink *sink, struct journal **out,
                 struct journal_found *found, char *err, size_t errsize)
{
	struct journal *j = calloc(1, sizeof(*j));
	uint64_t *gens = NULL;
	size_t count = 0;
	int rc;

	*out = NULL;
	memset(found, 0, sizeof(*found));
	if (!j)
		return TCW_ERR_NOMEM;
	j->fd = -1;
	rc = split_base(j, base);
	if (rc == TCW_OK)
		rc = list_files(j, &gens, &count, err, errsize);
	for (size_t i = 0; rc == TCW_OK && i < count; i++)
		rc = read_file(j, gens[i], sink, found, err, errsize);
	if (rc != TCW_OK)
		goto fail;
	j->gen = count ? gens[count - 1] + 1 : 1;
	j->oldest = count ? gens[0] : j->gen;
	j->fd = create_file(j, j->gen);
	if (j->fd < 0 || pthread_mutex_init(&j->lock, NULL) != 0) {
		snprintf(err, errsize, "%s/%s%llu: cannot create: %s", j->dir, j->prefix,
		         (unsigned long long)j->gen, strerror(errno));
		rc = TCW_ERR_INTERNAL;
		goto fail;
	}
	free(gens);
	*out = j;
	return TCW_OK;
fail:
	if (rc == TCW_ERR_NOMEM)
		snprintf(err, errsize, "out of memory");
	if (j->fd >= 0)
		close(j->fd);
	free(gens);
	free(j->dir);
	free(j->prefix);
	free(j);
	return rc;
}

/* Appends one record with one writev; undoes a partial write. */
static int append(struct journal *j, const uint8_t *head, size_t head_len, const char *tail,
                  size_t tail_len)
{
	uint8_t check[CHECK_SIZE];
	struct iovec iov[3];
	size_t total = head_len + tail_len + CHECK_SIZE, done = 0;
	int rc = TCW_OK, saved;

	afile_put32(check, fnv1a(head, head_len));
	iov[0] = (struct iovec){.iov_base = (void *)head, .iov_len = head_len};
	iov[1] = (struct iovec){.iov_base = (void *)tail, .iov_len = tail_len};
	iov[2] = (struct iovec){.iov_base = check, .iov_len = CHECK_SIZE};
	pthread_mutex_lock(&j->lock);
	while (done < total) {
		struct iovec v[3];
		int cnt = 0;
		size_t skip = done;
		ssize_t n;

		for (int i = 0; i < 3; i++) {
			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			v[cnt].iov_base = (uint8_t *)iov[i].iov_base + skip;
			v[cnt++].iov_len = iov[i].iov_len - skip;
			skip = 0;
		}
		n = writev(j->fd, v, cnt);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = TCW_ERR_INTERNAL;
			break;
		}
		done += (size_t)n;
	}
	if (rc != TCW_OK) {
		/* no half record in the middle of the file */
		saved = errno;
		if (ftruncate(j->fd, (off_t)j->size) != 0)
			saved = errno;
		errno = saved;
	} else {
		j->size += total;
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/* Writes a record header: magic, type, padding, payload size n. */
static void put_header(uint8_t *head, unsigned type, uint32_t n)
{
	memcpy(head, g_magic, sizeof(g_magic));
	head[4] = (uint8_t)type;
	head[5] = head[6] = head[7] = 0;
	afile_put32(head + 8, n);
}

/* Appends an id record; see journal.h. */
int journal_add_id(struct journal *j, const uint8_t key[KEY_SIZE], uint64_t time)
{
	uint8_t head[HEADER_SIZE + ID_PAYLOAD];

	put_header(head, TYPE_ID, ID_PAYLOAD);
	memcpy(head + HEADER_SIZE, key, KEY_SIZE);
	afile_put64(head + HEADER_SIZE + KEY_SIZE, time);
	return append(j, head, sizeof(head), NULL, 0);
}

/* Appends a reply record; see journal.h. */
int journal_add_reply(struct journal *j, const uint8_t key[KEY_SIZE],
                      const uint8_t request[KEY_SIZE], uint64_t time, const char *reply,
                      size_t size)
{
	uint8_t head[HEADER_SIZE + REPLY_FIXED];

	if (size > UINT32_MAX - REPLY_FIXED) {
		errno = EFBIG;
		return TCW_ERR_INTERNAL;
	}
	put_header(head, TYPE_REPLY, (uint32_t)(REPLY_FIXED + size));
	memcpy(head + HEADER_SIZE, key, KEY_SIZE);
	memcpy(head + HEADER_SIZE + KEY_SIZE, request, KEY_SIZE);
	afile_put64(head + HEADER_SIZE + 2 * KEY_SIZE, time);
	return append(j, head, sizeof(head), reply, size);
}

/* Appends an accepted record; see journal.h. */
int journal_add_accepted(struct journal *j, const uint8_t key[KEY_SIZE], uint64_t time,
                         const uint8_t request[KEY_SIZE])
{
	uint8_t head[HEADER_SIZE + ACCEPTED_PAYLOAD];

	put_header(head, TYPE_ACCEPTED, ACCEPTED_PAYLOAD);
	memcpy(head + HEADER_SIZE, key, KEY_SIZE);
	afile_put64(head + HEADER_SIZE + KEY_SIZE, time);
	memcpy(head + HEADER_SIZE + KEY_SIZE + 8, request, KEY_SIZE);
	return append(j, head, sizeof(head), NULL, 0);
}

/* Appends an answered record; see journal.h. */
int journal_add_answered(struct journal *j, const uint8_t key[KEY_SIZE],
                         const uint8_t request[KEY_SIZE])
{
	uint8_t head[HEADER_SIZE + ANSWERED_PAYLOAD];

	put_header(head, TYPE_ANSWERED, ANSWERED_PAYLOAD);
	memcpy(head + HEADER_SIZE, key, KEY_SIZE);
	memcpy(head + HEADER_SIZE + KEY_SIZE, request, KEY_SIZE);
	return append(j, head, sizeof(head), NULL, 0);
}

/* Bytes in the current file. */
uint64_t journal_size(struct journal *j)
{
	uint64_t n;

	pthread_mutex_lock(&j->lock);
	n = j->size;
	pthread_mutex_unlock(&j->lock);
	return n;
}

/* Starts the next file; see journal.h. */
int journal_rotate(struct journal *j, uint64_t *ended, char *err, size_t errsize)
{
	int fd;

	pthread_mutex_lock(&j->lock);
	fd = create_file(j, j->gen + 1);
	if (fd < 0) {
		snprintf(err, errsize, "%s/%s%llu: cannot create: %s", j->dir, j->prefix,
		         (unsigned long long)(j->gen + 1), strerror(errno));
		pthread_mutex_unlock(&j->lock);
		return TCW_ERR_INTERNAL;
	}
	close(j->fd);
	j->fd = fd;
	*ended = j->gen++;
	j->size = 0;
	pthread_mutex_unlock(&j->lock);
	return TCW_OK;
}

/* Deletes the files numbered up to gen; see journal.h. */
int journal_drop(struct journal *j, uint64_t gen, char *err, size_t errsize)
{
	int rc = TCW_OK;

	pthread_mutex_lock(&j->lock);
	if (gen >= j->gen)
		gen = j->gen - 1; /* never the current file */
	for (; j->oldest <= gen; j->oldest++) {
		char *path = file_name(j, j->oldest);

		if (!path || (unlink(path) != 0 && errno != ENOENT)) {
			snprintf(err, errsize, "%s: cannot delete: %s", path ? path : j->prefix,
			         path ? strerror(errno) : "out of memory");
			free(path);
			rc = TCW_ERR_INTERNAL;
			break;
		}
		free(path);
	}
	pthread_mutex_unlock(&j->lock);
	return rc;
}

/* Closes the journal; see journal.h. */
void journal_close(struct journal **jp, int remove_empty)
{
	struct journal *j;
	char *path;

	if (!jp || !*jp)
		return;
	j = *jp;
	close(j->fd);
	if (remove_empty && j->size == 0 && (path = file_name(j, j->gen)) != NULL) {
		unlink(path);
		free(path);
	}
	pthread_mutex_destroy(&j->lock);
	free(j->dir);
	free(j->prefix);
	free(j);
	*jp = NULL;
}
