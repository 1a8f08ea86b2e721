package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/internal/hubtest"
	"github.com/taxi-hub/taxi/server"
)

const feedSecret = "a-secret-of-16-bytes!"

// blockingReader is standard input that never ends, like a terminal nobody
// types on.
type blockingReader struct{ done chan struct{} }

func (b blockingReader) Read([]byte) (int, error) {
	<-b.done
	return 0, fmt.Errorf("closed")
}

func TestFeedPrintsFramesAndSendsLines(t *testing.T) {
	t.Parallel()
	url := hubtest.Start(t, hubtest.Secret(feedSecret)).URL
	in := blockingReader{make(chan struct{})}
	defer close(in.done)
	ios, out, _ := testIO("")
	ios.In = in
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- feedRun(ctx, &feedOptions{IO: ios, url: url, role: server.RoleDriver, id: "d42", secret: feedSecret, linger: time.Second})
	}()
	eventually.Check(t, 10*time.Second, func() error {
		if !strings.Contains(out.String(), `"type":"connected"`) {
			return fmt.Errorf("output so far: %q", out.String())
		}
		return nil
	})
	// With input still open, the feed runs until Ctrl-C.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("feed: %v", err)
	}

	// A wrong token is a clear error, not a hang.
	ios, _, _ = testIO("")
	err := feedRun(context.Background(), &feedOptions{IO: ios, url: url, role: server.RoleDriver, id: "d42", token: "bad"})
	if err == nil || !strings.Contains(err.Error(), http.StatusText(http.StatusUnauthorized)) {
		t.Fatalf("bad token: %v", err)
	}
}

// When its piped input ends, taxi feed prints the answers to what it sent
// for --linger, then closes and exits 0 by itself.
func TestFeedExitsWhenInputEnds(t *testing.T) {
	t.Parallel()
	url := hubtest.Start(t, hubtest.Secret(feedSecret)).URL
	ios, out, errOut := testIO(`{"type":"view_order","message":{"order_id":"nope"}}` + "\n")
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), ios, []string{"feed", "driver", "d42", "--url", url, "--auth-secret", feedSecret, "--linger", "3s"})
	}()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("feed: exit %d: %s", code, errOut)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("feed still running 20s after its input ended")
	}
	if !strings.Contains(out.String(), `"type":"connected"`) || !strings.Contains(out.String(), `"type":"error"`) {
		t.Fatalf("the answer to the frame sent was not printed before exit:\n%s", out)
	}

	// --linger 0 closes at once.
	ios, _, errOut = testIO("")
	start := time.Now()
	if code := run(context.Background(), ios, []string{"feed", "rider", "u7", "--url", url, "--auth-secret", feedSecret, "--linger", "0"}); code != 0 {
		t.Fatalf("feed --linger 0: exit %d: %s", code, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("feed --linger 0 took %v after an empty input", d)
	}
}
