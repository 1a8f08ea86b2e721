package server

import (
	"context"
	"errors"
	"time"
)

// unsettled is the error of a state change (accept, cancel) whose reply
// from Redis never came: the script may have run. The caller answers
// unavailable; the settler finds out later and, if the change was this
// call's, publishes its events, so that no change takes effect without its
// event.
type unsettled struct {
	op      string // "accept" or "cancel"
	orderID string
	actor   string // the driver or rider who asked
	field   string // the hash field the script writes token to
	token   string
	err     error
}

func (u *unsettled) Error() string { return u.err.Error() }
func (u *unsettled) Unwrap() error { return u.err }

// settleAttempts and settleQueue bound the settler's work: how often it
// reads an order before it concludes the change did not happen, and how
// many changes may wait.
const (
	settleAttempts = 5
	settleQueue    = 1024
)

// settleLater hands an unsettled change to the settler. A change whose
// command never left the node (an exhausted pool) cannot have run and is
// not queued.
func (s *Server) settleLater(err error) {
	var u *unsettled
	if !errors.As(err, &u) || errors.Is(storeError(err), ErrOverloaded) || s.cluster == nil {
		return
	}
	select {
	case s.late <- u:
	default:
		s.log.Warn("too many unsettled changes: one is left to the next snapshot", "op", u.op, "order_id", u.orderID)
	}
}

// runSettler settles changes until ctx ends.
func (s *Server) runSettler(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case u := <-s.late:
			s.settle(ctx, u)
		}
	}
}

// settle reads, with backoff, whether u's script ran. If it did, the change
// was u's alone (its token is in the hash), so this is the one place its
// events are published.
func (s *Server) settle(ctx context.Context, u *unsettled) {
	f := s.cluster.failover
	wait := s.cfg.RedisTimeout / 2
	for range settleAttempts {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, 5*time.Second)
		if f.isDegraded() {
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RedisTimeout)
		mine, err := f.orders.appliedBy(rctx, u.orderID, u.field, u.token)
		var o Order
		if err == nil && mine {
			o, err = f.orders.Get(rctx, u.orderID)
		}
		cancel()
		if err != nil {
			continue
		}
		if !mine {
			continue
		}
		b := f.redis
		s.log.Info("a change whose reply was lost took effect: publishing its events", "op", u.op, "order_id", u.orderID)
		s.closeViewers(ctx, b, u.orderID)
		switch u.op {
		case "accept":
			s.counters.ordersAccepted.Add(1)
			s.publishAccepted(ctx, b, o)
		case "cancel":
			s.counters.ordersCancelled.Add(1)
			s.publishCancelled(ctx, b, o)
		}
		return
	}
}
