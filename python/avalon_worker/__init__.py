# SPDX-License-Identifier: Apache-2.0
"""Compatibility package: the import paths Avalon Python workloads use.

tcworker puts the directory holding this package on its embedded
interpreter's module path, so a workload written for the reference worker
(``from avalon_worker.workload.workload import WorkLoad``) loads unchanged.
"""
