// Package web holds example pages for web developers: a rider page and a
// driver page in plain JavaScript that use a hub's real feeds and order API
// from another origin, as a browser app does. There is no Go code here
// besides the end-to-end test, which serves the pages from one port, a hub
// (internal/hubtest) from another, and drives both pages in headless
// Chromium.
//
// Open the pages against `make run` with
// `taxi serve --insecure --memory --allowed-origins 127.0.0.1:8000` and
// `python3 -m http.server 8000` in this folder, then
// http://127.0.0.1:8000/rider.html and http://127.0.0.1:8000/driver.html.
//
// Files:
//   - doc.go: this description
//   - feed.js: what both pages share: the HTTP calls, the feed, refusals
//   - rider.html: order a ride, see it listed, accepted or cancelled
//   - driver.html: see open orders arrive, accept one, see the result
//   - style.css: the pages' look
//   - web_test.go: the end-to-end test in headless Chromium
package web
