-- Drops booking events the persister has written to Postgres and acknowledged, once they are
-- older than the retention: entries never delivered, or delivered but not yet acknowledged,
-- are always kept.
--
-- KEYS[1]  bk:{evt:ID}:stream         stream of booking events
-- ARGV[1]  persister group   ARGV[2] retention (ms)
--
-- Returns the number of entries removed (0 when there is no stream or group).
if redis.call('EXISTS', KEYS[1]) == 0 then
    return 0
end
local delivered
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    local fields = {}
    for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
    if fields['name'] == ARGV[1] then delivered = fields['last-delivered-id'] end
end
if not delivered then
    return 0
end

local function older(a, b)
    local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
    local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
    ams, aseq, bms, bseq = tonumber(ams), tonumber(aseq), tonumber(bms), tonumber(bseq)
    return ams < bms or (ams == bms and aseq < bseq)
end

local keep = delivered
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
if tonumber(pending[1]) > 0 and older(pending[2], keep) then
    keep = pending[2]
end
local t = redis.call('TIME')
local horizon = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[2])) .. '-0'
if older(horizon, keep) then
    keep = horizon
end
return redis.call('XTRIM', KEYS[1], 'MINID', keep)
