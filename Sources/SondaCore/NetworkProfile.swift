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
                       source: "Ookla Speedtest Global Index, Brazil fixed, Sep 2023 (median 131.94/88.74 Mbit/s): shared clinic line, well below"),
        NetworkProfile(name: "mobile_4g_brazil", rttMilliseconds: 80, downlinkKilobitsPerSecond: 12000, uplinkKilobitsPerSecond: 4000,
                       source: "Opensignal Brazil 2018-19: below the national 4G average and the slowest operator's upload and latency"),
        NetworkProfile(name: "mobile_3g_brazil", rttMilliseconds: 350, downlinkKilobitsPerSecond: 1200, uplinkKilobitsPerSecond: 600,
                       source: "Opensignal Brazil Jun 2018: half the slowest 3G average; RTT a poor-coverage choice"),
        NetworkProfile(name: "vivo_4g", rttMilliseconds: 80, downlinkKilobitsPerSecond: 16000, uplinkKilobitsPerSecond: 5500,
                       source: "Opensignal Brazil Jun 2018, Vivo 4G 20.62/7.13 Mbit/s, 65 ms: 80 % of rates, 1.2 × latency"),
        NetworkProfile(name: "claro_4g", rttMilliseconds: 75, downlinkKilobitsPerSecond: 22500, uplinkKilobitsPerSecond: 7000,
                       source: "Opensignal Brazil Jun 2018, Claro 4G 28.18/9.28 Mbit/s, 61 ms: 80 % of rates, 1.2 × latency"),
        NetworkProfile(name: "tim_4g", rttMilliseconds: 75, downlinkKilobitsPerSecond: 10500, uplinkKilobitsPerSecond: 4000,
                       source: "Opensignal Brazil Jun 2018, TIM 4G 13.47/5.23 Mbit/s, 62 ms: 80 % of rates, 1.2 × latency"),
        NetworkProfile(name: "oi_4g", rttMilliseconds: 80, downlinkKilobitsPerSecond: 10000, uplinkKilobitsPerSecond: 3500,
                       source: "Opensignal Brazil Jun 2018, Oi 4G 13.10/4.99 Mbit/s, 64 ms: 80 % of rates, 1.2 × latency"),
        NetworkProfile(name: "vivo_3g", rttMilliseconds: 120, downlinkKilobitsPerSecond: 2800, uplinkKilobitsPerSecond: 800,
                       source: "Opensignal Brazil Jun 2018, Vivo 3G 3.52 Mbit/s, 97 ms: 80 %, 1.2 × latency; upload an estimate"),
        NetworkProfile(name: "claro_3g", rttMilliseconds: 105, downlinkKilobitsPerSecond: 3600, uplinkKilobitsPerSecond: 800,
                       source: "Opensignal Brazil Jun 2018, Claro 3G 4.57 Mbit/s, 85 ms: 80 %, 1.2 × latency; upload an estimate"),
        NetworkProfile(name: "tim_3g", rttMilliseconds: 110, downlinkKilobitsPerSecond: 3200, uplinkKilobitsPerSecond: 700,
                       source: "Opensignal Brazil Jun 2018, TIM 3G 4.08 Mbit/s, 90 ms: 80 %, 1.2 × latency; upload an estimate"),
        NetworkProfile(name: "oi_3g", rttMilliseconds: 130, downlinkKilobitsPerSecond: 1900, uplinkKilobitsPerSecond: 500,
                       source: "Opensignal Brazil Jun 2018, Oi 3G 2.44 Mbit/s, 106 ms: 80 %, 1.2 × latency; upload an estimate"),
    ]

    public static func named(_ name: String) -> NetworkProfile? { builtIn.first { $0.name == name } }

    /// Longer round trips are not a network a patient uses, and would make probes time out.
    public static let maxRTTMilliseconds = 10_000.0

    /// Loss is refused from here on: at half the segments lost TCP barely moves, and a probe under
    /// it measures the emulator's timeouts rather than a network anyone uses.
    public static let maxLossPercent = 50.0
}
