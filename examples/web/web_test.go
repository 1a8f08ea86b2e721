package web

import (
	"context"
	"github.com/taxi-hub/taxi/contract"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/server"
)

const secret = "example-secret-of-16-bytes"

// browser starts headless Chromium with a fresh profile and returns a
// context for its first tab. It skips the test when Chromium is missing,
// except under CI=true, where a skip would hide that nothing was tested.
//
// The tests that use it do not run in parallel: a starting Chromium takes
// most of a CPU, so two at once finish no sooner on a small machine and
// bring the page waits near their deadline.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		msg := "chromium not found on PATH: install it (apt-get install chromium, or scripts/install-test-deps.sh) to run the browser test"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now, so a failure to launch is reported as such.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// startHub serves a hub with authentication whose browser origins are
// origins.
func startHub(t *testing.T, origins ...string) string {
	t.Helper()
	return hubtest.Start(t, hubtest.Secret(secret), hubtest.NodeID("web-test"), func(c *server.Config) {
		c.OriginPatterns = origins
	}).URL
}

func token(t *testing.T, role server.Role, id string, ttl time.Duration) string {
	t.Helper()
	tok, err := contract.NewToken(secret, role, id, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// pageURL is a page of pages preset for hub, id and token, connecting at
// once.
func pageURL(pages, page, hub, id, tok string) string {
	q := url.Values{"hub": {hub}, "id": {id}, "token": {tok}, "autoconnect": {"1"}}
	return pages + "/" + page + "?" + q.Encode()
}

// waitFor polls the JavaScript condition cond until it is true, for at most
// 15 seconds.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		page, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string]("document.body.innerText"))
		t.Fatalf("%s: %v\npage: %s", what, err, page)
	}
}

// eval returns the string value of the JavaScript expression expr.
func eval(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return s
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return eval(t, ctx, `document.querySelector('`+sel+`').textContent`)
}

func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

func click(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
}

// TestPagesInChromium drives the rider and driver pages, served from one
// origin, against a hub on another: refusals, an order created, seen by
// the driver, accepted, and the result seen by both.
func TestPagesInChromium(t *testing.T) {
	ctx := browser(t)
	pagesSrv := httptest.NewServer(http.FileServer(http.Dir(".")))
	defer pagesSrv.Close()
	pages := pagesSrv.URL
	hub := startHub(t, strings.TrimPrefix(pages, "http://"))

	driver := ctx
	rider, cancelRider := chromedp.NewContext(ctx)
	defer cancelRider()

	// Refusals: the page shows the close code and reason.
	expired := token(t, server.RoleDriver, "d42", -time.Minute)
	navigate(t, driver, pageURL(pages, "driver.html", hub, "d42", expired))
	waitFor(t, driver, "expired token refused", `document.querySelector("#status").dataset.state === "refused"`)
	if got := text(t, driver, "#status"); !strings.Contains(got, "4401 unauthorized: token has invalid claims: token is expired") {
		t.Fatalf("driver page shows %q", got)
	}
	other := token(t, server.RoleDriver, "d7", time.Hour)
	navigate(t, driver, pageURL(pages, "driver.html", hub, "d42", other))
	waitFor(t, driver, "another driver's token refused", `document.querySelector("#status").textContent.startsWith("refused 4403 forbidden")`)

	// Both connect.
	navigate(t, driver, pageURL(pages, "driver.html", hub, "d42", token(t, server.RoleDriver, "d42", time.Hour)))
	waitFor(t, driver, "driver connected", `document.querySelector("#status").dataset.state === "connected"`)
	waitFor(t, driver, "driver serves no order", `document.querySelector("#current").textContent === "serving no order"`)
	navigate(t, rider, pageURL(pages, "rider.html", hub, "u7", token(t, server.RoleUser, "u7", time.Hour)))
	waitFor(t, rider, "rider connected", `document.querySelector("#status").dataset.state === "connected"`)

	// The rider orders (a cross-origin POST with a preflight) and reads the
	// created order.
	click(t, rider, "#create")
	waitFor(t, rider, "order listed on the rider page", `document.querySelector('#orders li[data-status="open"]') !== null`)
	orderID := eval(t, rider, `document.querySelector("#orders li").dataset.orderId`)

	// The driver sees it arrive and accepts it.
	row := `#orders li[data-order-id="` + orderID + `"]`
	waitFor(t, driver, "new order on the driver page", `document.querySelector('`+row+` button[data-action="accept"]') !== null`)
	click(t, driver, row+` button[data-action="accept"]`)
	waitFor(t, driver, "accept result", `document.querySelector("#result").dataset.accepted === "true"`)
	waitFor(t, driver, "driver serves the order", `document.querySelector("#current").dataset.orderId === "`+orderID+`"`)

	// The rider sees who took it.
	waitFor(t, rider, "accepted on the rider page", `document.querySelector('`+row+`').dataset.status === "accepted"`)
	if got := text(t, rider, row+" .status"); got != "accepted by d42" {
		t.Fatalf("rider page shows %q", got)
	}
}

// TestPageFromAnotherOriginIsRefused serves the pages from an origin the
// hub does not list: the feed is refused with 4406 and the API call fails,
// and the page says so.
func TestPageFromAnotherOriginIsRefused(t *testing.T) {
	ctx := browser(t)
	pagesSrv := httptest.NewServer(http.FileServer(http.Dir(".")))
	defer pagesSrv.Close()
	hub := startHub(t, "127.0.0.1:1")
	navigate(t, ctx, pageURL(pagesSrv.URL, "rider.html", hub, "u7", token(t, server.RoleUser, "u7", time.Hour)))
	waitFor(t, ctx, "origin refused", `document.querySelector("#status").textContent.startsWith("refused 4406 origin_not_allowed")`)
	waitFor(t, ctx, "order list refused by CORS", `document.querySelector("#error").textContent.startsWith("network:")`)
}
