-- Appends one sample of an event's sales per zone to its history, for the console's chart of
-- the sale so far: at most one per interval for the whole fleet (any booking instance may
-- offer one each tick), the latest N kept. The zones are passed in (at most 64), so the work
-- per call is bounded.
--
-- KEYS[1]     bk:{evt:ID}:sales-history  list of samples, oldest first (JSON), capped at ARGV[2]
-- KEYS[2]     bk:{evt:ID}:sale           hash of the sale settings (gains history_last_ms)
-- KEYS[3..]   bk:{evt:ID}:zone:ZONE      one hash per zone: sold, held, ...
-- ARGV[1]     interval in ms   ARGV[2] samples kept   ARGV[3..] the zone ids, in KEYS order
--
-- Returns 1 when the sample was kept, 0 when one was taken less than an interval ago or the
-- event has no sale.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if #KEYS > 66 then
    return redis.error_reply('ERR booking_sales_history takes at most 64 zones')
end
if redis.call('EXISTS', KEYS[2]) == 0 then
    return 0
end
local last = redis.call('HGET', KEYS[2], 'history_last_ms')
if last and now - tonumber(last) < tonumber(ARGV[1]) then
    return 0
end
redis.call('HSET', KEYS[2], 'history_last_ms', now)
local zones = {}
for index = 3, #KEYS do
    local counts = redis.call('HMGET', KEYS[index], 'sold', 'held')
    zones[ARGV[index]] = {sold = tonumber(counts[1]) or 0, held = tonumber(counts[2]) or 0}
end
redis.call('RPUSH', KEYS[1], cjson.encode({at = now, zones = zones}))
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return 1
