package lockctl

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/contract"
)

//go:embed clear.lua
var clearSource string

// clearScript runs with EVALSHA, falling back to EVAL on a fresh server.
var clearScript = redis.NewScript(clearSource)

// Outcome says what a clear found and did.
type Outcome string

// Outcomes of Clear and ClearStale, as recorded in the audit stream.
const (
	Cleared      Outcome = "cleared"       // the lock was deleted
	WouldClear   Outcome = "would_clear"   // dry run: it would have been deleted
	OwnerDiffers Outcome = "owner_differs" // another driver holds it; left in place
	NotFound     Outcome = "not_found"     // there was no lock
	NotLock      Outcome = "not_lock"      // the key is not a string; left in place
	NotStale     Outcome = "not_stale"     // clear --stale: it has an expiry again; left in place
)

// ClearOptions control Clear and ClearStale.
type ClearOptions struct {
	// Owner, when set, clears the lock only while this driver holds it.
	Owner string
	// DryRun checks and reports but deletes and records nothing.
	DryRun bool
	// Actor is who clears, recorded in the audit stream (usually $USER).
	Actor string
}

// Result is what one clear found and did.
type Result struct {
	OrderID string
	Key     string
	// Owner is the driver the lock held when it was examined: the previous
	// owner of a cleared lock, the current one when it was left in place.
	// For NotLock it is the key's Redis type.
	Owner string
	// TTL is the time the lock had left then, or NoExpiry.
	TTL     time.Duration
	Outcome Outcome
	// AuditID is the id of the audit record; empty for a dry run.
	AuditID string
}

// Clear deletes the lock of orderID, atomically checking it in Lua first:
// with opts.Owner set, only while that driver still holds it. Nothing is
// deleted on a dry run. Every other call is recorded in AuditStream, even
// when nothing was deleted.
//
// Errors wrap ErrInvalidOrderID, ErrLockNotFound, ErrOwnerDiffers,
// ErrNotLock, or ErrAuditNotRecorded (the lock was cleared but not
// recorded); the Result is filled in for all but the first.
func (c *Controller) Clear(ctx context.Context, orderID string, opts ClearOptions) (Result, error) {
	if err := ValidateOrderID(orderID); err != nil {
		return Result{}, err
	}
	return c.clearKey(ctx, LockKey(orderID), opts, false)
}

// ClearTotals counts what ClearStale did.
type ClearTotals struct {
	// Found is the number of stale locks found.
	Found int
	// Cleared is how many of them were deleted (none on a dry run).
	Cleared int
	// Skipped is how many changed between the scan and the clear (released,
	// re-taken with an expiry, or taken by another driver) and were left.
	Skipped int
}

// ClearStale clears every lock without expiry (held by opts.Owner, if set),
// calling fn with each result. Each lock is deleted only if it still has
// the same owner and still no expiry, so a lock re-taken normally since the
// scan survives. It walks the keyspace like List and stops at fn's error.
func (c *Controller) ClearStale(ctx context.Context, opts ClearOptions, fn func(Result) error) (ClearTotals, error) {
	var totals ClearTotals
	_, err := c.List(ctx, Filter{Owner: opts.Owner, Stale: true}, func(l Lock) error {
		totals.Found++
		o := opts
		o.Owner = l.Owner
		r, err := c.clearKey(ctx, l.Key(), o, true)
		if r.Outcome == "" {
			return err // Redis failed before the script answered
		}
		switch r.Outcome {
		case Cleared:
			totals.Cleared++
		case WouldClear:
		default:
			totals.Skipped++
			err = nil // a lock that changed meanwhile is not a failure
		}
		if err != nil {
			return err
		}
		return fn(r)
	})
	return totals, err
}

// clearKey runs the clear script on key. staleOnly keeps a lock that has an
// expiry again.
func (c *Controller) clearKey(ctx context.Context, key string, opts ClearOptions, staleOnly bool) (Result, error) {
	orderID := strings.TrimPrefix(key, contract.LockKeyPrefix)
	r := Result{OrderID: orderID, Key: key}
	reply, err := clearScript.Run(ctx, c.rdb, []string{key}, opts.Owner, flag(opts.DryRun), flag(staleOnly)).Slice()
	if err != nil {
		return r, fmt.Errorf("clear lock %s: %w", orderID, err)
	}
	if len(reply) != 3 {
		return r, fmt.Errorf("clear lock %s: unexpected script reply %v", orderID, reply)
	}
	outcome, _ := reply[0].(string)
	r.Outcome = Outcome(outcome)
	r.Owner, _ = reply[1].(string)
	ms, _ := reply[2].(int64)
	r.TTL = NoExpiry
	if ms >= 0 {
		r.TTL = time.Duration(ms) * time.Millisecond
	}

	if !opts.DryRun {
		id, aerr := c.appendAudit(ctx, r, opts)
		if aerr != nil {
			return r, fmt.Errorf("clear lock %s: %s, but %w: %w", orderID, r.Outcome, ErrAuditNotRecorded, aerr)
		}
		r.AuditID = id
	}
	switch r.Outcome {
	case Cleared, WouldClear:
		return r, nil
	case NotFound:
		return r, fmt.Errorf("clear lock %s: %w", orderID, ErrLockNotFound)
	case OwnerDiffers:
		return r, fmt.Errorf("clear lock %s: held by %q, not %q: %w", orderID, r.Owner, opts.Owner, ErrOwnerDiffers)
	case NotLock:
		return r, fmt.Errorf("clear lock %s: %s is a %s: %w", orderID, key, r.Owner, ErrNotLock)
	case NotStale:
		return r, nil
	}
	return r, fmt.Errorf("clear lock %s: unexpected outcome %q", orderID, outcome)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
