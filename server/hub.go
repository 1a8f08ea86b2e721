package server

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// hubShards splits the connection registry so that connects, disconnects and
// fan-outs on different shards never wait for one another.
const hubShards = 32

// hub is the registry of this node's connections and the last step of every
// fan-out: it queues an encoded frame to each local connection it concerns.
type hub struct {
	cfg      *Config
	log      *slog.Logger
	counters *counters
	seed     maphash.Seed

	// gate starts and counts every goroutine the hub's clients own:
	// readers, writers, pings and close handshakes. Shutdown waits on it.
	gate gate
	// closed counts ended connections by reason.
	closed closeCounts

	mu      sync.Mutex // guards closing; taken before any shard lock
	closing bool

	drivers atomic.Int64
	users   atomic.Int64
	shards  [hubShards]hubShard
}

type hubShard struct {
	mu      sync.RWMutex
	drivers []*client            // every driver connection, for broadcast
	byID    map[string][]*client // connections per id, both roles
}

func newHub(cfg *Config, log *slog.Logger, c *counters) *hub {
	h := &hub{cfg: cfg, log: log, counters: c, seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].byID = make(map[string][]*client)
	}
	return h
}

func (h *hub) shardFor(role Role, id string) *hubShard {
	var mh maphash.Hash
	mh.SetSeed(h.seed)
	mh.WriteString(string(role))
	mh.WriteString(id)
	return &h.shards[mh.Sum64()%hubShards]
}

func idKey(role Role, id string) string { return string(role) + ":" + id }

// register adds c to the registry. It reports false when the node is
// shutting down or full. A registered client holds one count of the gate, for the reader
// the registering goroutine becomes; serveClient releases it last of all.
func (h *hub) register(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	if max := h.cfg.MaxConns; max > 0 && h.drivers.Load()+h.users.Load() >= int64(max) {
		return false
	}
	h.gate.enter()
	s := h.shardFor(c.role, c.id)
	s.mu.Lock()
	key := idKey(c.role, c.id)
	s.byID[key] = append(s.byID[key], c)
	if c.role == RoleDriver {
		c.shardIdx = len(s.drivers)
		s.drivers = append(s.drivers, c)
		h.drivers.Add(1)
	} else {
		h.users.Add(1)
	}
	s.mu.Unlock()
	return true
}

// unregister removes c. The caller releases c's count of the gate when it
// has finished cleaning up after c; presence learns of the change from the
// registry itself (presence_writer.go).
func (h *hub) unregister(c *client) {
	s := h.shardFor(c.role, c.id)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := idKey(c.role, c.id)
	list := s.byID[key]
	for i, x := range list {
		if x == c {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			list = list[:len(list)-1]
			break
		}
	}
	if len(list) == 0 {
		delete(s.byID, key)
	} else {
		s.byID[key] = list
	}
	if c.role == RoleDriver {
		i := c.shardIdx
		n := len(s.drivers) - 1
		s.drivers[i] = s.drivers[n]
		s.drivers[i].shardIdx = i
		s.drivers[n] = nil
		s.drivers = s.drivers[:n]
		h.drivers.Add(-1)
	} else {
		h.users.Add(-1)
	}
}

// deliver is the broker's entry into this node: it queues one event to the
// local connections it concerns. It never blocks on a connection. An event
// for some drivers only costs a lookup per driver named, not a pass over
// every driver.
func (h *hub) deliver(ev Event) int {
	frame := wireFrame(ev.Frame)
	switch {
	case ev.Channel != ChannelDrivers:
		return h.sendTo(RoleUser, ev.UserID, ev.ID, frame)
	case ev.targeted():
		n := 0
		for _, id := range ev.Targets {
			n += h.sendTo(RoleDriver, id, ev.ID, frame)
		}
		return n
	}
	return h.broadcastDrivers(ev.ID, frame)
}

// broadcastDrivers queues a framed message to every local driver. Queueing
// is a short critical section per connection; the writes themselves happen
// on the connections' own writer goroutines, spread over every core.
func (h *hub) broadcastDrivers(id EventID, frame []byte) int {
	n := 0
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for _, c := range s.drivers {
			if c.queueEvent(id, frame) {
				n++
			}
		}
		s.mu.RUnlock()
	}
	return n
}

// sendTo queues a framed message to every local connection of one id.
func (h *hub) sendTo(role Role, id string, eventID EventID, frame []byte) int {
	s := h.shardFor(role, id)
	n := 0
	s.mu.RLock()
	for _, c := range s.byID[idKey(role, id)] {
		if c.queueEvent(eventID, frame) {
			n++
		}
	}
	s.mu.RUnlock()
	return n
}

// has reports whether id has a connection of role on this node.
func (h *hub) has(role Role, id string) bool {
	s := h.shardFor(role, id)
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byID[idKey(role, id)]) > 0
}

// eachID calls fn once for every id connected to this node.
func (h *hub) eachID(fn func(role Role, id string)) {
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for _, list := range s.byID {
			if len(list) > 0 {
				fn(list[0].role, list[0].id)
			}
		}
		s.mu.RUnlock()
	}
}

// each calls fn for every local connection, under its shard's read lock.
func (h *hub) each(fn func(*client)) {
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.RLock()
		for _, list := range s.byID {
			for _, c := range list {
				fn(c)
			}
		}
		s.mu.RUnlock()
	}
}

// shutdown refuses new connections and closes every connection with 1001 so
// that clients reconnect to another node. It does not wait; wait does.
func (h *hub) shutdown() {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	h.each(func(c *client) { c.end(reasonShutdown) })
}

// runWriteWatchdog closes connections whose current write has taken longer
// than WriteTimeout: a client that stopped reading with a full socket buffer
// would otherwise hold its writer forever. One goroutine for the node, in
// place of a timer per write; it exits when ctx ends.
func (h *hub) runWriteWatchdog(ctx context.Context) {
	every := max(h.cfg.WriteTimeout/4, 10*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			limit := now.Add(-h.cfg.WriteTimeout).UnixNano()
			h.each(func(c *client) {
				if start := c.writeStart.Load(); start != 0 && start < limit {
					h.counters.slowClients.Add(1)
					h.log.Info("closing a connection whose writes are stuck", "role", c.role, "id", c.id, "write_timeout", h.cfg.WriteTimeout)
					c.end(reasonStuckWrite)
				}
			})
		}
	}
}
