package loadtest

import (
	"bytes"
	"encoding/json"

	"github.com/taxi-hub/taxi/contract"
)

// frame is what bench needs from one hub frame.
type frame struct {
	Type     []byte // aliases the read buffer
	ID       []byte // the event id of an event; aliases the read buffer
	OrderID  []byte // aliases the read buffer; empty when the frame has none
	Accepted bool   // accept_result only
	Reason   string // accept_result and error only
}

// isEvent reports whether frames of type typ are events, which carry an id.
func isEvent(typ []byte) bool {
	switch string(typ) {
	case contract.TypeNewOrder, contract.TypeOrderAccepted, contract.TypeOrderCancelled, contract.TypeOrderViewers:
		return true
	}
	return false
}

// parseFrame reads the type, event id and order id of a
// {"type","id","message"} frame.
// Every delivery goes through here, hundreds of thousands a second on a
// loaded machine where bench shares the cores with the hub, so the common
// frames are scanned for their two keys instead of being decoded; anything
// the scan cannot read plainly (escapes, a missing key) is decoded in full.
func parseFrame(b []byte) (frame, bool) {
	typ, ok := scanString(b, `"type"`)
	if !ok {
		return decodeFrame(b)
	}
	var f frame
	f.Type = typ
	switch string(typ) {
	case contract.TypeNewOrder, contract.TypeOrderAccepted, contract.TypeOrderCancelled, contract.TypeOrderViewers:
		// The event id is the envelope's: no event message has an "id" key.
		f.ID, _ = scanString(b, `"id"`)
		id, ok := scanString(b, `"order_id"`)
		if !ok {
			return decodeFrame(b)
		}
		f.OrderID = id
		return f, true
	case contract.TypeAcceptResult, contract.TypeError:
		return decodeFrame(b)
	default:
		return f, true
	}
}

// scanString finds the first key in b and returns its string value, or false
// when the key is missing or its value is not a plain string without escapes.
func scanString(b []byte, key string) ([]byte, bool) {
	rest, ok := valueOf(b, key)
	if !ok || len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	rest = rest[1:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return nil, false
	}
	return rest[:end], true
}

// valueOf finds the first key in b and returns what follows its colon.
func valueOf(b []byte, key string) ([]byte, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := skipSpace(b[i+len(key):])
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	return skipSpace(rest[1:]), true
}

func skipSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// decodeFrame is the slow path: a full JSON decode.
func decodeFrame(b []byte) (frame, bool) {
	var env struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Message struct {
			OrderID  string `json:"order_id"`
			Accepted bool   `json:"accepted"`
			Reason   string `json:"reason"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Type == "" {
		return frame{}, false
	}
	f := frame{
		Type:     []byte(env.Type),
		OrderID:  []byte(env.Message.OrderID),
		Accepted: env.Message.Accepted,
		Reason:   env.Message.Reason,
	}
	if isEvent(f.Type) {
		f.ID = []byte(env.ID)
	}
	return f, true
}

// greeting is what bench reads from a connected frame.
type greeting struct {
	// recovered is the answer to ?since=: nil when the frame has none.
	recovered *bool
	// lastEventID is the id to resume from; empty when the log has none.
	lastEventID []byte
	// snapshot is true when the frame carries state (a driver's
	// open_orders, a rider's orders) rather than the events that follow.
	snapshot bool
	// orders counts the orders of the snapshot.
	orders int
	// incomplete marks a list the node could not make whole.
	incomplete bool
}

// parseGreeting reads a connected frame. The frame can list thousands of open
// orders (a connect storm greets each driver with every one), so it is
// scanned for the few keys bench needs rather than decoded.
func parseGreeting(b []byte) greeting {
	var g greeting
	if v, ok := scanBool(b, `"recovered"`); ok {
		g.recovered = &v
	}
	g.lastEventID, _ = scanString(b, `"last_event_id"`)
	g.incomplete, _ = scanBool(b, `"incomplete"`)
	g.snapshot = bytes.Contains(b, []byte(`"open_orders"`)) || bytes.Contains(b, []byte(`"orders"`))
	g.orders = bytes.Count(b, []byte(`"order_id"`))
	return g
}

// scanBool finds the first key in b and returns its boolean value.
func scanBool(b []byte, key string) (value, ok bool) {
	rest, ok := valueOf(b, key)
	switch {
	case ok && bytes.HasPrefix(rest, []byte("true")):
		return true, true
	case ok && bytes.HasPrefix(rest, []byte("false")):
		return false, true
	}
	return false, false
}

// eachOrderID calls fn with the value of every "order_id" key in b, in
// order: the orders of a driver's snapshot. Values with escapes are skipped
// (the hub's order ids have none).
func eachOrderID(b []byte, fn func(id []byte)) {
	const key = `"order_id"`
	for {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return
		}
		b = b[i:]
		if id, ok := scanString(b, key); ok {
			fn(id)
		}
		b = b[len(key):]
	}
}

// riderOrder is one order of a rider's snapshot.
type riderOrder struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
}

// riderSnapshot decodes the orders of a rider's connected or rider_orders
// frame (at most a few dozen).
func riderSnapshot(b []byte) ([]riderOrder, bool) {
	var env struct {
		Message struct {
			Orders []riderOrder `json:"orders"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, false
	}
	return env.Message.Orders, true
}
