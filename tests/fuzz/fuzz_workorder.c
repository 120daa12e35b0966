/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_workorder.c - libFuzzer target (b): the fuzzed bytes are the plaintext
 * fields and items of a WorkOrderSubmit; the harness encrypts, hashes and
 * signs the request itself with fixed keys (fuzz_seal.c), so every input
 * gets past the crypto into item decryption, key selection, the workload and
 * response building, and each reply is checked against what it must be.
 *
 * Input layout (segments are separated by the two bytes DE AD):
 *   byte 0     request flags (F_* in fuzz_workorder.h)
 *   byte 1     workload: low 3 bits pick echo, concat, none, fail,
 *              python-hello, python-fib, the name in segment 2, echo
 *   segment 0  workOrderId bytes (sent as hex), starting after the two bytes
 *   segment 1  requesterNonce bytes (sent as hex)
 *   segment 2  workload name (used only when byte 1 selects it)
 *   segment 3+ one data item each: [control] [index] [plaintext...]
 *              control bits 0-2 key mode (M_*), 0x08 outData template,
 *              0x10 correct dataHash, 0x20 wrong dataHash, 0x40 flip a bit of
 *              the ciphertext, 0x80 omit "data"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "fuzz_workorder.h"

/* Splits data at every DE AD into r->seg (at most FZ_MAX_SEGS). */
static void split(struct req *r, const uint8_t *data, size_t size)
{
	size_t start = 0;

	r->nseg = 0;
	for (size_t i = 0; i + 1 < size && r->nseg < FZ_MAX_SEGS - 1; i++) {
		if (data[i] == 0xde && data[i + 1] == 0xad) {
			r->seg[r->nseg++] = (struct seg){data + start, i - start};
			start = i + 2;
			i++;
		}
	}
	r->seg[r->nseg++] = (struct seg){data + start, size - start};
}

/* Parses segment s as item k: control byte, index byte, plaintext. */
static void parse_item(struct req *r, const struct seg *s, size_t k)
{
	struct fz_item *it = &r->items[r->nitems++];
	uint8_t ctl = s->size > 0 ? s->data[0] : 0;

	memset(it, 0, sizeof(*it));
	it->mode = (enum fz_mode)(ctl & 7u);
	it->out = !!(ctl & 0x08);
	it->hash_ok = !!(ctl & 0x10);
	it->hash_bad = !!(ctl & 0x20);
	it->tamper = !!(ctl & 0x40);
	it->no_data = !!(ctl & 0x80);
	it->index = s->size > 1 ? s->data[1] : (int64_t)k;
	it->plain = s->size > 2 ? s->data + 2 : (const uint8_t *)"";
	it->plain_size = s->size > 2 ? s->size - 2 : 0;
	if (it->out) {
		r->nout++;
		return;
	}
	r->nin++;
	if (it->no_data)
		it->plain_size = 0;
	if (it->hash_bad || (it->tamper && !it->no_data && it->mode != M_PLAIN))
		r->bad_items = 1;
}

/* Reads the flags, ids and items of an input into r. */
static void parse_input(struct req *r, const uint8_t *data, size_t size)
{
	static const char *const names[] = {"echo",         "concat",     "none", "fail",
	                                    "python-hello", "python-fib", NULL,   "echo"};

	r->flags = size > 0 ? data[0] : 0;
	r->wl = size > 1 ? data[1] & 7u : 0;
	split(r, size > 2 ? data + 2 : data, size > 2 ? size - 2 : 0);
	r->name = names[r->wl];
	if (!r->name) {
		size_t n = r->nseg > 2 ? r->seg[2].size : 0;

		if (n > sizeof(r->name_buf) - 1)
			n = sizeof(r->name_buf) - 1;
		if (n)
			memcpy(r->name_buf, r->seg[2].data, n);
		r->name_buf[n] = '\0';
		r->name = r->name_buf;
		r->any = 1;
	}
	for (size_t k = 3; k < r->nseg; k++)
		parse_item(r, &r->seg[k], k - 3);
	if (r->nin == 0 || r->nin > TCWI_MAX_ITEMS || r->nout > TCWI_MAX_ITEMS)
		r->any = 1;
	if (r->wl == 5)
		r->any = 1; /* fib rejects most texts */
	if (r->wl == 3 || (strcmp(r->name, "echo") == 0 && r->nin > TCW_WL_MAX_OUTPUTS))
		r->wl_fail = 1;
}

/* The hex id from segment segno (one zero byte when empty). */
static char *id_hex(struct req *r, size_t segno)
{
	const struct seg *s = segno < r->nseg ? &r->seg[segno] : NULL;
	char *hex = s && s->size ? fz_hex(r, s->data, s->size) : fz_hex(r, (const uint8_t *)"", 1);

	if (hex && strlen(hex) > TCWI_MAX_ID_HEX)
		r->any = 1;
	return hex;
}

