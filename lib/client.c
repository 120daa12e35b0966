/* SPDX-License-Identifier: Apache-2.0 */
/* client.c - requester side: work orders as Avalon's test client builds them; reply checks. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"

#define DEFAULT_WORKER_NAME "graphene-hello"
#define RANDOM_ID_SIZE 32      /* bytes behind workOrderId, requesterId, requesterNonce */
#define OUTER_ID_RANGE 100001u /* outer id: random integer 0..100000 */

/* Lowercase hex of RANDOM_ID_SIZE fresh random bytes into *out. */
static int random_hex(char **out)
{
	uint8_t b[RANDOM_ID_SIZE];
	int ret = tcw_random_bytes(b, sizeof(b));

	*out = ret == TCW_OK ? tcw_hex_encode(b, sizeof(b)) : NULL;
	return ret < 0 ? ret : (*out ? TCW_OK : TCW_ERR_NOMEM);
}

/* Fresh key material, ids and the encrypted session key (hex) of o. */
static int order_ids(struct tcw_order *o, const char *pem, const char *name,
                     const struct tcw_order_options *opt, char **esk_hex)
{
	uint8_t h[TCW_SHA256_SIZE], *esk = NULL;
	size_t esk_size = 0;
	int ret;

	*esk_hex = NULL;
	if (opt && opt->session) {
		/* session reuse: the session's key, wrapped once */
		memcpy(o->key, opt->session->key, sizeof(o->key));
	} else if ((ret = tcw_random_bytes(o->key, sizeof(o->key))) < 0) {
		return ret;
	}
	if ((ret = tcw_random_bytes(o->iv, sizeof(o->iv))) < 0 ||
	    (ret = random_hex(&o->work_order_id)) < 0 || (ret = random_hex(&o->requester_id)) < 0 ||
	    (ret = random_hex(&o->nonce)) < 0)
		return ret;
	if (opt && opt->worker_id) {
		o->worker_id = strdup(opt->worker_id);
	} else {
		ret = tcw_sha256(DEFAULT_WORKER_NAME, strlen(DEFAULT_WORKER_NAME), h);
		if (ret < 0)
			return ret;
		o->worker_id = tcw_hex_encode(h, sizeof(h));
	}
	o->workload_id = tcw_hex_encode((const uint8_t *)name, strlen(name));
	if (!o->worker_id || !o->workload_id)
		return TCW_ERR_NOMEM;
	if (opt && opt->session) {
		*esk_hex = strdup(opt->session->esk_hex);
		return *esk_hex ? TCW_OK : TCW_ERR_NOMEM;
	}
	ret = tcw_rsa_encrypt_pem(pem, o->key, sizeof(o->key), &esk, &esk_size);
	if (ret < 0)
		return ret;
	*esk_hex = tcw_hex_encode(esk, esk_size);
	free(esk);
	return *esk_hex ? TCW_OK : TCW_ERR_NOMEM;
}

/* inData item i: {"index","dataHash":"","data","encryptedDataEncryptionKey":"null","iv":""}. */
static int in_item(const struct tcw_order *o, const struct tcw_wl_input *in, size_t i,
                   json_object *arr, struct tcw_item_text *t)
{
	json_object *item = json_object_new_object(), *v;
	uint8_t *ct = NULL;
	char *b64 = NULL;
	size_t len = 0;
	int ret = TCW_ERR_NOMEM;

	/* json-c string lengths are ints: keep the base64 text below INT_MAX */
	if (!item || (in->size && !in->data) || in->size > TCWI_CLIENT_MAX_INPUT) {
		ret = item ? TCW_ERR_INVALID_PARAM : ret;
		goto out;
	}
	ct = malloc(in->size + TCW_GCM_TAG_SIZE);
	if (!ct)
		goto out;
	ret = tcw_aes_gcm_encrypt(o->key, o->iv, in->data, in->size, ct);
	if (ret < 0)
		goto out;
	ret = TCW_ERR_NOMEM;
	b64 = tcw_b64_encode(ct, in->size + TCW_GCM_TAG_SIZE, &len);
	if (!b64 || tcwi_json_add(item, "index", json_object_new_int64((int64_t)i)) < 0 ||
	    tcwi_json_add(item, "dataHash", json_object_new_string("")) < 0 ||
	    tcwi_json_add(item, "data", json_object_new_string_len(b64, (int)len)) < 0 ||
	    tcwi_json_add(item, "encryptedDataEncryptionKey", json_object_new_string("null")) < 0 ||
	    tcwi_json_add(item, "iv", json_object_new_string("")) < 0)
		goto out;
	if (json_object_array_add(arr, item) < 0)
		goto out;
	item = NULL;
	/* the hashed texts, borrowed from the array now holding the item */
	v = json_object_array_get_idx(arr, i);
	*t = (struct tcw_item_text){
	    .index = (int64_t)i,
	    .data_hash = "",
	    .data = json_object_get_string(json_object_object_get(v, "data")),
	    .dek = "null",
	    .iv = "",
	};
	ret = TCW_OK;
out:
	free(b64);
	free(ct);
	json_object_put(item);
	return ret;
}

