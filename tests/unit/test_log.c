/* SPDX-License-Identifier: Apache-2.0 */
/* test_log.c - the daemons' log records (text, journal, JSON) and the readiness notification. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/* stderr redirected to a temporary file while a test writes records. */
struct capture {
	char path[64];
	int saved_fd;
};

static void capture_start(struct capture *c)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "/tmp/tcw-test-log.XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	fflush(stderr);
	c->saved_fd = dup(STDERR_FILENO);
	assert_true(c->saved_fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Sets JOURNAL_STREAM to the device and inode of the capture file, or to
 * those of another file when wrong is set. */
static void journal_env(const struct capture *c, int wrong)
{
	struct stat st;
	char v[64];

	assert_int_equal(stat(wrong ? "/" : c->path, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	         (unsigned long long)st.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

/* Restores stderr; returns what was written (caller frees). */
static char *capture_end(struct capture *c)
{
	char *text = calloc(1, 65536);
	FILE *fp;
	size_t n;

	fflush(stderr);
	assert_int_equal(dup2(c->saved_fd, STDERR_FILENO), STDERR_FILENO);
	close(c->saved_fd);
	assert_non_null(text);
	fp = fopen(c->path, "r");
	assert_non_null(fp);
	n = fread(text, 1, 65535, fp);
	text[n] = '\0';
	fclose(fp);
	unlink(c->path);
	unsetenv("JOURNAL_STREAM");
	log_set_format(LOG_FORMAT_TEXT);
	log_set_work_order(NULL, 0);
	return text;
}

/* 1 when t is "YYYY-mm-ddTHH:MM:SS.mmmZ". */
static int is_stamp(const char *t, size_t len)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	if (len != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < len; i++) {
		if (shape[i] == 'd' ? (t[i] < '0' || t[i] > '9') : t[i] != shape[i])
			return 0;
	}
	return 1;
}

static void test_text_exact_lines(void **state)
{
	struct capture c;
	char *out, *second;

	(void)state;
	log_set_level(TCW_LOG_INFO);
	capture_start(&c);
	log_set_format(LOG_FORMAT_TEXT);
	log_info("listening on %s", "tcp://127.0.0.1:7777");
	log_error("a\nb");
	out = capture_end(&c);
	second = strchr(out, '\n');
	assert_non_null(second);
	*second++ = '\0';
	assert_true(is_stamp(out, 24));
	assert_string_equal(out + 24, " INFO listening on tcp://127.0.0.1:7777");
	assert_true(is_stamp(second, 24));
	assert_string_equal(second + 24, " ERROR a\\x0ab\n");
	free(out);
}

static void test_journal_prefixes(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	log_set_level(TCW_LOG_DEBUG);
	capture_start(&c);
	journal_env(&c, 0);
	log_set_format(LOG_FORMAT_TEXT);
	assert_true(log_to_journal());
	log_error("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("d\tx");
	log_lib_handler(TCW_LOG_WARN, "from the library");
	out = capture_end(&c);
	assert_string_equal(out, "<3>e 1\n<4>w\n<6>i\n<7>d\\x09x\n<4>from the library\n");
	free(out);
	log_set_level(TCW_LOG_INFO);
}

static void test_journal_of_another_file(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	capture_start(&c);
	journal_env(&c, 1);
	log_set_format(LOG_FORMAT_TEXT);
	assert_false(log_to_journal());
	log_warn("w");
	out = capture_end(&c);
	assert_true(is_stamp(out, 24));
	assert_string_equal(out + 24, " WARN w\n");
	free(out);

	/* malformed values are not the journal either */
	assert_int_equal(setenv("JOURNAL_STREAM", "12:", 1), 0);
	log_set_format(LOG_FORMAT_TEXT);
	assert_false(log_to_journal());
	assert_int_equal(setenv("JOURNAL_STREAM", "x:1", 1), 0);
	log_set_format(LOG_FORMAT_TEXT);
	assert_false(log_to_journal());
	unsetenv("JOURNAL_STREAM");
	log_set_format(LOG_FORMAT_TEXT);
	assert_false(log_to_journal());
}

/* Parses one JSON record line and checks its members. */
static void expect_json(const char *line, const char *level, const char *message,
                        const char *work_order_id)
{
	json_object *obj = json_tokener_parse(line), *v;
	const char *t;

	assert_non_null(obj);
	assert_int_equal(json_object_object_length(obj), work_order_id ? 4 : 3);
	t = tu_str(obj, "time");
	assert_true(is_stamp(t, strlen(t)));
	assert_string_equal(tu_str(obj, "level"), level);
	assert_string_equal(tu_str(obj, "message"), message);
	if (work_order_id)
		assert_string_equal(tu_str(obj, "work_order_id"), work_order_id);
	else
		assert_false(json_object_object_get_ex(obj, "work_order_id", &v));
	json_object_put(obj);
}

/* Ends the line at s and returns the next one. */
static char *split_line(char *s)
{
	char *nl = strchr(s, '\n');

	assert_non_null(nl);
	*nl = '\0';
	return nl + 1;
}

static void test_json_records(void **state)
{
	struct capture c;
	char *out, *line, *next;

	(void)state;
	log_set_level(TCW_LOG_INFO);
	capture_start(&c);
	log_set_format(LOG_FORMAT_JSON);
	assert_false(log_to_journal());
	log_info("plain \"quoted\" back\\slash tab\t nl\n caf\xc3\xa9 bad\xff end");
	log_set_work_order("0aB1", 4);
	log_warn("workload %s ran out of its time budget", "fib");
	log_set_work_order("x\"y", 3);
	log_error("odd id");
	log_set_work_order(NULL, 0);
	log_info("after");
	out = capture_end(&c);
	/* one object per line, nothing else */
	assert_int_equal(out[strlen(out) - 1], '\n');
	line = out;
	next = split_line(line);
	expect_json(line, "info",
	            "plain \"quoted\" back\\slash tab\t nl\n caf\xc3\xa9 bad\\xff end", NULL);
	assert_non_null(strstr(line, "tab\\u0009 nl\\u000a caf\xc3\xa9"));
	line = next;
	next = split_line(line);
	expect_json(line, "warn", "workload fib ran out of its time budget", "0aB1");
	line = next;
	next = split_line(line);
	/* ids are escaped like every logged name (log_escape) */
	expect_json(line, "error", "odd id", "x\\x22y");
	line = next;
	next = split_line(line);
	expect_json(line, "info", "after", NULL);
	assert_string_equal(next, "");
	free(out);
}

static void test_json_on_the_journal(void **state)
{
	struct capture c;
	char *out;

	(void)state;
	capture_start(&c);
	journal_env(&c, 0);
	log_set_format(LOG_FORMAT_JSON);
	log_warn("w");
	out = capture_end(&c);
	assert_memory_equal(out, "<4>{", 4);
	expect_json(out + 3, "warn", "w", NULL);
	free(out);
}

static void test_format_parse(void **state)
{
	int f = -1;

	(void)state;
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_int_equal(log_format_parse("TEXT", &f), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse("journal", &f), TCW_ERR_INVALID_PARAM);
	assert_int_equal(log_format_parse("", &f), TCW_ERR_INVALID_PARAM);
}

/* A datagram socket bound at path (a file path, or "@name"); returns it. */
static int dgram_listener(const char *path)
{
	struct sockaddr_un sa;
	size_t len = strlen(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	                      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	                                  (path[0] == '/'))),
	                 0);
	return fd;
}

/* Sends state through NOTIFY_SOCKET=path and checks that fd receives it. */
static void notify_roundtrip(const char *path, int fd, const char *state)
{
	char buf[64];
	ssize_t n;

	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	assert_int_equal(notify_send(state), 1);
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, (ssize_t)strlen(state));
	assert_memory_equal(buf, state, (size_t)n);
}

static void test_notify(void **state)
{
	char path[64], abstract[64];
	int fd;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify_send("READY=1"), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", "", 1), 0);
	assert_int_equal(notify_send("READY=1"), 0);

	snprintf(path, sizeof(path), "/tmp/tcw-test-notify.%ld", (long)getpid());
	unlink(path);
	fd = dgram_listener(path);
	notify_roundtrip(path, fd, "READY=1");
	notify_roundtrip(path, fd, "STOPPING=1");
	close(fd);
	unlink(path);
	/* nobody listens there any more */
	assert_int_equal(notify_send("READY=1"), -1);

	snprintf(abstract, sizeof(abstract), "@tcw-test-notify.%ld", (long)getpid());
	fd = dgram_listener(abstract);
	notify_roundtrip(abstract, fd, "READY=1");
	close(fd);

	assert_int_equal(setenv("NOTIFY_SOCKET", "relative/path", 1), 0);
	errno = 0;
	assert_int_equal(notify_send("READY=1"), -1);
	assert_int_equal(errno, EINVAL);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_exact_lines),
	    cmocka_unit_test(test_journal_prefixes),
	    cmocka_unit_test(test_journal_of_another_file),
	    cmocka_unit_test(test_json_records),
	    cmocka_unit_test(test_json_on_the_journal),
	    cmocka_unit_test(test_format_parse),
	    cmocka_unit_test(test_notify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
