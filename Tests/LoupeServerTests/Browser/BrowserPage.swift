import Foundation

/// One browser tab driven through DevTools: navigate, type, press keys, run JavaScript, wait for a
/// condition, attach files to an `<input type=file>`, and take screenshots.
struct BrowserPage: Sendable {
    let devTools: DevToolsConnection
    let session: String

    /// Opens a new tab at `about:blank` with the given viewport.
    static func open(in devTools: DevToolsConnection, width: Int = 1280, height: Int = 900) async throws -> BrowserPage {
        let target = try await devTools.send("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw BrowserError("Target.createTarget gave no targetId") }
        let attached = try await devTools.send("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw BrowserError("Target.attachToTarget gave no sessionId") }
        let page = BrowserPage(devTools: devTools, session: session)
        for domain in ["Page", "Runtime", "Log"] { try await page.send("\(domain).enable") }
        try await page.setViewport(width: width, height: height)
        return page
    }

    @discardableResult
    func send(_ method: String, _ parameters: [String: Any] = [:], timeout: Duration = .seconds(60)) async throws
        -> [String: Any]
    {
        try await devTools.send(method, parameters, session: session, timeout: timeout)
    }

    /// Sets the viewport; `mobile` also turns on touch-style layout (meta viewport, no hover).
    func setViewport(width: Int, height: Int, scale: Double = 1, mobile: Bool = false) async throws {
        try await send("Emulation.setDeviceMetricsOverride",
                       ["width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile])
    }

    /// Loads `url` and waits until the new document has loaded (the old one is marked so that its
    /// `readyState` does not pass for the new one's).
    func navigate(_ url: String) async throws {
        _ = try? await evaluate("window.__loupeLeaving = true")
        let answer = try await send("Page.navigate", ["url": url])
        if let error = answer["errorText"] as? String { throw BrowserError("could not load \(url): \(error)") }
        try await waitUntil("!window.__loupeLeaving && document.readyState === 'complete'", "\(url) to load")
    }

    /// The value of a JavaScript expression (promises are awaited); throws what the page threw.
    @discardableResult
    func evaluate(_ expression: String) async throws -> Any? {
        let answer = try await send("Runtime.evaluate",
                                    ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let details = answer["exceptionDetails"] as? [String: Any] {
            let exception = details["exception"] as? [String: Any]
            throw BrowserError("the page threw on `\(expression)`: \(exception?["description"] ?? details["text"] ?? details)")
        }
        return (answer["result"] as? [String: Any])?["value"]
    }

    func string(_ expression: String) async throws -> String { try await evaluate(expression) as? String ?? "" }
    func number(_ expression: String) async throws -> Double { try await evaluate(expression) as? Double ?? .nan }

    /// Polls `condition` (a JavaScript expression) every 100 ms until it is truthy; `what` names it in the
    /// failure, which also carries what the page reported (errors, `#error` banner).
    func waitUntil(_ condition: String, _ what: String, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastProblem = ""
        while ContinuousClock.now < deadline {
            do {
                if let value = try await evaluate("Boolean(\(condition))") as? Bool, value { return }
            } catch {
                lastProblem = "\(error)"  // e.g. the page is between documents
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let banner = (try? await string("(document.querySelector('#error:not([hidden])') || {}).textContent || ''")) ?? ""
        var message = "timed out after \(timeout) waiting for \(what) (`\(condition)`)"
        if !banner.isEmpty { message += "; the page shows the error: \(banner)" }
        if !lastProblem.isEmpty { message += "; last evaluation error: \(lastProblem)" }
        let pageErrors = devTools.pageErrors
        if !pageErrors.isEmpty { message += "; page errors: \(pageErrors.joined(separator: " | "))" }
        throw BrowserError(message)
    }

    /// Types text into the focused element as a user would (input events included).
    func type(_ text: String) async throws {
        try await send("Input.insertText", ["text": text])
    }

    /// Presses and releases a key: "/", "Enter", "Escape", "ArrowDown", "ArrowRight", ...
    func press(_ key: String) async throws {
        let codes: [String: (code: String, keyCode: Int, text: String?)] = [
            "/": ("Slash", 191, "/"), "Enter": ("Enter", 13, "\r"), "Escape": ("Escape", 27, nil),
            "ArrowLeft": ("ArrowLeft", 37, nil), "ArrowUp": ("ArrowUp", 38, nil),
            "ArrowRight": ("ArrowRight", 39, nil), "ArrowDown": ("ArrowDown", 40, nil),
        ]
        guard let info = codes[key] else { throw BrowserError("press: no key code for '\(key)'") }
        var down: [String: Any] = ["type": "keyDown", "key": key, "code": info.code, "windowsVirtualKeyCode": info.keyCode]
        if let text = info.text { down["text"] = text }
        try await send("Input.dispatchKeyEvent", down)
        try await send("Input.dispatchKeyEvent",
                       ["type": "keyUp", "key": key, "code": info.code, "windowsVirtualKeyCode": info.keyCode])
    }

    /// Clicks the first element matching `selector` (through the DOM, so it need not be on screen).
    func click(_ selector: String) async throws {
        let quoted = try Self.jsString(selector)
        let found = try await evaluate("(() => { const e = document.querySelector(\(quoted)); if (!e) return false; e.click(); return true })()")
        guard found as? Bool == true else { throw BrowserError("click: nothing matches \(selector)") }
    }

    /// Attaches local files to the `<input type=file>` matching `selector`; the page gets its `change` event.
    func setFiles(_ selector: String, _ paths: [String]) async throws {
        let answer = try await send("Runtime.evaluate", ["expression": "document.querySelector(\(try Self.jsString(selector)))"])
        guard let object = answer["result"] as? [String: Any], let id = object["objectId"] as? String else {
            throw BrowserError("setFiles: nothing matches \(selector)")
        }
        try await send("DOM.setFileInputFiles", ["files": paths, "objectId": id])
    }

    /// Saves a PNG of the viewport to `folder/name.png` and returns its path.
    @discardableResult
    func screenshot(_ name: String, into folder: URL) async throws -> URL {
        let answer = try await send("Page.captureScreenshot", ["format": "png"])
        guard let base64 = answer["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw BrowserError("Page.captureScreenshot gave no PNG")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("\(name).png")
        try data.write(to: file)
        return file
    }

    /// `text` as a JavaScript string literal.
    static func jsString(_ text: String) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
    }
}
