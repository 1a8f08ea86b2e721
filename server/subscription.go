package server

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"
)

// linkHooks are what the Redis broker's delivery loop needs from the node.
type linkHooks struct {
	log *slog.Logger
	// ready is false while the node serves from memory: events that
	// arrive then are left to the catch-up after it rejoins.
	ready func() bool
	// resync sends the node's clients of ch snapshots after a gap the log
	// does not cover.
	resync func(ctx context.Context, ch Channel) error
	// failed reports an error of a call to Redis, for failover.
	failed func(err error)
}

// subscriptionStats are the delivery loop's counters for /ws/stats.
type subscriptionStats struct {
	probeFailures atomic.Int64
	resubscribes  atomic.Int64
}

// delivery is the Redis broker's delivery loop: one subscription per shard
// of channels, and the probe that catches a subscription that stays
// connected but stopped delivering.
type delivery struct {
	b         *redisBroker
	hooks     linkHooks
	subs      []*subscription
	probeChan string
	probeSeq  atomic.Int64
	probeSeen atomic.Int64
	interval  time.Duration
	stats     subscriptionStats
}

func newDelivery(b *redisBroker, nodeID string, probeInterval time.Duration, hooks linkHooks) *delivery {
	d := &delivery{b: b, hooks: hooks, probeChan: probeChannel(nodeID), interval: probeInterval}
	channels := []string{string(ChannelDrivers), string(ChannelUsers), d.probeChan}
	if b.sharded {
		// Sharded channels live on different shards: one subscription each.
		for _, ch := range channels {
			d.subs = append(d.subs, &subscription{d: d, channels: []string{ch}})
		}
	} else {
		d.subs = []*subscription{{d: d, channels: channels}}
	}
	return d
}

// Run keeps the subscriptions and the probe going until ctx ends.
func (d *delivery) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, sub := range d.subs {
		// Each subscription's goroutine exits when ctx ends.
		g.Go(func() error { sub.run(ctx); return nil })
	}
	// The probe exits when ctx ends.
	g.Go(func() error { d.runProbe(ctx); return nil })
	return g.Wait()
}

// subscribed reports whether every subscription is up.
func (d *delivery) subscribed() bool {
	for _, s := range d.subs {
		if !s.active.Load() {
			return false
		}
	}
	return true
}

// restart rebuilds every subscription; each catches up from the log when it
// is back.
func (d *delivery) restart() {
	for _, s := range d.subs {
		s.restart()
	}
}

// runProbe publishes a numbered probe on the node's own channel every
// interval and checks that the previous one came back.
func (d *delivery) runProbe(ctx context.Context) {
	t := time.NewTicker(d.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !d.hooks.ready() || !d.subscribed() {
			d.probeSeq.Store(0)
			continue
		}
		if sent := d.probeSeq.Load(); sent > 0 && d.probeSeen.Load() < sent {
			d.stats.probeFailures.Add(1)
			d.hooks.log.Warn("subscription probe did not come back: rebuilding the subscription", "probe", sent)
			d.restart()
			d.probeSeq.Store(0)
			continue
		}
		seq := d.probeSeq.Add(1)
		if err := d.b.probePublish(ctx, d.probeChan, seq); err != nil {
			d.probeSeq.Store(0)
			d.hooks.failed(err)
		}
	}
}

// subscription is one Pub/Sub connection and the goroutine that reads it.
type subscription struct {
	d        *delivery
	channels []string
	active   atomic.Bool
	ps       atomic.Pointer[redis.PubSub]
	// Fields below are used only by the subscription's goroutine.
	started bool // a first subscription happened; later ones follow a gap
	lost    int  // losses logged since the last confirmed subscription
	// caughtUp is true once this connection's gap was repaired from the
	// log; until then arrivals are left to the next catch-up, so that none
	// moves the node's position past events it has not delivered.
	caughtUp bool
}

// restart closes the current connection; run opens a new one.
func (s *subscription) restart() {
	if ps := s.ps.Load(); ps != nil {
		_ = ps.Close()
	}
}

// run keeps the subscription open until ctx ends, reconnecting with backoff.
func (s *subscription) run(ctx context.Context) {
	b := s.d.b
	backoff := newBackoff(50*time.Millisecond, 2*time.Second)
	for ctx.Err() == nil {
		var ps *redis.PubSub
		if b.sharded {
			ps = b.rdb.SSubscribe(ctx, s.channels...)
		} else {
			ps = b.rdb.Subscribe(ctx, s.channels...)
		}
		s.ps.Store(ps)
		stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
		err := s.read(ctx, ps, backoff)
		stop()
		_ = ps.Close()
		s.active.Store(false)
		if ctx.Err() != nil {
			return
		}
		// One line per outage, not one per retry.
		if s.lost == 0 {
			s.d.hooks.log.Warn("redis subscription lost", "channels", s.channels, "err", err)
		}
		s.lost++
		if !backoff.wait(ctx) {
			return
		}
	}
}

// read delivers messages until the connection fails.
func (s *subscription) read(ctx context.Context, ps *redis.PubSub, backoff *backoff) error {
	d := s.d
	confirmed := 0
	for {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			confirmed++
			if confirmed == len(s.channels) {
				if err := s.confirmed(ctx); err != nil {
					return err
				}
				backoff.reset()
			}
		case *redis.Message:
			if m.Channel == d.probeChan {
				if n, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
					d.probeSeen.Store(n)
				}
				continue
			}
			if !s.caughtUp {
				// The catch-up after the node rejoins delivers it.
				continue
			}
			ch := Channel(m.Channel)
			ev, err := parseEventFrame(ch, []byte(m.Payload))
			if err != nil {
				d.hooks.log.Warn("dropping a frame that is not an event", "channel", ch, "err", err)
				continue
			}
			d.b.seq[ch].arrive(ev)
		}
	}
}

// confirmed runs when every channel of the subscription is confirmed: the
// gap before it, if any, is repaired from the log before the first message
// after it is read. While the node serves from memory the repair waits for
// the rejoin, which rebuilds the subscription.
func (s *subscription) confirmed(ctx context.Context) error {
	d := s.d
	if s.started {
		d.stats.resubscribes.Add(1)
		d.hooks.log.Info("redis subscription restored", "channels", s.channels, "attempts", s.lost)
	}
	s.started = true
	s.lost = 0
	s.caughtUp = false
	if d.hooks.ready() {
		for _, name := range s.channels {
			ch := Channel(name)
			if d.b.seq[ch] == nil {
				continue
			}
			n, err := d.b.catchUp(ctx, ch, d.hooks.resync)
			if err != nil {
				d.hooks.failed(err)
				return err
			}
			if n > 0 {
				d.hooks.log.Info("delivered events missed in a gap", "channel", ch, "events", n)
			}
		}
		s.caughtUp = true
	}
	s.active.Store(true)
	return nil
}

// backoff doubles a wait from min to max.
type backoff struct {
	min, max, next time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, next: min} }

func (b *backoff) reset() { b.next = b.min }

// wait sleeps for the next interval; it reports false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = min(b.next*2, b.max)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
