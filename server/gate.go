package server

import "sync"

// gate starts and counts every goroutine a client owns: its reader, its
// writer, a keepalive ping, a close handshake. Shutdown waits on it, so no
// goroutine of a client outlives the node.
type gate struct {
	wg sync.WaitGroup
}

// enter counts a goroutine that is already running and will call exit; the
// feed handler enters for the reader it becomes.
func (g *gate) enter() { g.wg.Add(1) }

// exit ends what enter counted.
func (g *gate) exit() { g.wg.Done() }

// start runs fn on a new counted goroutine. Callers start goroutines only
// while they hold a count themselves (a registered client holds its
// reader's), so wait never misses one.
func (g *gate) start(fn func()) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		fn()
	}()
}

// wait returns when every counted goroutine has ended.
func (g *gate) wait() { g.wg.Wait() }