/* The inData items (and, nonce-safe, the outData templates) of o into in
 * and out, their hashed texts into tin / tout. */
static int order_items(struct tcw_order *o, const char *pem, const struct tcw_wl_input *inputs,
                       size_t count, const struct tcw_order_options *opt, json_object *in,
                       struct tcw_item_text *tin, json_object *out, struct tcw_item_text *tout)
{
	int ret = TCW_OK;

	int session = opt && opt->session;

	for (size_t i = 0; i < count && ret == TCW_OK; i++)
		ret = session ? tcwi_client_session_item(o, &inputs[i], i, in, &tin[i])
		      : opt && opt->nonce_safe
		          ? tcwi_client_dek_item(o, pem, &inputs[i], i, in, &tin[i])
		          : in_item(o, &inputs[i], i, in, &tin[i]);
	for (size_t j = 0; j < o->out_count && ret == TCW_OK; j++)
		ret = session ? tcwi_client_session_template(j, out, &tout[j])
		              : tcwi_client_template(o, pem, j, out, &tout[j]);
	return ret;
}

/* Adds the request fields of o in the reference client's order. */
static int add_fields(const struct tcw_order *o, json_object *params, const char *iv_hex,
                      const char *esk_hex)
{
	if (tcwi_json_add(params, "workloadId", json_object_new_string(o->workload_id)) < 0 ||
	    tcwi_json_add(params, "workOrderId", json_object_new_string(o->work_order_id)) < 0 ||
	    tcwi_json_add(params, "workerId", json_object_new_string(o->worker_id)) < 0 ||
	    tcwi_json_add(params, "requesterId", json_object_new_string(o->requester_id)) < 0 ||
	    tcwi_json_add(params, "requesterNonce", json_object_new_string(o->nonce)) < 0 ||
	    tcwi_json_add(params, "sessionKeyIv", json_object_new_string(iv_hex)) < 0 ||
	    tcwi_json_add(params, "encryptedSessionKey", json_object_new_string(esk_hex)) < 0)
		return TCW_ERR_NOMEM;
	return TCW_OK;
}

/* The inner WorkOrderSubmit params object of o into *out: the reference
 * client's fields, outData templates in nonce-safe mode, the signature. */
