# SPDX-License-Identifier: Apache-2.0
"""Sample Python workload: the Fibonacci number at a given position."""

import logging

from avalon_worker.workload.workload import WorkLoad

logger = logging.getLogger(__name__)

# Largest position accepted: bounds the work one order can cause (the
# native fib plugin's default max_n is the same).
MAX_N = 100000


def fibonacci(n):
    """F(n) with F(0) = 0 and F(1) = 1, for n >= 0."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


class FibonacciWorkLoad(WorkLoad):
    """Returns "Fibonacci number at position <n> = <F(n)>" for the decimal
    position n in inData item 0; a negative, oversized or non-integer
    position fails the work order."""

    def execute(self, in_data_array):
        try:
            n = int(in_data_array[0]["data"].decode("utf-8"))
        except (IndexError, KeyError, UnicodeDecodeError, ValueError) as exc:
            logger.debug("fibonacci: unusable input: %s", type(exc).__name__)
            return False, b"Fibonacci workload: the input is not an integer"
        if n < 0 or n > MAX_N:
            return False, b"Fibonacci workload: position out of range"
        text = "Fibonacci number at position {} = {}".format(n, fibonacci(n))
        return True, text.encode("utf-8")
