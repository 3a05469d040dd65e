-- One step of adaptive release: sets the room's release rate from the health of the upstream
-- it guards, additive increase while the upstream is inside its targets, multiplicative decrease
-- when it leaves them, and no increase for a hold-off after a decrease. Any gateway may call it
-- on every tick: one decision per interval is taken, by whichever call comes first, so the
-- fleet needs no leader. Each change is logged with its reason.
--
-- KEYS[1]  bk:{evt:ID}:room          hash of the room's settings (adaptive_* fields; gains
--                                     adaptive_last_ms and adaptive_hold_until_ms)
-- KEYS[2]  bk:{evt:ID}:adaptive-log  list of decisions, newest first (JSON), capped at 100
-- ARGV[1]  upstream p99 in ms over the measured window (-1: no responses)
-- ARGV[2]  share of responses that were 5xx or timeouts (0-1)
-- ARGV[3]  responses measured
-- ARGV[4]  the deciding gateway's name
-- ARGV[5]  seconds of responses the health covers: after a change no judgement is made until
--          the window holds only responses at the new rate (window + 1 s, the second being filled);
--          0 judges at once
--
-- Returns {action, old rate, new rate, reason}; action is one of 'gone' (no room), 'off'
-- (adaptation off, or the room is not queueing), 'wait' (decided less than an interval ago),
-- 'settle' (the window still holds responses from before the last change),
-- 'idle' (too few responses to judge), 'hold', 'steady' (at the bound), 'increase', 'decrease',
-- 'clamp' (a rate outside the bounds brought inside).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('HMGET', KEYS[1], 'mode', 'release_rate', 'adaptive', 'adaptive_min', 'adaptive_max',
    'adaptive_p99_ms', 'adaptive_error_budget', 'adaptive_step', 'adaptive_factor', 'adaptive_hold_s',
    'adaptive_interval_s', 'adaptive_min_samples', 'adaptive_last_ms', 'adaptive_hold_until_ms', 'adaptive_changed_ms')
if not f[1] then
    return {'gone', '0', '0', 'no such room'}
end
local rate = tonumber(f[2]) or 0
if f[3] ~= '1' or f[1] ~= 'queue' then
    return {'off', tostring(rate), tostring(rate), 'adaptation is off or the room is not queueing'}
end
local low, high = tonumber(f[4]), tonumber(f[5])
local target, budget = tonumber(f[6]), tonumber(f[7])
local step, factor = tonumber(f[8]), tonumber(f[9])
local hold, interval, min_samples = tonumber(f[10]), tonumber(f[11]), tonumber(f[12])
if now - (tonumber(f[13]) or 0) < interval * 1000 then
    return {'wait', tostring(rate), tostring(rate), 'decided less than an interval ago'}
end
redis.call('HSET', KEYS[1], 'adaptive_last_ms', now)
local window = tonumber(ARGV[5])
if window > 0 and now - (tonumber(f[15]) or 0) < (window + 1) * 1000 then
    return {'settle', tostring(rate), tostring(rate), 'the window still holds responses from before the last change'}
end

local p99, errors, samples = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local action, new, reason
if samples < min_samples then
    action, new, reason = 'idle', rate, string.format('%d responses measured, %d needed to judge', samples, min_samples)
elseif p99 > target or errors > budget then
    action, new = 'decrease', math.max(low, rate * factor)
    if p99 > target then
        reason = string.format('p99 %.0f ms over the %.0f ms target', p99, target)
    else
        reason = string.format('error rate %.2f%% over the %.2f%% budget', errors * 100, budget * 100)
    end
    redis.call('HSET', KEYS[1], 'adaptive_hold_until_ms', now + hold * 1000)
elseif now < (tonumber(f[14]) or 0) then
    action, new, reason = 'hold', rate, 'holding off after a decrease'
else
    action, new = 'increase', math.min(high, rate + step)
    reason = string.format('p99 %.0f ms and error rate %.2f%% inside the targets', math.max(p99, 0), errors * 100)
end
new = math.min(high, math.max(low, new))
local against = (action == 'increase' and new < rate) or (action == 'decrease' and new > rate)
if new ~= rate and (action == 'idle' or action == 'hold' or against) then
    action, reason = 'clamp', string.format('brought inside the adaptive bounds %g-%g', low, high)
end
if new == rate then
    if action == 'increase' or action == 'decrease' then action = 'steady' end
    return {action, tostring(rate), tostring(new), reason}
end
redis.call('HSET', KEYS[1], 'release_rate', new, 'adaptive_changed_ms', now)
redis.call('LPUSH', KEYS[2], cjson.encode({
    at = now, from = rate, to = new, action = action, reason = reason,
    p99_ms = (p99 >= 0) and p99 or cjson.null, error_rate = errors, samples = samples, instance = ARGV[4],
}))
redis.call('LTRIM', KEYS[2], 0, 99)
return {action, tostring(rate), tostring(new), reason}
