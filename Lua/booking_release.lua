-- Ends a held booking and returns its seats to the zone, exactly once: by its owner
-- (`cancel`), or once it has expired (`expire`, by any number of sweepers at once).
--
-- KEYS[1]  bk:{evt:ID}:booking:BOOKING hash (see booking_reserve.lua)
-- KEYS[2]  bk:{evt:ID}:zone:ZONE      hash: available, held, ...
-- KEYS[3]  bk:{evt:ID}:user-seats     hash user -> seats
-- KEYS[4]  bk:{evt:ID}:holds          zset booking -> hold expiry (ms)
-- KEYS[5]  bk:{evt:ID}:stream         stream of booking events
-- ARGV[1]  booking id   ARGV[2] 'cancel' or 'expire'   ARGV[3] user (for cancel)
--
-- Returns the booking's new status ('cancelled' | 'expired'), or 'held' when an expiry was
-- asked too early. Errors: NOBOOKING, NOTOWNER, CONFIRMED, CANCELLED, EXPIRED.
-- The stream entry carries the whole booking, as in booking_confirm.lua.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local booking = redis.call('HMGET', KEYS[1], 'status', 'user', 'quantity', 'expires_ms', 'zone', 'total', 'currency', 'created_ms')
if not booking[1] then
    return redis.error_reply('NOBOOKING no such booking')
end
local reason = ARGV[2]
if reason == 'cancel' and booking[2] ~= ARGV[3] then
    return redis.error_reply('NOTOWNER not your booking')
end
if booking[1] == 'confirmed' then
    return redis.error_reply('CONFIRMED the booking is confirmed')
elseif booking[1] == 'cancelled' then
    return redis.error_reply('CANCELLED the booking was cancelled')
elseif booking[1] == 'expired' then
    return redis.error_reply('EXPIRED the hold expired')
end

local expired = now >= tonumber(booking[4])
if reason == 'expire' and not expired then
    return 'held'
end
local status = (reason == 'cancel' and not expired) and 'cancelled' or 'expired'
local quantity = tonumber(booking[3])
redis.call('HINCRBY', KEYS[2], 'available', quantity)
redis.call('HINCRBY', KEYS[2], 'held', -quantity)
if redis.call('HINCRBY', KEYS[3], booking[2], -quantity) <= 0 then
    redis.call('HDEL', KEYS[3], booking[2])
end
redis.call('HSET', KEYS[1], 'status', status, 'ended_ms', now)
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('XADD', KEYS[5], '*', 'type', status, 'booking', ARGV[1], 'user', booking[2], 'zone', booking[5],
    'quantity', quantity, 'total', booking[6] or '', 'currency', booking[7] or '', 'expires_ms', booking[4],
    'created_ms', booking[8] or '', 'at_ms', now)
if reason == 'cancel' and expired then
    return redis.error_reply('EXPIRED the hold expired')
end
return status
