import ArgumentParser
import Foundation
import TandemStore

#if canImport(Glibc)
import Glibc
#endif

/// `tandem users`: local users and their roles. The first admin of a fresh installation is made here.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Manage local users and their roles.",
        discussion: """
            Roles (a user may hold several): \(Role.allCases.map(\.rawValue).joined(separator: ", ")).
            Passwords come from --password-file, else from standard input when it is not a terminal, else from a prompt.
            """,
        subcommands: [Add.self, List.self, SetPassword.self, SetRoles.self, Unlock.self, Remove.self])

    static var actor: String { "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown") }

    static func roles(_ names: [String]) throws -> [Role] {
        try names.flatMap { $0.split(separator: ",") }.map { name in
            guard let role = Role(rawValue: String(name).trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("'\(name)' is not a role (roles: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return role
        }
    }

    /// The password from a file (first line), standard input (first line) or a prompt without echo (asked twice).
    static func readPassword(file: String?) throws -> String {
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure(description: "\(file): cannot read the file") }
            return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        }
        if isatty(STDIN_FILENO) == 0 {
            return readLine(strippingNewline: true) ?? ""
        }
        guard let first = getpass("Password: ").map({ String(cString: $0) }), let second = getpass("Repeat it: ").map({ String(cString: $0) })
        else { throw CommandFailure(description: "cannot read the password") }
        guard first == second else { throw CommandFailure(description: "the two passwords differ") }
        return first
    }

    static func failure(_ error: AdminError) -> CommandFailure {
        CommandFailure(description: error.field.map { "\($0): \(error.message)" } ?? error.message)
    }

    static func withStore<T: Sendable>(_ database: DatabaseOptions, _ body: (AuthStore) async throws -> T) async throws -> T {
        try await clearly {
            try await database.withClient { client, logger in
                try await Migrator.bundled().migrate(client, logger: logger)
                do {
                    return try await body(AuthStore(client: client, logger: logger))
                } catch let error as AdminError {
                    throw Self.failure(error)
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user (the first admin: `tandem users add admin --role admin`).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user name.") var name: String
        @Option(
            name: .customLong("role"),
            help: "A role, required (repeat, or separate with commas): \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
        var roles: [String] = []
        @Option(name: .customLong("password-file"), help: "Read the password from this file's first line.") var passwordFile: String?
        @Flag(name: .customLong("no-password"), help: "No password: the user can only use API tokens.") var noPassword = false
        @Option(name: .customLong("display-name")) var displayName: String?
        @Option var email: String?

        /// No default role: a user made without one would silently get rights nobody chose (issue 14 §8).
        func validate() throws {
            if self.roles.isEmpty {
                throw ValidationError(
                    "give the user's role with --role (repeat it, or separate roles with commas): \(Role.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
        }

        func run() async throws {
            let roles = try UsersCommand.roles(self.roles)
            let password = self.noPassword ? nil : try UsersCommand.readPassword(file: self.passwordFile)
            let user = try await UsersCommand.withStore(self.database) { store in
                try await store.createUser(
                    username: self.name, password: password, roles: roles, displayName: self.displayName, email: self.email, actor: UsersCommand.actor
                )
            }
            print("created user \(user.username) with roles \(user.roles.map(\.rawValue).joined(separator: ", "))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "JSON output.") var json = false

        struct Row: Codable {
            var username: String
            var roles: [String]
            var disabled: Bool
            var locked: Bool
            var hasPassword: Bool
        }

        func run() async throws {
            let users = try await UsersCommand.withStore(self.database) { try await $0.users() }
            let rows = users.map {
                Row(username: $0.username, roles: $0.roles.map(\.rawValue), disabled: $0.disabled, locked: $0.isLocked(), hasPassword: $0.hasPassword)
            }
            if self.json {
                try printJSON(rows)
                return
            }
            printTable(
                ["USER", "ROLES", "STATE", "PASSWORD"],
                rows.map {
                    [
                        $0.username, $0.roles.joined(separator: ","), $0.disabled ? "disabled" : ($0.locked ? "locked" : "active"),
                        $0.hasPassword ? "set" : "none",
                    ]
                })
        }
    }

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password", abstract: "Set a user's password (clears a lock-out; ends the user's sessions).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user name.") var name: String
        @Option(name: .customLong("password-file"), help: "Read the password from this file's first line.") var passwordFile: String?

        func run() async throws {
            let password = try UsersCommand.readPassword(file: self.passwordFile)
            try await UsersCommand.withStore(self.database) { try await $0.setPassword(self.name, password: password, actor: UsersCommand.actor) }
            print("password of \(self.name) set")
        }
    }

    struct SetRoles: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-roles", abstract: "Replace a user's roles.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user name.") var name: String
        @Option(
            name: .customLong("role"),
            help: "A role, required (repeat, or separate with commas): \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
        var roles: [String] = []

        func run() async throws {
            let roles = try UsersCommand.roles(self.roles)
            let user = try await UsersCommand.withStore(self.database) {
                try await $0.updateUser(self.name, .init(roles: roles), actor: UsersCommand.actor)
            }
            print("\(user.username): \(user.roles.map(\.rawValue).joined(separator: ", "))")
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Clear a lock-out after failed logins.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user name.") var name: String

        func run() async throws {
            _ = try await UsersCommand.withStore(self.database) { try await $0.updateUser(self.name, .init(unlock: true), actor: UsersCommand.actor) }
            print("\(self.name) unlocked")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user with their tokens and sessions.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The user name.") var name: String

        func run() async throws {
            try await UsersCommand.withStore(self.database) { try await $0.deleteUser(self.name, actor: UsersCommand.actor) }
            print("deleted user \(self.name)")
        }
    }
}

/// `tandem tokens`: API tokens (`Authorization: Token …`), stored only as SHA-256 digests.
struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Manage API tokens.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token for a user and print it (once: it is not stored).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The user the token acts as.") var user: String
        @Option(help: "A label, to recognize the token in lists.") var name: String
        @Option(name: .customLong("expires-in-days"), help: "Stop working after this many days (default: never).") var expiresInDays: Int?

        func run() async throws {
            let (token, _) = try await UsersCommand.withStore(self.database) {
                try await $0.createToken(for: self.user, name: self.name, expiresInDays: self.expiresInDays, actor: UsersCommand.actor)
            }
            print(token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never the tokens themselves).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this user's tokens.") var user: String?

        func run() async throws {
            let tokens = try await UsersCommand.withStore(self.database) { try await $0.tokens(of: self.user) }
            printTable(
                ["ID", "USER", "NAME", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "STATE"],
                tokens.map {
                    [
                        "\($0.id)", $0.username, $0.name, $0.prefix + "…", $0.createdAt.formatted(.iso8601),
                        $0.lastUsedAt.map { $0.formatted(.iso8601) } ?? "never", $0.expiresAt.map { $0.formatted(.iso8601) } ?? "never",
                        $0.revokedAt != nil ? "revoked" : ($0.isActive() ? "active" : "expired"),
                    ]
                })
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (from `tandem tokens list`).") var id: Int64

        func run() async throws {
            let record = try await UsersCommand.withStore(self.database) { try await $0.revokeToken(id: self.id, actor: UsersCommand.actor) }
            print("revoked token \(record.id) (\(record.username)/\(record.name))")
        }
    }
}
