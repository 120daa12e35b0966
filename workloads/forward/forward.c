/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forward.c - the "forward" workload: relays the first decrypted input to a
 * ZeroMQ REP service named in the entry's config and returns its reply as
 * the output. Every exchange is bounded by timeout_ms (and the work order's
 * budget); after any failure the REQ socket is thrown away and a fresh one
 * is connected, so one lost reply never wedges later work orders.
 *
 * config: {"url": "tcp://127.0.0.1:8888", "timeout_ms": 10000,
 *          "workload_id": "ov-inference", "max_reply_bytes": 1048576}
 * With workload_id the input is sent as the reference workload's request
 * {"workloadId": "<workload_id>", "params": "<input text>"}; without it the
 * input bytes are sent unchanged.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <zmq.h>

#include "tcw/workload.h"

#define FWD_DEFAULT_TIMEOUT_MS 10000
#define FWD_MAX_TIMEOUT_MS 600000
#define FWD_DEFAULT_MAX_REPLY (1 << 20)
#define FWD_MAX_URL 1024
#define FWD_POLL_SLICE_MS 100 /* how often the work order budget is checked */

/* Plugin state: settings and the current connection. */
struct forward {
	char *url;
	char *workload_id; /* NULL = relay the input bytes as they are */
	int timeout_ms;
	int64_t max_reply;
	void *ctx;
	void *sock; /* NULL until (re)connected */
};

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drops the socket (pending messages discarded). */
static void disconnect(struct forward *f)
{
	if (f->sock != NULL)
		zmq_close(f->sock);
	f->sock = NULL;
}

/* Opens a fresh REQ socket connected to f->url; 0 or -1 (reason in err). */
static int reconnect(struct forward *f, char *err, size_t errsize)
{
	int linger = 0, immediate = 1;

	disconnect(f);
	f->sock = zmq_socket(f->ctx, ZMQ_REQ);
	if (f->sock == NULL || zmq_setsockopt(f->sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(f->sock, ZMQ_IMMEDIATE, &immediate, sizeof(immediate)) != 0 ||
	    zmq_setsockopt(f->sock, ZMQ_MAXMSGSIZE, &f->max_reply, sizeof(f->max_reply)) != 0 ||
	    zmq_connect(f->sock, f->url) != 0) {
		snprintf(err, errsize, "cannot connect to %s: %s", f->url,
		         zmq_strerror(zmq_errno()));
		disconnect(f);
		return -1;
	}
	return 0;
}

/* Reads the settings of config_json into f; 0 or -1 (reason in err). */
static int parse_config(struct forward *f, const char *config_json, char *err, size_t errsize)
{
	json_object *root = json_tokener_parse(config_json), *v;
	int rc = -1;

	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errsize, "config must be a JSON object");
		goto out;
	}
	json_object_object_foreach(root, key, val)
	{
		(void)val;
		if (strcmp(key, "url") != 0 && strcmp(key, "timeout_ms") != 0 &&
		    strcmp(key, "workload_id") != 0 && strcmp(key, "max_reply_bytes") != 0) {
			snprintf(err, errsize, "unknown config key \"%.64s\"", key);
			goto out;
		}
	}
	if (!json_object_object_get_ex(root, "url", &v) ||
	    !json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
	    json_object_get_string_len(v) > FWD_MAX_URL) {
		snprintf(err, errsize, "config needs \"url\": the ZeroMQ endpoint of the service");
		goto out;
	}
	f->url = strdup(json_object_get_string(v));
	if (json_object_object_get_ex(root, "timeout_ms", &v)) {
		int64_t t = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || t < 1 || t > FWD_MAX_TIMEOUT_MS) {
			snprintf(err, errsize, "\"timeout_ms\" must be an integer from 1 to %d",
			         FWD_MAX_TIMEOUT_MS);
			goto out;
		}
		f->timeout_ms = (int)t;
	}
	if (json_object_object_get_ex(root, "max_reply_bytes", &v)) {
		f->max_reply = json_object_get_int64(v);
		if (!json_object_is_type(v, json_type_int) || f->max_reply < 1 ||
		    f->max_reply > (1 << 30)) {
			snprintf(err, errsize,
			         "\"max_reply_bytes\" must be an integer from 1 to 2^30");
			goto out;
		}
	}
	if (json_object_object_get_ex(root, "workload_id", &v)) {
		if (!json_object_is_type(v, json_type_string) ||
		    json_object_get_string_len(v) == 0) {
			snprintf(err, errsize, "\"workload_id\" must be a non-empty string");
			goto out;
		}
		f->workload_id = strdup(json_object_get_string(v));
		if (f->workload_id == NULL)
			goto out;
	}
	rc = f->url != NULL ? 0 : -1;
