package loadtest

import (
	"bytes"
	"encoding/json"

	"github.com/taxi-hub/taxi/contract"
)

// frame is what bench needs from one hub frame.
type frame struct {
	Type     []byte // aliases the read buffer
	OrderID  []byte // aliases the read buffer; empty when the frame has none
	Accepted bool   // accept_result only
	Reason   string // accept_result and error only
}

// parseFrame reads the type and order id of a {"type","message"} frame.
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
	case contract.TypeNewOrder, contract.TypeOrderAccepted, contract.TypeOrderCancelled:
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
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := skipSpace(b[i+len(key):])
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = skipSpace(rest[1:])
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	rest = rest[1:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 {
		return nil, false
	}
	return rest[:end], true
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
		Message struct {
			OrderID  string `json:"order_id"`
			Accepted bool   `json:"accepted"`
			Reason   string `json:"reason"`
		} `json:"message"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Type == "" {
		return frame{}, false
	}
	return frame{
		Type:     []byte(env.Type),
		OrderID:  []byte(env.Message.OrderID),
		Accepted: env.Message.Accepted,
		Reason:   env.Message.Reason,
	}, true
}
