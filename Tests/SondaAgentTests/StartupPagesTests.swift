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

    /// Resident kB of the mappings of shared libraries (after the test binary's own, in smaps).
    static func residentLibraryKB() -> Int {
        var total = 0
        var inLibrary = false
        let smaps = (try? SpoolDirectory.readWhole("/proc/self/smaps")) ?? nil
        for line in String(decoding: smaps ?? [], as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let range = fields.first, range.contains("-"), !range.hasSuffix(":"), fields.count >= 5 {
                inLibrary = fields.count >= 6 && fields[5].contains(".so")
            } else if inLibrary, fields.first == "Rss:", fields.count >= 2 {
                total += Int(fields[1]) ?? 0
            }
        }
        return total
    }

    @Test func releasingUnmapsCleanFilePagesAndTheProcessKeepsWorking() throws {
        Self.written["before"] = 7
        let before = Self.residentFileKB()
        let librariesBefore = Self.residentLibraryKB()
        let released = StartupPages.release()
        let after = Self.residentFileKB()
        let librariesAfter = Self.residentLibraryKB()
        #expect(released > 1024, "a test binary has megabytes of code resident: \(released) kB")
        #expect(after < before, "RssFile \(before) kB → \(after) kB")
        // smaps is far longer than the 4 kB a single read returns: the libraries are released too.
        #expect(
            librariesBefore > 1024 && librariesAfter < librariesBefore / 2,
            "libraries \(librariesBefore) kB → \(librariesAfter) kB")

        // Dynamic casts and JSON coding read relocated metadata; had a relocated page been
        // dropped, its pointers would be the file's unrelocated values and this would crash.
        let values: [Any] = [1, "two", Duration.milliseconds(3), PhaseTimings.Phase.tls]
        #expect(values.compactMap { $0 as? any Encodable }.count == 4)
        let data = try JSONEncoder().encode(["phase": PhaseTimings.Phase.tls])
        #expect(String(decoding: data, as: UTF8.self) == #"{"phase":"tls"}"#)
        #expect(Self.written["before"] == 7)
        // Only what faulted back in since is released again, and the process still works after.
        let again = StartupPages.release()
        #expect(again < released, "a second release finds only the pages used since: \(again) kB vs \(released) kB")
        #expect(String(decoding: try JSONEncoder().encode([again]), as: UTF8.self) == "[\(again)]")
    }
}
