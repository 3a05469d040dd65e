-- Keeps a held booking's seats while its payment is under way: at the first payment attempt the
-- hold is extended to a bounded grace from that moment, so a payment started in time is not
-- lost to the hold's expiry while the card network answers or the webhook is delayed. Later
-- attempts change nothing, so the grace cannot be stretched.
--
-- KEYS[1]  bk:{evt:ID}:booking:BOOKING hash (see booking_reserve.lua); gains paying_ms
-- KEYS[2]  bk:{evt:ID}:holds          zset booking -> hold expiry (ms)
-- ARGV[1]  booking id   ARGV[2] grace in ms from the first payment attempt
--
-- Returns {status, expires_ms}: 'held' with the hold's (extended) expiry, or 'confirmed'.
-- Errors: NOBOOKING, CANCELLED, EXPIRED (also for a hold past its time the sweeper has not reached).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local booking = redis.call('HMGET', KEYS[1], 'status', 'expires_ms', 'paying_ms')
if not booking[1] then
    return redis.error_reply('NOBOOKING no such booking')
end
local expires = tonumber(booking[2])
if booking[1] == 'confirmed' then
    return {'confirmed', expires}
elseif booking[1] == 'cancelled' then
    return redis.error_reply('CANCELLED the booking was cancelled')
elseif booking[1] == 'expired' or now >= expires then
    return redis.error_reply('EXPIRED the hold expired')
end
if not booking[3] then
    local extended = math.max(expires, now + tonumber(ARGV[2]))
    redis.call('HSET', KEYS[1], 'paying_ms', now, 'expires_ms', extended)
    redis.call('ZADD', KEYS[2], extended, ARGV[1])
    expires = extended
end
return {'held', expires}
