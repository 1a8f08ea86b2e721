package lockctl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/contract"
)

// Filter selects the locks List reports. The zero Filter selects every lock.
type Filter struct {
	// OrderID selects the lock of one order; it is read directly, without
	// walking the keyspace.
	OrderID string
	// Owner selects the locks held by one driver.
	Owner string
	// Stale selects only the locks without expiry.
	Stale bool
}

func (f Filter) match(l Lock) bool {
	return (f.Owner == "" || l.Owner == f.Owner) && (!f.Stale || l.Stale())
}

// Totals counts what a List walk found.
type Totals struct {
	// Scanned is the number of order_lock:* keys examined. SCAN may return a
	// key twice while Redis rehashes, so this is approximate on a busy node.
	Scanned int
	// Matched is the number of locks passed to the callback.
	Matched int
	// Stale is how many of the matched locks have no expiry.
	Stale int
	// NotLocks is the number of order_lock:* keys that are not strings.
	NotLocks int
}

// List walks every order_lock:* key (on every master of a Cluster) with
// SCAN, fetches owners and TTLs one batch at a time in a pipeline, and calls
// fn for each lock that matches f. Memory stays bounded by one batch however
// many locks there are. Locks that vanish between SCAN and the read (they
// expire every 5 s) are skipped. On a Cluster, masters are walked
// concurrently but fn is never called concurrently.
//
// If fn returns an error, List stops and returns it.
func (c *Controller) List(ctx context.Context, f Filter, fn func(Lock) error) (Totals, error) {
	if f.OrderID != "" {
		if err := ValidateOrderID(f.OrderID); err != nil {
			return Totals{}, err
		}
	}
	w := &walk{filter: f, fn: fn}
	var err error
	if f.OrderID != "" {
		err = w.inspect(ctx, c.rdb, []string{LockKey(f.OrderID)})
	} else {
		err = c.forEachNode(ctx, w.scan)
	}
	if err != nil && !errors.Is(err, w.fnErr) {
		err = fmt.Errorf("list locks: %w", err)
	}
	return w.totals, err
}

// forEachNode runs fn on the node holding the whole keyspace, or on every
// master of a Cluster, cancelling the others when one fails.
func (c *Controller) forEachNode(ctx context.Context, fn func(context.Context, redis.Cmdable) error) error {
	cc, ok := c.rdb.(*redis.ClusterClient)
	if !ok {
		return fn(ctx, c.rdb)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// ForEachMaster returns whichever error its goroutines report first,
	// which may be another master's "context canceled"; keep the cause.
	var once sync.Once
	var cause error
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		err := fn(ctx, node)
		if err != nil {
			once.Do(func() { cause = err; cancel() })
		}
		return err
	})
	if cause != nil {
		return cause
	}
	return err
}

// walk is the state of one List call. mu serialises the callback and the
// totals between Cluster masters.
type walk struct {
	filter Filter
	fn     func(Lock) error

	mu     sync.Mutex
	totals Totals
	fnErr  error // the callback's error, returned as is
}

func (w *walk) scan(ctx context.Context, node redis.Cmdable) error {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, contract.LockKeyPrefix+"*", scanCount).Result()
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		if len(keys) > 0 {
			if err := w.inspect(ctx, node, keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// inspect reads the owner and TTL of keys in one pipeline and reports the
// matching locks.
func (w *walk) inspect(ctx context.Context, node redis.Cmdable, keys []string) error {
	pipe := node.Pipeline()
	gets := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		gets[i] = pipe.Get(ctx, k)
		ttls[i] = pipe.PTTL(ctx, k)
	}
	// Exec's own error is the first failed command, which includes the
	// expected redis.Nil and WRONGTYPE; each command is checked below.
	_, _ = pipe.Exec(ctx)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fnErr != nil {
		return w.fnErr
	}
	for i, k := range keys {
		owner, err := gets[i].Result()
		ttl, terr := ttls[i].Result()
		switch {
		case errors.Is(err, redis.Nil) || ttl == -2:
			continue // expired or released since SCAN
		case isWrongType(err):
			w.totals.Scanned++
			w.totals.NotLocks++
			continue
		case err != nil:
			return fmt.Errorf("read %s: %w", k, err)
		case terr != nil:
			return fmt.Errorf("read ttl of %s: %w", k, terr)
		}
		w.totals.Scanned++
		l := Lock{OrderID: strings.TrimPrefix(k, contract.LockKeyPrefix), Owner: owner, TTL: ttl}
		if ttl == -1 {
			l.TTL = NoExpiry
		}
		if !w.filter.match(l) {
			continue
		}
		w.totals.Matched++
		if l.Stale() {
			w.totals.Stale++
		}
		if err := w.fn(l); err != nil {
			w.fnErr = err
			return err
		}
	}
	return nil
}
