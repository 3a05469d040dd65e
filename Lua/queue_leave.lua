-- Takes a visitor out of an event's waiting room; an admitted visitor's pass slot is freed.
--
-- KEYS[1]  bk:{evt:ID}:waiting    zset visitor -> sequence
-- KEYS[2]  bk:{evt:ID}:seen       zset visitor -> last poll (ms)
-- KEYS[3]  bk:{evt:ID}:prequeue   zset visitor -> draw (a pre-queue visitor has no state)
-- KEYS[4]  bk:{evt:ID}:visitors   hash visitor -> state
-- KEYS[5]  bk:{evt:ID}:active     zset visitor -> pass expiry (ms)
-- ARGV[1]  visitor id
--
-- Returns 1 when the visitor had a place or a pass, 0 otherwise.
local visitor = ARGV[1]
redis.call('ZREM', KEYS[1], visitor)
redis.call('ZREM', KEYS[2], visitor)
local prequeue = redis.call('ZREM', KEYS[3], visitor)
redis.call('ZREM', KEYS[5], visitor)
local state = redis.call('HDEL', KEYS[4], visitor)
return math.min(1, prequeue + state)
