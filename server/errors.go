package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Domain errors returned by the stores and by the hub's operations. Callers
// check them with errors.Is; errcodes.go maps each to a status and code.
var (
	ErrOrderNotFound = errors.New("server: order not found")
	ErrOrderTaken    = errors.New("server: order taken")
	ErrOrderNotOpen  = errors.New("server: order not open")
	ErrNotOrderOwner = errors.New("server: not the order's rider")
	ErrLockHeld      = errors.New("server: order locked by another driver")
	// ErrNotOffered means a driver tried to accept a radius-limited order
	// that was not offered to it.
	ErrNotOffered = errors.New("server: order not offered to this driver")
	// ErrOrderNotAccepted means an order to complete is open or
	// cancelled: only an accepted order can be completed.
	ErrOrderNotAccepted = errors.New("server: order not accepted")
	// ErrNotAssignedDriver means a driver tried to complete an order
	// another driver accepted.
	ErrNotAssignedDriver = errors.New("server: not the order's driver")
	// ErrBadCursor is a page cursor the store did not hand out.
	ErrBadCursor = errors.New("server: malformed page cursor")
	// ErrDegraded means the node cannot decide safely while Redis is away;
	// the client may retry, on this node later or on another node.
	ErrDegraded = errors.New("server: degraded, retry later")
	// ErrUnavailable means the shared store did not answer in time: it is
	// down, or busy, or this node's connections to it are all in use. The
	// client may retry shortly; only a failed health check of its own turns
	// it into an outage.
	ErrUnavailable = errors.New("server: store unavailable, retry shortly")
	// ErrOverloaded means this node's connections to the store were all in
	// use for the whole wait: backpressure, never an outage. It is also
	// ErrUnavailable.
	ErrOverloaded = fmt.Errorf("%w: node overloaded", ErrUnavailable)
	// ErrInternal means the store answered with something the hub cannot
	// use: a corrupt record or a failed script. It is logged and is never
	// a reason to leave the cluster.
	ErrInternal = errors.New("server: internal error")
)

// storeError marks an error of a call to Redis with what it means to the
// hub: ErrOverloaded for an exhausted pool, ErrUnavailable when Redis did not
// answer or said it cannot serve now, ErrInternal when it answered with an
// error of the command itself. Domain errors, redis.Nil and a cancelled
// caller pass through unchanged.
func storeError(err error) error {
	switch {
	case err == nil, errors.Is(err, redis.Nil), errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrInternal):
		return err
	case errors.Is(err, redis.ErrPoolTimeout):
		return fmt.Errorf("%w: %w", ErrOverloaded, err)
	}
	for _, domain := range []error{ErrOrderNotFound, ErrOrderTaken, ErrOrderNotOpen, ErrNotOrderOwner, ErrLockHeld,
		ErrNotOffered, ErrOrderNotAccepted, ErrNotAssignedDriver} {
		if errors.Is(err, domain) {
			return err
		}
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "NOAUTH", "WRONGPASS", "BUSY"} {
			if strings.HasPrefix(msg, p) {
				return fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
		}
		return fmt.Errorf("%w: %w", ErrInternal, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
