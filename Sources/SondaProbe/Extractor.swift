import SondaCore

/// Takes the value of an `Extraction` from a step's response. A value that is not there fails the
/// step with `assertion`: the flow cannot go on without it.
enum Extractor {
    static func value(of extraction: Extraction, in response: ResponseCapture) -> Result<String, ProbeError> {
        let variable = extraction.variable
        func missing(_ why: String) -> Result<String, ProbeError> {
            .failure(ProbeError(.assertion, "extract \(variable): \(why)"))
        }
        switch extraction.source {
        case .jsonPath(let text):
            let path: JSONPath
            do { path = try JSONPath(text) } catch {
                return .failure(ProbeError(.internal, "extract \(variable): invalid JSON path '\(text)': \(error)"))
            }
            switch response.json {
            case .failure(let error): return missing("body is not JSON (\(error))")
            case .success(let document):
                guard let value = path.evaluate(in: document) else { return missing("\(text) not found in the body") }
                return .success(value.text)
            }
        case .header(let name):
            guard let value = response.headers[name.lowercased()]?.first else {
                return missing("header \(name) absent from the response")
            }
            return .success(value)
        case .regex(let pattern):
            let regex: Regex<AnyRegexOutput>
            do { regex = try AssertionEvaluator.regex(pattern) } catch {
                return .failure(ProbeError(.internal, "extract \(variable): \(error.message)"))
            }
            guard let match = response.bodyText.firstMatch(of: regex) else {
                return missing("/\(pattern)/ does not match the body")
            }
            let output = match.output
            let captured = output.count > 1 ? output[1].substring : output[0].substring
            return .success(captured.map(String.init) ?? "")
        }
    }

    /// The headers a step's extractions and assertions read, and whether they need the body.
    static func needs(of step: HTTPStep) -> (headers: Set<String>, body: Bool) {
        var headers: Set<String> = []
        var body = false
        for extraction in step.extract {
            switch extraction.source {
            case .header(let name): headers.insert(name.lowercased())
            case .jsonPath, .regex: body = true
            }
        }
        for assertion in step.expect {
            switch assertion {
            case .header(let name, _): headers.insert(name.lowercased())
            case .body, .jsonPath: body = true
            case .status, .maxDuration, .httpVersion: break
            }
        }
        return (headers, body)
    }
}
