#!/usr/bin/env bash
# Installs what is missing, builds the release `da3`, and estimates depth for one image.
# Usage: scripts/run.sh [IMAGE] [MODEL] [OUTDIR]
#   IMAGE   defaults to ../shared/images/demo01.jpg
#   MODEL   a checkpoint directory (model.safetensors + config.json), a .safetensors file or a Hub
#           id; defaults to depth-anything/DA3-SMALL from the Hugging Face Hub (the CLI's own
#           default, cached in the standard Hub cache). When the Hub cannot be reached and no copy
#           is cached, the default falls back to the tiny test checkpoint in Tests/Fixtures/tiny
#           (synthetic weights: it proves the pipeline, its depth is not meaningful) and says so.
#   OUTDIR  defaults to ./out
# DA3_BIN=path/to/da3 skips installing and building (the tests use it).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-../shared/images/demo01.jpg}
model=${2:-}
outdir=${3:-out}
da3=${DA3_BIN:-}
if [ -z "$da3" ]; then
  scripts/install-deps.sh
  swift build -c release --product da3
  da3=.build/release/da3
fi
if [ -z "$model" ]; then
  model=depth-anything/DA3-SMALL
  err=$(mktemp)
  # `da3 info` resolves (and if needed downloads) the checkpoint; only an unreachable Hub falls back.
  if ! "$da3" info "$model" > /dev/null 2> "$err"; then
    if grep -qE "cannot reach|HF_HUB_OFFLINE" "$err"; then
      echo "note: the Hugging Face Hub cannot be reached, so $model is not available; using the tiny test checkpoint Tests/Fixtures/tiny instead (synthetic weights: this depth is not meaningful)"
      model=Tests/Fixtures/tiny
    else
      cat "$err" >&2
      rm -f "$err"
      exit 1
    fi
  fi
  rm -f "$err"
fi
mkdir -p "$outdir"
stem=$(basename "${image%.*}")
"$da3" depth "$image" --model "$model" \
  --output "$outdir/$stem.depth.npy" --confidence "$outdir/$stem.conf.npy" --intrinsics "$outdir/$stem.intrinsics.json"
echo "wrote $outdir/$stem.depth.npy, $outdir/$stem.conf.npy, $outdir/$stem.intrinsics.json (model: $model)"
cat "$outdir/$stem.intrinsics.json"
