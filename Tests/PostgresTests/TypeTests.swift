import Foundation
import Postgres
import Testing

private struct Settings: Codable, Equatable {
    var name: String
    var limits: [Int]
    var nested: [String: Bool]
}

/// Every supported type goes in as a bind and comes back out of a real column of the matching type.
@Suite struct TypeTests {
    @Test func scalarsRoundTripThroughTypedColumns() async throws {
        try await TestDatabase.withClient { client in
            try await TestDatabase.withTable(
                client, "types",
                columns: """
                    id int PRIMARY KEY, s text, i8 bigint, i4 integer, i2 smallint, b boolean, d double precision,
                    ts timestamptz, by bytea, u uuid, j json, jb jsonb, vc varchar(50)
                    """
            ) { table in

                let uuid = UUID()
                let micros: Int64 = 1_732_540_800_123_457  // 2024-11-25 13:20:00.123457 UTC
                let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
                let bytes: [UInt8] = [0, 1, 0, 255, 0x5c, 0x78, 0, 39, 34]  // NULs, backslash, 'x', quotes
                let text = "héllo wörld ✓ 日本語 🎉 'quoted' \"double\" \\back\\slash"
                let json = try PostgresJSON(Settings(name: "ünï", limits: [1, 2, 3], nested: ["on": true]))
                try await client.query(
                    """
                    INSERT INTO \(unescaped: table) (id, s, i8, i4, i2, b, d, ts, by, u, j, jb, vc)
                    VALUES (1, \(text), \(Int64.max), \(Int32.min), \(Int16(-7)), \(true), \(3.141592653589793),
                            \(date), \(bytes), \(uuid), \(json), \(json), \("varchar ✓"))
                    """)
                let row = try #require(try await client.query("SELECT * FROM \(unescaped: table) WHERE id = \(1)").first)
                #expect(try row.decode(String.self, column: "s") == text)
                #expect(try row.decode(Int64.self, column: "i8") == Int64.max)
                #expect(try row.decode(Int.self, column: "i8") == Int.max)
                #expect(try row.decode(Int32.self, column: "i4") == Int32.min)
                #expect(try row.decode(Int.self, column: "i4") == Int(Int32.min))
                #expect(try row.decode(Int16.self, column: "i2") == -7)
                #expect(try row.decode(Bool.self, column: "b") == true)
                #expect(try row.decode(Double.self, column: "d") == 3.141592653589793)
                let decodedDate = try row.decode(Date.self, column: "ts")
                #expect(Int64((decodedDate.timeIntervalSince1970 * 1_000_000).rounded()) == micros)
                #expect(try row.decode([UInt8].self, column: "by") == bytes)
                #expect(try row.decode(Data.self, column: "by") == Data(bytes))
                #expect(try row.decode(UUID.self, column: "u") == uuid)
                #expect(try row.decode(PostgresJSON.self, column: "j").decode(Settings.self) == json.decode(Settings.self))
                #expect(try row.decode(PostgresJSON.self, column: "jb").decode(Settings.self).name == "ünï")
                #expect(try row.decode(String.self, column: "vc") == "varchar ✓")

                // The server stored the exact timestamp (microseconds) and bytes, not something near them.
                let check = try await client.query(
                    """
                    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS ts, length(by) AS n,
                           get_byte(by, 3) AS b3 FROM \(unescaped: table)
                    """)
                #expect(try check[0].decode(String.self, column: "ts") == "2024-11-25 13:20:00.123457")
                #expect(try check[0].decode(Int.self, column: "n") == bytes.count)
                #expect(try check[0].decode(Int.self, column: "b3") == 255)
            }
        }
    }

