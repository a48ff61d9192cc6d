-- wrk script for `npm run bench`: replays a plan of requests written by bench/wrk.ts.
-- Plan file: line 1 = path, line 2 = X-API-Key (may be empty), line 3 = "fresh" or "fixed", then one request per
-- line as <idempotency-key>\t<body>. With "fresh", every key gets a suffix naming this run, this thread and the
-- lap through the plan, so keys never repeat across runs, threads or laps, while a line that repeats an earlier key
-- (a retry) still repeats it within the same lap. "fixed" keys are sent as written (cache-hit replays).
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

local lines, n, i, lap, fresh, run, path, headers = {}, 0, 0, 0, false, "", "/", {}


function init(args)
  local file = assert(io.open(args[1], "r"))
  run = args[2]
  path = file:read("*l")
  local apiKey = file:read("*l")
  fresh = file:read("*l") == "fresh"
  for line in file:lines() do
    local tab = line:find("\t", 1, true)
    n = n + 1
    lines[n] = { line:sub(1, tab - 1), line:sub(tab + 1) }
  end
  file:close()
  headers["Content-Type"] = "application/json"
  if apiKey ~= "" then headers["X-API-Key"] = apiKey end
end

function request()
  i = i + 1
  if i > n then i, lap = 1, lap + 1 end
  local entry = lines[i]
  local key = entry[1]
  if fresh then key = key .. "-" .. run .. "-" .. tid .. "-" .. lap end
  if key == "" then headers["Idempotency-Key"] = nil else headers["Idempotency-Key"] = key end
  return wrk.format("POST", path, headers, entry[2])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
