package monitor

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultInterval = 2 * time.Second
	// The default timeout is half the interval, within these bounds: a
	// longer interval gives a large keyspace's SCANs more time.
	MinDefaultTimeout = time.Second
	MaxDefaultTimeout = 5 * time.Second
	// MinInterval keeps a mistyped --interval from hammering Redis with
	// SCANs.
	MinInterval = 100 * time.Millisecond
)

var (
	// ErrInvalidOptions wraps every error of Options.validate: the caller
	// asked for something that cannot work.
	ErrInvalidOptions = errors.New("monitor: invalid options")
	// ErrUnreachable is returned by a --once run when Redis did not answer
	// or, without Redis, no node did. The snapshot is printed anyway.
	ErrUnreachable = errors.New("monitor: source unreachable")
)

// Options configure Run.
type Options struct {
	// RedisURL is the Redis the nodes share, in any form redisconn
	// accepts. It is ignored with NoRedis.
	RedisURL string
	// NoRedis reads only the nodes' stats: StatsURLs must then name some.
	NoRedis bool
	// StatsURLs are nodes' /ws/stats URLs (or their base URLs) to read
	// besides those found in the heartbeats.
	StatsURLs []string
	// LocalHubURL is a node's base or stats URL read only while nothing
	// else names a node (Redis unreachable or listing none, no StatsURLs,
	// no node seen before), and shown only when it answers: taxi monitor
	// sets it to taxi serve's default address, to find a hub started with
	// make run. Empty means no such look.
	LocalHubURL string
	// Interval is the refresh period; 0 means DefaultInterval.
	Interval time.Duration
	// Timeout bounds each phase of a collection (Redis's PING and
	// heartbeats, then the rest of Redis and every node's stats in
	// parallel); 0 means half the interval, between MinDefaultTimeout and
	// MaxDefaultTimeout.
	Timeout time.Duration

	// Once prints one snapshot to Out and returns; JSON prints it as JSON.
	Once bool
	JSON bool

	// In and Out are the terminal; nil means standard input and output.
	In  io.Reader
	Out io.Writer
	// NoColor draws the live view without colours or text styles (the
	// caller's decision: NO_COLOR, TERM=dumb). Every state is also written
	// in words, so nothing is lost.
	NoColor bool
	// Actor names who clears a lock, for lockctl's audit record.
	Actor string
	// Logger receives the monitor's logs, never the terminal; nil
	// discards them.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Timeout == 0 {
		o.Timeout = min(max(o.Interval/2, MinDefaultTimeout), MaxDefaultTimeout)
	}
	if o.Actor == "" {
		o.Actor = "unknown"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOptions, fmt.Sprintf(format, a...))
	}
	switch {
	case o.Interval < MinInterval:
		return bad("interval %v is shorter than %v", o.Interval, MinInterval)
	case o.Timeout < 0:
		return bad("timeout %v is negative", o.Timeout)
	case o.JSON && !o.Once:
		return bad("JSON output needs a single snapshot (--once --json)")
	case o.NoRedis && len(o.StatsURLs) == 0:
		return bad("without Redis there is nothing to watch: give at least one stats URL")
	case !o.NoRedis && strings.TrimSpace(o.RedisURL) == "":
		return bad("no Redis URL: give one, or run without Redis and give stats URLs")
	}
	for _, u := range append(slices.Clone(o.StatsURLs), o.LocalHubURL) {
		if u == "" {
			continue
		}
		if _, err := statsURL(u); err != nil {
			return bad("%v", err)
		}
	}
	return nil
}

// statsURL turns a node's base URL or stats URL into its /ws/stats URL.
func statsURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("stats URL %q: want http(s)://host:port[/ws/stats]", raw)
	}
	if !strings.HasSuffix(u.Path, "/ws/stats") {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/ws/stats"
	}
	return u.String(), nil
}
