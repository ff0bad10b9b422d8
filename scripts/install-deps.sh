#!/usr/bin/env bash
# Installs the Debian packages the Swift package links against, if any is missing.
set -euo pipefail
packages=(libopenblas-dev libturbojpeg0-dev libspng-dev pkg-config mesa-vulkan-drivers libvulkan-dev glslc)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# LiteRT runtime for the LiteRT backend tests (optional): the PyPI wheel ai-edge-litert holds
# libLiteRt.so. Installed without its Python dependencies into .deps/ (git-ignored); the tests
# find it through DA3_LITERT_LIB (scripts/test.sh sets it). Without Python/pip or network the
# LiteRT tests skip with a printed reason and everything else still runs. DA3_SKIP_LITERT=1 skips this.
LITERT_VERSION=2.3.0
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${DA3_SKIP_LITERT:-0}" != 1 ] && [ ! -f "$root/.deps/ai_edge_litert/libLiteRt.so" ]; then
  if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    echo "Installing ai-edge-litert==$LITERT_VERSION (libLiteRt.so) into .deps/"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$root/.deps" \
      "ai-edge-litert==$LITERT_VERSION" \
      || echo "note: ai-edge-litert could not be installed; the LiteRT backend tests will be skipped"
  else
    echo "note: python3 -m pip not available; the LiteRT backend tests will be skipped"
  fi
fi
