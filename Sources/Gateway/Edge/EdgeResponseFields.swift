import NIOHTTP1

/// The fields a route's policies add to its answer (`RateLimit-Policy`, `RateLimit`, …), in the
/// order they were added. The first two are held inline, so that a rate-limited route (two
/// fields per request) allocates nothing for them; more go to an array.
struct EdgeResponseFields {
    typealias Field = (name: String, value: String)

    private var first: Field?
    private var second: Field?
    private var more: [Field] = []

    init() {}

    /// How many fields were added.
    var count: Int {
        (first == nil ? 0 : 1) + (second == nil ? 0 : 1) + more.count
    }

    /// Adds a field after those added before.
    mutating func append(name: String, value: String) {
        if first == nil {
            first = (name, value)
        } else if second == nil {
            second = (name, value)
        } else {
            more.append((name, value))
        }
    }

    /// Adds every field to `headers`, after the fields already there.
    func add(to headers: inout HTTPHeaders) {
        guard let first else { return }
        headers.add(name: first.name, value: first.value)
        guard let second else { return }
        headers.add(name: second.name, value: second.value)
        for field in more { headers.add(name: field.name, value: field.value) }
    }
}
