package server

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Greeting bounds. A burst of connects (a node's drivers reconnecting to
// the others when it leaves) is admitted at most greetSlots at a time; one
// that waits longer than greetWait is closed with 1013 and reconnects.
const (
	greetSlots = 64
	greetWait  = 10 * time.Second
	// maxReplay bounds the events a resuming client is sent; a longer gap
	// gets a snapshot.
	maxReplay = 10000
	// riderOrdersLimit bounds a rider's orders in its snapshot.
	riderOrdersLimit = 50
)

// greeter builds each connection's first frames: connected with either the
// events the client missed (resume) or a snapshot.
type greeter struct {
	s     *Server
	slots chan struct{}
	open  sharedRead
}

func newGreeter(s *Server) *greeter {
	return &greeter{s: s, slots: make(chan struct{}, greetSlots)}
}

// greet sends c its first frames and lets its writer run. since is the
// feed's ?since= value. It reports false when c was closed instead: the
// node was too busy, or could not read the snapshot, so the client must
// reconnect rather than take "nothing" for an answer.
func (g *greeter) greet(c *client, since string) bool {
	s := g.s
	t := time.NewTimer(greetWait)
	select {
	case g.slots <- struct{}{}:
		t.Stop()
	case <-t.C:
		c.end(reasonGreetFailed)
		return false
	case <-c.ctx.Done():
		t.Stop()
		return false
	}
	defer func() { <-g.slots }()

	ctx, cancel := context.WithTimeout(c.ctx, greetWait)
	defer cancel()
	hello := ConnectedMessage{NodeID: s.cfg.NodeID, Role: c.role, ID: c.id}
	if c.role == RoleDriver {
		c.viewing = make(map[string]struct{})
	}
	if since != "" {
		if first, mark, ok := g.resume(ctx, c, since, &hello); ok {
			c.open(first, mark, true)
			c.startPing()
			return true
		}
		hello.Recovered = new(bool)
	}
	var mark EventID
	err := s.do(ctx, true, func(b *backend) error {
		var err error
		if mark, err = b.broker.Tail(ctx, channelOf(c.role)); err != nil {
			return err
		}
		hello.Incomplete = b.partial
		return g.snapshot(ctx, b, c, time.Now(), &hello)
	})
	if err != nil {
		s.log.Warn("snapshot for connected frame", "role", c.role, "id", c.id, "err", err)
		c.end(reasonGreetFailed)
		return false
	}
	if !mark.IsZero() {
		hello.LastEventID = mark.String()
	}
	c.open([][]byte{wireFrame(encodeConnected(hello))}, mark, true)
	c.startPing()
	return true
}

// encodeConnected encodes hello. The open orders, shared by every driver
// greeted from one read and often hundreds of kilobytes, are spliced in as
// they are rather than passed through the encoder, which would check and
// copy them again for every driver.
func encodeConnected(hello ConnectedMessage) []byte {
	open := hello.OpenOrders
	hello.OpenOrders = nil
	b := encodeFrame(TypeConnected, hello) // {"type":"connected","message":{...}}
	if open == nil {
		return b
	}
	out := make([]byte, 0, len(b)+len(open)+16)
	out = append(out, b[:len(b)-2]...)
	out = append(out, `,"open_orders":`...)
	out = append(out, open...)
	return append(out, "}}"...)
}

// resume finds the events after since that concern c. ok is false when the
// log no longer covers since, or cannot be read now.
func (g *greeter) resume(ctx context.Context, c *client, since string, hello *ConnectedMessage) (first [][]byte, mark EventID, ok bool) {
	id, err := ParseEventID(since)
	if err != nil {
		return nil, EventID{}, false
	}
	b := g.s.backends.current()
	evs, covered, err := b.broker.Since(ctx, channelOf(c.role), id, maxReplay)
	if err != nil {
		err, _ = g.s.backends.observe(b, err)
		g.s.log.Info("resume: event log unreadable, sending a snapshot", "role", c.role, "id", c.id, "err", err)
		return nil, EventID{}, false
	}
	if !covered {
		return nil, EventID{}, false
	}
	mark = id
	first = [][]byte{nil}
	for _, ev := range evs {
		mark = ev.ID
		if ev.concerns(c.role, c.id) {
			first = append(first, wireFrame(ev.Frame))
		}
	}
	hello.Recovered = new(bool)
	*hello.Recovered = true
	hello.LastEventID = mark.String()
	first[0] = wireFrame(encodeConnected(*hello))
	return first, mark, true
}

// snapshot puts the client's view of the state into hello: every open order
// for a driver, the rider's recent orders for a rider. It is read after the
// log's end was read, so it reflects every event up to it.
func (g *greeter) snapshot(ctx context.Context, b *backend, c *client, after time.Time, hello *ConnectedMessage) error {
	if c.role == RoleDriver {
		open, err := g.open.read(ctx, b, after, b.orders.Open)
		if err != nil {
			return fmt.Errorf("open orders: %w", err)
		}
		hello.OpenOrders = open.forDriver(c.id)
		return nil
	}
	orders, _, err := b.orders.ByUser(ctx, c.id, riderOrdersLimit, "")
	if err != nil {
		return fmt.Errorf("orders of rider %s: %w", c.id, err)
	}
	if orders == nil {
		orders = []Order{}
	}
	hello.Orders = &orders
	return nil
}

// sharedRead lets concurrent greetings share one read of the open orders,
// encoded once: a caller joins a read that started after it read the
// log's end; while an older read is in flight it waits for it to end and
// then joins, or starts, the next one. A connect storm then costs a few
// reads, not one per driver.
type sharedRead struct {
	mu  sync.Mutex
	cur *openRead
}

type openRead struct {
	b       *backend
	started time.Time
	done    chan struct{}
	raw     json.RawMessage // the orders as a JSON array
	n       int
	err     error
	// orders are the orders read; targeted says some of them are
	// radius-limited, so that each driver's list is its own (see
	// forDriver).
	orders   []Order
	targeted bool
}

// forDriver returns the open orders driverID may take, as a JSON array:
// those offered to every driver, and the radius-limited ones offered to
// it. Without radius-limited orders every driver shares one encoding.
func (o *openRead) forDriver(driverID string) json.RawMessage {
	if !o.targeted {
		return o.raw
	}
	raw, _ := json.Marshal(offeredTo(o.orders, driverID)) // Orders always marshal
	return raw
}

// offeredTo returns the orders of open that driverID may take, never nil.
func offeredTo(open []Order, driverID string) []Order {
	out := make([]Order, 0, len(open))
	for _, o := range open {
		if o.OfferedToDriver(driverID) {
			out = append(out, o)
		}
	}
	return out
}

func (r *sharedRead) read(ctx context.Context, b *backend, after time.Time, fn func(context.Context) ([]Order, error)) (*openRead, error) {
	for {
		r.mu.Lock()
		cur := r.cur
		if cur != nil && cur.b == b && !cur.started.Before(after) {
			r.mu.Unlock()
			return cur.wait(ctx)
		}
		if cur != nil && cur.b == b && !cur.finished() {
			// An older read is in flight: wait for it, then join the
			// read that follows it.
			r.mu.Unlock()
			select {
			case <-cur.done:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		cur = &openRead{b: b, started: time.Now(), done: make(chan struct{})}
		r.cur = cur
		r.mu.Unlock()
		// The read serves every caller that joins it: it must not end with
		// the first caller's connection.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), greetWait)
		orders, err := fn(rctx)
		cancel()
		if orders == nil {
			orders = []Order{}
		}
		cur.n = len(orders)
		cur.orders = orders
		cur.targeted = slices.ContainsFunc(orders, Order.Targeted)
		if cur.err = err; err == nil {
			cur.raw, cur.err = json.Marshal(orders)
		}
		close(cur.done)
		if cur.err != nil {
			r.mu.Lock()
			if r.cur == cur {
				r.cur = nil
			}
			r.mu.Unlock()
		}
		return cur.wait(ctx)
	}
}

func (o *openRead) finished() bool {
	select {
	case <-o.done:
		return true
	default:
		return false
	}
}

func (o *openRead) wait(ctx context.Context) (*openRead, error) {
	select {
	case <-o.done:
		return o, o.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// resendOffered sends each local driver the open orders it may take, when
// some of them are radius-limited, and returns how many drivers it sent to.
func (s *Server) resendOffered(open []Order, partial bool) int {
	var drivers []string
	s.hub.eachID(func(role Role, id string) {
		if role == RoleDriver {
			drivers = append(drivers, id)
		}
	})
	n := 0
	for _, id := range drivers {
		frame := encodeFrame(TypeOpenOrders, OpenOrdersMessage{OpenOrders: offeredTo(open, id), Incomplete: partial})
		n += s.hub.sendTo(RoleDriver, id, EventID{}, wireFrame(frame))
	}
	return n
}

// resync sends every local client of ch a snapshot after a gap in its
// events that the log does not cover: drivers the open orders, each rider
// its recent orders. It runs on the delivery loop, before any later event of
// ch is delivered. An error means some clients got no snapshot; the caller
// tries again.
func (s *Server) resync(ctx context.Context, ch Channel) error {
	b := s.backends.current()
	if ch == ChannelUsers {
		// The events that say which order each driver serves may be
		// among those missed: the node asks the store again.
		s.rides.reset()
	}
	if ch == ChannelDrivers {
		open, err := b.orders.Open(ctx)
		if err != nil {
			return fmt.Errorf("open orders after a gap in fan-out: %w", err)
		}
		if open == nil {
			open = []Order{}
		}
		var n int
		if slices.ContainsFunc(open, Order.Targeted) {
			n = s.resendOffered(open, b.partial)
		} else {
			n = s.hub.broadcastDrivers(EventID{}, wireFrame(encodeFrame(TypeOpenOrders, OpenOrdersMessage{OpenOrders: open, Incomplete: b.partial})))
		}
		s.log.Info("resent open orders after a gap in fan-out", "orders", len(open), "drivers", n)
		return nil
	}
	var riders []string
	s.hub.eachID(func(role Role, id string) {
		if role == RoleUser {
			riders = append(riders, id)
		}
	})
	for _, id := range riders {
		orders, _, err := b.orders.ByUser(ctx, id, riderOrdersLimit, "")
		if err != nil {
			return fmt.Errorf("orders of rider %s after a gap in fan-out: %w", id, err)
		}
		if orders == nil {
			orders = []Order{}
		}
		s.hub.sendTo(RoleUser, id, EventID{}, wireFrame(encodeFrame(TypeRiderOrders, RiderOrdersMessage{Orders: orders})))
	}
	s.log.Info("resent riders their orders after a gap in fan-out", "riders", len(riders))
	return nil
}
