import Foundation
import Postgres
import Testing

/// Collects a sequence's notifications in the background so a test can wait for them with a deadline.
actor NotificationCollector {
    private(set) var received: [PostgresNotification] = []
    private var task: Task<Void, Never>?

    init(_ notifications: PostgresNotifications) {
        self.task = nil
        Task { await self.start(notifications) }
    }

    private func start(_ notifications: PostgresNotifications) {
        self.task = Task {
            for await notification in notifications { self.add(notification) }
        }
    }

    private func add(_ notification: PostgresNotification) { self.received.append(notification) }

    func stop() { self.task?.cancel() }

    /// Waits until at least `count` notifications arrived or `timeout` passed; returns what arrived.
    func wait(for count: Int, timeout: Duration = .seconds(10)) async throws -> [PostgresNotification] {
        let deadline = ContinuousClock.now + timeout
        while self.received.count < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return self.received
    }
}

@Suite struct ListenTests {
    static func listenerBackends(_ client: PostgresClient, application: String) async throws -> [Int32] {
        try await client.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = \(application + "-listener") ORDER BY pid"
        ).decode(Int32.self)
    }

    @Test func notifyDeliversPayloadsInOrder() async throws {
        try await TestDatabase.withClient { client in
            let channel = "tandem test \(UUID().uuidString.prefix(6))"  // needs quoting as an identifier
            let notifications = try await client.listen(channel)
            let payloads = ["first", "ünïcödé ✓ 🎉", "", "with 'quotes' and \"double\"", String(repeating: "x", count: 7000)]
            let sender = try await client.withConnection { connection in
                for payload in payloads {
                    try await connection.query("SELECT pg_notify(\(channel), \(payload))")
                }
                return try await connection.query("SELECT pg_backend_pid()").decode(Int32.self)
            }
            let collector = NotificationCollector(notifications)
            let received = try await collector.wait(for: payloads.count)
            await collector.stop()
            #expect(received.map(\.payload) == payloads)
            #expect(received.allSatisfy { $0.channel == channel })
            #expect(received.allSatisfy { sender.contains($0.pid) })
        }
    }

    @Test func listenerReconnectsAfterItsBackendIsKilled() async throws {
        let application = "tandem-listen-\(UUID().uuidString.prefix(6))"
        try await TestDatabase.withClient(applicationName: application) { client in
            let channel = "reconnect_\(UUID().uuidString.prefix(6))"
            let notifications = try await client.listen(channel)
            let collector = NotificationCollector(notifications)
            let backends = try await Self.listenerBackends(client, application: application)
            #expect(backends.count == 1)
            let killed = try await client.query("SELECT pg_terminate_backend(\(backends[0]), 5000)").decode(Bool.self)
            #expect(killed == [true])
            // Keep notifying until the re-LISTENed connection delivers (notifications sent while down are lost).
            var delivered: PostgresNotification?
            let deadline = ContinuousClock.now + .seconds(20)
            var attempt = 0
            while delivered == nil && ContinuousClock.now < deadline {
                attempt += 1
                try await client.query("SELECT pg_notify(\(channel), \("after-\(attempt)"))")
                delivered = try await collector.wait(for: 1, timeout: .milliseconds(500)).first
            }
            #expect(delivered?.payload.hasPrefix("after-") == true)
            let newBackends = try await Self.listenerBackends(client, application: application)
            #expect(newBackends.count == 1 && newBackends != backends)
            await collector.stop()
        }
    }

    @Test func droppingTheSequenceEndsTheListen() async throws {
        let application = "tandem-drop-\(UUID().uuidString.prefix(6))"
        try await TestDatabase.withClient(applicationName: application) { client in
            do {
                let notifications = try await client.listen("dropped_channel")
                #expect(try await Self.listenerBackends(client, application: application).count == 1)
                _ = notifications
            }
            var remaining = -1
            for _ in 0..<50 {
                remaining = try await Self.listenerBackends(client, application: application).count
                if remaining == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(remaining == 0)
        }
    }

    @Test func cancellingTheIteratingTaskEndsTheListen() async throws {
        let application = "tandem-cancel-\(UUID().uuidString.prefix(6))"
        try await TestDatabase.withClient(applicationName: application) { client in
            let notifications = try await client.listen("cancel_channel")
            let task = Task {
                var count = 0
                for await _ in notifications { count += 1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            _ = await task.value  // the loop ends
            var remaining = -1
            for _ in 0..<50 {
                remaining = try await Self.listenerBackends(client, application: application).count
                if remaining == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(remaining == 0)
        }
    }

    @Test func listenOnAnUnreachableServerThrows() async throws {
        var configuration = PostgresConfiguration(connectionString: "host=127.0.0.1 port=1 user=x dbname=x")
        configuration.connectTimeout = .seconds(2)
        let client = PostgresClient(configuration: configuration, logger: TestDatabase.logger)
        let error = await #expect(throws: PostgresError.self) { try await client.listen("nowhere") }
        #expect(error?.kind == .connection)
        await client.shutdown()
    }

    @Test func shutdownEndsOpenListeners() async throws {
        let client = PostgresClient(
            configuration: .init(connectionString: TestDatabase.url), logger: TestDatabase.logger)
        let notifications = try await client.listen("shutdown_channel")
        let task = Task {
            var count = 0
            for await _ in notifications { count += 1 }
            return count
        }
        await client.shutdown()
        #expect(await task.value == 0)
        let error = await #expect(throws: PostgresError.self) { try await client.listen("x") }
        #expect(error?.kind == .poolClosed)
    }
}
