-- One wrk script for every operation of the benchmark.
--
-- BENCH_DATA names a file of requests, one per line: METHOD<TAB>PATH<TAB>TOKEN<TAB>BODY. Each
-- thread takes every n-th line and sends its lines in order, round and round, so a booking run
-- asks for a different slot with every request (as long as the file has enough of them).
-- BENCH_IDS (optional): each thread appends the "id" of every 201 response to BENCH_IDS.<n>, so
-- the bench can check afterwards that every booking it was told about is in the database.
-- BENCH_DELAY_MS (optional): each connection waits that long between requests (paced run).
-- done() prints one line "BENCH_JSON {...}" with throughput, latency and the status counts.

local data_path = os.getenv("BENCH_DATA")
local ids_path = os.getenv("BENCH_IDS")
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local threads = {}
local started = 0

function setup(thread)
  started = started + 1
  thread:set("tid", started)
  thread:set("nthreads", tonumber(os.getenv("BENCH_THREADS") or "1"))
  table.insert(threads, thread)
end

function init(args)
  pending = {}
  statuses = {}
  local n, line_no = 0, 0
  for line in io.lines(data_path) do
    if line_no % nthreads == tid - 1 then
      local method, path, token, body = line:match("^(%S+)\t(%S+)\t(%S*)\t(.*)$")
      local headers = { ["Accept"] = "application/json" }
      if token ~= "" then headers["Authorization"] = "Bearer " .. token end
      if body == "" then
        body = nil
      else
        headers["Content-Type"] = "application/json"
      end
      n = n + 1
      pending[n] = wrk.format(method, path, headers, body)
    end
    line_no = line_no + 1
  end
  total, cursor = n, 0
  if ids_path then ids_file = io.open(ids_path .. "." .. tid, "a") end
end

function request()
  cursor = cursor % total + 1
  return pending[cursor]
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if ids_file and status == 201 then
    local id = body:match('"id"%s*:%s*(%d+)')
    if id then
      ids_file:write(id, "\n")
      ids_file:flush()
    end
  end
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    local seen = thread:get("statuses") or {}
    for status, count in pairs(seen) do counts[status] = (counts[status] or 0) + count end
  end
  local parts = {}
  for status, count in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"mean_us": %.1f, "max_us": %d, "socket_errors": %d, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max,
    e.connect + e.read + e.write + e.timeout, table.concat(parts, ", ")))
end
