package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/taxi-hub/taxi/internal/redisconn"
	"github.com/taxi-hub/taxi/server"
)

// serveOptions is what taxi serve's flags and environment fill in.
type serveOptions struct {
	IO        *IOStreams
	cfg       server.Config
	logFormat string
	logLevel  string
	// pprofAddr, when set, serves net/http/pprof there for profiling.
	pprofAddr string
	// sources names the settings the environment gave, for messages.
	sources envSources
	// ready is called with the bound address; tests use it.
	ready func(net.Addr)
}

func newCmdServe(io *IOStreams, runF func(context.Context, *serveOptions) error) *cobra.Command {
	opts := &serveOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a hub node",
		Long: `Run a hub node: WebSocket feeds for drivers (/ws/driver/{id}) and riders
(/ws/user/{id}), the order API (/orders), /ws/stats, /metrics, /healthz and
/readyz.

Every flag can also be set by the environment variable shown in its help; a
flag on the command line wins. A malformed value, in a flag or a variable,
stops the hub before it starts (exit status 2) with a message naming it. The
effective configuration is logged at start, secrets redacted.
Without --auth-secret the hub refuses to start unless --insecure is given.

Exit status: 0 stopped by a signal; 1 failed while running (address in use,
shutdown timed out); 2 bad flags, environment or configuration.`,
		Example: `  taxi serve --insecure --memory                # one node, nothing else needed
  TAXI_AUTH_SECRET=... taxi serve --addr :8080   # production`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := applyEnv(cmd)
			if err != nil {
				return err
			}
			if err := nonNegative(cmd.Flags(), src); err != nil {
				return usageError(err)
			}
			opts.sources = src
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return serveRun(cmd.Context(), opts)
		},
	}
	c := &opts.cfg
	f := cmd.Flags()
	f.StringVar(&c.Addr, "addr", server.DefaultAddr, "listen address")
	f.StringVar(&c.NodeID, "node-id", "", "this node's id in frames, stats and Redis keys; default host name plus a random suffix")
	f.StringVar(&c.AuthSecret, "auth-secret", "", fmt.Sprintf("HS256 secret for client tokens, at least %d bytes", minSecretLen))
	f.BoolVar(&c.Insecure, "insecure", false, "run without authentication: for development and load tests only")
	f.StringVar(&c.RedisURL, "redis-url", defaultRedisURL, "Redis shared by the nodes: redis://[user:pass@]host:port/db, rediss:// for TLS, host1:port,host2:port for Cluster, redis-sentinel://[:pass@]h1:p1,h2:p2/master[/db] for Sentinel")
	f.BoolVar(&c.Memory, "memory", false, "force in-memory mode: one node, no Redis")
	f.IntVar(&c.MaxConns, "max-conns", 0, "most WebSocket connections on this node, 0 for no cap")
	f.IntVar(&c.SendQueue, "send-queue", server.DefaultSendQueue, "frames queued per connection before it is dropped as slow")
	f.Int64Var(&c.ReadLimit, "read-limit", server.DefaultReadLimit, "largest inbound WebSocket frame in bytes; larger closes with 1009")
	f.Int64Var(&c.BodyLimit, "body-limit", server.DefaultBodyLimit, "largest HTTP request body in bytes; larger is a 413")
	f.Float64Var(&c.MsgRate, "msg-rate", server.DefaultMsgRate, "frames per second one connection may send")
	f.IntVar(&c.MsgBurst, "msg-burst", server.DefaultMsgBurst, "burst of frames above --msg-rate")
	f.Float64Var(&c.HTTPRate, "http-rate", server.DefaultHTTPRate, "order API calls per second per driver or rider; more is a 429")
	f.IntVar(&c.HTTPBurst, "http-burst", server.DefaultHTTPBurst, "burst of calls above --http-rate")
	f.DurationVar(&c.PingInterval, "ping-interval", server.DefaultPingInterval, "WebSocket keepalive ping interval; keep it under your proxies' idle timeout")
	f.DurationVar(&c.PingTimeout, "ping-timeout", server.DefaultPingTimeout, "close a connection whose pong does not come within this")
	f.DurationVar(&c.WriteTimeout, "write-timeout", server.DefaultWriteTimeout, "close a connection that cannot take a frame within this")
	f.DurationVar(&c.OrderRetention, "order-retention", server.DefaultOrderRetention, "how long orders are kept")
	f.StringSliceVar(&c.OriginPatterns, "allowed-origins", nil, "browser origins allowed to open WebSockets besides the hub's own host (comma-separated)")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "longest graceful shutdown before the process exits anyway")
	f.DurationVar(&c.RedisTimeout, "redis-timeout", server.DefaultRedisTimeout, "longest Redis call: a request meeting an outage is answered (from memory mode) within about this long; an idle node notices the outage at its next heartbeat")
	f.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", server.DefaultHeartbeatInterval, "node heartbeat period; a dead node's drivers leave presence within about 4 periods")
	f.DurationVar(&c.ProbeInterval, "probe-interval", server.DefaultProbeInterval, "period of the probe that checks the Redis subscription still delivers")
	f.DurationVar(&c.EventRetention, "event-retention", server.DefaultEventRetention, "how long the event log keeps an event for nodes and clients that missed it (resume with ?since=)")
	f.IntVar(&c.EventRetentionMax, "event-retention-max", server.DefaultEventRetentionMax, "most events the event log keeps per channel")
	f.DurationVar(&c.LocationTTL, "location-ttl", server.DefaultLocationTTL, "how long a driver's position counts for dispatch by radius and GET /drivers/nearby")
	f.Float64Var(&c.DispatchRadius, "dispatch-radius", 0, fmt.Sprintf("metres around the pickup within which drivers are offered an order sent without radius_m; 0 offers it to every driver (at most %d)", server.MaxRadiusM))
	f.StringVar(&c.AdvertiseURL, "advertise-url", "", "base URL tools reach this node at, put in its heartbeat for taxi monitor; default from --addr")
	f.DurationVar(&c.DrainDelay, "drain-delay", 0, "on shutdown, keep answering /readyz with 503 this long before closing the listener, so load balancers notice")
	f.StringVar(&opts.pprofAddr, "pprof-addr", "", "serve Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060; keep it private")
	f.StringVar(&opts.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&opts.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.VisitAll(func(fl *pflag.Flag) { bindEnv(f, fl.Name) })
	return cmd
}

