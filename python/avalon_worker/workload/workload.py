# SPDX-License-Identifier: Apache-2.0
"""WorkLoad: the abstract base class of tcworker's Python workloads.

A workload class is registered in workloads.json as
``{"<name>": {"module": "<dotted module>", "class": "<class name>"}}``.
tcworker creates one instance on first use (calling the class with no
arguments) and keeps it; every work order for that name then calls
``execute(in_data_array)`` on it.
"""

from abc import ABC, abstractmethod


class WorkLoad(ABC):
    """Base class of a workload; subclasses implement execute()."""

    def __init__(self):
        super().__init__()

    @abstractmethod
    def execute(self, in_data_array):
        """Runs one work order.

        in_data_array: list of dicts sorted by "index", one per inData item,
        with the keys "index" (int), "dataHash", "encryptedDataEncryptionKey"
        and "iv" (str, as sent by the requester; "" when absent) and "data"
        (bytes: the decrypted input).

        Returns (ok, output): ok is a bool; output is bytes (str is sent as
        UTF-8), or a list of them for several outData items. When ok is
        False the requester gets "Error processing work load" and the
        output is discarded.
        """
