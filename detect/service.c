/* SPDX-License-Identifier: Apache-2.0 */
/* service.c - tcdetect: one image name in, detection run, <stem>.bmp written, one status line out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <zmq.h>

#include "service.h"

/* Longest escaped name written into a log line. */
#define LOG_NAME_MAX 80

/* Prints a timestamped line to stderr; see service.h. */
void tcd_log(const char *fmt, ...)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ tcdetect: ", stamp, ts.tv_nsec / 1000000L);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Printable copy of the first bytes of a name for a log line. */
static const char *shown(const char *in, size_t len, char *out, size_t outsize)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len && i < LOG_NAME_MAX && o + 5 < outsize; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (i < len && o + 4 < outsize) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* Copies text into reply; returns its length. */
static size_t set_reply(char *reply, const char *text)
{
	int n = snprintf(reply, TCD_REPLY_SIZE, "%s", text);

	return n < 0 ? 0 : (size_t)n < TCD_REPLY_SIZE ? (size_t)n : TCD_REPLY_SIZE - 1;
}

/* Reads the regular file name inside dir_fd (no symlinks, at most max
 * bytes) into *out (caller frees). */
static int read_image(int dir_fd, const char *name, size_t max, uint8_t **out, size_t *size)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, rc = TCD_ERR_IO;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return TCD_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	rc = TCD_ERR_TOO_LARGE;
	if (st.st_size <= 0 || (uint64_t)st.st_size > max)
		goto out;
	rc = TCD_ERR_NOMEM;
	buf = malloc((size_t)st.st_size);
	if (buf == NULL)
		goto out;
	rc = TCD_ERR_IO;
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	*out = buf;
	*size = got;
	buf = NULL;
	rc = TCD_OK;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Writes data as out_name inside dir_fd through a temporary file and a
 * rename, so a reader never sees a half-written image. */
