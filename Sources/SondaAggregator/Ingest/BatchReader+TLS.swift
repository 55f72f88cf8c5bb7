import Foundation
import SondaCore

/// A result's TLS report and its certificates (mirrors `TLSReport` and `CertificateInfo`).
extension BatchReader {
    mutating func tlsReport() throws -> TLSReport {
        var version: String?, cipher: String?, verified: Bool?, leaf: CertificateInfo?, chain: [CertificateInfo]?
        var earliest: Date?, days: Double?
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "version" {
                version = try field("version") { r in try r.string() }
            } else if key == "cipher" {
                cipher = try field("cipher") { r in try r.optional { r in try r.string() } }
            } else if key == "verified" {
                verified = try field("verified") { r in try r.bool() }
            } else if key == "leaf" {
                leaf = try field("leaf") { r in try r.optional { r in try r.certificate() } }
            } else if key == "chain" {
                chain = try field("chain") { r in
                    var list: [CertificateInfo] = []
                    try r.array { r, _ in list.append(try r.certificate()) }
                    return list
                }
            } else if key == "earliest_expiry" {
                earliest = try field("earliest_expiry") { r in try r.optional { r in try r.date() } }
            } else if key == "days_to_expiry" {
                days = try field("days_to_expiry") { r in try r.optional { r in try r.double() } }
            } else {
                try skipValue(depth: 1)
            }
        }
        var report = TLSReport(
            version: try required(version, "version"), cipher: cipher, verified: try required(verified, "verified"),
            leaf: leaf, chain: try required(chain, "chain"), now: Date(timeIntervalSince1970: 0))
        report.earliestExpiry = earliest
        report.daysToExpiry = days
        return report
    }

    mutating func certificate() throws -> CertificateInfo {
        var subject: String?, issuer: String?, sans: [String]?, notBefore: Date?, notAfter: Date?
        var sha: String?, spki: String?
        try beginObject()
        var object = ObjectState(start: position)
        while let key = try nextKey(&object) {
            if key == "subject" {
                subject = try field("subject") { r in try r.string() }
            } else if key == "issuer" {
                issuer = try field("issuer") { r in try r.string() }
            } else if key == "sans" {
                sans = try field("sans") { r in
                    var list: [String] = []
                    try r.array { r, _ in list.append(try r.string()) }
                    return list
                }
            } else if key == "not_before" {
                notBefore = try field("not_before") { r in try r.date() }
            } else if key == "not_after" {
                notAfter = try field("not_after") { r in try r.date() }
            } else if key == "sha256" {
                sha = try field("sha256") { r in try r.string() }
            } else if key == "spki_sha256" {
                spki = try field("spki_sha256") { r in try r.string() }
            } else {
                try skipValue(depth: 1)
            }
        }
        return CertificateInfo(
            subject: try required(subject, "subject"), issuer: try required(issuer, "issuer"),
            sans: try required(sans, "sans"), notBefore: try required(notBefore, "not_before"),
            notAfter: try required(notAfter, "not_after"), sha256: try required(sha, "sha256"),
            spkiSHA256: try required(spki, "spki_sha256"))
    }
}
