-- Checks a queue pass against the room's record of the admission it stands for, binds an
-- anonymous visitor's pass to the first account that uses it, and claims a single-use pass.
-- A pass whose admission is gone (the visitor left or was removed, the room was deleted) or
-- was replaced by a newer one is revoked.
--
-- KEYS[1]  bk:{evt:ID}:visitors       hash visitor -> state (a:expires:n:admitted when admitted)
-- KEYS[2]  bk:{evt:ID}:holder:N       the account the anonymous pass of admission N is bound to
-- KEYS[3]  bk:{evt:ID}:spent:JTI      claim of a single-use pass
-- ARGV[1]  visitor (the pass's sub)
-- ARGV[2]  admission number (from the pass's jti)
-- ARGV[3]  account to bind an anonymous pass to ('u:<id>'), or '' to bind nothing
-- ARGV[4]  claim owner for a single-use pass, or '' when the pass is not single-use
--
-- Returns {'ok'} | {'revoked'} | {'taken', account} | {'used'}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HGET', KEYS[1], ARGV[1])
if not state then
    return {'revoked'}
end
local expires, n = string.match(state, '^a:(%d+):(%d+):')
if not expires or n ~= ARGV[2] or tonumber(expires) <= now then
    return {'revoked'}
end

if ARGV[3] ~= '' then
    local holder = redis.call('GET', KEYS[2])
    if not holder then
        redis.call('SET', KEYS[2], ARGV[3], 'PXAT', tonumber(expires) + 60000)
    elseif holder ~= ARGV[3] then
        return {'taken', holder}
    end
end

if ARGV[4] ~= '' then
    if not redis.call('SET', KEYS[3], ARGV[4], 'NX', 'PX', 60000) then
        return {'used'}
    end
end
return {'ok'}
