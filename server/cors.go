package server

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/rs/cors"
)

// corsMaxAge is how long, in seconds, a browser may cache a preflight's
// answer.
const corsMaxAge = 600

// withCORS answers the browser's cross-origin checks for every route: a
// preflight (OPTIONS with Access-Control-Request-Method) from an allowed
// origin gets 204 with the methods and headers the API takes; a request
// from an allowed origin gets Access-Control-Allow-Origin with that origin,
// so a page can read the response. An origin that is not allowed gets no
// Access-Control-* header at all, so the browser keeps the response from
// the page. Allowed origins are the hub's own host and cfg.OriginPatterns,
// the same rule as the WebSocket handshake (originAllowed).
//
// Credentials are allowed: the hub sets and reads no cookie (the token
// travels in the Authorization header), so a page that sends them by habit
// is not refused for it, and it gains nothing by it.
func withCORS(h http.Handler, patterns []string) http.Handler {
	c := cors.New(cors.Options{
		AllowOriginVaryRequestFunc: func(r *http.Request, origin string) (bool, []string) {
			return originMatches(r, origin, patterns), nil
		},
		AllowedMethods:   []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "Idempotency-Key"},
		ExposedHeaders:   []string{"Retry-After", "WWW-Authenticate", "Allow", "Idempotent-Replayed"},
		AllowCredentials: true,
		MaxAge:           corsMaxAge,
	})
	return c.Handler(h)
}

// originAllowed reports whether r may come from its Origin: a request
// without one (not from a browser page), one from the hub's own host, or
// one whose origin matches a pattern. This is the rule of
// websocket.AcceptOptions.OriginPatterns: a pattern is matched with
// path.Match, case-insensitively, against the origin's host[:port], or
// against scheme://host[:port] when it contains "://".
func originAllowed(r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	return origin == "" || originMatches(r, origin, patterns)
}

func originMatches(r *http.Request, origin string, patterns []string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(r.Host, u.Host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// checkOriginPatterns refuses a pattern path.Match cannot use, which would
// otherwise silently match nothing.
func checkOriginPatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("allowed origin %q is not a valid pattern: %w", p, err)
		}
	}
	return nil
}
