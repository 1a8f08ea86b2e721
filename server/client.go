package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// client is one WebSocket connection on this node.
//
// An idle client owns exactly one goroutine, started by the handler: the
// reader (serveClient), parked on a small stack. A writer goroutine exists
// only while frames wait in its queue, and the keepalive ping runs from a
// timer. This keeps the memory of an idle driver small, which is what lets
// one node hold tens of thousands.
type client struct {
	role Role
	id   string
	conn *websocket.Conn
	sock *sockWriter // conn's socket, for data frames framed by the hub
	hub  *hub

	// ctx ends when the connection is closed for any reason; reads and
	// pings use it, and the writer stops when it ends.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   [][]byte // frames waiting for the writer, oldest first
	spare   [][]byte // the writer's last batch, reused to avoid allocation
	writing bool     // a writer goroutine is running
	held    bool     // frames queue but no writer starts until open
	closed  bool     // no more frames are queued and no goroutine started
	ping    *time.Timer

	// Fields below are used only by the reader goroutine.
	limiter *rate.Limiter
	viewing map[string]struct{}

	// shard bookkeeping, guarded by the shard's lock.
	shardIdx int

	// writeStart is when the current batch began to be written, in Unix
	// nanoseconds, or 0 when the writer is not writing.
	writeStart atomic.Int64
}

// send queues one JSON frame for this client.
func (c *client) send(msg []byte) bool { return c.queueWire(wireFrame(msg)) }

// queueWire queues a framed message (see wireFrame) without blocking. It
// reports false when the client is closed or fell too far behind; in the
// latter case the client is disconnected as a slow consumer.
func (c *client) queueWire(frame []byte) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	if len(c.queue) >= c.hub.cfg.SendQueue {
		c.hub.counters.slowClients.Add(1)
		c.hub.counters.framesDropped.Add(int64(len(c.queue)) + 1)
		c.closeLocked(websocket.StatusPolicyViolation, "slow consumer: send queue full")
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, frame)
	if !c.writing && !c.held {
		c.startWriterLocked()
	}
	c.mu.Unlock()
	return true
}

func (c *client) startWriterLocked() {
	c.writing = true
	c.hub.wg.Add(1)
	go c.writeLoop()
}

// open puts first at the head of the queue and lets the writer run. A client
// is registered held, so that frames fanned out while its first frame is
// being built wait behind it instead of being lost or overtaking it.
func (c *client) open(msg []byte) {
	first := wireFrame(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	if c.closed {
		return
	}
	c.queue = append(c.queue, nil)
	copy(c.queue[1:], c.queue)
	c.queue[0] = first
	c.startWriterLocked()
}

// writeLoop writes queued frames until the queue is empty, then exits. Frames
// queued while it writes are taken in the next batch, so a client that falls
// behind catches up in few wake-ups. It exits as soon as the queue is empty,
// a write fails or the client's context ends.
func (c *client) writeLoop() {
	defer c.hub.wg.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || c.ctx.Err() != nil {
			c.writing = false
			c.queue = c.queue[:0]
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = c.spare[:0]
		c.spare = nil
		c.mu.Unlock()

		err := c.writeBatch(batch)
		clear(batch)

		c.mu.Lock()
		c.spare = batch[:0]
		if err != nil {
			c.hub.log.Debug("write failed, closing", "role", c.role, "id", c.id, "err", err)
			c.writing = false
			c.hub.counters.framesDropped.Add(int64(len(c.queue)))
			c.queue = nil
			if !c.closed {
				c.closeLocked(websocket.StatusPolicyViolation, "write failed")
			}
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// writeBatch writes frames in order, all of a batch in one system call. It
// sets no deadline: the hub's write watchdog enforces WriteTimeout from
// writeStart, which costs nothing per write.
func (c *client) writeBatch(batch [][]byte) error {
	c.writeStart.Store(time.Now().UnixNano())
	defer c.writeStart.Store(0)
	if err := c.sock.writeFrames(batch); err != nil {
		return err
	}
	c.hub.counters.framesSent.Add(int64(len(batch)))
	return nil
}

// abort drops a connection whose writes are stuck: no close handshake can be
// written to it, so the socket is closed at once and the writer's pending
// write fails.
func (c *client) abort() {
	c.mu.Lock()
	if c.ping != nil {
		c.ping.Stop()
	}
	c.closed = true
	c.mu.Unlock()
	_ = c.conn.CloseNow()
	c.cancel()
}

// startPing arms the keepalive. Pings keep proxies with idle timeouts from
// cutting a quiet driver and find peers that vanished without a close.
func (c *client) startPing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.ping = time.AfterFunc(c.hub.cfg.PingInterval, c.pingOnce)
}

func (c *client) pingOnce() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.hub.wg.Add(1)
	c.mu.Unlock()
	defer c.hub.wg.Done()

	ctx, cancel := context.WithTimeout(c.ctx, c.hub.cfg.PingTimeout)
	err := c.conn.Ping(ctx)
	cancel()
	if err != nil {
		// A peer that does not answer a ping cannot take a close frame
		// either: drop the socket at once.
		c.hub.log.Debug("ping failed, dropping the connection", "role", c.role, "id", c.id, "err", err)
		c.abort()
		return
	}
	c.mu.Lock()
	if !c.closed {
		c.ping.Reset(c.hub.cfg.PingInterval)
	}
	c.mu.Unlock()
}

// close stops queueing and keepalive and closes the socket with code. Only
// the first call does anything. The close handshake runs in its own goroutine
// because it can wait seconds on a peer that does not answer, and no caller
// may wait for that.
func (c *client) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closeLocked(code, reason)
}

// closeLocked does the work of close with c.mu held and c.closed false. The
// goroutine is counted before closed flips, while the reader still holds its
// own count, so Shutdown's wait can never miss it.
func (c *client) closeLocked(code websocket.StatusCode, reason string) {
	c.closed = true
	if c.sock != nil {
		c.sock.closing.Store(true)
	}
	if c.ping != nil {
		c.ping.Stop()
	}
	c.hub.wg.Add(1)
	go func() {
		defer c.hub.wg.Done()
		_ = c.conn.Close(code, reason)
		c.cancel()
	}()
}

// finish is the reader's last step: it stops the client without a close
// handshake when nobody started one, because the reader only returns once the
// peer is gone or has closed.
func (c *client) finish() {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	if c.ping != nil {
		c.ping.Stop()
	}
	c.mu.Unlock()
	if first {
		_ = c.conn.CloseNow()
		c.cancel()
	}
}
