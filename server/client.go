package server

import (
	"context"
	"errors"
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
// timer. Every goroutine of a client starts through the hub's gate.
type client struct {
	role Role
	id   string
	conn *websocket.Conn
	sock *sockWriter // conn's socket, for data frames framed by the hub
	hub  *hub

	// ctx ends when the connection has ended for any reason; reads and
	// pings use it, and the writer stops when it ends.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   [][]byte // frames waiting for the writer, oldest first
	spare   [][]byte // the writer's last batch, reused to avoid allocation
	writing bool     // a writer goroutine is running
	// runWriter is writeLoop as a func value, made once per connection
	// rather than once per writer started.
	runWriter func()
	// held is true from registration until open: frames queue behind the
	// first frame, which is still being built, and heldIDs keeps the event
	// id of each (zero for frames that are not events).
	held    bool
	heldIDs []EventID
	// mark, while set, is the last event the client has: events up to it
	// that reach the connection later are dropped. Events reach a
	// connection in id order, so the first one after mark clears it.
	mark    EventID
	hasMark bool
	ended   bool        // end ran: no more frames, no more goroutines
	reason  closeReason // why it ended
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

// send queues one frame that is not an event.
func (c *client) send(msg []byte) bool { return c.queueEvent(EventID{}, wireFrame(msg)) }

// queueEvent queues a framed message (see wireFrame) without blocking; id is
// its event id, zero for frames that are not events. It reports false when
// the client has ended, already has the event, or fell too far behind; in
// the last case the client ends as a slow consumer.
func (c *client) queueEvent(id EventID, frame []byte) bool {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return false
	}
	if c.hasMark && !id.IsZero() {
		if !c.mark.Less(id) {
			c.mu.Unlock()
			return false
		}
		c.hasMark = false
	}
	if len(c.queue) >= c.hub.cfg.SendQueue {
		c.hub.counters.slowClients.Add(1)
		c.hub.counters.framesDropped.Add(int64(len(c.queue)) + 1)
		c.endLocked(reasonSlowConsumer)
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, frame)
	if c.held {
		c.heldIDs = append(c.heldIDs, id)
	} else if !c.writing {
		c.startWriterLocked()
	}
	c.mu.Unlock()
	return true
}

func (c *client) startWriterLocked() {
	c.writing = true
	if c.runWriter == nil {
		c.runWriter = c.writeLoop
	}
	c.hub.gate.start(c.runWriter)
}

// open puts the first frames (connected, then any replayed events) at the
// head of the queue and lets the writer run. Frames queued while the client
// was held stay behind them, except events the client has through first:
// those up to mark, when hasMark.
func (c *client) open(first [][]byte, mark EventID, hasMark bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	if c.ended {
		return
	}
	q := make([][]byte, 0, len(first)+len(c.queue))
	q = append(q, first...)
	for i, f := range c.queue {
		if id := c.heldIDs[i]; hasMark && !id.IsZero() && !mark.Less(id) {
			continue
		}
		q = append(q, f)
	}
	c.queue, c.heldIDs = q, nil
	c.mark, c.hasMark = mark, hasMark
	c.startWriterLocked()
}

// clearMark forgets the client's mark: after a switch of backend, event ids
// of the new log do not compare with the old.
func (c *client) clearMark() {
	c.mu.Lock()
	c.hasMark = false
	c.mu.Unlock()
}

// writeLoop writes queued frames until the queue is empty, then exits. Frames
// queued while it writes are taken in the next batch, so a client that falls
// behind catches up in few wake-ups. It exits as soon as the queue is empty,
// a write fails or the client's context ends.
func (c *client) writeLoop() {
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
			c.writing = false
			c.hub.counters.framesDropped.Add(int64(len(c.queue)))
			c.queue = nil
			if !errors.Is(err, errClosing) {
				c.hub.log.Debug("write failed, closing", "role", c.role, "id", c.id, "err", err)
				c.endLocked(reasonWriteFailed)
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

// startPing arms the keepalive. Pings keep proxies with idle timeouts from
// cutting a quiet driver and find peers that vanished without a close.
func (c *client) startPing() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return
	}
	c.ping = time.AfterFunc(c.hub.cfg.PingInterval, c.pingOnce)
}

// pingOnce runs on the ping timer's goroutine, counted by the gate while it
// waits for the pong.
func (c *client) pingOnce() {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.hub.gate.enter()
	c.mu.Unlock()
	defer c.hub.gate.exit()

	ctx, cancel := context.WithTimeout(c.ctx, c.hub.cfg.PingTimeout)
	err := c.conn.Ping(ctx)
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		if timedOut {
			c.hub.log.Debug("no pong in time, closing", "role", c.role, "id", c.id)
			c.end(reasonPingTimeout)
		}
		// Otherwise the connection is ending already, and its reader
		// records why.
		return
	}
	c.mu.Lock()
	if !c.ended {
		c.ping.Reset(c.hub.cfg.PingInterval)
	}
	c.mu.Unlock()
}

// end ends the connection for reason. Only the first call does anything: it
// records and counts the reason, stops queueing and keepalive, and closes the
// socket, with a close frame when the reason allows one. The close handshake
// runs on its own goroutine, bounded by closeTimeout, because a peer may
// never answer it and no caller may wait for that.
func (c *client) end(reason closeReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.endLocked(reason)
}

// endLocked is end with c.mu held. The close goroutine is counted while the
// reader still holds its own count, so Shutdown's wait can never miss it.
func (c *client) endLocked(reason closeReason) {
	if c.ended {
		return
	}
	c.ended = true
	c.reason = reason
	c.hub.closed[reason].Add(1)
	if c.sock != nil {
		c.sock.closing.Store(true)
	}
	if c.ping != nil {
		c.ping.Stop()
	}
	info := closeInfos[reason]
	if !info.frame {
		c.hub.gate.start(func() {
			_ = c.conn.CloseNow()
			if c.sock != nil {
				_ = c.sock.conn.Close()
			}
			c.cancel()
		})
		return
	}
	c.hub.gate.start(func() {
		// The socket is freed within closeTimeout whatever the peer does.
		var stop *time.Timer
		if c.sock != nil {
			stop = time.AfterFunc(closeTimeout, func() { _ = c.sock.conn.Close() })
		}
		_ = c.conn.Close(info.code, info.text)
		if stop != nil {
			stop.Stop()
		}
		c.cancel()
	})
}
