"""The Redis side of the shared limiter: Lua scripts, each one atomic.

Per mirror there is a hash (ban, quota, back-off per method, failures) and a sorted set,
the rate log: one member per call, scored with the moment the call can no longer reach
the mirror. A call in flight is scored `grant + bound` (it may still arrive); when its
answer comes back it is re-scored with that moment. A new call is allowed when fewer than
`limit` calls are scored within the last `window` seconds, so between the answer of call
k and the start of call k+limit there is always a full window: no window on the mirror's
own clock ever holds more than `limit` arrivals, however late a call reaches it.

Times are Redis's own clock (TIME), so processes on several hosts agree.
"""

_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function num(value) return string.format('%.6f', value) end
"""

# KEYS: state and log of each candidate mirror, in pairs.
# ARGV: method, limit, window, bound, token, first candidate to look at, back-off margin,
# longest delay the caller accepts. Returns {index, delay}: a grant, to be used after
# `delay` seconds (a slot reserved in the log, so waiters queue instead of racing for it);
# or {-1, seconds to wait, reason}.
ACQUIRE = _PRELUDE + """
local method, limit, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local bound, token, start, margin = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local max_delay = tonumber(ARGV[8])
local n = #KEYS / 2
local best, best_at, best_load, best_why, best_exact = 0, math.huge, math.huge, '', false
for j = 0, n - 1 do
  local i = (start + j) % n + 1
  local state, log = KEYS[2 * i - 1], KEYS[2 * i]
  local at, why, exact = now, '', true
  local function hold(untill, reason)
    if untill > at then at, why = untill, reason end
  end
  local f = redis.call('HMGET', state, 'ban_until', 'quota_remaining', 'quota_reset',
                       'backoff:' .. method, 'busy:' .. method, 'backing:' .. method)
  hold(tonumber(f[1]) or 0, 'ban')
  if f[2] and tonumber(f[2]) <= 0 then hold(tonumber(f[3]) or 0, 'quota') end
  hold(tonumber(f[4]) or 0, 'backoff')
  -- The method's last answer carried a back-off and a call of it is in flight: its
  -- answer will most likely set a new one, so wait for that answer.
  if (tonumber(f[5]) or 0) > now then
    hold(now + (tonumber(f[6]) or 0) + margin, 'backoff')
    exact = false
  end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', '(' .. num(now - window))
  local load = redis.call('ZCARD', log)
  if load >= limit then
    local s = tonumber(redis.call('ZRANGE', log, load - limit, load - limit, 'WITHSCORES')[2])
    -- A call still in flight is guessed to be answered now: a guess, never too late.
    if s > now then exact = false end
    hold(math.min(s, now) + window, 'rate')
  end
  if at < best_at or (at == best_at and load < best_load) then
    best, best_at, best_load, best_why, best_exact = i, at, load, why, exact
  end
end
if best_at > now and not (best_exact and best_at - now <= max_delay) then
  return {-1, num(best_at - now), best_why}
end
local state, log = KEYS[2 * best - 1], KEYS[2 * best]
redis.call('ZADD', log, num(best_at + bound), token)
redis.call('PEXPIRE', log, math.ceil((best_at - now + bound + window) * 1000) + 1000)
local f = redis.call('HMGET', state, 'backing:' .. method, 'quota_remaining')
if f[1] then redis.call('HSET', state, 'busy:' .. method, num(best_at + bound)) end
-- Spend the quota now, so concurrent calls never count on the same last unit.
if f[2] then redis.call('HINCRBY', state, 'quota_remaining', -1) end
return {best - 1, num(best_at - now)}
"""

# KEYS: state, log. ARGV: token, method, ok, answered, backoff, quota_remaining, quota_max,
# ban_seconds, ban_reason, margin, storm failures, storm ban, window, bound, url.
# Empty strings stand for "not known".
RELEASE = _PRELUDE + """
local state, log, token, method = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local window, bound = tonumber(ARGV[13]), tonumber(ARGV[14])
local function ban(untill, reason)
  if untill > (tonumber(redis.call('HGET', state, 'ban_until')) or 0) then
    redis.call('HSET', state, 'ban_until', num(untill), 'ban_reason', reason)
  end
end
redis.call('ZADD', log, num(now), token)
redis.call('PEXPIRE', log, math.ceil((bound + window) * 1000) + 1000)
redis.call('HSET', state, 'url', ARGV[15])
redis.call('HDEL', state, 'busy:' .. method)
if ARGV[4] == '1' then
  redis.call('HDEL', state, 'fails')
elseif redis.call('HINCRBY', state, 'fails', 1) >= tonumber(ARGV[11]) then
  ban(now + tonumber(ARGV[12]), 'unreachable')
  redis.call('HDEL', state, 'fails')
end
local backoff = tonumber(ARGV[5])
if backoff and backoff > 0 then
  redis.call('HSET', state, 'backoff:' .. method, num(now + backoff + tonumber(ARGV[10])),
             'backing:' .. method, backoff)
elseif ARGV[3] == '1' then
  redis.call('HDEL', state, 'backing:' .. method)
end
local quota = tonumber(ARGV[6])
if quota then
  local f = redis.call('HMGET', state, 'quota_remaining', 'quota_reset')
  -- Answers may come back out of order; within one day the quota only goes down.
  if f[1] and (tonumber(f[2]) or 0) > now then quota = math.min(quota, tonumber(f[1])) end
  redis.call('HSET', state, 'quota_remaining', quota,
             'quota_reset', num((math.floor(now / 86400) + 1) * 86400))
  if ARGV[7] ~= '' then redis.call('HSET', state, 'quota_max', ARGV[7]) end
end
local seconds = tonumber(ARGV[8])
if seconds then ban(now + seconds + tonumber(ARGV[10]), ARGV[9]) end
redis.call('PEXPIRE', state, 172800000)
return num(now)
"""

# A process coming back from its per-process fallback hands over what it knows.
# KEYS: state, log. ARGV: ban_until, ban_reason, bound, window, then token, score pairs.
ABSORB = _PRELUDE + """
local state, log = KEYS[1], KEYS[2]
if tonumber(ARGV[1]) > (tonumber(redis.call('HGET', state, 'ban_until')) or 0) then
  redis.call('HSET', state, 'ban_until', ARGV[1], 'ban_reason', ARGV[2])
end
for i = 5, #ARGV, 2 do
  local old = tonumber(redis.call('ZSCORE', log, ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > old then redis.call('ZADD', log, ARGV[i + 1], ARGV[i]) end
end
redis.call('PEXPIRE', log, math.ceil((tonumber(ARGV[3]) + tonumber(ARGV[4])) * 1000) + 1000)
return num(now)
"""

