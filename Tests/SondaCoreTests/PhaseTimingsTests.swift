import Testing

@testable import SondaCore

@Suite struct PhaseTimingsTests {
    typealias Counters = PhaseTimings.Counters

    @Test func httpsSuccessSplitsIntoDisjointPhasesThatSumToTotal() {
        let c = Counters(nameLookup: 1200, connect: 1500, appConnect: 6600, preTransfer: 6700, startTransfer: 16900, total: 17300)
        let p = PhaseTimings(counters: c, usesTLS: true)
        #expect(p == PhaseTimings(dns: 1.2, connect: 0.3, tls: 5.1, send: 0.1, wait: 10.2, receive: 0.4, total: 17.3))
    }

    @Test func plainHTTPHasZeroTLSAndSendFromConnect() {
        let c = Counters(nameLookup: 100, connect: 300, appConnect: 0, preTransfer: 350, startTransfer: 1350, total: 1400)
        let p = PhaseTimings(counters: c, usesTLS: false)
        #expect(p == PhaseTimings(dns: 0.1, connect: 0.2, tls: 0, send: 0.05, wait: 1.0, receive: 0.05, total: 1.4))
    }

    @Test func tlsFailureUsesObservedTCPConnectAndChargesTheHandshake() {
        // libcurl reports CONNECT as 0 when the handshake after it fails.
        let c = Counters(nameLookup: 50, connect: 0, appConnect: 0, preTransfer: 0, startTransfer: 0, total: 2050)
        let p = PhaseTimings(counters: c, usesTLS: true, tcpConnectedMicroseconds: 250)
        #expect(p == PhaseTimings(dns: 0.05, connect: 0.2, tls: 1.8, total: 2.05))
    }

    @Test func refusedConnectionChargesConnectAndStops() {
        let c = Counters(nameLookup: 60, connect: 0, appConnect: 0, preTransfer: 0, startTransfer: 0, total: 250)
        let p = PhaseTimings(counters: c, usesTLS: false)
        #expect(p == PhaseTimings(dns: 0.06, connect: 0.19, total: 0.25))
    }

    @Test func dnsFailureIsAllDNS() {
        let c = Counters(nameLookup: 0, connect: 0, appConnect: 0, preTransfer: 0, startTransfer: 0, total: 1204)
        #expect(PhaseTimings(counters: c, usesTLS: true) == PhaseTimings(dns: 1.204, total: 1.204))
    }

    @Test func timeoutWaitingForFirstByteChargesWait() {
        let c = Counters(nameLookup: 10, connect: 100, appConnect: 900, preTransfer: 950, startTransfer: 0, total: 500_000)
        let p = PhaseTimings(counters: c, usesTLS: true)
        #expect(p.wait == 499.05)
        #expect(p.receive == nil)
    }

    /// libcurl's APPCONNECT through a proxy includes the tunnel; the tunnel's own time comes out of it.
    @Test func aTunnelIsItsOwnPhaseBetweenConnectAndTLS() {
        let c = Counters(nameLookup: 100, connect: 300, appConnect: 6300, preTransfer: 6400, startTransfer: 9400, total: 9500)
        let p = PhaseTimings(counters: c, usesTLS: true, proxy: .tunnelled(2000))
        #expect(p == PhaseTimings(dns: 0.1, connect: 0.2, proxy: 2, tls: 4, send: 0.1, wait: 3, receive: 0.1, total: 9.5))
    }

    @Test func aRefusedTunnelChargesProxyAndStops() {
        // libcurl reports CONNECT as 0 when the tunnel fails; the agent saw TCP up at 300 µs.
        let c = Counters(nameLookup: 100, connect: 0, appConnect: 0, preTransfer: 0, startTransfer: 0, total: 1300)
        let p = PhaseTimings(counters: c, usesTLS: true, tcpConnectedMicroseconds: 300, proxy: .notOpened)
        #expect(p == PhaseTimings(dns: 0.1, connect: 0.2, proxy: 1, total: 1.3))
    }

    @Test func anUnreachableProxyChargesConnect() {
        let c = Counters(nameLookup: 100, connect: 0, appConnect: 0, preTransfer: 0, startTransfer: 0, total: 400)
        let p = PhaseTimings(counters: c, usesTLS: true, proxy: .notOpened)
        #expect(p == PhaseTimings(dns: 0.1, connect: 0.3, total: 0.4))
    }

    @Test func aForwardingProxyHasAZeroProxyPhase() {
        let c = Counters(nameLookup: 100, connect: 300, appConnect: 0, preTransfer: 350, startTransfer: 1350, total: 1400)
        let p = PhaseTimings(counters: c, usesTLS: false, proxy: .tunnelled(0))
        #expect(p == PhaseTimings(dns: 0.1, connect: 0.2, proxy: 0, tls: 0, send: 0.05, wait: 1, receive: 0.05, total: 1.4))
    }

    @Test func handshakeOnlyStopsAfterTLS() {
        let c = Counters(nameLookup: 10, connect: 100, appConnect: 900, preTransfer: 0, startTransfer: 0, total: 950)
        let p = PhaseTimings(counters: c, usesTLS: true, stopsAfterTLS: true)
        #expect(p == PhaseTimings(dns: 0.01, connect: 0.09, tls: 0.85, total: 0.95))
    }

    @Test(arguments: [
        Counters(nameLookup: 1, connect: 2, appConnect: 3, preTransfer: 4, startTransfer: 5, total: 6),
        Counters(nameLookup: 0, connect: 20, appConnect: 0, preTransfer: 25, startTransfer: 90, total: 91),
        Counters(nameLookup: 70, connect: 150, appConnect: 4000, preTransfer: 4100, startTransfer: 9000, total: 9300),
    ])
    func presentPhasesAlwaysSumToTotal(counters: Counters) {
        for usesTLS in [true, false] {
            let p = PhaseTimings(counters: counters, usesTLS: usesTLS)
            let sum = [p.dns, p.connect, p.tls, p.send, p.wait, p.receive].compactMap { $0 }.reduce(0, +)
            #expect(abs(sum - p.total) < 1e-9)
        }
    }
}
