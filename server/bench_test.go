package server

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/taxi-hub/taxi/internal/redistest"
)

// Benchmarks of the hot paths. Run them with `make bench`; speed targets are
// checked here and by taxi bench, never by timed unit tests.

func BenchmarkEncodeFrame(b *testing.B) {
	o := testOrder("0123456789abcdef0123", "rider-42")
	b.ReportAllocs()
	for b.Loop() {
		encodeFrame(TypeNewOrder, o)
	}
}

// BenchmarkFanout measures one frame delivered to every one of N drivers
// over real loopback WebSockets, readers included. ns/delivery is the figure
// to watch: it is server and client work together on the same cores.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("drivers=%d", n), func(b *testing.B) {
			h := startHub(b, Config{SendQueue: 4096})
			var received atomic.Int64
			var wg sync.WaitGroup
			// The readers use a context without cancellation, which costs
			// the client library nothing per read, so the allocations
			// reported are the hub's; closing the connections ends them.
			var conns []*websocket.Conn
			defer func() {
				for _, c := range conns {
					_ = c.CloseNow()
				}
				wg.Wait()
			}()
			for i := range n {
				conn, _, err := websocket.Dial(context.Background(), h.wsURL(fmt.Sprintf("/ws/driver/b%d", i)), nil)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, conn)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						if _, _, err := conn.Read(context.Background()); err != nil {
							return
						}
						received.Add(1)
					}
				}()
			}
			checkFor(b, defaultWait, pollEvery, func() error {
				if received.Load() != int64(n) {
					return fmt.Errorf("%d connected frames", received.Load())
				}
				return nil
			})
			ev := newEvent(ChannelDrivers, TypeNewOrder, testOrder("0123456789abcdef0123", "rider-42"), "").withID(EventID{Ms: 1})
			received.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			// Every wait below is bounded: a lost frame fails the benchmark
			// instead of hanging it.
			deadline := time.Now().Add(time.Minute)
			waitUntil := func(done func() bool) {
				for !done() {
					if time.Now().After(deadline) {
						b.Fatalf("deliveries stalled at %d", received.Load())
					}
					time.Sleep(50 * time.Microsecond)
				}
			}
			for i := 0; i < b.N; i++ {
				h.deliver(ev)
				// Keep at most 64 frames in flight per connection.
				waitUntil(func() bool { return int64(i+1)*int64(n)-received.Load() <= 64*int64(n) })
			}
			want := int64(b.N) * int64(n)
			waitUntil(func() bool { return received.Load() >= want })
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(want), "ns/delivery")
		})
	}
}

// BenchmarkQueue measures the fan-out's own part: queueing one frame to N
// connections whose writers are held, so no socket is touched.
func BenchmarkQueue(b *testing.B) {
	const n = 1000
	h := newHub(&Config{SendQueue: 1 << 30}, nil, &counters{})
	for i := range n {
		c := &client{role: RoleDriver, id: fmt.Sprintf("q%d", i), hub: h, held: true, ctx: context.Background()}
		h.register(c)
	}
	frame := wireFrame(encodeFrame(TypeNewOrder, testOrder("o1", "u1")))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.broadcastDrivers(EventID{}, frame)
		if i%64 == 63 {
			b.StopTimer()
			for s := range h.shards {
				for _, c := range h.shards[s].drivers {
					c.queue, c.heldIDs = c.queue[:0], c.heldIDs[:0]
				}
			}
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
}

// BenchmarkDeliverUsers measures reading one Redis message on users_channel
// and routing it to its rider, the per-message work of the subscription.
func BenchmarkDeliverUsers(b *testing.B) {
	h := newHub(&Config{SendQueue: 1 << 30}, nil, &counters{})
	c := &client{role: RoleUser, id: "rider-42", hub: h, held: true, ctx: context.Background()}
	h.register(c)
	msg := OrderAcceptedMessage{OrderID: "o1", DriverID: "d1", UserID: "rider-42"}
	frame := newEvent(ChannelUsers, TypeOrderAccepted, msg, "rider-42").withID(EventID{Ms: 1}).Frame
	b.ReportAllocs()
	for b.Loop() {
		ev, err := parseEventFrame(ChannelUsers, frame)
		if err != nil {
			b.Fatal(err)
		}
		h.deliver(ev)
		c.queue, c.heldIDs = c.queue[:0], c.heldIDs[:0]
	}
}

func BenchmarkAccept(b *testing.B) {
	for name, factory := range map[string]func(b *testing.B) *Server{
		"memory": func(b *testing.B) *Server { return startHub(b, Config{}).Server },
		"redis": func(b *testing.B) *Server {
			srv := redistest.Start(b)
			return startHub(b, Config{RedisURL: srv.URL()}).Server
		},
	} {
		b.Run(name, func(b *testing.B) {
			s := factory(b)
			ctx := context.Background()
			ids := make([]string, b.N)
			for i := range ids {
				o, err := s.createOrder(ctx, "u1", Point{Lat: 1, Lng: 1}, Point{Lat: 2, Lng: 2})
				if err != nil {
					b.Fatal(err)
				}
				ids[i] = o.OrderID
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.acceptOrder(ctx, ids[i], "d1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
