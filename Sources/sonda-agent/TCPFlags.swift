import ArgumentParser
import SondaCLI
import SondaCore
import SondaProbe

/// `probe tcp://host:port`'s flags: TLS, what to send and what the reply must hold (the escapes
/// of a `tcp` check's `send` and `expect`: \r \n \t \0 \\ \xHH).
struct TCPFlags: ParsableArguments {
    @Flag(name: .customLong("tls"), help: "tcp://: run a TLS handshake (under --tls-min, --spki-pin) before --send.")
    var usesTLS = false

    @Option(help: ArgumentHelp("tcp://: text to send once connected, e.g. 'PING\\r\\n'.", valueName: "text"))
    var send: String?

    @Option(help: ArgumentHelp("tcp://: text the reply must contain, e.g. '220 '.", valueName: "text"))
    var expect: String?

    /// Puts the flags into a tcp:// target; any of them with another kind of URL is a usage error.
    func apply(to target: inout ProbeTarget) throws {
        guard case .tcp = target.kind else {
            if usesTLS || send != nil || expect != nil {
                throw CommandFailure(message: "--tls, --send and --expect go with a tcp://host:port URL")
            }
            return
        }
        if usesTLS { target.url = "https" + target.url.dropFirst("http".count) }
        let exchange = TCPExchange(
            send: try send.map { try bytes($0, "--send") }, expect: try expect.map { try bytes($0, "--expect") })
        if exchange.expect?.isEmpty == true { throw CommandFailure(message: "--expect must not be empty") }
        target.kind = .tcp(exchange)
    }

    private func bytes(_ text: String, _ flag: String) throws -> [UInt8] {
        do {
            return try ByteEscapes.decode(text)
        } catch {
            throw CommandFailure(message: "\(flag): \(error.message) (at character \(error.offset + 1))")
        }
    }
}
