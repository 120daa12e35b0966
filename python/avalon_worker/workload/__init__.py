# SPDX-License-Identifier: Apache-2.0
"""The workload base class lives in avalon_worker.workload.workload."""
