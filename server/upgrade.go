package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
)

// Buffer sizes of an upgraded connection. Inbound frames are small (a few
// hundred bytes at most, see ReadLimit), and an outbound frame larger than
// the write buffer goes to the socket directly; the HTTP server's 4 KiB
// buffers would be most of an idle connection's memory.
const (
	connReadBuffer  = 512
	connWriteBuffer = 1024
)

// smallBuffers hands the WebSocket library a hijacked connection with
// smaller buffers than the HTTP server's, keeping any bytes the client sent
// after its handshake, and writing through a corkWriter, which Hijack leaves
// in cork for the connection's writer.
type smallBuffers struct {
	http.ResponseWriter
	cork *corkWriter
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
	w.cork = &corkWriter{conn: conn}
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(w.cork, connWriteBuffer)), nil
}

// corkWriter sits between a connection's write buffer and its socket. The
// WebSocket library flushes after every message; while corked, those
// flushes collect here, so a writer that drains several queued frames sends
// them in one system call. Uncorked, it writes straight through.
type corkWriter struct {
	mu     sync.Mutex
	conn   net.Conn
	corked bool
	buf    []byte
}

// maxCorkKeep is the largest buffer kept between batches; larger ones are
// dropped so an idle connection holds no batch memory.
const maxCorkKeep = 4 << 10

func (w *corkWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.corked {
		w.buf = append(w.buf, p...)
		return len(p), nil
	}
	return w.conn.Write(p)
}

// hold starts collecting writes.
func (w *corkWriter) hold() {
	w.mu.Lock()
	w.corked = true
	w.mu.Unlock()
}

// release sends what was collected in one write and stops collecting.
func (w *corkWriter) release() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = false
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.conn.Write(w.buf)
	if cap(w.buf) > maxCorkKeep {
		w.buf = nil
	} else {
		w.buf = w.buf[:0]
	}
	return err
}
