import SondaCore

extension ProbeRunner {
    /// Runs a configured check on this worker: one request, a handshake, or a flow. A request or a
    /// handshake gives one result; a flow gives one per step that ran, then one for the whole flow.
    /// Every text in the results has passed through `redactor`; `profile` is the emulated link.
    public func run(_ check: CheckSpec, redactor: SecretRedactor, profile: NetworkProfile? = nil) -> [ProbeResult] {
        switch check.target {
        case .http(let step):
            var variables: [String: String] = [:]
            var redactor = redactor
            return [
                StepRunner(easy: easy, check: check, profile: profile).run(
                    step, name: nil, variables: &variables, redactor: &redactor, timeout: check.timeout,
                    sharesCookies: false)
            ]
        case .tls(let host, let port):
            let authority = TCPAddress(host: host, port: port).authority
            return [run(check, url: "https://\(authority)/", kind: .tlsHandshake, redactor: redactor, profile: profile)]
        case .tcp(let target):
            let scheme = target.usesTLS ? "https" : "http"
            let url = "\(scheme)://\(target.address.authority)/"
            return [run(check, url: url, kind: .tcp(target.exchange), redactor: redactor, profile: profile)]
        case .flow(let steps):
            return FlowRunner(easy: easy, check: check, profile: profile).run(steps, redactor: redactor)
        }
    }

    /// A handshake or tcp check: one connection, no HTTP request.
    private func run(
        _ check: CheckSpec, url: String, kind: ProbeRequest.Kind, redactor: SecretRedactor, profile: NetworkProfile?
    ) -> ProbeResult {
        let request = ProbeRequest(
            url: url, kind: kind, timeout: check.timeout, caFile: check.caFile, tlsPolicy: check.tls,
            profile: profile, connection: check.connection, clientCertificate: check.clientCertificate)
        var result = request.run(on: easy)
        result.check = check.name
        result.endpointClass = check.endpointClass
        return result.redacted(by: redactor)
    }
}

extension ProbeWorkerPool {
    /// Runs a configured check on one worker (a flow's steps all on the same one).
    public func run(_ check: CheckSpec, redactor: SecretRedactor) async -> [ProbeResult] {
        await withWorker { runner in runner.run(check, redactor: redactor) }
    }
}
