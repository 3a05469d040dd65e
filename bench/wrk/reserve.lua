-- wrk: POST /api/v1/bookings/reserve for one seat of $EVENT, zone $ZONE, rotating over the
-- identities in $IDENTITIES: lines "user<TAB>request-id<TAB>signature" (straight to the booking
-- service, as the gateway would sign them) or one access token per line (through the gateway).
-- With IDEMPOTENCY=1 every request carries a new Idempotency-Key.
local identities = {}
for line in io.lines(os.getenv("IDENTITIES")) do
    identities[#identities + 1] = line
end
local body = string.format('{"event_id":"%s","zone_id":"%s","quantity":1}', os.getenv("EVENT"), os.getenv("ZONE") or "floor")
local idempotent = os.getenv("IDEMPOTENCY") == "1"
local prefix = tostring({}):gsub("[^%x]", "") .. tostring(os.time())
local counter = 0

request = function()
    counter = counter + 1
    local line = identities[(counter % #identities) + 1]
    local headers = { ["Content-Type"] = "application/json" }
    local user, request_id, signature = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
    if user then
        headers["X-Gateway-User-Id"] = user
        headers["X-Gateway-User-Roles"] = "customer"
        headers["X-Request-Id"] = request_id
        headers["X-Gateway-Signature"] = signature
    else
        headers["Authorization"] = "Bearer " .. line
    end
    if idempotent then
        headers["Idempotency-Key"] = prefix .. "-" .. counter
    end
    return wrk.format("POST", wrk.path, headers, body)
end
