/// An emulated access link: round-trip time and bandwidth each way. Checks run under the
/// profiles an agent lists; `none` is the agent's own link, unshaped.
public struct NetworkProfile: Sendable, Hashable {
    public var name: String
    public var rttMilliseconds: Double
    public var downlinkKilobitsPerSecond: Double
    public var uplinkKilobitsPerSecond: Double
    public var source: String

    public init(name: String, rttMilliseconds: Double, downlinkKilobitsPerSecond: Double, uplinkKilobitsPerSecond: Double, source: String) {
        self.name = name
        self.rttMilliseconds = rttMilliseconds
        self.downlinkKilobitsPerSecond = downlinkKilobitsPerSecond
        self.uplinkKilobitsPerSecond = uplinkKilobitsPerSecond
        self.source = source
    }

    static let wpt = "WebPageTest connectivity profiles"
    static let brazil = "estimate for Brazil from public OpenSignal/Ookla reports; to be refined"

    /// The built-in profiles; probes/profiles.yaml documents them and users may add their own.
    public static let builtIn: [NetworkProfile] = [
        NetworkProfile(name: "none", rttMilliseconds: 0, downlinkKilobitsPerSecond: 0, uplinkKilobitsPerSecond: 0, source: "no shaping"),
        NetworkProfile(name: "3G", rttMilliseconds: 300, downlinkKilobitsPerSecond: 1600, uplinkKilobitsPerSecond: 768, source: wpt),
        NetworkProfile(name: "3GFast", rttMilliseconds: 150, downlinkKilobitsPerSecond: 1600, uplinkKilobitsPerSecond: 768, source: wpt),
        NetworkProfile(name: "3GSlow", rttMilliseconds: 400, downlinkKilobitsPerSecond: 400, uplinkKilobitsPerSecond: 400, source: wpt),
        NetworkProfile(name: "4G", rttMilliseconds: 170, downlinkKilobitsPerSecond: 9000, uplinkKilobitsPerSecond: 9000, source: wpt),
        NetworkProfile(name: "LTE", rttMilliseconds: 70, downlinkKilobitsPerSecond: 12000, uplinkKilobitsPerSecond: 12000, source: wpt),
        NetworkProfile(name: "Cable", rttMilliseconds: 28, downlinkKilobitsPerSecond: 5000, uplinkKilobitsPerSecond: 1000, source: wpt),
        NetworkProfile(name: "FIOS", rttMilliseconds: 4, downlinkKilobitsPerSecond: 20000, uplinkKilobitsPerSecond: 5000, source: wpt),
        NetworkProfile(name: "desktop_brazil", rttMilliseconds: 25, downlinkKilobitsPerSecond: 50000, uplinkKilobitsPerSecond: 20000, source: brazil),
        NetworkProfile(name: "mobile_4g_brazil", rttMilliseconds: 80, downlinkKilobitsPerSecond: 12000, uplinkKilobitsPerSecond: 4000, source: brazil),
        NetworkProfile(name: "mobile_3g_brazil", rttMilliseconds: 350, downlinkKilobitsPerSecond: 1200, uplinkKilobitsPerSecond: 600, source: brazil),
    ]

    public static func named(_ name: String) -> NetworkProfile? { builtIn.first { $0.name == name } }

    /// Longer round trips are not a network a patient uses, and would make probes time out.
    public static let maxRTTMilliseconds = 10_000.0
}
