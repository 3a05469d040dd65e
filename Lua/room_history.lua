-- Appends one sample to a room's history for the console's charts of the sale so far, at most
-- one per interval for the whole fleet (any gateway may offer one each tick), keeping the
-- latest N: the work per call is constant.
--
-- KEYS[1]  bk:{evt:ID}:room      hash of the room's settings (gains history_last_ms)
-- KEYS[2]  bk:{evt:ID}:history   list of samples, oldest first (JSON), capped at ARGV[2]
-- ARGV[1]  interval in ms   ARGV[2] samples kept
-- ARGV[3]  configured rate  ARGV[4] observed rate  ARGV[5] waiting  ARGV[6] pre-queue
-- ARGV[7]  active passes    ARGV[8] released so far
--
-- Returns 1 when the sample was kept, 0 when one was taken less than an interval ago or the
-- room is gone.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
end
local last = redis.call('HGET', KEYS[1], 'history_last_ms')
if last and now - tonumber(last) < tonumber(ARGV[1]) then
    return 0
end
redis.call('HSET', KEYS[1], 'history_last_ms', now)
redis.call('RPUSH', KEYS[2], cjson.encode({
    at = now, configured = tonumber(ARGV[3]), observed = tonumber(ARGV[4]), waiting = tonumber(ARGV[5]),
    prequeue = tonumber(ARGV[6]), active = tonumber(ARGV[7]), released = tonumber(ARGV[8]),
}))
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
return 1
