import Foundation
import SondaAggregator
import SondaConfig
import Testing

@Suite struct AlertEngineTests {
    @Test func downInTwoOfThreeRegionsPagesOnceWithinIntervalTimesForThenResolves() throws {
        var s = AlertScenario()
        for _ in 0..<3 { s.minute() }
        let outage = s.now
        let down: Set = ["sp-clinic-01", "rj-clinic-01"]
        for _ in 0..<10 { s.minute { agent, _ in down.contains(agent) ? "timeout" : nil } }
        let fired = s.announced("SondaDown", .firing)
        #expect(fired.count == 1)
        let page = try #require(fired.first)
        #expect(page.labels["severity"] == "critical" && page.labels["check"] == "booking")
        #expect(page.labels["regions"] == "rio,sao_paulo" && page.labels["class"] == "appointment_booking")
        let latency = try #require(s.firstFiring("SondaDown")).timeIntervalSince(outage)
        #expect(latency <= 2 * 60, "interval × for: \(latency)s")
        #expect(s.announced("SondaDegraded").isEmpty, "an outage is not also reported as local problems")
        let healthy = s.now
        for _ in 0..<5 { s.minute() }
        let resolved = s.announced("SondaDown", .resolved)
        #expect(resolved.count == 1 && resolved.first?.fingerprint == page.fingerprint)
        let resolvedAt = try #require(s.rounds.first { $0.changed.contains { $0.status == .resolved } }?.at)
        #expect(resolvedAt.timeIntervalSince(healthy) <= 3 * 60)
        #expect(s.announced.count == 2, "\(s.announced.map(\.labels))")
    }

    @Test func downInOneRegionOnlyIsDegradedAndPagesNobody() throws {
        var s = AlertScenario()
        for _ in 0..<10 { s.minute { agent, _ in agent == "rj-clinic-01" ? "connect_timeout" : nil } }
        #expect(s.announced("SondaDown").isEmpty)
        #expect(!s.rounds.flatMap(\.firing).contains { $0.labels["severity"] == "critical" })
        let degraded = s.announced("SondaDegraded", .firing)
        #expect(degraded.count == 1)
        #expect(degraded.first?.labels["severity"] == "low" && degraded.first?.labels["agent"] == "rj-clinic-01")
        #expect(degraded.first?.labels["region"] == "rio")
    }

    @Test func aTimeoutOnOneProfileOnlyIsNotAnOutage() {
        var s = AlertScenario()
        for _ in 0..<10 {
            s.minute(profiles: ["desktop_brazil", "mobile_3g_brazil"]) { _, profile in
                profile == "mobile_3g_brazil" ? "timeout" : nil
            }
        }
        #expect(s.announced.isEmpty, "\(s.announced.map(\.labels))")
    }

    @Test func aSilentAgentAlertsAsSilentAndIsLeftOutOfTheQuorum() throws {
        var s = AlertScenario()
        for _ in 0..<3 { s.minute() }
        let lost = s.now
        let alive: Set = ["sp-clinic-01", "rj-clinic-01"]
        for _ in 0..<8 { s.minute(reporting: alive) }
        let silent = s.announced("SondaAgentSilent", .firing)
        #expect(silent.count == 1 && silent.first?.labels["agent"] == "intl-01")
        #expect(silent.first?.labels["severity"] == "medium" && silent.first?.labels["region"] == "international")
        let firedAt = try #require(s.firstFiring("SondaAgentSilent"))
        #expect(firedAt.timeIntervalSince(lost) <= 3 * 60 + 60 + 15)
        #expect(s.announced("SondaDown").isEmpty && s.announced("SondaDegraded").isEmpty)
        // With the silent agent out, one failing agent of the two left is below quorum: no page.
        for _ in 0..<5 { s.minute(reporting: alive) { agent, _ in agent == "sp-clinic-01" ? "timeout" : nil } }
        #expect(s.announced("SondaDown").isEmpty && s.announced("SondaDegraded", .firing).count == 1)
    }

