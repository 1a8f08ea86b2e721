package loadtest

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// eventID is a hub event id, "<milliseconds>-<sequence>": ids order the
// events of one feed. The zero value is "no id yet".
type eventID struct {
	ms, seq uint64
}

// parseEventID reads the text form of an id; ok is false for anything else.
func parseEventID(b []byte) (eventID, bool) {
	dash := -1
	for i, c := range b {
		if c == '-' {
			dash = i
			break
		}
	}
	if dash <= 0 || dash == len(b)-1 || len(b) > 41 {
		return eventID{}, false
	}
	ms, err1 := strconv.ParseUint(string(b[:dash]), 10, 64)
	seq, err2 := strconv.ParseUint(string(b[dash+1:]), 10, 64)
	if err1 != nil || err2 != nil {
		return eventID{}, false
	}
	return eventID{ms: ms, seq: seq}, true
}

func (id eventID) isZero() bool { return id == eventID{} }

// after reports whether id comes after o.
func (id eventID) after(o eventID) bool {
	return id.ms > o.ms || (id.ms == o.ms && id.seq > o.seq)
}

// String is the id as a feed URL's ?since= takes it.
func (id eventID) String() string {
	return strconv.FormatUint(id.ms, 10) + "-" + strconv.FormatUint(id.seq, 10)
}

// ledger is one simulated client's account of the events it received, over
// every connection it held. The read loop of the client's current
// connection is its only writer of last and resume (connections follow one
// another, never overlap); the counters are atomic because progress and the
// registry read or add to them from other goroutines.
type ledger struct {
	// greetedNS is when the client's first connection was greeted
	// (monotonic ns): it is owed every event created after that.
	greetedNS int64
	// snapshotNS is when the client last received a snapshot (a connected
	// frame with open orders or rider orders on a reconnect, open_orders,
	// rider_orders): an order closed before it need not reach the client.
	snapshotNS atomic.Int64

	last   eventID // id of the previous event received
	resume eventID // where a reconnect resumes from (?since=)

	received   atomic.Int64 // event frames with an id
	repeated   atomic.Int64 // events received a second time on this client
	outOfOrder atomic.Int64 // ids not greater than the previous one
	withoutID  atomic.Int64 // event frames without a readable id
}

// observe checks the id of one event frame against the previous one.
func (l *ledger) observe(raw []byte) {
	id, ok := parseEventID(raw)
	if !ok {
		l.withoutID.Add(1)
		return
	}
	l.received.Add(1)
	if !l.last.isZero() && !id.after(l.last) {
		l.outOfOrder.Add(1)
	}
	l.last, l.resume = id, id
}

// position records the id a connected frame names as the one to resume
// from (its last_event_id).
func (l *ledger) position(raw []byte) {
	if id, ok := parseEventID(raw); ok {
		l.resume = id
	}
}

// ClientFault is one client whose events were not exactly once and in order.
type ClientFault struct {
	Client     string `json:"client"` // driver or rider id
	Missed     int64  `json:"missed"`
	Repeated   int64  `json:"repeated"`
	OutOfOrder int64  `json:"out_of_order"`
}

func (f ClientFault) faulty() bool { return f.Missed+f.Repeated+f.OutOfOrder > 0 }

// fault is the client's counts so far, with missed as the registry judged it.
func (l *ledger) fault(client string, missed int64) ClientFault {
	return ClientFault{Client: client, Missed: missed, Repeated: l.repeated.Load(), OutOfOrder: l.outOfOrder.Load()}
}

// eventTally is a fleet's event counts, as sent to the parent. Riders'
// missed events are judged by the parent, which knows every race's winner.
type eventTally struct {
	Received   int64         `json:"received"`
	Missed     int64         `json:"missed"`
	Repeated   int64         `json:"repeated"`
	OutOfOrder int64         `json:"out_of_order"`
	InSnapshot int64         `json:"in_snapshot"`
	WithoutID  int64         `json:"without_id"`
	Faults     []ClientFault `json:"faults,omitempty"`
}

// events sums the ledgers of the fleet's clients; missed is the registry's
// judgement per driver.
func (f *fleet) events(missed []int64) eventTally {
	var t eventTally
	add := func(c *client, m int64) {
		l := &c.ledger
		t.Received += l.received.Load()
		t.WithoutID += l.withoutID.Load()
		fault := l.fault(c.id, m)
		t.Missed += fault.Missed
		t.Repeated += fault.Repeated
		t.OutOfOrder += fault.OutOfOrder
		if fault.faulty() {
			t.Faults = append(t.Faults, fault)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.drivers {
		if c != nil {
			add(c, missed[i])
		}
	}
	for _, c := range f.users {
		if c != nil {
			add(c, 0)
		}
	}
	return t
}

// maxFaults bounds the clients a report lists one by one.
const maxFaults = 100

// add sums one fleet's counts into e.
func (e *EventReport) add(t eventTally) {
	e.Received += t.Received
	e.Missed += t.Missed
	e.Repeated += t.Repeated
	e.OutOfOrder += t.OutOfOrder
	e.InSnapshot += t.InSnapshot
	e.WithoutID += t.WithoutID
	e.Faults = append(e.Faults, t.Faults...)
}

// judgeRiders adds the riders' missed events: each watched order that some
// racer won (races: id → wins, losses) owes its rider one order_accepted.
func (e *EventReport) judgeRiders(watched []riderWatch, races map[string][2]int32, run string) {
	missed := make(map[string]int64)
	for _, w := range watched {
		if races[w.ID][0] > 0 && w.Accepted == 0 && !w.Covered {
			missed[userID(run, w.Rider)]++
		}
	}
	if len(missed) == 0 {
		return
	}
	for i := range e.Faults {
		if n, ok := missed[e.Faults[i].Client]; ok {
			e.Faults[i].Missed += n
			e.Missed += n
			delete(missed, e.Faults[i].Client)
		}
	}
	for client, n := range missed {
		e.Faults = append(e.Faults, ClientFault{Client: client, Missed: n})
		e.Missed += n
	}
}

// finish counts the faulty clients and keeps the worst maxFaults, by the
// sum of their counts, then by id.
func (e *EventReport) finish() {
	e.FaultyClients = int64(len(e.Faults))
	slices.SortFunc(e.Faults, func(a, b ClientFault) int {
		if n := cmp.Compare(b.Missed+b.Repeated+b.OutOfOrder, a.Missed+a.Repeated+a.OutOfOrder); n != 0 {
			return n
		}
		return strings.Compare(a.Client, b.Client)
	})
	if len(e.Faults) > maxFaults {
		e.Faults = e.Faults[:maxFaults]
	}
	if e.Faults == nil {
		e.Faults = []ClientFault{}
	}
}

// add sums one fleet's reconnects into r.
func (r *ReconnectReport) add(t reconnectTally) {
	r.Attempts += t.Attempts
	r.Reconnected += t.Reconnected
	r.Recovered += t.Recovered
	r.Snapshot += t.Snapshot
	r.GaveUp += t.GaveUp
}
