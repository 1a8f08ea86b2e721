package loadtest

import (
	"testing"
	"time"
)

func TestScheduleFor(t *testing.T) {
	for _, tt := range []struct {
		rate              float64
		warmUp, duration  time.Duration
		wantWarm, wantAll int64
	}{
		// The default run: 50/s, 2 s warm-up, 10 s measured.
		{50, 2 * time.Second, 10 * time.Second, 100, 600},
		// No warm-up: every order is measured.
		{50, 0, time.Second, 0, 50},
		// A fractional count rounds up: due instants 0, 0.4 s and 0.8 s.
		{2.5, 0, time.Second, 0, 3},
		// 0.1 × 30 is 3.0000000000000004 in floating point: still 3.
		{0.1, 0, 30 * time.Second, 0, 3},
		// Rate zero: nothing planned (the connect scenario).
		{0, time.Second, time.Second, 0, 0},
	} {
		s := scheduleFor(tt.rate, tt.warmUp, tt.duration)
		if s.warm != tt.wantWarm || s.total() != tt.wantAll {
			t.Errorf("scheduleFor(%g, %s, %s) = %d warm of %d, want %d of %d",
				tt.rate, tt.warmUp, tt.duration, s.warm, s.total(), tt.wantWarm, tt.wantAll)
		}
	}
}

func TestScheduleNext(t *testing.T) {
	s := scheduleFor(10, 0, time.Second) // due every 100 ms, 10 orders
	for _, tt := range []struct {
		elapsed time.Duration
		sent    int64
		wait    time.Duration
		stop    bool
	}{
		// The first order is due at once.
		{0, 0, 0, false},
		// On time: the second order is due 100 ms after the start.
		{0, 1, 100 * time.Millisecond, false},
		// Part-way: 30 ms into the run the second order is 70 ms away.
		{30 * time.Millisecond, 1, 70 * time.Millisecond, false},
		// Behind: order 3 was due at 300 ms; at 450 ms the wait is
		// negative and the sender sends at once, skipping nothing.
		{450 * time.Millisecond, 3, -150 * time.Millisecond, false},
		// Far ahead of nothing: the schedule does not speed up to catch
		// up, it just reports every late order as due.
		{5 * time.Second, 4, -4600 * time.Millisecond, false},
		// Every order sent: stop.
		{time.Second, 10, 0, true},
	} {
		wait, stop := s.next(tt.elapsed, tt.sent)
		if wait != tt.wait || stop != tt.stop {
			t.Errorf("next(%s, %d) = (%s, %t), want (%s, %t)", tt.elapsed, tt.sent, wait, stop, tt.wait, tt.stop)
		}
	}
}

func TestScheduleWarm(t *testing.T) {
	s := scheduleFor(10, 500*time.Millisecond, time.Second)
	if !s.isWarm(4) || s.isWarm(5) {
		t.Errorf("orders 0-4 are due in the first 500 ms and warm, 5 is not: isWarm(4)=%t isWarm(5)=%t", s.isWarm(4), s.isWarm(5))
	}
	if s.due(5) != 500*time.Millisecond {
		t.Errorf("due(5) = %s, want 500ms", s.due(5))
	}
}
