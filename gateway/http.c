/* SPDX-License-Identifier: Apache-2.0 */
/* http.c - the HTTP(S) listener and the admin unix socket (libmicrohttpd driven by the event
 * loop; a call answered later suspends its connection): limits, routing of /, /healthz and
 * /metrics. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#include "gateway.h"
#include "log.h"

#define PEM_MAX (1u << 20)

struct req;

/* One listener: the public one or the admin socket (loop thread only). */
struct listener {
	struct gw *g;
	int admin;
	struct MHD_Daemon *d;
	int fd;
	int epfd;             /* the daemon's epoll set, watched by the loop */
	struct gw_source src; /* ... readable */
	int resumed;          /* answers given since its last run */
	int64_t due_ms;       /* its next timeout (gw_mono_ms) */
	unsigned conns;       /* open connections */
	struct req *suspended; /* requests waiting for their answer */
};

/* Connections beyond --max-connections get a 503 answer; libmicrohttpd's own
 * limit, which closes without an answer, sits this far above it. */
#define CONN_HARD_MARGIN 64u

struct gw_http {
	struct listener pub, adm;
	char *cert, *key;
	char *admin_path;
};

/* Where a request is. */
enum { R_RECEIVING, R_SUSPENDED, R_ANSWERED };

/* The body of one POST being received, then its answer. */
struct req {
	char *body;
	size_t len, cap;
	int too_large;
	int phase;
	struct listener *l;
	struct MHD_Connection *conn;
	char *reply; /* R_ANSWERED */
	size_t reply_len;
	struct req *prev, *next; /* in l->suspended */
};

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               char *body, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, body, body ? MHD_RESPMEM_MUST_FREE
	                                                    : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	if (type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct gw *g, struct MHD_Connection *c, unsigned status,
                                    const char *text)
{
	if (status >= 400)
		atomic_fetch_add(&g->m.http_rejected, 1);
	return respond(c, status, "text/plain", strdup(text), strlen(text));
}

