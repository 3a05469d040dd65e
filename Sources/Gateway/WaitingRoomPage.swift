import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Queue

extension QueueHTTP {
    /// `GET /waiting-room/{event}`: joins the visitor (once) and shows their place
    /// (``pageAnswer(event:joiner:)``; the edge serves the page itself, ``edgePage(_:on:)``).
    ///
    /// Without JavaScript the page refreshes itself (meta refresh) and, once admitted, the
    /// server redirects to the room's target. With JavaScript it follows the Server-Sent Events
    /// stream, opened again when its gateway ends it (as one shutting down does), falling back to
    /// polling. The pass travels only in its cookie, never in a URL.
    func addPage(to router: Router<some RequestContext>) {
        router.get("waiting-room/:event") { request, context in try await page(request, context) }
    }

    func page(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let event = try context.parameters.require("event")
        return try await pageAnswer(event: event, joiner: try await visitorOrNew(request, allowTokens: false)).response
    }
}

/// The waiting-room page's markup.
enum WaitingRoomHTML {
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    static func render(event: String, body: QueuePlaceBody) -> String {
        let refresh = max(2, min(30, (body.pollAfterMilliseconds ?? 5_000) / 1000))
        let position = body.position.map(String.init) ?? "–"
        let eta = body.etaSeconds.map { $0 < 60 ? "under a minute" : "about \($0 / 60) min" } ?? "—"
        let headline: String
        switch body.status {
        case "admitted": headline = "It's your turn!"
        case "prequeue": headline = "The sale opens soon. Your place will be drawn at random when it does."
        case "proof": headline = "Checking your browser before you join the queue…"
        default: headline = "You are in the queue"
        }
        let admittedBlock = switch body.status {
        case "admitted": "<p id=\"admitted\">You may continue. Your pass: <code id=\"pass\">\(escape(body.pass ?? ""))</code></p>"
        case "proof": "<noscript><p id=\"needs-javascript\">This waiting room needs JavaScript to let you in.</p></noscript>"
        default: ""
        }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Waiting room · \(escape(event))</title>
            \(body.status == "admitted" || body.status == "proof" ? "" : "<noscript><meta http-equiv=\"refresh\" content=\"\(refresh)\"></noscript>")
            <style>
              body { font: 16px/1.5 system-ui, sans-serif; background: #0f172a; color: #e2e8f0; display: grid; place-items: center; min-height: 100vh; margin: 0; }
              main { background: #1e293b; padding: 2rem 2.5rem; border-radius: 1rem; max-width: 32rem; width: 90%; box-shadow: 0 10px 30px #0006; }
              h1 { font-size: 1.4rem; margin: 0 0 1rem; }
              .figures { display: flex; gap: 2rem; margin: 1rem 0; }
              .figures div { display: flex; flex-direction: column; }
              .figures strong { font-size: 2rem; color: #38bdf8; }
              .bar { height: .75rem; background: #334155; border-radius: .5rem; overflow: hidden; }
              .bar span { display: block; height: 100%; width: 0; background: linear-gradient(90deg, #38bdf8, #22c55e); transition: width .8s; }
              code { word-break: break-all; font-size: .75rem; }
              small { color: #94a3b8; }
            </style>
            </head>
            <body>
            <main data-event="\(escape(event))" data-status="\(escape(body.status))">
              <h1 id="headline">\(escape(headline))</h1>
              <div class="figures">
                <div><small>Your position</small><strong id="position">\(position)</strong></div>
                <div><small>Estimated wait</small><strong id="eta">\(escape(eta))</strong></div>
              </div>
              <div class="bar"><span id="progress"></span></div>
              \(admittedBlock)
              <p><small>Keep this page open: you keep your place while it is open. Refreshing does not lose it.</small></p>
            </main>
            <script>
            (function () {
              var main = document.querySelector('main');
              var event = main.dataset.event;
              var key = 'br-start-' + event;
              function show(s) {
                if (s.status === 'admitted') {
                  document.getElementById('headline').textContent = "It's your turn!";
                  document.getElementById('position').textContent = '0';
                  document.getElementById('eta').textContent = 'now';
                  document.getElementById('progress').style.width = '100%';
                  main.dataset.status = 'admitted';
                  if (s.target_url) {
                    // The status answer sets the pass cookie; then the target needs nothing in its URL.
                    var go = function () { window.location.href = s.target_url; };
                    fetch('/api/v1/queue/' + event + '/status', { credentials: 'same-origin' }).then(go, go);
                  }
                  return;
                }
                if (s.position) {
                  var start = Math.max(Number(sessionStorage.getItem(key) || 0), s.position);
                  sessionStorage.setItem(key, start);
                  document.getElementById('position').textContent = s.position;
                  document.getElementById('progress').style.width = Math.round(100 * (1 - (s.position - 1) / start)) + '%';
                }
                if (s.eta_seconds != null) {
                  document.getElementById('eta').textContent = s.eta_seconds < 60 ? 'under a minute' : 'about ' + Math.round(s.eta_seconds / 60) + ' min';
                }
              }
              // Looks at the place once; then `next` when given, else polls again when the answer says.
              function poll(next) {
                fetch('/api/v1/queue/' + event + '/status', { credentials: 'same-origin' })
                  .then(function (r) { return r.json().then(function (j) { return [r.status, j]; }); })
                  .then(function (p) {
                    if (p[0] === 410 || p[0] === 404) { window.location.reload(); return; }
                    show(p[1]);
                    if (p[1].status === 'admitted') return;
                    if (next) { next(); } else { setTimeout(poll, p[1].poll_after_ms || 2000); }
                  })
                  .catch(function () { if (next) { next(); } else { setTimeout(poll, 3000); } });
              }
              if (main.dataset.status === 'admitted') return;
              if (main.dataset.status === 'proof') {
                // A small proof of work, found off the page's thread, then the join it allows.
                fetch('/api/v1/queue/' + event + '/challenge', { credentials: 'same-origin' })
                  .then(function (r) { return r.json(); })
                  .then(function (c) {
                    var worker = new Worker('/assets/pow-worker.js');
                    worker.onmessage = function (m) {
                      worker.terminate();
                      fetch('/api/v1/queue/' + event + '/join', {
                        method: 'POST', credentials: 'same-origin', headers: { 'Queue-Proof': c.challenge + '~' + m.data.nonce }
                      }).then(function () { window.location.reload(); }, function () { setTimeout(function () { window.location.reload(); }, 3000); });
                    };
                    worker.postMessage({ challenge: c.challenge, difficulty: c.difficulty });
                  })
                  .catch(function () { setTimeout(function () { window.location.reload(); }, 3000); });
                return;
              }
              // A stream ended by its gateway (one shutting down ends them at once) is opened again, on a
              // gateway still serving; after five failures in a row without an event, the page polls.
              var failures = 0;
              function listen() {
                var source = new EventSource('/api/v1/queue/' + event + '/events');
                source.addEventListener('status', function (e) { failures = 0; show(JSON.parse(e.data)); });
                source.addEventListener('admitted', function (e) { source.close(); show(JSON.parse(e.data)); });
                source.addEventListener('lost', function () { source.close(); window.location.reload(); });
                source.onerror = function () {
                  source.close();
                  failures += 1;
                  if (failures > 5) { setTimeout(poll, 1000); return; }
                  // One look meanwhile: a visitor the room no longer has reloads the page at once.
                  poll(function () { setTimeout(listen, 1000 * failures); });
                };
              }
              if (window.EventSource) {
                listen();
              } else {
                poll();
              }
            })();
            </script>
            </body>
            </html>
            """
    }
}
