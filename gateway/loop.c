/* SPDX-License-Identifier: Apache-2.0 */
/* loop.c - the gateway's event loop: one thread serves HTTP, sends orders to the workers and
 * reads their replies, completes long polls and commits the store's queued writes, so a work
 * order crosses no thread of the gateway's own on its way. Other threads post to it. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "gateway.h"
#include "log.h"

#define MAX_EVENTS 64
/* Longest sleep: the loop looks at its timers at least this often. */
#define MAX_SLEEP_MS 1000
/* Group commit: the writes of at most this many turns of the loop, queued
 * within this many milliseconds, share a transaction; it is committed
 * earlier as soon as no more work is waiting. */
#define GATHER_TURNS 8
#define GATHER_MS 2

/* One closure posted by another thread. */
struct post {
	void (*fn)(struct gw *g, const char *arg);
	struct post *next;
	char arg[]; /* a copy of the argument ("" for none) */
};

struct gw_loop {
	int epfd;
	int efd; /* posts wake the loop through it */
	struct gw_source post_src;
	pthread_t thread;
	int started;
	pthread_mutex_t mu; /* guards posts */
	struct post *head, *tail;
	int64_t drain_until_ms; /* SIGTERM: dispatching ends by then, 0 = running */
};

static _Thread_local int t_in_loop;

/* Monotonic milliseconds (see gateway.h). */
int64_t gw_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Creates the loop (not running yet); 0 or an error. */
int gw_loop_init(struct gw *g)
{
	struct gw_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return TCW_ERR_NOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&l->mu, NULL);
	g->loop = l;
	/* until gw_loop_start, the thread setting things up owns the loop's state */
	t_in_loop = 1;
	if (l->epfd < 0 || l->efd < 0 || gw_loop_add(g, l->efd, &l->post_src) != 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		return TCW_ERR_INTERNAL;
	}
	return 0;
}

/* Watches fd for input; src->ready is set when it is readable. */
int gw_loop_add(struct gw *g, int fd, struct gw_source *src)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = src};

	src->ready = 0;
	return epoll_ctl(g->loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -1;
}