static int write_output(int dir_fd, const char *out_name, const uint8_t *data, size_t size)
{
	char tmp[300];
	size_t done = 0;
	ssize_t n;
	int fd, rc = TCD_ERR_IO;

	if (snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", out_name, (long)getpid()) >= (int)sizeof(tmp))
		return TCD_ERR_INVALID;
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return TCD_ERR_IO;
	while (done < size) {
		n = write(fd, data + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (close(fd) == 0 && done == size && renameat(dir_fd, tmp, dir_fd, out_name) == 0)
		rc = TCD_OK;
	if (rc != TCD_OK)
		unlinkat(dir_fd, tmp, 0);
	return rc;
}

/* Counts the boxes per label into a short log text ("2 face, 1 body"). */
static void summarise(const struct tcd_result *r, char *out, size_t outsize)
{
	size_t i, j, used = 0;

	out[0] = '\0';
	for (i = 0; i < r->count; i++) {
		size_t n = 0;
		int seen = 0;

		for (j = 0; j < i && !seen; j++)
			seen = strcmp(r->boxes[j].label, r->boxes[i].label) == 0;
		if (seen)
			continue;
		for (j = i; j < r->count; j++)
			n += strcmp(r->boxes[j].label, r->boxes[i].label) == 0;
		if (used < outsize)
			used += (size_t)snprintf(out + used, outsize - used, "%s%zu %s",
			                         used > 0 ? ", " : "", n, r->boxes[i].label);
	}
	if (r->count == 0)
		snprintf(out, outsize, "nothing");
}

/* Detects objects in the image called name and writes <stem>.bmp; fills
 * reply with the success or the failure line. */
static size_t run_inference(struct tcd_service *s, const char *name, size_t len, char *reply)
{
	char out_name[300], logname[LOG_NAME_MAX * 4 + 8], err[TCD_ERR_SIZE] = "", what[256];
	struct tcd_result res = {0};
	struct timespec t0, t1;
	uint8_t *data = NULL;
	size_t size = 0;
	int rc;

	shown(name, len, logname, sizeof(logname));
	if (!tcd_name_ok(name, len) || strlen(name) != len ||
	    tcd_output_name(name, "bmp", out_name, sizeof(out_name)) != TCD_OK) {
		tcd_log("\"%s\": refused: not a plain file name", logname);
		return set_reply(reply, TCD_REPLY_FAILED);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = read_image(s->images_fd, name, s->max_input, &data, &size);
	if (rc != TCD_OK) {
		tcd_log("\"%s\": cannot read it from the images directory (%s)", logname,
		        tcd_strerror(rc));
		return set_reply(reply, TCD_REPLY_FAILED);
	}
	rc = tcd_detect(s->detector, data, size, ".bmp", &res, err, sizeof(err));
	free(data);
	if (rc == TCD_OK)
		rc = write_output(s->output_fd, out_name, res.image, res.image_size);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != TCD_OK) {
		tcd_log("\"%s\": failed: %s", logname, err[0] != '\0' ? err : tcd_strerror(rc));
		tcd_result_fini(&res);
		return set_reply(reply, TCD_REPLY_FAILED);
	}
	summarise(&res, what, sizeof(what));
	tcd_log("\"%s\" (%dx%d): %s -> %s in %.0f ms", logname, res.width, res.height, what,
	        out_name,
	        (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	tcd_result_fini(&res);
	snprintf(reply, TCD_REPLY_SIZE, "%s%s", TCD_REPLY_SUCCESS, out_name);
	return strlen(reply);
}

/* Answers one request frame; see service.h. */
size_t tcd_service_handle(struct tcd_service *s, const void *frame, size_t size, char *reply)
{
	struct json_tokener *tok;
	json_object *root = NULL, *wl, *params;
	size_t n;

	if (size == 0 || size > TCD_MAX_REQUEST) {
		tcd_log("request of %zu bytes refused", size);
		return set_reply(reply, TCD_REPLY_NO_WORKLOAD);
	}
	tok = json_tokener_new_ex(8);
	if (tok == NULL)
		return set_reply(reply, TCD_REPLY_FAILED);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, frame, (int)size);
	if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != size ||
	    !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "workloadId", &wl) ||
	    !json_object_is_type(wl, json_type_string)) {
		tcd_log("request without a workloadId string refused");
		n = set_reply(reply, TCD_REPLY_NO_WORKLOAD);
	} else if (!json_object_object_get_ex(root, "params", &params) ||
	           !json_object_is_type(params, json_type_string)) {
		tcd_log("request without a params string refused");
		n = set_reply(reply, TCD_REPLY_NO_PARAMS);
	} else if (strcmp(json_object_get_string(wl), TCD_WORKLOAD_ID) != 0) {
		tcd_log("request for another workload refused");
		n = set_reply(reply, TCD_REPLY_UNSUPPORTED);
	} else {
		n = run_inference(s, json_object_get_string(params),
		                  (size_t)json_object_get_string_len(params), reply);
	}
	json_object_put(root);
	json_tokener_free(tok);
	return n;
}

/* Receives one whole message into buf (TCD_MAX_REQUEST + 1 bytes); sets
 * *size to the first part's length (TCD_MAX_REQUEST + 1 when longer) and
 * *parts. Returns -1 on error (errno from zmq), 0 on success. */
static int receive(void *sock, char *buf, size_t *size, int *parts)
{
	zmq_msg_t msg;
	size_t n;
	int more;

	*parts = 0;
	*size = 0;
	do {
		zmq_msg_init(&msg);
		while (zmq_msg_recv(&msg, sock, 0) < 0) {
			if (zmq_errno() != EINTR) {
				zmq_msg_close(&msg);
				return -1;
			}
		}
		if ((*parts)++ == 0) {
			n = zmq_msg_size(&msg);
			*size = n > TCD_MAX_REQUEST ? TCD_MAX_REQUEST + 1 : n;
			memcpy(buf, zmq_msg_data(&msg), *size);
		}
		more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);
	} while (more);
	return 0;
}

/* Opens and binds the REP socket; logs the endpoint actually bound. */
static void *open_socket(void *ctx, const char *url)
{
	int64_t maxmsg = 1 << 20;
	char endpoint[256];
	size_t len = sizeof(endpoint);
	int linger = 0;
	void *sock = zmq_socket(ctx, ZMQ_REP);

	if (sock == NULL)
		return NULL;
	if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_bind(sock, url) != 0) {
		tcd_log("cannot bind %s: %s", url, zmq_strerror(zmq_errno()));
		zmq_close(sock);
		return NULL;
	}
	if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0)
		snprintf(endpoint, sizeof(endpoint), "%s", url);
	tcd_log("listening on %s", endpoint);
	return sock;
}

/* Serves requests until *stop; see service.h. */
int tcd_service_run(struct tcd_service *s, const char *url, volatile sig_atomic_t *stop)
{
	static char req[TCD_MAX_REQUEST + 1];
	char reply[TCD_REPLY_SIZE];
	void *ctx = zmq_ctx_new(), *sock = NULL;
	size_t size, n;
	int parts, rc = TCD_ERR_IO;

	if (ctx == NULL)
		return TCD_ERR_IO;
	sock = open_socket(ctx, url);
	if (sock == NULL)
		goto out;
	while (!*stop) {
		zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};

		if (zmq_poll(&item, 1, 200) <= 0 || !(item.revents & ZMQ_POLLIN))
			continue;
		if (receive(sock, req, &size, &parts) != 0)
			continue;
		if (parts > 1) {
			tcd_log("multi-part request refused");
			n = set_reply(reply, TCD_REPLY_NO_WORKLOAD);
		} else {
			n = tcd_service_handle(s, req, size, reply);
		}
		while (zmq_send(sock, reply, n, 0) < 0 && zmq_errno() == EINTR && !*stop)
			;
	}
	tcd_log("stopping");
	rc = TCD_OK;
out:
	if (sock != NULL)
		zmq_close(sock);
	zmq_ctx_term(ctx);
	return rc;
}
