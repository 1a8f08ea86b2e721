package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// EventID orders the events of one channel. Its text form is a Redis stream
// id, "<milliseconds>-<sequence>"; memory mode makes ids of the same form, so
// clients treat every id as an opaque string and the hub compares them.
type EventID struct {
	Ms, Seq uint64
}

// String is the id as clients see it in a frame's "id" and send it back in
// ?since=.
func (id EventID) String() string {
	return strconv.FormatUint(id.Ms, 10) + "-" + strconv.FormatUint(id.Seq, 10)
}

// IsZero reports whether id names no event: the position before the first.
func (id EventID) IsZero() bool { return id == EventID{} }

// Less reports whether id comes before o.
func (id EventID) Less(o EventID) bool {
	return id.Ms < o.Ms || (id.Ms == o.Ms && id.Seq < o.Seq)
}

// errBadEventID is returned for a since= that is not an event id.
var errBadEventID = errors.New("not an event id")

// ParseEventID reads the text form of an id.
func ParseEventID(s string) (EventID, error) {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok || len(s) > 41 {
		return EventID{}, fmt.Errorf("event id %.48q: %w", s, errBadEventID)
	}
	m, err1 := strconv.ParseUint(ms, 10, 64)
	q, err2 := strconv.ParseUint(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return EventID{}, fmt.Errorf("event id %.48q: %w", s, errBadEventID)
	}
	return EventID{Ms: m, Seq: q}, nil
}

// Event is one fan-out event: a state change that concerns clients on any
// node. It is logged, so that a node that missed it and a client that
// reconnects can have it again, and it carries the id it was logged under.
type Event struct {
	ID      EventID
	Channel Channel
	// Type is the frame type (new_order, order_accepted, ...).
	Type string
	// Message is the JSON of the frame's message.
	Message []byte
	// UserID is the rider an event of ChannelUsers is for; empty on
	// ChannelDrivers, whose events go to every driver.
	UserID string
	// Frame is what clients receive: {"type","id","message"}. Encoded
	// once per event and shared by every connection.
	Frame []byte
}

// newEvent builds an event not yet logged: no id, no frame.
func newEvent(ch Channel, typ string, message any, userID string) Event {
	msg, err := json.Marshal(message)
	if err != nil {
		// Every message type marshals; a failure is a programming error.
		panic(fmt.Sprintf("encode %s event: %v", typ, err))
	}
	return Event{Channel: ch, Type: typ, Message: msg, UserID: userID}
}

// withID returns ev logged under id, with its frame. The frame's bytes are
// laid out exactly as publish.lua lays them out, so that a frame looks the
// same whichever broker carried it.
func (ev Event) withID(id EventID) Event {
	ev.ID = id
	ev.Frame = eventFrame(ev.Type, id.String(), ev.Message)
	return ev
}

func eventFrame(typ, id string, msg []byte) []byte {
	b := make([]byte, 0, len(typ)+len(id)+len(msg)+32)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","id":"`...)
	b = append(b, id...)
	b = append(b, `","message":`...)
	b = append(b, msg...)
	return append(b, '}')
}

// content identifies an event by what it says rather than by its id: the
// same state change logged twice (once in memory during an outage, once in
// Redis when the node rejoins) has one content.
func (ev Event) content() string { return ev.Type + "\x00" + string(ev.Message) }

// parseEventFrame reads an event from the frame a broker carried, with one
// decode; its message is a slice of the frame. It runs once per event and
// node, never per connection.
func parseEventFrame(ch Channel, frame []byte) (Event, error) {
	var env struct {
		Type    string `json:"type"`
		ID      string `json:"id"`
		Message struct {
			UserID string `json:"user_id"`
		} `json:"message"`
	}
	if err := json.Unmarshal(frame, &env); err != nil {
		return Event{}, fmt.Errorf("event frame: %w", err)
	}
	id, err := ParseEventID(env.ID)
	if err != nil {
		return Event{}, fmt.Errorf("event frame: %w", err)
	}
	ev := Event{ID: id, Channel: ch, Type: env.Type, Frame: frame}
	// The frame is laid out as eventFrame lays it out: the message runs
	// from after "message": to the closing brace.
	if i := bytes.Index(frame, []byte(`,"message":`)); i >= 0 && frame[len(frame)-1] == '}' {
		ev.Message = frame[i+len(`,"message":`) : len(frame)-1]
	}
	if ch == ChannelUsers {
		if env.Message.UserID == "" {
			return Event{}, fmt.Errorf("rider event %s has no user_id", id)
		}
		ev.UserID = env.Message.UserID
	}
	return ev, nil
}

// concerns reports whether a client of role and id receives ev.
func (ev Event) concerns(role Role, id string) bool {
	if ev.Channel == ChannelDrivers {
		return role == RoleDriver
	}
	return role == RoleUser && ev.UserID == id
}

// channelOf is the channel whose events a client of role receives.
func channelOf(role Role) Channel {
	if role == RoleDriver {
		return ChannelDrivers
	}
	return ChannelUsers
}
