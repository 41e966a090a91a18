#!/usr/bin/env bash
# kill -9 during training, then resume: checks that a killed run never leaves a half-written
# checkpoint, that its stale save_dir lock does not block the next run, and that the resumed
# run reaches the configured step count.
#
#   swift build -c release --product tml
#   bash tools/fuzz/kill_resume.sh [KILLS=30] [TML=.build/release/tml] [WORK=/tmp/swifttml-kill]
#
# Each round starts `tml recap train` (configs/recap/small.yaml, 100000 steps, a checkpoint every
# 10 steps) in the same save_dir, kills it with SIGKILL after a random 0.2–2.5 s, and then
# checks every checkpoint folder with `tml recap predict` (which verifies the file checksums in
# state.json). A final run without a kill must resume from the newest checkpoint and finish
# 100 steps later.
set -euo pipefail
KILLS=${1:-30}
TML=$(realpath "${2:-.build/release/tml}")
WORK=${3:-/tmp/swifttml-kill}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$WORK" && mkdir -p "$WORK" && cd "$WORK"
cp "$REPO/configs/recap/small.yaml" "$REPO/configs/recap/small_segdense.json" .
sed -i 's/checkpoint_every_n: 250/checkpoint_every_n: 10/; s/checkpoint_max_to_keep: 2/checkpoint_max_to_keep: 3/' small.yaml
"$TML" recap generate-data --config small.yaml --examples 4000 >/dev/null 2>&1
killed=0 bad=0 checked=0
for round in $(seq 1 "$KILLS"); do
  "$TML" recap train --config small.yaml --steps 100000 --save-dir run >"train-$round.log" 2>&1 &
  pid=$!
  sleep "$(python3 -c "import random; print(round(random.uniform(0.2, 2.5), 2))")"
  if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$pid" 2>/dev/null || true
  if grep -q "^Error:" "train-$round.log"; then echo "round $round: the run failed: $(grep '^Error:' "train-$round.log")"; bad=$((bad + 1)); fi
  for step_dir in run/checkpoints/step_*; do
    [ -d "$step_dir" ] || continue
    checked=$((checked + 1))
    if ! "$TML" recap predict --config small.yaml --checkpoint "$step_dir" \
         --input 'data/recap_small/validation/part-0.tfrecord.gz' --output /dev/null >"check.log" 2>&1; then
      echo "round $round: $step_dir does not load: $(tail -1 check.log)"; bad=$((bad + 1))
    fi
  done
done
newest=$(ls run/checkpoints | sed 's/step_//' | sort -n | tail -1)
target=$((newest + 100))
"$TML" recap train --config small.yaml --steps "$target" --save-dir run >final.log 2>&1 || { echo "final run failed:"; tail -3 final.log; bad=$((bad + 1)); }
last=$(ls run/checkpoints | sed 's/step_//' | sort -n | tail -1)
echo "kills: $killed of $KILLS rounds, checkpoint loads checked: $checked, failures: $bad;" \
  "final run: $(grep -o 'resumed at step [0-9]*' final.log || echo 'no resume'), finished at step $last (target $target)"
[ "$bad" -eq 0 ] && [ "$last" = "$target" ]
