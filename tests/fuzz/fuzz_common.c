/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_common.c - fixed keys, the harness runner and plugins, reply invariants (fuzz_common.h). */
#include "fuzz_common.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifndef TCW_FUZZ_DATA_DIR
#error "TCW_FUZZ_DATA_DIR must name tests/data"
#endif
#ifndef TCW_FUZZ_PLUGIN_DIR
#error "TCW_FUZZ_PLUGIN_DIR must name the build's workloads directory"
#endif

/* A loaded workload plugin. */
struct plugin {
	const char *name;   /* workload name it answers to */
	const char *file;   /* file name in TCW_FUZZ_PLUGIN_DIR */
	const char *config; /* JSON handed to init() */
	const struct tcw_workload_desc *desc;
	void *state;
};

static struct plugin g_plugins[] = {
    {.name = "python-hello", .file = "hello.so", .config = "{}"},
    {.name = "python-fib", .file = "fib.so", .config = "{\"max_n\": 2000}"},
};

static struct tcw_keys *g_keys;
static uint8_t g_requester_sk[TCW_ECDSA_SECKEY_SIZE];
static char *g_signup;
static struct tcw_processor g_proc;
static const char *g_log_needle;
static char g_log_needle_upper[256];

/* Prints why an invariant failed and aborts (see fuzz_common.h). */
void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz invariant failed: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Init-time host table: plugins may only log while they initialise. */
static void init_log(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static const struct tcw_host g_init_host = {
    .size = sizeof(struct tcw_host),
    .version = TCW_WORKLOAD_ABI_VERSION,
    .log = init_log,
};

/* dlopens one plugin and runs its init(); exits on failure. */
static void plugin_load(struct plugin *pl)
{
	char path[1024], err[256] = "";
	tcw_workload_entry_fn entry = NULL;
	void *h, *sym;

	snprintf(path, sizeof(path), "%s/%s", TCW_FUZZ_PLUGIN_DIR, pl->file);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "fuzz: cannot load %s: %s\n", path, dlerror());
		exit(2);
	}
	sym = dlsym(h, TCW_WORKLOAD_ENTRY);
	if (sym)
		memcpy(&entry, &sym, sizeof(entry));
	pl->desc = entry ? entry() : NULL;
	if (!pl->desc || pl->desc->abi_version != TCW_WORKLOAD_ABI_VERSION || !pl->desc->init ||
	    !pl->desc->execute ||
	    pl->desc->init(&g_init_host, pl->config, &pl->state, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz: plugin %s does not initialise: %s\n", path, err);
		exit(2);
	}
}

/* The harness workloads (fuzz_common.h), then the plugins. */
static int fz_run(void *ctx, const char *name, const struct tcw_host *host,
                  struct tcw_wl_call *call)
{
	(void)ctx;
	if (strcmp(name, "echo") == 0) {
		for (size_t i = 0; i < call->input_count; i++)
			if (host->output_add(call, call->inputs[i].data, call->inputs[i].size) != 0)
				return TCW_ERR_WORKLOAD;
		return TCW_OK;
	}
	if (strcmp(name, "concat") == 0) {
		size_t total = 0, pos = 0;
		uint8_t *out;

		for (size_t i = 0; i < call->input_count; i++)
			total += call->inputs[i].size;
		out = host->output_alloc(call, total);
		if (!out)
			return TCW_ERR_WORKLOAD;
		for (size_t i = 0; i < call->input_count; i++) {
			if (call->inputs[i].size)
				memcpy(out + pos, call->inputs[i].data, call->inputs[i].size);
			pos += call->inputs[i].size;
		}
		return TCW_OK;
	}
	if (strcmp(name, "none") == 0)
		return TCW_OK;
	for (size_t i = 0; i < sizeof(g_plugins) / sizeof(g_plugins[0]); i++)
		if (strcmp(name, g_plugins[i].name) == 0)
			return g_plugins[i].desc->execute(g_plugins[i].state, host, call) == 0
			           ? TCW_OK
			           : TCW_ERR_WORKLOAD;
	return TCW_ERR_WORKLOAD;
}

/* String member key of obj, or exit: keys.json is part of the tree. */
static const char *keys_str(json_object *obj, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string)) {
		fprintf(stderr, "fuzz: keys.json has no %s\n", key);
		exit(2);
	}
	return json_object_get_string(v);
}

