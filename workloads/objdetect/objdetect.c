/* SPDX-License-Identifier: Apache-2.0 */
/*
 * objdetect.c - the "object-detect" workload: the encrypted input is an
 * image (PNG, JPEG, BMP or PNM); the outputs are the detections as JSON
 * (index 0) and the annotated image as PNG (index 1). Detection runs inside
 * the worker, so the picture never leaves it in clear.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detector.h"
#include "tcw/workload.h"

/* What init() keeps: the loaded detector. */
struct objdetect {
	struct tcd_detector *detector;
};

/* Wipes and frees a heap string. */
static void free_text(char *p)
{
	if (p == NULL)
		return;
	memset(p, 0, strlen(p));
	free(p);
}

static int objdetect_init(const struct tcw_host *host, const char *config_json, void **state,
                          char *err, size_t errsize)
{
	struct objdetect *od = calloc(1, sizeof(*od));
	struct tcd_config c;
	int rc;

	if (od == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	tcd_config_init(&c);
	rc = tcd_config_set_cascades(&c, TCD_DEFAULT_CASCADES, NULL, err, errsize);
	if (rc == TCD_OK)
		rc = tcd_config_from_json(&c, config_json, err, errsize);
	if (rc == TCD_OK && c.cascade_count == 0 && c.dnn.model == NULL) {
		snprintf(err, errsize, "no detector configured (no cascades and no dnn.model)");
		rc = TCD_ERR_INVALID;
	}
	if (rc == TCD_OK)
		rc = tcd_detector_new(&c, &od->detector, err, errsize);
	if (rc == TCD_OK && TCW_HOST_HAS(host, log))
		host->log(TCW_WL_LOG_INFO, "object-detect: %zu cascades%s, images up to %zu bytes",
		          c.cascade_count, c.dnn.model != NULL ? " and a DNN" : "",
		          c.max_input_bytes);
	tcd_config_fini(&c);
	if (rc != TCD_OK) {
		free(od);
		return -1;
	}
	*state = od;
	return 0;
}

static int objdetect_execute(void *state, const struct tcw_host *host, struct tcw_wl_call *call)
{
	struct objdetect *od = state;
	const struct tcw_wl_input *in;
	struct tcd_result res = {0};
	char *json = NULL;
	int rc;

	in = call->input_count > 0 ? &call->inputs[0] : NULL;
	if (in == NULL || in->size == 0) {
		snprintf(call->error, sizeof(call->error), "no image in the input");
		return -1;
	}
	if (TCW_HOST_HAS(host, deadline_passed) && host->deadline_passed(call)) {
		snprintf(call->error, sizeof(call->error), "time budget spent before detection");
		return -1;
	}
	rc = tcd_detect(od->detector, in->data, in->size, ".png", &res, call->error,
	                sizeof(call->error));
	if (rc != TCD_OK)
		return -1;
	rc = -1;
	json = tcd_boxes_json(res.boxes, res.count);
	if (json == NULL) {
		snprintf(call->error, sizeof(call->error), "out of memory");
		goto out;
	}
	if (host->output_add(call, json, strlen(json)) != 0 ||
	    host->output_add(call, res.image, res.image_size) != 0) {
		snprintf(call->error, sizeof(call->error), "cannot add the outputs");
		goto out;
	}
	if (TCW_HOST_HAS(host, log))
		host->log(TCW_WL_LOG_DEBUG, "object-detect: %dx%d image, %zu detections", res.width,
		          res.height, res.count);
	rc = 0;
out:
	free_text(json);
	tcd_result_fini(&res);
	return rc;
}

static void objdetect_fini(void *state)
{
	struct objdetect *od = state;

	if (od == NULL)
		return;
	tcd_detector_free(&od->detector);
	free(od);
}

static const struct tcw_workload_desc g_objdetect_desc = {
    .abi_version = TCW_WORKLOAD_ABI_VERSION,
    .size = sizeof(struct tcw_workload_desc),
    .name = "object-detect",
    .flags = 0, /* OpenCV's classifiers and networks are not shared between threads */
    .init = objdetect_init,
    .execute = objdetect_execute,
    .fini = objdetect_fini,
};

/* The plugin entry point: returns the static descriptor (never freed). */
__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void);

__attribute__((visibility("default"))) const struct tcw_workload_desc *tcw_workload_entry(void)
{
	return &g_objdetect_desc;
}
