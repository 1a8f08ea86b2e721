package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// maskedTextFrame builds a client text frame as RFC 6455 requires: masked.
func maskedTextFrame(payload []byte) []byte {
	key := [4]byte{1, 2, 3, 4}
	out := []byte{0x81, 0x80 | byte(len(payload))}
	out = append(out, key[:]...)
	for i, b := range payload {
		out = append(out, b^key[i%4])
	}
	return out
}

// A client may send its first frame in the same packet as its handshake;
// the smaller buffers of an upgraded connection must not lose it.
func TestFrameSentWithTheHandshakeIsKept(t *testing.T) {
	h := startHub(t, Config{})
	addr := strings.TrimPrefix(h.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /ws/driver/eager HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	frame := maskedTextFrame([]byte(`{"type":"view_order","message":{"order_id":"nope"}}`))
	if _, err := conn.Write(append([]byte(req), frame...)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(defaultWait))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	// Server frames are unmasked: read them until the error frame that
	// answers the early view_order.
	for range 2 {
		hdr := make([]byte, 2)
		if _, err := br.Read(hdr[:1]); err != nil {
			t.Fatal(err)
		}
		if _, err := br.Read(hdr[1:]); err != nil {
			t.Fatal(err)
		}
		n := int(hdr[1] & 0x7f)
		if n == 126 {
			ext := make([]byte, 2)
			if _, err := io.ReadFull(br, ext); err != nil {
				t.Fatal(err)
			}
			n = int(ext[0])<<8 | int(ext[1])
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(payload, []byte(`"type":"error"`)) {
			if !bytes.Contains(payload, []byte("order_not_found")) {
				t.Fatalf("error frame %s", payload)
			}
			return
		}
	}
	t.Fatal("the frame sent with the handshake got no answer")
}

// countingConn counts the writes that reach the socket.
type countingConn struct {
	net.Conn
	writes int
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes++
	return c.Conn.Write(p)
}

func TestCorkWriterSendsABatchInOneWrite(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	got := make(chan []byte, 1)
	go func() {
		data, _ := io.ReadAll(b)
		got <- data
	}()
	cc := &countingConn{Conn: a}
	w := &corkWriter{conn: cc}

	w.hold()
	for _, s := range []string{"one,", "two,", "three;"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if cc.writes != 0 {
		t.Fatalf("%d writes reached the socket while corked", cc.writes)
	}
	if err := w.release(); err != nil {
		t.Fatal(err)
	}
	if cc.writes != 1 {
		t.Fatalf("a batch of three took %d writes, want 1", cc.writes)
	}
	if _, err := w.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	if cc.writes != 2 {
		t.Fatalf("uncorked write did not go straight through (%d writes)", cc.writes)
	}
	a.Close()
	if data := <-got; string(data) != "one,two,three;after" {
		t.Fatalf("socket got %q", data)
	}
}
