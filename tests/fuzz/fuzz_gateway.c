/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_gateway.c - libFuzzer target: any bytes as the body of one HTTP
 * request to tcgateway's JSON-RPC entry point gw_rpc(), over a real SQLite
 * store in a temporary directory.
 *
 * Input: a body that starts with '@' comes over the admin socket (admin = 1,
 * the '@' is not part of it); any other body is a public HTTP request.
 *
 * Store: every input starts from the same state, a copy of a template
 * database made once: schema migrated; two workers (the fixed worker of
 * tests/data/keys.json, stored as a --worker of another gateway with its
 * signup's record and key fingerprint under the workerId the request vectors
 * name, and an admin-registered worker 5e5e...5e without keys); a done and a
 * failed order of the fixed worker (DONE_ORDER, FAILED_ORDER). So an input
 * behaves the same whatever ran before it, and a crash input reproduces
 * alone. Sequences (submit, then receipt create, update, retrieve) are a
 * batch in one input. The directory is
 * $TMPDIR/tcw-fuzz-gateway-XXXXXX (TMPDIR unset: /tmp), removed at a normal
 * exit; a crash leaves it for a look at the store.
 *
 * No workers are reachable: the gateway has no --worker of its own and no
 * event loop, so orders stay queued.
 *
 * Deferred answers: the calls are made with a NULL token, which makes them
 * non-deferrable (rpc_defer refuses, as it does for a batch's calls), so
 * WorkOrderSubmit commits synchronously and WorkOrderGetResult answers at
 * once instead of long-polling. The handlers' replies are built by the same
 * code either way; the deferred variant only changes when the loop sends
 * them. A deferral seen here would be a reply nobody can ever send, so it
 * fails the input.
 *
 * What must hold for every input: gw_rpc returns one reply, which is UTF-8
 * and one JSON object or, for a batch, an array of objects; each has
 * "jsonrpc":"2.0", an "id" and exactly one of "result" / "error"; an error
 * has an integer code from rpc.h's fixed set, a non-empty message and no
 * data but {"workOrderId"}. Which reply, exactly (the harness reads the
 * body as the front must): the parse error with id null for a body that is
 * not one UTF-8 strict JSON text; the invalid request error for an empty or
 * oversized batch; otherwise one reply per request that is not a
 * notification (none at all: the empty text), in order, each with the
 * request's id when that may be echoed, else null. No crash, leak or
 * undefined behaviour (ASan, LSan, UBSan).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "gateway.h"
#include "internal.h"
#include "log.h"
#include "rpc.h"
#include "store_sql.h"
#include "tcw/eea.h"

/* The fixed worker's id: the workerId the request vectors of
 * tests/data/workorders.json name (a gateway derives it from the name of
 * its --worker, so any id is one a gateway could have). */
#define SIGNUP_WORKER "6beafc7f045eef7a93d80ffe02b4cb98aeb7cc18609e369acdd4a3fd670dbad4"
/* The requester of the request vectors. */
#define REQUESTER "6ed09c4ca08fa7b1716e9706caf74e6623b26b13c50a925c2919f924cb5fc481"
/* Final orders of the template store: one done with the worker's result of
 * the response vector hello_result (its workOrderId), one failed. Both
 * were stored with the request hash 32 bytes of 0xd0. */
#define DONE_ORDER "43d930dd073379dcecfd040377ec0221940ba2e28213472822fc3bea9e71ccbd"
#define FAILED_ORDER "fa11edfa11edfa11edfa11edfa11edfa11edfa11edfa11edfa11edfa11edfa11"
#define FINAL_RH_B64 "0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NA="
/* The admin-registered worker of the template store. */
#define ADMIN_WORKER "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"

static struct gw g_gw;
static struct gw_config g_cfg;
static char g_dir[512], g_db[600], g_url[640];
static uint8_t *g_template;
static size_t g_template_size;

/* Removes the database files of path (the database, its WAL, shm and lock). */
static void remove_db(const char *path)
{
	static const char *const suffix[] = {"", "-wal", "-shm", ".lock"};
	char p[700];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
}

/* atexit: the temporary directory goes. */
static void cleanup(void)
{
	if (g_gw.store)
		store_close(&g_gw.store);
	gw_results_free(&g_gw);
	if (g_dir[0]) {
		remove_db(g_db);
		rmdir(g_dir);
	}
	free(g_template);
}

/* Opens the store at g_url; exits on failure (set-up, not an input). */
static void open_store(void)
{
	char err[512] = "";

	if (store_open(g_url, g_gw.node, &g_gw.store, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_gateway: cannot open %s: %s\n", g_url, err);
		exit(2);
	}
	store_set_callbacks(g_gw.store, gw_completion, NULL, &g_gw);
}

/* Stores the fixed worker as another gateway's --worker would. */
static void put_signup_worker(void)
{
	const struct tcw_keys *k = fz_keys();
	const char *signup = fz_processor()->signup_json;
	struct tcw_eea_quote_info q = {0};
	struct tcw_signup su = {0};
	struct tcw_error e = {0};
	struct store_worker sw = {0};
	char fp[65];
	json_object *rec = NULL;

	if (tcw_signup_parse(signup, strlen(signup), &su, &e) != 0 ||
	    tcw_eea_worker_record(&su, &q, "", WS_ACTIVE, &rec) != 0) {
		fprintf(stderr, "fuzz_gateway: cannot build the worker record\n");
		exit(2);
	}
	gw_key_fp(tcw_keys_verifying_pem(k), tcw_keys_encryption_pem(k), fp);
	sw.id = SIGNUP_WORKER;
	sw.name = "fixed";
	sw.record = (char *)json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
	sw.key_fp = fp;
	sw.owner = "worker";
	sw.status = WS_ACTIVE;
	if (store_put_worker(g_gw.store, &sw) != 0) {
		fprintf(stderr, "fuzz_gateway: cannot store the worker record\n");
		exit(2);
	}
	json_object_put(rec);
	tcw_signup_fini(&su);
}

/* Stores order id for the fixed worker and makes it final with result
 * (state ORDER_DONE or ORDER_FAILED), as a worker's reply would. */
static void put_final_order(const char *id, int state, const char *result)
{
	struct store_new_order o = {
	    .id = id,
	    .worker_id = SIGNUP_WORKER,
	    .requester_id = REQUESTER,
	    .request_hash = FINAL_RH_B64,
	    .request = "{}",
	    .request_len = 2,
	    .key_fp = "",
	    .now_ms = store_now_ms(),
	};
	int changed = 0;

	if (store_submit(g_gw.store, &o) != 0 ||
	    store_finish(g_gw.store, id, state, result, &changed) != 0 || !changed) {
		fprintf(stderr, "fuzz_gateway: cannot store the final order %s\n", id);
		exit(2);
	}
}

/* The done and the failed order of the template store. */
static void put_final_orders(void)
{
	json_object *v = json_object_from_file(TCW_FUZZ_DATA_DIR "/workorders.json"), *r = NULL;

	if (!v || !json_object_object_get_ex(v, "responses", &r) ||
	    !(r = json_object_array_get_idx(r, 0)) || !json_object_object_get_ex(r, "result", &r)) {
		fprintf(stderr, "fuzz_gateway: no response vector in workorders.json\n");
		exit(2);
	}
	put_final_order(DONE_ORDER, ORDER_DONE,
	                json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
	                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(v);
	put_final_order(FAILED_ORDER, ORDER_FAILED,
	                "{\"code\":2,\"message\":\"Invalid parameter: inData\",\"data\":"
	                "{\"workOrderId\":\"" FAILED_ORDER "\"}}");
}

/* Registers the admin worker through gw_rpc, as the admin socket would. */
static void register_admin_worker(void)
{
	static const char req[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"WorkerRegister\",\"params\":{\"workerId\":"
	    "\"" ADMIN_WORKER
	    "\",\"workerType\":1,\"organizationId\":\"0f0f0f0f\",\"applicationTypeId\":"
	    "[\"a1a1\",\"b2b2\"],\"details\":{\"workOrderSyncUri\":\"\"}}}";
	size_t len = 0;
	int deferred = 0;
	char *reply = gw_rpc(&g_gw, req, sizeof(req) - 1, 1, NULL, &len, &deferred);

	if (!reply || !strstr(reply, "Successfully Registered")) {
		fprintf(stderr, "fuzz_gateway: cannot register the admin worker: %s\n",
		        reply ? reply : "(none)");
		exit(2);
	}
	free(reply);
}

/* Reads the closed template database into g_template. */
static void keep_template(void)
{
	FILE *f = fopen(g_db, "rb");
	long n;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    !(g_template = malloc((size_t)n)) || fread(g_template, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "fuzz_gateway: cannot read the template database %s\n", g_db);
		exit(2);
	}
	g_template_size = (size_t)n;
	fclose(f);
}

/* Starts an input from the template state. */
static void fresh_store(void)
{
	int fd;

	remove_db(g_db);
	fd = open(g_db, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, g_template, g_template_size) != (ssize_t)g_template_size ||
	    close(fd) != 0) {
		fprintf(stderr, "fuzz_gateway: cannot write %s\n", g_db);
		exit(2);
	}
	open_store();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	fz_init();
	/* only the gateway's error lines (a store that fails) unless verbose */
	log_set_level(getenv("TCW_FUZZ_VERBOSE") ? TCW_LOG_DEBUG : TCW_LOG_ERROR);
	snprintf(g_dir, sizeof(g_dir), "%s/tcw-fuzz-gateway-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g_dir)) {
		fprintf(stderr, "fuzz_gateway: cannot create %s\n", g_dir);
		exit(2);
	}
	snprintf(g_db, sizeof(g_db), "%s/gw.db", g_dir);
	snprintf(g_url, sizeof(g_url), "sqlite:%s", g_db);
	atexit(cleanup);

	g_cfg.result_wait_ms = 30000; /* a long poll would be asked for, and refused */
	g_cfg.lease_ms = 30000;
	g_cfg.organization_id = "";
	g_gw.cfg = &g_cfg;
	snprintf(g_gw.node, sizeof(g_gw.node), "fuzz");
	g_gw.keys = (struct tcw_keys *)fz_keys();
	g_gw.receipt_pem = (char *)tcw_keys_verifying_pem(fz_keys());
	tcw_eea_worker_id(g_gw.receipt_pem, g_gw.updater_id);

	open_store();
	put_signup_worker();
	put_final_orders();
	register_admin_worker();
	store_close(&g_gw.store);
	keep_template();
	return 0;
}

/* The error codes a reply may carry (rpc.h). */
static int code_known(int64_t code)
{
	static const int known[] = {
	    RPC_SUCCESS,
	    RPC_UNKNOWN_ERROR,
	    RPC_INVALID_PARAMETER,
	    RPC_ACCESS_DENIED,
	    RPC_INVALID_SIGNATURE,
	    RPC_PENDING,
	    RPC_BUSY,
	    RPC_PARSE_ERROR,
	    RPC_INVALID_REQUEST,
	    RPC_METHOD_NOT_FOUND,
	    RPC_INVALID_PARAMS,
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (code == known[i])
			return 1;
	return 0;
}

/* One reply object of gw_rpc: the JSON-RPC 2.0 shape and a known error. */
static void check_one(json_object *r, const char *text)
{
	json_object *v = NULL, *code = NULL, *msg = NULL, *data = NULL, *woid = NULL;
	int has_result, has_error;

	if (!json_object_is_type(r, json_type_object))
		fz_fail("a reply member is not an object: %.200s", text);
	if (!json_object_object_get_ex(r, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0") != 0)
		fz_fail("reply without \"jsonrpc\":\"2.0\": %.200s", text);
	if (!json_object_object_get_ex(r, "id", &v))
		fz_fail("reply without an id: %.200s", text);
	if (v && !json_object_is_type(v, json_type_string) &&
	    !json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		fz_fail("reply id is not a string, a number or null: %.200s", text);
	has_result = json_object_object_get_ex(r, "result", NULL);
	has_error = json_object_object_get_ex(r, "error", &v);
	if (has_result == has_error)
		fz_fail("reply has %s of result and error: %.200s", has_result ? "both" : "neither",
		        text);
	if (json_object_object_length(r) != 3)
		fz_fail("reply with members besides jsonrpc, id and result/error: %.200s", text);
	if (!has_error)
		return;
	if (!json_object_is_type(v, json_type_object) ||
	    !json_object_object_get_ex(v, "code", &code) ||
	    !json_object_is_type(code, json_type_int) || !code_known(json_object_get_int64(code)))
		fz_fail("error without a known integer code: %.200s", text);
	if (!json_object_object_get_ex(v, "message", &msg) ||
	    !json_object_is_type(msg, json_type_string) || json_object_get_string_len(msg) == 0)
		fz_fail("error without a message: %.200s", text);
	if (json_object_object_get_ex(v, "data", &data) &&
	    (!json_object_is_type(data, json_type_object) ||
	     !json_object_object_get_ex(data, "workOrderId", &woid) ||
	     !json_object_is_type(woid, json_type_string)))
		fz_fail("error data is not {\"workOrderId\": string}: %.200s", text);
}

/* The body as the JSON-RPC front must read it: valid UTF-8 without NUL,
 * one strict JSON text of depth <= 64, then only whitespace. NULL when it
 * is not one (the reply must then be the parse error). */
static json_object *parse_body(const char *body, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	json_object *o = NULL;
	size_t end;

	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	if (len <= 0x7fffffff && !memchr(body, '\0', len) &&
	    tcwi_utf8_valid((const uint8_t *)body, len))
		o = json_tokener_parse_ex(tok, body, (int)len);
	if (o && json_tokener_get_error(tok) != json_tokener_success) {
		end = json_tokener_get_parse_end(tok);
		if (strspn(body + end, " \t\r\n") != len - end) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	return o;
}

/* 1 when req is a well-formed notification (JSON-RPC 2.0, 4.1: no "id"),
 * which gets no reply. */
static int is_notification(json_object *req)
{
	json_object *v = NULL;

	if (!json_object_is_type(req, json_type_object) ||
	    json_object_object_get_ex(req, "id", NULL) ||
	    !json_object_object_get_ex(req, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), "2.0") ||
	    !json_object_object_get_ex(req, "method", &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	return !json_object_object_get_ex(req, "params", &v) || !v ||
	       json_object_is_type(v, json_type_object);
}

/* The id the reply to req must carry: req's own when it may be echoed
 * (a string, a number or null), else null. Borrowed; NULL = null. */
static json_object *expected_id(json_object *req)
{
	json_object *id = NULL;

	if (!json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "id", &id) || !id)
		return NULL;
	return json_object_is_type(id, json_type_string) ||
	               json_object_is_type(id, json_type_int) ||
	               json_object_is_type(id, json_type_double)
	           ? id
	           : NULL;
}

/* The reply object r carries the id want (NULL = null). */
static void check_id(json_object *r, json_object *want, const char *text)
{
	json_object *got = NULL;

	json_object_object_get_ex(r, "id", &got);
	if (!json_object_equal(want, got))
		fz_fail("reply id is not the request's: %.200s", text);
}

/* reply is exactly the JSON-RPC error code with id null. */
static void check_bare_error(json_object *root, int code, const char *text)
{
	json_object *e = NULL, *c = NULL;

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "error", &e) ||
	    !json_object_object_get_ex(e, "code", &c) || json_object_get_int(c) != code)
		fz_fail("expected error %d: %.200s", code, text);
	check_id(root, NULL, text);
}

/* Checks a whole reply of gw_rpc to body: its shape (check_one), and that
 * it answers exactly the requests that call for an answer, in order. */
static void check_reply(const char *body, size_t body_len, const char *reply, size_t len)
{
	struct json_tokener *tok;
	json_object *root = NULL, *req;
	size_t n = 0, want = 0, k = 0;

	if (strlen(reply) != len)
		fz_fail("reply length %zu, text length %zu", len, strlen(reply));
	if (getenv("TCW_FUZZ_VERBOSE"))
		fprintf(stderr, "reply: %.4000s\n", reply);
	req = parse_body(body, body_len);
	if (req && json_object_is_type(req, json_type_array)) {
		n = json_object_array_length(req);
		for (size_t i = 0; i < n; i++)
			want += !is_notification(json_object_array_get_idx(req, i));
	} else if (req) {
		want = !is_notification(req);
	} else {
		want = 1;
	}
	if (len == 0) {
		/* nothing to send: only for notifications, alone or a whole batch */
		if (!req || want ||
		    (json_object_is_type(req, json_type_array) && (n == 0 || n > RPC_MAX_BATCH)))
			fz_fail("no reply to a request that calls for one");
		goto out;
	}
	if (!tcwi_utf8_valid((const uint8_t *)reply, len))
		fz_fail("reply is not UTF-8");
	tok = json_tokener_new();
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, reply, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len)
		fz_fail("reply is not one JSON text: %.200s", reply);
	json_tokener_free(tok);
	if (!req) {
		check_bare_error(root, RPC_PARSE_ERROR, reply);
	} else if (!json_object_is_type(req, json_type_array)) {
		if (!want)
			fz_fail("a reply to a notification: %.200s", reply);
		check_one(root, reply);
		check_id(root, expected_id(req), reply);
	} else if (n == 0 || n > RPC_MAX_BATCH) {
		check_bare_error(root, RPC_INVALID_REQUEST, reply);
	} else {
		/* one reply per request that is not a notification, in order */
		if (!json_object_is_type(root, json_type_array) ||
		    json_object_array_length(root) != want)
			fz_fail("a batch of %zu requests (%zu to answer) got %.200s", n, want,
			        reply);
		for (size_t i = 0; i < n; i++) {
			json_object *m = json_object_array_get_idx(req, i), *r;

			if (is_notification(m))
				continue;
			r = json_object_array_get_idx(root, k++);
			check_one(r, reply);
			check_id(r, expected_id(m), reply);
		}
	}
	if (json_object_is_type(root, json_type_object))
		check_one(root, reply);
out:
	json_object_put(req);
	json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	int admin = size > 0 && data[0] == '@', deferred = 0;
	size_t len = 0;
	char *reply;

	if (admin) {
		body++;
		size--;
	}
	fresh_store();
	reply = gw_rpc(&g_gw, body, size, admin, NULL, &len, &deferred);
	if (deferred || !reply)
		fz_fail("gw_rpc %s", deferred ? "deferred a call it was given no token for"
		                              : "returned no reply");
	check_reply(body, size, reply, len);
	free(reply);
	store_close(&g_gw.store);
	gw_results_free(&g_gw);
	return 0;
}