static int order_params(struct tcw_order *o, const char *pem, const char *esk_hex,
                        const struct tcw_wl_input *inputs, size_t count,
                        const struct tcw_order_options *opt, json_object **out)
{
	struct tcw_item_text tin[TCWI_MAX_ITEMS], tout[TCW_WL_MAX_OUTPUTS];
	uint8_t rh[TCW_SHA256_SIZE], erh[TCW_SHA256_SIZE + TCW_GCM_TAG_SIZE];
	json_object *params = json_object_new_object(), *in = json_object_new_array();
	json_object *tmpl = json_object_new_array();
	char *iv_hex = tcw_hex_encode(o->iv, sizeof(o->iv)), *erh_hex = NULL;
	int ret = TCW_ERR_NOMEM;

	*out = NULL;
	if (!params || !in || !tmpl || !iv_hex)
		goto out;
	ret = order_items(o, pem, inputs, count, opt, in, tin, tmpl, tout);
	if (ret == TCW_OK)
		ret = tcw_request_hash(o->nonce, o->work_order_id, o->worker_id, o->workload_id,
		                       o->requester_id, tin, count, tout, o->out_count, rh);
	if (ret == TCW_OK)
		ret = tcw_aes_gcm_encrypt(o->key, o->iv, rh, sizeof(rh), erh);
	if (ret == TCW_OK && !(erh_hex = tcw_hex_encode(erh, sizeof(erh))))
		ret = TCW_ERR_NOMEM;
	if (ret == TCW_OK)
		ret = add_fields(o, params, iv_hex, esk_hex);
	if (ret == TCW_OK)
		ret = tcwi_json_add(params, "inData", json_object_get(in));
	if (ret == TCW_OK && o->out_count)
		ret = tcwi_json_add(params, "outData", json_object_get(tmpl));
	if (ret == TCW_OK)
		ret =
		    tcwi_json_add(params, "encryptedRequestHash", json_object_new_string(erh_hex));
	if (ret == TCW_OK && opt && opt->signing_key)
		ret = tcwi_client_sign(opt->signing_key, rh, params);
	if (ret == TCW_OK) {
		*out = params;
		params = NULL;
	}
out:
	tcw_wipe(rh, sizeof(rh));
	free(iv_hex);
	free(erh_hex);
	json_object_put(in);
	json_object_put(tmpl);
	json_object_put(params);
	return ret;
}

/* The outer ProcessWorkOrder envelope around params, as text in o->request. */
static int order_envelope(struct tcw_order *o, json_object *params, const char *inner_id)
{
	json_object *inner = json_object_new_object(), *outer = json_object_new_object();
	json_object *id = NULL;
	char *inner_text = NULL;
	uint32_t rnd = 0;
	int ret = TCW_ERR_NOMEM;

	if (!inner || !outer)
		goto out;
	if (inner_id && tcwi_json_parse(inner_id, strlen(inner_id), &id) < 0) {
		ret = TCW_ERR_INVALID_PARAM;
		goto out;
	}
	if (!inner_id && !(id = json_object_new_string("1")))
		goto out;
	if (tcwi_json_add(inner, "jsonrpc", json_object_new_string("2.0")) < 0 ||
	    tcwi_json_add(inner, "method", json_object_new_string("WorkOrderSubmit")) < 0 ||
	    json_object_object_add(inner, "id", id) < 0)
		goto out;
	id = NULL;
	if (tcwi_json_add(inner, "params", json_object_get(params)) < 0 ||
	    tcwi_json_dump(inner, &inner_text, NULL) < 0)
		goto out;
	if ((ret = tcw_random_bytes(&rnd, sizeof(rnd))) < 0)
		goto out;
	ret = TCW_ERR_NOMEM;
	if (tcwi_json_add(outer, "jsonrpc", json_object_new_string("2.0")) < 0 ||
	    tcwi_json_add(outer, "id", json_object_new_int64(rnd % OUTER_ID_RANGE)) < 0 ||
	    tcwi_json_add(outer, "method", json_object_new_string("ProcessWorkOrder")) < 0 ||
	    tcwi_json_add(outer, "params", json_object_new_string(inner_text)) < 0)
		goto out;
	ret = tcwi_json_dump(outer, &o->request, &o->request_size);
out:
	free(inner_text);
	json_object_put(id);
	json_object_put(inner);
	json_object_put(outer);
	return ret;
}

/* Builds a WorkOrderSubmit for workload_name with the given inputs (index =
 * position) encrypted for encryption_key_pem, with fresh session key, IV and
 * ids; *out caller frees with tcw_order_free. TCW_ERR_INVALID_PARAM for bad
 * arguments (no inputs, more than 64, bad inner_id, more than
 * TCW_WL_MAX_OUTPUTS out_items, an invalid signing key), TCW_ERR_CRYPTO
 * for a bad encryption key. */
