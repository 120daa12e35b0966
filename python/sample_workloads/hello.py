# SPDX-License-Identifier: Apache-2.0
"""Sample Python workload: greets the text of the first input."""

import logging

from avalon_worker.workload.workload import WorkLoad

logger = logging.getLogger(__name__)


class HelloWorkLoad(WorkLoad):
    """Returns "Hello <text>" for the UTF-8 text of inData item 0."""

    def execute(self, in_data_array):
        try:
            text = in_data_array[0]["data"].decode("utf-8")
        except (IndexError, KeyError, UnicodeDecodeError) as exc:
            logger.debug("hello: unusable input: %s", type(exc).__name__)
            return False, b"Hello workload: the input is not UTF-8 text"
        return True, ("Hello " + text).encode("utf-8")