    /// Found by the partition fault scenario (docs/reliability.md): the agents cut off for longer
    /// than the silence window resolved the outage, and the backlog paged it again once they came back.
    @Test func anOutageWhoseAgentsAllFallSilentStaysOnePage() {
        var s = AlertScenario()
        for _ in 0..<4 { s.minute { _, _ in "connect_refused" } }
        #expect(s.announced("SondaDown", .firing).count == 1)
        for _ in 0..<8 { s.minute(reporting: []) }
        #expect(s.announced("SondaAgentSilent", .firing).count == 3, "the agents are rightly paged as silent")
        #expect(s.announced("SondaDown", .resolved).isEmpty, "silence does not resolve an outage")
        for _ in 0..<3 { s.minute { _, _ in "connect_refused" } }
        #expect(s.announced("SondaDown", .firing).count == 1, "the same outage is not paged twice")
        for _ in 0..<5 { s.minute() }
        #expect(s.announced("SondaDown", .resolved).count == 1, "a passing result still resolves it")
    }

    @Test func whenFewerAgentsReportThanTheQuorumAllOfThemFailingIsAnOutage() {
        var s = AlertScenario(
            alerting: {
                var a = AlertingConfig()
                a.downQuorum = 3
                return a
            }())
        let alive: Set = ["sp-clinic-01", "rj-clinic-01"]
        for _ in 0..<5 { s.minute(reporting: alive) { _, _ in "connect_refused" } }
        #expect(s.announced("SondaDown", .firing).count == 1)
    }

    @Test func aFlappingOutageIsOnePageNotOnePerFlap() {
        var s = AlertScenario()
        for i in 0..<30 { s.minute { agent, _ in agent != "intl-01" && i % 3 != 2 ? "http_status" : nil } }
        #expect(s.announced("SondaDown", .firing).count == 1)
        #expect(s.announced("SondaDown", .resolved).isEmpty)
        for _ in 0..<5 { s.minute() }
        #expect(s.announced("SondaDown", .resolved).count == 1)
    }

    @Test func tlsPolicyFailureIsCriticalOnTheFirstResultAndResolvesWhenTLSPasses() throws {
        var s = AlertScenario()
        s.minute()
        let first = s.now
        s.minute(tlsVersion: "TLSv1.2") { agent, _ in agent == "sp-clinic-01" ? "tls_version" : nil }
        let fired = s.announced("SondaTLSPolicy", .firing)
        #expect(fired.count == 1)
        #expect(fired.first?.labels["severity"] == "critical" && fired.first?.labels["agent"] == "sp-clinic-01")
        #expect(fired.first?.annotations["summary"]?.contains("TLSv1.2") == true)
        #expect(
            try #require(s.firstFiring("SondaTLSPolicy")) == first.addingTimeInterval(15), "no for: it fires at once")
        s.minute { agent, _ in agent == "sp-clinic-01" ? "http_status" : nil }
        #expect(s.announced("SondaTLSPolicy", .resolved).count == 1, "a 500 after a good handshake passed TLS")
    }

    @Test func aTLSAlertOfACheckThatStoppedReportingResolvesAfterADay() {
        var s = AlertScenario()
        s.minute(tlsVersion: "TLSv1.2") { _, _ in "tls_version" }
        #expect(s.announced("SondaTLSPolicy", .firing).count == 3)
        s.now = s.now.addingTimeInterval(86_400)
        s.minute(check: "another")
        #expect(s.announced("SondaTLSPolicy", .resolved).count == 3)
    }

    @Test(arguments: [(6.0, "critical"), (15.0, "high"), (25.0, nil)])
    func certificateExpiry(_ days: Double, _ severity: String?) {
        var s = AlertScenario()
        s.minute(certificateExpiry: s.now.addingTimeInterval(days * 86_400))
        let fired = s.announced("SondaCertExpiry", .firing)
        #expect(fired.map { $0.labels["severity"] } == (severity.map { [$0] } ?? []))
    }

