import CCurl
import Foundation
import SondaCore

/// Runs one `tcp` check on a worker's easy handle: libcurl connects (through the proxy, behind the
/// profile's link, with the TLS handshake and policy of an https:// probe) and stops
/// (CURLOPT_CONNECT_ONLY), so `dns`, `connect`, `proxy` and `tls` are libcurl's counters as for
/// HTTP; then `TCPConversation` sends and reads, and its `send`, `wait` and `receive` follow.
///
/// Must be called on the thread that owns `easy`; it blocks for up to the request's timeout.
enum TCPProber {
    static func run(_ request: ProbeRequest, on easy: CurlEasy) -> ProbeResult {
        guard case .tcp(let exchange) = request.kind else { preconditionFailure("not a tcp request") }
        let transfer = Transfer(easy: easy, request: request)
        HTTPProber.configure(easy, for: transfer)
        easy.set(CURLOPT_CONNECT_ONLY, true)
        // The connection outlives perform for the exchange; `TCPConversation.close` ends it.
        easy.set(CURLOPT_FORBID_REUSE, false)
        // Not HTTP: offer no application protocol in the TLS handshake.
        easy.set(CURLOPT_SSL_ENABLE_ALPN, false)
        if transfer.proxy != nil { easy.set(CURLOPT_HTTPPROXYTUNNEL, true) }

        let startedAt = WallClock.now
        let startedMonotonic = DispatchTime.now().uptimeNanoseconds
        let code = withExtendedLifetime(transfer) { easy.perform() }
        let connectedAt = DispatchTime.now().uptimeNanoseconds
        let counters = transfer.counters
        var phases = transfer.phases(counters, startedMonotonic: startedMonotonic, stopsAfterTLS: true)
        var failure = ProbeErrorClassifier.classify(code, transfer: transfer, counters: counters)
        var assertions: [AssertionOutcome] = []
        if failure == nil {
            let deadline = startedMonotonic + UInt64(max(request.timeout.milliseconds, 0) * 1e6)
            let conversation = TCPConversation(easy: easy, exchange: exchange, deadline: deadline)
            let outcome = conversation.run(from: connectedAt)
            conversation.close()
            phases.append(outcome)
            failure = self.failure(of: outcome, exchange: exchange, transfer: transfer, timeout: request.timeout)
            // The reply was judged: it matched, or it is complete (or cut off) without a match.
            if exchange.expect != nil, outcome.wait != nil, failure == nil || failure?.code == .tcpExpect {
                let matched = failure == nil
                assertions.append(
                    AssertionOutcome(
                        name: "expect", ok: matched, actual: matched ? nil : ByteEscapes.encode(outcome.reply)))
            }
        }
        let verified = failure.map { !$0.code.isCertificateFailure } ?? true
        let tls = request.usesTLS ? transfer.tls.report(verified: verified, now: startedAt) : nil
        if failure == nil, let tls, let expiring = request.tlsPolicy.expiryViolation(tls) {
            failure = expiring
        }
        return ProbeResult(
            startedAt: startedAt, error: failure, phases: phases, tls: tls, assertions: assertions,
            proxy: transfer.proxyInfo, remoteIP: transfer.originIP, url: tcpURL(request.url))
    }

    private static func failure(
        of outcome: TCPConversation.Outcome, exchange: TCPExchange, transfer: Transfer, timeout: Duration
    ) -> ProbeError? {
        let expected = exchange.expect.map { "'\(ByteEscapes.encode($0))'" } ?? ""
        let reply = "'\(ByteEscapes.encode(outcome.reply))'"
        switch outcome.failure {
        case nil:
            return nil
        case .timedOut:
            let doing =
                outcome.receive != nil
                ? "reading the reply (got \(reply) so far)" : outcome.wait != nil ? "waiting for a reply" : "sending"
            return ProbeError(.timeout, "timed out after \(DurationParsing.format(timeout)) \(doing)")
        case .closed where outcome.reply.isEmpty:
            return ProbeError(.tcpExpect, "the server closed the connection without a reply; expected \(expected)")
        case .closed:
            return ProbeError(
                .tcpExpect, "the server closed the connection: reply \(reply) does not contain \(expected)")
        case .mismatch:
            return ProbeError(.tcpExpect, "reply \(reply) does not contain \(expected)")
        case .curl(let code):
            let curl = CurlEasy.describe(code)
            if let refused = ClientCertificateClassifier.classify(code, transfer: transfer, curl: curl) {
                return refused
            }
            let doing = outcome.wait == nil ? "sending" : "reading the reply"
            return ProbeError(.tcpExpect, "the connection failed while \(doing): \(curl)")
        }
    }

    /// `tcp://host:port` for libcurl's `http(s)://host:port/`, as renderers show it.
    private static func tcpURL(_ url: String) -> String {
        var rest = Substring(url)
        for scheme in ["https://", "http://"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        return "tcp://\(rest)"
    }
}

extension PhaseTimings {
    /// Adds the exchange's phases after libcurl's, and their time to `total`.
    mutating func append(_ outcome: TCPConversation.Outcome) {
        send = outcome.send.map(Self.milliseconds)
        wait = outcome.wait.map(Self.milliseconds)
        receive = outcome.receive.map(Self.milliseconds)
        let added = [outcome.send, outcome.wait, outcome.receive].reduce(Int64(0)) { $0 + ($1 ?? 0) }
        total += Self.milliseconds(added)
    }
}
