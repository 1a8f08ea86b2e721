package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/taxi-hub/taxi/monitor"
)

// defaultMonitorRedisURL is taxi serve's default Redis, so that on a
// developer's machine both find the same one.
const defaultMonitorRedisURL = "redis://localhost:6379/0"

// monitorOptions are taxi monitor's flags; run is the library call, which
// tests replace to check the parsing alone.
type monitorOptions struct {
	monitor.Options
	run func(context.Context, monitor.Options) error
}

func newMonitorCmd() *cobra.Command { return newMonitorCmdRun(monitor.Run) }

func newMonitorCmdRun(run func(context.Context, monitor.Options) error) *cobra.Command {
	opts := &monitorOptions{run: run}
	cmd := &cobra.Command{
		Use:   "monitor [--redis-url URL] [--stats URL]... [--interval D] [--once [--json]]",
		Short: "Live terminal view of a running cluster",
		Long: `Show the hub live: drivers and riders online, orders and deliveries per
second, drops, every node (up, down or degraded), the order locks (stuck ones
highlighted, clearable after confirmation with the same audit record as
taxi lock clear) and the orders drivers are looking at.

Nodes are found through their heartbeats in Redis and read at their
/ws/stats; --stats adds nodes by URL, and with --no-redis only those are
read. Keys: tab or 1-4 switch views, arrows move, / filters, s sorts,
r refreshes, ? shows help, q quits.

--once prints one snapshot as text (--json: as JSON, see docs/monitor.md) for
scripts and terminals without a TTY.

Exit status: 0 ok; 2 usage error; 3 with --once, Redis (or without Redis every
node) unreachable — the snapshot is still printed; 1 any other error.`,
		Example: `  taxi monitor
  taxi monitor --redis-url redis://redis.internal:6379/0 --interval 5s
  taxi monitor --no-redis --stats http://10.0.0.5:8080 --stats http://10.0.0.6:8080
  taxi monitor --once --json | jq '.nodes[] | select(.up | not) | .node_id'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The Redis URL may carry a password: from the environment at
			// run time, never as a flag default that --help would print.
			secretFromEnv(cmd, "redis-url", "REDIS_URL", &opts.RedisURL)
			opts.In, opts.Out = cmd.InOrStdin(), cmd.OutOrStdout()
			opts.Actor = currentActor()
			return monitorRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.RedisURL, "redis-url", defaultMonitorRedisURL, "Redis the nodes share, in any form taxi serve accepts (env REDIS_URL)")
	f.StringArrayVar(&opts.StatsURLs, "stats", nil, "a node's base or /ws/stats URL to read besides those in the heartbeats (repeatable)")
	f.DurationVar(&opts.Interval, "interval", monitor.DefaultInterval, "refresh period; each read of Redis or of the nodes may take half of it, from 1s to 5s")
	f.BoolVar(&opts.Once, "once", false, "print one snapshot as plain text and exit")
	f.BoolVar(&opts.JSON, "json", false, "with --once, print the snapshot as JSON")
	f.BoolVar(&opts.NoRedis, "no-redis", false, "do not read Redis: only the nodes given with --stats")
	return cmd
}

// monitorRun maps the library's errors to taxi's exit codes.
func monitorRun(ctx context.Context, opts *monitorOptions) error {
	err := opts.run(ctx, opts.Options)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, monitor.ErrInvalidOptions):
		return usageError(err)
	case errors.Is(err, monitor.ErrUnreachable):
		return withExitCode(3, err)
	}
	return err
}
