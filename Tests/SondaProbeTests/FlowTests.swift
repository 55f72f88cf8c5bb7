import Foundation
import SondaCore
import SondaProbe
import TestSupport
import Testing

/// Configured checks against the lab's booking API: log in, list slots with the token, book with
/// the token and the session cookie.
@Suite struct FlowTests {
    static let pool = ProbeWorkerPool(workers: 2)
    static let token = "sonda-secret-token-123"

    static func check(_ target: CheckTarget, name: String = "booking-flow", lab: TLSLab) -> CheckSpec {
        CheckSpec(name: name, endpointClass: "appointment_booking", timeout: .seconds(5), target: target, caFile: lab.ca)
    }

    static func login(_ lab: TLSLab) -> HTTPStep {
        HTTPStep(
            name: "login", method: "POST", url: lab.url("tls13", "/login"), body: #"{"user":"demo"}"#,
            expect: [.status([200...200]), .header(name: "content-type", .contains("json"))],
            extract: [Extraction(variable: "token", source: .jsonPath("$.token"))])
    }

    static func slots(_ lab: TLSLab, token: String = "${token}") -> HTTPStep {
        HTTPStep(
            name: "slots", url: lab.url("tls13", "/api/slots"),
            headers: [HeaderTemplate(name: "Authorization", value: "Bearer \(token)")],
            expect: [.status([200...200]), .jsonPath(path: "$.slots", .length(2))],
            extract: [Extraction(variable: "slot", source: .jsonPath("$.slots[0].id"))])
    }

    static func book(_ lab: TLSLab) -> HTTPStep {
        HTTPStep(
            name: "book", method: "POST", url: lab.url("tls13", "/api/book"),
            headers: [HeaderTemplate(name: "Authorization", value: "Bearer ${token}")], body: #"{"slot":${slot}}"#,
            expect: [.status([201...201]), .jsonPath(path: "$.booked", .equals("true"))])
    }

    @Test func loginSlotsAndBookingPassWithOneResultPerStepAndOneForTheFlow() async throws {
        let lab = try TLSLab.shared()
        let check = Self.check(.flow([Self.login(lab), Self.slots(lab), Self.book(lab)]), lab: lab)
        let results = await Self.pool.run(check, redactor: SecretRedactor())
        #expect(results.map(\.step) == ["login", "slots", "book", nil])
        #expect(results.allSatisfy { $0.ok }, "\(results.compactMap(\.error))")
        #expect(results.allSatisfy { $0.check == "booking-flow" && $0.endpointClass == "appointment_booking" })
        #expect(results.map { $0.http?.status } == [200, 200, 201, nil])
        #expect(results[2].assertions.map(\.name) == ["status", "jsonPath $.booked equals true"])
        let flow = try #require(results.last)
        #expect(flow.startedAt == results[0].startedAt)
        // Direct: no step has a proxy phase, nor has the flow.
        #expect(flow.phases.proxy == nil)
        for phase in PhaseTimings.Phase.allCases where phase != .proxy {
            let sum = results.dropLast().compactMap { $0.phases[phase] }.reduce(0, +)
            #expect(abs(try #require(flow.phases[phase]) - sum) < 0.001, "\(phase)")
        }
    }

    @Test func wrongTokenStopsTheFlowAtTheSlotsStep() async throws {
        let lab = try TLSLab.shared()
        let check = Self.check(.flow([Self.login(lab), Self.slots(lab, token: "wrong"), Self.book(lab)]), lab: lab)
        let results = await Self.pool.run(check, redactor: SecretRedactor())
        #expect(results.map(\.step) == ["login", "slots", nil])
        #expect(results[0].ok)
        #expect(results[1].error?.code == .httpStatus)
        #expect(results[1].http?.status == 401)
        let flow = try #require(results.last)
        #expect(flow.error?.code == .httpStatus)
        #expect(flow.error?.message == "step 'slots': HTTP 401, expected 200")
        #expect(abs(flow.phases.total - results[0].phases.total - results[1].phases.total) < 0.001)
    }

