import Foundation
import SondaConfig
import Yams

// `validate` of a 500-check config set: SondaConfig's full load (YAML, validation, includes,
// diagnostics) against parsing the same files with Yams alone, in one process.
let checkCount = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 500
let files = 10
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sonda-config-bench-\(getpid())")
try FileManager.default.createDirectory(at: directory.appendingPathComponent("checks"), withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: directory) }

let classes = ["authentication", "patient_data", "appointment_booking", "treatment_planning", "reporting"]
for file in 0..<files {
    var text = "checks:\n"
    for index in 0..<(checkCount / files) {
        let name = "check-\(file)-\(index)"
        if index % 5 == 4 {
            text += """
                  - name: \(name)
                    class: appointment_booking
                    interval: 2m
                    timeout: 10s
                    steps:
                      - name: login
                        http: {url: "https://api.example.com.br/login", method: POST, body: '{"u":"probe"}'}
                        extract: {token: {json: "$.token"}}
                      - name: slots
                        http: {url: "https://api.example.com.br/slots", headers: {Authorization: "Bearer ${token}"}}
                        expect: {status: 200, json: {"$.slots": {exists: true}}, max: {wait: 300ms}}

                """
        } else {
            text += """
                  - name: \(name)
                    class: \(classes[index % classes.count])
                    interval: 30s
                    timeout: 5s
                    retries: 1
                    http: {url: "https://api.example.com.br/v1/\(name)", headers: {Accept: application/json}}
                    expect: {status: [200, 204], headers: {Content-Type: {contains: json}}}
                    tls: {min_version: "1.3", expiry_warning: 21d, expiry_critical: 7d}

                """
        }
    }
    try text.write(to: directory.appendingPathComponent("checks/api-\(file).yaml"), atomically: true, encoding: .utf8)
}
let agentFile = directory.appendingPathComponent("agent.yaml")
try """
    agent: {id: bench-01, region: sao_paulo}
    profiles: [desktop_brazil, mobile_4g_brazil, mobile_3g_brazil]
    include: [checks/*.yaml]
    """.write(to: agentFile, atomically: true, encoding: .utf8)
let paths = (0..<files).map { directory.appendingPathComponent("checks/api-\($0).yaml").path } + [agentFile.path]

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

var yamsTimes: [Double] = []
var sondaTimes: [Double] = []
var loadedChecks = 0
for _ in 0..<7 {
    yamsTimes.append(try seconds {
        for path in paths { _ = try Yams.compose(yaml: try String(contentsOfFile: path, encoding: .utf8)) }
    })
    sondaTimes.append(seconds {
        var loader = ConfigLoader(environment: [:])
        let agent = loader.loadAgent(path: agentFile.path)
        precondition(loader.diagnostics.isEmpty, "\(loader.diagnostics)")
        loadedChecks = agent?.checks.count ?? 0
    })
}
precondition(loadedChecks == checkCount, "loaded \(loadedChecks) checks")
let sonda = median(sondaTimes) * 1000
let yams = median(yamsTimes) * 1000
print(String(format: "config_validate_%d_ms %.1f %.1f %.2f <=200ms", checkCount, sonda, yams, sonda / yams))
