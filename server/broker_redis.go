package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/taxi-hub/taxi/contract"
)

// redisBroker logs events in one capped stream per channel and publishes
// them on the contract channels, both in publish.lua. Every node, the
// publisher included, receives events through its own subscriptions
// (subscription.go), which a sequencer per channel keeps in id order and
// repairs from the stream after any gap. On Redis Cluster it uses sharded
// Pub/Sub, which keeps each channel's traffic on one shard.
type redisBroker struct {
	rdb       redis.UniversalClient
	sharded   bool
	max       int
	retention time.Duration
	seq       map[Channel]*sequencer
}

var _ Broker = (*redisBroker)(nil)

func newRedisBroker(cfg *Config, rdb redis.UniversalClient, sharded bool, deliver deliverFunc) *redisBroker {
	return &redisBroker{
		rdb:       rdb,
		sharded:   sharded,
		max:       cfg.EventRetentionMax,
		retention: cfg.EventRetention,
		seq: map[Channel]*sequencer{
			ChannelDrivers: newSequencer(ChannelDrivers, deliver),
			ChannelUsers:   newSequencer(ChannelUsers, deliver),
		},
	}
}

func (b *redisBroker) Publish(ctx context.Context, ev Event) (Event, error) {
	sharded := "0"
	if b.sharded {
		sharded = "1"
	}
	targeted := "0"
	if ev.targeted() {
		targeted = "1"
	}
	keys := []string{eventsKey(ev.Channel), epochKey(ev.Channel)}
	raw, err := publishScript.Run(ctx, b.rdb, keys, string(ev.Channel), ev.Type, ev.Message, ev.UserID,
		b.max, b.retention.Milliseconds(), sharded, targeted, ev.targetsText()).Text()
	if err != nil {
		return ev, fmt.Errorf("publish %s event: %w", ev.Type, storeError(err))
	}
	id, err := ParseEventID(raw)
	if err != nil {
		return ev, fmt.Errorf("publish %s event: %w: %w", ev.Type, ErrInternal, err)
	}
	return ev.withID(id), nil
}

// replayBatch is how many log entries one read takes.
const replayBatch = 512

func (b *redisBroker) Since(ctx context.Context, ch Channel, id EventID, max int) ([]Event, bool, error) {
	key := eventsKey(ch)
	if id.IsZero() {
		return nil, false, nil
	}
	found, err := b.rdb.XRange(ctx, key, id.String(), id.String()).Result()
	if err != nil {
		return nil, false, fmt.Errorf("read %s log: %w", ch, storeError(err))
	}
	if len(found) == 0 {
		return nil, false, nil
	}
	var out []Event
	from := id
	for {
		msgs, err := b.rdb.XRangeN(ctx, key, "("+from.String(), "+", replayBatch).Result()
		if err != nil {
			return nil, false, fmt.Errorf("read %s log: %w", ch, storeError(err))
		}
		for _, m := range msgs {
			ev, err := eventFromStream(ch, m)
			if err != nil {
				return nil, false, err
			}
			out = append(out, ev)
			from = ev.ID
		}
		if len(out) > max {
			return nil, false, nil
		}
		if len(msgs) < replayBatch {
			return out, true, nil
		}
	}
}

// Tail returns the id of the newest event in ch's log, zero when none.
func (b *redisBroker) Tail(ctx context.Context, ch Channel) (EventID, error) {
	msgs, err := b.rdb.XRevRangeN(ctx, eventsKey(ch), "+", "-", 1).Result()
	if err != nil {
		return EventID{}, fmt.Errorf("read %s log: %w", ch, storeError(err))
	}
	if len(msgs) == 0 {
		return EventID{}, nil
	}
	id, err := ParseEventID(msgs[0].ID)
	if err != nil {
		return EventID{}, fmt.Errorf("read %s log: %w: %w", ch, ErrInternal, err)
	}
	return id, nil
}

func (b *redisBroker) Delivered(ctx context.Context, ch Channel, id EventID) error {
	return b.seq[ch].wait(ctx, id)
}

