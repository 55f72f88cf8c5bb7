import Foundation
import SondaCore

/// The page shell shared by the status pages: head (viewport, inline CSS, optional refresh, no
/// referrer so a `?token=` never leaves in a Referer header), the dark header bar and the footer.
enum StatusPageLayout {
    struct Tile {
        var value: String
        var label: String
        /// "ok", "deg", "bad" or "" for neutral.
        var tone: String = ""
    }

    static func page(
        title: String, heading: HTML, tiles: [Tile], body: HTML, generatedAt: Date, refreshSeconds: Int? = 30
    ) -> String {
        let refresh: HTML = refreshSeconds.map { "<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? ""
        let tileHTML: [HTML] = tiles.map { tile in
            "<div class=\"tile \(tile.tone)\"><b>\(tile.value)</b><span>\(tile.label)</span></div>"
        }
        let tilesBlock: HTML = tiles.isEmpty ? "" : "<div class=\"tiles\">\(tileHTML)</div>"
        let html: HTML = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width,initial-scale=1">
            <meta name="referrer" content="no-referrer">\(refresh)
            <title>\(title)</title>
            <style>\(HTML(trusted: StatusPageStyle.css))</style></head>
            <body><header class="top"><div class="bar">\(heading)\
            <span class="meta">updated \(StatusFormat.timestamp(generatedAt))\
            \(refreshSeconds.map { " · refreshes every \($0) s" } ?? "")</span></div>\(tilesBlock)</header>
            <main>\(body)</main>
            <footer>Sonda \(SondaVersion.current) · times in UTC · JSON: <code>/v1/budgets</code> <code>/v1/uptime</code> \
            <code>/v1/agents</code> <code>/v1/alerts</code> · <code>/metrics</code></footer>
            </body></html>
            """
        return html.rendered
    }

    /// A plain page for 400, 401 and 404 answers.
    static func message(title: String, text: HTML, generatedAt: Date, back: String?) -> String {
        let link: HTML = back.map { "<p><a href=\"\($0)\">← Fleet status</a></p>" } ?? ""
        return page(
            title: title, heading: "<h1>\(title)</h1>", tiles: [],
            body: "<section><p>\(text)</p>\(link)</section>", generatedAt: generatedAt, refreshSeconds: nil)
    }
}
