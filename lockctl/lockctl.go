package lockctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/taxi-hub/taxi/contract"
)

const (
	// AuditStream is the capped stream where every clear is recorded,
	// contract.KeyLockAudit.
	AuditStream = contract.KeyLockAudit
	// AuditMaxLen is the approximate number of records the stream keeps.
	AuditMaxLen = 10000
)

// NoExpiry is the TTL of a lock that never expires: a stale lock.
const NoExpiry time.Duration = -1

// scanCount is the SCAN COUNT hint, and so the size of each batch whose
// owners and TTLs are fetched in one pipeline: big enough for few round
// trips over a million keys, small enough to keep memory flat.
const scanCount = 1000

var (
	// ErrInvalidOrderID is returned, before Redis is touched, for an order
	// id that is not 1 to 64 letters, digits, '_' or '-'.
	ErrInvalidOrderID = errors.New("lockctl: invalid order id")
	// ErrLockNotFound is returned when the order has no lock.
	ErrLockNotFound = errors.New("lockctl: lock not found")
	// ErrOwnerDiffers is returned when the lock is held by another driver
	// than the expected one; the lock is left in place.
	ErrOwnerDiffers = errors.New("lockctl: owner differs")
	// ErrNotLock is returned when order_lock:<id> exists but is not a
	// string, so it was not written by taxi serve; it is left in place.
	ErrNotLock = errors.New("lockctl: key is not a lock")
	// ErrAuditNotRecorded is returned with a successful clear whose audit
	// record could not be appended to AuditStream.
	ErrAuditNotRecorded = errors.New("lockctl: audit record not written")
)

// ValidateOrderID returns an error wrapping ErrInvalidOrderID unless id is 1
// to 64 characters of [A-Za-z0-9_-]. Such ids cannot contain SCAN pattern
// characters or key separators, so they can never name another key.
func ValidateOrderID(id string) error {
	if !contract.ValidID(id) {
		return fmt.Errorf("%w %q: want 1 to 64 letters, digits, '_' or '-'", ErrInvalidOrderID, id)
	}
	return nil
}

// LockKey returns the lock key of an order, contract.LockKey.
func LockKey(orderID string) string { return contract.LockKey(orderID) }

// Controller inspects and clears order locks in one Redis deployment.
// It is safe for concurrent use.
type Controller struct {
	rdb         redis.UniversalClient
	host        string
	auditMaxLen int64
}

// New returns a Controller over rdb: a single node, a Sentinel failover
// client or a *redis.ClusterClient, whose keyspace is walked master by master.
func New(rdb redis.UniversalClient) *Controller {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return &Controller{rdb: rdb, host: host, auditMaxLen: AuditMaxLen}
}

// Lock is one order lock as found in Redis.
type Lock struct {
	OrderID string
	// Owner is the driver id the lock holds.
	Owner string
	// TTL is the time left before Redis frees the lock, or NoExpiry.
	TTL time.Duration
}

// Key returns the lock's Redis key.
func (l Lock) Key() string { return LockKey(l.OrderID) }

// Stale reports whether the lock never expires by itself.
func (l Lock) Stale() bool { return l.TTL == NoExpiry }

// lockJSON is the documented, stable shape of a lock in taxi lock list
// --json (docs/lock.md): field names never change meaning.
type lockJSON struct {
	OrderID string `json:"order_id"`
	Key     string `json:"key"`
	Owner   string `json:"owner"`
	TTLMs   int64  `json:"ttl_ms"` // -1 when the lock never expires
	Stale   bool   `json:"stale"`
}

// MarshalJSON encodes the lock as
// {"order_id","key","owner","ttl_ms","stale"}, with ttl_ms -1 for a lock
// without expiry.
func (l Lock) MarshalJSON() ([]byte, error) {
	ms := int64(-1)
	if !l.Stale() {
		ms = l.TTL.Milliseconds()
	}
	return json.Marshal(lockJSON{OrderID: l.OrderID, Key: l.Key(), Owner: l.Owner, TTLMs: ms, Stale: l.Stale()})
}

// isWrongType reports whether err is Redis's answer to a command on a key of
// another type.
func isWrongType(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE")
}
