package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"
)

// newRootCmd builds the taxi command tree. Each subcommand lives in its own
// file and only parses flags before calling a library package.
func newRootCmd() *cobra.Command {
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
  taxi version   print version information`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError(err)
	})
	root.AddCommand(
		newVersionCmd(),
		newServeCmd(),
		newTokenCmd(),
		newLockCmd(),
		newBenchCmd(),
		newMonitorCmd(),
		newFeedCmd(),
	)
	return root
}

// isFlagError reports whether err came from cobra's argument checks, which do
// not pass through the flag error func.
func isFlagError(err error) bool {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code == 2
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires ") ||
		strings.Contains(msg, "arg(s)")
}
