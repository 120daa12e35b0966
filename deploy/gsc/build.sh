#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# build.sh - builds the tcworker image, graminizes it with GSC, signs it and
# prints its SGX identity (MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN).
#
# Usage: deploy/gsc/build.sh GSC_DIR [SIGNING_KEY]
#   GSC_DIR      a checkout of https://github.com/gramineproject/gsc at the
#                release matching config.yaml's Gramine branch (v1.9)
#   SIGNING_KEY  RSA-3072 enclave signing key with exponent 3 (default:
#                deploy/gsc/enclave-key.pem, created when missing; keep it
#                secret, and keep it: MRSIGNER and _sgx_mrsigner sealing
#                depend on it)
# Environment: VARIANT (native, python or detect; default native), the
# image variant (deploy/Dockerfile's build argument, and the GSC manifest
# deploy/gsc/tcworker.manifest, tcworker-python.manifest or
# tcworker-detect.manifest); IMAGE (default tcworker, tcworker-python or
# tcworker-detect), the application image name.
# Produces gsc-$IMAGE-unsigned (gsc build) and gsc-$IMAGE (gsc sign-image).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VARIANT=${VARIANT:-native}
case "$VARIANT" in
native) MANIFEST=$HERE/tcworker.manifest DEFAULT_IMAGE=tcworker ;;
python | detect) MANIFEST=$HERE/tcworker-$VARIANT.manifest DEFAULT_IMAGE=tcworker-$VARIANT ;;
*)
	echo "build.sh: VARIANT must be native, python or detect, not '$VARIANT'" >&2
	exit 2
	;;
esac
IMAGE=${IMAGE:-$DEFAULT_IMAGE}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	sed -n '3,19p' "$0" >&2
	exit 2
fi
GSC_DIR=$(cd "$1" && pwd)
KEY=${2:-$HERE/enclave-key.pem}
[ -x "$GSC_DIR/gsc" ] || {
	echo "build.sh: $GSC_DIR/gsc not found: clone the GSC repository there" >&2
	exit 2
}
for tool in docker openssl; do
	command -v "$tool" >/dev/null || {
		echo "build.sh: $tool is required" >&2
		exit 2
	}
done

if [ ! -f "$KEY" ]; then
	echo "build.sh: creating the enclave signing key $KEY"
	(umask 077 && openssl genrsa -3 -out "$KEY" 3072)
fi
KEY=$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")

echo "build.sh: building $IMAGE (VARIANT=$VARIANT) from deploy/Dockerfile"
docker build -f "$ROOT/deploy/Dockerfile" --build-arg VARIANT="$VARIANT" -t "$IMAGE" "$ROOT"

# gsc reads its templates relative to its own directory. A stale
# gsc-$IMAGE would be kept as it is, so remove it first.
cd "$GSC_DIR"
docker image rm -f "gsc-$IMAGE" "gsc-$IMAGE-unsigned" >/dev/null 2>&1 || true
./gsc build --rm -c "$HERE/config.yaml" "$IMAGE" "$MANIFEST"
./gsc sign-image -c "$HERE/config.yaml" "$IMAGE" "$KEY"
./gsc info-image "gsc-$IMAGE"
