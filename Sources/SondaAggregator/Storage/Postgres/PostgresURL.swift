import Foundation
import NIOSSL
import Logging
import PostgresNIO
import SondaConfig

extension PostgresURL {
    /// The TLS configuration `sslmode` asks for, or nil for none.
    var tlsConfiguration: TLSConfiguration? {
        switch sslMode {
        case "disable":
            return nil
        case "verify-full":
            return .makeClientConfiguration()
        default:
            var unverified = TLSConfiguration.makeClientConfiguration()
            unverified.certificateVerification = .none
            return unverified
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch (tlsConfiguration, sslMode) {
            case (nil, _): .disable
            case (let configuration?, "prefer"): .prefer(configuration)
            case (let configuration?, _): .require(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        // A dead peer is noticed by keepalive rather than by a hung query.
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = 20
        return configuration
    }
}

extension PostgresURL {
    /// One connection, for checking at start that the server answers and takes the login: the
    /// pool only reports a failure to connect after its circuit breaker trips, a minute later.
    func connectOnce(logger: Logger) async throws {
        let tls: PostgresConnection.Configuration.TLS =
            switch (tlsConfiguration, sslMode) {
            case (nil, _): .disable
            case (let configuration?, "prefer"): .prefer(try NIOSSLContext(configuration: configuration))
            case (let configuration?, _): .require(try NIOSSLContext(configuration: configuration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        try await connection.close()
    }
}
