package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taxi-hub/taxi/internal/eventually"
	"github.com/taxi-hub/taxi/server"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFeedPrintsFramesAndSendsLines(t *testing.T) {
	s, err := server.New(server.Config{NodeID: "feed-test", AuthSecret: "a-secret-of-16-bytes!"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()

	out := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- feedRun(ctx, &feedOptions{url: ts.URL, role: server.RoleDriver, id: "d42", secret: "a-secret-of-16-bytes!",
			in: strings.NewReader(`{"type":"view_order","message":{"order_id":"nope"}}` + "\n"), out: out})
	}()
	eventually.Check(t, 10*time.Second, func() error {
		if !strings.Contains(out.String(), `"type":"error"`) {
			return fmt.Errorf("output so far: %q", out.String())
		}
		return nil
	})
	if !strings.Contains(out.String(), `"type":"connected"`) {
		t.Fatalf("no connected frame in %q", out.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("feed: %v", err)
	}

	// A wrong token is a clear error, not a hang.
	err = feedRun(context.Background(), &feedOptions{url: ts.URL, role: server.RoleDriver, id: "d42", token: "bad", in: strings.NewReader(""), out: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), http.StatusText(http.StatusUnauthorized)) {
		t.Fatalf("bad token: %v", err)
	}
}
