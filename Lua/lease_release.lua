-- Releases a lease only if the caller still owns it (compare-and-delete).
--
-- KEYS[1]  the lease key
-- ARGV[1]  the owner token the lease was claimed with
--
-- Returns 1 when the lease was released, 0 when it is missing or held by another owner.
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
