package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/taxi-hub/taxi/contract"
)

// Roles of simulated clients.
const (
	roleDriver = contract.RoleDriver
	roleUser   = contract.RoleUser
)

// maxFrame bounds one inbound frame: a connected frame lists every open order.
const maxFrame = 4 << 20

// client is one simulated driver or rider holding a hub feed open.
type client struct {
	global int // index among all drivers (or all users) of the run
	id     string
	role   contract.Role
	conn   *websocket.Conn

	closing atomic.Bool // set before bench closes it, so the close is no drop

	mu      sync.Mutex
	accepts map[string]int64 // order id → instant its accept_order was sent
}

// dialClient opens the feed of c at base with token and waits for the
// connected frame, which proves the hub registered the client.
func dialClient(ctx context.Context, hc *http.Client, base string, role contract.Role, id, token string, timeout time.Duration) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws/" + string(role) + "/" + id
	var hdr http.Header
	if token != "" {
		hdr = http.Header{"Authorization": {"Bearer " + token}}
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: hdr})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, &statusError{op: "dial " + string(role) + " " + id, status: resp.StatusCode}
		}
		return nil, fmt.Errorf("dial %s %s: %w", role, id, err)
	}
	conn.SetReadLimit(maxFrame)
	_, data, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, fmt.Errorf("read connected frame of %s %s: %w", role, id, err)
	}
	if f, ok := parseFrame(data); !ok || string(f.Type) != contract.TypeConnected {
		conn.CloseNow()
		return nil, fmt.Errorf("%s %s: %w", role, id, errNoConnected)
	}
	return conn, nil
}

var errNoConnected = errors.New("first frame is not connected")

// readLoop reads frames until the connection closes, handing each to the
// fleet. It returns nil when bench itself closed the connection.
//
// The reads do not watch ctx: with a cancellable context the WebSocket
// library registers and removes a callback on every read, a large share of
// bench's CPU per delivery at hundreds of thousands of frames a second.
// The loop ends instead when the fleet closes the connection, which it always
// does when it finishes (see fleet.finish), and ctx is only checked to tell
// that close from a drop.
func (c *client) readLoop(ctx context.Context, f *fleet) error {
	var buf bytes.Buffer
	readCtx := context.WithoutCancel(ctx)
	for {
		typ, r, err := c.conn.Reader(readCtx)
		if err != nil {
			if c.closing.Load() || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read %s %s: %w", c.role, c.id, err)
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			if c.closing.Load() || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("read %s %s: %w", c.role, c.id, err)
		}
		at := monoNow()
		if typ != websocket.MessageText {
			f.errors.add(kindBadFrame, 1)
			continue
		}
		f.handle(c, buf.Bytes(), at)
	}
}

// sendAccept races for order id over the feed.
func (c *client) sendAccept(ctx context.Context, id string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	msg := `{"type":"` + contract.TypeAcceptOrder + `","message":{"order_id":"` + id + `"}}`
	c.mu.Lock()
	if c.accepts == nil {
		c.accepts = make(map[string]int64)
	}
	c.accepts[id] = monoNow()
	c.mu.Unlock()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.mu.Lock()
		delete(c.accepts, id)
		c.mu.Unlock()
		return fmt.Errorf("send accept_order %s as %s: %w", id, c.id, err)
	}
	return nil
}

// acceptAnswered returns when the accept for id was sent, if it was.
func (c *client) acceptAnswered(id []byte) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at, ok := c.accepts[string(id)]
	if ok {
		delete(c.accepts, string(id))
	}
	return at, ok
}

func (c *client) unanswered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.accepts)
}

// close ends the feed with a normal closure, bounded by timeout.
func (c *client) close(timeout time.Duration) {
	c.closing.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.conn.Close(websocket.StatusNormalClosure, "bench done")
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = c.conn.CloseNow()
		<-done
	}
}

// closeConcurrency bounds simultaneous close handshakes at the end.
const closeConcurrency = 64

// closeClients closes every feed of cs, a few at a time, and returns when
// all are closed.
func closeClients(cs []*client) {
	sem := make(chan struct{}, closeConcurrency)
	var closing sync.WaitGroup
	for _, c := range cs {
		sem <- struct{}{}
		closing.Go(func() {
			defer func() { <-sem }()
			c.close(2 * time.Second)
		})
	}
	closing.Wait()
}
