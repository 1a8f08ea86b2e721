package server

import (
	"encoding/json"
	"testing"
)

func TestDecodeInbound(t *testing.T) {
	tests := []struct {
		in       string
		wantType string
		wantCode string
	}{
		{`{"type":"view_order","message":{"order_id":"o1"}}`, TypeViewOrder, ""},
		{`{"type":"accept_order","message":{"order_id":"o-1_A"},"extra":1}`, TypeAcceptOrder, ""},
		{`{"type":"unview_order","message":{"order_id":"o1"}}`, TypeUnviewOrder, ""},
		{``, "", "invalid_json"},
		{`null`, "", "invalid_json"},
		{`"text"`, "", "invalid_json"},
		{`{"type":null}`, "", "missing_field"},
		{`{"type":"view_order","message":null}`, "", "missing_field"},
		{`{"type":"view_order","message":[]}`, "", "invalid_json"},
		{`{"type":"view_order","message":{"order_id":""}}`, "", "invalid_id"},
	}
	for _, tt := range tests {
		in, ferr := decodeInbound([]byte(tt.in))
		if tt.wantCode != "" {
			if ferr == nil || ferr.Code != tt.wantCode {
				t.Errorf("%s: err %v, want %s", tt.in, ferr, tt.wantCode)
			}
			continue
		}
		if ferr != nil || in.Type != tt.wantType {
			t.Errorf("%s: got %+v %v", tt.in, in, ferr)
		}
	}
}

func TestEncodeFrameIsAnEnvelope(t *testing.T) {
	raw := encodeFrame(TypeOrderAccepted, OrderAcceptedMessage{OrderID: "o1", DriverID: "d1", UserID: "u1"})
	var env Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	var m OrderAcceptedMessage
	if err := json.Unmarshal(env.Message, &m); err != nil || env.Type != TypeOrderAccepted || m.DriverID != "d1" {
		t.Fatalf("envelope %s", raw)
	}
}

// FuzzDecodeInbound checks that no client frame can crash the decoder, and
// that whatever it accepts is a frame the hub knows with a valid order id.
// Its seed corpus runs in every `go test`.
func FuzzDecodeInbound(f *testing.F) {
	for _, s := range []string{
		`{"type":"view_order","message":{"order_id":"o1"}}`,
		`{"type":"accept_order","message":{"order_id":"abc"}}`,
		`{"type":"unview_order","message":{"order_id":"x"}}`,
		`{"type":"view_order","message":{"order_id":"` + "\u00e9" + `"}}`,
		`{"type":"x"}`, `{}`, `[]`, `null`, `{"type":"view_order","message":{"order_id":1e999}}`,
		"{\"type\":\"view_order\",\"message\":{\"order_id\":\"a\"}}\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, ferr := decodeInbound(data)
		if ferr != nil {
			if ferr.Code == "" || ferr.Reason == "" {
				t.Fatalf("error without code or reason: %+v", ferr)
			}
			return
		}
		switch in.Type {
		case TypeViewOrder, TypeUnviewOrder, TypeAcceptOrder:
		default:
			t.Fatalf("accepted unknown type %q", in.Type)
		}
		if !ValidID(in.OrderID) {
			t.Fatalf("accepted invalid order id %q", in.OrderID)
		}
	})
}
