#!/usr/bin/env bash
# Time and peak RSS of `da3 images` for scenes of 2, 4, 8 and 16 views at 504x504 (one pass each).
#
#   tools/scene/scaling.sh MODEL [DA3] [VIEWS...]
#
# MODEL: a checkpoint (e.g. goldens-full/small); DA3: the binary (default .build/release/da3).
# Views are synthetic 504x504 PNGs (resize-free at process_res 504). Prints one Markdown table row per
# scene: views, inference seconds (the pass: backbone, heads, cameras), whole-command wall seconds
# (decode, load, write scene.npz included) and peak resident memory (GNU time's maximum RSS).
set -euo pipefail
model=${1:?usage: scaling.sh MODEL [DA3] [VIEWS...]}
da3=${2:-.build/release/da3}
shift $(( $# >= 2 ? 2 : 1 ))
views=("$@"); [ ${#views[@]} -eq 0 ] && views=(2 4 8 16)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 - "$work" "${views[-1]}" <<'PY'
import sys, zlib, struct
out, n = sys.argv[1], int(sys.argv[2])
def png(path, w, h, seed):
    rows = b"".join(b"\0" + bytes(((x * (3 + seed) + y * (5 + 2 * seed) + (x * y >> 6) * seed) & 255
                                   for x in range(w) for _ in range(3))) for y in range(h))
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                           + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))
for i in range(n):
    png(f"{out}/v{i:02d}.png", 504, 504, i)
PY
echo "| views | inference (s) | command wall (s) | peak RSS (MB) |"
echo "|---:|---:|---:|---:|"
for n in "${views[@]}"; do
  files=$(ls "$work"/v*.png | head -n "$n")
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$da3" images $files --model "$model" --output-dir "$work/out$n" --formats npz --json > "$work/json"
  end=$(date +%s.%N)
  inference=$(python3 -c "import json,sys; print('%.2f' % (json.load(open(sys.argv[1]))['timings_ms']['inference'] / 1000))" "$work/json")
  printf "| %d | %s | %.2f | %.0f |\n" "$n" "$inference" "$(echo "$end - $start" | bc)" "$(echo "$(cat "$work/rss") / 1024" | bc -l)"
done
