-- GCRA rate limiting of one request against several rules, atomically: either every rule
-- admits the request and all are charged, or it is denied and nothing is charged. An admitted
-- request may also lease extra tokens for the gateway to hand out itself, the same number of
-- every rule; a lease takes only what the buckets hold beyond the request, so it never denies.
--
-- KEYS[i]      bk:{rl:ROUTE}:RULE:SUBJECT   theoretical arrival time (µs) of rule i's subject
-- ARGV[3i-2]   rule i's emission interval in µs (period / limit)
-- ARGV[3i-1]   rule i's burst (requests admitted at once from a full bucket)
-- ARGV[3i]     extra tokens rule i may lease when the request is admitted (0: none)
--
-- Returns {allowed (1|0), retry_after_ms, remaining_1, reset_ms_1, leased, remaining_2, ...}
-- (leased, the same for every rule, is repeated after each).
-- retry_after_ms is how long until every denying rule would admit the request (0 when allowed);
-- remaining counts what is left after the request and the lease.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local allowed = 1
local retry_after = 0
local tats = {}
local new_tats = {}
local result = {}

for i, key in ipairs(KEYS) do
    local emission = tonumber(ARGV[3 * i - 2])
    local burst = tonumber(ARGV[3 * i - 1])
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

-- An admitted request leases the same number of extra tokens of every rule: the fewest any
-- rule asks for or holds beyond the request (a token is only usable with all its rules').
local leased = 0
if allowed == 1 then
    for i, key in ipairs(KEYS) do
        local emission = tonumber(ARGV[3 * i - 2])
        local burst = tonumber(ARGV[3 * i - 1])
        local spare = math.floor((now + emission * burst - new_tats[i]) / emission)
        local take = math.min(tonumber(ARGV[3 * i]), spare)
        if i == 1 or take < leased then leased = take end
    end
    if leased < 0 then leased = 0 end
end

for i, key in ipairs(KEYS) do
    local emission = tonumber(ARGV[3 * i - 2])
    local burst = tonumber(ARGV[3 * i - 1])
    -- A denied request charges nothing, and reports every rule as it stands.
    local tat = tats[i]
    if allowed == 1 then
        tat = new_tats[i] + leased * emission
        redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
    end
    local remaining = math.floor((now + emission * burst - tat) / emission)
    if remaining < 0 then remaining = 0 end
    result[3 * i] = remaining
    result[3 * i + 1] = math.ceil(math.max(0, tat - now) / 1000)
    result[3 * i + 2] = leased
end

result[1] = allowed
result[2] = math.ceil(retry_after / 1000)
return result
