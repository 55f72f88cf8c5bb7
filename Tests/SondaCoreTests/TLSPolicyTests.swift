import Foundation
import Testing

@testable import SondaCore

@Suite struct TLSPolicyTests {
    let now = Date(timeIntervalSince1970: 1_795_428_000)

    func cert(expiresInDays days: Double, spki: String = "AAAA") -> CertificateInfo {
        CertificateInfo(
            subject: "CN=localhost", issuer: "CN=Sonda Test Intermediate CA", sans: ["localhost"],
            notBefore: now.addingTimeInterval(-86_400), notAfter: now.addingTimeInterval(days * 86_400),
            sha256: "00", spkiSHA256: spki)
    }

    @Test func versionBelowMinimumNamesTheNegotiatedVersion() {
        let error = TLSPolicy().versionViolation(negotiated: "TLSv1.2")
        #expect(error == ProbeError(.tlsVersion, "server negotiated TLSv1.2; policy requires TLSv1.3"))
        #expect(TLSPolicy().versionViolation(negotiated: "TLSv1.3") == nil)
        #expect(TLSPolicy(minVersion: "TLSv1.2").versionViolation(negotiated: "TLSv1.2") == nil)
    }

    @Test func earliestExpiryCoversLeafAndIntermediates() {
        let report = TLSReport(
            version: "TLSv1.3", cipher: nil, verified: true, leaf: cert(expiresInDays: 300),
            chain: [cert(expiresInDays: 5)], now: now)
        #expect(report.daysToExpiry == 5)
        #expect(TLSPolicy().expiryViolation(report)?.code == .tlsExpiring)
        #expect(TLSPolicy().isInWarningWindow(report))
        let healthy = TLSReport(version: "TLSv1.3", cipher: nil, verified: true, leaf: cert(expiresInDays: 30), chain: [], now: now)
        #expect(TLSPolicy().expiryViolation(healthy) == nil)
        #expect(!TLSPolicy().isInWarningWindow(healthy))
    }

    @Test func pinsAcceptCurlStylePrefixAndRejectOtherKeys() {
        let policy = TLSPolicy(spkiSHA256Pins: ["sha256//AAAA"])
        #expect(policy.pinViolation(leaf: cert(expiresInDays: 30, spki: "AAAA")) == nil)
        #expect(policy.pinViolation(leaf: cert(expiresInDays: 30, spki: "BBBB"))?.code == .tlsPin)
        #expect(TLSPolicy().pinViolation(leaf: cert(expiresInDays: 30, spki: "BBBB")) == nil)
    }
}
