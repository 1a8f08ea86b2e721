package server

import (
	"net/http"
	"strings"
	"testing"
)

// goWords are fragments of Go's own error texts that must never reach a
// client.
var goWords = []string{"Go struct", "struct {", "Go value", "json:", "unmarshal", "float64", "*string"}

func checkAPITerms(t *testing.T, input, detail string) {
	t.Helper()
	for _, w := range goWords {
		if strings.Contains(detail, w) {
			t.Errorf("%s: detail %q speaks Go (%q)", input, detail, w)
		}
	}
}

func TestStrictBodies(t *testing.T) {
	h := startHub(t, Config{})
	const pts = `"pickup":{"lat":1,"lng":2},"dropoff":{"lat":3,"lng":4}`
	tests := []struct {
		name, body string
		code       string
		detail     string // a fragment of the detail
	}{
		{"null", `null`, "invalid_json", "must be a JSON object, not null"},
		{"array", `[]`, "invalid_json", "not an array"},
		{"string", `"u1"`, "invalid_json", "not a string"},
		{"number as user id", `{"user_id":7}`, "invalid_json", "user_id must be a string, not a number"},
		{"object as user id", `{"user_id":{}}`, "invalid_json", "user_id must be a string, not an object"},
		{"string as point", `{"user_id":"u1","pickup":"here"}`, "invalid_json", "pickup must be an object, not a string"},
		{"string as latitude", `{"user_id":"u1","pickup":{"lat":"1","lng":2}}`, "invalid_json", "pickup.lat must be a number, not a string"},
		{"huge latitude", `{"user_id":"u1","pickup":{"lat":1e999,"lng":2}}`, "invalid_json", "pickup.lat"},
		{"key twice", `{"user_id":"u1","user_id":"u9",` + pts + `}`, "invalid_json", `"user_id" more than once`},
		{"key in upper case only", `{"USER_ID":"u9",` + pts + `}`, "missing_field", "user_id is required"},
		{"point keys in upper case", `{"user_id":"u1","pickup":{"LAT":1,"LNG":2},"dropoff":{"lat":3,"lng":4}}`, "missing_field", "pickup needs lat and lng"},
		{"truncated", `{"user_id":"u1",`, "invalid_json", "ends too soon"},
		{"garbage", `{"user_id" "u1"}`, "invalid_json", "at byte"},
		{"trailing object", `{"user_id":"u1"} {}`, "invalid_json", "data after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e errorBody
			if code := h.request(t, "POST", "/orders", "", tt.body, &e); code != http.StatusBadRequest || e.Error != tt.code || !strings.Contains(e.Detail, tt.detail) {
				t.Fatalf("got %d %+v, want 400 %s with %q", code, e, tt.code, tt.detail)
			}
			checkAPITerms(t, tt.body, e.Detail)
		})
	}

	// A key that differs only in case is another, unknown key: ignored.
	var o Order
	if code := h.request(t, "POST", "/orders", "", `{"user_id":"u1","USER_ID":"u9","User_Id":"u8",`+pts+`}`, &o); code != http.StatusCreated || o.UserID != "u1" {
		t.Fatalf("create with case variants: %d %+v, want an order of u1", code, o)
	}
	var e errorBody
	if code := h.request(t, "POST", "/orders/"+o.OrderID+"/accept", "", `{"Driver_ID":"d1"}`, &e); code != http.StatusBadRequest || e.Error != "missing_field" {
		t.Fatalf("accept with a case variant of driver_id: %d %+v", code, e)
	}
	if code := h.request(t, "POST", "/orders/"+o.OrderID+"/cancel", "", `null`, &e); code != http.StatusBadRequest || e.Error != "invalid_json" {
		t.Fatalf("cancel with null: %d %+v", code, e)
	}
	if code := h.request(t, "POST", "/orders/"+o.OrderID+"/cancel", "", `{"user_id":"u1","extra":[1,2]}`, nil); code != http.StatusOK {
		t.Fatalf("cancel with an unknown field: %d", code)
	}
}

func TestStrictFrames(t *testing.T) {
	tests := []struct {
		frame, code, reason string
	}{
		{`{"type":5}`, "invalid_json", "type must be a string, not a number"},
		{`null`, "invalid_json", "frame must be a JSON object, not null"},
		{`{"TYPE":"view_order","message":{"order_id":"o1"}}`, "missing_field", `frame has no "type"`},
		{`{"type":"view_order","Message":{"order_id":"o1"}}`, "missing_field", `frame has no "message"`},
		{`{"type":"view_order","message":{"ORDER_ID":"o1"}}`, "missing_field", `message has no "order_id"`},
		{`{"type":"view_order","message":{"order_id":7}}`, "invalid_json", "message.order_id must be a string, not a number"},
		{`{"type":"view_order","message":"o1"}`, "invalid_json", "message must be an object, not a string"},
		{`{"type":"view_order","type":"accept_order","message":{"order_id":"o1"}}`, "invalid_json", "more than once"},
	}
	for _, tt := range tests {
		_, ferr := decodeInbound([]byte(tt.frame))
		if ferr == nil || ferr.Code != tt.code || !strings.Contains(ferr.Reason, tt.reason) {
			t.Errorf("%s: %+v, want %s with %q", tt.frame, ferr, tt.code, tt.reason)
			continue
		}
		checkAPITerms(t, tt.frame, ferr.Reason)
	}
	in, ferr := decodeInbound([]byte(`{"type":"view_order","message":{"order_id":"o1","Order_Id":"o2"},"extra":{"x":[1]}}`))
	if ferr != nil || in.OrderID != "o1" {
		t.Fatalf("frame with unknown keys: %+v %v", in, ferr)
	}
}
