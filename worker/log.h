/* SPDX-License-Identifier: Apache-2.0 */
/* log.h - the daemons' stderr logger (text, journal or JSON lines), also libtcw's log handler. */
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

/* How records are written to stderr. */
enum log_format {
	LOG_FORMAT_TEXT = 0, /* "<UTC time> LEVEL message" */
	LOG_FORMAT_JSON,     /* {"time","level","message"[,"work_order_id"]} per line */
};

/* Longest work order id kept for log records (longer ones are cut). */
#define LOG_WORK_ORDER_MAX 256

/* Sets the most verbose level written (a TCW_LOG_* value). */
void log_set_level(int level);
/* Non-zero when lines at level are written. */
int log_enabled(int level);
/* Parses "error", "warn", "info" or "debug" (any case) into *level;
 * 0 or TCW_ERR_INVALID_PARAM. */
int log_level_parse(const char *text, int *level);
/* Parses "text" or "json" (any case) into *format (a LOG_FORMAT_* value);
 * 0 or TCW_ERR_INVALID_PARAM. */
int log_format_parse(const char *text, int *format);
/* Sets the record format and looks at the environment once: when
 * JOURNAL_STREAM names the file stderr is (systemd's journal), records get
 * a "<N>" syslog priority prefix and text records lose their timestamp and
 * level name (the journal adds both). Call before the first record. */
void log_set_format(int format);
/* Non-zero when log_set_format found stderr to be the journal. */
int log_to_journal(void);
/* Names the work order this thread is handling in the records it writes
 * from now on (JSON "work_order_id"; id[0..len) is copied, escaped and cut
 * at LOG_WORK_ORDER_MAX); NULL forgets it. */
void log_set_work_order(const char *id, size_t len);
/* Writes one record (see log_set_format) to stderr and flushes it;
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
