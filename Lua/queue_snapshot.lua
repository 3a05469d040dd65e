-- A room's snapshot for a gateway's poll answers, after recording the polls that gateway answered
-- from its previous snapshot as signs of life. One call per room per gateway per tick, whatever
-- the number of visitors polling.
--
-- KEYS[1]  bk:{evt:ID}:room       hash: mode, release_rate, idle_timeout, opens_at, opened
-- KEYS[2]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[3]  bk:{evt:ID}:seen       zset visitor -> last sign of life (ms)
-- KEYS[4]  bk:{evt:ID}:prequeue   zset visitor -> draw
-- KEYS[5]  bk:{evt:ID}:stats      hash: observed_rate, ...
-- ARGV     visitors who polled since the last call (at most 1,000; the caller splits larger batches)
--
-- Returns {mode, opens_at, opened (0/1), release_rate, observed_rate, idle_timeout_s,
--          waiting_count, waiting_marks, prequeue_count, prequeue_marks, now_ms}
-- where marks are {rank, score, rank, score, ...} for up to 33 ranks spread evenly from the head
-- to the tail of that set (every member when it holds 33 or fewer), to place any score in it.
-- Errors: NOROOM.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local room = redis.call('HMGET', KEYS[1], 'mode', 'release_rate', 'idle_timeout', 'opens_at', 'opened')
if not room[1] then
    return redis.error_reply('NOROOM no waiting room for this event')
end
if #ARGV > 1000 then
    return redis.error_reply('TOOMANY at most 1000 visitors per call')
end

-- Only visitors who still hold a place get their sign of life (XX): a lost place stays lost.
if #ARGV > 0 then
    local pairs = {}
    for i = 1, #ARGV do
        pairs[2 * i - 1] = now
        pairs[2 * i] = ARGV[i]
    end
    redis.call('ZADD', KEYS[3], 'XX', unpack(pairs))
end

local opens_at = tonumber(room[4]) or 0
local opened = (room[5] == '1' or opens_at == 0 or now >= opens_at) and 1 or 0

local function marks(key, count)
    local out = {}
    local spans = math.min(count - 1, 32)
    for j = 0, spans do
        local rank = spans == 0 and 0 or math.floor(j * (count - 1) / spans)
        local entry = redis.call('ZRANGE', key, rank, rank, 'WITHSCORES')
        if entry[2] then
            out[#out + 1] = rank
            out[#out + 1] = entry[2]
        end
    end
    return out
end
local waiting_count, prequeue_count = redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[4])
return {
    room[1], opens_at, opened, room[2] or '0', redis.call('HGET', KEYS[5], 'observed_rate') or '0', tonumber(room[3]) or 60,
    waiting_count, marks(KEYS[2], waiting_count), prequeue_count, marks(KEYS[4], prequeue_count), now,
}