/* GET /healthz and /metrics. */
static enum MHD_Result serve_get(struct gw *g, struct MHD_Connection *c, const char *url)
{
	if (strcmp(url, "/healthz") == 0)
		return g->draining ? respond_text(g, c, MHD_HTTP_SERVICE_UNAVAILABLE, "draining\n")
		                   : respond_text(g, c, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/metrics") == 0) {
		size_t len = 0;
		char *m = gw_metrics_text(g, &len);

		if (!m)
			return respond_text(g, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return respond(c, MHD_HTTP_OK, "text/plain; version=0.0.4", m, len);
	}
	return respond_text(g, c, MHD_HTTP_NOT_FOUND, "not found: JSON-RPC is POST /\n");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **state)
{
	struct listener *l = cls;
	struct gw *g = l->g;
	struct req *r = *state;
	const char *cl;
	char *reply;
	size_t len = 0;
	int deferred = 0;

	(void)version;
	if (!r) {
		atomic_fetch_add(&g->m.http_requests, 1);
		if (l->conns > g->cfg->max_connections) {
			struct MHD_Response *busy;
			enum MHD_Result ret;
			static const char text[] = "too many connections (--max-connections)\n";

			atomic_fetch_add(&g->m.http_rejected, 1);
			busy = MHD_create_response_from_buffer(sizeof(text) - 1, (void *)text,
			                                       MHD_RESPMEM_PERSISTENT);
			if (!busy)
				return MHD_NO;
			MHD_add_response_header(busy, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
			MHD_add_response_header(busy, MHD_HTTP_HEADER_CONNECTION, "close");
			ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, busy);
			MHD_destroy_response(busy);
			return ret;
		}
		if (strcmp(method, MHD_HTTP_METHOD_GET) == 0 && !l->admin)
			return serve_get(g, c, url);
		if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
			return respond_text(g, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			                    "method not allowed: JSON-RPC is POST /\n");
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > g->cfg->max_body_bytes)
			return respond_text(g, c, MHD_HTTP_CONTENT_TOO_LARGE,
			                    "request body too large (--max-body-bytes)\n");
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->l = l;
		r->conn = c;
		*state = r;
		return MHD_YES;
	}
	if (r->phase == R_ANSWERED) {
		/* resumed: the deferred answer is here */
		reply = r->reply;
		len = r->reply_len;
		r->reply = NULL;
		return reply ? respond(c, MHD_HTTP_OK, "application/json", reply, len) : MHD_NO;
	}
	if (r->phase == R_SUSPENDED)
		return MHD_YES;
	if (*upload_size) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (r->too_large || r->len + n > g->cfg->max_body_bytes) {
			r->too_large = 1;
			return MHD_YES;
		}
		if (r->len + n + 1 > r->cap) {
			size_t cap = (r->len + n + 1) * 2;
			char *b;

			if (cap > g->cfg->max_body_bytes + 1)
				cap = g->cfg->max_body_bytes + 1;
			b = realloc(r->body, cap);
			if (!b)
				return MHD_NO;
			r->body = b;
			r->cap = cap;
		}
		memcpy(r->body + r->len, upload, n);
		r->len += n;
		return MHD_YES;
	}
	if (r->too_large)
		return respond_text(g, c, MHD_HTTP_CONTENT_TOO_LARGE,
		                    "request body too large (--max-body-bytes)\n");
	reply = gw_rpc(g, r->body ? r->body : "", r->len, l->admin, r, &len, &deferred);
	if (deferred) {
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		if (r->phase == R_ANSWERED)
			return on_request(cls, c, url, method, version, upload, upload_size, state);
		r->phase = R_SUSPENDED;
		r->prev = NULL;
		r->next = l->suspended;
		if (l->suspended)
			l->suspended->prev = r;
		l->suspended = r;
		MHD_suspend_connection(c);
		return MHD_YES;
	}
	if (!reply)
		return MHD_NO;
	if (len == 0) { /* only notifications: JSON-RPC sends nothing back */
		free(reply);
		return respond(c, MHD_HTTP_NO_CONTENT, NULL, NULL, 0);
	}
	return respond(c, MHD_HTTP_OK, "application/json", reply, len);
}

/* The answer of a deferred request (see gateway.h). */
void gw_http_answer(void *token, char *reply, size_t len)
{
	struct req *r = token;
	struct listener *l = r->l;

	free(r->reply);
	r->reply = reply;
	r->reply_len = len;
	if (r->phase != R_SUSPENDED) {
		/* answered before gw_rpc returned: on_request sends it */
		r->phase = R_ANSWERED;
		return;
	}
	r->phase = R_ANSWERED;
	if (r->prev)
		r->prev->next = r->next;
	else
		l->suspended = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	l->resumed = 1;
	MHD_resume_connection(r->conn);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode toe)
{
	struct req *r = *state;

	(void)cls;
	(void)c;
	(void)toe;
	if (r) {
		free(r->body);
		free(r->reply);
		free(r);
		*state = NULL;
	}
}

/* Counts the open connections of a listener. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;

	(void)c;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		l->conns++;
	else
		l->conns--;
}

/* libmicrohttpd's messages, as debug lines (a printf-like callback, so
 * clang's -Wformat-nonliteral knows fmt is a format). */
