/* SPDX-License-Identifier: Apache-2.0 */
/* submit.c - tcclient submit: signup, then send, verify and decrypt orders. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "tcclient.h"

/* The REQ connection to the worker; reopened after a lost reply. */
struct conn {
	void *ctx;
	void *sock;
	const char *url;
	int timeout_ms;
	int zerr; /* zmq errno of the last failed conn_open */
	struct tcc_gw *gw; /* --gateway: HTTP to tcgateway instead of ZeroMQ */
	const struct tcw_order *order; /* the order being exchanged (gateway) */
};

/* Results of one request/reply exchange. */
enum xchg {
	XCHG_OK = 0,
	XCHG_TIMEOUT,
	XCHG_ERROR,
};

/* Opens a REQ socket connected to c->url. Returns 0, or (with c->zerr set
 * and no socket left open) TCW_ERR_INVALID_PARAM for an unusable endpoint
 * or TCW_ERR_INTERNAL. */
static int conn_open(struct conn *c)
{
	int linger = 0;

	c->sock = zmq_socket(c->ctx, ZMQ_REQ);
	if (c->sock == NULL) {
		c->zerr = zmq_errno();
		return TCW_ERR_INTERNAL;
	}
	if (zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &c->timeout_ms, sizeof(c->timeout_ms)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &c->timeout_ms, sizeof(c->timeout_ms)) != 0 ||
	    zmq_connect(c->sock, c->url) != 0) {
		c->zerr = zmq_errno();
		zmq_close(c->sock);
		c->sock = NULL;
		return c->zerr == EINVAL || c->zerr == EPROTONOSUPPORT || c->zerr == ENOCOMPATPROTO
		           ? TCW_ERR_INVALID_PARAM
		           : TCW_ERR_INTERNAL;
	}
	return TCW_OK;
}

/* Closes the socket (pending messages are dropped). */
static void conn_close(struct conn *c)
{
	if (c->sock != NULL)
		zmq_close(c->sock);
	c->sock = NULL;
}

/* A REQ socket that lost a reply cannot send again: replace it. */
static void conn_reopen(struct conn *c)
{
	conn_close(c);
	if (conn_open(c) != 0)
		fprintf(stderr, "tcclient: cannot reconnect to %s: %s\n", c->url,
		        zmq_strerror(c->zerr));
}

/* Receives one complete reply message into *reply (caller frees,
 * NUL-terminated). */
static enum xchg conn_recv(struct conn *c, char **reply, size_t *size, const char **why)
{
	zmq_msg_t msg;
	enum xchg x = XCHG_ERROR;
	size_t parts = 0;

	zmq_msg_init(&msg);
	for (;;) {
		if (zmq_msg_recv(&msg, c->sock, 0) < 0) {
			if (zmq_errno() == EINTR)
				continue;
			x = zmq_errno() == EAGAIN ? XCHG_TIMEOUT : XCHG_ERROR;
			*why = zmq_strerror(zmq_errno());
			goto out;
		}
		if (parts++ == 0) {
			*size = zmq_msg_size(&msg);
			*reply = malloc(*size + 1);
			if (*reply == NULL) {
				*why = "out of memory";
				goto out;
			}
			memcpy(*reply, zmq_msg_data(&msg), *size);
			(*reply)[*size] = '\0';
		}
		if (!zmq_msg_more(&msg))
			break;
	}
	x = XCHG_OK;
	if (parts > 1) {
		*why = "the worker replied with a multi-part message";
		free(*reply);
		*reply = NULL;
		x = XCHG_ERROR;
	}
out:
	zmq_msg_close(&msg);
	return x;
}

/* Sends one request and waits for its reply (*reply caller frees). After
 * a timeout or error the socket is reopened. */
static enum xchg conn_exchange(struct conn *c, const char *req, size_t len, char **reply,
                               size_t *size, const char **why)
{
	enum xchg x = XCHG_ERROR;
	int rc;

	*reply = NULL;
	*size = 0;
	if (c->gw != NULL) {
		(void)len;
		rc = tcc_gw_order(c->gw, c->order, NULL, 0, reply, size, why);
		return rc == 0 ? XCHG_OK : rc == 1 ? XCHG_TIMEOUT : XCHG_ERROR;
	}
	if (c->sock == NULL) {
		*why = "not connected";
		return XCHG_ERROR;
	}
	do {
		rc = zmq_send(c->sock, req, len, 0);
	} while (rc < 0 && zmq_errno() == EINTR);
	if (rc < 0) {
		x = zmq_errno() == EAGAIN ? XCHG_TIMEOUT : XCHG_ERROR;
		*why = zmq_strerror(zmq_errno());
	} else {
		x = conn_recv(c, reply, size, why);
	}
	if (x != XCHG_OK)
		conn_reopen(c);
	return x;
}

