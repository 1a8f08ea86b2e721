package main

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// exitError carries a documented exit code from a command to main. It is the
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

// run executes the root command and turns its error into an exit code. It is
// the one place that prints a command's error.
func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "taxi:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "taxi:", err)
	if isFlagError(err) {
		return 2
	}
	return 1
}
