/* SPDX-License-Identifier: Apache-2.0 */
/* jsonrpc.c - the JSON-RPC envelope, method dispatch, error replies. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "tcw/tcw.h"

#define METHOD_SIGNUP "ProcessWorkerSignup"
#define METHOD_WORK_ORDER "ProcessWorkOrder"
#define METHOD_SUBMIT "WorkOrderSubmit"

/* Longest error message: fixed text, ": ", a field name. */
#define ERROR_MESSAGE_SIZE (64 + TCW_FIELD_SIZE)

/* Everything one frame owns while it is processed. */
struct frame {
	json_object *outer;
	json_object *inner;
	json_object *id;   /* inner id, borrowed from inner, or zero */
	json_object *zero; /* the id 0 of replies without a known id */
	int id_known;
	/* the envelope's params string that simdjson parsed in place (kept
	 * until tcwi_json_envelope_done), NULL when json-c parsed it */
	const char *fast_text;
	size_t fast_len;
	struct tcwi_wo_outcome wo; /* wo.wo_id: validated workOrderId, borrowed */
	struct tcw_error e;
};

/* The error reply for e with id (borrowed; NULL = JSON null) into *out. */
static int error_reply_obj(json_object *id, const struct tcw_error *e, const char *work_order_id,
                           char **out, size_t *out_size)
{
	char message[ERROR_MESSAGE_SIZE];
	json_object *reply = json_object_new_object();
	json_object *err = json_object_new_object();
	json_object *data = NULL;
	int ret = TCW_ERR_NOMEM;

	if (!reply || !err)
		goto out;
	if (e->err == TCW_ERR_INVALID_PARAM && e->field[0])
		snprintf(message, sizeof(message), "%s: %s", tcw_strerror(e->err), e->field);
	else
		snprintf(message, sizeof(message), "%s", tcw_strerror(e->err));
	if (tcwi_json_add(err, "code", json_object_new_int(tcw_err_wire_code(e->err))) < 0 ||
	    tcwi_json_add(err, "message", json_object_new_string(message)) < 0)
		goto out;
	if (work_order_id) {
		data = json_object_new_object();
		if (!data ||
		    tcwi_json_add(data, "workOrderId", json_object_new_string(work_order_id)) < 0) {
			json_object_put(data);
			goto out;
		}
		if (tcwi_json_add(err, "data", data) < 0)
			goto out;
	}
	if (tcwi_json_add(reply, "jsonrpc", json_object_new_string("2.0")) < 0)
		goto out;
	/* a NULL id is JSON null, not an allocation failure */
	if (json_object_object_add(reply, "id", json_object_get(id)) < 0) {
		json_object_put(id);
		goto out;
	}
	ret = tcwi_json_add(reply, "error", err);
	err = NULL;
	if (ret == TCW_OK)
		ret = tcwi_json_dump(reply, out, out_size);
out:
	json_object_put(err);
	json_object_put(reply);
	return ret;
}

/* Builds an error reply {"jsonrpc","id","error":{code,message[,data]}}; an
 * id_json that is not one JSON value becomes 0. Caller frees. NULL on
 * allocation failure. */
char *tcw_error_reply(const char *id_json, const struct tcw_error *e, const char *work_order_id)
{
	struct tcw_error internal = {.err = TCW_ERR_INTERNAL, .field = ""};
	json_object *id = NULL;
	char *out = NULL;

	if (!id_json || tcwi_json_parse(id_json, strlen(id_json), &id) < 0)
		id = json_object_new_int(0);
	if (error_reply_obj(id, e ? e : &internal, work_order_id, &out, NULL) < 0)
		out = NULL;
	json_object_put(id);
	return out;
}

/* 1 when the JSON string v equals name exactly (no embedded NUL tricks). */
static int str_is(json_object *v, const char *name)
{
	return json_object_is_type(v, json_type_string) &&
	       (size_t)json_object_get_string_len(v) == strlen(name) &&
	       strcmp(json_object_get_string(v), name) == 0;
}

/* The inner WorkOrderSubmit request from the outer params into f->inner,
 * its text as sent into *text / *len (NULL when params was sent as an
 * object). */
static int inner_request(struct frame *f, json_object *params, const char **text, size_t *len)
{
	int ret;

	*text = NULL;
	*len = 0;
	if (json_object_is_type(params, json_type_string)) {
		*text = json_object_get_string(params);
		*len = (size_t)json_object_get_string_len(params);
		ret = tcwi_json_parse(*text, *len, &f->inner);
		if (ret < 0)
			return tcw_error_set(&f->e, ret, NULL);
	} else if (json_object_is_type(params, json_type_object)) {
		/* a params string simdjson parsed in place, or (leniency) an
		 * already-decoded inner request */
		f->inner = json_object_get(params);
		*text = f->fast_text;
		*len = f->fast_len;
	}
	if (!json_object_is_type(f->inner, json_type_object))
		return tcw_error_set(&f->e, TCW_ERR_INVALID_REQUEST, NULL);
	return TCW_OK;
}

