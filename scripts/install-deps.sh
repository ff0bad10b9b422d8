#!/usr/bin/env bash
# Installs the Debian packages the Swift package links against or loads (OpenBLAS), if any is missing.
set -euo pipefail
packages=(libopenblas0 libturbojpeg0-dev libspng-dev pkg-config mesa-vulkan-drivers libvulkan-dev glslc)
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

# SwiftShader, a software Vulkan device that LiteRT's GPU accelerator (WebGPU/Dawn) accepts, for the
# LiteRT GPU tests: Debian ships it inside the chromium packages (chromium-common in current
# bookworm, chromium itself earlier). Only its library and ICD file are extracted into
# .deps/swiftshader (git-ignored); no browser is installed. The tests select it with
# VK_ICD_FILENAMES only where the machine has no Vulkan GPU of its own. DA3_SKIP_SWIFTSHADER=1 skips this.
ss="$root/.deps/swiftshader"
if [ "${DA3_SKIP_SWIFTSHADER:-0}" != 1 ] && [ ! -f "$ss/vk_swiftshader_icd.json" ]; then
  tmp=$(mktemp -d)
  ( cd "$tmp"
    for pkg in chromium-common chromium; do
      apt-get download "$pkg" >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get download "$pkg" >/dev/null 2>&1; } || continue
      if dpkg-deb --fsys-tarfile "$pkg"_*.deb | tar -x --wildcards '*/libvk_swiftshader.so' '*/vk_swiftshader_icd.json' 2>/dev/null; then
        mkdir -p "$ss"
        find . -name libvk_swiftshader.so -exec cp {} "$ss/" \;
        find . -name vk_swiftshader_icd.json -exec cp {} "$ss/" \;
        echo "SwiftShader from Debian's $pkg package in .deps/swiftshader"
        break
      fi
      rm -f "$pkg"_*.deb
    done ) || true
  rm -rf "$tmp"
  [ -f "$ss/vk_swiftshader_icd.json" ] || echo "note: SwiftShader could not be extracted; the LiteRT GPU tests skip unless the machine has a Vulkan GPU"
fi
