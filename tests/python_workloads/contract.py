# SPDX-License-Identifier: Apache-2.0
"""Test workloads for test_python.sh: the execute() contract when it works."""

import json
import os
import site
import sys
import time

from avalon_worker.workload.workload import WorkLoad


class EchoWorkLoad(WorkLoad):
    """(True, bytes): echoes the first input."""

    def execute(self, in_data_array):
        return True, b"echo:" + in_data_array[0]["data"]


class StrWorkLoad(WorkLoad):
    """(True, str): the worker sends the text as UTF-8."""

    def execute(self, in_data_array):
        return True, "str:" + in_data_array[0]["data"].decode("utf-8") + " \u00fc\u20ac"


class ListWorkLoad(WorkLoad):
    """(True, [...]): one outData item per element, in order."""

    def execute(self, in_data_array):
        return True, [b"first " + in_data_array[0]["data"], "second",
                      bytearray(b"third")]


class InspectWorkLoad(WorkLoad):
    """Describes the in_data_array it was given, as JSON."""

    def execute(self, in_data_array):
        items = []
        for item in in_data_array:
            items.append({key: [type(v).__name__,
                                v.decode("utf-8") if isinstance(v, bytes) else v]
                          for key, v in item.items()})
        return True, json.dumps({"type": type(in_data_array).__name__,
                                 "items": items}, sort_keys=True)


class CountWorkLoad(WorkLoad):
    """Counts constructions and calls: shows the instance is created once."""

    constructed = 0

    def __init__(self):
        super().__init__()
        CountWorkLoad.constructed += 1
        self.calls = 0

    def execute(self, in_data_array):
        self.calls += 1
        return True, "constructed=%d calls=%d" % (CountWorkLoad.constructed, self.calls)


def _probe(name):
    """WHERE of module name (a probe the test writes), or "missing"."""
    try:
        return __import__(name).WHERE
    except ImportError:
        return "missing"


def _dynload():
    """True when extension modules of the interpreter's lib-dynload folder
    load: they take libpython's symbols from the global scope, which a
    host module loaded without RTLD_GLOBAL would not provide."""
    import _decimal
    import _json
    return callable(_json.scanstring) and _decimal.Decimal(1) == 1


class EnvWorkLoad(WorkLoad):
    """Reports the interpreter settings and where probe modules came from."""

    def execute(self, in_data_array):
        import avalon_worker
        return True, json.dumps({
            "isolated": sys.flags.isolated,
            "dont_write_bytecode": sys.dont_write_bytecode,
            "user_site_enabled": bool(site.ENABLE_USER_SITE),
            "prefix": sys.prefix,
            "executable": sys.executable,
            "site_dirs": [p for p in sys.path if p.endswith("-packages")],
            "path_head": sys.path[:4],
            "stdlib_after_head": sys.path.index(os.path.dirname(os.__file__)) >= 4,
            "avalon_worker": os.path.dirname(os.path.dirname(avalon_worker.__file__)),
            "probe_a": _probe("tcw_probe_a"),
            "probe_b": _probe("tcw_probe_b"),
            "probe_c": _probe("tcw_probe_c"),
            "dynload": _dynload(),
        }, sort_keys=True)


class SlowWorkLoad(WorkLoad):
    """Sleeps for the number of seconds given (at most 5), then answers."""

    def execute(self, in_data_array):
        text = in_data_array[0]["data"].decode("utf-8")
        time.sleep(min(float(text), 5.0))
        return True, "slept " + text
