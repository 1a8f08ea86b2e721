package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
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

const defaultLockRedisURL = "redis://localhost:6379/0"

// lockCommon holds what every lock subcommand shares.
type lockCommon struct {
	RedisURL string
	// In, Out and ErrOut are the command's streams; prompts go to ErrOut so
	// that Out carries only results.
	In          io.Reader
	Out, ErrOut io.Writer
	// Interactive is true when In and ErrOut are a terminal, the only case
	// where clear may ask for confirmation.
	Interactive bool
}

type lockListOptions struct {
	*lockCommon
	Filter lockctl.Filter
	JSON   bool
}

type lockShowOptions struct {
	*lockCommon
	OrderID string
}

type lockClearOptions struct {
	*lockCommon
	OrderID string
	Owner   string
	Stale   bool
	DryRun  bool
	Yes     bool
	Actor   string // recorded in the audit stream
}

type lockAuditOptions struct {
	*lockCommon
	N int
}

// newLockCmd builds "taxi lock" and its subcommands.
func newLockCmd() *cobra.Command {
	common := &lockCommon{}
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Inspect and clear order locks during an incident",
		Long: `Inspect and clear the order acceptance locks (order_lock:<order_id>, value =
the driver id, normally expiring after 5 s) in the Redis that taxi serve uses.
A lock with no expiry never frees itself: nobody can accept that order until it
is cleared. Every clear is recorded in the Redis stream taxi:lock_audit.

--redis-url takes the same forms as taxi serve: redis://[user:pass@]host:port/db,
rediss:// for TLS, a comma-separated Cluster seed list, or
redis-sentinel://host:port,host:port/master[/db]. See docs/lock.md.
` + lockExitCodes,
		Args: cobra.NoArgs,
		// A bare "taxi lock" prints help rather than failing.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	// The default is resolved when a subcommand runs, not shown in --help:
	// REDIS_URL often carries a password.
	cmd.PersistentFlags().StringVar(&common.RedisURL, "redis-url", "",
		"Redis of the taxi serve nodes (default $REDIS_URL, else "+defaultLockRedisURL+")")
	cmd.AddCommand(
		newLockListCmd(common),
		newLockShowCmd(common),
		newLockClearCmd(common),
		newLockAuditCmd(common),
	)
	return cmd
}

func newLockListCmd(common *lockCommon) *cobra.Command {
	opts := &lockListOptions{lockCommon: common}
	cmd := &cobra.Command{
		Use:   "list [--order ID] [--owner DRIVER] [--stale] [--json]",
		Short: "List order locks: order, owner, time left",
		Long: `List every order lock, found with SCAN on every master (never KEYS), with its
owner and the time it has left. STALE marks a lock with no expiry. Totals
follow the table (on stderr with --json, so stdout stays one JSON object per
line: order_id, key, owner, ttl_ms (-1 when stale), stale).
` + lockExitCodes,
		Example: `  taxi lock list --stale
  taxi lock list --owner driver-7 --json | jq .order_id`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			common.bind(cmd)
			return lockListRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Filter.OrderID, "order", "", "only the lock of this order")
	f.StringVar(&opts.Filter.Owner, "owner", "", "only locks held by this driver")
	f.BoolVar(&opts.Filter.Stale, "stale", false, "only locks with no expiry")
	f.BoolVar(&opts.JSON, "json", false, "one JSON object per lock per line")
	return cmd
}

func newLockShowCmd(common *lockCommon) *cobra.Command {
	opts := &lockShowOptions{lockCommon: common}
	return &cobra.Command{
		Use:   "show ORDER_ID",
		Short: "Show an order's lock beside the order's state and viewers",
		Long: `Show the lock of one order (owner, time left) beside the order's state (status,
accepted driver) and the drivers viewing it. Exits 1 when the order has no lock.
` + lockExitCodes,
		Example: `  taxi lock show 8121`,
		Args:    usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.OrderID = args[0]
			common.bind(cmd)
			return lockShowRun(cmd.Context(), opts)
		},
	}
}

