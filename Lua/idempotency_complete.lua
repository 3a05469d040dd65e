-- Stores the response of a claimed request so that retries replay it.
--
-- KEYS[1]  bk:{idem:SCOPE}   hash (see idempotency_begin.lua)
-- ARGV[1]  owner token of the attempt that claimed the key
-- ARGV[2]  response status
-- ARGV[3]  response headers to replay (JSON)
-- ARGV[4]  response body
-- ARGV[5]  retention in ms
--
-- Returns 1 when stored, 0 when the claim was lost (expired or taken over).
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then
    return 0
end
redis.call('HSET', KEYS[1], 'state', 'completed', 'status', ARGV[2], 'headers', ARGV[3], 'body', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
