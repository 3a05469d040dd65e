-- Read-only figures of an event's waiting room, for operators.
--
-- KEYS[1]  bk:{evt:ID}:room       hash
-- KEYS[2]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[3]  bk:{evt:ID}:prequeue   zset visitor -> draw; counted as waiting once the room has opened
-- KEYS[4]  bk:{evt:ID}:visitors   hash visitor -> state
-- KEYS[5]  bk:{evt:ID}:active     zset visitor -> pass expiry (ms)
-- KEYS[6]  bk:{evt:ID}:stats      hash
--
-- Returns {waiting, prequeue, active, released_total, abandoned_total, observed_rate, oldest_wait_ms}
-- (the pre-queue's head has waited since opens_at).
-- Errors: NOROOM.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then
    return redis.error_reply('NOROOM no waiting room for this event')
end
local room = redis.call('HMGET', KEYS[1], 'opens_at', 'opened')
local opens_at = tonumber(room[1]) or 0
local opened = room[2] == '1' or opens_at == 0 or now >= opens_at
local stats = redis.call('HMGET', KEYS[6], 'released_total', 'abandoned_total', 'observed_rate')
local waiting, prequeue = redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3])
if opened then waiting, prequeue = waiting + prequeue, 0 end
local oldest = 0
local prequeue_head = opened and redis.call('ZRANGE', KEYS[3], 0, 0)[1]
local head = prequeue_head or redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if head then
    local state = redis.call('HGET', KEYS[4], head)
    local joined
    if state then
        -- 'w:<joined s>', or '[wp]:<seq>:<joined ms>' as states were written before.
        local joined_s = tonumber(string.match(state, '^[wp]:(%d+)$'))
        joined = joined_s and joined_s * 1000 or tonumber(string.match(state, '^[wp]:%d+:(%d+)$'))
    elseif prequeue_head and opens_at > 0 then
        -- A pre-queue visitor keeps no join time: the whole pre-queue has waited since opens_at.
        joined = opens_at
    end
    if joined then oldest = math.max(0, now - joined) end
end
return {
    waiting,
    prequeue,
    redis.call('ZCOUNT', KEYS[5], '(' .. now, '+inf'),
    tonumber(stats[1]) or 0,
    tonumber(stats[2]) or 0,
    stats[3] or '0',
    oldest,
}