func newLockClearCmd(common *lockCommon) *cobra.Command {
	opts := &lockClearOptions{lockCommon: common}
	cmd := &cobra.Command{
		Use:   "clear {ORDER_ID | --stale} [--owner DRIVER] [--dry-run] [--yes]",
		Short: "Delete an order lock, or every lock with no expiry",
		Long: `Delete the lock of ORDER_ID, or with --stale every lock that has no expiry.

It first shows what it will delete. On a terminal it asks for confirmation;
without one it refuses unless --yes is given. The delete is a compare-and-
delete in one Lua script: it happens only if the lock still has the owner that
was shown (or --owner), so a lock another driver took in the meantime
survives. --dry-run shows and changes nothing.

Each clear is recorded in the Redis stream taxi:lock_audit (see taxi lock
audit) and printed.
` + lockExitCodes,
		Example: `  taxi lock clear 8121 --owner driver-7
  taxi lock clear --stale --dry-run
  taxi lock clear --stale --yes`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.OrderID = args[0]
			}
			opts.Actor = currentActor()
			common.bind(cmd)
			return lockClearRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Owner, "owner", "", "delete only while this driver holds the lock")
	f.BoolVar(&opts.Stale, "stale", false, "delete every lock with no expiry instead of one order's")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show what would be deleted, change nothing")
	f.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (required without a terminal)")
	return cmd
}

