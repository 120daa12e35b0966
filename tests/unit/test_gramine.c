/* SPDX-License-Identifier: Apache-2.0 */
/* test_gramine.c - the worker's Gramine detection and its bind-endpoint check. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gramine.h"

/* gramine_check_bind must accept endpoint. */
static void accepts(const char *endpoint)
{
	char why[512] = "untouched";

	assert_int_equal(gramine_check_bind(endpoint, why, sizeof(why)), 0);
	assert_string_equal(why, "untouched");
}

/* gramine_check_bind must refuse endpoint, naming it and suggesting the
 * wildcard form `suggestion`. */
static void refuses(const char *endpoint, const char *suggestion)
{
	char why[512] = "", want[512];

	assert_int_equal(gramine_check_bind(endpoint, why, sizeof(why)), TCW_ERR_INVALID_PARAM);
	snprintf(want, sizeof(want),
	         "cannot bind %s inside Gramine: libzmq aborts when it binds a literal address "
	         "there (no netlink); bind the wildcard instead, e.g. %s",
	         endpoint, suggestion);
	assert_string_equal(why, want);
}

static void test_wildcard_and_other_transports(void **state)
{
	(void)state;
	accepts("tcp://*:7777");
	accepts("tcp://*:*");
	accepts("ws://*:8080/path");
	accepts("ipc:///tmp/tcw.sock");
	accepts("inproc://tcw");
	accepts("tipc://{5560,0,0}");
	accepts("tcp:/127.0.0.1:7777"); /* not an endpoint; libzmq reports it */
	accepts("tcp://127.0.0.1");     /* no port: libzmq reports it */
	accepts("tcp://");
	accepts("");
}

static void test_literal_addresses(void **state)
{
	(void)state;
	refuses("tcp://127.0.0.1:7777", "tcp://*:7777");
	refuses("tcp://0.0.0.0:7777", "tcp://*:7777");
	refuses("tcp://localhost:*", "tcp://*:*");
	refuses("tcp://eth0:7777", "tcp://*:7777");
	refuses("tcp://[::1]:7777", "tcp://*:7777");
	refuses("tcp://**:1", "tcp://*:1");
	refuses("ws://10.0.0.1:80/x", "ws://*:80/x");
	refuses("wss://host:443", "wss://*:443");
	refuses("udp://127.0.0.1:5555", "udp://*:5555");
}

static void test_escaped_endpoint(void **state)
{
	char why[512] = "";

	(void)state;
	assert_int_equal(gramine_check_bind("tcp://a\nb:1", why, sizeof(why)),
	                 TCW_ERR_INVALID_PARAM);
	assert_non_null(strstr(why, "cannot bind tcp://a\\x0ab:1 inside Gramine"));
}

static void test_small_buffer(void **state)
{
	char why[16];

	(void)state;
	memset(why, 'x', sizeof(why));
	assert_int_equal(gramine_check_bind("tcp://127.0.0.1:7777", why, sizeof(why)),
	                 TCW_ERR_INVALID_PARAM);
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

static void test_detection_from_environment(void **state)
{
	int present = access(GRAMINE_ATTESTATION_TYPE, F_OK) == 0;

	(void)state;
	assert_int_equal(setenv(GRAMINE_ENV, "1", 1), 0);
	assert_true(gramine_detected());
	assert_int_equal(setenv(GRAMINE_ENV, "yes", 1), 0);
	assert_true(gramine_detected());
	assert_int_equal(setenv(GRAMINE_ENV, "0", 1), 0);
	assert_int_equal(gramine_detected(), present);
	assert_int_equal(setenv(GRAMINE_ENV, "", 1), 0);
	assert_int_equal(gramine_detected(), present);
	assert_int_equal(unsetenv(GRAMINE_ENV), 0);
	assert_int_equal(gramine_detected(), present);
	/* Outside Gramine the start-up check lets any endpoint through. */
	if (!present)
		assert_int_equal(gramine_startup_check("tcp://127.0.0.1:7777"), 0);
	assert_int_equal(setenv(GRAMINE_ENV, "1", 1), 0);
	assert_int_equal(gramine_startup_check("tcp://127.0.0.1:7777"), TCW_ERR_INVALID_PARAM);
	assert_int_equal(gramine_startup_check("tcp://*:7777"), 0);
	assert_int_equal(unsetenv(GRAMINE_ENV), 0);
}

/* Writes text into dir/attestation_type (NULL: removes it). */
static void set_type(const char *dir, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/attestation_type", dir);
	if (text == NULL) {
		unlink(path);
		return;
	}
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* The test sealing key is refused in SGX only, and only when set. */
static void test_insecure_test_key(void **state)
{
	char dir[] = "/tmp/tcw-test-gramine.XXXXXX";
	char why[1024];

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(unsetenv(GRAMINE_TEST_KEY_ENV), 0);
	set_type(dir, "dcap\n");
	assert_int_equal(gramine_check_test_key(dir, why, sizeof(why)), 0);
	assert_int_equal(setenv(GRAMINE_TEST_KEY_ENV, "0", 1), 0);
	assert_int_equal(gramine_check_test_key(dir, why, sizeof(why)), 0);
	assert_int_equal(setenv(GRAMINE_TEST_KEY_ENV, "1", 1), 0);
	why[0] = '\0';
	assert_int_equal(gramine_check_test_key(dir, why, sizeof(why)), TCW_ERR_INVALID_PARAM);
	assert_non_null(strstr(why, "TCW_INSECURE_TEST_KEY is set"));
	assert_non_null(strstr(why, "(attestation type 'dcap')"));
	assert_non_null(strstr(why, "SEAL_KEY=_sgx_mrenclave or _sgx_mrsigner"));
	set_type(dir, "epid");
	assert_int_equal(gramine_check_test_key(dir, why, sizeof(why)), TCW_ERR_INVALID_PARAM);
	/* gramine-direct: "none", or no attestation_type at all */
	set_type(dir, "none");
	assert_int_equal(gramine_check_test_key(dir, why, sizeof(why)), 1);
	set_type(dir, NULL);
	assert_int_equal(gramine_check_test_key(dir, why, sizeof(why)), 1);
	assert_int_equal(gramine_check_test_key("/nonexistent/dir", why, sizeof(why)), 1);
	assert_int_equal(unsetenv(GRAMINE_TEST_KEY_ENV), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wildcard_and_other_transports),
	    cmocka_unit_test(test_literal_addresses),
	    cmocka_unit_test(test_escaped_endpoint),
	    cmocka_unit_test(test_small_buffer),
	    cmocka_unit_test(test_detection_from_environment),
	    cmocka_unit_test(test_insecure_test_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
