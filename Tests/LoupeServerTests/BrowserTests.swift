import Foundation
import Testing
@testable import LoupeServer

/// Drives the web page in headless Chromium against a real server over the shapes library, as a person
/// would: type, look at the grid, search by a picture, play a video moment, index a folder. Screenshots
/// land in `.build/screenshots/` for a human to look at.
@Suite("Web page in a browser", .serialized, .stopsTestServers)
struct BrowserTests {
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/screenshots")

    /// Starts Chromium, opens a tab and runs `body`; Chromium is ended whatever happens.
    private func withBrowser(_ body: (BrowserPage, DevToolsConnection) async throws -> Void) async throws {
        let chromium = try await Chromium.launch()
        defer { chromium.stop() }
        try await DevToolsConnection.connect(to: chromium.devToolsURL) { devTools in
            let page = try await BrowserPage.open(in: devTools)
            try await body(page, devTools)
            let uncaught = devTools.pageErrors.filter { $0.hasPrefix("uncaught") }
            #expect(uncaught.isEmpty, "the page threw: \(uncaught.joined(separator: "\n"))")
        }
    }

    @Test("the page ends 'a red circle' at the score cliff: only the red circles and their moment, until 'Show all results'")
    func autocutPage() async throws {
        let server = try await TestServer.start()
        try await withBrowser { page, _ in
            try await page.navigate(server.url("/?q=a+red+circle"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            try await page.waitUntil("/result/.test(document.querySelector('#count').textContent)", "results for 'a red circle'")
            let names = try await page.string("[...document.querySelectorAll('#results .card .name')].map(n => n.textContent).join('|')")
            let badges = try await page.string("[...document.querySelectorAll('#results .badge')].map(n => n.textContent).join('|')")
            let shown = names.split(separator: "|").map(String.init)
            let redCircles = server.pictures.filter { $0.colour == .red && $0.shape == .circle }.map(\.url.lastPathComponent)
            #expect(Set(shown) == Set(redCircles + ["scenes.mp4"]), "the default page shows \(shown)")
            // The video result is its red-circle moment (8-12 s).
            #expect(badges.contains("0:08") && badges.contains("0:12"), "the moment shown is \(badges)")
            let count = try await page.string("document.querySelector('#count').textContent")
            #expect(count.contains("2 pictures") && count.contains("1 video moment"), "count line: \(count)")
            // Each score has a bar and a tooltip that explains it.
            let tooltip = try await page.string("document.querySelector('#results .relevance').title")
            #expect(tooltip.contains("cosine similarity") && tooltip.contains("sharp drop"), "tooltip: \(tooltip)")
            let width = try await page.number("parseFloat(document.querySelector('#results .relevance-bar span').style.width)")
            #expect(width == 100, "the best result's bar is full, not \(width)%")
            let button = try await page.string("document.querySelector('#show-all').hidden ? '' : document.querySelector('#show-all').textContent")
            #expect(button.contains("Show all results") && button.contains("\(server.pictures.count + 1 - 3) more"), "button: '\(button)'")
            try await waitForThumbnails(page)
            try await page.screenshot("10-autocut", into: Self.screenshots)

            try await page.click("#show-all")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === \(server.pictures.count + 1)",
                                     "every result after 'Show all results'")
            #expect(try await page.string("String(document.querySelector('#show-all').hidden)") == "true")
            let lower = try await page.string("document.querySelectorAll('#results .relevance')[3].title")
            #expect(lower.contains("Below"), "a result under the cliff says so: \(lower)")
            try await page.screenshot("11-show-all", into: Self.screenshots)

            // A new query is cut again.
            try await page.evaluate("document.querySelector('#q').focus(); document.querySelector('#q').select()")
            try await page.type("a blue square")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === 3", "'a blue square' cut at its cliff")
        }
    }

    @Test("search as you type, by keyboard, by an uploaded picture, and play a video moment")
    func searchFlows() async throws {
        let server = try await TestServer.start()
        try await withBrowser { page, _ in
            try await page.navigate(server.url("/"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            // With no query the page shows the library, and the header counts it.
            try await page.waitUntil("document.querySelectorAll('#results .card').length === \(server.pictures.count + 1)",
                                     "the library grid")
            let stats = try await page.string("document.querySelector('#stats').textContent")
            #expect(stats.contains("\(server.pictures.count) images") && stats.contains("1 video"), "header stats: \(stats)")
            try await waitForThumbnails(page)
            try await page.screenshot("01-library", into: Self.screenshots)

            // "/" focuses the search box; typing searches (debounced) and the grid answers.
            try await page.press("/")
            #expect(try await page.string("document.activeElement.id") == "q")
            try await page.type("a red circle")
            try await page.waitUntil("/result/.test(document.querySelector('#count').textContent)", "results for 'a red circle'")
            let top = try await page.string("document.querySelector('#results .card .name').textContent")
            #expect(top.hasPrefix("red-circle"), "the top result for 'a red circle' is \(top)")
            let scores = try await page.string("document.querySelector('#results .card .score').textContent")
            #expect(Double(scores) != nil, "a result card shows its score, not '\(scores)'")
            #expect(try await page.string("location.search").contains("q=a+red+circle"))
            try await waitForThumbnails(page)
            try await page.screenshot("02-text-search", into: Self.screenshots)

            // Arrow keys move through the grid; Enter opens the detail view; Escape closes it.
            try await page.press("ArrowDown")
            try await page.press("ArrowRight")
            let second = try await page.string("document.activeElement.querySelector('.name')?.textContent ?? ''")
            #expect(try await page.string("document.activeElement.dataset.index ?? ''") == "1")
            try await page.press("Enter")
            try await page.waitUntil("document.querySelector('#detail').open", "the detail view")
            #expect(try await page.string("document.querySelector('#detail-title').textContent") == second)
            let meta = try await page.string("document.querySelector('#detail-meta').textContent")
            #expect(meta.contains("SHA-256") && meta.contains(server.mediaFolder.path), "detail metadata: \(meta)")
            try await page.waitUntil("document.querySelector('#detail-media img').complete", "the full picture")
            try await page.screenshot("03-detail", into: Self.screenshots)
            try await page.press("Escape")
            try await page.waitUntil("!document.querySelector('#detail').open", "the detail view to close")

            // A picture given to the file input becomes the query: the same picture comes first.
            let blueSquare = try #require(server.pictures.first { $0.shape == .square && $0.colour == .blue })
            try await page.setFiles("#file", [blueSquare.url.path])
            try await page.waitUntil("document.querySelector('.chip.media') && /Picture/.test(document.querySelector('.chip.media').textContent)",
                                     "the picture chip")
            try await page.waitUntil(
                "document.querySelector('#results .card .name')?.textContent === \(try BrowserPage.jsString(blueSquare.url.lastPathComponent))",
                "the uploaded picture to be the top result")
            try await waitForThumbnails(page)
            try await page.screenshot("04-picture-search", into: Self.screenshots)

            // A subtracted term shows as a chip with its weight and still searches.
            try await page.click("#query-chips .chip-remove")
            try await page.evaluate("document.querySelector('#q').value = ''; document.querySelector('#q').focus()")
            try await page.type("a blue square")
            try await page.evaluate("document.querySelector('#term').focus()")
            try await page.type("a triangle")
            try await page.click("#term-form button.minus")
            try await page.waitUntil("document.querySelector('.chip.term.minus')", "the subtracted term chip")
            #expect(try await page.string("document.querySelector('.chip.term .weight').textContent") == "−0.50")

            // Videos only: the blue-square moment (4-8 s) comes first; its detail view plays from 4 s.
            try await page.click("#type [data-type=video]")
            try await page.waitUntil("document.querySelectorAll('#results .result').length > 0 && [...document.querySelectorAll('#results .result')].every(r => r.classList.contains('video'))",
                                     "video results")
            let badge = try await page.string("document.querySelector('#results .badge').textContent")
            #expect(badge.contains("0:04") && badge.contains("0:08"), "the top moment is \(badge), not 0:04–0:08")
            try await page.screenshot("05-video-moments", into: Self.screenshots)
            try await page.click("#results .card")
            try await page.waitUntil("document.querySelector('#detail').open && document.querySelector('#detail-media video')",
                                     "the video detail view")
            try await page.waitUntil(
                "(() => { const v = document.querySelector('#detail-media video'); if (v.error) throw new Error('video error ' + v.error.code + ' ' + v.error.message); return v.readyState >= 2 && v.currentTime >= 3.8 && v.currentTime <= 8.2 })()",
                "the video to seek to the moment's start", timeout: .seconds(45))
            try await page.waitUntil("document.querySelector('#detail-media video').currentTime > 4.3",
                                     "the moment to play", timeout: .seconds(45))
            let left = try await page.number("parseFloat(document.querySelector('#detail-media .range').style.left)")
            #expect(abs(left - 100.0 / 3) < 1, "the timeline marks 4 s of 12 s at \(left)%")
            try await page.screenshot("06-video-detail", into: Self.screenshots)
            try await page.press("Escape")
            try await page.waitUntil("!document.querySelector('#detail').open", "the detail view to close")

            // The card's play button plays the moment inline, from its start.
            try await page.click("#results .result .pill.play")
            try await page.waitUntil(
                "(() => { const v = document.querySelector('#results .inline-video'); return v && v.readyState >= 2 && v.currentTime >= 3.8 && v.currentTime <= 8.2 })()",
                "the inline video at the moment", timeout: .seconds(45))

            // "Every moment": the video's three scenes instead of its best one.
            #expect(try await page.number("document.querySelectorAll('#results .card').length") == 1)
            try await page.click("#moments")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === 3", "every moment of the video")
        }
    }

    @Test("index a folder with live progress, empty and error states, and a phone-sized layout")
    func indexingAndLayout() async throws {
        let server = try await TestServer.start(index: false, perClass: 1)
        try await withBrowser { page, _ in
            try await page.navigate(server.url("/"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            try await page.waitUntil("/library is empty/.test(document.querySelector('#empty').textContent)",
                                     "the empty-library state")
            try await page.screenshot("07-empty-library", into: Self.screenshots)

            // A bad path shows the API's message; a real folder indexes with progress over server-sent events.
            try await page.click("#empty a.button")
            try await page.waitUntil("!document.querySelector('#view-index').hidden", "the index view")
            try await page.evaluate("document.querySelector('#sources').value = '/no/such/folder'")
            try await page.click("#index-form button[type=submit]")
            try await page.waitUntil("/does not exist/.test(document.querySelector('#index-error').textContent)",
                                     "the API's error message")
            try await page.evaluate("document.querySelector('#sources').value = \(try BrowserPage.jsString(server.mediaFolder.path))")
            try await page.click("#index-form button[type=submit]")
            try await page.waitUntil("document.querySelector('#jobs .job.done')", "the job to finish", timeout: .seconds(120))
            let facts = try await page.string("document.querySelector('#jobs .job').textContent")
            #expect(facts.contains("\(server.pictures.count + 1) added"), "the finished job says: \(facts)")
            try await page.waitUntil("/\(server.pictures.count) images/.test(document.querySelector('#stats').textContent)",
                                     "the header to count the new images")
            try await page.screenshot("08-indexing", into: Self.screenshots)

            // The library a page at a time ("Show more"), then one file taken out of the index from its detail view.
            let items = server.pictures.count + 1
            try await page.navigate(server.url("/?per_page=12"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === 12", "the first page")
            let count = try await page.string("document.querySelector('#count').textContent")
            #expect(count.contains("12 of \(items)"), "the count says: \(count)")
            try await page.click("#more")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === \(items)", "the second page")
            #expect(try await page.number("document.querySelector('#more').hidden ? 1 : 0") == 1, "no third page")
            try await page.click("#results .card")
            try await page.waitUntil("document.querySelector('#detail').open", "the detail view")
            try await page.click("#detail-remove")
            try await page.waitUntil("document.querySelector('#detail-remove').classList.contains('armed')", "the second ask")
            try await page.click("#detail-remove")  // too soon after the first: taken as the same double click
            // A removal would disable the button at once, in the click's handler.
            #expect(try await page.number("document.querySelector('#detail-remove').disabled ? 1 : 0") == 0,
                    "a click within the double-click window must not remove")
            #expect(try await page.number("document.querySelectorAll('#results .card').length") == Double(items))
            try await page.waitUntil(
                "Date.now() - Number(document.querySelector('#detail-remove').dataset.armedAt) >= 400",
                "the double-click window to pass")
            try await page.click("#detail-remove")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === \(items - 1)", "the card to go")
            try await page.waitUntil("/removed/.test(document.querySelector('#count').textContent)", "the count to say so")
            let (_, left) = try await server.json(.GET, "/api/items?limit=1")
            #expect(left["total"] as? Int == items - 1)

            // No results, then a phone-sized layout: two columns of cards.
            try await page.navigate(server.url("/?q=a+red+circle"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            try await page.evaluate("document.querySelector('#after').value = '2999-01-01'; document.querySelector('#after').dispatchEvent(new Event('input'))")
            try await page.waitUntil("/No results/.test(document.querySelector('#empty').textContent)", "the no-results state")
            try await page.screenshot("09-no-results", into: Self.screenshots)
            try await page.click("#empty button")
            try await page.waitUntil("document.querySelectorAll('#results .card').length > 0", "results after clearing filters")

            try await page.setViewport(width: 390, height: 844, scale: 2, mobile: true)
            try await page.waitUntil("document.documentElement.clientWidth === 390", "the phone viewport")
            let columns = try await page.number(
                "getComputedStyle(document.querySelector('#results')).gridTemplateColumns.split(' ').length")
            #expect(columns == 2, "the grid has \(columns) columns on a phone")
            let overflow = try await page.number("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            #expect(overflow <= 0, "the page scrolls sideways on a phone by \(overflow) px")
            try await waitForThumbnails(page)
            try await page.screenshot("10-phone", into: Self.screenshots)
        }
    }

    @Test("a server with a token: the page takes it from ?token= and loads thumbnails with it")
    func token() async throws {
        let server = try await TestServer.start(perClass: 1, video: false) { $0.token = "s3cret-token" }
        try await withBrowser { page, _ in
            try await page.navigate(server.url("/?token=s3cret-token"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            #expect(try await page.string("location.search") == "", "the token stays out of the address bar")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === \(server.pictures.count)",
                                     "the library grid")
            try await waitForThumbnails(page)
            #expect(try await page.string("document.querySelector('#results img').src").contains("access_token="))

            // A wrong stored token: the next request asks for one.
            try await page.evaluate("localStorage.setItem('loupe.token', 'wrong')")
            try await page.navigate(server.url("/"))
            try await page.waitUntil("document.querySelector('#token-dialog').open", "the token prompt")
            try await page.evaluate("document.querySelector('#token').value = 's3cret-token'")
            try await page.click("#token-form button")
            try await page.waitUntil("document.querySelectorAll('#results .card').length === \(server.pictures.count)",
                                     "the grid after entering the token")
        }
    }

    /// Waits until the thumbnails on screen have loaded (a screenshot without them shows grey boxes).
    @Test("select results, enter a prompt, 'Generate with these': the generated picture appears beside its references")
    func generateWithSelected() async throws {
        let standIn = GeminiStandIn { _ in .json(GeminiStandIn.imageAnswer) }
        defer { Task { await standIn.stop() } }
        let base = try await standIn.start()
        let server = try await TestServer.start { $0.providerEnvironment = standIn.environment(base) }
        try await withBrowser { page, _ in
            try await page.navigate(server.url("/?q=a+blue+square"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            try await page.waitUntil("document.querySelectorAll('#results .pill.select').length >= 2", "results with select buttons")
            #expect(try await page.string("String(document.querySelector('#selection').hidden)") == "true",
                    "the selection bar waits for a selection")
            let names = try await page.string("[...document.querySelectorAll('#results .card .name')].slice(0, 2).map(n => n.textContent).join('|')")
            try await page.click("#results .result:nth-child(1) .pill.select")
            try await page.click("#results .result:nth-child(2) .pill.select")
            try await page.waitUntil("!document.querySelector('#selection').hidden", "the selection bar")
            #expect(try await page.string("document.querySelector('#selection-count').textContent") == "2 results selected")
            #expect(try await page.string("document.querySelector('#results .result:nth-child(1) .pill.select').getAttribute('aria-pressed')") == "true")
            try await waitForThumbnails(page)
            try await page.screenshot("40-selected", into: Self.screenshots)

            try await page.click("#generate-open")
            try await page.waitUntil("document.querySelector('#generate').open", "the generate dialog")
            #expect(try await page.string("document.activeElement.id") == "generate-prompt", "the prompt box has the focus")
            #expect(try await page.number("document.querySelectorAll('#generate-refs li').length") == 2)
            try await page.type("A model wearing a suit, carrying a blue box")
            try await page.click("#generate-submit")
            try await page.waitUntil(
                "(() => { const i = document.querySelector('#generate-result .generated-image'); return i && i.complete && i.naturalWidth === 64 })()",
                "the generated picture")
            let used = try await page.string("[...document.querySelectorAll('#generate-result .generate-refs .name')].map(n => n.textContent).join('|')")
            #expect(used == names, "the references shown beside the picture are \(used), not \(names)")
            try await page.waitUntil("[...document.querySelectorAll('#generate-result .generate-refs img')].every(i => i.complete && i.naturalWidth > 0)",
                                     "the references' thumbnails")
            #expect(try await page.string("document.querySelector('#generate-result .generate-text').textContent") == "Here is your picture.")
            #expect(try await page.string("document.querySelector('#generate-status').textContent") == "Done.")
            #expect(try await page.string("document.querySelector('#generate-progress .progress').getAttribute('aria-valuenow')") == "3")
            try await page.screenshot("41-generated", into: Self.screenshots)
            // The pictures sent are the two selected, after the prompt.
            let sent = try #require(standIn.requests.first)
            #expect(sent.prompt == "A model wearing a suit, carrying a blue box" && sent.pictures.count == 2)
            try await page.press("Escape")
            try await page.waitUntil("!document.querySelector('#generate').open", "the dialog to close")
        }
    }

    @Test("without a Gemini key the page offers no selection and no 'Generate with these'")
    func generateHiddenWithoutKey() async throws {
        let server = try await TestServer.start()
        try await withBrowser { page, _ in
            try await page.navigate(server.url("/?q=a+blue+square"))
            try await page.waitUntil("document.body.dataset.ready === 'true'", "the page to start")
            try await page.waitUntil("document.querySelectorAll('#results .card').length > 0", "results")
            #expect(try await page.number("document.querySelectorAll('#results .pill.select').length") == 0)
            #expect(try await page.string("String(document.querySelector('#selection').hidden)") == "true")
        }
    }

    private func waitForThumbnails(_ page: BrowserPage) async throws {
        try await page.waitUntil(
            "[...document.querySelectorAll('#results img')].filter(i => i.getBoundingClientRect().top < innerHeight).every(i => i.complete && i.naturalWidth > 0)",
            "the visible thumbnails to load")
    }
}
