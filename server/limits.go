package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet holds one token bucket per caller of the order API, so one
// misbehaving client is slowed down without touching the others.
type limiterSet struct {
	limit rate.Limit
	burst int

	mu   sync.Mutex
	byID map[string]*rate.Limiter
}

func newLimiterSet(perSecond float64, burst int) *limiterSet {
	return &limiterSet{limit: rate.Limit(perSecond), burst: burst, byID: make(map[string]*rate.Limiter)}
}

// allow reports whether id may make one more call now.
func (l *limiterSet) allow(id string) bool {
	l.mu.Lock()
	lim, ok := l.byID[id]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.byID[id] = lim
	}
	l.mu.Unlock()
	return lim.Allow()
}

// prune forgets callers whose bucket is full again: they are
// indistinguishable from new callers, and forgetting them bounds memory.
func (l *limiterSet) prune() {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, lim := range l.byID {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.byID, id)
		}
	}
}
