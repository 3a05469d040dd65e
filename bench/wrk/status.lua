-- wrk: status polls by visitors who already joined; tickets come from the file in $TICKETS.
local tickets = {}
for line in io.lines(os.getenv("TICKETS")) do
    tickets[#tickets + 1] = line
end

request = function()
    return wrk.format("GET", wrk.path, { ["Visitor-Ticket"] = tickets[math.random(#tickets)] })
end
