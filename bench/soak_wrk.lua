-- wrk script of bench/soak.py: one lane of the soak.
--
--   wrk -t1 -cN -dS --timeout 10s -s bench/soak_wrk.lua URL -- PATHS_FILE EXPECTED_STATUS API_KEY MAX_REQUESTS
--
-- Requests go round-robin over the paths of PATHS_FILE (each thread from its own
-- offset), every answer is checked against EXPECTED_STATUS, and a thread stops
-- after MAX_REQUESTS answers (0: no cap; wrk's -d bounds the time). done() prints
-- wrk's summary and the check's counts as one JSON line, prefixed SOAK_JSON.

local threads = {}

local function json_string(text)
  text = string.gsub(text, '[%c"\\\128-\255]', function(char)
    return string.format("\\u%04x", string.byte(char))
  end)
  return '"' .. text .. '"'
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  expected = tonumber(args[2])
  wrk.headers["api-key"] = args[3]
  max_requests = tonumber(args[4])
  next_path = math.random(#paths)
  answered = 0
  mismatches = 0
  first_mismatch = ""
end

function request()
  local path = paths[next_path]
  next_path = next_path % #paths + 1
  return wrk.format("GET", path)
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= expected then
    mismatches = mismatches + 1
    if first_mismatch == "" then
      first_mismatch = tostring(status) .. " " .. string.sub(body or "", 1, 120)
    end
  end
  if max_requests > 0 and answered >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local answered_total, mismatch_total, first = 0, 0, ""
  for _, thread in ipairs(threads) do
    answered_total = answered_total + thread:get("answered")
    mismatch_total = mismatch_total + thread:get("mismatches")
    if first == "" then
      first = thread:get("first_mismatch")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK_JSON {"requests": %d, "answered": %d, "mismatches": %d, "duration_us": %d, ' ..
    '"p50_us": %d, "p99_us": %d, "max_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
    '"write_errors": %d, "timeouts": %d, "first_mismatch": %s}\n',
    summary.requests, answered_total, mismatch_total, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, json_string(first)))
end
