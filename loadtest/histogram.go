package loadtest

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds from 1 µs to 10 minutes with three
// significant digits: 0.1% precision at every scale, which is what p99.9 of a
// 10 ms claim needs, in a few hundred kilobytes.
const (
	histLowest  = 1
	histHighest = int64(10 * time.Minute / time.Microsecond)
	histDigits  = 3
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// recorder is a latency histogram many goroutines write to at once. Writers
// pick a shard by a hint (a driver's index) so thousands of drivers do not
// queue on one lock.
type recorder struct {
	shards []recorderShard
}

type recorderShard struct {
	mu sync.Mutex
	h  *hdrhistogram.Histogram
	_  [40]byte // keeps neighbouring shards' locks off one cache line
}

func newRecorder() *recorder {
	n := 4 * runtime.GOMAXPROCS(0)
	r := &recorder{shards: make([]recorderShard, n)}
	for i := range r.shards {
		r.shards[i].h = newHist()
	}
	return r
}

// record adds d. Values past the histogram's range are clamped to it rather
// than dropped, so an outlier still shows as the max.
func (r *recorder) record(hint int, d time.Duration) {
	us := int64(d / time.Microsecond)
	us = min(max(us, histLowest), histHighest)
	s := &r.shards[uint(hint)%uint(len(r.shards))]
	s.mu.Lock()
	_ = s.h.RecordValue(us) // in range by construction
	s.mu.Unlock()
}

// snapshot merges every shard into one new histogram.
func (r *recorder) snapshot() *hdrhistogram.Histogram {
	out := newHist()
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		out.Merge(s.h)
		s.mu.Unlock()
	}
	return out
}

// exportHist turns h into the snapshot workers send their parent.
func exportHist(h *hdrhistogram.Histogram) *hdrhistogram.Snapshot {
	if h == nil {
		return nil
	}
	return h.Export()
}

// importHist checks a snapshot from another process and merges it into into.
func importHist(into *hdrhistogram.Histogram, s *hdrhistogram.Snapshot) error {
	if s == nil {
		return nil
	}
	if err := s.Validate(); err != nil {
		return fmt.Errorf("import histogram: %w", err)
	}
	if dropped := into.Merge(hdrhistogram.Import(s)); dropped > 0 {
		return fmt.Errorf("import histogram: %d values out of range", dropped)
	}
	return nil
}

// Latency summarises a latency distribution. Every value is in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// summarize reads the percentiles the report shows from h.
func summarize(h *hdrhistogram.Histogram) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count: h.TotalCount(),
		Mean:  h.Mean() / 1000,
		P50:   ms(h.ValueAtQuantile(50)),
		P90:   ms(h.ValueAtQuantile(90)),
		P99:   ms(h.ValueAtQuantile(99)),
		P999:  ms(h.ValueAtQuantile(99.9)),
		Max:   ms(h.Max()),
	}
}
