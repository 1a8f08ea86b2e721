package loadtest

import (
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taxi-hub/taxi/contract"
)

// orderReg tells a fleet about an order bench created: its id, its place in
// the schedule and the instants it was due and sent. Deliveries seen before
// the registration arrives (the hub may fan an order out before its POST
// answer reaches bench) are held and timed once it does.
type orderReg struct {
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	DueNS  int64  `json:"due_ns"`  // CLOCK_MONOTONIC nanoseconds
	SentNS int64  `json:"sent_ns"` // when its POST was sent: clients greeted before are owed its events
	Warm   bool   `json:"warm,omitempty"`
	Race   bool   `json:"race,omitempty"`
}

// orderState is one order as one fleet saw it. The bitsets are indexed by
// the fleet's own driver numbering (global index / process count).
type orderState struct {
	reg       orderReg
	known     bool    // registered by the order creator
	delivered int32   // new_order frames received for it
	pending   []int64 // arrival instants held until registration
	wins      int32   // accept_result accepted=true seen here
	losses    int32   // accept_result accepted=false seen here
	closed    bool    // accepted or cancelled, as some client here learnt

	got       bitset // drivers that received its new_order
	snap      bitset // drivers that received it in a snapshot
	accepted  bitset // drivers that received its order_accepted
	cancelled bitset // drivers that received its order_cancelled

	riderAccepted, riderCancelled int32 // its rider's order_accepted and order_cancelled frames
	riderSawAccepted              bool  // its rider's snapshot listed it accepted
}

// bitset is a set of small non-negative integers.
type bitset []uint64

// add puts i in the set and reports whether it was there already.
func (b *bitset) add(i int) bool {
	w := i / 64
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b))...)
	}
	bit := uint64(1) << (i % 64)
	had := (*b)[w]&bit != 0
	(*b)[w] |= bit
	return had
}

// union is the number of members of b or o.
func (b bitset) union(o bitset) int {
	n := 0
	for i := range max(len(b), len(o)) {
		var w uint64
		if i < len(b) {
			w = b[i]
		}
		if i < len(o) {
			w |= o[i]
		}
		n += bits.OnesCount64(w)
	}
	return n
}

func (b bitset) has(i int) bool {
	w := i / 64
	return w < len(b) && b[w]&(uint64(1)<<(i%64)) != 0
}

// maxPending bounds the arrivals held for orders not (yet) registered, such
// as orders other clients create on a shared hub; past it they are counted as
// foreign and dropped. maxUnknown bounds the orders known only from frames.
const (
	maxPending = 1 << 20
	maxUnknown = 1 << 20
)

const registryShards = 64

// registry matches deliveries with registrations and keeps, per order, which
// of the fleet's clients received which of its events; safe for concurrent
// use.
type registry struct {
	seed    maphash.Seed
	shards  [registryShards]registryShard
	latency *recorder // deliveries of measured orders

	pending   atomic.Int64 // arrivals held now
	unknown   atomic.Int64 // orders seen in frames, not registered
	measured  atomic.Int64 // deliveries of measured orders
	warm      atomic.Int64 // deliveries of warm-up orders
	reached   atomic.Int64 // (driver, registered order) pairs delivered by a frame or a snapshot
	overflow  atomic.Int64 // arrivals dropped because a bound was reached
	negatives atomic.Int64 // arrivals stamped before their due instant
}

type registryShard struct {
	mu sync.Mutex
	m  map[string]*orderState
}

func newRegistry() *registry {
	r := &registry{seed: maphash.MakeSeed(), latency: newRecorder()}
	for i := range r.shards {
		r.shards[i].m = make(map[string]*orderState)
	}
	return r
}

func (r *registry) shard(id []byte) *registryShard {
	return &r.shards[maphash.Bytes(r.seed, id)%registryShards]
}