/* Writes the signup reply text to path (--save-signup); 0 or -1 (printed). */
static int save_signup(const char *path, const char *reply, size_t size)
{
	FILE *f = fopen(path, "wb");
	int ok;

	if (f == NULL) {
		fprintf(stderr, "tcclient: --save-signup %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = fwrite(reply, 1, size, f) == size;
	if (fclose(f) != 0 || !ok) {
		fprintf(stderr, "tcclient: --save-signup %s: write failed\n", path);
		return -1;
	}
	fprintf(stderr, "worker signup: saved to %s\n", path);
	return 0;
}

/* Asks the worker for its signup data and verifies it into su (released
 * by tcw_signup_fini), saving the reply to save_path when not NULL; 0,
 * TCW_ERR_REMOTE (no usable reply or not saved) or the error of
 * tcw_signup_parse. */
static int do_signup(struct conn *c, struct tcw_signup *su, const char *save_path)
{
	struct tcw_error e = {0};
	char req[128], *reply = NULL;
	const char *why = "";
	uint32_t r = 0;
	size_t size = 0;
	enum xchg x;
	int rc;

	if (tcw_random_bytes(&r, sizeof(r)) != 0)
		r = 0;
	snprintf(req, sizeof(req),
	         "{\"jsonrpc\": \"2.0\", \"id\": %u, "
	         "\"method\": \"ProcessWorkerSignup\", \"params\": null}",
	         (unsigned)(r % 100001u));
	x = conn_exchange(c, req, strlen(req), &reply, &size, &why);
	if (x != XCHG_OK) {
		fprintf(stderr, "tcclient: worker signup: %s%s\n",
		        x == XCHG_TIMEOUT ? "no reply from the worker: " : "", why);
		return TCW_ERR_REMOTE;
	}
	rc = tcw_signup_parse(reply, size, su, &e);
	if (rc == 0 && save_path != NULL && save_signup(save_path, reply, size) != 0)
		rc = TCW_ERR_REMOTE;
	free(reply);
	if (rc == TCW_ERR_VERIFY) {
		fputs("tcclient: worker signup: encryption_key_signature does "
		      "not verify with verifying_key\n",
		      stderr);
		return rc;
	}
	if (rc != 0) {
		fprintf(stderr, "tcclient: worker signup: %s%s%s\n", tcw_strerror(rc),
		        e.field[0] ? ": " : "", e.field);
		return rc;
	}
	fprintf(stderr,
	        "worker signup: RSA %u-bit encryption key, signature "
	        "verified\n",
	        tcw_rsa_pem_bits(su->encryption_key));
	if (su->mrenclave != NULL && su->mrenclave[0] != '\0')
		fprintf(stderr, "worker signup: mrenclave %.64s\n", su->mrenclave);
	return 0;
}

/* Classifies the result of tcw_order_check_reply into out. */
static void classify_reply(int rc, const struct tcw_error *e, struct tcc_outcome *out, char *detail,
                           size_t detail_size)
{
	switch (rc) {
	case TCW_OK:
		out->kind = TCC_OUT_OK;
		fputs("Work order result verification success\n", stderr);
		return;
	case TCW_ERR_REMOTE:
		out->kind = TCC_OUT_REMOTE;
		return;
	case TCW_ERR_NOMEM:
		out->kind = TCC_OUT_REQUEST;
		snprintf(detail, detail_size, "out of memory");
		out->detail = detail;
		return;
	default:
		out->kind = TCC_OUT_VERIFY;
		fprintf(stderr, "tcclient: work order %s: reply rejected: %s%s%s\n",
		        out->work_order_id, tcw_strerror(rc), e->field[0] ? ": " : "", e->field);
		return;
	}
}

/* Builds, sends and checks one order, then prints its outcome; returns 0
 * when it succeeded and verified, else TCW_ERR_REMOTE. */
static int run_order(struct conn *c, const struct tcc_submit_opts *opts,
                     const struct tcw_signup *su, struct tcw_session *session,
                     const struct tcc_order_spec *spec, size_t i, size_t n)
{
	struct tcw_order_options oo = {
	    .worker_id = c->gw ? tcc_gw_worker_id(c->gw) : opts->worker_id,
	    .nonce_safe = !opts->compat,
	    .out_items = opts->out_items,
	    .signing_key = opts->sign ? opts->signing_key : NULL,
	    .session = session,
	};
	struct tcw_wl_input in = {0, spec->input, spec->input_size};
	struct tcw_order_result res = {0};
	struct tcc_outcome out = {.workload = spec->workload, .res = &res};
	struct tcw_error e = {0};
	struct tcw_order *o = NULL;
	char detail[TCC_ERR_SIZE], *reply = NULL, **saved = NULL;
	const char *req, *why = "";
	size_t len = 0, size = 0;
	enum xchg x;
	int rc;

	out.detail = detail;
	rc = tcw_order_build(su->encryption_key, spec->workload, &in, 1, &oo, &o);
	if (rc != 0) {
		out.kind = TCC_OUT_REQUEST;
		snprintf(detail, sizeof(detail), "cannot build the request: %s", tcw_strerror(rc));
		goto report;
	}
	out.work_order_id = tcw_order_id(o);
	fprintf(stderr, "Send work order request via %s (%zu/%zu, %.64s)\n",
	        c->gw ? "the gateway" : "zmq", i + 1, n, spec->workload);
	req = tcw_order_request(o, &len);
	c->order = o;
	x = conn_exchange(c, req, len, &reply, &size, &why);
	if (x != XCHG_OK) {
		out.kind = x == XCHG_TIMEOUT ? TCC_OUT_TIMEOUT : TCC_OUT_TRANSPORT;
		if (x == XCHG_TIMEOUT)
			snprintf(detail, sizeof(detail), "no reply within %d ms", opts->timeout_ms);
		else
			snprintf(detail, sizeof(detail), "%s", why);
		goto report;
	}
	rc = tcw_order_check_reply(o, su->verifying_key, reply, size, &res, &e);
	classify_reply(rc, &e, &out, detail, sizeof(detail));
	if (out.kind == TCC_OUT_OK && opts->out_dir != NULL) {
		/* --out-dir: a result that cannot be saved counts as failed. */
		if (tcc_save_outputs(opts->out_dir, opts->in_file, i + 1, &res, &saved, detail,
		                     sizeof(detail)) != 0)
			out.kind = TCC_OUT_REQUEST;
		out.saved = saved;
	}
report:
	if (tcc_report(stdout, opts->json, &out) != 0)
		fputs("tcclient: out of memory while printing a result\n", stderr);
	tcc_paths_free(saved, res.output_count);
	tcw_order_result_fini(&res);
	tcw_order_free(&o);
	free(reply);
	return out.kind == TCC_OUT_OK ? TCW_OK : TCW_ERR_REMOTE;
}

/* Signup, then every order in turn; returns a TCC_EXIT_* status. */
int tcc_submit_run(const struct tcc_submit_opts *opts, const struct tcc_order_list *orders)
{
	struct conn c = {.url = opts->connect, .timeout_ms = opts->timeout_ms};
	struct tcc_quote_expect x = {0};
	struct tcw_signup su = {0};
	struct tcw_session *session = NULL;
	int status = TCC_EXIT_FAIL, rc;
	size_t i;

	c.ctx = zmq_ctx_new();
	if (c.ctx == NULL) {
		fprintf(stderr, "tcclient: cannot create a ZeroMQ context: %s\n",
		        zmq_strerror(zmq_errno()));
		return TCC_EXIT_FAIL;
	}
	if (opts->gateway != NULL) {
		c.gw = tcc_gw_open(opts->gateway, opts->worker_name, opts->timeout_ms);
		rc = c.gw ? 0 : TCW_ERR_NOMEM;
		c.zerr = ENOMEM;
	} else {
		rc = conn_open(&c);
	}
	if (rc != 0) {
		fprintf(stderr, "tcclient: --connect '%s': %s\n", c.url, zmq_strerror(c.zerr));
		status = rc == TCW_ERR_INVALID_PARAM ? TCC_EXIT_USAGE : TCC_EXIT_FAIL;
		goto out;
	}
	if (opts->signup_file != NULL) {
		/* A signup kept from earlier: the worker must still hold these keys. */
		if (tcc_signup_load(opts->signup_file, &su) != 0) {
			status = TCC_EXIT_USAGE;
			goto out;
		}
		fprintf(stderr,
		        "worker signup: from %s, RSA %u-bit encryption key, signature "
		        "verified\n",
		        opts->signup_file, tcw_rsa_pem_bits(su.encryption_key));
	} else if (c.gw != NULL ? tcc_gw_signup(c.gw, &su) != 0
	                        : do_signup(&c, &su, opts->save_signup) != 0) {
		goto out;
	}
	x.mrenclave = opts->expect_mrenclave;
	x.mrsigner = opts->expect_mrsigner;
	if (tcc_quote_check_signup(stderr, &su, &x) != 0)
		goto out;
	if (opts->session_reuse)
		fprintf(stderr,
		        "work order requests: session reuse (one session key for up to %zu orders, "
		        "own IV per encryption)%s\n",
		        opts->session_reuse, opts->sign ? ", signed" : "");
	else
		fprintf(stderr, "work order requests: %s%s\n",
		        opts->compat ? "reference client layout (--compat)"
		                     : "nonce-safe (own data key and IV per item)",
		        opts->sign ? ", signed" : "");
	if (orders->count == 0)
		fputs("tcclient: no work orders to submit\n", stderr);
	status = TCC_EXIT_OK;
	for (i = 0; i < orders->count; i++) {
		if (opts->session_reuse &&
		    (rc = tcc_session_ready(&session, su.encryption_key, opts->session_reuse)) != 0) {
			fprintf(stderr, "tcclient: cannot make a session key: %s\n",
			        tcw_strerror(rc));
			status = TCC_EXIT_FAIL;
			break;
		}
		if (run_order(&c, opts, &su, session, &orders->items[i], i, orders->count) != 0)
			status = TCC_EXIT_FAIL;
	}
out:
	tcw_session_free(&session);
	tcw_signup_fini(&su);
	tcc_gw_close(c.gw);
	conn_close(&c);
	zmq_ctx_term(c.ctx);
	return status;
}