    /// A client certificate (mutual TLS) close to expiry is an alert of its own beside the
    /// server's, told apart by `certificate: client`, and names the certificate.
    @Test(arguments: [(6.0, "critical"), (15.0, "high"), (-1.0, "critical"), (25.0, nil)])
    func clientCertificateExpiry(_ days: Double, _ severity: String?) throws {
        var s = AlertScenario()
        let client = ClientCertificateExpiry(
            subject: "CN=sonda-agent", notAfter: s.now.addingTimeInterval(days * 86_400))
        s.minute(certificateExpiry: s.now.addingTimeInterval(90 * 86_400), clientCertificate: client)
        let fired = s.announced("SondaCertExpiry", .firing)
        #expect(fired.map { $0.labels["severity"] } == (severity.map { [$0] } ?? []))
        guard let alert = fired.first else { return }
        #expect(alert.labels["certificate"] == "client" && alert.labels["check"] == "booking")
        let summary = alert.annotations["summary"] ?? ""
        #expect(summary.contains("client certificate CN=sonda-agent"), "\(summary)")
        #expect(summary.contains(days < 0 ? "expired" : "expires in"))

        // The server's certificate expiring too is another alert, with its own fingerprint.
        s.minute(certificateExpiry: s.now.addingTimeInterval(86_400), clientCertificate: client)
        let both = s.announced("SondaCertExpiry", .firing)
        #expect(Set(both.map(\.fingerprint)).count == 2 && both.contains { $0.labels["certificate"] == nil })
    }

    @Test func certificateEscalationResolvesTheHighAlertAndFiresACriticalOne() throws {
        var s = AlertScenario()
        let expiry = s.now.addingTimeInterval(7 * 86_400 + 120)
        s.minute(certificateExpiry: expiry)
        let high = try #require(s.announced("SondaCertExpiry", .firing).first)
        #expect(high.labels["severity"] == "high")
        for _ in 0..<3 { s.minute(certificateExpiry: expiry) }
        let changes = s.announced("SondaCertExpiry").map { "\($0.status.rawValue) \($0.labels["severity"]!)" }
        #expect(changes.sorted() == ["firing critical", "firing high", "resolved high"], "\(changes)")
        let escalation = s.rounds.first { $0.changed.contains { $0.labels["severity"] == "critical" } }
        #expect(escalation?.changed.contains { $0.status == .resolved && $0.fingerprint == high.fingerprint } == true)
    }

    @Test func reNotifyFollowsTheSeverityInterval() throws {
        var s = AlertScenario()
        for _ in 0..<40 { s.minute { agent, _ in agent == "intl-01" ? nil : "dns" } }
        let firing = try #require(s.firstFiring("SondaDown"))
        let reminders = s.rounds.filter { !$0.reminders.isEmpty }.map { $0.at.timeIntervalSince(firing) }
        #expect(reminders == [900, 1800], "critical: every 15 minutes")
        #expect(s.rounds.last?.firing.count == 1, "every round lists what is firing")
    }

    @Test func aSilenceStopsSendingButNotTheLifecycle() throws {
        var s = AlertScenario()
        s.silences = [
            Silence(matchers: ["check": "booking"], startsAt: s.now, endsAt: s.now.addingTimeInterval(600)),
            Silence(matchers: ["check": "other"], startsAt: s.now, endsAt: s.now.addingTimeInterval(6000)),
        ]
        for _ in 0..<5 { s.minute { agent, _ in agent == "intl-01" ? nil : "timeout" } }
        #expect(s.announced.isEmpty && s.rounds.allSatisfy { $0.firing.isEmpty })
        let silenced = try #require(s.engine.active.values.first { $0.labels["alertname"] == "SondaDown" })
        #expect(silenced.state == .firing && silenced.silenced)
        for _ in 0..<6 { s.minute { agent, _ in agent == "intl-01" ? nil : "timeout" } }
        #expect(s.announced("SondaDown", .firing).count == 1, "announced once the silence is over")
    }

