/* SPDX-License-Identifier: Apache-2.0 */
/* api_worker.c - the worker registry methods: WorkerRetrieve, WorkerLookUp(Next),
 * EncryptionKeyGet/Set, and on the admin socket WorkerRegister, WorkerUpdate, WorkerSetStatus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rpc.h"
#include "store_sql.h"

#define ID_MAX 256
#define LOOKUP_LIMIT 1000
#define LOOKUP_APPS 64

void api_worker_retrieve(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	struct store_worker w;

	if (!id)
		return;
	if (store_get_worker(c->g->store, id, &w) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Worker Id not found in the database. Hence invalid parameter", NULL);
		return;
	}
	rpc_result(c, w.record);
	store_worker_fini(&w);
}

/* A string member of obj, or "" (borrowed). */
static const char *member_str(json_object *obj, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string)
	           ? json_object_get_string(v)
	           : "";
}

void api_encryption_key_get(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	json_object *rec = NULL, *d = NULL, *td = NULL, *r;
	struct store_worker sw;

	/* lastUsedKeyNonce, tag, requesterId, signatureNonce, signature: a
	 * worker has one key (its signup's), not one per requester or tag */
	if (!id)
		return;
	if (store_get_worker(c->g->store, id, &sw) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Worker Id not found in the database. Hence invalid parameter", NULL);
		return;
	}
	rec = json_tokener_parse(sw.record);
	store_worker_fini(&sw);
	if (!rec || !json_object_object_get_ex(rec, "details", &d) ||
	    !json_object_object_get_ex(d, "workerTypeData", &td) ||
	    !member_str(td, "encryptionKey")[0]) {
		json_object_put(rec);
		rpc_error(c, RPC_INVALID_PARAMETER, "This worker has no encryption key", NULL);
		return;
	}
	r = json_object_new_object();
	if (r) {
		json_object_object_add(r, "workerId", json_object_new_string(id));
		json_object_object_add(r, "encryptionKey",
		                       json_object_new_string(member_str(td, "encryptionKey")));
		json_object_object_add(r, "encryptionKeyNonce",
		                       json_object_new_string(member_str(td, "encryptionKeyNonce")));
		json_object_object_add(r, "tag", json_object_new_string(""));
		/* the worker's only signature over its key: ECDSA over SHA-256 of
		 * encryptionKey (its signup's encryption_key_signature) */
		json_object_object_add(r, "signature",
		                       json_object_new_string(member_str(td, "encryptionKeySignature")));
		rpc_result_obj(c, r);
	}
	json_object_put(rec);
}

void api_encryption_key_set(struct rpc_call *c)
{
	rpc_error(c, RPC_INVALID_PARAMETER,
	          "Operation is not supported: a worker's keys come only from its own signup", NULL);
}

/* The applicationTypeId filter of a lookup: a string, or an array of
 * strings (Avalon's SDK sends the list a worker was registered with).
 * Fills apps[] (borrowed) and returns their number, or -1 after replying. */
static int app_filter(struct rpc_call *c, const char **apps, size_t max)
{
	json_object *v = NULL;
	size_t n, i;

	if (!json_object_object_get_ex(c->params, "applicationTypeId", &v) || !v)
		return 0;
	if (json_object_is_type(v, json_type_string)) {
		apps[0] = rpc_str(c, "applicationTypeId", ID_MAX, 1);
		return apps[0] ? 1 : -1;
	}
	if (!json_object_is_type(v, json_type_array)) {
		rpc_bad_param(c, "applicationTypeId");
		return -1;
	}
	n = json_object_array_length(v);
	for (i = 0; i < n && i < max; i++) {
		json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_string) ||
		    (size_t)json_object_get_string_len(e) > ID_MAX)
			break;
		apps[i] = json_object_get_string(e);
	}
	if (i != n) {
		rpc_bad_param(c, "applicationTypeId");
		return -1;
	}
	return (int)n;
}

/* 1 when the stored record of worker id lists every one of apps[]. */
static int has_apps(struct rpc_call *c, const char *id, const char **apps, size_t n)
{
	struct store_worker sw;
	json_object *rec, *list = NULL;
	size_t i, j, found = 0;

	if (store_get_worker(c->g->store, id, &sw) != 0)
		return 0;
	rec = json_tokener_parse(sw.record);
	store_worker_fini(&sw);
	if (rec && json_object_object_get_ex(rec, "applicationTypeId", &list) &&
	    json_object_is_type(list, json_type_array)) {
		for (i = 0; i < n; i++) {
			for (j = 0; j < json_object_array_length(list); j++) {
				const char *have = json_object_get_string(json_object_array_get_idx(list, j));

				if (have && strcmp(apps[i], have) == 0) {
					found++;
					break;
				}
			}
		}
	}
	json_object_put(rec);
	return found == n;
}

