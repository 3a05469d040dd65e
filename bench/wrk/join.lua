-- wrk: every request is a new visitor joining (no ticket, so the gateway issues one).
wrk.method = "POST"
