package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/taxi-hub/taxi/internal/redisconn"
	"github.com/taxi-hub/taxi/server"
)

// newLogger builds taxi serve's logger on w: format is text or json, level
// debug, info, warn or error. src names the settings in errors.
func newLogger(w io.Writer, format, level string, src envSources) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("%s %q: want debug, info, warn or error", src.name("log-level"), level)
	}
	ho := &slog.HandlerOptions{Level: lv, ReplaceAttr: readableDuration}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	default:
		return nil, fmt.Errorf("%s %q: want text or json", src.name("log-format"), format)
	}
}

// readableDuration writes durations as Go writes them ("1.5s", "250ms")
// rather than as nanoseconds, which is how slog's JSON handler would.
func readableDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// loggedConfig is a hub's configuration as the start log shows it: every
// setting by the name of its flag, secrets redacted.
type loggedConfig server.Config

// LogValue lists every field of server.Config but the logger.
func (c loggedConfig) LogValue() slog.Value {
	secret := "none"
	if c.AuthSecret != "" {
		secret = "(redacted)"
	}
	return slog.GroupValue(
		slog.String("addr", c.Addr),
		slog.String("node_id", c.NodeID),
		slog.String("auth_secret", secret),
		slog.Bool("insecure", c.Insecure),
		slog.String("redis_url", redisconn.Redact(c.RedisURL)),
		slog.Bool("memory", c.Memory),
		slog.Int("max_conns", c.MaxConns),
		slog.Int("send_queue", c.SendQueue),
		slog.Int64("read_limit", c.ReadLimit),
		slog.Int64("body_limit", c.BodyLimit),
		slog.Float64("msg_rate", c.MsgRate),
		slog.Int("msg_burst", c.MsgBurst),
		slog.Float64("http_rate", c.HTTPRate),
		slog.Int("http_burst", c.HTTPBurst),
		slog.Duration("ping_interval", c.PingInterval),
		slog.Duration("ping_timeout", c.PingTimeout),
		slog.Duration("write_timeout", c.WriteTimeout),
		slog.Duration("lock_ttl", c.LockTTL),
		slog.Duration("viewer_ttl", c.ViewerTTL),
		slog.Duration("order_retention", c.OrderRetention),
		slog.String("allowed_origins", strings.Join(c.OriginPatterns, ",")),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Duration("drain_delay", c.DrainDelay),
		slog.Duration("redis_timeout", c.RedisTimeout),
		slog.Duration("heartbeat_interval", c.HeartbeatInterval),
		slog.Duration("probe_interval", c.ProbeInterval),
		slog.Duration("event_retention", c.EventRetention),
		slog.Int("event_retention_max", c.EventRetentionMax),
		slog.Duration("location_ttl", c.LocationTTL),
		slog.Float64("dispatch_radius", c.DispatchRadius),
		slog.String("advertise_url", c.AdvertiseURL),
	)
}
