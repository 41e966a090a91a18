#!/usr/bin/env bash
# Heavy Ranker throughput, SwiftTML vs PyTorch, in alternating rounds on this machine:
# `tml bench recap` with each GEMM this CPU runs (SWIFTTML_GEMM=avx512 where the CPU has
# AVX-512, avx2, blas = OpenBLAS's GEMM) and bench/torch_recap.py when `import torch`
# works, then per round the ratio of each SwiftTML variant to PyTorch. Single runs vary
# with whatever else the machine does; compare numbers of one round.
#
#   bash bench/compare_recap.sh [ROUNDS] [THREADS]      (make bench-compare)
#   VARIANTS="avx2 blas" bash bench/compare_recap.sh 2    (a subset of the GEMMs)
# Variant bf16 is the default GEMM with `--precision bf16` inference (training stays fp32),
# run where the CPU has avx512_bf16; its ratios are to PyTorch at fp32.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
threads=${2:-$(nproc 2>/dev/null || sysctl -n hw.ncpu)}
bin=$(swift build -c release --show-bin-path)/tml
[ -x "$bin" ] || { echo "build first: swift build -c release --product tml" >&2; exit 1; }

# The CPU and the flags that decide which kernels run (ours and MKL's / oneDNN's).
if [ -r /proc/cpuinfo ]; then
  model=$(grep -m1 -E '^(model name|Model)' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | cut -d: -f2-)
  shown=""
  for f in avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 asimd sve; do
    case " $flags " in *" $f "*) shown="$shown $f" ;; esac
  done
  echo "CPU: ${model:-unknown} ($(nproc) logical CPUs); flags:${shown:- (none of interest)}"
else
  echo "CPU: $(sysctl -n machdep.cpu.brand_string 2>/dev/null || echo unknown) ($(sysctl -n hw.ncpu) logical CPUs)"
fi

# GEMM variants: every one this CPU supports, unless VARIANTS names some.
# (The same checks as Sources/CKernels/cpu.c; elsewhere BLAS only.)
has() { case " ${flags:-} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if [ -z "${VARIANTS:-}" ]; then
  VARIANTS=""
  if has avx512f && has avx512dq && has avx512bw && has avx512vl && has fma; then VARIANTS="$VARIANTS avx512"; fi
  if has avx2 && has fma; then VARIANTS="$VARIANTS avx2"; fi
  VARIANTS="$VARIANTS blas"
  if has avx512_bf16; then VARIANTS="$VARIANTS bf16"; fi
fi
echo "SwiftTML GEMM variants:${VARIANTS}; $threads threads; $rounds alternating rounds"

have_torch=0
python3 -c "import torch" 2>/dev/null && have_torch=1
[ "$have_torch" = 1 ] || echo "(PyTorch not importable: pip install torch to add its column and the ratios)"

# Numbers of one run: training, inference, latency 512 (ms).
numbers() {
  awk '/training  \(/ {t=$(NF-1)} /inference \(eval/ {i=$(NF-1)} /latency, batch +512/ {l=$(NF-1)} END {print t, i, l}'
}
for r in $(seq 1 "$rounds"); do
  declare -A result=()
  for v in $VARIANTS; do
    if [ "$v" = bf16 ]; then
      echo "== round $r/$rounds: SwiftTML, --precision bf16"
      out=$("$bin" bench recap --threads "$threads" --precision bf16)
    else
      echo "== round $r/$rounds: SwiftTML, SWIFTTML_GEMM=$v"
      out=$(SWIFTTML_GEMM=$v "$bin" bench recap --threads "$threads")
    fi
    echo "$out" | grep -E "^  "
    result[$v]=$(echo "$out" | numbers)
  done
  if [ "$have_torch" = 1 ]; then
    echo "== round $r/$rounds: PyTorch"
    out=$(python3 bench/torch_recap.py --threads "$threads")
    echo "$out" | tail -n 5
    torch=$(echo "$out" | numbers)
    echo "== round $r/$rounds: ratio to PyTorch (training ex/s, inference ex/s, latency-512 speed-up)"
    for v in $VARIANTS; do
      echo "${result[$v]} $torch" | awk -v v="$v" '{printf "  %-7s training %.2fx   inference %.2fx   latency 512 %.2fx\n", v, $1/$4, $2/$5, $6/$3}'
    done
  fi
  unset result
done