int tcw_order_build(const char *encryption_key_pem, const char *workload_name,
                    const struct tcw_wl_input *inputs, size_t count,
                    const struct tcw_order_options *opt, struct tcw_order **out)
{
	struct tcw_order *o = NULL;
	json_object *params = NULL;
	char *esk_hex = NULL;
	int ret;

	if (!out)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	if (!encryption_key_pem || !workload_name || !*workload_name || !inputs || !count ||
	    count > TCWI_MAX_ITEMS || strlen(workload_name) > TCWI_MAX_WORKLOAD_NAME ||
	    (opt && opt->out_items > TCW_WL_MAX_OUTPUTS) ||
	    (opt && opt->session && opt->session->orders >= opt->session->max_orders))
		return TCW_ERR_INVALID_PARAM;
	o = calloc(1, sizeof(*o));
	if (!o)
		return TCW_ERR_NOMEM;
	if (opt && (opt->nonce_safe || opt->session)) {
		o->out_count = opt->out_items ? opt->out_items : 1;
		o->out_keys = calloc(o->out_count, sizeof(*o->out_keys));
	}
	ret = o->out_count && !o->out_keys ? TCW_ERR_NOMEM : TCW_OK;
	if (ret == TCW_OK)
		ret = order_ids(o, encryption_key_pem, workload_name, opt, &esk_hex);
	if (ret == TCW_OK)
		ret = order_params(o, encryption_key_pem, esk_hex, inputs, count, opt, &params);
	if (ret == TCW_OK)
		ret = order_envelope(o, params, opt ? opt->inner_id : NULL);
	free(esk_hex);
	json_object_put(params);
	if (ret < 0) {
		tcw_order_free(&o);
		return ret;
	}
	if (opt && opt->session)
		opt->session->orders++;
	*out = o;
	return TCW_OK;
}

/* A new requester session for a worker key; see tcw.h. */
int tcw_session_new(const char *encryption_key_pem, size_t max_orders, struct tcw_session **out)
{
	struct tcw_session *s;
	uint8_t *esk = NULL;
	size_t esk_size = 0;
	int ret;

	if (!out)
		return TCW_ERR_INVALID_PARAM;
	*out = NULL;
	if (!encryption_key_pem || max_orders < 1 || max_orders > TCW_SESSION_MAX_ORDERS)
		return TCW_ERR_INVALID_PARAM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return TCW_ERR_NOMEM;
	s->max_orders = max_orders;
	ret = tcw_random_bytes(s->key, sizeof(s->key));
	if (ret == TCW_OK)
		ret = tcw_rsa_encrypt_pem(encryption_key_pem, s->key, sizeof(s->key), &esk,
		                          &esk_size);
	if (ret == TCW_OK && !(s->esk_hex = tcw_hex_encode(esk, esk_size)))
		ret = TCW_ERR_NOMEM;
	free(esk);
	if (ret < 0) {
		tcw_session_free(&s);
		return ret;
	}
	*out = s;
	return TCW_OK;
}

/* Wipes and frees a session; see tcw.h. */
void tcw_session_free(struct tcw_session **sp)
{
	if (!sp || !*sp)
		return;
	free((*sp)->esk_hex);
	tcw_free_secret(*sp, sizeof(**sp));
	*sp = NULL;
}

/* Orders built under s so far. */
size_t tcw_session_orders(const struct tcw_session *s)
{
	return s ? s->orders : 0;
}

/* The outer ProcessWorkOrder envelope text (borrowed); *size may be NULL. */
const char *tcw_order_request(const struct tcw_order *o, size_t *size)
{
	if (size)
		*size = o ? o->request_size : 0;
	return o ? o->request : NULL;
}

/* The hex workOrderId of the order (borrowed). */
const char *tcw_order_id(const struct tcw_order *o)
{
	return o ? o->work_order_id : NULL;
}

/* Wipes and frees an order, sets *o to NULL (NULL-safe). */
void tcw_order_free(struct tcw_order **o)
{
	struct tcw_order *p = o ? *o : NULL;

	if (!p)
		return;
	free(p->work_order_id);
	free(p->worker_id);
	free(p->workload_id);
	free(p->requester_id);
	free(p->nonce);
	free(p->request);
	for (size_t i = 0; p->out_keys && i < p->out_count; i++)
		free(p->out_keys[i].dek_text);
	tcw_free_secret(p->out_keys, p->out_count * sizeof(*p->out_keys));
	tcw_free_secret(p, sizeof(*p));
	*o = NULL;
}

