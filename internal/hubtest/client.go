package hubtest

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/taxi-hub/taxi/contract"
)

// Client is a WebSocket connection to a hub that records every frame it
// receives, in order. A reader goroutine of its own reads frames until the
// connection ends, at the test's cleanup at the latest, which closes the
// connection and waits for the reader.
type Client struct {
	conn *websocket.Conn

	mu     sync.Mutex
	frames [][]byte
	// arrived is closed, and replaced, whenever a frame arrives or the
	// reader stops.
	arrived chan struct{}
	done    bool
	err     error // why the reader stopped
}

// Dial connects to url (ws://...) within Timeout, failing the test when
// the handshake fails, with the HTTP status when there was one.
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		if resp != nil {
			t.Fatalf("dial %s: status %d: %v", url, resp.StatusCode, err)
		}
		t.Fatalf("dial %s: %v", url, err)
	}
	// Snapshots of many open orders are larger than the library's 32 KiB.
	conn.SetReadLimit(1 << 24)
	c := &Client{conn: conn, arrived: make(chan struct{})}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		c.read()
	}()
	t.Cleanup(func() {
		_ = conn.CloseNow()
		<-stopped
	})
	return c
}

// Feed opens the feed of id acting as role on the node, /ws/{role}/{id},
// with a token in the URL when the node checks tokens. The connected frame
// is the first one Wait or Frames shows.
func (h *Hub) Feed(t testing.TB, role contract.Role, id string) *Client {
	t.Helper()
	u := h.WSURL("/ws/" + string(role) + "/" + id)
	if tok := h.Token(t, role, id); tok != "" {
		u += "?" + url.Values{"token": {tok}}.Encode()
	}
	return Dial(t, u)
}

// read records frames until the connection ends.
func (c *Client) read() {
	for {
		_, data, err := c.conn.Read(context.Background())
		c.mu.Lock()
		if err != nil {
			c.done, c.err = true, err
		} else {
			c.frames = append(c.frames, data)
		}
		close(c.arrived)
		c.arrived = make(chan struct{})
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Send writes one frame {"type":typ,"message":msg} within Timeout, failing
// the test when it cannot.
func (c *Client) Send(t testing.TB, typ string, msg any) {
	t.Helper()
	m, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := json.Marshal(contract.Envelope{Type: typ, Message: m})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, frame); err != nil {
		t.Fatalf("send %s: %v", typ, err)
	}
}

// Frames returns every frame received so far, as the hub sent it.
func (c *Client) Frames() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.frames)
}

// Count returns how many of the frames received so far are of type typ,
// and how many frames were received in all.
func (c *Client) Count(typ string) (n, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ofType(typ, -1)), len(c.frames)
}

// ofType decodes the first max frames of type typ (all with max < 0); the
// caller holds mu. A frame that is not an envelope counts as no type.
func (c *Client) ofType(typ string, max int) []contract.Envelope {
	var out []contract.Envelope
	for _, data := range c.frames {
		if max >= 0 && len(out) == max {
			break
		}
		var env contract.Envelope
		if json.Unmarshal(data, &env) == nil && env.Type == typ {
			out = append(out, env)
		}
	}
	return out
}

// Wait returns the first n frames of type typ, waiting up to Timeout for
// them to arrive. It fails the test, saying how many came, when they do not
// or when the connection ends first.
func (c *Client) Wait(t testing.TB, typ string, n int) []contract.Envelope {
	t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	for {
		c.mu.Lock()
		got, done, err, arrived := c.ofType(typ, n), c.done, c.err, c.arrived
		c.mu.Unlock()
		switch {
		case len(got) == n:
			return got
		case done:
			t.Fatalf("waiting for %d %s frames: %d came before the connection ended: %v", n, typ, len(got), err)
		}
		select {
		case <-arrived:
		case <-timer.C:
			t.Fatalf("waiting for %d %s frames: %d came within %v", n, typ, len(got), Timeout)
		}
	}
}
