package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a documented exit code from a command to run. It is the
// only way a command chooses its exit code; every other error exits 1, and
// cobra's own usage errors exit 2.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// withExitCode wraps err so that the process exits with code. A nil err with
// a non-zero code exits silently with that code.
func withExitCode(code int, err error) error { return &exitError{code: code, err: err} }

// usageError marks err as a usage error: exit code 2.
func usageError(err error) error { return withExitCode(2, err) }

// usageArgs makes cobra's argument check a usage error (exit 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

// run executes the command line args over io and returns the process's
// exit status. It is the one place that prints a command's error and turns
// it into an exit code.
func run(ctx context.Context, io *IOStreams, args []string) int {
	root := newCmdRoot(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	var ee *exitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.err == nil:
		// The command has said all it had to say.
	default:
		fmt.Fprintln(io.ErrOut, "taxi:", err)
	}
	return code
}

// exitCode is the exit status of a command that returned err.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.code
	case isFlagError(err):
		return 2
	}
	return 1
}

// isFlagError reports whether err came from cobra's own checks of the
// command line that no flag error func or usageArgs wraps: an unknown
// subcommand.
func isFlagError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "accepts ") ||
		strings.HasPrefix(msg, "requires ") ||
		strings.Contains(msg, "arg(s)")
}
