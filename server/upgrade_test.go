package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
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

func TestSockWriterKeepsFramesWholeAndInOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		data, _ := io.ReadAll(c)
		c.Close()
		got <- data
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	w := &sockWriter{conn: conn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			_, _ = w.Write([]byte("<ctl>"))
		}
	}()
	for i := range 100 {
		if err := w.writeFrames([][]byte{[]byte(fmt.Sprintf("[%d:a]", i)), []byte(fmt.Sprintf("[%d:b]", i))}); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	conn.Close()
	data := string(<-got)
	if n := strings.Count(data, "<ctl>"); n != 100 {
		t.Fatalf("%d control writes arrived whole, want 100", n)
	}
	rest := strings.ReplaceAll(data, "<ctl>", "")
	var want strings.Builder
	for i := range 100 {
		fmt.Fprintf(&want, "[%d:a][%d:b]", i, i)
	}
	if rest != want.String() {
		t.Fatalf("data frames out of order or torn: %.200q", rest)
	}
}

func TestWireFrameLengths(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536} {
		f := wireFrame(bytes.Repeat([]byte("x"), n))
		if f[0] != 0x81 {
			t.Fatalf("len %d: first byte %#x, want a final text frame", n, f[0])
		}
		var got, hdr int
		switch l := int(f[1]); {
		case l < 126:
			got, hdr = l, 2
		case l == 126:
			got, hdr = int(f[2])<<8|int(f[3]), 4
		default:
			for _, b := range f[2:10] {
				got = got<<8 | int(b)
			}
			hdr = 10
		}
		if got != n || len(f) != hdr+n {
			t.Fatalf("len %d: header says %d, frame is %d bytes", n, got, len(f))
		}
	}
}

func TestNoDataFrameAfterTheCloseStarts(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := &sockWriter{conn: &countingConn{Conn: a}}
	w.closing.Store(true)
	if err := w.writeFrames([][]byte{wireFrame([]byte("late"))}); !errors.Is(err, errClosing) {
		t.Fatalf("data frame while closing: err %v, want errClosing", err)
	}
	if n := w.conn.(*countingConn).writes; n != 0 {
		t.Fatalf("%d writes reached the socket", n)
	}
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
