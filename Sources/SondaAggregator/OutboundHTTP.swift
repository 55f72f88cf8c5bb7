import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SondaCore

/// The aggregator's one HTTP client, async-http-client on NIO's shared event loops (the server's
/// own): alert deliveries and the CLI's requests to a server. A whole answer up to a limit; past
/// it the transfer stops and the call fails with `tooLarge`, never a cut body.
public struct OutboundHTTP: Sendable {
    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    public enum Failure: Error, CustomStringConvertible {
        /// No HTTP answer: the reason (refused, timed out, a TLS problem).
        case unreachable(String)
        /// The answer was longer than the limit (in bytes).
        case tooLarge(Int)

        public var description: String {
            switch self {
            case .unreachable(let reason): reason
            case .tooLarge(let limit): "the answer is longer than \(limit >> 20) MiB"
            }
        }
    }

    /// Far more than any answer of Sonda's API, far less than would hurt the process reading it.
    public static let defaultMaxBodyBytes = 64 << 20

    private let client: HTTPClient
    private let owned: Bool

    /// The process's client, trusting the system's CAs (alert receivers); never shut down.
    public static let shared = OutboundHTTP(
        client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration(caFile: nil)),
        owned: false)

    static func configuration(caFile: String?) -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile { tls.trustRoots = .file(caFile) }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        // A refused connection is an answer for whoever asked (the CLI's user, a delivery's own
        // retry schedule); async-http-client would otherwise try again until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    private init(client: HTTPClient, owned: Bool) {
        self.client = client
        self.owned = owned
    }

    /// A client trusting the PEM CAs in `caFile` instead of the system's (`--cacert`); `shutdown()` it.
    public init(caFile: String) {
        self.init(
            client: HTTPClient(eventLoopGroupProvider: .singleton, configuration: Self.configuration(caFile: caFile)),
            owned: true)
    }

    public func shutdown() async {
        if owned { try? await client.shutdown() }
    }

    /// How much of an answer's body is kept.
    public enum Keep: Sendable {
        /// All of it, up to this many bytes; a longer answer is `Failure.tooLarge`.
        case whole(upTo: Int)
        /// The first bytes only (a receiver's reason for a refusal); the rest is read and dropped.
        case prefix(Int)
    }

    /// One request; any status is an answer, only a missing or oversized one throws.
    public func send(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Duration, keep: Keep = .whole(upTo: defaultMaxBodyBytes)
    ) async throws(Failure) -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: "sonda-aggregator/\(SondaVersion.current)")
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout.milliseconds)))
            switch keep {
            case .whole(let limit):
                let bytes = try await response.body.collect(upTo: limit)
                return Answer(status: Int(response.status.code), body: Array(buffer: bytes))
            case .prefix(let count):
                var kept: [UInt8] = []
                for try await chunk in response.body where kept.count < count {
                    kept += chunk.readableBytesView.prefix(count - kept.count)
                }
                return Answer(status: Int(response.status.code), body: kept)
            }
        } catch is NIOTooManyBytesError {
            if case .whole(let limit) = keep { throw .tooLarge(limit) }
            throw .unreachable("the answer is too long")
        } catch {
            throw .unreachable(Self.describe(error))
        }
    }

    /// What went wrong, in words: async-http-client's errors print as type and case names.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            return "no answer within the timeout"
        case let error as HTTPClientError where error == .connectTimeout:
            return "the connection timed out"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return "the server closed the connection without answering"
        case let error as NIOConnectionError:
            let causes = (error.dnsAAAAError.map { [$0] } ?? []) + (error.dnsAError.map { [$0] } ?? [])
                + error.connectionErrors.map(\.error)
            return "cannot connect to \(error.host):\(error.port)"
                + (causes.first.map { ": \(describe($0))" } ?? "")
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOSSLError:
            return "TLS: \(error)"
        case let error as BoringSSLError:
            return "TLS: \(error)"
        default:
            return "\(error)"
        }
    }
}
