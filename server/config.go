package server

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"time"
)

// Config is everything a hub node needs. The zero value of any field means
// its default; see withDefaults.
type Config struct {
	// Addr is the listen address of ListenAndServe.
	Addr string
	// NodeID names this node in frames, stats and Redis keys. Defaults to
	// the host name and a random suffix.
	NodeID string

	// AuthSecret is the HS256 key of client tokens. Without it Insecure
	// must be set, and then clients are trusted by the id in the URL.
	AuthSecret string
	Insecure   bool

	// RedisURL selects Redis mode; Memory forces memory mode even when a
	// RedisURL is given.
	RedisURL string
	Memory   bool

	// MaxConns caps WebSocket connections on this node; 0 means no cap.
	MaxConns int
	// SendQueue is how many frames may wait for one connection before it
	// is disconnected as a slow consumer.
	SendQueue int
	// ReadLimit is the largest frame a client may send, in bytes.
	ReadLimit int64
	// BodyLimit is the largest HTTP request body, in bytes.
	BodyLimit int64
	// MsgRate and MsgBurst bound the frames per second one connection may
	// send; HTTPRate and HTTPBurst bound order API calls per second per
	// caller (driver or rider id).
	MsgRate   float64
	MsgBurst  int
	HTTPRate  float64
	HTTPBurst int

	PingInterval time.Duration
	PingTimeout  time.Duration
	WriteTimeout time.Duration

	// LockTTL is the life of an order's acceptance lock, ViewerTTL of an
	// order's viewer set after its last view, OrderRetention of an order.
	LockTTL        time.Duration
	ViewerTTL      time.Duration
	OrderRetention time.Duration

	// OriginPatterns lists the browser origins allowed to open WebSockets
	// and to call the HTTP API (CORS) besides the hub's own host: path.Match
	// patterns of host[:port], or of scheme://host[:port] when they contain
	// "://", as in websocket.AcceptOptions.
	OriginPatterns []string

	ShutdownTimeout time.Duration
	// DrainDelay keeps the listener open this long after shutdown begins,
	// answering /readyz with 503 and refusing new WebSockets, so a load
	// balancer sees the node leave before connections are refused.
	DrainDelay time.Duration

	// RedisTimeout bounds each Redis call, so an outage is noticed within
	// about this long. HeartbeatInterval paces the node's heartbeat (which
	// expires after three intervals) and the reaping of dead nodes;
	// ProbeInterval paces the subscription probe.
	RedisTimeout      time.Duration
	HeartbeatInterval time.Duration
	ProbeInterval     time.Duration

	// EventRetention is how long the event log keeps an event, and
	// EventRetentionMax how many events it keeps per channel at most: a
	// node or client that missed events within both limits gets them
	// again; past them it gets a snapshot.
	EventRetention    time.Duration
	EventRetentionMax int

	// LocationTTL is how long a driver's position counts: an older one
	// no longer gets the driver radius-limited orders, is not listed by
	// GET /drivers/nearby, and is trimmed.
	LocationTTL time.Duration
	// DispatchRadius is the radius in metres of orders created without
	// radius_m; 0 offers them to every driver, as without positions.
	DispatchRadius float64

	// AdvertiseURL is the base URL other tools reach this node at; its
	// /ws/stats goes into the heartbeat. Defaults to the listen address.
	AdvertiseURL string

	Logger *slog.Logger
}

// Defaults for every tunable of Config.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultSendQueue       = 256
	DefaultReadLimit       = 4 << 10
	DefaultBodyLimit       = 64 << 10
	DefaultMsgRate         = 20
	DefaultMsgBurst        = 40
	DefaultHTTPRate        = 20
	DefaultHTTPBurst       = 40
	DefaultPingInterval    = 25 * time.Second
	DefaultPingTimeout     = 10 * time.Second
	DefaultWriteTimeout    = 10 * time.Second
	DefaultLockTTL         = 5 * time.Second
	DefaultViewerTTL       = 5 * time.Minute
	DefaultOrderRetention  = 24 * time.Hour
	DefaultShutdownTimeout = 15 * time.Second

	DefaultRedisTimeout      = time.Second
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultProbeInterval     = 5 * time.Second

	DefaultEventRetention    = 5 * time.Minute
	DefaultEventRetentionMax = 100000

	DefaultLocationTTL = 2 * time.Minute
)

// MaxRadiusM bounds radius_m, --dispatch-radius and GET /drivers/nearby's
// radius_m, in metres.
const MaxRadiusM = 100000

func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.NodeID == "" {
		host, _ := os.Hostname()
		if !ValidID(host) || len(host) > 40 {
			host = "node"
		}
		c.NodeID = host + "-" + newOrderID()[:6]
	}
	setDefault(&c.SendQueue, DefaultSendQueue)
	setDefault(&c.ReadLimit, DefaultReadLimit)
	setDefault(&c.BodyLimit, DefaultBodyLimit)
	setDefault(&c.MsgRate, DefaultMsgRate)
	setDefault(&c.MsgBurst, DefaultMsgBurst)
	setDefault(&c.HTTPRate, DefaultHTTPRate)
	setDefault(&c.HTTPBurst, DefaultHTTPBurst)
	setDefault(&c.PingInterval, DefaultPingInterval)
	setDefault(&c.PingTimeout, DefaultPingTimeout)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.LockTTL, DefaultLockTTL)
	setDefault(&c.ViewerTTL, DefaultViewerTTL)
	setDefault(&c.OrderRetention, DefaultOrderRetention)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.RedisTimeout, DefaultRedisTimeout)
	setDefault(&c.HeartbeatInterval, DefaultHeartbeatInterval)
	setDefault(&c.ProbeInterval, DefaultProbeInterval)
	setDefault(&c.EventRetention, DefaultEventRetention)
	setDefault(&c.EventRetentionMax, DefaultEventRetentionMax)
	setDefault(&c.LocationTTL, DefaultLocationTTL)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func setDefault[T int | int64 | float64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

func (c Config) validate() error {
	if c.AuthSecret == "" && !c.Insecure {
		return errors.New("no auth secret: set --auth-secret (TAXI_AUTH_SECRET), or --insecure for development and load tests")
	}
	if c.AuthSecret != "" && len(c.AuthSecret) < 16 {
		return errors.New("auth secret is shorter than 16 bytes")
	}
	if c.DrainDelay >= c.ShutdownTimeout {
		return errors.New("drain delay must be shorter than the shutdown timeout, which it counts against")
	}
	if c.DispatchRadius < 0 || c.DispatchRadius > MaxRadiusM || math.IsNaN(c.DispatchRadius) {
		return fmt.Errorf("dispatch radius must be from 0 (every driver) to %d metres", MaxRadiusM)
	}
	if !ValidID(c.NodeID) {
		return errors.New("node id must be 1 to 64 characters of [A-Za-z0-9_-]")
	}
	return checkOriginPatterns(c.OriginPatterns)
}
