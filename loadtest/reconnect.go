package loadtest

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Reconnect bounds: a client whose connection the hub ended tries at most
// maxReconnects dials, each after a random wait of up to reconnectBase
// doubling to reconnectCap ("full jitter", so a node's clients do not come
// back in one wave).
const (
	maxReconnects = 30
	reconnectBase = 50 * time.Millisecond
	reconnectCap  = 2 * time.Second
)

// reconnects counts a fleet's reconnects.
type reconnects struct {
	attempts, reconnected, recovered, snapshot, gaveUp atomic.Int64
	latency                                            *recorder // connection lost to greeted again
}

// reconnectTally is a fleet's reconnects as sent to the parent.
type reconnectTally struct {
	Attempts    int64                  `json:"attempts"`
	Reconnected int64                  `json:"reconnected"`
	Recovered   int64                  `json:"recovered"`
	Snapshot    int64                  `json:"snapshot"`
	GaveUp      int64                  `json:"gave_up"`
	Latency     *hdrhistogram.Snapshot `json:"latency,omitempty"`
}

func (r *reconnects) tally() reconnectTally {
	return reconnectTally{
		Attempts:    r.attempts.Load(),
		Reconnected: r.reconnected.Load(),
		Recovered:   r.recovered.Load(),
		Snapshot:    r.snapshot.Load(),
		GaveUp:      r.gaveUp.Load(),
		Latency:     exportHist(r.latency.snapshot()),
	}
}

// reconnect dials c again after the hub ended its connection: to the next
// target round-robin, with ?since= set to the last event id c saw, so that
// the hub replays what c missed (connected says recovered) or sends a
// snapshot. It reports false when c stays disconnected: the fleet is
// finishing, the hub refused c for good (400, 401, 403), or every attempt
// failed.
func (f *fleet) reconnect(c *client) bool {
	lost := monoNow()
	token, err := f.minter.token(c.role, c.id)
	if err != nil {
		f.errors.addErr(err)
		return false
	}
	target := c.target
	for attempt := range maxReconnects {
		sleep(f.dialing, backoff(attempt))
		if f.dialing.Err() != nil || c.closing.Load() {
			return false
		}
		target = (target + 1) % len(f.opts.Targets)
		since := ""
		if !c.ledger.resume.isZero() {
			since = c.ledger.resume.String()
		}
		f.reconnects.attempts.Add(1)
		ws, hello, err := dialClient(f.dialing, f.dialers[c.global%len(f.dialers)], f.opts.Targets[target], c.role, c.id, token, since, f.opts.Timeout)
		if err != nil {
			if f.dialing.Err() != nil {
				return false
			}
			f.errors.add("reconnect_"+errorKind(err), 1)
			if permanent(err) {
				break
			}
			continue
		}
		if !c.replace(ws, target) {
			ws.CloseNow()
			return false
		}
		f.greeted(c, hello)
		f.reconnects.reconnected.Add(1)
		f.reconnects.latency.record(c.global, time.Duration(monoNow()-lost))
		return true
	}
	f.reconnects.gaveUp.Add(1)
	return false
}

// greeted reads the connected frame of c's new connection: either the
// events after since follow (recovered), or it carries a snapshot that
// stands in for them.
func (f *fleet) greeted(c *client, hello []byte) {
	g := parseGreeting(hello)
	if g.recovered != nil && *g.recovered {
		f.reconnects.recovered.Add(1)
	} else {
		f.reconnects.snapshot.Add(1)
		f.snapshot(c, hello)
	}
	c.ledger.position(g.lastEventID)
}

// permanent reports whether a refused dial will be refused again whatever
// the target: a bad id or token.
func permanent(err error) bool {
	var se *statusError
	if !errors.As(err, &se) {
		return false
	}
	return se.status == http.StatusBadRequest || se.status == http.StatusUnauthorized || se.status == http.StatusForbidden
}

// backoff is the wait before reconnect attempt n: random, up to
// reconnectBase·2^n capped at reconnectCap.
func backoff(n int) time.Duration {
	ceiling := min(reconnectBase<<min(n, 16), reconnectCap)
	return rand.N(ceiling)
}
