import SondaCore

/// Judges a step's response against its assertions (all but `status`, which the prober judges
/// with the transfer). Every name and actual value it writes has passed through the redactor, and
/// a body is never quoted: a body assertion reports only its size.
struct AssertionEvaluator {
    let response: ResponseCapture
    let phases: PhaseTimings
    /// The negotiated HTTP version, as `http.version` reports it.
    let httpVersion: String?
    let redactor: SecretRedactor

    /// Response headers whose values are credentials in themselves.
    static let credentialHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    struct Verdict {
        var outcome: AssertionOutcome
        var failure: ProbeError?
    }

    /// Nil for `status`.
    func judge(_ assertion: Assertion) -> Verdict? {
        switch assertion {
        case .status:
            return nil
        case .header(let name, let match):
            let value = response.header(name)
            let shown = Self.credentialHeaders.contains(name.lowercased()) ? SecretRedactor.mask : value.map(Self.quoted)
            return judge(text: value, match, name: "header \(name)", actual: shown ?? "absent")
        case .body(let match):
            return judge(
                text: response.bodyText, match, name: "body", actual: "\(response.body.count)-byte body")
        case .jsonPath(let path, let expectation):
            return judge(path: path, expectation)
        case .maxDuration(let phase, let limit):
            let name = "max \(phase.rawValue) \(DurationParsing.format(limit))"
            guard let value = phases[phase] else { return verdict(name, ok: false, actual: "not reached") }
            return verdict(name, ok: value <= limit.milliseconds, actual: Self.milliseconds(value))
        case .httpVersion(let expected):
            return verdict("http_version \(expected)", ok: httpVersion == expected, actual: httpVersion ?? "none")
        }
    }

    private func judge(text: String?, _ match: TextMatch, name: String, actual: String) -> Verdict {
        switch match {
        case .exists:
            return verdict("\(name) exists", ok: text != nil && (name != "body" || !response.body.isEmpty), actual: actual)
        case .equals(let expected):
            return verdict("\(name) equals \(expected)", ok: text == expected, actual: actual)
        case .contains(let expected):
            return verdict("\(name) contains \(expected)", ok: text?.contains(expected) == true, actual: actual)
        case .matches(let pattern):
            let label = "\(name) matches \(pattern)"
            do {
                let regex = try Self.regex(pattern)
                return verdict(label, ok: text.map { $0.contains(regex) } == true, actual: actual)
            } catch {
                return Verdict(outcome: AssertionOutcome(name: redactor.redact(label), ok: false), failure: error)
            }
        }
    }

    private func judge(path text: String, _ expectation: JSONExpectation) -> Verdict {
        let name: String
        switch expectation {
        case .exists: name = "jsonPath \(text) exists"
        case .equals(let literal): name = "jsonPath \(text) equals \(JSONValue.scalar(literal: literal).jsonText)"
        case .length(let count): name = "jsonPath \(text) length \(count)"
        }
        let path: JSONPath
        do { path = try JSONPath(text) } catch {
            return Verdict(
                outcome: AssertionOutcome(name: redactor.redact(name), ok: false),
                failure: ProbeError(.internal, redactor.redact("invalid JSON path '\(text)': \(error)")))
        }
        let document: JSONValue
        switch response.json {
        case .success(let parsed): document = parsed
        case .failure(let error): return verdict(name, ok: false, actual: "body is not JSON (\(error))")
        }
        guard let value = path.evaluate(in: document) else { return verdict(name, ok: false, actual: "not found") }
        switch expectation {
        case .exists:
            return verdict(name, ok: true, actual: value.jsonText)
        case .equals(let literal):
            return verdict(name, ok: value.equals(literal: literal), actual: value.jsonText)
        case .length(let count):
            guard let length = value.length else {
                return verdict(name, ok: false, actual: "\(value.jsonText), which has no length")
            }
            return verdict(name, ok: length == count, actual: String(length))
        }
    }

    private func verdict(_ name: String, ok: Bool, actual: String) -> Verdict {
        let name = redactor.redact(name)
        guard !ok else { return Verdict(outcome: AssertionOutcome(name: name, ok: true)) }
        // Redact before shortening, so a cut never leaves part of a secret behind.
        let actual = Self.shortened(redactor.redact(actual))
        return Verdict(
            outcome: AssertionOutcome(name: name, ok: false, actual: actual),
            failure: ProbeError(.assertion, "\(name): actual \(actual)"))
    }

    static func regex(_ pattern: String) throws(ProbeError) -> Regex<AnyRegexOutput> {
        do { return try Regex(pattern) } catch {
            throw ProbeError(.internal, "invalid regular expression '\(pattern)': \(error)")
        }
    }

    static func quoted(_ text: String) -> String { JSONValue.string(text).jsonText }

    static func milliseconds(_ value: Double) -> String {
        DurationParsing.format(.microseconds(Int64((value * 1000).rounded())))
    }

    /// Long values (a whole array, a big header) are cut so messages stay one readable line.
    static func shortened(_ text: String, limit: Int = 200) -> String {
        text.count <= limit ? text : text.prefix(limit) + "…"
    }
}
