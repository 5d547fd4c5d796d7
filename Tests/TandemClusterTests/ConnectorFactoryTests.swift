import Foundation
import HTTP
import Synchronization
import TandemCluster
import TandemConfig
import TandemConnectors
import Testing

/// Which connector a `memory` repository gets: a simulator URL (`…/repos/<name>`) is shared by every process through
/// `RemoteMemoryConnector`; any other URL stays in this process's registry.
@Suite struct ConnectorFactoryTests {
    @Test func memoryRepositoriesOnASimulatorAreRemote() async throws {
        let http = HTTPClient()
        let remote = try ConnectorFactory.make(
            RepositoryConfig(name: "left", kind: .memory, url: "http://127.0.0.1:7070/repos/left"), secrets: [:], http: http)
        let connector = try #require(remote as? RemoteMemoryConnector)
        #expect(connector.configuration.repositoryURL.absoluteString == "http://127.0.0.1:7070/repos/left")

        let name = "factory-\(UInt64(Date().timeIntervalSince1970 * 1000))"
        let local = try ConnectorFactory.make(
            RepositoryConfig(name: name, kind: .memory, url: "http://memory.invalid/\(name)"), secrets: [:], http: http)
        #expect(local is InMemoryConnector)
        #expect(InMemoryConnector.repositories.withLock { $0.removeValue(forKey: name) } != nil)
        await http.shutdown()
    }

    @Test func aRepositorysDebugLoggingMakesItsConnectionVerbose() async throws {
        let http = HTTPClient()
        for debug in [false, true] {
            var repository = RepositoryConfig(name: "rm", kind: .redmine, url: "http://127.0.0.1:9")
            repository.debugLogging = debug
            repository.allowInsecure = debug
            let connector = try #require(try ConnectorFactory.make(repository, secrets: [:], http: http) as? RedmineConnector)
            #expect(connector.configuration.settings.verboseLogging == debug)
            #expect(connector.configuration.settings.allowInsecure == debug && connector.configuration.settings.repository == "rm")
        }
        await http.shutdown()
    }
}
