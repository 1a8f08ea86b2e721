package contract

import (
	"encoding/json"
	"testing"
	"time"
)

// The JSON of every frame message, exactly as clients and the Redis
// channels carry it: field names, order and omissions.
func TestFrameShapes(t *testing.T) {
	created := time.Date(2025, 3, 1, 12, 0, 0, 500, time.UTC)
	open := Order{OrderID: "a1", UserID: "u1", Status: StatusOpen, Pickup: Point{52.52, 13.4}, Dropoff: Point{52.5, 13.45}, CreatedAt: created}
	openJSON := `{"order_id":"a1","user_id":"u1","status":"open","pickup":{"lat":52.52,"lng":13.4},"dropoff":{"lat":52.5,"lng":13.45},"created_at":"2025-03-01T12:00:00.0000005Z"}`
	two := 2
	viewed := open
	viewed.Status, viewed.DriverID, viewed.Viewers = StatusAccepted, "d1", &two
	none := []Order{}
	heading, speed, offered := 90.0, 8.5, 2
	radius := open
	radius.RadiusM, radius.MaxDrivers, radius.Offered, radius.OfferedTo = 2000, 5, &offered, []string{"d1", "d2"}
	radiusJSON := openJSON[:len(openJSON)-1] + `,"radius_m":2000,"max_drivers":5,"offered":2}`
	tests := []struct {
		name string
		msg  any
		want string
	}{
		{"order", open, openJSON},
		{"order accepted, as GET /orders/{id}", viewed,
			`{"order_id":"a1","user_id":"u1","status":"accepted","pickup":{"lat":52.52,"lng":13.4},"dropoff":{"lat":52.5,"lng":13.45},"created_at":"2025-03-01T12:00:00.0000005Z","driver_id":"d1","viewers":2}`},
		{"connected, rider", ConnectedMessage{NodeID: "n1", Role: RoleUser, ID: "u1"}, `{"node_id":"n1","role":"user","id":"u1"}`},
		{"connected, driver with no open order", ConnectedMessage{NodeID: "n1", Role: RoleDriver, ID: "d1", OpenOrders: &none},
			`{"node_id":"n1","role":"driver","id":"d1","open_orders":[]}`},
		{"open orders", OpenOrdersMessage{OpenOrders: []Order{open}}, `{"open_orders":[` + openJSON + `]}`},
		{"order accepted", OrderAcceptedMessage{OrderID: "a1", DriverID: "d1", UserID: "u1"}, `{"order_id":"a1","driver_id":"d1","user_id":"u1"}`},
		{"order cancelled", OrderCancelledMessage{OrderID: "a1", UserID: "u1"}, `{"order_id":"a1","user_id":"u1"}`},
		{"order viewers", OrderViewersMessage{OrderID: "a1", UserID: "u1", Count: 0}, `{"order_id":"a1","user_id":"u1","count":0}`},
		{"accept result, won", AcceptResultMessage{OrderID: "a1", Accepted: true}, `{"order_id":"a1","accepted":true}`},
		{"accept result, lost", AcceptResultMessage{OrderID: "a1", Reason: "order_taken"}, `{"order_id":"a1","accepted":false,"reason":"order_taken"}`},
		{"error", ErrorMessage{Code: "unknown_type", Reason: "no"}, `{"code":"unknown_type","reason":"no"}`},
		{"error with type", ErrorMessage{Code: "invalid_id", Reason: "no", Type: TypeAcceptOrder}, `{"code":"invalid_id","reason":"no","type":"accept_order"}`},
		{"order request", OrderRequestMessage{OrderID: "a1"}, `{"order_id":"a1"}`},
		{"order radius-limited", radius, radiusJSON},
		{"order completed", OrderCompletedMessage{OrderID: "a1", DriverID: "d1", UserID: "u1"}, `{"order_id":"a1","driver_id":"d1","user_id":"u1"}`},
		{"location", LocationMessage{Lat: 52.52, Lng: 13.405}, `{"lat":52.52,"lng":13.405}`},
		{"location with heading and speed", LocationMessage{Lat: 52.52, Lng: 13.405, Heading: &heading, SpeedMPS: &speed},
			`{"lat":52.52,"lng":13.405,"heading":90,"speed_mps":8.5}`},
		{"driver location", DriverLocationMessage{OrderID: "a1", DriverID: "d1", UserID: "u1", Lat: 52.52, Lng: 13.405, Heading: &heading, SpeedMPS: &speed, UpdatedAt: created},
			`{"order_id":"a1","driver_id":"d1","user_id":"u1","lat":52.52,"lng":13.405,"heading":90,"speed_mps":8.5,"updated_at":"2025-03-01T12:00:00.0000005Z"}`},
		{"envelope", Envelope{Type: TypeNewOrder, Message: json.RawMessage(openJSON)}, `{"type":"new_order","message":` + openJSON + `}`},
		{"heartbeat", NodeHeartbeat{NodeID: "n1", Version: "v1", Mode: ModeRedis, Hostname: "h", PID: 7, StartedAt: created, UpdatedAt: created, Drivers: 3, Users: 1},
			`{"node_id":"n1","version":"v1","mode":"redis","hostname":"h","pid":7,"started_at":"2025-03-01T12:00:00.0000005Z","updated_at":"2025-03-01T12:00:00.0000005Z","drivers":3,"users":1}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.msg)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(b) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, b, tt.want)
		}
	}
}

func TestFrameTypeNames(t *testing.T) {
	got := []string{TypeConnected, TypeNewOrder, TypeOrderAccepted, TypeOrderCancelled, TypeOrderViewers,
		TypeOpenOrders, TypeAcceptResult, TypeError, TypeViewOrder, TypeUnviewOrder, TypeAcceptOrder,
		TypeOrderCompleted, TypeDriverLocation, TypeLocation}
	want := []string{"connected", "new_order", "order_accepted", "order_cancelled", "order_viewers",
		"open_orders", "accept_result", "error", "view_order", "unview_order", "accept_order",
		"order_completed", "driver_location", "location"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame type %d = %q, want %q", i, got[i], want[i])
		}
	}
}