    @Test func budgetCellsAlertOnlyWithEnoughSamples() {
        var s = AlertScenario()
        func cell(_ region: String, _ p95: Double, count: Int) -> BudgetReport.Cell {
            BudgetReport.Cell(
                region: region, profile: "desktop_brazil", endpointClass: "appointment_booking", count: count,
                valueMilliseconds: p95, limitMilliseconds: 200)
        }
        s.rollups = RollupInputs(budgetCells: [
            cell("sao_paulo", 250, count: 100), cell("rio", 190, count: 100), cell("international", 900, count: 5),
            cell("recife", 100, count: 100),
        ])
        s.minute()
        let fired = s.announced("SondaBudgetViolated", .firing)
        #expect(
            fired.map { [$0.labels["region"]!, $0.labels["severity"]!] }.sorted { $0[0] < $1[0] } == [
                ["rio", "low"], ["sao_paulo", "high"],
            ])
        s.rollups = RollupInputs(budgetCells: [cell("sao_paulo", 150, count: 100)])
        s.minute()
        #expect(s.announced("SondaBudgetViolated", .resolved).count == 2)
    }

    @Test func aFlowCountsOncePerRunNotOncePerStep() throws {
        var s = AlertScenario()
        let start = s.now
        for minute in 0..<3 {
            let at = start.addingTimeInterval(Double(minute) * 60)
            for (agent, region) in AlertScenario.agents.prefix(2) {
                for (step, ok) in [("login", true), ("book", false)] as [(String?, Bool)] + [(nil, false)] {
                    s.engine.add(
                        ResultEvent(
                            check: "booking-flow", endpointClass: "appointment_booking", agent: agent, region: region,
                            profile: "desktop_brazil", startedAt: at.addingTimeInterval(step == "book" ? 1 : 0), ok: ok,
                            errorCode: ok ? nil : "http_status", step: step))
                }
                s.engine.add(HeartbeatEvent(agent: agent, region: region, at: at))
            }
            for q in 1...4 { s.evaluate(at: at.addingTimeInterval(Double(q) * 15)) }
        }
        let fired = try #require(s.firstFiring("SondaDown"))
        #expect(fired.timeIntervalSince(start) > 60, "two runs, not the two failed results of one run")
    }

    @Test func theAlertsTableListsTheMostUrgentFirst() throws {
        var s = AlertScenario()
        s.minute(certificateExpiry: s.now.addingTimeInterval(15 * 86_400))
        for _ in 0..<3 { s.minute { agent, _ in agent == "intl-01" ? nil : "timeout" } }
        let entries = s.rounds.last!.firing.map { n in
            "{\"fingerprint\":\"\(n.fingerprint)\",\"labels\":{\(n.labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ","))},"
                + "\"state\":\"firing\",\"severity\":\"\(n.labels["severity"]!)\",\"starts_at\":\"2027-01-15T08:00:00.000Z\","
                + "\"ends_at\":null,\"summary\":\"\(n.annotations["summary"]!)\",\"description\":\"\"}"
        }
        let list = try JSONDecoder().decode(
            AlertList.self, from: Data("{\"alerts\":[\(entries.joined(separator: ","))]}".utf8))
        let lines = ReportTables.alerts(list, colour: false).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("severity  state   alert"))
        #expect(
            lines[1].hasPrefix(
                "critical  firing  SondaDown        booking rio,sao_paulo  2027-01-15T08:00:00  -      booking is down")
        )
        #expect(lines[2].hasPrefix("high      firing  SondaCertExpiry  booking"))
        let painted = ReportTables.alerts(list, colour: true)
        #expect(painted.contains("\u{1B}[1;31mcritical\u{1B}[0m"))
    }
}
