#!/usr/bin/env bash
# tml serve under wrk on loopback: the production Heavy Ranker (random weights, written by
# `tml bench serve --write-load-fixtures`), requests of CANDIDATES candidates (default 500)
# as length-delimited tf.Examples (FORMAT=json: base64 tf.Examples in JSON), at concurrency
# 1, 4 and 16 (wrk threads = connections). Prints the CPU, then per concurrency
# p50/p99 latency, requests/s, candidates/s and errors (bench/load.lua).
#
#   swift build -c release --product tml && bash bench/load.sh [SECONDS]
#   CONCURRENCY="1 4" FORMAT=json bash bench/load.sh 10
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
candidates=${CANDIDATES:-500}
format=${FORMAT:-delimited}
bin=$(swift build -c release --show-bin-path)/tml
[ -x "$bin" ] || { echo "build first: swift build -c release --product tml" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }

if [ -r /proc/cpuinfo ]; then
  model=$(grep -m1 -E '^(model name|Model)' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
  flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | cut -d: -f2-)
  shown=""
  for f in avx2 fma avx512f avx512bw avx512vl avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 asimd sve; do
    case " $flags " in *" $f "*) shown="$shown $f" ;; esac
  done
  echo "CPU: ${model:-unknown} ($(nproc) logical CPUs); flags:${shown:- (none of interest)}"
fi

work=$(mktemp -d)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
"$bin" bench serve --write-load-fixtures "$work" --candidates "$candidates" --format "$format" >"$work/fixtures.txt"
content_type=$(sed -n 's/^content-type: //p' "$work/fixtures.txt")
body=$(sed -n 's/^body: //p' "$work/fixtures.txt")

"$bin" serve --ranker "$work/ranker" --ranker-config configs/recap/production.yaml --port 0 \
  --max-candidates "$candidates" --max-body-bytes $(( $(wc -c <"$body") + 4096 )) >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do
  port=$(grep -so 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f3 || true)
  [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { echo "tml serve did not get ready:" >&2; cat "$work/serve.log" >&2; exit 1; }
echo "tml serve: production ranker, $candidates candidates per request ($format body, $(( $(wc -c <"$body") / 1024 )) KiB), ${seconds}s per concurrency"
# The server's forward passes so far (count, seconds), from /metrics.
passes() {
  curl -sf "http://127.0.0.1:$port/metrics" | awk '
    /^tml_rank_pass_duration_seconds_count / { n = $2 } /^tml_rank_pass_duration_seconds_sum / { s = $2 }
    END { printf "%s %s\n", n + 0, s + 0 }'
}
printf '%12s %10s %10s %12s %14s %8s %10s\n' concurrency p50_ms p99_ms requests/s candidates/s errors ms/pass
for c in ${CONCURRENCY:-1 4 16}; do
  read -r n0 s0 < <(passes)
  line=$(BODY_FILE="$body" CONTENT_TYPE="$content_type" CANDIDATES="$candidates" \
    wrk -t "$c" -c "$c" -d "${seconds}s" --timeout 60s -s bench/load.lua "http://127.0.0.1:$port/v1/rank" | grep '^RESULT')
  read -r n1 s1 < <(passes)
  eval "$(echo "$line" | sed 's/^RESULT //')"
  per_pass=$(awk -v n0="$n0" -v s0="$s0" -v n1="$n1" -v s1="$s1" 'BEGIN { if (n1 > n0) printf "%.1f", (s1 - s0) / (n1 - n0) * 1000; else print "-" }')
  printf '%12d %10s %10s %12s %14s %8s %10s\n' "$c" "$p50_ms" "$p99_ms" "$requests_per_s" "$candidates_per_s" "$errors" "$per_pass"
done
echo "(ms/pass: the server's mean forward pass, tf.Example parsing included, from /metrics; the model alone: tml bench serve)"
