package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/taxi-hub/taxi/monitor"
	"github.com/taxi-hub/taxi/server"
)

// localHubURL is where taxi serve listens by default, and make run starts
// a hub: taxi monitor looks there when nothing else names a node.
const localHubURL = "http://" + server.DefaultAddr

// monitorOptions is what taxi monitor's flags fill in.
type monitorOptions struct {
	IO *IOStreams
	monitor.Options
}

func newCmdMonitor(io *IOStreams, runF func(context.Context, *monitorOptions) error) *cobra.Command {
	opts := &monitorOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "monitor [--redis-url URL] [--stats URL]... [--interval D] [--once [--json]]",
		Short: "Live terminal view of a running cluster",
		Long: `Show the hub live: drivers and riders online, orders and deliveries per
second, drops, every node (up, down or degraded), the order locks (stuck ones
highlighted, clearable after confirmation with the same audit record as
taxi lock clear) and the orders drivers are looking at.

Nodes are found through their heartbeats in Redis and read at their
/ws/stats; --stats adds nodes by URL, and with --no-redis only those are
read. Run without --redis-url, REDIS_URL or --stats, it also looks for a hub
at ` + localHubURL + ` (taxi serve's default address, where make run starts
one) when Redis names no node, so a local memory-mode hub shows up on its own.
Keys: tab or 1-4 switch views, arrows move, / filters, s sorts, r refreshes,
? shows help, q quits. Colours follow NO_COLOR.

--once prints one snapshot as text (--json: as JSON, see docs/monitor.md) for
scripts and terminals without a TTY.

Exit status: 0 ok; 2 usage error, or no terminal for the live view; 3 with
--once, Redis unreachable (unless every node that answered runs without
Redis), or with --no-redis no node answered; the snapshot is still printed;
1 any other error.`,
		Example: `  taxi monitor
  taxi monitor --redis-url redis://redis.internal:6379/0 --interval 5s
  taxi monitor --no-redis --stats http://10.0.0.5:8080 --stats http://10.0.0.6:8080
  taxi monitor --once --json | jq '.nodes[] | select(.up | not) | .node_id'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := applyEnv(cmd)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if _, fromEnv := src["redis-url"]; !fromEnv && !f.Changed("redis-url") && !f.Changed("stats") {
				opts.LocalHubURL = localHubURL
			}
			opts.In, opts.Out = io.In, io.Out
			opts.NoColor = !io.ColorEnabled()
			opts.Actor = currentActor()
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return monitorRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.RedisURL, "redis-url", defaultRedisURL, "Redis the nodes share, in any form taxi serve accepts")
	f.StringArrayVar(&opts.StatsURLs, "stats", nil, "a node's base or /ws/stats URL to read besides those in the heartbeats (repeatable)")
	f.DurationVar(&opts.Interval, "interval", monitor.DefaultInterval, "refresh period; each read of Redis or of the nodes may take half of it, from 1s to 5s")
	f.BoolVar(&opts.Once, "once", false, "print one snapshot as plain text and exit")
	f.BoolVar(&opts.JSON, "json", false, "with --once, print the snapshot as JSON")
	f.BoolVar(&opts.NoRedis, "no-redis", false, "do not read Redis: only the nodes given with --stats")
	bindEnv(f, "redis-url")
	return cmd
}

// monitorRun runs the monitor and maps its errors to taxi's exit codes.
func monitorRun(ctx context.Context, opts *monitorOptions) error {
	if !opts.Once && !opts.IO.IsStdoutTTY() {
		return usageError(errors.New("the output is not a terminal: use --once, or --once --json"))
	}
	return monitorError(monitor.Run(ctx, opts.Options))
}

// monitorError gives the monitor's errors their documented exit codes.
func monitorError(err error) error {
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
