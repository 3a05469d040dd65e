-- Joins a visitor to an event's waiting room, or returns the place they already have.
--
-- KEYS[1]  bk:{evt:ID}:room       hash: mode, pass_ttl, opens_at, opened, seed, ...
-- KEYS[2]  bk:{evt:ID}:seq        join sequence (INCR): the FIFO order
-- KEYS[3]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[4]  bk:{evt:ID}:seen       zset visitor -> last sign of life (ms), queue and pre-queue, for abandonment
-- KEYS[5]  bk:{evt:ID}:prequeue   zset visitor -> draw: the first 13 hex digits of SHA-1(seed:visitor)
--                                 as a number (the seed is committed before and revealed at opens_at);
--                                 served ahead of the queue from opens_at on
-- KEYS[6]  bk:{evt:ID}:visitors   hash visitor -> state: w:joined_s | a:expires:n:admitted | x
--                                 (joined_s in Unix seconds: 12 bytes, so a waiting visitor's state
--                                 fits Redis's 16-byte allocation). A pre-queue visitor has no state:
--                                 their place in the pre-queue is their state, which saves a crowd
--                                 that gathers before opens_at ~80 bytes a head.
-- KEYS[7]  bk:{evt:ID}:active     zset visitor -> pass expiry (ms)
-- KEYS[8]  bk:{evt:ID}:stats      hash: released_total, abandoned_total, ...
-- KEYS[9]  bk:{evt:ID}:pow:CHALLENGE  marks a proof-of-work challenge spent
-- ARGV[1]  visitor id
-- ARGV[2]  id of the join's verified proof-of-work challenge, or ''
-- ARGV[3]  the difficulty (bits) that challenge proved, or 0
--
-- Returns {state, joined (1 new / 0 already), a, b, release_rate, observed_rate, ...}:
--   {'waiting', j, rank, waiting_count, r, o, queue, score} (rank and count include the pre-queue once opened)
--   {'prequeue', j, opens_at, prequeue_count, r, o, idle_timeout_s, 'p', draw}
--   where queue is 'w' (score: join sequence) or 'p' (score: draw), the place a gateway signs for
--   answering later polls from its room snapshot
--   {'admitted', j, expires_ms, admission_number}
-- Errors: NOROOM (no such room), CLOSED (joins refused), POWREQUIRED <bits> (a new place needs a
-- proof of work of that many bits), POWUSED (the challenge was spent already).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local room = redis.call('HMGET', KEYS[1], 'mode', 'pass_ttl', 'opens_at', 'opened', 'release_rate', 'idle_timeout', 'proof_of_work', 'seed')
local idle_s = tonumber(room[6]) or 60
local mode = room[1]
if not mode then
    return redis.error_reply('NOROOM no waiting room for this event')
end
local visitor = ARGV[1]
local rate = room[5] or '0'
local observed = redis.call('HGET', KEYS[8], 'observed_rate') or '0'
local opens_at = tonumber(room[3]) or 0
local opened = room[4] == '1' or opens_at == 0 or now >= opens_at

-- A waiting visitor's reply: once opened, the pre-queue is ahead of the queue.
local function waiting(joined, queue)
    local ahead = 0
    if opened and queue == KEYS[3] then ahead = redis.call('ZCARD', KEYS[5]) end
    local total = redis.call('ZCARD', KEYS[3]) + (opened and redis.call('ZCARD', KEYS[5]) or 0)
    local kind = queue == KEYS[3] and 'w' or 'p'
    return {'waiting', joined, ahead + redis.call('ZRANK', queue, visitor), total, rate, observed, kind, redis.call('ZSCORE', queue, visitor)}
end

local state = redis.call('HGET', KEYS[6], visitor)
if not state and redis.call('ZSCORE', KEYS[5], visitor) then state = 'p' end
if state then
    local kind = string.sub(state, 1, 1)
    if kind == 'w' and redis.call('ZSCORE', KEYS[3], visitor) then
        redis.call('ZADD', KEYS[4], now, visitor)
        return waiting(0, KEYS[3])
    elseif kind == 'p' and redis.call('ZSCORE', KEYS[5], visitor) then
        redis.call('ZADD', KEYS[4], now, visitor)
        if opened then return waiting(0, KEYS[5]) end
        return {'prequeue', 0, opens_at, redis.call('ZCARD', KEYS[5]), rate, observed, idle_s, 'p', redis.call('ZSCORE', KEYS[5], visitor)}
    elseif kind == 'a' then
        local expires, n = string.match(state, '^a:(%d+):(%d+):')
        if tonumber(expires) > now then
            return {'admitted', 0, tonumber(expires), tonumber(n)}
        end
    end
    -- A lost place or an expired pass: join again, at the back.
end

if mode == 'closed' then
    return redis.error_reply('CLOSED the waiting room is closed')
end

local pow = tonumber(room[7]) or 0
if pow > 0 then
    if ARGV[2] == '' or (tonumber(ARGV[3]) or 0) < pow then
        return redis.error_reply('POWREQUIRED ' .. pow)
    end
    if not redis.call('SET', KEYS[9], '1', 'NX', 'PX', 300000) then
        return redis.error_reply('POWUSED the challenge was spent already')
    end
end

-- An open room admits at once, unless visitors from before it opened are still being let in.
if mode == 'open' and redis.call('ZCARD', KEYS[3]) == 0 and redis.call('ZCARD', KEYS[5]) == 0 then
    local ttl = (tonumber(room[2]) or 300) * 1000
    local n = redis.call('HINCRBY', KEYS[8], 'released_total', 1)
    redis.call('ZADD', KEYS[7], now + ttl, visitor)
    redis.call('HSET', KEYS[6], visitor, 'a:' .. (now + ttl) .. ':' .. n .. ':' .. now)
    return {'admitted', 1, now + ttl, n}
end

local seq = redis.call('INCR', KEYS[2])
if not opened then
    local draw = seq
    if room[8] then draw = tonumber(string.sub(redis.sha1hex(room[8] .. ':' .. visitor), 1, 13), 16) end
    redis.call('ZADD', KEYS[5], draw, visitor)
    redis.call('ZADD', KEYS[4], now, visitor)
    if state then redis.call('HDEL', KEYS[6], visitor) end
    return {'prequeue', 1, opens_at, redis.call('ZCARD', KEYS[5]), rate, observed, idle_s, 'p', redis.call('ZSCORE', KEYS[5], visitor)}
end

redis.call('ZADD', KEYS[3], seq, visitor)
redis.call('ZADD', KEYS[4], now, visitor)
redis.call('HSET', KEYS[6], visitor, 'w:' .. t[1])
return waiting(1, KEYS[3])
