import Foundation
import ServiceKit
import Testing

@Suite("JSON keys given twice with different values")
struct JSONRepeatedKeysTests {
    @Test("found at the top level, whatever lies between and however the key is written", arguments: [
        (#"{"a":1,"b":2}"#, []),
        (#"{"a":1,"a":1}"#, []),
        (#"{"a":1,"a":2}"#, ["a"]),
        (#" { "a" : "x" , "b" : [1, {"a": 3}], "a" : "y" } "#, ["a"]),
        (#"{"a":{"k":[1,2,"]}"]},"b":0,"a":{"k":[1,2,"]}"]}}"#, []),
        (#"{"a":{"k":1},"a":{"k":2}}"#, ["a"]),
        (#"{"event_id":"q","event\u005fid":"r"}"#, ["event_id"]),
        (#"{"a":"say \"hi\"","a":"say \"ho\""}"#, ["a"]),
        (#"{"a":1,"b":1,"b":2,"a":3}"#, ["b", "a"]),
        (#"{"x":{"a":1,"a":2}}"#, []),
        (#"{"a":1.0,"a":1}"#, ["a"]),
        (#"{"a":1,"a":2"#, []),
        (#"[{"a":1},{"a":2}]"#, []),
        (#"{}"#, []),
        ("", []),
    ] as [(String, [String])])
    func keys(json: String, expected: [String]) {
        #expect(JSONRepeatedKeys.disagreeing(in: Data(json.utf8)) == expected, "\(json)")
    }

    @Test("a deeply nested or unterminated body is read without trouble")
    func hostile() {
        let deep = #"{"a":"# + String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000) + #","a":0}"#
        #expect(JSONRepeatedKeys.disagreeing(in: Data(deep.utf8)) == ["a"])
        #expect(JSONRepeatedKeys.disagreeing(in: Data(#"{"a":"\"#.utf8)).isEmpty)
        #expect(JSONRepeatedKeys.disagreeing(in: Data(#"{"a":[1,2"#.utf8)).isEmpty)
    }
}
