import Foundation
import TestSupport
import Testing

/// Issue 19's aggregator certificate, with agents trusting its CA (`--aggregator-ca-file`): it
/// expires, or it is rotated. `serve` reads its certificate when it starts, so the operator's fix
/// is new files and a restart (docs/reliability.md); the agent says what is wrong, keeps what it
/// probes in its spool, and delivers it once the aggregator serves a valid certificate.
@Suite(.serialized, .enabled(if: FaultNetwork.isAvailable, "needs root, /dev/net/tun and nft"))
struct TLSFaultScenarios {
    static func certificate(_ name: String) throws -> (chain: String, key: String) {
        let lab = try TLSLab.shared()
        return ("\(lab.dir)/pki/\(name)-chain.pem", "\(lab.dir)/pki/\(name).key")
    }

    /// The aggregator serves an expired certificate (as it would once its certificate's time is
    /// up: `serve` keeps serving what it loaded), then a renewed one after a restart.
    @Test func theAggregatorsCertificateExpiresAndIsRenewed() async throws {
        let fleet = try await FaultFleet()
        let lab = try TLSLab.shared()
        try await fleet.startAggregator(certificate: Self.certificate("good"))
        try await fleet.startAgent(trusting: lab.ca)
        #expect(await fleet.awaitStored(5), "results arrive over HTTPS:\n\(fleet.agent?.log ?? "")")

        await fleet.stopAggregator()
        try await fleet.startAggregator(certificate: Self.certificate("expired"))
        let named = await eventually { fleet.agent?.log.contains("certificate has expired") == true }
        #expect(named, "the agent's log names the problem:\n\(fleet.agent?.log ?? "")")
        let storedDuringFault = try await fleet.stored().probes
        try await Task.sleep(for: FaultLength.certificate)
        let depth = await fleet.agentMetric("sonda_spool_depth") ?? 0
        #expect(depth >= FaultLength.certificate.secondsValue, "the spool holds what the agent probed: \(depth)")
        #expect(try await fleet.stored().probes == storedDuringFault, "nothing is accepted over an expired certificate")

        await fleet.stopAggregator()
        try await fleet.startAggregator(certificate: Self.certificate("good"))
        let recovery = await fleet.awaitDelivery(since: .now)
        let figures = try await fleet.finish(
            "aggregator certificate expired \(DurationText.minutes(FaultLength.certificate)), renewed",
            recovery: recovery)
        NetworkFaultScenarios.expectNothingLost(figures)
    }

    /// A certificate replaced by another (a new key, still valid) while the agent runs, with the
    /// restart the docs prescribe: no results lost, none twice.
    @Test func theAggregatorsCertificateIsRotated() async throws {
        let fleet = try await FaultFleet()
        let lab = try TLSLab.shared()
        try await fleet.startAggregator(certificate: Self.certificate("good"))
        try await fleet.startAgent(trusting: lab.ca)
        #expect(await fleet.awaitStored(5), "results arrive over HTTPS:\n\(fleet.agent?.log ?? "")")
        let before = try await fleet.stored().probes

        await fleet.stopAggregator()
        try await fleet.startAggregator(certificate: Self.certificate("expiring"))
        let recovery = await fleet.awaitDelivery(since: .now)
        #expect(try await fleet.stored().probes > before, "delivery goes on under the new certificate")
        let figures = try await fleet.finish("aggregator certificate rotated (restart)", recovery: recovery)
        NetworkFaultScenarios.expectNothingLost(figures)
    }
}
