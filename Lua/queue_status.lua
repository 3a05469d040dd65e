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

if kind == 'w' then
    local idle = (tonumber(room[2]) or 60) * 1000
    local last = tonumber(redis.call('ZSCORE', KEYS[3], visitor)) or 0
    if now - last > idle then
        redis.call('ZREM', KEYS[2], visitor)
        redis.call('ZREM', KEYS[3], visitor)
        redis.call('HSET', KEYS[5], visitor, 'x')
        redis.call('HINCRBY', KEYS[6], 'abandoned_total', 1)
        return {'lost'}
    end
    redis.call('ZADD', KEYS[3], now, visitor)
    local observed = redis.call('HGET', KEYS[6], 'observed_rate') or '0'
    return {'waiting', redis.call('ZRANK', KEYS[2], visitor), redis.call('ZCARD', KEYS[2]), room[4] or '0', observed, idle / 1000}
elseif kind == 'p' then
    local last = tonumber(redis.call('ZSCORE', KEYS[3], visitor)) or now
    if now - last > (tonumber(room[2]) or 60) * 1000 then
        redis.call('ZREM', KEYS[4], visitor)
        redis.call('ZREM', KEYS[3], visitor)
        redis.call('HSET', KEYS[5], visitor, 'x')
        redis.call('HINCRBY', KEYS[6], 'abandoned_total', 1)
        return {'lost'}
    end
    redis.call('ZADD', KEYS[3], now, visitor)
    return {'prequeue', tonumber(room[3]) or 0, redis.call('ZCARD', KEYS[4]), (tonumber(room[2]) or 60)}
elseif kind == 'a' then
    local expires, n, admitted = string.match(state, '^a:(%d+):(%d+):(%d+)$')
    if tonumber(expires) > now then
        return {'admitted', tonumber(expires), tonumber(n), tonumber(admitted)}
    end
    return {'expired'}
end
return {'lost'}
