-- Releases visitors from an event's waiting room at the room's rate. Any number of gateways may
-- call it at any moment: admissions accrue at release_rate per second of Redis time since the
-- last call, so the fleet as a whole releases at the configured rate, never twice.
--
-- KEYS[1]  bk:{evt:ID}:room       hash: mode, release_rate, max_active, pass_ttl, idle_timeout, opens_at, opened, seed
-- KEYS[2]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[3]  bk:{evt:ID}:seen       zset visitor -> last poll (ms)
-- KEYS[4]  bk:{evt:ID}:prequeue   zset visitor -> draw (see queue_join.lua), served first once opened
-- KEYS[5]  bk:{evt:ID}:visitors   hash visitor -> state (see queue_join.lua)
-- KEYS[6]  bk:{evt:ID}:active     zset visitor -> pass expiry (ms)
-- KEYS[7]  bk:{evt:ID}:stats      hash: last_us, allowance, released_total, abandoned_total, observed_rate, first_release_ms
-- KEYS[8]  bk:{evt:ID}:releases   zset 'time_us:count' -> time (ms), the last 10 s of releases
-- KEYS[9]  bk:{evt:ID}:ended      zset visitor -> when their place or pass ended (ms), until pruned
-- ARGV[1]  the bound of each step of this call: queue entries popped (admitted or abandoned),
--          silent visitors swept, expired passes freed, ended states pruned (at most 2,000)
-- ARGV[2]  how long (ms) a visitor's ended state (lost, pass expired) is kept to answer their polls
--
-- Returns {admitted, abandoned, waiting_count, active_count, observed_rate, more}; more is 1 when a
-- step stopped at its bound (call again soon), 0 otherwise.
-- Errors: NOROOM.
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)
local cfg = redis.call('HMGET', KEYS[1], 'mode', 'release_rate', 'max_active', 'pass_ttl', 'idle_timeout', 'opens_at', 'opened')
local mode = cfg[1]
if not mode then
    return redis.error_reply('NOROOM no waiting room for this event')
end

local keep = tonumber(ARGV[2]) or 600000
local batch = math.min(tonumber(ARGV[1]) or 1000, 2000)
-- Whether a bounded step stopped at its bound: the caller should call again soon.
local more = 0

