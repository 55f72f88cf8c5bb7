import ArgumentParser
import SondaCore

/// A duration on the command line as in the configs: "500ms", "10s", "2m".
extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let value = try? DurationParsing.parse(argument) else { return nil }
        self = value
    }
}
