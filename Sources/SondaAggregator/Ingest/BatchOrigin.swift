import SondaConfig
import SondaCore

/// An agent reports only for itself: a batch, and each of its results, may name only the agent
/// whose key signed it and that agent's configured region (or leave them out). Anything else is
/// refused with 400 before a byte is stored; what is stored takes both from the `agents:` entry.
enum BatchOrigin {
    static func check(_ batch: ResultBatch, signedBy agent: AggregatorConfig.Agent) throws(AggregatorError) {
        guard batch.agent == agent.id else {
            throw .agentMismatch("$.agent is '\(batch.agent)' but the batch is signed by agent '\(agent.id)'")
        }
        for (index, result) in batch.results.enumerated() {
            if let claimed = result.agent, claimed != agent.id {
                throw .agentMismatch(
                    "$.results[\(index)].agent is '\(claimed)' but the batch is signed by agent '\(agent.id)'")
            }
            if let claimed = result.region, claimed != agent.region {
                throw .regionMismatch(
                    "$.results[\(index)].region is '\(claimed)' but agent '\(agent.id)' is in region '\(agent.region)' "
                        + "in the aggregator's agents: list")
            }
        }
    }
}