/* WorkerLookUp(Next): filters workerType, organizationId, applicationTypeId. */
static void lookup(struct rpc_call *c, const char *after)
{
	struct store_lookup f = {.limit = LOOKUP_LIMIT, .status = -1, .after = after};
	struct store_ids ids = {0}, all = {0};
	const char *apps[LOOKUP_APPS];
	char type[32];
	int64_t wt = 0;
	int r = rpc_int(c, "workerType", &wt, 0), napps;

	if (r < 0)
		return;
	if (r == 0) {
		snprintf(type, sizeof(type), "%lld", (long long)wt);
		f.a = type;
	}
	f.b = rpc_str(c, "organizationId", ID_MAX, 0);
	if (c->reply || (napps = app_filter(c, apps, LOOKUP_APPS)) < 0)
		return;
	f.c = napps ? apps[0] : NULL;
	if (after && !after[0]) {
		/* the tag of an answer that had everything: nothing follows */
		rpc_lookup_result(c, &ids);
		return;
	}
	if (napps > 1) {
		/* the store filters on one id; the others are checked here */
		struct store_lookup every = f;
		struct store_lookup rest = {.limit = LOOKUP_LIMIT};

		every.limit = SIZE_MAX;
		if (store_lookup_workers(c->g->store, &every, &all) != 0) {
			store_ids_fini(&all);
			rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
			return;
		}
		for (size_t i = 0; i < all.count && !c->reply; i++)
			if (has_apps(c, all.ids[i], apps + 1, (size_t)napps - 1) &&
			    store_ids_offer(&ids, all.ids[i], &rest) != 0)
				rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
		store_ids_fini(&all);
	} else if (store_lookup_workers(c->g->store, &f, &ids) != 0) {
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
	}
	if (!c->reply)
		rpc_lookup_result(c, &ids);
	store_ids_fini(&ids);
}

void api_worker_lookup(struct rpc_call *c)
{
	lookup(c, NULL);
}

void api_worker_lookup_next(struct rpc_call *c)
{
	/* the spec names it lookupTag, Avalon's SDK sends lookUpTag */
	const char *tag = rpc_str(c, "lookUpTag", ID_MAX, 0);

	if (!tag && !c->reply)
		tag = rpc_str(c, "lookupTag", ID_MAX, 1);
	if (tag)
		lookup(c, tag);
}

/* Refuses admin changes to a worker whose keys come from its signup. */
static int is_signup_worker(struct rpc_call *c, const char *id, const struct store_worker *sw)
{
	if (gw_worker_find(c->g, id) || (sw && sw->owner && strcmp(sw->owner, "worker") == 0)) {
		rpc_error(c, RPC_ACCESS_DENIED,
		          "Access denied: this worker is a --worker of a gateway; its keys and "
		          "details come from its own signup",
		          NULL);
		return 1;
	}
	return 0;
}

/* Stores an admin worker record. */
static void put_admin(struct rpc_call *c, const char *id, json_object *rec, int status,
                      const char *ok)
{
	struct store_worker sw = {0};

	json_object_object_add(rec, "status", json_object_new_int(status));
	sw.id = (char *)id;
	sw.name = (char *)id;
	sw.record = (char *)json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN |
	                                                            JSON_C_TO_STRING_NOSLASHESCAPE);
	sw.key_fp = "";
	sw.owner = "admin";
	sw.status = status;
	if (store_put_worker(c->g->store, &sw) != 0)
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error", NULL);
	else
		rpc_error(c, RPC_SUCCESS, ok, NULL);
}

/* The details param: an object, or a string holding one (Avalon's SDK
 * tests send json.dumps(details)). A new reference, or NULL after replying. */
static json_object *details_param(struct rpc_call *c)
{
	json_object *v = NULL, *d = NULL;

	if (json_object_object_get_ex(c->params, "details", &v)) {
		if (json_object_is_type(v, json_type_object))
			d = json_object_get(v);
		else if (json_object_is_type(v, json_type_string))
			d = json_tokener_parse(json_object_get_string(v));
	}
	if (!d || !json_object_is_type(d, json_type_object)) {
		json_object_put(d);
		rpc_bad_param(c, "details");
		return NULL;
	}
	return d;
}

/* The applicationTypeId param of WorkerRegister: an array of strings (a
 * single string is taken as a list of one; absent = none). A new
 * reference, or NULL after replying. */
