-- Prints one machine-readable line when wrk finishes (latencies in ms).
-- PIPELINE=N (N > 1) sends N requests per write instead of one.
local depth = tonumber(os.getenv("PIPELINE") or "1")

if depth > 1 then
  init = function(args)
    local batch = {}
    for i = 1, depth do batch[i] = wrk.format(nil) end
    pipelined = table.concat(batch)
  end
  request = function() return pipelined end
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  print(string.format("LOAD rps=%.0f requests=%d p50_ms=%.3f p99_ms=%.3f errors=%d",
    summary.requests / seconds, summary.requests,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status))
end
