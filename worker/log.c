/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - one-line, timestamped, level-filtered log records on stderr. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

/* Longest message kept in one line; longer ones are cut with "...". */
#define LOG_LINE_SIZE 2048

static int g_log_level = TCW_LOG_INFO;

static const char *const g_level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

/* Sets the most verbose level written (a TCW_LOG_* value). */
void log_set_level(int level)
{
	if (level < TCW_LOG_ERROR)
		level = TCW_LOG_ERROR;
	if (level > TCW_LOG_DEBUG)
		level = TCW_LOG_DEBUG;
	g_log_level = level;
}

/* Non-zero when lines at level are written. */
int log_enabled(int level)
{
	return level <= g_log_level;
}

/* Parses a level name (any case) into *level; 0 or TCW_ERR_INVALID_PARAM. */
int log_level_parse(const char *text, int *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(text, names[i]) == 0) {
			*level = (int)i;
			return 0;
		}
	}
	return TCW_ERR_INVALID_PARAM;
}

/* Writes "YYYY-mm-ddTHH:MM:SS.mmmZ" into out (at least 32 bytes). */
static void format_time(char *out, size_t outsize)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || gmtime_r(&ts.tv_sec, &tm) == NULL) {
		snprintf(out, outsize, "1970-01-01T00:00:00.000Z");
		return;
	}
	n = strftime(out, outsize, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, outsize - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* Copies msg into out, escaping control characters so a record stays on
 * one line; cuts with "..." when out is full. */
static void escape_controls(char *out, size_t outsize, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *msg != '\0'; msg++) {
		unsigned char c = (unsigned char)*msg;
		size_t need = (c < 0x20 || c == 0x7f) ? 4 : 1;

		if (o + need + 4 > outsize) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o] = '\0';
}

/* Formats the record and writes it with one fwrite, then flushes. */
static void write_record(int level, const char *message)
{
	char stamp[40];
	char clean[LOG_LINE_SIZE];

	format_time(stamp, sizeof(stamp));
	escape_controls(clean, sizeof(clean), message);
	flockfile(stderr);
	fprintf(stderr, "%s %s %s\n", stamp, g_level_names[level], clean);
	fflush(stderr);
	funlockfile(stderr);
}

/* va_list form of log_msg. */
void log_vmsg(int level, const char *fmt, va_list ap)
{
	char message[LOG_LINE_SIZE];

	if (level < TCW_LOG_ERROR)
		level = TCW_LOG_ERROR;
	if (level > TCW_LOG_DEBUG)
		level = TCW_LOG_DEBUG;
	if (!log_enabled(level))
		return;
	vsnprintf(message, sizeof(message), fmt, ap);
	write_record(level, message);
}

/* Writes one timestamped line at level to stderr and flushes it. */
void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* log_msg at TCW_LOG_ERROR. */
void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(TCW_LOG_ERROR, fmt, ap);
	va_end(ap);
}

/* log_msg at TCW_LOG_WARN. */
void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(TCW_LOG_WARN, fmt, ap);
	va_end(ap);
}

/* log_msg at TCW_LOG_INFO. */
void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(TCW_LOG_INFO, fmt, ap);
	va_end(ap);
}

/* log_msg at TCW_LOG_DEBUG. */
void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(TCW_LOG_DEBUG, fmt, ap);
	va_end(ap);
}

/* The handler installed with tcw_set_log_handler: forwards library lines. */
void log_lib_handler(int level, const char *message)
{
	log_msg(level, "%s", message != NULL ? message : "");
}

/* Escapes and caps in[0..len) into out; see log.h. Returns out. */
char *log_escape(char *out, size_t outsize, const void *in, size_t len, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i, o = 0;

	if (outsize < 8) {
		if (outsize > 0)
			out[0] = '\0';
		return out;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];
		int plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
		size_t need = plain ? 1 : 4;

		if (i >= cap || o + need + 4 > outsize) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}
