# SPDX-License-Identifier: Apache-2.0
# A workload in the reference worker's style (see hello.py next to it).
import logging
import sys

from avalon_worker.workload.workload import WorkLoad

logger = logging.getLogger(__name__)
logger.setLevel(logging.DEBUG)
logger.addHandler(logging.StreamHandler(sys.stdout))


class FibonacciWorkLoad(WorkLoad):
    def execute(self, in_data_array):
        logger.info("Execute Fibonacci workload")
        try:
            n = int(in_data_array[0]["data"].decode("UTF-8"))
            out_msg = "Fibonacci number at position {} = {}".format(
                n, self._fibonacci(n))
            result = True
        except Exception as e:
            out_msg = "Error processing Fibonacci number: " + str(e)
            result = False
        return result, out_msg.encode("utf-8")

    def _fibonacci(self, n):
        if n < 0:
            raise Exception("Invalid input")
        previous, current = 0, 1
        for _ in range(n):
            previous, current = current, previous + current
        return previous
