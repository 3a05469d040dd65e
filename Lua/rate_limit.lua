-- GCRA rate limiting of one request against several rules, atomically: either every rule
-- admits the request and all are charged, or it is denied and nothing is charged. An admitted
-- request may also lease extra tokens for the gateway to hand out itself, the same number of
-- every rule; a lease takes only what the buckets hold beyond the request, so it never denies.
--
-- Several requests of the same subjects may be checked in one call (a gateway gathers those of
-- one event-loop tick): they are admitted in order while every rule admits them, so the first
-- `admitted` are charged and the rest are denied, exactly as one call per request would decide.
--
-- KEYS[i]      bk:{rl:ROUTE}:RULE:SUBJECT   theoretical arrival time (µs) of rule i's subject
-- ARGV[3i-2]   rule i's emission interval in µs (period / limit)
-- ARGV[3i-1]   rule i's burst (requests admitted at once from a full bucket)
-- ARGV[3i]     extra tokens rule i may lease when the requests are admitted (0: none)
-- ARGV[3n+1]   how many requests are checked (optional, 1 when absent; n = #KEYS)
--
-- Returns {admitted, retry_after_ms, remaining_1, reset_ms_1, leased, remaining_2, ...}
-- (leased, the same for every rule, is repeated after each).
-- admitted is how many of the requests every rule admits (1|0 for one request); a lease is
-- taken only when all of them are. retry_after_ms is how long until every rule would admit the
-- first request denied (0 when none is); remaining counts what is left after the admitted
-- requests and the lease.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local count = tonumber(ARGV[3 * #KEYS + 1] or '1')
local admitted = count
local retry_after = 0
local tats = {}
local new_tats = {}
local result = {}

-- Request j is admitted by rule i while now >= tat + j * emission - tolerance.
for i, key in ipairs(KEYS) do
    local emission = tonumber(ARGV[3 * i - 2])
    local burst = tonumber(ARGV[3 * i - 1])
    local tat = tonumber(redis.call('GET', key)) or now
    if tat < now then tat = now end
    local fits = math.floor((now + emission * burst - tat) / emission)
    if fits < admitted then admitted = math.max(0, fits) end
    tats[i] = tat
end
for i = 1, #KEYS do
    local emission = tonumber(ARGV[3 * i - 2])
    local burst = tonumber(ARGV[3 * i - 1])
    new_tats[i] = tats[i] + admitted * emission
    if admitted < count then
        local allow_at = new_tats[i] + emission - emission * burst
        if allow_at - now > retry_after then retry_after = allow_at - now end
    end
end
local allowed = 0
if admitted == count then allowed = 1 end

-- Requests all admitted lease the same number of extra tokens of every rule: the fewest any
-- rule asks for or holds beyond them (a token is only usable with all its rules').
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
    -- Denied requests charge nothing, and report every rule as the admitted ones left it.
    local tat = new_tats[i] + leased * emission
    if admitted > 0 then
        redis.call('SET', key, string.format('%.0f', tat), 'PX', math.max(1, math.ceil((tat - now) / 1000)))
    end
    local remaining = math.floor((now + emission * burst - tat) / emission)
    if remaining < 0 then remaining = 0 end
    result[3 * i] = remaining
    result[3 * i + 1] = math.ceil(math.max(0, tat - now) / 1000)
    result[3 * i + 2] = leased
end

result[1] = admitted
result[2] = math.ceil(retry_after / 1000)
return result
