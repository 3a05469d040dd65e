extension String {
    /// Text fit to store and show: 1…`maxLength` characters and no control characters (a NUL
    /// would make Postgres refuse the row; escapes have no place in a name or an id).
    public func isDisplayText(maxLength: Int) -> Bool {
        !isEmpty && count <= maxLength && !unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
