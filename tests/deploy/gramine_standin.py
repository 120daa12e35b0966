#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Stand-ins for the Gramine tools deploy/gramine/Makefile calls, for tests on
machines without Gramine.

  gramine_standin.py manifest [-Dkey=value]... TEMPLATE OUTPUT
      Renders TEMPLATE the way gramine-manifest does (Jinja, undefined names
      are errors), with stand-ins for its globals (gramine.libos,
      gramine.runtimedir(), gramine.pkglibdir, env), parses the result as TOML
      and checks every key against the manifest keys Gramine 1.9 accepts.
      Writes the rendered text to OUTPUT.
  gramine_standin.py argv-serializer ARG...
      Writes the arguments as gramine-argv-serializer does: each followed by
      a NUL byte.

The fake Gramine install root is $GRAMINE_STANDIN_PKGLIBDIR (default
/usr/lib/x86_64-linux-gnu/gramine, where Gramine's packages put it).
"""
import os
import pathlib
import sys
import tomllib

import jinja2

PKGLIBDIR = pathlib.Path(os.environ.get("GRAMINE_STANDIN_PKGLIBDIR",
                                        "/usr/lib/x86_64-linux-gnu/gramine"))

STR, INT, BOOL, LIST = str, int, bool, list

# Manifest keys Gramine 1.9 knows, by table. A value is a type, a tuple of
# allowed literal values, a nested table (dict), or a one-element list
# holding the element type. Keys under loader.env are free-form.
FS_MOUNT = {"type": ("chroot", "encrypted", "tmpfs", "untrusted_shm"),
            "path": STR, "uri": STR, "key_name": STR}
SCHEMA = {
    "libos": {"entrypoint": STR, "check_invalid_pointers": BOOL},
    "loader": {
        "entrypoint": {"uri": STR, "sha256": STR},
        "argv": [STR], "argv_src_file": STR, "env": None, "env_src_file": STR,
        "gid": INT, "uid": INT, "insecure__use_cmdline_argv": BOOL,
        "insecure__use_host_env": BOOL, "insecure__disable_aslr": BOOL,
        "log_file": STR,
        "log_level": ("none", "error", "warning", "debug", "trace", "all"),
    },
    "fs": {"mounts": [FS_MOUNT], "root": FS_MOUNT, "start_dir": STR,
           "insecure__keys": None},
    "sgx": {
        "allowed_files": [STR], "debug": BOOL, "edmm_enable": BOOL,
        "enable_stats": BOOL, "enclave_size": STR,
        "file_check_policy": ("strict", "allow_all_but_log"),
        "insecure__allow_memfaults_without_exinfo": BOOL,
        "insecure__rpc_thread_num": INT, "isvprodid": INT, "isvsvn": INT,
        "max_threads": INT, "preheat_enclave": BOOL,
        "remote_attestation": ("none", "dcap", "epid"),
        "ra_client_linkable": BOOL, "ra_client_spid": STR,
        "seal_key": {"flags_mask": STR, "xfrm_mask": STR, "misc_mask": STR},
        "trusted_files": [None], "use_exinfo": BOOL,
        "trusted_files_cache_size": STR,
        "cpu_features": None, "profile": None, "vtune_profile": BOOL,
    },
    "sys": {
        "allowed_ioctls": [None], "brk": {"max_size": STR},
        "disallow_subprocesses": BOOL,
        "enable_extra_runtime_domain_names_conf": BOOL,
        "enable_sigterm_injection": BOOL, "experimental__enable_flock": BOOL,
        "insecure__allow_eventfd": BOOL, "ioctl_structs": None,
        "stack": {"size": STR}, "fds": {"limit": INT},
    },
}


def check(value, schema, where, errors):
    """Appends to errors every key of value that schema does not allow."""
    if schema is None:
        return
    if isinstance(schema, tuple):
        if value not in schema:
            errors.append(f"{where}: {value!r} is not one of {schema}")
    elif isinstance(schema, list):
        if not isinstance(value, list):
            errors.append(f"{where}: expected an array")
            return
        for i, item in enumerate(value):
            check(item, schema[0], f"{where}[{i}]", errors)
    elif isinstance(schema, dict):
        if not isinstance(value, dict):
            errors.append(f"{where}: expected a table")
            return
        for key, item in value.items():
            name = f"{where}.{key}" if where else key
            if key not in schema:
                errors.append(f"{name}: unknown manifest key")
            else:
                check(item, schema[key], name, errors)
    elif schema is BOOL:
        if not isinstance(value, bool):
            errors.append(f"{where}: expected true or false")
    elif schema is INT:
        if not isinstance(value, int) or isinstance(value, bool):
            errors.append(f"{where}: expected an integer")
    elif not isinstance(value, schema):
        errors.append(f"{where}: expected {schema.__name__}")


class Runtimedir:
    """gramine.runtimedir(libc='glibc'), also usable without the call."""

    def __call__(self, libc="glibc"):
        return PKGLIBDIR / "runtime" / libc

    def __str__(self):
        return str(self())


def render(template_path, variables):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.globals["gramine"] = {"libos": PKGLIBDIR / "libsysdb.so", "pkglibdir": PKGLIBDIR,
                              "runtimedir": Runtimedir()}
    env.globals["env"] = os.environ
    text = pathlib.Path(template_path).read_text(encoding="utf-8")
    return env.from_string(text).render(**variables)


def cmd_manifest(args):
    variables, files = {}, []
    for arg in args:
        if arg.startswith("-D"):
            key, sep, value = arg[2:].partition("=")
            if not sep:
                sys.exit(f"gramine_standin: {arg}: expected -Dkey=value")
            variables[key] = value
        elif arg in ("--check", "--no-check"):
            continue
        else:
            files.append(arg)
    if len(files) != 2:
        sys.exit("usage: gramine_standin.py manifest [-Dkey=value]... TEMPLATE OUTPUT")
    text = render(files[0], variables)
    try:
        manifest = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        sys.exit(f"gramine_standin: {files[0]} does not render to valid TOML: {exc}")
    errors = []
    check(manifest, SCHEMA, "", errors)
    if errors:
        sys.exit("gramine_standin: " + "\ngramine_standin: ".join(errors))
    pathlib.Path(files[1]).write_text(text, encoding="utf-8")


def cmd_argv(args):
    out = sys.stdout.buffer
    for arg in args:
        out.write(os.fsencode(arg) + b"\0")
    out.flush()


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("manifest", "argv-serializer"):
        sys.exit("usage: gramine_standin.py manifest|argv-serializer ...")
    if sys.argv[1] == "manifest":
        cmd_manifest(sys.argv[2:])
    else:
        cmd_argv(sys.argv[2:])


if __name__ == "__main__":
    main()
