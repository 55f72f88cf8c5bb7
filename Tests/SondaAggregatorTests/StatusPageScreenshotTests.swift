import Foundation
import Hummingbird
import HummingbirdTesting
import SondaAggregator
import TestSupport
import Testing

/// The status pages rendered by headless Chromium (Debian's `chromium`, installed by `make deps`)
/// from an in-process aggregator on a real port with the fixture fleet loaded. Copies of the
/// screenshots stay in /tmp/sonda-status-shots/ for people to look at.
@Suite(.serialized) struct StatusPageScreenshotTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let shots = "/tmp/sonda-status-shots"

    struct Shot {
        var width: Int
        var height: Int
        var bytes: Int
    }

    /// Width and height from the PNG's IHDR chunk, which must come first.
    static func pngSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
            bytes[12..<16] == [0x49, 0x48, 0x44, 0x52]
        else { return nil }
        let int = { (i: Int) in bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (int(16), int(20))
    }

    static func screenshot(_ url: String, width: Int, height: Int, name: String) async throws -> Shot {
        let chromium = try #require(chromium, "chromium is not installed (make deps installs it)")
        let directory = NSTemporaryDirectory() + "sonda-chromium-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let png = directory + "/shot.png"
        let browser = try BackgroundProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                "--user-data-dir=\(directory)/profile", "--screenshot=\(png)", "--window-size=\(width),\(height)", url,
            ])
        let status = await browser.wait()
        #expect(status == 0, "chromium: \(browser.log.suffix(2000))")
        let data = try Data(contentsOf: URL(fileURLWithPath: png))
        let size = try #require(pngSize(data), "not a PNG")
        try FileManager.default.createDirectory(atPath: shots, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: "\(shots)/\(name).png"))
        return Shot(width: size.width, height: size.height, bytes: data.count)
    }

    @Test func chromiumRendersTheFleetAndCheckPages() async throws {
        let f = try StatusPageFixture.fixture()
        let alerts = StatusPageFixture.alerts(now: f.now)
        let now = f.now
        let app = Application(
            router: AggregatorRouter(config: f.config, store: f.store, activeAlerts: { alerts }, now: { now }).build())
        // The fixture goes straight into the store and the HTML is fetched with curl: the live
        // test client gives up on a request after 20 s, which a month of results in a debug
        // build can take on a busy machine. Chromium talks to the server directly.
        try await StatusPageFixture.write(f)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let blank = try await Self.screenshot("about:blank", width: 1280, height: 2000, name: "blank")
            let sizes = [(1280, 2000, "desktop"), (390, 1600, "phone")]
            for (path, name) in [("/?window=24h", "fleet"), ("/checks/booking-slots", "check")] {
                // The HTML next to the screenshots, for people to open.
                let html = try await ChildProcess.run(
                    "/usr/bin/curl", ["-sf", "-o", "\(Self.shots)/\(name).html", "http://127.0.0.1:\(port)\(path)"])
                #expect(html.status == 0, "GET \(path): \(html.stderr)")
                for (width, height, device) in sizes {
                    let shot = try await Self.screenshot(
                        "http://127.0.0.1:\(port)\(path)", width: width, height: height, name: "\(name)-\(device)")
                    #expect((shot.width, shot.height) == (width, height), "\(name)-\(device)")
                    // A blank page compresses to almost nothing; a rendered page with tables, colours and charts does not.
                    let area = Double(width * height) / Double(blank.width * blank.height)
                    #expect(
                        Double(shot.bytes) > 8 * Double(blank.bytes) * area,
                        "\(name)-\(device): \(shot.bytes) B vs blank \(blank.bytes) B")
                }
            }
        }
    }
}
