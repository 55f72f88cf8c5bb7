import SondaCLI
import Foundation
import SondaConfig
import SondaCore

/// `--profile a,b,c` (and `--profiles FILE`): the built-in profiles plus a user's own, by name.
enum ProfileChoice {
    static func parse(_ list: String?, file: String?) throws -> [NetworkProfile?] {
        let known = try available(file: file)
        guard let list else { return [nil] }
        let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw CommandFailure(message: "--profile needs profile names separated by commas, got '\(list)'")
        }
        return try names.map { name in
            guard let profile = known.first(where: { $0.name == name }) else {
                let hint = Suggestion.didYouMean(name, in: known.map(\.name))
                throw CommandFailure(message: "unknown profile '\(name)'\(hint); `sonda-agent profiles` lists them")
            }
            return profile
        }
    }

    /// Built-in profiles, then the file's (which may replace a built-in one of the same name).
    static func available(file: String?) throws -> [NetworkProfile] {
        guard let file else { return NetworkProfile.builtIn }
        var loader = ConfigLoader()
        guard let own = loader.loadProfiles(path: file) else {
            let text = loader.diagnosticsText
            FileHandle.standardError.write(Data((text + "\n").utf8))
            throw CommandFailure(message: "\(file) has errors; see above", code: .config)
        }
        let names = Set(own.map(\.name))
        return NetworkProfile.builtIn.filter { !names.contains($0.name) } + own
    }
}
