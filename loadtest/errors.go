package loadtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/coder/websocket"
)

// Error kinds a report counts. Failures are grouped by cause, not by message,
// so a run with ten thousand refused dials prints one line.
const (
	kindTimeout        = "timeout"
	kindRefused        = "connection_refused"
	kindReset          = "connection_reset"
	kindTooManyFiles   = "too_many_open_files"
	kindNoPorts        = "no_local_ports"
	kindCanceled       = "canceled"
	kindOther          = "other"
	kindSaturated      = "bench_saturated"
	kindBadFrame       = "bad_frame"
	kindErrorFrame     = "error_frame"
	kindDropped        = "connection_dropped"
	kindNoConnected    = "no_connected_frame"
	kindBadResponse    = "bad_response"
	kindStats          = "stats"
	kindWorker         = "worker"
	kindAcceptNoAnswer = "accept_unanswered"
)

// statusError is a hub answer with an unexpected HTTP status.
type statusError struct {
	op     string
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: status %d: %s", e.op, e.status, e.body)
}

// errorKind names the cause of err for the report.
func errorKind(err error) string {
	var se *statusError
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &se):
		return fmt.Sprintf("http_%d", se.status)
	case errors.Is(err, context.Canceled):
		return kindCanceled
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return kindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return kindReset
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return kindTooManyFiles
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return kindNoPorts
	case errors.As(err, &ne) && ne.Timeout():
		return kindTimeout
	}
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("closed_%d", int(code))
	}
	return kindOther
}

// errorCounts counts failures by kind; safe for concurrent use.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *errorCounts) add(kind string, n int64) {
	if kind == "" || n == 0 {
		return
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]int64)
	}
	c.m[kind] += n
	c.mu.Unlock()
}

func (c *errorCounts) addErr(err error) { c.add(errorKind(err), 1) }

func (c *errorCounts) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

func (c *errorCounts) total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, v := range c.m {
		n += v
	}
	return n
}

// mergeCounts adds every count of from into into.
func mergeCounts(into, from map[string]int64) map[string]int64 {
	if len(from) == 0 {
		return into
	}
	if into == nil {
		into = make(map[string]int64, len(from))
	}
	for k, v := range from {
		into[k] += v
	}
	return into
}
