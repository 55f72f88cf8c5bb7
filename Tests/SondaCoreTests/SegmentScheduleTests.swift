import SondaCore
import Testing

/// The link model without clocks or sockets: segment sizes, pacing, slow start, delivery.
@Suite struct SegmentScheduleTests {
    @Test func cutsTheStreamIntoSegmentsAndDeliversOneOneWayDelayLater() {
        var link = SegmentSchedule(oneWayDelaySeconds: 0.05, reverseDelaySeconds: 0.05, bitsPerSecond: 0)
        let segments = link.send(3000, at: 1)
        #expect(segments.map(\.bytes) == [1460, 1460, 80])
        #expect(segments.allSatisfy { $0.departure == 1 && $0.delivery == 1.05 })
    }

    @Test func pacesSegmentsAtTheRateWithPerSegmentOverhead() {
        var link = SegmentSchedule(
            oneWayDelaySeconds: 0, reverseDelaySeconds: 0, bitsPerSecond: 1_000_000, burstBytes: 0)
        let segments = link.send(3 * 1460, at: 0)
        let gap = Double(1460 + 66) * 8 / 1_000_000
        #expect(segments.map(\.departure) == [0, gap, 2 * gap])
        // A later write waits for the bottleneck (its tokens, as tbf counts them), not only for its arrival.
        let next = link.send(100, at: gap)
        #expect(abs((next.first?.departure ?? 0) - (2 * gap + Double(100 + 66) * 8 / 1_000_000)) < 1e-12)
    }

    @Test func anIdleBottleneckLetsItsBurstThroughAtOnce() {
        var link = SegmentSchedule(oneWayDelaySeconds: 0, reverseDelaySeconds: 0, bitsPerSecond: 1_000_000)
        let departures = link.send(4 * 1460, at: 0).map(\.departure)
        // 4000 B of tokens: two segments of 1526 B leave at once; the third waits for 578 B more.
        let cost = Double(1460 + 66) * 8 / 1_000_000
        #expect(departures[0] == 0 && departures[1] == 0)
        #expect(abs(departures[2] - Double(2 * 1526 - 4000 + 1526) * 8 / 1_000_000) < 1e-12)
        #expect(abs(departures[3] - departures[2] - cost) < 1e-12)
    }

    @Test func slowStartHoldsTheEleventhSegmentUntilTheFirstAcknowledgement() {
        var link = SegmentSchedule(oneWayDelaySeconds: 0.05, reverseDelaySeconds: 0.05, bitsPerSecond: 0)
        let segments = link.send(15 * 1460, at: 0)
        #expect(segments.prefix(10).allSatisfy { $0.departure == 0 })
        // The first ten are acknowledged at 0.1 s; the window is then 20 segments.
        #expect(segments.suffix(5).allSatisfy { abs($0.departure - 0.1) < 1e-9 })
        #expect(link.congestionWindowBytes == 20 * 1460)
        #expect(link.bytesInFlight == 5 * 1460)
    }

    @Test func theWindowDoublesEveryRoundTrip() {
        var link = SegmentSchedule(oneWayDelaySeconds: 0.05, reverseDelaySeconds: 0.05, bitsPerSecond: 0)
        let departures = link.send(70 * 1460, at: 0).map(\.departure)
        // 10 segments in the first round trip, 20 in the second, 40 in the third.
        #expect(departures.filter { $0 < 0.05 }.count == 10)
        #expect(departures.filter { $0 >= 0.05 && $0 < 0.15 }.count == 20)
        #expect(departures.filter { $0 >= 0.15 && $0 < 0.25 }.count == 40)
    }

    @Test func aFewSegmentsDoNotOpenTheWindow() {
        var link = SegmentSchedule(oneWayDelaySeconds: 0.05, reverseDelaySeconds: 0.05, bitsPerSecond: 0)
        // A handshake flight of 3 segments uses less than half the window: acknowledging it adds nothing.
        _ = link.send(3 * 1460, at: 0)
        _ = link.send(1, at: 0.2)
        #expect(link.congestionWindowBytes == 10 * 1460)
    }

    @Test func anIdleLinkSendsAtOnce() {
        var link = SegmentSchedule(oneWayDelaySeconds: 0.1, reverseDelaySeconds: 0.1, bitsPerSecond: 8_000_000)
        _ = link.send(1000, at: 0)
        let later = link.send(1000, at: 5)
        #expect(later.first?.departure == 5)
        #expect(later.first?.delivery == 5.1)
    }
}
