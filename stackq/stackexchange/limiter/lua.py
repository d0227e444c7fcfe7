"""The Redis side of the shared limiter: Lua scripts, each one atomic.

Per mirror there is a hash (ban, quota, back-off per method, failures, violations) and a
sorted set, the rate log: one member per call, scored with the moment the call can no longer
reach the mirror. A call in flight is scored `grant + bound` (it may still arrive); when its
answer comes back it is re-scored with that moment. A new call is allowed when fewer than
`limit` calls are scored within the last `window` seconds, so between the answer of call
k and the start of call k+limit there is always a full window: no window on the mirror's
own clock ever holds more than `limit` arrivals, however late a call reaches it.

Per mirror and method, the flight set holds the calls granted and not yet released, scored
`grant + bound` (a dead process's call frees its slot then): at most `cap` at once, so with
a cap of 1 a call leaves only after the answer before it was read, back-off included.

Per method, the queue orders the callers waiting for a slot: interactive ones first, then
background ones, each by arrival; a caller takes a free slot only if fewer callers are
ahead of it than slots are free. A waiter none of whose mirrors can take it before a time
known exactly (a back-off, a ban) is parked until then and holds up no one meanwhile; a
waiter not seen for QUEUE_STALE seconds has gone. Each waiter blocks on a wake list of its
own, pushed when a call of the method ends: a script that frees a slot returns the first
waiters, and the caller pushes their lists (shared.py).

Every key a script touches is one of its KEYS, never a name it builds, so that a move to
Redis Cluster only needs hash tags (tests/stackexchange/test_limiter_keys.py checks).

Times are Redis's own clock (TIME), so processes on several hosts agree.
"""

_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function num(value) return string.format('%.6f', value) end
local BACKGROUND = 1e10
-- The first waiters of a queue, for the caller to tell that a slot may be free.
local function first_waiters(queue) return redis.call('ZRANGE', queue, 0, 1) end
-- Take back a grant never used: its rate slot, flight slot and quota unit.
local function cancel(state, log, flight, queue, token)
  redis.call('ZREM', log, token)
  local granted = redis.call('ZREM', flight, token) == 1
  if granted and redis.call('HEXISTS', state, 'quota_remaining') == 1 then
    redis.call('HINCRBY', state, 'quota_remaining', 1)
  end
  return first_waiters(queue)
end
"""

# KEYS: queue, its seen and parked sets, then state, log and flight set of each candidate.
# ARGV: method, limit, window, bound, token, first candidate to look at, back-off margin,
# longest delay the caller accepts, cap, waiter, background ('1' or ''), stale, the waiter's
# place in the queue from an earlier grant ('' the first time: a call failing over keeps it).
# Returns {index, delay, place}: a grant, to be used after `delay` seconds (a slot reserved,
# so the head of the queue need not race for it); or {-1, seconds at least, reason}.
ACQUIRE = _PRELUDE + """
local method, limit, window = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local bound, token, start, margin = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local max_delay, cap, waiter = tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local queue, seen, parked, n = KEYS[1], KEYS[2], KEYS[3], (#KEYS - 3) / 3
local stale = '(' .. num(now - tonumber(ARGV[12]))
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', stale)) do
  redis.call('ZREM', queue, gone)
  redis.call('ZREM', seen, gone)
  redis.call('ZREM', parked, gone)
end
local place = ARGV[13]
if place == '' then place = num((ARGV[11] == '1' and BACKGROUND or 0) + now) end
redis.call('ZADD', queue, 'NX', place, waiter)
redis.call('ZADD', seen, num(now), waiter)
redis.call('PEXPIRE', queue, 60000)
redis.call('PEXPIRE', seen, 60000)
-- Callers ahead, less those parked (waiting for a time none of their mirrors is free before).
local rank, ahead = 0, redis.call('ZRANK', queue, waiter)
if ahead > 0 then
  for _, other in ipairs(redis.call('ZRANGE', queue, 0, ahead - 1)) do
    if (tonumber(redis.call('ZSCORE', parked, other)) or 0) <= now then rank = rank + 1 end
  end
end
local free_now, ready, ready_load = 0, 0, math.huge
local later, later_at = 0, math.huge
local soonest, soonest_why, soonest_exact = math.huge, '', false
for j = 0, n - 1 do
  local i = (start + j) % n + 1
  local state, log, flight = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3]
  local at, why, exact = now, '', true
  local function hold(untill, reason)
    if untill > at then at, why = untill, reason end
  end
  local f = redis.call('HMGET', state, 'ban_until', 'quota_remaining', 'quota_reset',
                       'backoff:' .. method, 'backing:' .. method)
  hold(tonumber(f[1]) or 0, 'ban')
  if f[2] and tonumber(f[2]) <= 0 then hold(tonumber(f[3]) or 0, 'quota') end
  hold(tonumber(f[4]) or 0, 'backoff')
  redis.call('ZREMRANGEBYSCORE', flight, '-inf', '(' .. num(now))
  local flying = redis.call('ZCARD', flight)
  -- The method's last answer carried a back-off and a call of it is in flight: its
  -- answer will most likely set a new one, so wait for that answer.
  if flying > 0 and f[5] then
    hold(now + tonumber(f[5]) + margin, 'backoff')
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
  local slots = math.min(cap - flying, limit - load)
  if cap - flying <= 0 then
    -- Free when a call of the method here is answered: a time no one knows yet.
    exact = false
    if at == now then why = 'busy' end
  elseif at == now then
    free_now = free_now + slots
    if load < ready_load then ready, ready_load = i, load end
  elseif exact and at < later_at then
    later, later_at = i, at
  end
  if at < soonest then soonest, soonest_why, soonest_exact = at, why, exact end
