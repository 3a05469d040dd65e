-- Claims an idempotency key for one request, or reports what happened to it before.
--
-- KEYS[1]  bk:{idem:SCOPE}   hash: state (pending|completed), fingerprint, owner, status, headers, body
-- ARGV[1]  owner token of this attempt
-- ARGV[2]  request fingerprint (method, path, body)
-- ARGV[3]  lease in ms: how long a pending claim holds (longer than the upstream timeout)
--
-- Returns {'claimed'} | {'mismatch'} | {'in_flight', pttl_ms} | {'completed', status, headers, body}.
local record = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'status', 'headers', 'body')
if not record[1] then
    redis.call('HSET', KEYS[1], 'state', 'pending', 'fingerprint', ARGV[2], 'owner', ARGV[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return {'claimed'}
end
if record[2] ~= ARGV[2] then
    return {'mismatch'}
end
if record[1] == 'pending' then
    return {'in_flight', redis.call('PTTL', KEYS[1])}
end
return {'completed', record[3], record[4], record[5]}
