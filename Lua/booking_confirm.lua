-- Confirms a held booking after payment: its seats move from held to sold. A hold that has
-- expired is released instead, so a confirmation never yields a booking without seats.
--
-- KEYS[1]  bk:{evt:ID}:booking:BOOKING hash (see booking_reserve.lua)
-- KEYS[2]  bk:{evt:ID}:zone:ZONE      hash: available, held, sold, ...
-- KEYS[3]  bk:{evt:ID}:user-seats     hash user -> seats
-- KEYS[4]  bk:{evt:ID}:holds          zset booking -> hold expiry (ms)
-- KEYS[5]  bk:{evt:ID}:stream         stream of booking events
-- ARGV[1]  booking id   ARGV[2] payment reference   ARGV[3] confirmation code
--
-- The `confirmed` or `expired` stream entry carries the whole booking (user, zone, quantity,
-- total, currency, expires_ms, created_ms), so the persister can write it even when the
-- `reserved` entry reaches Postgres after it.
--
-- Returns the confirmation code: ARGV[3], or the one recorded when it was confirmed before.
-- Errors: NOBOOKING, CANCELLED, EXPIRED.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local booking = redis.call('HMGET', KEYS[1], 'status', 'user', 'quantity', 'expires_ms', 'zone', 'code', 'total', 'currency', 'created_ms')
if not booking[1] then
    return redis.error_reply('NOBOOKING no such booking')
end
if booking[1] == 'confirmed' then
    return booking[6] or ''
elseif booking[1] == 'cancelled' then
    return redis.error_reply('CANCELLED the booking was cancelled')
elseif booking[1] == 'expired' then
    return redis.error_reply('EXPIRED the hold expired')
end

local quantity = tonumber(booking[3])
if now >= tonumber(booking[4]) then
    redis.call('HINCRBY', KEYS[2], 'available', quantity)
    redis.call('HINCRBY', KEYS[2], 'held', -quantity)
    if redis.call('HINCRBY', KEYS[3], booking[2], -quantity) <= 0 then
        redis.call('HDEL', KEYS[3], booking[2])
    end
    redis.call('HSET', KEYS[1], 'status', 'expired', 'ended_ms', now)
    redis.call('ZREM', KEYS[4], ARGV[1])
    redis.call('XADD', KEYS[5], '*', 'type', 'expired', 'booking', ARGV[1], 'user', booking[2], 'zone', booking[5],
        'quantity', quantity, 'total', booking[7] or '', 'currency', booking[8] or '', 'expires_ms', booking[4],
        'created_ms', booking[9] or '', 'at_ms', now)
    return redis.error_reply('EXPIRED the hold expired')
end

redis.call('HINCRBY', KEYS[2], 'held', -quantity)
redis.call('HINCRBY', KEYS[2], 'sold', quantity)
redis.call('HSET', KEYS[1], 'status', 'confirmed', 'payment', ARGV[2], 'code', ARGV[3], 'confirmed_ms', now)
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('XADD', KEYS[5], '*', 'type', 'confirmed', 'booking', ARGV[1], 'user', booking[2], 'zone', booking[5],
    'quantity', quantity, 'total', booking[7] or '', 'currency', booking[8] or '', 'expires_ms', booking[4],
    'created_ms', booking[9] or '', 'payment', ARGV[2], 'at_ms', now)
return ARGV[3]
