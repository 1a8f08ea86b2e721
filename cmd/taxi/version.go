package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/taxi-hub/taxi/server"
)

// commit is set by the linker (see Makefile); when empty, the VCS stamp of
// the build is used.
var commit = ""

// versionInfo describes the build; taxi version --json prints it as is.
type versionInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// buildVersion returns this binary's versionInfo.
func buildVersion() versionInfo {
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
	return versionInfo{Version: server.Version, Commit: c, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

// String is the text of taxi version and taxi --version.
func (v versionInfo) String() string {
	return fmt.Sprintf("taxi %s\ncommit %s\n%s %s/%s\n", v.Version, v.Commit, v.Go, v.OS, v.Arch)
}

// versionOptions is what taxi version's flags fill in.
type versionOptions struct {
	IO   *IOStreams
	JSON bool
}

func newCmdVersion(io *IOStreams, runF func(context.Context, *versionOptions) error) *cobra.Command {
	opts := &versionOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print version, commit and Go version",
		Long: `Print the version, the commit and the Go version and platform of this build.
taxi --version prints the same. With --json, one object:
{"version","commit","go","os","arch"}.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return versionRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object")
	return cmd
}

func versionRun(_ context.Context, opts *versionOptions) error {
	v := buildVersion()
	if opts.JSON {
		return json.NewEncoder(opts.IO.Out).Encode(v)
	}
	_, err := fmt.Fprint(opts.IO.Out, v)
	return err
}
