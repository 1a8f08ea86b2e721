// Package eventually is the one way tests in this repository wait for a
// condition: poll it with a deadline, and fail with its last error. It must
// never be used outside tests, and never replaced by a bare sleep.
package eventually

import (
	"testing"
	"time"
)

// Poll is how often Check looks at the condition unless told otherwise.
const Poll = 20 * time.Millisecond

// Check calls fn every Poll until it returns nil, and fails the test with
// fn's last error if total passes first.
func Check(t testing.TB, total time.Duration, fn func() error) {
	t.Helper()
	CheckEvery(t, total, Poll, fn)
}

// CheckEvery is Check with its own polling period.
func CheckEvery(t testing.TB, total, every time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %v", total, err)
		}
		time.Sleep(every)
	}
}
