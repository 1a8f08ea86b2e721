package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// listCursor is a position in a rider's orders, newest first: the creation
// time in Unix milliseconds and the order id of the last order of a page.
// Its text form, "<ms>-<order_id>", is what clients get as next_cursor and
// send back as before; they treat it as opaque.
type listCursor struct {
	ms int64
	id string
}

func cursorOf(o Order) listCursor { return listCursor{ms: o.CreatedAt.UnixMilli(), id: o.OrderID} }

func (c listCursor) String() string { return strconv.FormatInt(c.ms, 10) + "-" + c.id }

func parseCursor(s string) (listCursor, error) {
	ms, id, ok := strings.Cut(s, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || n < 0 || !ValidID(id) {
		return listCursor{}, fmt.Errorf("cursor %.80q: %w", s, ErrBadCursor)
	}
	return listCursor{ms: n, id: id}, nil
}

// newerThan reports whether an order at (ms, id) comes before c in the
// newest-first listing, and so not on a page that starts after c.
func (c listCursor) newerThan(ms int64, id string) bool {
	return ms > c.ms || (ms == c.ms && id >= c.id)
}

// newestFirst orders a before b in a rider's listing.
func newestFirst(a, b Order) int {
	if c := cmp.Compare(b.CreatedAt.UnixMilli(), a.CreatedAt.UnixMilli()); c != 0 {
		return c
	}
	return cmp.Compare(b.OrderID, a.OrderID)
}

// Page sizes of GET /orders.
const (
	defaultListLimit = 20
	maxListLimit     = 100
)

// OrderList is the body of GET /orders: one page of a rider's orders,
// newest first. NextCursor, when present, is the before of the next page.
type OrderList struct {
	Orders     []Order `json:"orders"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// handleListOrders serves GET /orders?user_id=&limit=&before=: a rider's
// own orders, whatever their status. Drivers may list any rider's orders,
// as they may read any order; a rider only its own.
func (s *Server) handleListOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	userID := q.Get("user_id")
	if !requireField(w, "user_id", userID) {
		return
	}
	if !checkID(w, "user_id", userID) {
		return
	}
	claims, ok := s.authenticated(w, r)
	if !ok {
		return
	}
	limit := defaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListLimit {
			writeError(w, http.StatusBadRequest, "invalid_limit", fmt.Sprintf("limit must be an integer from 1 to %d", maxListLimit))
			return
		}
		limit = n
	}
	before := q.Get("before")
	if before != "" {
		if _, err := parseCursor(before); err != nil {
			writeError(w, http.StatusBadRequest, "invalid_cursor", "before must be a next_cursor this API returned")
			return
		}
	}
	if claims.Role == RoleUser && claims.Subject != userID {
		writeError(w, http.StatusForbidden, "forbidden", "riders may list only their own orders")
		return
	}
	if !s.allowCaller(w, claims, RoleUser, userID) {
		return
	}
	orders, next, err := s.listOrders(r.Context(), userID, limit, before)
	if err != nil {
		s.writeOpError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, OrderList{Orders: orders, NextCursor: next})
}

// handleDriverOrder serves GET /drivers/{driver_id}/order: the order the
// driver accepted last, the one it is serving. Drivers may read it, as they
// may read any order; a rider only when the order is its own.
func (s *Server) handleDriverOrder(w http.ResponseWriter, r *http.Request) {
	driverID := r.PathValue("driver_id")
	if !checkID(w, "driver_id", driverID) {
		return
	}
	s.serveOrder(w, r, func(ctx context.Context) (Order, error) { return s.driverOrder(ctx, driverID) })
}

// serveOrder answers a read of one order, as read finds it, to a caller
// with a valid token: drivers get any order (they choose among them),
// riders only their own. The order is read before the rider check, so an
// unknown order is a 404 for riders too.
func (s *Server) serveOrder(w http.ResponseWriter, r *http.Request, read func(context.Context) (Order, error)) {
	claims, ok := s.authenticated(w, r)
	if !ok {
		return
	}
	o, err := read(r.Context())
	if err != nil {
		s.writeOpError(w, r, err)
		return
	}
	if claims.Role == RoleUser && claims.Subject != o.UserID {
		writeError(w, http.StatusForbidden, "forbidden", "riders may read only their own orders")
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// checkID writes a 400 invalid_id and reports false when id, the value of
// field, is not 1 to 64 characters of [A-Za-z0-9_-].
func checkID(w http.ResponseWriter, field, id string) bool {
	if !ValidID(id) {
		writeError(w, http.StatusBadRequest, "invalid_id", field+" must be 1 to 64 characters of [A-Za-z0-9_-]")
		return false
	}
	return true
}

// allowCaller spends one call of the caller's rate: the token's subject,
// or, without authentication, the id the request names as role.
func (s *Server) allowCaller(w http.ResponseWriter, claims Claims, role Role, id string) bool {
	key := string(role) + ":" + id
	if claims.Subject != "" {
		key = string(claims.Role) + ":" + claims.Subject
	}
	if !s.limits.allow(key) {
		s.counters.rateLimited.Add(1)
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many requests; slow down")
		return false
	}
	return true
}

// listOrders reads a page of a rider's orders. While Redis is away the node
// knows only the orders made during the outage, so it answers ErrDegraded
// rather than a list that looks complete and is not.
func (s *Server) listOrders(ctx context.Context, userID string, limit int, before string) ([]Order, string, error) {
	b := s.backends.current()
	if b.partial {
		return nil, "", fmt.Errorf("list orders of %s while redis is away: %w", userID, ErrDegraded)
	}
	orders, next, err := b.orders.ByUser(ctx, userID, limit, before)
	if err != nil {
		return nil, "", fmt.Errorf("list orders of %s: %w", userID, s.observed(b, err))
	}
	if orders == nil {
		orders = []Order{}
	}
	return orders, next, nil
}

// driverOrder reads the order driverID is serving. While Redis is away an
// order this node does not know may exist: that is ErrDegraded.
func (s *Server) driverOrder(ctx context.Context, driverID string) (Order, error) {
	b := s.backends.current()
	o, err := b.orders.DriverOrder(ctx, driverID)
	if errors.Is(err, ErrOrderNotFound) && b.partial {
		err = ErrDegraded
	}
	if err != nil {
		return Order{}, fmt.Errorf("order of driver %s: %w", driverID, s.observed(b, err))
	}
	return o, nil
}
