-- Gives up a pending claim (the upstream was never reached), so a retry runs afresh.
--
-- KEYS[1]  bk:{idem:SCOPE}   hash (see idempotency_begin.lua)
-- ARGV[1]  owner token of the attempt that claimed the key
--
-- Returns 1 when released, 0 when the key is not this attempt's pending claim.
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'state') == 'pending' then
    return redis.call('DEL', KEYS[1])
end
return 0
