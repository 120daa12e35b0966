/* SPDX-License-Identifier: Apache-2.0 */
/* log.h - the worker's timestamped stderr logger, also libtcw's log handler. */
#ifndef TCW_WORKER_LOG_H
#define TCW_WORKER_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include "tcw/tcw.h"

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LOG_PRINTF(a, b)
#endif

/* Longest escaped name or method written by the worker into a log line. */
#define LOG_NAME_MAX 64
/* Buffer size that holds any log_escape() output for LOG_NAME_MAX input. */
#define LOG_ESCAPED_SIZE (LOG_NAME_MAX * 4 + 8)

/* Sets the most verbose level written (a TCW_LOG_* value). */
void log_set_level(int level);
/* Non-zero when lines at level are written. */
int log_enabled(int level);
/* Parses "error", "warn", "info" or "debug" (any case) into *level;
 * 0 or TCW_ERR_INVALID_PARAM. */
int log_level_parse(const char *text, int *level);
/* Writes one line "<UTC time> LEVEL message" to stderr and flushes it;
 * control characters in the message are escaped. */
void log_msg(int level, const char *fmt, ...) LOG_PRINTF(2, 3);
/* va_list form of log_msg. */
void log_vmsg(int level, const char *fmt, va_list ap) LOG_PRINTF(2, 0);
/* log_msg at TCW_LOG_ERROR. */
void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_msg at TCW_LOG_WARN. */
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_msg at TCW_LOG_INFO. */
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
/* log_msg at TCW_LOG_DEBUG. */
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/* The handler installed with tcw_set_log_handler: forwards library lines. */
void log_lib_handler(int level, const char *message);
/* Writes into out (outsize bytes, always NUL-terminated) the first cap
 * bytes of in[0..len) with bytes outside printable ASCII, '"' and '\\'
 * written as \xNN, and "..." appended when input was cut. Returns out. */
char *log_escape(char *out, size_t outsize, const void *in, size_t len, size_t cap);

#endif /* TCW_WORKER_LOG_H */