static void mhd_log(void *cls, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

/* Reads a PEM file whole (NUL-terminated), or NULL with a message. */
static char *read_pem(const char *path, const char *flag)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n;

	if (!f) {
		log_error("%s %s: cannot open: %s", flag, path, strerror(errno));
		return NULL;
	}
	buf = malloc(PEM_MAX + 1);
	if (buf) {
		n = fread(buf, 1, PEM_MAX, f);
		buf[n] = '\0';
		if (n == 0 || n == PEM_MAX) {
			log_error("%s %s: empty or too large", flag, path);
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* Binds ADDR:PORT (IPv4, or [IPv6]:PORT); sets *loopback. */
static int bind_tcp(const char *spec, int *loopback, char *shown, size_t shownsize)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	char host[256];
	const char *colon = strrchr(spec, ':');
	char *end = NULL;
	unsigned long port;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end || port > 65535)
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1)
			return -1;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			return -1;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		log_error("--listen %s: %s", spec, strerror(errno));
		close(fd);
		return -2;
	}
	if (ss.ss_family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, a, sizeof(a));
		snprintf(shown, shownsize, "[%s]:%u", a, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	} else {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, a, sizeof(a));
		snprintf(shown, shownsize, "%s:%u", a, ntohs(((struct sockaddr_in *)&ss)->sin_port));
	}
	return fd;
}

/* Binds the admin unix socket with mode 0600. */
static int bind_admin(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(a.sun_path)) {
		log_error("--admin-socket %s: path too long", path);
		return -1;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			log_error("--admin-socket %s: exists and is %s", path,
			          S_ISSOCK(st.st_mode) ? "in use by another process" : "not a socket");
			close(fd);
			return -1;
		}
		unlink(path);
		close(fd);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
	}
	old = umask(077);
	rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	umask(old);
	if (rc != 0 || chmod(path, 0600) != 0 || listen(fd, 64) != 0) {
		log_error("--admin-socket %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int start_daemon(struct gw_http *h, struct listener *l, int tls)
{
	const struct gw_config *c = l->g->cfg;
	const union MHD_DaemonInfo *info;
	/* driven by the event loop (no thread of its own): epoll, answers may
	 * come later (suspend/resume), optimistic reads and writes */
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
	                 MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0);

	l->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, l, MHD_OPTION_LISTEN_SOCKET, l->fd,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)(c->max_connections + CONN_HARD_MARGIN),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->idle_timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)c->max_header_bytes,
	    tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, h->key, MHD_OPTION_HTTPS_MEM_CERT,
	    h->cert, MHD_OPTION_END);
	if (!l->d)
		return -1;
	l->fd = -1; /* the daemon closes it */
	info = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
	l->epfd = info ? info->epoll_fd : -1;
	if (l->epfd < 0 || gw_loop_add(l->g, l->epfd, &l->src) != 0) {
		log_error("cannot watch the HTTP server's sockets");
		return -1;
	}
	l->src.ready = 1;
	return 0;
}

/* Runs one server's pending work. */
static void run_listener(struct listener *l, int resumed_only)
{
	if (!l->d)
		return;
	if (resumed_only ? !l->resumed : !(l->src.ready || l->resumed || gw_mono_ms() >= l->due_ms))
		return;
	l->src.ready = 0;
	l->resumed = 0;
	MHD_run(l->d);
}

/* Runs the servers that have something to do (see gateway.h). */
void gw_http_run(struct gw_http *h, int resumed_only)
{
	if (!h)
		return;
	run_listener(&h->pub, resumed_only);
	run_listener(&h->adm, resumed_only);
}

/* The next timeout of one server. */
static int64_t listener_timeout(struct listener *l, int64_t now_ms)
{
	MHD_UNSIGNED_LONG_LONG t = 0;

	if (!l->d)
		return 1000;
	if (l->resumed)
		return 0;
	if (MHD_get_timeout(l->d, &t) != MHD_YES || t > 1000)
		t = 1000;
	l->due_ms = now_ms + (int64_t)t;
	return (int64_t)t;
}

/* Milliseconds until a server's next timeout (see gateway.h). */
int64_t gw_http_timeout(struct gw_http *h, int64_t now_ms)
{
	int64_t a, b;

	if (!h)
		return 1000;
	a = listener_timeout(&h->pub, now_ms);
	b = listener_timeout(&h->adm, now_ms);
	return a < b ? a : b;
}

