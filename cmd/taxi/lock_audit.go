package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/taxi-hub/taxi/lockctl"
)

// lockAuditOptions is what taxi lock audit's flags fill in.
type lockAuditOptions struct {
	*lockCommon
	N    int
	JSON bool
}

func newCmdLockAudit(common *lockCommon, runF func(context.Context, *lockAuditOptions) error) *cobra.Command {
	opts := &lockAuditOptions{lockCommon: common}
	cmd := &cobra.Command{
		Use:   "audit [-n N] [--json]",
		Short: "Show the most recent lock clears, newest first",
		Long: `Show the most recent records of the Redis stream taxi:lock_audit, newest first:
when, who (user@host), the outcome, the key, what it held and the owner that
was required. --json prints one object per record per line: id, time, actor,
host, order_id, key, owner, ttl_ms, expected_owner, outcome.
` + lockExitCodes,
		Example: `  taxi lock audit -n 5
  taxi lock audit --json | jq 'select(.outcome == "cleared") | .actor'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := common.bind(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return lockAuditRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.IntVarP(&opts.N, "number", "n", 20, "how many records")
	f.BoolVar(&opts.JSON, "json", false, "one JSON object per record per line")
	return cmd
}

// lockAuditJSON is one record of taxi lock audit --json (docs/lock.md).
type lockAuditJSON struct {
	ID            string          `json:"id"`
	Time          time.Time       `json:"time"`
	Actor         string          `json:"actor"`
	Host          string          `json:"host"`
	OrderID       string          `json:"order_id"`
	Key           string          `json:"key"`
	Owner         string          `json:"owner"`
	TTLMs         int64           `json:"ttl_ms"`
	ExpectedOwner string          `json:"expected_owner"`
	Outcome       lockctl.Outcome `json:"outcome"`
}

func lockAuditRun(ctx context.Context, opts *lockAuditOptions) error {
	if opts.N < 1 {
		return usageError(fmt.Errorf("-n must be at least 1, got %d", opts.N))
	}
	ctl, done, err := lockConnect(ctx, opts.lockCommon)
	if err != nil {
		return err
	}
	defer done()
	recs, err := ctl.Audit(ctx, opts.N)
	if err != nil {
		return lockError(err)
	}
	w := opts.IO.Out
	if len(recs) == 0 {
		if opts.JSON {
			w = opts.IO.ErrOut // stdout stays JSON only
		}
		fmt.Fprintf(w, "no records in %s\n", lockctl.AuditStream)
		return withExitCode(1, nil)
	}
	enc := json.NewEncoder(w)
	for _, r := range recs {
		if opts.JSON {
			if err := enc.Encode(lockAuditJSON{ID: r.ID, Time: r.Time, Actor: r.Actor, Host: r.Host, OrderID: r.OrderID, Key: r.Key,
				Owner: r.Owner, TTLMs: ttlMillis(r.TTL), ExpectedOwner: r.ExpectedOwner, Outcome: r.Outcome}); err != nil {
				return fmt.Errorf("print audit record %s: %w", r.ID, err)
			}
			continue
		}
		fmt.Fprintf(w, "%s  %s@%s  %-13s %s  owner %s, %s",
			r.Time.Local().Format("2006-01-02 15:04:05"), r.Actor, r.Host, r.Outcome, r.Key, r.Owner, ttlPhrase(r.TTL))
		if r.ExpectedOwner != "" {
			fmt.Fprintf(w, ", required owner %s", r.ExpectedOwner)
		}
		fmt.Fprintf(w, "  (%s)\n", r.ID)
	}
	return nil
}
