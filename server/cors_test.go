package server

import (
	"net/http"
	"strings"
	"testing"
)

// corsRequest sends method to path with an Origin and extra headers and
// returns the response.
func corsRequest(t *testing.T, h *testHub, method, path, origin string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	var pairs []string
	if origin != "" {
		pairs = append(pairs, "Origin", origin)
	}
	for k, v := range hdr {
		pairs = append(pairs, k, v)
	}
	resp, _ := send(t, method, h.URL+path, body, pairs...)
	return resp
}

func TestCORS(t *testing.T) {
	h := startHub(t, Config{OriginPatterns: []string{"127.0.0.1:8000", "https://*.rides.example"}})
	preflight := map[string]string{
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "authorization,content-type,idempotency-key",
	}
	const body = `{"user_id":"u1","pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}}`

	for _, origin := range []string{"http://127.0.0.1:8000", "https://app.rides.example"} {
		resp := corsRequest(t, h, "OPTIONS", "/orders", origin, preflight, "")
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("preflight from %s: status %d", origin, resp.StatusCode)
		}
		want := map[string]string{
			"Access-Control-Allow-Origin":      origin,
			"Access-Control-Allow-Methods":     "POST",
			"Access-Control-Allow-Headers":     "authorization,content-type,idempotency-key",
			"Access-Control-Allow-Credentials": "true",
			"Access-Control-Max-Age":           "600",
		}
		for k, v := range want {
			if got := resp.Header.Get(k); got != v {
				t.Errorf("preflight from %s: %s = %q, want %q", origin, k, got, v)
			}
		}

		resp = corsRequest(t, h, "POST", "/orders", origin, map[string]string{"Content-Type": "application/json"}, body)
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("POST from %s: %d, allow origin %q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if exp := resp.Header.Get("Access-Control-Expose-Headers"); !strings.Contains(exp, "Retry-After") || !strings.Contains(exp, "Idempotent-Replayed") {
			t.Errorf("POST from %s: exposed headers %q", origin, exp)
		}
		if !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Origin") {
			t.Errorf("POST from %s: no Vary: Origin", origin)
		}
	}

	// (Browsers send the requested headers sorted and in lower case, as
	// here.) Nothing is allowed that is not listed: not another port, not the
	// other scheme, not a header the API does not take.
	for _, origin := range []string{"http://127.0.0.1:8001", "http://app.rides.example", "https://evil.example", "null"} {
		resp := corsRequest(t, h, "OPTIONS", "/orders", origin, preflight, "")
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("preflight from %s allowed: %q", origin, v)
		}
		resp = corsRequest(t, h, "GET", "/ws/stats", origin, nil, "")
		if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" || resp.StatusCode != http.StatusOK {
			t.Errorf("GET from %s: %d, allowed %q", origin, resp.StatusCode, v)
		}
	}
	resp := corsRequest(t, h, "OPTIONS", "/orders", "http://127.0.0.1:8000", map[string]string{
		"Access-Control-Request-Method":  "POST",
		"Access-Control-Request-Headers": "x-debug",
	}, "")
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("preflight asking for an unknown header allowed: %q", v)
	}
	resp = corsRequest(t, h, "OPTIONS", "/orders", "http://127.0.0.1:8000", map[string]string{"Access-Control-Request-Method": "DELETE"}, "")
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("preflight for DELETE allowed: %q", v)
	}
	// An OPTIONS that is not a preflight is an ordinary request: 405.
	if resp := corsRequest(t, h, "OPTIONS", "/orders", "", nil, ""); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("plain OPTIONS: %d, want 405", resp.StatusCode)
	}
}

func TestBadOriginPatternIsRefused(t *testing.T) {
	if _, err := New(Config{Insecure: true, OriginPatterns: []string{"[a-"}}); err == nil || !strings.Contains(err.Error(), "allowed origin") {
		t.Fatalf("New with a bad pattern: %v", err)
	}
}
