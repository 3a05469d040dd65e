import Database
import Testing

@Suite("Splitting migration files into statements")
struct SQLStatementsTests {
    @Test func plainStatements() {
        #expect(splitSQLStatements("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);  \n") == [
            "CREATE TABLE a (id int)", "INSERT INTO a VALUES (1)",
        ])
    }

    @Test func lastStatementWithoutSemicolon() {
        #expect(splitSQLStatements("SELECT 1; SELECT 2") == ["SELECT 1", "SELECT 2"])
    }

    @Test func semicolonsInsideQuotesAndComments() {
        let script = """
            -- a comment; not a statement
            INSERT INTO t VALUES ('a;b', 'it''s; fine', E'it\\'s; escaped', 'C:\\');
            /* block; /* nested; */ still comment; */
            SELECT "odd;name" FROM t;
            """
        #expect(splitSQLStatements(script) == [
            "-- a comment; not a statement\nINSERT INTO t VALUES ('a;b', 'it''s; fine', E'it\\'s; escaped', 'C:\\')",
            "/* block; /* nested; */ still comment; */\nSELECT \"odd;name\" FROM t",
        ])
    }

    @Test func dollarQuotedBodies() {
        let script = """
            CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
            DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$;
            SELECT $1::int;
            """
        #expect(splitSQLStatements(script) == [
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
            "DO $body$ BEGIN PERFORM 1; RAISE NOTICE '$$;'; END $body$",
            "SELECT $1::int",
        ])
    }

    @Test func onlyCommentsAndBlanks() {
        #expect(splitSQLStatements("-- nothing\n ; ;\n/* here */") == [])
    }
}
