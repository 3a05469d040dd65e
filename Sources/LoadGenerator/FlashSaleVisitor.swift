import Foundation
import NIOHTTP1

/// One simulated visitor: joins the waiting room, polls until admitted, reserves with the pass,
/// pays with a test card. Reports every step to the recorder.
struct FlashSaleVisitor: Sendable {
    let index: Int
    let token: String
    let plan: FlashSalePlan
    let client: LoadClient
    let recorder: FlashSaleRecorder
    let startingLine: StartingLine?

    private var authorization: (String, String) { ("Authorization", "Bearer \(token)") }

    func run() async {
        guard let pass = await queue() else { return }
        await startingLine?.arrive()
        guard let booking = await reserve(pass: pass) else { return }
        if plan.pay { await pay(booking: booking) }
    }

    /// Joins and polls; nil if the visitor abandons, loses the place or fails.
    private func queue() async -> String? {
        let queuedAt = ContinuousClock.now
        let sent = recorder.elapsed
        guard let joined = await call(.join, .POST, "/api/v1/queue/\(plan.event)/join") else { return nil }
        let answered = recorder.elapsed
        guard joined.status == 200 || joined.status == 201 else { return failed(.join, joined) }
        recorder.count("joined")
        if plan.abandons(index) {
            recorder.count("abandoned_on_purpose")
            return nil
        }
        var body = joined
        while body.string("status") != "admitted" {
            let pause = min(plan.maxPollMilliseconds, max(100, body.int("poll_after_ms") ?? 1_000))
            try? await Task.sleep(for: .milliseconds(pause))
            guard let polled = await call(.status, .GET, "/api/v1/queue/\(plan.event)/status") else { return nil }
            if polled.status == 410 { recorder.count("lost_place"); return nil }
            guard polled.status == 200 else { return failed(.status, polled) }
            body = polled
        }
        recorder.record(.wait, since: queuedAt)
        recorder.count("admitted")
        guard let pass = body.string("pass") else { return failed(.status, body) }
        if let admission = Self.admissionNumber(of: pass) {
            recorder.admitted(Fairness.Sample(joinSent: sent, joinAnswered: answered, admission: admission))
        }
        return pass
    }

    /// Reserves `plan.quantity` seats; with `plan.retries`, the same request (same key) is sent
    /// twice at once and once more afterwards, and all must name one booking.
    private func reserve(pass: String) async -> String? {
        let key = UUID().uuidString
        let body: [String: any Sendable] = ["event_id": plan.event, "zone_id": plan.zone, "quantity": plan.quantity]
        let headers = [authorization, ("Queue-Pass", pass), ("Idempotency-Key", key)]
        let attempts = plan.retries ? 2 : 1
        let responses = await withTaskGroup(of: LoadResponse?.self) { group in
            for _ in 0..<attempts {
                group.addTask { await call(.reserve, .POST, "/api/v1/bookings/reserve", json: body, headers: headers) }
            }
            var all: [LoadResponse?] = []
            for await response in group { all.append(response) }
            return all
        }
        var replies = responses.compactMap { $0 }
        if plan.retries, let retried = await call(.reserve, .POST, "/api/v1/bookings/reserve", json: body, headers: headers) {
            replies.append(retried)
        }
        var booking: String?
        for reply in replies {
            switch reply.status {
            case 201, 200:
                if let id = reply.string("booking_id") { booking = id; recorder.booked(visitor: index, booking: id) }
            case 409 where reply.problemType?.hasSuffix("sold-out") == true:
                recorder.count("sold_out")
            case 409 where reply.problemType?.hasSuffix("idempotency-key-in-use") == true:
                recorder.count("reserve_in_progress")
            default:
                _ = failed(.reserve, reply)
            }
        }
        if booking != nil { recorder.count("reserved") }
        return booking
    }

    private func pay(booking: String) async {
        let bookingBody: [String: any Sendable] = ["booking_id": booking]
        guard let intent = await call(.intent, .POST, "/api/v1/payments/intent", json: bookingBody, headers: [authorization, ("Idempotency-Key", "intent-\(booking)")]) else { return }
        guard intent.status == 201 || intent.status == 200, let payment = intent.string("payment_id") else { _ = failed(.intent, intent); return }
        let confirmBody: [String: any Sendable] = ["payment_id": payment, "payment_method": "pm_card_visa"]
        guard let confirmed = await call(.confirm, .POST, "/api/v1/payments/intent/confirm", json: confirmBody, headers: [authorization, ("Idempotency-Key", "confirm-\(payment)")]) else { return }
        guard confirmed.status == 200, confirmed.string("status") == "succeeded" else { _ = failed(.confirm, confirmed); return }
        recorder.count("paid")
    }

    /// One call, retried like a polite client after `429` (waiting `Retry-After`) up to five times.
    private func call(
        _ step: FlashSaleStep, _ method: HTTPMethod, _ path: String, json: [String: any Sendable]? = nil, headers: [(String, String)]? = nil
    ) async -> LoadResponse? {
        for attempt in 1...6 {
            let start = ContinuousClock.now
            do {
                let response = try await client.send(method, path, json: json, headers: headers ?? [authorization])
                recorder.record(step, since: start)
                guard response.status == 429, attempt < 6 else { return response }
                recorder.count("rate_limited_retries")
                try? await Task.sleep(for: .seconds(min(5, max(0.05, response.retryAfter ?? 1))))
            } catch {
                recorder.error(step, "transport: \(String(describing: error).prefix(60))")
                return nil
            }
        }
        return nil
    }

    private func failed(_ step: FlashSaleStep, _ response: LoadResponse) -> String? {
        recorder.error(step, response.kind)
        return nil
    }

    /// The admission number from a pass's `jti` claim (`<event>.<number>`).
    static func admissionNumber(of pass: String) -> Int? {
        let parts = pass.split(separator: ".")
        guard parts.count == 3 else { return nil }
        var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
        guard let data = Data(base64Encoded: payload),
              let claims = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let jti = claims["jti"] as? String, let number = jti.split(separator: ".").last else { return nil }
        return Int(number)
    }
}
