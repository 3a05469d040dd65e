-- A visitor's place in an event's waiting room; polling also proves the visitor is still there.
--
-- KEYS[1]  bk:{evt:ID}:room       hash: mode, idle_timeout, opens_at, ...
-- KEYS[2]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[3]  bk:{evt:ID}:seen       zset visitor -> last poll (ms)
-- KEYS[4]  bk:{evt:ID}:prequeue   zset visitor -> sequence
-- KEYS[5]  bk:{evt:ID}:visitors   hash visitor -> state (see queue_join.lua)
-- KEYS[6]  bk:{evt:ID}:stats      hash: observed_rate, abandoned_total, ...
-- ARGV[1]  visitor id
--
-- Returns {state, a, b, c}:
--   {'waiting', rank, waiting_count, release_rate, observed_rate, idle_timeout_s} | {'prequeue', opens_at, prequeue_count, idle_timeout_s}
--   {'admitted', expires_ms, admission_number, admitted_ms} | {'lost'} | {'expired'} | {'unknown'}
-- Errors: NOROOM.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local room = redis.call('HMGET', KEYS[1], 'mode', 'idle_timeout', 'opens_at', 'release_rate')
if not room[1] then
    return redis.error_reply('NOROOM no waiting room for this event')
end
local visitor = ARGV[1]
local state = redis.call('HGET', KEYS[5], visitor)
if not state then
    return {'unknown'}
end
local kind = string.sub(state, 1, 1)
local idle = (tonumber(room[2]) or 60) * 1000

-- A waiting or pre-queue visitor silent for longer than idle_timeout has lost their place.
local function lost_if_silent(queue, default_last)
    local last = tonumber(redis.call('ZSCORE', KEYS[3], visitor)) or default_last
    if now - last <= idle then
        redis.call('ZADD', KEYS[3], now, visitor)
        return false
    end
    redis.call('ZREM', queue, visitor)
    redis.call('ZREM', KEYS[3], visitor)
    redis.call('HSET', KEYS[5], visitor, 'x')
    redis.call('HINCRBY', KEYS[6], 'abandoned_total', 1)
    return true
end

if kind == 'w' then
    if lost_if_silent(KEYS[2], 0) then
        return {'lost'}
    end
    local observed = redis.call('HGET', KEYS[6], 'observed_rate') or '0'
    return {'waiting', redis.call('ZRANK', KEYS[2], visitor), redis.call('ZCARD', KEYS[2]), room[4] or '0', observed, idle / 1000}
elseif kind == 'p' then
    if lost_if_silent(KEYS[4], now) then
        return {'lost'}
    end
    return {'prequeue', tonumber(room[3]) or 0, redis.call('ZCARD', KEYS[4]), idle / 1000}
elseif kind == 'a' then
    local expires, n, admitted = string.match(state, '^a:(%d+):(%d+):(%d+)$')
    if tonumber(expires) > now then
        return {'admitted', tonumber(expires), tonumber(n), tonumber(admitted)}
    end
    return {'expired'}
end
return {'lost'}
