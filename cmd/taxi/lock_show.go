package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/taxi-hub/taxi/lockctl"
	"github.com/taxi-hub/taxi/server"
)

// lockShowOptions is what taxi lock show's argument and flags fill in.
type lockShowOptions struct {
	*lockCommon
	OrderID string
	JSON    bool
}

func newCmdLockShow(common *lockCommon, runF func(context.Context, *lockShowOptions) error) *cobra.Command {
	opts := &lockShowOptions{lockCommon: common}
	cmd := &cobra.Command{
		Use:   "show ORDER_ID [--json]",
		Short: "Show an order's lock beside the order's state and viewers",
		Long: `Show the lock of one order (owner, time left) beside the order's state (status,
accepted driver) and the drivers viewing it. Exits 1 when the order has no lock.
--json prints one object: order_id, lock (as in taxi lock list --json, or
null), not_lock, order (as the order API returns it, or null), viewers,
warnings.
` + lockExitCodes,
		Example: `  taxi lock show 8121
  taxi lock show 8121 --json | jq .lock.owner`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.OrderID = args[0]
			if err := common.bind(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return lockShowRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

func lockShowRun(ctx context.Context, opts *lockShowOptions) error {
	if err := lockctl.ValidateOrderID(opts.OrderID); err != nil {
		return usageError(err) // before connecting: no Redis round trip for a typo
	}
	ctl, done, err := lockConnect(ctx, opts.lockCommon)
	if err != nil {
		return err
	}
	defer done()
	d, err := ctl.Show(ctx, opts.OrderID)
	if err != nil && !errors.Is(err, lockctl.ErrNotLock) {
		return lockError(err)
	}
	notLock := err != nil
	if opts.JSON {
		err = json.NewEncoder(opts.IO.Out).Encode(showJSON(d, notLock))
	} else {
		err = printShow(opts.IO.Out, d, notLock)
	}
	if err != nil {
		return fmt.Errorf("print lock of order %s: %w", d.OrderID, err)
	}
	if notLock || d.Lock == nil {
		return withExitCode(1, nil)
	}
	return nil
}

// printShow writes the text of taxi lock show.
func printShow(w io.Writer, d lockctl.Detail, notLock bool) error {
	var b strings.Builder
	fmt.Fprintf(&b, "order %s\n", d.OrderID)
	switch {
	case notLock:
		fmt.Fprintf(&b, "  lock     %s exists but is not a string: not a lock taxi serve wrote; taxi lock will not touch it\n", lockctl.LockKey(d.OrderID))
	case d.Lock == nil:
		fmt.Fprintf(&b, "  lock     none\n")
	case d.Lock.Stale():
		fmt.Fprintf(&b, "  lock     %s held by %s, NO EXPIRY: stale, it never frees itself\n", d.Lock.Key(), d.Lock.Owner)
	default:
		fmt.Fprintf(&b, "  lock     %s held by %s, %s\n", d.Lock.Key(), d.Lock.Owner, ttlPhrase(d.Lock.TTL))
	}
	if o := d.Order; o == nil {
		fmt.Fprintf(&b, "  order    not in Redis (never created, or past its retention)\n")
	} else {
		driver := o.DriverID
		if driver == "" {
			driver = "none"
		}
		fmt.Fprintf(&b, "  order    status %s, accepted by %s, rider %s", o.Status, driver, o.UserID)
		if !o.CreatedAt.IsZero() {
			fmt.Fprintf(&b, ", created %s (%s ago)", o.CreatedAt.Format(time.RFC3339), time.Since(o.CreatedAt).Round(time.Second))
		}
		fmt.Fprintf(&b, "\n           pickup %g,%g  dropoff %g,%g\n", o.PickupLat, o.PickupLng, o.DropoffLat, o.DropoffLng)
	}
	if len(d.Viewers) == 0 {
		fmt.Fprintf(&b, "  viewers  none\n")
	} else {
		fmt.Fprintf(&b, "  viewers  %d: %s\n", len(d.Viewers), strings.Join(d.Viewers, ", "))
	}
	for _, warning := range d.Warnings {
		fmt.Fprintf(&b, "  warning  order hash: %s\n", warning)
	}
	if d.Lock != nil && d.Lock.Stale() {
		fmt.Fprintf(&b, "\nTo free it: taxi lock clear %s --owner %s\n", d.OrderID, d.Lock.Owner)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lockShowJSON is taxi lock show --json (docs/lock.md).
type lockShowJSON struct {
	OrderID string        `json:"order_id"`
	Lock    *lockctl.Lock `json:"lock"`
	// NotLock is true when order_lock:<id> exists but is not a string.
	NotLock  bool          `json:"not_lock"`
	Order    *server.Order `json:"order"`
	Viewers  []string      `json:"viewers"`
	Warnings []string      `json:"warnings"`
}

func showJSON(d lockctl.Detail, notLock bool) lockShowJSON {
	j := lockShowJSON{OrderID: d.OrderID, Lock: d.Lock, NotLock: notLock, Viewers: d.Viewers, Warnings: d.Warnings}
	if j.Viewers == nil {
		j.Viewers = []string{}
	}
	if j.Warnings == nil {
		j.Warnings = []string{}
	}
	if o := d.Order; o != nil {
		j.Order = &server.Order{
			OrderID:   o.OrderID,
			UserID:    o.UserID,
			Status:    server.Status(o.Status),
			Pickup:    server.Point{Lat: o.PickupLat, Lng: o.PickupLng},
			Dropoff:   server.Point{Lat: o.DropoffLat, Lng: o.DropoffLng},
			CreatedAt: o.CreatedAt,
			DriverID:  o.DriverID,
		}
	}
	return j
}
