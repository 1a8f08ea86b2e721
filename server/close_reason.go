package server

import (
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// closeReason is why a connection ended. Every connection ends once, through
// client.end, with one reason: counted once in /ws/stats and /metrics, and
// sent to the client as a close code and text when its socket can still take
// a frame.
type closeReason int

// The reasons a connection ends; docs/api.md lists them with their codes.
const (
	reasonClientClosed closeReason = iota // the client closed or vanished
	reasonTooBig                          // a frame over --read-limit (the library sends 1009)
	reasonBadFrame                        // a binary frame
	reasonSlowConsumer                    // its send queue filled up
	reasonStuckWrite                      // one write took longer than --write-timeout
	reasonWriteFailed                     // the socket refused a write
	reasonPingTimeout                     // no pong within --ping-timeout
	reasonGreetFailed                     // the node could not build its first frame
	reasonShutdown                        // the node is shutting down
	numCloseReasons
)

// closeInfo is what each reason means on the wire.
type closeInfo struct {
	name string
	code websocket.StatusCode
	text string
	// frame is false when no close frame can or need be sent: the client
	// is gone, or the socket cannot take a frame.
	frame bool
}

var closeInfos = [numCloseReasons]closeInfo{
	reasonClientClosed: {"client_closed", websocket.StatusNormalClosure, "", false},
	reasonTooBig:       {"message_too_big", websocket.StatusMessageTooBig, "", false},
	reasonBadFrame:     {"unsupported_data", websocket.StatusUnsupportedData, "binary frames are not supported; send JSON text frames", true},
	reasonSlowConsumer: {"slow_consumer", websocket.StatusPolicyViolation, "slow consumer: send queue full", true},
	reasonStuckWrite:   {"stuck_write", websocket.StatusPolicyViolation, "write timeout", false},
	reasonWriteFailed:  {"write_failed", websocket.StatusPolicyViolation, "write failed", false},
	reasonPingTimeout:  {"ping_timeout", websocket.StatusPolicyViolation, "ping timeout", true},
	reasonGreetFailed:  {"greet_failed", websocket.StatusTryAgainLater, "could not load the first frame; reconnect", true},
	reasonShutdown:     {"shutdown", websocket.StatusGoingAway, "server shutting down", true},
}

func (r closeReason) String() string { return closeInfos[r].name }

// closeTimeout bounds a close handshake: after it the socket is closed
// whatever the peer does.
const closeTimeout = 2 * time.Second

// closeCounts counts ended connections by reason.
type closeCounts [numCloseReasons]atomic.Int64

// snapshot returns the counts by reason name.
func (c *closeCounts) snapshot() map[string]int64 {
	out := make(map[string]int64, numCloseReasons)
	for r := range numCloseReasons {
		out[r.String()] = c[r].Load()
	}
	return out
}
