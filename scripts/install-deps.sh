#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package tcworker's build, demo and tests use.
# Does nothing when all are present; uses sudo only when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config          # compiler, make, CMake, pkg-config
  libssl-dev                                # OpenSSL 3: RSA-OAEP, AES-GCM, SHA-256, PEM, base64
  libsecp256k1-dev                          # ECDSA on secp256k1
  libzmq3-dev                               # ZeroMQ transport
  libjson-c-dev                             # JSON parsing and building
  libsimdjson-dev g++                       # fast parsing of large work orders (lib/jsonfast.cpp)
  libgmp-dev                                # exact big integers for the fib workload
  libinih-dev                               # --config INI files
  libcmocka-dev                             # unit tests
  clang libclang-rt-14-dev                  # libFuzzer targets (make fuzz, make test)
  python3-dev                               # embedded CPython for Python workloads (python3-embed)
  python3 python3-zmq python3-pycryptodome python3-ecdsa  # independent interop peer
  docker-compose python3-jinja2 shellcheck strace  # deploy/ checks: compose config, manifest, scripts
  man-db bash-completion                    # man pages render (man -l), completion tests
  systemd                                   # systemd-analyze verify/security of the unit
  debhelper dpkg-dev fakeroot lintian debootstrap  # make deb (debian/), make test-deb (chroot)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
