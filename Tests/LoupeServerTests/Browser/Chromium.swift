import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A headless Chromium for browser tests, started in a process group of its own so that `stop()` ends
/// it together with its renderer and GPU helpers.
///
/// ```swift
/// let chromium = try await Chromium.launch()
/// defer { chromium.stop() }
/// try await DevToolsConnection.connect(to: chromium.devToolsURL) { devTools in ... }
/// ```
final class Chromium: Sendable {
    let pid: pid_t
    /// The browser's DevTools endpoint, `ws://127.0.0.1:PORT/devtools/browser/ID`.
    let devToolsURL: URL
    /// A temporary folder with the browser profile and `chromium.log` (its stdout and stderr).
    let folder: URL

    private init(pid: pid_t, devToolsURL: URL, folder: URL) {
        self.pid = pid
        self.devToolsURL = devToolsURL
        self.folder = folder
    }

    /// The browser to run: `$LOUPE_CHROMIUM`, else the first of the usual names on `$PATH`.
    static func executable() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let given = environment["LOUPE_CHROMIUM"], !given.isEmpty { return given }
        let folders = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return "\(folder)/\(name)"
            }
        }
        throw BrowserError(
            "headless Chromium is not installed, and the browser tests drive the web page in it: run scripts/bootstrap "
                + "(make test does), or `apt-get install chromium`, or point LOUPE_CHROMIUM at a Chromium binary")
    }

    /// Starts Chromium on an ephemeral DevTools port and waits until it listens.
    static func launch(timeout: Duration = .seconds(60)) async throws -> Chromium {
        let executable = try executable()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-chromium-\(UUID().uuidString)")
        let profile = folder.appendingPathComponent("profile")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        let log = folder.appendingPathComponent("chromium.log")
        let arguments = [
            executable, "--headless=new", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            "--user-data-dir=\(profile.path)", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
            "--disable-dev-shm-usage", "--disable-gpu", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--mute-audio", "--autoplay-policy=no-user-gesture-required",
            "--hide-scrollbars", "--window-size=1280,900", "about:blank",
        ]
        let pid = try spawn(arguments, output: log.path)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.contains("DevTools listening on ws://") }),
               let start = line.range(of: "ws://"), let url = URL(string: String(line[start.lowerBound...]))
            {
                return Chromium(pid: pid, devToolsURL: url, folder: folder)
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                try? FileManager.default.removeItem(at: folder)
                throw BrowserError("Chromium (\(executable)) exited with status \(status) before it listened:\n\(text.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        Self.end(pid)
        try? FileManager.default.removeItem(at: folder)
        throw BrowserError("Chromium did not announce its DevTools endpoint within \(timeout):\n\(text.suffix(2000))")
    }

    /// Ends the browser and its helpers (SIGTERM, then SIGKILL after 5 s) and removes its profile.
    func stop() {
        Self.end(pid)
        try? FileManager.default.removeItem(at: folder)
    }

    private static func end(_ pid: pid_t) {
        kill(-pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || reaped == -1 {
                kill(-pid, SIGKILL)  // helpers that outlived the browser process
                return
            }
            usleep(50_000)
        }
        kill(-pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
    }

    /// posix_spawn with stdin from /dev/null, stdout and stderr to `output`, in a new process group.
    private static func spawn(_ arguments: [String], output: String) throws -> pid_t {
        #if canImport(Darwin)
        var actions: posix_spawn_file_actions_t? = nil
        var attributes: posix_spawnattr_t? = nil
        #else
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = arguments.map { strdup($0) } + [nil]
        let environment = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + environment).forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environment)
        guard result == 0 else {
            throw BrowserError("could not start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }
}

/// A failure of the browser harness, with a message that says what to do about it.
struct BrowserError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
