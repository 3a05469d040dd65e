-- wrk: status polls by visitors who already joined; the file in $TICKETS has a line per visitor,
-- "ticket" or "ticket<TAB>place token" (with a place token, the gateway answers from its room snapshot).
-- Every visitor's request is formatted once, when the thread starts (init runs after wrk has set
-- its Host header): a poll then costs wrk a table lookup, not a wrk.format, so the load generator
-- takes less of the CPU it shares with the gateway.
local requests = {}

init = function(args)
    for line in io.lines(os.getenv("TICKETS")) do
        local ticket, place = line:match("^([^\t]+)\t?(.*)$")
        local headers = { ["Visitor-Ticket"] = ticket }
        if place ~= "" then headers["Queue-Place"] = place end
        requests[#requests + 1] = wrk.format("GET", wrk.path, headers)
    end
end

request = function()
    return requests[math.random(#requests)]
end
