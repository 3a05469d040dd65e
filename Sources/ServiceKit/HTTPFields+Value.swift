import HTTPTypes

extension HTTPFields {
    /// What `self[name]` answers (the values of every field so named, joined), without building
    /// a new string when the field appears once, as the fields a service reads on every request
    /// (identity, request id, idempotency key) do.
    public func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }
            found = field.value
        }
        return found
    }
}
