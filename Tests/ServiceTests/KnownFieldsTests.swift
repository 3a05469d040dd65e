import Foundation
import ServiceKit
import Testing

@Suite("Request bodies that name every field they take")
struct KnownFieldsTests {
    static let known: Set<String> = ["name", "zones", "zones.*.id", "zones.*.capacity", "adaptive", "adaptive.min_rate", "tags"]

    @Test("the first field not taken, by its dotted path; known fields, values of any kind and bodies that are not objects pass", arguments: [
        (#"{"name":"a","zones":[{"id":"x","capacity":1}],"adaptive":{"min_rate":1},"tags":["a",{"free":1}]}"#, nil),
        (#"{"adaptive":null,"zones":[]}"#, nil),
        (#"{"nmae":"a"}"#, "nmae"),
        (#"{"zones":[{"id":"x"},{"id":"y","colour":"red"}]}"#, "zones.1.colour"),
        (#"{"adaptive":{"min_rate":1,"max":2}}"#, "adaptive.max"),
        (#"{"zones":{"id":"x","extra":1}}"#, nil),
        (#"[{"nmae":"a"}]"#, nil),
        (#"{"name":"a""#, nil),
    ] as [(String, String?)])
    func first(body: String, unknown: String?) {
        #expect(UnknownFields.first(in: Data(body.utf8), known: Self.known) == unknown)
    }
}
