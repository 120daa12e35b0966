# SPDX-License-Identifier: Apache-2.0
# A workload in the reference worker's style, in its own package directory
# next to workloads.json (no __init__.py, logging to stdout): tcworker must
# run it unchanged.
import logging
import sys

from avalon_worker.workload.workload import WorkLoad

logger = logging.getLogger(__name__)
logger.setLevel(logging.DEBUG)
logger.addHandler(logging.StreamHandler(sys.stdout))


class HelloWorkLoad(WorkLoad):
    def execute(self, in_data_array):
        logger.info("Execute Hello workload")
        data_plain_bytes = in_data_array[0]["data"]
        try:
            out_msg = "Hello " + data_plain_bytes.decode("UTF-8")
            result = True
        except Exception as e:
            out_msg = "Error processing Hello workload : " + str(e)
            result = False
        return result, out_msg.encode("utf-8")
