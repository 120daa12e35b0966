/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bound.c - tcw_bound: measures, on this machine, the crypto bound of a work
 * order (what the protocol itself demands, per core) and the time the
 * library's tcw_process_frame takes for the same order, with the worker's
 * default replay hooks (every order accepted, its reply kept), split into
 * its stages (tcw_processor.stage_times).
 * Prints one JSON object for bench/report.py.
 *
 * Usage: tcw_bound RSA_BITS SIZE...   (input sizes in bytes, e.g. 16 1048576)
 *
 * Every figure is CPU time of this thread (CLOCK_THREAD_CPUTIME_ID), the
 * fastest of several rounds, so other load on the machine slows the
 * measurement down, not the result.
 */
#include <json-c/json.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "tcw/tcw.h"

/* Each figure is the fastest of ROUNDS rounds of at least ROUND_S seconds of
 * CPU time: a core shared with other work (a hypervisor, a sibling thread)
 * only ever makes a round slower. */
#define ROUNDS 5
#define ROUND_S 0.06
#define HELLO "Hello "

/* CPU time of this thread, seconds. */
static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds per call of fn(arg): the fastest of ROUNDS rounds. */
static double measure(void (*fn)(void *), void *arg)
{
	double best = 0, start, now;
	long n;

	fn(arg); /* warm caches and lazy tables */
	for (int r = 0; r < ROUNDS; r++) {
		n = 0;
		start = cpu_now();
		do {
			fn(arg);
			n++;
			now = cpu_now();
		} while (now - start < ROUND_S);
		if (r == 0 || (now - start) / (double)n < best)
			best = (now - start) / (double)n;
	}
	return best;
}

static void die(const char *what)
{
	fprintf(stderr, "tcw_bound: %s\n", what);
	exit(1);
}

/* ---- the operations ------------------------------------------------------ */

struct op {
	const struct tcw_keys *keys;
	const uint8_t *in; /* input of the operation */
	size_t size;
	uint8_t *out;     /* scratch output, large enough */
	const char *text; /* text input (base64, JSON) */
	size_t text_len;
	const struct tcw_processor *proc;
};

static void op_rsa(void *a)
{
	struct op *o = a;
	uint8_t key[TCW_AES_KEY_SIZE];
	size_t n;

	if (tcw_keys_rsa_decrypt(o->keys, o->in, o->size, key, sizeof(key), &n) != 0)
		die("RSA decryption failed");
}

static void op_sign(void *a)
{
	struct op *o = a;
	uint8_t der[TCW_ECDSA_DER_MAX];
	size_t n;

	if (tcw_keys_sign(o->keys, o->in, der, &n) != 0)
		die("signing failed");
}

static void op_b64_decode(void *a)
{
	struct op *o = a;
	uint8_t *buf;
	size_t n;

	if (tcw_b64_decode(o->text, o->text_len, &buf, &n) != 0)
		die("base64 decode failed");
	free(buf);
}

static void op_b64_encode(void *a)
{
	struct op *o = a;

	free(tcw_b64_encode(o->in, o->size, NULL));
}

static void op_gcm_decrypt(void *a)
{
	struct op *o = a;
	static const uint8_t key[TCW_AES_KEY_SIZE], iv[TCW_GCM_IV_SIZE];

	if (tcw_aes_gcm_decrypt(key, iv, o->in, o->size, o->out) != 0)
		die("AES-GCM decryption failed");
}

static void op_gcm_encrypt(void *a)
{
	struct op *o = a;
	static const uint8_t key[TCW_AES_KEY_SIZE], iv[TCW_GCM_IV_SIZE];

	tcw_aes_gcm_encrypt(key, iv, o->in, o->size, o->out);
}

static void op_sha(void *a)
{
	struct op *o = a;
	uint8_t h[TCW_SHA256_SIZE];

	tcw_sha256(o->text, o->text_len, h);
}

static void op_process(void *a)
{
	struct op *o = a;
	char *reply = NULL;
	size_t n = 0;

	if (tcw_process_frame(o->proc, o->text, o->text_len, &reply, &n) != 0 ||
	    strstr(reply, "\"error\"") != NULL)
		die("tcw_process_frame did not return a result");
	free(reply);
}

