import HTTPTypes
import Hummingbird
import Testing

@testable import Gateway

@Suite("The waiting room's Set-Cookie values")
struct QueueCookieTests {
    /// A `Set-Cookie` value's name=value and its attributes, in any order.
    static func parts(_ value: String) -> (pair: Substring, attributes: Set<Substring>) {
        let parts = value.split(separator: ";").map { $0.drop { $0 == " " } }
        return (parts[0], Set(parts.dropFirst()))
    }

    @Test("The value carries the attributes Hummingbird's Cookie writes for the same cookie", arguments: [false, true])
    func sameAsHummingbird(secure: Bool) {
        let ours = QueueCookie(name: "br_place_demo", value: "q1.w12.abc-_", maxAge: 86_400, secure: secure)
        let theirs = Cookie(name: "br_place_demo", value: "q1.w12.abc-_", maxAge: 86_400, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
        let (pair, attributes) = Self.parts(ours.headerValue)
        let (expectedPair, expectedAttributes) = Self.parts(theirs.description)
        #expect(pair == expectedPair)
        #expect(attributes == expectedAttributes)
        #expect(attributes.contains("Secure") == secure)
    }

    @Test("A router response gets one Set-Cookie field per cookie, in order")
    func responseFields() {
        var response = Response(status: .ok)
        response.setCookie(QueueCookie(name: "br_visitor", value: "v1.a.b", maxAge: 86_400, secure: false))
        response.setCookie(QueueCookie(name: "br_pass_demo", value: "eyJ.x.y", maxAge: 30, secure: true))
        let values = response.headers[values: .setCookie]
        #expect(values == [
            "br_visitor=v1.a.b; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax",
            "br_pass_demo=eyJ.x.y; Max-Age=30; Path=/; Secure; HttpOnly; SameSite=Lax",
        ])
    }
}