func newLockAuditCmd(common *lockCommon) *cobra.Command {
	opts := &lockAuditOptions{lockCommon: common}
	cmd := &cobra.Command{
		Use:   "audit [-n N]",
		Short: "Show the most recent lock clears, newest first",
		Long: `Show the most recent records of the Redis stream taxi:lock_audit, newest first:
when, who (user@host), the outcome, the key, what it held and the owner that
was required.
` + lockExitCodes,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			common.bind(cmd)
			return lockAuditRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVarP(&opts.N, "number", "n", 20, "how many records")
	return cmd
}

// bind fills the streams from cobra's (which tests may replace) when a
// subcommand runs. It is called from each RunE rather than a persistent
// pre-run hook, which would shadow one set on the root command.
func (c *lockCommon) bind(cmd *cobra.Command) {
	if c.RedisURL == "" {
		c.RedisURL = envOr("REDIS_URL", defaultLockRedisURL)
	}
	c.In, c.Out, c.ErrOut = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	c.Interactive = isTerminal(c.In) && isTerminal(c.ErrOut)
}

// usageArgs makes cobra's argument check a usage error (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

func lockListRun(ctx context.Context, opts *lockListOptions) error {
	ctl, done, err := lockConnect(ctx, opts.RedisURL)
	if err != nil {
		return err
	}
	defer done()
	enc := json.NewEncoder(opts.Out)
	if !opts.JSON {
		fmt.Fprintln(opts.Out, lockRow("ORDER", "OWNER", "TTL"))
	}
	totals, err := ctl.List(ctx, opts.Filter, func(l lockctl.Lock) error {
		if opts.JSON {
			return enc.Encode(l)
		}
		_, err := fmt.Fprintln(opts.Out, lockRow(l.OrderID, l.Owner, formatTTL(l.TTL)))
		return err
	})
	if err != nil {
		return lockError(err)
	}
	summary := opts.Out
	if opts.JSON {
		summary = opts.ErrOut
	}
	fmt.Fprintf(summary, "%d %s, %d stale (no expiry); %d order_lock keys scanned\n",
		totals.Matched, plural(totals.Matched, "lock", "locks"), totals.Stale, totals.Scanned)
	if totals.NotLocks > 0 {
		fmt.Fprintf(summary, "warning: %d order_lock:* %s not a string, so not a lock taxi serve wrote\n",
			totals.NotLocks, plural(totals.NotLocks, "key is", "keys are"))
	}
	if totals.Matched == 0 {
		return withExitCode(1, nil)
	}
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

func lockShowRun(ctx context.Context, opts *lockShowOptions) error {
	if err := lockctl.ValidateOrderID(opts.OrderID); err != nil {
		return usageError(err) // before connecting: no Redis round trip for a typo
	}
	ctl, done, err := lockConnect(ctx, opts.RedisURL)
	if err != nil {
		return err
	}
	defer done()
	d, err := ctl.Show(ctx, opts.OrderID)
	if err != nil && !errors.Is(err, lockctl.ErrNotLock) {
		return lockError(err)
	}
	w := opts.Out
	fmt.Fprintf(w, "order %s\n", d.OrderID)
	switch {
	case err != nil:
		fmt.Fprintf(w, "  lock     %s exists but is not a string: not a lock taxi serve wrote; taxi lock will not touch it\n", lockctl.LockKey(d.OrderID))
	case d.Lock == nil:
		fmt.Fprintf(w, "  lock     none\n")
	case d.Lock.Stale():
		fmt.Fprintf(w, "  lock     %s held by %s, NO EXPIRY: stale, it never frees itself\n", d.Lock.Key(), d.Lock.Owner)
	default:
		fmt.Fprintf(w, "  lock     %s held by %s, %s\n", d.Lock.Key(), d.Lock.Owner, ttlPhrase(d.Lock.TTL))
	}
	if o := d.Order; o == nil {
		fmt.Fprintf(w, "  order    not in Redis (never created, or past its retention)\n")
	} else {
		driver := o.DriverID
		if driver == "" {
			driver = "none"
		}
		fmt.Fprintf(w, "  order    status %s, accepted by %s, rider %s", o.Status, driver, o.UserID)
		if !o.CreatedAt.IsZero() {
			fmt.Fprintf(w, ", created %s (%s ago)", o.CreatedAt.Format(time.RFC3339), time.Since(o.CreatedAt).Round(time.Second))
		}
		fmt.Fprintf(w, "\n           pickup %g,%g  dropoff %g,%g\n", o.PickupLat, o.PickupLng, o.DropoffLat, o.DropoffLng)
	}
	if len(d.Viewers) == 0 {
		fmt.Fprintf(w, "  viewers  none\n")
	} else {
		fmt.Fprintf(w, "  viewers  %d: %s\n", len(d.Viewers), strings.Join(d.Viewers, ", "))
	}
	for _, warning := range d.Warnings {
		fmt.Fprintf(w, "  warning  order hash: %s\n", warning)
	}
	if d.Lock != nil && d.Lock.Stale() {
		fmt.Fprintf(w, "\nTo free it: taxi lock clear %s --owner %s\n", d.OrderID, d.Lock.Owner)
	}
	if err != nil || d.Lock == nil {
		return withExitCode(1, nil)
	}
	return nil
}

func lockClearRun(ctx context.Context, opts *lockClearOptions) error {
	switch {
	case opts.OrderID == "" && !opts.Stale:
		return usageError(errors.New("clear needs an ORDER_ID or --stale"))
	case opts.OrderID != "" && opts.Stale:
		return usageError(errors.New("give either an ORDER_ID or --stale, not both"))
	case !opts.DryRun && !opts.Yes && !opts.Interactive:
		return usageError(errors.New("refusing to clear without a terminal to confirm on: add --yes (or --dry-run to look first)"))
	}
	if opts.OrderID != "" {
		if err := lockctl.ValidateOrderID(opts.OrderID); err != nil {
			return usageError(err)
		}
	}
	ctl, done, err := lockConnect(ctx, opts.RedisURL)
	if err != nil {
		return err
	}
	defer done()
	if opts.Stale {
		return lockClearStaleRun(ctx, ctl, opts)
	}

	w := opts.Out
	preview, err := ctl.Clear(ctx, opts.OrderID, lockctl.ClearOptions{Owner: opts.Owner, DryRun: true})
	if errors.Is(err, lockctl.ErrLockNotFound) {
		return withExitCode(1, fmt.Errorf("order %s has no lock (%s does not exist); nothing to clear", opts.OrderID, preview.Key))
	}
	if err != nil {
		return lockError(err)
	}
	fmt.Fprintf(w, "%s held by %s, %s\n", preview.Key, preview.Owner, ttlPhrase(preview.TTL))
	if opts.DryRun {
		fmt.Fprintln(w, "dry run: would delete it; nothing changed")
		return nil
	}
	if !opts.Yes {
		ok, err := confirm(ctx, opts.lockCommon, fmt.Sprintf("Delete %s held by %s?", preview.Key, preview.Owner))
		if err != nil || !ok {
			return err
		}
	}
	// Delete only the lock that was shown: if it changed hands meanwhile,
	// the person confirmed something else.
	owner := opts.Owner
	if owner == "" {
		owner = preview.Owner
	}
	r, err := ctl.Clear(ctx, opts.OrderID, lockctl.ClearOptions{Owner: owner, Actor: opts.Actor})
	switch {
	case errors.Is(err, lockctl.ErrOwnerDiffers):
		return withExitCode(1, fmt.Errorf("%s changed since it was shown: now held by %s; left in place", r.Key, r.Owner))
	case errors.Is(err, lockctl.ErrLockNotFound):
		fmt.Fprintf(w, "%s is already gone (released or expired); nothing deleted (audit %s)\n", r.Key, r.AuditID)
		return withExitCode(1, nil)
	case r.Outcome == lockctl.Cleared:
		printCleared(w, r, opts.Actor)
		if err != nil {
			return lockError(err) // cleared, but the audit record failed
		}
		return nil
	default:
		return lockError(err)
	}
}

func lockClearStaleRun(ctx context.Context, ctl *lockctl.Controller, opts *lockClearOptions) error {
	w := opts.Out
	fmt.Fprintln(w, lockRow("ORDER", "OWNER", "TTL"))
	totals, err := ctl.List(ctx, lockctl.Filter{Stale: true, Owner: opts.Owner}, func(l lockctl.Lock) error {
		_, err := fmt.Fprintln(w, lockRow(l.OrderID, l.Owner, formatTTL(l.TTL)))
		return err
	})
	if err != nil {
		return lockError(err)
	}
	n := totals.Matched
	if n == 0 {
		fmt.Fprintln(w, "no stale locks")
		return withExitCode(1, nil)
	}
	if opts.DryRun {
		fmt.Fprintf(w, "dry run: would delete %d stale %s; nothing changed\n", n, plural(n, "lock", "locks"))
		return nil
	}
	if !opts.Yes {
		ok, err := confirm(ctx, opts.lockCommon, fmt.Sprintf("Delete %d stale %s?", n, plural(n, "lock", "locks")))
		if err != nil || !ok {
			return err
		}
	}
	// A second walk clears what is stale now, each lock checked atomically
	// (same owner, still no expiry), so memory stays flat however many there
	// are. A lock that went stale since the listing is cleared too: it is
	// stuck for the same reason.
	ct, err := ctl.ClearStale(ctx, lockctl.ClearOptions{Owner: opts.Owner, Actor: opts.Actor}, func(r lockctl.Result) error {
		if r.Outcome == lockctl.Cleared {
			printCleared(w, r, opts.Actor)
		}
		return nil
	})
	fmt.Fprintf(w, "cleared %d of %d stale %s", ct.Cleared, ct.Found, plural(ct.Found, "lock", "locks"))
	if ct.Skipped > 0 {
		fmt.Fprintf(w, "; %d changed meanwhile and %s left in place", ct.Skipped, plural(ct.Skipped, "was", "were"))
	}
	fmt.Fprintln(w)
	if err != nil {
		return lockError(err)
	}
	if ct.Cleared == 0 {
		return withExitCode(1, nil)
	}
	return nil
}

func printCleared(w io.Writer, r lockctl.Result, actor string) {
	fmt.Fprintf(w, "deleted %s (held by %s, %s); recorded in %s as %s by %s\n",
		r.Key, r.Owner, ttlPhrase(r.TTL), lockctl.AuditStream, r.AuditID, actor)
}

// confirm asks question on ErrOut and reads a yes on In. It returns false,
// with exit status 1, on any other answer. The read cannot be interrupted,
// so on ^C the reading goroutine is left to end with the process, which
// exits as soon as confirm returns.
func confirm(ctx context.Context, c *lockCommon, question string) (bool, error) {
	fmt.Fprintf(c.ErrOut, "%s [y/N] ", question)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(c.In).ReadString('\n')
		answer <- strings.ToLower(strings.TrimSpace(line))
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(c.ErrOut)
		return false, withExitCode(1, fmt.Errorf("interrupted; nothing changed"))
	case a := <-answer:
		if a == "y" || a == "yes" {
			return true, nil
		}
		fmt.Fprintln(c.ErrOut, "not confirmed; nothing changed")
		return false, withExitCode(1, nil)
	}
}

func lockAuditRun(ctx context.Context, opts *lockAuditOptions) error {
	if opts.N < 1 {
		return usageError(fmt.Errorf("-n must be at least 1, got %d", opts.N))
	}
	ctl, done, err := lockConnect(ctx, opts.RedisURL)
	if err != nil {
		return err
	}
	defer done()
	recs, err := ctl.Audit(ctx, opts.N)
	if err != nil {
		return lockError(err)
	}
	if len(recs) == 0 {
		fmt.Fprintf(opts.Out, "no records in %s\n", lockctl.AuditStream)
		return withExitCode(1, nil)
	}
	for _, r := range recs {
		fmt.Fprintf(opts.Out, "%s  %s@%s  %-13s %s  owner %s, %s",
			r.Time.Local().Format("2006-01-02 15:04:05"), r.Actor, r.Host, r.Outcome, r.Key, r.Owner, ttlPhrase(r.TTL))
		if r.ExpectedOwner != "" {
			fmt.Fprintf(opts.Out, ", required owner %s", r.ExpectedOwner)
		}
		fmt.Fprintf(opts.Out, "  (%s)\n", r.ID)
	}
	return nil
}

// lockConnect parses the URL and checks that Redis answers, so that an
// unreachable server or a refused password is reported once, clearly, before
// any work. The returned func closes the client.
func lockConnect(ctx context.Context, rawURL string) (*lockctl.Controller, func(), error) {
	// taxi lock reports a Redis failure itself, once; go-redis's own
	// dial-retry lines on stderr would bury that message. Only this short
	// command's process is affected.
	redis.SetLogger(quietRedisLog{})
	rdb, err := redisconn.New(rawURL)
	if err != nil {
		return nil, nil, usageError(fmt.Errorf("--redis-url: %w", err))
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		where := redisconn.Redact(rawURL)
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

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