end
local best, best_at = 0, now
if free_now > rank then
  best = ready
elseif free_now == 0 and rank == 0 and later > 0 and later_at - now <= max_delay then
  best, best_at = later, later_at
else
  if free_now > 0 then soonest_why = 'queue' end
  if soonest > now and soonest_exact then
    redis.call('ZADD', parked, num(soonest), waiter)
    redis.call('PEXPIRE', parked, 60000)
  else
    redis.call('ZREM', parked, waiter)
  end
  return {-1, num(math.max(0, soonest - now)), soonest_why}
end
place = redis.call('ZSCORE', queue, waiter)
redis.call('ZREM', queue, waiter)
redis.call('ZREM', seen, waiter)
redis.call('ZREM', parked, waiter)
local state, log, flight = KEYS[3 * best + 1], KEYS[3 * best + 2], KEYS[3 * best + 3]
redis.call('ZADD', log, num(best_at + bound), token)
redis.call('PEXPIRE', log, math.ceil((best_at - now + bound + window) * 1000) + 1000)
redis.call('ZADD', flight, num(best_at + bound), token)
redis.call('PEXPIRE', flight, math.ceil((best_at - now + bound) * 1000) + 1000)
-- Spend the quota now, so concurrent calls never count on the same last unit.
if redis.call('HEXISTS', state, 'quota_remaining') == 1 then
  redis.call('HINCRBY', state, 'quota_remaining', -1)
end
return {best - 1, num(best_at - now), place}
"""

# A reserved grant, after its delay: still good to send? Gives the slot back if the mirror
# or method is held now, or (background callers) if an interactive caller is waiting.
# KEYS: state, log, flight, queue. ARGV: method, token, background. Returns {'' or the reason,
# then the waiters to wake}.
CONFIRM = _PRELUDE + """
local state, log, flight, queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local method, token = ARGV[1], ARGV[2]
local f = redis.call('HMGET', state, 'ban_until', 'backoff:' .. method)
local why = ''
if (tonumber(f[1]) or 0) > now then why = 'ban'
elseif (tonumber(f[2]) or 0) > now then why = 'backoff'
elseif not redis.call('ZSCORE', flight, token) then why = 'lost'
elseif ARGV[3] == '1' and redis.call('ZCOUNT', queue, '-inf', '(' .. BACKGROUND) > 0 then
  why = 'yield'
