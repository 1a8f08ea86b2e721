package redistest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// proxyClient is a client through p that neither retries nor waits long.
func proxyClient(t *testing.T, p *Proxy) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second, PoolSize: 1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ping measures one PING through c with a deadline of limit.
func ping(c *redis.Client, limit time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	start := time.Now()
	err := c.Ping(ctx).Err()
	return time.Since(start), err
}

func TestProxyDelayAddsLatencyToReplies(t *testing.T) {
	srv := Start(t)
	p := StartProxy(t, srv.Addr())
	c := proxyClient(t, p)
	if _, err := ping(c, time.Second); err != nil {
		t.Fatalf("PING through the proxy: %v", err)
	}
	const d = 150 * time.Millisecond
	p.Delay(d)
	for range 3 {
		took, err := ping(c, time.Second)
		if err != nil {
			t.Fatalf("PING with delay: %v", err)
		}
		// Round trips on loopback take well under d; a delayed one takes d
		// and a little more, never twice d.
		if took < d || took > 2*d {
			t.Fatalf("PING took %v with Delay(%v)", took, d)
		}
	}
	// Messages pushed in a burst are each held d after they arrive, not d
	// after the previous one: the waits do not add up.
	ps := c.Subscribe(context.Background(), "burst")
	defer ps.Close()
	if _, err := ps.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	direct := srv.Client(t)
	start := time.Now()
	for range 20 {
		if err := direct.Publish(context.Background(), "burst", "m").Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := ps.ReceiveMessage(ctx)
		cancel()
		if err != nil {
			t.Fatalf("message %d of the burst: %v", i, err)
		}
	}
	if took := time.Since(start); took < d || took > 3*d {
		t.Fatalf("a burst of 20 messages took %v with Delay(%v)", took, d)
	}
	p.Delay(0)
	if took, err := ping(c, time.Second); err != nil || took >= d {
		t.Fatalf("PING after Delay(0): %v, %v", took, err)
	}
}

func TestProxyStallHoldsTrafficWithoutClosing(t *testing.T) {
	srv := Start(t)
	p := StartProxy(t, srv.Addr())
	c := proxyClient(t, p)
	if err := c.Set(context.Background(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	_, err := ping(c, 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("PING while stalled: %v, want a timeout", err)
		}
	}
	// A new connection is accepted and held too: the server looks hung,
	// not gone.
	fresh := proxyClient(t, p)
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got <- fresh.Get(ctx, "k").Err()
	}()
	select {
	case err := <-got:
		t.Fatalf("GET answered while stalled: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	p.Resume()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("GET held through the stall: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("GET not answered within 5s of Resume")
	}
}

func TestProxyCutAndRestore(t *testing.T) {
	srv := Start(t)
	p := StartProxy(t, srv.Addr())
	c := proxyClient(t, p)
	if _, err := ping(c, time.Second); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	if _, err := ping(c, time.Second); err == nil {
		t.Fatal("PING answered through a cut proxy")
	}
	p.Restore()
	if _, err := ping(c, time.Second); err != nil {
		t.Fatalf("PING after Restore: %v", err)
	}
}
