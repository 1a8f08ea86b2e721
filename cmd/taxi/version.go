package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/taxi-hub/taxi/server"
)

// commit is set by the linker (see Makefile); when empty, the VCS stamp of
// the build is used.
var commit = ""

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return versionRun(cmd.OutOrStdout())
		},
	}
}

func versionRun(w io.Writer) error {
	c := commit
	if c == "" {
		c = "unknown"
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" {
					c = s.Value
				}
			}
		}
	}
	_, err := fmt.Fprintf(w, "taxi %s\ncommit %s\n%s %s/%s\n", server.Version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