/* Loads keys, plugins and signup once (see fuzz_common.h). */
void fz_init(void)
{
	uint8_t sk[TCW_ECDSA_SECKEY_SIZE];
	json_object *keys;
	const char *hex;

	if (g_keys)
		return;
	keys = json_object_from_file(TCW_FUZZ_DATA_DIR "/keys.json");
	if (!keys) {
		fprintf(stderr, "fuzz: cannot read %s/keys.json\n", TCW_FUZZ_DATA_DIR);
		exit(2);
	}
	hex = keys_str(keys, "worker_ecdsa_private_hex");
	if (tcw_hex_decode_exact(hex, strlen(hex), sk, sizeof(sk)) != TCW_OK ||
	    tcw_keys_from_pem(keys_str(keys, "worker_rsa_private_pem"), sk, &g_keys) != TCW_OK) {
		fprintf(stderr, "fuzz: cannot build the worker keys\n");
		exit(2);
	}
	hex = keys_str(keys, "requester_ecdsa_private_hex");
	if (tcw_hex_decode_exact(hex, strlen(hex), g_requester_sk, sizeof(g_requester_sk)) !=
	    TCW_OK) {
		fprintf(stderr, "fuzz: bad requester key\n");
		exit(2);
	}
	json_object_put(keys);
	tcw_wipe(sk, sizeof(sk));
	for (size_t i = 0; i < sizeof(g_plugins) / sizeof(g_plugins[0]); i++)
		plugin_load(&g_plugins[i]);
	g_signup = tcw_signup_build(g_keys, NULL, NULL);
	if (!g_signup) {
		fprintf(stderr, "fuzz: cannot build the signup reply\n");
		exit(2);
	}
	g_proc = (struct tcw_processor){
	    .keys = g_keys,
	    .runner = {.run = fz_run},
	    .signup_json = g_signup,
	};
}

/* The fixed worker keys (see fuzz_common.h). */
const struct tcw_keys *fz_keys(void)
{
	return g_keys;
}

/* The processor every harness drives (see fuzz_common.h). */
const struct tcw_processor *fz_processor(void)
{
	return &g_proc;
}

/* The requester's fixed secp256k1 secret key (see fuzz_common.h). */
const uint8_t *fz_requester_seckey(void)
{
	return g_requester_sk;
}

/* String member key of obj (borrowed), or fails the invariant. */
static const char *need_str(json_object *obj, const char *key, const char *what)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		fz_fail("%s: member %s missing or not a string", what, key);
	return json_object_get_string(v);
}

/* error.message is a fixed text, optionally ": <field>", matching code. */
static void check_error(json_object *err)
{
	json_object *code = NULL;
	const char *msg;
	int c;

	if (!json_object_is_type(err, json_type_object) ||
	    !json_object_object_get_ex(err, "code", &code) ||
	    !json_object_is_type(code, json_type_int))
		fz_fail("error reply without an integer code");
	c = json_object_get_int(code);
	msg = need_str(err, "message", "error");
	for (int e = -1; e >= -64; e--) { /* every error, and room for new ones */
		const char *fixed = tcw_strerror(e);
		size_t n = strlen(fixed);

		if (strncmp(msg, fixed, n) != 0 || (msg[n] && (msg[n] != ':' || msg[n + 1] != ' ')))
			continue;
		if (tcw_err_wire_code(e) != c)
			fz_fail("error '%s' with code %d", msg, c);
		return;
	}
	fz_fail("error message '%s' is not a fixed text", msg);
}

