package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/taxi-hub/taxi/internal/redisconn"
	"github.com/taxi-hub/taxi/lockctl"
)

const lockExitCodes = `
Exit status:
  0  done
  1  nothing matched: no lock, the owner differed, or the answer was no
  2  usage error: bad flag, bad order id, bad --redis-url, no terminal without --yes
  3  Redis error: unreachable, authentication refused, command failed`

// lockCommon is what every lock subcommand shares: the streams and the
// parent's --redis-url.
type lockCommon struct {
	IO       *IOStreams
	RedisURL string
	// redisURLFrom names the setting the URL came from, for messages:
	// --redis-url or REDIS_URL.
	redisURLFrom string
}

// newCmdLock builds "taxi lock" and its subcommands, one file each.
func newCmdLock(io *IOStreams) *cobra.Command {
	common := &lockCommon{IO: io}
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Inspect and clear order locks during an incident",
		Long: `Inspect and clear the order acceptance locks (order_lock:<order_id>, value =
the driver id, normally expiring after 5 s) in the Redis that taxi serve uses.
A lock with no expiry never frees itself: nobody can accept that order until it
is cleared. Every clear is recorded in the Redis stream taxi:lock_audit.

--redis-url takes the same forms as taxi serve: redis://[user:pass@]host:port/db,
rediss:// for TLS, a comma-separated Cluster seed list, or
redis-sentinel://host:port,host:port/master[/db]. Every subcommand takes
--json for scripts. See docs/lock.md.
` + lockExitCodes,
		Args: usageArgs(cobra.NoArgs),
		// A bare "taxi lock" prints help rather than failing.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	pf := cmd.PersistentFlags()
	pf.StringVar(&common.RedisURL, "redis-url", defaultRedisURL, "Redis of the taxi serve nodes")
	bindEnv(pf, "redis-url")
	cmd.AddCommand(
		newCmdLockList(common, nil),
		newCmdLockShow(common, nil),
		newCmdLockClear(common, nil),
		newCmdLockAudit(common, nil),
	)
	return cmd
}

// bind reads the environment for a subcommand about to run. It is called
// from each RunE rather than a persistent pre-run hook, which would shadow
// one set on the root command.
func (c *lockCommon) bind(cmd *cobra.Command) error {
	src, err := applyEnv(cmd)
	if err != nil {
		return err
	}
	c.redisURLFrom = src.name("redis-url")
	return nil
}

// lockRow formats one table row. Fixed widths rather than text/tabwriter:
// tabwriter holds every row until Flush, and the list must stream a million
// locks in constant memory. Longer ids push their row, never others.
func lockRow(order, owner, ttl string) string {
	return fmt.Sprintf("%-20s %-20s %s", order, owner, ttl)
}

// formatTTL is the TTL column of the table; ttlPhrase says the same in a
// sentence.
func formatTTL(d time.Duration) string {
	if d == lockctl.NoExpiry {
		return "STALE (no expiry)"
	}
	return d.Round(100 * time.Millisecond).String()
}

func ttlPhrase(d time.Duration) string {
	if d == lockctl.NoExpiry {
		return "no expiry (stale)"
	}
	return formatTTL(d) + " left"
}

// ttlMillis is a TTL in JSON: milliseconds, -1 for no expiry.
func ttlMillis(d time.Duration) int64 {
	if d == lockctl.NoExpiry {
		return -1
	}
	return d.Milliseconds()
}

// lockConnect parses the URL and checks that Redis answers, so that an
// unreachable server or a refused password is reported once, clearly, before
// any work. The returned func closes the client.
func lockConnect(ctx context.Context, c *lockCommon) (*lockctl.Controller, func(), error) {
	// taxi lock reports a Redis failure itself, once; go-redis's own
	// dial-retry lines on stderr would bury that message. Only this short
	// command's process is affected.
	redis.SetLogger(quietRedisLog{})
	from := c.redisURLFrom
	if from == "" {
		from = "--redis-url"
	}
	rdb, err := redisconn.New(c.RedisURL)
	if err != nil {
		return nil, nil, usageError(fmt.Errorf("%s: %w", from, err))
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		where := redisconn.Redact(c.RedisURL)
		if isAuthError(err) {
			return nil, nil, withExitCode(3, fmt.Errorf("redis at %s refused authentication (check the user and password in --redis-url or REDIS_URL): %w", where, err))
		}
		return nil, nil, withExitCode(3, fmt.Errorf("cannot reach redis at %s: %w", where, err))
	}
	return lockctl.New(rdb), func() { rdb.Close() }, nil
}

type quietRedisLog struct{}

func (quietRedisLog) Printf(context.Context, string, ...any) {}

func isAuthError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "WRONGPASS") || strings.Contains(msg, "NOAUTH") ||
		strings.Contains(msg, "invalid password") || strings.Contains(msg, "invalid username-password")
}

// lockError maps a lockctl error to its documented exit status.
func lockError(err error) error {
	switch {
	case errors.Is(err, lockctl.ErrInvalidOrderID):
		return usageError(err)
	case errors.Is(err, lockctl.ErrLockNotFound), errors.Is(err, lockctl.ErrOwnerDiffers), errors.Is(err, lockctl.ErrNotLock):
		return withExitCode(1, err)
	default:
		return withExitCode(3, err)
	}
}

// currentActor names who runs the command, for the audit stream.
func currentActor() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
