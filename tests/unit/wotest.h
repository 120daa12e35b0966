/* SPDX-License-Identifier: Apache-2.0 */
/* wotest.h - the harness shared by the test_workorder_*.c programs: fixed keys and vectors,
 * a recording workload runner, building, sealing and running requests, checking results. */
#ifndef TCW_WOTEST_H
#define TCW_WOTEST_H

#include "testutil.h"

#include "internal.h"

#define SIGNUP_JSON "{\"sealed_data\":\"\",\"verifying_key\":\"V\",\"encryption_key\":\"E\"}"
#define INTEGRITY "Work order integrity check failed"
#define ID1 "\"1\""

enum run_mode { RUN_HELLO, RUN_FAIL, RUN_NONE, RUN_MULTI, RUN_FLOOD };

/* What the test runner saw and how it answers. */
struct recorder {
	enum run_mode mode;
	int calls;
	char name[256];
	size_t count;
	int64_t index[TCWI_MAX_ITEMS];
	char *data[TCWI_MAX_ITEMS];
	int extra_add;
	int deadline;
};

#define WO_LOG_SIZE 16384

extern struct recorder g_rec;
extern struct tcw_keys *g_k2048, *g_k3072;
extern json_object *g_vectors, *g_keyfile;
/* Library log lines since the last rec_reset: "<level>:<message>\n" each. */
extern char g_logs[WO_LOG_SIZE];
extern const uint8_t zero_iv[TCW_GCM_IV_SIZE];
/* The unwrap cache run_frame's processor uses (NULL: none, the default). */
extern struct tcw_key_cache *g_key_cache;
/* The replay and kept-reply hooks run_frame's processor uses (NULL: none,
 * the default); seen_request is used only with the other three. */
extern int (*g_seen)(void *ctx, const char *work_order_id, size_t len);
extern int (*g_seen_request)(void *ctx, const char *work_order_id, size_t len,
                             const uint8_t request_sha256[TCW_SHA256_SIZE]);
extern int (*g_stored_reply)(void *ctx, const char *work_order_id, size_t len,
                             const uint8_t request_sha256[TCW_SHA256_SIZE], char **reply,
                             size_t *size);
extern void (*g_store_reply)(void *ctx, const char *work_order_id, size_t len,
                             const uint8_t request_sha256[TCW_SHA256_SIZE], const char *reply,
                             size_t size);

/* Forgets what the runner recorded (the logs stay). */
void rec_clear(enum run_mode mode);

/* Ends the warning spells (tcw_log_flush), forgets the recording and empties g_logs. */
void rec_reset(enum run_mode mode);

/* cmocka group setup: loads the vectors and keys, installs the log sink. */
int wo_setup(void **state);

/* cmocka group teardown: frees what wo_setup made. */
int wo_teardown(void **state);

/* The request vector name of workorders.json (borrowed). */
json_object *vec(const char *name);

/* The worker keys vector v was made for (borrowed). */
struct tcw_keys *vec_keys(json_object *v);

/* A deep copy of the vector's request_params (caller puts). */
json_object *params_of(const char *name);

/* The session key and sessionKeyIv (zeros when absent) of vector name. */
void session_of(const char *name, uint8_t key[32], uint8_t iv[12]);

/* Sets member key of obj to the JSON text value_json (NULL or "null": JSON null). */
void set_json(json_object *obj, const char *key, const char *value_json);

/* Sets member key of obj to the string value. */
void set_str(json_object *obj, const char *key, const char *value);

/* Item i of array ("inData"/"outData") of params (borrowed). */
json_object *item_at(json_object *params, const char *array, size_t i);

/* The ProcessWorkOrder frame around params with inner id id_json (NULL = none). */
char *wrap(json_object *params, const char *id_json, int as_string);

/* Runs frame through a processor with keys k (and the recording runner when with_runner); the reply
 * (caller frees). */
char *run_frame(const struct tcw_keys *k, const char *frame, int with_runner);

/* Runs params in a ProcessWorkOrder envelope with inner id id_json; the reply (caller frees). */
char *run_params(const struct tcw_keys *k, json_object *params, const char *id_json);

/* Checks reply is exactly the error code/message with inner id id and data.workOrderId wo_id (NULL:
 * none). */
void expect_error(const char *reply, const char *id, int code, const char *message,
                  const char *wo_id);

/* Runs params and expects an error (with data.workOrderId when with_wo). */
void params_error(const struct tcw_keys *k, json_object *params, int code, const char *message,
                  int with_wo);

/* String member key of o (borrowed), NULL when absent or not a string. */
const char *opt_str(json_object *o, const char *key);

/* The item texts of array of params into t; their number. */
size_t texts_of(json_object *params, const char *array, struct tcw_item_text *t);

/* The request hash RH of params, computed by libtcw. */
void request_hash(json_object *params, uint8_t rh[32]);

/* [iv ||] AES-GCM(key, iv, plain) in a new buffer; *size set. */
uint8_t *gcm(const uint8_t key[32], const uint8_t iv[12], const uint8_t *plain, size_t len,
             int prefix, size_t *size);

/* base64([iv ||] AES-GCM(key, iv, plain)) (caller frees). */
char *gcm_b64(const uint8_t key[32], const uint8_t iv[12], const char *plain, int prefix);

/* Recomputes RH over params and stores encryptedRequestHash for key/iv. */
void reseal(json_object *params, const uint8_t key[32], const uint8_t iv[12], int prefix);

/* hex([wrap_iv ||] AES-GCM(session, wrap_iv, RSA-OAEP(worker, dek))). */
char *wrap_dek(const uint8_t session[32], const uint8_t *dek, size_t dek_size,
               const uint8_t wrap_iv[12], int prefix);

/* A data item object with the given texts and dataHash "". */
json_object *new_item(int64_t index, const char *data, const char *dek, const char *iv);

/* Checks obj has exactly the members keys[0..n), in that order. */
void expect_keys(json_object *obj, const char *const *keys, size_t n);

/* Checks shape, echoes and workerSignature of a result reply; returns its
 * outData (borrowed from *root, which the caller puts). */
json_object *check_result(const char *reply, json_object *params, const char *id_text, size_t nout,
                          json_object **root);

/* Decrypts outData item data with key and iv (NULL: IV-prefixed); caller frees. */
char *open_out(json_object *item, const uint8_t key[32], const uint8_t *iv);

/* Checks outData item's index, encryptedDataEncryptionKey and iv. */
void expect_item(json_object *item, int64_t index, const char *dek, const char *iv);

/* Runs params with RUN_HELLO and checks one default output "Hello <first>". */
void expect_hello(const struct tcw_keys *k, json_object *params, const uint8_t key[32],
                  const char *first);

#endif /* TCW_WOTEST_H */
