-- Sets one zone's Redis counts to what Postgres recorded, but only while Postgres has every
-- booking event of this event's stream and nothing happened since Postgres was read: the
-- stream's last entry is still the one the caller saw before reading Postgres (ARGV[5]), and the
-- persister's group has read the stream to its end and acknowledged all of it. Check and write
-- are one script, so no reservation slips between.
--
-- KEYS[1]  bk:{evt:ID}:zone:ZONE      hash: capacity, available, held, sold, price, currency
-- KEYS[2]  bk:{evt:ID}:stream         stream of booking events
-- ARGV[1]  persister group   ARGV[2] capacity   ARGV[3] held   ARGV[4] sold
-- ARGV[5]  the stream's last entry id when Postgres was read ('' when there was no stream)
--
-- Returns {capacity, available, held, sold} as set.
-- Errors: NOZONE (not in Redis), BEHIND (events not yet written to Postgres), CHANGED (events
-- since Postgres was read), INVALID (held + sold > capacity).
if redis.call('EXISTS', KEYS[1]) == 0 then
    return redis.error_reply('NOZONE no such zone')
end
local capacity, held, sold = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if held < 0 or sold < 0 or held + sold > capacity then
    return redis.error_reply('INVALID held and sold must fit the capacity')
end

if redis.call('EXISTS', KEYS[2]) == 0 then
    if ARGV[5] ~= '' then
        return redis.error_reply('CHANGED the stream changed since Postgres was read')
    end
else
    local last
    local info = redis.call('XINFO', 'STREAM', KEYS[2])
    for i = 1, #info, 2 do
        if info[i] == 'last-generated-id' then last = info[i + 1] end
    end
    local caughtUp = false
    for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[2])) do
        local fields = {}
        for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
        if fields['name'] == ARGV[1] and fields['pending'] == 0 and fields['last-delivered-id'] == last then
            caughtUp = true
        end
    end
    if last ~= ARGV[5] then
        return redis.error_reply('CHANGED booking events were written since Postgres was read')
    end
    if not caughtUp then
        return redis.error_reply('BEHIND the persister has booking events Postgres does not have yet')
    end
end

local available = capacity - held - sold
redis.call('HSET', KEYS[1], 'capacity', capacity, 'available', available, 'held', held, 'sold', sold)
return {capacity, available, held, sold}
