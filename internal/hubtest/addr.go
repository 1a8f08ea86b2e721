package hubtest

import (
	"fmt"
	"net"
	"net/http"
	"testing"
)

// FreeAddr returns a 127.0.0.1 address nothing listens on at the moment,
// for a process the test starts to listen on. Another process may take it
// in between; a test that cannot afford that passes port 0 instead.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free address: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("free address: %v", err)
	}
	return addr
}

// DeadAddr returns a 127.0.0.1 address that refuses connections until the
// test ends: a hub, a Redis or a stats URL that is down. On Linux the port
// stays bound, without a listener, so that no test running in parallel can
// be given it; elsewhere it is a FreeAddr.
func DeadAddr(t testing.TB) string {
	t.Helper()
	addr, release, err := holdPort()
	if err != nil {
		t.Fatalf("dead address: %v", err)
	}
	t.Cleanup(release)
	return addr
}

// Ready reports whether the hub at base (http://host:port) is ready: nil
// once GET /readyz answers 200. Tests that run the taxi binary wait for it
// with eventually.Check.
func Ready(base string) error {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/readyz: %s", base, resp.Status)
	}
	return nil
}
