#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# libLiteRt.so installed by install-deps.sh (unless the caller points elsewhere)
if [ -z "${DA3_LITERT_LIB:-}" ] && [ -f .deps/ai_edge_litert/libLiteRt.so ]; then
  export DA3_LITERT_LIB="$PWD/.deps/ai_edge_litert/libLiteRt.so"
fi
swift build --build-tests
# Benchmark smoke run: one tiny iteration proves the benchmark builds and runs (timings are not checked).
"$(swift build --show-bin-path)/da3-bench" --sizes 56x56 --runs 1 > /dev/null
swift test --skip-build
