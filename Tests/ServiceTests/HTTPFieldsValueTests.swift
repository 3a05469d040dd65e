import HTTPTypes
import ServiceKit
import Testing

@Suite("One field's value, read without joining")
struct HTTPFieldsValueTests {
    static let user = HTTPField.Name("X-Gateway-User-Id")!
    static let request = HTTPField.Name("X-Request-Id")!

    @Test("answers what the subscript answers: one value, none, repeated values joined, names in any case")
    func sameAsSubscript() {
        var fields: HTTPFields = [.contentType: "application/json", HTTPField.Name("x-gateway-user-id")!: "u-1"]
        #expect(fields.value(of: Self.user) == "u-1")
        #expect(fields.value(of: Self.request) == nil)
        fields.append(HTTPField(name: HTTPField.Name("X-GATEWAY-USER-ID")!, value: "u-2"))
        #expect(fields.value(of: Self.user) == "u-1, u-2")
        fields.append(HTTPField(name: .cookie, value: "a=1"))
        fields.append(HTTPField(name: .cookie, value: "b=2"))
        for name in [Self.user, Self.request, .contentType, .cookie] {
            #expect(fields.value(of: name) == fields[name], "\(name)")
        }
        #expect(fields.value(of: .cookie) == "a=1; b=2")
    }
}
