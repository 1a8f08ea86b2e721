package server

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Buffer sizes of an upgraded connection. Inbound frames are small (a few
// hundred bytes at most, see ReadLimit), and the library writes only control
// frames (data frames go through sockWriter.writeFrames); the HTTP server's
// 4 KiB buffers would be most of an idle connection's memory.
const (
	connReadBuffer  = 512
	connWriteBuffer = 1024
)

// smallBuffers hands the WebSocket library a hijacked connection with
// smaller buffers than the HTTP server's, keeping any bytes the client sent
// after its handshake, and writing through a sockWriter, which Hijack leaves
// in sock for the hub's writer.
type smallBuffers struct {
	http.ResponseWriter
	sock *sockWriter
}

func (w *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("flush handshake: %w", err)
	}
	n := brw.Reader.Buffered()
	pending, _ := brw.Reader.Peek(n)
	pending = bytes.Clone(pending)
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(pending), conn), max(connReadBuffer, n))
	if n > 0 {
		// Buffer the pending bytes now: the library re-reads what the
		// reader holds and then reads the socket itself.
		if _, err := r.Peek(n); err != nil {
			_ = conn.Close()
			return nil, nil, fmt.Errorf("keep pending bytes: %w", err)
		}
	}
	w.sock = &sockWriter{conn: conn}
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(w.sock, connWriteBuffer)), nil
}

// sockWriter is the one way to a connection's socket. The WebSocket library
// writes its control frames (pongs, pings, close) through it, each in one
// Write since they fit its buffer, and the hub's writer writes data frames
// it framed itself; the mutex keeps every frame whole on the wire.
type sockWriter struct {
	mu   sync.Mutex
	conn net.Conn
	// closing is set when a close handshake starts: no data frame may
	// follow the close frame. It is atomic so that setting it never waits
	// for a write in progress.
	closing atomic.Bool
}

// errClosing refuses data frames once the connection is closing.
var errClosing = errors.New("connection is closing")

func (w *sockWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.conn.Write(p)
}

// writeFrames writes complete WebSocket frames in order, several in one
// system call (writev) when there are several.
func (w *sockWriter) writeFrames(frames [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closing.Load() {
		return errClosing
	}
	if len(frames) == 1 {
		_, err := w.conn.Write(frames[0])
		return err
	}
	// WriteTo consumes the slice headers it is given, not the frames.
	bufs := net.Buffers(frames)
	_, err := bufs.WriteTo(w.conn)
	return err
}
