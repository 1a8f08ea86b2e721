package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// The worker protocol: with Options.Procs > 1 the parent starts each worker
// with Options.WorkerCommand and speaks JSON lines, one workerMsg each, over
// the worker's stdin and stdout; the worker logs on stderr.
//
//	parent → worker: start {spec}, orders, order {order}..., finish
//	                 (storm: start {spec}, storm {storm}, finish)
//	worker → parent: ready {progress}, progress {progress}..., result {result}
//
// A worker that meets end of input finishes as if told to, so a parent that
// dies never leaves workers behind.
type workerMsg struct {
	Kind     string         `json:"kind"`
	Spec     *fleetSpec     `json:"spec,omitempty"`
	Order    *orderReg      `json:"order,omitempty"`
	Storm    *stormStart    `json:"storm,omitempty"`
	Progress *fleetProgress `json:"progress,omitempty"`
	Result   *fleetResult   `json:"result,omitempty"`
	Error    string         `json:"error,omitempty"`
}

const (
	msgStart    = "start"
	msgOrders   = "orders"
	msgOrder    = "order"
	msgStorm    = "storm"
	msgFinish   = "finish"
	msgReady    = "ready"
	msgProgress = "progress"
	msgResult   = "result"
	msgError    = "error"
)

// maxMsg bounds one protocol line; a result with per-order race tallies of a
// long accept run is the largest.
const maxMsg = 256 << 20

// progressEvery is how often workers report their counters.
const progressEvery = 200 * time.Millisecond

// lineWriter writes workerMsgs as JSON lines; safe for concurrent use.
type lineWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
}

func newLineWriter(w io.Writer) *lineWriter {
	bw := bufio.NewWriter(w)
	return &lineWriter{w: bw, enc: json.NewEncoder(bw)}
}

func (lw *lineWriter) send(m workerMsg) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if err := lw.enc.Encode(m); err != nil {
		return fmt.Errorf("write %s message: %w", m.Kind, err)
	}
	if err := lw.w.Flush(); err != nil {
		return fmt.Errorf("write %s message: %w", m.Kind, err)
	}
	return nil
}

func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxMsg)
	return sc
}

// RunWorker is the body of a worker process (`taxi bench --worker`): it reads
// its share of the run from in, holds those clients, reports on out and
// returns after sending its result. ctx ends the worker early; it still
// sends what it measured.
func RunWorker(ctx context.Context, in io.Reader, out io.Writer, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lw := newLineWriter(out)
	sc := newLineScanner(in)
	var first workerMsg
	if !sc.Scan() {
		return fmt.Errorf("worker: no start message: %w", errors.Join(sc.Err(), io.ErrUnexpectedEOF))
	}
	if err := json.Unmarshal(sc.Bytes(), &first); err != nil || first.Kind != msgStart || first.Spec == nil {
		return fmt.Errorf("worker: first message is not start: %w", errors.Join(err, errors.New(first.Kind)))
	}
	spec := *first.Spec
	opts := spec.Options
	opts.Logger = log.With("worker", spec.Index)
	opts = opts.withDefaults()
	f, err := newFleet(ctx, opts, spec.Index, spec.Count)
	if err != nil {
		_ = lw.send(workerMsg{Kind: msgError, Error: err.Error()})
		return fmt.Errorf("worker %d: %w", spec.Index, err)
	}

	rampCtx, stopRamp := context.WithCancel(ctx)
	defer stopRamp()
	var wg sync.WaitGroup
	ramped := make(chan struct{})
	wg.Go(func() {
		defer close(ramped)
		f.ramp(rampCtx)
		p := f.progress()
		if err := lw.send(workerMsg{Kind: msgReady, Progress: &p}); err != nil {
			log.Warn("worker ready", "err", err)
		}
	})
	tickCtx, stopTicks := context.WithCancel(ctx)
	defer stopTicks()
	wg.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-tickCtx.Done():
				return
			case <-t.C:
				p := f.progress()
				if lw.send(workerMsg{Kind: msgProgress, Progress: &p}) != nil {
					return
				}
			}
		}
	})

	// Read until finish or end of input. The parent bounds the input; ctx
	// cannot interrupt a blocked read, but ending the worker closes stdin.
	for sc.Scan() {
		var m workerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			f.errors.add(kindWorker, 1)
			continue
		}
		if m.Kind == msgFinish {
			break
		}
		switch m.Kind {
		case msgOrders:
			// The parent sends this after every ready message; a
			// worker told earlier still counts its drivers after its ramp.
			<-ramped
			f.startOrders()
		case msgOrder:
			if m.Order != nil {
				f.register(*m.Order)
			}
		case msgStorm:
			<-ramped
			if m.Storm != nil {
				f.storm(*m.Storm)
			}
		}
	}
	stopRamp()
	stopTicks()
	wg.Wait()
	res := f.finish()
	return lw.send(workerMsg{Kind: msgResult, Result: res})
}