// serveRun checks the configuration, logs it and runs the hub until ctx
// ends. Every configuration error is a usage error (exit 2) naming the flag
// or variable at fault.
func serveRun(ctx context.Context, opts *serveOptions) error {
	log, err := newLogger(opts.IO.ErrOut, opts.logFormat, opts.logLevel, opts.sources)
	if err != nil {
		return usageError(err)
	}
	cfg := opts.cfg
	cfg.Logger = log
	if err := checkServeConfig(cfg, opts.sources); err != nil {
		return usageError(err)
	}
	s, err := server.New(cfg)
	if err != nil {
		return usageError(err)
	}
	log.Info("configuration", "config", loggedConfig(s.Config()))
	if opts.pprofAddr != "" {
		stop, err := servePprof(ctx, opts.pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	ln, err := net.Listen("tcp", s.Config().Addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", s.Config().Addr, err)
	}
	if err := s.Serve(ctx, ln, opts.ready); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// checkServeConfig refuses what the hub cannot run with, naming the
// setting as the user gave it. server.New checks the rest.
func checkServeConfig(cfg server.Config, src envSources) error {
	if cfg.AuthSecret == "" && !cfg.Insecure {
		return errors.New("no auth secret: set --auth-secret (TAXI_AUTH_SECRET), or --insecure for development and load tests")
	}
	if cfg.AuthSecret != "" {
		if err := checkSecret(cfg.AuthSecret); err != nil {
			return fmt.Errorf("%s: %w", src.name("auth-secret"), err)
		}
	}
	if !cfg.Memory {
		if _, err := redisconn.Options(cfg.RedisURL); err != nil {
			return fmt.Errorf("%s: %w", src.name("redis-url"), err)
		}
	}
	return nil
}

// nonNegative refuses a negative value in any number or duration flag of
// f: none of taxi serve's means anything below zero.
func nonNegative(f *pflag.FlagSet, src envSources) error {
	var errs []error
	f.VisitAll(func(fl *pflag.Flag) {
		switch fl.Value.Type() {
		case "int", "int64", "float64", "duration":
			if strings.HasPrefix(fl.Value.String(), "-") {
				errs = append(errs, fmt.Errorf("%s %s: must not be negative", src.name(fl.Name), fl.Value))
			}
		}
	})
	return errors.Join(errs...)
}

// servePprof serves the Go profiles on addr until stop is called. Its
// goroutine exits when the listener closes.
func servePprof(ctx context.Context, addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listener on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	log.Info("serving profiles", "addr", ln.Addr().String())
	return func() {
		_ = hs.Close()
		<-done
	}, nil
}
