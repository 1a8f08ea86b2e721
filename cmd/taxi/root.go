package main

import (
	"github.com/spf13/cobra"
)

// defaultRedisURL is the Redis of taxi serve, taxi lock and taxi monitor
// when neither --redis-url nor REDIS_URL names one: on a developer's
// machine they all find the same.
const defaultRedisURL = "redis://localhost:6379/0"

// newCmdRoot builds the taxi command tree over io. Each subcommand lives in
// its own file, fills an options struct from its flags and calls a plain
// xRun(ctx, opts) function over a library package.
func newCmdRoot(io *IOStreams) *cobra.Command {
	v := buildVersion()
	root := &cobra.Command{
		Use:   "taxi",
		Short: "Real-time hub for ride-hailing: order fan-out to drivers, one winner per order",
		Long: `taxi is the real-time layer of a ride-hailing backend.

  taxi serve     run the hub (WebSocket feeds, order API, Redis fan-out)
  taxi bench     load-test one or more hubs and check their claims
  taxi monitor   live terminal view of a running cluster
  taxi lock      inspect and clear order locks during an incident
  taxi token     mint a JWT for a driver or rider
  taxi feed      open a driver's or rider's feed and print its frames
  taxi version   print version information

Shell completion: taxi completion bash|zsh|fish|powershell --help.`,
		Version:       v.Version,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate(v.String())
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError(err)
	})
	root.AddCommand(
		newCmdVersion(io, nil),
		newCmdServe(io, nil),
		newCmdToken(io, nil),
		newCmdLock(io),
		newCmdBench(io, nil),
		newCmdMonitor(io, nil),
		newCmdFeed(io, nil),
	)
	return root
}
