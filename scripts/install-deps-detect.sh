#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what object detection needs (OpenCV pieces, its trained cascades,
# python3-onnx for the test model) and fetches the sample images from
# Debian's python3-skimage package without installing it: the .deb is
# downloaded and unpacked into a private folder, and only the images are
# kept in .cache/images/. Does nothing that is already done; uses sudo only
# when not root. Usage: scripts/install-deps-detect.sh [IMAGE_DIR]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
IMAGES=${1:-$ROOT/.cache/images}

PACKAGES=(
  g++                       # the one C++ file that calls OpenCV's C++ API
  libopencv-core-dev        # cv::Mat (headers in /usr/include/opencv4)
  libopencv-imgproc-dev     # grey conversion, resizing, drawing boxes and labels
  libpng-dev                # PNG decoding and encoding (detect/imageio.c)
  libjpeg-dev               # JPEG decoding (libjpeg-turbo)
  libopencv-objdetect-dev   # cascade classifiers
  libopencv-dnn-dev         # DNN detector (ONNX, Caffe, TensorFlow, Darknet models)
  opencv-data               # trained cascades: faces, eyes, bodies, cat faces, plates
  python3-onnx              # tests build a tiny ONNX detector at test time
)
# The sample images kept from python3-skimage (skimage/data/).
SAMPLES=(astronaut.png chelsea.png coffee.png rocket.jpg camera.png)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  SUDO=(sudo)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps-detect: all ${#PACKAGES[@]} packages present"
else
  if [ ${#SUDO[@]} -gt 0 ] && ! command -v sudo >/dev/null; then
    echo "install-deps-detect: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps-detect: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

have_all=1
for f in "${SAMPLES[@]}"; do
  [ -s "$IMAGES/$f" ] || have_all=0
done
if [ $have_all -eq 1 ]; then
  echo "install-deps-detect: sample images present in $IMAGES"
  exit 0
fi

echo "install-deps-detect: fetching sample images (python3-skimage .deb, not installed)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tcw-images.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the current directory; as root it warns when
# the _apt user cannot write there, so give it a directory it can write.
chmod 0777 "$tmp"
fetch() {
  local f
  (cd "$tmp" && apt-get download -qq python3-skimage 2>&1 | grep -v 'unsandboxed') || true
  for f in "$tmp"/python3-skimage_*.deb; do
    if [ -e "$f" ]; then
      echo "$f"
      break
    fi
  done
}
deb=$(fetch)
if [ -z "$deb" ]; then
  # Stale package lists name a version the archive no longer has.
  "${SUDO[@]}" apt-get update -qq
  deb=$(fetch)
fi
if [ -z "$deb" ]; then
  echo "install-deps-detect: could not download python3-skimage (is 'apt-get update' done?)" >&2
  exit 1
fi
dpkg-deb -x "$deb" "$tmp/x"
mkdir -p "$IMAGES"
for f in "${SAMPLES[@]}"; do
  src=$(find "$tmp/x" -path "*/skimage/data/$f" -print -quit)
  [ -n "$src" ] || { echo "install-deps-detect: $f not found in $deb" >&2; exit 1; }
  cp "$src" "$IMAGES/$f"
done
echo "install-deps-detect: ${#SAMPLES[@]} sample images in $IMAGES"
