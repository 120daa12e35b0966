# SPDX-License-Identifier: Apache-2.0
"""Test workloads for test_python.sh: every way a workload can fail."""

from avalon_worker.workload.workload import WorkLoad


class RaiseWorkLoad(WorkLoad):
    """execute() raises."""

    def execute(self, in_data_array):
        raise ValueError("workload failure marker " +
                         in_data_array[0]["data"].decode("utf-8"))


class FalseWorkLoad(WorkLoad):
    """ok=False: the output must never reach the requester."""

    def execute(self, in_data_array):
        return False, b"reason that stays inside the worker"


class BareBytesWorkLoad(WorkLoad):
    """Returns bytes instead of (ok, output)."""

    def execute(self, in_data_array):
        return b"not a tuple"


class NoneWorkLoad(WorkLoad):
    """Returns None."""

    def execute(self, in_data_array):
        return None


class TripleWorkLoad(WorkLoad):
    """Returns three values."""

    def execute(self, in_data_array):
        return True, b"a", b"b"


class IntOutputWorkLoad(WorkLoad):
    """The output is an int."""

    def execute(self, in_data_array):
        return True, 42


class NonBoolWorkLoad(WorkLoad):
    """ok is 1, not True (the reference checks `is True`)."""

    def execute(self, in_data_array):
        return 1, b"one"


class BadListItemWorkLoad(WorkLoad):
    """A list of outputs with a None in it."""

    def execute(self, in_data_array):
        return True, [b"fine", None]


class TooManyWorkLoad(WorkLoad):
    """17 outputs, one more than the worker accepts."""

    def execute(self, in_data_array):
        return True, [b"x"] * 17


class SurrogateWorkLoad(WorkLoad):
    """A str that cannot be encoded as UTF-8."""

    def execute(self, in_data_array):
        return True, "\udcff"


class CtorRaisesWorkLoad(WorkLoad):
    """The constructor raises."""

    def __init__(self):
        super().__init__()
        raise RuntimeError("constructor failure marker")

    def execute(self, in_data_array):
        return True, b"unreachable"


class MissingExecuteWorkLoad(WorkLoad):
    """Does not implement the abstract execute(): cannot be instantiated."""
