/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_choice.c - the measurement behind tcgateway's HTTP server library
 * (docs/gateway.md): the same JSON-RPC-sized POST answered by libmicrohttpd
 * (thread per connection, and an internal 2-thread pool) and by libevent's
 * evhttp (one event loop), driven by C keep-alive client threads on
 * loopback. Prints requests/s and the server's CPU time per request.
 *
 * Not part of the build (it needs libevent-dev, which nothing else uses):
 *   cc -O2 -o http_choice bench/http_choice.c -lmicrohttpd -levent -lpthread
 *   ./http_choice [requests]   (per cell, shared by its clients; default 20000)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <microhttpd.h>

#define REPLY "{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":5,\"message\":\"Work order is computing\",\"data\":{\"workOrderId\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}}}"

static char g_body[1500];

/* ---- libmicrohttpd ---- */
struct mhd_req {
	size_t got;
};

static enum MHD_Result mhd_handler(void *cls, struct MHD_Connection *c, const char *url,
                                   const char *method, const char *version,
                                   const char *upload, size_t *upload_size, void **state)
{
	struct mhd_req *r = *state;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls; (void)url; (void)method; (void)version;
	if (r == NULL) {
		r = calloc(1, sizeof(*r));
		*state = r;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		(void)upload;
		r->got += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(REPLY) - 1, (void *)REPLY,
	                                       MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void mhd_done(void *cls, struct MHD_Connection *c, void **state,
                     enum MHD_RequestTerminationCode t)
{
	(void)cls; (void)c; (void)t;
	free(*state);
	*state = NULL;
}

static void serve_mhd(int fd, int pool)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_INTERNAL_THREAD;
	struct MHD_Daemon *d;

	if (!pool)
		flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
		        MHD_USE_POLL;
	d = MHD_start_daemon(flags, 0, NULL, NULL, mhd_handler, NULL, MHD_OPTION_LISTEN_SOCKET,
	                     fd, MHD_OPTION_NOTIFY_COMPLETED, mhd_done, NULL,
	                     pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, 2,
	                     MHD_OPTION_END);
	if (d == NULL)
		_exit(1);
	pause();
}

/* ---- libevent evhttp ---- */
static void ev_handler(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
	evbuffer_add_reference(out, REPLY, sizeof(REPLY) - 1, NULL, NULL);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	                  "application/json");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void serve_evhttp(int fd)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);

	evutil_make_socket_nonblocking(fd);
	evhttp_set_gencb(http, ev_handler, NULL);
	evhttp_accept_socket(http, fd);
	event_base_dispatch(base);
}

/* ---- client ---- */
struct client {
	int port, n;
};

static void *client_run(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
	char req[2048], buf[4096];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, i, len;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	len = snprintf(req, sizeof(req),
	               "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
	               "Content-Length: %zu\r\n\r\n%s",
	               strlen(g_body), g_body);
	for (i = 0; i < c->n; i++) {
		size_t got = 0;
		char *hdr_end = NULL;
		long clen = -1;

		if (write(fd, req, (size_t)len) != len)
			break;
		for (;;) {
			ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);

			if (r <= 0)
				goto out;
			got += (size_t)r;
			buf[got] = '\0';
			if (hdr_end == NULL && (hdr_end = strstr(buf, "\r\n\r\n")) != NULL) {
				char *cl = strcasestr(buf, "Content-Length:");
				clen = cl ? strtol(cl + 15, NULL, 10) : 0;
			}
			if (hdr_end && (long)(got - (size_t)(hdr_end + 4 - buf)) >= clen)
				break;
		}
	}
out:
	close(fd);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void measure(const char *name, int kind, int per, int clients)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	pthread_t th[64];
	struct client c;
	struct rusage ru;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, status, i;
	pid_t pid;
	double t0, t1, cpu;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	listen(fd, 128);
	getsockname(fd, (struct sockaddr *)&a, &al);
	pid = fork();
	if (pid == 0) {
		if (kind == 2)
			serve_evhttp(fd);
		else
			serve_mhd(fd, kind);
		_exit(0);
	}
	close(fd);
	usleep(200000);
	c.port = ntohs(a.sin_port);
	c.n = per;
	t0 = now_s();
	for (i = 0; i < clients; i++)
		pthread_create(&th[i], NULL, client_run, &c);
	for (i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	kill(pid, SIGKILL);
	wait4(pid, &status, 0, &ru);
	cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("%-34s %2d clients: %8.0f req/s wall, server CPU %5.1f us/req\n", name, clients,
	       per * clients / (t1 - t0), cpu * 1e6 / (per * clients));
}

int main(int argc, char **argv)
{
	int clients[] = {1, 8};
	long per = 20000;
	char *end = NULL;
	size_t i;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [requests]\n", argv[0]);
		return 2;
	}
	if (argc > 1) {
		errno = 0;
		per = strtol(argv[1], &end, 10);
		if (errno != 0 || end == argv[1] || *end != '\0' || per < 8 || per > 100000000) {
			fprintf(stderr, "%s: requests '%s': expected an integer from 8 to 100000000\n",
			        argv[0], argv[1]);
			return 2;
		}
	}

	setvbuf(stdout, NULL, _IONBF, 0);
	memset(g_body, 'a', sizeof(g_body) - 1);
	for (i = 0; i < 2; i++) {
		measure("libmicrohttpd thread/connection", 0, (int)(per / clients[i]), clients[i]);
		measure("libmicrohttpd epoll, 2-thread pool", 1, (int)(per / clients[i]), clients[i]);
		measure("libevent evhttp, one loop", 2, (int)(per / clients[i]), clients[i]);
	}
	return 0;
}