/* The workerSignature of a result verifies over WH of its own fields. */
static void check_result(json_object *res)
{
	struct tcw_item_text items[TCWI_MAX_ITEMS];
	json_object *arr = NULL;
	uint8_t wh[TCW_SHA256_SIZE], *der = NULL;
	const char *sig;
	size_t n, der_size = 0;

	if (!json_object_is_type(res, json_type_object) ||
	    !json_object_object_get_ex(res, "outData", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		fz_fail("result without an outData array");
	n = json_object_array_length(arr);
	if (n == 0 || n > TCW_WL_MAX_OUTPUTS)
		fz_fail("result with %zu outData items", n);
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(arr, i), *idx = NULL;

		if (!json_object_object_get_ex(it, "index", &idx) ||
		    !json_object_is_type(idx, json_type_int))
			fz_fail("outData[%zu] without an integer index", i);
		items[i] = (struct tcw_item_text){
		    .index = json_object_get_int64(idx),
		    .data = need_str(it, "data", "outData item"),
		    .dek = need_str(it, "encryptedDataEncryptionKey", "outData item"),
		    .iv = need_str(it, "iv", "outData item"),
		};
	}
	if (tcw_response_hash(
	        need_str(res, "workerNonce", "result"), need_str(res, "workOrderId", "result"),
	        need_str(res, "workerId", "result"), need_str(res, "workloadId", "result"),
	        need_str(res, "requesterId", "result"), items, n, wh) != TCW_OK)
		fz_fail("cannot hash a result");
	sig = need_str(res, "workerSignature", "result");
	if (tcw_b64_decode(sig, strlen(sig), &der, &der_size) != TCW_OK ||
	    tcw_ecdsa_verify_pem(tcw_keys_verifying_pem(g_keys), wh, der, der_size) != TCW_OK)
		fz_fail("workerSignature does not verify");
	free(der);
}

/* Checks what every reply must satisfy (see fuzz_common.h). */
json_object *fz_check_reply(const char *reply, size_t size)
{
	struct json_tokener *tok;
	json_object *root, *v = NULL;

	if (!reply || size == 0 || strlen(reply) != size)
		fz_fail("empty reply or a NUL inside it");
	if (getenv("TCW_FUZZ_VERBOSE"))
		fprintf(stderr, "reply: %.300s\n", reply);
	if (!tcwi_utf8_valid((const uint8_t *)reply, size))
		fz_fail("reply is not UTF-8");
	tok = json_tokener_new();
	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, reply, (int)size);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != size || !json_object_is_type(root, json_type_object))
		fz_fail("reply is not one JSON object: %.200s", reply);
	json_tokener_free(tok);
	if (json_object_object_get_ex(root, "verifying_key", NULL)) {
		if (strcmp(reply, g_signup) != 0)
			fz_fail("signup reply differs from the signup object");
		return root;
	}
	if (strcmp(need_str(root, "jsonrpc", "reply"), "2.0") != 0 ||
	    !json_object_object_get_ex(root, "id", NULL))
		fz_fail("reply without jsonrpc 2.0 and an id");
	if (json_object_object_get_ex(root, "error", &v))
		check_error(v);
	else if (json_object_object_get_ex(root, "result", &v))
		check_result(v);
	else
		fz_fail("reply is neither a result nor an error");
	return root;
}

/* Wire code of a parsed error reply, or 0 (see fuzz_common.h). */
int fz_error_code(json_object *root)
{
	json_object *err = NULL, *code = NULL;

	if (!json_object_object_get_ex(root, "error", &err) ||
	    !json_object_object_get_ex(err, "code", &code))
		return 0;
	return json_object_get_int(code);
}

/* Message of a parsed error reply (see fuzz_common.h). */
const char *fz_error_message(json_object *root)
{
	json_object *err = NULL, *msg = NULL;

	if (!json_object_object_get_ex(root, "error", &err) ||
	    !json_object_object_get_ex(err, "message", &msg))
		return "";
	return json_object_get_string(msg);
}

/* Fails when a library log line carries the forbidden secret. */
static void log_guard(int level, const char *message)
{
	(void)level;
	if (g_log_needle && message &&
	    (strstr(message, g_log_needle) || strstr(message, g_log_needle_upper)))
		fz_fail("a log line carries a secret: %s", message);
}

/* Installs the secret-in-log guard (see fuzz_common.h). */
void fz_forbid_in_logs(const char *needle)
{
	size_t i = 0;

	g_log_needle = needle;
	if (needle) {
		for (; needle[i] && i < sizeof(g_log_needle_upper) - 1; i++)
			g_log_needle_upper[i] =
			    (char)(needle[i] >= 'a' && needle[i] <= 'z' ? needle[i] - 'a' + 'A'
			                                                : needle[i]);
	}
	g_log_needle_upper[i] = '\0';
	tcw_set_log_handler(log_guard);
}
