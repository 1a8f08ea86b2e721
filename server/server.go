package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Server is one hub node. Create it with New, start its background work with
// Start, serve Handler, and stop it with Shutdown.
type Server struct {
	cfg      Config
	log      *slog.Logger
	started  time.Time
	counters *counters
	hub      *hub
	metrics  *metrics
	auth     *authorizer
	limits   *limiterSet
	mux      *http.ServeMux
	// handler is mux behind the browser's cross-origin checks.
	handler http.Handler

	// backends gives order logic its stores: one memory set in memory
	// mode, failover between Redis and memory in Redis mode, where cluster
	// holds the rest of the tie to the other nodes.
	backends backends
	cluster  *cluster
	presence *presenceWriter
	greeter  *greeter
	// late queues state changes whose reply from Redis was lost; see
	// settle.go.
	late chan *unsettled
	// rides is what the node knows of the order each driver serves, for
	// tracking.
	rides *rides

	ready     atomic.Bool
	advertise atomic.Value // string: base URL found at Serve
	startOnce sync.Once
	stopBg    context.CancelFunc
	bg        *errgroup.Group
}

// New checks cfg and builds a node in memory mode. It starts no goroutine.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new server: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger.With("node", cfg.NodeID),
		started:  time.Now(),
		counters: &counters{},
		rides:    newRides(),
	}
	s.hub = newHub(&s.cfg, s.log, s.counters)
	s.auth = newAuthorizer(&s.cfg)
	s.limits = newLimiterSet(cfg.HTTPRate, cfg.HTTPBurst)
	s.metrics = newMetrics(s)

	if cfg.RedisURL != "" && !cfg.Memory {
		c, err := newCluster(s)
		if err != nil {
			return nil, fmt.Errorf("new server: %w", err)
		}
		s.cluster = c
		s.backends = c.failover
	} else {
		s.backends = single{newMemoryBackend(&s.cfg, s.deliver)}
	}
	s.presence = newPresenceWriter(s)
	s.late = make(chan *unsettled, settleQueue)
	s.greeter = newGreeter(s)
	s.routes()
	s.handler = withCORS(s.mux, cfg.OriginPatterns)
	s.ready.Store(true)
	return s, nil
}

// NodeID returns the node's id.
func (s *Server) NodeID() string { return s.cfg.NodeID }

// Config returns the node's configuration with every default filled in.
func (s *Server) Config() Config { return s.cfg }

// mode is "redis" while the node shares state through Redis and "memory"
// when it serves alone, by choice or during an outage.
func (s *Server) mode() string {
	if s.cluster != nil && !s.cluster.failover.isDegraded() {
		return "redis"
	}
	return "memory"
}

func (s *Server) redisStats() *RedisStats {
	if s.cluster == nil {
		return nil
	}
	return s.cluster.failover.stats()
}

// Start launches the node's background work: expiry sweeps and, in Redis
// mode, the subscription and heartbeat. It returns at once. The goroutines
// run until ctx ends or Shutdown is called.
func (s *Server) Start(ctx context.Context) error {
	s.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		s.stopBg = cancel
		g, ctx := errgroup.WithContext(ctx)
		s.bg = g
		// The sweeper exits when ctx ends.
		g.Go(func() error {
			s.runSweeper(ctx)
			return nil
		})
		// The write watchdog exits when ctx ends.
		g.Go(func() error {
			s.hub.runWriteWatchdog(ctx)
			return nil
		})
		// The presence writer exits when ctx ends.
		g.Go(func() error {
			s.presence.run(ctx)
			return nil
		})
		if s.cluster != nil {
			s.cluster.start(ctx, g, s.log)
			// The settler exits when ctx ends.
			g.Go(func() error {
				s.runSettler(ctx)
				return nil
			})
		}
	})
	return nil
}