/* The worker's replay hooks, without their bookkeeping: every order is
 * new, none is kept (the worker's response store keeps the reply buffer
 * itself, shared with the sender, so keeping costs no copy). */
static int hook_seen(void *ctx, const char *id, size_t len)
{
	(void)ctx, (void)id, (void)len;
	return TCW_OK;
}

static int hook_stored(void *ctx, const char *id, size_t len, const uint8_t request[32],
                       char **reply, size_t *size)
{
	(void)ctx, (void)id, (void)len, (void)request, (void)reply, (void)size;
	return 1;
}

static void hook_store(void *ctx, const char *id, size_t len, const uint8_t request[32],
                       const char *reply, size_t size)
{
	(void)ctx, (void)id, (void)len, (void)request, (void)reply, (void)size;
}

static const char *const g_stage_names[TCW_STAGE_COUNT] = {
    "parse", "keep", "unwrap", "request_hash", "verify", "decrypt",
    "workload", "seal", "response_hash", "sign", "write",
};

/* The stages of tcw_process_frame for the order in o: CPU time per order
 * of each, averaged over enough runs, and the whole (the rest is what no
 * stage holds: freeing, wiping, error paths). */
static void measure_stages(struct op *o, json_object *r)
{
	struct tcw_stage_times times = {{0}};
	struct tcw_processor proc = *o->proc;
	struct op staged = *o;
	json_object *st = json_object_new_object();
	double start, total, sum = 0;
	long n = 0;

	proc.stage_times = &times;
	staged.proc = &proc;
	op_process(&staged); /* warm */
	memset(&times, 0, sizeof(times));
	start = cpu_now();
	do {
		op_process(&staged);
		n++;
	} while (cpu_now() - start < ROUNDS * ROUND_S);
	total = (cpu_now() - start) / (double)n;
	for (int i = 0; i < TCW_STAGE_COUNT; i++) {
		json_object_object_add(st, g_stage_names[i],
		                       json_object_new_double(times.seconds[i] / (double)n));
		sum += times.seconds[i] / (double)n;
	}
	json_object_object_add(st, "other", json_object_new_double(total - sum));
	json_object_object_add(r, "stages", st);
	json_object_object_add(r, "staged_process_s", json_object_new_double(total));
}

/* The hello workload, in process. */
static int run_hello(void *ctx, const char *name, const struct tcw_host *host,
                     struct tcw_wl_call *call)
{
	const struct tcw_wl_input *in = &call->inputs[0];
	uint8_t *out = host->output_alloc(call, sizeof(HELLO) - 1 + in->size);

	(void)ctx;
	(void)name;
	if (out == NULL)
		return TCW_ERR_WORKLOAD;
	memcpy(out, HELLO, sizeof(HELLO) - 1);
	memcpy(out + sizeof(HELLO) - 1, in->data, in->size);
	return TCW_OK;
}

/* ---- per size -------------------------------------------------------------- */

/* Measures the per-byte work and the processor for one input size and adds
 * the figures to res. */
