/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_frame.c - libFuzzer target (a): any bytes as one request frame through
 * tcw_process_frame (envelope, UTF-8 and JSON checks, dispatch, parameter
 * validation, and with the seed corpus's valid orders the whole work-order
 * path), with fixed worker keys and an echoing runner. Every reply must be
 * one well-formed JSON object: the signup object, a result whose
 * workerSignature verifies, or an error with a fixed message and code.
 */
#include <stdlib.h>

#include "fuzz_common.h"

/* Loads the fixed keys and plugins once. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	return 0;
}

/* One frame in, one checked reply out. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *reply = NULL;
	size_t reply_size = 0;
	json_object *root;

	if (tcw_process_frame(fz_processor(), (const char *)data, size, &reply, &reply_size) !=
	    TCW_OK)
		fz_fail("tcw_process_frame returned no reply");
	root = fz_check_reply(reply, reply_size);
	json_object_put(root);
	free(reply);
	return 0;
}
