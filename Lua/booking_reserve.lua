-- Holds seats of one zone for one user, atomically: sale window, zone, availability and the
-- user's per-event limit are checked, inventory moves from available to held, the hold enters
-- the expiry index, and a `reserved` event is appended to the event's stream.
--
-- KEYS[1]  bk:{evt:ID}:sale           hash: status, sale_starts_ms, sale_ends_ms, max_per_user, hold_ms
-- KEYS[2]  bk:{evt:ID}:zone:ZONE      hash: capacity, available, held, sold, price, currency
-- KEYS[3]  bk:{evt:ID}:user-seats     hash user -> seats held or confirmed
-- KEYS[4]  bk:{evt:ID}:booking:BOOKING hash: user, zone, quantity, status, expires_ms, total, currency, created_ms
-- KEYS[5]  bk:{evt:ID}:holds          zset booking -> hold expiry (ms)
-- KEYS[6]  bk:{evt:ID}:stream         stream of booking events, for the persister
-- ARGV[1]  booking id   ARGV[2] user   ARGV[3] zone id   ARGV[4] quantity
--
-- Returns {status, expires_ms, total, currency, new}: new is 1 for a new hold, 0 when the booking
-- id was seen before (that booking is returned as it stands, whatever became of it).
-- Errors: NOEVENT, NOTONSALE, NOZONE, SOLDOUT, OVERLIMIT.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local existing = redis.call('HMGET', KEYS[4], 'status', 'expires_ms', 'total', 'currency')
if existing[1] then
    return {existing[1], tonumber(existing[2]), tonumber(existing[3]), existing[4], 0}
end

local sale = redis.call('HMGET', KEYS[1], 'status', 'sale_starts_ms', 'sale_ends_ms', 'max_per_user', 'hold_ms')
if not sale[1] then
    return redis.error_reply('NOEVENT no such event')
end
local starts, ends = tonumber(sale[2]) or 0, tonumber(sale[3]) or 0
if sale[1] ~= 'published' or now < starts or (ends > 0 and now >= ends) then
    return redis.error_reply('NOTONSALE the event is not on sale')
end
local zone = redis.call('HMGET', KEYS[2], 'available', 'price', 'currency')
if not zone[1] then
    return redis.error_reply('NOZONE no such zone')
end

local quantity = tonumber(ARGV[4])
local user = ARGV[2]
local mine = tonumber(redis.call('HGET', KEYS[3], user)) or 0
if mine + quantity > (tonumber(sale[4]) or 10) then
    return redis.error_reply('OVERLIMIT the limit per user is ' .. (sale[4] or '10') .. ' seats')
end
if tonumber(zone[1]) < quantity then
    return redis.error_reply('SOLDOUT not enough seats left in this zone')
end

redis.call('HINCRBY', KEYS[2], 'available', -quantity)
redis.call('HINCRBY', KEYS[2], 'held', quantity)
redis.call('HINCRBY', KEYS[3], user, quantity)
local expires = now + (tonumber(sale[5]) or 600000)
local total = quantity * tonumber(zone[2])
redis.call('HSET', KEYS[4], 'user', user, 'zone', ARGV[3], 'quantity', quantity, 'status', 'held',
    'expires_ms', expires, 'total', total, 'currency', zone[3], 'created_ms', now)
redis.call('ZADD', KEYS[5], expires, ARGV[1])
redis.call('XADD', KEYS[6], '*', 'type', 'reserved', 'booking', ARGV[1], 'user', user, 'zone', ARGV[3],
    'quantity', quantity, 'total', total, 'currency', zone[3], 'expires_ms', expires, 'at_ms', now)
return {'held', expires, total, zone[3], 1}
