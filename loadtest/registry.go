package loadtest

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// orderReg tells a fleet about an order bench created: its id, its place in
// the schedule and the instant it was due. Deliveries seen before the
// registration arrives (the hub may fan an order out before its POST answer
// reaches bench) are held and timed once it does.
type orderReg struct {
	ID    string `json:"id"`
	Seq   int64  `json:"seq"`
	DueNS int64  `json:"due_ns"` // CLOCK_MONOTONIC nanoseconds
	Warm  bool   `json:"warm,omitempty"`
	Race  bool   `json:"race,omitempty"`
}

// orderState is one order as one fleet saw it.
type orderState struct {
	reg       orderReg
	known     bool    // registered by the order creator
	delivered int32   // new_order frames received for it
	pending   []int64 // arrival instants held until registration
	wins      int32   // accept_result accepted=true seen here
	losses    int32   // accept_result accepted=false seen here
}

// maxPending bounds the arrivals held for orders not (yet) registered, such
// as orders other clients create on a shared hub; past it they are counted as
// foreign and dropped.
const maxPending = 1 << 20

const registryShards = 64

// registry matches deliveries with registrations; safe for concurrent use.
type registry struct {
	seed    maphash.Seed
	shards  [registryShards]registryShard
	latency *recorder // deliveries of measured orders

	pending   atomic.Int64 // arrivals held now
	measured  atomic.Int64 // deliveries of measured orders
	warm      atomic.Int64 // deliveries of warm-up orders
	overflow  atomic.Int64 // arrivals dropped because maxPending was reached
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

// delivery records a new_order frame for id that arrived at (monotonic ns);
// hint spreads histogram writes.
func (r *registry) delivery(hint int, id []byte, at int64) {
	sh := r.shard(id)
	sh.mu.Lock()
	st := sh.m[string(id)]
	if st == nil {
		if r.pending.Load() >= maxPending {
			sh.mu.Unlock()
			r.overflow.Add(1)
			return
		}
		st = &orderState{}
		sh.m[string(id)] = st
	}
	if !st.known {
		st.pending = append(st.pending, at)
		sh.mu.Unlock()
		r.pending.Add(1)
		return
	}
	st.delivered++
	due, warm := st.reg.DueNS, st.reg.Warm
	sh.mu.Unlock()
	r.time(hint, warm, at-due)
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
	if st == nil {
		st = &orderState{}
		sh.m[reg.ID] = st
	}
	st.reg, st.known = reg, true
	held := st.pending
	st.pending = nil
	st.delivered += int32(len(held))
	sh.mu.Unlock()
	r.pending.Add(-int64(len(held)))
	for i, at := range held {
		r.time(i, reg.Warm, at-reg.DueNS)
	}
}

// raceOutcome counts one accept answer for id.
func (r *registry) raceOutcome(id string, won bool) {
	sh := r.shard([]byte(id))
	sh.mu.Lock()
	st := sh.m[id]
	if st == nil {
		st = &orderState{}
		sh.m[id] = st
	}
	if won {
		st.wins++
	} else {
		st.losses++
	}
	sh.mu.Unlock()
}

// tally is the end-of-run count over every order this registry saw, given
// the number of drivers expected to receive each measured order.
type tally struct {
	Lost       int64               `json:"lost"`
	Duplicated int64               `json:"duplicated"`
	Foreign    int64               `json:"foreign"`
	Races      map[string][2]int32 `json:"races,omitempty"` // id → wins, losses
}

func (r *registry) tally(perOrder int64) tally {
	t := tally{Foreign: r.overflow.Load()}
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
			if st.reg.Warm {
				continue
			}
			d := int64(st.delivered)
			t.Lost += max(0, perOrder-d)
			t.Duplicated += max(0, d-perOrder)
		}
		sh.mu.Unlock()
	}
	return t
}