/* ---- replies ------------------------------------------------------------- */

/* Copies code and message of an error reply into res: TCW_ERR_REMOTE. */
static int remote_error(json_object *err, struct tcw_order_result *res, struct tcw_error *e)
{
	json_object *code = NULL;
	const char *msg = NULL;
	size_t len = 0;

	if (!json_object_is_type(err, json_type_object) ||
	    !json_object_object_get_ex(err, "code", &code) ||
	    !json_object_is_type(code, json_type_int))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "error.code");
	if (tcwi_json_str(err, "message", SIZE_MAX, &msg, &len) != 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "error.message");
	res->error_code = json_object_get_int(code);
	res->error_message = strdup(msg);
	if (!res->error_message)
		return tcw_error_set(e, TCW_ERR_NOMEM, NULL);
	return tcw_error_set(e, TCW_ERR_REMOTE, NULL);
}

/* Checks that result member key is a string equal to want. */
static int echoed(json_object *result, const char *key, const char *want, struct tcw_error *e)
{
	const char *v = NULL;
	size_t len = 0;

	if (tcwi_json_str(result, key, SIZE_MAX, &v, &len) != 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result.%s", key);
	if (strcmp(v, want) != 0)
		return tcw_error_set(e, TCW_ERR_VERIFY, "result.%s", key);
	return TCW_OK;
}

/* Verifies workerSignature over WH recomputed from result and its items. */
static int check_worker_signature(const struct tcw_order *o, const char *verifying_pem,
                                  json_object *result, const struct tcwi_item *items, size_t count,
                                  struct tcw_error *e)
{
	struct tcw_item_text texts[TCWI_MAX_ITEMS];
	const char *nonce = NULL, *sig = NULL;
	uint8_t wh[TCW_SHA256_SIZE], *der = NULL;
	size_t len = 0, sig_len = 0, der_size = 0;
	int ret;

	if (tcwi_json_str(result, "workerNonce", TCWI_MAX_ID_HEX, &nonce, &len) != 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result.workerNonce");
	if (tcwi_json_str(result, "workerSignature", TCWI_MAX_SIG_B64, &sig, &sig_len) != 0)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result.workerSignature");
	for (size_t i = 0; i < count; i++)
		texts[i] = items[i].text;
	ret = tcw_response_hash(nonce, o->work_order_id, o->worker_id, o->workload_id,
	                        o->requester_id, texts, count, wh);
	if (ret < 0)
		return tcw_error_set(e, ret, NULL);
	ret = tcw_b64_decode(sig, sig_len, &der, &der_size);
	if (ret == TCW_OK)
		ret = der_size <= TCW_ECDSA_DER_MAX
		          ? tcw_ecdsa_verify_pem(verifying_pem, wh, der, der_size)
		          : TCW_ERR_VERIFY;
	else if (ret != TCW_ERR_NOMEM)
		ret = TCW_ERR_VERIFY;
	free(der);
	return ret == TCW_OK ? TCW_OK : tcw_error_set(e, ret, "result.workerSignature");
}

/* Gives a per-item-key output the data key of the outData template whose
 * encryptedDataEncryptionKey it echoes (left without: it cannot open). */
static void template_key(const struct tcw_order *o, struct tcwi_item *it)
{
	if (it->mode != TCWI_KEY_DEK)
		return;
	for (size_t j = 0; j < o->out_count; j++) {
		if (o->out_keys[j].dek_text &&
		    strcasecmp(o->out_keys[j].dek_text, it->text.dek) == 0) {
			memcpy(it->dek, o->out_keys[j].dek, sizeof(it->dek));
			it->has_dek = 1;
			return;
		}
	}
}

/* Decrypts the items into res->outputs, sorted by index. */
static int open_outputs(const struct tcw_order *o, struct tcwi_item *items, size_t count,
                        struct tcw_order_result *res, struct tcw_error *e)
{
	struct tcwi_session s = {.keys = NULL, .has_iv = 1};
	struct tcwi_item *sorted[TCWI_MAX_ITEMS];
	int ret = TCW_OK;

	memcpy(s.key, o->key, sizeof(s.key));
	memcpy(s.iv, o->iv, sizeof(s.iv));
	for (size_t i = 0; i < count && ret == TCW_OK; i++) {
		template_key(o, &items[i]);
		ret = tcwi_item_decrypt(&s, &items[i], e);
	}
	tcw_wipe(s.key, sizeof(s.key));
	if (ret < 0)
		return ret;
	res->outputs = calloc(count ? count : 1, sizeof(*res->outputs));
	if (!res->outputs)
		return tcw_error_set(e, TCW_ERR_NOMEM, NULL);
	for (size_t i = 0; i < count; i++)
		sorted[i] = &items[i];
	tcwi_items_sort(sorted, count);
	for (size_t i = 0; i < count; i++) {
		res->outputs[i] =
		    (struct tcw_buf){.data = sorted[i]->plain, .size = sorted[i]->plain_size};
		sorted[i]->plain = NULL;
		sorted[i]->plain_size = 0;
	}
	res->output_count = count;
	return TCW_OK;
}

/* Checks a result object against o, then decrypts its outData into res. */
static int check_result(const struct tcw_order *o, const char *verifying_pem, json_object *result,
                        struct tcw_order_result *res, struct tcw_error *e)
{
	struct tcwi_item items[TCWI_MAX_ITEMS];
	json_object *arr = NULL;
	size_t count = 0;
	int ret = TCW_OK;

	if (!json_object_is_type(result, json_type_object))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result");
	if (echoed(result, "workOrderId", o->work_order_id, e) < 0 ||
	    echoed(result, "workloadId", o->workload_id, e) < 0 ||
	    echoed(result, "workerId", o->worker_id, e) < 0 ||
	    echoed(result, "requesterId", o->requester_id, e) < 0)
		return e->err;
	if (!json_object_object_get_ex(result, "outData", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) > TCWI_MAX_ITEMS)
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, "result.outData");
	for (; count < json_object_array_length(arr) && ret == TCW_OK; count++)
		ret = tcwi_item_parse(json_object_array_get_idx(arr, count), "result.outData",
		                      count, &items[count], e);
	if (ret == TCW_OK)
		ret = check_worker_signature(o, verifying_pem, result, items, count, e);
	if (ret == TCW_OK)
		ret = open_outputs(o, items, count, res, e);
	for (size_t i = 0; i < count; i++)
		tcwi_item_clear(&items[i]);
	return ret;
}

/* Checks a reply against its order (see tcw.h for the results); res is
 * released with tcw_order_result_fini, also after a failure. */
int tcw_order_check_reply(const struct tcw_order *o, const char *verifying_pem, const char *reply,
                          size_t size, struct tcw_order_result *res, struct tcw_error *e)
{
	struct tcw_error local;
	json_object *root = NULL, *v = NULL;
	int ret;

	if (!e)
		e = &local;
	if (res)
		memset(res, 0, sizeof(*res));
	if (!o || !verifying_pem || !res || (!reply && size))
		return tcw_error_set(e, TCW_ERR_INVALID_PARAM, NULL);
	tcw_error_set(e, TCW_OK, NULL);
	ret = tcwi_json_parse(reply, size, &root);
	if (ret == TCW_ERR_NOMEM)
		return tcw_error_set(e, ret, NULL);
	if (ret < 0 || !json_object_is_type(root, json_type_object)) {
		ret = tcw_error_set(e, TCW_ERR_INVALID_PARAM, "reply");
		goto out;
	}
	if (json_object_object_get_ex(root, "error", &v))
		ret = remote_error(v, res, e);
	else if (json_object_object_get_ex(root, "result", &v))
		ret = check_result(o, verifying_pem, v, res, e);
	else
		ret = tcw_error_set(e, TCW_ERR_INVALID_PARAM, "reply");
out:
	json_object_put(root);
	return ret;
}

/* Wipes and frees what a result owns and zeroes it. */
void tcw_order_result_fini(struct tcw_order_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->output_count; i++)
		tcw_free_secret(res->outputs[i].data, res->outputs[i].size);
	free(res->outputs);
	free(res->error_message);
	memset(res, 0, sizeof(*res));
}
