package server

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
)

// refusal is why a feed handshake was refused.
type refusal int

// The refusals of a feed handshake, in the order handleFeed checks them.
const (
	refusedInvalidID refusal = iota
	refusedOrigin
	refusedUnauthorized
	refusedForbidden
	refusedShuttingDown
	refusedAtCapacity
	numRefusals
)

// refusalCodes gives each refusal its error code (the "error" of an HTTP
// refusal and the start of a close reason), the HTTP status non-browser
// clients get, and the close code browsers get. Close codes are in the
// 4000-4999 range the WebSocket protocol leaves to applications; they are a
// contract (docs/api.md) and never change meaning.
var refusalCodes = [numRefusals]struct {
	code   string
	status int
	close  websocket.StatusCode
}{
	refusedInvalidID:    {"invalid_id", http.StatusBadRequest, 4400},
	refusedOrigin:       {"origin_not_allowed", http.StatusForbidden, 4406},
	refusedUnauthorized: {"unauthorized", http.StatusUnauthorized, 4401},
	refusedForbidden:    {"forbidden", http.StatusForbidden, 4403},
	refusedShuttingDown: {"shutting_down", http.StatusServiceUnavailable, 4503},
	refusedAtCapacity:   {"at_capacity", http.StatusServiceUnavailable, 4429},
}

func (why refusal) String() string { return refusalCodes[why].code }

// refusalCounts counts refused handshakes by refusal.
type refusalCounts [numRefusals]atomic.Int64

// byReason returns every count by its error code, zeros included, so a
// dashboard sees every reason from the start.
func (rc *refusalCounts) byReason() map[string]int64 {
	out := make(map[string]int64, numRefusals)
	for why := range numRefusals {
		out[why.String()] = rc[why].Load()
	}
	return out
}

// maxCloseReason is the longest close reason a close frame can carry, in
// bytes.
const maxCloseReason = 123

// fromBrowser reports whether r is a WebSocket handshake sent by a browser:
// browsers always send Origin with one, and a page cannot read the HTTP
// status of a refused handshake, only the close code and reason of an
// upgraded connection.
func fromBrowser(r *http.Request) bool {
	return r.Header.Get("Origin") != "" &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		headerHasToken(r.Header, "Connection", "upgrade")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// refuseFeed refuses a feed handshake before the upgrade: it counts and
// logs the refusal, then answers a browser by upgrading and closing at once
// with the refusal's close code and a reason "<error>: <detail>", and any
// other client with the refusal's HTTP status and the API's error body.
// err, when not nil, is the authorization error behind the refusal.
func (s *Server) refuseFeed(w http.ResponseWriter, r *http.Request, role Role, id string, why refusal, detail string, err error) {
	browser := fromBrowser(r)
	s.noteRefusal(r, role, id, why, detail, browser)
	if !browser {
		if err != nil {
			writeAuthError(w, err)
			return
		}
		writeError(w, refusalCodes[why].status, why.String(), detail)
		return
	}
	// The origin was checked above; accepting one that is not allowed
	// only lets its page read why it is refused.
	conn, aerr := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if aerr != nil {
		s.log.Debug("websocket accept for a refusal", "err", aerr)
		return
	}
	// The close handshake reads the peer's answer itself, for at most a few
	// seconds; this handler's goroutine waits for it.
	_ = conn.Close(refusalCodes[why].close, refusalText(why, detail))
}

// refuseUpgraded closes a connection the node could not register because
// it filled up or began shutting down during the upgrade: 1013 for
// non-browser clients, as before there were refusal codes, and the
// refusal's close code for browsers.
func (s *Server) refuseUpgraded(r *http.Request, conn *websocket.Conn, role Role, id string) {
	why, detail := refusedAtCapacity, "this node filled up during the handshake; connect to another"
	if !s.ready.Load() {
		why, detail = refusedShuttingDown, "this node began shutting down during the handshake; connect to another"
	}
	browser := fromBrowser(r)
	s.noteRefusal(r, role, id, why, detail, browser)
	if browser {
		_ = conn.Close(refusalCodes[why].close, refusalText(why, detail))
		return
	}
	_ = conn.Close(websocket.StatusTryAgainLater, "node full or shutting down")
}

// noteRefusal counts a refused handshake and logs it at info: an operator
// sees why clients cannot connect without turning on debug logs.
func (s *Server) noteRefusal(r *http.Request, role Role, id string, why refusal, detail string, browser bool) {
	s.counters.connsRefused.Add(1)
	s.counters.refused[why].Add(1)
	s.log.Info("feed handshake refused", "reason", why.String(), "role", role, "id", id,
		"detail", detail, "browser", browser, "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
}

// closeReason is "<error>: <detail>", cut on a character boundary to fit a
// close frame.
func refusalText(why refusal, detail string) string {
	reason := why.String() + ": " + detail
	if len(reason) <= maxCloseReason {
		return reason
	}
	reason = reason[:maxCloseReason]
	for !utf8.ValidString(reason) {
		reason = reason[:len(reason)-1]
	}
	return reason
}

// authRefusal sorts an authorization error into its refusal and a detail
// without the error's own prefix.
func authRefusal(err error) (refusal, string) {
	why, prefix := refusedUnauthorized, errUnauthenticated.Error()+": "
	if errors.Is(err, errForbidden) {
		why, prefix = refusedForbidden, errForbidden.Error()+": "
	}
	return why, strings.TrimPrefix(err.Error(), prefix)
}

var descRefused = prometheus.NewDesc("taxi_connections_refused_total",
	"Feed handshakes refused since the node started, by reason.", []string{"reason"}, nil)

// refusalCollector exports refusalCounts as taxi_connections_refused_total.
type refusalCollector struct{ c *counters }

func (rc refusalCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descRefused }

func (rc refusalCollector) Collect(ch chan<- prometheus.Metric) {
	for why := range numRefusals {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(rc.c.refused[why].Load()), why.String())
	}
}
