package server

import "errors"

// Domain errors returned by the stores and by the hub's operations. Callers
// check them with errors.Is; the HTTP layer maps each to a status and code.
var (
	ErrOrderNotFound = errors.New("server: order not found")
	ErrOrderTaken    = errors.New("server: order taken")
	ErrOrderNotOpen  = errors.New("server: order not open")
	ErrNotOrderOwner = errors.New("server: not the order's rider")
	ErrLockHeld      = errors.New("server: order locked by another driver")
	// ErrBadCursor is a page cursor the store did not hand out.
	ErrBadCursor = errors.New("server: malformed page cursor")
	// ErrDegraded means the node cannot decide safely while Redis is away;
	// the client may retry, on this node later or on another node.
	ErrDegraded = errors.New("server: degraded, retry later")
)
