package server

import (
	"testing"
	"time"
)

const (
	defaultWait = 10 * time.Second
	pollEvery   = 10 * time.Millisecond
)

// timeoutC is a channel that fires when a test has waited long enough for
// something that should already have happened.
func timeoutC(t testing.TB) <-chan time.Time {
	timer := time.NewTimer(defaultWait)
	t.Cleanup(func() { timer.Stop() })
	return timer.C
}