static json_object *app_ids_param(struct rpc_call *c)
{
	json_object *v = NULL, *a;

	if (!json_object_object_get_ex(c->params, "applicationTypeId", &v) || !v)
		return json_object_new_array();
	if (json_object_is_type(v, json_type_string)) {
		a = json_object_new_array();
		if (a)
			json_object_array_add(a, json_object_get(v));
		return a;
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t i, n = json_object_array_length(v);

		for (i = 0; i < n; i++)
			if (!json_object_is_type(json_object_array_get_idx(v, i), json_type_string))
				break;
		if (i == n)
			return json_object_get(v);
	}
	rpc_bad_param(c, "applicationTypeId");
	return NULL;
}

void api_worker_register(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1), *org;
	json_object *rec, *details, *apps;
	struct store_worker sw;
	int64_t type = 0;

	if (!id || rpc_int(c, "workerType", &type, 1) < 0)
		return;
	if (type < WT_TEE_SGX || type > WT_ZK) { /* EEA WorkerType: 1 TEE-SGX, 2 MPC, 3 ZK */
		rpc_bad_param(c, "workerType");
		return;
	}
	org = rpc_str(c, "organizationId", ID_MAX, 0);
	if (c->reply || is_signup_worker(c, id, NULL))
		return;
	if (store_get_worker(c->g->store, id, &sw) == 0) {
		int signup = is_signup_worker(c, id, &sw);

		store_worker_fini(&sw);
		if (!signup)
			rpc_error(c, RPC_INVALID_PARAMETER,
			          "Worker Id already exists in the database. Hence invalid parameter",
			          NULL);
		return;
	}
	if (!(apps = app_ids_param(c)))
		return;
	if (!(details = details_param(c))) {
		json_object_put(apps);
		return;
	}
	rec = json_object_new_object();
	if (!rec) {
		json_object_put(apps);
		json_object_put(details);
		return;
	}
	json_object_object_add(rec, "workerType", json_object_new_int64(type));
	json_object_object_add(rec, "organizationId", json_object_new_string(org ? org : ""));
	json_object_object_add(rec, "applicationTypeId", apps);
	json_object_object_add(rec, "details", details);
	put_admin(c, id, rec, WS_ACTIVE, "Successfully Registered");
	json_object_put(rec);
}

void api_worker_update(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	json_object *rec, *d, *old = NULL, *st = NULL;
	struct store_worker sw;

	if (!id || is_signup_worker(c, id, NULL) || !(d = details_param(c)))
		return;
	if (store_get_worker(c->g->store, id, &sw) != 0) {
		json_object_put(d);
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Worker Id not found in the database. Hence invalid parameter", NULL);
		return;
	}
	if (is_signup_worker(c, id, &sw)) {
		json_object_put(d);
		store_worker_fini(&sw);
		return;
	}
	rec = json_tokener_parse(sw.record);
	if (rec && json_object_object_get_ex(rec, "details", &old) &&
	    json_object_is_type(old, json_type_object)) {
		json_object_object_foreach(d, key, val)
		{
			json_object_object_add(old, key, json_object_get(val));
		}
		json_object_object_get_ex(rec, "status", &st);
		put_admin(c, id, rec, st ? json_object_get_int(st) : WS_ACTIVE,
		          "Successfully Updated");
	} else {
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error: stored record unreadable", NULL);
	}
	json_object_put(d);
	json_object_put(rec);
	store_worker_fini(&sw);
}

void api_worker_set_status(struct rpc_call *c)
{
	const char *id = rpc_str(c, "workerId", ID_MAX, 1);
	struct gw_worker *w;
	struct store_worker sw;
	json_object *rec;
	int64_t status = 0;
	char msg[128];

	if (!id || rpc_int(c, "status", &status, 1) < 0)
		return;
	if (status < WS_ACTIVE || status > WS_COMPROMISED) {
		rpc_bad_param(c, "status");
		return;
	}
	w = gw_worker_find(c->g, id);
	if (w) {
		gw_worker_admin_status(c->g, w, (int)status, msg, sizeof(msg));
		rpc_error(c, RPC_SUCCESS, msg, NULL);
		return;
	}
	if (store_get_worker(c->g->store, id, &sw) != 0) {
		rpc_error(c, RPC_INVALID_PARAMETER,
		          "Worker Id not found in the database. Hence invalid parameter", NULL);
		return;
	}
	if (strcmp(sw.owner, "worker") == 0) {
		rpc_error(c, RPC_ACCESS_DENIED,
		          "Access denied: this worker is attached to another gateway; set its status "
		          "there",
		          NULL);
	} else if ((rec = json_tokener_parse(sw.record)) != NULL) {
		put_admin(c, id, rec, (int)status, "Successfully Set Status");
		json_object_put(rec);
	} else {
		rpc_error(c, RPC_UNKNOWN_ERROR, "Internal error: stored record unreadable", NULL);
	}
	store_worker_fini(&sw);
}