// state returns the order id with sh locked, creating it unless the bound on
// unknown orders is reached (then nil, and sh unlocked).
func (r *registry) state(id []byte) (*registryShard, *orderState) {
	sh := r.shard(id)
	sh.mu.Lock()
	st := sh.m[string(id)]
	if st == nil {
		if r.unknown.Load() >= maxUnknown || r.pending.Load() >= maxPending {
			sh.mu.Unlock()
			r.overflow.Add(1)
			return nil, nil
		}
		r.unknown.Add(1)
		st = &orderState{}
		sh.m[string(id)] = st
	}
	return sh, st
}

// delivery records a new_order frame for id that driver (the fleet's
// numbering) received at (monotonic ns), and reports whether that driver
// had received it before; hint spreads histogram writes.
func (r *registry) delivery(hint, driver int, id []byte, at int64) (repeat bool) {
	sh, st := r.state(id)
	if st == nil {
		return false
	}
	repeat = st.got.add(driver)
	if st.known && !repeat && !st.snap.has(driver) {
		r.reached.Add(1)
	}
	if !st.known {
		st.pending = append(st.pending, at)
		sh.mu.Unlock()
		r.pending.Add(1)
		return repeat
	}
	st.delivered++
	due, warm := st.reg.DueNS, st.reg.Warm
	sh.mu.Unlock()
	r.time(hint, warm, at-due)
	return repeat
}

func (r *registry) time(hint int, warm bool, ns int64) {
	if warm {
		r.warm.Add(1)
		return
	}
	if ns < 0 {
		r.negatives.Add(1)
		ns = 0
	}
	r.measured.Add(1)
	r.latency.record(hint, time.Duration(ns))
}

// register makes reg known and times the arrivals held for it.
func (r *registry) register(reg orderReg) {
	id := []byte(reg.ID)
	sh := r.shard(id)
	sh.mu.Lock()
	st := sh.m[reg.ID]
	switch {
	case st == nil:
		st = &orderState{}
		sh.m[reg.ID] = st
	case !st.known:
		r.unknown.Add(-1)
	}
	st.reg, st.known = reg, true
	held := st.pending
	st.pending = nil
	st.delivered += int32(len(held))
	reached := st.got.union(st.snap)
	sh.mu.Unlock()
	r.reached.Add(int64(reached))
	r.pending.Add(-int64(len(held)))
	for i, at := range held {
		r.time(i, reg.Warm, at-reg.DueNS)
	}
}

// closing records an order_accepted or order_cancelled frame for id that
// driver received, and reports whether it had received it before.
func (r *registry) closing(typ string, driver int, id []byte) (repeat bool) {
	sh, st := r.state(id)
	if st == nil {
		return false
	}
	defer sh.mu.Unlock()
	st.closed = true
	if typ == contract.TypeOrderAccepted {
		return st.accepted.add(driver)
	}
	return st.cancelled.add(driver)
}

// riderClosing records an order_accepted or order_cancelled frame for id
// that its rider received, and reports whether the rider had it before.
func (r *registry) riderClosing(typ string, id []byte) (repeat bool) {
	sh, st := r.state(id)
	if st == nil {
		return false
	}
	defer sh.mu.Unlock()
	st.closed = true
	n := &st.riderCancelled
	if typ == contract.TypeOrderAccepted {
		n = &st.riderAccepted
	}
	*n++
	return *n > 1
}

// snapshot records that driver received id in a snapshot of open orders.
func (r *registry) snapshot(driver int, id []byte) {
	sh, st := r.state(id)
	if st == nil {
		return
	}
	if !st.snap.add(driver) && st.known && !st.got.has(driver) {
		r.reached.Add(1)
	}
	sh.mu.Unlock()
}

// riderSnapshot records the status a rider's snapshot gave its order id.
func (r *registry) riderSnapshot(id []byte, status string) {
	sh, st := r.state(id)
	if st == nil {
		return
	}
	if status != string(contract.StatusOpen) {
		st.closed = true
	}
	if status == string(contract.StatusAccepted) {
		st.riderSawAccepted = true
	}
	sh.mu.Unlock()
}

