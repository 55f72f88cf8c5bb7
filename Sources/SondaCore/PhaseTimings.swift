/// The disjoint phases of one probe, in milliseconds; their sum is `total`.
///
/// `proxy` is there only for a probe through a proxy: the CONNECT tunnel or SOCKS handshake (with
/// an https:// proxy, the TLS handshake with the proxy too), from the TCP connection to the proxy
/// until the tunnel carries the first byte for the origin. A phase the probe never reached is nil.
/// On a failure, the phase that failed carries the time spent in it until the failure, so the
/// present phases still add up to `total`.
public struct PhaseTimings: Codable, Hashable, Sendable {
    public enum Phase: String, CaseIterable, Codable, Sendable {
        case dns, connect, proxy, tls, send, wait, receive, total

        /// The position in `allCases`.
        var index: Int {
            switch self {
            case .dns: 0
            case .connect: 1
            case .proxy: 2
            case .tls: 3
            case .send: 4
            case .wait: 5
            case .receive: 6
            case .total: 7
            }
        }
    }

    public var dns: Double?
    public var connect: Double?
    public var proxy: Double?
    public var tls: Double?
    public var send: Double?
    public var wait: Double?
    public var receive: Double?
    public var total: Double

    public init(
        dns: Double? = nil, connect: Double? = nil, proxy: Double? = nil, tls: Double? = nil, send: Double? = nil,
        wait: Double? = nil, receive: Double? = nil, total: Double
    ) {
        self.dns = dns
        self.connect = connect
        self.proxy = proxy
        self.tls = tls
        self.send = send
        self.wait = wait
        self.receive = receive
        self.total = total
    }

    public subscript(phase: Phase) -> Double? {
        switch phase {
        case .dns: dns
        case .connect: connect
        case .proxy: proxy
        case .tls: tls
        case .send: send
        case .wait: wait
        case .receive: receive
        case .total: total
        }
    }

    /// libcurl's cumulative `*_TIME_T` counters, in microseconds from the start of the transfer.
    /// A counter is 0 when libcurl did not reach that point.
    public struct Counters: Sendable, Hashable {
        public var nameLookup: Int64
        public var connect: Int64
        public var appConnect: Int64
        public var preTransfer: Int64
        public var startTransfer: Int64
        public var total: Int64
        public init(
            nameLookup: Int64, connect: Int64, appConnect: Int64, preTransfer: Int64, startTransfer: Int64,
            total: Int64
        ) {
            self.nameLookup = nameLookup
            self.connect = connect
            self.appConnect = appConnect
            self.preTransfer = preTransfer
            self.startTransfer = startTransfer
            self.total = total
        }
    }

    /// Splits libcurl's counters into disjoint phases (blackbox_exporter's names and cut points).
    ///
    /// - Parameters:
    ///   - usesTLS: whether the connection was meant to run a TLS handshake.
    ///   - tcpConnectedMicroseconds: when the TCP connection was seen established by other means
    ///     (libcurl reports CONNECT as 0 when the TLS handshake that follows fails).
    ///   - stopsAfterTLS: a handshake-only check; send/wait/receive do not apply.
    ///   - proxyMicroseconds: through a proxy, the time its tunnels took to open (summed over the
    ///     connections of a redirected request; 0 when the proxy forwards requests without a
    ///     tunnel); nil when a tunnel never opened. Without a proxy the argument is `.direct`.
    public init(
        counters c: Counters, usesTLS: Bool, tcpConnectedMicroseconds: Int64? = nil, stopsAfterTLS: Bool = false,
        proxy: ProxyTime = .direct
    ) {
        let connected = c.connect > 0 ? c.connect : (tcpConnectedMicroseconds ?? 0)
        // Each stage's end point, in order; 0 means libcurl did not record it.
        var stages: [(phase: Phase, end: Int64)] = []
        stages.reserveCapacity(7)
        stages.append((.dns, c.nameLookup))
        stages.append((.connect, connected))
        switch proxy {
        case .direct: break
        case .tunnelled(let microseconds): stages.append((.proxy, connected > 0 ? connected + microseconds : 0))
        case .notOpened: stages.append((.proxy, 0))
        }
        if usesTLS { stages.append((.tls, c.appConnect)) }
        if !stopsAfterTLS {
            // TOTAL is set even on failure, so it marks the end of receive only once a response began.
            stages.append((.send, c.preTransfer))
            stages.append((.wait, c.startTransfer))
            stages.append((.receive, c.startTransfer > 0 ? c.total : 0))
        }
        let total = max(c.total, stages.map(\.end).max() ?? 0)
        // A stage was passed if it or any later stage has an end point.
        let lastReached = stages.lastIndex { $0.end > 0 } ?? -1
        // By `Phase.index`: this runs once a probe, and a dictionary's hashing and allocations
        // cost more than the rest of the split.
        var values = [Int64?](repeating: nil, count: Phase.allCases.count)
        var previous: Int64 = 0
        for (index, stage) in stages.enumerated() {
            if index <= lastReached {
                values[stage.phase.index] = max(stage.end - previous, 0)
                previous = max(previous, stage.end)
            } else {
                // The first stage not reached is where it failed: it holds the time until the failure.
                values[stage.phase.index] = total - previous
                previous = total
                break
            }
        }
        if previous < total, let last = stages.last { values[last.phase.index] = (values[last.phase.index] ?? 0) + total - previous }
        if !usesTLS && lastReached >= 1 { values[Phase.tls.index] = 0 }
        func ms(_ phase: Phase) -> Double? { values[phase.index].map(Self.milliseconds) }
        self.init(
            dns: ms(.dns), connect: ms(.connect), proxy: ms(.proxy), tls: ms(.tls), send: ms(.send), wait: ms(.wait),
            receive: ms(.receive), total: Self.milliseconds(total))
    }

    /// What a proxy added to a probe, for the split into phases.
    public enum ProxyTime: Sendable, Hashable {
        /// No proxy: there is no `proxy` phase.
        case direct
        /// The tunnels opened, in this many microseconds in all (0: a proxy forwarding requests).
        case tunnelled(Int64)
        /// Through a proxy whose tunnel never opened: the probe failed in (or before) `proxy`.
        case notOpened
    }

    /// Microseconds to milliseconds, kept at microsecond precision.
    public static func milliseconds(_ microseconds: Int64) -> Double {
        Double(microseconds) / 1000
    }
}
