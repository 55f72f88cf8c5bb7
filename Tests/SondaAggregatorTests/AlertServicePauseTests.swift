import Testing

@testable import SondaAggregator

/// How long the alert loop waits between turns. A standby asks for the lease once per renewal
/// period; before, it asked again at once, without end: a quarter of a core and about 600 lease
/// queries a second against the database from every standby replica.
@Suite struct AlertServicePauseTests {
    @Test(arguments: [
        (false, Duration.seconds(-30), AlertService.leaseRenewal),  // a standby: its round was never due
        (false, .milliseconds(200), AlertService.leaseRenewal),
        (true, .milliseconds(500), .milliseconds(500)),  // the holder wakes for its next round
        (true, .seconds(10), AlertService.leaseRenewal),  // … or to renew, when that comes first
        (true, .seconds(-1), .zero),  // … and at once when the round is overdue
    ])
    func pause(holding: Bool, untilNextRound: Duration, expected: Duration) {
        #expect(AlertService.pause(holding: holding, untilNextRound: untilNextRound) == expected)
    }
}