// raceOutcome counts one accept answer for id.
func (r *registry) raceOutcome(id string, won bool) {
	sh, st := r.state([]byte(id))
	if st == nil {
		return
	}
	if won {
		st.wins++
		st.closed = true
	} else {
		st.losses++
	}
	sh.mu.Unlock()
}

// clientMark is what the registry needs of one client to judge what it
// missed: when it was first greeted and when it last had a snapshot
// (monotonic ns; greetedNS 0 when it never connected).
type clientMark struct {
	greetedNS, snapshotNS int64
}

// owes reports whether a client greeted at m is owed the events of an order
// sent at sentNS.
func (m clientMark) owes(sentNS int64) bool { return m.greetedNS != 0 && m.greetedNS < sentNS }

// riderWatch is a raced order whose rider this fleet holds and owes its
// order_accepted: the parent, which knows every race's winner, judges it.
type riderWatch struct {
	ID       string `json:"id"`
	Rider    int    `json:"rider"`    // global rider index
	Accepted int32  `json:"accepted"` // order_accepted frames the rider received
	Covered  bool   `json:"covered"`  // a rider snapshot listed it accepted
}

// tally is the end-of-run count over every order this registry saw.
type tally struct {
	Lost       int64               `json:"lost"`
	Duplicated int64               `json:"duplicated"`
	Foreign    int64               `json:"foreign"`
	InSnapshot int64               `json:"in_snapshot"`     // owed new_order events a snapshot stood in for
	Races      map[string][2]int32 `json:"races,omitempty"` // id → wins, losses
	Riders     []riderWatch        `json:"riders,omitempty"`
	// Missed is, per driver of the fleet, the new_order events owed and
	// neither received nor replaced by a snapshot.
	Missed []int64 `json:"-"`
}

// tally counts, given the drivers expected to receive each measured order
// (perOrder), the fleet's drivers, and riderOf, which names the rider of an
// order of seq when this fleet holds it.
func (r *registry) tally(perOrder int64, drivers []clientMark, riderOf func(seq int64) (clientMark, int, bool)) tally {
	t := tally{Foreign: r.overflow.Load(), Missed: make([]int64, len(drivers))}
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for id, st := range sh.m {
			if st.wins+st.losses > 0 {
				if t.Races == nil {
					t.Races = make(map[string][2]int32)
				}
				t.Races[id] = [2]int32{st.wins, st.losses}
			}
			if !st.known {
				t.Foreign += int64(len(st.pending))
				continue
			}
			t.InSnapshot += r.missed(st, drivers, t.Missed)
			if st.reg.Race && riderOf != nil {
				if m, g, ok := riderOf(st.reg.Seq); ok && m.owes(st.reg.SentNS) {
					t.Riders = append(t.Riders, riderWatch{ID: id, Rider: g, Accepted: st.riderAccepted, Covered: st.riderSawAccepted})
				}
			}
			if st.reg.Warm {
				continue
			}
			d := int64(st.delivered)
			covered := int64(0)
			for w, word := range st.snap {
				if w < len(st.got) {
					word &^= st.got[w]
				}
				covered += int64(bits.OnesCount64(word))
			}
			t.Lost += max(0, perOrder-d-covered)
			t.Duplicated += max(0, d-perOrder)
		}
		sh.mu.Unlock()
	}
	return t
}

// missed adds to missed, per driver, whether it was owed st's new_order and
// neither received it nor had it replaced by a snapshot, and returns how
// many owed drivers had it from a snapshot only. A driver whose snapshot
// came after the order closed is not owed it: the snapshot rightly left it
// out.
func (r *registry) missed(st *orderState, drivers []clientMark, missed []int64) (inSnapshot int64) {
	for d, m := range drivers {
		if !m.owes(st.reg.SentNS) || st.got.has(d) {
			continue
		}
		switch {
		case st.snap.has(d):
			inSnapshot++
		case st.closed && m.snapshotNS > st.reg.SentNS:
		default:
			missed[d]++
		}
	}
	return inSnapshot
}
