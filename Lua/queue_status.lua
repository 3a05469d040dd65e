-- A visitor's place in an event's waiting room; polling also proves the visitor is still there.
--
-- KEYS[1]  bk:{evt:ID}:room       hash: mode, idle_timeout, opens_at, ...
-- KEYS[2]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[3]  bk:{evt:ID}:seen       zset visitor -> last poll (ms)
-- KEYS[4]  bk:{evt:ID}:prequeue   zset visitor -> draw (see queue_join.lua), ahead of the queue once opened
-- KEYS[5]  bk:{evt:ID}:visitors   hash visitor -> state (see queue_join.lua)
-- KEYS[6]  bk:{evt:ID}:stats      hash: observed_rate, abandoned_total, ...
-- KEYS[7]  bk:{evt:ID}:ended      zset visitor -> when their place ended (ms), until pruned
-- ARGV[1]  visitor id
--
-- Returns {state, a, b, c}:
--   {'waiting', rank, waiting_count, release_rate, observed_rate, idle_timeout_s} (the pre-queue counted once opened) | {'prequeue', opens_at, prequeue_count, idle_timeout_s}
--   {'admitted', expires_ms, admission_number, admitted_ms} | {'lost'} | {'expired'} | {'unknown'}
-- Errors: NOROOM.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local room = redis.call('HMGET', KEYS[1], 'mode', 'idle_timeout', 'opens_at', 'release_rate', 'opened')
if not room[1] then
    return redis.error_reply('NOROOM no waiting room for this event')
end
local visitor = ARGV[1]
local state = redis.call('HGET', KEYS[5], visitor)
if not state and redis.call('ZSCORE', KEYS[4], visitor) then state = 'p' end
if not state then
    return {'unknown'}
end
local kind = string.sub(state, 1, 1)
local idle = (tonumber(room[2]) or 60) * 1000
local opens_at = tonumber(room[3]) or 0
local opened = room[5] == '1' or opens_at == 0 or now >= opens_at

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
    redis.call('ZADD', KEYS[7], now, visitor)
    redis.call('HINCRBY', KEYS[6], 'abandoned_total', 1)
    return true
end

-- A waiting visitor's reply: once opened, the pre-queue is ahead of the queue.
local function waiting(queue)
    local rank = redis.call('ZRANK', queue, visitor)
    if not rank then return {'lost'} end
    local prequeue = opened and redis.call('ZCARD', KEYS[4]) or 0
    if queue == KEYS[2] then rank = rank + prequeue end
    local observed = redis.call('HGET', KEYS[6], 'observed_rate') or '0'
    return {'waiting', rank, redis.call('ZCARD', KEYS[2]) + prequeue, room[4] or '0', observed, idle / 1000}
end

if kind == 'w' then
    if lost_if_silent(KEYS[2], 0) then
        return {'lost'}
    end
    return waiting(KEYS[2])
elseif kind == 'p' then
    if lost_if_silent(KEYS[4], now) then
        return {'lost'}
    end
    if opened then return waiting(KEYS[4]) end
    return {'prequeue', opens_at, redis.call('ZCARD', KEYS[4]), idle / 1000}
elseif kind == 'a' then
    local expires, n, admitted = string.match(state, '^a:(%d+):(%d+):(%d+)$')
    if tonumber(expires) > now then
        return {'admitted', tonumber(expires), tonumber(n), tonumber(admitted)}
    end
    return {'expired'}
end
return {'lost'}