out:
	json_object_put(root);
	return rc;
}

static int forward_init(const struct tcw_host *host, const char *config_json, void **state,
                        char *err, size_t errsize)
{
	struct forward *f = calloc(1, sizeof(*f));

	(void)host;
	if (f == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	f->timeout_ms = FWD_DEFAULT_TIMEOUT_MS;
	f->max_reply = FWD_DEFAULT_MAX_REPLY;
	if (parse_config(f, config_json, err, errsize) != 0)
		goto fail;
	f->ctx = zmq_ctx_new();
	if (f->ctx == NULL) {
		snprintf(err, errsize, "cannot create a ZeroMQ context");
		goto fail;
	}
	/* Connecting is asynchronous: the service may be down now; a bad URL
	 * is refused here, at start-up. */
	if (reconnect(f, err, errsize) != 0)
		goto fail;
	*state = f;
	return 0;
fail:
	if (f->ctx != NULL)
		zmq_ctx_term(f->ctx);
	free(f->url);
	free(f->workload_id);
	free(f);
	return -1;
}

/* Appends the Python json.dumps (ensure_ascii) form of the UTF-8 text
 * in[0..size) as a JSON string to out (at least 12 * size + 3 bytes free);
 * returns the bytes written, or 0 when in is not well-formed UTF-8. */
static size_t json_string(const uint8_t *in, size_t size, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0, len, k;
	uint32_t cp;

	out[o++] = '"';
	while (i < size) {
		uint8_t c = in[i];

		if (c < 0x80) {
			cp = c;
			len = 1;
		} else if (c >= 0xc2 && c <= 0xdf) {
			cp = c & 0x1fu;
			len = 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			cp = c & 0x0fu;
			len = 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			cp = c & 0x07u;
			len = 4;
		} else {
			return 0;
		}
		if (size - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((in[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (in[i + k] & 0x3fu);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
		if (cp == '"' || cp == '\\') {
			out[o++] = '\\';
			out[o++] = (char)cp;
		} else if (cp == '\n' || cp == '\r' || cp == '\t' || cp == '\b' || cp == '\f') {
			out[o++] = '\\';
			out[o++] = cp == '\n'   ? 'n'
			           : cp == '\r' ? 'r'
			           : cp == '\t' ? 't'
			           : cp == '\b' ? 'b'
			                        : 'f';
		} else if (cp >= 0x20 && cp < 0x80) {
			out[o++] = (char)cp;
		} else {
			uint32_t units[2] = {cp, 0};
			int n = 1, u;

			if (cp >= 0x10000) {
				units[0] = 0xd800u + ((cp - 0x10000u) >> 10);
				units[1] = 0xdc00u + ((cp - 0x10000u) & 0x3ffu);
				n = 2;
			}
			for (u = 0; u < n; u++) {
				out[o++] = '\\';
				out[o++] = 'u';
				out[o++] = hex[units[u] >> 12 & 15];
				out[o++] = hex[units[u] >> 8 & 15];
				out[o++] = hex[units[u] >> 4 & 15];
				out[o++] = hex[units[u] & 15];
			}
		}
	}
	out[o++] = '"';
	return o;
}

/* The request for one input: the bytes themselves, or the reference JSON.
 * *req is either in->data (borrowed) or *owned (caller wipes and frees). */
static int build_request(const struct forward *f, const struct tcw_wl_input *in,
                         const uint8_t **req, size_t *len, char **owned, size_t *owned_size,
                         struct tcw_wl_call *call)
{
	static const char head[] = "{\"workloadId\": ";
	static const char mid[] = ", \"params\": ";
	size_t idlen = strlen(f->workload_id != NULL ? f->workload_id : ""), n, o;
	char *buf;

	*owned = NULL;
	if (f->workload_id == NULL) {
		*req = in->data;
		*len = in->size;
		return 0;
	}
	if (in->size > (SIZE_MAX - 64 - 12 * idlen) / 12) {
		snprintf(call->error, sizeof(call->error), "input too large");
		return -1;
	}
	*owned_size = sizeof(head) + sizeof(mid) + 12 * (idlen + in->size) + 16;
	buf = malloc(*owned_size);
	if (buf == NULL) {
		snprintf(call->error, sizeof(call->error), "out of memory");
		return -1;
	}
	memcpy(buf, head, sizeof(head) - 1);
	o = sizeof(head) - 1;
	o += json_string((const uint8_t *)f->workload_id, idlen, buf + o);
	memcpy(buf + o, mid, sizeof(mid) - 1);
	o += sizeof(mid) - 1;
	n = json_string(in->data, in->size, buf + o);
	if (n == 0) {
		snprintf(call->error, sizeof(call->error), "input is not UTF-8 text");
		free(buf);
		return -1;
	}
	o += n;
	buf[o++] = '}';
	*owned = buf;
	*req = (const uint8_t *)buf;
	*len = o;
	return 0;
}

/* Waits until the socket is ready for events (ZMQ_POLLIN/POLLOUT), the
 * deadline passes or the work order's budget is spent; 0 when ready. */
static int wait_for(struct forward *f, short events, int64_t deadline, const struct tcw_host *host,
                    struct tcw_wl_call *call)
{
	for (;;) {
		zmq_pollitem_t item = {f->sock, 0, events, 0};
		int64_t left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return -1;
		if (TCW_HOST_HAS(host, deadline_passed) && host->deadline_passed(call))
			return -1;
		rc =
		    zmq_poll(&item, 1, (long)(left < FWD_POLL_SLICE_MS ? left : FWD_POLL_SLICE_MS));
		if (rc < 0 && zmq_errno() != EINTR)
			return -1;
		if (rc > 0 && (item.revents & events))
			return 0;
	}
}

/* Sends req and receives the one-part reply into the call's outputs. */
static int exchange(struct forward *f, const uint8_t *req, size_t len, const struct tcw_host *host,
                    struct tcw_wl_call *call)
{
	int64_t deadline = now_ms() + f->timeout_ms;
	zmq_msg_t msg;
	int rc = -1;

	if (wait_for(f, ZMQ_POLLOUT, deadline, host, call) != 0 ||
	    zmq_send(f->sock, req, len, ZMQ_DONTWAIT) < 0) {
		snprintf(call->error, sizeof(call->error),
		         "%s did not accept the request within %d ms", f->url, f->timeout_ms);
		return -1;
	}
	if (wait_for(f, ZMQ_POLLIN, deadline, host, call) != 0) {
		snprintf(call->error, sizeof(call->error), "no reply from %s within %d ms", f->url,
		         f->timeout_ms);
		return -1;
	}
	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, f->sock, ZMQ_DONTWAIT) < 0 || zmq_msg_more(&msg)) {
		snprintf(call->error, sizeof(call->error), "unusable reply from %s", f->url);
	} else if (host->output_add(call, zmq_msg_data(&msg), zmq_msg_size(&msg)) != 0) {
		snprintf(call->error, sizeof(call->error), "cannot add the output");
	} else {
		rc = 0;
	}
	if (zmq_msg_size(&msg) > 0)
		memset(zmq_msg_data(&msg), 0, zmq_msg_size(&msg));
	zmq_msg_close(&msg);
	return rc;
}

static int forward_execute(void *state, const struct tcw_host *host, struct tcw_wl_call *call)
{
	struct forward *f = state;
	const uint8_t *req = NULL;
	char *owned = NULL;
	size_t len = 0, owned_size = 0;
	int64_t start = now_ms();
	int rc;

	if (call->input_count < 1) {
		snprintf(call->error, sizeof(call->error), "no input");
		return -1;
	}
	if (build_request(f, &call->inputs[0], &req, &len, &owned, &owned_size, call) != 0)
		return -1;
	rc = f->sock != NULL ? 0 : reconnect(f, call->error, sizeof(call->error));
	if (rc == 0)
		rc = exchange(f, req, len, host, call);
	if (owned != NULL) {
		memset(owned, 0, owned_size);
		free(owned);
	}
	if (rc != 0) {
		/* A REQ socket that lost its reply refuses to send again: start over. */
		disconnect(f);
		if (TCW_HOST_HAS(host, log))
			host->log(TCW_WL_LOG_WARN, "forward: %s", call->error);
		return -1;
	}
	if (TCW_HOST_HAS(host, log))
		host->log(TCW_WL_LOG_DEBUG, "forward: %zu bytes to %s answered in %lld ms", len,
		          f->url, (long long)(now_ms() - start));
	return 0;
}

static void forward_fini(void *state)
{
	struct forward *f = state;

	if (f == NULL)
		return;
	disconnect(f);
	zmq_ctx_term(f->ctx);
	free(f->url);
	free(f->workload_id);
	free(f);
}

static const struct tcw_workload_desc g_forward_desc = {
    .abi_version = TCW_WORKLOAD_ABI_VERSION,
    .size = sizeof(struct tcw_workload_desc),
    .name = "forward",
    .flags = 0, /* one REQ socket: calls are serialised by the host */
    .init = forward_init,
    .execute = forward_execute,
    .fini = forward_fini,
};

/* The plugin entry point: returns the static descriptor (never freed). */
__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void);

__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void)
{
	return &g_forward_desc;
}
