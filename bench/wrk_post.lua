-- wrk script for bench/wrk.py: POSTs of JSON bodies, round-robin, each answer checked.
--
--   BENCH_BODIES=bodies.txt BENCH_EXPECT='"status":"completed"' wrk ... -s bench/wrk_post.lua URL
--
-- BENCH_BODIES holds one JSON body a line; every request POSTs the next one to
-- URL's path (each thread from its own offset). An answer that is not a 200 or,
-- when BENCH_EXPECT is set, does not contain it counts as unexpected. done()
-- prints wrk's summary and the counts as one JSON line, prefixed BENCH_JSON
-- (latencies in microseconds). (An exact number of POSTs: bench/post_client.py.)

local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  if line ~= "" then
    bodies[#bodies + 1] = line
  end
end
local expect = os.getenv("BENCH_EXPECT") or ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  next_body = math.random(#bodies)
  posted = 0
  answered = 0
  unexpected = 0
  first_unexpected = ""
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[next_body]
  next_body = next_body % #bodies + 1
  posted = posted + 1
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 or (expect ~= "" and string.find(body, expect, 1, true) == nil) then
    unexpected = unexpected + 1
    if first_unexpected == "" then
      first_unexpected = tostring(status) .. " " .. string.sub(body or "", 1, 160)
    end
  end
end

local function json_string(text)
  text = string.gsub(text, '[%c"\\\128-\255]', function(char)
    return string.format("\\u%04x", string.byte(char))
  end)
  return '"' .. text .. '"'
end

function done(summary, latency, requests)
  local posted_total, answered_total, unexpected_total, first = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    posted_total = posted_total + thread:get("posted")
    answered_total = answered_total + thread:get("answered")
    unexpected_total = unexpected_total + thread:get("unexpected")
    if first == "" then
      first = thread:get("first_unexpected")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"status_errors": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, ' ..
    '"posted": %d, "answered": %d, "unexpected": %d, "first_unexpected": %s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout,
    posted_total, answered_total, unexpected_total, json_string(first)))
end
