/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - one-line, level-filtered log records on stderr: timestamped text,
 * journal lines with priority prefixes, or JSON objects. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "tcw/utf8.h"

/* Longest message kept in one line; longer ones are cut with "...". */
#define LOG_LINE_SIZE 2048

static int g_log_level = TCW_LOG_INFO;
static int g_log_format = LOG_FORMAT_TEXT;
static int g_log_journal;
/* The work order the calling thread handles ("" = none), escaped. */
static _Thread_local char g_work_order[LOG_WORK_ORDER_MAX * 4 + 8];

static const char *const g_level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};
static const char *const g_level_json[] = {"error", "warn", "info", "debug"};
/* syslog priorities of the levels: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */
static const int g_level_priority[] = {3, 4, 6, 7};

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

/* Parses "text" or "json" (any case) into *format; 0 or TCW_ERR_INVALID_PARAM. */
int log_format_parse(const char *text, int *format)
{
	if (strcasecmp(text, "text") == 0)
		*format = LOG_FORMAT_TEXT;
	else if (strcasecmp(text, "json") == 0)
		*format = LOG_FORMAT_JSON;
	else
		return TCW_ERR_INVALID_PARAM;
	return 0;
}

/* 1 when JOURNAL_STREAM ("<device>:<inode>", set by systemd) names the
 * file open on stderr. */
static int stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (env == NULL || env[0] < '0' || env[0] > '9')
		return 0;
	dev = strtoull(env, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return 0;
	ino = strtoull(end + 1, &end, 10);
	if (*end != '\0' || fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Sets the record format; detects the journal on stderr (see log.h). */
void log_set_format(int format)
{
	g_log_format = format == LOG_FORMAT_JSON ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
	g_log_journal = stderr_is_journal();
}

/* Non-zero when records go to the journal. */
int log_to_journal(void)
{
	return g_log_journal;
}

/* Names (or with NULL forgets) this thread's work order in its records. */
void log_set_work_order(const char *id, size_t len)
{
	if (id == NULL)
		g_work_order[0] = '\0';
	else
		log_escape(g_work_order, sizeof(g_work_order), id, len, LOG_WORK_ORDER_MAX);
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

/* Copies msg into out as the inside of a JSON string: '"', '\\' and
 * control characters escaped, bytes that are not UTF-8 written as the
 * text \\xNN; cuts with "..." when out is full. */
static void escape_json(char *out, size_t outsize, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)msg;
	size_t n = strlen(msg), i = 0, o = 0;
	uint32_t cp;

	while (i < n) {
		size_t len = tcw_utf8_char(p + i, n - i, &cp);
		char esc[8];
		size_t need;

		if (len == 0) {
			memcpy(esc, "\\\\x", 3);
			esc[3] = hex[p[i] >> 4];
			esc[4] = hex[p[i] & 0xf];
			need = 5, len = 1;
		} else if (cp == '"' || cp == '\\') {
			esc[0] = '\\', esc[1] = (char)cp, need = 2;
		} else if (cp < 0x20 || cp == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[cp >> 4];
			esc[5] = hex[cp & 0xf];
			need = 6;
		} else {
			need = 0;
		}
		if (o + (need ? need : len) + 4 > outsize) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (need) {
			memcpy(out + o, esc, need);
			o += need;
		} else {
			memcpy(out + o, p + i, len);
			o += len;
		}
		i += len;
	}
	out[o] = '\0';
}

/* Formats the record and writes it with one fprintf, then flushes. */
static void write_record(int level, const char *message)
{
	char stamp[40], prio[8] = "";
	char clean[LOG_LINE_SIZE * 2];
	char wo[sizeof(g_work_order) * 2] = "";

	if (g_log_journal)
		snprintf(prio, sizeof(prio), "<%d>", g_level_priority[level]);
	if (g_log_format == LOG_FORMAT_JSON) {
		format_time(stamp, sizeof(stamp));
		escape_json(clean, sizeof(clean), message);
		escape_json(wo, sizeof(wo), g_work_order);
		flockfile(stderr);
		fprintf(stderr, "%s{\"time\":\"%s\",\"level\":\"%s\",\"message\":\"%s\"", prio,
		        stamp, g_level_json[level], clean);
		if (wo[0] != '\0')
			fprintf(stderr, ",\"work_order_id\":\"%s\"", wo);
		fputs("}\n", stderr);
	} else {
		escape_controls(clean, sizeof(clean), message);
		flockfile(stderr);
		if (g_log_journal) {
			fprintf(stderr, "%s%s\n", prio, clean);
		} else {
			format_time(stamp, sizeof(stamp));
			fprintf(stderr, "%s %s %s\n", stamp, g_level_names[level], clean);
		}
	}
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
