-- wrk script: GET /users/{id} for ids drawn uniformly from the file named by
-- the IDS_FILE environment variable (one id per line, written by `millions seed`).
local ids = {}

function init(args)
  local path = os.getenv("IDS_FILE")
  for line in io.lines(path) do
    ids[#ids + 1] = line
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0))
end

function request()
  return wrk.format("GET", "/users/" .. ids[math.random(#ids)])
end
