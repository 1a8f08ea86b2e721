package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/taxi-hub/taxi/lockctl"
)

// lockListOptions is what taxi lock list's flags fill in.
type lockListOptions struct {
	*lockCommon
	Filter lockctl.Filter
	JSON   bool
}

func newCmdLockList(common *lockCommon, runF func(context.Context, *lockListOptions) error) *cobra.Command {
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
			if err := common.bind(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
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

func lockListRun(ctx context.Context, opts *lockListOptions) error {
	ctl, done, err := lockConnect(ctx, opts.lockCommon)
	if err != nil {
		return err
	}
	defer done()
	out := opts.IO.Out
	enc := json.NewEncoder(out)
	if !opts.JSON {
		fmt.Fprintln(out, lockRow("ORDER", "OWNER", "TTL"))
	}
	totals, err := ctl.List(ctx, opts.Filter, func(l lockctl.Lock) error {
		if opts.JSON {
			return enc.Encode(l)
		}
		_, err := fmt.Fprintln(out, lockRow(l.OrderID, l.Owner, formatTTL(l.TTL)))
		return err
	})
	if err != nil {
		return lockError(err)
	}
	summary := out
	if opts.JSON {
		summary = opts.IO.ErrOut
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
