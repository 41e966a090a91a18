#!/usr/bin/env bash
# The ONNX export end to end (docs/onnx.md): trains the small ranker (as committed, and
# with position debiasing) a few steps, exports
# it with `tml recap export-onnx`, exports the validation examples' input tensors, and
# checks onnxruntime's probabilities against `tml recap predict` within 1e-5
# (tools/onnx/check.py). onnxruntime, numpy and onnx go into a virtualenv under .build/.
#   bash tools/onnx/ci.sh            (from the repository root; about a minute after make test)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VENV=${ONNX_VENV:-$ROOT/.build/onnx-venv}
if ! "$VENV/bin/python" -c "import onnxruntime, onnx, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check onnxruntime numpy onnx
fi
swift build --product tml
TML="$(swift build --show-bin-path)/tml"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
VALIDATION='data/recap_small/validation/part-*.tfrecord.gz'
cd "$WORK"
# The small config as committed, and a copy with position debiasing (a discrete input).
SMALL="$ROOT/configs/recap/small.yaml"
mkdir debias
cp "$ROOT/configs/recap/small_segdense.json" debias/
sed 's/^model:$/model:\n  position_debias_config: {max_position: 8, num_dims: 4, drop_probability: 0.2, position_feature_index: 1}/' "$SMALL" > debias/small.yaml
grep -q position_debias_config debias/small.yaml
"$TML" recap generate-data --config "$SMALL" --examples 1000 --seed 7 >/dev/null
for CONFIG in "$SMALL" "$WORK/debias/small.yaml"; do
  # One run reads the inputs as .npz, the other as .safetensors.
  [ "$CONFIG" = "$SMALL" ] && INPUTS=inputs.npz || INPUTS=inputs.safetensors
  echo "== $CONFIG"
  RUN="$WORK/run-$(basename "$(dirname "$CONFIG")")"
  "$TML" recap train --config "$CONFIG" --steps 30 --save-dir "$RUN" --seed 7 >/dev/null 2>&1
  "$TML" recap export-onnx --config "$CONFIG" --checkpoint "$RUN" --out "$RUN/model.onnx"
  "$TML" recap export-inputs --config "$CONFIG" --input "$VALIDATION" --out "$RUN/$INPUTS"
  "$TML" recap predict --config "$CONFIG" --checkpoint "$RUN" --input "$VALIDATION" --output "$RUN/predictions.tsv" 2>/dev/null
  "$VENV/bin/python" "$ROOT/tools/onnx/check.py" --model "$RUN/model.onnx" --inputs "$RUN/$INPUTS" --predictions "$RUN/predictions.tsv"
done
