import SondaCore
import Testing

/// A URL's userinfo password is found wherever it is written, and masked in what is shown.
@Suite struct URLPasswordTests {
    @Test(arguments: [
        ("https://probe:hunter2@api.example.com/health", "https://probe:[redacted]@api.example.com/health"),
        ("http://sonda:p%40ss@127.0.0.1:9470", "http://sonda:[redacted]@127.0.0.1:9470"),
        ("https://user@api.example.com/", "https://user@api.example.com/"),
        ("https://api.example.com/login?next=a:b@c", "https://api.example.com/login?next=a:b@c"),
        ("https://api.example.com/", "https://api.example.com/"),
        ("https://a:b:c@host/", "https://a:[redacted]@host/"),
        ("https://u:p@ss@host/x", "https://u:[redacted]@host/x"),
        ("https://clínica:señha@höst.example/", "https://clínica:[redacted]@höst.example/"),
        ("https://host/#frag:ment@x", "https://host/#frag:ment@x"),
        ("host:80", "host:80"),
        ("https://u:@host/", "https://u:@host/"),
    ])
    func thePasswordIsMasked(url: String, shown: String) {
        #expect(SecretRedactor.withoutPassword(url) == shown)
    }

    @Test func theRedactorMasksThePasswordAsWrittenAndDecoded() {
        var redactor = SecretRedactor()
        redactor.addPassword(of: "http://sonda:p%40ssw0rd@127.0.0.1:9470")
        #expect(redactor.redact("refused p%40ssw0rd and p@ssw0rd") == "refused [redacted] and [redacted]")
    }
}
