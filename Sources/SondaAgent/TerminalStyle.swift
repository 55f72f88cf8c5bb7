#if canImport(Glibc)
import Glibc
#endif

/// ANSI colour for terminal output; plain text when stdout is not a TTY or NO_COLOR is set.
public struct TerminalStyle: Sendable {
    public var colour: Bool

    public init(colour: Bool) { self.colour = colour }

    public static var forStandardOutput: TerminalStyle {
        TerminalStyle(colour: isatty(STDOUT_FILENO) == 1 && getenv("NO_COLOR") == nil)
    }

    public func green(_ s: String) -> String { paint(s, "32") }
    public func red(_ s: String) -> String { paint(s, "31") }
    public func yellow(_ s: String) -> String { paint(s, "33") }
    public func dim(_ s: String) -> String { paint(s, "2") }
    public func bold(_ s: String) -> String { paint(s, "1") }

    private func paint(_ s: String, _ code: String) -> String {
        colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
    }
}
