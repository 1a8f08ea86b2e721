package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/taxi-hub/taxi/lockctl"
)

// lockClearOptions is what taxi lock clear's argument and flags fill in.
type lockClearOptions struct {
	*lockCommon
	OrderID string
	Owner   string
	Stale   bool
	DryRun  bool
	Yes     bool
	JSON    bool
	Actor   string // recorded in the audit stream
}

func newCmdLockClear(common *lockCommon, runF func(context.Context, *lockClearOptions) error) *cobra.Command {
	opts := &lockClearOptions{lockCommon: common}
	cmd := &cobra.Command{
		Use:   "clear {ORDER_ID | --stale} [--owner DRIVER] [--dry-run] [--yes] [--json]",
		Short: "Delete an order lock, or every lock with no expiry",
		Long: `Delete the lock of ORDER_ID, or with --stale every lock that has no expiry.

It first shows what it will delete. On a terminal it asks for confirmation;
without one it refuses unless --yes is given. The delete is a compare-and-
delete in one Lua script: it happens only if the lock still has the owner that
was shown (or --owner), so a lock another driver took in the meantime
survives. --dry-run shows and changes nothing.

Each clear is recorded in the Redis stream taxi:lock_audit (see taxi lock
audit) and printed. With --json, stdout carries one JSON object per lock
examined (order_id, key, owner, ttl_ms, outcome, audit_id, actor) and the
rest goes to stderr.
` + lockExitCodes,
		Example: `  taxi lock clear 8121 --owner driver-7
  taxi lock clear --stale --dry-run
  taxi lock clear --stale --yes --json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.OrderID = args[0]
			}
			opts.Actor = currentActor()
			if err := common.bind(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return lockClearRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Owner, "owner", "", "delete only while this driver holds the lock")
	f.BoolVar(&opts.Stale, "stale", false, "delete every lock with no expiry instead of one order's")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show what would be deleted, change nothing")
	f.BoolVar(&opts.Yes, "yes", false, "do not ask for confirmation (required without a terminal)")
	f.BoolVar(&opts.JSON, "json", false, "one JSON object per lock on stdout, the rest on stderr")
	return cmd
}

// clearOutput is where a clear writes: the narrative (Out, or ErrOut with
// --json) and, with --json, one object per lock on Out.
type clearOutput struct {
	text io.Writer
	enc  *json.Encoder // nil without --json
}

func newClearOutput(opts *lockClearOptions) clearOutput {
	if opts.JSON {
		return clearOutput{text: opts.IO.ErrOut, enc: json.NewEncoder(opts.IO.Out)}
	}
	return clearOutput{text: opts.IO.Out}
}

// lockClearJSON is one object of taxi lock clear --json (docs/lock.md).
type lockClearJSON struct {
	OrderID string          `json:"order_id"`
	Key     string          `json:"key"`
	Owner   string          `json:"owner"`
	TTLMs   int64           `json:"ttl_ms"`
	Outcome lockctl.Outcome `json:"outcome"`
	AuditID string          `json:"audit_id,omitempty"`
	Actor   string          `json:"actor,omitempty"`
}

// result writes r as JSON, with --json.
func (o clearOutput) result(r lockctl.Result, actor string) error {
	if o.enc == nil {
		return nil
	}
	if r.AuditID == "" {
		actor = ""
	}
	return o.enc.Encode(lockClearJSON{OrderID: r.OrderID, Key: r.Key, Owner: r.Owner, TTLMs: ttlMillis(r.TTL),
		Outcome: r.Outcome, AuditID: r.AuditID, Actor: actor})
}

func lockClearRun(ctx context.Context, opts *lockClearOptions) error {
	switch {
	case opts.OrderID == "" && !opts.Stale:
		return usageError(errors.New("clear needs an ORDER_ID or --stale"))
	case opts.OrderID != "" && opts.Stale:
		return usageError(errors.New("give either an ORDER_ID or --stale, not both"))
	case !opts.DryRun && !opts.Yes && !opts.IO.CanPrompt():
		return usageError(errors.New("refusing to clear without a terminal to confirm on: add --yes (or --dry-run to look first)"))
	}
	if opts.OrderID != "" {
		if err := lockctl.ValidateOrderID(opts.OrderID); err != nil {
			return usageError(err)
		}
	}
	ctl, done, err := lockConnect(ctx, opts.lockCommon)
	if err != nil {
		return err
	}
	defer done()
	out := newClearOutput(opts)
	if opts.Stale {
		return lockClearStaleRun(ctx, ctl, opts, out)
	}

	w := out.text
	preview, err := ctl.Clear(ctx, opts.OrderID, lockctl.ClearOptions{Owner: opts.Owner, DryRun: true})
	if errors.Is(err, lockctl.ErrLockNotFound) {
		_ = out.result(preview, "")
		return withExitCode(1, fmt.Errorf("order %s has no lock (%s does not exist); nothing to clear", opts.OrderID, preview.Key))
	}
	if err != nil {
		if errors.Is(err, lockctl.ErrOwnerDiffers) || errors.Is(err, lockctl.ErrNotLock) {
			_ = out.result(preview, "")
		}
		return lockError(err)
	}
	fmt.Fprintf(w, "%s held by %s, %s\n", preview.Key, preview.Owner, ttlPhrase(preview.TTL))
	if opts.DryRun {
		fmt.Fprintln(w, "dry run: would delete it; nothing changed")
		return out.result(preview, "")
	}
	if !opts.Yes {
		ok, err := confirm(ctx, opts.IO, fmt.Sprintf("Delete %s held by %s?", preview.Key, preview.Owner))
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
	if r.Key != "" {
		_ = out.result(r, opts.Actor)
	}
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

func lockClearStaleRun(ctx context.Context, ctl *lockctl.Controller, opts *lockClearOptions, out clearOutput) error {
	w := out.text
	fmt.Fprintln(w, lockRow("ORDER", "OWNER", "TTL"))
	totals, err := ctl.List(ctx, lockctl.Filter{Stale: true, Owner: opts.Owner}, func(l lockctl.Lock) error {
		if opts.DryRun {
			if err := out.result(lockctl.Result{OrderID: l.OrderID, Key: l.Key(), Owner: l.Owner, TTL: l.TTL, Outcome: lockctl.WouldClear}, ""); err != nil {
				return err
			}
		}
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
		ok, err := confirm(ctx, opts.IO, fmt.Sprintf("Delete %d stale %s?", n, plural(n, "lock", "locks")))
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
		return out.result(r, opts.Actor)
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
func confirm(ctx context.Context, io *IOStreams, question string) (bool, error) {
	fmt.Fprintf(io.ErrOut, "%s [y/N] ", question)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(io.In).ReadString('\n')
		answer <- strings.ToLower(strings.TrimSpace(line))
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(io.ErrOut)
		return false, withExitCode(1, fmt.Errorf("interrupted; nothing changed"))
	case a := <-answer:
		if a == "y" || a == "yes" {
			return true, nil
		}
		fmt.Fprintln(io.ErrOut, "not confirmed; nothing changed")
		return false, withExitCode(1, nil)
	}
}
