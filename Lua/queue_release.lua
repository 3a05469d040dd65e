-- Releases visitors from an event's waiting room at the room's rate. Any number of gateways may
-- call it at any moment: admissions accrue at release_rate per second of Redis time since the
-- last call, so the fleet as a whole releases at the configured rate, never twice.
--
-- KEYS[1]  bk:{evt:ID}:room       hash: mode, release_rate, max_active, pass_ttl, idle_timeout, opens_at, opened, seed
-- KEYS[2]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[3]  bk:{evt:ID}:seen       zset visitor -> last poll (ms)
-- KEYS[4]  bk:{evt:ID}:prequeue   zset visitor -> sequence
-- KEYS[5]  bk:{evt:ID}:visitors   hash visitor -> state (see queue_join.lua)
-- KEYS[6]  bk:{evt:ID}:active     zset visitor -> pass expiry (ms)
-- KEYS[7]  bk:{evt:ID}:stats      hash: last_us, allowance, released_total, abandoned_total, observed_rate, first_release_ms
-- KEYS[8]  bk:{evt:ID}:releases   zset 'time_us:count' -> time (ms), the last 10 s of releases
-- ARGV[1]  a fresh random seed, used only if this call opens the pre-queue
-- ARGV[2]  most queue entries to pop in this call (admitted or abandoned)
--
-- Returns {admitted, abandoned, waiting_count, active_count, observed_rate}.
-- Errors: NOROOM.
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(now_us / 1000)
local cfg = redis.call('HMGET', KEYS[1], 'mode', 'release_rate', 'max_active', 'pass_ttl', 'idle_timeout', 'opens_at', 'opened')
local mode = cfg[1]
if not mode then
    return redis.error_reply('NOROOM no waiting room for this event')
end

-- Passes past their expiry free their slots.
redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now)

-- Visitors who stopped polling lose their place, in the queue or the pre-queue (bounded work per call).
local idle = (tonumber(cfg[5]) or 60) * 1000
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. (now - idle), 'LIMIT', 0, 1000)
for _, visitor in ipairs(stale) do
    redis.call('ZREM', KEYS[2], visitor)
    redis.call('ZREM', KEYS[3], visitor)
    redis.call('ZREM', KEYS[4], visitor)
    redis.call('HSET', KEYS[5], visitor, 'x')
end
local abandoned = #stale
if abandoned > 0 then
    redis.call('HINCRBY', KEYS[7], 'abandoned_total', abandoned)
end

-- At opens_at, the pre-queue is shuffled (ordered by SHA-1 of seed:visitor) ahead of later
-- arrivals; only visitors who showed a sign of life within idle_timeout before take part.
local opens_at = tonumber(cfg[6]) or 0
if opens_at > 0 and cfg[7] ~= '1' and now >= opens_at then
    local seed = ARGV[1]
    local members = redis.call('ZRANGE', KEYS[4], 0, -1)
    local keyed = {}
    for _, visitor in ipairs(members) do
        local last_seen = tonumber(redis.call('ZSCORE', KEYS[3], visitor)) or 0
        if now - last_seen > idle then
            redis.call('ZREM', KEYS[3], visitor)
            redis.call('HSET', KEYS[5], visitor, 'x')
            abandoned = abandoned + 1
            redis.call('HINCRBY', KEYS[7], 'abandoned_total', 1)
        else
            keyed[#keyed + 1] = {redis.sha1hex(seed .. ':' .. visitor), visitor}
        end
    end
    table.sort(keyed, function(a, b) return a[1] < b[1] end)
    local n = #keyed
    for i, entry in ipairs(keyed) do
        local visitor = entry[2]
        redis.call('ZADD', KEYS[2], i - n - 1, visitor)
        redis.call('ZADD', KEYS[3], now, visitor)
        local state = redis.call('HGET', KEYS[5], visitor) or 'p:0:0'
        redis.call('HSET', KEYS[5], visitor, 'w' .. string.sub(state, 2))
    end
    redis.call('DEL', KEYS[4])
    redis.call('HSET', KEYS[1], 'opened', '1', 'seed', seed, 'opened_at', now, 'prequeue_size', n)
end

local admitted = 0
local ttl = (tonumber(cfg[4]) or 300) * 1000
local batch = tonumber(ARGV[2]) or 1000

-- Admits up to `want` visitors from the head of the queue, popping at most `batch` entries
-- (abandoned ones included) in this call.
local function admit_from_head(want)
    local popped_total = 0
    while admitted < want and popped_total < batch do
        local popped = redis.call('ZPOPMIN', KEYS[2], math.min(want - admitted, batch - popped_total))
        if #popped == 0 then break end
        popped_total = popped_total + #popped / 2
        for i = 1, #popped, 2 do
            local visitor = popped[i]
            local last_seen = tonumber(redis.call('ZSCORE', KEYS[3], visitor)) or 0
            redis.call('ZREM', KEYS[3], visitor)
            if now - last_seen > idle then
                redis.call('HSET', KEYS[5], visitor, 'x')
                redis.call('HINCRBY', KEYS[7], 'abandoned_total', 1)
                abandoned = abandoned + 1
            else
                local n = redis.call('HINCRBY', KEYS[7], 'released_total', 1)
                redis.call('ZADD', KEYS[6], now + ttl, visitor)
                redis.call('HSET', KEYS[5], visitor, 'a:' .. (now + ttl) .. ':' .. n .. ':' .. now)
                admitted = admitted + 1
            end
        end
    end
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

return {admitted, abandoned, redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[6]), tostring(observed)}
