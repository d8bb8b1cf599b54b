-- wrk script for bench/wrk.py: wrk's summary printed as one JSON line
-- (latencies in microseconds) and, when BENCH_PATHS names a file of paths,
-- requests that go round-robin over them.
--   BENCH_PATHS=paths.txt wrk ... -s bench/wrk_report.lua URL

local paths_file = os.getenv("BENCH_PATHS")

if paths_file ~= nil and paths_file ~= "" then
  local paths = {}
  for line in io.lines(paths_file) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  local next_path = 1

  function init(args)
    -- Threads start at different offsets so that they do not walk in step.
    next_path = math.random(#paths)
  end

  -- Defined only here: without it wrk sends one pre-built request (its fast path).
  function request()
    local path = paths[next_path]
    next_path = next_path % #paths + 1
    return wrk.format(nil, path)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"status_errors": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout))
end
