-- GCRA rate limiting of one request against several rules, atomically: either every rule
-- admits the request and all are charged, or it is denied and nothing is charged.
--
-- KEYS[i]      bk:{rl:ROUTE}:RULE:SUBJECT   theoretical arrival time (µs) of rule i's subject
-- ARGV[2i-1]   rule i's emission interval in µs (period / limit)
-- ARGV[2i]     rule i's burst (requests admitted at once from a full bucket)
--
-- Returns {allowed (1|0), retry_after_ms, remaining_1, reset_ms_1, remaining_2, reset_ms_2, ...}.
-- retry_after_ms is how long until every denying rule would admit the request (0 when allowed).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local allowed = 1
local retry_after = 0
local tats = {}
local new_tats = {}
local result = {}

for i, key in ipairs(KEYS) do
    local emission = tonumber(ARGV[2 * i - 1])
    local burst = tonumber(ARGV[2 * i])
    local tolerance = emission * burst
    local tat = tonumber(redis.call('GET', key)) or now
    if tat < now then tat = now end
    local new_tat = tat + emission
    local allow_at = new_tat - tolerance
    if now < allow_at then
        allowed = 0
        if allow_at - now > retry_after then retry_after = allow_at - now end
    end
    tats[i] = tat
    new_tats[i] = new_tat
end

for i, key in ipairs(KEYS) do
    local emission = tonumber(ARGV[2 * i - 1])
    local burst = tonumber(ARGV[2 * i])
    -- A denied request charges nothing, and reports every rule as it stands.
    local tat = tats[i]
    if allowed == 1 then
        tat = new_tats[i]
        redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
    end
    local remaining = math.floor((now + emission * burst - tat) / emission)
    if remaining < 0 then remaining = 0 end
    result[2 * i + 1] = remaining
    result[2 * i + 2] = math.ceil(math.max(0, tat - now) / 1000)
end

result[1] = allowed
result[2] = math.ceil(retry_after / 1000)
return result
