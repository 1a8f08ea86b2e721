package lockctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// AuditRecord is one entry of AuditStream: one clear.
type AuditRecord struct {
	ID    string // the stream entry id
	Time  time.Time
	Actor string // who ran it ($USER)
	Host  string // where it ran
	Key   string
	// OrderID is the order whose lock it was.
	OrderID string
	// Owner and TTL are what the lock held when it was examined; TTL is
	// NoExpiry for a stale lock.
	Owner string
	TTL   time.Duration
	// ExpectedOwner is the --owner given, empty if none.
	ExpectedOwner string
	Outcome       Outcome
}

// Stream field names; docs/lock.md documents them for people reading the
// stream with redis-cli.
const (
	fieldTime          = "time"
	fieldActor         = "actor"
	fieldHost          = "host"
	fieldKey           = "key"
	fieldOrderID       = "order_id"
	fieldPrevOwner     = "prev_owner"
	fieldPrevTTL       = "prev_ttl_ms"
	fieldExpectedOwner = "expected_owner"
	fieldResult        = "result"
)

func (c *Controller) appendAudit(ctx context.Context, r Result, opts ClearOptions) (string, error) {
	actor := opts.Actor
	if actor == "" {
		actor = "unknown"
	}
	ttl := int64(-1)
	if r.TTL != NoExpiry {
		ttl = r.TTL.Milliseconds()
	}
	return c.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: AuditStream,
		MaxLen: c.auditMaxLen,
		Approx: true, // "~": trim whole macro nodes, cheap on every append
		Values: []any{
			fieldTime, time.Now().UTC().Format(time.RFC3339Nano),
			fieldActor, actor,
			fieldHost, c.host,
			fieldKey, r.Key,
			fieldOrderID, r.OrderID,
			fieldPrevOwner, r.Owner,
			fieldPrevTTL, strconv.FormatInt(ttl, 10),
			fieldExpectedOwner, opts.Owner,
			fieldResult, string(r.Outcome),
		},
	}).Result()
}

// Audit returns the n most recent audit records, newest first.
func (c *Controller) Audit(ctx context.Context, n int) ([]AuditRecord, error) {
	if n <= 0 {
		return nil, nil
	}
	msgs, err := c.rdb.XRevRangeN(ctx, AuditStream, "+", "-", int64(n)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read %s: %w", AuditStream, err)
	}
	records := make([]AuditRecord, 0, len(msgs))
	for _, m := range msgs {
		records = append(records, parseAudit(m))
	}
	return records, nil
}

func parseAudit(m redis.XMessage) AuditRecord {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	r := AuditRecord{
		ID:            m.ID,
		Actor:         s(fieldActor),
		Host:          s(fieldHost),
		Key:           s(fieldKey),
		OrderID:       s(fieldOrderID),
		Owner:         s(fieldPrevOwner),
		ExpectedOwner: s(fieldExpectedOwner),
		Outcome:       Outcome(s(fieldResult)),
		TTL:           NoExpiry,
	}
	r.Time, _ = time.Parse(time.RFC3339Nano, s(fieldTime))
	if ms, err := strconv.ParseInt(s(fieldPrevTTL), 10, 64); err == nil && ms >= 0 {
		r.TTL = time.Duration(ms) * time.Millisecond
	}
	return r
}
