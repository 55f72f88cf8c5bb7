/// When the bytes one side of an emulated link sends leave and arrive: the stream is cut into
/// 1460-byte segments as it arrives, paced at the link's rate with 66 bytes of overhead per
/// segment, held by TCP slow start (an initial window of 10 segments that grows by every
/// acknowledged byte; an acknowledgement returns one reverse one-way delay after delivery), and
/// delivered one one-way delay after leaving. The rate is a token bucket: an idle bottleneck lets
/// `burstBytes` through at once (4000 B, as a `tc tbf` shaper does), then one segment per
/// (segment + overhead) × 8 / rate.
///
/// A plain value with no clock: times are seconds on any monotonic scale the caller chooses.
public struct SegmentSchedule: Sendable {
    public static let segmentBytes = 1460
    public static let overheadBytes = 66
    public static let initialWindowSegments = 10
    public static let defaultBurstBytes = 4000

    public struct Segment: Sendable, Equatable {
        public var bytes: Int
        public var departure: Double
        public var delivery: Double
    }

    public let oneWayDelaySeconds: Double
    public let reverseDelaySeconds: Double
    /// 0 means no rate limit.
    public let bitsPerSecond: Double
    public let burstBytes: Int
    public private(set) var congestionWindowBytes = initialWindowSegments * segmentBytes
    public private(set) var bytesInFlight = 0
    /// The most bytes in flight since the link last drained. As Linux does (tcp_is_cwnd_limited),
    /// the window only grows while the sender uses at least half of it, so a TLS handshake's few
    /// segments do not open it for the response.
    private var peakInFlight = 0

    private var nextDeparture = -Double.infinity
    /// Bytes the bucket holds at `tokensAt`.
    private var tokens = Double.infinity
    private var tokensAt = 0.0
    /// Segments sent and not yet acknowledged, oldest first, from `oldest` on.
    private var unacknowledged: [(acknowledgedAt: Double, bytes: Int)] = []
    private var oldest = 0

    public init(
        oneWayDelaySeconds: Double, reverseDelaySeconds: Double, bitsPerSecond: Double,
        burstBytes: Int = defaultBurstBytes
    ) {
        self.oneWayDelaySeconds = oneWayDelaySeconds
        self.reverseDelaySeconds = reverseDelaySeconds
        self.bitsPerSecond = bitsPerSecond
        self.burstBytes = burstBytes
    }

    /// Schedules `byteCount` bytes handed to the link at `now`; returns their segments in order.
    public mutating func send(_ byteCount: Int, at now: Double) -> [Segment] {
        var segments: [Segment] = []
        segments.reserveCapacity(byteCount / Self.segmentBytes + 1)
        var left = byteCount
        while left > 0 {
            let size = min(left, Self.segmentBytes)
            left -= size
            var departure = max(now, nextDeparture)
            acknowledge(upTo: departure)
            while bytesInFlight + size > congestionWindowBytes && oldest < unacknowledged.count {
                departure = max(departure, unacknowledged[oldest].acknowledgedAt)
                acknowledge(upTo: departure)
            }
            if bitsPerSecond > 0 { departure = paced(Double(size + Self.overheadBytes), from: departure) }
            let delivery = departure + oneWayDelaySeconds
            unacknowledged.append((delivery + reverseDelaySeconds, size))
            bytesInFlight += size
            peakInFlight = max(peakInFlight, bytesInFlight)
            nextDeparture = departure
            segments.append(Segment(bytes: size, departure: departure, delivery: delivery))
        }
        return segments
    }

    /// When a packet of `cost` bytes may leave, no earlier than `time`, and takes its tokens.
    private mutating func paced(_ cost: Double, from time: Double) -> Double {
        let bytesPerSecond = bitsPerSecond / 8
        let capacity = max(Double(burstBytes), cost)
        var available = min(capacity, tokens + (time - tokensAt) * bytesPerSecond)
        var departure = time
        if available < cost {
            departure += (cost - available) / bytesPerSecond
            available = cost
        }
        tokens = available - cost
        tokensAt = departure
        return departure
    }

    private mutating func acknowledge(upTo time: Double) {
        while oldest < unacknowledged.count && unacknowledged[oldest].acknowledgedAt <= time {
            let bytes = unacknowledged[oldest].bytes
            bytesInFlight -= bytes
            if congestionWindowBytes < 2 * peakInFlight { congestionWindowBytes += bytes }
            oldest += 1
        }
        if bytesInFlight == 0 { peakInFlight = 0 }
        if oldest > 1024 && oldest * 2 > unacknowledged.count {
            unacknowledged.removeFirst(oldest)
            oldest = 0
        }
    }
}
