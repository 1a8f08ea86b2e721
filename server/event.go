package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	// ChannelDrivers.
	UserID string
	// Targets lists the drivers an event of ChannelDrivers is for (those
	// offered a radius-limited order); nil when it is for every driver.
	Targets []string
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

// driversEvent builds an event of ChannelDrivers about o: for the drivers
// it was offered to when it is radius-limited, for every driver otherwise.
func driversEvent(typ string, message any, o Order) Event {
	ev := newEvent(ChannelDrivers, typ, message, "")
	if o.Targeted() {
		// A radius-limited order offered to nobody concerns no driver; an
		// empty, non-nil list says so.
		ev.Targets = append(make([]string, 0, len(o.OfferedTo)), o.OfferedTo...)
	}
	return ev
}

// targeted reports whether ev is for some drivers only.
func (ev Event) targeted() bool { return ev.Targets != nil }

// targetsText is Targets as the event log and the Pub/Sub frame carry them:
// comma-separated ids.
func (ev Event) targetsText() string { return strings.Join(ev.Targets, ",") }

// parseTargets reads targetsText; present is whether the field was there.
func parseTargets(text string, present bool) []string {
	if !present {
		return nil
	}
	if text == "" {
		return []string{}
	}
	return strings.Split(text, ",")
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

// parseEventFrame reads an event from the frame a broker carried. It runs
// once per event and node, never per connection. A frame for some drivers
// only carries their ids in a top-level "to" (see contract.TargetsField),
// which is taken off: the event's Frame is what clients receive.
func parseEventFrame(ch Channel, frame []byte) (Event, error) {
	var env struct {
		Type    string          `json:"type"`
		ID      string          `json:"id"`
		Message json.RawMessage `json:"message"`
		To      *string         `json:"to"`
	}
	if err := json.Unmarshal(frame, &env); err != nil {
		return Event{}, fmt.Errorf("event frame: %w", err)
	}
	id, err := ParseEventID(env.ID)
	if err != nil {
		return Event{}, fmt.Errorf("event frame: %w", err)
	}
	ev := Event{ID: id, Channel: ch, Type: env.Type, Message: bytes.Clone(env.Message), Frame: frame}
	if env.To != nil {
		ev.Targets = parseTargets(*env.To, true)
		ev.Frame = eventFrame(ev.Type, env.ID, ev.Message)
	}
	if ch == ChannelUsers {
		var m struct {
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(env.Message, &m); err != nil || m.UserID == "" {
			return Event{}, fmt.Errorf("rider event %s has no user_id", id)
		}
		ev.UserID = m.UserID
	}
	return ev, nil
}

// concerns reports whether a client of role and id receives ev: a driver
// every event of ChannelDrivers that is for every driver or names it, a
// rider the events of ChannelUsers for it.
func (ev Event) concerns(role Role, id string) bool {
	if ev.Channel == ChannelDrivers {
		return role == RoleDriver && (!ev.targeted() || slices.Contains(ev.Targets, id))
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