/* Keeps the reply (result or error) of an order whose id the replay hook
 * recorded, for an exact resubmission; ret is the order's outcome. The
 * error reply is built here then. TCW_OK once *reply is set. */
static int keep_reply(const struct tcw_processor *p, struct frame *f, int ret, char **reply,
                      size_t *reply_size)
{
	size_t size = 0;

	if (ret != TCW_OK) {
		ret = error_reply_obj(f->id, &f->e, f->wo.wo_id, reply, &size);
		if (ret != TCW_OK)
			return tcw_error_set(&f->e, ret, NULL);
		if (reply_size)
			*reply_size = size;
	} else {
		size = reply_size ? *reply_size : strlen(*reply);
	}
	p->store_reply(p->store_ctx, f->wo.wo_id, strlen(f->wo.wo_id), f->wo.request, *reply, size);
	tcwi_stage(p, TCW_STAGE_KEEP);
	return TCW_OK;
}

/* Handles a ProcessWorkOrder envelope whose params are params. */
static int work_order(const struct tcw_processor *p, struct frame *f, json_object *params,
                      char **reply, size_t *reply_size)
{
	json_object *v = NULL;
	const char *text = NULL;
	size_t text_len = 0;
	int ret = inner_request(f, params, &text, &text_len);

	if (ret < 0)
		return ret;
	if (!json_object_object_get_ex(f->inner, "id", &f->id))
		f->id = f->zero;
	f->id_known = 1;
	if (json_object_object_get_ex(f->inner, "method", &v) && !str_is(v, METHOD_SUBMIT))
		return tcw_error_set(&f->e, TCW_ERR_UNSUPPORTED_METHOD, NULL);
	if (!json_object_object_get_ex(f->inner, "params", &v) ||
	    !json_object_is_type(v, json_type_object))
		return tcw_error_set(&f->e, TCW_ERR_INVALID_REQUEST, NULL);
	ret = tcwi_workorder_run(p, f->id, v, text, text_len, reply, reply_size, &f->e, &f->wo);
	if (f->wo.accepted && f->wo.has_request && p->store_reply)
		return keep_reply(p, f, ret, reply, reply_size);
	return ret;
}

/* Parses the outer envelope and dispatches it; fills f->e on failure. */
static int dispatch(const struct tcw_processor *p, struct frame *f, const char *frame, size_t size,
                    char **reply, size_t *reply_size)
{
	size_t max = p->max_message_size ? p->max_message_size : TCW_DEFAULT_MAX_MESSAGE;
	json_object *method = NULL, *params = NULL;
	int ret;

	if (size > max)
		return tcw_error_set(&f->e, TCW_ERR_INVALID_REQUEST, NULL);
	/* a work order's inner request may come back parsed already: the
	 * "params is an object" case of inner_request() */
	ret = tcwi_json_parse_envelope(frame, size, &f->outer, &f->fast_text, &f->fast_len);
	if (ret < 0)
		return tcw_error_set(&f->e, ret, NULL);
	if (!json_object_is_type(f->outer, json_type_object) ||
	    !json_object_object_get_ex(f->outer, "method", &method) ||
	    !json_object_is_type(method, json_type_string) ||
	    !json_object_object_get_ex(f->outer, "params", &params))
		return tcw_error_set(&f->e, TCW_ERR_INVALID_REQUEST, NULL);
	if (str_is(method, METHOD_WORK_ORDER))
		return work_order(p, f, params, reply, reply_size);
	if (!str_is(method, METHOD_SIGNUP))
		return tcw_error_set(&f->e, TCW_ERR_UNSUPPORTED_METHOD, NULL);
	if (!p->signup_json)
		return tcw_error_set(&f->e, TCW_ERR_INTERNAL, NULL);
	*reply = strdup(p->signup_json);
	if (!*reply)
		return tcw_error_set(&f->e, TCW_ERR_NOMEM, NULL);
	if (reply_size)
		*reply_size = strlen(*reply);
	return TCW_OK;
}

/* Handles one request frame and returns the reply text in *reply (caller
 * frees): a result, the signup object or an error reply. TCW_OK whenever
 * *reply is set, TCW_ERR_NOMEM if not even an error reply could be built. */
int tcw_process_frame(const struct tcw_processor *p, const char *frame, size_t size, char **reply,
                      size_t *reply_size)
{
	struct frame f = {0};
	int ret;

	if (!reply)
		return TCW_ERR_INVALID_PARAM;
	*reply = NULL;
	if (reply_size)
		*reply_size = 0;
	if (!p)
		return TCW_ERR_INVALID_PARAM;
	f.zero = json_object_new_int(0);
	if (!f.zero)
		return TCW_ERR_NOMEM;
	tcwi_stage_start(p);
	ret = dispatch(p, &f, frame, size, reply, reply_size);
	if (ret != TCW_OK)
		ret = error_reply_obj(f.id_known ? f.id : f.zero, &f.e, f.wo.wo_id, reply,
		                      reply_size);
	json_object_put(f.zero);
	json_object_put(f.inner);
	json_object_put(f.outer);
	tcwi_json_envelope_done(f.fast_text);
	return ret;
}
