-- wrk: POST /api/v1/bookings/reserve for one seat of $EVENT, zone $ZONE, rotating over the
-- identities in $IDENTITIES: lines "user<TAB>request-id<TAB>signature" (straight to the booking
-- service, as the gateway would sign them) or one access token per line (through the gateway).
-- With IDEMPOTENCY=1 every request carries a new Idempotency-Key.
-- Every identity's request is formatted once, when the thread starts (init runs after wrk has set
-- its Host header); a request then costs wrk a table lookup (and, with IDEMPOTENCY=1, the key
-- spliced in after the request line), not a wrk.format, so the load generator takes less of the
-- CPU it shares with the services under test.
local body = string.format('{"event_id":"%s","zone_id":"%s","quantity":1}', os.getenv("EVENT"), os.getenv("ZONE") or "floor")
local idempotent = os.getenv("IDEMPOTENCY") == "1"
local prefix = tostring({}):gsub("[^%x]", "") .. tostring(os.time())
local counter = 0
local requests = {}
local requestLines = {}
local rests = {}

init = function(args)
    for line in io.lines(os.getenv("IDENTITIES")) do
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
        local request = wrk.format("POST", wrk.path, headers, body)
        local lineEnd = request:find("\r\n", 1, true)
        requests[#requests + 1] = request
        requestLines[#requestLines + 1] = request:sub(1, lineEnd + 1)
        rests[#rests + 1] = request:sub(lineEnd + 2)
    end
end

request = function()
    counter = counter + 1
    local index = (counter % #requests) + 1
    if not idempotent then return requests[index] end
    return requestLines[index] .. "Idempotency-Key: " .. prefix .. "-" .. counter .. "\r\n" .. rests[index]
end
