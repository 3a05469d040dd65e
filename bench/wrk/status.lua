-- wrk: status polls by visitors who already joined; the file in $TICKETS has a line per visitor,
-- "ticket" or "ticket<TAB>place token" (with a place token, the gateway answers from its room snapshot).
local visitors = {}
for line in io.lines(os.getenv("TICKETS")) do
    local ticket, place = line:match("^([^\t]+)\t?(.*)$")
    local headers = { ["Visitor-Ticket"] = ticket }
    if place ~= "" then headers["Queue-Place"] = place end
    visitors[#visitors + 1] = headers
end

request = function()
    return wrk.format("GET", wrk.path, visitors[math.random(#visitors)])
end
