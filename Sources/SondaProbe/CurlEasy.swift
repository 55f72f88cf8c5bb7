import CCurl
import SondaCore

/// One libcurl easy handle. Not thread-safe: a handle belongs to one probe worker thread.
/// Keeping it across probes keeps libcurl's parsed CA store, which is most of a probe's CPU.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    let certificates = CertificateCache()
    /// CURLOPT_ERRORBUFFER's memory: allocated with the handle and freed only after
    /// `curl_easy_cleanup`, so libcurl can write into it at any time the handle points at it.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private static let errorBufferSize = Int(CURL_ERROR_SIZE) + 1

    private static let globalInit: Void = {
        OpenSSLAtExit.skip()
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    init() {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
        errorBuffer = .allocate(capacity: Self.errorBufferSize)
        errorBuffer.initialize(repeating: 0, count: Self.errorBufferSize)
        // The first transfer on a handle creates the multi handle that curl_easy_perform keeps for
        // it, with a wake-up socket pair. A perform with no URL creates it now and fails at once
        // (CURLE_URL_MALFORMAT, no network): a worker first used under load, hours into a run,
        // then opens no descriptors, and the soak's bound on open fds can tell a leak.
        _ = curl_easy_perform(handle)
    }

    deinit {
        curl_easy_cleanup(handle)
        curl_slist_free_all(resolveList)
        errorBuffer.deallocate()
    }

    /// Has libcurl write the next transfer's error message into the handle's own buffer, emptied
    /// first (after `reset`, which forgets the option).
    func collectErrorMessage() {
        errorBuffer[0] = 0
        set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
    }

    /// libcurl's message for the last transfer since `collectErrorMessage`; empty when it wrote none.
    var errorMessage: String { String(cString: errorBuffer) }

    /// Set once a flow has turned libcurl's cookie engine on. curl_easy_reset keeps the engine and
    /// its cookies, so from then on every probe that is not a flow step empties the jar first.
    private(set) var hasCookieEngine = false

    func reset() { curl_easy_reset(handle) }

    /// `host:port` entries the handle's DNS cache holds from an earlier probe's `resolve`. The
    /// cache outlives curl_easy_reset, so the next probe removes them unless it sets them again.
    private var overridden: Set<String> = []
    private var resolveList: UnsafeMutablePointer<curl_slist>?

    /// Sets the next transfer's host overrides (after `reset`), and drops an earlier probe's.
    func resolve(_ overrides: [HostOverride]) {
        let wanted = Set(overrides.map { "\($0.host):\($0.port)" })
        guard !overrides.isEmpty || !overridden.isEmpty else { return }
        curl_slist_free_all(resolveList)
        resolveList = nil
        for stale in overridden.subtracting(wanted) { resolveList = curl_slist_append(resolveList, "-\(stale)") }
        for override in overrides { resolveList = curl_slist_append(resolveList, override.curlEntry) }
        overridden = wanted
        // libcurl reads the list when the transfer starts; it stays allocated until the next call or deinit.
        sonda_setopt_slist(handle, CURLOPT_RESOLVE, resolveList)
    }

    /// Turns the cookie engine on for the next transfer (after `reset`): Set-Cookie is stored, and
    /// matching cookies are sent.
    func useCookieJar() {
        set(CURLOPT_COOKIEFILE, "")
        hasCookieEngine = true
    }

    /// Forgets every cookie the handle holds.
    func clearCookies() {
        if hasCookieEngine { set(CURLOPT_COOKIELIST, "ALL") }
    }

    func set(_ option: CURLoption, _ value: Int) { sonda_setopt_long(handle, option, value) }
    func set(_ option: CURLoption, _ value: Bool) { sonda_setopt_long(handle, option, value ? 1 : 0) }
    func set(_ option: CURLoption, _ value: String?) {
        // libcurl copies strings passed to setopt, so the temporary C string may go away afterwards.
        if let value { sonda_setopt_string(handle, option, value) } else { sonda_setopt_string(handle, option, nil) }
    }
    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) { sonda_setopt_pointer(handle, option, pointer) }

    func perform() -> CURLcode { curl_easy_perform(handle) }

    func long(_ info: CURLINFO) -> Int {
        var value = 0
        sonda_getinfo_long(handle, info, &value)
        return value
    }

    func microseconds(_ info: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        sonda_getinfo_off_t(handle, info, &value)
        return Int64(value)
    }

    func string(_ info: CURLINFO) -> String? {
        var value: UnsafePointer<CChar>?
        guard sonda_getinfo_string(handle, info, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }

    static func describe(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }
}

/// OpenSSL frees its global state in an exit handler, and a thread that used it frees its own
/// in a destructor when it exits: when the process exits while such a thread is still ending, the
/// two race, and the thread touches freed memory (ci33: `sonda-agent run` stopped cleanly, then
/// SIGSEGV in libcrypto on the reporter thread while the main thread ran the exit handlers). The
/// process is ending anyway, so OpenSSL is told to skip that cleanup. Call it before anything
/// else initialises OpenSSL; later calls change nothing.
public enum OpenSSLAtExit {
    public static func skip() { _ = sonda_openssl_init_without_atexit() }
}
