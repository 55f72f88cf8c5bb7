/// When the bytes one side of an emulated link sends leave and arrive: the stream is cut into
/// 1460-byte segments as it arrives, paced at the link's rate with 66 bytes of overhead per
/// segment, held by TCP slow start (an initial window of 10 segments that grows by every
/// acknowledged byte; an acknowledgement returns one reverse one-way delay after delivery), and
/// delivered one one-way delay after leaving. The rate is a token bucket: an idle bottleneck lets
/// `burstBytes` through at once (4000 B, as a `tc tbf` shaper does), then one segment per
/// (segment + overhead) × 8 / rate.
///
/// Random loss (`SegmentLoss`) is modelled as the delay TCP pays for it, not as a drop: the relay
/// has no sender that could retransmit. A lost segment arrives when its retransmission would:
/// - by fast retransmit when three later segments follow it: their duplicate acknowledgements
///   reach the sender one reverse delay after the third arrives, and the retransmission lands one
///   one-way delay later, so back-to-back segments cost one round trip more;
/// - otherwise (a tail loss) after the retransmission timeout, max(200 ms, 2 × RTT). Linux's RTO is
///   max(200 ms, SRTT + 4 × RTTVAR) and its tail-loss probe fires after about 2 × SRTT; on an
///   emulated link RTTVAR is small, so one simple bound stands for both.
///
/// TCP delivers in order, so no later segment is delivered before a retransmission (head-of-line
/// blocking). When the sender learns of a loss its congestion window halves, not below two
/// segments, at most once per window of data, and then grows by about one segment per round trip
/// (congestion avoidance). Reno's factor 0.5, not CUBIC's 0.7: the pessimistic one suits budgets.
/// Simplifications, small at the loss rates profiles use: a retransmission is never lost itself
/// and is not paced, and a lost segment leaves the pipe when it would have been acknowledged (as
/// selective acknowledgements let it). With no loss the schedule is exactly the lossless one.
///
/// A plain value with no clock: times are seconds on any monotonic scale the caller chooses.
public struct SegmentSchedule: Sendable {
    public static let segmentBytes = 1460
    public static let overheadBytes = 66
    public static let initialWindowSegments = 10
    public static let defaultBurstBytes = 4000
    /// Linux's floor for the retransmission timeout (TCP_RTO_MIN).
    public static let minimumRetransmissionTimeoutSeconds = 0.2
    /// Duplicate acknowledgements that trigger a fast retransmit (RFC 5681).
    public static let duplicateAcknowledgementThreshold = 3
    public static let windowReduction = 0.5
    public static let minimumWindowSegments = 2

    public struct Segment: Sendable, Equatable {
        public var bytes: Int
        public var departure: Double
        public var delivery: Double
        /// Position in the stream, from 0: how `revised` names a segment.
        public var sequence: Int
        /// Lost on its first crossing; `delivery` is then its retransmission's.
        public var lost: Bool
    }

    public let oneWayDelaySeconds: Double
    public let reverseDelaySeconds: Double
    /// 0 means no rate limit.
    public let bitsPerSecond: Double
    public let burstBytes: Int
    public private(set) var congestionWindowBytes = initialWindowSegments * segmentBytes
    public private(set) var bytesInFlight = 0
    /// Segments that an earlier `send` returned and the last `send` made deliverable earlier: a lost
    /// segment that three later ones turned into a fast retransmit, and those held behind it. All of
    /// them are still undelivered when `send` returns (their new delivery is after its `now`).
    public private(set) var revised: [Segment] = []
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

    private var loss: SegmentLoss
    private var nextSequence = 0
    /// Infinite until the first loss: slow start until then.
    private var slowStartThresholdBytes = Int.max
    /// When the last segment is delivered; nothing later is delivered before it.
    private var lastDelivery = -Double.infinity
    /// Lost segments whose fate is open: a timeout until three later segments have left.
    private var awaitingDuplicates: [(sequence: Int, departure: Double, followers: Int)] = []
    /// Segments from the oldest one in `awaitingDuplicates` on, whose delivery may still move
    /// earlier; `arrival` is when each arrives on its own (a lost one: its retransmission).
    private var held: [(segment: Segment, arrival: Double)] = []
    private var deliveryBeforeHeld = -Double.infinity
    /// Losses the sender learns of at `at`, each to halve the window then.
    private var pendingReductions: [(at: Double, lostDeparture: Double)] = []
    private var lastReduction = -Double.infinity

    public init(
        oneWayDelaySeconds: Double, reverseDelaySeconds: Double, bitsPerSecond: Double,
        burstBytes: Int = defaultBurstBytes, loss: SegmentLoss = .none
    ) {
        self.oneWayDelaySeconds = oneWayDelaySeconds
        self.reverseDelaySeconds = reverseDelaySeconds
        self.bitsPerSecond = bitsPerSecond
        self.burstBytes = burstBytes
        self.loss = loss
    }

    /// max(200 ms, 2 × RTT): when a lost segment without three followers is retransmitted.
    public var retransmissionTimeoutSeconds: Double {
        max(Self.minimumRetransmissionTimeoutSeconds, 2 * (oneWayDelaySeconds + reverseDelaySeconds))
    }

