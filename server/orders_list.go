package server

import (
	"cmp"
	"fmt"
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
