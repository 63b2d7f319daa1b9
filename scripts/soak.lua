-- wrk script for scripts/soak: bench/post.lua's POST and summary line, paced. Each
-- connection waits $SOAK_DELAY_MS before each request, so that a run holds a target rate
-- instead of flooding the server (wrk itself has no rate limit).
dofile(os.getenv("SOAK_POST_LUA"))
local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0")

function delay()
  return pause
end
