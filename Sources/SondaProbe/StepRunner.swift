import SondaCore

/// Runs one HTTP step of a check on a worker's handle: fills in the variables, makes the request
/// keeping only what the step's assertions and extractions read, then takes the variables and
/// judges the response.
struct StepRunner {
    let easy: CurlEasy
    let check: CheckSpec
    /// The emulated link every request of the step runs behind.
    var profile: NetworkProfile? = nil

    /// - Parameters:
    ///   - name: the step's name in its result; nil for a check that is a single request.
    ///   - variables: extracted by earlier steps; this step's extractions are added.
    ///   - redactor: every extracted value is added, so no later output shows it.
    func run(
        _ step: HTTPStep, name: String?, variables: inout [String: String], redactor: inout SecretRedactor,
        timeout: Duration, sharesCookies: Bool
    ) -> ProbeResult {
        let request: ProbeRequest
        do {
            var built = try self.request(for: step, variables: variables, timeout: timeout)
            built.profile = profile
            request = built
        } catch {
            let result = ProbeResult(
                check: check.name, step: name, endpointClass: check.endpointClass, startedAt: .now,
                error: ProbeError(.internal, "variable '${\(error.name)}' is not defined: no earlier step extracts it"),
                phases: PhaseTimings(total: 0), url: redactor.redact(step.url))
            return result.redacted(by: redactor)
        }
        let needs = Extractor.needs(of: step)
        let capture =
            needs.headers.isEmpty && !needs.body
            ? nil : ResponseCapture(headerNames: needs.headers, keepsBody: needs.body)
        var result = HTTPProber.run(request, on: easy, capture: capture, sharesCookies: sharesCookies)
        result.check = check.name
        result.step = name
        result.endpointClass = check.endpointClass
        result.url = request.url

        // Judged only when a whole response arrived; a failed transfer has already said why.
        let answered =
            result.http != nil && (result.error.map { [.httpStatus, .tlsExpiring].contains($0.code) } ?? true)
        guard answered else { return result.redacted(by: redactor) }
        let response = capture ?? ResponseCapture(headerNames: [], keepsBody: false)

        var extractionFailure: ProbeError?
        if result.ok {
            for extraction in step.extract {
                switch Extractor.value(of: extraction, in: response) {
                case .success(let value):
                    variables[extraction.variable] = value
                    redactor.add(value)
                case .failure(let failure):
                    extractionFailure = extractionFailure ?? failure
                }
            }
        }
        let evaluator = AssertionEvaluator(
            response: response, phases: result.phases, httpVersion: result.http?.version, redactor: redactor)
        for assertion in step.expect {
            guard let verdict = evaluator.judge(assertion) else { continue }
            result.assertions.append(verdict.outcome)
            if let failure = verdict.failure { result.fail(failure) }
        }
        if let extractionFailure { result.fail(extractionFailure) }
        return result.redacted(by: redactor)
    }

    private func request(
        for step: HTTPStep, variables: [String: String], timeout: Duration
    ) throws(Template.UndefinedVariable) -> ProbeRequest {
        let statusRanges = step.expect.flatMap { assertion -> [ClosedRange<Int>] in
            if case .status(let ranges) = assertion { return ranges }
            return []
        }
        return ProbeRequest(
            url: try Template(step.url).render(variables),
            method: step.method,
            headers: try step.headers.map { header throws(Template.UndefinedVariable) in
                HTTPHeader(name: header.name, value: try Template(header.value).render(variables))
            },
            body: try step.body.map { body throws(Template.UndefinedVariable) in try Template(body).render(variables) },
            timeout: timeout, caFile: check.caFile, tlsPolicy: check.tls,
            expectedStatus: statusRanges.isEmpty ? [200...399] : statusRanges, connection: check.connection,
            clientCertificate: check.clientCertificate)
    }
}

extension ProbeResult {
    /// The result with secrets masked in everything it says: the error, the assertions, the URL.
    public func redacted(by redactor: SecretRedactor) -> ProbeResult {
        guard !redactor.secrets.isEmpty else { return self }
        var result = self
        if var error = result.error {
            error.message = redactor.redact(error.message)
            result.error = error
        }
        result.assertions = assertions.map {
            AssertionOutcome(name: redactor.redact($0.name), ok: $0.ok, actual: $0.actual.map(redactor.redact))
        }
        result.url = redactor.redact(url)
        return result
    }
}
