import Hummingbird

extension Request {
    /// The whole-number query parameter `name`, `value` when it is absent; one that is not a
    /// whole number in `range` (`?limit=abc`, `?limit=-1`) is a 400 `invalid-query` problem
    /// naming it, not quietly read as the default.
    public func integerQuery(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = uri.queryParameters.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw ProblemDetails.invalidQuery(
                name, detail: "`\(name)` must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text.prefix(40))'."
            )
        }
        return number
    }

    /// The query parameter `name`, one of `choices` (`value` when it is absent); any other is a
    /// 400 `invalid-query` problem naming it.
    public func choiceQuery(_ name: String, default value: String, among choices: [String]) throws -> String {
        guard let text = uri.queryParameters.get(name) else { return value }
        guard choices.contains(text) else {
            throw ProblemDetails.invalidQuery(name, detail: "`\(name)` is \(choices.joined(separator: " or ")), not '\(text.prefix(40))'.")
        }
        return text
    }
}

extension ProblemDetails {
    /// A query parameter the operation cannot take as given, naming it.
    public static func invalidQuery(_ name: String, detail: String) -> ProblemDetails {
        project(.badRequest, "invalid-query", "Invalid query parameter", detail: detail, field: name)
    }
}