// runSweeper expires what the stores keep past its time: the memory
// stores' entries every second, and stale positions (older than
// LocationTTL) every quarter of it, at most every 5 s. It exits when ctx
// ends.
func (s *Server) runSweeper(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	trimEvery := min(s.cfg.LocationTTL/4, 5*time.Second)
	var trimmed time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			b := s.backends.current()
			if b.sweep != nil {
				b.sweep()
			}
			s.limits.prune()
			if now.Sub(trimmed) >= trimEvery {
				trimmed = now
				s.trimPositions(ctx, b, now)
			}
		}
	}
}

// trimPositions forgets the positions of b older than LocationTTL.
func (s *Server) trimPositions(ctx context.Context, b *backend, now time.Time) {
	ctx, cancel := context.WithTimeout(ctx, 2*s.cfg.RedisTimeout)
	defer cancel()
	n, err := b.locations.Trim(ctx, now.Add(-s.cfg.LocationTTL))
	if err != nil {
		s.log.Debug("trim stale positions", "err", s.observed(b, err))
		return
	}
	if n > 0 {
		s.log.Debug("trimmed stale positions", "positions", n)
	}
}

// Shutdown stops the node: /readyz turns 503, new WebSockets are refused,
// every WebSocket is closed with 1001 so its client reconnects elsewhere, and
// background work stops. It returns when every goroutine of the node has
// ended, or with ctx's error when ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	s.hub.shutdown()
	done := make(chan struct{})
	go func() {
		s.hub.gate.wait()
		if s.stopBg != nil {
			s.stopBg()
			_ = s.bg.Wait()
		}
		if s.cluster != nil {
			s.cluster.stop()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shutdown: %w", ctx.Err())
	}
}

// ListenAndServe runs a node on cfg.Addr until ctx ends, then shuts it down
// within cfg.ShutdownTimeout. ready, when not nil, receives the bound address
// once the node accepts connections.
func ListenAndServe(ctx context.Context, cfg Config, ready func(addr net.Addr)) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln, ready)
}

// Serve runs the node on ln until ctx ends, then shuts it down within
// cfg.ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener, ready func(addr net.Addr)) error {
	// The address goes into the first heartbeat, which Start writes.
	if s.cfg.AdvertiseURL == "" {
		s.advertise.Store("http://" + advertiseHost(ln.Addr()))
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.log.Info("hub listening", "addr", ln.Addr().String(), "mode", s.mode(), "insecure", s.cfg.AuthSecret == "")
	if s.cfg.AuthSecret == "" {
		s.log.Warn("running without authentication (--insecure): any client may act as any driver or rider")
	}
	if ready != nil {
		ready(ln.Addr())
	}
	g, gctx := errgroup.WithContext(ctx)
	// The HTTP server goroutine exits when hs.Shutdown closes the listener.
	g.Go(func() error {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve http: %w", err)
		}
		return nil
	})
	// The shutdown goroutine waits for ctx (or a failed listener), then
	// stops everything.
	g.Go(func() error {
		<-gctx.Done()
		s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
		defer cancel()
		s.ready.Store(false)
		s.hub.shutdown()
		if d := s.cfg.DrainDelay; d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-sctx.Done():
			}
			t.Stop()
		}
		errHTTP := hs.Shutdown(sctx)
		errHub := s.Shutdown(sctx)
		if err := errors.Join(errHTTP, errHub); err != nil {
			_ = hs.Close()
			return fmt.Errorf("shutdown: %w", err)
		}
		s.log.Info("stopped")
		return nil
	})
	return g.Wait()
}

// statsURL is where tools reach this node's /ws/stats; empty when unknown.
func (s *Server) statsURL() string {
	base := s.cfg.AdvertiseURL
	if base == "" {
		base, _ = s.advertise.Load().(string)
	}
	if base == "" {
		return ""
	}
	return strings.TrimSuffix(base, "/") + "/ws/stats"
}

// advertiseHost turns a listen address into one other hosts can dial: an
// unspecified IP becomes the host name.
func advertiseHost(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