/* Stops watching fd. */
void gw_loop_del(struct gw *g, int fd)
{
	if (g->loop)
		epoll_ctl(g->loop->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* Runs fn(g, arg) on the loop's thread: at once when called there, else
 * queued (arg copied) and the loop woken. */
void gw_loop_post(struct gw *g, void (*fn)(struct gw *g, const char *arg), const char *arg)
{
	struct gw_loop *l = g->loop;
	size_t n = strlen(arg ? arg : "");
	struct post *p;
	uint64_t one = 1;

	if (t_in_loop) {
		fn(g, arg ? arg : "");
		return;
	}
	p = malloc(sizeof(*p) + n + 1);
	if (!p) {
		log_error("out of memory: a wake-up of the event loop is lost");
		return;
	}
	p->fn = fn;
	p->next = NULL;
	memcpy(p->arg, arg ? arg : "", n + 1);
	pthread_mutex_lock(&l->mu);
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	pthread_mutex_unlock(&l->mu);
	if (write(l->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("event loop wake-up: %s", strerror(errno));
}

/* Runs the posted closures. */
static void run_posts(struct gw *g)
{
	struct gw_loop *l = g->loop;
	struct post *p;
	uint64_t v;

	if (read(l->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("event loop: %s", strerror(errno));
	pthread_mutex_lock(&l->mu);
	p = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->mu);
	while (p) {
		struct post *next = p->next;

		p->fn(g, p->arg);
		free(p);
		p = next;
	}
}

/* Commits the queued writes; their completions (answers to submissions,
 * results for long polls, orders handed to dispatchers) run here. */
static void commit(struct gw *g)
{
	while (store_has_queued(g->store))
		store_flush(g->store);
}

/* The turns of the loop whose writes share one transaction. */
struct batch {
	int turns;
	int64_t since_ms; /* when the first write of the batch was queued */
};

/* Commits the batch, then sends what it released: orders to the workers,
 * answers to the clients. */
static void commit_and_release(struct gw *g, struct batch *b)
{
	commit(g);
	gw_dispatch_send(g);
	gw_http_run(g->http, 1);
	b->turns = 0;
}

/* SIGTERM on the loop: no new connections, long polls answered, HTTP
 * closed, dispatching ends when nothing is at a worker or after drain_ms. */
static void begin_drain(struct gw *g, const char *arg)
{
	struct gw_loop *l = g->loop;

	(void)arg;
	if (l->drain_until_ms)
		return;
	atomic_store(&g->draining, 1);
	l->drain_until_ms = gw_mono_ms() + (int64_t)g->cfg->drain_ms;
	gw_http_quiesce(g->http);
	gw_waiters_answer_all(g);
	commit(g);
	gw_http_run(g->http, 1);
	gw_http_close(g->http);
	gw_dispatch_drain(g);
}

static void *loop_main(void *arg)
{
	struct gw *g = arg;
	struct gw_loop *l = g->loop;
	struct epoll_event ev[MAX_EVENTS];
	struct batch batch = {0, 0};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	t_in_loop = 1;
	for (;;) {
		int64_t now = gw_mono_ms(), t = MAX_SLEEP_MS, x;
		int n, queued = store_has_queued(g->store);

		x = gw_http_timeout(g->http, now);
		if (x < t)
			t = x;
		x = gw_dispatch_timeout(g, now);
		if (x < t)
			t = x;
		x = gw_waiters_timeout(g, now);
		if (x < t)
			t = x;
		/* with writes queued, only look whether more work is there already */
		n = epoll_wait(l->epfd, ev, MAX_EVENTS, queued ? 0 : t < 0 ? 0 : (int)t);
		if (n <= 0 && queued) {
			/* nothing more came in: commit now */
			commit_and_release(g, &batch);
			continue;
		}
		if (!queued)
			batch.since_ms = now;
		for (int i = 0; i < n; i++)
			((struct gw_source *)ev[i].data.ptr)->ready = 1;
		if (l->post_src.ready) {
			l->post_src.ready = 0;
			run_posts(g);
		}
		gw_http_run(g->http, 0);
		gw_dispatch_run(g);
		gw_waiters_expire(g, gw_mono_ms());
		/* what arrived while there was work folds into the same transaction,
		 * up to a few turns or GATHER_MS */
		if (store_has_queued(g->store) &&
		    (++batch.turns >= GATHER_TURNS || gw_mono_ms() - batch.since_ms >= GATHER_MS ||
		     l->drain_until_ms))
			commit_and_release(g, &batch);
		else
			gw_http_run(g->http, 1); /* answers that needed no commit */
		if (l->drain_until_ms &&
		    (gw_dispatch_idle(g) || gw_mono_ms() >= l->drain_until_ms) &&
		    !store_has_queued(g->store))
			break;
	}
	gw_dispatch_requeue(g);
	return NULL;
}

/* Starts the loop's thread. */
int gw_loop_start(struct gw *g)
{
	struct gw_loop *l = g->loop;

	l->started = 1;
	t_in_loop = 0;
	if (pthread_create(&l->thread, NULL, loop_main, g) != 0) {
		l->started = 0;
		t_in_loop = 1;
		log_error("cannot start the event loop");
		return TCW_ERR_INTERNAL;
	}
	return 0;
}

/* SIGTERM: drains (see begin_drain) and waits for the loop to end. */
void gw_loop_drain(struct gw *g)
{
	struct gw_loop *l = g->loop;

	if (!l || !l->started)
		return;
	gw_loop_post(g, begin_drain, NULL);
	pthread_join(l->thread, NULL);
	l->started = 0;
	t_in_loop = 1; /* what is left is torn down by this thread */
}

/* Frees the loop (its thread ended or never started). */
void gw_loop_free(struct gw *g)
{
	struct gw_loop *l = g->loop;

	if (!l)
		return;
	if (l->started)
		gw_loop_drain(g);
	while (l->head) {
		struct post *p = l->head;

		l->head = p->next;
		free(p);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->efd >= 0)
		close(l->efd);
	pthread_mutex_destroy(&l->mu);
	free(l);
	g->loop = NULL;
}
