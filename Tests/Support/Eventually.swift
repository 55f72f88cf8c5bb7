import Foundation

/// How long a test waits for something bound to happen (a port, a log line, a delivery, an exit):
/// far longer than it takes on a loaded two-core machine, so only a real hang fails, and fails
/// instead of blocking CI. Waits end as soon as the thing happens. (With two CI runs on the machine
/// the parallel phase took 380 s, and a test that takes 3 s alone took 140 s in it.)
public let generousTimeout: Duration = .seconds(300)

/// Polls `condition` every `every` until it holds or `timeout` passes; true if it held.
public func eventually(
    timeout: Duration = generousTimeout, every: Duration = .milliseconds(250), _ condition: () async -> Bool
) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: every)
    }
    return await condition()
}
