/// An emulated access link: round-trip time, bandwidth each way and random loss. Checks run under
/// the profiles an agent lists; `none` is the agent's own link, unshaped.
public struct NetworkProfile: Sendable, Hashable {
    public var name: String
    public var rttMilliseconds: Double
    public var downlinkKilobitsPerSecond: Double
    public var uplinkKilobitsPerSecond: Double
    /// Percent of segments lost each way, 0 ≤ loss < 50; paid as TCP's retransmission delay
    /// (`SegmentSchedule`), not dropped.
    public var lossPercent: Double
    public var source: String

    public init(
        name: String, rttMilliseconds: Double, downlinkKilobitsPerSecond: Double, uplinkKilobitsPerSecond: Double,
        lossPercent: Double = 0, source: String
    ) {
        self.name = name
        self.rttMilliseconds = rttMilliseconds
        self.downlinkKilobitsPerSecond = downlinkKilobitsPerSecond
        self.uplinkKilobitsPerSecond = uplinkKilobitsPerSecond
        self.lossPercent = lossPercent
        self.source = source
    }

    /// The built-in profiles; probes/profiles.yaml documents them with their sources (a test
    /// keeps the two equal), and users may add their own.
    public static let builtIn: [NetworkProfile] = [
        NetworkProfile(name: "none", rttMilliseconds: 0, downlinkKilobitsPerSecond: 0, uplinkKilobitsPerSecond: 0,
                       source: "no shaping: the agent's own link"),
        NetworkProfile(name: "3G", rttMilliseconds: 300, downlinkKilobitsPerSecond: 1600, uplinkKilobitsPerSecond: 768,
                       source: "WebPageTest 3G"),
        NetworkProfile(name: "3GFast", rttMilliseconds: 150, downlinkKilobitsPerSecond: 1600, uplinkKilobitsPerSecond: 768,
                       source: "WebPageTest 3GFast"),
        NetworkProfile(name: "3GSlow", rttMilliseconds: 400, downlinkKilobitsPerSecond: 400, uplinkKilobitsPerSecond: 400,
                       source: "WebPageTest 3GSlow"),
        NetworkProfile(name: "4G", rttMilliseconds: 170, downlinkKilobitsPerSecond: 9000, uplinkKilobitsPerSecond: 9000,
                       source: "WebPageTest 4G"),
        NetworkProfile(name: "LTE", rttMilliseconds: 70, downlinkKilobitsPerSecond: 12000, uplinkKilobitsPerSecond: 12000,
                       source: "WebPageTest LTE"),
        NetworkProfile(name: "Cable", rttMilliseconds: 28, downlinkKilobitsPerSecond: 5000, uplinkKilobitsPerSecond: 1000,
                       source: "WebPageTest Cable"),
        NetworkProfile(name: "FIOS", rttMilliseconds: 4, downlinkKilobitsPerSecond: 20000, uplinkKilobitsPerSecond: 5000,
                       source: "WebPageTest FIOS"),
        NetworkProfile(name: "desktop_brazil", rttMilliseconds: 25, downlinkKilobitsPerSecond: 50000, uplinkKilobitsPerSecond: 20000,
                       source: "estimate: clinic fixed line, below Ookla's Brazil median"),
        NetworkProfile(name: "mobile_4g_brazil", rttMilliseconds: 80, downlinkKilobitsPerSecond: 12000, uplinkKilobitsPerSecond: 4000,
                       source: "estimate: weak-signal 4G, below Opensignal averages"),
        NetworkProfile(name: "mobile_3g_brazil", rttMilliseconds: 350, downlinkKilobitsPerSecond: 1200, uplinkKilobitsPerSecond: 600,
                       source: "estimate: 3G fallback, Brazil"),
        NetworkProfile(name: "vivo_4g", rttMilliseconds: 55, downlinkKilobitsPerSecond: 22000, uplinkKilobitsPerSecond: 8000,
                       source: "estimate: Vivo 4G from Opensignal Brazil reports"),
        NetworkProfile(name: "claro_4g", rttMilliseconds: 50, downlinkKilobitsPerSecond: 25000, uplinkKilobitsPerSecond: 9000,
                       source: "estimate: Claro 4G from Opensignal Brazil reports"),
        NetworkProfile(name: "tim_4g", rttMilliseconds: 60, downlinkKilobitsPerSecond: 20000, uplinkKilobitsPerSecond: 7000,
                       source: "estimate: TIM 4G from Opensignal Brazil reports"),
        NetworkProfile(name: "oi_4g", rttMilliseconds: 70, downlinkKilobitsPerSecond: 12000, uplinkKilobitsPerSecond: 5000,
                       source: "estimate: Oi 4G before 2022, Opensignal Brazil reports"),
        NetworkProfile(name: "vivo_3g", rttMilliseconds: 180, downlinkKilobitsPerSecond: 2000, uplinkKilobitsPerSecond: 800,
                       source: "estimate: Vivo 3G (HSPA)"),
        NetworkProfile(name: "claro_3g", rttMilliseconds: 170, downlinkKilobitsPerSecond: 2200, uplinkKilobitsPerSecond: 800,
                       source: "estimate: Claro 3G (HSPA)"),
        NetworkProfile(name: "tim_3g", rttMilliseconds: 190, downlinkKilobitsPerSecond: 1800, uplinkKilobitsPerSecond: 700,
                       source: "estimate: TIM 3G (HSPA)"),
        NetworkProfile(name: "oi_3g", rttMilliseconds: 220, downlinkKilobitsPerSecond: 1200, uplinkKilobitsPerSecond: 500,
                       source: "estimate: Oi 3G before 2022 (HSPA)"),
    ]

    public static func named(_ name: String) -> NetworkProfile? { builtIn.first { $0.name == name } }

    /// Longer round trips are not a network a patient uses, and would make probes time out.
    public static let maxRTTMilliseconds = 10_000.0

    /// Loss is refused from here on: at half the segments lost TCP barely moves, and a probe under
    /// it measures the emulator's timeouts rather than a network anyone uses.
    public static let maxLossPercent = 50.0
}