/* The JSON of the item texts t (absent members left out). */
static json_object *item_json(const struct tcw_item_text *t)
{
	json_object *o = json_object_new_object();

	if (!o || tcwi_json_add(o, "index", json_object_new_int64(t->index)) < 0 ||
	    (t->data_hash &&
	     tcwi_json_add(o, "dataHash", json_object_new_string(t->data_hash)) < 0) ||
	    (t->data && tcwi_json_add(o, "data", json_object_new_string(t->data)) < 0) ||
	    (t->dek &&
	     tcwi_json_add(o, "encryptedDataEncryptionKey", json_object_new_string(t->dek)) < 0) ||
	    (t->iv && tcwi_json_add(o, "iv", json_object_new_string(t->iv)) < 0)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Adds the inData array and, with templates, the outData array to params. */
static int add_items(const struct req *r, json_object *params)
{
	json_object *arr[2] = {json_object_new_array(), json_object_new_array()};
	int ret = -1;

	if (!arr[0] || !arr[1])
		goto out;
	for (size_t i = 0; i < r->nitems; i++) {
		json_object *a = arr[r->items[i].out];

		if (json_object_array_add(a, item_json(&r->items[i].text)) < 0 ||
		    !json_object_array_get_idx(a, json_object_array_length(a) - 1))
			goto out;
	}
	ret = tcwi_json_add(params, "inData", arr[0]);
	arr[0] = NULL;
	if (ret == 0 && r->nout) {
		ret = tcwi_json_add(params, "outData", arr[1]);
		arr[1] = NULL;
	}
out:
	json_object_put(arr[0]);
	json_object_put(arr[1]);
	return ret;
}

/* Adds the string member key = value (a no-op for NULL value). */
static int add_str(json_object *o, const char *key, const char *value)
{
	return value ? tcwi_json_add(o, key, json_object_new_string(value)) : 0;
}

/* The WorkOrderSubmit params object of r, or NULL. */
static json_object *params_json(const struct req *r)
{
	const char *fmt = r->flags & F_FORMATS ? "json-rpc" : NULL;
	const char *alg = r->flags & F_FORMATS ? "aes-gcm-256" : NULL;
	json_object *p = json_object_new_object();

	if (!p || add_str(p, "workloadId", r->workload_hex) < 0 ||
	    add_str(p, "workOrderId", r->wo_id) < 0 || add_str(p, "workerId", FZ_WORKER_ID) < 0 ||
	    add_str(p, "requesterId", FZ_REQUESTER_ID) < 0 ||
	    add_str(p, "requesterNonce", r->nonce) < 0 ||
	    add_str(p, "sessionKeyIv", r->skiv_hex) < 0 ||
	    add_str(p, "encryptedSessionKey", r->esk_hex) < 0 ||
	    add_str(p, "encryptedRequestHash", r->erh_hex) < 0 ||
	    add_str(p, "requesterSignature", r->sig_b64) < 0 ||
	    add_str(p, "verifyingKey", r->vkey) < 0 || add_str(p, "payloadFormat", fmt) < 0 ||
	    add_str(p, "dataEncryptionAlgorithm", alg) < 0 || add_items(r, p) < 0) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

/* The complete ProcessWorkOrder frame of r into *frame (caller frees). */
static int build_frame(const struct req *r, char **frame, size_t *size)
{
	json_object *inner = json_object_new_object(), *outer = json_object_new_object();
	json_object *id =
	    r->flags & F_INT_ID ? json_object_new_int(7) : json_object_new_string("1");
	char *text = NULL;
	int ret = -1;

	if (!inner || !outer) {
		json_object_put(id);
		goto out;
	}
	if (tcwi_json_add(inner, "jsonrpc", json_object_new_string("2.0")) < 0 ||
	    tcwi_json_add(inner, "method", json_object_new_string("WorkOrderSubmit")) < 0 ||
	    tcwi_json_add(inner, "id", id) < 0 ||
	    tcwi_json_add(inner, "params", params_json(r)) < 0 ||
	    tcwi_json_dump(inner, &text, NULL) < 0)
		goto out;
	if (tcwi_json_add(outer, "jsonrpc", json_object_new_string("2.0")) == 0 &&
	    tcwi_json_add(outer, "id", json_object_new_int(1)) == 0 &&
	    tcwi_json_add(outer, "method", json_object_new_string("ProcessWorkOrder")) == 0 &&
	    tcwi_json_add(outer, "params", json_object_new_string(text)) == 0)
		ret = tcwi_json_dump(outer, frame, size);
out:
	free(text);
	json_object_put(inner);
	json_object_put(outer);
	return ret;
}

/* 1 when hay contains the lowercase hex needle in either case. */
static int contains_hex(const char *hay, const char *needle)
{
	size_t n = strlen(needle), len = strlen(hay);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Frees everything r owns. */
static void req_free(struct req *r)
{
	for (size_t i = 0; i < r->nitems; i++)
		fz_item_free(&r->items[i]);
	free(r->wo_id);
	free(r->nonce);
	free(r->workload_hex);
	free(r->skiv_hex);
	free(r->esk_hex);
	free(r->erh_hex);
	free(r->sig_b64);
	free(r);
}

/* Loads the fixed keys, plugins and requester keys once. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	fz_wo_init();
	return 0;
}

/* One input: build, encrypt and sign the request, run it, check the reply. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req *r = calloc(1, sizeof(*r));
	const char *key = fz_session_key_hex();
	char *frame = NULL, *reply = NULL;
	size_t frame_size = 0, reply_size = 0;
	json_object *root;

	if (!r)
		return 0;
	parse_input(r, data, size);
	r->wo_id = id_hex(r, 0);
	r->nonce = id_hex(r, 1);
	if (!r->wo_id || !r->nonce || fz_seal_request(r) < 0 ||
	    build_frame(r, &frame, &frame_size) < 0)
		fz_fail("cannot build the request");
	/* the session key must never reach a log line (the workOrderId may be
	 * logged, so an id that spells the key is exempt) */
	fz_forbid_in_logs(contains_hex(r->wo_id, key) ? NULL : key);
	if (tcw_process_frame(fz_processor(), frame, frame_size, &reply, &reply_size) != TCW_OK)
		fz_fail("tcw_process_frame failed");
	root = fz_check_reply(reply, reply_size);
	fz_check_expectation(r, root);
	json_object_put(root);
	free(reply);
	free(frame);
	req_free(r);
	return 0;
}
