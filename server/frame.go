package server

import (
	"encoding/json"
	"fmt"
	"github.com/taxi-hub/taxi/contract"
)

// Frame types and messages: see contract, which owns them. Every frame is
// the envelope {"type", "message"}; events also carry their id.
const (
	TypeConnected      = contract.TypeConnected
	TypeNewOrder       = contract.TypeNewOrder
	TypeOrderAccepted  = contract.TypeOrderAccepted
	TypeOrderCancelled = contract.TypeOrderCancelled
	TypeOrderViewers   = contract.TypeOrderViewers
	TypeOpenOrders     = contract.TypeOpenOrders
	TypeRiderOrders    = contract.TypeRiderOrders
	TypeAcceptResult   = contract.TypeAcceptResult
	TypeError          = contract.TypeError
	TypeOrderCompleted = contract.TypeOrderCompleted
	TypeDriverLocation = contract.TypeDriverLocation

	TypeViewOrder   = contract.TypeViewOrder
	TypeUnviewOrder = contract.TypeUnviewOrder
	TypeAcceptOrder = contract.TypeAcceptOrder
	TypeLocation    = contract.TypeLocation
)

// The messages, as package contract defines them.
type (
	Envelope              = contract.Envelope
	OpenOrdersMessage     = contract.OpenOrdersMessage
	RiderOrdersMessage    = contract.RiderOrdersMessage
	OrderAcceptedMessage  = contract.OrderAcceptedMessage
	OrderCancelledMessage = contract.OrderCancelledMessage
	OrderViewersMessage   = contract.OrderViewersMessage
	AcceptResultMessage   = contract.AcceptResultMessage
	ErrorMessage          = contract.ErrorMessage
	OrderCompletedMessage = contract.OrderCompletedMessage
	LocationMessage       = contract.LocationMessage
	DriverLocationMessage = contract.DriverLocationMessage
)

// ConnectedMessage opens every feed. It is the hub's encoding of
// contract.ConnectedMessage: the same JSON, with the open orders encoded once
// for every driver greeted from the same read.
type ConnectedMessage struct {
	NodeID string `json:"node_id"`
	Role   Role   `json:"role"`
	ID     string `json:"id"`
	// Recovered answers a feed opened with ?since=: true when every event
	// after since follows this frame, false when the snapshot below
	// replaces them. Absent without since.
	Recovered *bool `json:"recovered,omitempty"`
	// LastEventID is the id to reconnect with (?since=) when the client
	// has seen no later event; empty when the log has none yet.
	LastEventID string `json:"last_event_id,omitempty"`
	// OpenOrders is every open order (a JSON array of Order, encoded once
	// for every driver greeted from the same read), for drivers; absent
	// when recovered.
	OpenOrders json.RawMessage `json:"open_orders,omitempty"`
	// Orders is the rider's recent orders, newest first, for riders;
	// absent when recovered.
	Orders *[]Order `json:"orders,omitempty"`
	// Incomplete is true when the node cannot know every open order (it
	// serves from memory while Redis is away): the list holds only what
	// this node knows, and an empty list does not mean none.
	Incomplete bool `json:"incomplete,omitempty"`
}

// encodeFrame builds the bytes of one frame. A fan-out calls it once and
// writes the same slice to every connection, so the result must never be
// modified after it is returned.
func encodeFrame(typ string, message any) []byte {
	msg, err := json.Marshal(message)
	if err != nil {
		// Every message type above marshals; a failure is a programming error.
		panic(fmt.Sprintf("encode %s frame: %v", typ, err))
	}
	b, _ := json.Marshal(Envelope{Type: typ, Message: msg})
	return b
}

// inbound is a decoded frame from a client: an order request, or a
// position (Type location).
type inbound struct {
	Type     string
	OrderID  string
	Location LocationMessage
}

// frameError is why an inbound frame was refused; it becomes an error frame.
type frameError struct {
	Code   string
	Reason string
	Type   string
}

func (e *frameError) Error() string { return e.Code + ": " + e.Reason }

// decodeInbound parses a client's text frame strictly (see parseObject).
// It accepts only the frames a client may send and returns a frameError,
// never a panic, for anything else.
func decodeInbound(data []byte) (inbound, *frameError) {
	env, ierr := parseObject(data, "frame")
	if ierr != nil {
		return inbound{}, &frameError{Code: ierr.Code, Reason: ierr.Detail}
	}
	typ, _, ierr := env.str("type", "type")
	if ierr != nil {
		return inbound{}, &frameError{Code: ierr.Code, Reason: ierr.Detail}
	}
	if typ == "" {
		return inbound{}, &frameError{Code: "missing_field", Reason: `frame has no "type"`}
	}
	switch typ {
	case TypeViewOrder, TypeUnviewOrder, TypeAcceptOrder, TypeLocation:
	default:
		return inbound{}, &frameError{Code: "unknown_type", Reason: fmt.Sprintf("unknown frame type %.64q", typ)}
	}
	msg, present, ierr := env.object("message", "message")
	if ierr == nil && !present {
		ierr = &inputError{Code: "missing_field", Detail: `frame has no "message"`}
	}
	if ierr == nil && typ == TypeLocation {
		var loc LocationMessage
		if loc, ierr = decodeLocation(msg, "message."); ierr == nil {
			return inbound{Type: typ, Location: loc}, nil
		}
	}
	var orderID string
	if ierr == nil {
		orderID, present, ierr = msg.str("order_id", "message.order_id")
		if ierr == nil && !present {
			ierr = &inputError{Code: "missing_field", Detail: `message has no "order_id"`}
		}
	}
	if ierr == nil && !ValidID(orderID) {
		ierr = &inputError{Code: "invalid_id", Detail: "order_id must be 1 to 64 characters of [A-Za-z0-9_-]"}
	}
	if ierr != nil {
		return inbound{}, &frameError{Code: ierr.Code, Reason: ierr.Detail, Type: typ}
	}
	return inbound{Type: typ, OrderID: orderID}, nil
}

// wireFrame puts payload in a WebSocket text frame as a server sends it
// (final, unmasked), ready for the socket. A fan-out frames once and writes
// the same bytes to every connection.
func wireFrame(payload []byte) []byte {
	n := len(payload)
	var hdr []byte
	switch {
	case n < 126:
		hdr = []byte{0x81, byte(n)}
	case n <= 0xFFFF:
		hdr = []byte{0x81, 126, byte(n >> 8), byte(n)}
	default:
		hdr = []byte{0x81, 127, 0, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	out := make([]byte, 0, len(hdr)+n)
	return append(append(out, hdr...), payload...)
}
