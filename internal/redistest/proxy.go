package redistest

import (
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Proxy is a loopback TCP proxy in front of a server, for fault tests. Cut
// drops every connection through it and refuses new ones until Restore, so
// one client loses the server while others keep it. Delay makes the server
// slow, and Stall makes it silent while its connections stay open, as a
// server that hangs or a network that black-holes packets would.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	delay time.Duration
	// held is open while the proxy stalls and closed by Resume; nil when
	// traffic flows.
	held  chan struct{}
	links map[*link]struct{}
	wg    sync.WaitGroup
}

// link is one client connection and its connection to the target.
type link struct {
	client, server net.Conn
	closed         chan struct{}
	once           sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.closed)
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

// chunk is what one read of a connection returned, and when.
type chunk struct {
	data []byte
	at   time.Time
}

// StartProxy listens on a free loopback port and forwards to target. It
// stops when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// URL is a redis:// URL that reaches the target through the proxy.
func (p *Proxy) URL() string {
	return "redis://" + p.Addr() + "/0"
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string {
	return "127.0.0.1:" + strconv.Itoa(p.ln.Addr().(*net.TCPAddr).Port)
}

// Cut drops every connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for l := range p.links {
		l.close()
	}
}

// Restore lets connections through again after Cut.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Delay holds every chunk the server sends (replies and pushed messages) for
// d after it arrived before passing it on, so each round trip takes d
// longer. Chunks keep their order, and a chunk's wait does not add to the
// next one's. Delay(0) ends the delay for chunks that arrive afterwards.
func (p *Proxy) Delay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Stall holds all traffic, both ways, on every connection, old and new,
// without closing any, until Resume: the server looks hung.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

// Resume passes on what Stall held, in order, and lets traffic flow again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// accept runs until the listener closes.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		l := &link{client: c, server: up, closed: make(chan struct{})}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(l, c, up, true)  // replies, to the client
		go p.pipe(l, up, c, false) // requests, to the server
	}
}

// pipe forwards what src sends to dst until either side fails or the link
// is cut, then closes the link. fromServer marks the direction that Delay
// slows. The reader it starts ends when the link closes.
func (p *Proxy) pipe(l *link, dst, src net.Conn, fromServer bool) {
	defer p.wg.Done()
	defer func() {
		l.close()
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	chunks := make(chan chunk, 64)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- chunk{data: buf[:n], at: time.Now()}:
				case <-l.closed:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		if !p.hold(l, c, fromServer) {
			return
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// hold waits until c may be forwarded: until its delay has passed, then
// while the proxy stalls. It reports false when the link closed meanwhile.
func (p *Proxy) hold(l *link, c chunk, fromServer bool) bool {
	p.mu.Lock()
	delay := p.delay
	p.mu.Unlock()
	if wait := time.Until(c.at.Add(delay)); fromServer && wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-l.closed:
			t.Stop()
			return false
		}
	}
	for {
		p.mu.Lock()
		held := p.held
		p.mu.Unlock()
		if held == nil {
			return true
		}
		select {
		case <-held:
		case <-l.closed:
			return false
		}
	}
}