    @Test func nullsDecodeAsNilForEveryType() async throws {
        try await TestDatabase.withClient { client in
            let rows = try await client.query(
                """
                SELECT \(String?.none) AS s, \(Int?.none) AS i, \(Int32?.none) AS i4, \(Bool?.none) AS b,
                       \(Double?.none) AS d, \(Date?.none) AS ts, \([UInt8]?.none) AS by, \(UUID?.none) AS u,
                       \(PostgresJSON?.none) AS j, \([String]?.none) AS sa, \([Int]?.none) AS ia, \(Data?.none) AS data
                """)
            let row = try #require(rows.first)
            #expect(try row.decode(String?.self, column: "s") == nil)
            #expect(try row.decode(Int?.self, column: "i") == nil)
            #expect(try row.decode(Int32?.self, column: "i4") == nil)
            #expect(try row.decode(Bool?.self, column: "b") == nil)
            #expect(try row.decode(Double?.self, column: "d") == nil)
            #expect(try row.decode(Date?.self, column: "ts") == nil)
            #expect(try row.decode([UInt8]?.self, column: "by") == nil)
            #expect(try row.decode(Data?.self, column: "data") == nil)
            #expect(try row.decode(UUID?.self, column: "u") == nil)
            #expect(try row.decode(PostgresJSON?.self, column: "j") == nil)
            #expect(try row.decode([String]?.self, column: "sa") == nil)
            #expect(try row.decode([Int]?.self, column: "ia") == nil)
            #expect(row[column: "s"]?.isNull == true)
            // Typed NULL binds carry their type: the server reports the columns as those types.
            #expect(rows.columnTypes[1] == .int8)
            #expect(rows.columnTypes[5] == .timestamptz)
            // A non-optional decode of NULL is a clear error naming the column.
            let error = #expect(throws: PostgresError.self) { try row.decode(Int.self, column: "i") }
            #expect(error?.kind == .decoding)
            #expect(error?.message.contains("\"i\"") == true)
            #expect(error?.message.contains("NULL") == true)
            // Some(value) of an optional is the value.
            let some = try await client.query("SELECT \(Optional(5)) AS v")
            #expect(try some[0].decode(Int?.self, at: 0) == 5)
        }
    }

