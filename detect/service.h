/* SPDX-License-Identifier: Apache-2.0 */
/* service.h - tcdetect's request handling and ZMQ REP loop (reference protocol, §11). */
#ifndef TCD_SERVICE_H
#define TCD_SERVICE_H

#include <signal.h>
#include <stddef.h>

#include "detector.h"

/* The exact reply texts of the reference inference service. */
#define TCD_REPLY_SUCCESS "Openvino Success: Generated output file: "
#define TCD_REPLY_FAILED "Openvino Error: Could not execute OpenVino workorder"
#define TCD_REPLY_NO_WORKLOAD "Error: Json doesn't contain workloadId"
#define TCD_REPLY_NO_PARAMS "Error: Json doesn't contain input params"
#define TCD_REPLY_UNSUPPORTED "Error: Unsupported workload"
/* The one workload the service runs. */
#define TCD_WORKLOAD_ID "ov-inference"
/* Largest request accepted (it only carries an image name). */
#define TCD_MAX_REQUEST 4096
/* Buffer size that holds any reply. */
#define TCD_REPLY_SIZE 512

/* What the service works with; the directories are open descriptors so a
 * request can only name files directly inside them. */
struct tcd_service {
	struct tcd_detector *detector; /* borrowed */
	int images_fd;                 /* O_DIRECTORY descriptor of the images */
	int output_fd;                 /* O_DIRECTORY descriptor for <stem>.bmp */
	size_t max_input;              /* largest image file read, bytes */
};

/* Prints a timestamped line to stderr (never image contents). */
void tcd_log(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Answers one request frame (any bytes): writes the reply text into
 * reply (TCD_REPLY_SIZE bytes, NUL-terminated) and returns its length.
 * Never fails: every problem maps to one of the reference error texts. */
size_t tcd_service_handle(struct tcd_service *s, const void *frame, size_t size, char *reply);

/* Binds a REP socket on url and answers requests until *stop becomes
 * non-zero. Returns 0 on a clean stop, TCD_ERR_IO when the socket cannot
 * be set up (reason logged). */
int tcd_service_run(struct tcd_service *s, const char *url, volatile sig_atomic_t *stop);

#endif /* TCD_SERVICE_H */