// epoch returns the current epoch of ch's log, starting one when the log
// has none (a first start, or a restart of Redis that lost it).
func (b *redisBroker) epoch(ctx context.Context, ch Channel) (string, error) {
	fresh := strconv.FormatInt(time.Now().UnixNano(), 36) + "." + newOrderID()[:6]
	e, err := b.rdb.SetArgs(ctx, epochKey(ch), fresh, redis.SetArgs{Mode: "NX", Get: true}).Result()
	if errors.Is(err, redis.Nil) {
		return fresh, nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s epoch: %w", ch, storeError(err))
	}
	return e, nil
}

// eventFromStream rebuilds an event, frame included, from its log entry.
func eventFromStream(ch Channel, m redis.XMessage) (Event, error) {
	id, err := ParseEventID(m.ID)
	typ, _ := m.Values["t"].(string)
	msg, _ := m.Values["m"].(string)
	user, _ := m.Values["u"].(string)
	to, targeted := m.Values[contract.TargetsField].(string)
	if err != nil || typ == "" || msg == "" {
		return Event{}, fmt.Errorf("%s log entry %s: %w", ch, m.ID, ErrInternal)
	}
	ev := Event{Channel: ch, Type: typ, Message: []byte(msg), UserID: user, Targets: parseTargets(to, targeted)}
	return ev.withID(id), nil
}

// catchUp brings ch's sequencer from the last event it delivered to the end
// of the log. When the log no longer covers that gap it delivers nothing
// from it, moves to the log's end and calls resync, which sends the node's
// clients snapshots instead. It runs on the subscription's goroutine right
// after the subscription is confirmed, so later arrivals follow it in order.
func (b *redisBroker) catchUp(ctx context.Context, ch Channel, resync func(context.Context, Channel) error) (replayed int, err error) {
	sq := b.seq[ch]
	epoch, err := b.epoch(ctx, ch)
	if err != nil {
		return 0, err
	}
	last, known := sq.position(epoch)
	covered := known
	if known && !last.IsZero() {
		found, err := b.rdb.XRange(ctx, eventsKey(ch), last.String(), last.String()).Result()
		if err != nil {
			return 0, fmt.Errorf("read %s log: %w", ch, storeError(err))
		}
		covered = len(found) > 0
	}
	if !covered {
		tail, err := b.Tail(ctx, ch)
		if err != nil {
			return 0, err
		}
		// The position moves only once the snapshots are out: a snapshot
		// that failed is tried again with the next subscription.
		if err := resync(ctx, ch); err != nil {
			return 0, err
		}
		sq.reset(tail, epoch)
		last = tail
	}
	start := "-"
	if !last.IsZero() {
		start = "(" + last.String()
	}
	for {
		msgs, err := b.rdb.XRangeN(ctx, eventsKey(ch), start, "+", replayBatch).Result()
		if err != nil {
			return replayed, fmt.Errorf("read %s log: %w", ch, storeError(err))
		}
		for _, m := range msgs {
			ev, err := eventFromStream(ch, m)
			if err != nil {
				return replayed, err
			}
			if sq.arrive(ev) {
				replayed++
			}
			start = "(" + ev.ID.String()
		}
		if len(msgs) < replayBatch {
			return replayed, nil
		}
	}
}

// probePublish publishes a probe number on the node's own channel, outside
// the event log.
func (b *redisBroker) probePublish(ctx context.Context, channel string, n int64) error {
	var err error
	if b.sharded {
		err = b.rdb.SPublish(ctx, channel, strconv.FormatInt(n, 10)).Err()
	} else {
		err = b.rdb.Publish(ctx, channel, strconv.FormatInt(n, 10)).Err()
	}
	if err != nil {
		return fmt.Errorf("publish probe: %w", storeError(err))
	}
	return nil
}

// start sets each channel's position to the end of its log, before the
// first subscription: the first catch-up then delivers only what was logged
// since, and clients that connect meanwhile need no second snapshot.
func (b *redisBroker) start(ctx context.Context) error {
	for ch, sq := range b.seq {
		epoch, err := b.epoch(ctx, ch)
		if err != nil {
			return err
		}
		tail, err := b.Tail(ctx, ch)
		if err != nil {
			return err
		}
		sq.reset(tail, epoch)
	}
	return nil
}