/* Starts the listeners (see gateway.h). */
int gw_http_start(struct gw *g, struct gw_http **out)
{
	const struct gw_config *c = g->cfg;
	struct gw_http *h = calloc(1, sizeof(*h));
	char shown[300];
	int loopback = 0, tls = c->tls_cert != NULL;

	*out = NULL;
	if (!h)
		return TCW_ERR_NOMEM;
	h->pub = (struct listener){.g = g, .fd = -1, .epfd = -1};
	h->adm = (struct listener){.g = g, .admin = 1, .fd = -1, .epfd = -1};
	if (tls && (!MHD_is_feature_supported(MHD_FEATURE_TLS) ||
	            !(h->cert = read_pem(c->tls_cert, "--tls-cert")) ||
	            !(h->key = read_pem(c->tls_key, "--tls-key")))) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS))
			log_error("this libmicrohttpd has no TLS support");
		goto fail;
	}
	h->pub.fd = bind_tcp(c->listen, &loopback, shown, sizeof(shown));
	if (h->pub.fd < 0) {
		if (h->pub.fd == -1)
			log_error("--listen %s: expected ADDR:PORT (IPv4) or [ADDR]:PORT (IPv6)", c->listen);
		goto fail;
	}
	if (!loopback && !tls) {
		if (!c->insecure_http) {
			log_error("--listen %s is not a loopback address: serve HTTPS (--tls-cert, "
			          "--tls-key) or accept plain HTTP with --insecure-http",
			          c->listen);
			goto fail;
		}
		log_warn("--insecure-http: plain HTTP on %s; clients trust WorkerRetrieve for the "
		         "workers' keys, so anyone on the path can substitute them",
		         shown);
	}
	if (c->admin_socket) {
		h->adm.fd = bind_admin(c->admin_socket);
		if (h->adm.fd < 0 || !(h->admin_path = strdup(c->admin_socket)) ||
		    start_daemon(h, &h->adm, 0) != 0)
			goto fail;
		log_info("admin socket %s (mode 0600)", c->admin_socket);
	}
	if (start_daemon(h, &h->pub, tls) != 0) {
		log_error("cannot start the HTTP server");
		goto fail;
	}
	log_info("listening on %s://%s", tls ? "https" : "http", shown);
	*out = h;
	return 0;
fail:
	gw_http_stop(&h);
	return TCW_ERR_INVALID_PARAM;
}

/* Stops accepting connections (see gateway.h). */
void gw_http_quiesce(struct gw_http *h)
{
	MHD_socket fd;

	if (!h || !h->pub.d)
		return;
	fd = MHD_quiesce_daemon(h->pub.d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd); /* new connections are refused at once */
}

/* Stops one server: its connections are closed. */
static void close_listener(struct listener *l)
{
	if (!l->d)
		return;
	while (l->suspended) {
		struct req *r = l->suspended;
		static const char busy[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":8,"
		                           "\"message\":\"Gateway busy: shutting down\"}}";

		/* cannot happen: the drain answers every deferred call first */
		log_error("http: a request still waited for its answer at shutdown");
		gw_http_answer(r, strdup(busy), sizeof(busy) - 1);
	}
	MHD_run(l->d);
	if (l->epfd >= 0)
		gw_loop_del(l->g, l->epfd);
	l->epfd = -1;
	MHD_stop_daemon(l->d);
	l->d = NULL;
}

/* Closes the servers (see gateway.h). */
void gw_http_close(struct gw_http *h)
{
	if (!h)
		return;
	close_listener(&h->pub);
	close_listener(&h->adm);
}

/* Frees the listeners (see gateway.h). */
void gw_http_stop(struct gw_http **hp)
{
	struct gw_http *h = hp ? *hp : NULL;

	if (!h)
		return;
	gw_http_close(h);
	if (h->pub.fd >= 0)
		close(h->pub.fd);
	if (h->adm.fd >= 0)
		close(h->adm.fd);
	if (h->admin_path)
		unlink(h->admin_path);
	free(h->admin_path);
	free(h->cert);
	free(h->key);
	free(h);
	*hp = NULL;
}
