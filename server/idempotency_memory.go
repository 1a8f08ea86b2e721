package server

import (
	"context"
	"sync"
	"time"
)

// memoryIdempotency is the IdempotencyStore of a single node. Records are
// kept encoded, so a claim is compared exactly as Redis compares it.
type memoryIdempotency struct {
	mu      sync.Mutex
	records map[string]memoryRecord
	now     func() time.Time
}

type memoryRecord struct {
	value   string
	expires time.Time
}

var _ IdempotencyStore = (*memoryIdempotency)(nil)

func newMemoryIdempotency() *memoryIdempotency {
	return &memoryIdempotency{records: make(map[string]memoryRecord), now: time.Now}
}

func (m *memoryIdempotency) Claim(_ context.Context, userID, key string, rec IdempotencyRecord, ttl time.Duration) (IdempotencyRecord, bool, error) {
	k := idempotencyKey(userID, key)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.records[k]; ok && now.Before(cur.expires) {
		held, err := decodeIdempotencyRecord(cur.value)
		return held, false, err
	}
	m.records[k] = memoryRecord{value: rec.encode(), expires: now.Add(ttl)}
	return rec, true, nil
}

func (m *memoryIdempotency) Settle(_ context.Context, userID, key string, claim IdempotencyRecord, done *IdempotencyRecord, ttl time.Duration) error {
	k := idempotencyKey(userID, key)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.records[k]
	if !ok || !now.Before(cur.expires) || cur.value != claim.encode() {
		return nil
	}
	if done == nil {
		delete(m.records, k)
		return nil
	}
	m.records[k] = memoryRecord{value: done.encode(), expires: now.Add(ttl)}
	return nil
}

// sweep forgets expired records.
func (m *memoryIdempotency) sweep() {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, r := range m.records {
		if !now.Before(r.expires) {
			delete(m.records, k)
		}
	}
}
