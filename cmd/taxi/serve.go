package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/taxi-hub/taxi/server"
)

type serveOptions struct {
	cfg       server.Config
	logFormat string
	logLevel  string
	logOut    io.Writer
	// ready is called with the bound address; tests use it.
	ready func(net.Addr)
	// pprofAddr, when set, serves net/http/pprof there for profiling.
	pprofAddr string
}

func newServeCmd() *cobra.Command {
	opts := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a hub node",
		Long: `Run a hub node: WebSocket feeds for drivers (/ws/driver/{id}) and riders
(/ws/user/{id}), the order API (/orders), /ws/stats, /metrics, /healthz and
/readyz.

Every flag can also be set by the environment variable shown in its help.
Without --auth-secret the hub refuses to start unless --insecure is given.`,
		Example: `  taxi serve --insecure --memory                # one node, nothing else needed
  TAXI_AUTH_SECRET=... taxi serve --addr :8080   # production`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.logOut = cmd.ErrOrStderr()
			// Secrets come from the environment at run time, never as flag
			// defaults, so that --help does not print them.
			secretFromEnv(cmd, "auth-secret", "TAXI_AUTH_SECRET", &opts.cfg.AuthSecret)
			secretFromEnv(cmd, "redis-url", "REDIS_URL", &opts.cfg.RedisURL)
			return serveRun(cmd.Context(), opts)
		},
	}
	c := &opts.cfg
	f := cmd.Flags()
	f.StringVar(&c.Addr, "addr", envOr("TAXI_ADDR", server.DefaultAddr), "listen address (env TAXI_ADDR)")
	f.StringVar(&c.NodeID, "node-id", envOr("TAXI_NODE_ID", ""), "this node's id in frames, stats and Redis keys; default host name plus a random suffix (env TAXI_NODE_ID)")
	f.StringVar(&c.AuthSecret, "auth-secret", "", "HS256 secret for client tokens, at least 16 bytes (env TAXI_AUTH_SECRET)")
	f.BoolVar(&c.Insecure, "insecure", envBool("TAXI_INSECURE", false), "run without authentication: for development and load tests only (env TAXI_INSECURE)")
	f.StringVar(&c.RedisURL, "redis-url", "redis://localhost:6379/0", "Redis shared by the nodes: redis://[user:pass@]host:port/db, rediss:// for TLS, host1:port,host2:port for Cluster, redis-sentinel://[:pass@]h1:p1,h2:p2/master[/db] for Sentinel (env REDIS_URL)")
	f.BoolVar(&c.Memory, "memory", envBool("TAXI_MEMORY", false), "force in-memory mode: one node, no Redis (env TAXI_MEMORY)")
	f.IntVar(&c.MaxConns, "max-conns", envInt("TAXI_MAX_CONNS", 0), "most WebSocket connections on this node, 0 for no cap (env TAXI_MAX_CONNS)")
	f.IntVar(&c.SendQueue, "send-queue", envInt("TAXI_SEND_QUEUE", server.DefaultSendQueue), "frames queued per connection before it is dropped as slow (env TAXI_SEND_QUEUE)")
	f.Int64Var(&c.ReadLimit, "read-limit", int64(envInt("TAXI_READ_LIMIT", server.DefaultReadLimit)), "largest inbound WebSocket frame in bytes; larger closes with 1009 (env TAXI_READ_LIMIT)")
	f.Int64Var(&c.BodyLimit, "body-limit", int64(envInt("TAXI_BODY_LIMIT", server.DefaultBodyLimit)), "largest HTTP request body in bytes; larger is a 413 (env TAXI_BODY_LIMIT)")
	f.Float64Var(&c.MsgRate, "msg-rate", envFloat("TAXI_MSG_RATE", server.DefaultMsgRate), "frames per second one connection may send (env TAXI_MSG_RATE)")
	f.IntVar(&c.MsgBurst, "msg-burst", envInt("TAXI_MSG_BURST", server.DefaultMsgBurst), "burst of frames above --msg-rate (env TAXI_MSG_BURST)")
	f.Float64Var(&c.HTTPRate, "http-rate", envFloat("TAXI_HTTP_RATE", server.DefaultHTTPRate), "order API calls per second per driver or rider; more is a 429 (env TAXI_HTTP_RATE)")
	f.IntVar(&c.HTTPBurst, "http-burst", envInt("TAXI_HTTP_BURST", server.DefaultHTTPBurst), "burst of calls above --http-rate (env TAXI_HTTP_BURST)")
	f.DurationVar(&c.PingInterval, "ping-interval", envDuration("TAXI_PING_INTERVAL", server.DefaultPingInterval), "WebSocket keepalive ping interval; keep it under your proxies' idle timeout (env TAXI_PING_INTERVAL)")
	f.DurationVar(&c.PingTimeout, "ping-timeout", envDuration("TAXI_PING_TIMEOUT", server.DefaultPingTimeout), "close a connection whose pong does not come within this (env TAXI_PING_TIMEOUT)")
	f.DurationVar(&c.WriteTimeout, "write-timeout", envDuration("TAXI_WRITE_TIMEOUT", server.DefaultWriteTimeout), "close a connection that cannot take a frame within this (env TAXI_WRITE_TIMEOUT)")
	f.DurationVar(&c.OrderRetention, "order-retention", envDuration("TAXI_ORDER_RETENTION", server.DefaultOrderRetention), "how long orders are kept (env TAXI_ORDER_RETENTION)")
	f.StringSliceVar(&c.OriginPatterns, "allowed-origins", envList("TAXI_ALLOWED_ORIGINS"), "browser origins allowed to open WebSockets besides the hub's own host (env TAXI_ALLOWED_ORIGINS, comma-separated)")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDuration("TAXI_SHUTDOWN_TIMEOUT", server.DefaultShutdownTimeout), "longest graceful shutdown before the process exits anyway (env TAXI_SHUTDOWN_TIMEOUT)")
	f.DurationVar(&c.RedisTimeout, "redis-timeout", envDuration("TAXI_REDIS_TIMEOUT", server.DefaultRedisTimeout), "longest Redis call; an outage is noticed within about this long (env TAXI_REDIS_TIMEOUT)")
	f.DurationVar(&c.HeartbeatInterval, "heartbeat-interval", envDuration("TAXI_HEARTBEAT_INTERVAL", server.DefaultHeartbeatInterval), "node heartbeat period; a dead node's drivers leave presence within about 4 periods (env TAXI_HEARTBEAT_INTERVAL)")
	f.DurationVar(&c.ProbeInterval, "probe-interval", envDuration("TAXI_PROBE_INTERVAL", server.DefaultProbeInterval), "period of the probe that checks the Redis subscription still delivers (env TAXI_PROBE_INTERVAL)")
	f.StringVar(&c.AdvertiseURL, "advertise-url", envOr("TAXI_ADVERTISE_URL", ""), "base URL tools reach this node at, put in its heartbeat for taxi monitor; default from --addr (env TAXI_ADVERTISE_URL)")
	f.DurationVar(&c.DrainDelay, "drain-delay", envDuration("TAXI_DRAIN_DELAY", 0), "on shutdown, keep answering /readyz with 503 this long before closing the listener, so load balancers notice (env TAXI_DRAIN_DELAY)")
	f.StringVar(&opts.pprofAddr, "pprof-addr", envOr("TAXI_PPROF_ADDR", ""), "serve Go profiles (net/http/pprof) on this address, e.g. 127.0.0.1:6060; keep it private (env TAXI_PPROF_ADDR)")
	f.StringVar(&opts.logFormat, "log-format", envOr("TAXI_LOG_FORMAT", "text"), "log format: text or json (env TAXI_LOG_FORMAT)")
	f.StringVar(&opts.logLevel, "log-level", envOr("TAXI_LOG_LEVEL", "info"), "log level: debug, info, warn or error (env TAXI_LOG_LEVEL)")
	return cmd
}

func serveRun(ctx context.Context, opts *serveOptions) error {
	log, err := newLogger(opts.logOut, opts.logFormat, opts.logLevel)
	if err != nil {
		return usageError(err)
	}
	opts.cfg.Logger = log
	if opts.cfg.AuthSecret == "" && !opts.cfg.Insecure {
		return usageError(errors.New("no auth secret: set --auth-secret (TAXI_AUTH_SECRET), or --insecure for development and load tests"))
	}
	if opts.pprofAddr != "" {
		stop, err := servePprof(ctx, opts.pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	if err := server.ListenAndServe(ctx, opts.cfg, opts.ready); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
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

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	if w == nil {
		w = os.Stderr
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}
