# SPDX-License-Identifier: Apache-2.0
"""Test workload module whose import fails (a dependency is missing)."""

import tcw_test_dependency_that_does_not_exist  # noqa: F401

from avalon_worker.workload.workload import WorkLoad


class UnreachableWorkLoad(WorkLoad):
    """Never constructed: the module does not import."""

    def execute(self, in_data_array):
        return True, b"unreachable"
