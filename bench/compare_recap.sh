#!/usr/bin/env bash
# Heavy Ranker throughput, SwiftTML vs PyTorch, in alternating rounds on this machine:
# `tml bench recap` (our AVX-512 GEMM where the CPU has it), the same with OpenBLAS's
# GEMM (SWIFTTML_GEMM=blas), and bench/torch_recap.py when `import torch` works.
# Single runs vary with whatever else the machine does; compare numbers of one round.
#
#   bash bench/compare_recap.sh [ROUNDS] [THREADS]      (make bench-compare)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-$(nproc 2>/dev/null || sysctl -n hw.ncpu)}
bin=$(swift build -c release --show-bin-path)/tml
[ -x "$bin" ] || { echo "build first: swift build -c release --product tml" >&2; exit 1; }
have_torch=0
python3 -c "import torch" 2>/dev/null && have_torch=1
[ "$have_torch" = 1 ] || echo "(PyTorch not importable: pip install torch to add its column)"
for r in $(seq 1 "$rounds"); do
  echo "== round $r/$rounds: SwiftTML"
  "$bin" bench recap --threads "$threads" | tail -n 6
  echo "== round $r/$rounds: SwiftTML with OpenBLAS GEMM"
  SWIFTTML_GEMM=blas "$bin" bench recap --threads "$threads" | tail -n 6
  if [ "$have_torch" = 1 ]; then
    echo "== round $r/$rounds: PyTorch"
    python3 bench/torch_recap.py --threads "$threads" | tail -n 5
  fi
done