    @Test func arraysRoundTripIncludingEmptyAndAwkwardElements() async throws {
        try await TestDatabase.withClient { client in
            try await TestDatabase.withTable(
                client, "arrays",
                columns: "id int, s text[], i bigint[], i4 int[], b boolean[], d float8[], u uuid[], ts timestamptz[]"
            ) { table in
                let strings = ["", "a,b", "{braces}", "quote\"d", "back\\slash", "NULL", " spaced ", "ünï ✓", "null"]
                let ints = [0, -1, Int.max, Int.min]
                let uuids = [UUID(), UUID()]
                let dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_700_000_000.5)]
                try await client.query(
                    """
                    INSERT INTO \(unescaped: table) VALUES
                      (1, \(strings), \(ints), \([Int32(1), Int32(-2)]), \([true, false]), \([1.5, -0.25, 1e300]),
                       \(uuids), \(dates)),
                      (2, \([String]()), \([Int]()), \([Int32]()), \([Bool]()), \([Double]()), \([UUID]()), \([Date]()))
                    """)
                let rows = try await client.query("SELECT * FROM \(unescaped: table) ORDER BY id")
                #expect(try rows[0].decode([String].self, column: "s") == strings)
                #expect(try rows[0].decode([Int].self, column: "i") == ints)
                #expect(try rows[0].decode([Int64].self, column: "i") == ints.map(Int64.init))
                #expect(try rows[0].decode([Int32].self, column: "i4") == [1, -2])
                #expect(try rows[0].decode([Int].self, column: "i4") == [1, -2])
                #expect(try rows[0].decode([Bool].self, column: "b") == [true, false])
                #expect(try rows[0].decode([Double].self, column: "d") == [1.5, -0.25, 1e300])
                #expect(try rows[0].decode([UUID].self, column: "u") == uuids)
                #expect(try rows[0].decode([Date].self, column: "ts") == dates)
                #expect(try rows[1].decode([String].self, column: "s") == [])
                #expect(try rows[1].decode([Int].self, column: "i") == [])
                #expect(try rows[1].decode([Bool].self, column: "b") == [])
                #expect(try rows[1].decode([Double].self, column: "d") == [])
                #expect(try rows[1].decode([UUID].self, column: "u") == [])

                // The server sees real arrays: element count and ANY() work on the binds.
                let n = try await client.query("SELECT cardinality(s) FROM \(unescaped: table) WHERE \("a,b") = ANY(s)")
                #expect(try n.decode(Int.self) == [strings.count])
                // NULL elements are an error for non-optional element types.
                let withNull = try await client.query("SELECT ARRAY['a', NULL]::text[]")
                #expect(throws: PostgresError.self) { try withNull[0].decode([String].self, at: 0) }
            }
        }
    }

    @Test func timestampsKeepMicrosecondsAcrossEpochsAndOffsets() async throws {
        try await TestDatabase.withClient { client in
            let samples: [Int64] = [
                0, 1, -1, 999_999, -1_000_001, 951_782_400_000_001,  // 2000-02-29
                4_102_444_799_999_999,  // 2099-12-31 23:59:59.999999
                -2_208_988_800_000_000,  // 1900-01-01
                1_732_540_800_123_457,
            ]
            for micros in samples {
                let date = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
                let rows = try await client.query(
                    """
                    SELECT \(date) AS ts, (extract(epoch FROM \(date)) * 1000000)::bigint AS us,
                           \(date)::timestamp AS naive, (\(date) AT TIME ZONE 'Asia/Kolkata')::text AS ist
                    """)
                let back = try rows[0].decode(Date.self, column: "ts")
                #expect(Int64((back.timeIntervalSince1970 * 1_000_000).rounded()) == micros)
                #expect(try rows[0].decode(Int64.self, column: "us") == micros)
                let naive = try rows[0].decode(Date.self, column: "naive")
                #expect(Int64((naive.timeIntervalSince1970 * 1_000_000).rounded()) == micros)
            }
            // Output in a non-UTC session time zone (offset +05:30) still decodes to the same instant.
            try await client.withConnection { connection in
                try await connection.query("SET TimeZone TO 'Asia/Kolkata'")
                let date = Date(timeIntervalSince1970: 1_700_000_000.25)
                let rows = try await connection.query("SELECT \(date) AS ts, \(date)::text AS text")
                #expect(try rows[0].decode(String.self, column: "text").hasSuffix("+05:30"))
                #expect(try rows[0].decode(Date.self, column: "ts") == date)
                try await connection.query("RESET TimeZone")
            }
            let infinite = try await client.query("SELECT 'infinity'::timestamptz, '-infinity'::timestamptz")
            #expect(try infinite[0].decode(Date.self, at: 0) == .distantFuture)
            #expect(try infinite[0].decode(Date.self, at: 1) == .distantPast)
        }
    }

    @Test func mismatchedTypesAreClearErrors() async throws {
        try await TestDatabase.withClient { client in
            let rows = try await client.query(
                "SELECT 1::int AS n, 'x'::text AS t, true AS b, 70000::int AS big, now() AS ts, '{1,2}'::int[] AS a")
            let row = rows[0]
            for (attempt, expected) in [
                ({ _ = try row.decode(String.self, column: "n") }, "int4"),
                ({ _ = try row.decode(Int.self, column: "t") }, "text"),
                ({ _ = try row.decode(Bool.self, column: "n") }, "int4"),
                ({ _ = try row.decode(Int16.self, column: "big") }, "int4"),
                ({ _ = try row.decode(UUID.self, column: "t") }, "text"),
                ({ _ = try row.decode(Date.self, column: "t") }, "text"),
                ({ _ = try row.decode([String].self, column: "a") }, "int4"),
                ({ _ = try row.decode(Int.self, column: "missing") }, "no column"),
                ({ _ = try row.decode(Int.self, at: 9) }, "out of range"),
            ] as [(() throws -> Void, String)] {
                let error = #expect(throws: PostgresError.self) { try attempt() }
                #expect(error?.kind == .decoding)
                #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
            }
            // Tuple decoding.
            let (n, t, b) = try row.decode((Int, String, Bool).self)
            #expect(n == 1 && t == "x" && b)
        }
    }

    @Test func specialFloatsAndUserTypes() async throws {
        try await TestDatabase.withClient { client in
            let rows = try await client.query(
                "SELECT \(Double.nan) AS nan, \(Double.infinity) AS inf, \(-Double.infinity) AS ninf, 1.25::real AS r, 12.50::numeric AS num")
            #expect(try rows[0].decode(Double.self, column: "nan").isNaN)
            #expect(try rows[0].decode(Double.self, column: "inf") == .infinity)
            #expect(try rows[0].decode(Double.self, column: "ninf") == -.infinity)
            #expect(try rows[0].decode(Float.self, column: "r") == 1.25)
            #expect(try rows[0].decode(String.self, column: "num") == "12.50")
            #expect(try rows[0].decode(Double.self, column: "num") == 12.5)

            // An enum (user-defined OID) decodes as String; a String bind is inferred as the enum.
            let type = TestDatabase.table("mood")
            try await client.query("CREATE TYPE \(unescaped: type) AS ENUM ('sad', 'happy')")
            try await TestDatabase.cleanup(client, "DROP TYPE IF EXISTS \(unescaped: type)") {
                let mood = try await client.query("SELECT \("happy")::\(unescaped: type) AS m")
                #expect(try mood[0].decode(String.self, column: "m") == "happy")
            }
        }
    }
}
