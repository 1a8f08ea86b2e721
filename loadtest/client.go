package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

// maxFrame bounds one inbound frame: a connected frame lists every open order
// (about 230 bytes each, so 16 MiB holds some 70,000).
const maxFrame = 16 << 20

// client is one simulated driver or rider: the feeds it holds one after the
// other (a reconnect replaces the connection) and the account of the events
// it received over all of them.
type client struct {
	global int // index among all drivers (or all users) of the run
	local  int // index among this fleet's drivers (or users)
	id     string
	role   contract.Role
	ledger ledger

	closing atomic.Bool // set before bench closes it, so the close is no drop

	mu      sync.Mutex
	conn    *websocket.Conn
	target  int              // index of the target conn is connected to
	accepts map[string]int64 // order id → instant its accept_order was sent
}

// current returns the connection the client holds now.
func (c *client) current() *websocket.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn
}

// replace makes ws the client's connection, to target; it reports false
// (and leaves ws to the caller) when bench is closing the client.
func (c *client) replace(ws *websocket.Conn, target int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing.Load() {
		return false
	}
	c.conn, c.target = ws, target
	return true
}

// mark is what the registry needs to judge what the client missed.
func (c *client) mark() clientMark {
	return clientMark{greetedNS: c.ledger.greetedNS, snapshotNS: c.ledger.snapshotNS.Load()}
}

// dialClient opens the feed of role/id at base with token, resuming after
// since when it is not empty, and waits for the connected frame, which
// proves the hub registered the client; it returns that frame.
func dialClient(ctx context.Context, hc *http.Client, base string, role contract.Role, id, token, since string, timeout time.Duration) (*websocket.Conn, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := "ws" + strings.TrimPrefix(base, "http") + "/ws/" + string(role) + "/" + id
	if since != "" {
		u += "?since=" + url.QueryEscape(since)
	}
	var hdr http.Header
	if token != "" {
		hdr = http.Header{"Authorization": {"Bearer " + token}}
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: hdr})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, nil, &statusError{op: "dial " + string(role) + " " + id, status: resp.StatusCode}
		}
		return nil, nil, fmt.Errorf("dial %s %s: %w", role, id, err)
	}
	conn.SetReadLimit(maxFrame)
	_, data, err := conn.Read(ctx)
	if err != nil {
		conn.CloseNow()
		return nil, nil, fmt.Errorf("read connected frame of %s %s: %w", role, id, err)
	}
	if f, ok := parseFrame(data); !ok || string(f.Type) != contract.TypeConnected {
		conn.CloseNow()
		return nil, nil, fmt.Errorf("%s %s: %w", role, id, errNoConnected)
	}
	return conn, data, nil
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
	conn := c.current()
	for {
		typ, r, err := conn.Reader(readCtx)
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
	conn := c.conn
	c.mu.Unlock()
	if err := conn.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
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

// close ends the feed with a normal closure, bounded by timeout; a client
// reconnecting meanwhile keeps no new connection.
func (c *client) close(timeout time.Duration) {
	c.mu.Lock()
	c.closing.Store(true)
	conn := c.conn
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = conn.Close(websocket.StatusNormalClosure, "bench done")
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		_ = conn.CloseNow()
		<-done
	}
}

// closeConcurrency bounds simultaneous close handshakes at the end; each
// takes at most 2 s, so even an overloaded hub lets 16,000 feeds close
// within half a minute.
const closeConcurrency = 1024

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
