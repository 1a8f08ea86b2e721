package server

import (
	"context"
	"sync"
	"time"
)

// presenceWriter records joins and leaves in the presence store. Connects
// and disconnects only mark an id; one goroutine then writes, for each marked
// id, what the registry says at that moment: joined if the id has a
// connection here, left if not. Writes for one id therefore never overtake
// each other, however connects and disconnects interleave, and a write that
// failed is tried again.
type presenceWriter struct {
	s     *Server
	mu    sync.Mutex
	dirty map[presenceID]struct{}
	wake  chan struct{}
}

type presenceID struct {
	role Role
	id   string
}

func newPresenceWriter(s *Server) *presenceWriter {
	return &presenceWriter{s: s, dirty: map[presenceID]struct{}{}, wake: make(chan struct{}, 1)}
}

// touch marks id for the writer. It never blocks.
func (p *presenceWriter) touch(role Role, id string) {
	p.mu.Lock()
	p.dirty[presenceID{role, id}] = struct{}{}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run writes marked ids until ctx ends.
func (p *presenceWriter) run(ctx context.Context) {
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		case <-retry.C:
		}
		p.mu.Lock()
		batch := p.dirty
		p.dirty = make(map[presenceID]struct{}, len(batch))
		p.mu.Unlock()
		failed := false
		for pid := range batch {
			if err := p.write(ctx, pid); err != nil {
				if ctx.Err() != nil {
					return
				}
				p.s.log.Warn("presence", "role", pid.role, "id", pid.id, "err", err)
				p.mu.Lock()
				p.dirty[pid] = struct{}{}
				p.mu.Unlock()
				failed = true
			}
		}
		if failed {
			retry.Reset(500 * time.Millisecond)
		}
	}
}

func (p *presenceWriter) write(ctx context.Context, pid presenceID) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.s.do(ctx, true, func(b *backend) error {
		if p.s.hub.has(pid.role, pid.id) {
			return b.presence.Join(ctx, pid.role, pid.id)
		}
		return b.presence.Leave(ctx, pid.role, pid.id)
	})
}
