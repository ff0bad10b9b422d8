#!/usr/bin/env bash
# Installs what is missing, builds the release `da3`, and estimates depth for one image.
# Usage: scripts/run.sh [IMAGE] [MODEL] [OUTDIR]
#   IMAGE   defaults to ../shared/images/demo01.jpg
#   MODEL   a checkpoint directory (model.safetensors + config.json) or .safetensors file;
#           defaults to the tiny test checkpoint in Tests/Fixtures/tiny (synthetic weights:
#           it proves the pipeline, not the depth — pass a real DA3 checkpoint for real depth).
#   OUTDIR  defaults to ./out
set -euo pipefail
cd "$(dirname "$0")/.."
image=${1:-../shared/images/demo01.jpg}
model=${2:-Tests/Fixtures/tiny}
outdir=${3:-out}
scripts/install-deps.sh
swift build -c release --product da3
mkdir -p "$outdir"
stem=$(basename "${image%.*}")
.build/release/da3 depth "$image" --model "$model" \
  --output "$outdir/$stem.depth.npy" --confidence "$outdir/$stem.conf.npy" --intrinsics "$outdir/$stem.intrinsics.json"
echo "wrote $outdir/$stem.depth.npy, $outdir/$stem.conf.npy, $outdir/$stem.intrinsics.json"
cat "$outdir/$stem.intrinsics.json"