    /// Schedules `byteCount` bytes handed to the link at `now`; returns their segments in order.
    /// Deliveries of segments returned earlier that this changes are in `revised`.
    public mutating func send(_ byteCount: Int, at now: Double) -> [Segment] {
        if !revised.isEmpty { revised.removeAll() }
        var segments: [Segment] = []
        segments.reserveCapacity(byteCount / Self.segmentBytes + 1)
        let firstSequence = nextSequence
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
            let arrival = departure + oneWayDelaySeconds
            unacknowledged.append((arrival + reverseDelaySeconds, size))
            bytesInFlight += size
            peakInFlight = max(peakInFlight, bytesInFlight)
            nextDeparture = departure
            let segment = Segment(
                bytes: size, departure: departure, delivery: arrival, sequence: nextSequence, lost: loss.losesNext())
            nextSequence += 1
            segments.append(segment)
            if segment.lost || !awaitingDuplicates.isEmpty {
                for change in hold(segment) {
                    if change.sequence >= firstSequence {
                        segments[change.sequence - firstSequence].delivery = change.delivery
                    } else if let index = revised.firstIndex(where: { $0.sequence == change.sequence }) {
                        revised[index] = change
                    } else {
                        revised.append(change)
                    }
                }
            } else {
                segments[segments.count - 1].delivery = max(arrival, lastDelivery)
                lastDelivery = segments[segments.count - 1].delivery
            }
        }
        return segments
    }

    /// Files a segment sent while a loss is open (or lost itself), settles the losses it is the
    /// third follower of, and returns the segments whose delivery that changes.
    private mutating func hold(_ segment: Segment) -> [Segment] {
        if held.isEmpty { deliveryBeforeHeld = lastDelivery }
        let rto = retransmissionTimeoutSeconds
        if segment.lost {
            held.append((segment, segment.departure + rto + oneWayDelaySeconds))
            awaitingDuplicates.append((segment.sequence, segment.departure, 0))
            return settle()
        }
        held.append((segment, segment.delivery))
        for index in awaitingDuplicates.indices { awaitingDuplicates[index].followers += 1 }
        while let index = awaitingDuplicates.firstIndex(where: {
            $0.followers >= Self.duplicateAcknowledgementThreshold
        }) {
            let lost = awaitingDuplicates.remove(at: index)
            let detected = segment.delivery + reverseDelaySeconds
            let timeout = lost.departure + rto
            if detected < timeout {
                held[lost.sequence - held[0].segment.sequence].arrival = detected + oneWayDelaySeconds
                pendingReductions.append((detected, lost.departure))
            } else {
                pendingReductions.append((timeout, lost.departure))
            }
        }
        return settle()
    }

    /// Delivers the held segments in order, none before the one ahead of it; returns those whose
    /// delivery changed and lets go of those no open loss can move any more.
    private mutating func settle() -> [Segment] {
        var changed: [Segment] = []
        var floor = deliveryBeforeHeld
        for index in held.indices {
            let delivery = max(held[index].arrival, floor)
            if delivery != held[index].segment.delivery {
                held[index].segment.delivery = delivery
                changed.append(held[index].segment)
            }
            floor = delivery
        }
        lastDelivery = floor
        releaseSettled()
        return changed
    }

    private mutating func releaseSettled() {
        let oldestOpen = awaitingDuplicates.map(\.sequence).min() ?? nextSequence
        let settled = held.prefix { $0.segment.sequence < oldestOpen }.count
        guard settled > 0 else { return }
        deliveryBeforeHeld = held[settled - 1].segment.delivery
        held.removeFirst(settled)
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
        if !awaitingDuplicates.isEmpty { expireTimeouts(upTo: time) }
        while oldest < unacknowledged.count && unacknowledged[oldest].acknowledgedAt <= time {
            let (acknowledgedAt, bytes) = unacknowledged[oldest]
            if !pendingReductions.isEmpty { reduceWindow(before: acknowledgedAt, inclusive: false) }
            bytesInFlight -= bytes
            if congestionWindowBytes < 2 * peakInFlight {
                if congestionWindowBytes < slowStartThresholdBytes {
                    congestionWindowBytes += bytes
                } else {
                    congestionWindowBytes += max(1, Self.segmentBytes * bytes / congestionWindowBytes)
                }
            }
            oldest += 1
        }
        if !pendingReductions.isEmpty { reduceWindow(before: time, inclusive: true) }
        if bytesInFlight == 0 { peakInFlight = 0 }
        if oldest > 1024 && oldest * 2 > unacknowledged.count {
            unacknowledged.removeFirst(oldest)
            oldest = 0
        }
    }

    /// Open losses whose timer fired by `time` are retransmitted then: their delivery already
    /// assumed it, so only the window and the held segments change.
    private mutating func expireTimeouts(upTo time: Double) {
        let rto = retransmissionTimeoutSeconds
        let before = awaitingDuplicates.count
        awaitingDuplicates.removeAll { lost in
            guard lost.departure + rto <= time else { return false }
            pendingReductions.append((lost.departure + rto, lost.departure))
            return true
        }
        if awaitingDuplicates.count < before { releaseSettled() }
    }

    /// Applies the reductions the sender learnt of before `time`, oldest first. A loss of a segment
    /// that left before the last reduction belongs to the window that already paid for it.
    private mutating func reduceWindow(before time: Double, inclusive: Bool) {
        pendingReductions.sort { $0.at < $1.at }
        while let first = pendingReductions.first, inclusive ? first.at <= time : first.at < time {
            pendingReductions.removeFirst()
            guard first.lostDeparture >= lastReduction else { continue }
            let reduced = Int(Double(congestionWindowBytes) * Self.windowReduction)
            congestionWindowBytes = max(Self.minimumWindowSegments * Self.segmentBytes, reduced)
            slowStartThresholdBytes = congestionWindowBytes
            lastReduction = first.at
        }
    }
}