static void measure_size(const struct tcw_keys *keys, size_t size, double rsa, double sign,
                         json_object *res)
{
	struct tcw_processor proc = {.keys = keys,
	                             .runner = {run_hello, NULL},
	                             .signup_json = "{}",
	                             .seen = hook_seen,
	                             .stored_reply = hook_stored,
	                             .store_reply = hook_store};
	size_t out_size = sizeof(HELLO) - 1 + size, ct_len, out_ct_len;
	uint8_t *plain = malloc(out_size + 1), *ct = malloc(out_size + 64), *scratch;
	char *in_b64, *out_b64;
	struct tcw_wl_input wi = {0, plain, size};
	struct tcw_order *order = NULL;
	struct op o = {.keys = keys, .proc = &proc};
	double t_b64d, t_gcmd, t_gcme, t_b64e, t_sha_in, t_sha_out, t_proc, crypto, hash;
	json_object *r = json_object_new_object();
	size_t req_len;

	scratch = malloc(out_size + 64);
	if (!plain || !ct || !scratch || !r)
		die("out of memory");
	for (size_t i = 0; i < out_size; i++)
		plain[i] = (uint8_t)('a' + i % 26);
	/* the request side: data = b64(AES-GCM(input)), the response side the same of "Hello " +
	 * input */
	tcw_aes_gcm_encrypt((const uint8_t[32]){0}, (const uint8_t[12]){0}, plain, size, ct);
	ct_len = size + TCW_GCM_TAG_SIZE;
	in_b64 = tcw_b64_encode(ct, ct_len, NULL);
	out_ct_len = out_size + TCW_GCM_TAG_SIZE;
	out_b64 = tcw_b64_encode(ct, out_ct_len, NULL);
	if (!in_b64 || !out_b64)
		die("out of memory");
	o.text = in_b64, o.text_len = strlen(in_b64);
	t_b64d = measure(op_b64_decode, &o);
	t_sha_in = measure(op_sha, &o);
	o.text = out_b64, o.text_len = strlen(out_b64);
	t_sha_out = measure(op_sha, &o);
	o.in = ct, o.size = ct_len, o.out = scratch;
	t_gcmd = measure(op_gcm_decrypt, &o);
	o.in = plain, o.size = out_size, o.out = scratch;
	t_gcme = measure(op_gcm_encrypt, &o);
	o.in = ct, o.size = out_ct_len;
	t_b64e = measure(op_b64_encode, &o);
	/* a real order through the library */
	if (tcw_order_build(tcw_keys_encryption_pem(keys), "hello", &wi, 1, NULL, &order) != 0)
		die("cannot build an order");
	o.text = tcw_order_request(order, &req_len), o.text_len = req_len;
	t_proc = measure(op_process, &o);
	measure_stages(&o, r);
	crypto = rsa + sign + t_b64d + t_gcmd + t_gcme + t_b64e;
	hash = t_sha_in + t_sha_out;
	json_object_object_add(r, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(r, "request_bytes", json_object_new_int64((int64_t)req_len));
	json_object_object_add(r, "b64_decode_s", json_object_new_double(t_b64d));
	json_object_object_add(r, "gcm_decrypt_s", json_object_new_double(t_gcmd));
	json_object_object_add(r, "gcm_encrypt_s", json_object_new_double(t_gcme));
	json_object_object_add(r, "b64_encode_s", json_object_new_double(t_b64e));
	json_object_object_add(r, "sha_request_s", json_object_new_double(t_sha_in));
	json_object_object_add(r, "sha_response_s", json_object_new_double(t_sha_out));
	json_object_object_add(r, "bound_s", json_object_new_double(crypto + hash));
	json_object_object_add(r, "process_s", json_object_new_double(t_proc));
	json_object_object_add(r, "crypto_s", json_object_new_double(crypto));
	json_object_object_add(r, "hash_s", json_object_new_double(hash));
	json_object_array_add(res, r);
	tcw_order_free(&order);
	free(in_b64);
	free(out_b64);
	free(plain);
	free(ct);
	free(scratch);
}

int main(int argc, char **argv)
{
	json_object *root = json_object_new_object(), *sizes = json_object_new_array();
	struct tcw_keys *keys = NULL;
	uint8_t session[TCW_AES_KEY_SIZE] = {1}, digest[TCW_SHA256_SIZE] = {2}, *esk = NULL;
	size_t esk_size = 0;
	struct op o = {0};
	double rsa, sign;
	long bits;

	if (argc < 3)
		die("usage: tcw_bound RSA_BITS SIZE...");
	/* the worker's malloc settings (worker/server.c) */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	bits = strtol(argv[1], NULL, 10);
	if (tcw_keys_generate((unsigned)bits, &keys) != 0)
		die("key generation failed");
	if (tcw_rsa_encrypt_pem(tcw_keys_encryption_pem(keys), session, sizeof(session), &esk,
	                        &esk_size) != 0)
		die("RSA encryption failed");
	o.keys = keys;
	o.in = esk, o.size = esk_size;
	rsa = measure(op_rsa, &o);
	o.in = digest;
	sign = measure(op_sign, &o);
	json_object_object_add(root, "rsa_bits", json_object_new_int64(bits));
	json_object_object_add(root, "cores", json_object_new_int64(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(root, "rsa_decrypt_s", json_object_new_double(rsa));
	json_object_object_add(root, "sign_s", json_object_new_double(sign));
	for (int i = 2; i < argc; i++)
		measure_size(keys, (size_t)strtoull(argv[i], NULL, 10), rsa, sign, sizes);
	json_object_object_add(root, "sizes", sizes);
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	free(esk);
	tcw_keys_free(&keys);
	return 0;
}
