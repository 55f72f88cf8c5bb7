import Foundation
import SondaCore
import TestSupport
import Testing

/// The Debian packages of `make package` (docs/packages.md), built by the same script from the
/// debug binaries (a release build takes minutes; the script is what is under test here),
/// installed with dpkg on this machine, checked as an administrator would, removed and purged.
/// It changes the machine, so it runs as root only, one run at a time (a lock under /tmp), never
/// over an installation it did not make, and purges what it installed even when a check fails.
@Suite struct PackageInstallTests {
    static let packages = ["sonda-common", "sonda-agent", "sonda-aggregator"]
    static let stateDirectories = ["/var/lib/sonda", "/var/lib/sonda-aggregator"]
    /// Exists while a run of this test has packages installed; it holds whether the user `sonda`
    /// existed before. Found by a later run (holding the lock), it means a run died midway.
    static let marker = "/tmp/sonda-package-test.installed"
    static let version = SondaVersion.current + "-1"
    static let binaries = URL(fileURLWithPath: TLSLab.builtBinary("sonda-agent")).deletingLastPathComponent().path
    static let manualGenerator = binaries + "/generate-manual"

    @Test(
        .enabled(if: getuid() == 0, "installs packages with dpkg, so it needs root (CI runs as root)"),
        .enabled(
            if: DeployTests.tool("dpkg-shlibdeps") != nil,
            "needs dpkg-shlibdeps: apt-get install dpkg-dev (make test does)"),
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: manualGenerator),
            "needs swift-argument-parser's generate-manual: swift build --product generate-manual (make test does)"))
    func packagesInstallRunAndPurgeCleanly() async throws {
        let lock = try await MachineLock.acquire("/tmp/sonda-package-test.lock", timeout: .seconds(1800))
        defer { lock.release() }
        guard try await Self.machineIsOurs() else { return }
        let work = try DeployTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let debs = try await Self.build(into: work)
        try await Self.checkControlFields(debs)

        let userExisted = getpwnam("sonda") != nil
        try "\(userExisted)".write(toFile: Self.marker, atomically: true, encoding: .utf8)
        var failure: (any Error)?
        do {
            try await Self.installCheckRemoveAndPurge(debs)
        } catch {
            failure = error
        }
        await Self.restoreMachine(removeUser: !userExisted)
        #expect(try await Self.installedPackages().isEmpty)
        if let failure { throw failure }
    }

    static func build(into directory: String) async throws -> [String] {
        // Uncompressed: compressing the debug binaries would take most of the test's time.
        let run = try await ChildProcess.run(
            TLSLab.packageRoot.path + "/scripts/package-debs",
            ["--bin-dir", binaries, "--out", directory, "--compression", "none", "--allow-dynamic-swift-runtime"])
        try #require(run.status == 0, "\(run.stdout)\(run.stderr)")
        let debs = packages.map { "\(directory)/\($0)_\(version)_\($0 == "sonda-common" ? "all" : "amd64").deb" }
        #expect(run.lines == debs, "the script prints the packages it wrote")
        return debs
    }

    static func checkControlFields(_ debs: [String]) async throws {
        for (package, deb) in zip(packages, debs) {
            let fields = try await ChildProcess.run("/usr/bin/dpkg-deb", ["--info", deb]).stdout
            #expect(fields.contains(" Package: \(package)\n"), "\(fields)")
            #expect(fields.contains(" Version: \(version)\n"), "\(fields)")
            #expect(fields.contains(" Maintainer: "), "\(fields)")
            #expect(fields.contains(" Description: "), "\(fields)")
            let depends = fields.firstMatch(of: /\n Depends: (.*)\n/).map { String($0.1) } ?? ""
            switch package {
            case "sonda-common":
                #expect(depends == "adduser")
            default:
                #expect(depends.hasPrefix("sonda-common (= \(version)), "), "\(depends)")
                // Found by dpkg-shlibdeps in the binaries; the toolchain's Swift runtime is no package.
                #expect(depends.contains("libc6 (>= "), "\(depends)")
                #expect(!depends.lowercased().contains("swift"), "\(depends)")
            }
            if package == "sonda-agent" {
                // pack-relative-relocs: the loader must read RELR, which glibc does from 2.36.
                #expect(depends.contains("libc6 (>= 2.36)") && depends.contains("libcurl4"), "\(depends)")
            }
            if package == "sonda-aggregator" { #expect(depends.contains("libsqlite3-0"), "\(depends)") }
        }
    }

    static func installCheckRemoveAndPurge(_ debs: [String]) async throws {
        let shipped = try await shippedPaths(debs)
        let existedBefore = Set(shipped.filter { FileManager.default.fileExists(atPath: $0) })
        let install = try await dpkg(["--install"] + debs)
        try #require(install.status == 0, "\(install.stdout)\(install.stderr)")
        #expect(try await installedPackages() == Set(packages))

        try await checkTheInstallation()
        try await checkTheToolsRun()

        let remove = try await dpkg(["--remove", "sonda-agent", "sonda-aggregator"])
        #expect(remove.status == 0, "\(remove.stdout)\(remove.stderr)")
        for path in ["/usr/bin/sonda-agent", "/lib/systemd/system/sonda-aggregator.service"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) is left after dpkg --remove")
        }
        // Remove keeps configuration and data for a reinstall; purge deletes them.
        for path in ["/etc/sonda/agent.yaml", "/etc/sonda/aggregator.yaml"] + stateDirectories {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) is gone after dpkg --remove")
        }
        let purge = try await dpkg(["--purge"] + packages)
        #expect(purge.status == 0, "\(purge.stdout)\(purge.stderr)")
        #expect(!purge.stderr.contains("warning"), "\(purge.stderr)")
        #expect(try await installedPackages().isEmpty)
        for path in shipped + stateDirectories + ["/etc/sonda"] {
            #expect(
                FileManager.default.fileExists(atPath: path) == existedBefore.contains(path),
                "\(path) after the purge: the machine should be as before the install")
        }
        #expect(getpwnam("sonda") != nil, "purge keeps the system user (docs/packages.md)")
    }

    static func checkTheInstallation() async throws {
        let expected = [
            "/usr/bin/sonda-agent": "root:root 755", "/usr/bin/sonda-aggregator": "root:root 755",
            "/etc/sonda": "root:root 755", "/etc/sonda/checks": "root:root 755",
            "/etc/sonda/agent.yaml": "root:root 644", "/etc/sonda/checks/clinic-api.yaml": "root:root 644",
            "/etc/sonda/aggregator.yaml": "root:root 644", "/etc/sonda/budgets.yaml": "root:root 644",
            "/lib/systemd/system/sonda-agent.service": "root:root 644",
            "/lib/systemd/system/sonda-aggregator.service": "root:root 644",
            "/var/lib/sonda": "sonda:sonda 700", "/var/lib/sonda-aggregator": "sonda:sonda 700",
            "/usr/share/man/man1/sonda-agent.1.gz": "root:root 644",
            "/usr/share/man/man1/sonda-aggregator.1.gz": "root:root 644",
            "/usr/share/bash-completion/completions/sonda-agent": "root:root 644",
            "/usr/share/zsh/vendor-completions/_sonda-aggregator": "root:root 644",
            "/usr/share/fish/vendor_completions.d/sonda-agent.fish": "root:root 644",
            "/usr/share/doc/sonda-agent/copyright": "root:root 644",
        ]
        let stat = try await ChildProcess.run("/usr/bin/stat", ["-c", "%n %U:%G %a"] + expected.keys.sorted())
        #expect(stat.status == 0, "\(stat.stderr)")
        var actual: [String: String] = [:]
        for line in stat.lines {
            let parts = line.split(separator: " ", maxSplits: 1)
            actual[String(parts[0])] = String(parts[1])
        }
        for (path, ownership) in expected {
            #expect(actual[path] == ownership, "\(path): \(actual[path] ?? "missing")")
        }

        let user = try #require(getpwnam("sonda")?.pointee)
        #expect(user.pw_uid < 1000, "a system user")
        #expect(String(cString: user.pw_shell) == "/usr/sbin/nologin")
        let conffiles = try await ChildProcess.run(
            "/usr/bin/dpkg-query", ["--show", "--showformat=${Conffiles}\n"] + packages
        ).stdout
        for file in ["agent.yaml", "checks/clinic-api.yaml", "aggregator.yaml", "budgets.yaml"] {
            #expect(conffiles.contains(" /etc/sonda/\(file) "), "\(file) is a conffile: \(conffiles)")
        }

        for unit in ["sonda-agent", "sonda-aggregator"] {
            let text = try String(contentsOfFile: "/lib/systemd/system/\(unit).service", encoding: .utf8)
            let settings = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(settings.contains("User=sonda") && settings.contains("Group=sonda"))
            #expect(!settings.contains { $0.hasPrefix("DynamicUser") || $0.contains("/usr/local/") })
            #expect(text.contains("\nExecStartPre=/usr/bin/\(unit) validate /etc/sonda/"))
            #expect(text.contains("\nProtectSystem=strict\n") && text.contains("\nNoNewPrivileges=yes\n"))
            #expect(
                !FileManager.default.fileExists(atPath: "/etc/systemd/system/multi-user.target.wants/\(unit).service"),
                "the package does not enable \(unit)")
        }
        let verify = try await ChildProcess.run(
            try #require(DeployTests.tool("systemd-analyze")),
            ["verify", "/lib/systemd/system/sonda-agent.service", "/lib/systemd/system/sonda-aggregator.service"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(!verify.stderr.contains("sonda-"), "\(verify.stderr)")
    }

    /// The binaries as installed, run as the service's user the way the units run them.
    static func checkTheToolsRun() async throws {
        let version = try await ChildProcess.run("/usr/bin/sonda-agent", ["--version"])
        #expect(version.stdout == SondaVersion.current + "\n", "\(version.stderr)")
        let agent = try await ChildProcess.run(
            "/usr/sbin/runuser", ["-u", "sonda", "--", "/usr/bin/sonda-agent", "validate", "/etc/sonda/agent.yaml"])
        #expect(agent.status == 0, "\(agent.stdout)\(agent.stderr)")
        #expect(agent.stdout.contains("agent sp-clinic-01 (sao_paulo)"), "\(agent.stdout)")
        let aggregator = try await ChildProcess.run(
            "/usr/sbin/runuser",
            [
                "-u", "sonda", "--", "/usr/bin/env", "SONDA_READ_TOKEN=read-token-0123456789",
                "SONDA_WEBHOOK_SECRET=webhook-secret-0123", "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T/B/x",
                "/usr/bin/sonda-aggregator", "validate", "/etc/sonda/aggregator.yaml",
            ])
        #expect(aggregator.status == 0, "\(aggregator.stdout)\(aggregator.stderr)")
        #expect(aggregator.stdout.contains("2 agents, 11 budget rules"), "\(aggregator.stdout)")

        let manual = try await ChildProcess.run("/usr/bin/gzip", ["-dc", "/usr/share/man/man1/sonda-agent.1.gz"]).stdout
        #expect(manual.contains(".Dt SONDA-AGENT 1") && manual.contains("validate"), "\(manual.prefix(400))")
        let bash = try String(contentsOfFile: "/usr/share/bash-completion/completions/sonda-agent", encoding: .utf8)
        let bashCompletesSubcommands = bash.contains("keygen") && bash.contains("validate")
        #expect(bashCompletesSubcommands)
        let zsh = try String(contentsOfFile: "/usr/share/zsh/vendor-completions/_sonda-aggregator", encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef sonda-aggregator"))
        let fish = try String(contentsOfFile: "/usr/share/fish/vendor_completions.d/sonda-agent.fish", encoding: .utf8)
        let fishCompletesTheAgent = fish.contains("complete -c 'sonda-agent'")
        #expect(fishCompletesTheAgent)
    }

    /// Every path in the packages' data, files and directories alike (`dpkg-deb --contents`).
    static func shippedPaths(_ debs: [String]) async throws -> [String] {
        var paths: [String] = []
        for deb in debs {
            let listing = try await ChildProcess.run("/usr/bin/dpkg-deb", ["--contents", deb])
            #expect(listing.status == 0, "\(listing.stderr)")
            for line in listing.lines {
                guard let last = line.split(separator: " ").last, last != "./" else { continue }
                let path = String(last.dropFirst()).replacing(/\/$/, with: "")
                paths.append(path)
            }
        }
        return paths
    }

    /// The sonda packages dpkg knows as anything other than not installed.
    static func installedPackages() async throws -> Set<String> {
        let query = try await ChildProcess.run(
            "/usr/bin/dpkg-query", ["--show", "--showformat=${Package} ${db:Status-Status}\n"] + packages)
        return Set(
            query.lines.compactMap { line in
                let parts = line.split(separator: " ")
                return parts.count == 2 && parts[1] != "not-installed" ? String(parts[0]) : nil
            })
    }

    /// True if the machine has no Sonda installation this test did not make: otherwise it records
    /// why it does not run. A run that died midway (the marker) is cleaned up first.
    static func machineIsOurs() async throws -> Bool {
        if let left = try? String(contentsOfFile: marker, encoding: .utf8) {
            await restoreMachine(removeUser: left == "false")
        }
        let installed = try await installedPackages()
        if !installed.isEmpty {
            Issue.record(
                """
                \(installed.sorted()) installed on this machine, not by this test, which would install over \
                and purge them: it does not run (dpkg --purge \(packages.joined(separator: " ")) lets it)
                """)
            return false
        }
        for path in ["/etc/sonda"] + stateDirectories where FileManager.default.fileExists(atPath: path) {
            Issue.record("\(path) exists (a manual install from deploy/README.md?): this test would install over it")
            return false
        }
        return true
    }

    /// Purges the packages and removes what they made; only called when none of it was there
    /// before (`machineIsOurs`).
    static func restoreMachine(removeUser: Bool) async {
        _ = try? await dpkg(["--purge"] + packages)
        for path in ["/etc/sonda"] + stateDirectories { try? FileManager.default.removeItem(atPath: path) }
        if removeUser {
            if getpwnam("sonda") != nil { _ = try? await ChildProcess.run("/usr/sbin/userdel", ["sonda"]) }
            if getgrnam("sonda") != nil { _ = try? await ChildProcess.run("/usr/sbin/groupdel", ["sonda"]) }
        }
        unlink(marker)
    }

    /// dpkg, waiting while another dpkg or apt-get on the machine holds dpkg's lock.
    static func dpkg(_ arguments: [String]) async throws -> ChildProcess.Output {
        let environment = ["DEBIAN_FRONTEND": "noninteractive"]
        var output = try await ChildProcess.run("/usr/bin/dpkg", arguments, environment: environment)
        _ = await eventually(timeout: .seconds(600), every: .seconds(1)) {
            guard output.status != 0, output.stderr.contains("locked by another process") else { return true }
            output = (try? await ChildProcess.run("/usr/bin/dpkg", arguments, environment: environment)) ?? output
            return false
        }
        return output
    }
}
