import Foundation
import SondaCore
import Testing

@testable import SondaAgent

/// Unmapping the start-up pages gives memory back and leaves the process working: relocated data
/// (type metadata, witness tables) and written globals keep their values.
@Suite struct StartupPagesTests {
    nonisolated(unsafe) static var written = [String: Int]()

    static func residentFileKB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssFile:") } ?? ""
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    @Test func releasingUnmapsCleanFilePagesAndTheProcessKeepsWorking() throws {
        Self.written["before"] = 7
        let before = Self.residentFileKB()
        let released = StartupPages.release()
        let after = Self.residentFileKB()
        #expect(released > 1024, "a test binary has megabytes of code resident: \(released) kB")
        #expect(after < before, "RssFile \(before) kB → \(after) kB")

        // Dynamic casts and JSON coding read relocated metadata; had a relocated page been
        // dropped, its pointers would be the file's unrelocated values and this would crash.
        let values: [Any] = [1, "two", Duration.milliseconds(3), PhaseTimings.Phase.tls]
        #expect(values.compactMap { $0 as? any Encodable }.count == 4)
        let data = try JSONEncoder().encode(["phase": PhaseTimings.Phase.tls])
        #expect(String(decoding: data, as: UTF8.self) == #"{"phase":"tls"}"#)
        #expect(Self.written["before"] == 7)
        #expect(StartupPages.release() >= 0, "a second release is harmless")
    }
}
