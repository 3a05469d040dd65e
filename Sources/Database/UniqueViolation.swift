import PostgresNIO

/// Whether `error` is Postgres refusing a duplicate key (SQLSTATE 23505), thrown directly or
/// from inside `withTransaction`.
public func isUniqueViolation(_ error: any Error) -> Bool {
    if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
    if let error = error as? PostgresTransactionError, let inner = error.closureError { return isUniqueViolation(inner) }
    return false
}
