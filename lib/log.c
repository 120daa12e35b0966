/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - the process-wide log hook through which libtcw reports events, the
 * once-per-spell limit of frequent warnings, and the stage clock of benchmarks. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "internal.h"
#include "tcw/tcw.h"

#define SPELL_NS ((uint64_t)TCW_LOG_SPELL_SECONDS * 1000000000u)

/* Longest log line passed to the handler; longer lines are truncated. */
#define TCW_LOG_LINE_SIZE 1024

static _Atomic(tcw_log_fn) g_log_handler;

/* Installs the process-wide handler for library log lines (NULL = drop). */
void tcw_set_log_handler(tcw_log_fn fn)
{
	atomic_store(&g_log_handler, fn);
}

/* Emits a printf-formatted line through the handler; never pass secrets. */
void tcw_logf(int level, const char *fmt, ...)
{
	tcw_log_fn fn = atomic_load(&g_log_handler);
	char line[TCW_LOG_LINE_SIZE];
	va_list ap;

	if (!fn || !fmt)
		return;
	va_start(ap, fmt);
	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		line[0] = '\0';
	va_end(ap);
	fn(level, line);
}

/* CLOCK_MONOTONIC in nanoseconds, never 0 (0 marks "no spell"). */
static uint64_t mono_ns(void)
{
	struct timespec ts;
	uint64_t t;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 1;
	t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return t ? t : 1;
}

/* Records one event of a rate-limited warning; see internal.h. */
int tcwi_spell_hit(struct tcwi_spell *s, uint64_t *quiet)
{
	uint64_t now = mono_ns(), start = atomic_load(&s->start_ns);

	*quiet = 0;
	if ((start != 0 && now - start < SPELL_NS) ||
	    !atomic_compare_exchange_strong(&s->start_ns, &start, now)) {
		atomic_fetch_add(&s->quiet, 1);
		return 0;
	}
	*quiet = atomic_exchange(&s->quiet, 0);
	return 1;
}

/* Ends the spell; see internal.h. */
uint64_t tcwi_spell_end(struct tcwi_spell *s)
{
	atomic_store(&s->start_ns, 0);
	return atomic_exchange(&s->quiet, 0);
}

/* Logs the counts of the rate-limited warnings; see tcw.h. */
void tcw_log_flush(void)
{
	tcwi_nonce_log_flush();
}

/* The stage clock's last mark on this thread (thread CPU time, seconds). */
static _Thread_local double t_stage_mark;

static double thread_cpu(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts the stage clock; see internal.h. */
void tcwi_stage_start(const struct tcw_processor *p)
{
	if (p->stage_times)
		t_stage_mark = thread_cpu();
}

/* Adds the time since the last mark to stage s; see internal.h. */
void tcwi_stage(const struct tcw_processor *p, enum tcw_stage s)
{
	double now;

	if (!p->stage_times)
		return;
	now = thread_cpu();
	p->stage_times->seconds[s] += now - t_stage_mark;
	t_stage_mark = now;
}
