-- wrk script for bench/load.sh: POSTs one prepared /v1/rank body (BODY_FILE, of
-- CONTENT_TYPE) on every request, and at the end prints the summary line
--   p50_ms p99_ms requests_per_s candidates_per_s errors
-- with CANDIDATES candidates per request; errors = non-2xx replies + socket errors.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = os.getenv("CONTENT_TYPE") or "application/x-tfexample-delimited"

function done(summary, latency, requests)
  local candidates = tonumber(os.getenv("CANDIDATES") or "500")
  local seconds = summary.duration / 1e6
  local ok = summary.requests - summary.errors.status
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT p50_ms=%.1f p99_ms=%.1f requests_per_s=%.2f candidates_per_s=%.0f errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, ok / seconds, ok * candidates / seconds, errors))
end