    @Test func failingJSONPathAssertionNamesTheStepAndTheActualValue() async throws {
        let lab = try TLSLab.shared()
        let health = HTTPStep(
            name: "health", url: lab.url("tls13", "/api/health"),
            expect: [.status([200...200]), .jsonPath(path: "$.status", .equals("busy")), .jsonPath(path: "$.gone", .exists)])
        let results = await Self.pool.run(Self.check(.flow([health]), lab: lab), redactor: SecretRedactor())
        let step = try #require(results.first)
        #expect(step.error?.code == .assertion)
        #expect(
            step.assertions == [
                AssertionOutcome(name: "status", ok: true),
                AssertionOutcome(name: #"jsonPath $.status equals "busy""#, ok: false, actual: #""ok""#),
                AssertionOutcome(name: "jsonPath $.gone exists", ok: false, actual: "not found"),
            ])
        #expect(results.last?.error?.message == #"step 'health': jsonPath $.status equals "busy": actual "ok""#)
    }

    @Test func extractedSecretsAppearInNoResult() async throws {
        let lab = try TLSLab.shared()
        var login = Self.login(lab)
        // Assertions that fail on the token itself: their actual values would show it.
        login.expect += [
            .jsonPath(path: "$.token", .equals("nope")), .jsonPath(path: "$", .length(1)),
            .body(.matches("^x")), .header(name: "Set-Cookie", .equals("x")),
        ]
        var peek = Self.slots(lab)
        peek.url = lab.url("tls13", "/api/health?t=${token}")
        peek.expect = [.status([500...599])]
        let env = SecretRedactor(["abc123"])
        let failing = await Self.pool.run(Self.check(.flow([login]), lab: lab), redactor: env)
        let passing = await Self.pool.run(
            Self.check(.flow([Self.login(lab), peek]), lab: lab), redactor: SecretRedactor())
        let json = try (failing + passing).map { String(decoding: try ResultJSON.encoder().encode($0), as: UTF8.self) }
        #expect(failing.last?.error?.code == .assertion)
        #expect(passing.last?.error?.message == "step 'slots': HTTP 200, expected 500-599")
        for line in json { #expect(!line.contains(Self.token), "\(line)") }
        for result in failing + passing { #expect(!result.url.contains(Self.token)) }
        #expect(json.joined().contains(SecretRedactor.mask))
        #expect(!json.joined().contains("abc123"))
    }

    @Test func cookiesStayInTheirFlow() async throws {
        let lab = try TLSLab.shared()
        let worker = ProbeWorkerPool(workers: 1)
        defer { worker.shutdown() }
        let bearer = HTTPHeader(name: "Authorization", value: "Bearer \(Self.token)")
        let plainBook = ProbeRequest(
            url: lab.url("tls13", "/api/book"), method: "POST", headers: [bearer], body: "{}", caFile: lab.ca)

        let flow = await worker.run(
            Self.check(.flow([Self.login(lab), Self.slots(lab), Self.book(lab)]), lab: lab), redactor: SecretRedactor())
        #expect(flow.last?.ok == true, "the flow shares its cookie: \(flow.compactMap(\.error))")
        #expect(await worker.probe(plainBook).http?.status == 401, "a later probe does not send the flow's cookie")

        _ = await worker.probe(ProbeRequest(url: lab.url("tls13", "/login"), method: "POST", body: "{}", caFile: lab.ca))
        #expect(await worker.probe(plainBook).http?.status == 401, "nor what an earlier plain probe was given")

        let bookOnly = HTTPStep(
            name: "book", method: "POST", url: plainBook.url, headers: [HeaderTemplate(name: bearer.name, value: bearer.value)],
            body: "{}", expect: [.status([201...201])])
        _ = await worker.run(Self.check(.flow([Self.login(lab)]), lab: lab), redactor: SecretRedactor())
        let next = await worker.run(Self.check(.flow([bookOnly]), lab: lab), redactor: SecretRedactor())
        #expect(next.first?.http?.status == 401, "every flow starts with an empty jar")
    }

    @Test func headerAndRegexExtractionFeedLaterSteps() async throws {
        let lab = try TLSLab.shared()
        let headers = HTTPStep(
            name: "headers", url: lab.url("tls13", "/headers"),
            expect: [.header(name: "x-sonda-lab", .matches(#"^\d+$"#))],
            extract: [Extraction(variable: "hops", source: .header("X-Sonda-Lab"))])
        let login = HTTPStep(
            name: "login", method: "POST", url: lab.url("tls13", "/login"),
            extract: [
                Extraction(variable: "token", source: .regex(#""token":"([^"]+)""#)),
                Extraction(variable: "user", source: .regex(#"demo"#)),
            ])
        let slots = HTTPStep(
            name: "slots", url: lab.url("tls13", "/api/slots?user=${user}"),
            headers: [HeaderTemplate(name: "Authorization", value: "Bearer ${token}")],
            expect: [.body(.contains("09:30")), .jsonPath(path: "$.slots[-1].id", .equals("8"))])
        let redirect = HTTPStep(
            name: "redirect", url: lab.url("tls13", "/redirect/${hops}"), expect: [.body(.equals("ok\n"))])
        let results = await Self.pool.run(
            Self.check(.flow([headers, login, slots, redirect]), lab: lab), redactor: SecretRedactor())
        #expect(results.allSatisfy { $0.ok }, "\(results.compactMap(\.error))")
        #expect(results[3].http?.redirects == 1)
        // Every extracted value counts as a secret, even one that is not.
        #expect(results[2].url.hasSuffix("/api/slots?user=\(SecretRedactor.mask)"))
    }

    @Test func missingExtractionAndUndefinedVariableFailTheStep() async throws {
        let lab = try TLSLab.shared()
        let health = HTTPStep(
            name: "health", url: lab.url("tls13", "/api/health"),
            extract: [Extraction(variable: "id", source: .jsonPath("$.id"))])
        let missing = await Self.pool.run(Self.check(.flow([health]), lab: lab), redactor: SecretRedactor())
        #expect(missing.last?.error == ProbeError(.assertion, "step 'health': extract id: $.id not found in the body"))

        let undefined = HTTPStep(name: "slots", url: lab.url("tls13", "/api/slots/${slot_id}"))
        let results = await Self.pool.run(Self.check(.flow([undefined]), lab: lab), redactor: SecretRedactor())
        #expect(results.first?.error?.code == .internal)
        #expect(
            results.last?.error?.message
                == "step 'slots': variable '${slot_id}' is not defined: no earlier step extracts it")
    }

    @Test func invalidRegexAtRunTimeIsInternal() async throws {
        let lab = try TLSLab.shared()
        let step = HTTPStep(name: "health", url: lab.url("tls13", "/api/health"), expect: [.body(.matches("(unclosed"))])
        let results = await Self.pool.run(Self.check(.http(step), name: "health", lab: lab), redactor: SecretRedactor())
        #expect(results.count == 1)
        #expect(results.first?.error?.code == .internal)
        #expect(results.first?.error?.message.hasPrefix("invalid regular expression '(unclosed'") == true)
    }

    @Test func maxDurationFailsASlowWait() async throws {
        let lab = try TLSLab.shared()
        let step = HTTPStep(
            name: "slow", url: lab.url("tls13", "/delay/100"),
            expect: [.status([200...200]), .maxDuration(phase: .wait, limit: .milliseconds(50))])
        let results = await Self.pool.run(Self.check(.http(step), name: "slow", lab: lab), redactor: SecretRedactor())
        let result = try #require(results.first)
        #expect(results.count == 1 && result.step == nil && result.check == "slow")
        #expect(result.error?.code == .assertion)
        #expect(result.error?.message.hasPrefix("max wait 50ms: actual ") == true, "\(result.error?.message ?? "")")
        let outcome = try #require(result.assertions.last)
        #expect(outcome.name == "max wait 50ms" && !outcome.ok)
        let actual = try DurationParsing.parse(try #require(outcome.actual))
        #expect(actual.milliseconds >= 90)
    }

    @Test func handshakeCheckSendsNoRequest() async throws {
        let lab = try TLSLab.shared()
        let check = Self.check(.tls(host: "localhost", port: lab.port("tls13")), name: "tls", lab: lab)
        let results = await Self.pool.run(check, redactor: SecretRedactor())
        let result = try #require(results.first)
        #expect(results.count == 1 && result.ok && result.check == "tls")
        #expect(result.http == nil && result.tls?.version == "TLSv1.3")
    }
}
