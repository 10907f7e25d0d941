-- wrk: POST Chinese text queries to /knn-service, cycling through a few.
local queries = {"笑脸", "红心", "猫脸", "披萨", "火箭", "下雨", "足球", "国旗"}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = '{"text": "' .. queries[(n % #queries) + 1] .. '", "num_images": 10}'
  return wrk.format(nil, "/knn-service", nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f qps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