end
if why ~= '' then return {why, unpack(cancel(state, log, flight, queue, token))} end
return {why}
"""

# KEYS: state, log, flight, queue. ARGV: token. A grant given back unused. Returns the
# waiters to wake.
CANCEL = _PRELUDE + """
return cancel(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1])
"""

# KEYS: state, log, flight, queue. ARGV: token, method, ok, answered, backoff,
# quota_remaining, quota_max, ban_seconds, ban_reason, margin, storm failures, storm ban,
# window, bound, url, violation ('', 'backoff' or 'rate'), shortest hold, hold memory,
# longest hold. Empty strings stand for "not known". Returns the waiters to wake.
RELEASE = _PRELUDE + """
local state, log, flight, queue = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local token, method = ARGV[1], ARGV[2]
local window, bound, margin = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[10])
local function ban(untill, reason)
  if untill > (tonumber(redis.call('HGET', state, 'ban_until')) or 0) then
    redis.call('HSET', state, 'ban_until', num(untill), 'ban_reason', reason)
  end
end
redis.call('ZADD', log, num(now), token)
redis.call('PEXPIRE', log, math.ceil((bound + window) * 1000) + 1000)
redis.call('HSET', state, 'url', ARGV[15])
if ARGV[4] == '1' then
  redis.call('HDEL', state, 'fails')
elseif redis.call('HINCRBY', state, 'fails', 1) >= tonumber(ARGV[11]) then
  ban(now + tonumber(ARGV[12]), 'unreachable')
  redis.call('HDEL', state, 'fails')
end
local backoff = tonumber(ARGV[5])
if backoff and backoff > 0 then
  redis.call('HSET', state, 'backoff:' .. method, num(now + backoff + margin),
             'backing:' .. method, backoff, 'last_backoff:' .. method, backoff)
elseif ARGV[3] == '1' then
  redis.call('HDEL', state, 'backing:' .. method)
end
local violation = ARGV[16]
if violation ~= '' then
  redis.call('HINCRBY', state, 'violations:' .. violation, 1)
end
if violation == 'backoff' then
  -- Hold the method here: max(last back-off, shortest hold), doubled per repeat within memory.
  local f = redis.call('HMGET', state, 'last_backoff:' .. method, 'held:' .. method,
                       'held_at:' .. method)
  local streak = 1
  if now - (tonumber(f[3]) or 0) < tonumber(ARGV[18]) then streak = (tonumber(f[2]) or 0) + 1 end
  local seconds = math.max(tonumber(f[1]) or 0, tonumber(ARGV[17])) * 2 ^ (streak - 1)
  seconds = math.min(seconds, tonumber(ARGV[19]))
  redis.call('HSET', state, 'backoff:' .. method, num(now + seconds + margin),
             'held:' .. method, streak, 'held_at:' .. method, num(now))
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
if seconds then ban(now + seconds + margin, ARGV[9]) end
redis.call('PEXPIRE', state, 172800000)
-- Last: the slot is free only once what the answer taught is recorded.
redis.call('ZREM', flight, token)
return first_waiters(queue)
"""

# A process coming back from its per-process fallback hands over what it knows: after a
# Sentinel failover, also what the new master lost (writes its replica never acknowledged).
# KEYS: state, log. ARGV: ban_until, ban_reason, bound, window, n, then n method, back-off
# until pairs, then token, score pairs.
ABSORB = _PRELUDE + """
local state, log = KEYS[1], KEYS[2]
local function raise(field, value)
  if tonumber(value) > (tonumber(redis.call('HGET', state, field)) or 0) then
    redis.call('HSET', state, field, value)
    return true
  end
end
if raise('ban_until', ARGV[1]) then redis.call('HSET', state, 'ban_reason', ARGV[2]) end
local calls = 6 + 2 * tonumber(ARGV[5])
for i = 6, calls - 1, 2 do raise('backoff:' .. ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', state, 172800000)
for i = calls, #ARGV, 2 do
  local old = tonumber(redis.call('ZSCORE', log, ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > old then redis.call('ZADD', log, ARGV[i + 1], ARGV[i]) end
end
redis.call('PEXPIRE', log, math.ceil((tonumber(ARGV[3]) + tonumber(ARGV[4])) * 1000) + 1000)
return num(now)
"""