-- Each pair of `list` with `value` first, as ZADD takes them.
local function scored(list, value)
    local out = {}
    for _, member in ipairs(list) do
        out[#out + 1] = value
        out[#out + 1] = member
    end
    return out
end

-- Passes past their expiry free their slots (bounded work per call).
local expired = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', now, 'LIMIT', 0, batch)
if #expired == batch then more = 1 end
if #expired > 0 then
    redis.call('ZREM', KEYS[6], unpack(expired))
    redis.call('ZADD', KEYS[9], unpack(scored(expired, now)))
end

-- States of places and passes that ended more than `keep` ago are pruned, unless the visitor
-- has joined again since (bounded work per call).
local ended = redis.call('ZRANGEBYSCORE', KEYS[9], '-inf', now - keep, 'LIMIT', 0, batch)
if #ended == batch then more = 1 end
if #ended > 0 then
    redis.call('ZREM', KEYS[9], unpack(ended))
    local states = redis.call('HMGET', KEYS[5], unpack(ended))
    local passes = redis.call('ZMSCORE', KEYS[6], unpack(ended))
    local prune = {}
    for i, visitor in ipairs(ended) do
        local state = states[i]
        if state == 'x' or (state and string.sub(state, 1, 1) == 'a' and not passes[i]) then prune[#prune + 1] = visitor end
    end
    if #prune > 0 then redis.call('HDEL', KEYS[5], unpack(prune)) end
end

-- Visitors who stopped polling lose their place, in the queue or the pre-queue (bounded work per call).
local idle = (tonumber(cfg[5]) or 60) * 1000
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - idle), 'LIMIT', 0, batch)
if #stale == batch then more = 1 end
if #stale > 0 then
    local states = {}
    for _, visitor in ipairs(stale) do
        states[#states + 1] = visitor
        states[#states + 1] = 'x'
    end
    redis.call('ZREM', KEYS[2], unpack(stale))
    redis.call('ZREM', KEYS[3], unpack(stale))
    redis.call('ZREM', KEYS[4], unpack(stale))
    redis.call('HSET', KEYS[5], unpack(states))
    redis.call('ZADD', KEYS[9], unpack(scored(stale, now)))
end
local abandoned = #stale
if abandoned > 0 then
    redis.call('HINCRBY', KEYS[7], 'abandoned_total', abandoned)
end

-- The pre-queue was drawn as visitors joined (scored by SHA-1 of seed:visitor, the seed committed
-- in advance), so opening is constant work: from opens_at on, it is served ahead of the queue.
-- Silent pre-queue visitors are dropped by the sweep above or as they reach the head.
local opens_at = tonumber(cfg[6]) or 0
local opened = cfg[7] == '1' or opens_at == 0 or now >= opens_at
if opens_at > 0 and cfg[7] ~= '1' and now >= opens_at then
    redis.call('HSET', KEYS[1], 'opened', '1', 'opened_at', now, 'prequeue_size', redis.call('ZCARD', KEYS[4]))
end
local queues = opened and {KEYS[4], KEYS[2]} or {KEYS[2]}

local admitted = 0
local ttl = (tonumber(cfg[4]) or 300) * 1000

-- Admits up to `want` visitors from the head of the queue (the pre-queue first, once opened),
-- popping at most `batch` entries (abandoned ones included) in this call.
local function admit_from_head(want)
    local popped_total = 0
    local q = 1
    local released = tonumber(redis.call('HGET', KEYS[7], 'released_total')) or 0
    local lost_before = abandoned
    while admitted < want and popped_total < batch and queues[q] do
        local popped = redis.call('ZPOPMIN', queues[q], math.min(want - admitted, batch - popped_total))
        if #popped == 0 then
            q = q + 1
        else
            popped_total = popped_total + #popped / 2
            local visitors = {}
            for i = 1, #popped, 2 do visitors[#visitors + 1] = popped[i] end
            -- Every command below takes the whole batch at once.
            local seen = redis.call('ZMSCORE', KEYS[3], unpack(visitors))
            redis.call('ZREM', KEYS[3], unpack(visitors))
            local states, passes, lost = {}, {}, {}
            for i, visitor in ipairs(visitors) do
                if now - (tonumber(seen[i]) or 0) > idle then
                    states[#states + 1] = visitor
                    states[#states + 1] = 'x'
                    lost[#lost + 1] = visitor
                    abandoned = abandoned + 1
                else
                    admitted = admitted + 1
                    states[#states + 1] = visitor
                    states[#states + 1] = 'a:' .. (now + ttl) .. ':' .. (released + admitted) .. ':' .. now
                    passes[#passes + 1] = now + ttl
                    passes[#passes + 1] = visitor
                end
            end
            redis.call('HSET', KEYS[5], unpack(states))
            if #passes > 0 then redis.call('ZADD', KEYS[6], unpack(passes)) end
            if #lost > 0 then redis.call('ZADD', KEYS[9], unpack(scored(lost, now))) end
        end
    end
    if popped_total >= batch then more = 1 end
    if admitted > 0 then redis.call('HSET', KEYS[7], 'released_total', released + admitted) end
    if abandoned > lost_before then redis.call('HINCRBY', KEYS[7], 'abandoned_total', abandoned - lost_before) end
end

local stats = redis.call('HMGET', KEYS[7], 'last_us', 'allowance')
local allowance = tonumber(stats[2]) or 0
if mode == 'queue' then
    local rate = tonumber(cfg[2]) or 0
    local last = tonumber(stats[1])
    if last and now_us > last then
        allowance = allowance + (now_us - last) / 1000000 * rate
    end
    -- At most one second of releases accrues while nobody can be admitted.
    local burst = math.max(1, rate)
    if allowance > burst then allowance = burst end

    local want = math.floor(allowance)
    local max_active = tonumber(cfg[3]) or 0
    if max_active > 0 then
        local room_left = max_active - redis.call('ZCARD', KEYS[6])
        if room_left < want then want = math.max(0, room_left) end
    end
    if want > batch then want = batch end
    admit_from_head(want)
    allowance = allowance - admitted
elseif mode == 'open' then
    -- An open room admits newcomers at once; those who were already waiting go first, in order.
    admit_from_head(batch)
    allowance = 0
else
    -- Paused or closed: nothing accrues.
    allowance = 0
end
redis.call('HSET', KEYS[7], 'last_us', now_us, 'allowance', tostring(allowance))

-- Observed release rate over the last 10 s.
if admitted > 0 then
    redis.call('ZADD', KEYS[8], now, now_us .. ':' .. admitted)
    redis.call('HSETNX', KEYS[7], 'first_release_ms', now)
end
redis.call('ZREMRANGEBYSCORE', KEYS[8], '-inf', '(' .. (now - 10000))
local released_recently = 0
for _, entry in ipairs(redis.call('ZRANGE', KEYS[8], 0, -1)) do
    released_recently = released_recently + tonumber(string.match(entry, ':(%d+)$'))
end
local first = tonumber(redis.call('HGET', KEYS[7], 'first_release_ms')) or now
local window = math.min(10000, math.max(1000, now - first))
local observed = released_recently * 1000 / window
redis.call('HSET', KEYS[7], 'observed_rate', tostring(observed))

local waiting = redis.call('ZCARD', KEYS[2])
if opened then waiting = waiting + redis.call('ZCARD', KEYS[4]) end
return {admitted, abandoned, waiting, redis.call('ZCARD', KEYS[6]), tostring(observed), more}
