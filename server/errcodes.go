package server

import (
	"errors"
	"net/http"
)

// errorCode is how one kind of error reaches a client: the HTTP status and
// the code and text of an error body, error frame or accept_result.
type errorCode struct {
	err    error
	status int
	code   string
	reason string
}

// errorCodes is the one table from errors to what clients see, for HTTP and
// WebSocket alike; the first entry that matches wins. docs/api.md lists the
// codes.
var errorCodes = []errorCode{
	{ErrOrderNotFound, http.StatusNotFound, "order_not_found", "no such order"},
	{ErrOrderTaken, http.StatusConflict, "order_taken", "another driver accepted the order"},
	{ErrLockHeld, http.StatusConflict, "order_locked", "another driver is accepting the order"},
	{ErrOrderNotOpen, http.StatusConflict, "order_not_open", "the order is no longer open"},
	{ErrNotOrderOwner, http.StatusForbidden, "not_order_owner", "only the order's rider may do this"},
	{ErrNotOffered, http.StatusForbidden, "order_not_offered", "the order was offered to drivers near its pickup, not to this driver"},
	{ErrOrderNotAccepted, http.StatusConflict, "order_not_accepted", "only an accepted order can be completed"},
	{ErrNotAssignedDriver, http.StatusForbidden, "not_assigned_driver", "only the driver who accepted the order may complete it"},
	{ErrDegraded, http.StatusServiceUnavailable, "degraded", "the hub cannot decide this order now; retry shortly"},
	{ErrUnavailable, http.StatusServiceUnavailable, "unavailable", "the hub could not complete the request; retry shortly"},
	{ErrInternal, http.StatusInternalServerError, "internal", "the hub failed to complete the request"},
}

// codeFor returns the status, code and text for err; anything the table does
// not name is unavailable.
func codeFor(err error) (status int, code, reason string) {
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.status, c.code, c.reason
		}
	}
	return http.StatusServiceUnavailable, "unavailable", "the hub could not complete the request; retry shortly"
}
