/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - the process-wide log hook through which libtcw reports events. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "tcw/tcw.h"

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
