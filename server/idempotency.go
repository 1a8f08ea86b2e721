package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// How long an Idempotency-Key is remembered: idempotencyTTL after its
// request succeeded, idempotencyClaimTTL while its first request runs (so a
// node that dies mid-request does not block the key for a day).
const (
	idempotencyTTL      = 24 * time.Hour
	idempotencyClaimTTL = time.Minute
	maxIdempotencyKey   = 255
)

// IdempotencyRecord is what a rider's Idempotency-Key was first used for.
// A claim (the first request still running) has a Claim and no Response.
type IdempotencyRecord struct {
	// Hash identifies the request: the SHA-256 of its user_id, pickup
	// and dropoff (and radius_m and max_drivers when given), whatever the
	// body's formatting.
	Hash string `json:"hash"`
	// Claim is random: it tells this claim from a later one for the same
	// key.
	Claim   string `json:"claim,omitempty"`
	OrderID string `json:"order_id,omitempty"`
	// Response is the body of the first 201, the order as created.
	Response json.RawMessage `json:"response,omitempty"`
}

func (r IdempotencyRecord) encode() string {
	b, _ := json.Marshal(r) // strings and valid JSON only: never fails
	return string(b)
}

func decodeIdempotencyRecord(s string) (IdempotencyRecord, error) {
	var r IdempotencyRecord
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		return IdempotencyRecord{}, fmt.Errorf("idempotency record: %w", err)
	}
	return r, nil
}

// IdempotencyStore remembers riders' Idempotency-Keys. Keys are per rider:
// two riders may use the same key.
type IdempotencyStore interface {
	// Claim stores rec as userID's key for ttl unless the key already
	// holds a record, which it returns with claimed false.
	Claim(ctx context.Context, userID, key string, rec IdempotencyRecord, ttl time.Duration) (held IdempotencyRecord, claimed bool, err error)
	// Settle replaces the claim with done, kept for ttl, or deletes the
	// claim when done is nil. It does nothing when the key no longer holds
	// that claim (it expired and another request claimed the key).
	Settle(ctx context.Context, userID, key string, claim IdempotencyRecord, done *IdempotencyRecord, ttl time.Duration) error
}

// validIdempotencyKey allows 1 to 255 visible ASCII characters, as UUIDs
// and the keys of common client libraries are.
func validIdempotencyKey(key string) bool {
	if len(key) == 0 || len(key) > maxIdempotencyKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestHash identifies a create request without dispatch fields by what
// it asks for.
func requestHash(userID string, pickup, dropoff Point) string {
	return orderRequestHash(orderRequest{userID: userID, pickup: pickup, dropoff: dropoff})
}

// orderRequestHash identifies a create request by what it asks for. A
// request without radius_m and max_drivers hashes as before they existed,
// so keys recorded then still match.
func orderRequestHash(req orderRequest) string {
	parts := []any{req.userID, req.pickup, req.dropoff}
	if req.radiusM != 0 || req.maxDrivers != 0 {
		parts = append(parts, req.radiusM, req.maxDrivers)
	}
	b, _ := json.Marshal(parts)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newClaimID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// createOrderOnce is POST /orders with an Idempotency-Key: the first
// request with the key creates the order and remembers its response for
// 24 hours; a retry with the same request gets the same 201 and body again
// (with Idempotent-Replayed: true) and fans out nothing; a retry with
// another request is a 422; a retry while the first still runs is a 409.
// The record lives where the orders do, so this holds on any node.
func (s *Server) createOrderOnce(w http.ResponseWriter, r *http.Request, key string, req orderRequest) {
	if !validIdempotencyKey(key) {
		writeError(w, http.StatusBadRequest, "invalid_idempotency_key", fmt.Sprintf("Idempotency-Key must be 1 to %d visible ASCII characters", maxIdempotencyKey))
		return
	}
	ctx := r.Context()
	b := s.backends.current()
	userID := req.userID
	claim := IdempotencyRecord{Hash: orderRequestHash(req), Claim: newClaimID()}
	held, claimed, err := b.idempotency.Claim(ctx, userID, key, claim, idempotencyClaimTTL)
	if err != nil {
		s.writeOpError(w, r, fmt.Errorf("claim idempotency key: %w", s.observed(b, err)))
		return
	}
	if !claimed {
		replay(w, held, claim.Hash)
		return
	}
	o, err := s.placeOrder(ctx, req)
	if err != nil {
		// Free the key so that a retry can create the order.
		if serr := b.idempotency.Settle(context.WithoutCancel(ctx), userID, key, claim, nil, 0); serr != nil {
			s.log.Warn("free idempotency key", "user_id", userID, "err", serr)
		}
		s.writeOpError(w, r, err)
		return
	}
	body, _ := json.Marshal(o) // an Order always marshals
	done := IdempotencyRecord{Hash: claim.Hash, OrderID: o.OrderID, Response: body}
	if err := b.idempotency.Settle(context.WithoutCancel(ctx), userID, key, claim, &done, idempotencyTTL); err != nil {
		// The order exists and the rider gets it; only a retry within the
		// claim's minute is refused, and one after it makes a second order.
		s.log.Warn("remember idempotency key", "user_id", userID, "order_id", o.OrderID, "err", s.observed(b, err))
	}
	writeRawJSON(w, http.StatusCreated, body)
}

// replay answers a request whose key is taken, from the record it holds.
func replay(w http.ResponseWriter, held IdempotencyRecord, hash string) {
	switch {
	case held.Hash != hash:
		writeError(w, http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was used within 24 h for another request (other user_id, pickup, dropoff, radius_m or max_drivers); use a new key for a new order")
	case held.Response == nil:
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusConflict, "idempotency_key_in_use",
			"the first request with this Idempotency-Key is still being processed; retry shortly")
	default:
		w.Header().Set("Idempotent-Replayed", "true")
		writeRawJSON(w, http.StatusCreated, held.Response)
	}
}

// writeRawJSON writes an encoded JSON body as writeJSON would.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}
