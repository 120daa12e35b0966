/* SPDX-License-Identifier: Apache-2.0 */
/* gateway.c - tcclient --gateway: the worker's keys from WorkerRetrieve, orders through
 * WorkOrderSubmit and WorkOrderGetResult over HTTP(S) (libcurl), same checks as direct. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "tcclient.h"
#include "tcw/eea.h"

#define MAX_REPLY (64u << 20)

struct tcc_gw {
	CURL *curl;
	struct curl_slist *headers;
	struct json_tokener *tok; /* reused for every reply */
	const char *url;
	int timeout_ms;
	char *buf; /* the last reply's body */
	size_t len;
	int too_large;
	char worker_id[TCW_EEA_WORKER_ID_HEX + 1];
};

/* Process-wide libcurl set-up, once. */
int tcc_gw_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct tcc_gw *g = ud;
	size_t k = size * n;
	char *b;

	if (g->len + k > MAX_REPLY) {
		g->too_large = 1;
		return 0;
	}
	b = realloc(g->buf, g->len + k + 1);
	if (!b)
		return 0;
	memcpy(b + g->len, p, k);
	g->len += k;
	b[g->len] = '\0';
	g->buf = b;
	return k;
}

/* Opens a keep-alive HTTP connection state for url; NULL on failure. */
struct tcc_gw *tcc_gw_open(const char *url, const char *worker_name, int timeout_ms)
{
	struct tcc_gw *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->url = url;
	g->timeout_ms = timeout_ms;
	tcw_eea_worker_id(worker_name, g->worker_id);
	g->curl = curl_easy_init();
	g->headers = curl_slist_append(NULL, "Content-Type: application/json");
	g->tok = json_tokener_new();
	if (!g->curl || !g->headers || !g->tok) {
		tcc_gw_close(g);
		return NULL;
	}
	curl_easy_setopt(g->curl, CURLOPT_URL, url);
	curl_easy_setopt(g->curl, CURLOPT_HTTPHEADER, g->headers);
	curl_easy_setopt(g->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(g->curl, CURLOPT_WRITEDATA, g);
	curl_easy_setopt(g->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(g->curl, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(g->curl, CURLOPT_PROXY, "");
	curl_easy_setopt(g->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	return g;
}

/* Frees g (NULL-safe). */
void tcc_gw_close(struct tcc_gw *g)
{
	if (!g)
		return;
	if (g->curl)
		curl_easy_cleanup(g->curl);
	curl_slist_free_all(g->headers);
	if (g->tok)
		json_tokener_free(g->tok);
	free(g->buf);
	free(g);
}

/* The workerId of --worker-name (borrowed). */
const char *tcc_gw_worker_id(const struct tcc_gw *g)
{
	return g->worker_id;
}

/* POSTs one JSON-RPC request; 0 with the reply's body in g->buf (g->len
 * bytes, NUL-terminated), or -1 with *why set. */
static int post_raw(struct tcc_gw *g, const char *body, size_t len, const char **why)
{
	static _Thread_local char msg[CURL_ERROR_SIZE + 64];
	long status = 0;
	CURLcode rc;

	g->len = 0;
	g->too_large = 0;
	curl_easy_setopt(g->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(g->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(g->curl);
	if (rc != CURLE_OK) {
		*why = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(rc);
		return -1;
	}
	curl_easy_getinfo(g->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		snprintf(msg, sizeof(msg), "HTTP status %ld", status);
		*why = msg;
		return -1;
	}
	if (!g->buf || !g->len) {
		*why = "the gateway's reply is empty";
		return -1;
	}
	return 0;
}

/* POSTs one JSON-RPC request; the parsed reply (caller puts) or NULL with
 * *why set. */
static json_object *post(struct tcc_gw *g, const char *body, size_t len, const char **why)
{
	json_object *r;

	if (post_raw(g, body, len, why) != 0)
		return NULL;
	json_tokener_reset(g->tok);
	r = json_tokener_parse_ex(g->tok, g->buf, (int)g->len);
	if (!r || !json_object_is_type(r, json_type_object)) {
		json_object_put(r);
		*why = "the gateway's reply is not a JSON-RPC object";
		return NULL;
	}
	return r;
}

/* A JSON-RPC call with method and params (consumed); the parsed reply. */
static json_object *call(struct tcc_gw *g, const char *method, json_object *params,
                         const char **why)
{
	json_object *req = json_object_new_object(), *r = NULL;
	const char *text;

	if (!req) {
		json_object_put(params);
		*why = "out of memory";
		return NULL;
	}
	json_object_object_add(req, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(req, "method", json_object_new_string(method));
	json_object_object_add(req, "id", json_object_new_int(1));
	json_object_object_add(req, "params", params);
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
	                                              JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text)
		r = post(g, text, strlen(text), why);
	json_object_put(req);
	return r;
}

static const char *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : NULL;
}

/* Asks WorkerRetrieve for the worker's keys and verifies them into su. */
int tcc_gw_signup(struct tcc_gw *g, struct tcw_signup *su)
{
	json_object *p = json_object_new_object(), *r, *res = NULL, *d = NULL, *td = NULL, *st = NULL;
	json_object *s = NULL;
	struct tcw_error e = {0};
	const char *why = "", *text;
	int rc = -1;

	if (p)
		json_object_object_add(p, "workerId", json_object_new_string(g->worker_id));
	r = call(g, "WorkerRetrieve", p, &why);
	if (!r) {
		fprintf(stderr, "tcclient: WorkerRetrieve at %s: %s\n", g->url, why);
		return -1;
	}
	if (!json_object_object_get_ex(r, "result", &res) ||
	    !json_object_object_get_ex(res, "details", &d) ||
	    !json_object_object_get_ex(d, "workerTypeData", &td)) {
		fprintf(stderr, "tcclient: WorkerRetrieve: no such worker %s at the gateway\n",
		        g->worker_id);
		goto out;
	}
	if (!json_object_object_get_ex(res, "status", &st) || json_object_get_int(st) != 1) {
		fprintf(stderr, "tcclient: WorkerRetrieve: worker %s is not active (status %d)\n",
		        g->worker_id, st ? json_object_get_int(st) : 0);
		goto out;
	}
	s = json_object_new_object();
	if (!s)
		goto out;
	json_object_object_add(s, "verifying_key",
	                       json_object_new_string(member(td, "verificationKey") ?: ""));
	json_object_object_add(s, "encryption_key",
	                       json_object_new_string(member(td, "encryptionKey") ?: ""));
	json_object_object_add(s, "encryption_key_signature",
	                       json_object_new_string(member(td, "encryptionKeySignature") ?: ""));
	json_object_object_add(s, "quote", json_object_new_string(member(td, "sgxQuote") ?: ""));
	json_object_object_add(s, "mrenclave", json_object_new_string(""));
	json_object_object_add(s, "sealed_data", json_object_new_string(""));
	text = json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN |
	                                            JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = tcw_signup_parse(text, strlen(text), su, &e);
	if (rc != 0)
		fprintf(stderr, "tcclient: WorkerRetrieve: %s\n",
		        rc == TCW_ERR_VERIFY ? "encryptionKeySignature does not verify" : e.field);
	else
		fprintf(stderr, "worker %s via %s: RSA %u-bit encryption key, signature verified\n",
		        g->worker_id, g->url, tcw_rsa_pem_bits(su->encryption_key));
out:
	json_object_put(s);
	json_object_put(r);
	return rc == 0 ? 0 : -1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The WorkOrderSubmit request for the gateway (see tcclient.h). */
char *tcc_gw_request(const struct tcw_order *o, size_t *len)
{
	json_object *env = json_tokener_parse(tcw_order_request(o, NULL)), *p = NULL;
	char *out = NULL;

	/* the envelope's params string is the inner request: a WorkOrderSubmit
	 * JSON-RPC request as it stands */
	if (env && json_object_object_get_ex(env, "params", &p) &&
	    json_object_is_type(p, json_type_string)) {
		*len = (size_t)json_object_get_string_len(p);
		out = malloc(*len + 1);
		if (out)
			memcpy(out, json_object_get_string(p), *len + 1);
	}
	json_object_put(env);
	return out;
}

/* The error code of the reply in g->buf: 1 with *code set, 0 when it has
 * none (a result), -1 when it is not a JSON-RPC object. */
static int reply_code(struct tcc_gw *g, int *code)
{
	json_object *r, *e = NULL, *c = NULL;
	int rc = 0;

	json_tokener_reset(g->tok);
	r = json_tokener_parse_ex(g->tok, g->buf, (int)g->len);
	if (!r || !json_object_is_type(r, json_type_object))
		rc = -1;
	else if (json_object_object_get_ex(r, "error", &e) &&
	         json_object_object_get_ex(e, "code", &c)) {
		*code = json_object_get_int(c);
		rc = 1;
	}
	json_object_put(r);
	return rc;
}

/* Moves the reply in g->buf to the caller. */
static void take_reply(struct tcc_gw *g, char **reply, size_t *size)
{
	*reply = g->buf;
	*size = g->len;
	g->buf = NULL;
	g->len = 0;
}

/* The WorkOrderGetResult request for id into buf; its length, 0 when it
 * does not fit or id needs escaping (order ids are hex). */
static size_t result_request(const char *id, char *buf, size_t size)
{
	int n;

	if (strpbrk(id, "\"\\") || strlen(id) > 1024)
		return 0;
	for (const char *p = id; *p; p++)
		if ((unsigned char)*p < 0x20)
			return 0;
	n = snprintf(buf, size,
	             "{\"jsonrpc\":\"2.0\",\"method\":\"WorkOrderGetResult\",\"id\":1,"
	             "\"params\":{\"workOrderId\":\"%s\"}}",
	             id);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Submits order o (request: its prepared WorkOrderSubmit text, or NULL)
 * and polls WorkOrderGetResult until its final reply (text in *reply,
 * caller frees). 0, 1 on timeout, -1 on a transport error or a refused
 * submission (*why). */
int tcc_gw_order(struct tcc_gw *g, const struct tcw_order *o, const char *request,
                 size_t request_len, char **reply, size_t *size, const char **why)
{
	static _Thread_local char msg[256];
	char *own = NULL, poll_buf[1200];
	size_t poll_len;
	double deadline = now_s() + g->timeout_ms / 1e3;
	int code = -1, rc = -1, k;

	*reply = NULL;
	*size = 0;
	if (!request)
		request = own = tcc_gw_request(o, &request_len);
	poll_len = result_request(tcw_order_id(o), poll_buf, sizeof(poll_buf));
	if (!request || !poll_len) {
		*why = "cannot read the built request";
		goto out;
	}
	if (post_raw(g, request, request_len, why) != 0)
		goto out;
	k = reply_code(g, &code);
	if (k < 0) {
		*why = "the gateway's reply is not a JSON-RPC object";
		goto out;
	}
	if (k == 1 && code != 5) {
		/* refused at submission: the reply is the outcome */
		take_reply(g, reply, size);
		rc = 0;
		goto out;
	}
	for (;;) {
		if (post_raw(g, poll_buf, poll_len, why) != 0)
			break;
		k = reply_code(g, &code);
		if (k < 0) {
			*why = "the gateway's reply is not a JSON-RPC object";
			break;
		}
		if (k == 0 || code != 5) {
			take_reply(g, reply, size);
			rc = 0;
			break;
		}
		if (now_s() >= deadline) {
			snprintf(msg, sizeof(msg), "still pending after %d ms", g->timeout_ms);
			*why = msg;
			rc = 1;
			break;
		}
	}
out:
	free(own);
	return rc;
}
