-- Changes some settings of an existing room, and only those: concurrent changes of different
-- settings all stay, and a room deleted meanwhile is not brought back as a partial hash.
--
-- KEYS[1]  bk:{evt:ID}:room      hash of the room's settings
-- ARGV     field, value, field, value, ... (at most the room's settings: 32 pairs)
--
-- Returns 1 when the room was changed, 0 when it does not exist.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
end
if #ARGV > 64 or #ARGV % 2 ~= 0 then
    return redis.error_reply('ERR room_patch takes up to 32 field/value pairs')
end
if #ARGV > 0 then
    redis.call('HSET', KEYS[1], unpack(ARGV))
end
return 1
