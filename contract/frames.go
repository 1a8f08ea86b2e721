package contract

import (
	"encoding/json"
	"time"
)

// Frame types. Every WebSocket frame, and every message on ChannelDrivers and
// ChannelUsers, is the JSON envelope {"type": <one of these>, "message": {...}}.
//
// The hub sends:
const (
	// TypeConnected opens every feed; its message is a ConnectedMessage.
	TypeConnected = "connected"
	// TypeNewOrder announces an order to drivers; its message is an Order.
	TypeNewOrder = "new_order"
	// TypeOrderAccepted: an OrderAcceptedMessage, to drivers and the rider.
	TypeOrderAccepted = "order_accepted"
	// TypeOrderCancelled: an OrderCancelledMessage, to drivers and the rider.
	TypeOrderCancelled = "order_cancelled"
	// TypeOrderViewers: an OrderViewersMessage, to the order's rider.
	TypeOrderViewers = "order_viewers"
	// TypeOrderCompleted: an OrderCompletedMessage, to the rider and to
	// drivers (those offered a radius-limited order, or every driver).
	TypeOrderCompleted = "order_completed"
	// TypeDriverLocation: a DriverLocationMessage, to the rider of an
	// accepted order, at most once a second, until the order ends.
	TypeDriverLocation = "driver_location"
	// TypeOpenOrders: an OpenOrdersMessage, to drivers after a gap in
	// fan-out.
	TypeOpenOrders = "open_orders"
	// TypeRiderOrders: a RiderOrdersMessage, to a rider after a gap in
	// fan-out that the event log does not cover.
	TypeRiderOrders = "rider_orders"
	// TypeAcceptResult: an AcceptResultMessage, answering accept_order.
	TypeAcceptResult = "accept_result"
	// TypeError: an ErrorMessage, answering a frame the hub could not use.
	TypeError = "error"
)

// A driver sends, each with an OrderRequestMessage:
const (
	TypeViewOrder   = "view_order"
	TypeUnviewOrder = "unview_order"
	TypeAcceptOrder = "accept_order"
)

// A driver sends its position with a LocationMessage.
const TypeLocation = "location"

// Envelope is the shape of every frame.
type Envelope struct {
	Type string `json:"type"`
	// ID is the event id, on events (new_order, order_accepted,
	// order_cancelled, order_viewers, order_completed, driver_location)
	// only.
	ID      string          `json:"id,omitempty"`
	Message json.RawMessage `json:"message"`
}

// ConnectedMessage opens every feed.
type ConnectedMessage struct {
	NodeID string `json:"node_id"`
	Role   Role   `json:"role"`
	ID     string `json:"id"`
	// Recovered answers a feed opened with ?since=: true when every event
	// after since follows, false when the snapshot replaces them.
	Recovered *bool `json:"recovered,omitempty"`
	// LastEventID is the id to resume from when no later event arrives.
	LastEventID string `json:"last_event_id,omitempty"`
	// OpenOrders is every open order, for drivers; absent when recovered.
	OpenOrders *[]Order `json:"open_orders,omitempty"`
	// Orders is the rider's recent orders, newest first, for riders;
	// absent when recovered.
	Orders *[]Order `json:"orders,omitempty"`
	// Incomplete marks lists from a node serving from memory while Redis
	// is away: they hold only what that node knows.
	Incomplete bool `json:"incomplete,omitempty"`
}

// OpenOrdersMessage resends the open orders after a gap in fan-out that
// the event log does not cover.
type OpenOrdersMessage struct {
	OpenOrders []Order `json:"open_orders"`
	Incomplete bool    `json:"incomplete,omitempty"`
}

// RiderOrdersMessage resends a rider its recent orders, newest first, after
// a gap in fan-out that the event log does not cover.
type RiderOrdersMessage struct {
	Orders []Order `json:"orders"`
}

// OrderAcceptedMessage tells drivers and the order's rider who won.
type OrderAcceptedMessage struct {
	OrderID  string `json:"order_id"`
	DriverID string `json:"driver_id"`
	UserID   string `json:"user_id"`
}

// OrderCancelledMessage tells drivers and the rider that an order is gone.
type OrderCancelledMessage struct {
	OrderID string `json:"order_id"`
	UserID  string `json:"user_id"`
}

// OrderViewersMessage tells a rider how many drivers look at its order.
type OrderViewersMessage struct {
	OrderID string `json:"order_id"`
	UserID  string `json:"user_id"`
	Count   int    `json:"count"`
}

// AcceptResultMessage answers a driver's accept_order.
type AcceptResultMessage struct {
	OrderID  string `json:"order_id"`
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason,omitempty"`
}

// ErrorMessage answers a frame the hub could not use. The connection stays
// open.
type ErrorMessage struct {
	Code   string `json:"code"`
	Reason string `json:"reason"`
	// Type echoes the offending frame's type when it could be read.
	Type string `json:"type,omitempty"`
}

// OrderRequestMessage is the message of a driver's view_order,
// unview_order and accept_order: the order, by id.
type OrderRequestMessage struct {
	OrderID string `json:"order_id"`
}

// OrderCompletedMessage tells the rider, and drivers, that the assigned
// driver ended the ride.
type OrderCompletedMessage struct {
	OrderID  string `json:"order_id"`
	DriverID string `json:"driver_id"`
	UserID   string `json:"user_id"`
}

// LocationMessage is a driver's position: the message of its location
// frame and the body of POST /drivers/{driver_id}/location. Lat and Lng
// are WGS84 degrees; Heading, when given, is degrees clockwise from north
// in [0, 360); SpeedMPS, when given, is metres per second, >= 0.
type LocationMessage struct {
	Lat      float64  `json:"lat"`
	Lng      float64  `json:"lng"`
	Heading  *float64 `json:"heading,omitempty"`
	SpeedMPS *float64 `json:"speed_mps,omitempty"`
}

// DriverLocationMessage is a position of the driver of an accepted order,
// for its rider (UserID), as the driver sent it at UpdatedAt.
type DriverLocationMessage struct {
	OrderID   string    `json:"order_id"`
	DriverID  string    `json:"driver_id"`
	UserID    string    `json:"user_id"`
	Lat       float64   `json:"lat"`
	Lng       float64   `json:"lng"`
	Heading   *float64  `json:"heading,omitempty"`
	SpeedMPS  *float64  `json:"speed_mps,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}