// remoteFleet is a fleet held by a worker process.
type remoteFleet struct {
	index int
	cmd   *exec.Cmd
	in    io.WriteCloser
	lw    *lineWriter
	log   *slog.Logger

	ready  chan struct{} // closed on the ready message
	done   chan struct{} // closed when the worker's stdout ends
	mu     sync.Mutex
	last   fleetProgress
	result *fleetResult
	err    error
}

// startRemote starts worker index of count and sends it its spec.
func startRemote(opts Options, index, count int) (*remoteFleet, error) {
	if len(opts.WorkerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("start worker: find executable: %w", err)
		}
		opts.WorkerCommand = []string{exe, "bench", "--worker"}
	}
	// exec.Command, not CommandContext: the parent ends its workers through
	// the protocol so they can report what they measured.
	cmd := exec.Command(opts.WorkerCommand[0], opts.WorkerCommand[1:]...)
	// Own process group: Ctrl-C reaches the parent only, which then asks
	// each worker for its partial result.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker %d: %w", index, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start worker %d: %w", index, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %d: %w", index, err)
	}
	r := &remoteFleet{
		index: index, cmd: cmd, in: in, lw: newLineWriter(in), log: opts.Logger,
		ready: make(chan struct{}), done: make(chan struct{}),
	}
	go r.read(out)
	spec := fleetSpec{Options: opts, Index: index, Count: count}
	if err := r.lw.send(workerMsg{Kind: msgStart, Spec: &spec}); err != nil {
		r.kill()
		<-r.done
		_ = cmd.Wait()
		return nil, fmt.Errorf("start worker %d: %w", index, err)
	}
	return r, nil
}

// read consumes the worker's stdout until it ends; it exits when the worker
// closes its stdout (on exit or kill).
func (r *remoteFleet) read(out io.Reader) {
	defer close(r.done)
	readyOnce := sync.OnceFunc(func() { close(r.ready) })
	defer readyOnce()
	sc := newLineScanner(out)
	for sc.Scan() {
		var m workerMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			r.setErr(fmt.Errorf("worker %d: bad message: %w", r.index, err))
			continue
		}
		r.mu.Lock()
		if m.Progress != nil {
			r.last = *m.Progress
		}
		if m.Result != nil {
			r.result = m.Result
		}
		if m.Error != "" && r.err == nil {
			r.err = fmt.Errorf("worker %d: %s", r.index, m.Error)
		}
		r.mu.Unlock()
		if m.Kind == msgReady || m.Kind == msgError {
			readyOnce()
		}
	}
	if err := sc.Err(); err != nil {
		r.setErr(fmt.Errorf("worker %d: read: %w", r.index, err))
	}
}

func (r *remoteFleet) setErr(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
}

func (r *remoteFleet) ramp(ctx context.Context) error {
	select {
	case <-r.ready:
	case <-ctx.Done():
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *remoteFleet) startOrders() {
	if err := r.lw.send(workerMsg{Kind: msgOrders}); err != nil {
		r.setErr(err)
	}
}

func (r *remoteFleet) register(reg orderReg) {
	if err := r.lw.send(workerMsg{Kind: msgOrder, Order: &reg}); err != nil {
		r.setErr(err)
	}
}

func (r *remoteFleet) storm(st stormStart) {
	if err := r.lw.send(workerMsg{Kind: msgStorm, Storm: &st}); err != nil {
		r.setErr(err)
	}
}

func (r *remoteFleet) progress() fleetProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// finishTimeout bounds how long a worker may take to close its clients and
// report.
const finishTimeout = 60 * time.Second

func (r *remoteFleet) finish() (*fleetResult, error) {
	_ = r.lw.send(workerMsg{Kind: msgFinish})
	_ = r.in.Close()
	t := time.NewTimer(finishTimeout)
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
		r.kill()
		<-r.done
	}
	werr := r.cmd.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.result == nil {
		return nil, fmt.Errorf("worker %d: no result: %w", r.index, errors.Join(r.err, werr))
	}
	return r.result, r.err
}

func (r *remoteFleet) kill() {
	if r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
	}
}
