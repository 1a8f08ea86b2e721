package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
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
// after its handshake.
type smallBuffers struct {
	http.ResponseWriter
}

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
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
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(conn, connWriteBuffer)), nil
}
