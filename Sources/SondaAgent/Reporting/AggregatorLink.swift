import Logging
import SondaProbe

/// The reporter's way to its aggregators, so a fleet needs no load balancer in front of them: a
/// body goes to the aggregator that answered last; when that one gives no answer, or one another
/// aggregator may not give (`AggregatorAnswer.unavailable`), the same body goes to the next, and
/// so on. Only when none answers does the reporter back off. The aggregator that answered is
/// remembered for the next batch, and a change is logged once, naming the one failed over from.
struct AggregatorLink {
    private(set) var endpoints: AggregatorEndpoints
    let caFile: String?
    let logger: Logger
    /// The refusal of the last `post` by an aggregator that found the signature's time outside its
    /// window (409), if one did: the agent's clock is off.
    private(set) var clockRefusal: BatchRefusal?

    init(urls: [String], caFile: String?, logger: Logger) {
        endpoints = AggregatorEndpoints(urls: urls)
        self.caFile = caFile
        self.logger = logger
    }

    /// Posts `body`, signed with `signature` (the `Sonda-Signature` value), to each aggregator in
    /// turn until one answers; `.unavailable` with every aggregator's reason when none did.
    mutating func post(_ body: [UInt8], signature: String, timeout: UploadTimeout, on runner: ProbeRunner)
        -> AggregatorAnswer
    {
        var failures: [(index: Int, reason: String)] = []
        clockRefusal = nil
        for index in endpoints.order {
            let response = runner.post(
                url: endpoints.resultsURLs[index], body: body,
                headers: [HTTPHeader(name: BatchSigner.headerName, value: signature)],
                timeout: timeout.total(bytes: body.count), caFile: caFile)
            let answer = AggregatorAnswer(response)
            if response.transportError == nil, response.status == 409 {
                clockRefusal = BatchRefusal(status: response.status, body: response.body)
            }
            if case .unavailable(let reason) = answer {
                failures.append((index, reason))
                continue
            }
            if let previous = endpoints.answered(at: index) {
                let reason = failures.first { $0.index == previous }?.reason ?? "no answer"
                logger.warning(
                    "aggregator \(endpoints.shown(previous)) failed (\(reason)); reporting to \(endpoints.shown(index)) from now on"
                )
            }
            return answer
        }
        guard failures.count > 1 else { return .unavailable(failures.first?.reason ?? "no aggregator") }
        return .unavailable(failures.map { "\(endpoints.shown($0.index)): \($0.reason)" }.joined(separator: "; "))
    }
}
