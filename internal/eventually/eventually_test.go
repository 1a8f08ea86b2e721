package eventually

import (
	"errors"
	"testing"
	"time"
)

func TestCheckReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	Check(t, time.Second, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if calls != 3 {
		t.Fatalf("condition checked %d times, want 3", calls)
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(string, ...any) { f.failed = true }

func TestCheckFailsAtTheDeadline(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	start := time.Now()
	calls := 0
	CheckEvery(rec, 50*time.Millisecond, 10*time.Millisecond, func() error {
		calls++
		if rec.failed {
			return nil // end the loop once the failure is recorded
		}
		return errors.New("never")
	})
	if !rec.failed {
		t.Fatal("no failure at the deadline")
	}
	if time.Since(start) < 50*time.Millisecond || calls < 2 {
		t.Fatalf("gave up after %v and %d checks", time.Since(start), calls)
	}
}
